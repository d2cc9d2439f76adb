//! `taxdisk update` (H17, D10) through the release-built binary against a served disk: the tax
//! office changes a disk's limits and authorizations at the bureau, and the user's `update`
//! writes them to the disk and says each change in words, in English and in Chinese.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod support;

use taxdisk::wiring::read_admin_token;
use taxdisk_host::bureau_client::BureauClient;
use taxdisk_protocol::bureau_api::UpdateRequest;
use taxdisk_protocol::types::{
    DeviceSerial, Fen, InvoiceKind, KindLimits, OilRole, UpdateChange, UsedCarRole,
};

const SERIAL: &str = "661000000001";

/// The tax office's update for the served disk, through the bureau's API with its token.
fn office_update(bureau: &str, admin: &std::path::Path, changes: Vec<UpdateChange>) {
    let office = BureauClient::new(bureau)
        .unwrap()
        .with_admin_token(Some(read_admin_token(admin).unwrap()));
    office
        .request_update(&UpdateRequest {
            serial: DeviceSerial::new(SERIAL).unwrap(),
            changes,
        })
        .unwrap();
}

#[test]
fn update_writes_the_offices_changes_and_says_each_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let admin = dir.path().join("admin-token");
    let sim = support::SimProcess::serve_with_bureau(&dir.path().join("disk.img"), &admin, &[]);
    let bureau = sim.port("bureau");
    let cli = support::Cli::new(&dir.path().join("data")).with(&[
        "--disk",
        &sim.disk(),
        "--bureau",
        &bureau,
    ]);
    cli.ready_with_office(&admin);

    office_update(
        &bureau,
        &admin,
        vec![
            UpdateChange::Limits(KindLimits {
                kind: InvoiceKind::Normal,
                single_limit: Fen(1_234_500),
                offline_hours: 48,
                offline_amount: Fen(50_000_000),
            }),
            UpdateChange::Oil(OilRole::Dealer, None),
        ],
    );
    let out = cli.ok(&["update"]);
    assert!(out.contains("applied 2 change(s)"), "{out}");
    assert!(
        out.contains(
            "normal: single invoice limit 12345.00, offline hours 48, offline amount 500000.00"
        ),
        "{out}"
    );
    assert!(
        out.contains("refined oil: 成品油经销企业 (dealer)"),
        "{out}"
    );
    // Words, not the program's own names for them.
    for dump in ["Limits(", "KindLimits", "Fen(", "Oil(", "Dealer,"] {
        assert!(!out.contains(dump), "{dump} in {out}");
    }
    // The disk took them: status shows the new limit.
    let status = cli.ok(&["status"]);
    assert!(status.contains("12345.00"), "{status}");

    office_update(
        &bureau,
        &admin,
        vec![
            UpdateChange::Authorize(InvoiceKind::Special, false),
            UpdateChange::UsedCar(UsedCarRole::Market),
        ],
    );
    let out = cli.clone().locale("zh_CN.UTF-8").ok(&["update"]);
    assert!(out.contains("已写入 2 项变更"), "{out}");
    assert!(out.contains("专用发票：已取消授权"), "{out}");
    assert!(out.contains("二手车：二手车市场 (market)"), "{out}");

    // Nothing left: a second update applies none.
    let out = cli.ok(&["update"]);
    assert!(out.contains("applied 0 change(s)"), "{out}");
}
