//! Sample values of every request and response, shared by the golden-vector and property tests.
#![allow(dead_code, clippy::unwrap_used)]

use heapless::Vec;
use taxdisk_protocol::command::*;
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::*;

pub fn serial() -> DeviceSerial {
    DeviceSerial::new("661234567890").unwrap()
}
pub fn tin() -> TaxpayerId {
    TaxpayerId::new("91350100M000100Y43").unwrap()
}
pub fn code() -> InvoiceCode {
    InvoiceCode::new("031001600104").unwrap()
}
pub fn special_code() -> InvoiceCode {
    InvoiceCode::new("3100153130").unwrap()
}
pub fn number(n: u32) -> InvoiceNumber {
    InvoiceNumber::new(n).unwrap()
}
pub fn sig() -> Signature {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    for i in 0..32 {
        r[i] = i as u8;
        s[i] = 0xff - i as u8;
    }
    Signature { r, s }
}
pub fn pk() -> PublicKey {
    PublicKey {
        x: [0x11; 32],
        y: [0x22; 32],
    }
}
pub fn t0() -> Timestamp {
    Timestamp(1_795_668_730)
}
pub fn period() -> Period {
    Period::new(2026, 11).unwrap()
}
pub fn limits(kind: InvoiceKind) -> KindLimits {
    KindLimits {
        kind,
        single_limit: Fen(10_000_000),
        offline_hours: 72,
        offline_amount: Fen(50_000_000),
    }
}
pub fn signed<T>(body: T) -> Signed<T> {
    Signed {
        body,
        signature: sig(),
    }
}
pub fn invoice() -> IssuedInvoice {
    IssuedInvoice {
        serial: serial(),
        machine: 0,
        kind: InvoiceKind::Normal,
        variant: Variant::Standard,
        code: code(),
        number: number(1234),
        counter: 77,
        time: t0(),
        request_id: [0xAB; 16],
        content_digest: [0xCD; 32],
        buyer: Some(tin()),
        amount: Fen(100_000),
        tax: Fen(13_000),
        red: None,
        oil: None,
    }
}
pub fn red_invoice() -> IssuedInvoice {
    IssuedInvoice {
        kind: InvoiceKind::Special,
        code: special_code(),
        amount: Fen(-100_000),
        tax: Fen(-13_000),
        red: Some(RedRef::InfoForm(
            InfoFormNumber::new("4403012611000013").unwrap(),
        )),
        oil: Some(OilUse {
            category: 2,
            milli_quantity: 1_500_000,
        }),
        ..invoice()
    }
}
pub fn void_event() -> VoidEvent {
    VoidEvent {
        serial: serial(),
        counter: 78,
        time: t0(),
        kind: InvoiceKind::Normal,
        code: code(),
        number: number(1234),
        invoice_counter: 77,
    }
}
pub fn blank_void() -> BlankVoidEvent {
    BlankVoidEvent {
        serial: serial(),
        counter: 79,
        time: t0(),
        kind: InvoiceKind::Roll,
        code: code(),
        first: number(5000),
        count: 3,
    }
}
pub fn roll() -> Roll {
    Roll {
        kind: InvoiceKind::Normal,
        code: code(),
        first: number(1),
        count: 250,
        used: 17,
    }
}
pub fn oil_entry() -> OilStockEntry {
    OilStockEntry {
        category: 2,
        unit: OilUnit::Litre,
        milli_quantity: 2_000_000_000,
    }
}
pub fn view() -> InvoiceView {
    InvoiceView {
        invoice: signed(invoice()),
        voided: false,
        uploaded: true,
    }
}

/// One sample request per command; the exhaustive match makes a new command fail to compile
/// until it has a sample (and so a golden vector).
pub fn sample_request(id: CommandId) -> Request {
    match id {
        CommandId::Ping => Request::Ping(0xDEAD_BEEF),
        CommandId::GetInfo => Request::GetInfo(()),
        CommandId::Login => Request::Login(Pin::new(Pin::FACTORY).unwrap()),
        CommandId::ChangePin => Request::ChangePin(ChangePin {
            request_id: [0xC4; 16],
            old: Pin::new("88888888").unwrap(),
            new: Pin::new("12345678").unwrap(),
        }),
        CommandId::Logout => Request::Logout(()),
        CommandId::Provision => Request::Provision(signed(ProvisionToken {
            serial: serial(),
            taxpayer_id: tin(),
            company_name: CompanyName::new("厦门示例贸易有限公司").unwrap(),
            machine: 0,
            kinds: Vec::from_slice(&[
                limits(InvoiceKind::Special),
                limits(InvoiceKind::Electronic),
            ])
            .unwrap(),
            lock_time: Timestamp(1_797_350_400),
            upload_deadline: Timestamp(1_797_350_400),
            issued_at: t0(),
        })),
        CommandId::GetStatus => Request::GetStatus(InvoiceKind::Electronic),
        CommandId::GetPublicKey => Request::GetPublicKey(()),
        CommandId::ApplyUpdate => Request::ApplyUpdate(signed(UpdateToken {
            serial: serial(),
            seq: 3,
            changes: Vec::from_slice(&[
                UpdateChange::Limits(limits(InvoiceKind::Normal)),
                UpdateChange::Authorize(InvoiceKind::Roll, true),
                UpdateChange::Oil(OilRole::Dealer, Some(Timestamp(1_830_000_000))),
                UpdateChange::UsedCar(UsedCarRole::Market),
                UpdateChange::CompanyName(CompanyName::new("厦门示例贸易集团有限公司").unwrap()),
                UpdateChange::TaxpayerId(TaxpayerId::new("110108123456789").unwrap()),
            ])
            .unwrap(),
            issued_at: t0(),
        })),
        CommandId::SetClock => Request::SetClock(signed(ClockToken {
            serial: serial(),
            seq: 1,
            time: Timestamp(1_795_700_000),
            issued_at: t0(),
        })),
        CommandId::ListRolls => Request::ListRolls(ListRolls {
            kind: Some(InvoiceKind::Normal),
            skip: 0,
        }),
        CommandId::LoadRolls => Request::LoadRolls(signed(RollGrant {
            serial: serial(),
            seq: 1,
            kind: InvoiceKind::Normal,
            code: code(),
            first: number(1),
            count: 250,
            issued_at: t0(),
        })),
        CommandId::ReturnRoll => Request::ReturnRoll(ReturnRoll {
            request_id: [0xB3; 16],
            kind: InvoiceKind::Normal,
            code: code(),
            first: number(1),
        }),
        CommandId::VoidBlank => Request::VoidBlank(VoidBlank {
            request_id: [0xB1; 16],
            kind: InvoiceKind::Roll,
            count: 3,
        }),
        CommandId::Issue => Request::Issue(IssueRequest {
            request_id: [0xAB; 16],
            kind: InvoiceKind::Normal,
            variant: Variant::Purchase,
            buyer: Some(tin()),
            amount: Fen(100_000),
            tax: Fen(13_000),
            content_digest: [0xCD; 32],
            red: Some(RedRef::Original {
                code: code(),
                number: number(42),
            }),
            oil: None,
        }),
        CommandId::Void => Request::Void(VoidRequest {
            request_id: [0xB2; 16],
            invoice: InvoiceRef {
                kind: InvoiceKind::Normal,
                code: code(),
                number: number(1234),
            },
        }),
        CommandId::ReadInvoice => Request::ReadInvoice(InvoiceRef {
            kind: InvoiceKind::Special,
            code: special_code(),
            number: number(7),
        }),
        CommandId::LastIssued => Request::LastIssued(Some(InvoiceKind::Electronic)),
        CommandId::ListPending => Request::ListPending(ListPending {
            after_counter: 10,
            max: 4,
        }),
        CommandId::AckUpload => Request::AckUpload(signed(UploadReceipt {
            serial: serial(),
            through_counter: 79,
            issued_at: t0(),
        })),
        CommandId::CopyTax => Request::CopyTax(period()),
        CommandId::ClearCard => Request::ClearCard(signed(ClearCardToken {
            serial: serial(),
            seq: 2,
            period: period(),
            next_lock_time: Timestamp(1_800_000_000),
            upload_deadline: Timestamp(1_800_000_000),
            limits: Vec::from_slice(&[limits(InvoiceKind::Normal)]).unwrap(),
            issued_at: t0(),
        })),
        CommandId::OilStock => Request::OilStock(()),
        CommandId::LoadOilStock => Request::LoadOilStock(signed(OilGrant {
            serial: serial(),
            seq: 1,
            stock: oil_entry(),
            issued_at: t0(),
        })),
        CommandId::ReturnOilStock => Request::ReturnOilStock(ReturnOil {
            request_id: [0xB4; 16],
            stock: oil_entry(),
        }),
        CommandId::Unblock => Request::Unblock(signed(UnblockToken {
            serial: serial(),
            seq: 1,
            new_pin: Pin::new("24681357").unwrap(),
            issued_at: t0(),
        })),
        CommandId::ReadEvent => Request::ReadEvent(77),
        CommandId::ApplyReportReceipt => Request::ApplyReportReceipt(signed(ReportReceipt {
            serial: serial(),
            period: period().prev(),
            issued_at: t0(),
        })),
    }
}

/// One sample response per command.
pub fn sample_response(id: CommandId) -> Response {
    match id {
        CommandId::Ping => Response::Ping(0xDEAD_BEEF),
        CommandId::GetInfo => Response::GetInfo(DiskInfo {
            serial: serial(),
            firmware: (1, 0, 0),
            state: DiskState::Ready,
            time: t0(),
            taxpayer_id: Some(tin()),
            company_name: Some(CompanyName::new("厦门示例贸易有限公司").unwrap()),
            machine: 0,
            period: Some(period()),
            last_copied: Some(period().prev()),
            last_reported: Some(period().prev()),
            last_cleared: Some(period().prev()),
            lock_time: Some(Timestamp(1_797_350_400)),
            upload_deadline: Some(Timestamp(1_797_350_400)),
            counter: 79,
            logged_in: true,
            pin_tries_left: 10,
            oil_role: OilRole::Producer,
            oil_valid_until: None,
            used_car_role: UsedCarRole::None,
            journal_free: 200_000,
        }),
        CommandId::Login => Response::Login(()),
        CommandId::ChangePin => Response::ChangePin(()),
        CommandId::Logout => Response::Logout(()),
        CommandId::Provision => Response::Provision(ProvisionResult {
            public_key: pk(),
            proof: sig(),
        }),
        CommandId::GetStatus => Response::GetStatus(KindStatus {
            limits: limits(InvoiceKind::Electronic),
            authorized: true,
            blank_left: 233,
            pending_count: 2,
            oldest_pending: Some(t0()),
            pending_amount: Fen(200_000),
        }),
        CommandId::GetPublicKey => Response::GetPublicKey(pk()),
        CommandId::ApplyUpdate => Response::ApplyUpdate(()),
        CommandId::SetClock => Response::SetClock(()),
        CommandId::ListRolls => Response::ListRolls(Vec::from_slice(&[roll()]).unwrap()),
        CommandId::LoadRolls => Response::LoadRolls(roll()),
        CommandId::ReturnRoll => Response::ReturnRoll(signed(RollReturnReceipt {
            serial: serial(),
            kind: InvoiceKind::Normal,
            code: code(),
            first: number(18),
            count: 233,
            time: t0(),
        })),
        CommandId::VoidBlank => Response::VoidBlank(signed(blank_void())),
        CommandId::Issue => Response::Issue(signed(invoice())),
        CommandId::Void => Response::Void(signed(void_event())),
        CommandId::ReadInvoice => Response::ReadInvoice(InvoiceView {
            invoice: signed(red_invoice()),
            voided: true,
            uploaded: false,
        }),
        CommandId::LastIssued => Response::LastIssued(Some(view())),
        CommandId::ListPending => Response::ListPending(
            Vec::from_slice(&[
                JournalEvent::Invoice(signed(invoice())),
                JournalEvent::Void(signed(void_event())),
                JournalEvent::BlankVoid(signed(blank_void())),
                JournalEvent::Invoice(signed(red_invoice())),
            ])
            .unwrap(),
        ),
        CommandId::AckUpload => Response::AckUpload(3),
        CommandId::CopyTax => Response::CopyTax(signed(PeriodSummary {
            serial: serial(),
            taxpayer_id: tin(),
            period: period(),
            kinds: Vec::from_slice(&[
                (
                    InvoiceKind::Normal,
                    KindSummary {
                        positive_count: 10,
                        positive_amount: Fen(1_000_000),
                        positive_tax: Fen(130_000),
                        negative_count: 1,
                        negative_amount: Fen(-100_000),
                        negative_tax: Fen(-13_000),
                        void_count: 1,
                        blank_void_count: 3,
                    },
                ),
                (InvoiceKind::Electronic, KindSummary::default()),
            ])
            .unwrap(),
            first_counter: 1,
            last_counter: 79,
            time: t0(),
        })),
        CommandId::ClearCard => Response::ClearCard(()),
        CommandId::OilStock => Response::OilStock(Vec::from_slice(&[oil_entry()]).unwrap()),
        CommandId::LoadOilStock => Response::LoadOilStock(oil_entry()),
        CommandId::ReturnOilStock => Response::ReturnOilStock(signed(OilReturnReceipt {
            serial: serial(),
            seq: 1,
            stock: oil_entry(),
            time: t0(),
        })),
        CommandId::Unblock => Response::Unblock(()),
        CommandId::ReadEvent => Response::ReadEvent(EventView {
            event: JournalEvent::Void(signed(void_event())),
            uploaded: false,
        }),
        CommandId::ApplyReportReceipt => Response::ApplyReportReceipt(()),
    }
}
