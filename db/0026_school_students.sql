-- Rollcall schema, version 26: the students this folder knows the school server has (the
-- school sent them here, or took them from here). A student here with a change the school
-- has not taken is this folder's own, whom the school does not have, only when not listed
-- here: until this version a student the school has, whose change here (a new roll number
-- or email address) it refused, was taken for one, and the admin was told to enrol them at
-- the office and delete them here.
CREATE TABLE school_students (uid TEXT PRIMARY KEY);
-- A linked folder's students with no change waiting: the school has them.
INSERT INTO school_students (uid)
SELECT s.uid FROM students s, school_link l
WHERE l.linked = 1 AND s.uid IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM school_outbox o WHERE o.tbl = 'students' AND o.uid = s.uid);
