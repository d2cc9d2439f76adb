//! The invoice model (H7): parties, lines and the fields of each kind (F1). A [`Draft`] is what
//! the user composes; [`Draft::validate`](crate::invoice::Draft::validate) turns it into an
//! [`Invoice`], which exists only when every H7/F rule holds.

use super::math;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use taxdisk_protocol::types::{
    Fen, InvoiceKind, OilUse, RedRef, TaxClassCode, TaxRate, TaxpayerId, Variant, ZeroRateFlag,
};

/// What the goods-name cell prints when the lines are on a sales list (FAQ 4.11).
pub const SALES_LIST_TEXT: &str = "详见销货清单";
/// What the rate and tax cells print for a zero rate (FAQ 4.15).
pub const ZERO_RATE_TEXT: &str = "***";
/// The mark printed on purchase invoices (FAQ 4.3).
pub const PURCHASE_MARK: &str = "收购";
/// Lines the paper forms hold (FAQ 4.11).
pub const PAPER_LINES: usize = 8;

/// One side of an invoice: seller (销售方) or buyer (购买方).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Name (名称).
    pub name: String,
    /// Taxpayer id (纳税人识别号, F3); individuals have none.
    pub taxpayer_id: Option<TaxpayerId>,
    /// Address and phone (地址、电话).
    pub address_phone: String,
    /// Bank and account (开户行及账号).
    pub bank_account: String,
}

impl Party {
    /// A party with only a name.
    pub fn named(name: &str) -> Party {
        Party {
            name: name.to_owned(),
            ..Party::default()
        }
    }
}

/// Whether a line is goods or the discount of the goods line before it (FAQ 4.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum LineKind {
    /// A goods or service line.
    #[default]
    Goods,
    /// A negative discount line right after the line it discounts.
    Discount,
}

/// How the unit price was entered and is printed: with or without tax (含税 / 不含税). Amounts
/// and prices stored on a [`Line`] are always tax-excluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum PriceMode {
    /// 不含税: price and amount exclude tax.
    #[default]
    WithoutTax,
    /// 含税: the user entered tax-inclusive values, converted with
    /// [`math::split_gross`].
    WithTax,
}

/// One line of an invoice (tax excluded). Build goods lines with
/// [`LineInput`](crate::invoice::LineInput) and discount lines with
/// [`apply_discount`](crate::invoice::apply_discount).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Goods or discount.
    pub kind: LineKind,
    /// Goods or service name (货物或应税劳务、服务名称).
    pub name: String,
    /// Tax classification code (F7, 19 digits).
    pub class_code: TaxClassCode,
    /// Specification (规格型号).
    pub spec: String,
    /// Unit (单位).
    pub unit: String,
    /// Quantity; negative on red invoices.
    pub quantity: Option<Decimal>,
    /// Tax-excluded unit price, always positive.
    pub unit_price: Option<Decimal>,
    /// Tax-excluded amount in yuan, 2 places; negative for discount and red lines.
    pub amount: Decimal,
    /// Tax rate.
    pub rate: TaxRate,
    /// Tax in yuan, 2 places.
    pub tax: Decimal,
    /// Why the rate is zero (only with a zero rate).
    pub zero_flag: Option<ZeroRateFlag>,
    /// How prices were entered and are printed.
    pub price_mode: PriceMode,
}

impl Line {
    /// Amount plus tax.
    pub fn gross(&self) -> Decimal {
        self.amount + self.tax
    }

    /// The unit price as printed: tax-inclusive when entered so (`None` without a price, or
    /// for a price too large to print).
    pub fn printed_unit_price(&self) -> Option<Decimal> {
        let p = self.unit_price?;
        Some(match self.price_mode {
            PriceMode::WithoutTax => p,
            PriceMode::WithTax => {
                math::round_price(p.checked_mul(Decimal::ONE + math::rate_fraction(self.rate))?)
            }
        })
    }

    /// The rate cell as printed: `***` for a zero rate (FAQ 4.15), else e.g. `13%`.
    pub fn printed_rate(&self) -> String {
        if self.rate.0 == 0 {
            ZERO_RATE_TEXT.to_owned()
        } else {
            self.rate.to_string()
        }
    }

    /// The tax cell as printed: `***` for a zero rate (FAQ 4.15), else the tax with 2 places.
    pub fn printed_tax(&self) -> String {
        if self.rate.0 == 0 {
            ZERO_RATE_TEXT.to_owned()
        } else {
            format!("{:.2}", self.tax)
        }
    }
}

/// 机动车销售统一发票 fields (F1, H7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotorVehicleFields {
    /// Buyer's id card or organization code (身份证号码/组织机构代码).
    pub buyer_id_number: String,
    /// Vehicle type (车辆类型).
    pub vehicle_type: String,
    /// Brand and model (厂牌型号).
    pub brand_model: String,
    /// Origin (产地).
    pub origin: String,
    /// Certificate of conformity number (合格证号).
    pub certificate_number: String,
    /// Import certificate number (进口证明书号), imported vehicles only.
    pub import_certificate: String,
    /// Commodity inspection number (商检单号), imported vehicles only.
    pub inspection_number: String,
    /// Engine number (发动机号码).
    pub engine_number: String,
    /// Vehicle identification number (车辆识别代号/车架号码), 17 characters.
    pub vin: String,
    /// Tonnage (吨位).
    pub tonnage: Option<Decimal>,
    /// Passengers (限乘人数).
    pub passengers: Option<u32>,
    /// Competent tax office and its code (主管税务机关及代码).
    pub tax_office: String,
}

/// The role of a used-car invoice's issuer (二手车市场 / 经营单位 / 拍卖单位).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum UsedCarIssuer {
    /// 二手车市场: a market issues for the deal.
    #[default]
    Market,
    /// 经营单位: a dealer.
    Dealer,
    /// 拍卖单位: an auction house.
    Auction,
}

/// 二手车销售统一发票 fields (F1, H7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsedCarFields {
    /// Who issues: market, dealer or auction.
    pub issuer_role: UsedCarIssuer,
    /// The car's seller (卖方单位/个人).
    pub car_seller: Party,
    /// Plate number (车牌照号).
    pub plate: String,
    /// Registration certificate number (登记证号).
    pub registration_number: String,
    /// Vehicle identification number (车架号/车辆识别代号), 17 characters.
    pub vin: String,
    /// Vehicle type (车辆类型).
    pub vehicle_type: String,
    /// Brand and model (厂牌型号).
    pub brand_model: String,
    /// Vehicle office the car is transferred to (转入地车辆管理所名称).
    pub transfer_office: String,
    /// Dealer or auction house (经营、拍卖单位), with address, bank and id.
    pub operator: Option<Party>,
    /// The used-car market (二手车市场), with address, bank and id.
    pub market: Option<Party>,
}

/// The kind of an invoice with the fields only that kind has (F1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KindFields {
    /// 增值税专用发票.
    Special,
    /// 增值税普通发票 (paper), with its purchase and export variants. Only this kind has
    /// variants, as the protocol's `IssueRequest::variant` says.
    Normal(Variant),
    /// 增值税电子普通发票.
    Electronic,
    /// 增值税普通发票（卷票）.
    Roll,
    /// 机动车销售统一发票.
    MotorVehicle(Box<MotorVehicleFields>),
    /// 二手车销售统一发票.
    UsedCar(Box<UsedCarFields>),
}

impl KindFields {
    /// The invoice kind.
    pub fn kind(&self) -> InvoiceKind {
        match self {
            KindFields::Special => InvoiceKind::Special,
            KindFields::Normal(_) => InvoiceKind::Normal,
            KindFields::Electronic => InvoiceKind::Electronic,
            KindFields::Roll => InvoiceKind::Roll,
            KindFields::MotorVehicle(_) => InvoiceKind::MotorVehicle,
            KindFields::UsedCar(_) => InvoiceKind::UsedCar,
        }
    }

    /// The variant (`Standard` for every kind but normal).
    pub fn variant(&self) -> Variant {
        match self {
            KindFields::Normal(v) => *v,
            _ => Variant::Standard,
        }
    }
}

/// An invoice being composed. Fill the fields, add lines with
/// [`Draft::add_line`](crate::invoice::Draft::add_line) and discounts with
/// [`apply_discount`](crate::invoice::apply_discount), then
/// [`validate`](crate::invoice::Draft::validate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Kind and kind-specific fields.
    pub fields: KindFields,
    /// Seller (the issuing company).
    pub seller: Party,
    /// Buyer.
    pub buyer: Party,
    /// Lines, discount lines right after the lines they discount.
    pub lines: Vec<Line>,
    /// Remarks (备注).
    pub remarks: String,
    /// Payee (收款人).
    pub payee: String,
    /// Reviewer (复核人).
    pub reviewer: String,
    /// Issuer (开票人).
    pub issuer: String,
    /// Currency: always `CNY` (FAQ 4.2); anything else is refused.
    pub currency: String,
    /// Whether the lines go on a sales list (清单, FAQ 4.11).
    pub sales_list: bool,
    /// For red invoices, what they reverse.
    pub red: Option<RedRef>,
    /// For refined-oil invoices, the oil moved (FAQ 8.x): no sales list.
    pub oil: Option<OilUse>,
    /// Whether this is a rare-earth invoice: no sales list (FAQ 4.11).
    pub rare_earth: bool,
}

impl Draft {
    /// An empty draft of the given kind, in CNY.
    pub fn new(fields: KindFields, seller: Party, buyer: Party) -> Draft {
        Draft {
            fields,
            seller,
            buyer,
            lines: Vec::new(),
            remarks: String::new(),
            payee: String::new(),
            reviewer: String::new(),
            issuer: String::new(),
            currency: "CNY".to_owned(),
            sales_list: false,
            red: None,
            oil: None,
            rare_earth: false,
        }
    }

    /// The invoice kind.
    pub fn kind(&self) -> InvoiceKind {
        self.fields.kind()
    }

    /// Whether this is a red (negative) draft.
    pub fn is_red(&self) -> bool {
        self.red.is_some()
    }
}

/// Invoice totals in yuan (tax excluded, tax, and both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Sum of line amounts (合计金额).
    pub amount: Decimal,
    /// Sum of line taxes (合计税额).
    pub tax: Decimal,
}

impl Totals {
    /// Amount plus tax (价税合计).
    pub fn gross(&self) -> Decimal {
        self.amount + self.tax
    }
}

/// A validated invoice: every rule of H7 and F1-F8 holds. Built only by
/// [`Draft::validate`](crate::invoice::Draft::validate); deserializing re-validates.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Draft")]
pub struct Invoice {
    pub(crate) draft: Draft,
    pub(crate) totals: Totals,
    /// The totals in fen, checked to fit when validated.
    pub(crate) fen: (Fen, Fen),
}

/// Serialized as its draft (the totals follow from it), written from the borrowed draft:
/// `#[serde(into = "Draft")]` would clone every string and line of it first, for each invoice
/// stored.
impl Serialize for Invoice {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.draft.serialize(serializer)
    }
}

impl Invoice {
    /// The content.
    pub fn draft(&self) -> &Draft {
        &self.draft
    }

    /// Back to an editable draft.
    pub fn into_draft(self) -> Draft {
        self.draft
    }

    /// Kind.
    pub fn kind(&self) -> InvoiceKind {
        self.draft.kind()
    }

    /// Variant.
    pub fn variant(&self) -> Variant {
        self.draft.fields.variant()
    }

    /// Lines.
    pub fn lines(&self) -> &[Line] {
        &self.draft.lines
    }

    /// Totals in yuan.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Whether it is red.
    pub fn is_red(&self) -> bool {
        self.draft.is_red()
    }

    /// Tax-excluded total in fen (F8).
    pub fn amount_fen(&self) -> Fen {
        self.fen.0
    }

    /// Tax total in fen (F8).
    pub fn tax_fen(&self) -> Fen {
        self.fen.1
    }

    /// The title mark printed top left: `收购` on purchase invoices (FAQ 4.3), else nothing.
    pub fn title_mark(&self) -> Option<&'static str> {
        (self.variant() == Variant::Purchase).then_some(PURCHASE_MARK)
    }

    /// The goods lines as printed on the form: the lines themselves, or with a sales list one
    /// line `详见销货清单` carrying the totals (FAQ 4.11). Returns `(name, amount, tax)` rows.
    pub fn printed_lines(&self) -> Vec<(String, Decimal, Decimal)> {
        if self.draft.sales_list {
            vec![(
                SALES_LIST_TEXT.to_owned(),
                self.totals.amount,
                self.totals.tax,
            )]
        } else {
            self.draft
                .lines
                .iter()
                .map(|l| (l.name.clone(), l.amount, l.tax))
                .collect()
        }
    }
}

impl From<Invoice> for Draft {
    fn from(i: Invoice) -> Draft {
        i.draft
    }
}

impl TryFrom<Draft> for Invoice {
    type Error = super::InvoiceError;
    fn try_from(d: Draft) -> Result<Invoice, Self::Error> {
        d.validate()
    }
}
