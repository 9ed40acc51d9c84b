-- Rollcall schema, version 8: printed photos of students an admin held up to the kiosk's
-- camera, so the photo-attack check can learn what a photo looks like to this camera.
-- Only texture features are kept (no pictures); they go with the student's face data.

CREATE TABLE attack_recordings (
    id          INTEGER PRIMARY KEY,
    student_id  INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
    recorded_at TEXT NOT NULL                -- RFC 3339
);

CREATE TABLE attack_frames (
    id           INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES attack_recordings(id) ON DELETE CASCADE,
    features     BLOB NOT NULL               -- little-endian f32 values, in time order
);
CREATE INDEX attack_frames_recording ON attack_frames(recording_id);
