//! THE command table: every request with its response type and a stable numeric id. One macro
//! invocation generates [`CommandId`], [`Request`], [`Response`] and the [`Command`] type of each
//! ([`cmd`]) so they cannot drift apart.
//!
//! On the wire the id travels in the frame header ([`crate::frame`]) and the payload is the
//! postcard encoding of the request or response body, so reordering this table never changes
//! the bytes; ids are never reused.

use crate::error::DecodeError;
use crate::time::Period;
use crate::types::*;
use heapless::Vec;
use serde::{Deserialize, Serialize};

/// Most rolls a ListRolls answer carries; page with [`ListRolls::skip`].
pub const ROLLS_PER_PAGE: usize = 8;
/// Most events a ListPending answer carries; page with [`ListPending::after_counter`].
pub const EVENTS_PER_PAGE: usize = 4;
/// Most oil categories a disk holds stock of.
pub const MAX_OIL_CATEGORIES: usize = 8;

/// Body of [`Request::ChangePin`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePin {
    /// The host's idempotency key: the same id sent again after the PIN changed (its answer
    /// lost, the disk's power cut) answers done instead of counting the old PIN as wrong (D2).
    pub request_id: RequestId,
    /// The PIN now.
    pub old: Pin,
    /// The PIN after.
    pub new: Pin,
}

/// Body of [`Request::ListRolls`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRolls {
    /// Only rolls of this kind, or all.
    pub kind: Option<InvoiceKind>,
    /// Rolls to skip (paging).
    pub skip: u8,
}

/// Body of [`Request::ReturnRoll`]: return the unused rest of a roll (D4).
///
/// The disk keeps its last return receipt with the request id in the same state write that
/// returns the numbers, so a resend with the same id (after a lost answer or a power cut)
/// answers that receipt instead of `RollNotFound`: the receipt the bureau needs is never lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRoll {
    /// Idempotency key chosen by the host (random).
    pub request_id: RequestId,
    /// Kind.
    pub kind: InvoiceKind,
    /// Roll code.
    pub code: InvoiceCode,
    /// First number of the roll.
    pub first: InvoiceNumber,
}

/// Body of [`Request::ReturnOilStock`]: return oil stock to the bureau (D11).
///
/// As for [`ReturnRoll`], the disk keeps its last return receipt with the request id: a resend
/// answers it and returns nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnOil {
    /// Idempotency key chosen by the host (random).
    pub request_id: RequestId,
    /// Category, unit and quantity to return.
    pub stock: OilStockEntry,
}

/// Body of [`Request::VoidBlank`]: void the next `count` blank numbers of the oldest roll of a
/// kind (D7).
///
/// The request id makes the void happen once however often it is sent: the disk keeps it with
/// the event in its journal, so a resend after a lost answer, a power cut or a host restart
/// gets the stored event back instead of voiding the next numbers too (D7, D13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidBlank {
    /// Idempotency key chosen by the host (random); the same key always gets the same event.
    pub request_id: RequestId,
    /// Kind of stock.
    pub kind: InvoiceKind,
    /// How many numbers, 1..=the numbers left in that roll.
    pub count: u32,
}

/// Body of [`Request::Issue`] (D5, D6, D11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRequest {
    /// Idempotency key chosen by the host; a retry with the same key gets the stored answer.
    pub request_id: RequestId,
    /// Kind.
    pub kind: InvoiceKind,
    /// Variant (normal kind only).
    pub variant: Variant,
    /// Buyer taxpayer id, where there is one.
    pub buyer: Option<TaxpayerId>,
    /// Tax-excluded total in fen; negative for red.
    pub amount: Fen,
    /// Tax total in fen; negative for red.
    pub tax: Fen,
    /// SM3 digest of the host's canonical content (lines, parties, remarks).
    pub content_digest: Digest,
    /// For red invoices, what is reversed.
    pub red: Option<RedRef>,
    /// For oil invoices, the oil moved.
    pub oil: Option<OilUse>,
}

/// Body of [`Request::Void`]: void one issued invoice (D7), once.
///
/// As for [`VoidBlank`], the request id is kept with the void event in the journal: a resend
/// after a lost answer or a power cut answers the stored event, not `AlreadyVoided`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidRequest {
    /// Idempotency key chosen by the host (random); the same key always gets the same event.
    pub request_id: RequestId,
    /// The invoice to void.
    pub invoice: InvoiceRef,
}

/// Names one issued invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRef {
    /// Kind.
    pub kind: InvoiceKind,
    /// Code.
    pub code: InvoiceCode,
    /// Number.
    pub number: InvoiceNumber,
}

/// Body of [`Request::ListPending`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPending {
    /// Only events with a counter greater than this.
    pub after_counter: u64,
    /// At most this many (capped at [`EVENTS_PER_PAGE`]).
    pub max: u8,
}

macro_rules! command_table {
    ($(
        $(#[$doc:meta])*
        $id:literal => $name:ident ( $req:ty ) -> $resp:ty ;
    )*) => {
        /// The stable numeric id of each command.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum CommandId {
            $( $(#[$doc])* $name = $id, )*
        }

        impl CommandId {
            /// Every command, in id order.
            pub const ALL: &'static [CommandId] = &[$(CommandId::$name,)*];

            /// The command with this id.
            pub const fn from_u16(v: u16) -> Option<CommandId> {
                match v {
                    $( $id => Some(CommandId::$name), )*
                    _ => None,
                }
            }

            /// The command's name, e.g. `"Issue"`.
            pub const fn name(self) -> &'static str {
                match self { $( CommandId::$name => stringify!($name), )* }
            }
        }

        /// A request to the disk: one variant per command, holding its body. `Serialize` gives
        /// it a self-describing form (`{"Issue": {...}}` in JSON) for traces and tests; the
        /// wire carries only the body ([`Request::encode_payload`]).
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        #[allow(clippy::large_enum_variant)]
        pub enum Request {
            $( $(#[$doc])* $name($req), )*
        }

        /// A successful answer of the disk: one variant per command, holding its body
        /// (`Serialize` as for [`Request`]).
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        #[allow(clippy::large_enum_variant)]
        pub enum Response {
            $( #[doc = concat!("Answer to [`Request::", stringify!($name), "`].")] $name($resp), )*
        }

        impl Request {
            /// The command id.
            pub const fn id(&self) -> CommandId {
                match self { $( Request::$name(_) => CommandId::$name, )* }
            }

            /// Writes the postcard payload into `buf`, returning the bytes used.
            pub fn encode_payload<'a>(&self, buf: &'a mut [u8]) -> Result<&'a mut [u8], DecodeError> {
                match self {
                    $( Request::$name(b) => postcard::to_slice(b, buf).map_err(|_| DecodeError::BufferFull), )*
                }
            }

            /// Decodes the payload of command `id`; trailing bytes are refused.
            pub fn decode_payload(id: CommandId, bytes: &[u8]) -> Result<Request, DecodeError> {
                match id {
                    $( CommandId::$name => Ok(Request::$name(decode_exact::<$req>(bytes)?)), )*
                }
            }
        }

        impl Response {
            /// The command id.
            pub const fn id(&self) -> CommandId {
                match self { $( Response::$name(_) => CommandId::$name, )* }
            }

            /// Writes the postcard payload into `buf`, returning the bytes used.
            pub fn encode_payload<'a>(&self, buf: &'a mut [u8]) -> Result<&'a mut [u8], DecodeError> {
                match self {
                    $( Response::$name(b) => postcard::to_slice(b, buf).map_err(|_| DecodeError::BufferFull), )*
                }
            }

            /// Decodes the payload of command `id`; trailing bytes are refused.
            pub fn decode_payload(id: CommandId, bytes: &[u8]) -> Result<Response, DecodeError> {
                match id {
                    $( CommandId::$name => Ok(Response::$name(decode_exact::<$resp>(bytes)?)), )*
                }
            }
        }

        /// One type per command of the table, each implementing [`Command`]: what ties a
        /// request to the reply it is answered with, so a client has one generic call
        /// instead of an arm per command (trussed's `RequestVariant { type Reply }`).
        pub mod cmd {
            // For the table's doc links (`Request::...`) on the command types.
            #[allow(unused_imports)]
            use super::*;

            $(
                $(#[$doc])*
                #[derive(Clone, Copy, Debug, PartialEq, Eq)]
                pub struct $name;
            )*
        }

        $(
            impl Command for cmd::$name {
                const ID: CommandId = CommandId::$name;
                type Body = $req;
                type Reply = $resp;

                fn request(body: $req) -> Request {
                    Request::$name(body)
                }

                #[allow(clippy::result_large_err)]
                fn reply(response: Response) -> Result<$resp, Response> {
                    match response {
                        Response::$name(v) => Ok(v),
                        other => Err(other),
                    }
                }
            }
        )*
    };
}

/// A command of the table as a type ([`cmd`]): its id, the body of its request and the body
/// of the reply the disk answers it with.
pub trait Command {
    /// The command's id.
    const ID: CommandId;
    /// The body of its request.
    type Body;
    /// The body of its successful reply.
    type Reply;

    /// The request carrying `body`.
    fn request(body: Self::Body) -> Request;

    /// The reply's body when `response` answers this command, else `response` back (whole,
    /// so the caller can say what it answered; it was that large already).
    #[allow(clippy::result_large_err)]
    fn reply(response: Response) -> Result<Self::Reply, Response>;
}

fn decode_exact<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (v, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|_| DecodeError::Payload)?;
    if rest.is_empty() {
        Ok(v)
    } else {
        Err(DecodeError::Payload)
    }
}

command_table! {
    /// Liveness check; echoes the nonce. Needs no login and no provisioning.
    1 => Ping(u32) -> u32;
    /// Identity, clock and period state (H14). Needs no login.
    2 => GetInfo(()) -> DiskInfo;
    /// Opens the host session with the device PIN (D2, D14). A wrong PIN answers
    /// `WrongPin` with the tries left in the detail; at 0 tries the disk is `Blocked`.
    3 => Login(Pin) -> ();
    /// Changes the PIN; needs the old one (D2).
    4 => ChangePin(ChangePin) -> ();
    /// Closes the host session (D14).
    5 => Logout(()) -> ();
    /// Initial provisioning (初始发行) from a bureau token bound to this serial; generates the
    /// key pair inside the disk (D1). Factory state only.
    6 => Provision(Signed<ProvisionToken>) -> ProvisionResult;
    /// Limits, authorization and offline state of one kind (D9, H14).
    7 => GetStatus(InvoiceKind) -> KindStatus;
    /// The disk's SM2 public key (D1).
    8 => GetPublicKey(()) -> PublicKey;
    /// Applies a bureau update token: limits, authorizations, oil and used-car roles, company
    /// name, taxpayer id (D10).
    9 => ApplyUpdate(Signed<UpdateToken>) -> ();
    /// Sets the disk clock from a bureau clock token; the host cannot set it otherwise (D3).
    10 => SetClock(Signed<ClockToken>) -> ();
    /// Lists loaded rolls, oldest first (D4, H13).
    11 => ListRolls(ListRolls) -> Vec<Roll, ROLLS_PER_PAGE>;
    /// Loads a roll from a bureau grant bound to this serial, each grant once (D4).
    12 => LoadRolls(Signed<RollGrant>) -> Roll;
    /// Returns the unused rest of a roll with a device-signed receipt; refused when locked and
    /// from the first day of a month until the bureau's receipt of the last month's summary
    /// is read into the disk ([`Request::ApplyReportReceipt`], D4, FAQ 4.21(4)).
    13 => ReturnRoll(ReturnRoll) -> Signed<RollReturnReceipt>;
    /// Voids the next blank numbers of the oldest roll of a kind (D7); a resend with the same
    /// request id answers the stored event.
    14 => VoidBlank(VoidBlank) -> Signed<BlankVoidEvent>;
    /// Issues an invoice: checks every D5 refusal, takes the next number, stamps time and
    /// counter, signs with SM2 and makes the record durable before answering (D5, D6, D9, D11).
    15 => Issue(IssueRequest) -> Signed<IssuedInvoice>;
    /// Voids an issued invoice of the current, unreported period (D7); a resend with the same
    /// request id answers the stored event.
    16 => Void(VoidRequest) -> Signed<VoidEvent>;
    /// Reads an issued invoice with its void and upload status.
    17 => ReadInvoice(InvoiceRef) -> InvoiceView;
    /// The newest issued invoice, of one kind or of any (for host repair, H11).
    18 => LastIssued(Option<InvoiceKind>) -> Option<InvoiceView>;
    /// Journal events not yet acknowledged, in counter order (D12).
    19 => ListPending(ListPending) -> Vec<JournalEvent, EVENTS_PER_PAGE>;
    /// Marks events uploaded from a bureau-signed receipt; answers how many were newly marked
    /// (D12).
    20 => AckUpload(Signed<UploadReceipt>) -> u32;
    /// Copy-tax (抄税) of a finished period: the signed summary. Repeating it answers the same
    /// summary (D8).
    21 => CopyTax(Period) -> Signed<PeriodSummary>;
    /// Clear card (清卡) from a bureau token: next lock time, upload deadline, new limits (D8).
    22 => ClearCard(Signed<ClearCardToken>) -> ();
    /// Oil stock per category (D11).
    23 => OilStock(()) -> Vec<OilStockEntry, MAX_OIL_CATEGORIES>;
    /// Adds oil stock from a bureau grant (D11).
    24 => LoadOilStock(Signed<OilGrant>) -> OilStockEntry;
    /// Returns oil stock with a device-signed receipt (D11).
    25 => ReturnOilStock(ReturnOil) -> Signed<OilReturnReceipt>;
    /// Unblocks a PIN-blocked disk from a bureau token and sets a new PIN (D2).
    26 => Unblock(Signed<UnblockToken>) -> ();
    /// Reads one journal event by counter, with its upload status (H11 repair).
    27 => ReadEvent(u64) -> EventView;
    /// Reads the bureau's receipt of a period's summary into the disk (报税成功标志, D4, FAQ
    /// 4.21(4)): bureau-signed, bound to this serial, for a copied period newer than the
    /// newest reported one (else `Replayed`). A roll return waits for it.
    28 => ApplyReportReceipt(Signed<ReportReceipt>) -> ();
}

impl CommandId {
    /// Whether the command is answered without a logged-in session (D2). Everything else
    /// answers `NotLoggedIn` first.
    pub const fn needs_login(self) -> bool {
        !matches!(
            self,
            CommandId::Ping
                | CommandId::GetInfo
                | CommandId::Login
                | CommandId::Provision
                | CommandId::GetPublicKey
                | CommandId::Unblock
        )
    }
}
