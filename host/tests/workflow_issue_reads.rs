//! What an issuing call reads before it records anything (H1 company data, H3 permissions, H5
//! automatic buyer saving) is read afresh by every call, in one read transaction
//! (`Store::issuing_context`): a change between two calls of one session is respected by the
//! second, whether made through the workflow's own store or by another connection (a second
//! process on the same database).
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::invoice::KindFields;
use taxdisk_host::store::company::SETTING_AUTO_SAVE_BUYERS;
use taxdisk_host::store::{Action, BankAccount, Store};
use taxdisk_protocol::types::*;
use workflow_support::*;

/// A second connection to the workflow's database, as another process opens it.
fn other_process(env: &Env) -> Store {
    Store::open(env.dir.path().join("taxdisk.db")).unwrap()
}

#[test]
fn h03_a_permission_revoked_and_granted_between_two_issues_of_one_session_is_respected() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let clerk = env.invoicer("开票员甲", &[InvoiceKind::Normal], &[Action::Issue]);
    env.login_as("开票员甲", "pw-12345678");
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    // Through the workflow's own store (its connection).
    let admin = env.admin;
    env.wf
        .store_mut()
        .revoke(admin, clerk, InvoiceKind::Normal, Action::Issue)
        .unwrap();
    let d = normal(&mut env.wf);
    says(&env.wf.issue(d).unwrap_err(), "H3");
    env.wf
        .store_mut()
        .grant(admin, clerk, InvoiceKind::Normal, Action::Issue)
        .unwrap();
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    // Through another connection.
    let mut other = other_process(&env);
    other
        .revoke(admin, clerk, InvoiceKind::Normal, Action::Issue)
        .unwrap();
    let d = normal(&mut env.wf);
    says(&env.wf.issue(d).unwrap_err(), "H3");
    other
        .grant(admin, clerk, InvoiceKind::Normal, Action::Issue)
        .unwrap();
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    // In a batch, the permission read once serves every draft of its kind; another kind is
    // refused alone.
    let drafts = vec![
        normal(&mut env.wf),
        draft_of(&mut env.wf, KindFields::Special, "1", "10"),
        normal(&mut env.wf),
    ];
    let r = env.wf.issue_batch(drafts).unwrap();
    assert!(r[0].is_ok() && r[2].is_ok());
    says(r[1].as_ref().unwrap_err(), "H3");
}

#[test]
fn h01_company_data_changed_by_another_connection_is_the_next_issues_seller() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    let first = env.wf.issue(d).unwrap();
    let before = env.wf.store().invoice(first.id).unwrap();
    let old_bank = before.invoice.draft().seller.bank_account.clone();
    let mut other = other_process(&env);
    let accounts = [BankAccount {
        bank: "农业银行".into(),
        account: "6228480000000000".into(),
    }];
    other
        .update_company(
            env.admin,
            "福州市鼓楼区新地址 1 号",
            "0591-12345678",
            &accounts,
        )
        .unwrap();
    let d = normal(&mut env.wf);
    let second = env.wf.issue(d).unwrap();
    let seller = env
        .wf
        .store()
        .invoice(second.id)
        .unwrap()
        .invoice
        .draft()
        .seller
        .clone();
    assert_eq!(
        seller.address_phone,
        "福州市鼓楼区新地址 1 号 0591-12345678"
    );
    assert_eq!(seller.bank_account, "农业银行 6228480000000000");
    // The old account is not the company's any more (FAQ 4.16).
    let mut d = normal(&mut env.wf);
    d.seller.bank_account = old_bank;
    says(&env.wf.issue(d).unwrap_err(), "H1");
}

#[test]
fn h05_automatic_buyer_saving_switched_by_another_connection_is_respected_next_call() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    assert!(!env.wf.issue(d).unwrap().buyer_saved);
    let mut other = other_process(&env);
    other
        .set_setting(env.admin, SETTING_AUTO_SAVE_BUYERS, "1")
        .unwrap();
    let d = normal(&mut env.wf);
    assert!(env.wf.issue(d).unwrap().buyer_saved);
    other
        .set_setting(env.admin, SETTING_AUTO_SAVE_BUYERS, "0")
        .unwrap();
    let d = normal(&mut env.wf);
    assert!(!env.wf.issue(d).unwrap().buyer_saved);
    assert_eq!(env.wf.store().customers(None).unwrap().len(), 1);
}
