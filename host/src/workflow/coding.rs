//! H6 (FAQ 3.3-3.6): product and customer coding (商品编码, 客户编码) as the logged-in user:
//! what the CLI and a library user save, with the store's checks and audit log behind it; and
//! H5's customer categories (FAQ 3.1) and switch for saving buyers automatically (FAQ 3.2).

use super::Workflow;
use super::errors::WorkflowError;
use crate::store::{CategoryId, CustomerId, NewCustomer, NewProduct, ProductId};

impl Workflow {
    /// H6: saves a product under the logged-in user (audit-logged; refused while the disk
    /// holds only motor-vehicle or used-car authorization, FAQ 3.5).
    pub fn add_product(&mut self, p: &NewProduct) -> Result<ProductId, WorkflowError> {
        let user = self.require_user("product coding")?;
        Ok(self.store.add_product(user.id, p)?)
    }

    /// H6: saves a customer under the logged-in user (audit-logged).
    pub fn add_customer(&mut self, c: &NewCustomer) -> Result<CustomerId, WorkflowError> {
        let user = self.require_user("customer coding")?;
        Ok(self.store.add_customer(user.id, c)?)
    }

    /// H5 (FAQ 3.1, 客户分类): adds a customer category under the logged-in user, at the top
    /// or under `parent` (audit-logged; its name differs from every other category's).
    pub fn add_category(
        &mut self,
        name: &str,
        parent: Option<CategoryId>,
    ) -> Result<CategoryId, WorkflowError> {
        let user = self.require_user("customer coding")?;
        Ok(self.store.add_category(user.id, name, parent)?)
    }

    /// H5 (FAQ 3.2, 自动保存): turns the automatic saving of each issued invoice's buyer to
    /// the customers on or off, for every user of this database (audit-logged). Off, a buyer is
    /// saved by hand ([`Workflow::add_customer`], 手工保存).
    pub fn set_auto_save_buyers(&mut self, on: bool) -> Result<(), WorkflowError> {
        let user = self.require_user("customer settings")?;
        Ok(self.store.set_auto_save_buyers(user.id, on)?)
    }
}
