-- Rollcall schema, version 4: faces the kiosk refused because they did not look live
-- (a photo held up to the camera), for the admin to review.

CREATE TABLE kiosk_refusals (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    day        TEXT NOT NULL,
    student_id INTEGER REFERENCES students(id) ON DELETE SET NULL,  -- whom the face resembled, if anyone
    score      REAL NOT NULL,                                       -- mean liveness score of the track
    snapshot   BLOB                                                 -- small JPEG of the face
);
CREATE INDEX kiosk_refusals_day ON kiosk_refusals(day);
