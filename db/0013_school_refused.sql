-- Rollcall schema, version 13: a change the school server refused stays in the outbox
-- (it is offered again each round) marked as refused, so a door's status line tells marks
-- waiting for the link apart from marks the school did not take (a correction made with a
-- door's login, which may only add marks; a mark of a student the school does not know).
-- Until this version both read "N marks waiting", the refused ones for good.

ALTER TABLE school_outbox ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
