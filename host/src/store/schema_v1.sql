-- Schema version 1. Money is integer fen; decimals (quantities, prices) are canonical strings.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- H1: one row, id = 1.
CREATE TABLE company (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    supervisor_name TEXT NOT NULL,
    address         TEXT NOT NULL,
    phone           TEXT NOT NULL,
    bureau_server   TEXT NOT NULL
);

CREATE TABLE bank_accounts (
    position INTEGER PRIMARY KEY,
    bank     TEXT NOT NULL,
    account  TEXT NOT NULL
);

-- H2: names unique across all users; role 'admin' or 'invoicer'.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'invoicer')),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- H3: per-kind permissions of invoicers (the administrator may do everything).
CREATE TABLE permissions (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind    INTEGER NOT NULL,
    action  TEXT NOT NULL,
    PRIMARY KEY (user_id, kind, action)
) WITHOUT ROWID;

-- H5
CREATE TABLE customer_categories (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES customer_categories(id)
);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    taxpayer_id   TEXT,
    address_phone TEXT NOT NULL,
    bank_account  TEXT NOT NULL,
    category_id   INTEGER REFERENCES customer_categories(id),
    UNIQUE (name, taxpayer_id)
);

-- H6
CREATE TABLE products (
    id                 INTEGER PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    class_code         TEXT NOT NULL,
    rate               INTEGER NOT NULL,
    unit               TEXT NOT NULL,
    spec               TEXT NOT NULL,
    price              TEXT,
    price_includes_tax INTEGER NOT NULL,
    preferential       TEXT,
    zero_flag          TEXT,
    rare_earth         INTEGER NOT NULL,
    hidden             INTEGER NOT NULL
);

-- Invoices: the validated content (JSON of the draft) is authoritative; lines are a queryable
-- projection written in the same transaction.
CREATE TABLE invoices (
    id            INTEGER PRIMARY KEY,
    request_id    BLOB NOT NULL UNIQUE,
    kind          INTEGER NOT NULL,
    variant       INTEGER NOT NULL,
    state         TEXT NOT NULL
                  CHECK (state IN ('pending', 'issued', 'uploaded', 'voided', 'abandoned')),
    period        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    issuer_id     INTEGER NOT NULL REFERENCES users(id),
    buyer_name    TEXT NOT NULL,
    buyer_id      TEXT,
    amount_fen    INTEGER NOT NULL,
    tax_fen       INTEGER NOT NULL,
    is_red        INTEGER NOT NULL,
    red_ref       TEXT,
    red_form_id   INTEGER REFERENCES red_forms(id),
    digest        BLOB NOT NULL,
    body          TEXT NOT NULL,
    code          TEXT,
    number        INTEGER,
    counter       INTEGER,
    disk_time     INTEGER,
    signature     BLOB,
    check_code    TEXT,
    uploaded_at   INTEGER,
    voided_at     INTEGER,
    voided_by     INTEGER REFERENCES users(id)
);

CREATE TABLE invoice_lines (
    invoice_id INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    is_discount INTEGER NOT NULL,
    name       TEXT NOT NULL,
    class_code TEXT NOT NULL,
    spec       TEXT NOT NULL,
    unit       TEXT NOT NULL,
    quantity   TEXT,
    unit_price TEXT,
    amount_fen INTEGER NOT NULL,
    rate       INTEGER NOT NULL,
    tax_fen    INTEGER NOT NULL,
    PRIMARY KEY (invoice_id, position)
) WITHOUT ROWID;

-- H10: red info forms with their local state.
CREATE TABLE red_forms (
    id         INTEGER PRIMARY KEY,
    number     TEXT UNIQUE,
    state      TEXT NOT NULL
               CHECK (state IN ('not_uploaded', 'under_review', 'approved', 'rejected', 'used')),
    body       TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    used_by    INTEGER REFERENCES invoices(id)
);

-- D11 / H15: a mirror of the disk's oil stock.
CREATE TABLE oil_stock (
    category       INTEGER PRIMARY KEY,
    unit           TEXT NOT NULL,
    milli_quantity INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id INTEGER,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
