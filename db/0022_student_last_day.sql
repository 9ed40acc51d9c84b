-- Rollcall schema, version 22: a student who left the school (moved away, changed school)
-- keeps their attendance up to their last day in class; the days after it count for
-- nobody. NULL: still in the class.

ALTER TABLE students ADD COLUMN last_day TEXT;   -- YYYY-MM-DD, the last class day counted
