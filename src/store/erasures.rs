//! Erasures remembered: a student's face data erased, a student deleted or one photo
//! removed is recorded by roll number or photo file name (no face, no name), so that
//! restoring a backup made before it does not bring the data back. Roll-number corrections
//! are kept in the same ordered list: an erasure recorded under a corrected number reaches
//! a backup that holds the old one, as the correction is made again there first.

use super::{
    audit, delete_student_rows, erase_face_rows, student_id_by_roll_no,
    tell_school_face_data_erased, timestamp, Store, StoreError,
};
use crate::wording::count;
use chrono::{DateTime, Local};
use rusqlite::{params, Connection};

/// What was erased.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErasureKind {
    /// A student's face data (the student and their attendance stay); by roll number.
    FaceData,
    /// A student with everything about them; by roll number.
    Student,
    /// One photo and its templates; by file name.
    Photo,
    /// Not an erasure: a roll number corrected; by the old number, with the new one.
    RollNumber,
}

impl ErasureKind {
    fn as_str(self) -> &'static str {
        match self {
            ErasureKind::FaceData => "face data",
            ErasureKind::Student => "student",
            ErasureKind::Photo => "photo",
            ErasureKind::RollNumber => "roll number",
        }
    }

    fn parse(s: &str) -> Option<ErasureKind> {
        [
            ErasureKind::FaceData,
            ErasureKind::Student,
            ErasureKind::Photo,
            ErasureKind::RollNumber,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One erasure: what, of whom (roll number) or which photo (file name), and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erasure {
    pub kind: ErasureKind,
    pub subject: String,
    pub erased_at: String,
    /// For a roll-number correction, the corrected number (`subject` is the old one).
    pub new_roll_no: Option<String>,
}

/// What a restore erased again: data the backup held that was erased after it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErasedAgain {
    /// Students whose face data was erased again.
    pub face_data: usize,
    /// Students deleted again.
    pub students: usize,
    /// Single photos removed again.
    pub photos: usize,
    /// Roll numbers corrected again (not an erasure: not in `any` nor in the listing).
    pub roll_numbers: usize,
}

impl ErasedAgain {
    /// Whether anything was erased again.
    pub fn any(&self) -> bool {
        self.face_data + self.students + self.photos > 0
    }
}

impl std::fmt::Display for ErasedAgain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.face_data > 0 {
            parts.push(format!(
                "the face data of {}",
                count(self.face_data, "student")
            ));
        }
        if self.students > 0 {
            parts.push(format!("{} deleted", count(self.students, "student")));
        }
        if self.photos > 0 {
            parts.push(format!("{} removed", count(self.photos, "photo")));
        }

        f.write_str(&crate::wording::listing(&parts))
    }
}

/// Records an erasure made now.
pub(super) fn record(
    conn: &Connection,
    kind: ErasureKind,
    subject: &str,
) -> Result<(), StoreError> {
    let erasure = Erasure {
        kind,
        subject: subject.to_string(),
        erased_at: timestamp(Local::now()),
        new_roll_no: None,
    };
    insert(conn, &erasure)?;
    Ok(())
}

/// Records a roll number corrected now, in the list of erasures (see the module's note).
pub(super) fn record_correction(conn: &Connection, old: &str, new: &str) -> Result<(), StoreError> {
    let correction = Erasure {
        kind: ErasureKind::RollNumber,
        subject: old.to_string(),
        erased_at: timestamp(Local::now()),
        new_roll_no: Some(new.to_string()),
    };
    insert(conn, &correction)?;
    Ok(())
}

/// Records an erasure; false when it was recorded already.
fn insert(conn: &Connection, e: &Erasure) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "INSERT OR IGNORE INTO erasures (kind, subject, erased_at, new_roll_no)
         VALUES (?1, ?2, ?3, ?4)",
        params![e.kind.as_str(), e.subject, e.erased_at, e.new_roll_no],
    )? == 1)
}

/// The student an erasure of a student or their face data is about: the one with its roll
/// number, unless they were enrolled after it (someone else given the number since, in a
/// database from another history). When either time cannot be read, the erasure applies.
fn enrolled_before(conn: &Connection, e: &Erasure) -> Result<Option<i64>, StoreError> {
    let Some(id) = student_id_by_roll_no(conn, &e.subject)? else {
        return Ok(None);
    };
    let enrolled: String = conn.query_row(
        "SELECT enrolled_at FROM students WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    Ok(e.covers(&enrolled).then_some(id))
}

impl Erasure {
    /// Whether the erasure is about a student of its roll number enrolled at `enrolled_at`
    /// (stored time): not when they were enrolled after it. When either time cannot be
    /// read, it is.
    pub fn covers(&self, enrolled_at: &str) -> bool {
        let time = |t: &str| DateTime::parse_from_rfc3339(t).ok();
        !matches!((time(enrolled_at), time(&self.erased_at)),
                  (Some(enrolled), Some(erased)) if enrolled > erased)
    }
}

/// When student `id`'s face data was erased here, oldest first: the erasures recorded under
/// each roll number they held at the time (one made before a correction is recorded under
/// the old number).
pub(super) fn face_data_erased_at(conn: &Connection, id: i64) -> Result<Vec<String>, StoreError> {
    let mut held: String =
        conn.query_row("SELECT roll_no FROM students WHERE id = ?1", [id], |r| {
            r.get(0)
        })?;
    let mut out = Vec::new();
    for e in listed(conn)?.into_iter().rev() {
        match (e.kind, &e.new_roll_no) {
            (ErasureKind::FaceData, _) if e.subject.eq_ignore_ascii_case(&held) => {
                out.push(e.erased_at)
            }
            (ErasureKind::RollNumber, Some(new)) if new.eq_ignore_ascii_case(&held) => {
                held = e.subject
            }
            _ => {}
        }
    }
    out.reverse();
    Ok(out)
}

/// Every erasure recorded, oldest first.
fn listed(conn: &Connection) -> Result<Vec<Erasure>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT kind, subject, erased_at, new_roll_no FROM erasures ORDER BY erased_at, rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, subject, erased_at, new_roll_no) = row?;
        if let Some(kind) = ErasureKind::parse(&kind) {
            out.push(Erasure {
                kind,
                subject,
                erased_at,
                new_roll_no,
            });
        }
    }
    Ok(out)
}

impl Store {
    /// Every erasure recorded, oldest first.
    pub fn erasures(&self) -> Result<Vec<Erasure>, StoreError> {
        listed(&self.conn)
    }

    /// Makes again the erasures that this database has not recorded, in their order, and
    /// records them: after a restore, the replaced database's erasures that came after the
    /// backup was made; in a copy a restore saved, those made since. Only rows: a restore
    /// applies them to the backup before any photo file is written. Returns what was
    /// erased again.
    pub fn apply_erasures(
        &mut self,
        erasures: &[Erasure],
        actor: &str,
    ) -> Result<ErasedAgain, StoreError> {
        let tx = self.conn.transaction()?;
        let mut again = ErasedAgain::default();
        for e in erasures {
            if !insert(&tx, e)? {
                continue;
            }
            match e.kind {
                ErasureKind::FaceData => {
                    if let Some(id) = enrolled_before(&tx, e)? {
                        // As when it was made: the school erases the face everywhere.
                        tell_school_face_data_erased(&tx, id)?;
                        let (_, erased) = erase_face_rows(&tx, id, None)?;
                        if erased != Default::default() {
                            again.face_data += 1;
                        }
                    }
                }
                ErasureKind::Student => {
                    if let Some(id) = enrolled_before(&tx, e)? {
                        delete_student_rows(&tx, id, actor)?;
                        again.students += 1;
                    }
                }
                ErasureKind::Photo => {
                    if tx.execute("DELETE FROM photos WHERE file_name = ?1", [&e.subject])? > 0 {
                        again.photos += 1;
                    }
                }
                ErasureKind::RollNumber => {
                    let Some(new) = &e.new_roll_no else { continue };
                    // Not when another student of the copy holds the new number.
                    if let Some(id) = enrolled_before(&tx, e)? {
                        if student_id_by_roll_no(&tx, new)?.is_none_or(|other| other == id) {
                            tx.execute(
                                "UPDATE students SET roll_no = ?2 WHERE id = ?1",
                                params![id, new],
                            )?;
                            again.roll_numbers += 1;
                        }
                    }
                }
            }
        }
        if again.any() {
            audit(
                &tx,
                actor,
                "erase again",
                &format!("erased after this copy was made: {again}"),
            )?;
        }
        if again.roll_numbers > 0 {
            audit(
                &tx,
                actor,
                "correct roll number again",
                &format!(
                    "corrected after this copy was made: {}",
                    count(again.roll_numbers, "roll number")
                ),
            )?;
        }
        tx.commit()?;
        if again.any() {
            self.flush_erased();
        }
        Ok(again)
    }
}
