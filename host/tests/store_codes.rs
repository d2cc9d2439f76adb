//! H5 customers and H6 products.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

#[path = "store_support/mod.rs"]
mod store_common;

use rust_decimal::Decimal;
use std::str::FromStr;
use store_common::*;
use taxdisk_host::invoice::{Draft, KindFields, Party};
use taxdisk_host::store::*;
use taxdisk_protocol::types::{
    InvoiceKind, TaxClassCode, TaxRate, TaxpayerId, Variant, ZeroRateFlag,
};

fn party(name: &str, id: Option<&str>) -> Party {
    Party {
        name: name.into(),
        taxpayer_id: id.map(|i| TaxpayerId::new(i).unwrap()),
        address_phone: "地址 电话".into(),
        bank_account: "银行 账号".into(),
    }
}

fn product(code: &str) -> NewProduct {
    NewProduct {
        code: code.into(),
        name: format!("商品{code}"),
        class_code: TaxClassCode::new("1090101010000000000").unwrap(),
        rate: TaxRate(1300),
        unit: "台".into(),
        spec: "X-1".into(),
        price: Some(Decimal::from_str("113").unwrap()),
        price_includes_tax: true,
        preferential: None,
        zero_flag: None,
        rare_earth: false,
    }
}

#[test]
fn h05_customers_with_categories() {
    let (mut s, admin) = store();
    let wholesale = s.add_category(admin, "批发", None).unwrap();
    let north = s.add_category(admin, "北方批发", Some(wholesale)).unwrap();
    let c1 = s
        .add_customer(
            admin,
            &NewCustomer {
                code: "K001".into(),
                party: party("甲公司", Some("110108123456789")),
                category: Some(north),
            },
        )
        .unwrap();
    s.add_customer(
        admin,
        &NewCustomer {
            code: String::new(),
            party: party("乙个人", None),
            category: None,
        },
    )
    .unwrap();
    assert_eq!(s.categories().unwrap()[1].parent, Some(wholesale));
    assert_eq!(s.category_named(" 北方批发 ").unwrap().unwrap().id, north);
    assert_eq!(s.category_named("南方批发").unwrap(), None);
    // A taken name (naming the category that has it), an empty one, a parent that is not
    // there: refused, nothing added.
    for (name, parent, holder) in [
        ("批发", None, wholesale),
        (" 北方批发", Some(wholesale), north),
    ] {
        let e = s.add_category(admin, name, parent).unwrap_err();
        assert!(
            matches!(&e, StoreError::CategoryTaken { name: n, id } if n == name.trim() && *id == holder.0),
            "{name}: {e:?}"
        );
    }
    let e = s.add_category(admin, "  ", None).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Field {
                rule: "H5",
                field: "category name",
                ..
            }
        ),
        "{e:?}"
    );
    let e = s
        .add_category(admin, "南方批发", Some(CategoryId(99)))
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Field { field: "parent category", problem, .. } if problem.ends_with("99")),
        "{e:?}"
    );
    assert_eq!(s.categories().unwrap().len(), 2);
    let in_north = s.customers(Some(north)).unwrap();
    assert_eq!(in_north.len(), 1);
    assert_eq!(in_north[0].id, c1);
    assert_eq!(in_north[0].party, party("甲公司", Some("110108123456789")));
    let all = s.customers(None).unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        all.iter().any(|c| c.code.starts_with('C')),
        "automatic code"
    );
    s.update_customer(
        admin,
        c1,
        &party("甲公司改名", Some("110108123456789")),
        None,
    )
    .unwrap();
    assert_eq!(s.customer(c1).unwrap().party.name, "甲公司改名");
    s.delete_customer(admin, c1).unwrap();
    assert!(matches!(s.customer(c1), Err(StoreError::NotFound(_))));
    let e = s
        .add_customer(
            admin,
            &NewCustomer {
                code: "K9".into(),
                party: party(" ", None),
                category: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.rule(), Some("H5"));
}

#[test]
fn h05_save_buyer_by_hand_updates_existing() {
    let (mut s, admin) = store();
    let mut dr = Draft::new(
        KindFields::Normal(Variant::Standard),
        Party::default(),
        party("甲公司", Some("110108123456789")),
    );
    dr.buyer.address_phone = "旧地址".into();
    let first = s.save_buyer(admin, &dr.buyer, None).unwrap();
    let SavedBuyer::Added(id) = first else {
        panic!("{first:?}")
    };
    dr.buyer.address_phone = "新地址".into();
    dr.buyer.name = "甲公司（新）".into();
    assert_eq!(
        s.save_buyer(admin, &dr.buyer, None).unwrap(),
        SavedBuyer::Updated(id)
    );
    let c = s.customer(id).unwrap();
    assert_eq!(c.party.address_phone, "新地址");
    assert_eq!(c.party.name, "甲公司（新）");
    // Individuals without id match by name.
    let p = party("张三", None);
    let SavedBuyer::Added(z) = s.save_buyer(admin, &p, None).unwrap() else {
        panic!()
    };
    assert_eq!(
        s.save_buyer(admin, &p, None).unwrap(),
        SavedBuyer::Updated(z)
    );
    assert_eq!(s.customers(None).unwrap().len(), 2);
}

#[test]
fn h05_saving_a_buyer_held_as_given_writes_nothing() {
    let (mut s, admin) = store();
    let mut p = party("乙公司", Some("91350100M000100Y43"));
    p.address_phone = "福州 0591-1234567".into();
    let SavedBuyer::Added(id) = s.save_buyer(admin, &p, None).unwrap() else {
        panic!()
    };
    let saves = |s: &Store| {
        s.audit_log(1000)
            .unwrap()
            .iter()
            .filter(|e| e.action == "customer.save_buyer")
            .count()
    };
    assert_eq!(saves(&s), 1);
    // The same details again (a batch saves its buyer at every call): no change, no line.
    assert_eq!(
        s.save_buyer(admin, &p, None).unwrap(),
        SavedBuyer::Updated(id)
    );
    assert_eq!(saves(&s), 1);
    // A changed detail or a category is written, and audited.
    p.bank_account = "工行 123".into();
    assert_eq!(
        s.save_buyer(admin, &p, None).unwrap(),
        SavedBuyer::Updated(id)
    );
    assert_eq!(saves(&s), 2);
    assert_eq!(s.customer(id).unwrap().party.bank_account, "工行 123");
    let cat = s.add_category(admin, "批发", None).unwrap();
    s.save_buyer(admin, &p, Some(cat)).unwrap();
    assert_eq!(saves(&s), 3);
    assert_eq!(s.customer(id).unwrap().category, Some(cat));
    s.save_buyer(admin, &p, Some(cat)).unwrap();
    assert_eq!(saves(&s), 3);
}

#[test]
fn h05_save_buyer_automatically_only_when_enabled() {
    let (mut s, admin) = store();
    let p = party("丙公司", Some("11010812345678901"));
    assert_eq!(s.save_buyer_automatically(admin, &p).unwrap(), None);
    assert!(s.customers(None).unwrap().is_empty());
    s.set_setting(admin, "auto_save_buyers", "1").unwrap();
    assert!(matches!(
        s.save_buyer_automatically(admin, &p).unwrap(),
        Some(SavedBuyer::Added(_))
    ));
    assert_eq!(s.customers(None).unwrap().len(), 1);
}

#[test]
fn h06_product_fields_round_trip() {
    let (mut s, admin) = store();
    let mut p = product("P001");
    p.preferential = Some("即征即退".into());
    let id = s.add_product(admin, &p).unwrap();
    let got = s.products(false).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].id, id);
    assert_eq!(got[0].data, p);
    assert!(!got[0].hidden);
    // The product fills an invoice line; price with tax is converted.
    let line = got[0]
        .line_input()
        .quantity(Decimal::from(2))
        .compute()
        .unwrap();
    assert_eq!(line.amount, Decimal::from_str("200.00").unwrap());
    assert_eq!(line.tax, Decimal::from_str("26.00").unwrap());
    assert_eq!(line.unit, "台");
    assert_eq!(s.product_by_name("商品P001").unwrap().unwrap().id, id);
    // Zero-rated product with its flag.
    let mut z = product("P002");
    z.rate = TaxRate(0);
    z.zero_flag = Some(ZeroRateFlag::TaxFree);
    s.add_product(admin, &z).unwrap();
    assert_eq!(
        s.products(false).unwrap()[1].data.zero_flag,
        Some(ZeroRateFlag::TaxFree)
    );
}

#[test]
fn h06_product_rate_and_flag_checked() {
    let (mut s, admin) = store();
    let mut p = product("P1");
    p.rate = TaxRate(1700);
    assert_eq!(s.add_product(admin, &p).unwrap_err().rule(), Some("F7"));
    let mut p = product("P1");
    p.rate = TaxRate(0);
    assert_eq!(s.add_product(admin, &p).unwrap_err().rule(), Some("F7"));
    let mut p = product("P1");
    p.name.clear();
    assert_eq!(s.add_product(admin, &p).unwrap_err().rule(), Some("H6"));
    let mut p = product("P1");
    p.price = Some(Decimal::from(-1));
    assert_eq!(s.add_product(admin, &p).unwrap_err().rule(), Some("H6"));
    assert!(s.products(true).unwrap().is_empty());
}

#[test]
fn h06_rare_earth_hidden_until_unhidden() {
    let (mut s, admin) = store();
    let mut p = product("RE1");
    p.name = "氧化镨钕".into();
    p.rare_earth = true;
    let id = s.add_product(admin, &p).unwrap();
    assert!(s.products(false).unwrap().is_empty());
    assert!(s.product_by_name("氧化镨钕").unwrap().is_none());
    let all = s.products(true).unwrap();
    assert!(all[0].hidden);
    s.set_product_hidden(admin, id, false).unwrap();
    assert_eq!(s.products(false).unwrap().len(), 1);
    assert!(s.product_by_name("氧化镨钕").unwrap().is_some());
}

#[test]
fn h06_coding_disabled_with_only_vehicle_authorization() {
    assert!(matches!(
        coding_allowed(&[InvoiceKind::MotorVehicle]),
        Err(StoreError::CodingDisabled)
    ));
    let e = coding_allowed(&[InvoiceKind::MotorVehicle, InvoiceKind::UsedCar]).unwrap_err();
    assert_eq!(e.rule(), Some("H6"));
    assert!(coding_allowed(&[InvoiceKind::MotorVehicle, InvoiceKind::Normal]).is_ok());
    assert!(coding_allowed(&[InvoiceKind::Electronic]).is_ok());
    assert!(
        coding_allowed(&[]).is_ok(),
        "no authorization read yet: nothing to disable"
    );
}
