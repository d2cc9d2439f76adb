//! The content digest the disk signs (D5, DESIGN "The wire"): SM3 over a canonical, versioned
//! byte encoding of the whole invoice content. Two hosts that encode the same invoice get the same
//! digest; any change of a party, line, remark, kind field, red reference or oil use changes it.
//!
//! # Encoding, version 1
//! All integers are big-endian. `str` is a `u32` byte length and the UTF-8 bytes. `opt<T>` is a
//! `u8` 0 (absent) or 1 followed by `T`. `dec` is a `str` of the decimal in its shortest form
//! (`rust_decimal` `normalize()`, e.g. `12.5`, `-3`). Money is `i64` fen.
//!
//! ```text
//! "TAXDISK-INVOICE-CONTENT" u8 version=1
//! u8 kind (Aisino number, F1)  u8 variant (0 standard, 1 purchase, 2 export)  str currency
//! party seller  party buyer            party = str name, str taxpayer id ("" if none),
//!                                              str address+phone, str bank+account
//! str remarks  str payee  str reviewer  str issuer
//! u8 sales list  u8 rare earth
//! u8 red: 0 none | 1 str info form number | 2 str original code, u32 original number
//! opt<u8 oil category, i64 milli quantity>
//! u32 line count, then per line:
//!   u8 kind (0 goods, 1 discount) str name str class code str spec str unit
//!   opt<dec> quantity  opt<dec> tax-excluded unit price  i64 amount  u16 rate (0.01 %)
//!   i64 tax  u8 zero flag (0 none, 1 export refund, 2 tax-free, 3 not taxable, 4 ordinary)
//!   u8 price mode (0 without tax, 1 with tax)
//! u8 kind fields: 0 none
//!   | 1 motor vehicle: str buyer id number, vehicle type, brand+model, origin, certificate
//!       number, import certificate, inspection number, engine number, VIN, opt<dec> tonnage,
//!       opt<u32> passengers, str tax office
//!   | 2 used car: u8 issuer role (0 market, 1 dealer, 2 auction), party car seller, str plate,
//!       registration number, VIN, vehicle type, brand+model, transfer office,
//!       opt<party> operator, opt<party> market
//! ```

use super::model::{Invoice, KindFields, LineKind, Party, PriceMode, UsedCarIssuer};
use crate::invoice::math;
use rust_decimal::Decimal;
use sm3::{Digest as _, Sm3};
use taxdisk_protocol::command::IssueRequest;
use taxdisk_protocol::types::{Digest, RedRef, RequestId, Variant, ZeroRateFlag};

/// The magic that starts the encoding.
pub const DIGEST_MAGIC: &[u8] = b"TAXDISK-INVOICE-CONTENT";
/// The encoding version; bump it (and keep the old encoder) when the encoding changes.
pub const DIGEST_VERSION: u8 = 1;

struct Enc(Vec<u8>);

impl Enc {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn str(&mut self, s: &str) {
        // Text fields are bounded by validation (a few hundred bytes), far below u32::MAX.
        self.u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
        self.0.extend_from_slice(s.as_bytes());
    }
    fn dec(&mut self, d: Decimal) {
        self.str(&d.normalize().to_string());
    }
    fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                f(self, v);
            }
        }
    }
    fn money(&mut self, d: Decimal) {
        // Validation checked that every line amount and tax converts to fen.
        self.i64(math::to_fen("money", d).map(|f| f.0).unwrap_or(i64::MIN));
    }
    fn party(&mut self, p: &Party) {
        self.str(&p.name);
        self.str(p.taxpayer_id.as_ref().map(|t| t.as_str()).unwrap_or(""));
        self.str(&p.address_phone);
        self.str(&p.bank_account);
    }
}

/// The canonical encoding (version [`DIGEST_VERSION`]) of a validated invoice.
pub fn canonical_bytes(inv: &Invoice) -> Vec<u8> {
    let d = inv.draft();
    let mut e = Enc(Vec::with_capacity(512));
    e.0.extend_from_slice(DIGEST_MAGIC);
    e.u8(DIGEST_VERSION);
    e.u8(inv.kind().number());
    e.u8(match inv.variant() {
        Variant::Standard => 0,
        Variant::Purchase => 1,
        Variant::Export => 2,
    });
    e.str(&d.currency);
    e.party(&d.seller);
    e.party(&d.buyer);
    for s in [&d.remarks, &d.payee, &d.reviewer, &d.issuer] {
        e.str(s);
    }
    e.u8(u8::from(d.sales_list));
    e.u8(u8::from(d.rare_earth));
    match &d.red {
        None => e.u8(0),
        Some(RedRef::InfoForm(n)) => {
            e.u8(1);
            e.str(n.as_str());
        }
        Some(RedRef::Original { code, number }) => {
            e.u8(2);
            e.str(code.as_str());
            e.u32(number.get());
        }
    }
    e.opt(d.oil, |e, o| {
        e.u8(o.category);
        e.i64(o.milli_quantity);
    });
    // Line counts are bounded by memory long before u32::MAX.
    e.u32(u32::try_from(d.lines.len()).unwrap_or(u32::MAX));
    for l in &d.lines {
        e.u8(match l.kind {
            LineKind::Goods => 0,
            LineKind::Discount => 1,
        });
        e.str(&l.name);
        e.str(l.class_code.as_str());
        e.str(&l.spec);
        e.str(&l.unit);
        e.opt(l.quantity, Enc::dec);
        e.opt(l.unit_price, Enc::dec);
        e.money(l.amount);
        e.u16(l.rate.0);
        e.money(l.tax);
        e.u8(match l.zero_flag {
            None => 0,
            Some(ZeroRateFlag::ExportRefund) => 1,
            Some(ZeroRateFlag::TaxFree) => 2,
            Some(ZeroRateFlag::NotTaxable) => 3,
            Some(ZeroRateFlag::Ordinary) => 4,
        });
        e.u8(match l.price_mode {
            PriceMode::WithoutTax => 0,
            PriceMode::WithTax => 1,
        });
    }
    match &d.fields {
        KindFields::MotorVehicle(m) => {
            e.u8(1);
            for s in [
                &m.buyer_id_number,
                &m.vehicle_type,
                &m.brand_model,
                &m.origin,
                &m.certificate_number,
                &m.import_certificate,
                &m.inspection_number,
                &m.engine_number,
                &m.vin,
            ] {
                e.str(s);
            }
            e.opt(m.tonnage, Enc::dec);
            e.opt(m.passengers, Enc::u32);
            e.str(&m.tax_office);
        }
        KindFields::UsedCar(u) => {
            e.u8(2);
            e.u8(match u.issuer_role {
                UsedCarIssuer::Market => 0,
                UsedCarIssuer::Dealer => 1,
                UsedCarIssuer::Auction => 2,
            });
            e.party(&u.car_seller);
            for s in [
                &u.plate,
                &u.registration_number,
                &u.vin,
                &u.vehicle_type,
                &u.brand_model,
                &u.transfer_office,
            ] {
                e.str(s);
            }
            e.opt(u.operator.as_ref(), Enc::party);
            e.opt(u.market.as_ref(), Enc::party);
        }
        _ => e.u8(0),
    }
    e.0
}

/// SM3 of [`canonical_bytes`]: what the disk signs as `content_digest`.
pub fn content_digest(inv: &Invoice) -> Digest {
    Sm3::digest(canonical_bytes(inv)).into()
}

impl Invoice {
    /// The content digest (see the module docs).
    pub fn content_digest(&self) -> Digest {
        content_digest(self)
    }

    /// The disk's Issue request for this invoice under the host-chosen idempotency key: kind,
    /// variant, buyer id, totals in fen, the content digest, red reference and oil use.
    pub fn issue_request(&self, request_id: RequestId) -> IssueRequest {
        let d = self.draft();
        IssueRequest {
            request_id,
            kind: self.kind(),
            variant: self.variant(),
            buyer: d.buyer.taxpayer_id.clone(),
            amount: self.amount_fen(),
            tax: self.tax_fen(),
            content_digest: self.content_digest(),
            red: d.red.clone(),
            oil: d.oil,
        }
    }
}
