//! Refined oil (成品油管理, H15, FAQ 8.1-8.7): shown only with an oil authorization that is in
//! force (D10); stock download from the bureau into the disk (D11, B7) and return of stock
//! with the disk's signed receipt. Quantities are thousandths of 升 (litre) or 吨 (tonne).
//! The store keeps a mirror of the disk's stock for display.

use super::Workflow;
use super::errors::WorkflowError;
use crate::store::IntentOp;
use taxdisk_protocol::bureau_api::OilGrantRequest;
use taxdisk_protocol::types::{OilCategory, OilRole, OilStockEntry, OilUnit, RequestId};

impl Workflow {
    /// H15: refuses unless the disk holds an oil authorization in force (FAQ 8.1).
    fn require_oil(&mut self, what: &'static str) -> Result<OilRole, WorkflowError> {
        let info = self.refresh_info()?;
        let expired = info.oil_valid_until.is_some_and(|t| info.time > t);
        if info.oil_role == OilRole::None || expired {
            return Err(WorkflowError::rule(
                what,
                if expired {
                    "the refined-oil authorization has expired"
                } else {
                    "the disk holds no refined-oil authorization (成品油生产企业/经销企业)"
                },
                "H15, FAQ 8.1",
            ));
        }
        Ok(info.oil_role)
    }

    /// H15: the disk's oil stock (shown only with an oil authorization); the mirror in the
    /// store is refreshed.
    pub fn oil_stock(&mut self) -> Result<Vec<OilStockEntry>, WorkflowError> {
        self.require_user("oil stock")?;
        self.require_oil("oil stock")?;
        let stock = self.disk.oil_stock()?;
        self.store.set_oil_stock(&stock)?;
        Ok(stock)
    }

    /// H15 (FAQ 8.2(4), 8.4): downloads `milli_quantity` thousandths of `unit` of `category`
    /// from the bureau into the disk; answers the category's stock after.
    pub fn oil_download(
        &mut self,
        category: OilCategory,
        unit: OilUnit,
        milli_quantity: i64,
    ) -> Result<OilStockEntry, WorkflowError> {
        self.require_user("oil stock download")?;
        self.require_oil("oil stock download")?;
        if milli_quantity <= 0 {
            return Err(WorkflowError::rule(
                "oil stock download",
                "the quantity must be positive",
                "H15",
            ));
        }
        let bureau = self.require_bureau("oil stock download")?.clone();
        let serial = self.serial()?;
        let grant = bureau.oil_grant(&OilGrantRequest {
            serial,
            stock: OilStockEntry {
                category,
                unit,
                milli_quantity,
            },
        })?;
        let entry = self.disk.load_oil_stock(grant)?;
        let stock = self.disk.oil_stock()?;
        self.store.set_oil_stock(&stock)?;
        Ok(entry)
    }

    /// H15 (FAQ 8.5(1)): returns stock to the bureau: the disk signs the return, the bureau
    /// takes the receipt.
    pub fn oil_return(
        &mut self,
        category: OilCategory,
        unit: OilUnit,
        milli_quantity: i64,
    ) -> Result<(), WorkflowError> {
        self.require_user("oil stock return")?;
        self.require_oil("oil stock return")?;
        self.require_bureau("oil stock return")?;
        let stock = OilStockEntry {
            category,
            unit,
            milli_quantity,
        };
        // Written down before it is sent: a lost answer is sent again at the next login under
        // the same id (`intents`), which answers the receipt of the one return.
        let op = IntentOp::ReturnOil { stock };
        self.run_intent(op, |wf, id| wf.oil_return_with_id(id, stock))
    }

    /// [`oil_return`](Self::oil_return) under a request id chosen by the caller: the same id
    /// sent again answers the same receipt and returns no more oil (D11).
    pub fn oil_return_with_id(
        &mut self,
        request_id: RequestId,
        stock: OilStockEntry,
    ) -> Result<(), WorkflowError> {
        let bureau = self.require_bureau("oil stock return")?.clone();
        let receipt = self.disk.return_oil_stock_with_id(request_id, stock)?;
        let stock = self.disk.oil_stock()?;
        self.store.set_oil_stock(&stock)?;
        bureau.oil_return(&receipt)?;
        Ok(())
    }
}
