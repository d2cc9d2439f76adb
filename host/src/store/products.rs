//! Products (H6, FAQ 3.3-3.6): tax classification code, rate, unit, spec, price with or
//! without tax, preferential policy, zero-rate flag and a hidden flag. Rare-earth products are
//! stored hidden and stay hidden until unhidden by hand (FAQ 3.6). Coding (products and
//! customers) is disabled when the disk holds only motor-vehicle or used-car authorization
//! (FAQ 3.5): [`coding_allowed`].

use super::UserId;
use super::{Store, StoreError, audit};
use crate::invoice::LineInput;
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use std::str::FromStr;
use taxdisk_protocol::types::{InvoiceKind, TaxClassCode, TaxRate, ZeroRateFlag};

/// A product's row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductId(pub i64);

/// A product to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProduct {
    /// Code (商品编码), unique.
    pub code: String,
    /// Name.
    pub name: String,
    /// Tax classification code (F7).
    pub class_code: TaxClassCode,
    /// Rate (F7: in force).
    pub rate: TaxRate,
    /// Unit.
    pub unit: String,
    /// Specification.
    pub spec: String,
    /// Unit price, if fixed.
    pub price: Option<Decimal>,
    /// Whether `price` includes tax.
    pub price_includes_tax: bool,
    /// Preferential policy (优惠政策), e.g. `免税`, `即征即退`; `None` if none.
    pub preferential: Option<String>,
    /// Zero-rate flag (with a zero rate only).
    pub zero_flag: Option<ZeroRateFlag>,
    /// Whether it is a rare-earth product (stored hidden).
    pub rare_earth: bool,
}

/// A stored product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    /// Id.
    pub id: ProductId,
    /// Hidden from the product picker.
    pub hidden: bool,
    /// The data.
    pub data: NewProduct,
}

impl Product {
    /// A line input for this product (quantity and price or amount still to set).
    pub fn line_input(&self) -> LineInput {
        let d = &self.data;
        let mut l =
            LineInput::new(&d.name, d.class_code.clone(), d.rate).spec_unit(&d.spec, &d.unit);
        l.unit_price = d.price;
        l.zero_flag = d.zero_flag;
        if d.price_includes_tax {
            l = l.with_tax();
        }
        l
    }
}

/// H6 (FAQ 3.5): product and customer coding is allowed unless every authorized kind is
/// motor-vehicle or used-car.
pub fn coding_allowed(authorized: &[InvoiceKind]) -> Result<(), StoreError> {
    if authorized
        .iter()
        .all(|k| matches!(k, InvoiceKind::MotorVehicle | InvoiceKind::UsedCar))
        && !authorized.is_empty()
    {
        return Err(StoreError::CodingDisabled);
    }
    Ok(())
}

fn flag_str(f: ZeroRateFlag) -> &'static str {
    match f {
        ZeroRateFlag::ExportRefund => "export_refund",
        ZeroRateFlag::TaxFree => "tax_free",
        ZeroRateFlag::NotTaxable => "not_taxable",
        ZeroRateFlag::Ordinary => "ordinary",
    }
}

fn parse_flag(s: &str) -> Result<ZeroRateFlag, StoreError> {
    Ok(match s {
        "export_refund" => ZeroRateFlag::ExportRefund,
        "tax_free" => ZeroRateFlag::TaxFree,
        "not_taxable" => ZeroRateFlag::NotTaxable,
        "ordinary" => ZeroRateFlag::Ordinary,
        other => return Err(StoreError::Corrupt(format!("zero-rate flag {other:?}"))),
    })
}

fn check(p: &NewProduct) -> Result<(), StoreError> {
    let field = |field, problem: &str| StoreError::Field {
        rule: "H6",
        field,
        problem: problem.into(),
    };
    if p.code.trim().is_empty() {
        return Err(field("product code", "is required"));
    }
    if p.name.trim().is_empty() {
        return Err(field("product name", "is required"));
    }
    if !p.rate.is_current() {
        return Err(StoreError::Field {
            rule: "F7",
            field: "rate",
            problem: format!("{} is not in force", p.rate),
        });
    }
    if (p.rate.0 == 0) != p.zero_flag.is_some() {
        return Err(StoreError::Field {
            rule: "F7",
            field: "zero-rate flag",
            problem: "a zero rate needs its flag and a flag needs a zero rate".into(),
        });
    }
    if p.price.is_some_and(|x| x <= Decimal::ZERO) {
        return Err(field("price", "must be positive"));
    }
    Ok(())
}

type ProductRow = (
    i64,
    String,
    String,
    String,
    u16,
    String,
    String,
    Option<String>,
    bool,
    Option<String>,
    Option<String>,
    bool,
    bool,
);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProductRow> {
    // rusqlite reads a row into a tuple of its columns in order.
    ProductRow::try_from(r)
}

fn to_product(r: ProductRow) -> Result<Product, StoreError> {
    let corrupt = |e: String| StoreError::Corrupt(e);
    let (id, code, name, class, rate, unit, spec, price, incl, pref, flag, rare, hidden) = r;
    Ok(Product {
        id: ProductId(id),
        hidden,
        data: NewProduct {
            code,
            name,
            class_code: TaxClassCode::new(&class).map_err(|e| corrupt(e.to_string()))?,
            rate: TaxRate(rate),
            unit,
            spec,
            price: price
                .map(|p| Decimal::from_str(&p).map_err(|e| corrupt(e.to_string())))
                .transpose()?,
            price_includes_tax: incl,
            preferential: pref,
            zero_flag: flag.as_deref().map(parse_flag).transpose()?,
            rare_earth: rare,
        },
    })
}

const COLUMNS: &str = "id, code, name, class_code, rate, unit, spec, price, price_includes_tax, \
                       preferential, zero_flag, rare_earth, hidden";

impl Store {
    /// H6 (FAQ 3.3, 3.4): adds a product; a rare-earth product is stored hidden (FAQ 3.6).
    pub fn add_product(&mut self, actor: UserId, p: &NewProduct) -> Result<ProductId, StoreError> {
        check(p)?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO products (code, name, class_code, rate, unit, spec, price,
             price_includes_tax, preferential, zero_flag, rare_earth, hidden)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            p.code.trim(),
            p.name.trim(),
            p.class_code.as_str(),
            p.rate.0,
            p.unit,
            p.spec,
            p.price.map(|x| x.normalize().to_string()),
            p.price_includes_tax,
            p.preferential,
            p.zero_flag.map(flag_str),
            p.rare_earth,
            p.rare_earth,
        ])?;
        let id = ProductId(tx.last_insert_rowid());
        audit::write(&tx, Some(actor), "product.add", p.code.trim())?;
        tx.commit()?;
        Ok(id)
    }

    /// H6: hides or unhides a product (FAQ 3.6: set a rare-earth product's hidden flag to "no").
    pub fn set_product_hidden(
        &mut self,
        actor: UserId,
        id: ProductId,
        hidden: bool,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx
            .prepare_cached("UPDATE products SET hidden = ?1 WHERE id = ?2")?
            .execute(params![hidden, id.0])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("product {}", id.0)));
        }
        audit::write(
            &tx,
            Some(actor),
            "product.hidden",
            &format!("{} {hidden}", id.0),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// H6: deletes a product.
    pub fn delete_product(&mut self, actor: UserId, id: ProductId) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx
            .prepare_cached("DELETE FROM products WHERE id = ?1")?
            .execute([id.0])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("product {}", id.0)));
        }
        audit::write(&tx, Some(actor), "product.delete", &id.0.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// H6: products by code; hidden ones only with `include_hidden` (the picker leaves them out).
    pub fn products(&self, include_hidden: bool) -> Result<Vec<Product>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM products WHERE ?1 OR hidden = 0 ORDER BY code");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([include_hidden], row)?;
        rows.map(|r| to_product(r?)).collect()
    }

    /// H6 (FAQ 3.4): the visible product with this name, for the issuing screen.
    pub fn product_by_name(&self, name: &str) -> Result<Option<Product>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM products WHERE name = ?1 AND hidden = 0 LIMIT 1");
        let r = self
            .conn
            .prepare_cached(&sql)?
            .query_row([name.trim()], row)
            .optional()?;
        r.map(to_product).transpose()
    }
}
