//! DiskClient over TCP: a fake disk behind a fault injector served from a small TcpListener
//! thread (as `taxdisk-sim serve` will), with dropped connections along the way.
#![allow(clippy::unwrap_used)]

#[path = "disk_fake.rs"]
mod fake;

use fake::{FakeDisk, PIN, draft};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use taxdisk_host::disk::{ClientConfig, DiskClient, DiskError};
use taxdisk_host::transport::fault::{FaultRates, FaultyHandler};
use taxdisk_host::transport::{TcpTransport, TransportError};
use taxdisk_protocol::FrameHandler;
use taxdisk_protocol::frame::MAX_ENCODED;
use taxdisk_protocol::types::{JournalEvent, Pin};

/// Serves `handler` on a loopback port; every `cut_every` frames (0 = never) the server closes
/// the connection after answering, so the client must reconnect.
fn serve<H: FrameHandler + Send + 'static>(
    handler: Arc<Mutex<H>>,
    cut_every: u64,
) -> (String, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let cuts = Arc::new(AtomicU64::new(0));
    let cuts2 = cuts.clone();
    thread::spawn(move || {
        let mut frames = 0u64;
        for conn in l.incoming() {
            let Ok(mut s) = conn else { continue };
            s.set_nodelay(true).unwrap();
            let mut acc = Vec::new();
            let mut buf = [0u8; 1024];
            let mut out = vec![0u8; 4 * MAX_ENCODED];
            'conn: loop {
                let n = match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                for &b in &buf[..n] {
                    acc.push(b);
                    if b != 0 {
                        continue;
                    }
                    let frame = std::mem::take(&mut acc);
                    let m = handler.lock().unwrap().handle_frame(&frame, &mut out);
                    if s.write_all(&out[..m]).is_err() {
                        break 'conn;
                    }
                    frames += 1;
                    if cut_every > 0 && frames.is_multiple_of(cut_every) {
                        cuts2.fetch_add(1, Ordering::Relaxed);
                        break 'conn;
                    }
                }
            }
        }
    });
    (addr, cuts)
}

fn config() -> ClientConfig {
    ClientConfig {
        attempts: 8,
        timeout: Duration::from_millis(100),
        reconnect_pause: Duration::from_millis(1),
        session: None,
    }
}

#[test]
fn issues_over_tcp_with_faults_and_cut_connections_no_lost_no_doubled_invoice() {
    let rates = FaultRates {
        drop_request: 20_000,
        drop_answer: 20_000,
        corrupt_answer: 30_000,
        duplicate_answer: 30_000,
        late_answer: 20_000,
    };
    let disk = Arc::new(Mutex::new(FaultyHandler::new(
        FakeDisk::new().with_rolls(1),
        rates,
        7,
    )));
    let (addr, cuts) = serve(disk.clone(), 37);
    let mut c = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    c.login(&Pin::new(PIN).unwrap()).unwrap();
    let mut got = Vec::new();
    for i in 0..300 {
        let inv = c.issue(draft(1 + i)).unwrap();
        assert_eq!(inv.body.amount.0, 1 + i);
        got.push(inv.body.number.get());
    }
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 300);
    let pending: Vec<u32> = c
        .list_pending()
        .unwrap()
        .into_iter()
        .map(|e| match e {
            JournalEvent::Invoice(i) => i.body.number.get(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(pending, got);
    assert!(cuts.load(Ordering::Relaxed) >= 5);
    let s = c.stats();
    assert!(s.reconnects >= 5 && s.retries > 10, "{s:?}");
    let d = disk.lock().unwrap();
    assert_eq!(d.inner().issued, 300);
    assert!(d.stats().corrupted > 0 && d.stats().dropped_answers > 0);
}

#[test]
fn refusals_travel_over_tcp_unchanged() {
    let disk = Arc::new(Mutex::new(FakeDisk::new()));
    let (addr, _) = serve(disk, 0);
    let mut c = DiskClient::with_config(TcpTransport::connect(&addr).unwrap(), config());
    let err = c.login(&Pin::new("99999999").unwrap()).unwrap_err();
    assert!(err.to_string().contains("9 tries left"), "{err}");
    assert_eq!(c.ping(5).unwrap(), 5);
}

#[test]
fn a_server_that_goes_away_ends_in_a_clear_error() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let t = TcpTransport::connect(&addr).unwrap();
    drop(l);
    let mut c = DiskClient::with_config(
        t,
        ClientConfig {
            attempts: 3,
            ..config()
        },
    );
    let err = c.ping(1).unwrap_err();
    assert!(
        matches!(err, DiskError::Transport(TransportError::NoDevice(_))),
        "{err:?}"
    );
    assert!(err.to_string().contains("taxdisk-sim serve"), "{err}");
}
