//! Invoice rolls (D4): status, listing, loading a grant and returning a roll.

use super::persist::{KeptReceipt, KeptReturn, RollState};
use super::{Firmware, Res, refuse};
use embedded_storage::nor_flash::NorFlash;
use heapless::Vec;
use rand_core::CryptoRng;
use taxdisk_protocol::command::*;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Refusal, Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    pub(super) fn status(&self, kind: InvoiceKind) -> KindStatus {
        let p = self.pending[kind.index()];
        KindStatus {
            limits: self.p.limits[kind.index()],
            authorized: self.p.is_authorized(kind),
            blank_left: self
                .p
                .rolls
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| r.left())
                .sum(),
            pending_count: p.events,
            oldest_pending: p.oldest,
            pending_amount: Fen(p.amount),
        }
    }

    pub(super) fn list_rolls(&self, l: ListRolls) -> Vec<Roll, ROLLS_PER_PAGE> {
        self.p
            .rolls
            .iter()
            .filter(|r| l.kind.is_none_or(|k| k == r.kind))
            .skip(l.skip as usize)
            .filter_map(RollState::to_wire)
            .take(ROLLS_PER_PAGE)
            .collect()
    }

    pub(super) fn load_roll(&mut self, now: Timestamp, g: &Signed<RollGrant>) -> Res<Roll> {
        // D4: bureau-signed, bound to this serial, each grant once (sequence numbers).
        self.verify(g, &g.body.serial)?;
        let b = &g.body;
        if b.seq <= self.p.seqs.roll {
            return refuse(WireError::Replayed);
        }
        if b.code.check_kind(b.kind).is_err() {
            return refuse(WireError::BadRollCode);
        }
        let first = b.first.get();
        if b.count == 0 || first as u64 + b.count as u64 - 1 > 99_999_999 {
            return refuse(WireError::BadArgument);
        }
        let end = first + b.count;
        if self
            .p
            .rolls
            .iter()
            .any(|r| r.code == b.code && first < r.first + r.count && r.first < end)
        {
            return refuse(WireError::RollOverlap);
        }
        let mut next = self.p.clone();
        next.rolls.retain(|r| r.left() > 0);
        let roll = RollState {
            kind: b.kind,
            code: b.code.clone(),
            first,
            count: b.count,
            used: 0,
        };
        if next.rolls.push(roll.clone()).is_err() {
            return refuse(WireError::TooManyRolls);
        }
        next.seqs.roll = b.seq;
        self.save(now, next)?;
        roll.to_wire().ok_or(Refusal::from(WireError::BadArgument))
    }

    pub(super) fn return_roll(
        &mut self,
        now: Timestamp,
        r: &ReturnRoll,
    ) -> Res<Signed<RollReturnReceipt>> {
        // D4 once: a resend of the last return answers its receipt.
        if let Some(k) = &self.p.last_return
            && k.request_id == r.request_id
        {
            return match &k.receipt {
                KeptReceipt::Roll(s) if s.body.kind == r.kind && s.body.code == r.code => {
                    Ok(s.clone())
                }
                _ => refuse(WireError::RequestIdConflict),
            };
        }
        // D4: refused when locked (FAQ 4.21(3)) and before the month's report (FAQ 4.21(4)):
        // the last month copied, and its report receipt read in.
        if self.locked(now) {
            return refuse(WireError::Locked);
        }
        if self.period_unreported(now) || !self.last_month_reported(now) {
            return refuse(WireError::ReturnBeforeReport);
        }
        let Some(i) = self.p.rolls.iter().position(|x| {
            x.kind == r.kind && x.code == r.code && x.first == r.first.get() && x.left() > 0
        }) else {
            return refuse(WireError::RollNotFound);
        };
        let roll = self.p.rolls[i].clone();
        let receipt = RollReturnReceipt {
            serial: self.cfg.serial.clone(),
            kind: roll.kind,
            code: roll.code.clone(),
            first: InvoiceNumber::new(roll.first + roll.used)
                .map_err(|_| WireError::BadArgument)?,
            count: roll.left(),
            time: now,
        };
        let signed = self.sign_body(receipt)?;
        let mut next = self.p.clone();
        next.rolls[i].used = next.rolls[i].count;
        next.last_return = Some(KeptReturn {
            request_id: r.request_id,
            receipt: KeptReceipt::Roll(signed.clone()),
        });
        self.save(now, next)?;
        Ok(signed)
    }
}
