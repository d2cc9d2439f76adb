-- Schema version 5: changes sent to the disk whose answer may have been lost (a cut link, a
-- power cut of the disk, a killed process). Written before the first send with the request id
-- the disk will answer to, removed once the outcome is known; the next session sends what is
-- left again under the same id, so the disk carries each out once (D7, D4).
CREATE TABLE intents (
    request_id BLOB PRIMARY KEY,
    op         TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES users(id)
);
