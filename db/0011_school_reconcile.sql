-- Rollcall schema, version 11: a door whose database was restored from a backup (or linked
-- for the first time) fetches the school's changes before it sends what waits in its
-- outbox, and the school's changes win: a backup's pending changes, older than what the
-- school changed since, do not overwrite it (a rename, a face-data erasure, a correction).

ALTER TABLE school_link ADD COLUMN reconcile INTEGER NOT NULL DEFAULT 0;
