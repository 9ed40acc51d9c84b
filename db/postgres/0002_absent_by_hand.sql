-- Rollcall school server (PostgreSQL), version 2: an absence recorded by hand is a row of
-- attendance with present = false; it stands against every door's kiosk mark of that
-- student and day (as a mark by hand does), so the student is not marked again that day.

ALTER TABLE attendance ADD COLUMN present BOOLEAN NOT NULL DEFAULT TRUE;
