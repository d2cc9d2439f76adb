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
                lost.push(Finding::Lost {
                    code: a.code.to_string(),
                    number: a.number.get(),
                    counter: a.counter,
                    row: a.id.0,
                    on_disk,
                    in_store,
                });
            }
        }
        inv.push(result(
            "no lost invoice",
            &lost,
            Finding::NoneLost {
                answered: self.answered.len(),
            },
        ));

        // 2. No doubled invoice.
        let mut doubled = Vec::new();
        let mut numbers: HashMap<(String, u32), u64> = HashMap::new();
        let mut requests: HashMap<RequestId, u64> = HashMap::new();
        let mut take = |code: &InvoiceCode, n: u32, c: u64, doubled: &mut Vec<Finding>| {
            if let Some(prev) = numbers.insert((code.to_string(), n), c) {
                doubled.push(Finding::NumberTwice {
                    code: code.to_string(),
                    number: n,
                    first: prev,
                    second: c,
                });
            }
        };
        for (c, e, _) in journal {
            match e {
                Some(JournalEvent::Invoice(s)) => {
                    take(&s.body.code, s.body.number.get(), *c, &mut doubled);
                    if let Some(prev) = requests.insert(s.body.request_id, *c) {
                        doubled.push(Finding::RequestTwice {
                            first: prev,
                            second: *c,
                        });
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
                doubled.push(Finding::RowsTwice {
                    code: code.clone(),
                    number: n,
                    first: prev.0,
                    second: r.id.0,
                });
            }
        }
        inv.push(result(
            "no doubled invoice",
            &doubled,
            Finding::NoneDoubled {
                numbers: numbers.len(),
                requests: requests.len(),
            },
        ));

        // 3. Counters monotonic.
        let mut mono = self.counter_went_back.clone();
        let mut last_time = None;
        for (i, (c, e, _)) in journal.iter().enumerate() {
            let Some(e) = e else { continue };
            if e.counter() != *c || *c != i as u64 + 1 {
                mono.push(Finding::CounterMismatch {
                    at: *c,
                    carries: e.counter(),
                });
            }
            if last_time.is_some_and(|t| e.time() < t) {
                mono.push(Finding::OlderEvent { counter: *c });
            }
            last_time = Some(e.time());
        }
        inv.push(result(
            "counters monotonic",
            &mono,
            Finding::Monotonic {
                events: journal.len(),
            },
        ));

        // 4. Journal intact after reboot.
        let pk = self.step("public key", |c| {
            c.wf.disk().public_key().map_err(Into::into)
        })?;
        let mut broken = Vec::new();
        match sign::verifying_key(&pk) {
            Err(e) => broken.push(Finding::PublicKey {
                error: e.to_string(),
            }),
            Ok(vk) => {
                for (c, e, _) in journal {
                    let ok = match e {
                        None => false,
                        Some(JournalEvent::Invoice(s)) => s.verify(&vk).is_ok(),
                        Some(JournalEvent::Void(s)) => s.verify(&vk).is_ok(),
                        Some(JournalEvent::BlankVoid(s)) => s.verify(&vk).is_ok(),
                    };
                    if !ok && broken.len() < 20 {
                        broken.push(Finding::EventBroken { counter: *c });
                    }
                }
            }
        }
        inv.push(result(
            "journal intact after reboot",
            &broken,
            Finding::Intact {
                events: journal.len(),
            },
        ));

        // 5. Store and disk agree after repair.
        let mut disagree = Vec::new();
        let pending = self.wf.store().pending_invoices().map_or(0, |p| p.len());
        if pending > 0 {
            disagree.push(Finding::RowsPending { rows: pending });
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
                    disagree.push(Finding::RowUnreadable {
                        row: r.id.0,
                        error: e.localized(),
                    });
                    continue;
                }
            };
            let Some(d) = row.disk else {
                disagree.push(Finding::RowWithoutDisk { row: r.id.0 });
                continue;
            };
            store_counters.insert(d.counter);
            let same = matches!(by_counter.get(&d.counter), Some(JournalEvent::Invoice(s))
                if s.body.request_id == row.request_id && s.body.number == d.number
                    && s.body.code == d.code && s.signature == d.signature);
            if !same {
                disagree.push(Finding::RowNotJournal {
                    row: r.id.0,
                    counter: d.counter,
                });
            }
            let voided = voided_on_disk.contains(&d.counter);
            if voided != (r.state == InvoiceState::Voided) {
                disagree.push(Finding::VoidDisagrees {
                    row: r.id.0,
                    on_disk: voided,
                    state: r.state,
                });
            }
            if r.state == InvoiceState::Issued {
                disagree.push(Finding::RowNotUploaded { row: r.id.0 });
            }
        }
        for (c, e, _) in journal {
            if matches!(e, Some(JournalEvent::Invoice(_))) && !store_counters.contains(c) {
                disagree.push(Finding::JournalNotInStore { counter: *c });
            }
        }
        if let Some((c, _, _)) = journal.iter().find(|(_, _, up)| !up) {
            disagree.push(Finding::NotAcknowledged { counter: *c });
        }
        disagree.truncate(20);
        inv.push(result(
            "store and disk agree after repair",
            &disagree,
            Finding::Agree {
                rows: rows.len(),
                invoices: store_counters.len(),
                voids: voided_on_disk.len(),
            },
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
            blank_bad.push(Finding::BlankNeverAnswered { counter: *c });
        }
        for c in self.blank_voids_answered.difference(&blank_events) {
            blank_bad.push(Finding::BlankNotOnDisk { counter: *c });
        }
        inv.push(result(
            "blank voids exactly once",
            &blank_bad,
            Finding::BlankOnce {
                events: blank_events.len(),
            },
        ));

        // 7. The bureau received exactly the disk's events.
        let mut bureau_bad = Vec::new();
        let serial = self.serial.clone();
        match self.bureau.disk(&serial) {
            Ok(d) if d.through_counter != journal.len() as u64 => {
                bureau_bad.push(Finding::BureauThrough {
                    bureau: d.through_counter,
                    disk: journal.len() as u64,
                });
            }
            Ok(_) => {}
            Err(e) => bureau_bad.push(Finding::BureauRecord {
                error: e.localized(),
            }),
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
                        bureau_bad.push(Finding::BureauRejected {
                            step: "re-send",
                            counter: r.counter,
                            code: r.code.clone(),
                            message: r.message.clone(),
                        });
                    }
                }
                Err(e) => bureau_bad.push(Finding::Resend {
                    error: e.localized(),
                }),
            }
        }
        inv.push(result(
            "bureau received exactly the disk's events",
            &bureau_bad,
            Finding::BureauSame { events: sent },
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
            Finding::Explained { errors: explained },
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

/// An invariant's result: `ok` when nothing was found, else the first five problems and how
/// many more there are.
fn result(name: &'static str, problems: &[Finding], ok: Finding) -> InvariantResult {
    if problems.is_empty() {
        InvariantResult {
            name,
            passed: true,
            findings: vec![ok],
        }
    } else {
        let mut findings: Vec<Finding> = problems.iter().take(5).cloned().collect();
        if problems.len() > 5 {
            findings.push(Finding::More {
                more: problems.len() - 5,
            });
        }
        InvariantResult {
            name,
            passed: false,
            findings,
        }
    }
}
