//! The scenarios, in run order, and the context they share: the disk client, the token
//! source, the control channel and what the run learned (serial, public key, token sequence
//! numbers, the rolls it loaded).
//!
//! Each scenario is a function returning `Ok(())` (pass), [`Stop::Fail`] with what the rule
//! expects and what the disk did, [`Stop::Error`] with the disk's or the link's error where an
//! answer was needed, or [`Stop::Skip`] with the reason it could not run.

mod clock;
mod context;
mod durable;
mod issue;
mod limits;
mod oil;
mod period;
mod provision;
mod red_void;
mod rolls;
mod session;
mod update;
mod upload;
mod wire;

use clock::d03_clock;
pub use context::{Ctx, Step, Stop};
use durable::d13_durable;
use issue::{d05_idempotent, d05_issue, d05_refusals};
use limits::{d09_amount, d09_hours};
use oil::d11_oil;
use period::{d08_period, d09_upload_deadline};
use provision::{d01_factory, d01_provision};
use red_void::{d06_red, d07_void};
use rolls::{d04_grants, d04_return};
use session::{d02_block, d02_pin, d02_power, d14_busy};
use std::fmt::Debug;
use taxdisk_protocol::CommandId;
use update::d10_update;
use upload::d12_upload;
use wire::{wire_errors, wire_ping};

/// What a scenario is, for listings and coverage checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScenarioInfo {
    /// The rule it checks (`D1`..`D14` or `wire`).
    pub rule: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The commands it exercises.
    pub commands: &'static [CommandId],
}

pub(crate) struct Scenario {
    pub(crate) rule: &'static str,
    pub(crate) name: &'static str,
    pub(crate) commands: &'static [CommandId],
    pub(crate) run: fn(&mut Ctx<'_>) -> Step,
}

/// Every scenario, in run order.
pub fn scenario_list() -> Vec<ScenarioInfo> {
    SCENARIOS
        .iter()
        .map(|s| ScenarioInfo {
            rule: s.rule,
            name: s.name,
            commands: s.commands,
        })
        .collect()
}

use CommandId as C;

pub(crate) const SCENARIOS: &[Scenario] = &[
    Scenario {
        rule: "wire",
        name: "wire_ping_echoes",
        commands: &[C::Ping],
        run: wire_ping,
    },
    Scenario {
        rule: "wire",
        name: "wire_unknown_command_and_malformed_payload",
        commands: &[C::Ping, C::GetInfo],
        run: wire_errors,
    },
    Scenario {
        rule: "D1",
        name: "d01_factory_state_refuses_all_but_provision",
        commands: &[C::GetInfo, C::Login, C::GetPublicKey, C::GetStatus],
        run: d01_factory,
    },
    Scenario {
        rule: "D1",
        name: "d01_provision_token_bound_to_serial",
        commands: &[C::Provision, C::GetPublicKey, C::GetInfo],
        run: d01_provision,
    },
    Scenario {
        rule: "D2",
        name: "d02_pin_login_logout_change",
        commands: &[C::Login, C::Logout, C::ChangePin, C::GetStatus, C::GetInfo],
        run: d02_pin,
    },
    Scenario {
        rule: "D2",
        name: "d02_pin_blocks_at_zero_until_unblock_token",
        commands: &[C::Login, C::Unblock, C::GetInfo],
        run: d02_block,
    },
    Scenario {
        rule: "D2",
        name: "d02_power_cycle_logs_out",
        commands: &[C::Login, C::GetInfo, C::GetStatus],
        run: d02_power,
    },
    Scenario {
        rule: "D14",
        name: "d14_second_session_is_busy",
        commands: &[C::Login, C::Logout, C::GetStatus, C::Ping, C::GetInfo],
        run: d14_busy,
    },
    Scenario {
        rule: "D4",
        name: "d04_roll_grants_once_bound_to_serial",
        commands: &[C::LoadRolls, C::ListRolls, C::GetStatus],
        run: d04_grants,
    },
    Scenario {
        rule: "D5",
        name: "d05_issue_signed_numbered_counted",
        commands: &[
            C::Issue,
            C::ReadInvoice,
            C::LastIssued,
            C::GetInfo,
            C::ListRolls,
        ],
        run: d05_issue,
    },
    Scenario {
        rule: "D5",
        name: "d05_issue_retry_is_idempotent",
        commands: &[C::Issue, C::GetInfo],
        run: d05_idempotent,
    },
    Scenario {
        rule: "D5",
        name: "d05_issue_refusals",
        commands: &[C::Issue, C::GetStatus, C::Logout],
        run: d05_refusals,
    },
    Scenario {
        rule: "D6",
        name: "d06_red_invoices",
        commands: &[C::Issue, C::Void],
        run: d06_red,
    },
    Scenario {
        rule: "D7",
        name: "d07_void_and_blank_void",
        commands: &[C::Void, C::VoidBlank, C::ReadInvoice, C::Issue],
        run: d07_void,
    },
    Scenario {
        rule: "D3",
        name: "d03_clock_only_by_token_and_clock_error",
        commands: &[C::SetClock, C::GetInfo, C::Issue, C::Void],
        run: d03_clock,
    },
    Scenario {
        rule: "D12",
        name: "d12_pending_in_order_and_receipts",
        commands: &[C::ListPending, C::ReadEvent, C::AckUpload, C::GetStatus],
        run: d12_upload,
    },
    Scenario {
        rule: "D9",
        name: "d09_offline_amount_and_zero_limits",
        commands: &[C::ApplyUpdate, C::Issue, C::AckUpload, C::GetStatus],
        run: d09_amount,
    },
    Scenario {
        rule: "D9",
        name: "d09_offline_hours",
        commands: &[C::ApplyUpdate, C::Issue, C::AckUpload],
        run: d09_hours,
    },
    Scenario {
        rule: "D10",
        name: "d10_update_tokens",
        commands: &[C::ApplyUpdate, C::GetInfo, C::GetStatus, C::Issue],
        run: d10_update,
    },
    Scenario {
        rule: "D11",
        name: "d11_refined_oil_stock",
        commands: &[
            C::LoadOilStock,
            C::OilStock,
            C::ReturnOilStock,
            C::Issue,
            C::ApplyUpdate,
        ],
        run: d11_oil,
    },
    Scenario {
        rule: "D4",
        name: "d04_return_roll_with_signed_receipt",
        commands: &[C::ReturnRoll, C::ListRolls, C::LoadRolls],
        run: d04_return,
    },
    Scenario {
        rule: "D8",
        name: "d08_copy_tax_clear_card_and_lock",
        commands: &[
            C::CopyTax,
            C::ClearCard,
            C::Issue,
            C::Void,
            C::VoidBlank,
            C::ReturnRoll,
            C::ApplyReportReceipt,
            C::LoadRolls,
            C::ReadEvent,
            C::GetInfo,
        ],
        run: d08_period,
    },
    Scenario {
        rule: "D9",
        name: "d09_upload_deadline",
        commands: &[C::ClearCard, C::Issue, C::AckUpload, C::ReadEvent],
        run: d09_upload_deadline,
    },
    Scenario {
        rule: "D13",
        name: "d13_answered_state_survives_power_loss",
        commands: &[C::Issue, C::LastIssued, C::GetInfo, C::Login],
        run: d13_durable,
    },
];
