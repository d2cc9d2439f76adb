//! The tax bureau's HTTP JSON API (局端), client side: one method per row of the table in
//! [`taxdisk_protocol::bureau_api`], plus `POST /admin/time` for simulations. The base URL is
//! the "secure access server address" (安全接入服务器地址) of the initialization settings
//! (FAQ 2.1, H1); [`BureauClient::health`] is its connection test.
//!
//! Every refusal of the bureau is an HTTP 4xx with an [`ApiError`] body, surfaced as
//! [`BureauError::Api`] with its code, message and rule. Unreachable servers and timeouts are
//! their own errors with one clear line each. Bodies are read with a size limit, so a broken
//! server cannot exhaust memory.

use std::time::Duration;
use taxdisk_protocol::bureau_api::*;
use taxdisk_protocol::time::Timestamp;
use taxdisk_protocol::types::*;
use ureq::Agent;

/// Default timeout of one HTTP call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest answer body read, in bytes (a month of invoices fits many times over).
pub const MAX_BODY: u64 = 64 * 1024 * 1024;

/// Why a bureau call failed.
#[derive(Debug, thiserror::Error)]
pub enum BureauError {
    /// The base URL is not an `http://` or `https://` URL.
    #[error(
        "invalid bureau address {0:?}: expected http://host:port (安全接入服务器地址, FAQ 2.1)"
    )]
    BadUrl(String),
    /// Nothing answers at the address (refused, unknown host, network down).
    #[error(
        "the tax bureau at {url} is unreachable ({reason}); check the secure access server \
         address (安全接入服务器地址, FAQ 2.1) and the network"
    )]
    Unreachable {
        /// The base URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The bureau did not answer in time.
    #[error("the tax bureau at {url} did not answer {path} within {} s", .timeout.as_secs_f32())]
    Timeout {
        /// The base URL.
        url: String,
        /// The API path.
        path: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The bureau refused the request: one line with its message, code and rule.
    #[error("the tax bureau refused {path}: {} [{}, {}]", .error.message, .error.code, .error.rule)]
    Api {
        /// HTTP status (4xx or 5xx).
        status: u16,
        /// The API path.
        path: String,
        /// The bureau's error report.
        error: ApiError,
    },
    /// An error status whose body is not an [`ApiError`] (a proxy, another server).
    #[error(
        "the server at {url} answered {path} with HTTP {status}, not a bureau error: {snippet}"
    )]
    Http {
        /// The base URL.
        url: String,
        /// The API path.
        path: String,
        /// HTTP status.
        status: u16,
        /// The start of the body.
        snippet: String,
    },
    /// The bureau refused a tax office's step (registration, provisioning, declaration,
    /// unblock, clock, parameter changes, review) from a client holding no administrator token.
    #[error(
        "the tax bureau refused {path}: it is the tax office's step and this software holds no \
         administrator token for that bureau (taxdisk: --bureau-admin-token-file FILE) [{}, {}]",
        .error.code, .error.rule
    )]
    NeedsTaxOffice {
        /// The API path.
        path: String,
        /// The bureau's error report.
        error: ApiError,
    },
    /// A success status whose body does not decode as the expected answer.
    #[error("the tax bureau's answer to {path} could not be read: {reason}")]
    BadAnswer {
        /// The API path.
        path: String,
        /// Why.
        reason: String,
    },
}

impl BureauError {
    /// The bureau's error code (`not_declared`, `bad_signature`, ...), when it refused.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            BureauError::Api { error, .. } | BureauError::NeedsTaxOffice { error, .. } => {
                Some(&error.code)
            }
            _ => None,
        }
    }
}

/// A client of one bureau, with the credentials it holds: the taxpayer's (its disk's, from
/// key registration) and, where this software also plays the tax office, the administrator
/// token. Each call sends the one its path needs (see "Who may call what" in
/// [`taxdisk_protocol::bureau_api`]).
#[derive(Clone)]
pub struct BureauClient {
    agent: Agent,
    base: String,
    timeout: Duration,
    credential: Option<String>,
    admin: Option<String>,
}

impl std::fmt::Debug for BureauClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are secrets: only whether they are held.
        f.debug_struct("BureauClient")
            .field("base", &self.base)
            .field("timeout", &self.timeout)
            .field("credential", &self.credential.is_some())
            .field("admin", &self.admin.is_some())
            .finish()
    }
}

/// Whose token a call sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum As {
    /// None: open to anyone.
    Anyone,
    /// The taxpayer's credential (or, without one, the administrator token).
    Taxpayer,
    /// The administrator token (or, without one, the credential, which the bureau refuses
    /// with a line saying it is the tax office's step).
    TaxOffice,
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The first `max` characters of `s`, on one line.
fn snippet(s: &str, max: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    one_line.trim().to_string()
}

impl BureauClient {
    /// A client for the bureau at `base_url` (e.g. `http://127.0.0.1:8600`; a trailing `/` and
    /// a trailing [`PREFIX`] are accepted) with the default timeout.
    pub fn new(base_url: &str) -> Result<Self, BureauError> {
        Self::with_timeout(base_url, DEFAULT_TIMEOUT)
    }

    /// A client with a timeout for each whole call.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self, BureauError> {
        let trimmed = base_url.trim();
        let mut base = trimmed.trim_end_matches('/').to_string();
        if let Some(b) = base.strip_suffix(PREFIX) {
            base = b.to_string();
        }
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {}
            _ => return Err(BureauError::BadUrl(base_url.to_string())),
        }
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Ok(BureauClient {
            agent,
            base,
            timeout,
            credential: None,
            admin: None,
        })
    }

    /// The same client sending `credential`, the taxpayer's (its disk's) bearer token.
    pub fn with_credential(mut self, credential: Option<String>) -> Self {
        self.credential = credential.filter(|c| !c.trim().is_empty());
        self
    }

    /// The same client sending `token` on the tax office's paths (registration, provisioning,
    /// declaration, unblock, clock, parameter changes, review, settings).
    pub fn with_admin_token(mut self, token: Option<String>) -> Self {
        self.admin = token.filter(|t| !t.trim().is_empty());
        self
    }

    /// A client of the bureau at `base_url` holding the same credentials and timeout (a
    /// changed server address keeps who this software is).
    pub fn moved_to(&self, base_url: &str) -> Result<Self, BureauError> {
        Ok(Self::with_timeout(base_url, self.timeout)?
            .with_credential(self.credential.clone())
            .with_admin_token(self.admin.clone()))
    }

    /// Whether a taxpayer credential is held.
    pub fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    /// Whether the administrator token is held.
    pub fn has_admin_token(&self) -> bool {
        self.admin.is_some()
    }

    fn token(&self, who: As) -> Option<&str> {
        let (first, second) = match who {
            As::Anyone => return None,
            As::Taxpayer => (&self.credential, &self.admin),
            As::TaxOffice => (&self.admin, &self.credential),
        };
        first.as_deref().or(second.as_deref())
    }

    fn authorize<T>(&self, req: ureq::RequestBuilder<T>, who: As) -> ureq::RequestBuilder<T> {
        match self.token(who) {
            Some(t) => req.header(AUTHORIZATION, format!("Bearer {t}")),
            None => req,
        }
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{PREFIX}{path}", self.base)
    }

    fn transport_error(&self, path: &str, e: ureq::Error) -> BureauError {
        match e {
            ureq::Error::Timeout(_) => BureauError::Timeout {
                url: self.base.clone(),
                path: path.to_string(),
                timeout: self.timeout,
            },
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                BureauError::Timeout {
                    url: self.base.clone(),
                    path: path.to_string(),
                    timeout: self.timeout,
                }
            }
            ureq::Error::BadUri(u) => BureauError::BadUrl(u),
            e @ (ureq::Error::Io(_)
            | ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::Tls(_)) => BureauError::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            },
            e => BureauError::BadAnswer {
                path: path.to_string(),
                reason: e.to_string(),
            },
        }
    }

    /// Reads an answer: the decoded body on 2xx, the bureau's refusal otherwise.
    fn answer<R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<R, BureauError> {
        let mut resp = result.map_err(|e| self.transport_error(path, e))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| match e {
                e @ ureq::Error::Timeout(_) => self.transport_error(path, e),
                e => BureauError::BadAnswer {
                    path: path.to_string(),
                    reason: e.to_string(),
                },
            })?;
        if (200..300).contains(&status) {
            // `{}` answers may come as an empty body too.
            let text = if text.trim().is_empty() {
                "null"
            } else {
                &text
            };
            return serde_json::from_str(text).map_err(|e| BureauError::BadAnswer {
                path: path.to_string(),
                reason: e.to_string(),
            });
        }
        match serde_json::from_str::<ApiError>(&text) {
            Ok(error) => Err(BureauError::Api {
                status,
                path: path.to_string(),
                error,
            }),
            Err(_) => Err(BureauError::Http {
                url: self.base.clone(),
                path: path.to_string(),
                status,
                snippet: snippet(&text, 200),
            }),
        }
    }

    fn get<R: serde::de::DeserializeOwned>(&self, who: As, path: &str) -> Result<R, BureauError> {
        tracing::debug!(path, "bureau GET");
        let r = self.authorize(self.agent.get(&self.url(path)), who).call();
        self.answer(path, r).map_err(|e| self.explain(who, e))
    }

    /// A tax office's step refused for want of the token says what to give.
    fn explain(&self, who: As, e: BureauError) -> BureauError {
        match e {
            BureauError::Api {
                status: 401 | 403,
                path,
                error,
            } if who == As::TaxOffice && self.admin.is_none() => {
                BureauError::NeedsTaxOffice { path, error }
            }
            e => e,
        }
    }

    fn post<B: serde::Serialize, R: serde::de::DeserializeOwned>(
        &self,
        who: As,
        path: &str,
        body: &B,
    ) -> Result<R, BureauError> {
        tracing::debug!(path, "bureau POST");
        // Compact JSON (ureq's send_json pretty-prints, which bloats large uploads).
        let bytes = serde_json::to_vec(body).map_err(|e| BureauError::BadAnswer {
            path: path.to_string(),
            reason: format!("request body does not encode: {e}"),
        })?;
        let r = self
            .authorize(self.agent.post(&self.url(path)), who)
            .header("content-type", "application/json")
            .send(&bytes[..]);
        self.answer(path, r).map_err(|e| self.explain(who, e))
    }

    fn post0<B: serde::Serialize>(&self, who: As, path: &str, body: &B) -> Result<(), BureauError> {
        self.post::<B, serde::de::IgnoredAny>(who, path, body)
            .map(|_| ())
    }

    /// Connection test (H1): the bureau's status, public key and clock.
    pub fn health(&self) -> Result<Health, BureauError> {
        let h: Health = self.get(As::Anyone, "/health")?;
        if h.status != "ok" {
            return Err(BureauError::BadAnswer {
                path: "/health".into(),
                reason: format!("status is {:?}, not \"ok\"", h.status),
            });
        }
        Ok(h)
    }

    /// `POST /taxpayers`: registers or updates a taxpayer (B1).
    pub fn register_taxpayer(&self, r: &RegisterTaxpayer) -> Result<(), BureauError> {
        self.post0(As::TaxOffice, "/taxpayers", r)
    }

    /// `POST /disks/provision`: the provisioning token of a factory disk (B1, D1).
    pub fn provision(&self, r: &ProvisionRequest) -> Result<Signed<ProvisionToken>, BureauError> {
        self.post(As::TaxOffice, "/disks/provision", r)
    }

    /// `POST /disks/register-key`: registers the disk's answer to Provision (B1) and answers
    /// the disk's credential (once: keep it, e.g. with [`BureauClient::with_credential`]).
    pub fn register_key(&self, r: &RegisterKey) -> Result<KeyRegistered, BureauError> {
        self.post(As::Anyone, "/disks/register-key", r)
    }

    /// `POST /disks/{serial}/credential`: a new credential for a disk whose credential was
    /// lost (the tax office's step; the old one stops working).
    pub fn new_credential(&self, serial: &DeviceSerial) -> Result<KeyRegistered, BureauError> {
        self.post(
            As::TaxOffice,
            &format!("/disks/{}/credential", enc(serial.as_str())),
            &serde_json::json!({}),
        )
    }

    /// `POST /rolls/buy`: buys rolls (发票领购, B2).
    pub fn buy_rolls(&self, r: &BuyRolls) -> Result<Vec<Signed<RollGrant>>, BureauError> {
        self.post(As::Taxpayer, "/rolls/buy", r)
    }

    /// `GET /disks/{serial}/grants?after_seq=N`: roll grants not yet loaded (B2, H13).
    pub fn grants(
        &self,
        serial: &DeviceSerial,
        after_seq: u32,
    ) -> Result<Vec<Signed<RollGrant>>, BureauError> {
        self.get(
            As::Taxpayer,
            &format!(
                "/disks/{}/grants?after_seq={after_seq}",
                enc(serial.as_str())
            ),
        )
    }

    /// `POST /rolls/return`: hands in a device-signed roll return receipt (B2, D4).
    pub fn return_roll(&self, receipt: &Signed<RollReturnReceipt>) -> Result<(), BureauError> {
        self.post0(As::Taxpayer, "/rolls/return", receipt)
    }

    /// `POST /upload`: uploads journal events (B3, D12).
    pub fn upload(&self, r: &Upload) -> Result<UploadResult, BureauError> {
        self.post(As::Taxpayer, "/upload", r)
    }

    /// `POST /summary`: reports a period's signed summary (上报汇总, B4).
    pub fn summary(&self, s: &Signed<PeriodSummary>) -> Result<SummaryResult, BureauError> {
        self.post(As::Taxpayer, "/summary", s)
    }

    /// `POST /declare`: the taxpayer's declaration of a period (B5).
    pub fn declare(&self, r: &Declare) -> Result<(), BureauError> {
        self.post0(As::TaxOffice, "/declare", r)
    }

    /// `POST /clear-card`: the clear-card token of a reported and declared period (B5, D8).
    pub fn clear_card(&self, r: &ClearRequest) -> Result<Signed<ClearCardToken>, BureauError> {
        self.post(As::Taxpayer, "/clear-card", r)
    }

    /// `POST /red-forms`: submits a red info form (B6).
    pub fn submit_red_form(&self, d: &RedFormDraft) -> Result<RedForm, BureauError> {
        self.post(As::Taxpayer, "/red-forms", d)
    }

    /// `GET /red-forms?taxpayer_id=T&state=S`: red info forms, filtered (B6, FAQ 7.14).
    pub fn red_forms(
        &self,
        taxpayer_id: Option<&TaxpayerId>,
        state: Option<RedFormState>,
    ) -> Result<Vec<RedForm>, BureauError> {
        let mut q = Vec::new();
        if let Some(t) = taxpayer_id {
            q.push(format!("taxpayer_id={}", enc(t.as_str())));
        }
        if let Some(s) = state {
            q.push(format!("state={s:?}"));
        }
        let path = if q.is_empty() {
            "/red-forms".to_string()
        } else {
            format!("/red-forms?{}", q.join("&"))
        };
        self.get(As::Taxpayer, &path)
    }

    /// `GET /red-forms/{number}`: one red info form (B6).
    pub fn red_form(&self, number: &InfoFormNumber) -> Result<RedForm, BureauError> {
        self.get(
            As::Taxpayer,
            &format!("/red-forms/{}", enc(number.as_str())),
        )
    }

    /// `POST /red-forms/{number}/review`: approves or rejects a form (manual review, B6).
    pub fn review_red_form(
        &self,
        number: &InfoFormNumber,
        review: &Review,
    ) -> Result<RedForm, BureauError> {
        self.post(
            As::TaxOffice,
            &format!("/red-forms/{}/review", enc(number.as_str())),
            review,
        )
    }

    /// `POST /oil/grant`: an oil stock grant (B7).
    pub fn oil_grant(&self, r: &OilGrantRequest) -> Result<Signed<OilGrant>, BureauError> {
        self.post(As::Taxpayer, "/oil/grant", r)
    }

    /// `POST /oil/return`: hands in a device-signed oil return receipt (B7).
    pub fn oil_return(&self, receipt: &Signed<OilReturnReceipt>) -> Result<(), BureauError> {
        self.post0(As::Taxpayer, "/oil/return", receipt)
    }

    /// `POST /updates`: records a change for a disk and answers its token (B8).
    pub fn request_update(&self, r: &UpdateRequest) -> Result<Signed<UpdateToken>, BureauError> {
        self.post(As::TaxOffice, "/updates", r)
    }

    /// `GET /disks/{serial}/updates?after_seq=N`: update tokens not yet applied (B8, H17).
    pub fn updates(
        &self,
        serial: &DeviceSerial,
        after_seq: u32,
    ) -> Result<Vec<Signed<UpdateToken>>, BureauError> {
        self.get(
            As::Taxpayer,
            &format!(
                "/disks/{}/updates?after_seq={after_seq}",
                enc(serial.as_str())
            ),
        )
    }

    /// `POST /clock`: a clock token (B10, D3).
    pub fn clock(&self, r: &ClockRequest) -> Result<Signed<ClockToken>, BureauError> {
        self.post(As::TaxOffice, "/clock", r)
    }

    /// `POST /unblock`: a PIN unblock token (D2).
    pub fn unblock(&self, r: &UnblockRequest) -> Result<Signed<UnblockToken>, BureauError> {
        self.post(As::TaxOffice, "/unblock", r)
    }

    /// `POST /check`: invoice check (查验, B9).
    pub fn check(&self, r: &CheckRequest) -> Result<CheckResult, BureauError> {
        self.post(As::Anyone, "/check", r)
    }

    /// `GET /disks/{serial}`: the bureau's record of a disk (B1).
    pub fn disk(&self, serial: &DeviceSerial) -> Result<DiskRecord, BureauError> {
        self.get(As::Taxpayer, &format!("/disks/{}", enc(serial.as_str())))
    }

    /// `POST /settings`: bureau settings (manual red-form review).
    pub fn settings(&self, s: &BureauSettings) -> Result<(), BureauError> {
        self.post0(As::TaxOffice, "/settings", s)
    }

    /// `POST /admin/time`: sets the simulated bureau's clock (simulations only).
    pub fn set_time(&self, t: Timestamp) -> Result<(), BureauError> {
        self.post0(As::TaxOffice, "/admin/time", &t)
    }
}
