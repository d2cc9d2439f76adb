//! The workflow over TCP against the real `taxdisk-sim serve` server (started in-process on
//! port 0) and the bureau over HTTP: the demo path (H1, D1, H2, H13, H8, H9, H11, H14) with the
//! disk behind a socket instead of in-process.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use std::net::SocketAddr;
use taxdisk_device_sim::bureau::{Bureau, BureauServer, spawn};
use taxdisk_device_sim::serve::{BureauSetup, ServeConfig, Server};
use taxdisk_device_sim::sim::SimConfig;
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::disk::DiskClient;
use taxdisk_host::store::{InvoiceState, Store};
use taxdisk_host::transport::{TcpTransport, Transport};
use taxdisk_host::workflow::Workflow;
use taxdisk_protocol::types::*;
use workflow_support::*;

/// A bureau over HTTP and a disk served by `taxdisk-sim serve`'s server (both on port 0), and a
/// TCP transport to the disk.
fn served(seed: u64) -> (BureauServer, Server, Box<dyn Transport + Send>) {
    let mut b = Bureau::open(None, Some(seed)).unwrap();
    b.set_time(nov10()).unwrap();
    let key = b.public_key();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let bureau = spawn(b, addr).unwrap();
    let server = Server::start(ServeConfig {
        sim: SimConfig::new(DeviceSerial::new(SERIAL).unwrap(), key, nov10()),
        run_free: false,
        disk_addr: addr,
        control_addr: addr,
        bureau: BureauSetup::Key(key),
        usbip: None,
    })
    .unwrap();
    let t = Box::new(TcpTransport::connect(&server.disk_addr().to_string()).unwrap());
    (bureau, server, t)
}

/// A client of `bureau` holding its administrator token: the test plays the tax office too.
fn office(bureau: &BureauServer) -> BureauClient {
    BureauClient::new(&bureau.url())
        .unwrap()
        .with_admin_token(Some(bureau.admin_token().to_owned()))
}

#[test]
fn h08_demo_path_over_tcp() {
    let (bureau, _server, t) = served(3);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("tcp.db")).unwrap();
    let mut wf = Workflow::new(store, DiskClient::new(t), Some(office(&bureau)));
    wf.initialize(&init_form(&bureau.url())).unwrap();
    wf.provision_disk(&registration(&all_limits()), 0).unwrap();
    let r = wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    wf.buy_rolls(InvoiceKind::Normal, 30).unwrap();
    let mut ids = Vec::new();
    for _ in 0..20 {
        let d = normal(&mut wf);
        let i = wf.issue(d).unwrap();
        assert!(i.uploaded, "{:?}", i.upload_note);
        ids.push(i.id);
    }
    wf.void(&ids[..2]).unwrap();
    wf.void_blank(InvoiceKind::Normal, 1).unwrap();
    let st = wf.status().unwrap();
    let k = st.kind(InvoiceKind::Normal).unwrap();
    assert_eq!(k.status.blank_left, 9);
    assert_eq!(k.status.pending_count, 0);
    assert_eq!(
        wf.store().invoice(ids[0]).unwrap().state,
        InvoiceState::Voided
    );
    let rep = wf.repair().unwrap();
    assert!(rep.issued.is_empty() && rep.abandoned.is_empty() && rep.voided.is_empty());
    wf.logout().unwrap();
}

/// A batch over TCP: parts of the batch are recorded and stored while the disk signs the
/// requests in flight, with lost, corrupted, duplicated and late answers armed on the server:
/// every draft issued once, every pending row resolved, the disk's journal and the store agree.
#[test]
fn h08_batch_over_tcp_overlaps_store_and_disk_and_survives_frame_faults() {
    use taxdisk_protocol::control::{ControlRequest, FrameFaultAction};
    let (bureau, server, t) = served(4);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("tcp.db")).unwrap();
    store
        .set_durability(taxdisk_host::store::Durability::Normal)
        .unwrap();
    let mut wf = Workflow::new(
        store,
        DiskClient::with_config(
            t,
            taxdisk_host::disk::ClientConfig {
                attempts: 6,
                timeout: std::time::Duration::from_millis(80),
                reconnect_pause: std::time::Duration::from_millis(5),
                session: None,
            },
        ),
        Some(office(&bureau)),
    );
    wf.initialize(&init_form(&bureau.url())).unwrap();
    wf.provision_disk(&registration(&all_limits()), 0).unwrap();
    wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    wf.buy_rolls(InvoiceKind::Normal, 100).unwrap();
    assert!(wf.disk().pipeline_depth() > 1);
    let actions = [
        FrameFaultAction::DropAnswer,
        FrameFaultAction::CorruptAnswer,
        FrameFaultAction::DuplicateAnswer,
        FrameFaultAction::DelayAnswer(120),
        FrameFaultAction::DropRequest,
    ];
    for (i, action) in actions.into_iter().enumerate() {
        let r = server.control(ControlRequest::FrameFault {
            nth: 7 + 9 * i as u32,
            action,
        });
        assert!(r.is_some());
    }
    let drafts: Vec<_> = (0..60).map(|_| normal(&mut wf)).collect();
    let results = wf.issue_batch(drafts).unwrap();
    let stats = wf.disk().stats();
    assert!(
        stats.retries >= 3 && stats.stale >= 1,
        "the faults were met: {stats:?}"
    );
    let mut numbers: Vec<u32> = results
        .iter()
        .map(|r| r.as_ref().unwrap().number.get())
        .collect();
    assert!(results.iter().all(|r| r.as_ref().unwrap().uploaded));
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 60, "sixty numbers, none doubled");
    let st = wf.status().unwrap();
    let k = st.kind(InvoiceKind::Normal).unwrap();
    assert_eq!((k.status.blank_left, k.status.pending_count), (40, 0));
    for r in &results {
        let row = wf.store().invoice(r.as_ref().unwrap().id).unwrap();
        assert_eq!(row.state, InvoiceState::Uploaded);
    }
    let rep = wf.repair().unwrap();
    assert!(rep.issued.is_empty() && rep.abandoned.is_empty(), "{rep:?}");
}
