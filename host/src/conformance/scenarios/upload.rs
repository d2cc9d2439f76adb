//! D12: reading pending events and acknowledging uploads.

use super::context::{AUTHORIZED, Ctx, MAX_SUITE_EVENTS, Step, Stop, check, forge, refused};
use crate::conformance::findings as f;
use taxdisk_protocol::WireError;
use taxdisk_protocol::types::*;

pub(super) fn d12_upload(x: &mut Ctx<'_>) -> Step {
    x.need_ours()?;
    x.tokens()?;
    x.login()?;
    let counter = x.c.info()?.counter;
    check!(counter > x.acked, "nothing to upload (counter {counter})");
    check!(
        counter <= MAX_SUITE_EVENTS,
        "the disk reports counter {counter}; this run made far fewer events"
    );
    let pending = x.c.list_pending()?;
    let counters: Vec<u64> = pending.iter().map(JournalEvent::counter).collect();
    let want: Vec<u64> = (x.acked + 1..=counter).collect();
    check!(
        counters == want,
        "{}",
        f::PENDING.say(&[&f::counters(&counters), &f::counters(&want)])
    );
    for e in &pending {
        match e {
            JournalEvent::Invoice(s) => x.verify(s, "pending invoice")?,
            JournalEvent::Void(s) => x.verify(s, "pending void")?,
            JournalEvent::BlankVoid(s) => x.verify(s, "pending blank void")?,
        }
        let v = x.c.read_event(e.counter())?;
        let (got_kind, got_numbers, got_counter) = f::event(&v.event);
        let (kind, numbers, at) = f::event(e);
        check!(
            &v.event == e && !v.uploaded,
            "{}",
            f::READ_EVENT.say(&[
                &e.counter(),
                &got_kind,
                &got_numbers,
                &got_counter,
                &f::yes(v.uploaded),
                &kind,
                &numbers,
                &at,
            ])
        );
    }
    let r = x.receipt(counter.saturating_add(1))?;
    refused(
        x.c.ack_upload(r),
        WireError::UnknownEvents,
        "a receipt beyond the newest event",
    )?;
    let r = x.receipt(counter)?;
    refused(
        x.c.ack_upload(forge(&r)),
        WireError::BadSignature,
        "a forged receipt",
    )?;
    let n = x.c.ack_upload(r.clone())?;
    check!(
        n as u64 == counter - x.acked,
        "AckUpload marked {n}, expected {}",
        counter - x.acked
    );
    x.acked = counter;
    check!(
        x.c.list_pending()?.is_empty(),
        "events still pending after the receipt"
    );
    for k in AUTHORIZED {
        let s = x.c.status(k)?;
        check!(
            s.pending_count == 0 && s.oldest_pending.is_none() && s.pending_amount == Fen(0),
            "{}",
            f::UPLOAD_STATUS.say(&[
                &k.name(),
                &s.pending_count,
                &f::time(s.oldest_pending),
                &s.pending_amount,
            ])
        );
    }
    check!(
        x.c.read_event(counter)?.uploaded,
        "ReadEvent does not show the upload"
    );
    check!(
        x.c.ack_upload(r)? == 0,
        "a repeated receipt marked events again"
    );
    Ok(())
}
