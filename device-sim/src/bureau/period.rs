//! B4 period summaries (上报汇总), B5 declarations (申报) and clear-card tokens (清卡), with the
//! lock time and upload deadline the bureau chooses.

use super::db::names;
use super::db::{self, Tx, args};
use super::{Bureau, BureauError, unknown_taxpayer};
use std::collections::BTreeMap;
use taxdisk_protocol::bureau_api::{ClearRequest, Declare, SummaryResult};
use taxdisk_protocol::sign::Sm2SigningKey;
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::{
    ClearCardToken, InvoiceKind, KindSummary, PeriodSummary, ReportReceipt, Signed, TaxpayerId,
};

/// Seconds from the start of a month to 00:00 CST on its 16th.
const FIFTEEN_DAYS: u64 = 15 * 86_400;

/// The lock time and upload deadline while `current` is the period being issued in: both at
/// 00:00 China Standard Time on the 16th of the following month (our choice: the end of the
/// usual filing period).
pub fn deadlines(current: Period) -> (Timestamp, Timestamp) {
    let t = current.next().start().plus_secs(FIFTEEN_DAYS);
    (t, t)
}

/// The per-kind totals and counter range of a disk's received events of one period, as a
/// copy-tax summary must state them (D8).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Kinds with any activity.
    pub kinds: BTreeMap<InvoiceKind, KindSummary>,
    /// Lowest counter of an event of the period (0 if none).
    pub first_counter: u64,
    /// Highest counter of an event of the period (0 if none).
    pub last_counter: u64,
}

/// Totals of the events received from `serial` in `period`.
pub(crate) fn totals(tx: &mut Tx<'_>, serial: &str, period: Period) -> Result<Totals, BureauError> {
    let p = db::period_col(period);
    let mut t = Totals::default();
    let rows = tx.query(
        "SELECT kind, red, amount, tax, voided FROM invoices WHERE serial = ?1 AND period = ?2",
        &args![serial, p],
    )?;
    for row in rows {
        let (kind, red, amount, tax, voided) = (
            row.num::<u8>(0)?,
            row.flag(1)?,
            row.int(2)?,
            row.int(3)?,
            row.flag(4)?,
        );
        let kind = kind_from(kind)?;
        let k = t.kinds.entry(kind).or_default();
        if red {
            k.negative_count += 1;
        } else {
            k.positive_count += 1;
        }
        if voided {
            k.void_count += 1;
        } else if red {
            k.negative_amount.0 += amount;
            k.negative_tax.0 += tax;
        } else {
            k.positive_amount.0 += amount;
            k.positive_tax.0 += tax;
        }
    }
    let rows = tx.query(
        "SELECT kind, event FROM events WHERE serial = ?1 AND period = ?2
         AND event_type = 'blank_void'",
        &args![serial, p],
    )?;
    for row in rows {
        let (kind, ev) = (row.num::<u8>(0)?, row.text(1)?);
        let ev: taxdisk_protocol::types::JournalEvent = db::from_json(&ev)?;
        if let taxdisk_protocol::types::JournalEvent::BlankVoid(b) = ev {
            t.kinds
                .entry(kind_from(kind)?)
                .or_default()
                .blank_void_count += b.body.count;
        }
    }
    let range = tx.query_one(
        "SELECT MIN(counter), MAX(counter) FROM events WHERE serial = ?1 AND period = ?2",
        &args![serial, p],
    )?;
    let (first, last) = (range.opt_int(0)?, range.opt_int(1)?);
    t.first_counter = first.unwrap_or(0) as u64;
    t.last_counter = last.unwrap_or(0) as u64;
    Ok(t)
}

/// A kind from its stored Aisino number.
pub(crate) fn kind_from(n: u8) -> Result<InvoiceKind, BureauError> {
    InvoiceKind::try_from(n).map_err(|e| BureauError::Corrupt(e.to_string()))
}

/// The newest period the taxpayer declared.
pub(crate) fn last_declared(
    tx: &mut Tx<'_>,
    taxpayer: &TaxpayerId,
) -> Result<Option<Period>, BureauError> {
    tx.query_one(
        "SELECT MAX(period) FROM declarations WHERE taxpayer_id = ?1",
        &args![taxpayer.as_str()],
    )?
    .opt_int(0)?
    .map(db::period_from)
    .transpose()
}

fn not_finished(period: Period, rule: &'static str) -> BureauError {
    BureauError::bad(
        "period_not_finished",
        rule,
        format!("period {period} has not ended yet"),
    )
}

impl Bureau {
    /// The totals of the events received from a disk in a period, as a copy-tax summary of
    /// that period must state them (what `/summary` compares against, B4).
    pub fn received_totals(
        &self,
        serial: &taxdisk_protocol::types::DeviceSerial,
        period: Period,
    ) -> Result<Totals, BureauError> {
        self.db.tx(|tx| {
            super::disk_in(tx, serial)?;
            totals(tx, serial.as_str(), period)
        })
    }

    /// `POST /summary` (B4, D8): checks a disk-signed summary against the events received
    /// (per kind counts and sums, voids, blank voids, counter range) and marks the period
    /// reported. Answers the bureau-signed receipt the disk reads in (D4, FAQ 4.21(4)); a
    /// summary sent again for a reported period is checked again and answered with a new
    /// receipt, so a receipt lost on the way can be fetched again. Refusals: `bad_signature`,
    /// `foreign_summary`, `period_not_finished`, `upload_incomplete` (events up to the
    /// summary's last counter are missing), `summary_mismatch` (naming the first difference).
    pub fn summary(&mut self, s: Signed<PeriodSummary>) -> Result<SummaryResult, BureauError> {
        let (_, vk) = self.keyed_disk(&s.body.serial)?;
        s.verify(&vk).map_err(|_| {
            BureauError::bad(
                "bad_signature",
                "B4",
                "the summary's signature does not verify with the disk's key",
            )
        })?;
        let now = self.now();
        let key = &self.key;
        let stored = db::to_json(&s)?;
        self.db.tx(|tx| check_summary(tx, key, &s, &stored, now))
    }

    /// `POST /declare` (B5): the taxpayer declared a finished period (idempotent).
    pub fn declare(&mut self, r: Declare) -> Result<(), BureauError> {
        if r.period.end() > self.now() {
            return Err(not_finished(r.period, "B5"));
        }
        let now = self.now();
        self.db.tx(|tx| {
            let known = tx.query_opt(
                "SELECT 1 FROM taxpayers WHERE taxpayer_id = ?1",
                &args![r.taxpayer_id.as_str()],
            )?;
            if known.is_none() {
                return Err(unknown_taxpayer(&r.taxpayer_id));
            }
            tx.execute(
                "INSERT INTO declarations (taxpayer_id, period, declared_at)
                 VALUES (?1, ?2, ?3) ON CONFLICT (taxpayer_id, period) DO NOTHING",
                &args![
                    r.taxpayer_id.as_str(),
                    db::period_col(r.period),
                    now.0 as i64
                ],
            )?;
            Ok(())
        })
    }

    /// `POST /clear-card` (B5, D8, FAQ 9.10): the clear-card token of a reported and declared
    /// period, with the next lock time, upload deadline and the disk's limits (FAQ 9.14(3)).
    /// Refusals, in the order checked: `unknown_disk`, `period_not_finished`, `not_reported`,
    /// `upload_incomplete`, `not_declared`. It may be repeated (a new token each time).
    pub fn clear_card(&mut self, r: ClearRequest) -> Result<Signed<ClearCardToken>, BureauError> {
        let now = self.now();
        let key = &self.key;
        self.db.tx(|tx| {
            let mut d = super::disk_in(tx, &r.serial)?;
            if r.period.end() > now {
                return Err(not_finished(r.period, "B5, FAQ 9.10"));
            }
            let summary = tx.query_opt(
                "SELECT summary FROM summaries WHERE serial = ?1 AND period = ?2",
                &args![r.serial.as_str(), db::period_col(r.period)],
            )?;
            let Some(summary) = summary else {
                return Err(BureauError::conflict(
                    "not_reported",
                    "B5, FAQ 9.10",
                    format!(
                        "period {} of disk {} is not reported (上报汇总)",
                        r.period, r.serial
                    ),
                ));
            };
            let summary: Signed<PeriodSummary> = db::from_json(&summary.text(0)?)?;
            if summary.body.last_counter > d.through_counter {
                return Err(BureauError::conflict(
                    "upload_incomplete",
                    "B5, FAQ 9.10",
                    format!(
                        "invoices of period {} up to counter {} are not all uploaded",
                        r.period, summary.body.last_counter
                    ),
                ));
            }
            let declared = tx.query_opt(
                "SELECT 1 FROM declarations WHERE taxpayer_id = ?1 AND period = ?2",
                &args![d.taxpayer_id.as_str(), db::period_col(r.period)],
            )?;
            if declared.is_none() {
                return Err(BureauError::conflict(
                    "not_declared",
                    "B5, FAQ 9.10",
                    format!(
                        "taxpayer {} has not declared period {}: declare, then clear the card",
                        d.taxpayer_id, r.period
                    ),
                ));
            }
            let current = r.period.next().max(now.period());
            let (next_lock_time, upload_deadline) = deadlines(current);
            let seq = db::next_seq(tx, &r.serial, names::CLEAR_CARD)?;
            let signed = super::sign_token(
                key,
                ClearCardToken {
                    serial: r.serial.clone(),
                    seq,
                    period: r.period,
                    next_lock_time,
                    upload_deadline,
                    limits: heapless::Vec::from_slice(&d.kinds)
                        .map_err(|_| BureauError::Corrupt("more than 6 kinds stored".into()))?,
                    issued_at: now,
                },
            )?;
            tx.execute(
                "INSERT INTO clears (serial, seq, period, token) VALUES (?1, ?2, ?3, ?4)",
                &args![
                    r.serial.as_str(),
                    seq,
                    db::period_col(r.period),
                    db::to_json(&signed)?
                ],
            )?;
            d.last_cleared = d.last_cleared.max(Some(r.period));
            db::save_disk(tx, &d)?;
            Ok(signed)
        })
    }
}

/// The checks and the write of `POST /summary` in one transaction: the disk row as the
/// transaction sees it (another worker may be receiving this disk's upload).
fn check_summary(
    tx: &mut Tx<'_>,
    key: &Sm2SigningKey,
    s: &Signed<PeriodSummary>,
    stored: &str,
    now: Timestamp,
) -> Result<SummaryResult, BureauError> {
    let (d, _) = super::keyed_disk_in(tx, &s.body.serial)?;
    let b = &s.body;
    if b.taxpayer_id != d.taxpayer_id {
        return Err(BureauError::bad(
            "foreign_summary",
            "B4",
            format!(
                "summary names taxpayer {}, disk {} belongs to {}",
                b.taxpayer_id, d.serial, d.taxpayer_id
            ),
        ));
    }
    if b.time < b.period.end() {
        return Err(not_finished(b.period, "B4, D8"));
    }
    if b.last_counter > d.through_counter {
        return Err(BureauError::conflict(
            "upload_incomplete",
            "B4, FAQ 9.5",
            format!(
                "summary goes to counter {}, the bureau received through {}: upload first",
                b.last_counter, d.through_counter
            ),
        ));
    }
    let got = totals(tx, d.serial.as_str(), b.period)?;
    let mut claimed: BTreeMap<InvoiceKind, KindSummary> = BTreeMap::new();
    for (k, v) in &b.kinds {
        if claimed.insert(*k, v.clone()).is_some() {
            return Err(BureauError::bad(
                "summary_mismatch",
                "B4",
                format!("kind {k} appears twice in the summary"),
            ));
        }
    }
    claimed.retain(|_, v| *v != KindSummary::default());
    let mut received = got.kinds.clone();
    received.retain(|_, v| *v != KindSummary::default());
    for kind in InvoiceKind::ALL {
        let (c, r) = (claimed.get(&kind), received.get(&kind));
        if c != r {
            return Err(BureauError::bad(
                "summary_mismatch",
                "B4",
                format!(
                    "period {} kind {kind}: summary says {:?}, received invoices give {:?}",
                    b.period,
                    c.cloned().unwrap_or_default(),
                    r.cloned().unwrap_or_default()
                ),
            ));
        }
    }
    if (b.first_counter, b.last_counter) != (got.first_counter, got.last_counter) {
        return Err(BureauError::bad(
            "summary_mismatch",
            "B4",
            format!(
                "period {}: summary counters {}..{}, received events {}..{}",
                b.period, b.first_counter, b.last_counter, got.first_counter, got.last_counter
            ),
        ));
    }
    tx.execute(
        "INSERT INTO summaries (serial, period, summary) VALUES (?1, ?2, ?3)
         ON CONFLICT (serial, period) DO UPDATE SET summary = excluded.summary",
        &args![d.serial.as_str(), db::period_col(b.period), stored],
    )?;
    let receipt = super::sign_token(
        key,
        ReportReceipt {
            serial: d.serial.clone(),
            period: b.period,
            issued_at: now,
        },
    )?;
    let mut d = d;
    d.last_reported = d.last_reported.max(Some(b.period));
    db::save_disk(tx, &d)?;
    Ok(SummaryResult {
        reported: b.period,
        receipt,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn b05_deadlines_are_the_16th_of_the_next_month_cst() {
        let (lock, upload) = deadlines(Period::new(2026, 12).unwrap());
        let c = lock.civil();
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute),
            (2027, 1, 16, 0, 0)
        );
        assert_eq!(lock, upload);
        // 00:00 CST is 16:00 UTC the day before.
        assert_eq!(lock.0 % 86_400, 16 * 3600);
    }
}
