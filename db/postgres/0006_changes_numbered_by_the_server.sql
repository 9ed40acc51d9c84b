-- Rollcall school server (PostgreSQL), version 6: the server numbers every change of a
-- shared row itself, under the writers' lock, whoever makes it — Rollcall, or someone by
-- hand in psql. Before, a row changed by hand kept the number of its last change, so no
-- machine fetched the change, and a row added by hand was numbered outside the lock, so a
-- door could fetch a later-numbered change first and then never ask for it.

CREATE OR REPLACE FUNCTION number_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The writers' advisory lock ("Rollcall", held to the end of the transaction, as
    -- Rollcall's own writers take it): changes become visible in the order of their numbers.
    PERFORM pg_advisory_xact_lock(5940085646304570476);
    NEW.change := nextval('school_changes');
    RETURN NEW;
END
$$;

-- Named to fire after the other BEFORE triggers (PostgreSQL fires them in name order): a
-- change attendance_keep_decision_by_hand drops is not numbered.
CREATE TRIGGER students_numbered BEFORE INSERT OR UPDATE ON students
    FOR EACH ROW EXECUTE FUNCTION number_change();
CREATE TRIGGER face_templates_numbered BEFORE INSERT OR UPDATE ON face_templates
    FOR EACH ROW EXECUTE FUNCTION number_change();
CREATE TRIGGER attendance_numbered BEFORE INSERT OR UPDATE ON attendance
    FOR EACH ROW EXECUTE FUNCTION number_change();
CREATE TRIGGER class_days_numbered BEFORE INSERT OR UPDATE ON class_days
    FOR EACH ROW EXECUTE FUNCTION number_change();
CREATE TRIGGER deletions_numbered BEFORE INSERT ON deletions
    FOR EACH ROW EXECUTE FUNCTION number_change();
