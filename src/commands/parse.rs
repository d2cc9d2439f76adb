//! The value parsers of the command line (clap `value_parser`): invoice kinds, periods,
//! invoice numbers and store durability.

use taxdisk_i18n::t;
use taxdisk_protocol::types::{InvoiceKind, InvoiceNumber};

pub(crate) fn parse_kind(s: &str) -> Result<InvoiceKind, String> {
    InvoiceKind::parse(s).ok_or_else(|| t!("cli-bad-kind", kind = format!("{s:?}")))
}

pub(crate) fn parse_durability(s: &str) -> Result<taxdisk_host::store::Durability, String> {
    match s {
        "full" => Ok(taxdisk_host::store::Durability::Full),
        "normal" => Ok(taxdisk_host::store::Durability::Normal),
        _ => Err(format!("durability {s:?}: use full or normal")),
    }
}

pub(crate) fn parse_period(s: &str) -> Result<taxdisk_protocol::Period, String> {
    s.parse::<u32>()
        .ok()
        .and_then(|v| taxdisk_protocol::Period::try_from(v).ok())
        .ok_or_else(|| t!("cli-bad-period", period = format!("{s:?}")))
}

pub(crate) fn parse_number(s: &str) -> Result<InvoiceNumber, String> {
    s.parse::<u32>()
        .ok()
        .and_then(|n| InvoiceNumber::new(n).ok())
        .ok_or_else(|| t!("cli-bad-number", number = format!("{s:?}")))
}
