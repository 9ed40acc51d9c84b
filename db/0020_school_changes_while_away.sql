-- Rollcall schema, version 20: a folder away from the school server (it left it: `left_at`
-- set) records in its outbox every change made there, as a linked one does — not only what
-- it erases — and when it joins the school again it sends them first (the entries up to
-- `away_until`, the outbox's last entry when it joined), before the school's rows are
-- fetched and win over the rest. A mark corrected or taken away, a student renamed or a
-- class day withdrawn while away reached the school only to be overwritten by the
-- school's older copy until this version. While away a template's deletion is still
-- recorded only when it is the deletion itself (a photo removed), as version 19 has it.

ALTER TABLE school_link ADD COLUMN away_until INTEGER;

DROP TRIGGER students_gone_while_away;
DROP TRIGGER face_templates_gone_while_away;

DROP TRIGGER students_new;
CREATE TRIGGER students_new AFTER INSERT ON students BEGIN
    UPDATE students SET uid = COALESCE(uid, lower(hex(randomblob(16)))) WHERE id = NEW.id;
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'students', s.uid FROM students s, school_link l
    WHERE s.id = NEW.id AND l.applying = 0 AND (l.linked = 1 OR l.left_at IS NOT NULL);
END;
DROP TRIGGER students_changed;
CREATE TRIGGER students_changed AFTER UPDATE ON students WHEN OLD.uid IS NOT NULL BEGIN
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'students', NEW.uid FROM school_link
    WHERE applying = 0 AND (linked = 1 OR left_at IS NOT NULL);
END;
DROP TRIGGER students_gone;
CREATE TRIGGER students_gone AFTER DELETE ON students BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'students', OLD.uid, 1 FROM school_link
    WHERE applying = 0 AND (linked = 1 OR left_at IS NOT NULL);
END;

DROP TRIGGER face_templates_new;
CREATE TRIGGER face_templates_new AFTER INSERT ON face_templates BEGIN
    UPDATE face_templates SET uid = COALESCE(uid, lower(hex(randomblob(16)))) WHERE id = NEW.id;
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'face_templates', t.uid FROM face_templates t, school_link l
    WHERE t.id = NEW.id AND l.applying = 0 AND (l.linked = 1 OR l.left_at IS NOT NULL);
END;
DROP TRIGGER face_templates_gone;
CREATE TRIGGER face_templates_gone AFTER DELETE ON face_templates BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'face_templates', OLD.uid, 1 FROM school_link l
    WHERE l.applying = 0
      AND (l.linked = 1
           OR (l.left_at IS NOT NULL
               AND EXISTS (SELECT 1 FROM students s WHERE s.id = OLD.student_id
                             AND NOT EXISTS (SELECT 1 FROM school_outbox o
                                             WHERE o.tbl = 'face_data' AND o.uid = s.uid
                                               AND o.gone = 1))));
END;

DROP TRIGGER attendance_new;
CREATE TRIGGER attendance_new AFTER INSERT ON attendance BEGIN
    UPDATE attendance
    SET uid = COALESCE(uid, lower(hex(randomblob(16)))),
        door = CASE WHEN NEW.uid IS NULL THEN COALESCE(door, (SELECT door FROM school_link))
                    ELSE door END
    WHERE id = NEW.id;
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'attendance', a.uid FROM attendance a, school_link l
    WHERE a.id = NEW.id AND l.applying = 0 AND (l.linked = 1 OR l.left_at IS NOT NULL);
END;
DROP TRIGGER attendance_changed;
CREATE TRIGGER attendance_changed AFTER UPDATE ON attendance WHEN OLD.uid IS NOT NULL BEGIN
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'attendance', NEW.uid FROM school_link
    WHERE applying = 0 AND (linked = 1 OR left_at IS NOT NULL);
END;
DROP TRIGGER attendance_gone;
CREATE TRIGGER attendance_gone AFTER DELETE ON attendance BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'attendance', OLD.uid, 1 FROM school_link
    WHERE applying = 0 AND (linked = 1 OR left_at IS NOT NULL);
END;

DROP TRIGGER class_days_new;
CREATE TRIGGER class_days_new AFTER INSERT ON class_days BEGIN
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'class_days', NEW.day FROM school_link
    WHERE applying = 0 AND (linked = 1 OR left_at IS NOT NULL);
END;
DROP TRIGGER class_days_gone;
CREATE TRIGGER class_days_gone AFTER DELETE ON class_days BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'class_days', OLD.day, 1 FROM school_link
    WHERE applying = 0 AND (linked = 1 OR left_at IS NOT NULL);
END;
