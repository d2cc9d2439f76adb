//! Printing (H18) and the month export (H16) driven as a user would: compose and validate an
//! invoice, render or export it, and read the file back.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use calamine::{Data, Reader, Xlsx, open_workbook};
use rust_decimal::Decimal;
use std::str::FromStr;
use taxdisk_host::export::pdf::hex_text;
use taxdisk_host::export::{
    ExportRow, ListLayout, Margins, PrintError, PrintMeta, export_month, render,
};
use taxdisk_host::invoice::model::{Invoice, KindFields, Party};
use taxdisk_host::invoice::{Draft, LineInput};
use taxdisk_protocol::time::{Period, Timestamp};
use taxdisk_protocol::types::{TaxClassCode, TaxRate, TaxpayerId, Variant, ZeroRateFlag};

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn party(name: &str, tin: &str) -> Party {
    Party {
        taxpayer_id: Some(TaxpayerId::new(tin).unwrap()),
        address_phone: "厦门市思明区示例路1号 0592-1234567".into(),
        bank_account: "中国工商银行厦门分行 4100021234567890123".into(),
        ..Party::named(name)
    }
}

fn invoice(fields: KindFields, lines: usize, rate: u16, list: bool) -> Invoice {
    let mut d = Draft::new(
        fields,
        party("厦门示例贸易有限公司", "91350100M000100Y43"),
        party("福州买方有限公司", "110108123456789"),
    );
    for i in 0..lines {
        let mut li = LineInput::new(
            &format!("商品{i}"),
            TaxClassCode::new("1090101010000000000").unwrap(),
            TaxRate(rate),
        )
        .qty_price(dec("2"), dec("50.00"))
        .spec_unit("A型", "个");
        if rate == 0 {
            li = li.zero_flag(ZeroRateFlag::TaxFree);
        }
        d.add_line(&li).unwrap();
    }
    d.sales_list = list;
    d.issuer = "张三".into();
    d.validate().unwrap()
}

fn meta() -> PrintMeta {
    PrintMeta {
        code: "031001600104".into(),
        number: "00001234".into(),
        issued_at: Timestamp(1_795_668_730),
        machine: 0,
        check_code: "32410570858694556907".into(),
        cipher: "0123456789+-*/<>".repeat(7)[..108].to_owned(),
        voided: false,
    }
}

fn pdf_text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn pages(text: &str) -> usize {
    text.matches("/Type /Page ").count()
}

#[test]
fn h18_zero_rate_prints_stars_and_the_form_carries_check_code_and_cipher() {
    let inv = invoice(KindFields::Normal(Variant::Standard), 2, 0, false);
    let pdf = pdf_text(&render(&inv, &meta(), Margins::default(), ListLayout::default()).unwrap());
    assert!(pdf.starts_with("%PDF-1.4"));
    assert!(
        pdf.contains(&hex_text("***")),
        "zero rate prints *** (FAQ 4.15)"
    );
    assert!(pdf.contains(&hex_text("校 验 码：32410570858694556907")));
    assert!(pdf.contains(&hex_text(&meta().cipher[..27])));
    assert!(pdf.contains(&hex_text("增值税普通发票")));
    assert!(pdf.contains(&hex_text("价税合计（大写）  贰佰圆整")));
    assert_eq!(pages(&pdf), 1);
}

#[test]
fn h18_special_invoice_prints_no_check_code() {
    let inv = invoice(KindFields::Special, 1, 1300, false);
    let pdf = pdf_text(&render(&inv, &meta(), Margins::default(), ListLayout::default()).unwrap());
    assert!(!pdf.contains(&hex_text("校 验 码")));
    assert!(pdf.contains(&hex_text("13%")));
}

#[test]
fn h18_purchase_invoice_prints_its_mark() {
    let inv = invoice(KindFields::Normal(Variant::Purchase), 1, 300, false);
    let pdf = pdf_text(&render(&inv, &meta(), Margins::default(), ListLayout::default()).unwrap());
    assert!(pdf.contains(&hex_text("收购")));
}

#[test]
fn h18_sales_list_pages_follow_the_rows_setting() {
    let inv = invoice(KindFields::Normal(Variant::Standard), 30, 1300, true);
    let pdf13 =
        pdf_text(&render(&inv, &meta(), Margins::default(), ListLayout::default()).unwrap());
    assert_eq!(pages(&pdf13), 1 + 3, "30 lines at 13 rows per page");
    assert!(pdf13.contains(&hex_text("详见销货清单")));
    assert!(pdf13.contains(&hex_text("共3页 第3页")));
    assert!(pdf13.contains(&hex_text("总计")));
    let pdf25 = pdf_text(
        &render(
            &inv,
            &meta(),
            Margins::default(),
            ListLayout {
                rows_per_page: 25,
                title_size: 9.0,
            },
        )
        .unwrap(),
    );
    assert_eq!(pages(&pdf25), 1 + 2);
    assert_eq!(
        render(
            &inv,
            &meta(),
            Margins::default(),
            ListLayout {
                rows_per_page: 2,
                title_size: 9.0
            }
        ),
        Err(PrintError::RowsPerPage(2))
    );
}

#[test]
fn h18_margin_offsets_move_the_print() {
    let inv = invoice(KindFields::Electronic, 1, 600, false);
    let first_td = |m: Margins| -> (f32, f32) {
        let pdf = pdf_text(&render(&inv, &meta(), m, ListLayout::default()).unwrap());
        let op = pdf.split(" Td").next().unwrap();
        let nums: Vec<f32> = op.rsplit(' ').take(2).map(|s| s.parse().unwrap()).collect();
        (nums[1], nums[0])
    };
    let (x0, y0) = first_td(Margins::default());
    let (x1, y1) = first_td(Margins {
        right_mm: 5,
        down_mm: -2,
    });
    assert!((x1 - x0 - 5.0 * 72.0 / 25.4).abs() < 0.05, "right 5 mm");
    assert!(
        (y1 - y0 - 2.0 * 72.0 / 25.4).abs() < 0.05,
        "up 2 mm (down -2)"
    );
    assert_eq!(
        render(
            &inv,
            &meta(),
            Margins {
                right_mm: 40,
                down_mm: 0
            },
            ListLayout::default()
        ),
        Err(PrintError::Margins)
    );
}

#[test]
fn h18_reprint_is_identical() {
    let inv = invoice(KindFields::Roll, 3, 300, false);
    let a = render(&inv, &meta(), Margins::default(), ListLayout::default()).unwrap();
    let b = render(&inv, &meta(), Margins::default(), ListLayout::default()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn h16_month_export_leaves_out_voided_and_other_months() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("202611.xlsx");
    let a = invoice(KindFields::Normal(Variant::Standard), 2, 1300, false);
    let b = invoice(KindFields::Special, 3, 900, false);
    let t = Timestamp(1_795_668_730);
    let rows = vec![
        ExportRow {
            invoice: &a,
            code: "031001600104",
            number: "00000001",
            issued_at: t,
            voided: false,
            uploaded: true,
        },
        ExportRow {
            invoice: &b,
            code: "3100153130",
            number: "00000002",
            issued_at: t,
            voided: true,
            uploaded: true,
        },
        ExportRow {
            invoice: &b,
            code: "3100153130",
            number: "00000003",
            issued_at: t,
            voided: false,
            uploaded: false,
        },
        ExportRow {
            invoice: &a,
            code: "031001600104",
            number: "00000004",
            issued_at: Timestamp(t.0 + 40 * 86_400),
            voided: false,
            uploaded: false,
        },
    ];
    let period = Period::new(2026, 11).unwrap();
    let s = export_month(&rows, period, &path).unwrap();
    assert_eq!(
        (
            s.invoices,
            s.lines,
            s.voided_skipped,
            s.other_period_skipped
        ),
        (2, 5, 1, 1)
    );

    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let inv_sheet = wb.worksheet_range("发票202611").unwrap();
    let numbers: Vec<String> = inv_sheet.rows().skip(1).map(|r| r[2].to_string()).collect();
    assert_eq!(
        numbers,
        ["00000001", "00000003"],
        "voided 00000002 left out (FAQ 9.11)"
    );
    assert_eq!(
        inv_sheet.get_value((2, 6)),
        Some(&Data::Float(300.0)),
        "3 lines x 100.00"
    );
    let lines = wb.worksheet_range("明细").unwrap();
    assert_eq!(lines.rows().count(), 1 + 5);
}
