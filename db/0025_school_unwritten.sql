-- Rollcall schema, version 25: the school's students a door could not write (their roll
-- number held there by a student of its own whom the school does not have). Fetched
-- again at every offer of what the school refused, until written: until this version
-- such a row was passed for good, so the student (with their face) never reached that
-- door, or a corrected roll number never did, even once the clash was resolved.
CREATE TABLE school_unwritten (uid TEXT PRIMARY KEY);
