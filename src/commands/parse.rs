//! The value parsers of the command line (clap `value_parser`): invoice kinds, periods,
//! invoice numbers and store durability.

use taxdisk_i18n::{Localize, t};
use taxdisk_protocol::types::{InvoiceKind, InvoiceNumber};

pub(crate) fn parse_kind(s: &str) -> Result<InvoiceKind, String> {
    InvoiceKind::parse(s).ok_or_else(|| t!("cli-bad-kind", kind = format!("{s:?}")))
}

pub(crate) fn parse_durability(s: &str) -> Result<taxdisk_host::store::Durability, String> {
    match s {
        "full" => Ok(taxdisk_host::store::Durability::Full),
        "normal" => Ok(taxdisk_host::store::Durability::Normal),
        _ => Err(t!("cli-bad-durability", value = format!("{s:?}"))),
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

/// An identifier checked by its format rule (F2-F7: invoice code, taxpayer id, tax
/// classification code, ...), the problem in the process's language.
pub(crate) fn checked<T>(s: &str) -> Result<T, String>
where
    T: std::str::FromStr<Err = taxdisk_protocol::validate::FormatError>,
{
    s.parse::<T>().map_err(|e| e.localized())
}

/// A `--disk` (or `--farm`) value, the problem in the process's language.
pub(crate) fn parse_disk(s: &str) -> Result<crate::wiring::DiskSpec, String> {
    s.parse()
        .map_err(|_: crate::wiring::BadDiskSpec| bad_disk(s))
}

/// Why `s` is not a disk: the forms `--disk` takes.
pub(crate) fn bad_disk(s: &str) -> String {
    t!("cli-bad-disk", value = format!("{s:?}"))
}
