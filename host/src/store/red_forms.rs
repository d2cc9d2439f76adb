//! Red info forms (红字发票信息表, H10, FAQ 7.1-7.15) with their local state:
//!
//! ```text
//! not_uploaded --submit--> under_review --review--> approved --issue red--> used
//!      ^  edit, delete          | delete    \--> rejected (edit, delete)  <--void red--/
//! ```
//!
//! - not uploaded: may be edited and deleted; under review: deleted only; approved: neither
//!   (FAQ 7.6). Downloaded approved forms enter as approved (FAQ 7.14).
//! - A buyer who already deducted names no original invoice (FAQ 7.9); amounts and quantities
//!   are negative (FAQ 7.11); no discount lines (FAQ 7.7). Forms do not expire (FAQ 7.15).
//! - One form gives one red invoice (FAQ 7.4): issuing marks it used; voiding that red invoice
//!   releases it (FAQ 7.5), see [`Store::mark_voided`](super::Store::mark_voided).

use super::UserId;
use super::{Store, StoreError, audit, now_secs};
use crate::invoice::{Line, LineKind, Party};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use taxdisk_protocol::types::{InfoFormNumber, InvoiceCode, InvoiceNumber};

/// A red form's row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RedFormId(pub i64);

/// Local state of a form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedFormState {
    /// 未上传.
    NotUploaded,
    /// 审核中.
    UnderReview,
    /// 审核通过.
    Approved,
    /// Refused by the bureau.
    Rejected,
    /// A red invoice was issued on it.
    Used,
}

impl std::fmt::Display for RedFormState {
    /// The state as the software shows it (FAQ 7.6).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RedFormState::NotUploaded => "not uploaded (未上传)",
            RedFormState::UnderReview => "under review (审核中)",
            RedFormState::Approved => "approved (审核通过)",
            RedFormState::Rejected => "rejected (审核不通过)",
            RedFormState::Used => "used (已开具)",
        })
    }
}

impl RedFormState {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            RedFormState::NotUploaded => "not_uploaded",
            RedFormState::UnderReview => "under_review",
            RedFormState::Approved => "approved",
            RedFormState::Rejected => "rejected",
            RedFormState::Used => "used",
        }
    }

    fn parse(s: &str) -> Result<RedFormState, StoreError> {
        Ok(match s {
            "not_uploaded" => RedFormState::NotUploaded,
            "under_review" => RedFormState::UnderReview,
            "approved" => RedFormState::Approved,
            "rejected" => RedFormState::Rejected,
            "used" => RedFormState::Used,
            other => return Err(StoreError::Corrupt(format!("red form state {other:?}"))),
        })
    }
}

/// Who applies (FAQ 7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Applicant {
    /// 购买方申请.
    Buyer,
    /// 销售方申请 (needs special-invoice authorization, FAQ 7.13; the workflow checks it).
    Seller,
}

/// The content of a form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedFormBody {
    /// Who applies.
    pub applicant: Applicant,
    /// The buyer already deducted the input tax (已抵扣): no original invoice (FAQ 7.9).
    pub deducted: bool,
    /// The original blue invoice, unless deducted.
    pub original: Option<(InvoiceCode, InvoiceNumber)>,
    /// Seller.
    pub seller: Party,
    /// Buyer.
    pub buyer: Party,
    /// Negative lines, no discounts.
    pub lines: Vec<Line>,
    /// Reason.
    pub reason: String,
}

/// A stored form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedForm {
    /// Id.
    pub id: RedFormId,
    /// The bureau's 16-digit number, once known.
    pub number: Option<InfoFormNumber>,
    /// State.
    pub state: RedFormState,
    /// Content.
    pub body: RedFormBody,
}

fn check(b: &RedFormBody) -> Result<(), StoreError> {
    let bad = |problem: &str| StoreError::Field {
        rule: "H10",
        field: "red info form",
        problem: problem.into(),
    };
    if b.deducted && b.original.is_some() {
        return Err(bad(
            "a buyer who already deducted names no original invoice (FAQ 7.9)",
        ));
    }
    if !b.deducted && b.original.is_none() {
        return Err(bad(
            "name the original invoice, or mark the form as deducted",
        ));
    }
    if b.lines.is_empty() {
        return Err(bad("the form has no lines"));
    }
    for (i, l) in b.lines.iter().enumerate() {
        if l.kind == LineKind::Discount {
            return Err(bad(&format!(
                "line {}: no discount lines on a form (FAQ 7.7)",
                i + 1
            )));
        }
        if l.amount >= Decimal::ZERO || l.quantity.is_some_and(|q| q >= Decimal::ZERO) {
            return Err(bad(&format!(
                "line {}: amounts and quantities must be negative (FAQ 7.11)",
                i + 1
            )));
        }
    }
    Ok(())
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// H10: fills a new form (not uploaded).
    pub fn add_red_form(
        &mut self,
        actor: UserId,
        body: &RedFormBody,
    ) -> Result<RedFormId, StoreError> {
        self.insert_form(actor, None, RedFormState::NotUploaded, body)
    }

    /// H10 (FAQ 7.14): stores an approved form downloaded from the bureau (or imported).
    pub fn add_approved_red_form(
        &mut self,
        actor: UserId,
        number: &InfoFormNumber,
        body: &RedFormBody,
    ) -> Result<RedFormId, StoreError> {
        self.insert_form(actor, Some(number), RedFormState::Approved, body)
    }

    fn insert_form(
        &mut self,
        actor: UserId,
        number: Option<&InfoFormNumber>,
        state: RedFormState,
        body: &RedFormBody,
    ) -> Result<RedFormId, StoreError> {
        check(body)?;
        let json = serde_json::to_string(body).map_err(corrupt)?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT INTO red_forms (number, state, body, created_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )?
        .execute(params![
            number.map(|n| n.as_str()),
            state.as_str(),
            json,
            actor.0,
            now_secs()
        ])?;
        let id = RedFormId(tx.last_insert_rowid());
        audit::write(&tx, Some(actor), "red_form.add", &id.0.to_string())?;
        tx.commit()?;
        Ok(id)
    }

    /// One form.
    pub fn red_form(&self, id: RedFormId) -> Result<RedForm, StoreError> {
        let r: Option<(Option<String>, String, String)> = self
            .conn
            .prepare_cached("SELECT number, state, body FROM red_forms WHERE id = ?1")?
            .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (number, state, body) =
            r.ok_or_else(|| StoreError::NotFound(format!("red info form {}", id.0)))?;
        Ok(RedForm {
            id,
            number: number
                .map(|n| InfoFormNumber::new(&n).map_err(corrupt))
                .transpose()?,
            state: RedFormState::parse(&state)?,
            body: serde_json::from_str(&body).map_err(corrupt)?,
        })
    }

    /// The form with this bureau number.
    pub fn red_form_by_number(
        &self,
        number: &InfoFormNumber,
    ) -> Result<Option<RedForm>, StoreError> {
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM red_forms WHERE number = ?1")?
            .query_row([number.as_str()], |r| r.get(0))
            .optional()?;
        id.map(|i| self.red_form(RedFormId(i))).transpose()
    }

    /// Forms in one state.
    pub fn red_forms(&self, state: RedFormState) -> Result<Vec<RedForm>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached("SELECT id FROM red_forms WHERE state = ?1 ORDER BY id")?
            .query_map([state.as_str()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter()
            .map(|i| self.red_form(RedFormId(i)))
            .collect()
    }

    fn form_state_refused(id: RedFormId, state: RedFormState, problem: &'static str) -> StoreError {
        StoreError::State {
            rule: "H10",
            what: format!("red info form {}", id.0),
            state: state.as_str().to_owned(),
            problem,
        }
    }

    /// H10 (FAQ 7.6): edits a form; only while not uploaded (or after a rejection).
    pub fn update_red_form(
        &mut self,
        actor: UserId,
        id: RedFormId,
        body: &RedFormBody,
    ) -> Result<(), StoreError> {
        let f = self.red_form(id)?;
        if !matches!(f.state, RedFormState::NotUploaded | RedFormState::Rejected) {
            return Err(Self::form_state_refused(
                id,
                f.state,
                "only a form not yet uploaded can be edited (FAQ 7.6)",
            ));
        }
        check(body)?;
        let json = serde_json::to_string(body).map_err(corrupt)?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "UPDATE red_forms SET body = ?1, state = 'not_uploaded', updated_at = ?2 WHERE id = ?3",
        )?
        .execute(params![json, now_secs(), id.0])?;
        audit::write(&tx, Some(actor), "red_form.edit", &id.0.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// H10 (FAQ 7.6): deletes a form; refused once approved or used.
    pub fn delete_red_form(&mut self, actor: UserId, id: RedFormId) -> Result<(), StoreError> {
        let f = self.red_form(id)?;
        if matches!(f.state, RedFormState::Approved | RedFormState::Used) {
            return Err(Self::form_state_refused(
                id,
                f.state,
                "an approved form cannot be deleted; ask the tax office (FAQ 7.6)",
            ));
        }
        let tx = self.conn.transaction()?;
        tx.prepare_cached("DELETE FROM red_forms WHERE id = ?1")?
            .execute([id.0])?;
        audit::write(&tx, Some(actor), "red_form.delete", &id.0.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// H10: the form was uploaded; not uploaded -> under review.
    pub fn mark_red_form_submitted(
        &mut self,
        actor: UserId,
        id: RedFormId,
    ) -> Result<(), StoreError> {
        self.form_transition(
            actor,
            id,
            RedFormState::NotUploaded,
            RedFormState::UnderReview,
            None,
        )
    }

    /// H10 (FAQ 7.14): the bureau's review result; under review -> approved (with its number)
    /// or rejected.
    pub fn mark_red_form_reviewed(
        &mut self,
        actor: UserId,
        id: RedFormId,
        approved: Option<&InfoFormNumber>,
    ) -> Result<(), StoreError> {
        let to = if approved.is_some() {
            RedFormState::Approved
        } else {
            RedFormState::Rejected
        };
        self.form_transition(actor, id, RedFormState::UnderReview, to, approved)
    }

    fn form_transition(
        &mut self,
        actor: UserId,
        id: RedFormId,
        from: RedFormState,
        to: RedFormState,
        number: Option<&InfoFormNumber>,
    ) -> Result<(), StoreError> {
        let f = self.red_form(id)?;
        if f.state != from {
            return Err(Self::form_state_refused(
                id,
                f.state,
                "this change needs another state",
            ));
        }
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "UPDATE red_forms SET state = ?1, number = COALESCE(?2, number), updated_at = ?3
             WHERE id = ?4",
        )?
        .execute(params![
            to.as_str(),
            number.map(|n| n.as_str()),
            now_secs(),
            id.0
        ])?;
        audit::write(
            &tx,
            Some(actor),
            "red_form.state",
            &format!("{} {}", id.0, to.as_str()),
        )?;
        tx.commit()?;
        Ok(())
    }
}
