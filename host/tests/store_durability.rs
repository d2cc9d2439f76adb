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
fn h08_normal_durability_checkpoints_the_wal_less_often() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("t.db")).unwrap();
    assert_eq!(s.wal_autocheckpoint().unwrap(), 1000);
    s.set_durability(Durability::Normal).unwrap();
    assert_eq!(s.wal_autocheckpoint().unwrap(), 10_000);
    s.set_durability(Durability::Full).unwrap();
    assert_eq!(s.wal_autocheckpoint().unwrap(), 1000);
}
