//! One handler per endpoint of [`taxdisk_protocol::bureau_api`]: its path arguments, its
//! body, and the line that says who may call it ("Who may call what") before the bureau acts.

use super::{
    AfterSeq, ApiJson, ApiState, Bearer, PathArg, locked, query_value, run, run0, unlocked,
};
use crate::bureau::upload::VerifiedUpload;
use crate::bureau::{BureauError, red};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use taxdisk_protocol::bureau_api::{self as api, Health};
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::{self as t, DeviceSerial, InfoFormNumber, Signed, TaxpayerId};

/// `/health` answers from the key and the clock alone: never waits for the bureau. When the
/// bureau is idle it first takes the virtual time another worker on the same database may
/// have set ([`crate::bureau::Bureau::sync`]; a busy bureau syncs for the request it serves).
pub(super) async fn health(State(s): State<ApiState>) -> Response {
    let bureau = s.bureau.clone();
    let synced = tokio::task::spawn_blocking(move || match bureau.try_lock() {
        Ok(mut b) => b.sync(),
        Err(_) => Ok(()),
    })
    .await;
    if let Ok(Err(e)) = synced {
        return e.into_response();
    }
    Json(Health {
        status: "ok".to_owned(),
        public_key: s.public_key,
        time: s.clock.now(),
    })
    .into_response()
}

pub(super) async fn taxpayers(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::RegisterTaxpayer>,
) -> Response {
    run0(s, who, move |x, c| {
        c.tax_office("registering a taxpayer")?;
        x.register_taxpayer(r)
    })
    .await
}

pub(super) async fn provision(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::ProvisionRequest>,
) -> Response {
    run(s, who, move |x, c| {
        c.tax_office("provisioning a disk")?;
        x.provision(r)
    })
    .await
}

/// Authenticated by the disk's proof of possession alone; answers the credential once.
pub(super) async fn register_key(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::RegisterKey>,
) -> Response {
    run(s, who, move |x, _| {
        let serial = r.serial.clone();
        x.register_key(r)?;
        x.first_credential(&serial)
    })
    .await
}

pub(super) async fn credential(
    State(s): State<ApiState>,
    who: Bearer,
    PathArg(n): PathArg<DeviceSerial>,
) -> Response {
    run(s, who, move |x, c| {
        c.tax_office("issuing a new credential")?;
        x.new_credential(&n)
    })
    .await
}

pub(super) async fn buy(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::BuyRolls>,
) -> Response {
    run(s, who, move |x, c| {
        c.for_disk(&r.serial, "buying rolls")?;
        x.buy_rolls(r)
    })
    .await
}

pub(super) async fn grants(
    State(s): State<ApiState>,
    who: Bearer,
    PathArg(n): PathArg<DeviceSerial>,
    AfterSeq(a): AfterSeq,
) -> Response {
    run(s, who, move |x, c| {
        c.for_disk(&n, "reading grants")?;
        x.grants(&n, a)
    })
    .await
}

pub(super) async fn roll_return(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<Signed<t::RollReturnReceipt>>,
) -> Response {
    run0(s, who, move |x, c| {
        c.for_disk(&r.body.serial, "returning a roll")?;
        x.return_roll(r)
    })
    .await
}

pub(super) async fn upload(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::Upload>,
) -> Response {
    if r.events.len() > api::MAX_UPLOAD_EVENTS {
        return BureauError::Refused {
            status: 413,
            code: "too_many_events",
            message: format!(
                "an upload carries at most {} events, this one {}: send them in batches",
                api::MAX_UPLOAD_EVENTS,
                r.events.len()
            ),
            rule: "B3, HTTP API",
        }
        .into_response();
    }
    // The key is read under the bureau's lock; the signatures (most of an upload's work) are
    // verified on all cores outside it, so other requests are served meanwhile; the lock is
    // taken again for the database work.
    let serial = r.serial.clone();
    let key = match locked(s.clone(), who.clone(), move |x, c| {
        c.for_disk(&serial, "uploading")?;
        x.upload_key(&serial)
    })
    .await
    {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let verified = match unlocked(move || VerifiedUpload::new(r, &key)).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) | Err(e) => return e.into_response(),
    };
    run(s, who, move |x, c| {
        // Asked again: the caller's credential may have been replaced meanwhile.
        c.for_disk(verified.serial(), "uploading")?;
        x.upload_verified(verified)
    })
    .await
}

pub(super) async fn summary(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<Signed<t::PeriodSummary>>,
) -> Response {
    run(s, who, move |x, c| {
        c.for_disk(&r.body.serial, "reporting a summary")?;
        x.summary(r)
    })
    .await
}

pub(super) async fn declare(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::Declare>,
) -> Response {
    run0(s, who, move |x, c| {
        c.tax_office("recording a declaration")?;
        x.declare(r)
    })
    .await
}

pub(super) async fn clear_card(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::ClearRequest>,
) -> Response {
    run(s, who, move |x, c| {
        c.for_disk(&r.serial, "clearing the card")?;
        x.clear_card(r)
    })
    .await
}

pub(super) async fn red_submit(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::RedFormDraft>,
) -> Response {
    run(s, who, move |x, c| {
        c.for_disk(&r.serial, "submitting a red info form")?;
        x.submit_red_form(r)
    })
    .await
}

pub(super) async fn red_list(
    State(s): State<ApiState>,
    who: Bearer,
    RawQuery(q): RawQuery,
) -> Response {
    let tp = match query_value(&q, "taxpayer_id").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match TaxpayerId::new(v) {
            Ok(t) => Some(t),
            Err(e) => return BureauError::bad("bad_query", "F3", e.to_string()).into_response(),
        },
    };
    let state = match query_value(&q, "state").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match red::parse_state(v) {
            Some(s) => Some(s),
            None => {
                return BureauError::bad(
                    "bad_query",
                    "B6",
                    format!("state={v}: use UnderReview, Approved, Rejected or Used"),
                )
                .into_response();
            }
        },
    };
    run(s, who, move |x, c| {
        c.known("listing red info forms")?;
        // A taxpayer sees its own forms only, whatever it asks for.
        let tp = match (c.own_taxpayer(), tp) {
            (Some(own), Some(asked)) if *own != asked => {
                return Err(BureauError::Refused {
                    status: 403,
                    code: "forbidden",
                    message: format!("the credential is taxpayer {own}'s, not {asked}'s"),
                    rule: "B1, HTTP API",
                });
            }
            (Some(own), _) => Some(own.clone()),
            (None, asked) => asked,
        };
        x.red_forms(tp.as_ref(), state)
    })
    .await
}

pub(super) async fn red_get(
    State(s): State<ApiState>,
    who: Bearer,
    PathArg(n): PathArg<InfoFormNumber>,
) -> Response {
    run(s, who, move |x, c| {
        c.known("reading a red info form")?;
        let form = x.red_form(&n)?;
        match c.own_taxpayer() {
            // Another taxpayer's form is as good as absent.
            Some(own) if form.draft.seller != *own && form.draft.buyer != *own => {
                Err(BureauError::not_found(
                    "unknown_form",
                    "B6",
                    format!("no red info form {n} of taxpayer {own}"),
                ))
            }
            _ => Ok(form),
        }
    })
    .await
}

pub(super) async fn red_review(
    State(s): State<ApiState>,
    who: Bearer,
    PathArg(n): PathArg<InfoFormNumber>,
    ApiJson(r): ApiJson<api::Review>,
) -> Response {
    run(s, who, move |x, c| {
        c.tax_office("reviewing a red info form")?;
        x.review_red_form(&n, r)
    })
    .await
}

pub(super) async fn oil_grant(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::OilGrantRequest>,
) -> Response {
    run(s, who, move |x, c| {
        c.for_disk(&r.serial, "downloading oil stock")?;
        x.oil_grant(r)
    })
    .await
}

pub(super) async fn oil_return(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<Signed<t::OilReturnReceipt>>,
) -> Response {
    run0(s, who, move |x, c| {
        c.for_disk(&r.body.serial, "returning oil stock")?;
        x.oil_return(r)
    })
    .await
}

pub(super) async fn update(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::UpdateRequest>,
) -> Response {
    run(s, who, move |x, c| {
        c.tax_office("changing a disk's parameters")?;
        x.update(r)
    })
    .await
}

pub(super) async fn updates(
    State(s): State<ApiState>,
    who: Bearer,
    PathArg(n): PathArg<DeviceSerial>,
    AfterSeq(a): AfterSeq,
) -> Response {
    run(s, who, move |x, c| {
        c.for_disk(&n, "downloading updates")?;
        x.updates(&n, a)
    })
    .await
}

pub(super) async fn clock(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::ClockRequest>,
) -> Response {
    run(s, who, move |x, c| {
        c.tax_office("setting a disk's clock")?;
        x.clock_token(r)
    })
    .await
}

pub(super) async fn unblock(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::UnblockRequest>,
) -> Response {
    run(s, who, move |x, c| {
        c.tax_office("unblocking a PIN")?;
        x.unblock_token(r)
    })
    .await
}

/// The invoice check (查验) is open to anyone, as the real platform is.
pub(super) async fn check(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::CheckRequest>,
) -> Response {
    run(s, who, move |x, _| x.check(r)).await
}

pub(super) async fn disk(
    State(s): State<ApiState>,
    who: Bearer,
    PathArg(n): PathArg<DeviceSerial>,
) -> Response {
    run(s, who, move |x, c| {
        c.for_disk(&n, "reading a disk's record")?;
        x.disk(&n)
    })
    .await
}

pub(super) async fn settings(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<api::BureauSettings>,
) -> Response {
    run0(s, who, move |x, c| {
        c.tax_office("changing the bureau's settings")?;
        x.set_settings(r)
    })
    .await
}

pub(super) async fn admin_time(
    State(s): State<ApiState>,
    who: Bearer,
    ApiJson(r): ApiJson<Timestamp>,
) -> Response {
    run0(s, who, move |x, c| {
        c.tax_office("setting the bureau's clock")?;
        x.set_time(r)
    })
    .await
}
