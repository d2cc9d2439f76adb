//! D1 provisioning, D2 PIN, D3 clock, D10 updates and D14 sessions, driven through encoded
//! frames of a SimDisk.
// Money is written yuan_fen (100_00 = 100.00 yuan).
#![allow(clippy::inconsistent_digit_grouping)]
// Helpers outside #[test] fns stop the test with the failed step.
#![allow(clippy::unwrap_used)]
mod firmware_support;
use firmware_support::*;
use taxdisk_device_sim::firmware::FwState;
use taxdisk_device_sim::sim::{SimConfig, SimDisk};
use taxdisk_protocol::message::ProvisionProof;
use taxdisk_protocol::sign;
use taxdisk_protocol::types::*;
use taxdisk_protocol::{Request, Response, WireError};

// ---- D1 ---------------------------------------------------------------------------------

#[test]
fn d01_factory_disk_answers_only_provisioning() {
    let mut d = Disk::factory();
    assert_eq!(d.info().state, DiskState::Factory);
    assert!(matches!(d.ok(S, Request::Ping(5)), Response::Ping(5)));
    assert_eq!(
        d.err(S, Request::Login(pin(FACTORY_PIN))),
        WireError::NotProvisioned
    );
    assert_eq!(
        d.err(S, Request::GetPublicKey(())),
        WireError::NotProvisioned
    );
    let q = d.req(InvoiceKind::Normal, 100);
    assert_eq!(d.err(S, Request::Issue(q)), WireError::NotProvisioned);
    assert_eq!(d.disk.state(), FwState::Factory);
}

#[test]
fn d01_provision_refuses_forged_and_foreign_tokens() {
    let mut d = Disk::factory();
    let mut t = d.provision_token();
    t = Signed::sign(t.body, &foreign_bureau()).unwrap();
    assert_eq!(d.err(S, Request::Provision(t)), WireError::BadSignature);
    let mut body = d.provision_token().body;
    body.serial = other_serial();
    assert_eq!(
        d.err(S, Request::Provision(signed(body))),
        WireError::WrongDevice
    );
    let mut tampered = d.provision_token();
    tampered.body.machine = 5;
    assert_eq!(
        d.err(S, Request::Provision(tampered)),
        WireError::BadSignature
    );
    assert_eq!(d.info().state, DiskState::Factory);
}

#[test]
fn d01_provision_generates_key_inside_with_proof() {
    let mut d = Disk::factory();
    let t = d.provision_token();
    let Response::Provision(r) = d.ok(S, Request::Provision(t.clone())) else {
        panic!()
    };
    let proof = ProvisionProof {
        serial: serial(),
        public_key: r.public_key,
    };
    let vk = sign::verifying_key(&r.public_key).unwrap();
    sign::verify(&vk, &proof, &r.proof).unwrap();
    assert_eq!(d.public_key(), r.public_key);
    let info = d.info();
    assert_eq!(info.state, DiskState::Ready);
    assert_eq!(info.taxpayer_id, Some(taxpayer()));
    assert_eq!(info.lock_time, Some(t.body.lock_time));
    // Durable: a power cycle keeps identity and key.
    d.disk.power_cycle();
    assert_eq!(d.public_key(), r.public_key);
    assert_eq!(d.info().state, DiskState::Ready);
    // The same token sent again (its answer lost to the power cut) answers the same key with
    // a proof that verifies, and changes nothing; a token for another machine is refused.
    let Response::Provision(again) = d.ok(S, Request::Provision(t.clone())) else {
        panic!()
    };
    assert_eq!(again.public_key, r.public_key);
    sign::verify(&vk, &proof, &again.proof).unwrap();
    let mut other = t.body.clone();
    other.machine = 1;
    assert_eq!(
        d.err(S, Request::Provision(signed(other))),
        WireError::AlreadyProvisioned
    );
    assert_eq!(d.info().machine, 0);
}

#[test]
fn d01_key_comes_from_the_seeded_rng() {
    let key_of = |seed: u64| {
        let mut cfg = SimConfig::new(serial(), sign::public_key(&bureau()), start());
        cfg.flash_bytes = 1 << 20;
        cfg.seed = seed;
        let mut disk = SimDisk::new(cfg).unwrap();
        let t = Disk::factory().provision_token();
        match disk.request(S, Request::Provision(t)).unwrap() {
            Response::Provision(r) => r.public_key,
            r => panic!("{r:?}"),
        }
    };
    assert_eq!(key_of(1), key_of(1));
    assert_ne!(key_of(1), key_of(2));
}

// ---- D2 ---------------------------------------------------------------------------------

#[test]
fn d02_wrong_pin_counts_down_then_blocks() {
    let mut d = Disk::provisioned();
    for left in (0..10u32).rev() {
        let e = d
            .disk
            .request(S, Request::Login(pin("12345678")))
            .unwrap_err();
        assert_eq!((e.error, e.detail), (WireError::WrongPin, left));
    }
    assert_eq!(
        d.err(S, Request::Login(pin(FACTORY_PIN))),
        WireError::PinBlocked
    );
    assert_eq!(d.info().state, DiskState::Blocked);
    assert_eq!(d.disk.state(), FwState::Blocked);
}

#[test]
fn d02_tries_survive_power_cycle() {
    let mut d = Disk::provisioned();
    for _ in 0..3 {
        d.err(S, Request::Login(pin("12345678")));
    }
    d.disk.power_cycle();
    let e = d
        .disk
        .request(S, Request::Login(pin("12345678")))
        .unwrap_err();
    assert_eq!(e.detail, 6, "a power cycle does not reset the tries");
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.info().pin_tries_left, 10, "a right PIN resets them");
}

#[test]
fn d02_unblock_token_sets_new_pin() {
    let mut d = Disk::provisioned();
    for _ in 0..10 {
        d.err(S, Request::Login(pin("12345678")));
    }
    let body = UnblockToken {
        serial: serial(),
        seq: 1,
        new_pin: pin("24682468"),
        issued_at: start(),
    };
    let forged = Signed::sign(body.clone(), &foreign_bureau()).unwrap();
    assert_eq!(d.err(S, Request::Unblock(forged)), WireError::BadSignature);
    let mut other = body.clone();
    other.serial = other_serial();
    assert_eq!(
        d.err(S, Request::Unblock(signed(other))),
        WireError::WrongDevice
    );
    d.ok(S, Request::Unblock(signed(body.clone())));
    assert_eq!(
        d.err(S, Request::Unblock(signed(body))),
        WireError::Replayed
    );
    assert_eq!(
        d.err(S, Request::Login(pin(FACTORY_PIN))),
        WireError::WrongPin
    );
    d.ok(S, Request::Login(pin("24682468")));
    assert_eq!(d.info().state, DiskState::Ready);
}

#[test]
fn d02_login_is_ram_state() {
    let mut d = Disk::stocked();
    d.issue(InvoiceKind::Normal, 100);
    d.disk.power_cycle();
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 100),
        WireError::NotLoggedIn
    );
    assert!(!d.info().logged_in);
}

#[test]
fn d02_change_pin_needs_the_old_one() {
    let mut d = Disk::ready();
    let bad = taxdisk_protocol::command::ChangePin {
        request_id: [1; 16],
        old: pin("00000000"),
        new: pin("13571357"),
    };
    assert_eq!(d.err(S, Request::ChangePin(bad)), WireError::WrongPin);
    let good = taxdisk_protocol::command::ChangePin {
        request_id: [2; 16],
        old: pin(FACTORY_PIN),
        new: pin("13571357"),
    };
    d.ok(S, Request::ChangePin(good));
    d.ok(S, Request::Logout(()));
    assert_eq!(
        d.err(S, Request::Login(pin(FACTORY_PIN))),
        WireError::WrongPin
    );
    d.ok(S, Request::Login(pin("13571357")));
}

#[test]
fn d02_a_pin_change_sent_again_after_a_power_cut_counts_no_wrong_pin() {
    let mut d = Disk::ready();
    let change = |id: u8, old: &str, new: &str| {
        Request::ChangePin(taxdisk_protocol::command::ChangePin {
            request_id: [id; 16],
            old: pin(old),
            new: pin(new),
        })
    };
    d.ok(S, change(7, FACTORY_PIN, "13571357"));
    // The answer was lost and the disk lost its power (and its RAM) before the host resent:
    // the host logs in with the PIN the change set and sends the change again.
    d.disk.power_cycle();
    d.ok(S, Request::Login(pin("13571357")));
    d.ok(S, change(7, FACTORY_PIN, "13571357"));
    assert_eq!(
        d.info().pin_tries_left,
        taxdisk_device_sim::firmware::PIN_TRIES,
        "the resend counted a wrong PIN"
    );
    // Only the change that took answers so: another id, or another old PIN, is a PIN check
    // that fails and counts.
    assert_eq!(
        d.err(S, change(8, FACTORY_PIN, "13571357")),
        WireError::WrongPin
    );
    assert_eq!(
        d.err(S, change(7, "00000000", "13571357")),
        WireError::WrongPin
    );
    assert_eq!(
        d.info().pin_tries_left,
        taxdisk_device_sim::firmware::PIN_TRIES - 2
    );
    // And the PIN is the one set once.
    d.ok(S, Request::Logout(()));
    d.ok(S, Request::Login(pin("13571357")));
}

// ---- D14 --------------------------------------------------------------------------------

#[test]
fn d14_second_session_is_busy_until_logout() {
    let mut d = Disk::stocked();
    assert_eq!(
        d.err(OTHER, Request::Login(pin(FACTORY_PIN))),
        WireError::Busy
    );
    let q = d.req(InvoiceKind::Normal, 100);
    assert_eq!(d.err(OTHER, Request::Issue(q)), WireError::Busy);
    assert!(matches!(d.ok(OTHER, Request::Ping(1)), Response::Ping(1)));
    assert!(matches!(
        d.ok(OTHER, Request::GetInfo(())),
        Response::GetInfo(_)
    ));
    d.ok(S, Request::Logout(()));
    d.ok(OTHER, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.err(S, Request::Login(pin(FACTORY_PIN))), WireError::Busy);
}

#[test]
fn d14_power_cycle_frees_the_disk() {
    let mut d = Disk::ready();
    d.disk.power_cycle();
    d.ok(OTHER, Request::Login(pin(FACTORY_PIN)));
}

#[test]
fn d14_not_logged_in_without_owner() {
    let mut d = Disk::provisioned();
    assert_eq!(
        d.err(OTHER, Request::GetStatus(InvoiceKind::Normal)),
        WireError::NotLoggedIn
    );
}

// ---- D3 ---------------------------------------------------------------------------------

fn clock_token(d: &mut Disk, time: taxdisk_protocol::Timestamp) -> Signed<ClockToken> {
    let seq = d.next_seq();
    signed(ClockToken {
        serial: serial(),
        seq,
        time,
        issued_at: d.disk.now(),
    })
}

#[test]
fn d03_clock_token_moves_the_disk_clock_durably() {
    let mut d = Disk::ready();
    let target = at(2026, 11, 12, 9);
    let t = clock_token(&mut d, target);
    d.ok(S, Request::SetClock(t.clone()));
    assert_eq!(d.info().time, target);
    d.disk.advance(60);
    assert_eq!(d.info().time, target.plus_secs(60));
    d.disk.power_cycle();
    assert_eq!(d.info().time, target.plus_secs(60), "the offset is durable");
    assert_eq!(
        d.err(S, Request::Login(pin("00000000"))),
        WireError::WrongPin
    );
    d.ok(S, Request::Login(pin(FACTORY_PIN)));
    assert_eq!(d.err(S, Request::SetClock(t)), WireError::Replayed);
}

#[test]
fn d03_clock_token_forged_or_foreign_is_refused() {
    let mut d = Disk::ready();
    let t = clock_token(&mut d, at(2026, 11, 12, 9));
    let forged = Signed::sign(t.body.clone(), &foreign_bureau()).unwrap();
    assert_eq!(d.err(S, Request::SetClock(forged)), WireError::BadSignature);
    let mut b = t.body.clone();
    b.serial = other_serial();
    assert_eq!(
        d.err(S, Request::SetClock(signed(b))),
        WireError::WrongDevice
    );
    assert_eq!(d.info().time, start());
}

#[test]
fn d03_clock_before_newest_entry_refuses_issuing() {
    let mut d = Disk::stocked();
    d.disk.advance(86_400);
    d.issue(InvoiceKind::Normal, 100);
    let back = clock_token(&mut d, start());
    d.ok(S, Request::SetClock(back));
    assert_eq!(d.issue_err(InvoiceKind::Normal, 100), WireError::ClockError);
    let fwd = clock_token(&mut d, start().plus_secs(2 * 86_400));
    d.ok(S, Request::SetClock(fwd));
    d.issue(InvoiceKind::Normal, 100);
}

// ---- D10 --------------------------------------------------------------------------------

#[test]
fn d10_update_changes_limits_authorizations_and_identity() {
    let mut d = Disk::stocked();
    let mut l = limits(InvoiceKind::Normal);
    l.single_limit = Fen(500);
    let name = CompanyName::new("新名称有限公司").unwrap();
    let tin = TaxpayerId::new("91350100M000100Y43").unwrap();
    let t = d.update(&[
        UpdateChange::Limits(l),
        UpdateChange::Authorize(InvoiceKind::Roll, false),
        UpdateChange::CompanyName(name.clone()),
        UpdateChange::TaxpayerId(tin.clone()),
        UpdateChange::UsedCar(UsedCarRole::Market),
    ]);
    d.ok(S, Request::ApplyUpdate(t.clone()));
    assert_eq!(d.status(InvoiceKind::Normal).limits, l);
    assert!(!d.status(InvoiceKind::Roll).authorized);
    assert_eq!(
        d.issue_err(InvoiceKind::Normal, 501),
        WireError::OverSingleLimit
    );
    assert_eq!(
        d.issue_err(InvoiceKind::Roll, 100),
        WireError::KindNotAuthorized
    );
    let info = d.info();
    assert_eq!(info.company_name, Some(name));
    assert_eq!(info.used_car_role, UsedCarRole::Market);
    assert_eq!(d.err(S, Request::ApplyUpdate(t)), WireError::Replayed);
}

#[test]
fn d10_forged_and_foreign_updates_are_refused() {
    let mut d = Disk::ready();
    let t = d.update(&[UpdateChange::Authorize(InvoiceKind::Normal, false)]);
    let forged = Signed::sign(t.body.clone(), &foreign_bureau()).unwrap();
    assert_eq!(
        d.err(S, Request::ApplyUpdate(forged)),
        WireError::BadSignature
    );
    let mut b = t.body.clone();
    b.serial = other_serial();
    assert_eq!(
        d.err(S, Request::ApplyUpdate(signed(b))),
        WireError::WrongDevice
    );
    assert!(d.status(InvoiceKind::Normal).authorized);
}
