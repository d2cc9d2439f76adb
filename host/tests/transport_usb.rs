//! The USB transport's pure parts (packetization and reassembly, checked against the protocol's
//! streaming decoder) and the clear error when no disk is attached.
#![allow(clippy::unwrap_used)]

use taxdisk_host::transport::TransportError;
use taxdisk_host::transport::usb::{
    UsbDiskInfo, UsbSelector, UsbTransport, list_disks, no_disk_line, packetize, reassemble, select,
};
use taxdisk_protocol::frame::{FrameDecoder, MAX_ENCODED, encode_request};
use taxdisk_protocol::types::{Fen, InvoiceKind, Variant};
use taxdisk_protocol::usb::{MAX_PACKET_FULL_SPEED, MAX_PACKET_HIGH_SPEED};
use taxdisk_protocol::{DecodeError, Request};

fn frame(seq: u32, req: &Request) -> Vec<u8> {
    let mut buf = [0u8; MAX_ENCODED];
    let n = encode_request(seq, 0xABCD, req, &mut buf).unwrap();
    buf[..n].to_vec()
}

/// A big request: an Issue, about 120 bytes encoded.
fn issue(seq: u32) -> Vec<u8> {
    let r = taxdisk_protocol::command::IssueRequest {
        request_id: [seq as u8; 16],
        kind: InvoiceKind::Normal,
        variant: Variant::Standard,
        buyer: None,
        amount: Fen(123_456_789),
        tax: Fen(16_049_382),
        content_digest: [0x5A; 32],
        red: None,
        oil: None,
    };
    frame(seq, &Request::Issue(r))
}

/// What the protocol's decoder makes of the whole stream at once: (seq, payload) or error.
fn reference(stream: &[u8]) -> Vec<Result<(u32, Vec<u8>), DecodeError>> {
    let mut d = FrameDecoder::<MAX_ENCODED>::new();
    let mut out = Vec::new();
    d.feed(stream, |r| out.push(r.map(|(h, p)| (h.seq, p.to_vec()))));
    out
}

fn via_packets(stream: &[u8], mp: usize) -> Vec<Result<(u32, Vec<u8>), DecodeError>> {
    reassemble(packetize(stream, mp))
        .into_iter()
        .map(|r| r.map(|f| (f.header.seq, f.payload)))
        .collect()
}

#[test]
fn packets_never_exceed_the_max_packet_size_and_concatenate_to_the_frame() {
    let f = issue(1);
    for mp in [1, 8, MAX_PACKET_FULL_SPEED, MAX_PACKET_HIGH_SPEED] {
        let p = packetize(&f, mp);
        assert!(p.iter().all(|x| !x.is_empty() && x.len() <= mp));
        assert_eq!(p.concat(), f);
        assert_eq!(p.len(), f.len().div_ceil(mp));
    }
    // A zero max packet size does not loop forever or panic.
    assert_eq!(packetize(&f, 0).len(), f.len());
}

#[test]
fn frames_crossing_packet_boundaries_reassemble_like_the_stream_decoder() {
    let mut stream = Vec::new();
    for seq in 1..=20 {
        stream.extend(issue(seq));
        stream.extend(frame(100 + seq, &Request::Ping(seq)));
    }
    assert!(stream.len() > 4 * MAX_PACKET_HIGH_SPEED);
    let want = reference(&stream);
    assert_eq!(want.len(), 40);
    assert!(want.iter().all(Result::is_ok));
    for mp in [MAX_PACKET_FULL_SPEED, MAX_PACKET_HIGH_SPEED, 1, 63, 65] {
        assert_eq!(via_packets(&stream, mp), want, "max packet {mp}");
    }
}

#[test]
fn several_frames_in_one_packet() {
    for (count, mp) in [(2u32, MAX_PACKET_FULL_SPEED), (12, MAX_PACKET_HIGH_SPEED)] {
        let pings: Vec<u8> = (1..=count)
            .flat_map(|s| frame(s, &Request::Ping(s)))
            .collect();
        assert!(pings.len() <= mp, "{count} pings fit one packet of {mp}");
        assert_eq!(packetize(&pings, mp).len(), 1);
        let got = reassemble(packetize(&pings, mp));
        let seqs: Vec<u32> = got.into_iter().map(|f| f.unwrap().header.seq).collect();
        assert_eq!(seqs, (1..=count).collect::<Vec<_>>());
    }
}

#[test]
fn a_corrupted_frame_is_reported_and_the_next_one_still_arrives() {
    let mut bad = issue(1);
    bad[10] ^= 0x40;
    if bad[10] == 0 {
        bad[10] = 1;
    }
    let mut stream = bad;
    stream.extend(issue(2));
    let want = reference(&stream);
    for mp in [MAX_PACKET_FULL_SPEED, MAX_PACKET_HIGH_SPEED] {
        let got = via_packets(&stream, mp);
        assert_eq!(got, want);
        assert!(got[0].is_err());
        assert_eq!(got[1].as_ref().map(|x| x.0), Ok(2));
    }
}

#[test]
fn a_trailing_partial_frame_is_not_returned() {
    let f = issue(9);
    let got = reassemble(packetize(&f[..f.len() - 1], MAX_PACKET_FULL_SPEED));
    assert!(got.is_empty());
}

#[test]
fn no_disk_attached_is_one_clear_line() {
    assert_eq!(
        no_disk_line(),
        "no tax disk found on USB (VID 1209 PID 0001); is it plugged in?"
    );
    // This machine has no tax disk; libusb may even be unavailable (container). Either way:
    // NoDevice with one line naming the VID and PID, never a panic.
    match UsbTransport::open(UsbSelector::First) {
        Err(TransportError::NoDevice(line)) => {
            assert!(line.starts_with("no tax disk found on USB"), "{line}");
            assert!(line.contains("VID 1209 PID 0001"), "{line}");
            assert!(!line.contains('\n'));
        }
        Err(e) => panic!("expected NoDevice, got {e}"),
        Ok(t) => panic!("found a disk on this machine: {t:?}"),
    }
    match list_disks() {
        Ok(v) => assert!(v.is_empty()),
        Err(TransportError::NoDevice(line)) => assert!(line.contains("USB")),
        Err(e) => panic!("unexpected {e}"),
    }
    let by_serial = UsbTransport::open(UsbSelector::Serial("661234567890".into()));
    assert!(matches!(by_serial, Err(TransportError::NoDevice(_))));
}

#[test]
fn opening_usb_from_a_spec_string_without_a_disk_is_no_device() {
    let spec: taxdisk_host::transport::TransportSpec = "usb:serial=661234567890".parse().unwrap();
    match taxdisk_host::transport::open(&spec) {
        Err(TransportError::NoDevice(line)) => assert!(line.contains("USB"), "{line}"),
        Err(e) => panic!("expected NoDevice, got {e}"),
        Ok(_) => panic!("found a disk on this machine"),
    }
}

fn attached() -> Vec<UsbDiskInfo> {
    let disk = |bus, address, serial: Option<&str>| UsbDiskInfo {
        bus,
        address,
        serial: serial.map(str::to_string),
        product: Some("taxdisk VAT tax-control disk".into()),
        problem: serial.is_none().then(|| "permission denied".to_string()),
    };
    vec![
        disk(1, 4, Some("661234567890")),
        disk(1, 7, None),
        disk(3, 2, Some("669999999999")),
    ]
}

#[test]
fn several_disks_are_picked_by_serial_or_bus_and_address() {
    let a = attached();
    assert_eq!(select(&UsbSelector::First, &a).unwrap(), 0);
    let by_serial = UsbSelector::Serial("669999999999".into());
    assert_eq!(select(&by_serial, &a).unwrap(), 2);
    let by_addr = UsbSelector::BusAddress { bus: 1, address: 7 };
    assert_eq!(select(&by_addr, &a).unwrap(), 1);
    match select(&UsbSelector::Serial("660000000000".into()), &a) {
        Err(TransportError::NoDevice(line)) => {
            assert!(line.contains("serial 660000000000"), "{line}");
            assert!(
                line.contains("bus 1 address 4: serial 661234567890"),
                "{line}"
            );
            assert!(line.contains("[permission denied]"), "{line}");
            assert!(!line.contains('\n'));
        }
        other => panic!("{other:?}"),
    }
    match select(&UsbSelector::First, &[]) {
        Err(TransportError::NoDevice(line)) => assert_eq!(line, no_disk_line()),
        other => panic!("{other:?}"),
    }
}

proptest::proptest! {
    /// Any mix of frames and garbage, cut into packets of any size, reassembles exactly as the
    /// protocol's decoder reads the whole stream.
    #[test]
    fn any_packetization_reassembles_like_the_stream_decoder(
        parts in proptest::collection::vec((0u8..3, proptest::collection::vec(0u8..=255, 0..40)), 1..30),
        mp in 1usize..700,
    ) {
        let mut stream = Vec::new();
        for (i, (what, junk)) in parts.iter().enumerate() {
            match what {
                0 => stream.extend(issue(i as u32)),
                1 => stream.extend(frame(i as u32, &Request::Ping(i as u32))),
                _ => stream.extend(junk),
            }
        }
        proptest::prop_assert_eq!(via_packets(&stream, mp), reference(&stream));
    }
}
