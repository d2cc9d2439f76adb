//! Errors. [`WireError`] is what a disk answers instead of a result: one `#[repr(u16)]` enum with
//! fixed codes, grouped by the hundreds digit, each naming the rule that refused (RULES.md ids).
//! [`DecodeError`] is local: what went wrong turning received bytes into a frame.

use core::fmt;

macro_rules! wire_errors {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $rule:literal, $text:literal; )*) => {
        /// An error a disk answers on the wire. Codes are stable: never renumber, only add.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        #[non_exhaustive]
        pub enum WireError {
            $( $(#[$doc])* $name = $code, )*
        }

        impl WireError {
            /// Every error, in code order.
            pub const ALL: &'static [WireError] = &[$(WireError::$name,)*];

            /// The error with this code, if any.
            pub const fn from_code(code: u16) -> Option<WireError> {
                match code {
                    $( $code => Some(WireError::$name), )*
                    _ => None,
                }
            }

            /// The stable numeric code.
            pub const fn code(self) -> u16 {
                self as u16
            }

            /// The RULES.md id(s) that make the disk answer this, or `"wire"` for protocol errors.
            pub const fn rule(self) -> &'static str {
                match self { $( WireError::$name => $rule, )* }
            }

            /// The variant name, e.g. `"NotLoggedIn"`.
            pub const fn name(self) -> &'static str {
                match self { $( WireError::$name => stringify!($name), )* }
            }

            /// One line saying what happened.
            pub const fn message(self) -> &'static str {
                match self { $( WireError::$name => $text, )* }
            }
        }
    };
}

wire_errors! {
    /// The payload did not decode as the command's request type.
    Malformed = 0x0001, "wire", "request payload could not be decoded";
    /// The command id is not in the table.
    UnknownCommand = 0x0002, "wire", "unknown command";
    /// The frame's protocol version is not supported.
    UnsupportedVersion = 0x0003, "wire", "unsupported protocol version";
    /// Another host session holds the disk.
    Busy = 0x0004, "D14", "the disk is in use by another session";
    /// The flash failed or holds inconsistent data.
    StorageFault = 0x0005, "D13", "flash storage fault";
    /// The journal is full and nothing can be reclaimed.
    StorageFull = 0x0006, "D13", "journal full: upload and clear the card to free space";
    /// A request value is out of its range (count 0, list too long, ...).
    BadArgument = 0x0007, "wire", "argument out of range";

    /// The disk is in factory state.
    NotProvisioned = 0x0100, "D1", "the disk is not provisioned";
    /// Provisioning a provisioned disk.
    AlreadyProvisioned = 0x0101, "D1", "the disk is already provisioned";
    /// The command needs a login.
    NotLoggedIn = 0x0102, "D2", "not logged in";
    /// Wrong PIN; the answer's detail is the tries left.
    WrongPin = 0x0103, "D2", "wrong PIN";
    /// The PIN is blocked until a bureau unblock token.
    PinBlocked = 0x0104, "D2", "PIN blocked: an unblock token from the bureau is needed";

    /// A token's signature does not verify with the bureau key.
    BadSignature = 0x0200, "D10", "token signature invalid";
    /// A token for another disk.
    WrongDevice = 0x0201, "D10", "token is for another disk";
    /// A token already applied (its sequence number is not newer).
    Replayed = 0x0202, "D10", "token already used";
    /// A receipt names events the disk does not hold.
    UnknownEvents = 0x0203, "D12", "receipt names events the disk does not hold";

    /// The clock is earlier than the newest journal entry.
    ClockError = 0x0300, "D3", "disk clock is earlier than the newest invoice";

    /// No blank number of the kind is left.
    NoBlankNumber = 0x0400, "D4", "no blank invoice number left";
    /// The roll named does not exist or has nothing to return.
    RollNotFound = 0x0401, "D4", "roll not found";
    /// The grant's range overlaps a roll the disk holds.
    RollOverlap = 0x0402, "D4", "roll overlaps a loaded roll";
    /// Returning a roll from the first day of a month until the bureau's receipt of the last
    /// month's summary is read into the disk (FAQ 4.21(4)).
    ReturnBeforeReport = 0x0403, "D4", "the tax bureau has not received the last month's summary (FAQ 4.21(4)): report it before returning rolls";
    /// The disk's roll table is full.
    TooManyRolls = 0x0404, "D4", "too many rolls loaded";
    /// The roll's code does not fit its kind (F2).
    BadRollCode = 0x0405, "F2", "roll code does not fit its kind";

    /// The kind is not authorized.
    KindNotAuthorized = 0x0500, "D5", "invoice kind not authorized";
    /// Tax-excluded amount above the single-invoice limit.
    OverSingleLimit = 0x0501, "D5", "amount over the single-invoice limit";
    /// Amount plus tax is zero.
    ZeroTotal = 0x0502, "D5", "amount plus tax is zero";
    /// Past the lock time without a clear card.
    Locked = 0x0503, "D8", "the disk is locked: report and clear the card";
    /// A new month began and the last period is not reported.
    PeriodNotReported = 0x0504, "D5", "a new month began: report the last period first";
    /// Oldest not-uploaded invoice older than the offline hours.
    OfflineHoursExceeded = 0x0505, "D9", "offline time limit reached: upload invoices";
    /// Not-uploaded positive amounts over the offline amount.
    OfflineAmountExceeded = 0x0506, "D9", "offline amount limit reached: upload invoices";
    /// Invoices of the last period not uploaded after the upload deadline.
    UploadDeadlinePassed = 0x0507, "D9", "upload deadline passed with invoices not uploaded";
    /// Not enough oil stock of the category.
    OilStockShort = 0x0508, "D11", "oil stock short";
    /// The original of a red invoice is not on the disk.
    OriginalNotFound = 0x0509, "D6", "original invoice not found";
    /// The original of a red invoice was voided.
    OriginalVoided = 0x050A, "D6", "original invoice is voided";
    /// The reversal does not fit the original (kind, sign, amount).
    ReversalNotAllowed = 0x050B, "D6", "this red invoice cannot reverse that original";
    /// A red invoice must have negative amounts and name what it reverses; a blue one positive.
    SignMismatch = 0x050C, "D6", "amount sign does not match blue/red";
    /// The request id was used for a different invoice.
    RequestIdConflict = 0x050D, "D5", "request id already used for another invoice";
    /// Not authorized for oil invoices, or the authorization expired.
    OilNotAuthorized = 0x050E, "D11", "not authorized for refined-oil invoices";

    /// The invoice is not on the disk.
    InvoiceNotFound = 0x0600, "D7", "invoice not found";
    /// Only invoices of the current period can be voided.
    NotCurrentPeriod = 0x0601, "D7", "only invoices of the current period can be voided";
    /// The invoice's period is already reported.
    AlreadyReported = 0x0602, "D7", "the period is already reported";
    /// The invoice is already voided.
    AlreadyVoided = 0x0603, "D7", "invoice already voided";
    /// Electronic invoices are reversed with red, not voided.
    VoidNotAllowed = 0x0604, "D7", "electronic invoices cannot be voided: issue a red one";
    /// Oil special invoices cannot be voided.
    OilSpecialNoVoid = 0x0605, "D7", "refined-oil special invoices cannot be voided";

    /// Copy-tax of a period that has not ended.
    PeriodNotFinished = 0x0700, "D8", "the period has not ended";
    /// Copy-tax of a period the disk has nothing for, or out of order.
    PeriodNotCopyable = 0x0701, "D8", "that period cannot be copied now";
    /// A clear-card token for a period whose summary was not copied.
    NotCopied = 0x0702, "D8", "copy tax before clearing the card";
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (0x{:04X}, {})",
            self.message(),
            self.code(),
            self.rule()
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for WireError {}

/// What went wrong decoding received bytes. Local: never sent on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The COBS encoding is invalid.
    Cobs,
    /// The frame is shorter than a header and a CRC.
    Truncated,
    /// The frame is longer than [`crate::frame::MAX_FRAME`].
    Oversize,
    /// The CRC-32 does not match.
    Crc,
    /// The header's version is not [`crate::frame::VERSION`].
    Version(u8),
    /// The header's frame type byte is unknown.
    FrameType(u8),
    /// The command id is not in the table.
    UnknownCommand(u16),
    /// An error response with a code not in [`WireError`].
    UnknownError(u16),
    /// The payload did not decode as the command's type.
    Payload,
    /// Encoding did not fit the buffer.
    BufferFull,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Cobs => f.write_str("frame: invalid COBS encoding"),
            DecodeError::Truncated => f.write_str("frame: truncated"),
            DecodeError::Oversize => f.write_str("frame: larger than the maximum frame size"),
            DecodeError::Crc => f.write_str("frame: CRC mismatch"),
            DecodeError::Version(v) => write!(f, "frame: unsupported version {v}"),
            DecodeError::FrameType(t) => write!(f, "frame: unknown frame type {t}"),
            DecodeError::UnknownCommand(c) => write!(f, "frame: unknown command id {c}"),
            DecodeError::UnknownError(c) => write!(f, "frame: unknown error code 0x{c:04X}"),
            DecodeError::Payload => f.write_str("frame: payload does not decode"),
            DecodeError::BufferFull => f.write_str("frame: buffer too small"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, e) in WireError::ALL.iter().enumerate() {
            assert_eq!(WireError::from_code(e.code()), Some(*e));
            for o in &WireError::ALL[i + 1..] {
                assert_ne!(e.code(), o.code());
            }
        }
        assert_eq!(WireError::from_code(0), None);
        assert_eq!(WireError::Busy.code(), 0x0004);
        assert_eq!(WireError::Busy.rule(), "D14");
    }
}
