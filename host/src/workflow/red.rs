//! Red info forms (红字发票信息表, H10, FAQ 7.1-7.15) and red special invoices.
//!
//! - Fill (填开) by the seller (needs special-invoice authorization, FAQ 7.13) or the buyer; a
//!   buyer who already deducted names no original (FAQ 7.9); amounts and quantities negative
//!   (FAQ 7.11); no discount and no list (FAQ 7.7, 7.8).
//! - Edit rules per state (FAQ 7.6): not uploaded: edit and delete; under review: delete only;
//!   approved: neither. The store enforces them.
//! - Upload to the bureau (B6; approved at once unless the bureau reviews by hand), download of
//!   review results and of approved forms others filed for us (FAQ 7.14). Forms do not expire
//!   (FAQ 7.15).
//! - One form, one red invoice (FAQ 7.4); a wrong red invoice not yet copied is voided and
//!   reissued on the same form (FAQ 7.5): voiding releases the form (store).
//! - XML export and import of forms (FAQ 7.2): [`red_form_to_xml`], [`red_form_from_xml`].
//!
//! Choice: the bureau's form number of a form under review is kept in the store setting
//! `workflow.red_form_number.<id>` until the review result arrives (the store records the
//! number when approved).

use super::Workflow;
use super::errors::WorkflowError;
use super::xml::{self, Element};
use crate::invoice::math::{from_fen, round_price, to_fen};
use crate::invoice::model::PAPER_LINES;
use crate::invoice::{Draft, KindFields, Line, LineKind, Party, PriceMode, text};
use crate::store::{Action, Applicant, RedForm, RedFormBody, RedFormId, RedFormState};
use rust_decimal::Decimal;
use std::path::Path;
use taxdisk_protocol::bureau_api::{
    RedApplicant, RedForm as BureauForm, RedFormDraft, RedFormLine, RedFormState as BureauState,
};
use taxdisk_protocol::types::{
    Fen, InfoFormNumber, InvoiceKind, InvoiceNumber, RedRef, TaxRate, TaxpayerId,
};

fn number_key(id: RedFormId) -> String {
    format!("workflow.red_form_number.{}", id.0)
}

fn red(problem: impl Into<String>, rule: &'static str) -> WorkflowError {
    WorkflowError::rule("red info form", problem, rule)
}

/// FAQ 7.8: a red invoice takes no sales list, so a form (whose red invoice carries its lines)
/// has at most [`PAPER_LINES`] lines; an original with more is reversed with merged lines.
/// Refused when the form is filled, edited or imported, not only when its invoice is issued,
/// so that no approved form is left that can never be used.
fn check_no_sales_list(body: &RedFormBody) -> Result<(), WorkflowError> {
    if body.lines.len() > PAPER_LINES {
        return Err(red(
            format!(
                "the form has {} lines and a red invoice takes no sales list: merge them into at most {PAPER_LINES}",
                body.lines.len()
            ),
            "H10, FAQ 7.8",
        ));
    }
    Ok(())
}

impl Workflow {
    /// H10 (FAQ 7.2): fills a new form (not uploaded). A seller's form needs the disk's
    /// special-invoice authorization (FAQ 7.13); the user needs the red permission on special
    /// invoices (H3).
    pub fn red_form_fill(&mut self, body: &RedFormBody) -> Result<RedFormId, WorkflowError> {
        let user = self.require_user("red info form")?;
        self.store
            .require(user.id, InvoiceKind::Special, Action::Red)?;
        self.check_applicant(body)?;
        Ok(self.store.add_red_form(user.id, body)?)
    }

    /// H10 (FAQ 7.2, 7.7): the body of a seller's form reversing issued special invoice
    /// `original` in full: its buyer, this company as seller, its lines negated with each
    /// discount merged into its line (a red invoice has no discount lines). Fill it with
    /// [`Workflow::red_form_fill`] (after editing lines for a partial reversal).
    pub fn seller_form_for(
        &mut self,
        original: crate::store::InvoiceId,
        reason: &str,
    ) -> Result<RedFormBody, WorkflowError> {
        let orig = self.store.invoice(original)?;
        let Some(rec) = orig.disk.clone() else {
            return Err(red(format!("invoice {} is not issued", original.0), "H10"));
        };
        if orig.invoice.kind() != InvoiceKind::Special {
            return Err(red(
                format!(
                    "invoice {} is not a special invoice: reverse it with red --code/--number",
                    original.0
                ),
                "H10, FAQ 7.3",
            ));
        }
        Ok(RedFormBody {
            applicant: Applicant::Seller,
            deducted: false,
            original: Some((rec.code, rec.number)),
            seller: self.seller_party()?,
            buyer: orig.invoice.draft().buyer.clone(),
            lines: super::issue::reversed_lines(orig.invoice.lines()),
            reason: reason.to_owned(),
        })
    }

    /// H10 (FAQ 7.6): edits a form not yet uploaded.
    pub fn red_form_edit(
        &mut self,
        id: RedFormId,
        body: &RedFormBody,
    ) -> Result<(), WorkflowError> {
        let user = self.require_user("red info form")?;
        self.store
            .require(user.id, InvoiceKind::Special, Action::Red)?;
        self.check_applicant(body)?;
        Ok(self.store.update_red_form(user.id, id, body)?)
    }

    /// H10 (FAQ 7.6): deletes a form not uploaded or under review.
    pub fn red_form_delete(&mut self, id: RedFormId) -> Result<(), WorkflowError> {
        let user = self.require_user("red info form")?;
        self.store
            .require(user.id, InvoiceKind::Special, Action::Red)?;
        Ok(self.store.delete_red_form(user.id, id)?)
    }

    fn check_applicant(&mut self, body: &RedFormBody) -> Result<(), WorkflowError> {
        check_no_sales_list(body)?;
        let own = self.taxpayer_id("red info form")?;
        match body.applicant {
            Applicant::Seller => {
                if !self.disk.status(InvoiceKind::Special)?.authorized {
                    return Err(red(
                        "a seller's form needs special-invoice authorization; the buyer applies",
                        "H10, FAQ 7.13",
                    ));
                }
                if body.seller.taxpayer_id.as_ref() != Some(&own) {
                    return Err(red(
                        format!("the seller of a seller's form is this taxpayer ({own})"),
                        "H10, FAQ 7.1",
                    ));
                }
            }
            Applicant::Buyer => {
                if body.buyer.taxpayer_id.as_ref() != Some(&own) {
                    return Err(red(
                        format!("the buyer of a buyer's form is this taxpayer ({own})"),
                        "H10, FAQ 7.1",
                    ));
                }
            }
        }
        if body.seller.taxpayer_id.is_none() || body.buyer.taxpayer_id.is_none() {
            return Err(red("seller and buyer need their taxpayer ids", "H10, F3"));
        }
        Ok(())
    }

    /// H10 (FAQ 7.2(1)): uploads a form to the bureau for review; answers the form after (under
    /// review, or approved with its number when the bureau approves at once).
    pub fn red_form_upload(&mut self, id: RedFormId) -> Result<RedForm, WorkflowError> {
        let user = self.require_user("red info form upload")?;
        let bureau = self.require_bureau("red info form upload")?.clone();
        let form = self.store.red_form(id)?;
        if form.state != RedFormState::NotUploaded {
            return Err(red(
                format!(
                    "form {} is {}; only a form not uploaded is uploaded",
                    id.0,
                    form.state.as_str()
                ),
                "H10, FAQ 7.6",
            ));
        }
        let draft = self.bureau_draft(&form.body)?;
        let answer = bureau.submit_red_form(&draft)?;
        self.store.mark_red_form_submitted(user.id, id)?;
        self.store
            .set_setting(user.id, &number_key(id), answer.number.as_str())?;
        self.apply_review(id, &answer)?;
        Ok(self.store.red_form(id)?)
    }

    /// Records the bureau's review result of a form under review.
    fn apply_review(&mut self, id: RedFormId, answer: &BureauForm) -> Result<(), WorkflowError> {
        let user = self.require_user("red info form")?;
        match answer.state {
            BureauState::Approved | BureauState::Used => {
                self.store
                    .mark_red_form_reviewed(user.id, id, Some(&answer.number))?;
            }
            BureauState::Rejected => self.store.mark_red_form_reviewed(user.id, id, None)?,
            BureauState::UnderReview | BureauState::NotUploaded => {}
        }
        Ok(())
    }

    /// H10 (FAQ 7.14): downloads review results of this taxpayer's forms under review, and the
    /// approved forms others (buyers) filed naming this taxpayer as seller. Answers the forms
    /// that changed or arrived.
    pub fn download_red_forms(&mut self) -> Result<Vec<RedFormId>, WorkflowError> {
        let user = self.require_user("red info form download")?;
        let bureau = self.require_bureau("red info form download")?.clone();
        let mut changed = Vec::new();
        for f in self.store.red_forms(RedFormState::UnderReview)? {
            let Some(n) = self.store.setting(&number_key(f.id))? else {
                continue;
            };
            let Ok(number) = InfoFormNumber::new(n.trim()) else {
                continue;
            };
            let answer = bureau.red_form(&number)?;
            if answer.state != BureauState::UnderReview {
                self.apply_review(f.id, &answer)?;
                changed.push(f.id);
            }
        }
        let own = self.taxpayer_id("red info form download")?;
        let approved = bureau.red_forms(Some(&own), Some(BureauState::Approved))?;
        for f in approved {
            if f.draft.seller != own || self.store.red_form_by_number(&f.number)?.is_some() {
                continue;
            }
            let body = self.store_body(&f.draft)?;
            let id = self
                .store
                .add_approved_red_form(user.id, &f.number, &body)?;
            changed.push(id);
        }
        Ok(changed)
    }

    /// H10 (FAQ 7.3(2)): the red special draft of an approved form: the form's lines (already
    /// negative, no discounts, no list), this company as seller, the form's buyer. Issue it
    /// with [`Workflow::issue`]; the form becomes used (one form, one invoice, FAQ 7.4).
    pub fn red_draft_from_form(&mut self, number: &InfoFormNumber) -> Result<Draft, WorkflowError> {
        self.require_user("red special invoice")?;
        let form = match self.store.red_form_by_number(number)? {
            Some(f) => f,
            None => {
                self.download_red_forms()?;
                self.store.red_form_by_number(number)?.ok_or_else(|| {
                    red(
                        format!("info form {number} is unknown here and at the bureau"),
                        "H10, FAQ 7.3",
                    )
                })?
            }
        };
        if form.state != RedFormState::Approved {
            return Err(red(
                if form.state == RedFormState::Used {
                    taxdisk_i18n::t!("red-form-used", number = number)
                } else {
                    taxdisk_i18n::t!(
                        "red-form-not-approved",
                        number = number,
                        state = form.state.as_str()
                    )
                },
                if form.state == RedFormState::Used {
                    "H10, FAQ 7.4"
                } else {
                    "H10, FAQ 7.3"
                },
            ));
        }
        let seller = self.seller_party()?;
        let mut d = Draft::new(KindFields::Special, seller, form.body.buyer.clone());
        d.lines = form.body.lines.clone();
        d.red = Some(RedRef::InfoForm(number.clone()));
        Ok(d)
    }

    /// This company as the seller of an invoice: the disk's name and taxpayer id with the
    /// store's address, phone and first bank account (FAQ 4.16).
    pub fn seller_party(&mut self) -> Result<Party, WorkflowError> {
        let company = self.store.company()?;
        self.seller_of(&company)
    }

    /// [`Workflow::seller_party`] with the company data already read.
    pub(crate) fn seller_of(
        &mut self,
        company: &crate::store::Company,
    ) -> Result<Party, WorkflowError> {
        let info = self.info()?;
        Ok(Party {
            name: info
                .company_name
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
            taxpayer_id: info.taxpayer_id,
            address_phone: company.address_phone(),
            bank_account: company.bank_account_text(0).unwrap_or_default(),
        })
    }

    /// The bureau's form draft of a stored form body.
    fn bureau_draft(&mut self, b: &RedFormBody) -> Result<RedFormDraft, WorkflowError> {
        let serial = self.serial()?;
        let id = |p: &Party, who: &str| {
            p.taxpayer_id
                .clone()
                .ok_or_else(|| red(format!("the {who} needs a taxpayer id"), "H10, F3"))
        };
        let mut lines = Vec::with_capacity(b.lines.len());
        let (mut amount, mut tax) = (0i64, 0i64);
        for l in &b.lines {
            let a = to_fen("line amount", l.amount)?;
            let t = to_fen("line tax", l.tax)?;
            amount = amount.saturating_add(a.0);
            tax = tax.saturating_add(t.0);
            lines.push(RedFormLine {
                name: l.name.clone(),
                class_code: l.class_code.clone(),
                quantity: l
                    .quantity
                    .map(|q| q.normalize().to_string())
                    .unwrap_or_default(),
                amount: a,
                rate: l.rate,
                tax: t,
            });
        }
        Ok(RedFormDraft {
            applicant: match b.applicant {
                Applicant::Buyer => RedApplicant::Buyer,
                Applicant::Seller => RedApplicant::Seller,
            },
            serial,
            seller: id(&b.seller, "seller")?,
            buyer: id(&b.buyer, "buyer")?,
            original: b.original.clone(),
            lines,
            amount: Fen(amount),
            tax: Fen(tax),
            reason: b.reason.clone(),
        })
    }

    /// A stored form body from the bureau's draft (downloads). The bureau carries taxpayer ids
    /// only: this company's own data for itself, a saved customer's (H5) for the other party,
    /// else the taxpayer id as its name.
    pub(crate) fn store_body(&mut self, d: &RedFormDraft) -> Result<RedFormBody, WorkflowError> {
        let own = self.info()?;
        let seller_self = self.seller_party()?;
        let customers = self.store.customers(None)?;
        let party = |t: &TaxpayerId| {
            if Some(t) == own.taxpayer_id.as_ref() {
                return seller_self.clone();
            }
            // A known customer (H5) gives name, address and bank; else the id stands for it.
            customers
                .iter()
                .find(|c| c.party.taxpayer_id.as_ref() == Some(t))
                .map_or_else(
                    || Party {
                        name: t.as_str().to_owned(),
                        taxpayer_id: Some(t.clone()),
                        ..Party::default()
                    },
                    |c| c.party.clone(),
                )
        };
        let mut lines = Vec::with_capacity(d.lines.len());
        for l in &d.lines {
            let quantity = if l.quantity.trim().is_empty() {
                None
            } else {
                Some(text::parse_decimal("quantity", &l.quantity)?)
            };
            let amount = from_fen(l.amount);
            let unit_price = match quantity {
                Some(q) if !q.is_zero() => Some(round_price((amount / q).abs())),
                _ => None,
            };
            lines.push(Line {
                kind: LineKind::Goods,
                name: l.name.clone(),
                class_code: l.class_code.clone(),
                spec: String::new(),
                unit: String::new(),
                quantity,
                unit_price,
                amount,
                rate: l.rate,
                tax: from_fen(l.tax),
                zero_flag: None,
                price_mode: PriceMode::WithoutTax,
            });
        }
        if lines.iter().any(|l| l.amount >= Decimal::ZERO) {
            return Err(red("amounts must be negative", "H10, FAQ 7.11"));
        }
        Ok(RedFormBody {
            applicant: match d.applicant {
                RedApplicant::Buyer => Applicant::Buyer,
                RedApplicant::Seller => Applicant::Seller,
            },
            deducted: d.original.is_none(),
            original: d.original.clone(),
            seller: party(&d.seller),
            buyer: party(&d.buyer),
            lines,
            reason: d.reason.clone(),
        })
    }
}

/// Format tag of a red info form XML file (the root's `format` attribute).
pub const RED_FORM_XML_FORMAT: &str = "taxdisk-red-form/1";

fn party_xml(tag: &str, p: &Party) -> Element {
    Element::new(tag)
        .leaf("Name", &p.name)
        .leaf(
            "TaxpayerId",
            p.taxpayer_id.as_ref().map_or("", |t| t.as_str()),
        )
        .leaf("AddressPhone", &p.address_phone)
        .leaf("BankAccount", &p.bank_account)
}

fn opt_dec(d: Option<Decimal>) -> String {
    d.map(|d| d.normalize().to_string()).unwrap_or_default()
}

/// The XML of a form (FAQ 7.2(1)): its number when the bureau gave one, and its content.
pub fn red_form_to_xml(form: &RedForm) -> String {
    let b = &form.body;
    let mut root = Element::new("RedInfoForm");
    root.attrs
        .push(("format".into(), RED_FORM_XML_FORMAT.into()));
    let mut lines = Element::new("Lines");
    for l in &b.lines {
        lines = lines.child(
            Element::new("Line")
                .leaf("Name", &l.name)
                .leaf("ClassCode", l.class_code.as_str())
                .leaf("Spec", &l.spec)
                .leaf("Unit", &l.unit)
                .leaf("Quantity", &opt_dec(l.quantity))
                .leaf("UnitPrice", &opt_dec(l.unit_price))
                .leaf("Amount", &format!("{:.2}", l.amount))
                .leaf("Rate", &l.rate.0.to_string())
                .leaf("Tax", &format!("{:.2}", l.tax)),
        );
    }
    let (code, number) = b
        .original
        .as_ref()
        .map_or((String::new(), String::new()), |(c, n)| {
            (c.as_str().to_owned(), format!("{:08}", n.get()))
        });
    root.leaf("Number", form.number.as_ref().map_or("", |n| n.as_str()))
        .leaf(
            "Applicant",
            match b.applicant {
                Applicant::Buyer => "Buyer",
                Applicant::Seller => "Seller",
            },
        )
        .leaf("Deducted", if b.deducted { "true" } else { "false" })
        .leaf("OriginalCode", &code)
        .leaf("OriginalNumber", &number)
        .child(party_xml("Seller", &b.seller))
        .child(party_xml("Buyer", &b.buyer))
        .leaf("Reason", &b.reason)
        .child(lines)
        .to_document()
}

/// Reads a form's XML: its number (if any) and content. Untrusted input: every problem is a
/// [`WorkflowError::Medium`] naming the field.
pub fn red_form_from_xml(
    path: &Path,
    text: &str,
) -> Result<(Option<InfoFormNumber>, RedFormBody), WorkflowError> {
    let bad = |problem: String| WorkflowError::Medium {
        path: path.to_path_buf(),
        problem,
        rule: "H10, FAQ 7.2",
    };
    let root = xml::parse(text).map_err(|e| bad(e.to_string()))?;
    if root.name != "RedInfoForm" || root.attr("format") != Some(RED_FORM_XML_FORMAT) {
        return Err(bad(format!(
            "not a red info form ({RED_FORM_XML_FORMAT} RedInfoForm)"
        )));
    }
    let field = |el: &Element, name: &str| -> Result<String, WorkflowError> {
        el.text_of(name)
            .map(str::to_owned)
            .ok_or_else(|| bad(format!("<{name}> is missing")))
    };
    let number = match field(&root, "Number")?.as_str() {
        "" => None,
        n => Some(InfoFormNumber::new(n).map_err(|e| bad(format!("Number: {e}")))?),
    };
    let applicant = match field(&root, "Applicant")?.as_str() {
        "Buyer" => Applicant::Buyer,
        "Seller" => Applicant::Seller,
        other => return Err(bad(format!("Applicant {other:?} is not Buyer or Seller"))),
    };
    let deducted = match field(&root, "Deducted")?.as_str() {
        "true" => true,
        "false" => false,
        other => return Err(bad(format!("Deducted {other:?} is not true or false"))),
    };
    let (code, num) = (
        field(&root, "OriginalCode")?,
        field(&root, "OriginalNumber")?,
    );
    let original = if code.is_empty() && num.is_empty() {
        None
    } else {
        let c = text::parse_invoice_code(&code).map_err(|e| bad(format!("OriginalCode: {e}")))?;
        let n = num
            .parse::<u32>()
            .ok()
            .and_then(|n| InvoiceNumber::new(n).ok())
            .ok_or_else(|| bad(format!("OriginalNumber {num:?} is not an invoice number")))?;
        Some((c, n))
    };
    let party = |tag: &str| -> Result<Party, WorkflowError> {
        let el = root
            .get(tag)
            .ok_or_else(|| bad(format!("<{tag}> is missing")))?;
        let t = field(el, "TaxpayerId")?;
        Ok(Party {
            name: field(el, "Name")?,
            taxpayer_id: if t.is_empty() {
                None
            } else {
                Some(
                    text::parse_taxpayer_id(&t)
                        .map_err(|e| bad(format!("{tag} TaxpayerId: {e}")))?,
                )
            },
            address_phone: field(el, "AddressPhone")?,
            bank_account: field(el, "BankAccount")?,
        })
    };
    let dec = |el: &Element, name: &str| -> Result<Option<Decimal>, WorkflowError> {
        match field(el, name)?.as_str() {
            "" => Ok(None),
            s => text::parse_decimal("number", s)
                .map(Some)
                .map_err(|e| bad(format!("{name}: {e}"))),
        }
    };
    let mut lines = Vec::new();
    let list = root
        .get("Lines")
        .ok_or_else(|| bad("<Lines> is missing".into()))?;
    for (i, l) in list
        .children
        .iter()
        .filter(|c| c.name == "Line")
        .enumerate()
    {
        let at = |e: WorkflowError| match e {
            WorkflowError::Medium { problem, .. } => bad(format!("line {}: {problem}", i + 1)),
            other => other,
        };
        let need = |name: &str| {
            dec(l, name)
                .map_err(at)?
                .ok_or_else(|| bad(format!("line {}: <{name}> is empty", i + 1)))
        };
        let rate: u16 = field(l, "Rate")
            .map_err(at)?
            .parse()
            .map_err(|_| bad(format!("line {}: Rate is not in 0.01 % units", i + 1)))?;
        lines.push(Line {
            kind: LineKind::Goods,
            name: field(l, "Name").map_err(at)?,
            class_code: text::parse_class_code(&field(l, "ClassCode").map_err(at)?)
                .map_err(|e| bad(format!("line {}: ClassCode: {e}", i + 1)))?,
            spec: field(l, "Spec").map_err(at)?,
            unit: field(l, "Unit").map_err(at)?,
            quantity: dec(l, "Quantity").map_err(at)?,
            unit_price: dec(l, "UnitPrice").map_err(at)?,
            amount: need("Amount")?,
            rate: TaxRate(rate),
            tax: need("Tax")?,
            zero_flag: None,
            price_mode: PriceMode::WithoutTax,
        });
    }
    Ok((
        number,
        RedFormBody {
            applicant,
            deducted,
            original,
            seller: party("Seller")?,
            buyer: party("Buyer")?,
            lines,
            reason: field(&root, "Reason")?,
        },
    ))
}

impl Workflow {
    /// H10 (FAQ 7.2(1)): exports a form to an XML file (for a USB stick to the tax office, or
    /// to the other party).
    pub fn red_form_export_xml(&mut self, id: RedFormId, path: &Path) -> Result<(), WorkflowError> {
        self.require_user("red info form export")?;
        let form = self.store.red_form(id)?;
        std::fs::write(path, red_form_to_xml(&form)).map_err(|source| WorkflowError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// H10 (FAQ 7.2, 7.3(2)): imports a form from an XML file. A form with a number is an
    /// approved one (from the tax office or the buyer): when the bureau is reachable it must
    /// hold that form as approved with the same totals; it enters as approved, ready for the
    /// red invoice. A form without a number enters as not uploaded. The content is checked
    /// like a filled form (negative lines, no discount, original or deducted).
    pub fn red_form_import_xml(&mut self, path: &Path) -> Result<RedFormId, WorkflowError> {
        let user = self.require_user("red info form import")?;
        let bytes = super::period::read_medium(path)?;
        let text = String::from_utf8(bytes).map_err(|_| WorkflowError::Medium {
            path: path.to_path_buf(),
            problem: "not UTF-8 text".into(),
            rule: "H10, FAQ 7.2",
        })?;
        let (number, body) = red_form_from_xml(path, &text)?;
        check_no_sales_list(&body)?;
        let Some(number) = number else {
            return self.red_form_fill(&body);
        };
        if self.store.red_form_by_number(&number)?.is_some() {
            return Err(red(
                format!("info form {number} is here already"),
                "H10, FAQ 7.4",
            ));
        }
        if let Some(bureau) = self.bureau.clone() {
            let at_bureau = bureau.red_form(&number)?;
            if at_bureau.state != BureauState::Approved {
                return Err(red(
                    format!("info form {number} is not approved at the bureau"),
                    "H10, FAQ 7.3",
                ));
            }
            let mine = self.bureau_draft(&body)?;
            if (mine.amount, mine.tax) != (at_bureau.draft.amount, at_bureau.draft.tax) {
                return Err(red(
                    format!("the file's totals differ from info form {number} at the bureau"),
                    "H10, FAQ 7.3",
                ));
            }
        }
        Ok(self.store.add_approved_red_form(user.id, &number, &body)?)
    }
}
