-- Rollcall schema, version 5: where each enrolment photo came from, and faces the kiosk
-- attributed to students (to learn what strangers look like at this site).

ALTER TABLE photos ADD COLUMN origin TEXT NOT NULL DEFAULT 'upload';  -- 'camera' or 'upload'

CREATE TABLE face_observations (
    id         INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    model_id   TEXT NOT NULL,
    vector     BLOB NOT NULL,             -- little-endian f32 values
    seen_at    TEXT NOT NULL              -- RFC 3339
);
CREATE INDEX face_observations_student ON face_observations(student_id, model_id);
