//! The campaign's work under faults: recovery as the software does it, issuing, red invoices,
//! voids, uploads and the month's change, each step retried the way an operator would.

use super::*;

impl Campaign {
    /// Recovery as the software does it: a disk that lost its login (power cut) gets it
    /// again, and pending rows are reconciled by repair (H11).
    pub(super) fn recover(&mut self) -> Result<(), FaultsError> {
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match self.try_recover() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    self.note_error("recovery", &e);
                    last = e.to_string();
                }
            }
        }
        Err(FaultsError::Stuck {
            step: "recovery (login, repair)".into(),
            tries: MAX_TRIES,
            last,
        })
    }

    pub(super) fn try_recover(&mut self) -> Result<(), WorkflowError> {
        let info = self.wf.refresh_info()?;
        if !info.logged_in {
            let login = self.wf.login(ADMIN, ADMIN_PW, &self.pin)?;
            self.report.relogins += 1;
            for n in &login.notes {
                self.note_text("login", n);
            }
        }
        if !self.wf.store().pending_invoices()?.is_empty() || !self.unknown.is_empty() {
            let r = self.wf.repair()?;
            self.report.repairs += 1;
            if let Some(n) = &r.upload_note {
                self.note_text("repair upload", n);
            }
            if let Some(u) = &r.upload {
                for rej in &u.rejected {
                    self.flag(Finding::BureauRejected {
                        step: "repair upload",
                        counter: rej.counter,
                        code: rej.code.clone(),
                        message: rej.message.clone(),
                    });
                }
            }
            self.report.abandoned += r.abandoned.len() as u64;
            for id in r.issued {
                self.record_stored(id, true)?;
            }
            if !r.undecided.is_empty() {
                return Err(WorkflowError::rule(
                    "repair",
                    format!("{} pending rows left undecided", r.undecided.len()),
                    "H11",
                ));
            }
            self.unknown.clear();
        }
        Ok(())
    }

    /// Records an invoice signed for store row `id` as answered (repair found it, or the
    /// issue answered).
    pub(super) fn record_stored(
        &mut self,
        id: InvoiceId,
        by_repair: bool,
    ) -> Result<(), WorkflowError> {
        if !self.answered_ids.insert(id) {
            return Ok(());
        }
        let row = self.wf.store().invoice(id)?;
        let Some(rec) = row.disk else {
            self.flag(Finding::IssuedWithoutDisk { row: id.0 });
            return Ok(());
        };
        let red = row.invoice.is_red();
        self.report.invoices_issued += 1;
        if red {
            self.report.red_invoices += 1;
        }
        if by_repair {
            self.report.found_by_repair += 1;
        }
        self.answered.push(Answered {
            id,
            kind: row.invoice.kind(),
            red,
            code: rec.code,
            number: rec.number,
            counter: rec.counter,
            request_id: row.request_id,
            signature: rec.signature,
            period: rec.time.period(),
        });
        Ok(())
    }

    /// Arms the next power cut when one is due (seeded) and none is pending.
    pub(super) fn maybe_arm_cut(&mut self, ops_left: u64) {
        let done = self.cuts_happened();
        let want = u64::from(self.cfg.power_cuts);
        if done >= want || self.sim().chip().cut_armed() {
            return;
        }
        let left = want - done;
        // Arm with twice the even share of the operations left, and at least 20 %, so the
        // cuts are spread over the workload and all happen before it ends.
        let share = (left * 2_000_000 / ops_left.max(1)).clamp(200_000, 1_000_000);
        // Clamped to at most 1,000,000 above.
        let p = share as u32;
        if self.rng.random_range(0..1_000_000u32) < p {
            let nth = self.rng.random_range(1..=MAX_CUT_OFFSET);
            if self.sim().control(ControlRequest::PowerCutAfter(nth)) == ControlResponse::Ok {
                self.cuts_armed += 1;
            }
        }
    }

    pub(super) fn draft(&mut self, kind: InvoiceKind) -> Result<Draft, WorkflowError> {
        let seller = self.wf.seller_party()?;
        let buyer = Party {
            name: "购买方公司".into(),
            taxpayer_id: TaxpayerId::new(BUYER_ID).ok(),
            address_phone: "北京市海淀区 010-87654321".into(),
            bank_account: "建设银行 9876543210".into(),
        };
        let mut d = Draft::new(kind_fields(kind), seller, buyer);
        d.issuer = ADMIN.into();
        let class = TaxClassCode::new("1090101010000000000")
            .map_err(|e| WorkflowError::rule("campaign draft", e.to_string(), "F7"))?;
        let qty = Decimal::from(self.rng.random_range(1..=5u32));
        let price = Decimal::new(i64::from(self.rng.random_range(1_000..=50_000u32)), 2);
        d.add_line(&LineInput::new("测试商品", class, TaxRate(1300)).qty_price(qty, price))?;
        Ok(d)
    }

    /// One issue (blue of `kind`, or red reversing `original`).
    pub(super) fn issue(
        &mut self,
        kind: InvoiceKind,
        original: Option<InvoiceId>,
    ) -> Result<(), FaultsError> {
        let draft = match original {
            None => self.draft(kind),
            Some(id) => self.red_draft(id),
        };
        let draft = match draft {
            Ok(d) => d,
            Err(e) => {
                self.note_error("composing", &e);
                return self.recover();
            }
        };
        if let Some(id) = original {
            // Whatever happens now, do not reverse it again: a lost answer may have signed.
            self.reversed.insert(id);
        }
        match self.wf.issue(draft) {
            Ok(i) => {
                if let Some(n) = &i.upload_note {
                    self.note_text("automatic upload", n);
                }
                if let Err(e) = self.record_stored(i.id, false) {
                    self.note_error("store", &e);
                }
                Ok(())
            }
            Err(e) => {
                self.note_error("issue", &e);
                if let WorkflowError::IssueUnknown { id, .. } = &e {
                    self.unknown.push(*id);
                }
                if e.wire_error() == Some(WireError::NoBlankNumber) {
                    self.recover()?;
                    return self.step("buying rolls", |c| c.wf.buy_rolls(kind, ROLL_BUY).map(drop));
                }
                self.recover()
            }
        }
    }

    pub(super) fn red_draft(&mut self, id: InvoiceId) -> Result<Draft, WorkflowError> {
        let row = self.wf.store().invoice(id)?;
        let Some(rec) = row.disk else {
            return Err(WorkflowError::rule("red", "no disk record", "H10"));
        };
        let (code, number) = (rec.code.to_string(), rec.number.to_string());
        self.wf
            .red_draft_from_original(&code, &number, &code, &number)
    }

    /// Answered blue invoices of `kinds` of the current period still issued or uploaded and
    /// never reversed, newest last (at most the 64 newest are considered).
    pub(super) fn candidates(&mut self, kinds: &[InvoiceKind]) -> Vec<InvoiceId> {
        let period = self.now().period();
        let picks: Vec<InvoiceId> = self
            .answered
            .iter()
            .rev()
            .filter(|a| !a.red && kinds.contains(&a.kind) && a.period == period)
            .filter(|a| !self.reversed.contains(&a.id))
            .take(64)
            .map(|a| a.id)
            .collect();
        picks
            .into_iter()
            .filter(|id| {
                self.wf
                    .store()
                    .invoice(*id)
                    .is_ok_and(|r| matches!(r.state, InvoiceState::Issued | InvoiceState::Uploaded))
            })
            .collect()
    }

    /// A blank void as the software does it (D7): one request id, sent again with the same id
    /// after each failure whose outcome is unknown (a lost answer, a login lost in a power
    /// cut), so that it is done exactly once. A refusal of the first send ends it undone.
    pub(super) fn blank_void(&mut self, kind: InvoiceKind, count: u32) -> Result<(), FaultsError> {
        let id = new_request_id();
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match self.wf.void_blank_with_id(id, kind, count) {
                Ok(b) => {
                    self.report.blank_voids += 1;
                    self.blank_voids_answered.insert(b.counter);
                    return Ok(());
                }
                Err(e) => {
                    let maybe_done = match &e {
                        WorkflowError::Disk(d) => {
                            d.outcome_unknown()
                                || matches!(d, DiskError::Refused { retried: true, .. })
                        }
                        _ => false,
                    };
                    self.note_error("blank void", &e);
                    last = e.to_string();
                    self.recover()?;
                    if !maybe_done {
                        return Ok(());
                    }
                }
            }
        }
        Err(FaultsError::Stuck {
            step: "blank void".into(),
            tries: MAX_TRIES,
            last,
        })
    }

    /// Runs `f` until it succeeds, recovering after each failure.
    pub(super) fn step<T>(
        &mut self,
        what: &str,
        mut f: impl FnMut(&mut Campaign) -> Result<T, WorkflowError>,
    ) -> Result<T, FaultsError> {
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            match f(self) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    self.note_error(what, &e);
                    last = e.to_string();
                    self.recover()?;
                }
            }
        }
        Err(FaultsError::Stuck {
            step: what.to_owned(),
            tries: MAX_TRIES,
            last,
        })
    }

    pub(super) fn workload(&mut self) -> Result<(), FaultsError> {
        self.set_faults(true);
        let target = u64::from(self.cfg.invoices);
        let half = target / 2;
        let mut month_changed = false;
        let mut ops: u64 = 0;
        // A generous bound: the workload ends by invoices answered, not by operations.
        let max_ops = target * 4 + 200;
        while self.report.invoices_issued < target {
            if ops >= max_ops {
                return Err(FaultsError::Stuck {
                    step: "workload".into(),
                    tries: u32::try_from(ops).unwrap_or(u32::MAX),
                    last: format!(
                        "only {} of {target} invoices answered",
                        self.report.invoices_issued
                    ),
                });
            }
            if !month_changed && self.report.invoices_issued >= half.max(1) {
                self.month_change()?;
                month_changed = true;
            }
            ops += 1;
            let ops_left = (target - self.report.invoices_issued) * 3 / 2 + 1;
            self.maybe_arm_cut(ops_left);
            let secs = self.rng.random_range(5..=30u64);
            self.sim().advance(secs);
            let now = self.now();
            setup(lock(&self.server.bureau()).set_time(now), "bureau clock")?;
            let roll = self.rng.random_range(0..100u32);
            let what = match roll {
                0..60 => {
                    let kind = KINDS[self.rng.random_range(0..KINDS.len())];
                    self.issue(kind, None)?;
                    "issue"
                }
                60..70 => {
                    let c = self.candidates(&[
                        InvoiceKind::Normal,
                        InvoiceKind::Electronic,
                        InvoiceKind::Roll,
                    ]);
                    if let Some(&id) = c.get(self.rng.random_range(0..c.len().max(1))) {
                        let kind = self.wf.store().invoice(id).map(|r| r.invoice.kind());
                        self.issue(kind.unwrap_or(InvoiceKind::Normal), Some(id))?;
                    } else {
                        self.issue(InvoiceKind::Normal, None)?;
                    }
                    "red issue"
                }
                70..80 => {
                    let c = self.candidates(&[
                        InvoiceKind::Special,
                        InvoiceKind::Normal,
                        InvoiceKind::Roll,
                    ]);
                    if let Some(&id) = c.get(self.rng.random_range(0..c.len().max(1))) {
                        // A voided invoice is not reversed later.
                        self.reversed.insert(id);
                        match self.wf.void(&[id]) {
                            Ok(v) => self.report.voids += v.len() as u64,
                            Err(e) => {
                                self.note_error("void", &e);
                                self.recover()?;
                            }
                        }
                    }
                    "void"
                }
                80..86 => {
                    let kind = [InvoiceKind::Normal, InvoiceKind::Special, InvoiceKind::Roll]
                        [self.rng.random_range(0..3)];
                    let count = self.rng.random_range(1..=2u32);
                    // As the software shows the roll's next number: at most what is left of
                    // the roll the disk voids from (its oldest with numbers left, FAQ 5.2).
                    let rolls = self.step("roll list", |c| c.wf.rolls(Some(kind)))?;
                    let left = rolls.iter().map(|r| r.left()).find(|&l| l > 0).unwrap_or(0);
                    if left > 0 {
                        self.blank_void(kind, count.min(left))?;
                    }
                    "blank void"
                }
                86..94 => {
                    match self.wf.upload() {
                        Ok(u) => {
                            self.report.uploads += 1;
                            for rej in &u.rejected {
                                self.flag(Finding::BureauRejected {
                                    step: "upload",
                                    counter: rej.counter,
                                    code: rej.code.clone(),
                                    message: rej.message.clone(),
                                });
                            }
                        }
                        Err(e) => {
                            self.note_error("upload", &e);
                            self.recover()?;
                        }
                    }
                    "upload"
                }
                _ => {
                    self.issue(InvoiceKind::Normal, None)?;
                    "issue"
                }
            };
            self.observe(what);
        }
        Ok(())
    }

    /// The month boundary: the first login of December reports November (H12), then the
    /// declaration and the clear card (B5, D8), each step recovered like the rest.
    pub(super) fn month_change(&mut self) -> Result<(), FaultsError> {
        let last = self.now().period();
        let next = last.next();
        self.set_time(next.start().plus_secs(9 * 3600))?;
        // The software is restarted on the first day of the month: log out and in again.
        if let Err(e) = self.wf.logout() {
            self.note_error("logout", &e);
        }
        let report = self.step("first login of the month (H12)", |c| {
            let pin = c.pin.clone();
            c.wf.login(ADMIN, ADMIN_PW, &pin)
        })?;
        for n in &report.notes {
            // Not declared yet: the clear card at login is expected to fail (FAQ 9.10).
            if !n.contains("declar") {
                self.note_text("month login", n);
            }
        }
        let serial = self.serial.clone();
        let reported = self
            .bureau
            .disk(&serial)
            .ok()
            .and_then(|d| d.last_reported)
            .is_some_and(|p| p >= last);
        if !reported {
            self.step("report (上报汇总)", |c| {
                c.wf.report_period(last).map(drop)
            })?;
        }
        self.set_time(next.start().plus_secs(9 * 86_400 + 9 * 3600))?;
        self.step("declaration (B5)", |c| c.wf.declare(last))?;
        self.step("clear card (D8)", |c| {
            let info = c.wf.refresh_info()?;
            if info.last_cleared.is_some_and(|p| p >= last) {
                return Ok(());
            }
            c.wf.clear_card(last)
        })?;
        self.report.periods_cleared.push(last);
        self.observe("month boundary");
        Ok(())
    }

    /// Disarms everything, reboots the disk, logs in, repairs, uploads, and checks.
    pub(super) fn finish(&mut self) -> Result<(), FaultsError> {
        self.set_faults(false);
        {
            let mut sim = self.sim();
            sim.control(ControlRequest::ClearFaults);
            sim.power_cycle();
        }
        self.observe("final reboot");
        self.recover()?;
        let repaired = self.step("final repair", |c| c.wf.repair())?;
        self.report.repairs += 1;
        for id in repaired.issued {
            if let Err(e) = self.record_stored(id, true) {
                self.note_error("store", &e);
            }
        }
        let up = self.step("final upload", |c| c.wf.upload())?;
        for rej in &up.rejected {
            self.flag(Finding::BureauRejected {
                step: "final upload",
                counter: rej.counter,
                code: rej.code.clone(),
                message: rej.message.clone(),
            });
        }
        {
            let st = locked(&self.faults).stats();
            self.report.frame_faults = st;
            self.report.frames = st.frames;
        }
        self.report.power_cuts = self.cuts_happened();
        self.report.power_cuts_armed = self.cuts_armed;
        let journal = self.read_journal()?;
        self.report.journal_events = journal.len() as u64;
        self.check(&journal)
    }
}
