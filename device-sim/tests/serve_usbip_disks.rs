//! `taxdisk-sim serve --image A --image B --usbip`: several disks in one process, each with its
//! serial, its two TCP ports and its bus id on the one USB/IP port (issue 14).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;
mod usbip_client;

use serve_support::*;
use std::path::Path;
use taxdisk_device_sim::serve::ControlClient;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::{Request, Response};
use usbip_client::*;

/// The second disk's serial: the test serial + 1.
const SERIAL_2: &str = "661234567891";

fn image_args(images: &[&Path]) -> Vec<String> {
    images
        .iter()
        .flat_map(|p| ["--image".to_string(), p.display().to_string()])
        .collect()
}

/// The serial a disk reports over its disk protocol (GetInfo).
fn info_serial(r: Response) -> String {
    match r {
        Response::GetInfo(info) => info.serial.as_str().to_owned(),
        other => panic!("GetInfo answered {other:?}"),
    }
}

#[test]
fn two_images_are_two_disks_each_with_its_bus_id_serial_and_ports() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
    let sim = start_usbip(&image_args(&[&a, &b]));
    let addr = usbip_addr(&sim);

    // --print-ports names both; disk 0 stays in the top-level fields.
    let disks = &sim.ports.disks;
    assert_eq!(disks.len(), 2, "{disks:?}");
    assert_eq!(
        (disks[0].serial.as_str(), disks[1].serial.as_str()),
        (SERIAL, SERIAL_2)
    );
    assert_eq!(disks[0].bus_id.as_deref(), Some("1-1"));
    assert_eq!(disks[1].bus_id.as_deref(), Some("1-2"));
    assert_eq!(
        (disks[0].disk, disks[0].control),
        (sim.ports.disk, sim.ports.control)
    );
    assert_ne!(disks[0].disk, disks[1].disk);
    assert_ne!(disks[0].control, disks[1].control);

    // Two devices on the one USB/IP port.
    let listed: Vec<String> = devlist(addr).into_iter().map(|d| d.bus_id).collect();
    assert_eq!(listed, vec!["1-1".to_string(), "1-2".to_string()]);

    // Both imported at once, on two connections: each is its own disk.
    let (mut dev1, status) = import(addr, "1-1");
    assert_eq!(status, 0);
    let (mut dev2, status) = import(addr, "1-2");
    assert_eq!(status, 0);
    assert_eq!(dev1.serial_string(), SERIAL);
    assert_eq!(dev2.serial_string(), SERIAL_2);
    assert_eq!(dev1.call(1, Request::Ping(1), 512, 512), Response::Ping(1));
    assert_eq!(dev2.call(1, Request::Ping(2), 512, 512), Response::Ping(2));
    assert_eq!(
        info_serial(dev1.call(2, Request::GetInfo(()), 512, 4096)),
        SERIAL
    );
    assert_eq!(
        info_serial(dev2.call(2, Request::GetInfo(()), 512, 4096)),
        SERIAL_2
    );
    // The second disk's TCP port is the second disk too.
    let mut tcp2 = DiskConn::connect(disks[1].disk);
    assert_eq!(
        info_serial(tcp2.call(1, Request::GetInfo(())).unwrap()),
        SERIAL_2
    );

    // The second disk's control port unplugs only the second disk.
    let mut ctl2 = ControlClient::connect(disks[1].control).unwrap();
    assert_eq!(
        ctl2.send(ControlRequest::Plug(false)).unwrap(),
        ControlResponse::Ok
    );
    assert!(dev2.closed(), "the second disk's importer is closed");
    // Gone from the list (the first is imported, so not listed either), the first still
    // attached and answering.
    assert!(await_listed(addr, 0).is_empty());
    assert_eq!(dev1.call(3, Request::Ping(3), 512, 512), Response::Ping(3));
    assert_ne!(import(addr, "1-2").1, 0, "unplugged: refused");
    assert_eq!(
        ctl2.send(ControlRequest::Plug(true)).unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(await_listed(addr, 1)[0].bus_id, "1-2");
    let (mut dev2, status) = import(addr, "1-2");
    assert_eq!(status, 0);
    assert_eq!(
        info_serial(dev2.call(4, Request::GetInfo(()), 512, 4096)),
        SERIAL_2
    );

    // Each image is its own: both locked by this process, both synced at the end.
    let mut again = std::process::Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
        .args(base_args())
        .args(image_args(&[&b]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let end = std::time::Instant::now() + ANSWER_TIMEOUT;
    let status = loop {
        if let Some(st) = again.try_wait().unwrap() {
            break Some(st);
        }
        if std::time::Instant::now() > end {
            let _ = again.kill();
            let _ = again.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(
        status.is_some_and(|s| !s.success()),
        "the second image is locked: {status:?}"
    );
    drop((dev1, dev2));
    assert!(sim.terminate().success());
    for img in [&a, &b] {
        assert_eq!(std::fs::metadata(img).unwrap().len(), 1 << 20, "{img:?}");
    }
}

#[test]
fn explicit_ports_are_consecutive_and_overlapping_ranges_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
    // The default ports 7461 (disk) and 7462 (control) overlap for two disks: refused before
    // anything is bound.
    let mut args = vec!["serve".to_string(), "--bureau-key".into(), bureau_key_hex()];
    args.extend(image_args(&[&a, &b]));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taxdisk-sim"))
        .args(&args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("overlap"), "{err}");
    assert!(!a.exists(), "nothing was created");
}

#[test]
fn the_linux_usbip_tool_lists_both_disks() {
    let Some(tool) = usbip_tool_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
    let sim = start_usbip(&image_args(&[&a, &b]));
    let stdout = usbip_tool_list(&tool, &sim);
    for bus in ["1-1:", "1-2:"] {
        assert!(stdout.contains(bus), "{stdout}");
    }
    assert_eq!(stdout.matches("1209:0001").count(), 2, "{stdout}");
}
