//! Printing (H18, FAQ 6.1-6.7): an issued invoice rendered to PDF on its form size, with the
//! margin offsets the software lets the user adjust (FAQ 6.3: 向右边距 / 向下边距 in
//! millimetres), and its sales list (销货清单, FAQ 4.11) on A4 pages with a settable number of
//! rows per page (FAQ 6.7: 13 by default, up to 25). Zero-rate lines print `***` (FAQ 4.15);
//! purchase invoices print `收购` (FAQ 4.3); every kind but special prints the check code (F5)
//! and every kind but used car the 108-character cipher area. Reprinting is unlimited: this is
//! a pure function of the stored invoice.

use super::amount_words::amount_in_words;
use super::pdf::{Document, Page};
use crate::invoice::model::{Invoice, KindFields, Line, SALES_LIST_TEXT};
use rust_decimal::Decimal;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::InvoiceKind;

/// Margin offsets in millimetres (FAQ 6.3). Positive `right` moves the print right, positive
/// `down` moves it down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Margins {
    /// 向右边距.
    pub right_mm: i32,
    /// 向下边距.
    pub down_mm: i32,
}

/// Sales-list layout (FAQ 6.7).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ListLayout {
    /// Rows per A4 page, 5..=40 (13 by default).
    pub rows_per_page: usize,
    /// Title size in points (11 by default).
    pub title_size: f32,
}

impl Default for ListLayout {
    fn default() -> Self {
        ListLayout {
            rows_per_page: 13,
            title_size: 11.0,
        }
    }
}

/// What the disk and the store add to a validated invoice for printing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintMeta {
    /// Invoice code.
    pub code: String,
    /// Invoice number, 8 digits.
    pub number: String,
    /// When the disk issued it.
    pub issued_at: Timestamp,
    /// Machine number.
    pub machine: u16,
    /// The 20-digit check code (printed on every kind but special).
    pub check_code: String,
    /// The 108-character cipher area (printed on every kind but used car).
    pub cipher: String,
    /// Whether the invoice was voided (prints 作废).
    pub voided: bool,
}

/// Why printing was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrintError {
    /// Rows per page outside 5..=40.
    #[error("sales list rows per page must be 5 to 40, not {0} (FAQ 6.7)")]
    RowsPerPage(usize),
    /// Margins beyond ±30 mm would push the print off the form.
    #[error("margin offsets must be within ±30 mm (FAQ 6.3)")]
    Margins,
}

fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

fn qty(d: Option<Decimal>) -> String {
    d.map(|q| q.normalize().to_string()).unwrap_or_default()
}

fn price(d: Option<Decimal>) -> String {
    d.map(|p| p.normalize().to_string()).unwrap_or_default()
}

/// Renders the invoice, and its sales list when it has one, to PDF bytes.
pub fn render(
    inv: &Invoice,
    meta: &PrintMeta,
    margins: Margins,
    list: ListLayout,
) -> Result<Vec<u8>, PrintError> {
    if !(5..=40).contains(&list.rows_per_page) {
        return Err(PrintError::RowsPerPage(list.rows_per_page));
    }
    if margins.right_mm.abs() > 30 || margins.down_mm.abs() > 30 {
        return Err(PrintError::Margins);
    }
    let mut doc = Document::new();
    doc.push(form_page(inv, meta, margins));
    if inv.draft().sales_list {
        for p in list_pages(inv, meta, list) {
            doc.push(p);
        }
    }
    Ok(doc.to_bytes())
}

/// Draws on a page with the margin offsets applied.
struct Pen<'a> {
    page: &'a mut Page,
    dx: f32,
    dy: f32,
}

impl Pen<'_> {
    fn t(&mut self, x: f32, y: f32, size: f32, s: &str) {
        self.page.text(x + self.dx, y + self.dy, size, s);
    }
    fn tr(&mut self, x: f32, y: f32, size: f32, s: &str) {
        self.page.text_right(x + self.dx, y + self.dy, size, s);
    }
    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.page.rect(x + self.dx, y + self.dy, w, h);
    }
    fn hline(&mut self, x1: f32, x2: f32, y: f32) {
        self.page
            .line(x1 + self.dx, y + self.dy, x2 + self.dx, y + self.dy);
    }
}

fn form_page(inv: &Invoice, meta: &PrintMeta, m: Margins) -> Page {
    let d = inv.draft();
    let kind = inv.kind();
    let (w, h) = if kind == InvoiceKind::Roll {
        (76.0, 177.0)
    } else {
        (240.0, 140.0)
    };
    let mut page = Page::new(w, h);
    let mut pen = Pen {
        page: &mut page,
        dx: m.right_mm as f32,
        dy: m.down_mm as f32,
    };
    if kind == InvoiceKind::Roll {
        roll_form(&mut pen, inv, meta);
        return page;
    }
    pen.t(80.0, 14.0, 16.0, kind.chinese_name());
    if let Some(mark) = inv.title_mark() {
        pen.t(12.0, 12.0, 12.0, mark);
    }
    if inv.is_red() {
        pen.t(95.0, 22.0, 11.0, "销项负数");
    }
    if meta.voided {
        pen.t(100.0, 80.0, 40.0, "作废");
    }
    pen.t(12.0, 22.0, 8.0, &format!("机器编号：{:03}", meta.machine));
    pen.t(165.0, 9.0, 9.0, &format!("发票代码：{}", meta.code));
    pen.t(165.0, 14.0, 9.0, &format!("发票号码：{}", meta.number));
    let c = meta.issued_at.civil();
    pen.t(
        165.0,
        19.0,
        9.0,
        &format!("开票日期：{:04}年{:02}月{:02}日", c.year, c.month, c.day),
    );
    if kind != InvoiceKind::Special {
        pen.t(165.0, 24.0, 9.0, &format!("校 验 码：{}", meta.check_code));
    }

    // Buyer block and cipher area.
    pen.rect(10.0, 27.0, 220.0, 22.0);
    pen.t(12.0, 36.0, 10.0, "购买方");
    let buyer = [
        ("名        称：", d.buyer.name.clone()),
        (
            "纳税人识别号：",
            d.buyer
                .taxpayer_id
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ),
        ("地 址、电 话：", d.buyer.address_phone.clone()),
        ("开户行及账号：", d.buyer.bank_account.clone()),
    ];
    for (i, (label, value)) in buyer.iter().enumerate() {
        pen.t(25.0, 32.0 + 5.0 * i as f32, 8.5, &format!("{label}{value}"));
    }
    if kind != InvoiceKind::UsedCar {
        pen.t(143.0, 36.0, 10.0, "密码区");
        for (i, chunk) in meta.cipher.as_bytes().chunks(27).enumerate() {
            pen.t(
                158.0,
                32.0 + 5.0 * i as f32,
                8.5,
                std::str::from_utf8(chunk).unwrap_or(""),
            );
        }
    }

    match &d.fields {
        KindFields::MotorVehicle(f) => {
            let rows = [
                ("车辆类型", f.vehicle_type.as_str()),
                ("厂牌型号", f.brand_model.as_str()),
                ("产地", f.origin.as_str()),
                ("合格证号", f.certificate_number.as_str()),
                ("进口证明书号", f.import_certificate.as_str()),
                ("商检单号", f.inspection_number.as_str()),
                ("发动机号码", f.engine_number.as_str()),
                ("车辆识别代号/车架号码", f.vin.as_str()),
                ("主管税务机关及代码", f.tax_office.as_str()),
            ];
            fields_block(&mut pen, &rows);
        }
        KindFields::UsedCar(f) => {
            let rows = [
                ("卖方单位/个人", f.car_seller.name.as_str()),
                ("车牌照号", f.plate.as_str()),
                ("登记证号", f.registration_number.as_str()),
                ("车架号/车辆识别代号", f.vin.as_str()),
                ("车辆类型", f.vehicle_type.as_str()),
                ("厂牌型号", f.brand_model.as_str()),
                ("转入地车辆管理所名称", f.transfer_office.as_str()),
            ];
            fields_block(&mut pen, &rows);
        }
        _ => goods_table(&mut pen, inv),
    }

    // Totals.
    let t = inv.totals();
    pen.hline(10.0, 230.0, 100.0);
    pen.t(30.0, 105.0, 9.0, "合    计");
    pen.tr(190.0, 105.0, 9.0, &format!("¥{}", money(t.amount)));
    let all_zero = inv.lines().iter().all(|l| l.rate.0 == 0);
    pen.tr(
        228.0,
        105.0,
        9.0,
        &if all_zero {
            "***".to_owned()
        } else {
            format!("¥{}", money(t.tax))
        },
    );
    pen.hline(10.0, 230.0, 107.0);
    pen.t(
        12.0,
        112.0,
        9.0,
        &format!("价税合计（大写）  {}", amount_in_words(t.gross())),
    );
    pen.t(170.0, 112.0, 9.0, &format!("（小写）¥{}", money(t.gross())));

    // Seller block and remarks.
    pen.rect(10.0, 114.0, 220.0, 20.0);
    pen.t(12.0, 124.0, 10.0, "销售方");
    let seller = [
        ("名        称：", d.seller.name.clone()),
        (
            "纳税人识别号：",
            d.seller
                .taxpayer_id
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ),
        ("地 址、电 话：", d.seller.address_phone.clone()),
        ("开户行及账号：", d.seller.bank_account.clone()),
    ];
    for (i, (label, value)) in seller.iter().enumerate() {
        pen.t(
            25.0,
            118.5 + 4.5 * i as f32,
            8.5,
            &format!("{label}{value}"),
        );
    }
    pen.t(143.0, 124.0, 10.0, "备注");
    for (i, line) in remarks_lines(d.remarks.as_str(), 30)
        .iter()
        .take(4)
        .enumerate()
    {
        pen.t(155.0, 118.5 + 4.5 * i as f32, 8.0, line);
    }
    pen.t(12.0, 139.0, 8.5, &format!("收款人：{}", d.payee));
    pen.t(70.0, 139.0, 8.5, &format!("复核：{}", d.reviewer));
    pen.t(120.0, 139.0, 8.5, &format!("开票人：{}", d.issuer));
    pen.t(180.0, 139.0, 8.5, "销售方：（章）");
    page
}

fn remarks_lines(s: &str, width: usize) -> Vec<String> {
    s.chars()
        .collect::<Vec<_>>()
        .chunks(width)
        .map(|c| c.iter().collect())
        .collect()
}

fn fields_block(pen: &mut Pen<'_>, rows: &[(&str, &str)]) {
    for (i, (label, value)) in rows.iter().enumerate() {
        pen.t(
            14.0,
            55.0 + 5.0 * i as f32,
            8.5,
            &format!("{label}：{value}"),
        );
    }
}

fn goods_table(pen: &mut Pen<'_>, inv: &Invoice) {
    let headers = [
        (12.0, "货物或应税劳务、服务名称"),
        (72.0, "规格型号"),
        (94.0, "单位"),
        (108.0, "数量"),
        (128.0, "单价"),
        (170.0, "金额"),
        (193.0, "税率"),
        (215.0, "税额"),
    ];
    for (x, h) in headers {
        pen.t(x, 54.0, 8.5, h);
    }
    if inv.draft().sales_list {
        // FAQ 4.11: one line pointing at the list, carrying the totals.
        let t = inv.totals();
        pen.t(12.0, 60.0, 8.5, SALES_LIST_TEXT);
        pen.tr(190.0, 60.0, 8.5, &money(t.amount));
        pen.tr(228.0, 60.0, 8.5, &money(t.tax));
        return;
    }
    for (i, l) in inv.lines().iter().enumerate() {
        let y = 60.0 + 5.0 * i as f32;
        goods_row(pen, y, l);
    }
}

fn goods_row(pen: &mut Pen<'_>, y: f32, l: &Line) {
    pen.t(12.0, y, 8.5, &l.name);
    pen.t(72.0, y, 8.5, &l.spec);
    pen.t(94.0, y, 8.5, &l.unit);
    pen.tr(124.0, y, 8.5, &qty(l.quantity));
    pen.tr(150.0, y, 8.5, &price(l.printed_unit_price()));
    pen.tr(190.0, y, 8.5, &money(l.amount));
    pen.t(195.0, y, 8.5, &l.printed_rate());
    pen.tr(228.0, y, 8.5, &l.printed_tax());
}

fn roll_form(pen: &mut Pen<'_>, inv: &Invoice, meta: &PrintMeta) {
    let d = inv.draft();
    pen.t(6.0, 10.0, 11.0, InvoiceKind::Roll.chinese_name());
    let head = [
        format!("发票代码：{}", meta.code),
        format!("发票号码：{}", meta.number),
        format!("机打号码：{}", meta.number),
        format!("机器编号：{:03}", meta.machine),
        format!("销售方名称：{}", d.seller.name),
        format!(
            "纳税人识别号：{}",
            d.seller
                .taxpayer_id
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default()
        ),
        format!("开票日期：{}", meta.issued_at),
        format!("购买方名称：{}", d.buyer.name),
    ];
    let mut y = 18.0;
    for s in head.iter() {
        pen.t(4.0, y, 7.0, s);
        y += 5.0;
    }
    pen.t(4.0, y, 7.0, "项目      单价   数量   金额");
    y += 5.0;
    for l in inv.lines() {
        pen.t(
            4.0,
            y,
            7.0,
            &format!(
                "{} {} {} {}",
                l.name,
                price(l.printed_unit_price()),
                qty(l.quantity),
                money(l.gross())
            ),
        );
        y += 5.0;
    }
    let t = inv.totals();
    pen.t(
        4.0,
        y + 2.0,
        7.0,
        &format!("合计金额（小写）：¥{}", money(t.gross())),
    );
    pen.t(
        4.0,
        y + 7.0,
        7.0,
        &format!("合计金额（大写）：{}", amount_in_words(t.gross())),
    );
    pen.t(4.0, y + 12.0, 7.0, &format!("校验码：{}", meta.check_code));
    if meta.voided {
        pen.t(20.0, 60.0, 30.0, "作废");
    }
}

fn list_pages(inv: &Invoice, meta: &PrintMeta, layout: ListLayout) -> Vec<Page> {
    let d = inv.draft();
    let lines = inv.lines();
    let per = layout.rows_per_page;
    let total_pages = lines.len().div_ceil(per).max(1);
    let row_h = (200.0 / per as f32).min(10.0);
    let mut pages = Vec::with_capacity(total_pages);
    for (pi, chunk) in lines.chunks(per).enumerate() {
        let mut page = Page::new(210.0, 297.0);
        page.text(
            40.0,
            20.0,
            layout.title_size + 4.0,
            "销售货物或者提供应税劳务、服务清单",
        );
        page.text(15.0, 32.0, 9.0, &format!("购买方名称：{}", d.buyer.name));
        page.text(15.0, 38.0, 9.0, &format!("销售方名称：{}", d.seller.name));
        page.text(
            15.0,
            44.0,
            9.0,
            &format!(
                "所属{}  发票代码：{}  发票号码：{}",
                inv.kind().chinese_name(),
                meta.code,
                meta.number
            ),
        );
        page.text(
            160.0,
            50.0,
            9.0,
            &format!("共{total_pages}页 第{}页", pi + 1),
        );
        let heads = [
            (15.0, "序号"),
            (27.0, "货物（劳务）名称"),
            (75.0, "规格型号"),
            (98.0, "单位"),
            (112.0, "数量"),
            (130.0, "单价"),
            (158.0, "金额"),
            (172.0, "税率"),
            (188.0, "税额"),
        ];
        for (x, h) in heads {
            page.text(x, 58.0, 8.0, h);
        }
        page.line(12.0, 60.0, 200.0, 60.0);
        for (ri, l) in chunk.iter().enumerate() {
            let y = 65.0 + row_h * ri as f32;
            page.text(16.0, y, 8.0, &(pi * per + ri + 1).to_string());
            page.text(27.0, y, 8.0, &l.name);
            page.text(75.0, y, 8.0, &l.spec);
            page.text(98.0, y, 8.0, &l.unit);
            page.text_right(127.0, y, 8.0, &qty(l.quantity));
            page.text_right(154.0, y, 8.0, &price(l.printed_unit_price()));
            page.text_right(170.0, y, 8.0, &money(l.amount));
            page.text(173.0, y, 8.0, &l.printed_rate());
            page.text_right(200.0, y, 8.0, &l.printed_tax());
        }
        let sub_amount: Decimal = chunk.iter().map(|l| l.amount).sum();
        let sub_tax: Decimal = chunk.iter().map(|l| l.tax).sum();
        let y = 70.0 + row_h * per as f32;
        page.line(12.0, y - 4.0, 200.0, y - 4.0);
        page.text(27.0, y, 8.0, "小计");
        page.text_right(170.0, y, 8.0, &money(sub_amount));
        page.text_right(200.0, y, 8.0, &money(sub_tax));
        if pi + 1 == total_pages {
            let t = inv.totals();
            page.text(27.0, y + 6.0, 8.0, "总计");
            page.text_right(170.0, y + 6.0, 8.0, &money(t.amount));
            page.text_right(200.0, y + 6.0, 8.0, &money(t.tax));
            page.text(15.0, y + 14.0, 8.0, &format!("备注：{}", d.remarks));
            let c = meta.issued_at.civil();
            page.text(15.0, y + 22.0, 9.0, "销售方（章）：");
            page.text(
                130.0,
                y + 22.0,
                9.0,
                &format!("填开日期：{:04}年{:02}月{:02}日", c.year, c.month, c.day),
            );
        }
        pages.push(page);
    }
    pages
}
