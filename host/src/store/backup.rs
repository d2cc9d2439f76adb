//! Backup and restore (H4, FAQ 2.7-2.9).
//!
//! - The backup folder is a setting ([`SETTING_BACKUP_FOLDER`]); any user may back up.
//! - A backup is `VACUUM INTO` a new file: a consistent snapshot even while WAL is in use.
//!   Files are named `taxdisk-backup-<unix seconds, 12 digits>-<n>.db`, so names sort by time.
//! - Restore is for the administrator only, from a backup listed in the folder (a name, never
//!   a path). A backup of an older schema version is migrated on a copy first (the backup
//!   stays as it was); a newer one is refused. It replaces every table's content in one
//!   transaction, so a failed restore changes nothing; the restore itself is then audited.

use super::UserId;
use super::company::SETTING_BACKUP_FOLDER;
use super::users::Role;
use super::{Store, StoreError, audit, migrate, now_secs};
use rusqlite::OptionalExtension;
use std::path::PathBuf;

/// One backup file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupEntry {
    /// File name (what restore takes).
    pub name: String,
    /// Full path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
}

const PREFIX: &str = "taxdisk-backup-";

/// A file removed when dropped (the migrated copy of an old backup).
struct TempCopy(PathBuf);

impl Drop for TempCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Store {
    fn backup_folder(&self) -> Result<PathBuf, StoreError> {
        self.setting(SETTING_BACKUP_FOLDER)?
            .filter(|s| !s.trim().is_empty())
            .map(PathBuf::from)
            .ok_or(StoreError::Field {
                rule: "H4",
                field: "backup folder",
                problem: "is not set (FAQ 2.7)".into(),
            })
    }

    /// H4 (FAQ 2.8): writes a consistent backup into the backup folder.
    pub fn backup(&mut self, actor: UserId) -> Result<BackupEntry, StoreError> {
        let folder = self.backup_folder()?;
        std::fs::create_dir_all(&folder)?;
        let stamp = now_secs();
        let (name, path) = (0u32..)
            .map(|n| {
                let name = format!("{PREFIX}{stamp:012}-{n}.db");
                let path = folder.join(&name);
                (name, path)
            })
            .find(|(_, p)| !p.exists())
            .ok_or_else(|| StoreError::Corrupt("no free backup name".into()))?;
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Corrupt("backup path is not UTF-8".into()))?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        audit::write(&self.conn, Some(actor), "backup.create", &name)?;
        let size = std::fs::metadata(&path)?.len();
        Ok(BackupEntry { name, path, size })
    }

    /// H4 (FAQ 2.9): the backups in the folder, oldest first.
    pub fn list_backups(&self) -> Result<Vec<BackupEntry>, StoreError> {
        let folder = self.backup_folder()?;
        if !folder.exists() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for e in std::fs::read_dir(&folder)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(PREFIX) && name.ends_with(".db") && e.file_type()?.is_file() {
                out.push(BackupEntry {
                    path: e.path(),
                    size: e.metadata()?.len(),
                    name,
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// H4 (FAQ 2.9): the administrator restores the listed backup `name`.
    pub fn restore(&mut self, actor: UserId, name: &str) -> Result<(), StoreError> {
        if self.user(actor)?.role != Role::Admin {
            return Err(StoreError::Permission {
                rule: "H4",
                what: "only the administrator may restore a backup (FAQ 2.9)".into(),
            });
        }
        let entry = self
            .list_backups()?
            .into_iter()
            .find(|b| b.name == name)
            .ok_or_else(|| StoreError::NotFound(format!("backup {name:?}")))?;
        // A backup of an older schema is brought up to this one on a copy (the backup file
        // itself is never changed), then restored from the copy.
        let migrated = self.migrated_copy(&entry.path)?;
        let source = migrated.as_ref().map_or(&entry.path, |m| &m.0);
        let path = source
            .to_str()
            .ok_or_else(|| StoreError::Corrupt("backup path is not UTF-8".into()))?
            .to_owned();
        self.conn
            .execute("ATTACH DATABASE ?1 AS restore_src", [&path])?;
        let result = self.copy_from_attached();
        let detach = self.conn.execute("DETACH DATABASE restore_src", []);
        drop(migrated);
        result?;
        detach?;
        audit::write(&self.conn, Some(actor), "backup.restore", name)?;
        Ok(())
    }

    /// When the backup at `path` has an older schema version than this database: a migrated
    /// copy of it next to it (removed when dropped). `None` when it is current (or newer:
    /// the version check refuses it).
    fn migrated_copy(&self, path: &std::path::Path) -> Result<Option<TempCopy>, StoreError> {
        let theirs: u32 = {
            let conn = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?;
            // Not a backup of ours (no versions): the version check below says so.
            conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| {
                r.get::<_, Option<u32>>(0)
            })
            .ok()
            .flatten()
            .unwrap_or(0)
        };
        if theirs == 0 || theirs >= migrate::current(&self.conn)? {
            return Ok(None);
        }
        let mut copy = path.as_os_str().to_owned();
        copy.push(".migrating");
        let copy = TempCopy(PathBuf::from(copy));
        std::fs::copy(path, &copy.0)?;
        let mut conn = rusqlite::Connection::open(&copy.0)?;
        migrate::migrate(&mut conn)?;
        Ok(Some(copy))
    }

    fn copy_from_attached(&mut self) -> Result<(), StoreError> {
        let theirs: Option<u32> = self.conn.query_row(
            "SELECT MAX(version) FROM restore_src.schema_version",
            [],
            |r| r.get(0),
        )?;
        let ours = migrate::current(&self.conn)?;
        if theirs != Some(ours) {
            return Err(StoreError::Field {
                rule: "H4",
                field: "backup",
                problem: format!(
                    "schema version {} differs from this database's {ours}",
                    theirs.unwrap_or(0)
                ),
            });
        }
        let tables: Vec<String> = self
            .conn
            .prepare(
                "SELECT name FROM main.sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' AND name != 'schema_version' ORDER BY name",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        // Foreign keys are off while copying (the backup is a consistent snapshot of the same
        // schema), so no cascade touches rows already copied; a foreign-key check before the
        // commit proves the result consistent. The pragma only works outside a transaction.
        self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        let copied = self.copy_tables(&tables);
        self.conn.execute_batch("PRAGMA foreign_keys = ON")?;
        copied?;
        Ok(())
    }

    fn copy_tables(&mut self, tables: &[String]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        // Neither number goes back with the backup: row ids reserved by an issuing process
        // are never given again (schema v6), and a configuration read before is never taken
        // for the restored one.
        let (next_id, version): (i64, i64) = tx.query_row(
            "SELECT (SELECT next FROM sequences WHERE name = 'invoices'),
                    (SELECT version FROM config_version WHERE id = 1)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // Table names come from our own schema, never from input.
        for t in tables {
            tx.execute(&format!("DELETE FROM main.\"{t}\""), [])?;
            tx.execute(
                &format!("INSERT INTO main.\"{t}\" SELECT * FROM restore_src.\"{t}\""),
                [],
            )?;
        }
        tx.execute(
            "UPDATE sequences SET next = MAX(next, ?1,
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM invoices)) WHERE name = 'invoices'",
            [next_id],
        )?;
        tx.execute(
            "UPDATE config_version SET version = MAX(version, ?1) + 1",
            [version],
        )?;
        let broken: Option<String> = tx
            .query_row("PRAGMA main.foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(StoreError::Corrupt(format!(
                "the backup breaks a foreign key of {table}; nothing restored"
            )));
        }
        tx.commit()?;
        Ok(())
    }
}
