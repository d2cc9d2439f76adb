//! The messages of `taxdisk` and `taxdisk-sim` for people, in Simplified Chinese (`zh-CN`) and
//! English (`en`). One Fluent catalogue per language (`locales/LANG/*.ftl`), embedded in the
//! binary with `include_str!`: nothing is read at run time.
//!
//! Keys: the disk's wire error table (`wire-<Name>`, one per [`WireError`]), the bureau's stable
//! refusal codes (`bureau-<code>`), the rule ids the host names, and one key per CLI text.
//! Where the real software's FAQ quotes the message for a situation, the Chinese text is that
//! message word for word; the rule id follows it in brackets, e.g. `(D5)`.
//!
//! The language is chosen once per process ([`init`]): `--lang`, else the locale
//! (`LC_ALL`, `LC_MESSAGES`, `LANG`, the first one set) starting with `zh`, else English.
//! Machine outputs (`--json`, JUnit, traces, golden vectors) never go through here.
#![forbid(unsafe_code)]

mod catalog;
#[cfg(feature = "clap")]
pub mod help;
mod lang;
pub mod width;

pub use catalog::{SOURCES, Source, render_checked, render_in};
pub use lang::Lang;
pub use taxdisk_protocol::WireError;
use taxdisk_protocol::validate::FormatError;

use std::sync::atomic::{AtomicU8, Ordering};

static CURRENT: AtomicU8 = AtomicU8::new(0);

/// Sets the process's language: `flag` (the `--lang` option) if given, else the locale's
/// ([`Lang::from_env`]). Returns the language chosen.
pub fn init(flag: Option<Lang>) -> Lang {
    let lang = flag.unwrap_or_else(Lang::from_env);
    set(lang);
    lang
}

/// Sets the process's language.
pub fn set(lang: Lang) {
    CURRENT.store(lang as u8, Ordering::Relaxed);
}

/// The process's language (English until [`init`] or [`set`]).
pub fn lang() -> Lang {
    Lang::from_index(CURRENT.load(Ordering::Relaxed))
}

/// Whether the process speaks Chinese.
pub fn is_zh() -> bool {
    lang() == Lang::ZhCn
}

/// The message `key` in the process's language with its arguments.
pub fn tr(key: &str, args: &[(&str, String)]) -> String {
    render_in(lang(), key, args)
}

/// The message `key` in the process's language: `t!("key")` or `t!("key", name = value, ...)`;
/// each value is formatted with `Display`.
#[macro_export]
macro_rules! t {
    ($key:expr) => {
        $crate::tr($key, &[])
    };
    ($key:expr, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::tr($key, &[$((stringify!($name), ::std::string::ToString::to_string(&$value))),+])
    };
}

/// The catalogue key of a wire error: `wire-` and its variant name.
pub fn wire_key(e: WireError) -> String {
    format!("wire-{}", e.name())
}

/// The disk's refusal in the process's language, what the wire error table says for it.
pub fn wire_message(e: WireError) -> String {
    tr(&wire_key(e), &[])
}

/// The disk's refusal as one line: the message, its rule id and code. In English it is the
/// error's `Display` (`message (0x0502, D5)`); in Chinese `message(D5)，错误码 0x0502`.
pub fn wire_line(e: WireError) -> String {
    t!(
        "wire-line",
        message = wire_message(e),
        code = format!("0x{:04X}", e.code()),
        rule = e.rule()
    )
}

/// The catalogue key of a bureau refusal code: `bureau-` and the code.
pub fn bureau_key(code: &str) -> String {
    format!("bureau-{code}")
}

/// A bureau refusal for a person: in Chinese the catalogue's text for its stable code (the
/// bureau's own words are English, with the details), in English the bureau's message. An
/// unknown code keeps the bureau's message in both.
pub fn bureau_message(code: &str, message: &str) -> String {
    if is_zh() && catalog::has(Lang::ZhCn, &bureau_key(code)) {
        tr(&bureau_key(code), &[])
    } else {
        message.to_owned()
    }
}

/// A disk command's name for a person: `Issue` in English, 发票开具 in Chinese.
pub fn command_name(name: &str) -> String {
    let key = format!("command-{name}");
    if catalog::has(lang(), &key) {
        tr(&key, &[])
    } else {
        name.to_owned()
    }
}

/// Something that has a message for a person in the process's language.
pub trait Localize {
    /// One line (or a few) for a person, in [`lang()`].
    fn localized(&self) -> String;
}

impl Localize for WireError {
    fn localized(&self) -> String {
        wire_line(*self)
    }
}

/// A field of [`FormatError`] for a person: `invoice code (F2)` is 发票代码(F2) in Chinese.
fn format_field(field: &str) -> String {
    match field.rsplit_once(" (") {
        Some((head, rule)) if rule.starts_with('F') && rule.ends_with(')') && is_zh() => {
            format!("{}({rule}", phrase(head))
        }
        _ => phrase(field),
    }
}

impl Localize for FormatError {
    fn localized(&self) -> String {
        match self {
            FormatError::Length {
                field,
                expected,
                found,
            } => t!(
                "format-length",
                field = format_field(field),
                found = found,
                expected = expected
                    .replace(" or ", &format!(" {} ", t!("format-or")))
                    .replace(" to ", &format!(" {} ", t!("format-to")))
            ),
            FormatError::Character { field, index } => t!(
                "format-character",
                field = format_field(field),
                position = index + 1
            ),
            FormatError::Checksum { field } => t!("format-checksum", field = format_field(field)),
            FormatError::Month { field } => t!("format-month", field = format_field(field)),
            FormatError::KindMismatch { field } => {
                t!("format-kind-mismatch", field = format_field(field))
            }
            FormatError::Range { field } => t!("format-range", field = format_field(field)),
            FormatError::Rate => t!("format-rate"),
        }
    }
}

/// The catalogue key of an English phrase the code passes around as `&'static str` (an
/// action such as `"issue"`, a field name such as `"buyer name"`): `phrase-` and its ASCII
/// letters and digits, words joined by `-` (`"provisioning (初始发行)"` is `phrase-provisioning`).
pub fn phrase_key(english: &str) -> String {
    let mut key = String::from("phrase");
    let mut gap = true;
    for c in english.chars() {
        if c.is_ascii_alphanumeric() {
            if gap {
                key.push('-');
            }
            key.push(c.to_ascii_lowercase());
            gap = false;
        } else {
            gap = true;
        }
    }
    key
}

/// An English phrase in the process's language: in Chinese the catalogue's `phrase-...` text
/// when it has one ([`phrase_key`]), else the Chinese half of a bilingual text such as
/// `成品油经销企业 (dealer)` or `not uploaded (未上传)`, else the phrase as it is (it stays
/// English).
pub fn phrase(english: &str) -> String {
    if is_zh() {
        let key = phrase_key(english);
        if catalog::has(Lang::ZhCn, &key) {
            return tr(&key, &[]);
        }
        if let Some(zh) = chinese_half(english) {
            return zh.to_owned();
        }
        // `void of invoice 2`, `red info form 3501...`: the words, then the number as it is.
        if let Some((head, last)) = english.rsplit_once(' ')
            && last.chars().any(|c| c.is_ascii_digit())
            && catalog::has(Lang::ZhCn, &phrase_key(head))
        {
            return format!("{} {last}", tr(&phrase_key(head), &[]));
        }
    }
    english.to_owned()
}

/// The Chinese half of `中文 (english)` or `english (中文)`, if `s` is one.
fn chinese_half(s: &str) -> Option<&str> {
    let (head, rest) = s.split_once(" (")?;
    let inner = rest.strip_suffix(')')?;
    if !head.is_ascii() && inner.is_ascii() {
        Some(head)
    } else if head.is_ascii() && !inner.is_ascii() {
        Some(inner)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_half_of_bilingual_texts() {
        assert_eq!(
            chinese_half("成品油经销企业 (dealer)"),
            Some("成品油经销企业")
        );
        assert_eq!(chinese_half("not uploaded (未上传)"), Some("未上传"));
        assert_eq!(chinese_half("ready"), None);
        assert_eq!(chinese_half("line (3)"), None);
    }

    #[test]
    fn format_errors_in_both_languages() {
        let e = FormatError::Length {
            field: "invoice code (F2)",
            expected: "10 or 12",
            found: 3,
        };
        assert_eq!(e.localized(), e.to_string());
        set(Lang::ZhCn);
        let zh = e.localized();
        set(Lang::En);
        assert_eq!(zh, "发票代码(F2)：3 位，应为 10 或 12 位");
    }

    #[test]
    fn phrase_keys_keep_ascii_words() {
        assert_eq!(phrase_key("provisioning (初始发行)"), "phrase-provisioning");
        assert_eq!(phrase_key("PIN unblock"), "phrase-pin-unblock");
    }
}
