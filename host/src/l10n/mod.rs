//! The host's errors for a person in the process's language ([`taxdisk_i18n`]): each error
//! type renders through the catalogue keys of its variants (`locales/*/host.ftl`), wrapping
//! the disk's wire error table and the bureau's refusal codes. In English the text is the
//! error's `Display`, key for key (`english_is_the_display` tests it); the details the code
//! builds in English (a field's problem, a transport's reason) stay English inside the
//! Chinese frame.

mod disk;
mod invoice;
mod store;
mod workflow;

pub use taxdisk_i18n::Localize;

use taxdisk_protocol::types::InvoiceKind;

/// An invoice kind's name in the process's language (F1): 专用发票, normal, ...
pub fn kind_name(k: InvoiceKind) -> String {
    taxdisk_i18n::tr(&format!("kind-{}", k.name()), &[])
}

#[cfg(test)]
mod tests;
