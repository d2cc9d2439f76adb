//! What the conformance suite meets besides the disk: its token source's [`TokenError`] (and
//! the [`SignError`] inside it) and the simulator's control channel ([`ControlError`]), in
//! the process's language; the system's own words (an `io::Error`) stay as they are inside.

use crate::control::ControlError;
use crate::tokens::TokenError;
use taxdisk_i18n::{Localize, phrase, t};
use taxdisk_protocol::sign::SignError;

impl Localize for TokenError {
    fn localized(&self) -> String {
        match self {
            TokenError::Key(e) => t!("token-key", error = sign_error(*e)),
            TokenError::Sign { what, error } => t!(
                "token-sign",
                what = phrase(what),
                error = sign_error(*error)
            ),
            TokenError::SecretText(m) => t!("token-secret", error = phrase(m)),
            TokenError::Unsupported(what) => t!("token-unsupported", what = phrase(what)),
        }
    }
}

/// An SM2 key's or signature's failure (the protocol's [`SignError`]).
pub fn sign_error(e: SignError) -> String {
    match e {
        SignError::BadSecret => t!("sign-bad-secret"),
        SignError::BadPublicKey => t!("sign-bad-public-key"),
        SignError::BadSignature => t!("sign-bad-signature"),
        SignError::MessageTooLong => t!("sign-message-too-long"),
    }
}

/// Why a control request got no usable answer (the protocol's control client's error, which
/// this crate cannot give [`Localize`] itself).
pub fn control_error(e: &ControlError) -> String {
    match e {
        ControlError::Io { context, source } => {
            t!("control-io", context = phrase(context), error = source)
        }
        ControlError::NoAddress(a) => t!("control-no-address", address = a),
        ControlError::Timeout(d) => t!("control-timeout", ms = d.as_millis()),
        ControlError::Closed => t!("control-closed"),
        ControlError::Frame(f) => t!("control-frame", error = f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use taxdisk_i18n::Lang;

    fn samples() -> (Vec<TokenError>, Vec<ControlError>) {
        (
            vec![
                TokenError::Key(SignError::BadSecret),
                TokenError::Sign {
                    what: "roll grant",
                    error: SignError::MessageTooLong,
                },
                TokenError::SecretText("not 64 hex digits".into()),
                TokenError::Unsupported("clock token"),
            ],
            vec![
                ControlError::Io {
                    context: "writing",
                    source: std::io::Error::other("broken pipe"),
                },
                ControlError::NoAddress("nowhere:1".into()),
                ControlError::Timeout(Duration::from_millis(1500)),
                ControlError::Closed,
            ],
        )
    }

    #[test]
    fn english_is_the_display_and_chinese_is_filled() {
        let _turn = crate::l10n::tests::LANG
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (tokens, control) = samples();
        taxdisk_i18n::set(Lang::En);
        for e in &tokens {
            assert_eq!(e.localized(), e.to_string());
        }
        for e in &control {
            assert_eq!(control_error(e), e.to_string());
        }
        taxdisk_i18n::set(Lang::ZhCn);
        let zh: Vec<String> = tokens
            .iter()
            .map(Localize::localized)
            .chain(control.iter().map(control_error))
            .collect();
        for line in &zh {
            assert!(!line.contains("{$"), "{line}");
        }
        assert_eq!(zh[0], "税务局密钥：SM2 私钥无效");
        assert_eq!(zh[6], "控制通道在 1500 毫秒内没有回答");
        taxdisk_i18n::set(Lang::En);
    }
}
