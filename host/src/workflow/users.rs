//! User management (用户管理, H2, H3, FAQ 2.2-2.5, 4.19) with the logged-in user as the actor:
//! the store checks that only the administrator adds users and grants permissions, that names
//! stay unique and that a password change gives the old password.

use super::Workflow;
use super::errors::WorkflowError;
use crate::store::{Action, User, UserId};
use taxdisk_protocol::types::InvoiceKind;

impl Workflow {
    /// H2 (FAQ 2.3): adds an invoicer (administrator only; the name differs from every user's).
    pub fn add_invoicer(&mut self, name: &str, password: &str) -> Result<UserId, WorkflowError> {
        let user = self.require_user("user management")?;
        Ok(self.store.add_invoicer(user.id, name, password)?)
    }

    /// H2 (FAQ 2.4, 2.5): the logged-in user changes their password; the old one must match.
    pub fn change_password(&mut self, old: &str, new: &str) -> Result<(), WorkflowError> {
        let user = self.require_user("password change")?;
        Ok(self.store.change_password(user.id, old, new)?)
    }

    /// H2 (FAQ 2.5): the logged-in user renames themselves after giving their password.
    pub fn rename_self(&mut self, password: &str, new_name: &str) -> Result<User, WorkflowError> {
        let user = self.require_user("user rename")?;
        self.store.rename_user(user.id, password, new_name)?;
        let renamed = self.store.user(user.id)?;
        self.user = Some(renamed.clone());
        Ok(renamed)
    }

    /// H3 (FAQ 4.19): grants `action` on `kind` to `to` (administrator only).
    pub fn grant(
        &mut self,
        to: UserId,
        kind: InvoiceKind,
        action: Action,
    ) -> Result<(), WorkflowError> {
        let user = self.require_user("permissions")?;
        Ok(self.store.grant(user.id, to, kind, action)?)
    }

    /// H3: withdraws `action` on `kind` from `from` (administrator only).
    pub fn revoke(
        &mut self,
        from: UserId,
        kind: InvoiceKind,
        action: Action,
    ) -> Result<(), WorkflowError> {
        let user = self.require_user("permissions")?;
        Ok(self.store.revoke(user.id, from, kind, action)?)
    }
}
