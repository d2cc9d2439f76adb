//! Fuzzes frame decoding: the one-shot decoder, the streaming decoder fed in input-chosen
//! chunks, and request/response payload decoding for every command. Nothing may panic, and a
//! frame that decodes must re-encode to a frame that decodes to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taxdisk_protocol::frame::{self, FrameDecoder, MAX_ENCODED, MAX_FRAME};

fuzz_target!(|data: &[u8]| {
    let mut scratch = [0u8; MAX_FRAME];
    if let Ok((h, p)) = frame::decode_frame(data, &mut scratch) {
        if let Ok(req) = frame::decode_request(&h, p) {
            let mut out = [0u8; MAX_ENCODED];
            let n = frame::encode_request(h.seq, h.session, &req, &mut out).expect("re-encode");
            let mut s2 = [0u8; MAX_FRAME];
            let (h2, p2) = frame::decode_frame(&out[..n], &mut s2).expect("decode re-encoded");
            assert_eq!(frame::decode_request(&h2, p2).ok(), Some(req));
        }
        let _ = frame::decode_response(&h, p);
    }
    // Streaming: the first byte chooses the chunk size.
    let (chunk, rest) = match data.split_first() {
        Some((c, rest)) => ((*c as usize % 97) + 1, rest),
        None => return,
    };
    let mut dec = FrameDecoder::<MAX_ENCODED>::new();
    for c in rest.chunks(chunk) {
        dec.feed(c, |r| {
            if let Ok((h, p)) = r {
                let _ = frame::decode_request(&h, p);
                let _ = frame::decode_response(&h, p);
            }
        });
    }
});
