-- Rollcall schema, version 24: a student who left the school and came back keeps the days
-- they were away out of their count ("-", as after a last day), where before every day
-- since the last day counted again once they were back (absent where not marked). Spans
-- of days away, "first/last" (YYYY-MM-DD), separated by commas; NULL: none.

ALTER TABLE students ADD COLUMN away TEXT;
