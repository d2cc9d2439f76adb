//! English through the catalogue is each error's `Display`; Chinese is the catalogue's, with
//! the FAQ's words where it quotes the real software.
#![allow(clippy::unwrap_used)] // a failed unwrap fails the test

use crate::bureau_client::BureauError;
use crate::disk::DiskError;
use crate::invoice::InvoiceError;
use crate::store::{InvoiceId, StoreError};
use crate::workflow::{ClearCardFailure, WorkflowError};
use std::time::Duration;
use taxdisk_i18n::{Lang, Localize};
use taxdisk_protocol::WireError;
use taxdisk_protocol::bureau_api::ApiError;
use taxdisk_protocol::command::CommandId;
use taxdisk_protocol::time::Period;

/// The language is the process's: the tests that set it take turns.
pub(crate) static LANG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn period() -> Period {
    Period::try_from(202611u32).unwrap()
}

fn api(code: &str) -> ApiError {
    ApiError {
        code: code.into(),
        message: format!("the bureau's words for {code}"),
        rule: "B5, FAQ 9.10".into(),
    }
}

fn samples() -> Vec<WorkflowError> {
    let refused = |error, detail| DiskError::Refused {
        command: CommandId::Issue,
        error,
        detail,
        retried: false,
    };
    let mut v: Vec<WorkflowError> = Vec::new();
    for e in WireError::ALL {
        v.push(refused(*e, 0).into());
    }
    v.push(refused(WireError::WrongPin, 3).into());
    v.push(refused(WireError::StorageFault, 17).into());
    v.push(refused(WireError::BadArgument, 9).into());
    v.push(
        DiskError::Busy {
            command: CommandId::Void,
        }
        .into(),
    );
    v.push(
        DiskError::Timeout {
            command: CommandId::Login,
            attempts: 3,
            timeout: Duration::from_millis(250),
            link: "tcp 127.0.0.1:1".into(),
        }
        .into(),
    );
    v.push(
        BureauError::Api {
            status: 409,
            path: "/clear".into(),
            error: api("not_declared"),
        }
        .into(),
    );
    v.push(BureauError::BadUrl("ftp://x".into()).into());
    v.push(
        BureauError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            reason: "connection refused".into(),
        }
        .into(),
    );
    v.push(
        BureauError::Timeout {
            url: "http://127.0.0.1:9".into(),
            path: "/upload".into(),
            timeout: Duration::from_millis(2500),
        }
        .into(),
    );
    v.push(
        BureauError::NeedsTaxOffice {
            path: "/declare".into(),
            error: api("forbidden"),
        }
        .into(),
    );
    for c in [
        ClearCardFailure::NoServer,
        ClearCardFailure::NotDeclared { period: period() },
        ClearCardFailure::NotReported { period: period() },
        ClearCardFailure::UploadIncomplete { period: period() },
        ClearCardFailure::NotFinished { period: period() },
        ClearCardFailure::DataMismatch {
            period: period(),
            message: "kind 004 differs".into(),
        },
    ] {
        v.push(c.into());
    }
    v.push(WorkflowError::NotLoggedIn { action: "issue" });
    v.push(WorkflowError::NoBureau {
        action: "report (上报汇总)",
    });
    v.push(WorkflowError::VoidNotPermitted { id: InvoiceId(7) });
    v.push(WorkflowError::rule(
        "red invoice",
        "the original code and number entered twice do not match",
        "H10, FAQ 7.17",
    ));
    v.push(WorkflowError::ReturnBeforeReport { period: period() });
    v.push(WorkflowError::Batch {
        done: vec![InvoiceId(1), InvoiceId(2)],
        at: InvoiceId(3),
        source: Box::new(WorkflowError::VoidNotPermitted { id: InvoiceId(3) }),
    });
    v.push(StoreError::NameTaken("陈主管".into()).into());
    v.push(
        StoreError::CategoryTaken {
            name: "批发".into(),
            id: 2,
        }
        .into(),
    );
    v.push(StoreError::WrongPassword.into());
    v.push(StoreError::CodingDisabled.into());
    v.push(
        StoreError::Field {
            rule: "H1",
            field: "bank accounts",
            problem: "at least one is required".into(),
        }
        .into(),
    );
    v.push(
        StoreError::State {
            rule: "H10",
            what: "red info form 1".into(),
            state: "Used".into(),
            problem: "one approved form gives one red invoice (FAQ 7.4)",
        }
        .into(),
    );
    for i in [
        InvoiceError::NoLines,
        InvoiceError::ZeroTotal,
        InvoiceError::NeedsSalesList { lines: 9, max: 8 },
        InvoiceError::ListNotAllowed {
            rule: "H7",
            reason: "refined-oil invoices take no sales list (FAQ 8.7)",
        },
        InvoiceError::Text {
            field: "quantity",
            position: 2,
            found: '１',
        },
        InvoiceError::TooLong {
            field: "buyer name",
            max: 100,
        },
        InvoiceError::Rate {
            line: 1,
            rate: "17%".into(),
            hint: "",
        },
        InvoiceError::Control {
            field: "buyer name",
            position: 3,
            code: 10,
        },
        InvoiceError::DiscountOnRed { line: 2 },
        InvoiceError::Sign {
            rule: "H10",
            line: 1,
            field: "amount",
            expected: "negative",
        },
    ] {
        v.push(i.into());
    }
    v
}

#[test]
fn english_is_the_display() {
    let _turn = LANG.lock().unwrap_or_else(|p| p.into_inner());
    taxdisk_i18n::set(Lang::En);
    for e in samples() {
        assert_eq!(e.localized(), e.to_string());
    }
}

#[test]
fn chinese_has_no_missing_variable_and_quotes_the_faq() {
    let _turn = LANG.lock().unwrap_or_else(|p| p.into_inner());
    taxdisk_i18n::set(Lang::ZhCn);
    let all: Vec<String> = samples().iter().map(|e| e.localized()).collect();
    for line in &all {
        assert!(!line.contains("{$"), "{line}");
    }
    let zero = WorkflowError::from(InvoiceError::ZeroTotal).localized();
    assert_eq!(zero, "非空白作废发票，合计金额不能为零(D5)");
    let refused = WorkflowError::from(DiskError::Refused {
        command: CommandId::Issue,
        error: WireError::NoBlankNumber,
        detail: 0,
        retried: false,
    })
    .localized();
    assert_eq!(
        refused,
        "金税盘拒绝发票开具：无发票信息，不能开票(D4)，错误码 0x0400"
    );
    let twice = WorkflowError::rule(
        "red invoice",
        "the original code and number entered twice do not match",
        "H10, FAQ 7.17",
    )
    .localized();
    assert_eq!(
        twice,
        "红字发票被拒绝：两遍输入的发票代码和号码不一致(H10, FAQ 7.17)"
    );
    taxdisk_i18n::set(Lang::En);
}
