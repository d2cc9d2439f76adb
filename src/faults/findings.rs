//! What an invariant found, kept as data: one [`Finding`] per outcome, each with its catalogue
//! key (`faults-find-*`, `locales/*/reports.ftl`) and its values, rendered in the process's
//! language only when the report is shown.

use super::*;
use crate::tables::state_name;
use taxdisk_i18n::phrase;

/// One outcome of an invariant check: what held (the line of a passed invariant) or one
/// violation. Values are kept as they are; [`fmt::Display`] words them in the process's
/// language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// Invariant 1 held: this many answered invoices are in the journal and the store.
    NoneLost {
        /// Invoices answered.
        answered: usize,
    },
    /// An answered invoice missing from the journal or the store.
    Lost {
        /// Its invoice code.
        code: String,
        /// Its invoice number.
        number: u32,
        /// Its journal counter.
        counter: u64,
        /// Its store row.
        row: i64,
        /// Whether the journal holds it as answered.
        on_disk: bool,
        /// Whether the store holds it with that disk record.
        in_store: bool,
    },
    /// Invariant 2 held.
    NoneDoubled {
        /// Invoice numbers used, each once.
        numbers: usize,
        /// Request ids used, each once.
        requests: usize,
    },
    /// One invoice number used by two journal events.
    NumberTwice {
        /// The invoice code.
        code: String,
        /// The invoice number.
        number: u32,
        /// The first event's counter.
        first: u64,
        /// The second event's counter.
        second: u64,
    },
    /// One request id used by two journal invoices.
    RequestTwice {
        /// The first event's counter.
        first: u64,
        /// The second event's counter.
        second: u64,
    },
    /// One invoice number on two store rows.
    RowsTwice {
        /// The invoice code.
        code: String,
        /// The invoice number.
        number: u32,
        /// The first row.
        first: i64,
        /// The second row.
        second: i64,
    },
    /// Invariant 3 held.
    Monotonic {
        /// Journal events, counters 1..=events.
        events: usize,
    },
    /// A journal event read at one counter carries another.
    CounterMismatch {
        /// The counter it was read at.
        at: u64,
        /// The counter it carries.
        carries: u64,
    },
    /// A journal event older than the one before it.
    OlderEvent {
        /// Its counter.
        counter: u64,
    },
    /// The disk's counter went back between two steps.
    CounterWentBack {
        /// The step after which it was read (English, a phrase of the catalogue).
        after: String,
        /// The counter read.
        counter: u64,
        /// The highest counter seen before.
        seen: u64,
    },
    /// Invariant 4 held.
    Intact {
        /// Journal events read.
        events: usize,
    },
    /// The disk's public key does not parse.
    PublicKey {
        /// Why (the signing library's words).
        error: String,
    },
    /// A journal event missing or with a failing signature.
    EventBroken {
        /// Its counter.
        counter: u64,
    },
    /// Invariant 5 held.
    Agree {
        /// Store rows.
        rows: usize,
        /// Journal invoices.
        invoices: usize,
        /// Voids.
        voids: usize,
    },
    /// Store rows still pending after the repair.
    RowsPending {
        /// How many.
        rows: usize,
    },
    /// A store row that could not be read.
    RowUnreadable {
        /// The row.
        row: i64,
        /// Why, in the process's language.
        error: String,
    },
    /// An issued store row without the disk's record.
    RowWithoutDisk {
        /// The row.
        row: i64,
    },
    /// A store row whose disk record is not the journal's invoice at its counter.
    RowNotJournal {
        /// The row.
        row: i64,
        /// The counter its disk record names.
        counter: u64,
    },
    /// Voided on the disk but not in the store, or the other way round.
    VoidDisagrees {
        /// The row.
        row: i64,
        /// Whether the journal voids it.
        on_disk: bool,
        /// The row's state.
        state: InvoiceState,
    },
    /// A store row not marked uploaded after the final upload.
    RowNotUploaded {
        /// The row.
        row: i64,
    },
    /// A journal invoice no store row holds.
    JournalNotInStore {
        /// Its counter.
        counter: u64,
    },
    /// A journal event the bureau did not acknowledge after the final upload.
    NotAcknowledged {
        /// Its counter.
        counter: u64,
    },
    /// Invariant 6 held.
    BlankOnce {
        /// Blank-void events.
        events: usize,
    },
    /// A blank-void event on the disk nobody was answered for.
    BlankNeverAnswered {
        /// Its counter.
        counter: u64,
    },
    /// A blank void answered as an event the disk does not hold.
    BlankNotOnDisk {
        /// The counter answered.
        counter: u64,
    },
    /// Invariant 7 held.
    BureauSame {
        /// Events sent again.
        events: usize,
    },
    /// The bureau's counter is not the disk's.
    BureauThrough {
        /// The bureau's gapless counter.
        bureau: u64,
        /// The disk's.
        disk: u64,
    },
    /// The bureau's record of the disk could not be read.
    BureauRecord {
        /// Why.
        error: String,
    },
    /// The bureau rejected an event.
    BureauRejected {
        /// When (a step of the campaign, English, a phrase of the catalogue).
        step: &'static str,
        /// The event's counter.
        counter: u64,
        /// The bureau's stable code.
        code: String,
        /// The bureau's own message.
        message: String,
    },
    /// Sending the journal again failed.
    Resend {
        /// Why.
        error: String,
    },
    /// Invariant 8 held.
    Explained {
        /// Errors met, each explained.
        errors: u64,
    },
    /// An error of a step the faults do not explain.
    Unexplained {
        /// The step (English, a phrase of the catalogue).
        step: String,
        /// What went wrong, in the process's language.
        error: String,
    },
    /// A store row issued without a disk record.
    IssuedWithoutDisk {
        /// The row.
        row: i64,
    },
    /// More violations than the line shows.
    More {
        /// How many more.
        more: usize,
    },
}

/// `yes` / `no` in the process's language.
fn yes_no(b: bool) -> String {
    tr(if b { "faults-yes" } else { "faults-no" }, &[])
}

/// An invoice number as printed: eight digits.
fn number(n: u32) -> String {
    format!("{n:08}")
}

impl Finding {
    /// The catalogue key and arguments of this finding.
    pub fn message(&self) -> (&'static str, Vec<(&'static str, String)>) {
        use Finding as F;
        let s = |v: &dyn fmt::Display| v.to_string();
        match self {
            F::NoneLost { answered } => ("faults-find-none-lost", vec![("n", s(answered))]),
            F::Lost {
                code,
                number: n,
                counter,
                row,
                on_disk,
                in_store,
            } => (
                "faults-find-lost",
                vec![
                    ("code", code.clone()),
                    ("number", number(*n)),
                    ("counter", s(counter)),
                    ("row", s(row)),
                    ("on_disk", yes_no(*on_disk)),
                    ("in_store", yes_no(*in_store)),
                ],
            ),
            F::NoneDoubled { numbers, requests } => (
                "faults-find-none-doubled",
                vec![("numbers", s(numbers)), ("requests", s(requests))],
            ),
            F::NumberTwice {
                code,
                number: n,
                first,
                second,
            } => (
                "faults-find-number-twice",
                vec![
                    ("code", code.clone()),
                    ("number", number(*n)),
                    ("first", s(first)),
                    ("second", s(second)),
                ],
            ),
            F::RequestTwice { first, second } => (
                "faults-find-request-twice",
                vec![("first", s(first)), ("second", s(second))],
            ),
            F::RowsTwice {
                code,
                number: n,
                first,
                second,
            } => (
                "faults-find-rows-twice",
                vec![
                    ("code", code.clone()),
                    ("number", number(*n)),
                    ("first", s(first)),
                    ("second", s(second)),
                ],
            ),
            F::Monotonic { events } => ("faults-find-monotonic", vec![("n", s(events))]),
            F::CounterMismatch { at, carries } => (
                "faults-find-counter-mismatch",
                vec![("at", s(at)), ("carries", s(carries))],
            ),
            F::OlderEvent { counter } => ("faults-find-older-event", vec![("counter", s(counter))]),
            F::CounterWentBack {
                after,
                counter,
                seen,
            } => (
                "faults-find-counter-went-back",
                vec![
                    ("step", phrase(after)),
                    ("counter", s(counter)),
                    ("seen", s(seen)),
                ],
            ),
            F::Intact { events } => ("faults-find-intact", vec![("n", s(events))]),
            F::PublicKey { error } => ("faults-find-public-key", vec![("error", error.clone())]),
            F::EventBroken { counter } => {
                ("faults-find-event-broken", vec![("counter", s(counter))])
            }
            F::Agree {
                rows,
                invoices,
                voids,
            } => (
                "faults-find-agree",
                vec![
                    ("rows", s(rows)),
                    ("invoices", s(invoices)),
                    ("voids", s(voids)),
                ],
            ),
            F::RowsPending { rows } => ("faults-find-rows-pending", vec![("n", s(rows))]),
            F::RowUnreadable { row, error } => (
                "faults-find-row-unreadable",
                vec![("row", s(row)), ("error", error.clone())],
            ),
            F::RowWithoutDisk { row } => ("faults-find-row-without-disk", vec![("row", s(row))]),
            F::RowNotJournal { row, counter } => (
                "faults-find-row-not-journal",
                vec![("row", s(row)), ("counter", s(counter))],
            ),
            F::VoidDisagrees {
                row,
                on_disk,
                state,
            } => (
                "faults-find-void-disagrees",
                vec![
                    ("row", s(row)),
                    ("on_disk", yes_no(*on_disk)),
                    ("state", state_name(*state)),
                ],
            ),
            F::RowNotUploaded { row } => ("faults-find-row-not-uploaded", vec![("row", s(row))]),
            F::JournalNotInStore { counter } => (
                "faults-find-journal-not-in-store",
                vec![("counter", s(counter))],
            ),
            F::NotAcknowledged { counter } => (
                "faults-find-not-acknowledged",
                vec![("counter", s(counter))],
            ),
            F::BlankOnce { events } => ("faults-find-blank-once", vec![("n", s(events))]),
            F::BlankNeverAnswered { counter } => (
                "faults-find-blank-never-answered",
                vec![("counter", s(counter))],
            ),
            F::BlankNotOnDisk { counter } => (
                "faults-find-blank-not-on-disk",
                vec![("counter", s(counter))],
            ),
            F::BureauSame { events } => ("faults-find-bureau-same", vec![("n", s(events))]),
            F::BureauThrough { bureau, disk } => (
                "faults-find-bureau-through",
                vec![("bureau", s(bureau)), ("disk", s(disk))],
            ),
            F::BureauRecord { error } => {
                ("faults-find-bureau-record", vec![("error", error.clone())])
            }
            F::BureauRejected {
                step,
                counter,
                code,
                message,
            } => (
                "faults-find-bureau-rejected",
                vec![
                    ("step", phrase(step)),
                    ("counter", s(counter)),
                    ("code", code.clone()),
                    ("message", taxdisk_i18n::bureau_message(code, message)),
                ],
            ),
            F::Resend { error } => ("faults-find-resend", vec![("error", error.clone())]),
            F::Explained { errors } => ("faults-find-explained", vec![("n", s(errors))]),
            F::Unexplained { step, error } => (
                "faults-find-unexplained",
                vec![("step", phrase(step)), ("error", error.clone())],
            ),
            F::IssuedWithoutDisk { row } => {
                ("faults-find-issued-without-disk", vec![("row", s(row))])
            }
            F::More { more } => ("faults-find-more", vec![("n", s(more))]),
        }
    }
}

impl fmt::Display for Finding {
    /// The finding in the process's language.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, args) = self.message();
        f.write_str(&tr(key, &args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taxdisk_i18n::{Lang, render_checked};

    /// One finding of each kind.
    fn every_finding() -> Vec<Finding> {
        let code = || String::from("035022600004");
        vec![
            Finding::NoneLost { answered: 3 },
            Finding::Lost {
                code: code(),
                number: 7,
                counter: 9,
                row: 4,
                on_disk: true,
                in_store: false,
            },
            Finding::NoneDoubled {
                numbers: 3,
                requests: 3,
            },
            Finding::NumberTwice {
                code: code(),
                number: 7,
                first: 2,
                second: 5,
            },
            Finding::RequestTwice {
                first: 2,
                second: 5,
            },
            Finding::RowsTwice {
                code: code(),
                number: 7,
                first: 1,
                second: 2,
            },
            Finding::Monotonic { events: 9 },
            Finding::CounterMismatch { at: 3, carries: 4 },
            Finding::OlderEvent { counter: 3 },
            Finding::CounterWentBack {
                after: "month boundary".into(),
                counter: 3,
                seen: 5,
            },
            Finding::Intact { events: 9 },
            Finding::PublicKey { error: "x".into() },
            Finding::EventBroken { counter: 3 },
            Finding::Agree {
                rows: 3,
                invoices: 2,
                voids: 1,
            },
            Finding::RowsPending { rows: 2 },
            Finding::RowUnreadable {
                row: 2,
                error: "x".into(),
            },
            Finding::RowWithoutDisk { row: 2 },
            Finding::RowNotJournal { row: 2, counter: 3 },
            Finding::VoidDisagrees {
                row: 2,
                on_disk: true,
                state: InvoiceState::Issued,
            },
            Finding::RowNotUploaded { row: 2 },
            Finding::JournalNotInStore { counter: 3 },
            Finding::NotAcknowledged { counter: 3 },
            Finding::BlankOnce { events: 1 },
            Finding::BlankNeverAnswered { counter: 3 },
            Finding::BlankNotOnDisk { counter: 3 },
            Finding::BureauSame { events: 9 },
            Finding::BureauThrough { bureau: 8, disk: 9 },
            Finding::BureauRecord { error: "x".into() },
            Finding::BureauRejected {
                step: "final upload",
                counter: 3,
                code: "conflict".into(),
                message: "x".into(),
            },
            Finding::Resend { error: "x".into() },
            Finding::Explained { errors: 4 },
            Finding::Unexplained {
                step: "issue".into(),
                error: "x".into(),
            },
            Finding::IssuedWithoutDisk { row: 2 },
            Finding::More { more: 3 },
        ]
    }

    #[test]
    fn every_finding_has_its_message_in_both_languages() {
        for f in every_finding() {
            let (key, args) = f.message();
            let en = render_checked(Lang::En, key, &args).unwrap_or_else(|e| panic!("{e}"));
            let zh = render_checked(Lang::ZhCn, key, &args).unwrap_or_else(|e| panic!("{e}"));
            assert!(!zh.is_ascii(), "{key}: {zh}");
            assert_ne!(en, zh, "{key}");
            // The values are the finding's own: code and number as printed.
            if let Finding::Lost { .. } = f {
                assert!(zh.contains("035022600004 00000007"), "{zh}");
            }
        }
    }
}
