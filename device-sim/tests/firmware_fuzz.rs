//! Untrusted input never panics the firmware: random bytes as frames, and well-framed requests
//! (valid CRC) with random payloads for every command id of the table.
// Helpers outside #[test] fns stop the test with the failed step.
#![allow(clippy::unwrap_used)]
mod firmware_support;
use firmware_support::*;
use proptest::prelude::*;
use taxdisk_protocol::frame::{Header, MAX_ENCODED, MAX_FRAME, decode_frame, encode_raw};
use taxdisk_protocol::{CommandId, FrameHandler, Request, WireError};

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn fuzz_random_bytes_get_no_answer_or_a_frame(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut d = Disk::stocked();
        let mut out = vec![0u8; 2 * MAX_ENCODED];
        let n = d.disk.handle_frame(&bytes, &mut out);
        if n > 0 {
            let mut scratch = [0u8; MAX_FRAME];
            prop_assert!(decode_frame(&out[..n], &mut scratch).is_ok());
        }
        // Still alive.
        prop_assert!(d.disk.request(S, Request::Ping(1)).is_ok());
    }

    #[test]
    fn fuzz_random_payloads_for_every_command(
        which in 0usize..CommandId::ALL.len(),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut d = Disk::stocked();
        let id = CommandId::ALL[which];
        let mut f = [0u8; MAX_ENCODED];
        let n = encode_raw(&Header::request(id, 9, S), &payload, &mut f).unwrap();
        let mut out = vec![0u8; 2 * MAX_ENCODED];
        let m = d.disk.handle_frame(&f[..n], &mut out);
        prop_assert!(m > 0, "a sound frame is always answered");
        let mut scratch = [0u8; MAX_FRAME];
        let (h, _) = decode_frame(&out[..m], &mut scratch).unwrap();
        prop_assert_eq!(h.seq, 9);
        if h.status != 0 {
            prop_assert!(WireError::from_code(h.status).is_some());
        }
        prop_assert!(d.disk.request(S, Request::Ping(1)).is_ok());
    }
}
