//! The host's errors for a person in the process's language ([`taxdisk_i18n`]): each error
//! type renders through the catalogue keys of its variants (`locales/*/host.ftl`), wrapping
//! the disk's wire error table and the bureau's refusal codes. In English the text is the
//! error's `Display`, key for key (`english_is_the_display` tests it); the details the code
//! builds in English (a field's problem, a transport's reason) stay English inside the
//! Chinese frame.

mod disk;
mod invoice;
pub mod known;
mod store;
mod suite;
mod workflow;

pub use suite::{control_error, sign_error};
pub use taxdisk_i18n::Localize;

use taxdisk_i18n::t;
use taxdisk_protocol::types::{InvoiceKind, UpdateChange};

/// An invoice kind's name in the process's language (F1): 专用发票, normal, ...
pub fn kind_name(k: InvoiceKind) -> String {
    taxdisk_i18n::tr(&format!("kind-{}", k.name()), &[])
}

/// One change of an update token (D10, H17) in words, in the process's language: what
/// `taxdisk update` says it wrote to the disk.
pub fn update_change(c: &UpdateChange) -> String {
    match c {
        UpdateChange::Limits(l) => t!(
            "update-limits",
            kind = kind_name(l.kind),
            single = l.single_limit,
            hours = l.offline_hours,
            amount = l.offline_amount
        ),
        UpdateChange::Authorize(k, true) => t!("update-authorized", kind = kind_name(*k)),
        UpdateChange::Authorize(k, false) => t!("update-withdrawn", kind = kind_name(*k)),
        UpdateChange::Oil(role, None) => t!("update-oil", role = role),
        UpdateChange::Oil(role, Some(until)) => {
            t!("update-oil-until", role = role, until = until)
        }
        UpdateChange::UsedCar(role) => t!("update-used-car", role = role),
        UpdateChange::CompanyName(n) => t!("update-company-name", name = n.as_str()),
        UpdateChange::TaxpayerId(id) => t!("update-taxpayer-id", id = id.as_str()),
    }
}

#[cfg(test)]
pub(crate) mod tests;
