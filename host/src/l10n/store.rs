//! [`StoreError`].

use crate::store::StoreError;
use taxdisk_i18n::{Localize, phrase, t};

impl Localize for StoreError {
    fn localized(&self) -> String {
        match self {
            StoreError::Sql(e) => t!("store-sql", error = e),
            StoreError::Io(e) => t!("store-io", error = e),
            StoreError::SchemaTooNew { found, supported } => {
                t!("store-schema-too-new", found = found, supported = supported)
            }
            StoreError::Corrupt(what) => t!("store-corrupt", what = what),
            StoreError::Invoice(e) => e.localized(),
            StoreError::Initialization(what) => {
                t!("store-initialization", what = phrase(what))
            }
            StoreError::Field {
                rule,
                field,
                problem,
            } => t!(
                "store-field",
                rule = rule,
                field = phrase(field),
                problem = phrase(problem)
            ),
            StoreError::NameTaken(name) => t!("store-name-taken", name = format!("{name:?}")),
            StoreError::CategoryTaken { name, id } => {
                t!("store-category-taken", name = format!("{name:?}"), id = id)
            }
            StoreError::WrongPassword => t!("store-wrong-password"),
            StoreError::Permission { rule, what } => {
                t!("store-permission", rule = rule, what = phrase(what))
            }
            StoreError::CodingDisabled => t!("store-coding-disabled"),
            StoreError::NotFound(what) => t!("store-not-found", what = phrase(what)),
            StoreError::State {
                rule,
                what,
                state,
                problem,
            } => t!(
                "store-state",
                rule = rule,
                what = what,
                state = phrase(state),
                problem = phrase(problem)
            ),
            StoreError::Hash(e) => t!("store-hash", error = e),
        }
    }
}
