//! Bad input on either port of `taxdisk-sim serve` — garbage bytes, oversize frames, frames of
//! the wrong type, half frames and abrupt disconnects, too many connections — never kills the
//! server and never changes the disk: the same connection and new ones are answered afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;

use serve_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use taxdisk_device_sim::serve::{ControlClient, MAX_CONNECTIONS};
use taxdisk_protocol::control::{self, ControlRequest, ControlResponse};
use taxdisk_protocol::frame::{FrameType, Header, MAX_ENCODED, encode_raw, encode_request};
use taxdisk_protocol::{FrameDecoder, Request, Response};

const SESSION: u32 = 5;

/// Bytes from a fixed xorshift stream, zeros included (they end frames).
fn garbage(len: usize, mut x: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn assert_serving(sim: &mut Sim) {
    assert!(sim.alive(), "the server died");
    let mut conn = sim.disk();
    assert_eq!(
        conn.call(SESSION, Request::Ping(42)),
        Ok(Response::Ping(42))
    );
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    assert!(matches!(
        ctl.send(ControlRequest::GetClock).unwrap(),
        ControlResponse::Clock(_)
    ));
}

/// Reads one control answer frame from a raw stream.
fn read_control_answer(stream: &mut TcpStream) -> (Header, ControlResponse) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut dec = FrameDecoder::<MAX_ENCODED>::new();
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "control port closed the connection");
        let mut got = None;
        dec.feed(&buf[..n], |f| {
            if let Ok((h, p)) = f {
                got.get_or_insert_with(|| (h, control::decode_response(&h, p).unwrap()));
            }
        });
        if let Some(g) = got {
            return g;
        }
    }
}

#[test]
fn garbage_and_oversize_frames_on_the_disk_port_get_no_answer_and_the_stream_recovers() {
    let mut sim = Sim::start_default();
    let mut conn = sim.disk();
    // Garbage with zeros in it: several bad frames.
    conn.send_raw(&garbage(10_000, 0x9E37_79B9_7F4A_7C15));
    // One frame far over the limit, then its end.
    conn.send_raw(&vec![0x55; 5 * MAX_ENCODED]);
    conn.send_raw(&[0]);
    // A frame with a valid CRC that is a control frame: not for this port, no answer.
    let mut out = [0u8; MAX_ENCODED];
    let n = control::encode_request(1, &ControlRequest::PowerCycle, &mut out).unwrap();
    conn.send_raw(&out[..n]);
    // A response frame sent to the disk: no answer either.
    let resp = Header {
        frame_type: FrameType::Response,
        ..Header::request(taxdisk_protocol::CommandId::Ping, 1, SESSION)
    };
    let n = encode_raw(&resp, &[1, 2, 3], &mut out).unwrap();
    conn.send_raw(&out[..n]);
    // The same connection still works, and nothing above reached the disk's state.
    assert_eq!(conn.call(SESSION, Request::Ping(7)), Ok(Response::Ping(7)));
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    match ctl.send(ControlRequest::Stats).unwrap() {
        ControlResponse::Stats(s) => assert_eq!(s.power_cycles, 0, "control frame on disk port"),
        other => panic!("{other:?}"),
    }
    assert_serving(&mut sim);
}

#[test]
fn an_unknown_command_and_a_bad_payload_are_refused_not_fatal() {
    let mut sim = Sim::start_default();
    let mut conn = sim.disk();
    let mut out = [0u8; MAX_ENCODED];
    // Command 999 does not exist: the disk answers UnknownCommand.
    let h = Header {
        command: 999,
        ..Header::request(taxdisk_protocol::CommandId::Ping, 50, SESSION)
    };
    let n = encode_raw(&h, &[], &mut out).unwrap();
    conn.send_raw(&out[..n]);
    let mut dec = FrameDecoder::<MAX_ENCODED>::new();
    let mut buf = [0u8; 512];
    conn.stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut status = None;
    while status.is_none() {
        let k = conn.stream.read(&mut buf).unwrap();
        assert!(k > 0);
        dec.feed(&buf[..k], |f| {
            if let Ok((h, _)) = f {
                status = Some((h.seq, h.status));
            }
        });
    }
    assert_eq!(
        status,
        Some((50, taxdisk_protocol::WireError::UnknownCommand.code()))
    );
    // A Ping whose payload is cut short: Malformed.
    let n = encode_request(51, SESSION, &Request::Ping(0xFFFF_FFFF), &mut out).unwrap();
    let mut scratch = [0u8; taxdisk_protocol::frame::MAX_FRAME];
    let (hdr, payload) = taxdisk_protocol::frame::decode_frame(&out[..n], &mut scratch).unwrap();
    let cut = payload[..1].to_vec();
    let n = encode_raw(&hdr, &cut, &mut out).unwrap();
    conn.send_raw(&out[..n]);
    assert_eq!(
        conn.recv(51, ANSWER_TIMEOUT),
        Some(Err(taxdisk_protocol::WireError::Malformed.into()))
    );
    assert_serving(&mut sim);
}

#[test]
fn abrupt_disconnects_mid_frame_and_mid_answer_do_not_hurt() {
    let mut sim = Sim::start_default();
    let mut out = [0u8; MAX_ENCODED];
    for cut in [1usize, 5, 20] {
        // Half a frame, then gone.
        let n = encode_request(1, SESSION, &Request::Ping(1), &mut out).unwrap();
        let mut s = TcpStream::connect(sim.ports.disk).unwrap();
        s.write_all(&out[..cut.min(n - 1)]).unwrap();
        drop(s);
        // Same on the control port.
        let n = control::encode_request(1, &ControlRequest::GetClock, &mut out).unwrap();
        let mut s = TcpStream::connect(sim.ports.control).unwrap();
        s.write_all(&out[..cut.min(n - 1)]).unwrap();
        drop(s);
    }
    // A request whose answer is delayed, and the peer leaves before it comes: the server's
    // write fails on a closed socket.
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    ctl.send(ControlRequest::FrameFault {
        nth: 1,
        action: control::FrameFaultAction::DelayAnswer(300),
    })
    .unwrap();
    let mut conn = sim.disk();
    conn.send(SESSION, &Request::Ping(3));
    conn.stream.shutdown(std::net::Shutdown::Both).unwrap();
    drop(conn);
    std::thread::sleep(Duration::from_millis(500));
    // A connection that sends a flood and closes without reading anything.
    let mut s = TcpStream::connect(sim.ports.disk).unwrap();
    for i in 0..200u32 {
        let n = encode_request(i, SESSION, &Request::Ping(i), &mut out).unwrap();
        if s.write_all(&out[..n]).is_err() {
            break;
        }
    }
    drop(s);
    assert_serving(&mut sim);
}

#[test]
fn the_control_port_answers_wrong_frames_with_an_error_and_skips_garbage() {
    let mut sim = Sim::start_default();
    let mut s = TcpStream::connect(sim.ports.control).unwrap();
    s.write_all(&garbage(5000, 0x1234_5678_9ABC_DEF1)).unwrap();
    s.write_all(&vec![0x77; 3 * MAX_ENCODED]).unwrap();
    s.write_all(&[0]).unwrap();
    // A disk request on the control port: answered with an Error naming the frame type.
    let mut out = [0u8; MAX_ENCODED];
    let n = encode_request(9, SESSION, &Request::Ping(1), &mut out).unwrap();
    s.write_all(&out[..n]).unwrap();
    let (h, resp) = read_control_answer(&mut s);
    assert_eq!((h.seq, h.frame_type), (9, FrameType::ControlResponse));
    match resp {
        ControlResponse::Error(m) => assert!(m.contains("frame type 0"), "{m}"),
        other => panic!("{other:?}"),
    }
    // A control frame whose payload is not a ControlRequest.
    let hdr = Header {
        frame_type: FrameType::ControlRequest,
        command: 0,
        seq: 10,
        session: 0,
        status: 0,
        detail: 0,
    };
    let n = encode_raw(&hdr, &[0xEE, 0xEE], &mut out).unwrap();
    s.write_all(&out[..n]).unwrap();
    let (h, resp) = read_control_answer(&mut s);
    assert_eq!(h.seq, 10);
    assert!(matches!(resp, ControlResponse::Error(m) if m.contains("malformed")));
    // The same connection then serves a real request.
    let n = control::encode_request(11, &ControlRequest::Advance(60), &mut out).unwrap();
    s.write_all(&out[..n]).unwrap();
    let (h, resp) = read_control_answer(&mut s);
    assert_eq!((h.seq, resp), (11, ControlResponse::Ok));
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    assert_eq!(
        ctl.send(ControlRequest::GetClock).unwrap(),
        ControlResponse::Clock(start_time().plus_secs(60))
    );
    assert_serving(&mut sim);
}

/// Idle connections cannot lock the disk port out (issue 17: 64 idle connections did): a
/// new client past the limit is served at once, and the port's oldest connection is closed
/// to make room.
#[test]
fn a_new_client_is_served_when_idle_connections_fill_the_port() {
    let mut sim = Sim::start_default();
    let mut held: Vec<TcpStream> = (0..MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(sim.ports.disk).unwrap())
        .collect();
    // Let the server register all of them before the next one.
    std::thread::sleep(Duration::from_millis(300));
    let mut conn = sim.disk();
    let seq = conn.send(SESSION, &Request::Ping(5));
    assert_eq!(
        conn.recv(seq, Duration::from_secs(5)),
        Some(Ok(Response::Ping(5))),
        "the new client was not served"
    );
    // The oldest held connection was closed: its read sees the end.
    let oldest = &mut held[0];
    oldest
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut b = [0u8; 8];
    assert_eq!(oldest.read(&mut b).unwrap_or(0), 0);
    // The control port has its own budget.
    let mut ctl = ControlClient::connect(sim.ports.control).unwrap();
    assert_eq!(
        ctl.send(ControlRequest::Advance(1)).unwrap(),
        ControlResponse::Ok
    );
    drop(held);
    assert_serving(&mut sim);
}

/// COBS-encodes `raw` and appends the delimiter (the test's own encoder, so it can build frames
/// the protocol crate would not).
fn cobs_frame(raw: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    let (mut code_at, mut code) = (0usize, 1u8);
    for &b in raw {
        if b == 0 {
            out[code_at] = code;
            code_at = out.len();
            out.push(0);
            code = 1;
        } else {
            out.push(b);
            code += 1;
            if code == 0xFF {
                out[code_at] = code;
                code_at = out.len();
                out.push(0);
                code = 1;
            }
        }
    }
    out[code_at] = code;
    out.push(0);
    out
}

#[test]
fn a_frame_of_another_protocol_version_reaches_the_disk_and_is_refused() {
    let mut sim = Sim::start_default();
    let mut conn = sim.disk();
    // Version 2, a Ping with sequence 33, a valid CRC.
    let mut raw = vec![2u8, 0];
    raw.extend_from_slice(&(taxdisk_protocol::CommandId::Ping as u16).to_le_bytes());
    raw.extend_from_slice(&33u32.to_le_bytes());
    raw.extend_from_slice(&SESSION.to_le_bytes());
    raw.extend_from_slice(&[0; 6]);
    // Postcard's varint of the nonce 7.
    raw.push(7);
    let crc = taxdisk_protocol::frame::crc32(&raw);
    raw.extend_from_slice(&crc.to_le_bytes());
    conn.send_raw(&cobs_frame(&raw));
    assert_eq!(
        conn.recv(33, ANSWER_TIMEOUT),
        Some(Err(taxdisk_protocol::WireError::UnsupportedVersion.into()))
    );
    // The encoder agrees with the protocol's on a version-1 frame.
    raw[0] = 1;
    let body = raw.len() - 4;
    let crc = taxdisk_protocol::frame::crc32(&raw[..body]);
    raw[body..].copy_from_slice(&crc.to_le_bytes());
    let mut out = [0u8; MAX_ENCODED];
    let n = encode_request(33, SESSION, &Request::Ping(7), &mut out).unwrap();
    assert_eq!(cobs_frame(&raw), out[..n].to_vec());
    assert_serving(&mut sim);
}
