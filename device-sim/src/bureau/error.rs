//! [`BureauError`]: every refusal of the bureau with its stable code, message and rule, and how it
//! maps to an HTTP status and an [`ApiError`] body.

use taxdisk_protocol::bureau_api::ApiError;
use taxdisk_protocol::sign::SignError;

/// Why the bureau refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum BureauError {
    /// A request the bureau refuses: the input is wrong, a precondition fails or something is
    /// unknown. `status` is the HTTP status (400, 404 or 409).
    #[error("{message} ({rule})")]
    Refused {
        /// HTTP status of the refusal.
        status: u16,
        /// Stable machine-readable code, e.g. `not_declared`.
        code: &'static str,
        /// One line for a person.
        message: String,
        /// The RULES.md / FAQ reference that refused it.
        rule: &'static str,
    },
    /// The SQLite state failed.
    #[error("bureau database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A PostgreSQL statement failed (the database answered; see [`BureauError::Unavailable`]
    /// for a database that does not).
    #[error("bureau database (PostgreSQL): {0}")]
    Postgres(postgres::Error),
    /// The database cannot be reached (down, restarting, refusing connections): HTTP 503.
    /// Nothing was changed; the same request later is answered as if it came first.
    #[error("the bureau's database is unavailable ({0}); nothing was changed, try again later")]
    Unavailable(String),
    /// The `--db` argument names no database the bureau can use.
    #[error("bureau database address: {0}")]
    BadStore(String),
    /// Stored state does not decode (the database was edited or is from another version).
    #[error("bureau state is corrupt: {0}")]
    Corrupt(String),
    /// Signing a token failed (an invariant of the stored key was broken).
    #[error("bureau signing: {0}")]
    Sign(SignError),
    /// Binding or running the HTTP server failed.
    #[error("bureau server: {0}")]
    Io(#[from] std::io::Error),
}

impl BureauError {
    /// A 400 refusal: the request itself is wrong or a precondition fails.
    pub fn bad(code: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        Self::refused(400, code, rule, message)
    }

    /// A 404 refusal: something named in the request is unknown.
    pub fn not_found(code: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        Self::refused(404, code, rule, message)
    }

    /// A 409 refusal: the request conflicts with the state (replay, already done, wrong state).
    pub fn conflict(code: &'static str, rule: &'static str, message: impl Into<String>) -> Self {
        Self::refused(409, code, rule, message)
    }

    fn refused(status: u16, code: &'static str, rule: &'static str, m: impl Into<String>) -> Self {
        BureauError::Refused {
            status,
            code,
            message: m.into(),
            rule,
        }
    }

    /// The stable code (`internal` for failures that are not refusals).
    pub fn code(&self) -> &str {
        match self {
            BureauError::Refused { code, .. } => code,
            BureauError::Database(_)
            | BureauError::Postgres(_)
            | BureauError::Corrupt(_)
            | BureauError::Sign(_)
            | BureauError::BadStore(_) => "internal",
            BureauError::Unavailable(_) => "unavailable",
            BureauError::Io(_) => "io",
        }
    }

    /// The rule reference (`""` for failures that are not refusals).
    pub fn rule(&self) -> &str {
        match self {
            BureauError::Refused { rule, .. } => rule,
            _ => "",
        }
    }

    /// The HTTP status: the refusal's 4xx, 503 while the database is unavailable, or 500.
    pub fn status(&self) -> u16 {
        match self {
            BureauError::Refused { status, .. } => *status,
            BureauError::Unavailable(_) => 503,
            _ => 500,
        }
    }

    /// The JSON body of the HTTP answer.
    pub fn to_api(&self) -> ApiError {
        ApiError {
            code: self.code().to_owned(),
            message: match self {
                BureauError::Refused { message, .. } => message.clone(),
                other => other.to_string(),
            },
            rule: self.rule().to_owned(),
        }
    }
}

impl From<SignError> for BureauError {
    fn from(e: SignError) -> Self {
        BureauError::Sign(e)
    }
}

impl From<serde_json::Error> for BureauError {
    fn from(e: serde_json::Error) -> Self {
        BureauError::Corrupt(e.to_string())
    }
}
