-- Rollcall schema, version 7: several doors on one school server (PostgreSQL).
-- Rows the school shares get a uid that is the same at every door; marks record their
-- door; while this data folder is linked to a school server, every change made here waits
-- in an outbox until the server has it. A folder never linked behaves as before.

ALTER TABLE students ADD COLUMN uid TEXT;
ALTER TABLE face_templates ADD COLUMN uid TEXT;
ALTER TABLE face_templates ADD COLUMN origin TEXT;      -- for templates without a photo here
ALTER TABLE attendance ADD COLUMN uid TEXT;
ALTER TABLE attendance ADD COLUMN door TEXT;            -- the door that marked; NULL before v7
UPDATE students SET uid = lower(hex(randomblob(16)));
UPDATE face_templates SET uid = lower(hex(randomblob(16)));
UPDATE attendance SET uid = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX students_uid ON students(uid);
CREATE UNIQUE INDEX face_templates_uid ON face_templates(uid);
CREATE UNIQUE INDEX attendance_uid ON attendance(uid);

-- This folder's link to the school server (one row).
CREATE TABLE school_link (
    only     INTEGER PRIMARY KEY CHECK (only = 1),
    linked   INTEGER NOT NULL DEFAULT 0,  -- 1 once a school server was set for this folder
    applying INTEGER NOT NULL DEFAULT 0,  -- 1 while the school's changes are written here
    door     TEXT,                        -- this door's name, recorded with its marks
    pulled   INTEGER NOT NULL DEFAULT 0,  -- the school server's last change held here
    online   INTEGER NOT NULL DEFAULT 0,  -- whether the link reached the server last time
    problem  TEXT                         -- what the link could not do, for the admin
);
INSERT INTO school_link (only) VALUES (1);

-- Changes made here that the school server does not have yet. `gone` = 1 for a deletion.
CREATE TABLE school_outbox (
    id   INTEGER PRIMARY KEY,
    tbl  TEXT NOT NULL,
    uid  TEXT NOT NULL,
    gone INTEGER NOT NULL DEFAULT 0
);

-- Every new row gets its uid (a row from the school server brings its own); marks get this
-- door's name. While linked, and unless the change came from the school server, the change
-- goes to the outbox.
CREATE TRIGGER students_new AFTER INSERT ON students BEGIN
    UPDATE students SET uid = COALESCE(uid, lower(hex(randomblob(16)))) WHERE id = NEW.id;
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'students', s.uid FROM students s, school_link l
    WHERE s.id = NEW.id AND l.linked = 1 AND l.applying = 0;
END;
CREATE TRIGGER students_changed AFTER UPDATE ON students WHEN OLD.uid IS NOT NULL BEGIN
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'students', NEW.uid FROM school_link WHERE linked = 1 AND applying = 0;
END;
CREATE TRIGGER students_gone AFTER DELETE ON students BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'students', OLD.uid, 1 FROM school_link WHERE linked = 1 AND applying = 0;
END;

CREATE TRIGGER face_templates_new AFTER INSERT ON face_templates BEGIN
    UPDATE face_templates SET uid = COALESCE(uid, lower(hex(randomblob(16)))) WHERE id = NEW.id;
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'face_templates', t.uid FROM face_templates t, school_link l
    WHERE t.id = NEW.id AND l.linked = 1 AND l.applying = 0;
END;
CREATE TRIGGER face_templates_gone AFTER DELETE ON face_templates BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'face_templates', OLD.uid, 1 FROM school_link WHERE linked = 1 AND applying = 0;
END;

CREATE TRIGGER attendance_new AFTER INSERT ON attendance BEGIN
    UPDATE attendance
    SET uid = COALESCE(uid, lower(hex(randomblob(16)))),
        door = CASE WHEN NEW.uid IS NULL THEN COALESCE(door, (SELECT door FROM school_link))
                    ELSE door END
    WHERE id = NEW.id;
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'attendance', a.uid FROM attendance a, school_link l
    WHERE a.id = NEW.id AND l.linked = 1 AND l.applying = 0;
END;
CREATE TRIGGER attendance_changed AFTER UPDATE ON attendance WHEN OLD.uid IS NOT NULL BEGIN
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'attendance', NEW.uid FROM school_link WHERE linked = 1 AND applying = 0;
END;
CREATE TRIGGER attendance_gone AFTER DELETE ON attendance BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'attendance', OLD.uid, 1 FROM school_link WHERE linked = 1 AND applying = 0;
END;

CREATE TRIGGER class_days_new AFTER INSERT ON class_days BEGIN
    INSERT INTO school_outbox (tbl, uid)
    SELECT 'class_days', NEW.day FROM school_link WHERE linked = 1 AND applying = 0;
END;
CREATE TRIGGER class_days_gone AFTER DELETE ON class_days BEGIN
    INSERT INTO school_outbox (tbl, uid, gone)
    SELECT 'class_days', OLD.day, 1 FROM school_link WHERE linked = 1 AND applying = 0;
END;
