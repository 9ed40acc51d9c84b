-- Rollcall schema, version 21: which outbox entries are not this folder's own changes
-- (`offered_until`, the outbox's last entry then): what a first link offers of everything
-- held here, what a school server put back from a backup is offered again, and a restored
-- backup's waiting changes — the school's rows win over them. A folder that leaves the
-- school keeps its own changes not yet sent, to send them first when it joins again (as
-- the server coming back would have had them), and drops these. NULL: none. A folder
-- still to fetch the school's rows first (`reconcile`) holds such an outbox now.

ALTER TABLE school_link ADD COLUMN offered_until INTEGER;
UPDATE school_link SET offered_until = (SELECT MAX(id) FROM school_outbox) WHERE reconcile = 1;

-- An entry numbers after the outbox's last one left (SQLite reuses the numbers of the last
-- entries once they are sent): a new entry numbered at or below `offered_until` or
-- `away_until` means those above it were sent, so the mark comes down to just before it.
CREATE TRIGGER school_outbox_numbers_reused AFTER INSERT ON school_outbox
WHEN NEW.id <= (SELECT MAX(COALESCE(offered_until, 0), COALESCE(away_until, 0)) FROM school_link)
BEGIN
    UPDATE school_link SET offered_until = MIN(offered_until, NEW.id - 1),
                           away_until = MIN(away_until, NEW.id - 1);
END;
