//! The suite's findings about a disk's records: each an English text with `{}` where a value
//! goes and its catalogue key (`suite-find-*`), and the readable, language-neutral renderings of
//! the values (invoice code and number, amounts in yuan, periods as `YYYY-MM`, times in China
//! time). A failed row keeps the English text (JUnit shows it as it is); the table shows it
//! in the process's language through [`crate::l10n::known::reason`], which finds the finding
//! by its text and passes the values to the key as `a`, `b`, `c`, ... in order.
//!
//! A value is never a Rust `Debug` dump: a word among the values (`none`, `yes`, `same`, an
//! invoice kind, a command's name) is one the catalogue translates.

mod plain;

pub use plain::PLAIN;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use taxdisk_protocol::frame::Refusal;
use taxdisk_protocol::types::{
    InvoiceCode, InvoiceKind, InvoiceNumber, IssuedInvoice, JournalEvent, KindSummary,
    OilStockEntry, RedRef, Roll, Signed,
};
use taxdisk_protocol::{Period, Response, Timestamp};

/// A finding's English text and its catalogue key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The English text, `{}` where a value goes.
    pub text: &'static str,
    /// Its catalogue key.
    pub key: &'static str,
}

impl Finding {
    /// The English text with `parts` at its `{}`, in order (a missing part leaves `{}`).
    pub fn say(&self, parts: &[&dyn Display]) -> String {
        let mut out = String::new();
        let mut parts = parts.iter();
        let mut pieces = self.text.split("{}").peekable();
        while let Some(piece) = pieces.next() {
            out.push_str(piece);
            if pieces.peek().is_some() {
                match parts.next() {
                    Some(p) => out.push_str(&p.to_string()),
                    None => out.push_str("{}"),
                }
            }
        }
        out
    }
}

macro_rules! findings {
    ($($(#[$doc:meta])* $name:ident = $text:literal, $key:literal;)*) => {
        $(
            $(#[$doc])*
            pub const $name: Finding = Finding { text: $text, key: $key };
        )*
        /// Every finding, for [`crate::l10n::known::reason`] and the tests.
        pub const FINDINGS: &[Finding] = &[$($name),*];
    };
}

findings! {
    /// A control request answered with an error.
    CONTROL_ERROR = "control {} answered error: {}", "suite-find-control-error";
    /// A command that should be refused was carried out.
    NOT_REFUSED = "{}: expected refusal {} ({}), the disk carried it out", "suite-find-not-refused";
    /// D13: the newest invoice after a power cycle.
    NEWEST_AFTER_CYCLE = "after a power cycle the newest invoice is {}, expected {}",
        "suite-find-newest-after-cycle";
    /// D13: LastIssued after the retry of a cut issue.
    LAST_AFTER_RETRY = "LastIssued after the retry answered {}, expected {}",
        "suite-find-last-after-retry";
    /// D5: LastIssued of a kind (or of any).
    LAST_ISSUED = "LastIssued of {} answered {}, expected {}", "suite-find-last-issued";
    /// D5: the signed invoice against the request.
    FIELDS = "the invoice does not carry the request's fields: amount {} (sent {}), tax {} (sent {}), buyer {} (sent {}), kind {} (sent {}), content digest {}",
        "suite-find-fields";
    /// D5: ReadInvoice of the invoice just issued.
    READ_INVOICE = "ReadInvoice answered {}: {} as issued, voided {}, uploaded {}",
        "suite-find-read-invoice";
    /// D5: a retry answered with another invoice.
    RETRY_OTHER = "a retry with the same request id answered another invoice: {} at counter {} then {} at counter {}",
        "suite-find-retry-other";
    /// D9: the status after one offline invoice.
    OFFLINE_STATUS = "status after one offline invoice: {} pending of {} yuan, expected 1 of {} yuan",
        "suite-find-offline-status";
    /// D9: zero limits, and the disk issued.
    OFFLINE_ZERO_ISSUED = "limits of 0 with one invoice offline: expected an offline refusal, the disk issued {}",
        "suite-find-offline-zero-issued";
    /// D9: zero limits, and the disk refused otherwise.
    OFFLINE_ZERO_OTHER = "limits of 0 with one invoice offline: expected an offline refusal, got {}",
        "suite-find-offline-zero-other";
    /// D11: LoadOilStock's answer.
    OIL_LOADED = "LoadOilStock answered category {}, {} {}; expected category {}, {} {}",
        "suite-find-oil-loaded";
    /// D11: the oil return receipt.
    OIL_RECEIPT = "oil return receipt: category {}, {} {}, disk {}; expected category {}, {} {}, disk {}",
        "suite-find-oil-receipt";
    /// D8: the period after moving the clock.
    PERIOD_AFTER_MOVE = "after moving the clock the disk is in period {}, expected {}",
        "suite-find-period-after-move";
    /// D8: the summary's header.
    SUMMARY_HEADER = "summary header: disk {}, period {}, taxpayer {}; expected disk {}, period {}, taxpayer {}",
        "suite-find-summary-header";
    /// D8: one total of the summary against the journal.
    SUMMARY_TOTAL = "summary of {}: {} is {}, the journal gives {}", "suite-find-summary-total";
    /// D8: the state after ClearCard.
    CLEARED = "after ClearCard the last cleared period is {} and the lock time {} (China time); expected {} and {}",
        "suite-find-cleared";
    /// D1: the taxpayer id after provisioning.
    TAXPAYER = "taxpayer id {}, expected {}", "suite-find-taxpayer";
    /// D1: the company name after provisioning.
    COMPANY = "company name {}, expected {}", "suite-find-company";
    /// D1: the lock time after provisioning.
    LOCK_TIME = "lock time {} (China time), expected {}", "suite-find-lock-time";
    /// D6: the red invoice.
    RED = "red invoice {}: amount {} yuan, reverses {}; expected amount {} yuan, reverses {}",
        "suite-find-red";
    /// D7: the void event.
    VOID_EVENT = "void event of {} at counter {} voids counter {}; expected {} at counter {} voiding counter {}",
        "suite-find-void-event";
    /// D7: the blank void.
    BLANK_VOID = "blank void of {} numbers from {}; expected {} from {}", "suite-find-blank-void";
    /// D4: the roll loaded.
    ROLL_LOADED = "loaded roll: {} {}, {} numbers, {} used; expected {} {}, {} numbers, {} used",
        "suite-find-roll-loaded";
    /// D4: the roll loaded is not listed.
    ROLL_NOT_LISTED = "ListRolls does not list the loaded roll {}; it lists {}",
        "suite-find-roll-not-listed";
    /// D4: the return receipt.
    RETURN_RECEIPT = "return receipt: {} {}, {} numbers; expected {} {}, {} numbers",
        "suite-find-return-receipt";
    /// D4: the returned roll still has numbers.
    ROLL_STILL = "the returned roll {} still has {} numbers", "suite-find-roll-still";
    /// D14: what a second session was answered.
    SECOND_SESSION = "{} of a second session answered {}", "suite-find-second-session";
    /// D14: Login of the second session after the first logged out.
    SECOND_AFTER_LOGOUT = "Login of the second session after the first logged out answered {}",
        "suite-find-second-after-logout";
    /// D12: the pending counters.
    PENDING = "pending counters {}, expected {}", "suite-find-pending";
    /// D12: ReadEvent against ListPending.
    READ_EVENT = "ReadEvent({}) answered the {} of {} at counter {}, uploaded {}; ListPending gave the {} of {} at counter {}",
        "suite-find-read-event";
    /// D12: a kind's status after the upload.
    UPLOAD_STATUS = "{} status after upload: {} pending, oldest {}, amount {} yuan",
        "suite-find-upload-status";
}

/// `none`: an absent value (the catalogue translates it).
pub const NONE: &str = "none";

/// An invoice's code and number as printed: `035022600004 00000001`.
pub fn number(code: &InvoiceCode, number: InvoiceNumber) -> String {
    format!("{code} {number}")
}

/// An invoice's code and number, or `none`.
pub fn invoice(i: Option<&Signed<IssuedInvoice>>) -> String {
    i.map_or_else(|| NONE.into(), |i| number(&i.body.code, i.body.number))
}

/// A value, or `none`.
pub fn opt<T: Display>(v: Option<T>) -> String {
    v.map_or_else(|| NONE.into(), |v| v.to_string())
}

/// A period as `YYYY-MM`, or `none`.
pub fn period(p: Option<Period>) -> String {
    p.map_or_else(|| NONE.into(), |p| format!("{:04}-{:02}", p.year, p.month))
}

/// An instant in China time, `YYYY-MM-DD HH:MM:SS`, or `none`.
pub fn time(t: Option<Timestamp>) -> String {
    opt(t)
}

/// `yes` or `no` (the catalogue translates them).
pub fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `same` or `different` (the catalogue translates them).
pub fn same(b: bool) -> &'static str {
    if b { "same" } else { "different" }
}

/// What a red invoice reverses: the original's code and number, or `red info form N`.
pub fn red_ref(r: Option<&RedRef>) -> String {
    match r {
        None => NONE.into(),
        Some(RedRef::Original { code, number: n }) => number(code, *n),
        Some(RedRef::InfoForm(form)) => format!("red info form {form}"),
    }
}

/// Oil in its unit with three decimals: `10000.000`.
pub fn oil_quantity(e: &OilStockEntry) -> String {
    let q = e.milli_quantity;
    let sign = if q < 0 { "-" } else { "" };
    let a = q.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

/// A roll's numbers: `035022600004 00000001-00000050`.
pub fn roll(r: &Roll) -> String {
    let last = r.first.get().saturating_add(r.count.saturating_sub(1));
    format!("{} {}-{last:08}", r.code, r.first)
}

/// Rolls, or `none`.
pub fn rolls(rs: &[Roll]) -> String {
    if rs.is_empty() {
        return NONE.into();
    }
    rs.iter().map(roll).collect::<Vec<_>>().join(", ")
}

/// Journal counters: a run of consecutive ones as `3-7`, others listed, or `none`.
pub fn counters(cs: &[u64]) -> String {
    if cs.is_empty() {
        return NONE.into();
    }
    let mut out: Vec<String> = Vec::new();
    let mut start = cs[0];
    let mut prev = cs[0];
    for &c in &cs[1..] {
        if c == prev.saturating_add(1) {
            prev = c;
            continue;
        }
        out.push(run(start, prev));
        start = c;
        prev = c;
    }
    out.push(run(start, prev));
    out.join(", ")
}

fn run(a: u64, b: u64) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

/// A journal event's kind (`invoice`, `void`, `blank void`), its invoice numbers and its
/// counter.
pub fn event(e: &JournalEvent) -> (&'static str, String, u64) {
    match e {
        JournalEvent::Invoice(s) => (
            "invoice",
            number(&s.body.code, s.body.number),
            s.body.counter,
        ),
        JournalEvent::Void(s) => ("void", number(&s.body.code, s.body.number), s.body.counter),
        JournalEvent::BlankVoid(s) => {
            let last = s
                .body
                .first
                .get()
                .saturating_add(s.body.count.saturating_sub(1));
            (
                "blank void",
                format!("{} {}-{last:08}", s.body.code, s.body.first),
                s.body.counter,
            )
        }
    }
}

/// A raw answer: the command it answers (`GetInfo`), or the refusal's name (`Busy`); the
/// catalogue translates both.
pub fn raw(r: &Result<Response, Refusal>) -> String {
    match r {
        Ok(v) => v.id().name().to_owned(),
        Err(x) => x.error.name().to_owned(),
    }
}

/// The first total where a summary (`got`) and the journal (`want`) differ: the kind's name,
/// the total's name (`blue amount`, ...) and both values. A kind missing on one side counts as
/// all zeros.
pub fn summary_difference(
    got: &BTreeMap<InvoiceKind, KindSummary>,
    want: &BTreeMap<InvoiceKind, KindSummary>,
) -> Option<(&'static str, &'static str, String, String)> {
    let zero = KindSummary::default();
    let kinds: BTreeSet<&InvoiceKind> = got.keys().chain(want.keys()).collect();
    for k in kinds {
        let g = got.get(k).unwrap_or(&zero);
        let w = want.get(k).unwrap_or(&zero);
        let totals: [(&'static str, String, String); 8] = [
            (
                "blue invoices",
                g.positive_count.to_string(),
                w.positive_count.to_string(),
            ),
            (
                "blue amount",
                g.positive_amount.to_string(),
                w.positive_amount.to_string(),
            ),
            (
                "blue tax",
                g.positive_tax.to_string(),
                w.positive_tax.to_string(),
            ),
            (
                "red invoices",
                g.negative_count.to_string(),
                w.negative_count.to_string(),
            ),
            (
                "red amount",
                g.negative_amount.to_string(),
                w.negative_amount.to_string(),
            ),
            (
                "red tax",
                g.negative_tax.to_string(),
                w.negative_tax.to_string(),
            ),
            (
                "voided invoices",
                g.void_count.to_string(),
                w.void_count.to_string(),
            ),
            (
                "blank voided numbers",
                g.blank_void_count.to_string(),
                w.blank_void_count.to_string(),
            ),
        ];
        if let Some((name, a, b)) = totals.into_iter().find(|(_, a, b)| a != b) {
            return Some((k.name(), name, a, b));
        }
    }
    None
}

#[cfg(test)]
mod tests;
