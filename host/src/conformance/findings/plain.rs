//! The suite's plain findings: checks that quote no record (a counter, a state, a text the
//! disk answered), matched by their English text as the scenarios write it, with their
//! catalogue keys (`suite-plain-*`). The scenarios' code is not touched: a finding's text
//! here is its `format!` string with each value as `{}`.

use super::Finding;

/// Every plain finding, for [`crate::l10n::known::reason`] and the tests.
pub const PLAIN: &[Finding] = &[
    Finding {
        text: "the clock read {} then {} after 60 s",
        key: "suite-plain-the-clock-read-then-after-60-s",
    },
    Finding {
        text: "the clock went back from {} to {}",
        key: "suite-plain-the-clock-went-back-from-to",
    },
    Finding {
        text: "after a clock token to {} the disk reads {}",
        key: "suite-plain-after-a-clock-token-to-the-disk-reads",
    },
    Finding {
        text: "the disk's serial is not known",
        key: "suite-plain-the-disk-s-serial-is-not-known",
    },
    Finding {
        text: "other serial: {}",
        key: "suite-plain-other-serial",
    },
    Finding {
        text: "the disk's public key is not known",
        key: "suite-plain-the-disk-s-public-key-is-not-known",
    },
    Finding {
        text: "the disk's public key: {}",
        key: "suite-plain-the-disk-s-public-key",
    },
    Finding {
        text: "{}: signature does not verify with the disk's public key: {}",
        key: "suite-plain-signature-does-not-verify-with-the-disk-s-public",
    },
    Finding {
        text: "roll code {}: {}",
        key: "suite-plain-roll-code",
    },
    Finding {
        text: "no {} roll with numbers left",
        key: "suite-plain-no-roll-with-numbers-left",
    },
    Finding {
        text: "encoding a raw frame: {}",
        key: "suite-plain-encoding-a-raw-frame",
    },
    Finding {
        text: "sending: {}",
        key: "suite-plain-sending",
    },
    Finding {
        text: "receiving: {}",
        key: "suite-plain-receiving",
    },
    Finding {
        text: "no answer after {} attempt(s) of {} ms",
        key: "suite-plain-no-answer-after-attempt-s-of-ms",
    },
    Finding {
        text: "encoding: {}",
        key: "suite-plain-encoding",
    },
    Finding {
        text: "answer does not decode: {}",
        key: "suite-plain-answer-does-not-decode",
    },
    Finding {
        text: "the disk reports counter {}; this run made far fewer events",
        key: "suite-plain-the-disk-reports-counter-this-run-made-far-fewer",
    },
    Finding {
        text: "after a power cycle the counter is {}, expected {}",
        key: "suite-plain-after-a-power-cycle-the-counter-is-expected",
    },
    Finding {
        text: "Issue cut by a power loss answered {}",
        key: "suite-plain-issue-cut-by-a-power-loss-answered",
    },
    Finding {
        text: "after a cut issue the counter is {} (was {})",
        key: "suite-plain-after-a-cut-issue-the-counter-is-was",
    },
    Finding {
        text: "the cut issue and its retry made counter {} -> {}",
        key: "suite-plain-the-cut-issue-and-its-retry-made-counter",
    },
    Finding {
        text: "the retry after the cut answered another invoice",
        key: "suite-plain-the-retry-after-the-cut-answered-another-invoice",
    },
    Finding {
        text: "invoice serial {}",
        key: "suite-plain-invoice-serial",
    },
    Finding {
        text: "invoice {} {}, expected {} {}",
        key: "suite-plain-invoice-expected",
    },
    Finding {
        text: "counter {} after {}",
        key: "suite-plain-counter-after",
    },
    Finding {
        text: "invoice time {} outside the disk clock {}..{}",
        key: "suite-plain-invoice-time-outside-the-disk-clock",
    },
    Finding {
        text: "second invoice {} counter {}",
        key: "suite-plain-second-invoice-counter",
    },
    Finding {
        text: "two sends with one request id moved the counter {} -> {}",
        key: "suite-plain-two-sends-with-one-request-id-moved-the-counter",
    },
    Finding {
        text: "motor-vehicle stock is not empty",
        key: "suite-plain-motor-vehicle-stock-is-not-empty",
    },
    Finding {
        text: "refused issues moved the counter {} -> {}",
        key: "suite-plain-refused-issues-moved-the-counter",
    },
    Finding {
        text: "OilStock does not list the grant",
        key: "suite-plain-oilstock-does-not-list-the-grant",
    },
    Finding {
        text: "stock after an oil invoice of 1,000 L: {}",
        key: "suite-plain-stock-after-an-oil-invoice-of-1-000-l",
    },
    Finding {
        text: "stock after its red invoice: {}",
        key: "suite-plain-stock-after-its-red-invoice",
    },
    Finding {
        text: "stock after returning 2,000 L: {}",
        key: "suite-plain-stock-after-returning-2-000-l",
    },
    Finding {
        text: "GetInfo has no period",
        key: "suite-plain-getinfo-has-no-period",
    },
    Finding {
        text: "the suite's clock moves from {} to {} would cross its own offline limit",
        key: "suite-plain-the-suite-s-clock-moves-from-to-would-cross-its",
    },
    Finding {
        text: "no normal roll",
        key: "suite-plain-no-normal-roll",
    },
    Finding {
        text: "summary counters {}..{}, the journal gives {}..{}",
        key: "suite-plain-summary-counters-the-journal-gives",
    },
    Finding {
        text: "a repeated CopyTax answered another summary",
        key: "suite-plain-a-repeated-copytax-answered-another-summary",
    },
    Finding {
        text: "GetInfo last_copied is not {}",
        key: "suite-plain-getinfo-last-copied-is-not",
    },
    Finding {
        text: "after ApplyReportReceipt GetInfo last_reported is not {}",
        key: "suite-plain-after-applyreportreceipt-getinfo-last-reported-i",
    },
    Finding {
        text: "ReturnRoll after the report receipt returned {} numbers, not 3",
        key: "suite-plain-returnroll-after-the-report-receipt-returned-num",
    },
    Finding {
        text: "past the lock time the disk is not locked",
        key: "suite-plain-past-the-lock-time-the-disk-is-not-locked",
    },
    Finding {
        text: "a repeated clear card did not unlock the disk",
        key: "suite-plain-a-repeated-clear-card-did-not-unlock-the-disk",
    },
    Finding {
        text: "the last copied period {} is not before {}",
        key: "suite-plain-the-last-copied-period-is-not-before",
    },
    Finding {
        text: "a factory disk reports a taxpayer id",
        key: "suite-plain-a-factory-disk-reports-a-taxpayer-id",
    },
    Finding {
        text: "a factory disk reports a lock time",
        key: "suite-plain-a-factory-disk-reports-a-lock-time",
    },
    Finding {
        text: "refused tokens changed the factory state",
        key: "suite-plain-refused-tokens-changed-the-factory-state",
    },
    Finding {
        text: "provisioned public key: {}",
        key: "suite-plain-provisioned-public-key",
    },
    Finding {
        text: "the proof of possession does not verify with the new key",
        key: "suite-plain-the-proof-of-possession-does-not-verify-with-the",
    },
    Finding {
        text: "GetPublicKey differs from the provisioned key",
        key: "suite-plain-getpublickey-differs-from-the-provisioned-key",
    },
    Finding {
        text: "after provisioning the disk is {}",
        key: "suite-plain-after-provisioning-the-disk-is",
    },
    Finding {
        text: "machine number {}",
        key: "suite-plain-machine-number",
    },
    Finding {
        text: "Provision sent again answered another key",
        key: "suite-plain-provision-sent-again-answered-another-key",
    },
    Finding {
        text: "info form number {}: {}",
        key: "suite-plain-info-form-number",
    },
    Finding {
        text: "ReadInvoice does not show the void",
        key: "suite-plain-readinvoice-does-not-show-the-void",
    },
    Finding {
        text: "the next invoice is {} {}, expected number {} after the blank void",
        key: "suite-plain-the-next-invoice-is-expected-number-after-the-bl",
    },
    Finding {
        text: "blank numbers left {}, expected {} + 50",
        key: "suite-plain-blank-numbers-left-expected-50",
    },
    Finding {
        text: "no normal roll to return",
        key: "suite-plain-no-normal-roll-to-return",
    },
    Finding {
        text: "after the return the invoice is {} {}",
        key: "suite-plain-after-the-return-the-invoice-is",
    },
    Finding {
        text: "WrongPin detail {}, tries before {}",
        key: "suite-plain-wrongpin-detail-tries-before",
    },
    Finding {
        text: "GetInfo tries left differs from the detail {}",
        key: "suite-plain-getinfo-tries-left-differs-from-the-detail",
    },
    Finding {
        text: "a right PIN leaves {} tries, not 10",
        key: "suite-plain-a-right-pin-leaves-tries-not-10",
    },
    Finding {
        text: "GetInfo says not logged in after Login",
        key: "suite-plain-getinfo-says-not-logged-in-after-login",
    },
    Finding {
        text: "WrongPin detail {}, expected {} tries left",
        key: "suite-plain-wrongpin-detail-expected-tries-left",
    },
    Finding {
        text: "GetInfo state is not blocked",
        key: "suite-plain-getinfo-state-is-not-blocked",
    },
    Finding {
        text: "after unblock: {} with {} tries",
        key: "suite-plain-after-unblock-with-tries",
    },
    Finding {
        text: "still logged in after a power cycle",
        key: "suite-plain-still-logged-in-after-a-power-cycle",
    },
    Finding {
        text: "no company name",
        key: "suite-plain-no-company-name",
    },
    Finding {
        text: "the company name did not change",
        key: "suite-plain-the-company-name-did-not-change",
    },
    Finding {
        text: "the kind is still authorized",
        key: "suite-plain-the-kind-is-still-authorized",
    },
    Finding {
        text: "nothing to upload (counter {})",
        key: "suite-plain-nothing-to-upload-counter",
    },
    Finding {
        text: "AckUpload marked {}, expected {}",
        key: "suite-plain-ackupload-marked-expected",
    },
    Finding {
        text: "events still pending after the receipt",
        key: "suite-plain-events-still-pending-after-the-receipt",
    },
    Finding {
        text: "ReadEvent does not show the upload",
        key: "suite-plain-readevent-does-not-show-the-upload",
    },
    Finding {
        text: "a repeated receipt marked events again",
        key: "suite-plain-a-repeated-receipt-marked-events-again",
    },
    Finding {
        text: "Ping({}) answered {}",
        key: "suite-plain-ping-answered",
    },
    Finding {
        text: "command 0x7FFF: expected UnknownCommand (0x0002), status 0x{}",
        key: "suite-plain-command-0x7fff-expected-unknowncommand-0x0002-st",
    },
    Finding {
        text: "Ping with an overlong varint: expected Malformed (0x0001), status 0x{}",
        key: "suite-plain-ping-with-an-overlong-varint-expected-malformed",
    },
    Finding {
        text: "GetInfo with a trailing byte: expected Malformed (0x0001), status 0x{}",
        key: "suite-plain-getinfo-with-a-trailing-byte-expected-malformed",
    },
    Finding {
        text: "Ping after bad frames",
        key: "suite-plain-ping-after-bad-frames",
    },
];
