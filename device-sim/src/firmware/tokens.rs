//! Clock and update tokens (D3, D10): SetClock, ApplyUpdate.

use super::{Firmware, Res, refuse};
use embedded_storage::nor_flash::NorFlash;
use rand_core::CryptoRng;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Timestamp, WireError};

impl<F: NorFlash, R: CryptoRng> Firmware<F, R> {
    pub(super) fn set_clock(
        &mut self,
        raw_now: Timestamp,
        now: Timestamp,
        t: &Signed<ClockToken>,
    ) -> Res<()> {
        self.verify(t, &t.body.serial)?;
        if t.body.seq <= self.p.seqs.clock {
            return refuse(WireError::Replayed);
        }
        let mut next = self.p.clone();
        next.seqs.clock = t.body.seq;
        // D3: the token moves the disk's own clock; it then runs from there.
        let offset = (t.body.time.0 as i128 - raw_now.0 as i128)
            .clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        next.clock_offset = offset;
        self.save(now, next)?;
        let new_now = self.disk_time(raw_now);
        self.refresh_state(new_now);
        Ok(())
    }

    pub(super) fn apply_update(&mut self, now: Timestamp, t: &Signed<UpdateToken>) -> Res<()> {
        self.verify(t, &t.body.serial)?;
        if t.body.seq <= self.p.seqs.update {
            return refuse(WireError::Replayed);
        }
        let mut next = self.p.clone();
        next.seqs.update = t.body.seq;
        for c in &t.body.changes {
            match c {
                UpdateChange::Limits(l) => next.limits[l.kind.index()] = *l,
                UpdateChange::Authorize(k, on) => next.set_authorized(*k, *on),
                UpdateChange::Oil(role, until) => {
                    next.oil_role = *role;
                    next.oil_valid_until = *until;
                }
                UpdateChange::UsedCar(role) => next.used_car_role = *role,
                UpdateChange::CompanyName(n) => {
                    if let Some(i) = next.identity.as_mut() {
                        i.company_name = n.clone();
                    }
                }
                UpdateChange::TaxpayerId(id) => {
                    if let Some(i) = next.identity.as_mut() {
                        i.taxpayer_id = id.clone();
                    }
                }
            }
        }
        self.save(now, next)
    }
}
