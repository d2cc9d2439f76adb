//! The disk through the workflow: D2 PIN change, lockout after 10 wrong PINs and unblock with a
//! bureau token; D3 the clock set only from a bureau clock token (FAQ 10.4); H2/H3 user
//! management with the logged-in user as actor.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::store::Action;
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::*;
use workflow_support::*;

#[test]
fn d02_pin_change_lockout_and_unblock() {
    let mut env = Env::new();
    let new = Pin::new("13572468").unwrap();
    env.wf.change_pin(&pin(), &new).unwrap();
    env.wf.logout().unwrap();
    for left in (0..10u32).rev() {
        let e = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap_err();
        if left > 0 {
            assert_eq!(e.wire_error(), Some(WireError::WrongPin), "{e}");
        } else {
            assert!(
                matches!(
                    e.wire_error(),
                    Some(WireError::WrongPin | WireError::PinBlocked)
                ),
                "{e}"
            );
        }
    }
    let e = env.wf.login(ADMIN, ADMIN_PW, &new).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::PinBlocked));
    says(&e, "D2");
    let unblocked = Pin::new("24681357").unwrap();
    let info = env.wf.unblock_pin(&unblocked).unwrap();
    assert_eq!(info.state, DiskState::Ready);
    env.wf.login(ADMIN, ADMIN_PW, &unblocked).unwrap();
}

#[test]
fn d03_clock_from_a_bureau_token_admin_only() {
    let mut env = Env::new();
    let info = env.wf.set_disk_clock(at(2026, 11, 12, 8)).unwrap();
    assert_eq!(info.time, at(2026, 11, 12, 8));
    env.wf.add_invoicer("开票员甲", "pw-12345678").unwrap();
    env.login_as("开票员甲", "pw-12345678");
    let e = env.wf.set_disk_clock(at(2026, 11, 13, 8)).unwrap_err();
    says(&e, "FAQ 10.4");
}

#[test]
fn h02_h03_user_management_through_the_workflow() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    let e = env.wf.add_invoicer(ADMIN, "x-12345678").unwrap_err();
    says(&e, "H2");
    let id = env.wf.add_invoicer("开票员乙", "pw-12345678").unwrap();
    env.wf
        .grant(id, InvoiceKind::Normal, Action::Issue)
        .unwrap();
    env.login_as("开票员乙", "pw-12345678");
    // An invoicer cannot manage users (H2) or grant (H3).
    let e = env.wf.add_invoicer("开票员丙", "pw-12345678").unwrap_err();
    assert!(e.to_string().contains("permission"), "{e}");
    let e = env
        .wf
        .grant(id, InvoiceKind::Special, Action::Issue)
        .unwrap_err();
    assert!(e.to_string().contains("permission"), "{e}");
    let d = normal(&mut env.wf);
    let issued = env.wf.issue(d).unwrap();
    let row = env.wf.store().invoice(issued.id).unwrap();
    assert_eq!(
        row.invoice.draft().issuer,
        "开票员乙",
        "the issuer is the logged-in user (H3)"
    );
    // A draft naming anyone else as issuer or seller is refused before the disk (H3).
    let mut d = normal(&mut env.wf);
    d.issuer = "张三".into();
    let e = env.wf.issue(d).unwrap_err();
    assert!(
        e.to_string().contains("the issuer is the logged-in user"),
        "{e}"
    );
    let mut d = normal(&mut env.wf);
    d.seller.name = "别的公司".into();
    let e = env.wf.issue(d).unwrap_err();
    assert!(e.to_string().contains("this disk's company"), "{e}");
    // Password change needs the old one (FAQ 2.5); rename keeps the session.
    let e = env.wf.change_password("wrong", "new-12345678").unwrap_err();
    says(&e, "H2");
    env.wf
        .change_password("pw-12345678", "new-12345678")
        .unwrap();
    let me = env.wf.rename_self("new-12345678", "开票员丁").unwrap();
    assert_eq!(env.wf.user().unwrap().name, me.name);
    env.login_as(ADMIN, ADMIN_PW);
    env.wf
        .revoke(id, InvoiceKind::Normal, Action::Issue)
        .unwrap();
    env.login_as("开票员丁", "new-12345678");
    let d = normal(&mut env.wf);
    says(&env.wf.issue(d).unwrap_err(), "H3");
}
