-- Rollcall schema, version 16: which school server this folder last reached, as the
-- server's database and its students table are known to PostgreSQL (object ids that a
-- restore from `pg_dump` does not bring back). A server found under another id was put
-- back from a backup (or replaced): it lacks what changed since, so this folder offers it
-- everything again and fetches everything anew. NULL: not reached yet.

ALTER TABLE school_link ADD COLUMN server_id TEXT;
