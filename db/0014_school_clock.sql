-- Rollcall schema, version 14: a linked door compares its clock with the school server's in
-- each round of the link. A door whose clock is an hour or more off takes no attendance (its
-- marks would be dated wrong); a few minutes off is said on its status line.
-- `clock_ahead_ms`: how far this computer's clock was ahead of the server's (negative:
-- behind); `clock_checked_ms`: when, by this computer's clock (ms since 1970). NULL: never
-- measured.

ALTER TABLE school_link ADD COLUMN clock_ahead_ms INTEGER;
ALTER TABLE school_link ADD COLUMN clock_checked_ms INTEGER;
