//! D13 storage: durability across power cycles and image files, storage full and reclaim, and
//! the power-cut campaign (a seeded sample of >= 2,000 cut points in a scripted run of >= 300
//! operations; the full sweep is `#[ignore]`d).
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]
// Helpers outside #[test] fns stop the test with the failed step.
#![allow(clippy::unwrap_used)]
mod firmware_support;
use firmware_support::*;
use std::collections::HashSet;
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_protocol::command::*;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, WireError};

/// The disk on the image file at `path` (1 MiB of flash), powered up as a new run whose
/// sequence numbers, request ids and roll batches start after `run`'s.
fn disk_on_image(path: &std::path::Path, run: u32) -> Disk {
    let mut c = SimConfig::new(serial(), sign::public_key(&bureau()), start());
    c.flash_bytes = 1 << 20;
    c.image = Some(path.to_owned());
    Disk {
        disk: SimDisk::new(c).unwrap(),
        seq: run * 10,
        request_no: u64::from(run) * 10,
        batch: 100 * (run + 1),
    }
}

/// A disk provisioned on a new image file at `path`, logged in, with a normal roll of 10.
fn provisioned_on_image(path: &std::path::Path) -> Disk {
    let mut d = disk_on_image(path, 0);
    let t = d.provision_token();
    d.ok(S, Request::Provision(t));
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    d.load_roll(InvoiceKind::Normal, 1, 10);
    d
}

#[test]
fn d13_image_file_keeps_the_disk_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.img");
    let mut d = provisioned_on_image(&path);
    let inv = d.issue(InvoiceKind::Normal, 100_00);
    let pk = d.public_key();
    drop(d);
    let mut d = disk_on_image(&path, 1);
    assert_eq!(d.public_key(), pk);
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    let Response::ReadEvent(v) = d.ok(S, Request::ReadEvent(inv.body.counter)) else {
        panic!()
    };
    assert_eq!(v.event, JournalEvent::Invoice(inv.clone()));
    let next = d.issue(InvoiceKind::Normal, 100_00);
    assert_eq!(next.body.number.get(), inv.body.number.get() + 1);
}

/// 64 KiB flash: 16 sectors, 4 for the state log, 12 x 16 = 192 journal records.
fn small_full_disk() -> (Disk, u64) {
    let mut d = Disk::with_flash(64 << 10);
    let t = d.provision_token();
    d.ok(S, Request::Provision(t));
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    d.load_roll(InvoiceKind::Normal, 1, 1000);
    let mut n = 0;
    loop {
        let q = d.req(InvoiceKind::Normal, 100);
        match d.disk.request(S, Request::Issue(q)) {
            Ok(_) => n += 1,
            Err(e) => {
                assert_eq!(e.error, WireError::StorageFull);
                break;
            }
        }
    }
    (d, n)
}

#[test]
fn d13_storage_full_is_refused_then_reclaimed_after_upload_and_clear() {
    let (mut d, n) = small_full_disk();
    assert_eq!(n, 192);
    let info = d.info();
    assert_eq!((info.counter, info.journal_free), (192, 0));
    // Uploaded but not cleared: still full, nothing dropped.
    assert_eq!(d.ack(192), 192);
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::StorageFull
    );
    d.disk.set_time(at(2026, 12, 2, 9));
    d.copy_tax(period(2026, 11));
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::StorageFull
    );
    let t = d.clear_token(period(2026, 11), at(2027, 1, 16, 0));
    d.ok(S, Request::ClearCard(t));
    let inv = d.issue(InvoiceKind::Normal, 100);
    assert_eq!(inv.body.counter, 193);
    assert_eq!(d.err(S, Request::ReadEvent(1)), WireError::InvoiceNotFound);
    let Response::ReadEvent(v) = d.ok(S, Request::ReadEvent(100)) else {
        panic!()
    };
    assert!(v.uploaded);
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.info().counter, 193);
    d.issue(InvoiceKind::Normal, 100);
}

#[test]
fn d13_power_cut_during_reclaim_keeps_old_or_new() {
    for (nth, byte) in [
        (1u64, 0usize),
        (1, 2000),
        (1, 4096),
        (2, 0),
        (2, 100),
        (2, 256),
    ] {
        let (mut d, _) = small_full_disk();
        d.ack(192);
        d.disk.set_time(at(2026, 12, 2, 9));
        d.copy_tax(period(2026, 11));
        let t = d.clear_token(period(2026, 11), at(2027, 1, 16, 0));
        d.ok(S, Request::ClearCard(t));
        let q = d.req(InvoiceKind::Normal, 100);
        d.disk.cut_power_at(nth, byte);
        assert!(d.disk.try_request(S, &Request::Issue(q.clone())).is_none());
        d.ok(S, Request::Login(pin(FACTORY_PIN)));
        let c = d.info().counter;
        assert!(c == 192 || c == 193, "cut {nth}/{byte}: counter {c}");
        let inv = d.issue_with(q);
        assert_eq!(inv.body.counter, 193, "cut {nth}/{byte}");
        assert_eq!(inv.body.number.get(), 193);
        d.issue(InvoiceKind::Normal, 100);
        let Response::ReadEvent(v) = d.ok(S, Request::ReadEvent(192)) else {
            panic!()
        };
        assert_eq!(v.event.counter(), 192);
    }
}

#[test]
fn d13_storage_fault_stops_the_disk_until_power_cycle() {
    let mut d = Disk::stocked();
    let q = d.req(InvoiceKind::Normal, 100);
    d.disk.cut_power_at(1, 0);
    assert!(d.disk.try_request(S, &Request::Issue(q)).is_none());
    // The sim powered back up from the flash: logged out, nothing issued.
    assert_eq!(d.info().counter, 0);
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    d.issue(InvoiceKind::Normal, 100);
}

/// A used disk on an image file, then the file changed by `damage`, then booted again.
fn damaged_image(damage: impl FnOnce(&mut Vec<u8>)) -> (Disk, Vec<Signed<IssuedInvoice>>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk.img");
    let mut d = provisioned_on_image(&path);
    let issued: Vec<_> = (0..3)
        .map(|_| d.issue(InvoiceKind::Normal, 100_00))
        .collect();
    drop(d);
    let mut bytes = std::fs::read(&path).unwrap();
    damage(&mut bytes);
    std::fs::write(&path, &bytes).unwrap();
    (disk_on_image(&path, 1), issued)
}

/// The state log: the first 4 sectors of the flash (`firmware/store.rs`).
const STATE_LOG: std::ops::Range<usize> = 0..4 * 4096;

/// Issue 17: bit flips in the state log (journal intact) or a zeroed image used to boot as a
/// blank factory disk, nothing said, and the next provisioning would have made a new disk over
/// the old journal. It is a storage fault: every command but Ping is refused, naming the
/// newest journal event still readable, and the journal is read back for repair.
#[test]
fn d13_a_damaged_state_log_is_a_storage_fault_not_a_new_disk() {
    let (mut d, issued) = damaged_image(|b| {
        for x in &mut b[STATE_LOG] {
            *x ^= 0x10;
        }
    });
    for req in [
        Request::GetInfo(()),
        Request::Login(pin(FACTORY_PIN)),
        Request::Provision(d.provision_token()),
    ] {
        let e = d.disk.request(S, req.clone()).unwrap_err();
        assert_eq!(e.error, WireError::StorageFault, "{req:?}");
        assert_eq!(e.detail, 3, "the newest readable journal event: {req:?}");
    }
    assert!(matches!(
        d.disk.request(S, Request::Ping(7)),
        Ok(Response::Ping(7))
    ));
    for inv in &issued {
        let Response::ReadEvent(v) = d.ok(S, Request::ReadEvent(inv.body.counter)) else {
            panic!()
        };
        assert_eq!(v.event, JournalEvent::Invoice(inv.clone()));
    }
}

#[test]
fn d13_a_zeroed_image_is_a_storage_fault() {
    let (mut d, _) = damaged_image(|b| b.fill(0));
    let e = d.disk.request(S, Request::GetInfo(())).unwrap_err();
    assert_eq!(e.error, WireError::StorageFault);
    assert_eq!(e.detail, 0, "nothing of the journal is readable");
    let t = d.provision_token();
    let e = d.disk.request(S, Request::Provision(t)).unwrap_err();
    assert_eq!(e.error, WireError::StorageFault);
}

/// Only a blank state log, or the first snapshot torn by a power cut while the journal is
/// empty, is a factory disk.
#[test]
fn d13_a_torn_first_snapshot_is_still_a_factory_disk() {
    let mut d = Disk::with_flash(64 << 10);
    let t = d.provision_token();
    // Provisioning writes the first snapshot: cut it half way.
    d.disk.cut_power_at(2, 300);
    assert!(
        d.disk
            .try_request(S, &Request::Provision(t.clone()))
            .is_none()
    );
    let mem = d.disk.chip().memory();
    assert!(
        mem[..300].iter().any(|b| *b != 0xFF)
            && mem[2048..STATE_LOG.end].iter().all(|b| *b == 0xFF),
        "the cut tore the first snapshot and nothing else of the state log"
    );
    assert_eq!(d.info().state, DiskState::Factory);
    d.ok(S, Request::Provision(t));
    assert_eq!(d.info().state, DiskState::Ready);
}

/// D1 across a power cut: whichever flash write of the provisioning the cut lands on, the
/// token sent again after it provisions the disk, or answers the key it already holds, and the
/// answer's proof verifies under the key the disk then gives.
#[test]
fn d13_a_provisioning_cut_at_any_write_then_sent_again_answers_the_disk_key() {
    for n in 1..=6 {
        let mut d = Disk::with_flash(64 << 10);
        let t = d.provision_token();
        d.disk.cut_power_at(n, 100);
        let first = d.disk.try_request(S, &Request::Provision(t.clone()));
        d.disk.cut_power_at(0, 0);
        let Response::Provision(r) = d.ok(S, Request::Provision(t)) else {
            panic!()
        };
        if let Some(Ok(Response::Provision(f))) = first {
            assert_eq!(f.public_key, r.public_key, "cut at write {n}");
        }
        assert_eq!(d.public_key(), r.public_key, "cut at write {n}");
        let vk = sign::verifying_key(&r.public_key).unwrap();
        let proof = taxdisk_protocol::message::ProvisionProof {
            serial: serial(),
            public_key: r.public_key,
        };
        sign::verify(&vk, &proof, &r.proof).unwrap();
        assert_eq!(d.info().state, DiskState::Ready, "cut at write {n}");
    }
}

// ---- the power-cut campaign ----------------------------------------------------------------

/// A tiny deterministic generator for the script and the cut sample.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
enum Step {
    /// A journal event: issue, red, void or blank void.
    Event(Request),
    LoadRoll(Signed<RollGrant>),
    CopyTax(taxdisk_protocol::Period),
    ClearCard(Signed<ClearCardToken>),
}

impl Step {
    fn request(&self) -> Request {
        match self {
            Step::Event(r) => r.clone(),
            Step::LoadRoll(g) => Request::LoadRolls(g.clone()),
            Step::CopyTax(p) => Request::CopyTax(*p),
            Step::ClearCard(t) => Request::ClearCard(t.clone()),
        }
    }
}

/// What the model knows about the journal.
#[derive(Default)]
struct Model {
    events: Vec<JournalEvent>,
    /// Blue invoices (non-special) that can still be reversed or voided: (invoice, voided,
    /// reversed).
    invoices: Vec<(Signed<IssuedInvoice>, bool, bool)>,
    blank: [u32; 6],
}

const KINDS: [InvoiceKind; 4] = [
    InvoiceKind::Normal,
    InvoiceKind::Special,
    InvoiceKind::Electronic,
    InvoiceKind::Roll,
];

fn campaign_disk() -> Disk {
    let mut d = Disk::with_flash(128 << 10);
    let t = d.provision_token();
    d.ok(S, Request::Provision(t));
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    let changes: Vec<UpdateChange> = KINDS
        .iter()
        .map(|k| {
            let mut l = limits(*k);
            l.offline_hours = 1_000_000;
            UpdateChange::Limits(l)
        })
        .collect();
    let t = d.update(&changes);
    d.ok(S, Request::ApplyUpdate(t));
    d
}

/// Chooses the next step of the script from the model (always a valid one).
fn next_step(d: &mut Disk, m: &Model, rng: &mut Lcg, i: usize) -> Step {
    if let Some(k) = KINDS.iter().find(|k| m.blank[k.index()] < 6) {
        let g = d.grant(*k, 1 + 1000 * (i as u32 % 50), 40);
        return Step::LoadRoll(g);
    }
    let r = rng.below(100);
    if r < 12 {
        // A red reversing an earlier blue one in full.
        if let Some((inv, _, _)) = pick(m, rng, |inv, voided, reversed| {
            !voided && !reversed && inv.body.kind != InvoiceKind::Special
        }) {
            let q = d.red_of(&inv.body, inv.body.amount.0);
            return Step::Event(Request::Issue(q));
        }
    } else if r < 22 {
        let cur = d.disk.now().period();
        if let Some((inv, _, _)) = pick(m, rng, |inv, voided, _| {
            !voided && inv.body.kind.is_paper() && inv.body.period() == cur
        }) {
            return Step::Event(d.void_req(InvoiceRef {
                kind: inv.body.kind,
                code: inv.body.code.clone(),
                number: inv.body.number,
            }));
        }
    } else if r < 30 {
        let k = [InvoiceKind::Normal, InvoiceKind::Roll][rng.below(2) as usize];
        // One number: the oldest roll of the kind always has one left.
        return Step::Event(d.void_blank_req(k, 1));
    }
    let k = KINDS[rng.below(4) as usize];
    let amount = 1 + rng.below(1_000_000) as i64;
    let q = d.req(k, amount);
    Step::Event(Request::Issue(q))
}

fn pick(
    m: &Model,
    rng: &mut Lcg,
    ok: impl Fn(&Signed<IssuedInvoice>, bool, bool) -> bool,
) -> Option<(Signed<IssuedInvoice>, bool, bool)> {
    let c: Vec<_> = m
        .invoices
        .iter()
        .filter(|(i, v, r)| ok(i, *v, *r))
        .collect();
    if c.is_empty() {
        return None;
    }
    Some(c[rng.below(c.len() as u64) as usize].clone())
}

fn snapshot(d: &mut Disk, name: &str) {
    let n = heapless::String::try_from(name).unwrap();
    assert_eq!(
        d.disk.control(ControlRequest::Snapshot(n)),
        ControlResponse::Ok
    );
}

fn restore(d: &mut Disk, name: &str) {
    let n = heapless::String::try_from(name).unwrap();
    assert_eq!(
        d.disk.control(ControlRequest::Restore(n)),
        ControlResponse::Ok
    );
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
}

/// The invariants after a reboot: every answered event present and intact, counters 1..n
/// without a gap, no number used twice, and the in-flight event (`inflight`) either complete
/// or absent. Returns whether the in-flight event is present.
fn check_journal(d: &mut Disk, m: &Model, inflight: Option<&JournalEvent>, ctx: &str) -> bool {
    let list = d.all_pending();
    let n = m.events.len();
    assert!(
        list.len() == n || list.len() == n + 1,
        "{ctx}: {} events, model {n}",
        list.len()
    );
    assert_eq!(&list[..n], &m.events[..], "{ctx}: answered events changed");
    for (i, e) in list.iter().enumerate() {
        assert_eq!(e.counter(), i as u64 + 1, "{ctx}: counters");
    }
    let mut numbers = HashSet::new();
    for e in &list {
        match e {
            JournalEvent::Invoice(s) => {
                assert!(
                    numbers.insert((s.body.code.clone(), s.body.number.get())),
                    "{ctx}: reused"
                );
            }
            JournalEvent::BlankVoid(b) => {
                for k in 0..b.body.count {
                    assert!(
                        numbers.insert((b.body.code.clone(), b.body.first.get() + k)),
                        "{ctx}"
                    );
                }
            }
            JournalEvent::Void(_) => {}
        }
    }
    let present = list.len() == n + 1;
    if present {
        let want = inflight.unwrap_or_else(|| panic!("{ctx}: an event appeared from nowhere"));
        assert_eq!(&list[n], want, "{ctx}: in-flight event torn or different");
    }
    present
}

/// Runs the step after a cut and reboot to completion and checks it matches the uncut answer.
fn complete(d: &mut Disk, step: &Step, uncut: &Response, ctx: &str) {
    let req = step.request();
    let again = d.disk.request(S, req);
    match step {
        // D5, D7: an issue, void or blank void sent again with its request id after the cut
        // answers what the uncut run answered, whether or not the cut came after the commit:
        // never a second event, never "already voided".
        Step::Event(_) => assert_eq!(again.as_ref(), Ok(uncut), "{ctx}"),
        Step::LoadRoll(_) | Step::ClearCard(_) => {
            let ok = again.as_ref() == Ok(uncut)
                || again.as_ref().map_err(|e| e.error) == Err(WireError::Replayed);
            assert!(ok, "{ctx}: {again:?}");
        }
        Step::CopyTax(_) => assert_eq!(again.as_ref(), Ok(uncut), "{ctx}"),
    }
}

fn event_of(resp: &Response) -> Option<JournalEvent> {
    match resp {
        Response::Issue(s) => Some(JournalEvent::Invoice(s.clone())),
        Response::Void(s) => Some(JournalEvent::Void(s.clone())),
        Response::VoidBlank(s) => Some(JournalEvent::BlankVoid(s.clone())),
        _ => None,
    }
}

/// The campaign. `cuts(step_ops, rng)` lists the (operation, byte) cut points of one step.
/// After each cut the journal is checked in full; the interrupted step is then run to
/// completion and compared with the uncut answer whenever its event is present (no crypto
/// needed) and otherwise on every `retry_every`th cut (signing dominates the debug run time).
fn campaign(
    steps: usize,
    retry_every: u64,
    cuts: impl Fn(u64, &mut Lcg) -> Vec<(u64, usize)>,
) -> usize {
    let mut d = campaign_disk();
    let mut m = Model::default();
    for k in KINDS {
        m.blank[k.index()] = 0;
    }
    let mut rng = Lcg(0x5EED);
    let mut trials = 0;
    let mut month_end_at = 45;
    for i in 0..steps {
        // Month ends: copy-tax and clear card of the finished month.
        let step = if i == month_end_at {
            let p = d.disk.now().period();
            d.disk.set_time(p.next().start().plus_secs(86_400 + 3600));
            Step::CopyTax(p)
        } else if i == month_end_at + 1 {
            month_end_at += 45;
            let p = d.disk.now().period().prev();
            let lock = p.next().next().start().plus_secs(20 * 86_400);
            let seq = d.next_seq();
            Step::ClearCard(signed(ClearCardToken {
                serial: serial(),
                seq,
                period: p,
                next_lock_time: lock,
                upload_deadline: lock,
                limits: heapless::Vec::new(),
                issued_at: d.disk.now(),
            }))
        } else {
            d.disk.advance(600);
            next_step(&mut d, &m, &mut rng, i)
        };
        snapshot(&mut d, "pre");
        let ops0 = d.disk.chip().write_ops();
        let uncut = d.ok(S, step.request());
        let ops = d.disk.chip().write_ops() - ops0;
        snapshot(&mut d, "post");
        let inflight = event_of(&uncut);
        for (nth, byte) in cuts(ops, &mut rng) {
            restore(&mut d, "pre");
            d.disk.cut_power_at(nth, byte);
            let ctx = format!("step {i} {step:?} cut at op {nth}/{ops} byte {byte}");
            let a = d.disk.try_request(S, &step.request());
            assert!(a.is_none(), "{ctx}: answered through the cut");
            d.ok(S, Request::Login(pin(FACTORY_PIN)));
            let present = check_journal(&mut d, &m, inflight.as_ref(), &ctx);
            let step_state_applied = inflight.is_none() && rng.below(retry_every) == 0;
            if present || step_state_applied || (inflight.is_some() && rng.below(retry_every) == 0)
            {
                complete(&mut d, &step, &uncut, &ctx);
            }
            trials += 1;
        }
        restore(&mut d, "post");
        if i % 50 == 0 {
            eprintln!("step {i}: {trials} cut points so far");
        }
        // The model follows the uncut run.
        match (&step, &uncut) {
            (Step::Event(Request::Issue(q)), Response::Issue(s)) => {
                if q.red.is_none() {
                    m.invoices.push((s.clone(), false, false));
                } else if let Some(RedRef::Original { code, number }) = &q.red {
                    for x in m.invoices.iter_mut() {
                        if &x.0.body.code == code && x.0.body.number == *number {
                            x.2 = true;
                        }
                    }
                }
                m.blank[q.kind.index()] -= 1;
            }
            (Step::Event(Request::Void(VoidRequest { invoice: r, .. })), _) => {
                for x in m.invoices.iter_mut() {
                    if x.0.body.code == r.code && x.0.body.number == r.number {
                        x.1 = true;
                    }
                }
            }
            (Step::Event(Request::VoidBlank(v)), _) => m.blank[v.kind.index()] -= v.count,
            (Step::LoadRoll(g), _) => m.blank[g.body.kind.index()] += g.body.count,
            _ => {}
        }
        if let Some(e) = inflight {
            m.events.push(e);
        }
    }
    // The end state: every event verifies with the disk key.
    let pk = d.public_key();
    let vk = sign::verifying_key(&pk).unwrap();
    let list = d.all_pending();
    assert_eq!(list.len(), m.events.len());
    for e in &list {
        match e {
            JournalEvent::Invoice(s) => s.verify(&vk).unwrap(),
            JournalEvent::Void(s) => s.verify(&vk).unwrap(),
            JournalEvent::BlankVoid(s) => s.verify(&vk).unwrap(),
        }
    }
    trials
}

/// A seeded sample of cut points: every flash operation of every step is cut five times, at
/// byte 0 (nothing written), at its full length (written but not answered) and at three
/// seeded bytes (torn).
#[test]
fn d13_power_cut_campaign_sampled() {
    let trials = campaign(300, 3, |ops, rng| {
        let mut v = Vec::new();
        // One-operation steps (journal events) are cut seven times, the operations of
        // multi-operation steps (state snapshots: 8 page programs and an erase) three times.
        let per_op = if ops <= 2 { 7 } else { 3 };
        for op in 1..=ops {
            v.push((op, 0));
            v.push((op, 4096));
            for _ in 2..per_op {
                v.push((op, 1 + rng.below(300) as usize));
            }
        }
        v
    });
    assert!(trials >= 2000, "only {trials} cut points");
}

/// Every flash operation of the run, cut at eight byte positions.
#[test]
#[ignore = "full sweep: minutes; run with --ignored"]
fn d13_power_cut_campaign_full_sweep() {
    let trials = campaign(400, 1, |ops, _| {
        let mut v = Vec::new();
        for op in 1..=ops {
            for byte in [0, 1, 8, 16, 128, 255, 256, 2048, 4096] {
                v.push((op, byte));
            }
        }
        v
    });
    assert!(trials >= 3000);
}
