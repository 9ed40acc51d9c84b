-- Rollcall schema, version 12: a correction to absent is kept as a row of its own (an
-- absence recorded by hand, present = 0) instead of deleting the mark, so the kiosk, the
-- API and the command line do not mark the student again that day, and every door of a
-- school hears of it like any mark. Until this version the student passing the door again
-- after the correction was marked present again within seconds.

ALTER TABLE attendance ADD COLUMN present INTEGER NOT NULL DEFAULT 1;
