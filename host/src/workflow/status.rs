//! Status (状态查询, H14, FAQ 9.12, 9.13, 8.1, 10.6) and stock (发票库存查询, H13, FAQ 4.6):
//! per kind the single-invoice limit, the offline limits and what is offline now, the
//! authorization and the blank numbers left; the lock time, the upload deadline and the oil
//! and used-car authorizations of the disk. Also whether coding is open (H6, FAQ 3.5).

use super::Workflow;
use super::errors::WorkflowError;
use taxdisk_protocol::types::{DiskInfo, InvoiceKind, KindStatus, OilRole, OilStockEntry, Roll};

/// One kind's status and stock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindReport {
    /// Kind.
    pub kind: InvoiceKind,
    /// Limits, authorization, offline state, blank numbers left (D9, H14).
    pub status: KindStatus,
    /// The rolls of the kind, oldest first (H13).
    pub rolls: Vec<Roll>,
}

/// The status screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    /// Identity, clock, period state, lock time, upload deadline, roles.
    pub info: DiskInfo,
    /// Every kind, authorized or not, in F1 order.
    pub kinds: Vec<KindReport>,
    /// Oil stock, shown only with an oil authorization (H15).
    pub oil: Option<Vec<OilStockEntry>>,
}

impl StatusReport {
    /// The report of one kind.
    pub fn kind(&self, kind: InvoiceKind) -> Option<&KindReport> {
        self.kinds.iter().find(|k| k.kind == kind)
    }
}

impl Workflow {
    /// H14: the disk's status per kind with its stock (H13), and the oil stock when the disk
    /// holds an oil authorization (H15).
    pub fn status(&mut self) -> Result<StatusReport, WorkflowError> {
        self.require_user("status")?;
        let info = self.refresh_info()?;
        let rolls = self.disk.list_rolls(None)?;
        let mut kinds = Vec::with_capacity(InvoiceKind::ALL.len());
        for kind in InvoiceKind::ALL {
            let status = self.disk.status(kind)?;
            kinds.push(KindReport {
                kind,
                status,
                rolls: rolls.iter().filter(|r| r.kind == kind).cloned().collect(),
            });
        }
        let oil = if info.oil_role != OilRole::None {
            let stock = self.disk.oil_stock()?;
            self.store.set_oil_stock(&stock)?;
            Some(stock)
        } else {
            None
        };
        Ok(StatusReport { info, kinds, oil })
    }

    /// H6 (FAQ 3.5): whether product and customer coding is open: refused when the disk holds
    /// only motor-vehicle or used-car authorization.
    pub fn coding_allowed(&mut self) -> Result<(), WorkflowError> {
        let mut authorized = Vec::new();
        for kind in InvoiceKind::ALL {
            if self.disk.status(kind)?.authorized {
                authorized.push(kind);
            }
        }
        Ok(crate::store::coding_allowed(&authorized)?)
    }
}
