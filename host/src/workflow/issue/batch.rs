//! The batch driver of issuing (H8): drafts prepared and recorded part by part, their
//! requests pipelined to the disk, the signed records stored as they come.
//!
//! On a link that keeps several requests in flight (the disk is elsewhere: TCP, or an
//! in-process disk on its own thread) a batch goes in two parts of [`FIRST_PART`] drafts and
//! then parts twice the size of the one before, up to the link's depth ([`part_size`]). A
//! part is prepared (checked, validated, composed) and recorded pending in one commit only
//! when the requests before it are all sent, while the disk signs them, and its requests
//! leave only after that commit (H8). The records signed by then are stored in that same
//! commit ([`stages::store_and_record`]): one commit per part carries both, and the pages
//! they share are written once. Once every request is sent, signed records are stored in
//! halving groups, down to [`TAIL_GROUP`], as the answers come. So the first request leaves
//! after the first part alone is prepared, and the host's work overlaps the disk's signing.
//! One request at a time (in-process on the caller's thread, USB) the batch is one part: one
//! commit before, one after.

use super::stages::{self, Answered, Failed, Prepared, Recorded, Signed, Stored};
use super::{Issued, Seller};
use crate::disk::{DiskError, IssuePipeline};
use crate::invoice::{Draft, Party};
use crate::store::{Action, IssuingContext, Permissions, RedFormId, StoreError, User};
use crate::workflow::Workflow;
use crate::workflow::errors::WorkflowError;
use std::collections::VecDeque;
use taxdisk_protocol::types::{InvoiceKind, RedRef};
use taxdisk_protocol::{Period, WireError};

/// Drafts per part of a batch when the store's work overlaps the disk's signing, at least: a
/// part's preparation and commit take about as long as the disk signs the requests in flight.
/// Over a link that keeps more requests in flight, parts grow to its depth.
const OVERLAP_PART: usize = 16;

/// Drafts in the first two parts of a batch over a pipelining link: few, so the disk has work
/// soon after the call begins, and as many again while it signs them (a part's commit costs
/// about as much as preparing a draft, so a second part smaller than the first would leave the
/// disk waiting). Two rather than four: the first request leaves after two drafts are
/// prepared instead of four, about 40 µs sooner in every call (0.6 % of a call of 64), and the
/// disk still has the second part before it finishes the first. Measured side by side
/// (BENCHMARKS.md "2026-12-07 (o)") the gain is smaller than the run-to-run noise.
const FIRST_PART: usize = 2;

/// Once every request of a batch is sent, signed records are stored in groups as their answers
/// come, while the disk signs the rest, the smallest group this size: only the last group's
/// commit follows the disk's last signature. Timed on the host's side (BENCHMARKS.md
/// "2026-12-07 (l)"), storing the last group after the disk's last answer took 183 µs per call
/// with groups down to 8 and 70 µs down to 2; the two more commits it takes are made while the
/// disk signs.
const TAIL_GROUP: usize = 2;

/// The size of part `k` (from 0) of a batch of `n` drafts on a link keeping `depth` requests
/// in flight. Over a pipelining link [`FIRST_PART`] twice, then each part twice the one
/// before, up to the depth (at least [`OVERLAP_PART`]): a part is prepared while the parts
/// before it are signed, and preparing a draft takes about as long as signing one, so the disk
/// keeps work and the first request leaves early. One request at a time, the batch is one
/// part.
fn part_size(depth: usize, n: usize, k: usize) -> usize {
    if depth > 1 {
        let most = OVERLAP_PART.max(depth);
        // Doubling reaches any depth well within 16 steps.
        (1..k.min(16)).fold(FIRST_PART.min(most), |size, _| (size * 2).min(most))
    } else {
        n.max(1)
    }
}

/// What a batch knows while it runs: the drafts not yet prepared, each stage's queue and the
/// drafts' ends.
struct Run {
    user: User,
    seller: Seller,
    drafts: std::iter::Enumerate<std::vec::IntoIter<Draft>>,
    /// H3: the issuer's permissions, read with the company data when the call began.
    permissions: Permissions,
    /// H5: whether the buyers are saved automatically, read with them.
    auto_save_buyers: bool,
    /// One form, one red invoice (FAQ 7.4): the forms the batch's drafts use so far.
    forms_taken: Vec<RedFormId>,
    /// The period the pending rows are recorded in, read at the first part recorded.
    period: Option<Period>,
    /// Parts prepared so far.
    parts: usize,
    /// No more drafts are prepared (all were, or recording failed).
    prepared_all: bool,
    /// Recorded, waiting for room in the pipeline.
    to_send: VecDeque<Recorded>,
    /// Signed, waiting to be stored.
    signed: Vec<Signed>,
    /// Refused for the offline limits (D9), waiting for an upload.
    offline: Vec<(Recorded, DiskError)>,
    /// Whether a signed invoice moved oil (D11: the stock mirror is refreshed).
    oil_moved: bool,
    /// Stored, each already the [`Issued`] the caller gets but for the upload's outcome and
    /// its buyer's saving, which [`Workflow::finish`] fills in.
    stored: Vec<Done>,
    /// The distinct buyers of the stored (H5: each saved once, at the end).
    buyers: Vec<Party>,
    /// The store failed to store signed records: no further request is sent.
    db_error: Option<StoreError>,
    /// Each draft's end, at its place.
    results: Vec<Option<Result<Issued, WorkflowError>>>,
}

impl Run {
    fn fail(&mut self, f: Failed) {
        self.results[f.at] = Some(Err(f.error));
    }

    /// `ready` and the drafts not prepared yet end unsent: recording failed (the first of
    /// `ready` gets the store's error `e`, if given).
    fn not_sent(&mut self, ready: Vec<Prepared>, mut e: Option<StoreError>) {
        for p in ready {
            self.results[p.at()] = Some(Err(match e.take() {
                Some(e) => e.into(),
                None => not_recorded(),
            }));
        }
        self.not_recorded();
    }

    /// Files the outcomes of storing signed records. A stored one becomes its [`Issued`] at
    /// once: what else was carried for it (the invoice, its request) is freed here, mostly
    /// while the disk signs the rest, rather than all of it after the disk's last answer.
    fn file_stored(&mut self, outcomes: Vec<Result<Stored, Failed>>) {
        for o in outcomes {
            match o {
                Ok(s) => {
                    let buyer = match self.buyers.iter().position(|b| b == s.buyer()) {
                        Some(i) => i,
                        None => {
                            self.buyers.push(s.buyer().clone());
                            self.buyers.len() - 1
                        }
                    };
                    self.stored.push(Done {
                        at: s.at(),
                        buyer,
                        issued: s.into_issued(),
                    });
                }
                Err(f) => self.fail(f),
            }
        }
    }

    /// The drafts not prepared yet end unsent: recording failed before them.
    fn not_recorded(&mut self) {
        self.prepared_all = true;
        for (at, _) in self.drafts.by_ref() {
            self.results[at] = Some(Err(not_recorded()));
        }
    }
}

/// A stored draft: its place in the batch, its buyer (an index into [`Run::buyers`]) and the
/// [`Issued`] it becomes.
struct Done {
    at: usize,
    buyer: usize,
    issued: Issued,
}

fn not_recorded() -> WorkflowError {
    WorkflowError::rule(
        "issue",
        "not recorded pending (an earlier part of the batch failed to record), not sent",
        "H8",
    )
}

impl Workflow {
    /// H8 for many drafts at once (批量开具: a list imported or generated in one go), with the
    /// checks and outcomes of [`Workflow::issue`] for each, answered in the order of `drafts`.
    ///
    /// What a batch shares: the pending rows of the valid drafts are recorded in one
    /// transaction before the disk signs any of them (H8 holds for each; over a link that
    /// pipelines, in parts (2, 2, then each twice the one before up to the link's depth: 32
    /// in process, 64 on TCP), each prepared and committed while the disk signs the parts
    /// before, and before its first request leaves); the requests travel pipelined where the
    /// link allows ([`IssuePipeline`]); the signed records are stored together (over a
    /// pipelined link with the next part's pending rows, and in halving groups once every
    /// request is sent); distinct buyers are saved once (H5); one automatic upload
    /// follows (H11). A draft that fails its checks is not recorded and does not stop the
    /// others; a refusal of the disk abandons that draft's row only; when the disk refuses for
    /// its offline limits (D9) while the bureau is reachable, the waiting events are uploaded
    /// and the refused requests are sent again, as for one invoice. A crash at any point
    /// leaves rows pending under their request ids for repair (H11).
    ///
    /// The outer error stops the whole batch: not logged in, the disk's period unreadable, or
    /// the store failing to store signed records (then no further request is sent, and
    /// invoices the disk signed before stay pending until repair stores them from the journal,
    /// H11). When recording a part fails, that part and the drafts after it end unsent with
    /// the store's error.
    pub fn issue_batch(
        &mut self,
        drafts: Vec<Draft>,
    ) -> Result<Vec<Result<Issued, WorkflowError>>, WorkflowError> {
        let user = self.require_user("issue")?;
        // H1, H3, H5 read from one snapshot, in one read transaction.
        let IssuingContext {
            company,
            permissions,
            auto_save_buyers,
        } = self.store.issuing_context(user.id)?;
        let seller = Seller {
            party: self.seller_of(&company)?,
            banks: (0..company.bank_accounts.len())
                .filter_map(|i| company.bank_account_text(i))
                .collect(),
        };
        let n = drafts.len();
        let mut run = Run {
            user,
            seller,
            drafts: drafts.into_iter().enumerate(),
            permissions,
            auto_save_buyers,
            forms_taken: Vec::new(),
            period: None,
            parts: 0,
            prepared_all: n == 0,
            to_send: VecDeque::new(),
            signed: Vec::new(),
            offline: Vec::new(),
            oil_moved: false,
            stored: Vec::new(),
            buyers: Vec::new(),
            db_error: None,
            results: (0..n).map(|_| None).collect(),
        };
        let depth = self.disk.pipeline_depth();
        self.pipeline(&mut run, depth)?;
        self.offline_again(&mut run, depth)?;
        // What the offline limits still refuse is refused (D9).
        for (r, e) in std::mem::take(&mut run.offline) {
            let f = r.abandon(&mut self.store, run.user.id, e);
            run.fail(f);
        }
        self.store_signed(&mut run)?;
        self.finish(&mut run);
        Ok(run
            .results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(WorkflowError::rule("issue", "draft not issued", "H8")))
            })
            .collect())
    }

    /// Prepares, records and sends the drafts part by part, and takes the answers; the outer
    /// error is a store failing to store signed records (after the requests in flight were
    /// answered) or the disk's period unreadable.
    fn pipeline(&mut self, run: &mut Run, depth: usize) -> Result<(), WorkflowError> {
        let mut pipe: IssuePipeline<Recorded> = IssuePipeline::new(depth);
        let n = run.results.len();
        loop {
            if run.db_error.is_none() {
                if pipe.has_room()
                    && let Some(r) = run.to_send.pop_front()
                {
                    // H8: `r` is recorded pending (committed) before its request leaves.
                    pipe.send_item(&mut self.disk, r);
                    continue;
                }
                if run.to_send.is_empty() && !run.prepared_all {
                    // The disk signs what is in flight meanwhile.
                    self.next_part(run, part_size(depth, n, run.parts))?;
                    continue;
                }
            }
            let Some((r, answer)) = pipe.next_answer(&mut self.disk) else {
                break;
            };
            self.answered(run, r.answered(answer));
            // While parts are to come, what is signed waits for the next part's commit. Once
            // every request is sent, it is stored when it is at least as much as what is still
            // in flight (halves: 16, 8, 4, 2 of 32), so each commit hides behind the signing of
            // the rest and only the last group's follows the disk's last signature. One
            // request at a time, it is stored once at the end.
            let all_sent = run.prepared_all && run.to_send.is_empty();
            if depth > 1
                && all_sent
                && run.db_error.is_none()
                && run.signed.len() >= TAIL_GROUP.max(pipe.in_flight())
                && let Err(e) = self.store_signed(run)
            {
                // The store fails: send no more (what is in flight still answers).
                run.db_error = Some(e);
            }
        }
        match run.db_error.take() {
            // Signed records may be unstored: they stay pending for repair (H11).
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Prepares the next `size` valid drafts and records them pending in one commit (H8).
    fn next_part(&mut self, run: &mut Run, size: usize) -> Result<(), WorkflowError> {
        run.parts += 1;
        let mut ready = Vec::with_capacity(size);
        while ready.len() < size {
            let Some((at, draft)) = run.drafts.next() else {
                run.prepared_all = true;
                break;
            };
            match self.prepare_issue(run, at, draft) {
                Ok(p) => {
                    run.forms_taken.extend(p.form());
                    ready.push(p);
                }
                Err(e) => run.results[at] = Some(Err(e)),
            }
        }
        if ready.is_empty() {
            return Ok(());
        }
        let period = match run.period {
            Some(p) => p,
            // Read before any request of the batch is in flight.
            None => *run.period.insert(self.current_period()?),
        };
        if run.signed.is_empty() {
            self.record(run, period, ready);
            return Ok(());
        }
        // What is signed so far is stored in the same commit that records the part.
        let signed = std::mem::take(&mut run.signed);
        match stages::store_and_record(&mut self.store, signed, run.user.id, period, ready) {
            Ok((stored, recorded)) => {
                run.file_stored(stored);
                run.to_send.extend(recorded);
            }
            Err(not_written) => {
                // Nothing was written: each half again on its own, the signed records first
                // (the outcomes are then those of a batch without the other half).
                let (signed, ready, _) = *not_written;
                run.signed = signed;
                match self.store_signed(run) {
                    Ok(()) => self.record(run, period, ready),
                    Err(e) => {
                        // The batch stops: this part is not recorded, none of it is sent.
                        run.not_sent(ready, None);
                        run.db_error = Some(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Records `ready` pending in one commit (H8); when that fails, it and the drafts not
    /// prepared yet end unsent with the store's error.
    fn record(&mut self, run: &mut Run, period: Period, ready: Vec<Prepared>) {
        match stages::record(&mut self.store, run.user.id, period, ready) {
            Ok(recorded) => run.to_send.extend(recorded),
            Err((ready, e)) => run.not_sent(ready, Some(e)),
        }
    }

    /// Files one answer where its stage goes.
    fn answered(&mut self, run: &mut Run, a: Answered) {
        match a {
            Answered::Signed(s) => {
                run.oil_moved |= s.moved_oil();
                run.signed.push(s);
            }
            Answered::OfflineLimit(r, e) => run.offline.push((r, e)),
            Answered::Refused(r, e) => {
                if e.wire_error()
                    .is_some_and(|w| matches!(w, WireError::PeriodNotReported | WireError::Locked))
                {
                    // The disk's period moved on: read it afresh for the next attempt.
                    self.info = None;
                }
                let f = r.abandon(&mut self.store, run.user.id, e);
                run.fail(f);
            }
            Answered::Unknown(f) => run.fail(f),
        }
    }

    /// D9: the offline limits were reached while the bureau is back: the upload releases
    /// them; the disk signed none of the refused, so the same requests go again.
    fn offline_again(&mut self, run: &mut Run, depth: usize) -> Result<(), WorkflowError> {
        while !run.offline.is_empty()
            && self.auto_upload
            && self.bureau.is_some()
            && self.upload().is_ok_and(|r| r.acknowledged > 0)
        {
            let mut again: VecDeque<Recorded> = run.offline.drain(..).map(|(r, _)| r).collect();
            let mut pipe: IssuePipeline<Recorded> = IssuePipeline::new(depth);
            loop {
                while pipe.has_room()
                    && let Some(r) = again.pop_front()
                {
                    pipe.send_item(&mut self.disk, r);
                }
                let Some((r, answer)) = pipe.next_answer(&mut self.disk) else {
                    break;
                };
                self.answered(run, r.answered(answer));
            }
        }
        Ok(())
    }

    /// Stores what is signed in one commit (H8).
    fn store_signed(&mut self, run: &mut Run) -> Result<(), StoreError> {
        let signed = std::mem::take(&mut run.signed);
        let outcomes = stages::store(&mut self.store, signed)?;
        run.file_stored(outcomes);
        Ok(())
    }

    /// After the stores: the oil mirror, the buyers (H5) and the automatic upload (H11); each
    /// stored draft becomes its [`Issued`].
    fn finish(&mut self, run: &mut Run) {
        let stored = std::mem::take(&mut run.stored);
        if stored.is_empty() {
            return;
        }
        if run.oil_moved {
            // The mirror is for display (H15); the invoices are issued and stored either way,
            // so a failed refresh is not the issue's failure (the next status refreshes it).
            if let Ok(stock) = self.disk.oil_stock() {
                let _ = self.store.set_oil_stock(&stock);
            }
        }
        // H5 (FAQ 3.2): each distinct buyer saved once; a buyer that does not save (no name,
        // ...) never fails the issue.
        let saved: Vec<bool> = std::mem::take(&mut run.buyers)
            .iter()
            .map(|b| run.auto_save_buyers && self.store.save_buyer(run.user.id, b, None).is_ok())
            .collect();
        let mut note = None;
        let through = self.auto_upload(&mut note);
        for Done {
            at,
            buyer,
            mut issued,
        } in stored
        {
            issued.uploaded = through.is_some_and(|t| t >= issued.counter);
            issued.upload_note = note.clone();
            issued.buyer_saved = saved.get(buyer).copied().unwrap_or(false);
            run.results[at] = Some(Ok(issued));
        }
    }

    /// H3, H10, H7 for one draft of a batch: permission, red form (not one another draft of
    /// the batch uses: one form, one red invoice, FAQ 7.4), used-car reversal, validation; then
    /// its request id and request.
    fn prepare_issue(
        &mut self,
        run: &mut Run,
        at: usize,
        mut draft: Draft,
    ) -> Result<Prepared, WorkflowError> {
        run.seller.take_over(&mut draft, &run.user)?;
        let kind = draft.kind();
        let action = if draft.is_red() {
            Action::Red
        } else {
            Action::Issue
        };
        run.permissions.require(kind, action)?;
        let form = self.red_form_for(&draft)?;
        if let Some(f) = form
            && run.forms_taken.contains(&f)
        {
            return Err(WorkflowError::rule(
                "red special invoice",
                "another invoice of this batch uses the same info form; one form gives one red invoice",
                "H10, FAQ 7.4",
            ));
        }
        if kind == InvoiceKind::UsedCar
            && let Some(RedRef::Original { code, number }) = &draft.red
        {
            self.check_used_car_full_reversal(&draft, code, *number)?;
        }
        let invoice = draft.validate()?;
        let request = invoice.issue_request(crate::disk::new_request_id());
        Ok(Prepared::new(at, invoice, form, request))
    }
}

#[cfg(test)]
mod tests {
    use super::part_size;

    #[test]
    fn parts_double_from_two_to_the_depth_over_a_pipelining_link_and_are_one_otherwise() {
        let sizes = |depth, n| (0..7).map(|k| part_size(depth, n, k)).collect::<Vec<_>>();
        assert_eq!(sizes(32, 64), [2, 2, 4, 8, 16, 32, 32]);
        assert_eq!(sizes(64, 64), [2, 2, 4, 8, 16, 32, 64]);
        assert_eq!(sizes(8, 64), [2, 2, 4, 8, 16, 16, 16]);
        assert_eq!(sizes(1, 45), [45; 7]);
        assert_eq!(part_size(1, 0, 0), 1);
        assert_eq!(part_size(32, 64, usize::MAX), 32);
    }
}
