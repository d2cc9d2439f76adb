-- Schema version 6: invoice row ids from a sequence, and a version of what issuing reads.
--
-- Under Durability::Normal an issuing process records invoices in a journal file of its own
-- and folds them into this database behind the disk's signing (store/deferred.rs); it must
-- know each invoice's row id before the row exists. Every INSERT into invoices now takes its
-- ids from `sequences` (a process reserves a block of them in one commit), so ids of rows not
-- folded yet are never given to another writer.
CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);
INSERT INTO sequences (name, next) VALUES ('invoices', (SELECT COALESCE(MAX(id), 0) + 1 FROM invoices));

-- Moves on every change of what an issuing call reads before it records anything (the company
-- data, users, permissions, settings: H1, H3, H5), by any connection or process: a call reads
-- this one row and reuses what it read before while the number has not moved.
CREATE TABLE config_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO config_version (id, version) VALUES (1, 1);
CREATE TRIGGER company_ins AFTER INSERT ON company BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER company_upd AFTER UPDATE ON company BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER company_del AFTER DELETE ON company BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER bank_accounts_ins AFTER INSERT ON bank_accounts BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER bank_accounts_upd AFTER UPDATE ON bank_accounts BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER bank_accounts_del AFTER DELETE ON bank_accounts BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER users_upd AFTER UPDATE ON users BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER users_del AFTER DELETE ON users BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER permissions_ins AFTER INSERT ON permissions BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER permissions_upd AFTER UPDATE ON permissions BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER permissions_del AFTER DELETE ON permissions BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER settings_ins AFTER INSERT ON settings BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER settings_upd AFTER UPDATE ON settings BEGIN UPDATE config_version SET version = version + 1; END;
CREATE TRIGGER settings_del AFTER DELETE ON settings BEGIN UPDATE config_version SET version = version + 1; END;
