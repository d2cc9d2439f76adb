//! Comparing a recorded answer with the replayed one field by field ([`Difference`]):
//! statuses, signatures, times by one constant offset, serials and keys by shape.

use super::format::Exchange;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use taxdisk_protocol::frame::{Header, MAX_FRAME, decode_frame};
use taxdisk_protocol::message::{ProvisionProof, SignedMessage};
use taxdisk_protocol::types::*;
use taxdisk_protocol::{CommandId, Refusal, Response, sign};

/// One difference between a recorded answer and the replayed one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Index of the exchange in the trace (0-based).
    pub index: usize,
    /// The command.
    pub command: String,
    /// The field path (`body.amount`, `status`, `signature`, ...).
    pub path: String,
    /// The recorded value.
    pub recorded: String,
    /// The replayed value.
    pub replayed: String,
    /// Which comparison rule found it.
    pub why: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {}: recorded {} / replayed {} ({})",
            self.index, self.command, self.path, self.recorded, self.replayed, self.why
        )
    }
}

/// An answer frame as decoded: its header and the response, the refusal, or why it did not
/// decode.
pub(super) type Decoded = (Header, Result<Result<Response, Refusal>, String>);

/// Which disk an answer came from.
#[derive(Clone, Copy)]
pub(super) enum Side {
    Recorded = 0,
    Replayed = 1,
}

/// Serials and public keys of the recorded (0) and replaying (1) disks.
#[derive(Default)]
pub(super) struct Keys {
    pub(super) serial: [Option<DeviceSerial>; 2],
    pub(super) key: [Option<PublicKey>; 2],
}

impl Keys {
    /// Takes the serial or public key `r` carries, the first one seen on each side.
    pub(super) fn learn(&mut self, side: Side, r: &Response) {
        let i = side as usize;
        match r {
            Response::GetInfo(info) => {
                self.serial[i].get_or_insert_with(|| info.serial.clone());
            }
            Response::Provision(p) => {
                self.key[i].get_or_insert(p.public_key);
            }
            Response::GetPublicKey(k) => {
                self.key[i].get_or_insert(*k);
            }
            _ => {}
        }
    }
}

/// Compares the answers to a request whose command id is not in the table, by header.
pub(super) fn compare_raw(
    compared: &mut usize,
    differences: &mut Vec<Difference>,
    i: usize,
    e: &Exchange,
    got: Option<&[u8]>,
) {
    let mut s1 = vec![0u8; MAX_FRAME];
    let mut s2 = vec![0u8; MAX_FRAME];
    let rec = e
        .answer
        .as_deref()
        .and_then(|a| decode_frame(a, &mut s1).ok());
    let rep = got.and_then(|a| decode_frame(a, &mut s2).ok());
    let command = format!("command {}", e.header.command);
    match (rec, rep) {
        (None, _) => {}
        (Some(_), None) => differences.push(Difference {
            index: i,
            command,
            path: "answer".into(),
            recorded: "an answer".into(),
            replayed: "no answer".into(),
            why: "equal".into(),
        }),
        (Some((a, pa)), Some((b, pb))) => {
            *compared += 1;
            if (a.status, a.detail, pa) != (b.status, b.detail, pb) {
                differences.push(Difference {
                    index: i,
                    command,
                    path: "status".into(),
                    recorded: format!("0x{:04X}/{}", a.status, a.detail),
                    replayed: format!("0x{:04X}/{}", b.status, b.detail),
                    why: "equal".into(),
                });
            }
        }
    }
}

pub(super) struct Comparer<'a> {
    pub(super) keys: &'a Keys,
    pub(super) offset: Option<i128>,
    pub(super) tolerance: u64,
    pub(super) last_clock: Option<u64>,
    /// Answers compared so far, and what differed: the replay's report.
    pub(super) compared: &'a mut usize,
    pub(super) differences: &'a mut Vec<Difference>,
}

fn status_text(r: &Result<Response, Refusal>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(x) => format!("{} (0x{:04X})", x.error.name(), x.error.code()),
    }
}

impl Comparer<'_> {
    fn diff(&mut self, i: usize, c: CommandId, path: &str, rec: String, rep: String, why: &str) {
        self.differences.push(Difference {
            index: i,
            command: c.name().into(),
            path: path.into(),
            recorded: rec,
            replayed: rep,
            why: why.into(),
        });
    }

    pub(super) fn pair(
        &mut self,
        i: usize,
        c: CommandId,
        rec: Option<Decoded>,
        rep: Option<Decoded>,
    ) {
        let Some((_, rec)) = rec else {
            // Nothing recorded (the answer was lost then): nothing to compare.
            return;
        };
        let Some((_, rep)) = rep else {
            self.diff(
                i,
                c,
                "answer",
                "an answer".into(),
                "no answer".into(),
                "equal",
            );
            return;
        };
        let (rec, rep) = match (rec, rep) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                if a != b {
                    let show = |x: &Result<Result<Response, Refusal>, String>| match x {
                        Ok(r) => status_text(r),
                        Err(e) => format!("undecodable: {e}"),
                    };
                    self.diff(i, c, "answer", show(&a), show(&b), "decodes");
                }
                return;
            }
        };
        *self.compared += 1;
        match (&rec, &rep) {
            (Err(a), Err(b)) => {
                if a.error != b.error {
                    self.diff(
                        i,
                        c,
                        "status",
                        status_text(&rec),
                        status_text(&rep),
                        "equal",
                    );
                } else if a.detail != b.detail {
                    self.diff(
                        i,
                        c,
                        "detail",
                        a.detail.to_string(),
                        b.detail.to_string(),
                        "equal",
                    );
                }
            }
            (Ok(a), Ok(b)) => {
                self.fields(i, c, a, b);
                if c == CommandId::SetClock {
                    // D3: a clock token moves both clocks to the token's time: the clock may
                    // go back here, and the offset between the two disks starts anew.
                    self.last_clock = None;
                    self.offset = None;
                }
            }
            _ => self.diff(
                i,
                c,
                "status",
                status_text(&rec),
                status_text(&rep),
                "equal",
            ),
        }
    }

    fn fields(&mut self, i: usize, c: CommandId, a: &Response, b: &Response) {
        // Signatures: each verified with its own disk's key.
        let sa = signatures(a, self.keys.serial[0].as_ref(), self.keys.key[0].as_ref());
        let sb = signatures(b, self.keys.serial[1].as_ref(), self.keys.key[1].as_ref());
        for (path, ok) in &sa {
            if *ok == Some(false) {
                self.diff(
                    i,
                    c,
                    path,
                    "invalid with the recorded disk's key".into(),
                    "-".into(),
                    "signature verifies",
                );
            }
        }
        for (path, ok) in &sb {
            if *ok == Some(false) {
                self.diff(
                    i,
                    c,
                    path,
                    "-".into(),
                    "invalid with the replaying disk's key".into(),
                    "signature verifies",
                );
            }
        }
        let (va, vb) = (to_json(a), to_json(b));
        self.walk(i, c, "", &va, &vb);
        if c == CommandId::GetInfo
            && let Value::Object(m) = &vb
            && let Some(t) = m.get("time").and_then(Value::as_u64)
        {
            if let Some(last) = self.last_clock
                && t < last
            {
                self.diff(
                    i,
                    c,
                    "time",
                    last.to_string(),
                    t.to_string(),
                    "the disk clock does not go back",
                );
            }
            self.last_clock = Some(t);
        }
    }

    fn walk(&mut self, i: usize, c: CommandId, path: &str, a: &Value, b: &Value) {
        let key = path.rsplit('.').next().unwrap_or("");
        match key {
            "signature" | "proof" => return,
            // Properties of the device, not of the session: a vendor's disk has its own
            // firmware version and flash size (both decoded, so well formed).
            "firmware" | "journal_free" => return,
            "serial" => {
                let ok = |v: &Value| v.as_str().is_some_and(|s| DeviceSerial::new(s).is_ok());
                if !ok(b) {
                    self.diff(
                        i,
                        c,
                        path,
                        a.to_string(),
                        b.to_string(),
                        "a well-formed serial",
                    );
                }
                return;
            }
            "public_key" => {
                let pk = serde_json::from_value::<PublicKey>(b.clone()).ok();
                if pk.is_none_or(|k| sign::verifying_key(&k).is_err()) {
                    self.diff(
                        i,
                        c,
                        path,
                        "a point".into(),
                        b.to_string(),
                        "a point on the curve",
                    );
                }
                return;
            }
            "time" | "oldest_pending" => {
                if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
                    let d = i128::from(y) - i128::from(x);
                    let off = *self.offset.get_or_insert(d);
                    if (d - off).unsigned_abs() > u128::from(self.tolerance) {
                        self.diff(
                            i,
                            c,
                            path,
                            x.to_string(),
                            y.to_string(),
                            "times differ by one clock offset",
                        );
                    }
                    return;
                }
            }
            _ => {}
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, va) in x {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match y.get(k) {
                        Some(vb) => self.walk(i, c, &p, va, vb),
                        None => self.diff(i, c, &p, va.to_string(), "absent".into(), "equal"),
                    }
                }
                for (k, vb) in y {
                    if !x.contains_key(k) {
                        let p = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        self.diff(i, c, &p, "absent".into(), vb.to_string(), "equal");
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (n, (va, vb)) in x.iter().zip(y).enumerate() {
                    self.walk(i, c, &format!("{path}[{n}]"), va, vb);
                }
            }
            _ if a != b => {
                let p = if path.is_empty() { "body" } else { path };
                self.diff(i, c, p, a.to_string(), b.to_string(), "equal");
            }
            _ => {}
        }
    }
}

fn verify_one<T: SignedMessage>(s: &Signed<T>, key: Option<&PublicKey>) -> Option<bool> {
    let vk = sign::verifying_key(key?).ok()?;
    Some(s.verify(&vk).is_ok())
}

fn event_sig(e: &JournalEvent, key: Option<&PublicKey>) -> Option<bool> {
    match e {
        JournalEvent::Invoice(s) => verify_one(s, key),
        JournalEvent::Void(s) => verify_one(s, key),
        JournalEvent::BlankVoid(s) => verify_one(s, key),
    }
}

/// Every disk signature in an answer with whether it verifies with `key` (`None`: no key).
pub(super) fn signatures(
    r: &Response,
    serial: Option<&DeviceSerial>,
    key: Option<&PublicKey>,
) -> Vec<(String, Option<bool>)> {
    let one = |p: &str, v: Option<bool>| vec![(p.to_string(), v)];
    match r {
        Response::Issue(s) => one("signature", verify_one(s, key)),
        Response::Void(s) => one("signature", verify_one(s, key)),
        Response::VoidBlank(s) => one("signature", verify_one(s, key)),
        Response::ReturnRoll(s) => one("signature", verify_one(s, key)),
        Response::ReturnOilStock(s) => one("signature", verify_one(s, key)),
        Response::CopyTax(s) => one("signature", verify_one(s, key)),
        Response::ReadInvoice(v) => one("invoice.signature", verify_one(&v.invoice, key)),
        Response::LastIssued(Some(v)) => one("invoice.signature", verify_one(&v.invoice, key)),
        Response::ReadEvent(v) => one("event.signature", event_sig(&v.event, key)),
        Response::ListPending(evs) => evs
            .iter()
            .enumerate()
            .map(|(n, e)| (format!("[{n}].signature"), event_sig(e, key)))
            .collect(),
        Response::Provision(p) => {
            let v = serial.map(|s| Signed {
                body: ProvisionProof {
                    serial: s.clone(),
                    public_key: p.public_key,
                },
                signature: p.proof,
            });
            let ok = v.and_then(|v| {
                sign::verifying_key(&p.public_key)
                    .ok()
                    .map(|vk| v.verify(&vk).is_ok())
            });
            one("proof", ok)
        }
        _ => Vec::new(),
    }
}

fn json<T: Serialize>(v: &T) -> Value {
    // Plain protocol data (numbers, strings, sequences) always serializes to JSON.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The body of an answer as JSON, for the field-by-field walk.
fn to_json(r: &Response) -> Value {
    match r {
        Response::Ping(v) => json(v),
        Response::GetInfo(v) => json(v),
        Response::Login(v) => json(v),
        Response::ChangePin(v) => json(v),
        Response::Logout(v) => json(v),
        Response::Provision(v) => json(v),
        Response::GetStatus(v) => json(v),
        Response::GetPublicKey(v) => json(&serde_json::json!({ "public_key": json(v) })),
        Response::ApplyUpdate(v) => json(v),
        Response::SetClock(v) => json(v),
        Response::ListRolls(v) => json(v),
        Response::LoadRolls(v) => json(v),
        Response::ReturnRoll(v) => json(v),
        Response::VoidBlank(v) => json(v),
        Response::Issue(v) => json(v),
        Response::Void(v) => json(v),
        Response::ReadInvoice(v) => json(v),
        Response::LastIssued(v) => json(v),
        Response::ListPending(v) => json(v),
        Response::AckUpload(v) => json(v),
        Response::CopyTax(v) => json(v),
        Response::ClearCard(v) => json(v),
        Response::OilStock(v) => json(v),
        Response::LoadOilStock(v) => json(v),
        Response::ReturnOilStock(v) => json(v),
        Response::Unblock(v) => json(v),
        Response::ReadEvent(v) => json(v),
        Response::ApplyReportReceipt(v) => json(v),
    }
}
