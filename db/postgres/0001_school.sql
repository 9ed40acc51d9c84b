-- Rollcall school server (PostgreSQL), version 1: what the doors share. Table names follow
-- the SQLite schema; rows are known by a uid that is the same at every door. Every row
-- carries the number of the change that last wrote it (one sequence for the whole school),
-- so a door asks for "everything after change N". Writers take one advisory lock, so
-- changes become visible in the order of their numbers.

CREATE SEQUENCE school_changes;

CREATE TABLE students (
    uid         TEXT PRIMARY KEY,
    roll_no     TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    change      BIGINT NOT NULL DEFAULT nextval('school_changes')
);
CREATE UNIQUE INDEX students_email ON students (lower(email));
CREATE INDEX students_change ON students (change);

-- Face templates (what a door needs to recognise; the photos stay where they were taken).
CREATE TABLE face_templates (
    uid         TEXT PRIMARY KEY,
    student_uid TEXT NOT NULL REFERENCES students(uid) ON DELETE CASCADE,
    model_id    TEXT NOT NULL,
    vector      BYTEA NOT NULL,              -- little-endian f32 values
    origin      TEXT NOT NULL,               -- 'camera' or 'upload'
    change      BIGINT NOT NULL DEFAULT nextval('school_changes')
);
CREATE INDEX face_templates_change ON face_templates (change);

-- At most one mark per student and day, whichever door it came from.
CREATE TABLE attendance (
    uid         TEXT PRIMARY KEY,
    student_uid TEXT NOT NULL REFERENCES students(uid) ON DELETE CASCADE,
    day         TEXT NOT NULL,               -- YYYY-MM-DD, local
    marked_at   TEXT NOT NULL,               -- RFC 3339, local time with offset
    score       DOUBLE PRECISION,
    source      TEXT NOT NULL,
    door        TEXT,
    snapshot    BYTEA,
    change      BIGINT NOT NULL DEFAULT nextval('school_changes'),
    UNIQUE (student_uid, day)
);
CREATE INDEX attendance_change ON attendance (change);
CREATE INDEX attendance_day ON attendance (day);

CREATE TABLE class_days (
    day         TEXT PRIMARY KEY,
    declared_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    change      BIGINT NOT NULL DEFAULT nextval('school_changes')
);
CREATE INDEX class_days_change ON class_days (change);

-- Rows deleted, so doors delete them too.
CREATE TABLE deletions (
    change BIGINT PRIMARY KEY DEFAULT nextval('school_changes'),
    tbl    TEXT NOT NULL,
    uid    TEXT NOT NULL
);

-- Kiosks (members of rollcall_door) read the gallery and add or update marks, nothing
-- else; admins (rollcall_admin)
-- change everything. The roles are created by the school's IT (README); these grants
-- apply when they exist.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rollcall_door') THEN
        GRANT SELECT ON rollcall_schema, students, face_templates, attendance, class_days, deletions TO rollcall_door;
        GRANT INSERT, UPDATE ON attendance TO rollcall_door;
        GRANT USAGE ON SEQUENCE school_changes TO rollcall_door;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rollcall_admin') THEN
        GRANT SELECT ON rollcall_schema TO rollcall_admin;
        GRANT SELECT, INSERT, UPDATE, DELETE ON students, face_templates, attendance, class_days, deletions TO rollcall_admin;
        GRANT USAGE ON SEQUENCE school_changes TO rollcall_admin;
    END IF;
END
$$;
