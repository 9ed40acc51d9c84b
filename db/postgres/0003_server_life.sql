-- Rollcall school server (PostgreSQL), version 3: which life of the server this is. A
-- server put back as a copy of its data folder (a disk image, a virtual machine's
-- snapshot) keeps PostgreSQL's ids, and only the machines whose newest fetched change it
-- lost can tell; the first of them gives it a new life here, so that every other machine
-- notices too and tells the school everything again.

-- (Written so that it also runs over a server put back in place from a backup made before
-- it, which leaves this table as the later server had it.)
CREATE TABLE IF NOT EXISTS server_life (id TEXT NOT NULL);
INSERT INTO server_life (id) SELECT md5(random()::text || clock_timestamp()::text)
WHERE NOT EXISTS (SELECT 1 FROM server_life);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rollcall_door') THEN
        GRANT SELECT, UPDATE ON server_life TO rollcall_door;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rollcall_admin') THEN
        GRANT SELECT, UPDATE ON server_life TO rollcall_admin;
    END IF;
END
$$;
