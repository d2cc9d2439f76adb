//! Sessions: initialization (H1, FAQ 2.1) with the bureau connection test, provisioning
//! (初始发行 at the tax office, a bench and demo convenience), and login: store user and
//! password (H2) plus the disk PIN (D2), then the automatic monthly report at the first login
//! of a month (上报汇总, H12, FAQ 9.3), online updates (H17, FAQ 9.14(1)) and the upload of
//! what waits (FAQ 4.14). A session can be saved and resumed by a later process with the PIN
//! ([`Workflow::open_session`], [`Workflow::resume`]).

use super::errors::{WorkflowError, bureau_offline};
use super::{SETTING_BUREAU_CREDENTIAL, SETTING_BUREAU_KEY, Workflow, update};
use crate::store::{Initialization, Role, User, UserId, now_secs};
use taxdisk_i18n::{Localize, t};
use taxdisk_protocol::WireError;
use taxdisk_protocol::bureau_api::{ProvisionRequest, RegisterKey, RegisterTaxpayer};
use taxdisk_protocol::time::Period;
use taxdisk_protocol::types::{DiskInfo, PeriodSummary, Pin, Signed, UpdateChange};

/// How many periods back the login looks for the first period to copy (a disk whose first
/// period is unknown: never copied).
const MAX_PERIODS_BACK: usize = 13;

/// What a login did besides logging in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginReport {
    /// The user's name.
    pub user: String,
    /// The disk after login.
    pub info: DiskInfo,
    /// Periods copied (抄税) at this login (H12: the first login of a month).
    pub copied: Vec<Period>,
    /// Periods reported to the bureau (上报汇总) at this login.
    pub reported: Vec<Period>,
    /// Periods whose report receipt the bureau gave and the disk read in at this login (D4:
    /// a roll return waits for the last month's); a period reported earlier whose receipt the
    /// disk lacked is here without being in `reported`.
    pub receipts: Vec<Period>,
    /// Periods cleared (清卡) at this login, where already declared.
    pub cleared: Vec<Period>,
    /// Changes applied from the bureau (H17).
    pub updates: Vec<UpdateChange>,
    /// Events uploaded at this login.
    pub uploaded: u32,
    /// What could not be done automatically, one line each (offline, not declared, ...); the
    /// user can do it by hand later.
    pub notes: Vec<String>,
}

/// How long a saved session ([`Workflow::open_session`]) stays valid, in seconds of the host
/// clock.
pub const SESSION_TTL_SECS: i64 = 24 * 3600;

/// Store setting key of a saved session: the token's SM3 digest.
fn session_key(token: &str) -> String {
    use sm3::Digest as _;
    format!(
        "workflow.session.{}",
        hex::encode(sm3::Sm3::digest(token.as_bytes()))
    )
}

/// Store setting key of a disk's first period (its provisioning period, D8).
/// The setting holding the last clear-card failure said at login (the period, a space, the
/// reason), so the same one is not said again at every command.
const CLEAR_CARD_NOTE: &str = "login.clear_card_note";

fn first_period_key(info: &DiskInfo) -> String {
    format!("workflow.first_period.{}", info.serial)
}

impl LoginReport {
    /// Whether the last period was reported automatically at this login.
    pub fn reported_automatically(&self) -> bool {
        !self.reported.is_empty()
    }
}

impl Workflow {
    /// H1 (FAQ 2.1): first-run initialization: supervisor name and password, address, phone,
    /// bank accounts, and the secure access server address with a connection test. The test
    /// runs first; when it fails nothing is saved. The bureau's public key from the test is
    /// kept ([`SETTING_BUREAU_KEY`]) to check medium files offline. Returns the administrator's
    /// id; the workflow then talks to that bureau.
    pub fn initialize(&mut self, init: &Initialization) -> Result<UserId, WorkflowError> {
        if self.store.is_initialized()? {
            return Err(WorkflowError::rule(
                "initialization",
                "the system is initialized already",
                "H1",
            ));
        }
        let client = self.client_at(&init.bureau_server)?;
        let health = client
            .health()
            .map_err(|source| WorkflowError::ConnectionTest {
                url: init.bureau_server.clone(),
                source: Box::new(source),
            })?;
        let admin = self.store.initialize(init)?;
        self.store.set_setting(
            admin,
            SETTING_BUREAU_KEY,
            &hex::encode(health.public_key.to_sec1()),
        )?;
        self.bureau = Some(client);
        Ok(admin)
    }

    /// H1: changes the secure access server address after a connection test (FAQ 9.10(1)).
    /// Administrator only.
    pub fn set_bureau_server(&mut self, url: &str) -> Result<(), WorkflowError> {
        let user = self.require_user("setting the server address")?;
        let client = self.client_at(url)?;
        let health = client
            .health()
            .map_err(|source| WorkflowError::ConnectionTest {
                url: url.to_owned(),
                source: Box::new(source),
            })?;
        self.store.set_bureau_server(user.id, url)?;
        self.store.set_setting(
            user.id,
            SETTING_BUREAU_KEY,
            &hex::encode(health.public_key.to_sec1()),
        )?;
        self.bureau = Some(client);
        Ok(())
    }

    /// 初始发行 as the tax office does it (bench and demo convenience): registers the taxpayer
    /// at the bureau (B1), asks for the provisioning token of this disk, provisions the disk
    /// (D1: the key pair is generated inside it) and registers its public key. Answers the
    /// provisioned disk's identity.
    pub fn provision_disk(
        &mut self,
        reg: &RegisterTaxpayer,
        machine: u16,
    ) -> Result<DiskInfo, WorkflowError> {
        let bureau = self.require_bureau("provisioning (初始发行)")?.clone();
        let serial = self.refresh_info()?.serial;
        bureau.register_taxpayer(reg)?;
        let token = bureau.provision(&ProvisionRequest {
            serial: serial.clone(),
            taxpayer_id: reg.taxpayer_id.clone(),
            machine,
        })?;
        let result = self.disk.provision(token)?;
        let registered = bureau.register_key(&RegisterKey { serial, result })?;
        let admin = self
            .store
            .users()?
            .into_iter()
            .find(|u| u.role == Role::Admin);
        // The credential is answered once: kept before anything else can fail.
        self.store.set_secret_setting(
            admin.as_ref().map(|u| u.id),
            SETTING_BUREAU_CREDENTIAL,
            &registered.credential,
        )?;
        self.bureau = Some(bureau.with_credential(Some(registered.credential)));
        let info = self.refresh_info()?;
        if let (Some(admin), Some(p)) = (admin, info.period) {
            self.store
                .set_setting(admin.id, &first_period_key(&info), &p.yyyymm().to_string())?;
        }
        Ok(info)
    }

    /// Logs in: the user's name and password (H2), then the disk PIN (D2; a wrong PIN answers
    /// the tries left). At the first login of a month the last period is copied and reported
    /// automatically (上报汇总, H12, FAQ 9.3): pending events are uploaded first, then the
    /// summary goes to the bureau; a period already declared is cleared too. Updates waiting
    /// at the bureau are applied (H17, FAQ 9.14(1)) and events not yet uploaded are sent (FAQ
    /// 4.14). When the bureau is unreachable the period is still copied on the disk (issuing
    /// can go on) and the report is left for later, as a note.
    pub fn login(
        &mut self,
        user: &str,
        password: &str,
        pin: &Pin,
    ) -> Result<LoginReport, WorkflowError> {
        let u = self.store.authenticate(user, password)?;
        self.start_session(u, pin)
    }

    /// H2: saves the logged-in session in the store and answers its token (32 random bytes,
    /// hex), so a later process (the CLI's next command) can [`resume`](Workflow::resume) it
    /// with the disk PIN instead of the password. Only the token's SM3 digest is stored; it
    /// stays valid for [`SESSION_TTL_SECS`] by the host clock, or until closed.
    pub fn open_session(&mut self) -> Result<String, WorkflowError> {
        let user = self.require_user("saving the session")?;
        let token = hex::encode(rand::random::<[u8; 32]>());
        self.store.set_setting(
            user.id,
            &session_key(&token),
            &format!("{}:{}", user.id.0, now_secs()),
        )?;
        Ok(token)
    }

    /// H2: resumes a session saved by [`open_session`](Workflow::open_session): the token
    /// names the user, the PIN logs in to the disk (D2), and the same steps as a login follow
    /// (updates, the monthly report at a month's first use, the upload of what waits).
    pub fn resume(&mut self, token: &str, pin: &Pin) -> Result<LoginReport, WorkflowError> {
        let gone = || {
            WorkflowError::rule(
                "resuming the session",
                "no such session or it expired: log in again",
                "H2",
            )
        };
        let value = self
            .store
            .setting(&session_key(token.trim()))?
            .filter(|v| !v.is_empty())
            .ok_or_else(gone)?;
        let (id, at) = value.split_once(':').ok_or_else(gone)?;
        let (Ok(id), Ok(at)) = (id.parse::<i64>(), at.parse::<i64>()) else {
            return Err(gone());
        };
        if now_secs().saturating_sub(at) > SESSION_TTL_SECS {
            return Err(gone());
        }
        let u = self.store.user(UserId(id)).map_err(|_| gone())?;
        self.start_session(u, pin)
    }

    /// H2: ends a saved session: the token no longer resumes, and the user is logged out of
    /// the disk and the software.
    pub fn close_session(&mut self, token: &str) -> Result<(), WorkflowError> {
        let user = self.require_user("closing the session")?;
        self.store
            .set_setting(user.id, &session_key(token.trim()), "")?;
        self.logout()
    }

    /// After the user is known: disk login, then the login steps.
    fn start_session(&mut self, u: User, pin: &Pin) -> Result<LoginReport, WorkflowError> {
        self.disk.login(pin)?;
        self.user = Some(u.clone());
        let info = self.refresh_info()?;
        let mut report = LoginReport {
            user: u.name.clone(),
            info: info.clone(),
            copied: Vec::new(),
            reported: Vec::new(),
            receipts: Vec::new(),
            cleared: Vec::new(),
            updates: Vec::new(),
            uploaded: 0,
            notes: Vec::new(),
        };
        if info.taxpayer_id.is_none() {
            report
                .notes
                .push("the disk is not provisioned (初始发行, D1)".into());
            return Ok(report);
        }
        // Changes whose answer a cut link or a power cut lost are sent again, once (D4, D7).
        if let Err(e) = self.finish_intents(&mut report) {
            report
                .notes
                .push(t!("note-intents-failed", error = e.localized()));
        }
        // Once the bureau proves unreachable, the rest of the login works offline rather than
        // waiting for it again.
        let mut offline = false;
        if self.bureau.is_some() {
            match update::apply_pending_updates(self) {
                Ok(changes) => report.updates = changes,
                Err(e) => {
                    offline = e.is_offline();
                    report
                        .notes
                        .push(t!("note-online-update", error = e.localized()));
                }
            }
        }
        let bureau = if offline { self.bureau.take() } else { None };
        let monthly = self.monthly_report(&mut report, offline);
        if bureau.is_some() {
            self.bureau = bureau;
        }
        if let Err(e) = monthly {
            // The login stands; the disk refuses issuing until the report is done (D5).
            report
                .notes
                .push(format!("monthly report (上报汇总) failed: {e}"));
        }
        // FAQ 4.14: logging in again sends what is still not uploaded.
        if self.bureau.is_some() && self.auto_upload && !offline {
            match self.upload() {
                Ok(u) => report.uploaded += u.acknowledged,
                Err(e) => report.notes.push(t!("note-upload", error = e.localized())),
            }
        }
        report.info = self.refresh_info()?;
        Ok(report)
    }

    /// H12: copies every finished period not yet copied, then reports and clears what the
    /// bureau takes.
    fn monthly_report(
        &mut self,
        report: &mut LoginReport,
        offline: bool,
    ) -> Result<(), WorkflowError> {
        let info = self.info()?;
        let current = info.period.unwrap_or_else(|| info.time.period());
        let last = current.prev();
        let mut summaries: Vec<Signed<PeriodSummary>> = Vec::new();
        let mut next = match info.last_copied {
            Some(c) => Some(c.next()),
            None => self.first_period_to_copy(&info, last, &mut summaries)?,
        };
        while let Some(p) = next.filter(|p| *p <= last) {
            summaries.push(self.disk.copy_tax(p)?);
            next = Some(p.next());
        }
        report.copied = summaries.iter().map(|s| s.body.period).collect();
        let info = self.refresh_info()?;
        let Some(copied) = info.last_copied else {
            return Ok(());
        };
        let Some(bureau) = self.bureau.clone() else {
            if !summaries.is_empty() {
                report.notes.push(if offline {
                    t!("note-offline")
                } else {
                    t!("note-no-bureau")
                });
            }
            return Ok(());
        };
        let rec = match bureau.disk(&info.serial) {
            Ok(r) => r,
            Err(e) => {
                report
                    .notes
                    .push(t!("note-report-postponed", error = e.localized()));
                return Ok(());
            }
        };
        // A period is sent while the bureau lacks it, or while the disk lacks the bureau's
        // receipt of it (a roll return waits for that, D4): the bureau answers a summary sent
        // again with a new receipt.
        let bureau_lacks = |p: Period| rec.last_reported.is_none_or(|r| r < p);
        let disk_lacks = |p: Period| info.last_reported.is_none_or(|r| r < p);
        // A period copied at an earlier login but not reported: its summary is still the
        // disk's last one, which copy tax answers again (D8).
        if summaries.is_empty() && (bureau_lacks(copied) || disk_lacks(copied)) {
            summaries.push(self.disk.copy_tax(copied)?);
        }
        summaries.retain(|s| bureau_lacks(s.body.period) || disk_lacks(s.body.period));
        if !summaries.is_empty() {
            match self.upload() {
                Ok(u) => report.uploaded += u.acknowledged,
                Err(e) => {
                    report
                        .notes
                        .push(t!("note-report-postponed", error = e.localized()));
                    return Ok(());
                }
            }
        }
        for s in &summaries {
            let p = s.body.period;
            match bureau.summary(s) {
                Ok(r) => {
                    if bureau_lacks(p) {
                        report.reported.push(p);
                    }
                    if let Err(e) = self.read_report_receipt(r.receipt) {
                        report
                            .notes
                            .push(t!("note-receipt", period = p, error = e.localized()));
                        return Ok(());
                    }
                    report.receipts.push(p);
                }
                Err(e) if bureau_offline(&e) => {
                    report
                        .notes
                        .push(t!("note-report-postponed", error = e.localized()));
                    return Ok(());
                }
                Err(e) => {
                    report
                        .notes
                        .push(t!("note-report-refused", period = p, error = e.localized()));
                    return Ok(());
                }
            }
        }
        if info.last_cleared.is_none_or(|c| c < copied) {
            match self.clear_card(copied) {
                Ok(()) => report.cleared.push(copied),
                Err(e) => {
                    let note = format!("{copied} {}", e.localized());
                    self.note_once(report, CLEAR_CARD_NOTE, &note)?;
                }
            }
        }
        Ok(())
    }

    /// Adds `note` to the login report unless the last login said the same under `key`: a
    /// clear card tried at every login until the period is declared says why once, not at every
    /// command (`status` still shows the period not cleared).
    fn note_once(
        &mut self,
        report: &mut LoginReport,
        key: &str,
        note: &str,
    ) -> Result<(), WorkflowError> {
        if self.store.setting(key)?.as_deref() == Some(note) {
            return Ok(());
        }
        if let Some(user) = self.user.clone() {
            self.store.set_setting(user.id, key, note)?;
        }
        let text = note.split_once(' ').map_or(note, |(_, t)| t);
        report.notes.push(text.to_owned());
        Ok(())
    }

    /// The period after the first one copied, for a disk that was never copied: the first
    /// period recorded at provisioning when known, else found by walking back from `last`
    /// (at most [`MAX_PERIODS_BACK`] periods); the copy that succeeds goes to `summaries`.
    fn first_period_to_copy(
        &mut self,
        info: &DiskInfo,
        last: Period,
        summaries: &mut Vec<Signed<PeriodSummary>>,
    ) -> Result<Option<Period>, WorkflowError> {
        let key = first_period_key(info);
        let known = self
            .store
            .setting(&key)?
            .and_then(|s| s.trim().parse::<u32>().ok())
            .and_then(|v| Period::try_from(v).ok());
        let mut p = match known {
            Some(first) if first > last => return Ok(None),
            Some(first) => first,
            None => last,
        };
        for _ in 0..MAX_PERIODS_BACK {
            match self.disk.copy_tax(p) {
                Ok(s) => {
                    summaries.push(s);
                    return Ok(Some(p.next()));
                }
                Err(e)
                    if e.wire_error() == Some(WireError::PeriodNotCopyable) && known.is_none() =>
                {
                    p = p.prev();
                }
                Err(e) if e.wire_error() == Some(WireError::PeriodNotCopyable) => return Ok(None),
                Err(e) if e.wire_error() == Some(WireError::PeriodNotFinished) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        }
        // No finished period is copyable: the disk was provisioned this period. Remember it,
        // so later logins do not probe again.
        if let (Some(user), Some(current)) = (self.user.clone(), info.period) {
            self.store
                .set_setting(user.id, &key, &current.yyyymm().to_string())?;
        }
        Ok(None)
    }

    /// Logs out of the disk (D14: frees it for another session) and the software.
    pub fn logout(&mut self) -> Result<(), WorkflowError> {
        let r = self.disk.logout();
        self.user = None;
        match r {
            // Logged out already (a power cycle ends the session, D2): nothing to do.
            Err(e) if e.wire_error() == Some(WireError::NotLoggedIn) => {}
            r => r?,
        }
        Ok(())
    }
}
