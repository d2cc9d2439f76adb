//! Who is asking the bureau (see "Who may call what" in [`taxdisk_protocol::bureau_api`]):
//! anyone, a taxpayer's software holding the credential of one disk, or the tax office holding
//! the administrator token. Tokens are 32 random bytes in hex; the bureau keeps only their SM3
//! digests (the credentials table; the administrator's in memory), so a stolen database holds
//! no usable token.

use super::db::{Tx, args};
use super::error::BureauError;
use super::{Bureau, db};
use sm3::{Digest, Sm3};
use taxdisk_protocol::bureau_api::KeyRegistered;
use taxdisk_protocol::types::{DeviceSerial, TaxpayerId};

/// The caller of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// No `Authorization` header.
    Anyone,
    /// The tax office (the administrator token).
    TaxOffice,
    /// The software of the taxpayer owning `serial`, by that disk's credential.
    Taxpayer {
        /// The disk the credential was issued to.
        serial: DeviceSerial,
        /// Its taxpayer.
        taxpayer_id: TaxpayerId,
    },
}

/// The SM3 digest of a token, as kept.
pub fn digest(token: &str) -> [u8; 32] {
    Sm3::digest(token.as_bytes()).into()
}

/// A new random token: 32 bytes from the OS-seeded generator, in hex.
pub fn new_token() -> String {
    hex::encode(super::random_bytes())
}

/// The refusal of a request without a token where one is needed.
fn unauthenticated(what: &str) -> BureauError {
    BureauError::Refused {
        status: 401,
        code: "unauthenticated",
        message: format!(
            "{what} needs a credential: send `Authorization: Bearer <token>` (the disk's \
             credential from key registration, or the tax office's administrator token)"
        ),
        rule: "B1, HTTP API",
    }
}

/// The refusal of a known caller acting outside its rights.
fn forbidden(message: String) -> BureauError {
    BureauError::Refused {
        status: 403,
        code: "forbidden",
        message,
        rule: "B1, HTTP API",
    }
}

impl Caller {
    /// Passes the tax office only: `what` is the tax office's step.
    pub fn tax_office(&self, what: &str) -> Result<(), BureauError> {
        match self {
            Caller::TaxOffice => Ok(()),
            Caller::Anyone => Err(unauthenticated(what)),
            Caller::Taxpayer { serial, .. } => Err(forbidden(format!(
                "{what} is the tax office's step: the credential of disk {serial} may not do it"
            ))),
        }
    }

    /// Passes the tax office, or the taxpayer software of disk `serial`.
    pub fn for_disk(&self, serial: &DeviceSerial, what: &str) -> Result<(), BureauError> {
        match self {
            Caller::TaxOffice => Ok(()),
            Caller::Taxpayer { serial: own, .. } if own == serial => Ok(()),
            Caller::Taxpayer { serial: own, .. } => Err(forbidden(format!(
                "{what} for disk {serial}: the credential is disk {own}'s"
            ))),
            Caller::Anyone => Err(unauthenticated(what)),
        }
    }

    /// Passes any known caller (the tax office, or any taxpayer's software).
    pub fn known(&self, what: &str) -> Result<(), BureauError> {
        match self {
            Caller::Anyone => Err(unauthenticated(what)),
            _ => Ok(()),
        }
    }

    /// The taxpayer whose data the caller may see only, `None` for the tax office.
    pub fn own_taxpayer(&self) -> Option<&TaxpayerId> {
        match self {
            Caller::Taxpayer { taxpayer_id, .. } => Some(taxpayer_id),
            _ => None,
        }
    }
}

impl Bureau {
    /// The caller named by `bearer` (the token of an `Authorization: Bearer` header, `None`
    /// without one). `admin` is the digest of the administrator token of this server.
    pub fn caller(
        &self,
        bearer: Option<&str>,
        admin: Option<&[u8; 32]>,
    ) -> Result<Caller, BureauError> {
        let Some(token) = bearer else {
            return Ok(Caller::Anyone);
        };
        let d = digest(token);
        if admin.is_some_and(|a| *a == d) {
            return Ok(Caller::TaxOffice);
        }
        let disk = self.db.tx(|tx| {
            let serial = tx.query_opt(
                "SELECT serial FROM credentials WHERE digest = ?1",
                &args![d.as_slice()],
            )?;
            match serial {
                Some(r) => {
                    let s = DeviceSerial::new(&r.text(0)?).map_err(|e| {
                        BureauError::Corrupt(format!("stored credential serial: {e}"))
                    })?;
                    db::load_disk(tx, &s)
                }
                None => Ok(None),
            }
        })?;
        match disk {
            Some(d) => Ok(Caller::Taxpayer {
                serial: d.serial,
                taxpayer_id: d.taxpayer_id,
            }),
            None => Err(BureauError::Refused {
                status: 401,
                code: "bad_credential",
                message: "the credential is not one this bureau issued (or it was replaced)".into(),
                rule: "B1, HTTP API",
            }),
        }
    }

    /// The credential of disk `serial` after it proved its key: issued once, at the first
    /// registration (`credential_issued` afterwards: the tax office issues a new one with
    /// [`Bureau::new_credential`]).
    pub fn first_credential(
        &mut self,
        serial: &DeviceSerial,
    ) -> Result<KeyRegistered, BureauError> {
        let token = new_token();
        self.db.tx(|tx| {
            let had = tx.query_opt(
                "SELECT 1 FROM credentials WHERE serial = ?1",
                &args![serial.as_str()],
            )?;
            if had.is_some() {
                return Err(BureauError::conflict(
                    "credential_issued",
                    "B1",
                    format!(
                        "disk {serial} already received its credential; the tax office issues \
                         a new one (POST /disks/{serial}/credential)"
                    ),
                ));
            }
            store_credential(tx, serial, &token)
        })?;
        Ok(KeyRegistered { credential: token })
    }

    /// A new credential for disk `serial`, replacing the one it had (the tax office's step,
    /// for a credential that was lost).
    pub fn new_credential(&mut self, serial: &DeviceSerial) -> Result<KeyRegistered, BureauError> {
        let token = new_token();
        self.db.tx(|tx| {
            super::disk_in(tx, serial)?;
            store_credential(tx, serial, &token)
        })?;
        Ok(KeyRegistered { credential: token })
    }
}

/// Keeps the digest of `token` as the credential of disk `serial`, replacing its old one.
fn store_credential(
    tx: &mut Tx<'_>,
    serial: &DeviceSerial,
    token: &str,
) -> Result<(), BureauError> {
    tx.execute(
        "INSERT INTO credentials (serial, digest) VALUES (?1, ?2)
         ON CONFLICT (serial) DO UPDATE SET digest = excluded.digest",
        &args![serial.as_str(), digest(token).as_slice()],
    )?;
    Ok(())
}

/// The administrator token kept in `path`: read when the file holds one, else a new random
/// token written there, readable by its owner only (0600 on Unix).
pub fn admin_token_file(path: &std::path::Path) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = new_token();
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    std::io::Write::write_all(&mut o.open(path)?, format!("{token}\n").as_bytes())?;
    Ok(token)
}

/// Where a server's administrator token comes from: `path` ([`admin_token_file`]), else a new
/// random token said once on stderr, for the person who started the server.
pub fn admin_token_or_new(path: Option<&std::path::Path>) -> std::io::Result<String> {
    match path {
        Some(p) => admin_token_file(p),
        None => {
            let t = new_token();
            eprintln!(
                "{}",
                taxdisk_i18n::t!("sim-new-admin-token", token = t.as_str())
            );
            eprintln!("  {}", taxdisk_i18n::t!("sim-new-admin-token-hint"));
            Ok(t)
        }
    }
}
