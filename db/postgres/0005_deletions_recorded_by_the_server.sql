-- Rollcall school server (PostgreSQL), version 5: the server records every deletion of a
-- shared row itself, whoever deletes it — Rollcall, the database along with a deleted
-- student, or someone by hand in psql — so every door follows it, and no machine takes a
-- row gone without a record for a sign that the server was put back from a backup.

CREATE OR REPLACE FUNCTION record_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'class_days' THEN
        INSERT INTO deletions (tbl, uid) VALUES (TG_TABLE_NAME, OLD.day);
    ELSE
        INSERT INTO deletions (tbl, uid) VALUES (TG_TABLE_NAME, OLD.uid);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER students_deleted AFTER DELETE ON students
    FOR EACH ROW EXECUTE FUNCTION record_deletion();
CREATE TRIGGER face_templates_deleted AFTER DELETE ON face_templates
    FOR EACH ROW EXECUTE FUNCTION record_deletion();
CREATE TRIGGER attendance_deleted AFTER DELETE ON attendance
    FOR EACH ROW EXECUTE FUNCTION record_deletion();
CREATE TRIGGER class_days_deleted AFTER DELETE ON class_days
    FOR EACH ROW EXECUTE FUNCTION record_deletion();
