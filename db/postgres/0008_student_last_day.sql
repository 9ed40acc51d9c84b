-- Rollcall school server (PostgreSQL), version 8: a student who left the school keeps
-- their attendance up to their last day in class (schema 22 of the doors' databases).
-- NULL: still in the class. Doors of an earlier release neither read nor write it.

ALTER TABLE students ADD COLUMN IF NOT EXISTS last_day TEXT;
