//! [`Server`] used as a library (as benches and the workspace's end-to-end tests do): started on
//! 127.0.0.1 port 0, driven over TCP and in-process, shut down with connected clients, and
//! started again from the same image.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;

use serve_support::*;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use taxdisk_device_sim::serve::{BureauSetup, ControlClient, ServeConfig, ServeError, Server};
use taxdisk_device_sim::sim::SimConfig;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::sign;
use taxdisk_protocol::types::DiskState;
use taxdisk_protocol::{Request, Response};

const SESSION: u32 = 3;

fn config(image: &Path) -> ServeConfig {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let key = sign::public_key(&bureau_key());
    let mut sim = SimConfig::new(serial(), key, start_time());
    sim.flash_bytes = 1 << 20;
    sim.seed = 11;
    sim.image = Some(image.to_owned());
    ServeConfig {
        sim,
        run_free: false,
        disk_addr: any,
        control_addr: any,
        bureau: BureauSetup::Key(key),
        usbip: None,
    }
}

#[test]
fn shutdown_closes_clients_and_the_image_serves_again() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let server = Server::start(config(&image)).unwrap();
    assert_ne!(server.disk_addr().port(), 0);
    assert_eq!(server.ports().bureau, None);
    let mut conn = DiskConn::connect(server.disk_addr());
    provision_and_load(&mut conn, SESSION);
    let inv = issue(&mut conn, SESSION, 1);
    // In-process control and the control port act on the same disk.
    assert_eq!(
        server.control(ControlRequest::Advance(60)),
        Some(ControlResponse::Ok)
    );
    let mut ctl = ControlClient::connect(server.control_addr()).unwrap();
    assert_eq!(
        ctl.send(ControlRequest::GetClock).unwrap(),
        ControlResponse::Clock(start_time().plus_secs(60))
    );

    let started = Instant::now();
    server.shutdown().unwrap();
    // Connected clients see the end at once rather than hanging.
    conn.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut b = [0u8; 16];
    assert_eq!(conn.stream.read(&mut b).unwrap_or(0), 0);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(ctl.send(ControlRequest::GetClock).is_err());
    assert_eq!(std::fs::metadata(&image).unwrap().len(), 1 << 20);

    let server = Server::start(config(&image)).unwrap();
    let mut conn = DiskConn::connect(server.disk_addr());
    match conn.call(SESSION, Request::GetInfo(())) {
        Ok(Response::GetInfo(info)) => {
            assert_eq!(info.state, DiskState::Ready);
            assert_eq!(info.counter, inv.body.counter);
        }
        other => panic!("{other:?}"),
    }
    drop(server);
    // Dropping also stops it: the port no longer answers.
    let seq = conn.try_send(SESSION, &Request::Ping(1));
    assert!(seq.is_none() || conn.recv(seq.unwrap(), Duration::from_secs(2)).is_none());
}

#[test]
fn a_taken_port_is_a_bind_error_naming_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cfg = config(&dir.path().join("disk.img"));
    cfg.control_addr = taken.local_addr().unwrap();
    match Server::start(cfg) {
        Err(e @ ServeError::Bind { .. }) => {
            assert!(
                e.to_string()
                    .contains(&taken.local_addr().unwrap().to_string())
            );
        }
        other => panic!("bind error expected: {other:?}"),
    }
}
