//! `taxdisk-sim serve --usbip`: the simulated disk exported as a USB device over USB/IP, spoken
//! to from here with USB/IP messages written by hand (OP_REQ_DEVLIST, OP_REQ_IMPORT,
//! USBIP_CMD_SUBMIT on ep 0 and the bulk endpoints), and listed by the Linux `usbip` tool where
//! it is installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;
mod usbip_client;

use serve_support::*;
use std::io::Read;
use taxdisk_device_sim::serve::ControlClient;
use taxdisk_protocol::control::{ControlRequest, ControlResponse};
use taxdisk_protocol::frame::{Header, MAX_ENCODED, MAX_PAYLOAD, decode_response, encode_raw};
use taxdisk_protocol::types::Pin;
use taxdisk_protocol::usb::{
    EP_IN, EP_OUT, INTERFACE_CLASS, INTERFACE_PROTOCOL, INTERFACE_SUBCLASS, MANUFACTURER,
    MAX_PACKET_FULL_SPEED, MAX_PACKET_HIGH_SPEED, PID, PRODUCT, VID,
};
use taxdisk_protocol::{CommandId, FrameDecoder, Request, Response, WireError};
use usbip_client::*;

fn start() -> Sim {
    let mut args = base_args();
    args.extend(["--usbip".to_string(), "127.0.0.1:0".to_string()]);
    Sim::start(&args)
}

#[test]
fn devlist_and_descriptors_describe_the_disk() {
    let sim = start();
    let addr = usbip_addr(&sim);
    let list = devlist(addr);
    assert_eq!(list.len(), 1, "{list:?}");
    let d = &list[0];
    assert_eq!(d.bus_id, BUS_ID);
    assert_eq!((d.vid, d.pid), (VID, PID));
    assert_eq!(d.speed, SPEED_HIGH);
    assert_eq!(d.num_interfaces, 1);
    assert_eq!(
        d.interfaces,
        vec![[INTERFACE_CLASS, INTERFACE_SUBCLASS, INTERFACE_PROTOCOL]]
    );

    let (mut dev, status) = import(addr, BUS_ID);
    assert_eq!(status, 0);
    // Device descriptor.
    let desc = dev.descriptor(1, 0, 0, 18);
    assert_eq!(desc.len(), 18);
    assert_eq!(&desc[..2], &[18, 1]);
    assert_eq!(u16::from_le_bytes([desc[2], desc[3]]), 0x0200, "bcdUSB");
    assert_eq!(desc[4], 0, "class defined by the interface");
    assert_eq!(desc[7], 64, "bMaxPacketSize0");
    assert_eq!(u16::from_le_bytes([desc[8], desc[9]]), VID);
    assert_eq!(u16::from_le_bytes([desc[10], desc[11]]), PID);
    assert_eq!(
        u16::from_le_bytes([desc[12], desc[13]]),
        0x0100,
        "bcdDevice"
    );
    assert_eq!(desc[17], 1, "one configuration");
    let (i_manufacturer, i_product, i_serial) = (desc[14], desc[15], desc[16]);
    assert!(i_serial != 0, "the disk has a serial string");
    // Strings: languages, then the serial, product and manufacturer in en-US.
    assert_eq!(dev.descriptor(3, 0, 0, 255), vec![4, 3, 0x09, 0x04]);
    let string = |dev: &mut Imported, i| {
        let s = dev.descriptor(3, i, 0x0409, 255);
        assert_eq!((s[0] as usize, s[1]), (s.len(), 3));
        s[2..].to_vec()
    };
    assert_eq!(string(&mut dev, i_serial), utf16le(SERIAL));
    assert_eq!(string(&mut dev, i_product), utf16le(PRODUCT));
    assert_eq!(string(&mut dev, i_manufacturer), utf16le(MANUFACTURER));
    // Configuration: one vendor-specific interface, bulk OUT 0x01 and IN 0x81 of 512 bytes.
    let cfg = dev.descriptor(2, 0, 0, 255);
    assert_eq!(usize::from(u16::from_le_bytes([cfg[2], cfg[3]])), cfg.len());
    assert_eq!(cfg.len(), 9 + 9 + 7 + 7);
    assert_eq!(cfg[4], 1, "one interface");
    let intf = &cfg[9..18];
    assert_eq!(intf[1], 4);
    assert_eq!(intf[4], 2, "two endpoints");
    assert_eq!(
        [intf[5], intf[6], intf[7]],
        [INTERFACE_CLASS, INTERFACE_SUBCLASS, INTERFACE_PROTOCOL]
    );
    let ep = |d: &[u8]| (d[1], d[2], d[3], u16::from_le_bytes([d[4], d[5]]));
    let mp = MAX_PACKET_HIGH_SPEED as u16;
    assert_eq!(ep(&cfg[18..25]), (5, EP_OUT, 2, mp));
    assert_eq!(ep(&cfg[25..32]), (5, EP_IN, 2, mp));
    // A short read of the device descriptor (the kernel's first 8 bytes) is cut, not refused.
    assert_eq!(dev.descriptor(1, 0, 0, 8), desc[..8].to_vec());
}

#[test]
fn bulk_frames_reach_the_disk_across_packets_and_come_back_whole_and_in_order() {
    let sim = start();
    let (mut dev, status) = import(usbip_addr(&sim), BUS_ID);
    assert_eq!(status, 0);
    let mp = MAX_PACKET_HIGH_SPEED;
    let fs = MAX_PACKET_FULL_SPEED;

    // The host polls before any answer is ready: the IN URB completes with no data.
    assert_eq!(dev.bulk_in(mp as u32), Vec::<u8>::new());
    // Ping in one OUT URB, its answer in one IN URB.
    let ping = request_frame(1, &Request::Ping(0xC0FFEE));
    dev.bulk_out(&ping, mp);
    let (r, raw, urbs) = dev.answer(1, mp as u32);
    assert_eq!(r, Ok(Response::Ping(0xC0FFEE)));
    assert_eq!(urbs, 1);
    assert_eq!(*raw.last().unwrap(), 0, "ends at the frame delimiter");

    // Provisioning: a large request in full-speed packets, its answer read in 64-byte URBs
    // (it needs several: no byte lost or reordered between them).
    let seq = 2;
    let frame = request_frame(seq, &Request::Provision(provision_token()));
    assert!(frame.len() > 2 * fs, "{} bytes", frame.len());
    dev.bulk_out(&frame, fs);
    let (r, raw, urbs) = dev.answer(seq, fs as u32);
    assert!(matches!(r, Ok(Response::Provision(_))), "{r:?}");
    assert!(
        raw.len() > fs && urbs > 1,
        "{} bytes in {urbs} URBs",
        raw.len()
    );

    // Login and a roll, then an invoice: its signed answer also crosses 64-byte URBs.
    let pin = Pin::new(PIN).unwrap();
    assert_eq!(
        dev.call(3, Request::Login(pin), mp, 4096),
        Response::Login(())
    );
    assert!(matches!(
        dev.call(4, Request::LoadRolls(roll_grant(1, 1, 50)), mp, 4096),
        Response::LoadRolls(_)
    ));
    let frame = request_frame(5, &Request::Issue(issue_request(1)));
    dev.bulk_out(&frame, mp);
    let (r, raw, urbs) = dev.answer(5, fs as u32);
    assert!(matches!(r, Ok(Response::Issue(_))), "{r:?}");
    assert!(urbs > 1, "{} bytes in {urbs} URBs", raw.len());

    // An IN URB submitted before the OUT that it answers: empty now, the answer waits for the
    // next one.
    assert!(dev.bulk_in(mp as u32).is_empty());
    let frame = request_frame(6, &Request::Ping(6));
    dev.bulk_out(&frame, mp);
    assert_eq!(dev.answer(6, mp as u32).0, Ok(Response::Ping(6)));

    // A frame of the largest size (a Ping whose payload is padded to MAX_PAYLOAD) crosses
    // several high-speed packets; the disk answers it (Malformed: the padding does not decode).
    let mut body = vec![0x55u8; MAX_PAYLOAD];
    body[0] = 7;
    let mut big = vec![0u8; MAX_ENCODED];
    let n = encode_raw(
        &Header::request(CommandId::Ping, 7, SESSION),
        &body,
        &mut big,
    )
    .unwrap();
    big.truncate(n);
    assert!(n > 3 * mp, "{n} bytes");
    dev.bulk_out(&big, mp);
    let (r, _, _) = dev.answer(7, mp as u32);
    assert_eq!(r.map_err(|e| e.error), Err(WireError::Malformed));

    // Two frames in one OUT URB, answers read back 7 bytes at a time: both whole, in order.
    let mut two = request_frame(8, &Request::Ping(8));
    two.extend(request_frame(9, &Request::Ping(9)));
    dev.bulk_out(&two, two.len());
    let mut dec: Box<FrameDecoder<MAX_ENCODED>> = Box::new(FrameDecoder::new());
    let mut got = Vec::new();
    while got.len() < 2 {
        let d = dev.bulk_in(7);
        assert!(!d.is_empty(), "answers were queued before this URB");
        dec.feed(&d, |f| {
            let (h, p) = f.unwrap();
            got.push((h.seq, decode_response(&h, p).unwrap()));
        });
    }
    assert_eq!(
        got,
        vec![(8, Ok(Response::Ping(8))), (9, Ok(Response::Ping(9)))]
    );
    assert!(dev.bulk_in(mp as u32).is_empty(), "nothing else queued");
}

#[test]
fn usb_and_tcp_share_one_disk_and_its_session_rule() {
    let sim = start();
    let (mut dev, status) = import(usbip_addr(&sim), BUS_ID);
    assert_eq!(status, 0);
    let mut tcp = sim.disk();
    // Provisioned and logged in over TCP by another host session...
    provision_and_load(&mut tcp, SESSION + 1);
    // ...so the USB host's session is Busy for commands that need the disk (D14).
    let frame = request_frame(1, &Request::Login(Pin::new(PIN).unwrap()));
    dev.bulk_out(&frame, MAX_PACKET_HIGH_SPEED);
    let (r, _, _) = dev.answer(1, 4096);
    assert_eq!(r.map_err(|e| e.error), Err(WireError::Busy));
    // Frame faults armed on the control port apply to USB frames too: the next one is lost.
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    let fault = ControlRequest::FrameFault {
        nth: 1,
        action: taxdisk_protocol::control::FrameFaultAction::DropAnswer,
    };
    assert_eq!(ctl.send(fault).unwrap(), ControlResponse::Ok);
    dev.bulk_out(&request_frame(2, &Request::Ping(2)), 64);
    dev.bulk_out(&request_frame(3, &Request::Ping(3)), 64);
    let (r, raw, _) = dev.answer(3, 4096);
    assert_eq!(r, Ok(Response::Ping(3)));
    // Only the answer to 3 came: the one to 2 was dropped by the fault.
    let mut dec: Box<FrameDecoder<MAX_ENCODED>> = Box::new(FrameDecoder::new());
    let mut seqs = Vec::new();
    dec.feed(&raw, |f| seqs.push(f.unwrap().0.seq));
    assert_eq!(seqs, vec![3]);
}

#[test]
fn unplug_takes_the_device_away_and_plug_brings_it_back() {
    let sim = start();
    let addr = usbip_addr(&sim);
    let (mut dev, status) = import(addr, BUS_ID);
    assert_eq!(status, 0);
    assert_eq!(
        dev.call(1, Request::Ping(1), 64, 512),
        Response::Ping(1),
        "attached and answering"
    );
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    assert_eq!(
        ctl.send(ControlRequest::Plug(false)).unwrap(),
        ControlResponse::Ok
    );
    // The attached host loses the device: its connection is closed.
    let mut rest = Vec::new();
    let n = dev.s.read_to_end(&mut rest).unwrap();
    assert_eq!(n, 0, "connection closed");
    // Gone from the list, and an import is refused.
    assert!(await_listed(addr, 0).is_empty());
    let (_, status) = import(addr, BUS_ID);
    assert_ne!(status, 0, "import of an unplugged disk");
    // Plugged in again: listed, attachable, answering (it booted from its flash).
    assert_eq!(
        ctl.send(ControlRequest::Plug(true)).unwrap(),
        ControlResponse::Ok
    );
    assert_eq!(await_listed(addr, 1)[0].bus_id, BUS_ID);
    let (mut dev, status) = import(addr, BUS_ID);
    assert_eq!(status, 0);
    assert!(dev.bulk_in(512).is_empty(), "nothing left from before");
    assert_eq!(dev.call(2, Request::Ping(2), 512, 512), Response::Ping(2));

    // Again and again, with a device list and an import racing each unplug (they must be
    // answered, the import refused): the export's unplug could deadlock with the closing
    // connection inside the usbip crate (every device list after it hung), and an import
    // could take the disk between its importer's end and its removal from the list.
    let mut attached = Some(dev);
    for round in 0..10u32 {
        let mut dev = attached.take().unwrap_or_else(|| {
            let (dev, status) = import(addr, BUS_ID);
            assert_eq!(status, 0, "round {round}");
            dev
        });
        let seq = 10 + round;
        assert_eq!(
            dev.call(seq, Request::Ping(seq), 512, 512),
            Response::Ping(seq)
        );
        let racer = std::thread::spawn(move || {
            devlist(addr);
            import_racing_unplug(addr, BUS_ID);
        });
        assert_eq!(
            ctl.send(ControlRequest::Plug(false)).unwrap(),
            ControlResponse::Ok
        );
        let mut rest = Vec::new();
        assert_eq!(dev.s.read_to_end(&mut rest).unwrap(), 0, "round {round}");
        // Attached or unplugged, the disk is not to be imported twice.
        racer
            .join()
            .expect("the racing list and import were answered, and not imported");
        assert!(await_listed(addr, 0).is_empty(), "round {round}");
        assert_eq!(
            ctl.send(ControlRequest::Plug(true)).unwrap(),
            ControlResponse::Ok
        );
        assert_eq!(await_listed(addr, 1)[0].bus_id, BUS_ID, "round {round}");
    }
}

/// A power cycle reboots the disk behind its USB/IP attachment (the login is gone, see
/// `serve/usbip`): the importing connection stays and the disk answers on it, so a suite that
/// cycles the power over USB keeps its disk. Unplug/plug is the disconnect (tested above).
#[test]
fn power_cycle_reboots_the_disk_behind_its_attachment() {
    let sim = start();
    let addr = usbip_addr(&sim);
    let (mut dev, status) = import(addr, BUS_ID);
    assert_eq!(status, 0);
    assert_eq!(dev.call(1, Request::Ping(1), 64, 512), Response::Ping(1));
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    for round in 0..3u32 {
        assert_eq!(
            ctl.send(ControlRequest::PowerCycle).unwrap(),
            ControlResponse::Ok
        );
        let seq = 2 + round;
        assert_eq!(
            dev.call(seq, Request::Ping(seq), 512, 512),
            Response::Ping(seq),
            "round {round}: the same attachment answers"
        );
    }
    assert_eq!(devlist(addr).len(), 0, "still imported, so not listed");
}

#[test]
fn the_linux_usbip_tool_lists_the_disk() {
    let Some(tool) = usbip_tool_or_skip() else {
        return;
    };
    let sim = start();
    let stdout = usbip_tool_list(&tool, &sim);
    assert!(stdout.contains("1209:0001"), "{stdout}");
    assert!(stdout.contains(&format!("{BUS_ID}:")), "{stdout}");
    assert!(stdout.contains("(ff/54/01)"), "{stdout}");
}
