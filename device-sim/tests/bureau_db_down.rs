//! The bureau on PostgreSQL when its database goes away: requests are answered HTTP 503
//! `unavailable` with a message saying nothing was changed (the host counts that as offline),
//! and once the database is back the same upload is accepted as if it came first. The database
//! is cut by a TCP relay between the bureau and PostgreSQL that the test closes and reopens.
//! Needs `TAXDISK_TEST_POSTGRES` (skipped without it, failing under `CI=true`).
#![allow(clippy::unwrap_used)]

mod bureau_support;

use bureau_support::backends::{self, Backend};
use bureau_support::*;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use taxdisk_device_sim::bureau::Bureau;
use taxdisk_device_sim::bureau::db::Store;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::types::*;

/// A TCP relay to `upstream` that can be cut (every connection closed, new ones refused) and
/// reopened.
struct Relay {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let (o, c) = (open.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !o.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut held = c.lock().unwrap();
                held.push(client.try_clone().unwrap());
                held.push(server.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Relay { addr, open, conns }
    }

    /// Closes every connection and refuses new ones: the database is down.
    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for s in self.conns.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Accepts connections again: the database is back.
    fn reopen(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` on a thread until either side closes.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// The HOST:PORT of `url` (`postgres://USER:PASS@HOST:PORT/DB...`), and the URL with
/// `{}` in its place.
fn split_host(url: &str) -> (String, String) {
    let at = url
        .find('@')
        .expect("TAXDISK_TEST_POSTGRES is postgres://USER:PASS@HOST:PORT/DB");
    let rest = &url[at + 1..];
    let end = rest.find('/').unwrap_or(rest.len());
    (
        rest[..end].to_owned(),
        format!("{}@{{}}{}", &url[..at], &rest[end..]),
    )
}

#[test]
fn b03_database_down_answers_503_and_loses_nothing() {
    backends::run(Backend::Postgres, "database_down", || {
        let Store::Postgres(url) = backends::fresh_pg_store() else {
            unreachable!("fresh_pg_store answers a PostgreSQL store")
        };
        let (upstream, template) = split_host(&url);
        let relay = Relay::start(upstream);
        let via_relay = template.replace("{}", &relay.addr.to_string());
        let mut b = Bureau::open_store(&Store::Postgres(via_relay), Some(1)).unwrap();
        b.set_time(nov10()).unwrap();
        let api = Api::serve(b);
        api.register(TAXPAYER, &[InvoiceKind::Normal]);
        api.provision(SERIAL, TAXPAYER, 0).unwrap();
        api.register_key(SERIAL, &disk_key()).unwrap();
        let g = api.buy(SERIAL, InvoiceKind::Normal, 10).unwrap()[0]
            .body
            .clone();
        let r = api.upload(SERIAL, invoices(&g, 0, 1, 3, nov10()));
        assert_eq!(r.accepted, 3);

        relay.cut();
        let later = invoices(&g, 3, 4, 3, nov10());
        let refused = api
            .post::<_, UploadResult>(
                "/upload",
                &Upload {
                    serial: serial(SERIAL),
                    events: later.clone(),
                },
            )
            .unwrap_err();
        assert_eq!(
            (refused.status, refused.error.code.as_str()),
            (503, "unavailable")
        );
        assert!(
            refused.error.message.contains("nothing was changed"),
            "{}",
            refused.error.message
        );
        let health = api.get::<Health>("/health").unwrap_err();
        assert_eq!(
            (health.status, health.error.code.as_str()),
            (503, "unavailable")
        );

        relay.reopen();
        let d: DiskRecord = api.get(&format!("/disks/{SERIAL}")).unwrap();
        assert_eq!(
            d.through_counter, 3,
            "nothing of the refused upload was stored"
        );
        let r = api.upload(SERIAL, later);
        assert_eq!((r.accepted, r.rejected.len()), (3, 0), "{:?}", r.rejected);
        assert_eq!(r.receipt.unwrap().body.through_counter, 6);
    });
}
