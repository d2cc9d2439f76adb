-- Schema version 3: month indexes without the invoice state. With the state in them, issuing
-- moved three index entries per invoice (pending -> issued), a third of the store's work per
-- invoice (BENCHMARKS.md section 3). (period, kind) serves month queries by period, and by
-- period and kind; the state is checked on the rows found. invoices_state still finds the
-- pending and issued ones for repair and upload.
DROP INDEX invoices_period_kind_state;
DROP INDEX invoices_period_state;
CREATE INDEX invoices_period_kind ON invoices (period, kind);
-- The line rows were a second copy of what each invoice's JSON holds, written for every
-- invoice and read by nothing (exports read the lines from the JSON): one to three more
-- B-tree inserts per invoice. The JSON is the record.
DROP TABLE invoice_lines;
