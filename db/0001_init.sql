-- Rollcall schema, version 1.

CREATE TABLE students (
    id          INTEGER PRIMARY KEY,
    roll_no     TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    enrolled_at TEXT NOT NULL              -- RFC 3339, local time with offset
);

-- Enrolment photos; files live under <data>/photos/ with names the program makes.
CREATE TABLE photos (
    id         INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    file_name  TEXT NOT NULL UNIQUE,       -- relative to <data>/photos/
    added_at   TEXT NOT NULL
);
CREATE INDEX photos_student ON photos(student_id);

-- One embedding per photo and model; the model id lets a model change re-enrol from photos.
CREATE TABLE face_templates (
    id         INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    photo_id   INTEGER REFERENCES photos(id) ON DELETE CASCADE,
    model_id   TEXT NOT NULL,
    vector     BLOB NOT NULL                -- little-endian f32 values
);
CREATE INDEX face_templates_student ON face_templates(student_id);

-- At most one mark per student and day.
CREATE TABLE attendance (
    id         INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    day        TEXT NOT NULL,               -- YYYY-MM-DD, local
    marked_at  TEXT NOT NULL,               -- RFC 3339, local time with offset
    score      REAL,                        -- recognition score, NULL for manual marks
    source     TEXT NOT NULL,               -- 'kiosk', 'cli', 'api', 'admin', ...
    UNIQUE (student_id, day)
);
CREATE INDEX attendance_day ON attendance(day);

-- Who changed what, when and why.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    details TEXT NOT NULL
);
