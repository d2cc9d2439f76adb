//! Online changes (网上变更, H17, FAQ 9.14(1), 10.1, 10.2): update tokens the bureau holds for
//! this disk (limits, authorizations, oil and used-car roles, company name, taxpayer id) are
//! fetched and applied to the disk (D10), which checks their signature, serial and sequence.
//! The local copy of the disk's identity is read again afterwards.

use super::errors::WorkflowError;
use super::{SETTING_UPDATE_SEQ, Workflow};
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::UpdateChange;

impl Workflow {
    /// H17: fetches and applies the bureau's updates for this disk; answers the changes
    /// applied, oldest first.
    pub fn apply_updates(&mut self) -> Result<Vec<UpdateChange>, WorkflowError> {
        self.require_user("online change")?;
        apply_pending_updates(self)
    }
}

/// Fetches the update tokens after the last applied sequence number, applies them in order
/// (skipping ones the disk calls replayed) and records the newest sequence number.
pub(crate) fn apply_pending_updates(wf: &mut Workflow) -> Result<Vec<UpdateChange>, WorkflowError> {
    let user = wf.require_user("online change")?;
    let bureau = wf.require_bureau("online change")?.clone();
    let serial = wf.serial()?;
    let after = wf.seq_setting(SETTING_UPDATE_SEQ)?;
    let mut tokens = bureau.updates(&serial, after)?;
    tokens.sort_by_key(|t| t.body.seq);
    let mut changes = Vec::new();
    let mut newest = after;
    let mut failure = None;
    for t in tokens {
        let seq = t.body.seq;
        let body = t.body.changes.clone();
        match wf.disk.apply_update(t) {
            Ok(()) => changes.extend(body),
            Err(e) if e.wire_error() == Some(WireError::Replayed) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
        newest = newest.max(seq);
    }
    if newest != after {
        wf.store
            .set_setting(user.id, SETTING_UPDATE_SEQ, &newest.to_string())?;
    }
    wf.refresh_info()?;
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(changes),
    }
}
