//! The catalogues are complete and consistent: both languages hold the same keys, each message
//! uses the same variables in both, every wire error and disk command has its message, and
//! every message renders with its variables filled (no Fluent error, no `{$name}` left).
#![allow(clippy::unwrap_used)] // a failed unwrap fails the test

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
use std::collections::{BTreeMap, BTreeSet};
use taxdisk_i18n::{Lang, SOURCES, WireError, render_checked};

/// key -> the variables its value uses, per language; fails on a parse error or a key defined
/// twice.
fn catalogue(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for s in SOURCES.iter().filter(|s| s.lang == lang) {
        let res = fluent_syntax::parser::parse(s.text)
            .unwrap_or_else(|(_, errs)| panic!("{} {}: {errs:?}", lang.tag(), s.file));
        for entry in res.body {
            if let Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(p) = &m.value {
                    pattern_vars(p, &mut vars);
                }
                let key = m.id.name.to_owned();
                assert!(
                    out.insert(key.clone(), vars).is_none(),
                    "{} {}: {key} defined twice",
                    lang.tag(),
                    s.file
                );
            }
        }
    }
    out
}

fn pattern_vars(p: &Pattern<&str>, vars: &mut BTreeSet<String>) {
    for el in &p.elements {
        if let PatternElement::Placeable { expression } = el {
            expr_vars(expression, vars);
        }
    }
}

fn expr_vars(e: &Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        Expression::Inline(i) => inline_vars(i, vars),
        Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
    }
}

fn inline_vars(i: &InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match i {
        InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_owned());
        }
        InlineExpression::Placeable { expression } => expr_vars(expression, vars),
        _ => {}
    }
}

#[test]
fn catalogues_parse_cleanly_and_hold_the_same_keys() {
    let en = catalogue(Lang::En);
    let zh = catalogue(Lang::ZhCn);
    let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
    let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(only_en.is_empty(), "missing in zh-CN: {only_en:?}");
    assert!(only_zh.is_empty(), "missing in en: {only_zh:?}");
    for (key, vars) in &en {
        assert_eq!(
            vars, &zh[key],
            "{key}: variables differ between en and zh-CN"
        );
    }
    assert!(en.len() > 200, "only {} messages", en.len());
}

#[test]
fn every_key_renders_in_both_languages_with_its_variables_filled() {
    for lang in Lang::ALL {
        for (key, vars) in catalogue(lang) {
            let args: Vec<(&str, String)> = vars
                .iter()
                .map(|v| (v.as_str(), format!("<{v}>")))
                .collect();
            let text = render_checked(lang, &key, &args).unwrap();
            assert!(!text.contains("{$"), "{key}: {text}");
            for v in &vars {
                assert!(text.contains(&format!("<{v}>")), "{key} drops {v}: {text}");
            }
            // Without its arguments a message with variables reports the missing ones.
            if !vars.is_empty() {
                assert!(render_checked(lang, &key, &[]).is_err(), "{key}");
            }
        }
    }
}

#[test]
fn every_wire_error_has_its_message_and_english_is_the_firmware_text() {
    let en = catalogue(Lang::En);
    let zh = catalogue(Lang::ZhCn);
    for e in WireError::ALL {
        let key = taxdisk_i18n::wire_key(*e);
        assert!(en.contains_key(&key) && zh.contains_key(&key), "{key}");
        assert_eq!(render_checked(Lang::En, &key, &[]).unwrap(), e.message());
        let zh_text = render_checked(Lang::ZhCn, &key, &[]).unwrap();
        assert!(!zh_text.is_ascii(), "{key} is not translated: {zh_text}");
    }
    // The English line is the error's Display.
    taxdisk_i18n::set(Lang::En);
    for e in WireError::ALL {
        assert_eq!(taxdisk_i18n::wire_line(*e), e.to_string());
    }
}

#[test]
fn every_disk_command_has_its_name() {
    for c in taxdisk_protocol::command::CommandId::ALL {
        let key = format!("command-{}", c.name());
        assert_eq!(render_checked(Lang::En, &key, &[]).unwrap(), c.name());
        assert!(!render_checked(Lang::ZhCn, &key, &[]).unwrap().is_ascii());
    }
}

#[test]
fn english_phrases_are_keyed_by_their_own_words() {
    for (key, _) in catalogue(Lang::En)
        .iter()
        .filter(|(k, _)| k.starts_with("phrase-"))
    {
        let text = render_checked(Lang::En, key, &[]).unwrap();
        assert_eq!(&taxdisk_i18n::phrase_key(&text), key, "{text}");
    }
}

#[test]
fn faq_quoted_messages_are_word_for_word() {
    // The real software's messages as the FAQ (seeds/000_c954ea0c38765a62.txt) quotes them.
    let quoted = [
        ("wire-ZeroTotal", "非空白作废发票，合计金额不能为零"), // FAQ 4.10
        ("inv-zero-total", "非空白作废发票，合计金额不能为零(D5)"), // FAQ 4.10
        ("wire-NoBlankNumber", "无发票信息，不能开票"),         // FAQ 4.8
        ("wire-OfflineHoursExceeded", "有未上传的发票，不允许开票"), // FAQ 4.9
        ("wire-UploadDeadlinePassed", "有未上传的发票，不允许开票"), // FAQ 4.9
        ("inv-text", "格式错误或超过允许的最大长度(H7)"),       // FAQ 4.18
        ("inv-too-long", "格式错误或超过允许的最大长度(H7)"),   // FAQ 4.18
        ("store-name-taken", "开票员和管理员的名字不能相同(H2)"), // FAQ 2.2
        (
            "bureau-form_used",
            "一张信息表只能对应开具一张红字发票，不能重复使用",
        ), // FAQ 7.4
        (
            "red-form-used",
            "一张信息表只能对应开具一张红字发票，不能重复使用",
        ), // FAQ 7.4
        (
            "clear-not-declared",
            "由于本月没有申报或申报数据错误，请将数据修改正确，重新申报后再清卡(H12)",
        ), // FAQ 9.10(3)
        (
            "wf-return-before-report",
            "征期起始日开始，至读入征期报税成功标志期间，不能执行退回发票操作(D4)",
        ), // FAQ 4.21(4)
        (
            "wire-AlreadyReported",
            "已经抄税的发票不能作废，包括正数发票和负数发票",
        ), // FAQ 5.8
        ("wire-OilSpecialNoVoid", "成品油专用发票不能作废, 只能冲红"), // FAQ 8.6
    ];
    let faq_text = include_str!("../locales/faq-quotes.txt");
    let zh = catalogue(Lang::ZhCn);
    for (key, quote) in quoted {
        let args: Vec<(&str, String)> = zh[key]
            .iter()
            .map(|v| (v.as_str(), String::from("x")))
            .collect();
        let text = render_checked(Lang::ZhCn, key, &args).unwrap();
        assert!(text.starts_with(quote), "{key}: {text}");
        let bare = quote.split('(').next().unwrap();
        assert!(faq_text.contains(bare), "{key}: not in the FAQ: {bare}");
    }
}
