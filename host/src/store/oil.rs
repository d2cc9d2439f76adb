//! A mirror of the disk's refined-oil stock (D11, H15), refreshed from the disk after every
//! grant, return or oil invoice, so the issuing screen can show it without asking the disk.

use super::{Store, StoreError, now_secs};
use rusqlite::params;
use taxdisk_protocol::types::{OilStockEntry, OilUnit};

fn unit_str(u: OilUnit) -> &'static str {
    match u {
        OilUnit::Litre => "litre",
        OilUnit::Tonne => "tonne",
    }
}

impl Store {
    /// Replaces the mirror with the disk's stock, in one transaction.
    pub fn set_oil_stock(&mut self, stock: &[OilStockEntry]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM oil_stock", [])?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO oil_stock (category, unit, milli_quantity, updated_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for e in stock {
                stmt.execute(params![
                    e.category,
                    unit_str(e.unit),
                    e.milli_quantity,
                    now_secs()
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The mirrored stock, by category.
    pub fn oil_stock(&self) -> Result<Vec<OilStockEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT category, unit, milli_quantity FROM oil_stock ORDER BY category",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, u8>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (category, unit, milli_quantity) = r?;
            let unit = match unit.as_str() {
                "litre" => OilUnit::Litre,
                "tonne" => OilUnit::Tonne,
                other => return Err(StoreError::Corrupt(format!("oil unit {other:?}"))),
            };
            Ok(OilStockEntry {
                category,
                unit,
                milli_quantity,
            })
        })
        .collect()
    }
}
