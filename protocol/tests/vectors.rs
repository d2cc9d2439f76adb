//! Golden byte vectors: the encoded frame of a sample request and response of every command,
//! in `tests/vectors/`, checked both ways (emit equals the file, parse of the file equals the
//! sample). They are the contract for other implementations. After an intended wire change,
//! regenerate with `UPDATE_VECTORS=1 cargo test -p taxdisk-protocol --test vectors` and review
//! the diff.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::path::PathBuf;
use taxdisk_protocol::command::CommandId;
use taxdisk_protocol::error::WireError;
use taxdisk_protocol::frame::{self, Header, MAX_ENCODED, MAX_FRAME, Refusal};

const SEQ: u32 = 0x0102_0304;
const SESSION: u32 = 0xA5A5_0001;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn file_name(id: CommandId, what: &str) -> String {
    format!("{:02}_{}.{what}.hex", id as u16, id.name())
}

/// Compares `bytes` with the vector file, or writes it when UPDATE_VECTORS is set.
fn check(name: &str, bytes: &[u8]) -> Vec<u8> {
    let path = dir().join(name);
    let hex_text = hex::encode(bytes);
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        std::fs::write(&path, format!("{hex_text}\n")).unwrap();
    }
    let stored = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{name}: {e} (run with UPDATE_VECTORS=1 to create)"));
    assert_eq!(
        stored.trim(),
        hex_text,
        "{name}: emitted bytes differ from the golden vector"
    );
    hex::decode(stored.trim()).unwrap()
}

#[test]
fn every_request_matches_its_vector_both_ways() {
    for &id in CommandId::ALL {
        let req = common::sample_request(id);
        let mut out = [0u8; MAX_ENCODED];
        let n = frame::encode_request(SEQ, SESSION, &req, &mut out).unwrap();
        let stored = check(&file_name(id, "request"), &out[..n]);
        let mut scratch = [0u8; MAX_FRAME];
        let (h, p) = frame::decode_frame(&stored, &mut scratch).unwrap();
        assert_eq!(h, Header::request(id, SEQ, SESSION));
        assert_eq!(frame::decode_request(&h, p), Ok(req), "{id:?}");
    }
}

#[test]
fn every_response_matches_its_vector_both_ways() {
    for &id in CommandId::ALL {
        let resp = common::sample_response(id);
        let req_header = Header::request(id, SEQ, SESSION);
        let mut out = [0u8; MAX_ENCODED];
        let n = frame::encode_response(&req_header, &Ok(resp.clone()), &mut out).unwrap();
        let stored = check(&file_name(id, "response"), &out[..n]);
        let mut scratch = [0u8; MAX_FRAME];
        let (h, p) = frame::decode_frame(&stored, &mut scratch).unwrap();
        assert_eq!(h, req_header.answer(0, 0));
        assert_eq!(frame::decode_response(&h, p), Ok(Ok(resp)), "{id:?}");
    }
}

#[test]
fn error_response_vector() {
    let req_header = Header::request(CommandId::Login, SEQ, SESSION);
    let refusal = Refusal {
        error: WireError::WrongPin,
        detail: 7,
    };
    let mut out = [0u8; MAX_ENCODED];
    let n = frame::encode_response(&req_header, &Err(refusal), &mut out).unwrap();
    let stored = check("error_WrongPin.response.hex", &out[..n]);
    let mut scratch = [0u8; MAX_FRAME];
    let (h, p) = frame::decode_frame(&stored, &mut scratch).unwrap();
    assert_eq!(frame::decode_response(&h, p), Ok(Err(refusal)));
}

#[test]
fn largest_samples_fit_the_frame() {
    // The fullest answers (a page of pending events, the disk info) stay well inside MAX_FRAME.
    for &id in CommandId::ALL {
        let mut buf = [0u8; MAX_FRAME];
        let n = common::sample_response(id)
            .encode_payload(&mut buf)
            .unwrap()
            .len();
        assert!(n < frame::MAX_PAYLOAD / 2 + 300, "{id:?} payload {n} bytes");
    }
}
