-- Rollcall schema, version 15: what this folder's login to the school server may do,
-- learnt when the link connects. `office` = 1: the school administrator's login (it may
-- enrol, correct and erase); 0: a door's login, which may only add marks, so this folder
-- refuses enrolments, corrections and erasures up front, also while the server is out of
-- reach (the school would never take them: until this version they were made here and
-- reported as refused afterwards, and a face erased at such a door stayed at the school
-- and every other door); NULL: not known yet. `login`: the user name it was learnt for
-- (another login is learnt again).

ALTER TABLE school_link ADD COLUMN office INTEGER;
ALTER TABLE school_link ADD COLUMN login TEXT;
