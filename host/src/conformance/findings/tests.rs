//! Each finding has its message in both languages and is found by its English text; a finding
//! about a mismatching record reads as words and values, never as a `Debug` dump.
#![allow(clippy::unwrap_used)] // a failed unwrap fails the test

use super::*;
use crate::l10n::known::reason;
use taxdisk_i18n::{Lang, render_checked};
use taxdisk_protocol::types::{DeviceSerial, Fen, InvoiceKind, Signature, Variant};

/// What a Rust `Debug` dump of a record leaves in a text.
const DEBUG_ARTEFACTS: &[&str] = &[
    "{ ",
    " }",
    "Some(",
    "None",
    "IssuedInvoice",
    "RedRef",
    "Original",
    "Period",
    "Timestamp",
    "InvoiceCode",
    "InvoiceNumber",
    "Fen(",
    "year:",
    "month:",
];

/// Runs `f` in `lang` (the tests that set the process's language take turns).
fn in_lang<T>(lang: Lang, f: impl FnOnce() -> T) -> T {
    let _turn = crate::l10n::tests::LANG
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    taxdisk_i18n::set(lang);
    let out = f();
    taxdisk_i18n::set(Lang::En);
    out
}

fn red_invoice() -> Signed<IssuedInvoice> {
    let code = InvoiceCode::new("035022600004").unwrap();
    Signed {
        body: IssuedInvoice {
            serial: DeviceSerial::new("661100000007").unwrap(),
            machine: 0,
            kind: InvoiceKind::Normal,
            variant: Variant::Standard,
            code: code.clone(),
            number: InvoiceNumber::new(12).unwrap(),
            counter: 9,
            time: Timestamp::cst(2026, 11, 10, 10, 0),
            request_id: [7; 16],
            content_digest: [0; 32],
            buyer: None,
            amount: Fen(-30_000),
            tax: Fen(-3_900),
            red: Some(RedRef::Original {
                code,
                number: InvoiceNumber::new(3).unwrap(),
            }),
            oil: None,
        },
        signature: Signature::from_bytes(&[1; 64]),
    }
}

#[test]
fn every_finding_has_its_message_and_is_found_by_its_text() {
    for f in FINDINGS.iter().chain(PLAIN) {
        let n = f.text.matches("{}").count();
        let args: Vec<(&str, String)> = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
            .iter()
            .take(n)
            .map(|a| (*a, format!("X{a}")))
            .collect();
        let en = render_checked(Lang::En, f.key, &args).unwrap();
        // The catalogue's English is the suite's own text.
        let parts: Vec<String> = args.iter().map(|(_, v)| v.clone()).collect();
        let refs: Vec<&dyn Display> = parts.iter().map(|p| p as &dyn Display).collect();
        assert_eq!(en, f.say(&refs), "{}", f.key);
        let zh = in_lang(Lang::ZhCn, || reason(&en));
        assert!(!zh.is_ascii(), "{}: {zh}", f.key);
        for p in &parts {
            assert!(zh.contains(p.as_str()), "{}: {p} lost: {zh}", f.key);
        }
    }
}

#[test]
fn a_mismatching_red_invoice_reads_as_words_in_both_languages() {
    let red = red_invoice();
    let expected = RedRef::Original {
        code: InvoiceCode::new("035022600004").unwrap(),
        number: InvoiceNumber::new(4).unwrap(),
    };
    let en = RED.say(&[
        &invoice(Some(&red)),
        &red.body.amount,
        &red_ref(red.body.red.as_ref()),
        &Fen(-40_000),
        &red_ref(Some(&expected)),
    ]);
    assert_eq!(
        en,
        "red invoice 035022600004 00000012: amount -300.00 yuan, reverses 035022600004 \
         00000003; expected amount -400.00 yuan, reverses 035022600004 00000004"
    );
    let zh = in_lang(Lang::ZhCn, || reason(&en));
    assert_eq!(
        zh,
        "红字发票 035022600004 00000012：金额 -300.00 元，冲销 035022600004 00000003；\
         应为金额 -400.00 元，冲销 035022600004 00000004"
    );
    for text in [&en, &zh] {
        for artefact in DEBUG_ARTEFACTS {
            assert!(!text.contains(artefact), "{artefact}: {text}");
        }
    }
}

#[test]
fn a_wrong_clear_card_names_periods_and_china_time() {
    let lock = Timestamp::cst(2026, 12, 15, 0, 0);
    let en = CLEARED.say(&[
        &period(None),
        &time(Some(lock)),
        &period(Some(Period::new(2026, 11).unwrap())),
        &time(Some(lock)),
    ]);
    assert_eq!(
        en,
        "after ClearCard the last cleared period is none and the lock time 2026-12-15 \
         00:00:00 (China time); expected 2026-11 and 2026-12-15 00:00:00"
    );
    let zh = in_lang(Lang::ZhCn, || reason(&en));
    assert_eq!(
        zh,
        "清卡后最近清卡所属期为 无，锁死时间为 2026-12-15 00:00:00（北京时间）；\
         应为 2026-11 和 2026-12-15 00:00:00"
    );
    for text in [&en, &zh] {
        for artefact in DEBUG_ARTEFACTS {
            assert!(!text.contains(artefact), "{artefact}: {text}");
        }
    }
}

#[test]
fn a_summary_total_names_the_kind_and_the_total() {
    let mut got = BTreeMap::new();
    let mut want = BTreeMap::new();
    got.insert(
        InvoiceKind::Normal,
        KindSummary {
            positive_count: 2,
            positive_amount: Fen(20_000),
            ..KindSummary::default()
        },
    );
    want.insert(
        InvoiceKind::Normal,
        KindSummary {
            positive_count: 2,
            positive_amount: Fen(30_000),
            ..KindSummary::default()
        },
    );
    let (kind, total, g, w) = summary_difference(&got, &want).unwrap();
    let en = SUMMARY_TOTAL.say(&[&kind, &total, &g, &w]);
    assert_eq!(
        en,
        "summary of normal: blue amount is 200.00, the journal gives 300.00"
    );
    let zh = in_lang(Lang::ZhCn, || reason(&en));
    assert!(zh.contains("蓝字金额为 200.00"), "{zh}");
    assert!(!zh.contains("normal"), "{zh}");
    assert_eq!(summary_difference(&got, &got), None);
}

#[test]
fn counters_and_rolls_are_compact() {
    assert_eq!(counters(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
    assert_eq!(counters(&[]), "none");
}

/// The scenarios' sources, for the names of what their refusal checks try.
const SCENARIO_SOURCES: &[&str] = &[
    include_str!("../scenarios/clock.rs"),
    include_str!("../scenarios/durable.rs"),
    include_str!("../scenarios/issue.rs"),
    include_str!("../scenarios/limits.rs"),
    include_str!("../scenarios/oil.rs"),
    include_str!("../scenarios/period.rs"),
    include_str!("../scenarios/provision.rs"),
    include_str!("../scenarios/red_void.rs"),
    include_str!("../scenarios/rolls.rs"),
    include_str!("../scenarios/session.rs"),
    include_str!("../scenarios/update.rs"),
    include_str!("../scenarios/upload.rs"),
    include_str!("../scenarios/wire.rs"),
];

#[test]
fn what_every_refusal_check_tries_is_named_in_chinese() {
    // `refused(call, WireError::X, "what")` and `raw_refused(...)`: the line after the
    // expected error is the operation's English name, the finding's first value.
    let mut whats = Vec::new();
    for src in SCENARIO_SOURCES {
        let lines: Vec<&str> = src.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            if pair[0].starts_with("WireError::")
                && pair[0].ends_with(',')
                && pair[1].starts_with('"')
            {
                whats.push(pair[1].trim_end_matches(',').trim_matches('"').to_owned());
            }
        }
    }
    assert!(whats.len() > 60, "{whats:?}");
    let finding = |what: &str| {
        format!("{what}: expected refusal ZeroTotal (0x0502), got Busy: the disk is busy")
    };
    for what in &whats {
        let zh = in_lang(Lang::ZhCn, || reason(&finding(what)));
        assert!(
            !zh.contains(what.as_str()),
            "{what}: no phrase-* for it: {zh}"
        );
        assert!(zh.contains("（0x0502）"), "{zh}");
    }
    let en = in_lang(Lang::En, || reason(&finding("voiding twice")));
    assert_eq!(en, finding("voiding twice"));
}

/// `text` with each `{name}`, `{:08}`, `{}` as `{}`.
fn placeholders_bare(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in text.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('{');
            }
            '}' if inside => {
                inside = false;
                out.push('}');
            }
            _ if inside => {}
            c => out.push(c),
        }
    }
    out
}

#[test]
fn every_plain_finding_is_a_text_the_scenarios_write() {
    let context = include_str!("../scenarios/context.rs");
    let mut texts = Vec::new();
    for src in SCENARIO_SOURCES.iter().chain([&context]) {
        for (i, piece) in src.split('"').enumerate() {
            if i % 2 == 1 {
                texts.push(placeholders_bare(piece));
            }
        }
    }
    for f in PLAIN {
        assert!(
            texts.iter().any(|t| t == f.text),
            "{}: no scenario writes {:?}",
            f.key,
            f.text
        );
    }
}
