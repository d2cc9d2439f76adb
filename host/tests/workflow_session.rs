//! H1 initialization with the connection test, H2 login (store password and disk PIN), D14 one
//! session, and H12 the automatic report at the first login of a month.
#![allow(clippy::unwrap_used)]

mod workflow_support;

use taxdisk_host::bureau_client::BureauClient;
use taxdisk_host::store::Store;
use taxdisk_host::workflow::{Workflow, WorkflowError};
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::*;
use workflow_support::*;

#[test]
fn h01_initialization_tests_the_connection_first() {
    let env = Env::bare();
    // A second store pointing at a dead address: refused, nothing saved.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let mut wf = Workflow::new(Store::open_in_memory().unwrap(), client(&env.sim), None);
    let e = wf.initialize(&init_form(&dead)).unwrap_err();
    assert!(matches!(e, WorkflowError::ConnectionTest { .. }));
    says(&e, "H1");
    assert!(!wf.store().is_initialized().unwrap());
    // The good address initializes and keeps the bureau for later steps.
    let admin = wf.initialize(&init_form(&env.server.url())).unwrap();
    assert!(wf.store().is_initialized().unwrap());
    assert_eq!(wf.store().user(admin).unwrap().name, ADMIN);
    assert!(wf.bureau().is_some());
    let company = wf.store().company().unwrap();
    assert_eq!(company.bank_accounts.len(), 2, "several accounts (FAQ 3.7)");
    // Once only.
    let e = wf.initialize(&init_form(&env.server.url())).unwrap_err();
    says(&e, "H1");
}

#[test]
fn h02_login_checks_password_then_pin() {
    let mut env = Env::new();
    env.wf.logout().unwrap();
    let e = env.wf.login(ADMIN, "wrong", &pin()).unwrap_err();
    says(&e, "H2");
    assert!(env.wf.user().is_none());
    let e = env
        .wf
        .login(ADMIN, ADMIN_PW, &Pin::new("12345678").unwrap())
        .unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::WrongPin));
    says(&e, "9 tries left");
    assert!(env.wf.user().is_none());
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.user, ADMIN);
    assert!(r.info.logged_in);
    assert!(r.copied.is_empty(), "nothing to report in the first month");
}

#[test]
fn d14_second_session_is_busy() {
    let mut env = Env::new();
    let mut other = Workflow::new(
        Store::open_in_memory().unwrap(),
        client(&env.sim),
        Some(env.bureau_client()),
    );
    other.initialize(&init_form(&env.server.url())).unwrap();
    let e = other.login(ADMIN, ADMIN_PW, &pin()).unwrap_err();
    assert_eq!(e.wire_error(), Some(WireError::Busy));
    says(&e, "D14");
    env.wf.logout().unwrap();
    other.login(ADMIN, ADMIN_PW, &pin()).unwrap();
}

#[test]
fn h12_first_login_of_month_reports() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    env.go_offline();
    let d = normal(&mut env.wf);
    let offline = env.wf.issue(d).unwrap();
    assert!(!offline.uploaded);
    env.go_online();
    env.wf.logout().unwrap();
    // December: the disk refuses issuing until November is reported (D5).
    env.set_time(at(2026, 12, 2, 9));
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.copied, vec![period(2026, 11)]);
    assert_eq!(r.reported, vec![period(2026, 11)], "{:?}", r.notes);
    assert!(r.reported_automatically());
    assert_eq!(r.uploaded, 1, "the offline invoice went first");
    assert!(r.cleared.is_empty());
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("not declared") && n.contains("FAQ 9.10")),
        "{:?}",
        r.notes
    );
    assert_eq!(r.info.last_copied, Some(period(2026, 11)));
    let rec = env
        .bureau_client()
        .disk(&DeviceSerial::new(SERIAL).unwrap())
        .unwrap();
    assert_eq!(rec.last_reported, Some(period(2026, 11)));
    // Issuing goes on in December.
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    // A second login in the month reports nothing again.
    env.wf.logout().unwrap();
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert!(r.copied.is_empty() && r.reported.is_empty());
    // The clear card is tried again, but its reason is said once, not at every command.
    assert!(
        !r.notes.iter().any(|n| n.contains("not declared")),
        "said again: {:?}",
        r.notes
    );
    // After the declaration, the login clears the card.
    env.wf.declare(period(2026, 11)).unwrap();
    env.wf.logout().unwrap();
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.cleared, vec![period(2026, 11)], "{:?}", r.notes);
    assert_eq!(r.info.last_cleared, Some(period(2026, 11)));
}

#[test]
fn h12_offline_first_login_copies_and_reports_later() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    let d = normal(&mut env.wf);
    env.wf.issue(d).unwrap();
    env.wf.logout().unwrap();
    env.set_time(at(2026, 12, 1, 9));
    env.go_offline();
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.copied, vec![period(2026, 11)]);
    assert!(r.reported.is_empty());
    assert!(
        r.notes.iter().any(|n| n.contains("postponed")),
        "{:?}",
        r.notes
    );
    // Issuing works offline after the copy.
    let d = normal(&mut env.wf);
    assert!(!env.wf.issue(d).unwrap().uploaded);
    // Back online: the next login reports the copied period.
    env.go_online();
    env.wf.logout().unwrap();
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert!(r.copied.is_empty());
    assert_eq!(r.reported, vec![period(2026, 11)], "{:?}", r.notes);
}

#[test]
fn h12_disk_provisioned_elsewhere_reports_its_first_period() {
    // Provisioned by the tax office (not through this store): the first period is unknown.
    let env = Env::new();
    let (server, sim, dir) = (env.server, env.sim, env.dir);
    let office = BureauClient::new(&server.url())
        .unwrap()
        .with_admin_token(Some(server.admin_token().to_owned()));
    let mut wf = Workflow::new(
        Store::open(dir.path().join("second.db")).unwrap(),
        client(&sim),
        Some(office),
    );
    {
        // The first installation's session is gone with it.
        sim.lock().unwrap().power_cycle();
    }
    wf.initialize(&init_form(&server.url())).unwrap();
    let r = wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert!(r.copied.is_empty(), "first month: nothing to copy");
    let probes = sim.lock().unwrap().stats().frames;
    wf.logout().unwrap();
    wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    let second = sim.lock().unwrap().stats().frames - probes;
    assert!(
        second < 12,
        "the second login does not probe periods ({second} frames)"
    );
    wf.logout().unwrap();
    let t = at(2027, 1, 5, 9);
    sim.lock().unwrap().set_time(t);
    taxdisk_device_sim::bureau::http::lock(&server.bureau())
        .set_time(t)
        .unwrap();
    let r = wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.copied, vec![period(2026, 11), period(2026, 12)]);
    assert_eq!(
        r.reported,
        vec![period(2026, 11), period(2026, 12)],
        "{:?}",
        r.notes
    );
}

#[test]
fn h01_reopened_store_finds_its_bureau() {
    let env = Env::new();
    let (sim, dir, server) = (env.sim, env.dir, env.server);
    drop(env.wf);
    let store = Store::open(dir.path().join("taxdisk.db")).unwrap();
    let wf = Workflow::with_stored_bureau(store, client(&sim)).unwrap();
    assert_eq!(wf.bureau().unwrap().base_url(), server.url());
    let fresh =
        Workflow::with_stored_bureau(Store::open_in_memory().unwrap(), client(&sim)).unwrap();
    assert!(fresh.bureau().is_none());
}

#[test]
fn h11_login_again_uploads_what_waits() {
    let mut env = Env::with_rolls(&[InvoiceKind::Normal], 10);
    env.go_offline();
    let d = normal(&mut env.wf);
    let i = env.wf.issue(d).unwrap();
    assert!(!i.uploaded);
    env.wf.logout().unwrap();
    env.go_online();
    let r = env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    assert_eq!(r.uploaded, 1, "FAQ 4.14: {:?}", r.notes);
    assert_eq!(
        env.wf.store().invoice(i.id).unwrap().state,
        taxdisk_host::store::InvoiceState::Uploaded
    );
}

#[test]
fn d02_logout_after_a_power_cycle_is_fine() {
    let mut env = Env::new();
    env.sim.lock().unwrap().power_cycle();
    env.wf.logout().unwrap();
    assert!(env.wf.user().is_none());
    env.wf.login(ADMIN, ADMIN_PW, &pin()).unwrap();
}

#[test]
fn workflow_is_send() {
    fn send<T: Send>() {}
    send::<Workflow>();
    send::<WorkflowError>();
}

#[test]
fn h02_saved_session_resumes_in_the_next_process() {
    use std::time::Duration;
    use taxdisk_host::disk::{ClientConfig, DiskClient};
    use taxdisk_host::transport::inproc::Shared;
    use taxdisk_host::transport::{InProcess, Transport};
    let env = Env::new();
    let (sim, dir, server) = (env.sim, env.dir, env.server);
    drop(env.wf);
    sim.lock().unwrap().power_cycle();
    // One installation = one host session id, so the next process is the same session (D14).
    let process = || {
        let t: Box<dyn Transport + Send> = Box::new(InProcess::new(Shared(sim.clone())));
        let disk = DiskClient::with_config(
            t,
            ClientConfig {
                attempts: 3,
                timeout: Duration::from_millis(50),
                reconnect_pause: Duration::ZERO,
                session: Some(0x5EED),
            },
        );
        let store = Store::open(dir.path().join("taxdisk.db")).unwrap();
        Workflow::with_stored_bureau(store, disk).unwrap()
    };
    let mut first = process();
    first.login(ADMIN, ADMIN_PW, &pin()).unwrap();
    let token = first.open_session().unwrap();
    assert_eq!(token.len(), 64);
    drop(first);
    let mut second = process();
    let r = second.resume(&token, &pin()).unwrap();
    assert_eq!(r.user, ADMIN);
    assert_eq!(second.user().unwrap().name, ADMIN);
    second.status().unwrap();
    // A wrong token is refused; a closed one too.
    let e = process().resume("00", &pin()).unwrap_err();
    says(&e, "H2");
    second.close_session(&token).unwrap();
    assert!(second.user().is_none());
    let e = process().resume(&token, &pin()).unwrap_err();
    says(&e, "log in again");
    let _ = server;
}

#[test]
fn h01_server_address_changes_only_after_a_connection_test() {
    let mut env = Env::new();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    let e = env.wf.set_bureau_server(&dead).unwrap_err();
    assert!(matches!(e, WorkflowError::ConnectionTest { .. }));
    says(&e, "H1");
    assert_eq!(
        env.wf.store().company().unwrap().bureau_server,
        env.server.url()
    );
    let url = format!("{}/", env.server.url());
    env.wf.set_bureau_server(&url).unwrap();
    assert_eq!(env.wf.store().company().unwrap().bureau_server, url);
    assert!(env.wf.upload().is_ok());
}
