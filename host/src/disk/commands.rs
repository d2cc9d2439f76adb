//! The typed commands of [`DiskClient`]: one method per command of the protocol's table, each
//! a [`DiskClient::call`] of its command type, and the paged listings built on them.

use super::*;

/// Generates the typed methods: each sends one request and unpacks its response variant.
macro_rules! commands {
    ($(
        $(#[$doc:meta])*
        fn $method:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty => $variant:ident ( $body:expr );
    )*) => {
        impl<T: Transport> DiskClient<T> {
            $(
                $(#[$doc])*
                pub fn $method(&mut self, $($arg: $ty),*) -> Result<$ret, DiskError> {
                    self.call::<cmd::$variant>($body)
                }
            )*
        }
    };
}

commands! {
    /// Ping: the disk echoes `nonce`. Needs no login.
    fn ping(nonce: u32) -> u32 => Ping(nonce);
    /// Identity, clock and period state (H14).
    fn info() -> DiskInfo => GetInfo(());
    /// Opens this client's session with the device PIN (D2, D14). A wrong PIN is
    /// `Refused { error: WrongPin, detail: tries left }`.
    fn login(pin: &Pin) -> () => Login(pin.clone());
    /// Closes the session (D14).
    fn logout() -> () => Logout(());
    /// Initial provisioning from a bureau token (D1).
    fn provision(token: Signed<ProvisionToken>) -> ProvisionResult => Provision(token);
    /// Limits, authorization and offline state of one kind (D9, H14).
    fn status(kind: InvoiceKind) -> KindStatus => GetStatus(kind);
    /// The disk's SM2 public key (D1).
    fn public_key() -> PublicKey => GetPublicKey(());
    /// Applies a bureau update token (D10).
    fn apply_update(token: Signed<UpdateToken>) -> () => ApplyUpdate(token);
    /// Sets the disk clock from a bureau clock token (D3).
    fn set_clock(token: Signed<ClockToken>) -> () => SetClock(token);
    /// Loads a roll from a bureau grant (D4).
    fn load_roll(grant: Signed<RollGrant>) -> Roll => LoadRolls(grant);
    /// Returns the unused rest of a roll; answers the device-signed receipt (D4). A fresh
    /// request id: a resend of the call's frame answers the same receipt.
    fn return_roll(kind: InvoiceKind, code: &InvoiceCode, first: InvoiceNumber) -> Signed<RollReturnReceipt>
        => ReturnRoll(ReturnRoll { request_id: new_request_id(), kind, code: code.clone(), first });
    /// Reads an issued invoice with its void and upload status.
    fn read_invoice(invoice: &InvoiceRef) -> InvoiceView => ReadInvoice(invoice.clone());
    /// The newest issued invoice, of one kind or of any (H11 repair).
    fn last_issued(kind: Option<InvoiceKind>) -> Option<InvoiceView> => LastIssued(kind);
    /// Marks events uploaded from a bureau receipt; answers how many were newly marked (D12).
    fn ack_upload(receipt: Signed<UploadReceipt>) -> u32 => AckUpload(receipt);
    /// Copy-tax of a finished period: the signed summary (D8).
    fn copy_tax(period: Period) -> Signed<PeriodSummary> => CopyTax(period);
    /// Clear card from a bureau token (D8).
    fn clear_card(token: Signed<ClearCardToken>) -> () => ClearCard(token);
    /// Adds oil stock from a bureau grant (D11).
    fn load_oil_stock(grant: Signed<OilGrant>) -> OilStockEntry => LoadOilStock(grant);
    /// Unblocks a PIN-blocked disk from a bureau token (D2).
    fn unblock(token: Signed<UnblockToken>) -> () => Unblock(token);
    /// Reads one journal event by counter, with its upload status (H11 repair).
    fn read_event(counter: u64) -> EventView => ReadEvent(counter);
    /// Reads the bureau's receipt of a period's summary into the disk; a roll return waits
    /// for the last month's (D4, FAQ 4.21(4)).
    fn apply_report_receipt(receipt: Signed<ReportReceipt>) -> () => ApplyReportReceipt(receipt);
}

impl<T: Transport> DiskClient<T> {
    /// Voids the next `count` blank numbers of the oldest roll of `kind` with a fresh random
    /// request id (D7). Retries reuse the id, so a lost answer never voids more numbers.
    pub fn void_blank(
        &mut self,
        kind: InvoiceKind,
        count: u32,
    ) -> Result<Signed<BlankVoidEvent>, DiskError> {
        self.void_blank_with_id(new_request_id(), kind, count)
    }

    /// Voids blank numbers with a request id chosen by the caller: the same id always gets the
    /// same event back, also after a power cut of the disk or a restart of the host (D7).
    pub fn void_blank_with_id(
        &mut self,
        request_id: RequestId,
        kind: InvoiceKind,
        count: u32,
    ) -> Result<Signed<BlankVoidEvent>, DiskError> {
        self.call::<cmd::VoidBlank>(VoidBlank {
            request_id,
            kind,
            count,
        })
    }

    /// Voids an issued invoice of the current, unreported period with a fresh random request
    /// id (D7). Retries reuse the id.
    pub fn void(&mut self, invoice: &InvoiceRef) -> Result<Signed<VoidEvent>, DiskError> {
        self.void_with_id(new_request_id(), invoice)
    }

    /// Voids an invoice with a request id chosen by the caller: the same id always gets the
    /// same event back, also after a power cut of the disk (D7).
    pub fn void_with_id(
        &mut self,
        request_id: RequestId,
        invoice: &InvoiceRef,
    ) -> Result<Signed<VoidEvent>, DiskError> {
        self.call::<cmd::Void>(VoidRequest {
            request_id,
            invoice: invoice.clone(),
        })
    }

    /// Returns the unused rest of a roll from `first` under a request id chosen by the caller:
    /// the same id sent again (the answer lost, the disk's power cut) answers the same receipt
    /// and returns nothing more (D4).
    pub fn return_roll_with_id(
        &mut self,
        request_id: RequestId,
        kind: InvoiceKind,
        code: &InvoiceCode,
        first: InvoiceNumber,
    ) -> Result<Signed<RollReturnReceipt>, DiskError> {
        self.call::<cmd::ReturnRoll>(ReturnRoll {
            request_id,
            kind,
            code: code.clone(),
            first,
        })
    }

    /// Returns oil stock; answers the device-signed receipt (D11). A fresh request id: a
    /// resend of the call's frame returns nothing more and answers the same receipt.
    pub fn return_oil_stock(
        &mut self,
        stock: OilStockEntry,
    ) -> Result<Signed<OilReturnReceipt>, DiskError> {
        self.return_oil_stock_with_id(new_request_id(), stock)
    }

    /// [`return_oil_stock`](Self::return_oil_stock) under a request id chosen by the caller:
    /// the same id sent again (the answer lost, the disk's power cut) answers the same receipt
    /// and returns no more oil (D11).
    pub fn return_oil_stock_with_id(
        &mut self,
        request_id: RequestId,
        stock: OilStockEntry,
    ) -> Result<Signed<OilReturnReceipt>, DiskError> {
        self.call::<cmd::ReturnOilStock>(ReturnOil { request_id, stock })
    }

    /// Changes the PIN; needs the old one (D2).
    pub fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), DiskError> {
        self.change_pin_with_id(new_request_id(), old, new)
    }

    /// Changes the PIN with a request id chosen by the caller: sent again with the same id
    /// after the change took (its answer lost, the disk's power cut), it answers done instead
    /// of counting the old PIN as a wrong one (D2).
    pub fn change_pin_with_id(
        &mut self,
        request_id: RequestId,
        old: &Pin,
        new: &Pin,
    ) -> Result<(), DiskError> {
        self.call::<cmd::ChangePin>(ChangePin {
            request_id,
            old: old.clone(),
            new: new.clone(),
        })
    }

    /// Every loaded roll (of `kind`, or all), oldest first, over all pages (D4, H13).
    pub fn list_rolls(&mut self, kind: Option<InvoiceKind>) -> Result<Vec<Roll>, DiskError> {
        let mut all = Vec::new();
        loop {
            let Ok(skip) = u8::try_from(all.len()) else {
                return Err(DiskError::Protocol {
                    command: CommandId::ListRolls,
                    what: "more than 255 rolls listed".into(),
                });
            };
            let page = self.call::<cmd::ListRolls>(ListRolls { kind, skip })?;
            let full = page.len() >= ROLLS_PER_PAGE;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    /// One page of journal events not yet acknowledged with a counter above `after_counter`,
    /// at most `max` (capped at [`EVENTS_PER_PAGE`] by the disk).
    pub fn list_pending_page(
        &mut self,
        after_counter: u64,
        max: u8,
    ) -> Result<Vec<JournalEvent>, DiskError> {
        let page = self.call::<cmd::ListPending>(ListPending { after_counter, max })?;
        Ok(page.into_iter().collect())
    }

    /// Every journal event not yet acknowledged, in counter order, over all pages (D12).
    pub fn list_pending(&mut self) -> Result<Vec<JournalEvent>, DiskError> {
        self.list_pending_after(0)
    }

    /// Every journal event not yet acknowledged with a counter above `after_counter`.
    pub fn list_pending_after(
        &mut self,
        after_counter: u64,
    ) -> Result<Vec<JournalEvent>, DiskError> {
        let mut all = Vec::new();
        let mut after = after_counter;
        // EVENTS_PER_PAGE is a small protocol constant (4), well inside u8.
        let max = EVENTS_PER_PAGE as u8;
        loop {
            let page = self.list_pending_page(after, max)?;
            let full = page.len() >= EVENTS_PER_PAGE;
            for e in page {
                if e.counter() <= after {
                    return Err(DiskError::Protocol {
                        command: CommandId::ListPending,
                        what: format!("event {} listed after counter {after}", e.counter()),
                    });
                }
                after = e.counter();
                all.push(e);
            }
            if all.len() > MAX_PENDING_EVENTS {
                return Err(DiskError::Protocol {
                    command: CommandId::ListPending,
                    what: format!("more than {MAX_PENDING_EVENTS} pending events"),
                });
            }
            if !full {
                return Ok(all);
            }
        }
    }

    /// Oil stock per category (D11).
    pub fn oil_stock(&mut self) -> Result<Vec<OilStockEntry>, DiskError> {
        Ok(self.call::<cmd::OilStock>(())?.into_iter().collect())
    }
}
