//! What the CLI's tables and lists show in the process's language: kind and state names,
//! column widths by display width (a full-width character is two columns), the status table
//! (H14) and the oil stock line (H15).

use taxdisk_i18n::width::{left, right, width};
use taxdisk_i18n::{t, tr};
use taxdisk_protocol::types::InvoiceKind;

pub use taxdisk_host::l10n::kind_name;

/// The widest kind name in the process's language: the kind column of a table.
pub fn kind_column() -> usize {
    InvoiceKind::ALL
        .into_iter()
        .map(|k| width(&kind_name(k)))
        .max()
        .unwrap_or(0)
}

/// A stored invoice's state in the process's language.
pub fn state_name(s: taxdisk_host::store::InvoiceState) -> String {
    tr(&format!("state-{}", s.as_str()), &[])
}

/// H14: the per-kind table of `status`, its columns as wide as their widest cell in the
/// process's language (full-width characters count two columns).
pub fn print_status_table(kinds: &[taxdisk_host::workflow::KindReport]) {
    let head = [
        t!("col-kind"),
        t!("col-auth"),
        t!("col-single-limit"),
        t!("col-hours"),
        t!("col-offline-amount"),
        t!("col-pending"),
        t!("col-blank"),
    ];
    let rows: Vec<[String; 7]> = kinds
        .iter()
        .map(|k| {
            let st = &k.status;
            [
                kind_name(k.kind),
                if st.authorized {
                    t!("out-yes")
                } else {
                    t!("out-no")
                },
                st.limits.single_limit.to_string(),
                st.limits.offline_hours.to_string(),
                st.limits.offline_amount.to_string(),
                st.pending_count.to_string(),
                st.blank_left.to_string(),
            ]
        })
        .collect();
    // The English layout of before: at least 13, 4, 14, 6, 14, 8 and 8 columns.
    let mut cols = [13, 4, 14, 6, 14, 8, 8];
    for row in std::iter::once(&head).chain(&rows) {
        for (c, cell) in cols.iter_mut().zip(row) {
            *c = (*c).max(width(cell));
        }
    }
    let line = |row: &[String; 7]| {
        let mut out = left(&row[0], cols[0]);
        for (cell, c) in row.iter().zip(cols).skip(1) {
            out.push(' ');
            out.push_str(&right(cell, c));
        }
        out
    };
    println!("{}", line(&head));
    for r in &rows {
        println!("{}", line(r));
    }
}

/// One oil stock line (H15).
pub fn oil_line(o: &taxdisk_protocol::types::OilStockEntry) -> String {
    t!(
        "out-oil-stock",
        category = o.category,
        quantity = format!("{}.{:03}", o.milli_quantity / 1000, o.milli_quantity % 1000),
        unit = o.unit
    )
}
