//! `taxdisk-sim serve` keeps the disk in its flash image across restarts: a disk provisioned and
//! used over TCP, stopped by SIGTERM (clean shutdown, exit 0) or SIGKILL (no chance to clean
//! up), then served again from the same image, still holds every answered invoice, byte for
//! byte, with a signature that verifies under the key it had.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;

use serve_support::*;
use taxdisk_protocol::command::InvoiceRef;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::{DiskState, IssuedInvoice, JournalEvent, PublicKey, Signed};
use taxdisk_protocol::{Request, Response, WireError};

const SESSION: u32 = 0x5E55_1001;
const INVOICES: u32 = 6;

/// First life: provision, load a roll, issue; returns the disk key and the answered invoices.
fn first_life(sim: &Sim) -> (PublicKey, Vec<Signed<IssuedInvoice>>) {
    let mut conn = sim.disk();
    let pk = provision_and_load(&mut conn, SESSION);
    let issued: Vec<_> = (0..INVOICES)
        .map(|i| issue(&mut conn, SESSION, i))
        .collect();
    let numbers: Vec<u32> = issued.iter().map(|s| s.body.number.get()).collect();
    assert_eq!(numbers, (1..=INVOICES).collect::<Vec<_>>());
    (pk, issued)
}

/// Second life: everything answered before is there, intact, and the disk goes on.
fn second_life(sim: &Sim, pk: PublicKey, issued: &[Signed<IssuedInvoice>]) {
    let mut conn = sim.disk();
    // RAM state (the login) did not survive; the flash did.
    match conn.call(SESSION, Request::GetInfo(())) {
        Ok(Response::GetInfo(info)) => {
            assert_eq!(info.state, DiskState::Ready);
            assert_eq!(info.serial.as_str(), SERIAL);
            assert_eq!(info.counter, issued.last().unwrap().body.counter);
            assert!(!info.logged_in);
        }
        other => panic!("get info: {other:?}"),
    }
    assert_eq!(
        conn.call(SESSION, Request::ReadEvent(issued[0].body.counter)),
        Err(WireError::NotLoggedIn.into())
    );
    login(&mut conn, SESSION);
    assert_eq!(
        conn.call(SESSION, Request::GetPublicKey(())),
        Ok(Response::GetPublicKey(pk))
    );
    let vk = sign::verifying_key(&pk).unwrap();
    for inv in issued {
        let read = conn.call(
            SESSION,
            Request::ReadInvoice(InvoiceRef {
                kind: inv.body.kind,
                code: inv.body.code.clone(),
                number: inv.body.number,
            }),
        );
        match read {
            Ok(Response::ReadInvoice(view)) => {
                assert_eq!(&view.invoice, inv, "invoice {}", inv.body.number.get());
                assert!(!view.voided);
                view.invoice.verify(&vk).unwrap();
            }
            other => panic!("read invoice {}: {other:?}", inv.body.number.get()),
        }
        match conn.call(SESSION, Request::ReadEvent(inv.body.counter)) {
            Ok(Response::ReadEvent(ev)) => {
                assert_eq!(ev.event, JournalEvent::Invoice(inv.clone()));
            }
            other => panic!("read event {}: {other:?}", inv.body.counter),
        }
    }
    // A retry of an answered request gets the stored answer, not a second invoice (the
    // idempotency index was rebuilt from the image).
    let again = issue(&mut conn, SESSION, 0);
    assert_eq!(&again, &issued[0]);
    // The next invoice takes the next number.
    let next = issue(&mut conn, SESSION, INVOICES);
    assert_eq!(next.body.number.get(), INVOICES + 1);
    assert_eq!(next.body.counter, issued.last().unwrap().body.counter + 1);
    next.verify(&vk).unwrap();
}

#[test]
fn sigterm_then_serve_again_keeps_every_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let sim = Sim::start_with_image(&image);
    let (pk, issued) = first_life(&sim);
    let status = sim.terminate();
    assert!(status.success(), "clean shutdown exits 0: {status:?}");
    let sim = Sim::start_with_image(&image);
    second_life(&sim, pk, &issued);
    assert!(sim.terminate().success());
}

#[test]
fn sigkill_then_serve_again_keeps_every_answered_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let sim = Sim::start_with_image(&image);
    let (pk, issued) = first_life(&sim);
    let status = sim.kill();
    assert!(!status.success(), "SIGKILL is not a clean exit");
    let sim = Sim::start_with_image(&image);
    second_life(&sim, pk, &issued);
}

#[test]
fn an_image_of_another_size_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    std::fs::write(&image, vec![0xFF; 4096]).unwrap();
    let mut args = base_args();
    args.extend(["--image".into(), image.display().to_string()]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
        .env("LC_ALL", "C") // English: the test reads English text
        .args(&args)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("flash image"), "stderr: {err}");
    assert!(out.stdout.is_empty(), "no ports printed when not serving");
    // The file is left as it was.
    assert_eq!(std::fs::read(&image).unwrap(), vec![0xFF; 4096]);
}

#[test]
fn sigterm_while_a_host_is_issuing_loses_no_answered_invoice() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    // Room for thousands of invoices: an 8 MiB flash and a roll of 20,000 numbers.
    let mut args = base_args();
    let i = args.iter().position(|a| a == "1M").unwrap();
    args[i] = "8M".into();
    args.extend(["--image".into(), image.display().to_string()]);
    let sim = Sim::start(&args);
    let mut conn = sim.disk();
    let pk = provision_and_load(&mut conn, SESSION);
    match conn.call(SESSION, Request::LoadRolls(roll_grant(2, 1001, 20_000))) {
        Ok(Response::LoadRolls(_)) => {}
        other => panic!("load roll: {other:?}"),
    }
    const CAP: u32 = 20_000;
    // A host issuing as fast as it can on its own thread, until the server goes away.
    let issuer = std::thread::spawn(move || {
        let mut answered = Vec::new();
        for i in 0..CAP {
            let Some(seq) = conn.try_send(SESSION, &Request::Issue(issue_request(i))) else {
                break;
            };
            match conn.recv(seq, ANSWER_TIMEOUT) {
                Some(Ok(Response::Issue(s))) => answered.push(s),
                Some(other) => panic!("issue {i}: {other:?}"),
                None => break,
            }
        }
        answered
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(sim.terminate().success());
    let answered = issuer.join().unwrap();
    assert!(
        !answered.is_empty(),
        "the host issued nothing before the signal"
    );
    assert!(
        (answered.len() as u32) < CAP,
        "the signal came after the host was done"
    );

    let sim = Sim::start(&args);
    let mut conn = sim.disk();
    login(&mut conn, SESSION);
    let vk = sign::verifying_key(&pk).unwrap();
    for inv in &answered {
        match conn.call(SESSION, Request::ReadEvent(inv.body.counter)) {
            Ok(Response::ReadEvent(ev)) => assert_eq!(ev.event, JournalEvent::Invoice(inv.clone())),
            other => panic!("read event {}: {other:?}", inv.body.counter),
        }
        inv.verify(&vk).unwrap();
    }
    // At most the one request in flight at the signal was done without its answer arriving.
    let on_disk = match conn.call(SESSION, Request::LastIssued(None)) {
        Ok(Response::LastIssued(Some(v))) => v.invoice.body.counter,
        other => panic!("{other:?}"),
    };
    let last_answered = answered.last().unwrap().body.counter;
    assert!(
        on_disk == last_answered || on_disk == last_answered + 1,
        "counter {on_disk} on disk, {last_answered} answered"
    );
}

#[test]
fn sigint_is_a_clean_shutdown_too() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let sim = Sim::start_with_image(&image);
    let (pk, issued) = first_life(&sim);
    assert!(sim.signal("-INT").success());
    let sim = Sim::start_with_image(&image);
    second_life(&sim, pk, &issued);
}
