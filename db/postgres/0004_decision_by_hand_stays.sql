-- Rollcall school server (PostgreSQL), version 4: a decision by hand (a correction, present
-- or absent: source 'admin') stays when a door offers its own older mark of the same row
-- again (after a crash, or a school server put back from a backup). Rollcall has sent
-- that rule with its own SQL since 2026-12-05; here the server keeps it against every
-- door, one still on an older release included.

CREATE OR REPLACE FUNCTION attendance_keep_decision_by_hand() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.source = 'admin' AND NEW.source <> 'admin' THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER attendance_keep_decision_by_hand BEFORE UPDATE ON attendance
    FOR EACH ROW EXECUTE FUNCTION attendance_keep_decision_by_hand();
