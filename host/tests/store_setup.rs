//! H1 initialization, H2 users, H3 permissions, H4 backups, migrations and the audit log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "store_support/mod.rs"]
mod store_common;

use store_common::*;
use taxdisk_host::store::*;
use taxdisk_protocol::types::InvoiceKind;

#[test]
fn h01_initialization_sets_company_and_admin() {
    let mut s = Store::open_in_memory().unwrap();
    assert!(!s.is_initialized().unwrap());
    assert!(matches!(s.company(), Err(StoreError::Initialization(_))));
    let admin = s.initialize(&init()).unwrap();
    assert!(s.is_initialized().unwrap());
    let c = s.company().unwrap();
    assert_eq!(c.supervisor_name, "王主管");
    assert_eq!(c.phone, "0591-12345678");
    assert_eq!(c.bureau_server, "https://127.0.0.1:7001");
    let u = s.user(admin).unwrap();
    assert_eq!((u.name.as_str(), u.role), ("王主管", Role::Admin));
    assert_eq!(s.authenticate("王主管", "admin-secret").unwrap().id, admin);
}

#[test]
fn h01_initialization_refused_twice() {
    let (mut s, _) = store();
    let e = s.initialize(&init()).unwrap_err();
    assert_eq!(e.rule(), Some("H1"));
    assert_eq!(s.users().unwrap().len(), 1);
}

#[test]
fn h01_initialization_needs_every_field() {
    type Change = Box<dyn Fn(&mut Initialization)>;
    let cases: Vec<Change> = vec![
        Box::new(|i| i.supervisor_name = " ".into()),
        Box::new(|i| i.address.clear()),
        Box::new(|i| i.phone.clear()),
        Box::new(|i| i.bank_accounts.clear()),
        Box::new(|i| i.bank_accounts[1].account.clear()),
        Box::new(|i| i.bureau_server = "127.0.0.1:7001".into()),
        Box::new(|i| i.bureau_server = "https://".into()),
        Box::new(|i| i.supervisor_password.clear()),
    ];
    for (n, change) in cases.iter().enumerate() {
        let mut s = Store::open_in_memory().unwrap();
        let mut i = init();
        change(&mut i);
        let e = s.initialize(&i).unwrap_err();
        assert!(matches!(e.rule(), Some("H1") | Some("H2")), "case {n}: {e}");
        assert!(!s.is_initialized().unwrap(), "case {n} left data behind");
        assert!(s.users().unwrap().is_empty(), "case {n} left a user behind");
    }
}

#[test]
fn h01_several_bank_accounts_kept_in_order() {
    let (mut s, admin) = store();
    let c = s.company().unwrap();
    assert_eq!(c.bank_accounts, init().bank_accounts);
    assert_eq!(
        c.bank_account_text(1).unwrap(),
        "建设银行福州分行 35001600000052512345"
    );
    let mut accounts = c.bank_accounts.clone();
    accounts.push(BankAccount {
        bank: "农业银行".into(),
        account: "13800000000000001".into(),
    });
    accounts.swap(0, 2);
    s.update_company(admin, "新地址", "0591-87654321", &accounts)
        .unwrap();
    let c = s.company().unwrap();
    assert_eq!(c.bank_accounts, accounts);
    assert_eq!(c.address, "新地址");
    assert!(s.update_company(admin, "新地址", "1", &[]).is_err());
}

#[test]
fn h01_bureau_server_address_checked() {
    let (mut s, admin) = store();
    s.set_bureau_server(admin, "http://bureau.example:8080/api")
        .unwrap();
    assert_eq!(
        s.company().unwrap().bureau_server,
        "http://bureau.example:8080/api"
    );
    let e = s.set_bureau_server(admin, "ftp://x").unwrap_err();
    assert_eq!(e.rule(), Some("H1"));
    assert_eq!(
        s.company().unwrap().bureau_server,
        "http://bureau.example:8080/api"
    );
}

#[test]
fn h02_invoicer_name_differs_from_admin() {
    let (mut s, admin) = store();
    let e = s.add_invoicer(admin, "王主管", "pw-123456").unwrap_err();
    assert!(matches!(e, StoreError::NameTaken(_)));
    assert_eq!(e.rule(), Some("H2"));
    let e = s.add_invoicer(admin, "  王主管 ", "pw-123456").unwrap_err();
    assert!(
        matches!(e, StoreError::NameTaken(_)),
        "trimmed names compare"
    );
}

#[test]
fn h02_invoicer_name_differs_from_every_user() {
    let (mut s, admin) = store();
    let a = s.add_invoicer(admin, "开票员甲", "pw-a").unwrap();
    assert!(matches!(
        s.add_invoicer(admin, "开票员甲", "pw-b"),
        Err(StoreError::NameTaken(_))
    ));
    let b = s.add_invoicer(admin, "开票员乙", "pw-b").unwrap();
    assert_ne!(a, b);
    // Renaming onto another user's name is refused too, the administrator's included.
    assert!(matches!(
        s.rename_user(b, "pw-b", "开票员甲"),
        Err(StoreError::NameTaken(_))
    ));
    assert!(matches!(
        s.rename_user(b, "pw-b", "王主管"),
        Err(StoreError::NameTaken(_))
    ));
    assert_eq!(s.users().unwrap().len(), 3);
}

#[test]
fn h02_only_admin_adds_users() {
    let (mut s, admin) = store();
    let a = s.add_invoicer(admin, "开票员甲", "pw-a").unwrap();
    let e = s.add_invoicer(a, "开票员乙", "pw-b").unwrap_err();
    assert!(matches!(e, StoreError::Permission { rule: "H2", .. }));
}

#[test]
fn h02_passwords_hashed_never_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.db");
    {
        let mut s = Store::open(&path).unwrap();
        let admin = s.initialize(&init()).unwrap();
        s.add_invoicer(admin, "开票员甲", "very-secret-pw").unwrap();
    }
    let raw = rusqlite::Connection::open(&path).unwrap();
    let hashes: Vec<String> = raw
        .prepare("SELECT password_hash FROM users")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hashes.len(), 2);
    for h in &hashes {
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("very-secret-pw") && !h.contains("admin-secret"));
    }
    assert_ne!(hashes[0], hashes[1]);
    drop(raw);
    // Nothing in the file holds the clear password.
    let s = Store::open(&path).unwrap();
    drop(s);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let needle = b"very-secret-pw";
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
}

#[test]
fn h02_change_password_needs_the_old_one() {
    let (mut s, admin) = store();
    let a = s.add_invoicer(admin, "开票员甲", "old-pw").unwrap();
    assert!(matches!(
        s.change_password(a, "wrong", "new-pw"),
        Err(StoreError::WrongPassword)
    ));
    assert!(s.authenticate("开票员甲", "old-pw").is_ok());
    s.change_password(a, "old-pw", "new-pw").unwrap();
    assert!(matches!(
        s.authenticate("开票员甲", "old-pw"),
        Err(StoreError::WrongPassword)
    ));
    assert_eq!(s.authenticate("开票员甲", "new-pw").unwrap().id, a);
    // The administrator too (FAQ 2.4).
    assert!(s.change_password(admin, "nope", "x").is_err());
    s.change_password(admin, "admin-secret", "admin-2").unwrap();
    assert!(s.authenticate("王主管", "admin-2").is_ok());
}

#[test]
fn h02_rename_needs_password() {
    let (mut s, admin) = store();
    let a = s.add_invoicer(admin, "开票员甲", "pw-a").unwrap();
    assert!(matches!(
        s.rename_user(a, "bad", "新名字"),
        Err(StoreError::WrongPassword)
    ));
    s.rename_user(a, "pw-a", "新名字").unwrap();
    assert_eq!(s.user(a).unwrap().name, "新名字");
    assert!(s.authenticate("新名字", "pw-a").is_ok());
    assert!(s.authenticate("开票员甲", "pw-a").is_err());
    // Renaming the administrator renames the supervisor.
    s.rename_user(admin, "admin-secret", "李主管").unwrap();
    assert_eq!(s.company().unwrap().supervisor_name, "李主管");
}

#[test]
fn h02_unknown_user_and_wrong_password_look_alike() {
    let (s, _) = store();
    assert!(matches!(
        s.authenticate("nobody", "x"),
        Err(StoreError::WrongPassword)
    ));
    assert!(matches!(
        s.authenticate("王主管", "x"),
        Err(StoreError::WrongPassword)
    ));
}

#[test]
fn h03_admin_may_do_everything() {
    let (s, admin) = store();
    for kind in InvoiceKind::ALL {
        for action in Action::ALL {
            assert!(s.can(admin, kind, action).unwrap());
        }
    }
}

#[test]
fn h03_invoicer_needs_grant_per_kind() {
    let (mut s, admin) = store();
    let a = s.add_invoicer(admin, "开票员甲", "pw").unwrap();
    assert!(!s.can(a, InvoiceKind::MotorVehicle, Action::Issue).unwrap());
    let e = s
        .require(a, InvoiceKind::MotorVehicle, Action::Issue)
        .unwrap_err();
    assert_eq!(e.rule(), Some("H3"));
    assert!(e.to_string().contains("机动车销售统一发票"));
    s.grant(admin, a, InvoiceKind::MotorVehicle, Action::Issue)
        .unwrap();
    assert!(s.can(a, InvoiceKind::MotorVehicle, Action::Issue).unwrap());
    assert!(!s.can(a, InvoiceKind::MotorVehicle, Action::Void).unwrap());
    assert!(!s.can(a, InvoiceKind::Special, Action::Issue).unwrap());
    s.revoke(admin, a, InvoiceKind::MotorVehicle, Action::Issue)
        .unwrap();
    assert!(!s.can(a, InvoiceKind::MotorVehicle, Action::Issue).unwrap());
}

#[test]
fn h03_only_admin_grants() {
    let (mut s, admin) = store();
    let a = s.add_invoicer(admin, "开票员甲", "pw").unwrap();
    let e = s
        .grant(a, a, InvoiceKind::Special, Action::Issue)
        .unwrap_err();
    assert!(matches!(e, StoreError::Permission { .. }));
    assert!(!s.can(a, InvoiceKind::Special, Action::Issue).unwrap());
}

#[test]
fn h04_backup_needs_a_folder() {
    let (mut s, admin) = store();
    let e = s.backup(admin).unwrap_err();
    assert_eq!(e.rule(), Some("H4"));
}

#[test]
fn h04_backup_and_restore_by_admin() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("host.db")).unwrap();
    let admin = s.initialize(&init()).unwrap();
    let folder = dir.path().join("backups");
    s.set_setting(admin, "backup_folder", folder.to_str().unwrap())
        .unwrap();
    let a = s.add_invoicer(admin, "开票员甲", "pw").unwrap();
    let b1 = s.backup(a).unwrap(); // any user may back up
    assert!(b1.size > 0);
    s.add_invoicer(admin, "开票员乙", "pw").unwrap();
    s.update_company(admin, "改后地址", "1", &init().bank_accounts)
        .unwrap();
    let list = s.list_backups().unwrap();
    assert_eq!(list, vec![b1.clone()]);

    // Invoicers may not restore (FAQ 2.9).
    let e = s.restore(a, &b1.name).unwrap_err();
    assert!(matches!(e, StoreError::Permission { rule: "H4", .. }));
    // Only listed backups, by name.
    assert!(matches!(
        s.restore(admin, "../host.db"),
        Err(StoreError::NotFound(_))
    ));

    s.restore(admin, &b1.name).unwrap();
    let names: Vec<_> = s.users().unwrap().into_iter().map(|u| u.name).collect();
    assert_eq!(names, ["王主管", "开票员甲"]);
    assert_eq!(s.company().unwrap().address, init().address);
    assert!(
        s.audit_log(1).unwrap()[0].action == "backup.restore",
        "the restore is audited after the data is replaced"
    );
}

#[test]
fn h04_backups_listed_oldest_first() {
    let (dir, mut s, admin) = store_with_backup_folder();
    let a = s.backup(admin).unwrap();
    let b = s.backup(admin).unwrap();
    std::fs::write(dir.path().join("unrelated.txt"), b"x").unwrap();
    let list = s.list_backups().unwrap();
    assert_eq!(list, vec![a, b]);
}

#[test]
fn store_migrations_versioned_and_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("host.db");
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), migrate::latest());
    assert_eq!(s.journal_mode().unwrap(), "wal");
    drop(s);
    // Reopening does not re-apply anything.
    let s = Store::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), migrate::latest());
    drop(s);
    let raw = rusqlite::Connection::open(&path).unwrap();
    let versions: Vec<u32> = raw
        .prepare("SELECT version FROM schema_version ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<u32> = migrate::MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(versions, expected);
    // A database from a newer version is refused.
    raw.execute(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)",
        [],
    )
    .unwrap();
    drop(raw);
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::SchemaTooNew { found: 99, .. })
    ));
}

#[test]
fn store_audit_log_records_who_did_what() {
    let (mut s, admin) = store();
    let a = s.add_invoicer(admin, "开票员甲", "pw").unwrap();
    s.grant(admin, a, InvoiceKind::Normal, Action::Issue)
        .unwrap();
    s.record(Some(a), "invoice.print", "031001600104/00000001")
        .unwrap();
    let log = s.audit_log(10).unwrap();
    let actions: Vec<_> = log.iter().map(|e| (e.user, e.action.as_str())).collect();
    assert_eq!(
        actions,
        [
            (Some(a), "invoice.print"),
            (Some(admin), "permission.grant"),
            (Some(admin), "user.add"),
            (Some(admin), "system.initialize"),
        ]
    );
    // A refused change leaves no audit entry.
    assert!(s.add_invoicer(admin, "开票员甲", "pw").is_err());
    assert_eq!(s.audit_log(10).unwrap().len(), 4);
}
