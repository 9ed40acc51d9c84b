-- Rollcall schema, version 18: a folder that leaves the school server remembers when
-- (`left_at`, a stored time) and keeps recording in its outbox what is erased there
-- meanwhile — a student deleted, a photo's template removed (a student's face data erased
-- is recorded by Rollcall itself) — so that linking it again tells the school rather than
-- taking it back from the school's older copy. NULL: never linked, or linked again since.
-- Templates of models this folder no longer runs are dropped with `applying` set: not an
-- erasure, and other machines of the school may run those models.
-- The outbox is also looked up by row (a fetch that the school wins drops what waits for
-- each row it brings; a row erased here is not fetched back): without an index each
-- lookup read the whole outbox.

ALTER TABLE school_link ADD COLUMN left_at TEXT;
CREATE INDEX school_outbox_row ON school_outbox (tbl, uid);

CREATE TRIGGER students_gone_while_away AFTER DELETE ON students BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'students', OLD.uid, 1 FROM school_link
    WHERE linked = 0 AND left_at IS NOT NULL AND applying = 0;
END;
CREATE TRIGGER face_templates_gone_while_away AFTER DELETE ON face_templates BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'face_templates', OLD.uid, 1 FROM school_link
    WHERE linked = 0 AND left_at IS NOT NULL AND applying = 0;
END;
