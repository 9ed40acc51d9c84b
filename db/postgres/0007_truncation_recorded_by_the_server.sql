-- Rollcall school server (PostgreSQL), version 7: a shared table emptied by hand with
-- TRUNCATE (a new school year's marks cleared in psql, say) records the deletion of each
-- of its rows first, as a DELETE does (version 5), so every machine follows it. Before, the
-- rows went without a record: the machines took the server for one put back from a backup
-- and offered it everything again, and the truncation was undone.

CREATE OR REPLACE FUNCTION record_truncation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'class_days' THEN
        INSERT INTO deletions (tbl, uid) SELECT 'class_days', day FROM class_days;
    ELSE
        EXECUTE format('INSERT INTO deletions (tbl, uid) SELECT %L, uid FROM %I',
                       TG_TABLE_NAME, TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END
$$;

-- Every BEFORE TRUNCATE trigger fires before any table is emptied, those of the tables a
-- TRUNCATE ... CASCADE reaches included.
CREATE TRIGGER students_truncated BEFORE TRUNCATE ON students
    FOR EACH STATEMENT EXECUTE FUNCTION record_truncation();
CREATE TRIGGER face_templates_truncated BEFORE TRUNCATE ON face_templates
    FOR EACH STATEMENT EXECUTE FUNCTION record_truncation();
CREATE TRIGGER attendance_truncated BEFORE TRUNCATE ON attendance
    FOR EACH STATEMENT EXECUTE FUNCTION record_truncation();
CREATE TRIGGER class_days_truncated BEFORE TRUNCATE ON class_days
    FOR EACH STATEMENT EXECUTE FUNCTION record_truncation();
