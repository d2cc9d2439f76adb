//! The workflow over TCP against the real `taxdisk-sim serve` server (started in-process on
//! port 0) and the bureau over HTTP: the demo path (H1, D1, H2, H13, H8, H9, H11, H14) with the
//! disk behind a socket instead of in-process.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use std::net::SocketAddr;
use taxdisk_device_sim::bureau::{Bureau, spawn};
use taxdisk_device_sim::serve::{BureauSetup, ServeConfig, Server};
use taxdisk_device_sim::sim::SimConfig;
use taxdisk_host::disk::DiskClient;
use taxdisk_host::store::{InvoiceState, Store};
use taxdisk_host::transport::{TcpTransport, Transport};
use taxdisk_host::workflow::Workflow;
use taxdisk_protocol::types::*;
use workflow_support::*;

#[test]
fn h08_demo_path_over_tcp() {
    let mut b = Bureau::open(None, Some(3)).unwrap();
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
    })
    .unwrap();
    let t: Box<dyn Transport + Send> =
        Box::new(TcpTransport::connect(&server.disk_addr().to_string()).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("tcp.db")).unwrap();
    let mut wf = Workflow::new(store, DiskClient::new(t), None);
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
