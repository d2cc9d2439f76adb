//! Oil stock (D11): loading an oil grant and returning stock.

use super::persist::{KeptReceipt, KeptReturn};
use super::{Firmware, Res, refuse};
use embedded_storage::nor_flash::NorFlash;
use rand_core::CryptoRng;
use taxdisk_protocol::command::*;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    pub(super) fn load_oil(&mut self, now: Timestamp, g: &Signed<OilGrant>) -> Res<OilStockEntry> {
        self.verify(g, &g.body.serial)?;
        let b = &g.body;
        if b.seq <= self.p.seqs.oil_grant {
            return refuse(WireError::Replayed);
        }
        if b.stock.milli_quantity <= 0 {
            return refuse(WireError::BadArgument);
        }
        let mut next = self.p.clone();
        next.seqs.oil_grant = b.seq;
        let entry = match next.oil.iter_mut().find(|e| e.category == b.stock.category) {
            Some(e) if e.unit != b.stock.unit => return refuse(WireError::BadArgument),
            Some(e) => {
                e.milli_quantity = e.milli_quantity.saturating_add(b.stock.milli_quantity);
                *e
            }
            None => {
                next.oil.push(b.stock).map_err(|_| WireError::BadArgument)?;
                b.stock
            }
        };
        self.save(now, next)?;
        Ok(entry)
    }

    pub(super) fn return_oil(
        &mut self,
        now: Timestamp,
        q: ReturnOil,
    ) -> Res<Signed<OilReturnReceipt>> {
        let e = q.stock;
        // D11 once: a resend of the last return answers its receipt and returns nothing more.
        if let Some(k) = &self.p.last_return
            && k.request_id == q.request_id
        {
            return match &k.receipt {
                KeptReceipt::Oil(s) if s.body.stock == e => Ok(s.clone()),
                _ => refuse(WireError::RequestIdConflict),
            };
        }
        if e.milli_quantity <= 0 {
            return refuse(WireError::BadArgument);
        }
        let mut next = self.p.clone();
        let Some(have) = next
            .oil
            .iter_mut()
            .find(|h| h.category == e.category && h.unit == e.unit)
        else {
            return refuse(WireError::OilStockShort);
        };
        if have.milli_quantity < e.milli_quantity {
            return refuse(WireError::OilStockShort);
        }
        have.milli_quantity -= e.milli_quantity;
        next.seqs.oil_return += 1;
        let receipt = OilReturnReceipt {
            serial: self.cfg.serial.clone(),
            seq: next.seqs.oil_return,
            stock: e,
            time: now,
        };
        let signed = self.sign_body(receipt)?;
        next.last_return = Some(KeptReturn {
            request_id: q.request_id,
            receipt: KeptReceipt::Oil(signed.clone()),
        });
        self.save(now, next)?;
        Ok(signed)
    }
}
