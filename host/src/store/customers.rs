//! Customers with categories (H5, FAQ 3.1, 3.2). A buyer typed on an invoice can be saved by
//! hand ([`Store::save_buyer`]) or automatically when the `auto_save_buyers` setting is on
//! ([`Store::save_buyer_automatically`]). Saving matches an existing customer by taxpayer id, or
//! by name when the buyer has none, and updates it instead of adding a duplicate.

use super::UserId;
use super::company::SETTING_AUTO_SAVE_BUYERS;
use super::{Store, StoreError, audit};
use crate::invoice::Party;
use rusqlite::{OptionalExtension, params};
use taxdisk_protocol::types::TaxpayerId;

/// A customer's row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(pub i64);

/// A category's row id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryId(pub i64);

/// A customer category (客户分类), optionally under a parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    /// Id.
    pub id: CategoryId,
    /// Name.
    pub name: String,
    /// Parent.
    pub parent: Option<CategoryId>,
}

/// A customer to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCustomer {
    /// Code (客户编码); empty to number it automatically (`C` and the row id).
    pub code: String,
    /// The buyer's data.
    pub party: Party,
    /// Category.
    pub category: Option<CategoryId>,
}

/// A stored customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    /// Id.
    pub id: CustomerId,
    /// Code.
    pub code: String,
    /// The buyer's data, ready for an invoice.
    pub party: Party,
    /// Category.
    pub category: Option<CategoryId>,
}

/// What saving a buyer did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavedBuyer {
    /// A new customer.
    Added(CustomerId),
    /// An existing customer was updated (or already held these details: then nothing was
    /// written).
    Updated(CustomerId),
}

/// A saved customer's details, as [`Store::save_buyer`] compares them.
struct Held {
    id: i64,
    name: String,
    address_phone: String,
    bank_account: String,
    category: Option<i64>,
}

/// A category read from `SELECT id, name, parent_id`.
fn category_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Category> {
    Ok(Category {
        id: CategoryId(r.get(0)?),
        name: r.get(1)?,
        parent: r.get::<_, Option<i64>>(2)?.map(CategoryId),
    })
}

/// H5: the id of the category named `name` (already trimmed), the first by id.
fn category_id_named(conn: &rusqlite::Connection, name: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM customer_categories WHERE name = ?1 ORDER BY id LIMIT 1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

fn check_party(p: &Party) -> Result<(), StoreError> {
    if p.name.trim().is_empty() {
        return Err(StoreError::Field {
            rule: "H5",
            field: "customer name",
            problem: "is required".into(),
        });
    }
    Ok(())
}

type CustomerRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<i64>,
);

fn row_customer(r: &rusqlite::Row<'_>) -> rusqlite::Result<CustomerRow> {
    // rusqlite reads a row into a tuple of its columns in order.
    CustomerRow::try_from(r)
}

fn to_customer(
    (id, code, name, tid, address_phone, bank_account, cat): CustomerRow,
) -> Result<Customer, StoreError> {
    let taxpayer_id = tid
        .map(|t| TaxpayerId::new(&t).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()?;
    Ok(Customer {
        id: CustomerId(id),
        code,
        party: Party {
            name,
            taxpayer_id,
            address_phone,
            bank_account,
        },
        category: cat.map(CategoryId),
    })
}

const CUSTOMER_COLUMNS: &str =
    "id, code, name, taxpayer_id, address_phone, bank_account, category_id";

impl Store {
    /// H5: adds a category, at the top or under `parent`. Its name (trimmed) is required and
    /// differs from every other category's, so a person can name it; `parent` must exist.
    pub fn add_category(
        &mut self,
        actor: UserId,
        name: &str,
        parent: Option<CategoryId>,
    ) -> Result<CategoryId, StoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Field {
                rule: "H5",
                field: "category name",
                problem: "is required".into(),
            });
        }
        let tx = self.conn.transaction()?;
        if let Some(id) = category_id_named(&tx, name)? {
            return Err(StoreError::CategoryTaken {
                name: name.to_owned(),
                id,
            });
        }
        if let Some(p) = parent {
            let found: Option<i64> = tx
                .prepare_cached("SELECT id FROM customer_categories WHERE id = ?1")?
                .query_row([p.0], |r| r.get(0))
                .optional()?;
            if found.is_none() {
                return Err(StoreError::Field {
                    rule: "H5",
                    field: "parent category",
                    problem: format!("there is no category {}", p.0),
                });
            }
        }
        tx.prepare_cached("INSERT INTO customer_categories (name, parent_id) VALUES (?1, ?2)")?
            .execute(params![name, parent.map(|p| p.0)])?;
        let id = CategoryId(tx.last_insert_rowid());
        audit::write(&tx, Some(actor), "customer.category", name)?;
        tx.commit()?;
        Ok(id)
    }

    /// H5: the category named `name` (trimmed); the first by id if the library was given two
    /// of one name.
    pub fn category_named(&self, name: &str) -> Result<Option<Category>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, name, parent_id FROM customer_categories WHERE name = ?1 ORDER BY id LIMIT 1",
            )?
            .query_row([name.trim()], category_row)
            .optional()?)
    }

    /// H5: every category.
    pub fn categories(&self) -> Result<Vec<Category>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, parent_id FROM customer_categories ORDER BY id")?;
        let rows = stmt.query_map([], category_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// H5 (FAQ 3.1): adds a customer.
    pub fn add_customer(
        &mut self,
        actor: UserId,
        c: &NewCustomer,
    ) -> Result<CustomerId, StoreError> {
        check_party(&c.party)?;
        let tx = self.conn.transaction()?;
        let id = insert_customer(&tx, c)?;
        audit::write(&tx, Some(actor), "customer.add", c.party.name.trim())?;
        tx.commit()?;
        Ok(id)
    }

    /// H5: replaces a customer's data and category.
    pub fn update_customer(
        &mut self,
        actor: UserId,
        id: CustomerId,
        party: &Party,
        category: Option<CategoryId>,
    ) -> Result<(), StoreError> {
        check_party(party)?;
        let tx = self.conn.transaction()?;
        let n = tx
            .prepare_cached(
                "UPDATE customers SET name = ?1, taxpayer_id = ?2, address_phone = ?3,
                 bank_account = ?4, category_id = ?5 WHERE id = ?6",
            )?
            .execute(params![
                party.name.trim(),
                party.taxpayer_id.as_ref().map(|t| t.as_str()),
                party.address_phone,
                party.bank_account,
                category.map(|c| c.0),
                id.0
            ])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("customer {}", id.0)));
        }
        audit::write(&tx, Some(actor), "customer.update", party.name.trim())?;
        tx.commit()?;
        Ok(())
    }

    /// H5: deletes a customer.
    pub fn delete_customer(&mut self, actor: UserId, id: CustomerId) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx
            .prepare_cached("DELETE FROM customers WHERE id = ?1")?
            .execute([id.0])?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("customer {}", id.0)));
        }
        audit::write(&tx, Some(actor), "customer.delete", &id.0.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// H5: customers, all or of one category, by code.
    pub fn customers(&self, category: Option<CategoryId>) -> Result<Vec<Customer>, StoreError> {
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers
             WHERE ?1 IS NULL OR category_id = ?1 ORDER BY code"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([category.map(|c| c.0)], row_customer)?;
        rows.map(|r| to_customer(r?)).collect()
    }

    /// H5: one customer.
    pub fn customer(&self, id: CustomerId) -> Result<Customer, StoreError> {
        let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)?
            .query_row([id.0], row_customer)
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("customer {}", id.0)))?;
        to_customer(row)
    }

    /// H5 (FAQ 3.2, 手工保存): saves an invoice's buyer as a customer, updating the customer with
    /// the same taxpayer id (or the same name, for buyers without id).
    pub fn save_buyer(
        &mut self,
        actor: UserId,
        buyer: &Party,
        category: Option<CategoryId>,
    ) -> Result<SavedBuyer, StoreError> {
        check_party(buyer)?;
        // Customers are not invoices: nothing here waits for deferred issuing records. A
        // buyer already held as given (every call of one buyer) is answered from a read,
        // without taking the write lock another writer may hold.
        if let Some(h) = held(self.conn.raw(), buyer)?
            && same(&h, buyer, category)
        {
            return Ok(SavedBuyer::Updated(CustomerId(h.id)));
        }
        let tx = self.conn.raw_mut().transaction()?;
        let existing = held(&tx, buyer)?;
        let saved = match existing {
            // Already held as given (a batch saves its buyer once per call): nothing to write,
            // no commit, no audit line for a change that is none.
            Some(h) if same(&h, buyer, category) => {
                return Ok(SavedBuyer::Updated(CustomerId(h.id)));
            }
            Some(Held { id, .. }) => {
                tx.prepare_cached(
                    "UPDATE customers SET name = ?1, address_phone = ?2, bank_account = ?3,
                     category_id = COALESCE(?4, category_id) WHERE id = ?5",
                )?
                .execute(params![
                    buyer.name.trim(),
                    buyer.address_phone,
                    buyer.bank_account,
                    category.map(|c| c.0),
                    id
                ])?;
                SavedBuyer::Updated(CustomerId(id))
            }
            None => SavedBuyer::Added(insert_customer(
                &tx,
                &NewCustomer {
                    code: String::new(),
                    party: buyer.clone(),
                    category,
                },
            )?),
        };
        audit::write(&tx, Some(actor), "customer.save_buyer", buyer.name.trim())?;
        tx.commit()?;
        Ok(saved)
    }

    /// H5 (FAQ 3.2, 自动保存): whether issued invoices' buyers are saved to the customers
    /// automatically (the `auto_save_buyers` setting is `"1"`).
    pub fn auto_save_buyers(&self) -> Result<bool, StoreError> {
        Ok(self.setting(SETTING_AUTO_SAVE_BUYERS)?.as_deref() == Some("1"))
    }

    /// H5: turns the automatic saving of buyers on or off for every user of this database,
    /// as `actor` (audit-logged).
    pub fn set_auto_save_buyers(&mut self, actor: UserId, on: bool) -> Result<(), StoreError> {
        self.set_setting(actor, SETTING_AUTO_SAVE_BUYERS, if on { "1" } else { "0" })
    }

    /// H5 (FAQ 3.2, 自动保存): saves the buyer when [`Store::auto_save_buyers`]; otherwise
    /// does nothing and answers `None`.
    pub fn save_buyer_automatically(
        &mut self,
        actor: UserId,
        buyer: &Party,
    ) -> Result<Option<SavedBuyer>, StoreError> {
        if !self.auto_save_buyers()? {
            return Ok(None);
        }
        self.save_buyer(actor, buyer, None).map(Some)
    }
}

/// The customer `buyer` is (by taxpayer id, or by name when it has none), as held now.
fn held(conn: &rusqlite::Connection, buyer: &Party) -> Result<Option<Held>, StoreError> {
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Held> {
        Ok(Held {
            id: r.get(0)?,
            name: r.get(1)?,
            address_phone: r.get(2)?,
            bank_account: r.get(3)?,
            category: r.get(4)?,
        })
    };
    Ok(match &buyer.taxpayer_id {
        Some(t) => conn
            .prepare_cached(
                "SELECT id, name, address_phone, bank_account, category_id
                 FROM customers WHERE taxpayer_id = ?1",
            )?
            .query_row([t.as_str()], row)
            .optional()?,
        None => conn
            .prepare_cached(
                "SELECT id, name, address_phone, bank_account, category_id
                 FROM customers WHERE taxpayer_id IS NULL AND name = ?1",
            )?
            .query_row([buyer.name.trim()], row)
            .optional()?,
    })
}

/// Whether `h` holds `buyer` as given (and in `category`, when one is given).
fn same(h: &Held, buyer: &Party, category: Option<CategoryId>) -> bool {
    h.name == buyer.name.trim()
        && h.address_phone == buyer.address_phone
        && h.bank_account == buyer.bank_account
        && category.is_none_or(|c| h.category == Some(c.0))
}

fn insert_customer(conn: &rusqlite::Connection, c: &NewCustomer) -> Result<CustomerId, StoreError> {
    // A unique placeholder code until the row id is known.
    let code = if c.code.trim().is_empty() {
        format!("tmp-{}", super::now_secs())
    } else {
        c.code.trim().to_owned()
    };
    conn.prepare_cached(
        "INSERT INTO customers (code, name, taxpayer_id, address_phone, bank_account, category_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        code,
        c.party.name.trim(),
        c.party.taxpayer_id.as_ref().map(|t| t.as_str()),
        c.party.address_phone,
        c.party.bank_account,
        c.category.map(|x| x.0)
    ])?;
    let id = conn.last_insert_rowid();
    if c.code.trim().is_empty() {
        conn.prepare_cached("UPDATE customers SET code = ?1 WHERE id = ?2")?
            .execute(params![format!("C{id:06}"), id])?;
    }
    Ok(CustomerId(id))
}
