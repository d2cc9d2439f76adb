//! The HTTP JSON API of [`taxdisk_protocol::bureau_api`] over axum, plus `POST /admin/time`.
//! Every refusal, including bodies that are not JSON, have wrong types or break a format rule,
//! unknown paths and wrong methods, answers a 4xx with an `ApiError` body. [`spawn`] runs the
//! server on its own thread and tokio runtime so sync code (CLI, tests) can start it on port 0.

use super::{Bureau, BureauError, red};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use taxdisk_protocol::bureau_api::{self as api, PREFIX};
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::{self as t, DeviceSerial, InfoFormNumber, Signed, TaxpayerId};

/// The bureau shared by the HTTP server and in-process callers.
pub type SharedBureau = Arc<Mutex<Bureau>>;

/// Largest request body accepted (uploads of many events), in bytes.
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Locks the bureau. A poisoned lock (a handler panicked) still holds consistent state, since
/// every change is one SQLite transaction, so it is used as it is.
pub fn lock(b: &SharedBureau) -> MutexGuard<'_, Bureau> {
    b.lock().unwrap_or_else(|e| e.into_inner())
}

impl IntoResponse for BureauError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self, "bureau failure");
        }
        (status, Json(self.to_api())).into_response()
    }
}

/// A JSON body whose rejection is an `ApiError` (`bad_json`, `bad_body`, `bad_content_type`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = BureauError;

    async fn from_request(req: Request, state: &S) -> Result<Self, BureauError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => {
                let code = match &rej {
                    JsonRejection::JsonSyntaxError(_) => "bad_json",
                    JsonRejection::MissingJsonContentType(_) => "bad_content_type",
                    _ => "bad_body",
                };
                let status = if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    413
                } else if rej.status().is_client_error() {
                    rej.status().as_u16()
                } else {
                    400
                };
                Err(BureauError::Refused {
                    status,
                    code,
                    message: rej.body_text(),
                    rule: "HTTP API",
                })
            }
        }
    }
}

/// The `{}` answer.
#[derive(Debug, Serialize)]
struct Empty {}

/// Runs `f` on the bureau in a blocking task and answers its JSON or its error.
async fn run<R, F>(b: SharedBureau, f: F) -> Response
where
    R: Serialize + Send + 'static,
    F: FnOnce(&mut Bureau) -> Result<R, BureauError> + Send + 'static,
{
    match tokio::task::spawn_blocking(move || f(&mut lock(&b))).await {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => BureauError::Corrupt(format!("handler task failed: {e}")).into_response(),
    }
}

/// Runs `f` that answers nothing, answering `{}`.
async fn run0<F>(b: SharedBureau, f: F) -> Response
where
    F: FnOnce(&mut Bureau) -> Result<(), BureauError> + Send + 'static,
{
    run(b, move |x| f(x).map(|()| Empty {})).await
}

fn serial(s: &str) -> Result<DeviceSerial, BureauError> {
    DeviceSerial::new(s).map_err(|e| BureauError::bad("bad_serial", "F6", e.to_string()))
}

fn form_number(s: &str) -> Result<InfoFormNumber, BureauError> {
    InfoFormNumber::new(s).map_err(|e| BureauError::bad("bad_form_number", "F4", e.to_string()))
}

/// The value of `name` in a raw query string (values here are plain ASCII, never escaped).
fn query_value<'a>(q: &'a Option<String>, name: &str) -> Option<&'a str> {
    q.as_deref()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn after_seq(q: &Option<String>) -> Result<u32, BureauError> {
    match query_value(q, "after_seq") {
        None | Some("") => Ok(0),
        Some(v) => v.parse().map_err(|_| {
            BureauError::bad(
                "bad_query",
                "HTTP API",
                format!("after_seq={v} is not a number"),
            )
        }),
    }
}

async fn health(State(b): State<SharedBureau>) -> Response {
    run(b, |x| Ok(x.health())).await
}

async fn taxpayers(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::RegisterTaxpayer>,
) -> Response {
    run0(b, move |x| x.register_taxpayer(r)).await
}

async fn provision(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::ProvisionRequest>,
) -> Response {
    run(b, move |x| x.provision(r)).await
}

async fn register_key(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::RegisterKey>,
) -> Response {
    run0(b, move |x| x.register_key(r)).await
}

async fn buy(State(b): State<SharedBureau>, ApiJson(r): ApiJson<api::BuyRolls>) -> Response {
    run(b, move |x| x.buy_rolls(r)).await
}

async fn grants(
    State(b): State<SharedBureau>,
    Path(s): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let args = serial(&s).and_then(|s| Ok((s, after_seq(&q)?)));
    match args {
        Ok((s, n)) => run(b, move |x| x.grants(&s, n)).await,
        Err(e) => e.into_response(),
    }
}

async fn roll_return(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<Signed<t::RollReturnReceipt>>,
) -> Response {
    run0(b, move |x| x.return_roll(r)).await
}

async fn upload(State(b): State<SharedBureau>, ApiJson(r): ApiJson<api::Upload>) -> Response {
    run(b, move |x| x.upload(r)).await
}

async fn summary(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<Signed<t::PeriodSummary>>,
) -> Response {
    run(b, move |x| x.summary(r)).await
}

async fn declare(State(b): State<SharedBureau>, ApiJson(r): ApiJson<api::Declare>) -> Response {
    run0(b, move |x| x.declare(r)).await
}

async fn clear_card(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::ClearRequest>,
) -> Response {
    run(b, move |x| x.clear_card(r)).await
}

async fn red_submit(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::RedFormDraft>,
) -> Response {
    run(b, move |x| x.submit_red_form(r)).await
}

async fn red_list(State(b): State<SharedBureau>, RawQuery(q): RawQuery) -> Response {
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
    run(b, move |x| x.red_forms(tp.as_ref(), state)).await
}

async fn red_get(State(b): State<SharedBureau>, Path(n): Path<String>) -> Response {
    match form_number(&n) {
        Ok(n) => run(b, move |x| x.red_form(&n)).await,
        Err(e) => e.into_response(),
    }
}

async fn red_review(
    State(b): State<SharedBureau>,
    Path(n): Path<String>,
    ApiJson(r): ApiJson<api::Review>,
) -> Response {
    match form_number(&n) {
        Ok(n) => run(b, move |x| x.review_red_form(&n, r)).await,
        Err(e) => e.into_response(),
    }
}

async fn oil_grant(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::OilGrantRequest>,
) -> Response {
    run(b, move |x| x.oil_grant(r)).await
}

async fn oil_return(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<Signed<t::OilReturnReceipt>>,
) -> Response {
    run0(b, move |x| x.oil_return(r)).await
}

async fn update(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::UpdateRequest>,
) -> Response {
    run(b, move |x| x.update(r)).await
}

async fn updates(
    State(b): State<SharedBureau>,
    Path(s): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let args = serial(&s).and_then(|s| Ok((s, after_seq(&q)?)));
    match args {
        Ok((s, n)) => run(b, move |x| x.updates(&s, n)).await,
        Err(e) => e.into_response(),
    }
}

async fn clock(State(b): State<SharedBureau>, ApiJson(r): ApiJson<api::ClockRequest>) -> Response {
    run(b, move |x| x.clock_token(r)).await
}

async fn unblock(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::UnblockRequest>,
) -> Response {
    run(b, move |x| x.unblock_token(r)).await
}

async fn check(State(b): State<SharedBureau>, ApiJson(r): ApiJson<api::CheckRequest>) -> Response {
    run(b, move |x| x.check(r)).await
}

async fn disk(State(b): State<SharedBureau>, Path(s): Path<String>) -> Response {
    match serial(&s) {
        Ok(s) => run(b, move |x| x.disk(&s)).await,
        Err(e) => e.into_response(),
    }
}

async fn settings(
    State(b): State<SharedBureau>,
    ApiJson(r): ApiJson<api::BureauSettings>,
) -> Response {
    run0(b, move |x| x.set_settings(r)).await
}

async fn admin_time(State(b): State<SharedBureau>, ApiJson(r): ApiJson<Timestamp>) -> Response {
    run0(b, move |x| x.set_time(r)).await
}

async fn no_such_path(req: Request) -> Response {
    BureauError::not_found(
        "no_such_path",
        "HTTP API",
        format!("no bureau API at {} {}", req.method(), req.uri().path()),
    )
    .into_response()
}

async fn wrong_method(req: Request) -> Response {
    BureauError::Refused {
        status: 405,
        code: "method_not_allowed",
        message: format!("{} is not allowed on {}", req.method(), req.uri().path()),
        rule: "HTTP API",
    }
    .into_response()
}

/// The bureau's routes under [`PREFIX`] (see the table in [`taxdisk_protocol::bureau_api`]).
pub fn router(state: SharedBureau) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/taxpayers", post(taxpayers))
        .route("/disks/provision", post(provision))
        .route("/disks/register-key", post(register_key))
        .route("/rolls/buy", post(buy))
        .route("/disks/{serial}/grants", get(grants))
        .route("/rolls/return", post(roll_return))
        .route("/upload", post(upload))
        .route("/summary", post(summary))
        .route("/declare", post(declare))
        .route("/clear-card", post(clear_card))
        .route("/red-forms", post(red_submit).get(red_list))
        .route("/red-forms/{number}", get(red_get))
        .route("/red-forms/{number}/review", post(red_review))
        .route("/oil/grant", post(oil_grant))
        .route("/oil/return", post(oil_return))
        .route("/updates", post(update))
        .route("/disks/{serial}/updates", get(updates))
        .route("/clock", post(clock))
        .route("/unblock", post(unblock))
        .route("/check", post(check))
        .route("/disks/{serial}", get(disk))
        .route("/settings", post(settings))
        .route("/admin/time", post(admin_time))
        .method_not_allowed_fallback(wrong_method);
    Router::new()
        .nest(PREFIX, api)
        .fallback(no_such_path)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// A running bureau HTTP server (its own thread and tokio runtime). Dropping it shuts it down.
#[derive(Debug)]
pub struct BureauServer {
    addr: SocketAddr,
    bureau: SharedBureau,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BureauServer {
    /// The bound address (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:43121` (paths are under [`PREFIX`]).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bureau the server answers from, for in-process use next to HTTP.
    pub fn bureau(&self) -> SharedBureau {
        self.bureau.clone()
    }

    /// Stops the server after the requests in flight and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            // The receiver is gone only if the server already stopped.
            let _ = tx.send(());
        }
        if let Some(h) = self.thread.take()
            && h.join().is_err()
        {
            tracing::error!("bureau server thread panicked");
        }
    }
}

impl Drop for BureauServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Serves `bureau` on `addr` (use `127.0.0.1:0` for a free loopback port) from its own thread.
pub fn spawn(bureau: Bureau, addr: SocketAddr) -> Result<BureauServer, BureauError> {
    spawn_shared(Arc::new(Mutex::new(bureau)), addr)
}

/// Like [`spawn`] with a bureau already shared with in-process callers.
pub fn spawn_shared(bureau: SharedBureau, addr: SocketAddr) -> Result<BureauServer, BureauError> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("bureau-http")
        .build()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(bureau.clone());
    let thread = std::thread::Builder::new()
        .name("bureau-server".into())
        .spawn(move || {
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!(error = %e, "bureau listener");
                        return;
                    }
                };
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "bureau server stopped");
                }
            });
        })?;
    Ok(BureauServer {
        addr,
        bureau,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
