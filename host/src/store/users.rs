//! Users (H2, FAQ 2.2-2.5) and permissions (H3, FAQ 4.19).
//!
//! - The administrator is the supervisor set at initialization (H1); every other user is an
//!   invoicer, added by the administrator.
//! - Names are unique across all users: an invoicer's name differs from the administrator's and
//!   every other user's (FAQ 2.2). Names are compared after trimming, case-sensitively.
//! - Passwords are hashed with Argon2id (PHC string with a random salt) and never stored in
//!   clear; changing a password or renaming needs the old password (FAQ 2.4, 2.5).
//! - Permissions are granted per invoice kind and action; the administrator may do everything.

use super::{Store, StoreError, UserId, audit, now_secs};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{Connection, OptionalExtension, params};
use taxdisk_protocol::types::InvoiceKind;

/// A user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// 管理员 (the supervisor): may do everything.
    Admin,
    /// 开票员: may do what was granted.
    Invoicer,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Admin => "administrator (管理员)",
            Role::Invoicer => "invoicer (开票员)",
        })
    }
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Invoicer => "invoicer",
        }
    }

    fn parse(s: &str) -> Result<Role, StoreError> {
        match s {
            "admin" => Ok(Role::Admin),
            "invoicer" => Ok(Role::Invoicer),
            other => Err(StoreError::Corrupt(format!("user role {other:?}"))),
        }
    }
}

/// What a permission allows for one invoice kind (H3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Issue blue invoices.
    Issue,
    /// Issue red invoices and fill red info forms.
    Red,
    /// Void invoices (H9: own invoices only, unless administrator).
    Void,
    /// Query and print.
    Query,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] = [Action::Issue, Action::Red, Action::Void, Action::Query];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Issue => "issue",
            Action::Red => "red",
            Action::Void => "void",
            Action::Query => "query",
        }
    }
}

/// A user (without the password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: UserId,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// Hashes a password with Argon2id and a random 16-byte salt.
pub(crate) fn hash_password(password: &str) -> Result<String, StoreError> {
    if password.is_empty() {
        return Err(StoreError::Field {
            rule: "H2",
            field: "password",
            problem: "must not be empty".into(),
        });
    }
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| StoreError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Hash(e.to_string()))
}

fn verify(password: &str, hash: &str) -> Result<bool, StoreError> {
    let parsed = PasswordHash::new(hash).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

pub(crate) fn clean_name(name: &str) -> Result<String, StoreError> {
    let n = name.trim();
    if n.is_empty() || n.len() > 60 {
        return Err(StoreError::Field {
            rule: "H2",
            field: "user name",
            problem: "must have 1 to 60 bytes".into(),
        });
    }
    Ok(n.to_owned())
}

pub(crate) fn insert_user(
    conn: &Connection,
    name: &str,
    password: &str,
    role: Role,
) -> Result<UserId, StoreError> {
    let name = clean_name(name)?;
    if name_taken(conn, &name, None)? {
        return Err(StoreError::NameTaken(name));
    }
    let hash = hash_password(password)?;
    conn.prepare_cached(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![name, role.as_str(), hash, now_secs()])?;
    Ok(UserId(conn.last_insert_rowid()))
}

fn name_taken(conn: &Connection, name: &str, except: Option<UserId>) -> Result<bool, StoreError> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT id FROM users WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    Ok(found.is_some_and(|id| Some(UserId(id)) != except))
}

fn row_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn to_user((id, name, role): (i64, String, String)) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(id),
        name,
        role: Role::parse(&role)?,
    })
}

impl Store {
    /// The user with this id.
    pub fn user(&self, id: UserId) -> Result<User, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT id, name, role FROM users WHERE id = ?1")?
            .query_row([id.0], row_user)
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("user {}", id.0)))?;
        to_user(row)
    }

    /// Every user, administrator first.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, role FROM users ORDER BY role = 'invoicer', id")?;
        let rows = stmt.query_map([], row_user)?;
        rows.map(|r| to_user(r?)).collect()
    }

    fn require_admin(&self, actor: UserId, what: &str) -> Result<User, StoreError> {
        let u = self.user(actor)?;
        if u.role != Role::Admin {
            return Err(StoreError::Permission {
                rule: "H2",
                what: format!("only the administrator may {what}"),
            });
        }
        Ok(u)
    }

    /// Checks name and password (login).
    pub fn authenticate(&self, name: &str, password: &str) -> Result<User, StoreError> {
        let row: Option<(i64, String, String, String)> = self
            .conn
            .prepare_cached("SELECT id, name, role, password_hash FROM users WHERE name = ?1")?
            .query_row([name.trim()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((id, name, role, hash)) = row else {
            return Err(StoreError::WrongPassword);
        };
        if !verify(password, &hash)? {
            return Err(StoreError::WrongPassword);
        }
        to_user((id, name, role))
    }

    /// H2 (FAQ 2.3): the administrator adds an invoicer. The name must differ from every
    /// user's, the administrator's included.
    pub fn add_invoicer(
        &mut self,
        actor: UserId,
        name: &str,
        password: &str,
    ) -> Result<UserId, StoreError> {
        self.require_admin(actor, "add users")?;
        let tx = self.conn.transaction()?;
        let id = insert_user(&tx, name, password, Role::Invoicer)?;
        audit::write(&tx, Some(actor), "user.add", name.trim())?;
        tx.commit()?;
        Ok(id)
    }

    /// H2 (FAQ 2.4, 2.5): a user changes their password; the old one must match.
    pub fn change_password(
        &mut self,
        user: UserId,
        old: &str,
        new: &str,
    ) -> Result<(), StoreError> {
        self.require_password(user, old)?;
        let new_hash = hash_password(new)?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached("UPDATE users SET password_hash = ?1 WHERE id = ?2")?
            .execute(params![new_hash, user.0])?;
        audit::write(&tx, Some(user), "user.password", "")?;
        tx.commit()?;
        Ok(())
    }

    /// H2 (FAQ 2.5): a user renames themselves after giving their password; the new name must
    /// differ from every other user's.
    pub fn rename_user(
        &mut self,
        user: UserId,
        password: &str,
        new_name: &str,
    ) -> Result<(), StoreError> {
        self.require_password(user, password)?;
        let name = clean_name(new_name)?;
        let tx = self.conn.transaction()?;
        if name_taken(&tx, &name, Some(user))? {
            return Err(StoreError::NameTaken(name));
        }
        tx.prepare_cached("UPDATE users SET name = ?1 WHERE id = ?2")?
            .execute(params![name, user.0])?;
        if self_is_admin(&tx, user)? {
            tx.prepare_cached("UPDATE company SET supervisor_name = ?1 WHERE id = 1")?
                .execute([&name])?;
        }
        audit::write(&tx, Some(user), "user.rename", &name)?;
        tx.commit()?;
        Ok(())
    }

    /// `password` is `user`'s, or [`StoreError::WrongPassword`] (H2: a change of password or
    /// name asks for it first).
    fn require_password(&self, user: UserId, password: &str) -> Result<(), StoreError> {
        let hash: String = self
            .conn
            .prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
            .query_row([user.0], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("user {}", user.0)))?;
        if verify(password, &hash)? {
            Ok(())
        } else {
            Err(StoreError::WrongPassword)
        }
    }

    /// H3 (FAQ 4.19): the administrator grants `action` on `kind` to an invoicer.
    pub fn grant(
        &mut self,
        actor: UserId,
        user: UserId,
        kind: InvoiceKind,
        action: Action,
    ) -> Result<(), StoreError> {
        self.require_admin(actor, "change permissions")?;
        self.user(user)?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT OR IGNORE INTO permissions (user_id, kind, action) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![user.0, kind.number(), action.as_str()])?;
        audit::write(
            &tx,
            Some(actor),
            "permission.grant",
            &format!("user {} {} {}", user.0, kind.name(), action.as_str()),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// H3: the administrator withdraws a permission.
    pub fn revoke(
        &mut self,
        actor: UserId,
        user: UserId,
        kind: InvoiceKind,
        action: Action,
    ) -> Result<(), StoreError> {
        self.require_admin(actor, "change permissions")?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "DELETE FROM permissions WHERE user_id = ?1 AND kind = ?2 AND action = ?3",
        )?
        .execute(params![user.0, kind.number(), action.as_str()])?;
        audit::write(
            &tx,
            Some(actor),
            "permission.revoke",
            &format!("user {} {} {}", user.0, kind.name(), action.as_str()),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// H3: whether `user` may do `action` on `kind`. The administrator may do everything.
    pub fn can(&self, user: UserId, kind: InvoiceKind, action: Action) -> Result<bool, StoreError> {
        if self.user(user)?.role == Role::Admin {
            return Ok(true);
        }
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM permissions WHERE user_id = ?1 AND kind = ?2 AND action = ?3",
            )?
            .query_row(params![user.0, kind.number(), action.as_str()], |r| {
                r.get(0)
            })?;
        Ok(n > 0)
    }

    /// H3: like [`Store::can`], but an error naming what was refused.
    pub fn require(
        &self,
        user: UserId,
        kind: InvoiceKind,
        action: Action,
    ) -> Result<(), StoreError> {
        if self.can(user, kind, action)? {
            Ok(())
        } else {
            Err(permission_denied(kind, action))
        }
    }
}

/// H3: the refusal of `action` on `kind` to a user without that permission.
pub(crate) fn permission_denied(kind: InvoiceKind, action: Action) -> StoreError {
    StoreError::Permission {
        rule: "H3",
        what: format!(
            "{} on {} invoices (FAQ 4.19)",
            action.as_str(),
            kind.chinese_name()
        ),
    }
}

fn self_is_admin(conn: &Connection, user: UserId) -> Result<bool, StoreError> {
    let role: String = conn
        .prepare_cached("SELECT role FROM users WHERE id = ?1")?
        .query_row([user.0], |r| r.get(0))?;
    Ok(role == "admin")
}
