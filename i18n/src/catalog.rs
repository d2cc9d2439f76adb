//! The embedded catalogues and the Fluent bundles built from them once per process.

use crate::Lang;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

/// One catalogue file: its language, its name under `locales/LANG/` and its text.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// The language.
    pub lang: Lang,
    /// The file name, e.g. `errors.ftl`.
    pub file: &'static str,
    /// The Fluent text.
    pub text: &'static str,
}

macro_rules! sources {
    ($($file:literal),* $(,)?) => {
        /// Every catalogue file of both languages, embedded at build time.
        pub const SOURCES: &[Source] = &[
            $(
                Source { lang: Lang::En, file: $file, text: include_str!(concat!("../locales/en/", $file)) },
                Source { lang: Lang::ZhCn, file: $file, text: include_str!(concat!("../locales/zh-CN/", $file)) },
            )*
        ];
    };
}

sources![
    "errors.ftl",
    "bureau.ftl",
    "host.ftl",
    "phrases.ftl",
    "help.ftl",
    "cli.ftl",
    "reports.ftl",
    "sim.ftl",
];

type Bundle = FluentBundle<FluentResource>;

fn build(lang: Lang) -> Bundle {
    // Both tags are valid BCP 47 (the `bundles_know_their_language` test); the locale only
    // picks plural rules, and every argument is passed as text.
    let id: unic_langid::LanguageIdentifier = lang.tag().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Unicode isolation marks around placeables would end up in terminals and test output.
    bundle.set_use_isolating(false);
    for s in SOURCES.iter().filter(|s| s.lang == lang) {
        // The catalogues are part of the binary: the `catalogues_parse_cleanly` test proves
        // they parse without error and hold no key twice, so both results are kept as they
        // are (a partial resource still serves every message it parsed).
        let res = FluentResource::try_new(s.text.to_owned()).unwrap_or_else(|(res, _)| res);
        bundle.add_resource_overriding(res);
    }
    bundle
}

fn bundle(lang: Lang) -> &'static Bundle {
    static EN: OnceLock<Bundle> = OnceLock::new();
    static ZH: OnceLock<Bundle> = OnceLock::new();
    match lang {
        Lang::En => EN.get_or_init(|| build(Lang::En)),
        Lang::ZhCn => ZH.get_or_init(|| build(Lang::ZhCn)),
    }
}

/// Whether `lang`'s catalogue has the message `key`.
pub(crate) fn has(lang: Lang, key: &str) -> bool {
    bundle(lang).has_message(key)
}

/// The message `key` in `lang` with `args`. A key missing in Chinese falls back to English;
/// a key missing in both shows the key itself (the `every_key_in_both_catalogues` test keeps
/// that from happening).
pub fn render_in(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let b = bundle(lang);
    let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
        return if lang == Lang::En {
            key.to_owned()
        } else {
            render_in(Lang::En, key, args)
        };
    };
    let mut fargs = FluentArgs::new();
    for (name, value) in args {
        fargs.set(*name, FluentValue::from(value.as_str()));
    }
    let mut errors = Vec::new();
    b.format_pattern(pattern, Some(&fargs), &mut errors)
        .into_owned()
}

/// [`render_in`] that also returns Fluent's errors (a missing variable, an unknown key), for
/// tests.
pub fn render_checked(lang: Lang, key: &str, args: &[(&str, String)]) -> Result<String, String> {
    let b = bundle(lang);
    let pattern = b
        .get_message(key)
        .and_then(|m| m.value())
        .ok_or_else(|| format!("{}: no message {key}", lang.tag()))?;
    let mut fargs = FluentArgs::new();
    for (name, value) in args {
        fargs.set(*name, FluentValue::from(value.as_str()));
    }
    let mut errors = Vec::new();
    let s = b
        .format_pattern(pattern, Some(&fargs), &mut errors)
        .into_owned();
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(format!("{}: {key}: {errors:?}", lang.tag()))
    }
}
