//! D4 (FAQ 4.21(4)): the bureau's receipt of a period's summary (报税成功标志). A roll may not
//! be returned from the first day of a month until the last month is reported, which the disk
//! learns only from the bureau: a report receipt read in with ApplyReportReceipt, or a
//! clear-card token of that month (the bureau clears only reported periods). The newest
//! reported period is kept in the state snapshot (`Persist::last_reported`).

use super::{Firmware, Res, refuse};
use embedded_storage::nor_flash::NorFlash;
use rand_core::CryptoRng;
use taxdisk_protocol::types::{ReportReceipt, Signed};
use taxdisk_protocol::{Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    /// D4: reads in the bureau's receipt of a period's summary: bureau-signed (`BadSignature`),
    /// for this disk (`WrongDevice`), newer than the newest reported period (`Replayed`:
    /// periods are reported in order, each receipt is taken once), and of a copied period
    /// (`NotCopied`: the bureau received a summary the disk signed).
    pub(super) fn apply_report_receipt(
        &mut self,
        now: Timestamp,
        r: &Signed<ReportReceipt>,
    ) -> Res<()> {
        self.verify(r, &r.body.serial)?;
        let period = r.body.period;
        if self.p.last_reported.is_some_and(|done| period <= done) {
            return refuse(WireError::Replayed);
        }
        if self.p.last_copied.is_none_or(|c| period > c) {
            return refuse(WireError::NotCopied);
        }
        let mut next = self.p.clone();
        next.last_reported = Some(period);
        self.save(now, next)
    }

    /// D4 (FAQ 4.21(4)): whether the month before the disk's current one is reported, or the
    /// disk has no earlier month (provisioned in this one).
    pub(super) fn last_month_reported(&self, now: Timestamp) -> bool {
        let Some(id) = &self.p.identity else {
            return true;
        };
        let cur = now.period();
        cur <= id.first_period || self.p.last_reported >= Some(cur.prev())
    }
}
