//! Shared fixtures of the store tests (included with `#[path]`).
#![allow(dead_code, clippy::unwrap_used)]

use taxdisk_host::store::*;

pub fn init() -> Initialization {
    Initialization {
        supervisor_name: "王主管".into(),
        supervisor_password: "admin-secret".into(),
        address: "福州市鼓楼区五四路 1 号".into(),
        phone: "0591-12345678".into(),
        bank_accounts: vec![
            BankAccount {
                bank: "工商银行福州分行".into(),
                account: "1402020109000012345".into(),
            },
            BankAccount {
                bank: "建设银行福州分行".into(),
                account: "35001600000052512345".into(),
            },
        ],
        bureau_server: "https://127.0.0.1:7001".into(),
    }
}

/// An initialized in-memory store and its administrator.
pub fn store() -> (Store, UserId) {
    let mut s = Store::open_in_memory().unwrap();
    let admin = s.initialize(&init()).unwrap();
    (s, admin)
}

/// [`store`] with its backup folder set to a fresh temporary folder (kept alive by the
/// returned guard).
pub fn store_with_backup_folder() -> (tempfile::TempDir, Store, UserId) {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, admin) = store();
    s.set_setting(admin, "backup_folder", dir.path().to_str().unwrap())
        .unwrap();
    (dir, s, admin)
}
