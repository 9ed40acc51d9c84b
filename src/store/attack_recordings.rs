//! Recorded photo attacks: the texture features of a printed photo of a student, held up to
//! the kiosk's camera by an admin (for adapting the photo-attack check to this camera).

use super::{audit, blob_to_vector, timestamp, vector_to_blob, Store, StoreError};
use crate::wording::count;
use chrono::Local;
use rusqlite::params;

/// One recording, as listed for the admin.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackRecording {
    pub id: i64,
    pub student_id: i64,
    pub student_name: String,
    /// RFC 3339.
    pub recorded_at: String,
    pub frames: usize,
}

impl Store {
    /// Keeps a recording of a student's printed photo (features in time order).
    pub fn add_attack_recording(
        &mut self,
        student_id: i64,
        frames: &[Vec<f32>],
        actor: &str,
    ) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO attack_recordings (student_id, recorded_at) VALUES (?1, ?2)",
            params![student_id, timestamp(Local::now())],
        )?;
        let id = tx.last_insert_rowid();
        for f in frames {
            tx.execute(
                "INSERT INTO attack_frames (recording_id, features) VALUES (?1, ?2)",
                params![id, vector_to_blob(f)],
            )?;
        }
        audit(
            &tx,
            actor,
            "record photo attack",
            &format!("student {student_id}: {}", count(frames.len(), "frame")),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Every recording, oldest first.
    pub fn attack_recordings(&self) -> Result<Vec<AttackRecording>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.student_id, s.name, r.recorded_at,
                    (SELECT COUNT(*) FROM attack_frames f WHERE f.recording_id = r.id)
             FROM attack_recordings r JOIN students s ON s.id = r.student_id
             ORDER BY r.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(AttackRecording {
                id: r.get(0)?,
                student_id: r.get(1)?,
                student_name: r.get(2)?,
                recorded_at: r.get(3)?,
                frames: r.get::<_, i64>(4)? as usize,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A recording's frames, in time order.
    pub fn attack_frames(&self, recording_id: i64) -> Result<Vec<Vec<f32>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT features FROM attack_frames WHERE recording_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([recording_id], |r| {
            Ok(blob_to_vector(&r.get::<_, Vec<u8>>(0)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets every recording; returns how many there were.
    pub fn forget_attack_recordings(&mut self, actor: &str) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM attack_recordings", [])?;
        audit(&tx, actor, "forget photo attacks", &count(n, "recording"))?;
        tx.commit()?;
        self.flush_erased();
        Ok(n)
    }
}
