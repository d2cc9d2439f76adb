-- Schema version 4: an invoice's content (the JSON of its validated draft, the record) in a
-- table of its own, written once when the invoice is recorded pending and never changed.
-- Issuing rewrites the invoice's row with the disk's record (code, number, signature...);
-- with the JSON inline, SQLite read and rewrote its ~600 bytes for every invoice and split
-- pages as the grown rows stopped fitting: about 1.3 us of the ~6 us the row's update took
-- (BENCHMARKS.md section 3). The rows left in `invoices` are small and hold what is queried.
CREATE TABLE invoice_bodies (
    invoice_id INTEGER PRIMARY KEY REFERENCES invoices(id),
    body       TEXT NOT NULL
);
INSERT INTO invoice_bodies (invoice_id, body) SELECT id, body FROM invoices;
ALTER TABLE invoices DROP COLUMN body;
