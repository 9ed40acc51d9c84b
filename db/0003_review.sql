-- Rollcall schema, version 3: face snapshots with marks, and the email log.

ALTER TABLE attendance ADD COLUMN snapshot BLOB;   -- small JPEG of the face, kept for a while

CREATE TABLE email_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject   TEXT NOT NULL,
    status    TEXT NOT NULL,                       -- 'sent' or 'failed'
    error     TEXT
);
