//! B6 red info forms (红字发票信息表, FAQ 7.x): submission with F4 numbers, automatic approval or
//! manual review ([`taxdisk_protocol::bureau_api::BureauSettings`]), download and listing, and
//! the one-form-one-invoice rule enforced when the red invoice is uploaded (`form_used`).

use super::db::{self, Tx, args};
use super::{Bureau, BureauError, rolls};
use taxdisk_protocol::bureau_api::{RedApplicant, RedForm, RedFormDraft, RedFormState, Review};
use taxdisk_protocol::types::{
    Fen, InfoFormNumber, InvoiceCode, InvoiceKind, InvoiceNumber, TaxpayerId,
};
use taxdisk_protocol::validate;

/// The most lines a form holds (our choice; a form takes no sales list, FAQ 7.7).
pub const MAX_LINES: usize = 100;

/// The stored name of a state.
fn state_name(s: RedFormState) -> &'static str {
    match s {
        RedFormState::NotUploaded => "NotUploaded",
        RedFormState::UnderReview => "UnderReview",
        RedFormState::Approved => "Approved",
        RedFormState::Rejected => "Rejected",
        RedFormState::Used => "Used",
    }
}

/// A state from its name as the API writes it (`UnderReview`, ...).
pub fn parse_state(s: &str) -> Option<RedFormState> {
    [
        RedFormState::NotUploaded,
        RedFormState::UnderReview,
        RedFormState::Approved,
        RedFormState::Rejected,
        RedFormState::Used,
    ]
    .into_iter()
    .find(|st| state_name(*st) == s)
}

fn load(tx: &mut Tx<'_>, n: &str) -> Result<Option<RedForm>, BureauError> {
    tx.query_opt("SELECT form FROM red_forms WHERE number = ?1", &args![n])?
        .map(|r| db::from_json(&r.text(0)?))
        .transpose()
}

fn save(tx: &mut Tx<'_>, f: &RedForm) -> Result<(), BureauError> {
    tx.execute(
        "INSERT INTO red_forms (number, seller, buyer, state, form)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (number) DO UPDATE SET seller = excluded.seller, buyer = excluded.buyer,
             state = excluded.state, form = excluded.form",
        &args![
            f.number.as_str(),
            f.draft.seller.as_str(),
            f.draft.buyer.as_str(),
            state_name(f.state),
            db::to_json(f)?
        ],
    )?;
    Ok(())
}

fn unknown_form(n: &str) -> BureauError {
    BureauError::not_found("unknown_form", "B6", format!("no red info form {n}"))
}

/// Whether a red special invoice of `seller` for `amount`/`tax` may use form `n`: the reason
/// code and message if not.
pub(crate) fn check_form_use(
    tx: &mut Tx<'_>,
    n: &InfoFormNumber,
    seller: &TaxpayerId,
    amount: Fen,
    tax: Fen,
) -> Result<Result<(), (&'static str, String)>, BureauError> {
    let Some(f) = load(tx, n.as_str())? else {
        return Ok(Err(("unknown_form", format!("no red info form {n}"))));
    };
    if &f.draft.seller != seller {
        return Ok(Err((
            "form_foreign",
            format!("form {n} is for seller {}, not {seller}", f.draft.seller),
        )));
    }
    match f.state {
        RedFormState::Used => {
            let by = f
                .used_by
                .map(|(c, num)| format!(" by {c} {num}"))
                .unwrap_or_default();
            return Ok(Err((
                "form_used",
                format!("form {n} is already used{by}: one form, one red invoice (FAQ 7.4)"),
            )));
        }
        RedFormState::Approved => {}
        other => {
            return Ok(Err((
                "form_not_approved",
                format!("form {n} is {}, not approved", state_name(other)),
            )));
        }
    }
    if (f.draft.amount, f.draft.tax) != (amount, tax) {
        return Ok(Err((
            "form_mismatch",
            format!(
                "form {n} is for {} + {} tax, the invoice for {amount} + {tax}",
                f.draft.amount, f.draft.tax
            ),
        )));
    }
    Ok(Ok(()))
}

/// Marks a form used by a red invoice.
pub(crate) fn mark_used(
    tx: &mut Tx<'_>,
    n: &InfoFormNumber,
    code: &InvoiceCode,
    number: InvoiceNumber,
) -> Result<(), BureauError> {
    let mut f = load(tx, n.as_str())?.ok_or_else(|| unknown_form(n.as_str()))?;
    f.state = RedFormState::Used;
    f.used_by = Some((code.clone(), number));
    save(tx, &f)
}

/// Frees a form whose red invoice was voided (FAQ 7.5: reissue on the same form).
pub(crate) fn release(tx: &mut Tx<'_>, n: &str) -> Result<(), BureauError> {
    if let Some(mut f) = load(tx, n)? {
        f.state = RedFormState::Approved;
        f.used_by = None;
        save(tx, &f)?;
    }
    Ok(())
}

fn bad_form(msg: impl Into<String>) -> BureauError {
    BureauError::bad("bad_form", "B6, H10", msg)
}

/// Checks a draft's own consistency (lines, signs, totals, rates).
/// Longest goods name or reason on a form, in characters.
const MAX_TEXT: usize = 200;

/// A form line's quantity: empty, or a decimal number (`-12`, `-0.5`) of at most 24
/// characters. Anything else (`-1' OR '1'='1`) is refused as not a number.
fn is_quantity(q: &str) -> bool {
    if q.is_empty() {
        return true;
    }
    let digits = q.strip_prefix('-').unwrap_or(q);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    q.len() <= 24
        && !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (frac.is_empty() || !digits.ends_with('.'))
}

fn check_draft(d: &RedFormDraft) -> Result<(), BureauError> {
    if d.lines.is_empty() || d.lines.len() > MAX_LINES {
        return Err(bad_form(format!("a form has 1 to {MAX_LINES} lines")));
    }
    if d.amount.0 >= 0 || d.tax.0 > 0 {
        return Err(bad_form(
            "amount and tax of a red form are negative (FAQ 7.11)",
        ));
    }
    let (mut a, mut t) = (0i64, 0i64);
    for (i, l) in d.lines.iter().enumerate() {
        if l.amount.0 > 0 || l.tax.0 > 0 {
            return Err(bad_form(format!(
                "line {}: amounts are negative (FAQ 7.11)",
                i + 1
            )));
        }
        l.rate
            .check(true)
            .map_err(|e| bad_form(format!("line {}: {e}", i + 1)))?;
        if !is_quantity(&l.quantity) {
            return Err(bad_form(format!(
                "line {}: the quantity {:?} is not a number (digits, one optional '-' and '.')",
                i + 1,
                l.quantity
            )));
        }
        if l.name.trim().is_empty()
            || l.name.chars().count() > MAX_TEXT
            || l.name.chars().any(char::is_control)
        {
            return Err(bad_form(format!(
                "line {}: the goods name must be 1 to {MAX_TEXT} printable characters",
                i + 1
            )));
        }
        a = a.saturating_add(l.amount.0);
        t = t.saturating_add(l.tax.0);
    }
    if (a, t) != (d.amount.0, d.tax.0) {
        return Err(bad_form(format!(
            "lines add up to {} + {} tax, the form says {} + {}",
            Fen(a),
            Fen(t),
            d.amount,
            d.tax
        )));
    }
    if d.reason.chars().count() > MAX_TEXT || d.reason.chars().any(char::is_control) {
        return Err(bad_form(format!(
            "the reason must be at most {MAX_TEXT} printable characters"
        )));
    }
    if d.applicant == RedApplicant::Seller && d.original.is_none() {
        return Err(bad_form(
            "a seller's form names the original invoice (only a buyer who deducted omits it, FAQ 7.9)",
        ));
    }
    Ok(())
}

impl Bureau {
    /// `POST /red-forms` (B6): takes a form from the applicant's disk, gives it an F4 number and
    /// approves it at once, or leaves it under review when manual review is set.
    pub fn submit_red_form(&mut self, draft: RedFormDraft) -> Result<RedForm, BureauError> {
        check_draft(&draft)?;
        let now = self.now();
        self.db.tx(|tx| {
            let manual = super::settings_in(tx)?.manual_red_review;
            let d = super::disk_in(tx, &draft.serial)?;
            let (own, who) = match draft.applicant {
                RedApplicant::Seller => (&draft.seller, "seller"),
                RedApplicant::Buyer => (&draft.buyer, "buyer"),
            };
            if own != &d.taxpayer_id {
                return Err(BureauError::bad(
                    "form_foreign",
                    "B6, FAQ 7.1",
                    format!(
                        "the {who} {own} applies, but disk {} belongs to {}",
                        d.serial, d.taxpayer_id
                    ),
                ));
            }
            if draft.applicant == RedApplicant::Seller
                && !d.kinds.iter().any(|k| k.kind == InvoiceKind::Special)
            {
                return Err(BureauError::bad(
                    "not_authorized",
                    "B6, FAQ 7.13",
                    "a seller's form needs special-invoice authorization",
                ));
            }
            if let Some((code, number)) = &draft.original {
                let orig = tx
                    .query_opt(
                        "SELECT kind, voided FROM invoices WHERE code = ?1 AND number = ?2",
                        &args![code.as_str(), number.get()],
                    )?
                    .map(|r| Ok::<_, BureauError>((r.num::<u8>(0)?, r.flag(1)?)))
                    .transpose()?;
                match orig {
                    Some((k, _)) if k != InvoiceKind::Special.number() => {
                        return Err(bad_form(format!(
                            "{code} {number} is not a special invoice"
                        )));
                    }
                    Some((_, true)) => {
                        return Err(bad_form(format!("{code} {number} is voided")));
                    }
                    _ => {}
                }
            }
            let civil = now.civil();
            let key = format!("red_seq_{:04}{:02}", civil.year, civil.month);
            let seq = db::bump_meta(tx, &key)?;
            if seq > 99_999 {
                return Err(BureauError::conflict(
                    "numbers_exhausted",
                    "B6, F4",
                    "no red info form number left this month",
                ));
            }
            let mut digits = format!(
                "{}{:02}{:02}{seq:05}",
                rolls::region6_of(&d.taxpayer_id),
                civil.year % 100,
                civil.month
            )
            .into_bytes();
            digits.push(validate::info_form_check_digit(&digits));
            let text =
                String::from_utf8(digits).map_err(|e| BureauError::Corrupt(e.to_string()))?;
            let number =
                InfoFormNumber::new(&text).map_err(|e| BureauError::Corrupt(e.to_string()))?;
            let form = RedForm {
                number,
                state: if manual {
                    RedFormState::UnderReview
                } else {
                    RedFormState::Approved
                },
                draft: draft.clone(),
                review_note: None,
                used_by: None,
            };
            save(tx, &form)?;
            Ok(form)
        })
    }

    /// `GET /red-forms/{number}` (B6, FAQ 7.14): one form.
    pub fn red_form(&self, n: &InfoFormNumber) -> Result<RedForm, BureauError> {
        self.db
            .tx(|tx| load(tx, n.as_str()))?
            .ok_or_else(|| unknown_form(n.as_str()))
    }

    /// `GET /red-forms?taxpayer_id=T&state=S` (B6): forms where the taxpayer is seller or buyer,
    /// optionally in one state, by number.
    pub fn red_forms(
        &self,
        taxpayer: Option<&TaxpayerId>,
        state: Option<RedFormState>,
    ) -> Result<Vec<RedForm>, BureauError> {
        let rows = self.db.tx(|tx| {
            tx.query(
                "SELECT form FROM red_forms
                 WHERE (CAST(?1 AS TEXT) IS NULL OR seller = ?1 OR buyer = ?1)
                 AND (CAST(?2 AS TEXT) IS NULL OR state = ?2)
                 ORDER BY number",
                &args![taxpayer.map(|t| t.as_str()), state.map(state_name)],
            )
        })?;
        rows.iter().map(|r| db::from_json(&r.text(0)?)).collect()
    }

    /// `POST /red-forms/{number}/review` (B6, manual review): approves or rejects a form under
    /// review; any other state is `not_under_review`.
    pub fn review_red_form(
        &mut self,
        n: &InfoFormNumber,
        r: Review,
    ) -> Result<RedForm, BureauError> {
        self.db.tx(|tx| {
            let mut f = load(tx, n.as_str())?.ok_or_else(|| unknown_form(n.as_str()))?;
            if f.state != RedFormState::UnderReview {
                return Err(BureauError::conflict(
                    "not_under_review",
                    "B6, FAQ 7.6",
                    format!("form {n} is {}, not under review", state_name(f.state)),
                ));
            }
            f.state = if r.approve {
                RedFormState::Approved
            } else {
                RedFormState::Rejected
            };
            f.review_note = r.note.clone();
            save(tx, &f)?;
            Ok(f)
        })
    }
}
