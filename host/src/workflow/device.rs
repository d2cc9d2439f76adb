//! The disk itself (金税设备): PIN change (D2), unblocking a PIN-blocked disk with a bureau
//! token (D2), and the clock set from a bureau clock token (金税设备时钟设置, FAQ 10.4, D3: the
//! host cannot set it otherwise).

use super::Workflow;
use super::errors::WorkflowError;
use taxdisk_protocol::bureau_api::{ClockRequest, UnblockRequest};
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::{DiskInfo, Pin};

impl Workflow {
    /// D2: changes the disk PIN; needs the old one.
    pub fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), WorkflowError> {
        self.require_user("PIN change")?;
        self.disk.change_pin(old, new)?;
        Ok(())
    }

    /// D2: unblocks a PIN-blocked disk with a bureau token that sets `new_pin` (no login
    /// needed: the disk is blocked). Answers the disk after.
    pub fn unblock_pin(&mut self, new_pin: &Pin) -> Result<DiskInfo, WorkflowError> {
        let bureau = self.require_bureau("PIN unblock")?.clone();
        let serial = self.refresh_info()?.serial;
        let token = bureau.unblock(&UnblockRequest {
            serial,
            new_pin: new_pin.clone(),
        })?;
        self.disk.unblock(token)?;
        self.refresh_info()
    }

    /// D3 (FAQ 10.4): sets the disk clock to `time` from a bureau clock token. Administrator
    /// only (a tax-office procedure).
    pub fn set_disk_clock(&mut self, time: Timestamp) -> Result<DiskInfo, WorkflowError> {
        let user = self.require_user("clock setting")?;
        if user.role != crate::store::Role::Admin {
            return Err(WorkflowError::rule(
                "clock setting",
                "only the administrator sets the disk clock",
                "H3, FAQ 10.4",
            ));
        }
        let bureau = self.require_bureau("clock setting")?.clone();
        let serial = self.serial()?;
        let token = bureau.clock(&ClockRequest { serial, time })?;
        self.disk.set_clock(token)?;
        self.refresh_info()
    }
}
