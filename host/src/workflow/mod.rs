//! The invoicing software's client workflow (增值税发票税控开票软件（金税盘版）, the FAQ in
//! `seeds/` is its manual) on top of the store, the disk client and the bureau client.
//!
//! ```text
//!            Workflow ── user (H2/H3 checked on every step)
//!           /    |    \
//!      Store  DiskClient  BureauClient (optional: offline issuing within D9 limits)
//! ```
//!
//! Each module holds one menu of the software:
//! - [`session`]: initialization (H1), provisioning (初始发行, bench convenience), login with
//!   the automatic monthly report (H12) and online updates (H17), logout.
//! - [`issue`]: issuing (H8) with automatic upload (H11); red invoices of the non-special kinds
//!   (H10, original code and number entered twice).
//! - [`void`]: voids, several at once, and blank voids (H9).
//! - [`upload`]: manual upload and repair (H11).
//! - [`period`]: copy tax and report (上报汇总), declaration, clear card with each FAQ 9.10
//!   reason, counter report (办税厅抄报) (H12).
//! - [`rolls`]: rolls bought, read online or from a medium file, returned (H13).
//! - [`status`]: per-kind limits, offline state, lock time, authorizations, stock (H13, H14).
//! - [`red`]: red info forms (H10).
//! - [`oil`]: refined-oil stock (H15).
//! - [`update`]: online changes from the bureau (H17).
//! - [`output`]: backup and restore (H4), monthly export (H16), printing (H18).
//! - [`users`]: user management with the logged-in user as actor (H2, H3).
//! - [`check`]: invoice check (查验) at the bureau (B9).
//! - [`device`]: PIN change and unblock (D2), the clock from a bureau token (D3, FAQ 10.4).
//! - [`xml`]: the small XML reader and writer of red info form files (FAQ 7.2).
//!
//! A day with the software, in calls (the `demo` of the CLI does this):
//!
//! ```text
//! let mut wf = Workflow::new(store, disk, None);
//! wf.initialize(&init)?;                      // H1: connection test, then saved
//! wf.provision_disk(&registration, 0)?;       // 初始发行 (bench convenience)
//! wf.login("主管", "password", &pin)?;         // H2 + D2; H12 report at a month's first login
//! wf.buy_rolls(InvoiceKind::Normal, 100)?;    // H13
//! let issued = wf.issue(draft)?;              // H8: pending, signed, stored, uploaded
//! wf.void(&[issued.id])?;                     // H9
//! wf.status()?;                               // H14
//! // next month: login reports; then
//! wf.declare(period)?; wf.clear_card(period)?; // H12
//! ```
//!
//! Choices no source decides (kept stable): the period the host expects for a pending invoice
//! is the disk's period as last read (the disk's time decides it when signed); the sequence
//! numbers of roll grants and update tokens already loaded are kept in store settings
//! ([`SETTING_GRANT_SEQ`], [`SETTING_UPDATE_SEQ`]) and a token the disk calls replayed is
//! skipped, so losing the setting only costs a few refusals.

pub mod check;
pub mod coding;
pub mod device;
pub mod errors;
pub mod intents;
pub mod issue;
pub mod oil;
pub mod output;
pub mod period;
pub mod red;
pub mod rolls;
pub mod session;
pub mod signed;
pub mod status;
pub mod update;
pub mod upload;
pub mod users;
pub mod void;
pub mod xml;

pub use errors::{ClearCardFailure, WorkflowError};
pub use issue::Issued;
pub use period::CounterReport;
pub use rolls::RollReturn;
pub use session::LoginReport;
pub use signed::{SignedCheck, Signer};
pub use status::{KindReport, StatusReport};
pub use upload::{Mismatch, RepairReport, UploadReport};
pub use void::{BlankVoided, Voided};

use crate::bureau_client::BureauClient;
use crate::disk::DiskClient;
use crate::store::{Store, User};
use crate::transport::Transport;
use taxdisk_protocol::time::Period;
use taxdisk_protocol::types::{DeviceSerial, DiskInfo, TaxpayerId};

/// The disk client over any transport, as the CLI and the tests hold it.
pub type DynDisk = DiskClient<Box<dyn Transport + Send>>;

/// Store setting: the newest roll grant sequence number loaded (H13).
pub const SETTING_GRANT_SEQ: &str = "workflow.grant_seq";
/// Store setting: the bureau's SM2 public key (SEC1, hex) from the last connection test (H1),
/// to verify grants read from medium files before any reaches the disk (H13).
pub const SETTING_BUREAU_KEY: &str = "workflow.bureau_key";
/// Store setting: the newest update token sequence number applied (H17).
pub const SETTING_UPDATE_SEQ: &str = "workflow.update_seq";
/// The disk's bureau credential (B1), answered once at key registration; every bureau client
/// the workflow is given sends it on the taxpayer's paths.
pub const SETTING_BUREAU_CREDENTIAL: &str = "workflow.bureau_credential";

/// The invoicing software: the store, the disk, the bureau (when reachable) and the user.
pub struct Workflow {
    store: Store,
    disk: DynDisk,
    bureau: Option<BureauClient>,
    user: Option<User>,
    info: Option<DiskInfo>,
    signer: Option<signed::Signer>,
    auto_upload: bool,
}

impl std::fmt::Debug for Workflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workflow")
            .field("disk", &self.disk)
            .field("bureau", &self.bureau.as_ref().map(|b| b.base_url()))
            .field("user", &self.user.as_ref().map(|u| &u.name))
            .finish_non_exhaustive()
    }
}

/// `c` sending the disk's credential kept in the store, when it holds none of its own.
fn with_stored_credential(store: &Store, c: BureauClient) -> BureauClient {
    if c.has_credential() {
        return c;
    }
    match store.setting(SETTING_BUREAU_CREDENTIAL) {
        Ok(Some(t)) => c.with_credential(Some(t)),
        Ok(None) => c,
        Err(e) => {
            tracing::warn!(error = %e, "{}", taxdisk_i18n::t!("log-credential-unreadable"));
            c
        }
    }
}

impl Workflow {
    /// The workflow over a store, a disk and (optionally) the tax bureau. Nobody is logged in.
    pub fn new(store: Store, disk: DynDisk, bureau: Option<BureauClient>) -> Workflow {
        let bureau = bureau.map(|c| with_stored_credential(&store, c));
        Workflow {
            store,
            disk,
            bureau,
            user: None,
            info: None,
            signer: None,
            auto_upload: true,
        }
    }

    /// The workflow over a store and a disk, with the bureau at the address the store was
    /// initialized with (H1), if any.
    pub fn with_stored_bureau(store: Store, disk: DynDisk) -> Result<Workflow, WorkflowError> {
        let bureau = if store.is_initialized()? {
            let url = store.company()?.bureau_server;
            if url.trim().is_empty() {
                None
            } else {
                Some(BureauClient::new(&url)?)
            }
        } else {
            None
        };
        Ok(Workflow::new(store, disk, bureau))
    }

    /// Turns the automatic upload after each issue and void on or off (on by default, H11).
    /// Off, events wait for [`Workflow::upload`] (benches measuring issuing alone).
    pub fn set_auto_upload(&mut self, on: bool) {
        self.auto_upload = on;
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, mutably (user management, customers, products).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The disk client (for commands the workflow does not wrap).
    pub fn disk(&mut self) -> &mut DynDisk {
        &mut self.disk
    }

    /// The bureau client, when an address is set.
    pub fn bureau(&self) -> Option<&BureauClient> {
        self.bureau.as_ref()
    }

    /// Replaces the bureau client (a new address, or `None` to work offline).
    pub fn set_bureau(&mut self, bureau: Option<BureauClient>) {
        self.bureau = bureau.map(|c| with_stored_credential(&self.store, c));
    }

    /// A client of the bureau at `url` holding what the current one holds (credentials).
    pub(crate) fn client_at(&self, url: &str) -> Result<BureauClient, WorkflowError> {
        let c = match &self.bureau {
            Some(b) => b.moved_to(url)?,
            None => BureauClient::new(url)?,
        };
        Ok(with_stored_credential(&self.store, c))
    }

    /// The logged-in user.
    pub fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }

    /// Gives the store and the disk back (e.g. to reopen after a simulated crash).
    pub fn into_parts(self) -> (Store, DynDisk, Option<BureauClient>) {
        (self.store, self.disk, self.bureau)
    }

    /// The logged-in user, or the refusal naming `action`.
    pub(crate) fn require_user(&self, action: &'static str) -> Result<User, WorkflowError> {
        self.user
            .clone()
            .ok_or(WorkflowError::NotLoggedIn { action })
    }

    /// The bureau client, or the refusal naming `action`.
    pub(crate) fn require_bureau(
        &self,
        action: &'static str,
    ) -> Result<&BureauClient, WorkflowError> {
        self.bureau
            .as_ref()
            .ok_or(WorkflowError::NoBureau { action })
    }

    /// Reads the disk's identity and period state afresh and keeps it.
    pub fn refresh_info(&mut self) -> Result<DiskInfo, WorkflowError> {
        let info = self.disk.info()?;
        self.info = Some(info.clone());
        // Provisioning can give the disk its key: the signer is read again when next asked.
        self.signer = None;
        Ok(info)
    }

    /// The disk's identity as last read (reads it once if never read).
    pub(crate) fn info(&mut self) -> Result<DiskInfo, WorkflowError> {
        match &self.info {
            Some(i) => Ok(i.clone()),
            None => self.refresh_info(),
        }
    }

    /// The disk's serial.
    pub(crate) fn serial(&mut self) -> Result<DeviceSerial, WorkflowError> {
        Ok(self.info()?.serial)
    }

    /// The taxpayer id the disk is provisioned for.
    pub(crate) fn taxpayer_id(&mut self, what: &'static str) -> Result<TaxpayerId, WorkflowError> {
        self.info()?.taxpayer_id.ok_or_else(|| {
            WorkflowError::rule(what, "the disk is not provisioned (初始发行)", "D1")
        })
    }

    /// The period the disk's clock is in, as last read.
    pub(crate) fn current_period(&mut self) -> Result<Period, WorkflowError> {
        let info = self.info()?;
        Ok(info.period.unwrap_or_else(|| info.time.period()))
    }

    /// A store setting parsed as a sequence number (0 when unset or unreadable).
    pub(crate) fn seq_setting(&self, key: &str) -> Result<u32, WorkflowError> {
        Ok(self
            .store
            .setting(key)?
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0))
    }
}
