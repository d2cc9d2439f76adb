//! Property tests: encode-then-decode is identity for every command with random contents, and
//! decoding arbitrary bytes (frames and payloads of every command) never panics. This is also
//! the fallback for machines where cargo-fuzz cannot run.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use heapless::Vec as HVec;
use proptest::prelude::*;
use taxdisk_protocol::WireError;
use taxdisk_protocol::command::*;
use taxdisk_protocol::frame::{self, FrameDecoder, Header, MAX_ENCODED, MAX_FRAME, Refusal};
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::*;
use taxdisk_protocol::validate::{code_kind_suffix, info_form_check_digit, uscc_check_char};

fn kind() -> impl Strategy<Value = InvoiceKind> {
    prop::sample::select(InvoiceKind::ALL.to_vec())
}
fn fen() -> impl Strategy<Value = Fen> {
    any::<i64>().prop_map(Fen)
}
fn ts() -> impl Strategy<Value = Timestamp> {
    (0u64..4_000_000_000).prop_map(Timestamp)
}
fn period() -> impl Strategy<Value = Period> {
    (2000u16..2100, 1u8..=12).prop_map(|(y, m)| Period::new(y, m).unwrap())
}
fn digits(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, n)
        .prop_map(|v| v.into_iter().map(|d| (b'0' + d) as char).collect())
}
fn serial() -> impl Strategy<Value = DeviceSerial> {
    digits(12).prop_map(|s| DeviceSerial::new(&s).unwrap())
}
fn code() -> impl Strategy<Value = InvoiceCode> {
    (kind(), digits(9)).prop_map(|(k, d)| match code_kind_suffix(k) {
        None => InvoiceCode::new(&format!("{}13{}", &d[..7], "0")).unwrap(),
        Some(sfx) => InvoiceCode::new(&format!("0{}{sfx}", &d[..9])).unwrap(),
    })
}
fn number() -> impl Strategy<Value = InvoiceNumber> {
    (1u32..=99_999_999).prop_map(|n| InvoiceNumber::new(n).unwrap())
}
fn tin() -> impl Strategy<Value = TaxpayerId> {
    let alpha = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    prop_oneof![
        prop::collection::vec(prop::sample::select(alpha.to_vec()), 17).prop_map(|mut v| {
            let c = uscc_check_char(&v).unwrap();
            v.push(c);
            TaxpayerId::new(std::str::from_utf8(&v).unwrap()).unwrap()
        }),
        digits(15).prop_map(|s| TaxpayerId::new(&s).unwrap()),
        digits(20).prop_map(|s| TaxpayerId::new(&s).unwrap()),
    ]
}
fn form() -> impl Strategy<Value = InfoFormNumber> {
    (digits(8), 1u8..=12, digits(5)).prop_map(|(a, m, b)| {
        let mut s = format!("{a}{m:02}{b}").into_bytes();
        let c = info_form_check_digit(&s);
        s.push(c);
        InfoFormNumber::new(std::str::from_utf8(&s).unwrap()).unwrap()
    })
}
fn sig() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(r, s)| Signature { r, s })
}
fn signed<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Signed<T>> {
    (s, sig()).prop_map(|(body, signature)| Signed { body, signature })
}
fn name() -> impl Strategy<Value = CompanyName> {
    "[a-z\u{4e00}-\u{4e20}]{1,30}".prop_map(|s| CompanyName::new(&s).unwrap())
}
fn pin() -> impl Strategy<Value = Pin> {
    "[!-~]{6,16}".prop_map(|s| Pin::new(&s).unwrap())
}
fn limits() -> impl Strategy<Value = KindLimits> {
    (kind(), fen(), any::<u32>(), fen()).prop_map(
        |(kind, single_limit, offline_hours, offline_amount)| KindLimits {
            kind,
            single_limit,
            offline_hours,
            offline_amount,
        },
    )
}
fn limits_vec() -> impl Strategy<Value = HVec<KindLimits, 6>> {
    prop::collection::vec(limits(), 0..=6).prop_map(|v| HVec::from_slice(&v).unwrap())
}
fn red() -> impl Strategy<Value = Option<RedRef>> {
    prop_oneof![
        Just(None),
        form().prop_map(|f| Some(RedRef::InfoForm(f))),
        (code(), number()).prop_map(|(code, number)| Some(RedRef::Original { code, number })),
    ]
}
fn oil() -> impl Strategy<Value = Option<OilUse>> {
    prop::option::of(
        (any::<u8>(), any::<i64>()).prop_map(|(category, milli_quantity)| OilUse {
            category,
            milli_quantity,
        }),
    )
}
fn variant() -> impl Strategy<Value = Variant> {
    prop_oneof![
        Just(Variant::Standard),
        Just(Variant::Purchase),
        Just(Variant::Export)
    ]
}
fn invoice() -> impl Strategy<Value = IssuedInvoice> {
    (
        (
            serial(),
            0u16..1000,
            kind(),
            variant(),
            code(),
            number(),
            any::<u64>(),
            ts(),
        ),
        (
            any::<[u8; 16]>(),
            any::<[u8; 32]>(),
            prop::option::of(tin()),
            fen(),
            fen(),
            red(),
            oil(),
        ),
    )
        .prop_map(
            |(
                (serial, machine, kind, variant, code, number, counter, time),
                (request_id, content_digest, buyer, amount, tax, red, oil),
            )| {
                IssuedInvoice {
                    serial,
                    machine,
                    kind,
                    variant,
                    code,
                    number,
                    counter,
                    time,
                    request_id,
                    content_digest,
                    buyer,
                    amount,
                    tax,
                    red,
                    oil,
                }
            },
        )
}
fn void_event() -> impl Strategy<Value = VoidEvent> {
    (
        serial(),
        any::<u64>(),
        ts(),
        kind(),
        code(),
        number(),
        any::<u64>(),
    )
        .prop_map(
            |(serial, counter, time, kind, code, number, invoice_counter)| VoidEvent {
                serial,
                counter,
                time,
                kind,
                code,
                number,
                invoice_counter,
            },
        )
}
fn blank_void() -> impl Strategy<Value = BlankVoidEvent> {
    (
        serial(),
        any::<u64>(),
        ts(),
        kind(),
        code(),
        number(),
        any::<u32>(),
    )
        .prop_map(
            |(serial, counter, time, kind, code, first, count)| BlankVoidEvent {
                serial,
                counter,
                time,
                kind,
                code,
                first,
                count,
            },
        )
}
fn event() -> impl Strategy<Value = JournalEvent> {
    prop_oneof![
        signed(invoice()).prop_map(JournalEvent::Invoice),
        signed(void_event()).prop_map(JournalEvent::Void),
        signed(blank_void()).prop_map(JournalEvent::BlankVoid),
    ]
}
fn oil_entry() -> impl Strategy<Value = OilStockEntry> {
    (
        any::<u8>(),
        prop_oneof![Just(OilUnit::Litre), Just(OilUnit::Tonne)],
        any::<i64>(),
    )
        .prop_map(|(category, unit, milli_quantity)| OilStockEntry {
            category,
            unit,
            milli_quantity,
        })
}
fn change() -> impl Strategy<Value = UpdateChange> {
    prop_oneof![
        limits().prop_map(UpdateChange::Limits),
        (kind(), any::<bool>()).prop_map(|(k, b)| UpdateChange::Authorize(k, b)),
        prop::option::of(ts()).prop_map(|t| UpdateChange::Oil(OilRole::Dealer, t)),
        Just(UpdateChange::UsedCar(UsedCarRole::Auction)),
        name().prop_map(UpdateChange::CompanyName),
        tin().prop_map(UpdateChange::TaxpayerId),
    ]
}

/// A random request of every command.
fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        any::<u32>().prop_map(Request::Ping),
        Just(Request::GetInfo(())),
        pin().prop_map(Request::Login),
        (any::<[u8; 16]>(), pin(), pin()).prop_map(|(request_id, old, new)| {
            Request::ChangePin(ChangePin {
                request_id,
                old,
                new,
            })
        }),
        Just(Request::Logout(())),
        signed(
            (
                serial(),
                tin(),
                name(),
                0u16..1000,
                limits_vec(),
                ts(),
                ts(),
                ts()
            )
                .prop_map(
                    |(
                        serial,
                        taxpayer_id,
                        company_name,
                        machine,
                        kinds,
                        lock_time,
                        upload_deadline,
                        issued_at,
                    )| ProvisionToken {
                        serial,
                        taxpayer_id,
                        company_name,
                        machine,
                        kinds,
                        lock_time,
                        upload_deadline,
                        issued_at
                    }
                )
        )
        .prop_map(Request::Provision),
        kind().prop_map(Request::GetStatus),
        Just(Request::GetPublicKey(())),
        signed(
            (
                serial(),
                any::<u32>(),
                prop::collection::vec(change(), 0..=8),
                ts()
            )
                .prop_map(|(serial, seq, c, issued_at)| {
                    UpdateToken {
                        serial,
                        seq,
                        changes: HVec::from_slice(&c).unwrap(),
                        issued_at,
                    }
                })
        )
        .prop_map(Request::ApplyUpdate),
        signed(
            (serial(), any::<u32>(), ts(), ts()).prop_map(|(serial, seq, time, issued_at)| {
                ClockToken {
                    serial,
                    seq,
                    time,
                    issued_at,
                }
            })
        )
        .prop_map(Request::SetClock),
        (prop::option::of(kind()), any::<u8>())
            .prop_map(|(kind, skip)| Request::ListRolls(ListRolls { kind, skip })),
        signed(
            (
                serial(),
                any::<u32>(),
                kind(),
                code(),
                number(),
                any::<u32>(),
                ts()
            )
                .prop_map(|(serial, seq, kind, code, first, count, issued_at)| {
                    RollGrant {
                        serial,
                        seq,
                        kind,
                        code,
                        first,
                        count,
                        issued_at,
                    }
                })
        )
        .prop_map(Request::LoadRolls),
        (any::<[u8; 16]>(), kind(), code(), number()).prop_map(
            |(request_id, kind, code, first)| Request::ReturnRoll(ReturnRoll {
                request_id,
                kind,
                code,
                first
            })
        ),
        (any::<[u8; 16]>(), kind(), any::<u32>()).prop_map(|(request_id, kind, count)| {
            Request::VoidBlank(VoidBlank {
                request_id,
                kind,
                count,
            })
        }),
        (
            (
                any::<[u8; 16]>(),
                kind(),
                variant(),
                prop::option::of(tin())
            ),
            (fen(), fen(), any::<[u8; 32]>(), red(), oil())
        )
            .prop_map(
                |((request_id, kind, variant, buyer), (amount, tax, content_digest, red, oil))| {
                    Request::Issue(IssueRequest {
                        request_id,
                        kind,
                        variant,
                        buyer,
                        amount,
                        tax,
                        content_digest,
                        red,
                        oil,
                    })
                }
            ),
        (any::<[u8; 16]>(), kind(), code(), number()).prop_map(
            |(request_id, kind, code, number)| Request::Void(VoidRequest {
                request_id,
                invoice: InvoiceRef { kind, code, number },
            })
        ),
        (kind(), code(), number()).prop_map(|(kind, code, number)| Request::ReadInvoice(
            InvoiceRef { kind, code, number }
        )),
        prop::option::of(kind()).prop_map(Request::LastIssued),
        (any::<u64>(), any::<u8>()).prop_map(|(after_counter, max)| Request::ListPending(
            ListPending { after_counter, max }
        )),
        signed(
            (serial(), any::<u64>(), ts()).prop_map(|(serial, through_counter, issued_at)| {
                UploadReceipt {
                    serial,
                    through_counter,
                    issued_at,
                }
            })
        )
        .prop_map(Request::AckUpload),
        period().prop_map(Request::CopyTax),
        signed(
            (
                serial(),
                any::<u32>(),
                period(),
                ts(),
                ts(),
                limits_vec(),
                ts()
            )
                .prop_map(
                    |(serial, seq, period, next_lock_time, upload_deadline, limits, issued_at)| {
                        ClearCardToken {
                            serial,
                            seq,
                            period,
                            next_lock_time,
                            upload_deadline,
                            limits,
                            issued_at,
                        }
                    }
                )
        )
        .prop_map(Request::ClearCard),
        Just(Request::OilStock(())),
        signed((serial(), any::<u32>(), oil_entry(), ts()).prop_map(
            |(serial, seq, stock, issued_at)| OilGrant {
                serial,
                seq,
                stock,
                issued_at
            }
        ))
        .prop_map(Request::LoadOilStock),
        (any::<[u8; 16]>(), oil_entry()).prop_map(|(request_id, stock)| {
            Request::ReturnOilStock(ReturnOil { request_id, stock })
        }),
        signed((serial(), any::<u32>(), pin(), ts()).prop_map(
            |(serial, seq, new_pin, issued_at)| UnblockToken {
                serial,
                seq,
                new_pin,
                issued_at
            }
        ))
        .prop_map(Request::Unblock),
        any::<u64>().prop_map(Request::ReadEvent),
        signed(
            (serial(), period(), ts()).prop_map(|(serial, period, issued_at)| {
                ReportReceipt {
                    serial,
                    period,
                    issued_at,
                }
            })
        )
        .prop_map(Request::ApplyReportReceipt),
    ]
}

/// Random responses of the commands whose answers carry the richest data.
fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        signed(invoice()).prop_map(Response::Issue),
        prop::collection::vec(event(), 0..=EVENTS_PER_PAGE)
            .prop_map(|v| Response::ListPending(HVec::from_slice(&v).unwrap())),
        (signed(invoice()), any::<bool>(), any::<bool>()).prop_map(
            |(invoice, voided, uploaded)| Response::ReadInvoice(InvoiceView {
                invoice,
                voided,
                uploaded
            })
        ),
        (event(), any::<bool>())
            .prop_map(|(event, uploaded)| Response::ReadEvent(EventView { event, uploaded })),
        signed(void_event()).prop_map(Response::Void),
        signed(blank_void()).prop_map(Response::VoidBlank),
        any::<u32>().prop_map(Response::AckUpload),
        prop::collection::vec(oil_entry(), 0..=MAX_OIL_CATEGORIES)
            .prop_map(|v| Response::OilStock(HVec::from_slice(&v).unwrap())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn request_encode_then_decode_is_identity(req in request(), seq in any::<u32>(), session in any::<u32>()) {
        let mut out = [0u8; MAX_ENCODED];
        let n = frame::encode_request(seq, session, &req, &mut out).unwrap();
        let mut scratch = [0u8; MAX_FRAME];
        let (h, p) = frame::decode_frame(&out[..n], &mut scratch).unwrap();
        prop_assert_eq!(h, Header::request(req.id(), seq, session));
        prop_assert_eq!(frame::decode_request(&h, p), Ok(req));
    }

    #[test]
    fn response_encode_then_decode_is_identity(resp in response(), seq in any::<u32>()) {
        let h = Header::request(resp.id(), seq, 1);
        let mut out = [0u8; MAX_ENCODED];
        let n = frame::encode_response(&h, &Ok(resp.clone()), &mut out).unwrap();
        let mut scratch = [0u8; MAX_FRAME];
        let (h2, p) = frame::decode_frame(&out[..n], &mut scratch).unwrap();
        prop_assert_eq!(frame::decode_response(&h2, p), Ok(Ok(resp)));
    }

    #[test]
    fn refusals_round_trip(i in 0..WireError::ALL.len(), detail in any::<u32>(), cmd in 1u16..=27) {
        let error = WireError::ALL[i];
        let h = Header::request(CommandId::from_u16(cmd).unwrap(), 9, 9);
        let mut out = [0u8; MAX_ENCODED];
        let n = frame::encode_response(&h, &Err(Refusal { error, detail }), &mut out).unwrap();
        let mut scratch = [0u8; MAX_FRAME];
        let (h2, p) = frame::decode_frame(&out[..n], &mut scratch).unwrap();
        prop_assert_eq!(frame::decode_response(&h2, p), Ok(Err(Refusal { error, detail })));
    }

    #[test]
    fn decoding_random_bytes_never_panics(data in prop::collection::vec(any::<u8>(), 0..2048), chunk in 1usize..600) {
        let mut scratch = [0u8; MAX_FRAME];
        if let Ok((h, p)) = frame::decode_frame(&data, &mut scratch) {
            let _ = frame::decode_request(&h, p);
            let _ = frame::decode_response(&h, p);
        }
        let mut dec = FrameDecoder::<MAX_ENCODED>::new();
        for c in data.chunks(chunk) {
            dec.feed(c, |r| if let Ok((h, p)) = r { let _ = frame::decode_request(&h, p); });
        }
    }

    #[test]
    fn decoding_random_payloads_of_every_command_never_panics(data in prop::collection::vec(any::<u8>(), 0..600)) {
        for &id in CommandId::ALL {
            let _ = Request::decode_payload(id, &data);
            let _ = Response::decode_payload(id, &data);
        }
    }

    #[test]
    fn a_flipped_bit_anywhere_is_detected(req in request(), bit in any::<prop::sample::Index>()) {
        // Any single bit flip in the encoded frame (delimiter excluded) is refused: CRC-32
        // detects every single-bit error of the decoded frame, COBS catches the rest.
        let mut out = [0u8; MAX_ENCODED];
        let n = frame::encode_request(1, 1, &req, &mut out).unwrap();
        let i = bit.index((n - 1) * 8);
        out[i / 8] ^= 1 << (i % 8);
        let mut scratch = [0u8; MAX_FRAME];
        let r = frame::decode_frame(&out[..n], &mut scratch);
        prop_assert!(r.is_err(), "flip of bit {} decoded: {:?}", i, r.map(|(h, _)| h));
    }
}

#[test]
fn sample_requests_cover_every_command() {
    for &id in CommandId::ALL {
        assert_eq!(common::sample_request(id).id(), id);
        assert_eq!(common::sample_response(id).id(), id);
    }
}
