//! The durability setting of the store: FULL by default, NORMAL on request, read back.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use taxdisk_host::store::{Durability, Store};

#[test]
fn h08_store_is_fully_durable_by_default_and_normal_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("t.db")).unwrap();
    assert_eq!(s.durability().unwrap(), Durability::Full);
    s.set_durability(Durability::Normal).unwrap();
    assert_eq!(s.durability().unwrap(), Durability::Normal);
    assert_eq!(s.journal_mode().unwrap(), "wal");
}

#[test]
fn h08_normal_durability_checkpoints_in_the_background_not_inside_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.wal_autocheckpoint().unwrap(), 1000);
    assert!(!s.checkpoints_in_background());
    s.set_durability(Durability::Normal).unwrap();
    assert_eq!(
        s.wal_autocheckpoint().unwrap(),
        0,
        "no checkpoint inside a commit"
    );
    assert!(s.checkpoints_in_background());
    // Commits go to the WAL; the database file grows only when the background thread copies
    // them back.
    let admin = s.initialize(&init()).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    for i in 0..400 {
        s.set_setting(admin, &format!("k{i}"), &"x".repeat(2000))
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::metadata(&path).unwrap().len() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the background checkpointer never copied the WAL back"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(s.setting("k399").unwrap().unwrap().len(), 2000);
    s.set_durability(Durability::Full).unwrap();
    assert_eq!(s.wal_autocheckpoint().unwrap(), 1000);
    assert!(!s.checkpoints_in_background());
    // In memory there is no WAL to checkpoint.
    let mut m = Store::open_in_memory().unwrap();
    m.set_durability(Durability::Normal).unwrap();
    assert!(!m.checkpoints_in_background());
}

fn init() -> taxdisk_host::store::Initialization {
    taxdisk_host::store::Initialization {
        supervisor_name: "管理员".into(),
        supervisor_password: "admin-password".into(),
        address: "厦门市思明区示例路1号".into(),
        phone: "0592-1234567".into(),
        bank_accounts: vec![taxdisk_host::store::BankAccount {
            bank: "示例银行".into(),
            account: "4100021234567890123".into(),
        }],
        bureau_server: "http://127.0.0.1".into(),
    }
}
