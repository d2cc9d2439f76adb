//! Fixed English texts the code keeps as `String`s (the conformance suite's reasons, the trace
//! replay's notes, a link's "no disk there", the CLI's setup errors), for a person. A row's reason and a replay's notes are kept in English (JUnit and the replay
//! report's `Display` are language-neutral); the table, the replay summary and the CLI's error
//! line show them through here: each fixed text (`TEMPLATES`, `{}` a part that varies) has its
//! catalogue key, the parts that vary are passed as they are (a disk error, a value the disk
//! answered, an address). The suite's findings about a disk's records
//! ([`crate::conformance::findings::FINDINGS`]) are matched the same way; a text that is none
//! of them is shown as recorded.

use crate::conformance::findings::{FINDINGS, PLAIN};
use taxdisk_i18n::{command_name, is_zh, phrase, tr, wire_message};
use taxdisk_protocol::types::InvoiceKind;
use taxdisk_protocol::{CommandId, WireError};

/// The suite's and the replay's fixed texts with their catalogue keys; the `{}` parts become
/// the message's arguments `a`, `b`, `c`, `d` in order ([`ARGS`]). The suite's findings about a
/// disk's records are in [`crate::conformance::findings`].
const TEMPLATES: &[(&str, &str)] = &[
    (
        "needs bureau tokens: no token source was given",
        "suite-why-no-tokens",
    ),
    (
        "needs the simulator's control channel (clock, power): none was given",
        "suite-why-no-control",
    ),
    (
        "needs a disk this run provisioned (a factory-state disk and a token source)",
        "suite-why-not-ours",
    ),
    ("needs a factory-state disk", "suite-why-factory"),
    (
        "needs a copied period (the D8 scenario)",
        "suite-why-copied-period",
    ),
    (
        "needs an invoice of the last period not uploaded (the D8 scenario leaves one)",
        "suite-why-pending-invoice",
    ),
    (
        "the disk is {} already: D1 needs a factory-state disk",
        "suite-why-not-factory",
    ),
    (
        "needs blank {} numbers and no token source can grant a roll",
        "suite-why-no-blank",
    ),
    ("control channel: {}", "suite-fail-control"),
    ("the scenario panicked: {}", "suite-fail-panic"),
    (
        "{}: expected refusal {} ({}), got {}: {}",
        "suite-fail-refusal",
    ),
    ("{}: expected {}, got refusal {}", "suite-fail-raw-refusal"),
    (
        "{}: expected {}, the disk answered {}",
        "suite-fail-raw-answered",
    ),
    (
        "the replaying disk did not tell its serial; tokens not re-signed",
        "replay-note-no-serial",
    ),
    (
        "{} control request(s) of the trace not applied: no control channel",
        "replay-note-controls",
    ),
    (
        "the trace holds no public key: recorded signatures not verified",
        "replay-note-no-key",
    ),
    (
        "before request #{}: control {} answered {}",
        "replay-note-control-error",
    ),
    (
        "no tax disk at {}: the address does not resolve ({})",
        "transport-no-disk-resolve-why",
    ),
    (
        "no tax disk at {}: the address does not resolve",
        "transport-no-disk-resolve",
    ),
    (
        "no tax disk at tcp {} ({}); is `taxdisk-sim serve` running?",
        "transport-no-disk-tcp",
    ),
    (
        "no tax disk with {} on USB; attached: {}",
        "transport-no-disk-usb",
    ),
    (
        "no tax disk found on USB (VID {} PID {}); is it plugged in?",
        "transport-no-disk-plugged",
    ),
    (
        "the data folder {} is in use by {} (another taxdisk command); waited {} s",
        "cli-data-busy",
    ),
    (
        "{}: the administrator token file is empty",
        "cli-admin-token-empty",
    ),
    ("embedded bureau ({}): {}", "cli-embedded-bureau"),
    (
        "no tax disk found on USB (VID {} PID {}): USB is not available on this machine (libusb: {})",
        "transport-no-usb",
    ),
];

/// The parts of `s` at the `{}` of `template`, if `s` is that template filled in.
fn fill<'s>(template: &str, s: &'s str) -> Option<Vec<&'s str>> {
    let mut pieces = template.split("{}");
    let first = pieces.next().unwrap_or("");
    let mut rest = s.strip_prefix(first)?;
    let mut parts = Vec::new();
    let pieces: Vec<&str> = pieces.collect();
    for (n, lit) in pieces.iter().enumerate() {
        let last = n + 1 == pieces.len();
        let at = if last {
            if lit.is_empty() {
                Some(rest.len())
            } else {
                rest.strip_suffix(lit).map(str::len)
            }
        } else {
            rest.find(lit)
        }?;
        parts.push(&rest[..at]);
        rest = &rest[at + lit.len()..];
    }
    rest.is_empty().then_some(parts)
}

/// A varying part: an invoice kind by its name (F1), a disk command by its name, a wire
/// error by its name, a word the phrase catalogue has (a disk state, `none`, `yes`), else as it
/// is.
/// One varying part of a fixed text in the process's language: an invoice kind's, a command's
/// or a wire error's name by its catalogue entry, anything else as a known phrase or as is.
pub(crate) fn part(v: &str) -> String {
    if let Some(k) = InvoiceKind::ALL.into_iter().find(|k| k.name() == v) {
        return super::kind_name(k);
    }
    if CommandId::ALL.iter().any(|c| c.name() == v) {
        return command_name(v);
    }
    if let Some(e) = WireError::ALL.iter().find(|e| e.name() == v) {
        return wire_message(*e);
    }
    phrase(v)
}

/// The names of a message's arguments, one per `{}` of its text, in order.
const ARGS: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

/// A reason of the suite or a note of a replay in the process's language (see the module).
pub fn reason(s: &str) -> String {
    if !is_zh() {
        return s.to_owned();
    }
    let findings = FINDINGS.iter().chain(PLAIN).map(|f| (f.text, f.key));
    for (template, key) in TEMPLATES.iter().copied().chain(findings) {
        if let Some(parts) = fill(template, s) {
            let args: Vec<(&str, String)> = ARGS
                .iter()
                .zip(parts)
                .map(|(name, v)| (*name, part(v)))
                .collect();
            return tr(key, &args);
        }
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use taxdisk_i18n::Lang;

    #[test]
    fn templates_match_their_filled_texts() {
        assert_eq!(
            fill("token source: {}", "token source: no key"),
            Some(vec!["no key"])
        );
        assert_eq!(
            fill(
                "{}: expected refusal {} ({}), got {}: {}",
                "Issue: expected refusal ZeroTotal (0x0502), got Busy: busy: x"
            ),
            Some(vec!["Issue", "ZeroTotal", "0x0502", "Busy", "busy: x"])
        );
        assert_eq!(
            fill("needs a factory-state disk", "needs a factory-state disk!"),
            None
        );
        assert_eq!(fill("a {} b", "a x c"), None);
    }

    #[test]
    fn every_template_has_its_message_and_fills_it() {
        let _turn = super::super::tests::LANG
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        taxdisk_i18n::set(Lang::ZhCn);
        for (template, key) in TEMPLATES {
            let filled = template.replace("{}", "X");
            let zh = reason(&filled);
            assert!(!zh.is_ascii(), "{key}: {zh}");
            assert!(
                zh.matches('X').count() >= template.matches("{}").count(),
                "{key}: {zh}"
            );
        }
        taxdisk_i18n::set(Lang::En);
        assert_eq!(
            reason("needs a factory-state disk"),
            "needs a factory-state disk"
        );
    }
}
