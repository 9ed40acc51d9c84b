-- Rollcall school server, version 9: the days a student was away from the school before
-- coming back (see the SQLite schema's version 24), which travel with the student's row.
-- Doors of an earlier release neither read nor change it.

ALTER TABLE students ADD COLUMN IF NOT EXISTS away TEXT;
