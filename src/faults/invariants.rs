//! The invariants the campaign checks once its work is done: the disk's journal read back and
//! compared with what the workflow answered and what the store holds.

use super::*;

impl Campaign {
    pub(super) fn read_journal(
        &mut self,
    ) -> Result<Vec<(u64, Option<JournalEvent>, bool)>, FaultsError> {
        let counter = self.step("disk info", |c| c.wf.refresh_info())?.counter;
        let mut out = Vec::new();
        for n in 1..=counter {
            match self.wf.disk().read_event(n) {
                Ok(v) => out.push((n, Some(v.event), v.uploaded)),
                Err(e) if e.wire_error().is_some() => out.push((n, None, false)),
                Err(e) => {
                    return Err(FaultsError::Stuck {
                        step: format!("reading journal event {n}"),
                        tries: 1,
                        last: e.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    pub(super) fn check(
        &mut self,
        journal: &[(u64, Option<JournalEvent>, bool)],
    ) -> Result<(), FaultsError> {
        let mut inv = Vec::new();
        let by_counter: HashMap<u64, &JournalEvent> = journal
            .iter()
            .filter_map(|(c, e, _)| e.as_ref().map(|e| (*c, e)))
            .collect();

        // 1. No lost invoice.
        let mut lost = Vec::new();
        for a in &self.answered {
            let on_disk = match by_counter.get(&a.counter) {
                Some(JournalEvent::Invoice(s)) => {
                    s.body.code == a.code
                        && s.body.number == a.number
                        && s.body.request_id == a.request_id
                        && s.signature == a.signature
                }
                _ => false,
            };
            let in_store = self.wf.store().invoice(a.id).is_ok_and(|r| {
                matches!(
                    r.state,
                    InvoiceState::Issued | InvoiceState::Uploaded | InvoiceState::Voided
                ) && r.disk.as_ref().is_some_and(|d| {
                    d.counter == a.counter && d.number == a.number && d.signature == a.signature
                })
            });
            if !on_disk || !in_store {
                lost.push(format!(
                    "{} {} (counter {}, row {}): on disk {on_disk}, in store {in_store}",
                    a.code, a.number, a.counter, a.id.0
                ));
            }
        }
        inv.push(result(
            "no lost invoice",
            &lost,
            format!(
                "{} answered invoices all in the journal and the store",
                self.answered.len()
            ),
        ));

        // 2. No doubled invoice.
        let mut doubled = Vec::new();
        let mut numbers: HashMap<(String, u32), u64> = HashMap::new();
        let mut requests: HashMap<RequestId, u64> = HashMap::new();
        let mut take = |code: &InvoiceCode, n: u32, c: u64, doubled: &mut Vec<String>| {
            if let Some(prev) = numbers.insert((code.to_string(), n), c) {
                doubled.push(format!("{code} {n:08} used at counters {prev} and {c}"));
            }
        };
        for (c, e, _) in journal {
            match e {
                Some(JournalEvent::Invoice(s)) => {
                    take(&s.body.code, s.body.number.get(), *c, &mut doubled);
                    if let Some(prev) = requests.insert(s.body.request_id, *c) {
                        doubled.push(format!("request id at counters {prev} and {c}"));
                    }
                }
                Some(JournalEvent::BlankVoid(b)) => {
                    for i in 0..b.body.count {
                        take(&b.body.code, b.body.first.get() + i, *c, &mut doubled);
                    }
                }
                _ => {}
            }
        }
        let rows = self.store_rows()?;
        let mut row_numbers: HashMap<(String, u32), InvoiceId> = HashMap::new();
        for r in &rows {
            if let (Some(code), Some(n)) = (&r.code, r.number)
                && let Some(prev) = row_numbers.insert((code.clone(), n), r.id)
            {
                doubled.push(format!(
                    "{code} {n:08} on store rows {} and {}",
                    prev.0, r.id.0
                ));
            }
        }
        inv.push(result(
            "no doubled invoice",
            &doubled,
            format!(
                "{} numbers used once each, {} request ids once each",
                numbers.len(),
                requests.len()
            ),
        ));

        // 3. Counters monotonic.
        let mut mono = self.counter_went_back.clone();
        let mut last_time = None;
        for (i, (c, e, _)) in journal.iter().enumerate() {
            let Some(e) = e else { continue };
            if e.counter() != *c || *c != i as u64 + 1 {
                mono.push(format!("event at {c} carries counter {}", e.counter()));
            }
            if last_time.is_some_and(|t| e.time() < t) {
                mono.push(format!("event {c} is older than the one before"));
            }
            last_time = Some(e.time());
        }
        inv.push(result(
            "counters monotonic",
            &mono,
            format!(
                "journal counters 1..={} in order, disk counter never went back",
                journal.len()
            ),
        ));

        // 4. Journal intact after reboot.
        let pk = self.step("public key", |c| {
            c.wf.disk().public_key().map_err(Into::into)
        })?;
        let mut broken = Vec::new();
        match sign::verifying_key(&pk) {
            Err(e) => broken.push(format!("disk public key: {e}")),
            Ok(vk) => {
                for (c, e, _) in journal {
                    let ok = match e {
                        None => false,
                        Some(JournalEvent::Invoice(s)) => s.verify(&vk).is_ok(),
                        Some(JournalEvent::Void(s)) => s.verify(&vk).is_ok(),
                        Some(JournalEvent::BlankVoid(s)) => s.verify(&vk).is_ok(),
                    };
                    if !ok && broken.len() < 20 {
                        broken.push(format!("event {c} missing or its signature fails"));
                    }
                }
            }
        }
        inv.push(result(
            "journal intact after reboot",
            &broken,
            format!("{} events decode and verify", journal.len()),
        ));

        // 5. Store and disk agree after repair.
        let mut disagree = Vec::new();
        let pending = self.wf.store().pending_invoices().map_or(0, |p| p.len());
        if pending > 0 {
            disagree.push(format!("{pending} rows still pending"));
        }
        let voided_on_disk: HashSet<u64> = journal
            .iter()
            .filter_map(|(_, e, _)| match e {
                Some(JournalEvent::Void(v)) => Some(v.body.invoice_counter),
                _ => None,
            })
            .collect();
        let mut store_counters: HashSet<u64> = HashSet::new();
        for r in &rows {
            if !matches!(
                r.state,
                InvoiceState::Issued | InvoiceState::Uploaded | InvoiceState::Voided
            ) {
                continue;
            }
            let row = match self.wf.store().invoice(r.id) {
                Ok(row) => row,
                Err(e) => {
                    disagree.push(format!("row {}: {e}", r.id.0));
                    continue;
                }
            };
            let Some(d) = row.disk else {
                disagree.push(format!("row {} has no disk record", r.id.0));
                continue;
            };
            store_counters.insert(d.counter);
            let same = matches!(by_counter.get(&d.counter), Some(JournalEvent::Invoice(s))
                if s.body.request_id == row.request_id && s.body.number == d.number
                    && s.body.code == d.code && s.signature == d.signature);
            if !same {
                disagree.push(format!(
                    "row {} is not the journal's counter {}",
                    r.id.0, d.counter
                ));
            }
            let voided = voided_on_disk.contains(&d.counter);
            if voided != (r.state == InvoiceState::Voided) {
                disagree.push(format!(
                    "row {}: voided on disk {voided}, store state {}",
                    r.id.0,
                    r.state.as_str()
                ));
            }
            if r.state == InvoiceState::Issued {
                disagree.push(format!(
                    "row {} not marked uploaded after the upload",
                    r.id.0
                ));
            }
        }
        for (c, e, _) in journal {
            if matches!(e, Some(JournalEvent::Invoice(_))) && !store_counters.contains(c) {
                disagree.push(format!(
                    "journal invoice at counter {c} is not in the store"
                ));
            }
        }
        if let Some((c, _, _)) = journal.iter().find(|(_, _, up)| !up) {
            disagree.push(format!(
                "journal event {c} not acknowledged after the upload"
            ));
        }
        disagree.truncate(20);
        inv.push(result(
            "store and disk agree after repair",
            &disagree,
            format!(
                "{} store rows, {} journal invoices, {} voids agree",
                rows.len(),
                store_counters.len(),
                voided_on_disk.len()
            ),
        ));

        // 6. Blank voids exactly once: each asked one answered once, with the event the
        // journal holds, and no blank-void event nobody was answered for.
        let blank_events: BTreeSet<u64> = journal
            .iter()
            .filter(|(_, e, _)| matches!(e, Some(JournalEvent::BlankVoid(_))))
            .map(|(c, _, _)| *c)
            .collect();
        let mut blank_bad = Vec::new();
        for c in blank_events.difference(&self.blank_voids_answered) {
            blank_bad.push(format!(
                "blank-void event {c} on the disk was never answered"
            ));
        }
        for c in self.blank_voids_answered.difference(&blank_events) {
            blank_bad.push(format!("blank void answered as event {c}, not on the disk"));
        }
        inv.push(result(
            "blank voids exactly once",
            &blank_bad,
            format!(
                "{} blank-void events, each answered once",
                blank_events.len()
            ),
        ));

        // 7. The bureau received exactly the disk's events.
        let mut bureau_bad = Vec::new();
        let serial = self.serial.clone();
        match self.bureau.disk(&serial) {
            Ok(d) if d.through_counter != journal.len() as u64 => bureau_bad.push(format!(
                "bureau holds through counter {}, disk {}",
                d.through_counter,
                journal.len()
            )),
            Ok(_) => {}
            Err(e) => bureau_bad.push(format!("bureau disk record: {e}")),
        }
        let events: Vec<JournalEvent> = journal.iter().filter_map(|(_, e, _)| e.clone()).collect();
        let sent = events.len();
        for chunk in events.chunks(500) {
            match self.bureau.upload(&Upload {
                serial: serial.clone(),
                events: chunk.to_vec(),
            }) {
                Ok(u) => {
                    for r in u.rejected.iter().take(10) {
                        bureau_bad.push(format!("counter {}: {} {}", r.counter, r.code, r.message));
                    }
                }
                Err(e) => bureau_bad.push(format!("re-send: {e}")),
            }
        }
        inv.push(result(
            "bureau received exactly the disk's events",
            &bureau_bad,
            format!("bureau through counter = disk counter = {sent}; re-sent journal identical"),
        ));

        // 8. Refusals explained.
        let explained: u64 = self
            .report
            .errors
            .iter()
            .filter(|(k, _)| **k != "unexplained")
            .map(|(_, v)| v)
            .sum();
        inv.push(result(
            "refusals explained by the faults",
            &self.unexplained,
            format!("{explained} errors met, each a lost answer, lost login, resend or stock"),
        ));
        self.report.invariants = inv;
        Ok(())
    }

    /// Every store row of the periods the campaign touched.
    pub(super) fn store_rows(&self) -> Result<Vec<taxdisk_host::store::InvoiceRow>, FaultsError> {
        let mut periods: Vec<Period> = self.answered.iter().map(|a| a.period).collect();
        periods.push(self.now().period());
        periods.extend(self.report.periods_cleared.iter().copied());
        periods.sort();
        periods.dedup();
        let mut rows = Vec::new();
        for p in periods {
            let m = setup(self.wf.store().month(&MonthQuery::period(p)), "store query")?;
            rows.extend(m);
        }
        rows.sort_by_key(|r| r.id);
        rows.dedup_by_key(|r| r.id);
        Ok(rows)
    }
}

fn result(name: &'static str, problems: &[String], ok: String) -> InvariantResult {
    if problems.is_empty() {
        InvariantResult {
            name,
            passed: true,
            detail: ok,
        }
    } else {
        let mut detail = problems
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if problems.len() > 5 {
            detail.push_str(&format!("; and {} more", problems.len() - 5));
        }
        InvariantResult {
            name,
            passed: false,
            detail,
        }
    }
}
