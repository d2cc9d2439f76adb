//! The HTTP JSON API of [`taxdisk_protocol::bureau_api`] over axum, plus `POST /admin/time`.
//! Every refusal, including bodies that are not JSON, have wrong types or break a format rule,
//! unknown paths and wrong methods, answers a 4xx with an `ApiError` body. [`spawn`] runs the
//! server on its own thread and tokio runtime so sync code (CLI, tests) can start it on port 0.

mod handlers;

use super::access::{self, Caller};
use super::{Bureau, BureauError, ClockView};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use taxdisk_protocol::bureau_api::{self as api, PREFIX};
use taxdisk_protocol::types::{self as t, DeviceSerial, InfoFormNumber};

/// The bureau shared by the HTTP server and in-process callers.
pub type SharedBureau = Arc<Mutex<Bureau>>;

/// Locks the bureau. A poisoned lock (a handler panicked) still holds consistent state, since
/// every change is one database transaction, so it is used as it is.
pub fn lock(b: &SharedBureau) -> MutexGuard<'_, Bureau> {
    taxdisk_protocol::fault::locked(b)
}

impl IntoResponse for BureauError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self, "{}", taxdisk_i18n::t!("log-bureau-failure"));
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

/// What every handler shares: the bureau, the digest of the administrator token, and what
/// `/health` answers without taking the bureau (its key and its clock).
#[derive(Clone, Debug)]
pub struct ApiState {
    bureau: SharedBureau,
    admin: [u8; 32],
    public_key: t::PublicKey,
    clock: ClockView,
}

impl ApiState {
    /// The state of a server over `bureau` whose administrator token is `admin_token`.
    pub fn new(bureau: SharedBureau, admin_token: &str) -> ApiState {
        let (public_key, clock) = {
            let b = lock(&bureau);
            (b.public_key(), b.clock_view())
        };
        ApiState {
            bureau,
            admin: access::digest(admin_token),
            public_key,
            clock,
        }
    }
}

/// The token of the `Authorization: Bearer` header, if any. A header that is not a bearer
/// token is refused as `bad_credential`.
#[derive(Clone, Debug)]
pub struct Bearer(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = BureauError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, BureauError> {
        let Some(v) = parts.headers.get(api::AUTHORIZATION) else {
            return Ok(Bearer(None));
        };
        let token = v
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256);
        match token {
            Some(t) => Ok(Bearer(Some(t.to_owned()))),
            None => Err(BureauError::Refused {
                status: 401,
                code: "bad_credential",
                message: "the Authorization header is not `Bearer <token>`".into(),
                rule: "B1, HTTP API",
            }),
        }
    }
}

/// Runs `f` on the bureau in a blocking task, as the caller the bearer token names, and
/// answers its JSON or its error.
async fn run<R, F>(s: ApiState, who: Bearer, f: F) -> Response
where
    R: Serialize + Send + 'static,
    F: FnOnce(&mut Bureau, Caller) -> Result<R, BureauError> + Send + 'static,
{
    match locked(s, who, f).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Runs `f` on the bureau in a blocking task, under the bureau's lock, as the caller the
/// bearer token names, and answers its value.
async fn locked<R, F>(s: ApiState, who: Bearer, f: F) -> Result<R, BureauError>
where
    R: Send + 'static,
    F: FnOnce(&mut Bureau, Caller) -> Result<R, BureauError> + Send + 'static,
{
    let task = move || {
        let mut b = lock(&s.bureau);
        // Another worker on the same database may have moved the virtual clock.
        b.sync()?;
        let caller = b.caller(who.0.as_deref(), Some(&s.admin))?;
        f(&mut b, caller)
    };
    unlocked(task).await?
}

/// Runs `f` in a blocking task without the bureau (CPU work such as verifying signatures).
async fn unlocked<R, F>(f: F) -> Result<R, BureauError>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BureauError::Corrupt(format!("handler task failed: {e}")))
}

/// Runs `f` that answers nothing, answering `{}`.
async fn run0<F>(s: ApiState, who: Bearer, f: F) -> Response
where
    F: FnOnce(&mut Bureau, Caller) -> Result<(), BureauError> + Send + 'static,
{
    run(s, who, move |x, c| f(x, c).map(|()| Empty {})).await
}

/// A value checked from a path's one parameter (`/disks/{serial}/...`, `/red-forms/{number}`).
pub trait PathValue: Sized {
    /// The value of the path segment, or the bureau's refusal of it.
    fn parse(segment: &str) -> Result<Self, BureauError>;
}

impl PathValue for DeviceSerial {
    fn parse(segment: &str) -> Result<Self, BureauError> {
        DeviceSerial::new(segment).map_err(|e| BureauError::bad("bad_serial", "F6", e.to_string()))
    }
}

impl PathValue for InfoFormNumber {
    fn parse(segment: &str) -> Result<Self, BureauError> {
        InfoFormNumber::new(segment)
            .map_err(|e| BureauError::bad("bad_form_number", "F4", e.to_string()))
    }
}

/// The path's one parameter, checked: a handler taking `PathArg<DeviceSerial>` runs only for a
/// well-formed serial; a malformed one is answered with the bureau's error (`bad_serial`,
/// `bad_form_number`), a path axum cannot read with axum's own answer.
#[derive(Debug)]
pub struct PathArg<T>(pub T);

impl<S: Send + Sync, T: PathValue> FromRequestParts<S> for PathArg<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Path(segment) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        T::parse(&segment)
            .map(PathArg)
            .map_err(IntoResponse::into_response)
    }
}

/// The value of `name` in a raw query string (values here are plain ASCII, never escaped).
fn query_value<'a>(q: &'a Option<String>, name: &str) -> Option<&'a str> {
    q.as_deref()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `after_seq` query parameter of the download endpoints: 0 when absent or empty; not a
/// number is refused as `bad_query`.
#[derive(Debug)]
pub struct AfterSeq(pub u32);

impl<S: Send + Sync> FromRequestParts<S> for AfterSeq {
    type Rejection = BureauError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, BureauError> {
        let q = parts.uri.query().map(str::to_owned);
        match query_value(&q, "after_seq") {
            None | Some("") => Ok(AfterSeq(0)),
            Some(v) => v.parse().map(AfterSeq).map_err(|_| {
                BureauError::bad(
                    "bad_query",
                    "HTTP API",
                    format!("after_seq={v} is not a number"),
                )
            }),
        }
    }
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

/// The bureau's routes under [`PREFIX`] (see the table in [`taxdisk_protocol::bureau_api`]),
/// the tax office's steps open to the holder of `admin_token`. Bodies are bounded: an upload
/// by [`api::MAX_UPLOAD_BODY`], every other request by [`api::MAX_BODY`].
pub fn router(bureau: SharedBureau, admin_token: &str) -> Router {
    let upload_route = Router::new()
        .route("/upload", post(handlers::upload))
        .layer(DefaultBodyLimit::max(api::MAX_UPLOAD_BODY));
    let api = Router::new()
        .route("/health", get(handlers::health))
        .route("/taxpayers", post(handlers::taxpayers))
        .route("/disks/provision", post(handlers::provision))
        .route("/disks/register-key", post(handlers::register_key))
        .route("/disks/{serial}/credential", post(handlers::credential))
        .route("/rolls/buy", post(handlers::buy))
        .route("/disks/{serial}/grants", get(handlers::grants))
        .route("/rolls/return", post(handlers::roll_return))
        .route("/summary", post(handlers::summary))
        .route("/declare", post(handlers::declare))
        .route("/clear-card", post(handlers::clear_card))
        .route(
            "/red-forms",
            post(handlers::red_submit).get(handlers::red_list),
        )
        .route("/red-forms/{number}", get(handlers::red_get))
        .route("/red-forms/{number}/review", post(handlers::red_review))
        .route("/oil/grant", post(handlers::oil_grant))
        .route("/oil/return", post(handlers::oil_return))
        .route("/updates", post(handlers::update))
        .route("/disks/{serial}/updates", get(handlers::updates))
        .route("/clock", post(handlers::clock))
        .route("/unblock", post(handlers::unblock))
        .route("/check", post(handlers::check))
        .route("/disks/{serial}", get(handlers::disk))
        .route("/settings", post(handlers::settings))
        .route("/admin/time", post(handlers::admin_time))
        .layer(DefaultBodyLimit::max(api::MAX_BODY))
        .merge(upload_route)
        .method_not_allowed_fallback(wrong_method);
    Router::new()
        .nest(PREFIX, api)
        .fallback(no_such_path)
        .with_state(ApiState::new(bureau, admin_token))
}

/// A running bureau HTTP server (its own thread and tokio runtime). Dropping it shuts it down.
pub struct BureauServer {
    addr: SocketAddr,
    bureau: SharedBureau,
    admin_token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for BureauServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The administrator token is left out on purpose.
        f.debug_struct("BureauServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
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

    /// The administrator (tax office) token of this server: a secret, for the process that
    /// started it.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
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
            tracing::error!("{}", taxdisk_i18n::t!("log-bureau-thread-panicked"));
        }
    }
}

impl Drop for BureauServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Serves `bureau` on `addr` (use `127.0.0.1:0` for a free loopback port) from its own thread,
/// with a new random administrator token ([`BureauServer::admin_token`]).
pub fn spawn(bureau: Bureau, addr: SocketAddr) -> Result<BureauServer, BureauError> {
    spawn_shared(Arc::new(Mutex::new(bureau)), addr, None)
}

/// Like [`spawn`] with the administrator token `admin_token`.
pub fn spawn_with_admin(
    bureau: Bureau,
    addr: SocketAddr,
    admin_token: String,
) -> Result<BureauServer, BureauError> {
    spawn_shared(Arc::new(Mutex::new(bureau)), addr, Some(admin_token))
}

/// Like [`spawn`] with a bureau already shared with in-process callers, and the administrator
/// token `admin_token` (a new random one when `None`).
pub fn spawn_shared(
    bureau: SharedBureau,
    addr: SocketAddr,
    admin_token: Option<String>,
) -> Result<BureauServer, BureauError> {
    let admin_token = admin_token.unwrap_or_else(access::new_token);
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("bureau-http")
        .build()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(bureau.clone(), &admin_token);
    let thread = std::thread::Builder::new()
        .name("bureau-server".into())
        .spawn(move || {
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!(error = %e, "{}", taxdisk_i18n::t!("log-bureau-listener"));
                        return;
                    }
                };
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop_rx.await;
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "{}", taxdisk_i18n::t!("log-bureau-stopped"));
                }
            });
        })?;
    Ok(BureauServer {
        addr,
        bureau,
        admin_token,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
