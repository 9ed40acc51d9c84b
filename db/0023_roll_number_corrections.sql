-- Rollcall schema, version 23: a roll number typed wrong can be corrected. The correction
-- is kept in the same ordered list as the erasures, as a restore makes them again in
-- their order: an erasure recorded under the corrected number after the correction then
-- reaches a backup made before it, which holds the old number. `subject` is the old roll
-- number, `new_roll_no` the corrected one (erasures have none). SQLite cannot change a
-- CHECK constraint, so the table is made again.

CREATE TABLE erasures_new (
    kind TEXT NOT NULL CHECK (kind IN ('face data', 'student', 'photo', 'roll number')),
    subject TEXT NOT NULL,
    erased_at TEXT NOT NULL,
    new_roll_no TEXT,
    PRIMARY KEY (kind, subject, erased_at)
);
INSERT INTO erasures_new (rowid, kind, subject, erased_at)
    SELECT rowid, kind, subject, erased_at FROM erasures;
DROP TABLE erasures;
ALTER TABLE erasures_new RENAME TO erasures;
