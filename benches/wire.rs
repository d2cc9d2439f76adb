//! The frame codec (protocol/src/frame.rs): encode and decode of an Issue request, of the Issue
//! answer (a signed invoice) and of a full ListPending answer (4 signed journal events, the
//! largest frame the upload path moves); and the throughput of the streaming decoders over a
//! byte stream of mixed frames read in 512-byte chunks, as TCP reads arrive: the protocol's
//! `FrameDecoder` alone, and the host's `FrameAssembler` (the decoder plus a queue of owned
//! frames) that every transport uses.
//!
//! `cargo bench --bench wire`
// Benches may unwrap: a failed setup is a broken bench, and a panic says where.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;
use taxdisk_host::transport::FrameAssembler;
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::frame::{
    FrameDecoder, Header, MAX_ENCODED, MAX_FRAME, decode_frame, decode_request, decode_response,
    encode_request, encode_response,
};
use taxdisk_protocol::sign;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{CommandId, Request, Response};

const SESSION: u32 = 0x5EED_0001;
const NOW: Timestamp = Timestamp(1_794_276_000); // 2026-11-10 10:00 CST

fn issue_request() -> IssueRequest {
    IssueRequest {
        request_id: [0xA5; 16],
        kind: InvoiceKind::Electronic,
        variant: Variant::Standard,
        buyer: Some(TaxpayerId::new("110108123456789").unwrap()),
        amount: Fen(1_234_567),
        tax: Fen(74_074),
        content_digest: [0x3C; 32],
        red: None,
        oil: None,
    }
}

fn signed_invoice(key: &sign::Sm2SigningKey, n: u32) -> Signed<IssuedInvoice> {
    let body = IssuedInvoice {
        serial: DeviceSerial::new("661234567890").unwrap(),
        machine: 0,
        kind: InvoiceKind::Electronic,
        variant: Variant::Standard,
        code: InvoiceCode::new("035002600111").unwrap(),
        number: InvoiceNumber::new(n).unwrap(),
        counter: u64::from(n),
        time: NOW,
        request_id: [n as u8; 16],
        content_digest: [0x3C; 32],
        buyer: Some(TaxpayerId::new("91350100M000100Y43").unwrap()),
        amount: Fen(1_234_567),
        tax: Fen(74_074),
        red: None,
        oil: None,
    };
    Signed::sign(body, key).unwrap()
}

fn list_pending_answer(key: &sign::Sm2SigningKey) -> Response {
    Response::ListPending(
        (1..=4)
            .map(|n| JournalEvent::Invoice(signed_invoice(key, n)))
            .collect(),
    )
}

fn encode_answer(command: CommandId, seq: u32, resp: Response) -> Vec<u8> {
    let mut out = [0u8; MAX_ENCODED];
    let req_header = Header::request(command, seq, SESSION);
    let n = encode_response(&req_header, &Ok(resp), &mut out).unwrap();
    out[..n].to_vec()
}

fn codec(c: &mut Criterion) {
    let key = sign::signing_key(&[9; 32]).unwrap();
    let issue = Request::Issue(issue_request());
    let mut out = [0u8; MAX_ENCODED];
    let n = encode_request(7, SESSION, &issue, &mut out).unwrap();
    let issue_frame = out[..n].to_vec();
    let issue_answer = encode_answer(
        CommandId::Issue,
        7,
        Response::Issue(signed_invoice(&key, 1)),
    );
    let pending_answer = encode_answer(CommandId::ListPending, 8, list_pending_answer(&key));

    let mut g = c.benchmark_group("wire");
    g.sample_size(30);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(1));

    g.bench_function("issue_request/encode", |b| {
        b.iter(|| {
            let mut out = [0u8; MAX_ENCODED];
            let n = encode_request(7, SESSION, black_box(&issue), &mut out).unwrap();
            black_box((out, n));
        })
    });
    g.bench_function("issue_request/decode", |b| {
        b.iter(|| {
            let mut scratch = [0u8; MAX_FRAME];
            let (h, p) = decode_frame(black_box(&issue_frame), &mut scratch).unwrap();
            black_box(decode_request(&h, p).unwrap());
        })
    });

    let answer = Ok(Response::Issue(signed_invoice(&key, 1)));
    let header = Header::request(CommandId::Issue, 7, SESSION);
    g.bench_function("issue_answer/encode", |b| {
        b.iter(|| {
            let mut out = [0u8; MAX_ENCODED];
            let n = encode_response(&header, black_box(&answer), &mut out).unwrap();
            black_box((out, n));
        })
    });
    g.bench_function("issue_answer/decode", |b| {
        b.iter(|| {
            let mut scratch = [0u8; MAX_FRAME];
            let (h, p) = decode_frame(black_box(&issue_answer), &mut scratch).unwrap();
            black_box(decode_response(&h, p).unwrap().unwrap());
        })
    });

    let pending = Ok(list_pending_answer(&key));
    let header = Header::request(CommandId::ListPending, 8, SESSION);
    g.bench_function("list_pending_answer/encode", |b| {
        b.iter(|| {
            let mut out = [0u8; MAX_ENCODED];
            let n = encode_response(&header, black_box(&pending), &mut out).unwrap();
            black_box((out, n));
        })
    });
    g.bench_function("list_pending_answer/decode", |b| {
        b.iter(|| {
            let mut scratch = [0u8; MAX_FRAME];
            let (h, p) = decode_frame(black_box(&pending_answer), &mut scratch).unwrap();
            black_box(decode_response(&h, p).unwrap().unwrap());
        })
    });
    g.finish();
    println!(
        "wire: encoded sizes: Issue request {} B, Issue answer {} B, ListPending answer (4 events) {} B",
        issue_frame.len(),
        issue_answer.len(),
        pending_answer.len()
    );

    // A stream of mixed frames: per Issue answer, one request; every 8th a ListPending answer.
    let mut stream = Vec::new();
    let mut frames = 0u64;
    for i in 0..256 {
        stream.extend_from_slice(&issue_frame);
        stream.extend_from_slice(&issue_answer);
        frames += 2;
        if i % 8 == 0 {
            stream.extend_from_slice(&pending_answer);
            frames += 1;
        }
    }
    let mut g = c.benchmark_group("wire_stream");
    g.sample_size(30);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Bytes(stream.len() as u64));
    let mut decoder: Box<FrameDecoder> = Box::new(FrameDecoder::new());
    g.bench_function("frame_decoder_512B_chunks", |b| {
        b.iter(|| {
            let mut ok = 0u64;
            for chunk in black_box(&stream).chunks(512) {
                decoder.feed(chunk, |f| {
                    if let Ok((h, p)) = f {
                        black_box((h, p));
                        ok += 1;
                    }
                });
            }
            assert_eq!(ok, frames);
        })
    });
    let mut assembler = FrameAssembler::new();
    g.bench_function("host_frame_assembler_512B_chunks", |b| {
        b.iter(|| {
            let mut ok = 0u64;
            for chunk in black_box(&stream).chunks(512) {
                assembler.feed(chunk);
                while let Some(f) = assembler.pop() {
                    black_box(f.unwrap());
                    ok += 1;
                }
            }
            assert_eq!(ok, frames);
        })
    });
    g.finish();
    println!(
        "wire_stream: {} bytes, {frames} frames per iteration",
        stream.len()
    );
}

criterion_group!(benches, codec);
criterion_main!(benches);
