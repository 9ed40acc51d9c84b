-- Rollcall schema, version 6: class days an admin declared. A class day is a day on which
-- the kiosk (or the API, or the command line) marked anyone, or a day declared here; a
-- correction by hand no longer makes one on its own.

CREATE TABLE class_days (
    day         TEXT PRIMARY KEY,          -- YYYY-MM-DD, local
    declared_at TEXT NOT NULL,             -- RFC 3339
    actor       TEXT NOT NULL
);

-- Days that only corrections by hand made class days before this version stay class days,
-- so no existing sheet changes.
INSERT INTO class_days (day, declared_at, actor)
SELECT DISTINCT day, marked_at, 'upgrade' FROM attendance
WHERE source = 'admin'
  AND day NOT IN (SELECT day FROM attendance WHERE source <> 'admin');
