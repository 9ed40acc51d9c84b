-- Rollcall schema, version 17: the newest change this folder fetched from the school
-- server (JSON: its number, table, uid, and a template's or mark's student and day). A
-- server that no longer holds it was put back as a copy of its data folder from before
-- it (PostgreSQL's ids, `server_id`, stay the same then): this folder gives the server a
-- new life, so every machine notices, and tells it everything again. NULL: nothing
-- fetched since the link began.

ALTER TABLE school_link ADD COLUMN last_seen TEXT;
