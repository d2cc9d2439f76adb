//! A first end-to-end run through frames: provision, login, load a roll, issue, verify.
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]
// Helpers outside #[test] fns stop the test with the failed step.
#![allow(clippy::unwrap_used)]
mod firmware_support;
use firmware_support::*;
use taxdisk_protocol::types::InvoiceKind;

#[test]
fn d05_issue_smoke() {
    let mut d = Disk::stocked();
    let a = d.issue(InvoiceKind::Normal, 100_00);
    let b = d.issue(InvoiceKind::Normal, 200_00);
    assert_eq!(b.body.number.get(), a.body.number.get() + 1);
    assert_eq!(b.body.counter, a.body.counter + 1);
    d.verify(&a);
    d.disk.power_cycle();
    d.ok(S, taxdisk_protocol::Request::Login(pin(FACTORY_PIN)));
    let c = d.issue(InvoiceKind::Normal, 300_00);
    assert_eq!(c.body.number.get(), b.body.number.get() + 1);
    assert_eq!(c.body.counter, b.body.counter + 1);
}
