//! H15 refined oil and H17 online changes through the workflow: the oil authorization arrives
//! as a bureau update (B8, D10), stock is downloaded and returned (D11, B7), oil invoices
//! consume it; without the authorization the oil screen is refused. Company name and limits
//! change online too.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::invoice::KindFields;
use taxdisk_protocol::WireError;
use taxdisk_protocol::bureau_api::UpdateRequest;
use taxdisk_protocol::types::*;
use workflow_support::*;

fn serial() -> DeviceSerial {
    DeviceSerial::new(SERIAL).unwrap()
}

fn grant_oil(env: &mut Env, role: OilRole) {
    env.bureau_client()
        .request_update(&UpdateRequest {
            serial: serial(),
            changes: vec![UpdateChange::Oil(role, Some(at(2027, 12, 31, 0)))],
        })
        .unwrap();
    let changes = env.wf.apply_updates().unwrap();
    assert_eq!(changes.len(), 1);
}

fn oil_draft(env: &mut Env, milli: i64) -> taxdisk_host::invoice::Draft {
    let mut d = draft_of(
        &mut env.wf,
        KindFields::Normal(Variant::Standard),
        "100",
        "7.5",
    );
    d.oil = Some(OilUse {
        category: 1,
        milli_quantity: milli,
    });
    d
}

#[test]
fn h15_oil_shown_only_with_authorization() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 5);
    let e = env.wf.oil_stock().unwrap_err();
    says(&e, "H15");
    let e = env.wf.oil_download(1, OilUnit::Litre, 1000).unwrap_err();
    says(&e, "FAQ 8.1");
}

#[test]
fn h15_dealer_downloads_issues_and_returns_stock() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    grant_oil(&mut env, OilRole::Dealer);
    assert_eq!(env.wf.status().unwrap().oil, Some(vec![]));
    // A dealer needs stock (FAQ 8.3).
    let d = oil_draft(&mut env, 100_000);
    let e = env.wf.issue(d).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::OilStockShort));
    says(&e, "D11");
    let entry = env.wf.oil_download(1, OilUnit::Litre, 250_000).unwrap();
    assert_eq!(entry.milli_quantity, 250_000);
    let d = oil_draft(&mut env, 100_000);
    env.wf.issue(d).unwrap();
    let stock = env.wf.oil_stock().unwrap();
    assert_eq!(stock[0].milli_quantity, 150_000);
    assert_eq!(env.wf.store().oil_stock().unwrap(), stock, "mirror kept");
    env.wf.oil_return(1, OilUnit::Litre, 50_000).unwrap();
    assert_eq!(env.wf.oil_stock().unwrap()[0].milli_quantity, 100_000);
    let e = env.wf.oil_download(1, OilUnit::Litre, 0).unwrap_err();
    says(&e, "H15");
}

#[test]
fn h15_producer_issues_without_stock() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    grant_oil(&mut env, OilRole::Producer);
    let d = oil_draft(&mut env, 100_000);
    env.wf.issue(d).unwrap();
}

#[test]
fn h17_online_change_of_name_and_limits() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let mut l = limits(InvoiceKind::Normal);
    l.offline_hours = 12;
    env.bureau_client()
        .request_update(&UpdateRequest {
            serial: serial(),
            changes: vec![
                UpdateChange::CompanyName(CompanyName::new("福州新名称有限公司").unwrap()),
                UpdateChange::Limits(l),
            ],
        })
        .unwrap();
    // Applied at the next login (FAQ 9.14(1)).
    env.wf.logout().unwrap();
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.updates.len(), 2, "{:?}", r.notes);
    assert_eq!(
        r.info.company_name.as_ref().map(|n| n.as_str()),
        Some("福州新名称有限公司")
    );
    let st = env.wf.status().unwrap();
    assert_eq!(
        st.kind(InvoiceKind::Normal)
            .unwrap()
            .status
            .limits
            .offline_hours,
        12
    );
    // The seller on new invoices is the new name (FAQ 10.1).
    assert_eq!(env.wf.seller_party().unwrap().name, "福州新名称有限公司");
    // Nothing applied twice.
    assert!(env.wf.apply_updates().unwrap().is_empty());
}

#[test]
fn d07_oil_special_invoice_cannot_be_voided() {
    let mut env = Env::with_rolls(&[InvoiceKind::Special], 10);
    grant_oil(&mut env, OilRole::Producer);
    let mut d = draft_of(&mut env.wf, KindFields::Special, "100", "7.5");
    d.oil = Some(OilUse {
        category: 2,
        milli_quantity: 100_000,
    });
    let i = env.wf.issue(d).unwrap();
    let e = env.wf.void(&[i.id]).unwrap_err();
    says(&e, "FAQ 8.6");
}

/// D11 across a power cut: an oil return whose answer was lost is sent again under its own
/// request id at the next login, so the oil is returned once and the bureau gets its receipt.
#[test]
fn d11_an_oil_return_cut_by_a_power_loss_is_done_once_at_the_next_login() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    grant_oil(&mut env, OilRole::Dealer);
    env.wf.oil_download(1, OilUnit::Litre, 250_000).unwrap();
    let mut left = 250_000;
    let mut finished_later = 0;
    for n in 1..=4 {
        env.sim.lock().unwrap().cut_power_at(n, 0);
        let r = env.wf.oil_return(1, OilUnit::Litre, 10_000);
        env.sim.lock().unwrap().cut_power_at(0, 0);
        if r.is_err() {
            env.sim.lock().unwrap().power_cycle();
            let report = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
            assert!(
                report.notes.iter().any(|n| n.contains("is done, once")
                    && n.contains("the bureau took the disk's receipt")),
                "cut at flash write {n}: {:?}",
                report.notes
            );
            finished_later += 1;
        }
        left -= 10_000;
        assert_eq!(
            env.wf.oil_stock().unwrap()[0].milli_quantity,
            left,
            "cut at flash write {n}: returned once"
        );
    }
    assert!(
        finished_later > 0,
        "no return lost its answer: the test did not test"
    );
}
