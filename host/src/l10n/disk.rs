//! [`DiskError`] and the bureau client's [`BureauError`].

use crate::bureau_client::BureauError;
use crate::disk::DiskError;
use crate::transport::TransportError;
use taxdisk_i18n::{Localize, command_name, phrase, t, wire_line};
use taxdisk_protocol::WireError;

fn detail(error: WireError, detail: u32) -> String {
    match (error, detail) {
        (WireError::WrongPin, n) => t!("disk-detail-tries", n = n),
        (WireError::StorageFault, n) => t!("disk-detail-storage", n = n),
        (_, 0) => String::new(),
        (_, n) => t!("disk-detail-other", n = n),
    }
}

impl Localize for DiskError {
    fn localized(&self) -> String {
        match self {
            DiskError::Refused {
                command,
                error,
                detail: d,
                ..
            } => t!(
                "disk-refused",
                command = command_name(command.name()),
                error = wire_line(*error),
                detail = detail(*error, *d)
            ),
            DiskError::Busy { command } => t!("disk-busy", command = command_name(command.name())),
            DiskError::Timeout {
                command,
                attempts,
                timeout,
                link,
            } => t!(
                "disk-timeout",
                link = link,
                command = command_name(command.name()),
                attempts = attempts,
                ms = timeout.as_millis()
            ),
            DiskError::Corrupted {
                command,
                attempts,
                last,
            } => t!(
                "disk-corrupted",
                command = command_name(command.name()),
                attempts = attempts,
                last = last
            ),
            DiskError::Transport(e) => t!("disk-transport", error = e.localized()),
            DiskError::Encode { command, error } => t!(
                "disk-encode",
                command = command_name(command.name()),
                error = error
            ),
            DiskError::Protocol { command, what } => t!(
                "disk-protocol",
                command = command_name(command.name()),
                what = what
            ),
        }
    }
}

impl Localize for BureauError {
    fn localized(&self) -> String {
        match self {
            BureauError::BadUrl(url) => t!("bureau-client-bad-url", url = format!("{url:?}")),
            BureauError::Unreachable { url, reason } => {
                t!("bureau-client-unreachable", url = url, reason = reason)
            }
            BureauError::Timeout { url, path, timeout } => t!(
                "bureau-client-timeout",
                url = url,
                path = path,
                secs = timeout.as_secs_f32()
            ),
            BureauError::Api { path, error, .. } => t!(
                "bureau-client-refused",
                path = path,
                message = taxdisk_i18n::bureau_message(&error.code, &error.message),
                code = error.code,
                rule = error.rule
            ),
            BureauError::Http {
                url,
                path,
                status,
                snippet,
            } => t!(
                "bureau-client-http",
                url = url,
                path = path,
                status = status,
                snippet = snippet
            ),
            BureauError::NeedsTaxOffice { path, error } => t!(
                "bureau-client-needs-office",
                path = path,
                code = error.code,
                rule = error.rule
            ),
            BureauError::BadAnswer { path, reason } => {
                t!("bureau-client-bad-answer", path = path, reason = reason)
            }
        }
    }
}

/// The link's failure: the frame in the process's language, the system's or the USB stack's
/// own words (an `io::Error`, a libusb error) inside it as they are.
impl Localize for TransportError {
    fn localized(&self) -> String {
        match self {
            TransportError::NoDevice(m) => super::known::reason(m),
            TransportError::Timeout(d) => t!("transport-timeout", ms = d.as_millis()),
            TransportError::Disconnected(m) => t!("transport-disconnected", reason = phrase(m)),
            TransportError::BadFrame(e) => t!("transport-bad-frame", error = e),
            TransportError::Oversize(n) => t!(
                "transport-oversize",
                bytes = n,
                max = taxdisk_protocol::frame::MAX_ENCODED
            ),
            TransportError::Io { context, source } => {
                t!("transport-io", context = phrase(context), error = source)
            }
            TransportError::Usb(m) => t!("transport-usb", error = m),
        }
    }
}
