//! [`Lang`]: the two languages and how the locale chooses one.

/// A language of the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Lang {
    /// English: the default (locale unset, `C`, `POSIX`, `en_*` or anything not Chinese).
    En = 0,
    /// Simplified Chinese (简体中文).
    ZhCn = 1,
}

impl Lang {
    /// Both languages.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The BCP 47 tag: `en` or `zh-CN`.
    pub const fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    pub(crate) const fn from_index(i: u8) -> Lang {
        match i {
            1 => Lang::ZhCn,
            _ => Lang::En,
        }
    }

    /// The language a `--lang` value names: `zh-CN` (also `zh`, `zh_CN`, any case) or `en`
    /// (also `en-US`, `C`, ...). `None` for anything else.
    pub fn parse(s: &str) -> Option<Lang> {
        let lower = s.trim().to_ascii_lowercase();
        if lower == "zh" || lower.starts_with("zh-") || lower.starts_with("zh_") {
            Some(Lang::ZhCn)
        } else if lower == "en" || lower.starts_with("en-") || lower.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language of a locale value as in `LANG=zh_CN.UTF-8`: Chinese when it starts with
    /// `zh`, English otherwise.
    pub fn of_locale(value: &str) -> Lang {
        if value.to_ascii_lowercase().starts_with("zh") {
            Lang::ZhCn
        } else {
            Lang::En
        }
    }

    /// The language a command line names with `--lang X` or `--lang=X`, read before the
    /// argument parser runs (its help texts depend on it). An unknown value is left to the
    /// parser to refuse.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Option<Lang> {
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            if a == "--" {
                break;
            }
            if a == "--lang" {
                return args.next().as_deref().and_then(Lang::parse);
            }
            if let Some(v) = a.strip_prefix("--lang=") {
                return Lang::parse(v);
            }
        }
        None
    }

    /// The language of the environment: the first of `LC_ALL`, `LC_MESSAGES` and `LANG` that
    /// is set and not empty decides (POSIX precedence); none set is English.
    pub fn from_env() -> Lang {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Lang::from_env`] on any source of variables (for tests).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|n| get(n))
            .find(|v| !v.is_empty())
            .map_or(Lang::En, |v| Lang::of_locale(&v))
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::parse(s).ok_or_else(|| format!("language {s:?}: use zh-CN or en"))
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Lang {
        Lang::from_vars(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn locale_chooses_chinese_only_for_zh() {
        assert_eq!(env(&[]), Lang::En);
        assert_eq!(env(&[("LANG", "C")]), Lang::En);
        assert_eq!(env(&[("LANG", "POSIX")]), Lang::En);
        assert_eq!(env(&[("LANG", "en_US.UTF-8")]), Lang::En);
        assert_eq!(env(&[("LANG", "zh_CN.UTF-8")]), Lang::ZhCn);
        assert_eq!(env(&[("LANG", "zh_TW.UTF-8")]), Lang::ZhCn);
        // LC_ALL wins over LANG, LC_MESSAGES too; an empty one does not count.
        assert_eq!(env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")]), Lang::En);
        assert_eq!(
            env(&[("LC_MESSAGES", "zh_CN.UTF-8"), ("LANG", "en_US")]),
            Lang::ZhCn
        );
        assert_eq!(env(&[("LC_ALL", ""), ("LANG", "zh_CN.UTF-8")]), Lang::ZhCn);
    }

    #[test]
    fn tags_are_valid_bcp47() {
        for l in Lang::ALL {
            let id: Result<unic_langid::LanguageIdentifier, _> = l.tag().parse();
            assert!(id.is_ok(), "{l}");
        }
    }

    #[test]
    fn lang_option_is_found_before_parsing() {
        let args = |v: &[&str]| Lang::from_args(v.iter().map(|s| s.to_string()));
        assert_eq!(
            args(&["taxdisk", "--lang", "zh-CN", "status"]),
            Some(Lang::ZhCn)
        );
        assert_eq!(args(&["taxdisk", "status", "--lang=en"]), Some(Lang::En));
        assert_eq!(args(&["taxdisk", "status"]), None);
        assert_eq!(args(&["taxdisk", "--", "--lang", "zh"]), None);
    }

    #[test]
    fn lang_flag_values() {
        assert_eq!("zh-CN".parse::<Lang>(), Ok(Lang::ZhCn));
        assert_eq!("zh_CN".parse::<Lang>(), Ok(Lang::ZhCn));
        assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
        assert!("fr".parse::<Lang>().is_err());
    }
}
