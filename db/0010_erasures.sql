-- Rollcall schema, version 10: erasures are remembered, so that restoring a backup made
-- before them does not bring the data back. A student's face data erased, a student
-- deleted or one photo removed is recorded by roll number or photo file name only (no
-- face, no name); the kind says which.

CREATE TABLE erasures (
    kind TEXT NOT NULL CHECK (kind IN ('face data', 'student', 'photo')),
    subject TEXT NOT NULL,
    erased_at TEXT NOT NULL,
    PRIMARY KEY (kind, subject, erased_at)
);
