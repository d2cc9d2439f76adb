//! The demo's first morning: the tax office and the disk set up ([`crate::rig`]), the software
//! initialized, the disk provisioned, invoicers, products and customers added, the oil
//! authorization applied and the first rolls read.

use super::*;

/// Sets up the company for `cfg` and answers its world, ready for the month.
pub(super) fn company(cfg: &DemoConfig) -> Result<World, DemoError> {
    let started = Instant::now();
    let out = &cfg.out;
    setup(std::fs::create_dir_all(out.join("print")), "output folder")?;
    for f in [
        "taxdisk.db",
        "taxdisk.db-wal",
        "taxdisk.db-shm",
        "disk.img",
        "bureau.db",
        "bureau.db-wal",
        "bureau.db-shm",
    ] {
        let _ = std::fs::remove_file(out.join(f));
    }
    let t_start = cfg.start;
    let month = t_start.period();

    // The tax office: the embedded bureau over HTTP on 127.0.0.1 port 0, state in SQLite;
    // the disk: the simulator in-process with its flash image in the output folder; the
    // software's database. The demo's company and its tax office are one process: the client
    // holds the server's administrator token for registration, declaration and the month's
    // online change.
    let rig = setup(
        RigBuilder::new(SERIAL)
            .seed(cfg.seed)
            .start(t_start)
            .bureau(BureauAt::File(out.join("bureau.db")))
            .image(out.join("disk.img"))
            .flash_bytes((cfg.invoices * 2 * 256).max(8 << 20))
            .build(),
        "rig",
    )?;
    let store = setup(
        open_store(Some(&out.join("taxdisk.db")), Durability::Normal),
        "store",
    )?;
    let OfficeRig {
        wf,
        office: online,
        bureau: server,
        sim,
        serial,
        ..
    } = setup(rig.into_office(store), "bureau server")?;
    let sim = setup(sim.ok_or("no shared link"), "simulated disk")?;

    let mut w = World {
        started,
        wf,
        sim,
        server,
        online,
        rng: ChaCha8Rng::seed_from_u64(cfg.seed),
        seller: Party::default(),
        buyers: Vec::new(),
        report: DemoReport {
            month: Some(month),
            ..DemoReport::default()
        },
        issued: Vec::new(),
        first: BTreeMap::new(),
        mix: [0; 5],
        blank: BTreeMap::new(),
        online_now: true,
        restocks: 0,
    };

    // H1: initialization with the connection test.
    w.wf.initialize(&Initialization {
        supervisor_name: ADMIN.into(),
        supervisor_password: ADMIN_PW.into(),
        address: "厦门市思明区软件园二期观日路 8 号".into(),
        phone: "0592-5551234".into(),
        bank_accounts: vec![
            BankAccount {
                bank: "中国工商银行厦门软件园支行".into(),
                account: "4100021209200123456".into(),
            },
            BankAccount {
                bank: "中国建设银行厦门分行".into(),
                account: "35101560001052512345".into(),
            },
        ],
        bureau_server: w.server.url(),
    })
    .step("initialize (H1)")?;

    // D1/B1: the tax office provisions the disk for all six kinds.
    let limit = |kind, single: i64| KindLimits {
        kind,
        single_limit: Fen(single),
        offline_hours: 72,
        offline_amount: Fen(200_000_000),
    };
    let reg = RegisterTaxpayer {
        taxpayer_id: setup(TaxpayerId::new(TAXPAYER), "taxpayer id")?,
        company_name: setup(CompanyName::new(COMPANY), "company name")?,
        kinds: vec![
            limit(InvoiceKind::Special, 100_000_000),
            limit(InvoiceKind::Normal, 100_000_000),
            limit(InvoiceKind::Electronic, 100_000_000),
            limit(InvoiceKind::Roll, 1_000_000),
            limit(InvoiceKind::MotorVehicle, 100_000_000),
            limit(InvoiceKind::UsedCar, 100_000_000),
        ],
    };
    let info = w.wf.provision_disk(&reg, 0).step("provision (D1)")?;
    w.report.step(t!(
        "demo-provisioned",
        serial = info.serial,
        company = COMPANY,
        tin = TAXPAYER
    ));

    // H17/B8, D11: the tax office authorizes oil dealing (the software applies it and
    // downloads gasoline stock below); the administrator logs in (H2) to set up the company.
    setup(
        w.online.request_update(&UpdateRequest {
            serial: serial.clone(),
            changes: vec![
                UpdateChange::Oil(OilRole::Dealer, Some(month.next().next().end())),
                // FAQ 10.6: used-car invoices need a used-car authorization type.
                UpdateChange::UsedCar(UsedCarRole::Market),
            ],
        }),
        "oil authorization",
    )?;
    let login =
        w.wf.login(ADMIN, ADMIN_PW, &setup(Pin::new(Pin::FACTORY), "pin")?)
            .step("login (admin)")?;
    // H2/H3: invoicers with per-kind permissions.
    let clerk =
        w.wf.add_invoicer(CLERK, CLERK_PW)
            .step("add invoicer (H2)")?;
    let cashier =
        w.wf.add_invoicer(CASHIER, CASHIER_PW)
            .step("add invoicer (H2)")?;
    for k in InvoiceKind::ALL {
        for a in Action::ALL {
            w.wf.grant(clerk, k, a).step("grant (H3)")?;
        }
    }
    for k in [InvoiceKind::Electronic, InvoiceKind::Roll] {
        for a in [Action::Issue, Action::Query] {
            w.wf.grant(cashier, k, a).step("grant (H3)")?;
        }
    }
    // H5/H6: products and customers.
    for (i, p) in GOODS
        .iter()
        .chain([&RICE, &EXPORT, &GASOLINE, &CAR, &USED_CAR])
        .enumerate()
    {
        let np = NewProduct {
            code: format!("P{:03}", i + 1),
            name: p.name.into(),
            class_code: setup(TaxClassCode::new(p.class), "class code")?,
            rate: TaxRate(p.rate),
            unit: p.unit.into(),
            spec: p.spec.into(),
            price: Some(dec(p.price)),
            price_includes_tax: false,
            preferential: None,
            zero_flag: (p.rate == 0).then_some(ZeroRateFlag::TaxFree),
            rare_earth: false,
        };
        w.wf.add_product(&np).step("add product (H6)")?;
    }
    for (i, (name, tin)) in BUYERS.iter().enumerate() {
        let party = Party {
            name: (*name).into(),
            taxpayer_id: Some(setup(TaxpayerId::new(tin), "buyer id")?),
            address_phone: format!("福建省{name}路 {} 号 0591-8800{:04}", i + 1, i),
            bank_account: format!("中国银行福建省分行 40770{:010}", i),
        };
        w.wf.add_customer(&NewCustomer {
            code: format!("C{:03}", i + 1),
            party: party.clone(),
            category: None,
        })
        .step("add customer (H6)")?;
        w.buyers.push(party);
    }
    w.report.step(t!(
        "demo-initialized",
        admin = ADMIN,
        clerk = CLERK,
        cashier = CASHIER,
        products = GOODS.len() + 5,
        customers = BUYERS.len()
    ));

    let changes = login.updates.len() + w.wf.apply_updates().step("apply updates (H17)")?.len();
    let litres = (cfg.invoices as i64 / 8).max(50) * 1200;
    w.wf.oil_download(GASOLINE_CATEGORY, OilUnit::Litre, litres * 1000)
        .step("oil download (H15)")?;
    w.report
        .step(t!("demo-updates", changes = changes, litres = litres));
    w.seller = w.wf.seller_party().step("seller")?;
    w.wf.logout().step("logout")?;

    // The clerk logs in and reads rolls online (H13).
    w.wf.login(CLERK, CLERK_PW, &setup(Pin::new(Pin::FACTORY), "pin")?)
        .step("login (clerk)")?;
    // Up to two rolls a kind at first; more are bought as kinds run short (the disk holds 16).
    for (k, weight) in MIX {
        let want = (cfg.invoices as u32 * weight / 100) * 12 / 10 + 20;
        w.wf.buy_rolls(k, want.min(2 * ROLL_SIZE))
            .step("read rolls (H13)")?;
    }
    let status = w.wf.status().step("status")?;
    for k in &status.kinds {
        w.blank.insert(k.kind, k.status.blank_left);
    }
    w.report.step(t!(
        "demo-rolls",
        blank = status
            .kinds
            .iter()
            .map(|k| k.status.blank_left)
            .sum::<u32>()
    ));
    Ok(w)
}
