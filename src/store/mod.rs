//! The SQLite store: students, their photos and face templates, attendance marks and the
//! audit log. Knows SQL; knows nothing of faces beyond byte vectors.

mod attack_recordings;
mod backup;
mod clock;
mod daily_backup;
mod erasures;
pub mod school;

pub use attack_recordings::AttackRecording;
pub use backup::{
    backup_admin_pin, backup_reminder, damaged_copies_note, restore, BackupError, BackupState,
    BackupSummary, Restored,
};
pub use clock::{FutureMarks, SchoolClock, WrongClock};
pub use daily_backup::{
    daily_backups, damaged_advice, make_daily_backup, newest_daily_backup, remove_daily_backups,
    AdviceFor, DailyBackups,
};
pub use erasures::{ErasedAgain, Erasure, ErasureKind};

use crate::wording::{count, long_date};
use chrono::{DateTime, Local, NaiveDate};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Transaction};
use std::path::Path;
use std::time::Duration;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../../db/0001_init.sql"),
    include_str!("../../db/0002_admin.sql"),
    include_str!("../../db/0003_review.sql"),
    include_str!("../../db/0004_liveness.sql"),
    include_str!("../../db/0005_origins_and_observations.sql"),
    include_str!("../../db/0006_class_days.sql"),
    include_str!("../../db/0007_school.sql"),
    include_str!("../../db/0008_attack_recordings.sql"),
    include_str!("../../db/0009_template_photo_index.sql"),
    include_str!("../../db/0010_erasures.sql"),
    include_str!("../../db/0011_school_reconcile.sql"),
    include_str!("../../db/0012_absent_by_hand.sql"),
    include_str!("../../db/0013_school_refused.sql"),
    include_str!("../../db/0014_school_clock.sql"),
    include_str!("../../db/0015_school_login.sql"),
    include_str!("../../db/0016_school_server_id.sql"),
    include_str!("../../db/0017_school_last_seen.sql"),
    include_str!("../../db/0018_school_left_at.sql"),
    include_str!("../../db/0019_school_away_template_erasures.sql"),
    include_str!("../../db/0020_school_changes_while_away.sql"),
    include_str!("../../db/0021_school_offer.sql"),
    include_str!("../../db/0022_student_last_day.sql"),
    include_str!("../../db/0023_roll_number_corrections.sql"),
    include_str!("../../db/0024_student_away.sql"),
    include_str!("../../db/0025_school_unwritten.sql"),
    include_str!("../../db/0026_school_students.sql"),
];

/// Sleeps for `d`, or less when `stop` is set meanwhile (a background thread's pause).
fn sleep_unless(stop: &std::sync::atomic::AtomicBool, d: Duration) {
    let until = std::time::Instant::now() + d;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Faces of one student the kiosk keeps per model, newest first.
pub const OBSERVATIONS_PER_STUDENT: usize = 5;

/// How long a writer waits for another process holding the database.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Store failures, worded for an admin.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("The attendance database is busy (another Rollcall window or program is using it). Try again in a moment.")]
    Busy,
    #[error("The attendance database cannot be written (the data folder is read-only).")]
    ReadOnly,
    #[error("The disk holding the attendance data is full: free some space on it, then try again (what was saved before is safe).")]
    DiskFull,
    #[error("The attendance database file is damaged. Restore it from a backup: `rollcall restore BACKUP-FILE` (the damaged file is kept aside).")]
    Corrupt,
    #[error("A student with this roll number or email already exists.")]
    Duplicate,
    #[error("The attendance database could not be opened at {path}: {reason}")]
    Open { path: String, reason: String },
    /// This computer's clock cannot date marks: marks made here while it was ahead, or
    /// the school server's clock is an hour or more away.
    #[error("{0}")]
    WrongClock(WrongClock),
    /// A change only the school's office may make, asked for at a door whose login to the
    /// school server may only add marks (what was asked: "Enrolling a student").
    #[error("{0} is done at the office: this door's login to the school server may only add marks, so the school and its other doors would never have the change. Use the office's Rollcall (the school administrator's login).")]
    OfficeOnly(&'static str),
    /// A change only the school's office may make, asked for at a linked folder whose link
    /// has not yet reached the school server with its login, so it cannot tell whether the
    /// school would take it (what was asked: "Enrolling a student").
    #[error("{0} waits until this computer has reached the school server: it has not since it was linked (or since its login to the server changed), so it cannot tell yet whether its login may change the school or only add marks, and a change the school would not take would stay at this computer alone. Check the network and the school server's address in the settings, then try again. (A computer that should not be linked to a school server at all: remove the address from its settings, then run `rollcall leave-school`.)")]
    NotConnectedYet(&'static str),
    #[error("database error: {0}")]
    Sql(rusqlite::Error),
}

impl StoreError {
    /// Whether the message tells an admin what happened and what to do (busy, disk full,
    /// a wrong clock, a door's login, …), rather than being the database's own error or
    /// naming the server's files: such a message may be passed to the client of a request.
    pub fn tells_the_client(&self) -> bool {
        !matches!(self, StoreError::Sql(_) | StoreError::Open { .. })
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly,
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt,
            Some(ErrorCode::ConstraintViolation) => StoreError::Duplicate,
            _ => StoreError::Sql(e),
        }
    }
}

/// The admin setting holding the admin PIN's argon2 hash. It belongs to the machine, not to
/// the school's data: a restore keeps the PIN in use (a backup may hold an older one).
pub const ADMIN_PIN_KEY: &str = "admin_pin_argon2";

/// A student to add.
#[derive(Clone, Debug)]
pub struct NewStudent {
    pub roll_no: String,
    pub name: String,
    pub email: String,
}

/// What two students swap (`Store::swap_with`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Swap {
    pub roll_no: bool,
    pub email: bool,
}

/// A stored photo and the templates computed from it.
#[derive(Clone, Debug)]
pub struct NewPhoto {
    /// File name relative to the photos folder.
    pub file_name: String,
    /// Where the photo came from: "camera" (the kiosk's) or "upload".
    pub origin: String,
    pub templates: Vec<(String, Vec<f32>)>,
}

/// A student as listed.
#[derive(Clone, Debug, PartialEq)]
pub struct Student {
    pub id: i64,
    pub roll_no: String,
    pub name: String,
    pub email: String,
    pub enrolled_at: String,
    pub photo_count: i64,
    /// Whether any of their face templates came from the kiosk's camera (then the
    /// photo-attack check can compare them with their own live face).
    pub camera_enrolled: bool,
    /// Whether they have any face template (none: the kiosk cannot recognise them; their
    /// face data was erased, or no photo of theirs could be used).
    pub has_face: bool,
    /// Time of the latest mark they came in for. A decision by hand is not one: it is
    /// dated when it was made (until 2026-12-07 a student corrected to present for last
    /// week read "last seen" today, never having been at the door).
    pub last_seen: Option<String>,
    /// The last class day counted for a student who left the school; `None` while they
    /// are in the class.
    pub last_day: Option<NaiveDate>,
    /// Days they were away from the school before coming back, first and last of each.
    pub away: Vec<(NaiveDate, NaiveDate)>,
    /// Whether they are this computer's own student whom its school never took (enrolled
    /// before it was linked with a door's login): a door may delete them.
    pub never_taken: bool,
}

/// Where a student with a recorded leave stands on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leave {
    /// Their last day in class is ahead (or is today and the kiosk still knows them): the
    /// kiosk marks them until it is over; their face data goes the day after.
    Ahead(NaiveDate),
    /// Their last day in class is over (or was today and their face data already went).
    Over(NaiveDate),
}

impl Leave {
    /// Their last day in class.
    pub fn last_day(self) -> NaiveDate {
        match self {
            Leave::Ahead(day) | Leave::Over(day) => day,
        }
    }
}

impl Student {
    /// Their recorded leave as it stands on `today`; `None` while they are in the class.
    pub fn leave(&self, today: NaiveDate) -> Option<Leave> {
        let day = self.last_day?;
        Some(match day > today || (day == today && self.has_face) {
            true => Leave::Ahead(day),
            false => Leave::Over(day),
        })
    }

    /// Where they stand with the school on `today`, in an admin's words: "in class",
    /// "leaving, last day 10 December 2026", "left, last day 3 March 2026".
    pub fn status(&self, today: NaiveDate) -> String {
        match self.leave(today) {
            None => "in class".into(),
            Some(Leave::Ahead(day)) => format!("leaving, last day {}", long_date(day)),
            Some(Leave::Over(day)) => format!("left, last day {}", long_date(day)),
        }
    }

    /// How the photo-attack check judges them, in an admin's words: against their "own
    /// face" (kiosk-camera templates) or "general only" (uploaded photos only); "no face
    /// data" when there is no face to recognise them by (their face data was erased, as a
    /// leaver's is, or no photo of theirs could be used).
    pub fn photo_check(&self) -> &'static str {
        if !self.has_face {
            "no face data"
        } else if self.camera_enrolled {
            "own face"
        } else {
            "general only"
        }
    }
}

/// One stored face template.
#[derive(Clone, Debug)]
pub struct TemplateRow {
    pub student_id: i64,
    pub model_id: String,
    pub vector: Vec<f32>,
    /// The photo's origin ("camera" or "upload").
    pub origin: String,
}

/// One enrolled face's templates.
#[derive(Clone, Debug)]
pub struct StoredFace {
    /// The photo's origin ("camera" or "upload").
    pub origin: String,
    /// (model id, vector) pairs.
    pub templates: Vec<(String, Vec<f32>)>,
}

/// A face the kiosk attributed to a student.
#[derive(Clone, Debug)]
pub struct ObservationRow {
    pub student_id: i64,
    pub model_id: String,
    pub vector: Vec<f32>,
}

/// Changes whenever templates are added or removed, by any process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplatesVersion {
    count: i64,
    max_id: i64,
    observations: i64,
    max_observation: i64,
}

/// One student's attendance decision for one day, as recorded (a backup holds it or not).
pub(super) struct RecordedMark {
    pub student_id: i64,
    /// The day, as stored (`YYYY-MM-DD`).
    pub day: String,
    pub present: bool,
}

/// What erasing a student's face data removed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Erased {
    pub photos: usize,
    pub templates: usize,
    /// Face snapshots kept with the student's marks.
    pub snapshots: usize,
    /// Refused faces (possible photo attacks) that resembled the student.
    pub refusals: usize,
    /// Faces the kiosk kept of the student to calibrate itself.
    pub observations: usize,
    /// Recordings of the student's printed photo (for the photo-attack check).
    pub attack_recordings: usize,
}

/// What was erased, naming only what there was: "3 photos, 6 face templates and 1 face
/// snapshot"; "no face data (none was stored)" when there was nothing.
impl std::fmt::Display for Erased {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            (self.photos, "photo", ""),
            (self.templates, "face template", ""),
            (self.snapshots, "face snapshot", ""),
            (self.refusals, "refused-face record", ""),
            (self.observations, "kiosk observation", ""),
            (self.attack_recordings, "recording", " of a printed photo"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, noun, of)| format!("{}{of}", count(n, noun)))
        .collect();
        if parts.is_empty() {
            f.write_str("no face data (none was stored)")
        } else {
            f.write_str(&crate::wording::listing(&parts))
        }
    }
}

/// What became of the templates of models no longer in use (`retire_templates_except`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetiredTemplates {
    /// There were none.
    None,
    /// Deleted, this many.
    Dropped(usize),
    /// Kept, this many: the folder is linked to a school server.
    KeptForTheSchool(usize),
}

/// Result of recording a mark.
#[derive(Clone, Debug, PartialEq)]
pub enum MarkRecord {
    /// Newly marked at this time.
    New(String),
    /// Already marked earlier that day, at this time; `door` names the door when it was
    /// another one of the school's.
    Existing { at: String, door: Option<String> },
    /// Not marked: an admin recorded the student absent that day, by hand (at this time).
    /// Only a correction to present undoes it.
    AbsentByHand(String),
    /// Not marked: the student left the school; their last day in class ("YYYY-MM-DD") was
    /// before the day (a machine that still knew their face: their leave recorded ahead,
    /// their face data not yet erased here).
    Left(String),
}

/// What a correction by hand did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Correction {
    /// Whether the student's mark changed (false: already so).
    pub changed: bool,
    /// The day's last mark made other than by hand was taken away, and the day declared
    /// a class day so that it stays one.
    pub kept_class_day: bool,
}

/// One attendance mark.
#[derive(Clone, Debug, PartialEq)]
pub struct AttendanceRow {
    pub student_id: i64,
    pub day: String,
    pub marked_at: String,
    pub score: Option<f64>,
    pub source: String,
    /// The school's door that marked (several doors on one server), when known.
    pub door: Option<String>,
}

/// A mark with the student's roll number and name.
#[derive(Clone, Debug, PartialEq)]
pub struct MarkDetail {
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
    pub day: String,
    pub marked_at: String,
    pub score: Option<f64>,
    pub source: String,
    /// The school's door that marked (several doors on one server), when known.
    pub door: Option<String>,
    /// A small JPEG of the face at marking time, while kept.
    pub snapshot: Option<Vec<u8>>,
}

/// One sent (or failed) email.
#[derive(Clone, Debug, PartialEq)]
pub struct EmailLogRow {
    pub at: String,
    pub recipient: String,
    /// The student who has that address now ("Name (roll no)"), if one does.
    pub student: Option<String>,
    /// "sent" or "failed".
    pub status: String,
    pub error: Option<String>,
}

impl EmailLogRow {
    /// "sent", or "not sent: " and why, for the admin.
    pub fn outcome(&self) -> String {
        match (self.status.as_str(), &self.error) {
            ("sent", _) => "sent".into(),
            (_, Some(why)) => format!("not sent: {why}"),
            (_, None) => "not sent".into(),
        }
    }

    /// Whether the message went.
    pub fn was_sent(&self) -> bool {
        self.status == "sent"
    }
}

/// A face the kiosk refused because it did not look live.
#[derive(Clone, Debug, PartialEq)]
pub struct RefusalRow {
    pub at: String,
    /// Whom the face resembled, if anyone.
    pub student: Option<String>,
    pub score: f32,
    pub snapshot: Option<Vec<u8>>,
}

/// A stored enrolment photo.
#[derive(Clone, Debug, PartialEq)]
pub struct PhotoRow {
    pub id: i64,
    pub student_id: i64,
    pub file_name: String,
    pub added_at: String,
    /// "camera" (the kiosk's) or "upload".
    pub origin: String,
}

fn photo_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PhotoRow> {
    Ok(PhotoRow {
        id: r.get(0)?,
        student_id: r.get(1)?,
        file_name: r.get(2)?,
        added_at: r.get(3)?,
        origin: r.get(4)?,
    })
}

/// One audit log entry.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub details: String,
}

/// The database connection.
pub struct Store {
    conn: Connection,
    path: std::path::PathBuf,
}

fn vector_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn blob_to_vector(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Query parameters for `?1`..`?2` days, as stored ("YYYY-MM-DD").
fn day_range(from: NaiveDate, to: NaiveDate) -> [String; 2] {
    [day_text(from), day_text(to)]
}

/// Now, as stored: RFC 3339 local time with offset, whole seconds.
pub fn timestamp(t: DateTime<Local>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// A stored timestamp's time of day, for people: "08:52" (from "2026-03-02T08:52:10+01:00").
pub fn clock_time(stored: &str) -> String {
    stored.get(11..16).unwrap_or(stored).to_string()
}

/// A stored timestamp for people, to the minute: "2026-03-09 08:12".
pub fn to_the_minute(stored: &str) -> String {
    stored.get(..16).unwrap_or(stored).replace('T', " ")
}

fn template_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TemplateRow> {
    Ok(TemplateRow {
        student_id: r.get(0)?,
        model_id: r.get(1)?,
        vector: blob_to_vector(&r.get::<_, Vec<u8>>(2)?),
        origin: r.get(3)?,
    })
}

/// Templates with their photo's origin (templates without a photo count as uploads).
const TEMPLATES_SELECT: &str =
    "SELECT t.student_id, t.model_id, t.vector, COALESCE(p.origin, t.origin, 'upload')
     FROM face_templates t LEFT JOIN photos p ON p.id = t.photo_id";

fn insert_photos(
    conn: &Connection,
    student_id: i64,
    photos: &[NewPhoto],
    now: &str,
) -> Result<(), StoreError> {
    for photo in photos {
        conn.execute(
            "INSERT INTO photos (student_id, file_name, added_at, origin) VALUES (?1, ?2, ?3, ?4)",
            params![student_id, photo.file_name, now, photo.origin],
        )?;
        let photo_id = conn.last_insert_rowid();
        for (model, vector) in &photo.templates {
            conn.execute(
                "INSERT INTO face_templates (student_id, photo_id, model_id, vector) VALUES (?1, ?2, ?3, ?4)",
                params![student_id, photo_id, model, vector_to_blob(vector)],
            )?;
        }
    }
    Ok(())
}

fn photo_names(conn: &Connection, student_id: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare("SELECT file_name FROM photos WHERE student_id = ?1")?;
    let rows = stmt.query_map([student_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes every piece of a student's face data (the rows; the caller deletes the photo
/// files named in the answer); with `before` (a stored time), only what is dated before it.
fn erase_face_rows(
    conn: &Connection,
    id: i64,
    before: Option<&str>,
) -> Result<(Vec<String>, Erased), StoreError> {
    // `?1` the student, `?2` the time (times carry their own offsets: compared as instants).
    let dated = |column: &str| format!("(?2 IS NULL OR julianday({column}) < julianday(?2))");
    let files = conn
        .prepare(&format!(
            "SELECT file_name FROM photos WHERE student_id = ?1 AND {}",
            dated("added_at")
        ))?
        .query_map(params![id, before], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let erase = |sql: &str, column: &str| {
        conn.execute(&format!("{sql} AND {}", dated(column)), params![id, before])
    };
    let erased = Erased {
        // Before a time, a template goes with its photo (one without a photo here came
        // from another machine, which the school keeps or deletes for itself).
        templates: conn.execute(
            &format!(
                "DELETE FROM face_templates WHERE student_id = ?1
                   AND (?2 IS NULL OR photo_id IN (SELECT id FROM photos
                                                   WHERE student_id = ?1 AND {}))",
                dated("added_at")
            ),
            params![id, before],
        )?,
        photos: erase("DELETE FROM photos WHERE student_id = ?1", "added_at")?,
        snapshots: erase(
            "UPDATE attendance SET snapshot = NULL WHERE student_id = ?1 AND snapshot IS NOT NULL",
            "marked_at",
        )?,
        refusals: erase("DELETE FROM kiosk_refusals WHERE student_id = ?1", "at")?,
        observations: erase(
            "DELETE FROM face_observations WHERE student_id = ?1",
            "seen_at",
        )?,
        attack_recordings: erase(
            "DELETE FROM attack_recordings WHERE student_id = ?1",
            "recorded_at",
        )?,
    };
    Ok((files, erased))
}

/// Deletes a student's rows (their photos, templates and marks go with them). The days on
/// which only they were marked stay class days for the others (`keep_class_days`);
/// returns how many such days there were.
fn delete_student_rows(conn: &Connection, id: i64, actor: &str) -> Result<usize, StoreError> {
    let kept = keep_class_days(conn, id, None, true, actor)?.len();
    // Refused faces that resembled them are their face data too.
    conn.execute("DELETE FROM kiosk_refusals WHERE student_id = ?1", [id])?;
    conn.execute("DELETE FROM students WHERE id = ?1", [id])?;
    Ok(kept)
}

/// Declares a class day (audited) each day on which `student_id`'s marks made other than
/// by hand are the only ones and that nobody declared (`day`: that day only), where it
/// counts for someone (with `for_others`, a student other than them enrolled by then):
/// taking those marks away would otherwise take the day off the sheet, and everyone's
/// absence that day with it. Returns the days.
fn keep_class_days(
    conn: &Connection,
    student_id: i64,
    day: Option<&str>,
    for_others: bool,
    actor: &str,
) -> Result<Vec<String>, StoreError> {
    let days = conn
        .prepare(
            "SELECT DISTINCT a.day FROM attendance a
             WHERE a.student_id = ?1 AND a.source <> 'admin' AND (?2 IS NULL OR a.day = ?2)
               AND NOT EXISTS (SELECT 1 FROM attendance o
                               WHERE o.day = a.day AND o.student_id <> ?1 AND o.source <> 'admin')
               AND NOT EXISTS (SELECT 1 FROM class_days c WHERE c.day = a.day)
               AND (NOT ?3 OR EXISTS (SELECT 1 FROM students s WHERE s.id <> ?1
                                        AND substr(s.enrolled_at, 1, 10) <= a.day))
             ORDER BY a.day",
        )?
        .query_map(params![student_id, day, for_others], |r| {
            r.get::<_, String>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for d in &days {
        conn.execute(
            "INSERT INTO class_days (day, declared_at, actor) VALUES (?1, ?2, ?3)",
            params![d, timestamp(Local::now()), actor],
        )?;
        audit(conn, actor, "keep class day", d)?;
    }
    Ok(days)
}

/// The id of the student with this roll number, in any letter case.
fn student_id_by_roll_no(conn: &Connection, roll_no: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id FROM students WHERE roll_no = ?1 COLLATE NOCASE",
            [roll_no],
            |r| r.get(0),
        )
        .optional()?)
}

/// Puts the erasure of student `id`'s face data in the outbox for the school server, when
/// this folder tells one what changes here (linked, or away from it and to tell it once
/// linked again) and the erasure is not the school's own: every machine of the school
/// erases what it holds of the face (the enrolment photos stay at the machine that took
/// them). Called before the rows go: away from the school, the templates' own deletions
/// are then not recorded one by one (`db/0019_school_away_template_erasures.sql`).
fn tell_school_face_data_erased(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO school_outbox (tbl, uid, gone)
         SELECT 'face_data', s.uid, 1 FROM students s, school_link l
         WHERE s.id = ?1 AND l.applying = 0 AND (l.linked = 1 OR l.left_at IS NOT NULL)",
        [id],
    )?;
    Ok(())
}

/// Deletes a student's face data rows (`erase_face_rows`) and records the erasure by their
/// roll number, so that a restore makes it again. Returns the photo files to delete, what
/// was removed, and whether the student was there (and the erasure recorded).
fn erase_recorded_face_data(
    conn: &Connection,
    id: i64,
) -> Result<(Vec<String>, Erased, bool), StoreError> {
    let (files, erased) = erase_face_rows(conn, id, None)?;
    let recorded = match name_of(conn, id)? {
        Some((roll_no, _)) => {
            erasures::record(conn, ErasureKind::FaceData, &roll_no)?;
            true
        }
        None => false,
    };
    Ok((files, erased, recorded))
}

/// Erases student `id`'s face data (telling the school, when linked) and logs `action` as
/// `actor`, with `why` (may be empty) and what went.
fn erase_face_data_logged(
    conn: &Connection,
    id: i64,
    actor: &str,
    action: &str,
    why: &str,
) -> Result<(Vec<String>, Erased), StoreError> {
    tell_school_face_data_erased(conn, id)?;
    let (files, erased, _) = erase_recorded_face_data(conn, id)?;
    let details = match why {
        "" => format!("student {id}: {erased}"),
        why => format!("student {id}: {why}; erased {erased}"),
    };
    audit(conn, actor, action, &details)?;
    Ok((files, erased))
}

/// Removes an admin setting (on a connection or inside a transaction); false when there
/// was none.
fn delete_admin_setting(conn: &Connection, key: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM admin_settings WHERE key = ?1", [key])? == 1)
}

/// Stores a value in the admin settings table (on a connection or inside a transaction).
fn put_admin_setting(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO admin_settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// A value from the admin settings table (on a connection: a database or a backup).
fn read_admin_setting(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT value FROM admin_settings WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

/// The days away of a student whose last day in class was `last_day`, back on
/// `first_day_back`: first and last, `None` when there is none (back the next day).
pub fn away_span(last_day: NaiveDate, first_day_back: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let first = last_day.succ_opt()?;
    let last = first_day_back.pred_opt()?;
    (first <= last).then_some((first, last))
}

/// How the database writes a day.
const DAY: &str = "%Y-%m-%d";

/// A day as the database stores it ("2026-03-02"): text that sorts as the days do. Days
/// are typed in the screens' fields, and written in exports and the old API's dates, the
/// same way.
pub(crate) fn day_text(day: NaiveDate) -> String {
    day.format(DAY).to_string()
}

/// A day stored (or typed: spaces around it allowed) as `day_text` writes it; `None` when
/// it cannot be read.
pub(crate) fn stored_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), DAY).ok()
}

/// Spans of days away as stored ("first/last", comma-separated); what cannot be read is
/// passed by.
fn away_spans(text: Option<&str>) -> Vec<(NaiveDate, NaiveDate)> {
    text.unwrap_or_default()
        .split(',')
        .filter_map(|span| {
            let (first, last) = span.split_once('/')?;
            Some((stored_day(first)?, stored_day(last)?))
        })
        .collect()
}

/// Spans of days away as stored (see `away_spans`).
fn away_text(spans: &[(NaiveDate, NaiveDate)]) -> String {
    let spans: Vec<String> = spans
        .iter()
        .map(|(a, b)| format!("{}/{}", day_text(*a), day_text(*b)))
        .collect();
    spans.join(",")
}

/// One student's roll number and name (on a connection or inside a transaction).
fn name_of(conn: &Connection, id: i64) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT roll_no, name FROM students WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// `Store::update_student` within a transaction.
fn update_student_in(
    tx: &Transaction<'_>,
    id: i64,
    roll_no: &str,
    name: &str,
    email: &str,
    actor: &str,
) -> Result<Option<String>, StoreError> {
    let corrected = name_of(tx, id)?
        .map(|(roll, _)| roll)
        .filter(|old| old != roll_no);
    let changed = tx.execute(
        "UPDATE students SET roll_no = ?2, name = ?3, email = ?4 WHERE id = ?1",
        params![id, roll_no, name, email],
    )?;
    if changed == 1 {
        if let Some(old) = &corrected {
            erasures::record_correction(tx, old, roll_no)?;
            audit(
                tx,
                actor,
                "correct roll number",
                &format!("student {id}: {old:?} to {roll_no:?}"),
            )?;
        }
        audit(
            tx,
            actor,
            "edit student",
            &format!("student {id}: name {name:?}, email {email:?}"),
        )?;
    }
    Ok(corrected)
}

fn audit(conn: &Connection, actor: &str, action: &str, details: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, details) VALUES (?1, ?2, ?3, ?4)",
        params![timestamp(Local::now()), actor, action, details],
    )?;
    Ok(())
}

/// How a connection waits for another one writing: it tries again every 2 ms, for at most
/// `BUSY_TIMEOUT`. SQLite's own wait sleeps longer and longer between tries (up to a tenth
/// of a second), so a writer taking the database back to back — the school link writing a
/// large fetch part after part — kept a kiosk's mark waiting for seconds.
fn wait_for_another_writer() -> impl FnMut(i32) -> bool + Send + 'static {
    let mut since = std::time::Instant::now();
    move |tries| {
        if tries == 0 {
            since = std::time::Instant::now();
        }
        if since.elapsed() >= BUSY_TIMEOUT {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
        true
    }
}

/// Puts the database in WAL mode. Switching needs the file to itself, and SQLite answers
/// "busy" at once rather than wait when another connection (a kiosk and a server starting
/// together on a new database) is opening it too; so the switch is tried again until the
/// usual busy timeout has passed.
fn switch_to_wal(conn: &Connection) -> Result<(), StoreError> {
    let start = std::time::Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e) => match StoreError::from(e) {
                StoreError::Busy if start.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                other => return Err(other),
            },
        }
    }
}

impl AsRef<Store> for Store {
    fn as_ref(&self) -> &Store {
        self
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        // A new database is private to this user (SQLite gives its WAL files the same mode).
        if !path.exists() {
            let _ = crate::data_dir::write_private_file(path, b"");
        }
        let conn = Connection::open(path).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::configure(conn, path)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(mut conn: Connection, path: &Path) -> Result<Store, StoreError> {
        conn.busy_handler(Some(wait_for_another_writer()))?;
        // Every transaction here writes, most after reading first. Begun as deferred, it
        // would read, then find another connection writing (the kiosk's mark, the school
        // link's fetch) and fail at once, "busy", without the wait above: SQLite cannot
        // let a reader whose snapshot is older than another writer's commit write. Begun
        // as immediate, it waits for the other writer first.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Deleted rows are overwritten, so erased face data does not linger in free pages.
        conn.pragma_update(None, "secure_delete", true)?;
        // WAL lets the kiosk and the HTTP server read while the other writes.
        switch_to_wal(&conn)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Brings the schema up to date. Several threads or programs may open a new database
    /// at once: each migration runs in a write transaction that first checks the version
    /// again, so one of them applies it and the others see it done.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let version = |c: &Connection| -> Result<usize, StoreError> {
            Ok(c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize)
        };
        while version(&self.conn)? < MIGRATIONS.len() {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let current = version(&tx)?;
            if let Some(sql) = MIGRATIONS.get(current) {
                tx.execute_batch(sql)?;
                tx.pragma_update(None, "user_version", (current + 1) as i64)?;
            }
            tx.commit()?;
        }
        Ok(())
    }

    /// Whether a student with this roll number or email (case-insensitive) exists.
    pub fn student_exists(&self, roll_no: &str, email: &str) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM students WHERE roll_no = ?1 COLLATE NOCASE OR email = ?2)",
            params![roll_no, email],
            |r| r.get(0),
        )?)
    }

    /// Adds a student with their photos and templates in one transaction.
    pub fn insert_student(
        &mut self,
        student: &NewStudent,
        photos: &[NewPhoto],
        actor: &str,
    ) -> Result<i64, StoreError> {
        self.office_only("Enrolling a student")?;
        let now = timestamp(Local::now());
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO students (roll_no, name, email, enrolled_at) VALUES (?1, ?2, ?3, ?4)",
            params![student.roll_no, student.name, student.email, now],
        )?;
        let id = tx.last_insert_rowid();
        insert_photos(&tx, id, photos, &now)?;
        tx.execute(
            "INSERT INTO audit_log (at, actor, action, details) VALUES (?1, ?2, 'enroll', ?3)",
            params![
                now,
                actor,
                format!(
                    "enrolled {} ({}) with {}",
                    student.roll_no,
                    student.name,
                    count(photos.len(), "photo")
                )
            ],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Adds photos (with their templates) to an existing student, in one transaction.
    pub fn add_photos(
        &mut self,
        student_id: i64,
        photos: &[NewPhoto],
        actor: &str,
    ) -> Result<(), StoreError> {
        self.office_only("Adding photos to a student")?;
        let now = timestamp(Local::now());
        let tx = self.conn.transaction()?;
        insert_photos(&tx, student_id, photos, &now)?;
        audit(
            &tx,
            actor,
            "add photos",
            &format!("student {student_id}: {}", count(photos.len(), "photo")),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The enrolment photos added since `since` (to the second): file name and when.
    fn photos_added_since(
        &self,
        since: DateTime<chrono::FixedOffset>,
    ) -> Result<Vec<(String, DateTime<chrono::FixedOffset>)>, StoreError> {
        // Stored times carry their own offset: the text narrows by day (a day early, for
        // offsets), the times themselves decide.
        let from = day_text((since - chrono::Days::new(1)).date_naive());
        let mut stmt = self
            .conn
            .prepare("SELECT file_name, added_at FROM photos WHERE added_at >= ?1")?;
        let stored = stmt.query_map([from], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))?;
        let mut since_then = Vec::new();
        for row in stored {
            let (file_name, at): (String, String) = row?;
            if let Ok(at) = DateTime::parse_from_rfc3339(&at) {
                if at >= since {
                    since_then.push((file_name, at));
                }
            }
        }
        Ok(since_then)
    }

    /// The attendance decisions recorded for `from` and the days after, with when each
    /// was made (kiosk marks, marks over the API or the command line, corrections).
    fn marks_from(
        &self,
        from: NaiveDate,
    ) -> Result<Vec<(RecordedMark, DateTime<chrono::FixedOffset>)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT student_id, day, present, marked_at FROM attendance WHERE day >= ?1",
        )?;
        let rows = stmt.query_map([day_text(from)], |r| {
            let mark = RecordedMark {
                student_id: r.get(0)?,
                day: r.get(1)?,
                present: r.get(2)?,
            };
            Ok((mark, r.get::<_, String>(3)?))
        })?;
        let mut marks = Vec::new();
        for row in rows {
            let (mark, at) = row?;
            if let Ok(at) = DateTime::parse_from_rfc3339(&at) {
                marks.push((mark, at));
            }
        }
        Ok(marks)
    }

    /// A student's photos, oldest first.
    pub fn photos_of(&self, student_id: i64) -> Result<Vec<PhotoRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, student_id, file_name, added_at, origin FROM photos WHERE student_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([student_id], photo_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes one photo and its templates; returns the photo (for its file), if it existed.
    pub fn remove_photo(
        &mut self,
        photo_id: i64,
        actor: &str,
    ) -> Result<Option<PhotoRow>, StoreError> {
        self.office_only("Removing a student's photo")?;
        let tx = self.conn.transaction()?;
        let photo = tx
            .query_row(
                "SELECT id, student_id, file_name, added_at, origin FROM photos WHERE id = ?1",
                [photo_id],
                photo_row,
            )
            .optional()?;
        if let Some(p) = &photo {
            tx.execute("DELETE FROM photos WHERE id = ?1", [photo_id])?;
            erasures::record(&tx, ErasureKind::Photo, &p.file_name)?;
            audit(
                &tx,
                actor,
                "remove photo",
                &format!("student {}: photo {}", p.student_id, p.id),
            )?;
        }
        tx.commit()?;
        Ok(photo)
    }

    /// Changes a student's roll number, name and email. A roll number corrected is
    /// recorded with the erasures (see `erasures`), so that it is made again in a backup
    /// made before it, and erasures under the new number reach that backup. Returns the old
    /// roll number when it was corrected.
    pub fn update_student(
        &mut self,
        id: i64,
        roll_no: &str,
        name: &str,
        email: &str,
        actor: &str,
    ) -> Result<Option<String>, StoreError> {
        self.office_only("Changing a student's roll number, name or email")?;
        let tx = self.conn.transaction()?;
        let corrected = update_student_in(&tx, id, roll_no, name, email, actor)?;
        tx.commit()?;
        Ok(corrected)
    }

    /// Gives student `id` the roll number or the email address (or both: `what`) that
    /// student `other` holds, and `other` the ones `id` held (typed the wrong way round),
    /// with the rest of `change` (name; a number or address not swapped is `id`'s own), in
    /// one step. `other` goes through a number and an address no one has; its roll numbers
    /// are recorded as corrections, so that a backup made before it gets the swap too.
    /// False when either student is gone.
    pub fn swap_with(
        &mut self,
        id: i64,
        other: i64,
        change: &NewStudent,
        what: Swap,
        actor: &str,
    ) -> Result<bool, StoreError> {
        self.office_only("Changing a student's roll number, name or email")?;
        let tx = self.conn.transaction()?;
        let held = |who: i64| -> Result<Option<(String, String)>, StoreError> {
            Ok(tx
                .query_row(
                    "SELECT roll_no, email FROM students WHERE id = ?1",
                    [who],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        };
        let (Some((my_roll, my_email)), Some((their_roll, their_email))) =
            (held(id)?, held(other)?)
        else {
            return Ok(false);
        };
        // What `other` holds between the two steps (a number and an address no one has,
        // for what is swapped) and after them.
        let moment = |held: &str| format!("{held}~{other}");
        let pick = |swapped: bool, then: String, kept: &str| match swapped {
            true => then,
            false => kept.to_string(),
        };
        let roll_moment = pick(what.roll_no, moment(&their_roll), &their_roll);
        let email_moment = pick(what.email, moment(&their_email), &their_email);
        let roll_then = pick(what.roll_no, my_roll, &their_roll);
        let email_then = pick(what.email, my_email, &their_email);
        let give = |old_roll: &str, roll_no: &str, email: &str| -> Result<(), StoreError> {
            tx.execute(
                "UPDATE students SET roll_no = ?2, email = ?3 WHERE id = ?1",
                params![other, roll_no, email],
            )?;
            if old_roll != roll_no {
                erasures::record_correction(&tx, old_roll, roll_no)?;
            }
            Ok(())
        };
        give(&their_roll, &roll_moment, &email_moment)?;
        let roll_no = match what.roll_no {
            true => their_roll.as_str(),
            false => change.roll_no.as_str(),
        };
        update_student_in(&tx, id, roll_no, &change.name, &change.email, actor)?;
        give(&roll_moment, &roll_then, &email_then)?;
        let mut given = Vec::new();
        if what.roll_no {
            given.push(format!("roll number {their_roll:?} to {roll_then:?}"));
        }
        if what.email {
            given.push(format!("email {email_then:?}"));
        }
        audit(
            &tx,
            actor,
            "swap with student",
            &format!(
                "student {other}: {} (swapped with student {id})",
                given.join(", ")
            ),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Records that a student left the school after `last_day` (the days after it count for
    /// nobody). Their face data goes once the last day is over: in the same step when it is
    /// `today` or before (see `erase_face_data`: the kiosk no longer knows them, and a
    /// school keeps no one's face longer than it needs), else the first day after it
    /// (`erase_face_data_of_leavers`). Returns the photo file names to delete and what was
    /// removed.
    pub fn student_left(
        &mut self,
        id: i64,
        last_day: NaiveDate,
        today: NaiveDate,
        actor: &str,
    ) -> Result<(Vec<String>, Erased), StoreError> {
        self.office_only("Recording that a student left")?;
        let tx = self.conn.transaction()?;
        let day = day_text(last_day);
        if tx.execute(
            "UPDATE students SET last_day = ?2 WHERE id = ?1",
            params![id, day],
        )? != 1
        {
            return Ok(Default::default());
        }
        let (files, erased) = match last_day <= today {
            true => {
                erase_face_data_logged(&tx, id, actor, "student left", &format!("last day {day}"))?
            }
            false => {
                let what = format!("last day {day}; face data to be erased after it");
                audit(&tx, actor, "student left", &format!("student {id}: {what}"))?;
                Default::default()
            }
        };
        tx.commit()?;
        self.flush_erased();
        Ok((files, erased))
    }

    /// Erases the face data still held of students whose last day in class was before
    /// `today` (their leave was recorded ahead of it): the kiosk knew them up to that day.
    /// Where students are changed (alone, or the school's office) it is an erasure, and at
    /// a school it reaches every machine; a door (whose login may not erase the school's
    /// copy) erases its own copy only, untold, so that a face does not stay there while
    /// the office's machine is off. Returns the photo file names to delete and how many
    /// students.
    pub fn erase_face_data_of_leavers(
        &mut self,
        today: NaiveDate,
        actor: &str,
    ) -> Result<(Vec<String>, usize), StoreError> {
        // A machine whose login is not known yet waits for it: were it the office's, its
        // copy erased untold would leave the school's for good.
        let door = match self.office_only("Erasing a student's face data") {
            Err(StoreError::OfficeOnly(_)) => true,
            Err(StoreError::NotConnectedYet(_)) => return Ok(Default::default()),
            other => {
                other?;
                false
            }
        };
        let tx = self.conn.transaction()?;
        let leavers: Vec<(i64, String)> = tx
            .prepare(
                "SELECT id, last_day FROM students s WHERE last_day < ?1
                   AND (EXISTS (SELECT 1 FROM face_templates t WHERE t.student_id = s.id)
                        OR EXISTS (SELECT 1 FROM photos p WHERE p.student_id = s.id))",
            )?
            .query_map([day_text(today)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut files = Vec::new();
        for (id, day) in &leavers {
            let what = format!("left the school, last day {day}");
            if door {
                // Not a change to send (as the school's own are not).
                let (gone, erased) = school::untold(&tx, || erase_face_rows(&tx, *id, None))?;
                let details = format!(
                    "student {id}: {what}; erased this door's copy: {erased} (the school's \
                     goes at the office)"
                );
                audit(&tx, actor, "erase face data", &details)?;
                files.extend(gone);
            } else {
                files.extend(erase_face_data_logged(&tx, *id, actor, "erase face data", &what)?.0);
            }
        }
        tx.commit()?;
        if !leavers.is_empty() {
            self.flush_erased();
        }
        Ok((files, leavers.len()))
    }

    /// Records that a student who had left is in the class again from `first_day_back`:
    /// the days between their last day and it are kept as days away (they count for
    /// nobody), the days from it on count for them. False when they had not left.
    pub fn student_back(
        &mut self,
        id: i64,
        first_day_back: NaiveDate,
        actor: &str,
    ) -> Result<bool, StoreError> {
        self.office_only("Recording that a student is back")?;
        let tx = self.conn.transaction()?;
        let left: Option<(Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT last_day, away FROM students WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((Some(last_day), away)) = left else {
            return Ok(false);
        };
        let mut spans = away_spans(away.as_deref());
        let span = stored_day(&last_day).and_then(|last_day| away_span(last_day, first_day_back));
        spans.extend(span);
        let away = (!spans.is_empty()).then(|| away_text(&spans));
        tx.execute(
            "UPDATE students SET last_day = NULL, away = ?2 WHERE id = ?1",
            params![id, away],
        )?;
        let details = match span {
            Some((a, b)) => format!("student {id}: back on {first_day_back}, away {a} to {b}"),
            None => format!("student {id}: back on {first_day_back}"),
        };
        audit(&tx, actor, "student back", &details)?;
        tx.commit()?;
        Ok(true)
    }

    /// The last class day of a student who left the school (`None`: in the class, or no
    /// such student).
    pub fn last_day(&self, id: i64) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = self
            .conn
            .query_row("SELECT last_day FROM students WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .flatten();
        Ok(day.and_then(|d| stored_day(&d)))
    }

    /// The first day after `day` on which the student was marked present, if any.
    pub fn present_after(&self, id: i64, day: NaiveDate) -> Result<Option<NaiveDate>, StoreError> {
        let first: Option<String> = self.conn.query_row(
            "SELECT MIN(day) FROM attendance WHERE student_id = ?1 AND present = 1 AND day > ?2",
            params![id, day_text(day)],
            |r| r.get(0),
        )?;
        Ok(first.and_then(|d| stored_day(&d)))
    }

    /// Removes every piece of a student's face data (photos, templates, the face snapshots
    /// kept with their marks, refused faces that resembled them) but keeps the student and
    /// their attendance. Returns the photo file names to delete and what was removed.
    pub fn erase_face_data(
        &mut self,
        id: i64,
        actor: &str,
    ) -> Result<(Vec<String>, Erased), StoreError> {
        self.office_only("Erasing a student's face data")?;
        let tx = self.conn.transaction()?;
        let (files, erased) = erase_face_data_logged(&tx, id, actor, "erase face data", "")?;
        tx.commit()?;
        self.flush_erased();
        Ok((files, erased))
    }

    /// Copies the write-ahead log into the database file and empties it, so the old copies
    /// of erased rows leave the disk now rather than at some later checkpoint. Best effort:
    /// a reader holding the log open (another program) only delays it.
    fn flush_erased(&self) {
        if let Err(e) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        {
            tracing::warn!("could not flush the database log after an erasure: {e}");
        }
    }

    /// Deletes a student with everything about them. Returns the photo file names to delete
    /// and how many days stayed class days for the others (only this student was marked).
    pub fn delete_student(
        &mut self,
        id: i64,
        actor: &str,
    ) -> Result<(Vec<String>, usize), StoreError> {
        // At a door, its own student whom the school never took (enrolled before it was
        // linked with a door's login) may go: nothing of theirs is the school's.
        let untaken = match self.office_only("Deleting a student") {
            Err(StoreError::OfficeOnly(what)) => match self.student(id)? {
                Some(s) if s.never_taken => true,
                _ => return Err(StoreError::OfficeOnly(what)),
            },
            other => {
                other?;
                false
            }
        };
        let tx = self.conn.transaction()?;
        let files = photo_names(&tx, id)?;
        let who = name_of(&tx, id)?;
        let kept = match untaken {
            true => {
                school::forget_unsent_student(&tx, id)?;
                school::untold(&tx, || delete_student_rows(&tx, id, actor))?
            }
            false => delete_student_rows(&tx, id, actor)?,
        };
        if let Some((roll, name)) = who {
            erasures::record(&tx, ErasureKind::Student, &roll)?;
            audit(&tx, actor, "delete student", &format!("{roll} ({name})"))?;
        }
        tx.commit()?;
        self.flush_erased();
        Ok((files, kept))
    }

    /// The templates of one student.
    pub fn templates_of(&self, student_id: i64) -> Result<Vec<TemplateRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{TEMPLATES_SELECT} WHERE t.student_id = ?1 ORDER BY t.id"
        ))?;
        let rows = stmt.query_map([student_id], template_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One student's templates grouped by face: the templates of each photo, each
    /// template without a photo here (from another machine of the school) on its own.
    pub fn faces_of(&self, student_id: i64) -> Result<Vec<StoredFace>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT COALESCE(t.photo_id, -t.id), t.model_id, t.vector,
                    COALESCE(p.origin, t.origin, 'upload')
             FROM face_templates t LEFT JOIN photos p ON p.id = t.photo_id
             WHERE t.student_id = ?1 ORDER BY 1, t.id",
        )?;
        let mut rows = stmt.query([student_id])?;
        let mut faces: Vec<(i64, StoredFace)> = Vec::new();
        while let Some(r) = rows.next()? {
            let key: i64 = r.get(0)?;
            let template = (r.get(1)?, blob_to_vector(&r.get::<_, Vec<u8>>(2)?));
            match faces.last_mut() {
                Some((k, face)) if *k == key => face.templates.push(template),
                _ => faces.push((
                    key,
                    StoredFace {
                        origin: r.get(3)?,
                        templates: vec![template],
                    },
                )),
            }
        }
        Ok(faces.into_iter().map(|(_, f)| f).collect())
    }

    /// Photos that have no template of this model (e.g. after a model change), of one
    /// origin only when `origin` is given.
    pub fn photos_without_model(
        &self,
        model_id: &str,
        origin: Option<&str>,
    ) -> Result<Vec<PhotoRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, student_id, file_name, added_at, origin FROM photos p
             WHERE (?2 IS NULL OR p.origin = ?2)
               AND NOT EXISTS (SELECT 1 FROM face_templates t WHERE t.photo_id = p.id AND t.model_id = ?1)
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![model_id, origin], photo_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores one template for an existing photo.
    pub fn add_template(
        &mut self,
        photo: &PhotoRow,
        model_id: &str,
        vector: &[f32],
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO face_templates (student_id, photo_id, model_id, vector) VALUES (?1, ?2, ?3, ?4)",
            params![photo.student_id, photo.id, model_id, vector_to_blob(vector)],
        )?;
        Ok(())
    }

    /// Deletes templates of models no longer in use, unless this folder is linked to a
    /// school server: there other doors may still run those models (a door upgraded before
    /// the others), and a deletion here would reach every door, so they are kept. In the
    /// usual case (none) it only reads an index: no scan of the templates, no write.
    pub fn retire_templates_except(
        &mut self,
        model_ids: &[&str],
    ) -> Result<RetiredTemplates, StoreError> {
        let placeholders = vec!["?"; model_ids.len()].join(", ");
        let others = format!("FROM face_templates WHERE model_id NOT IN ({placeholders})");
        let params = || rusqlite::params_from_iter(model_ids.iter());
        let stale: bool = self.conn.query_row(
            &format!("SELECT EXISTS (SELECT 1 {others})"),
            params(),
            |r| r.get(0),
        )?;
        if !stale {
            return Ok(RetiredTemplates::None);
        }
        let linked: bool = self
            .conn
            .query_row("SELECT linked FROM school_link", [], |r| r.get(0))?;
        if linked {
            let kept: i64 =
                self.conn
                    .query_row(&format!("SELECT COUNT(*) {others}"), params(), |r| r.get(0))?;
            return Ok(RetiredTemplates::KeptForTheSchool(kept as usize));
        }
        // Not an erasure: a folder that left a school does not tell it when it joins again.
        let tx = self.conn.transaction()?;
        let dropped = school::untold(&tx, || tx.execute(&format!("DELETE {others}"), params()))?;
        tx.commit()?;
        Ok(RetiredTemplates::Dropped(dropped))
    }

    /// A value from the admin settings table.
    pub fn admin_setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        read_admin_setting(&self.conn, key)
    }

    /// Stores a value in the admin settings table.
    pub fn set_admin_setting(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        put_admin_setting(&self.conn, key, value)
    }

    /// Removes an admin setting; false when there was none.
    pub fn remove_admin_setting(&mut self, key: &str) -> Result<bool, StoreError> {
        delete_admin_setting(&self.conn, key)
    }

    /// Records an admin action in the audit log.
    pub fn audit(&mut self, actor: &str, action: &str, details: &str) -> Result<(), StoreError> {
        audit(&self.conn, actor, action, details)
    }

    /// The newest audit entries first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, actor, action, details FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(AuditRow {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                details: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// All students, ordered by roll number.
    pub fn students(&self) -> Result<Vec<Student>, StoreError> {
        self.students_where("1", [])
    }

    /// One student, as `students` lists them.
    pub fn student(&self, id: i64) -> Result<Option<Student>, StoreError> {
        Ok(self.students_where("s.id = ?1", [id])?.pop())
    }

    /// The students that `condition` (SQL over `students s`) holds for.
    fn students_where(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Student>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT s.id, s.roll_no, s.name, s.email, s.enrolled_at,
                    (SELECT COUNT(*) FROM photos p WHERE p.student_id = s.id),
                    (SELECT MAX(marked_at) FROM attendance a
                      WHERE a.student_id = s.id AND a.present = 1 AND a.source <> 'admin'),
                    EXISTS (SELECT 1 FROM face_templates t LEFT JOIN photos p ON p.id = t.photo_id
                            WHERE t.student_id = s.id
                              AND COALESCE(p.origin, t.origin, 'upload') = 'camera'),
                    EXISTS (SELECT 1 FROM face_templates t WHERE t.student_id = s.id),
                    s.last_day, s.away,
                    EXISTS (SELECT 1 FROM school_outbox o
                            WHERE o.tbl = 'students' AND o.uid = s.uid AND o.gone = 0
                              AND o.refused > 0)
                      AND NOT EXISTS (SELECT 1 FROM school_students k WHERE k.uid = s.uid)
             FROM students s WHERE {condition} ORDER BY s.roll_no"
        ))?;
        let rows = stmt.query_map(params, |r| {
            Ok(Student {
                id: r.get(0)?,
                roll_no: r.get(1)?,
                name: r.get(2)?,
                email: r.get(3)?,
                enrolled_at: r.get(4)?,
                photo_count: r.get(5)?,
                last_seen: r.get(6)?,
                camera_enrolled: r.get(7)?,
                has_face: r.get(8)?,
                last_day: r.get::<_, Option<String>>(9)?.and_then(|d| stored_day(&d)),
                away: away_spans(r.get::<_, Option<String>>(10)?.as_deref()),
                never_taken: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The student with this roll number (in any letter case): id, roll number and name.
    pub fn student_by_roll_no(
        &self,
        roll_no: &str,
    ) -> Result<Option<(i64, String, String)>, StoreError> {
        let Some(id) = student_id_by_roll_no(&self.conn, roll_no)? else {
            return Ok(None);
        };
        Ok(self
            .student_name(id)?
            .map(|(roll_no, name)| (id, roll_no, name)))
    }

    /// The student with this email address (in any letter case), if any.
    pub fn email_holder(&self, email: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM students WHERE email = ?1 COLLATE NOCASE",
                [email],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// One student's roll number and name.
    pub fn student_name(&self, id: i64) -> Result<Option<(String, String)>, StoreError> {
        name_of(&self.conn, id)
    }

    /// Every face template.
    pub fn templates(&self) -> Result<Vec<TemplateRow>, StoreError> {
        let mut all = Vec::new();
        self.for_each_template(|t| all.push(t))?;
        Ok(all)
    }

    /// Hands every face template to `take`, one at a time, without holding them all (a
    /// school of 10,000 students has 100,000 of them).
    pub fn for_each_template(&self, mut take: impl FnMut(TemplateRow)) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("{TEMPLATES_SELECT} ORDER BY t.id"))?;
        for row in stmt.query_map([], template_row)? {
            take(row?);
        }
        Ok(())
    }

    /// Every template of one model, in the order they were added.
    pub fn templates_of_model(&self, model_id: &str) -> Result<Vec<TemplateRow>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{TEMPLATES_SELECT} WHERE t.model_id = ?1 ORDER BY t.id"
        ))?;
        let rows = stmt.query_map([model_id], template_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every face the kiosk kept to calibrate itself.
    pub fn observations(&self) -> Result<Vec<ObservationRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT student_id, model_id, vector FROM face_observations ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(ObservationRow {
                student_id: r.get(0)?,
                model_id: r.get(1)?,
                vector: blob_to_vector(&r.get::<_, Vec<u8>>(2)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Keeps a face the kiosk attributed to a student (the newest few per model).
    pub fn add_observation(
        &mut self,
        student_id: i64,
        vectors: &[(String, Vec<f32>)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let now = timestamp(Local::now());
        for (model, vector) in vectors {
            tx.execute(
                "INSERT INTO face_observations (student_id, model_id, vector, seen_at) VALUES (?1, ?2, ?3, ?4)",
                params![student_id, model, vector_to_blob(vector), now],
            )?;
            tx.execute(
                "DELETE FROM face_observations WHERE student_id = ?1 AND model_id = ?2 AND id NOT IN
                 (SELECT id FROM face_observations WHERE student_id = ?1 AND model_id = ?2
                  ORDER BY id DESC LIMIT ?3)",
                params![student_id, model, OBSERVATIONS_PER_STUDENT as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Changes whenever another connection (another program, or another of this process's
    /// stores) commits a change to the database; this store's own commits leave it as it
    /// is (SQLite's `data_version`).
    pub fn others_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Changes whenever templates or kiosk observations are added or removed (by any
    /// process).
    pub fn templates_version(&self) -> Result<TemplatesVersion, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM face_templates), (SELECT COALESCE(MAX(id), 0) FROM face_templates),
                    (SELECT COUNT(*) FROM face_observations), (SELECT COALESCE(MAX(id), 0) FROM face_observations)",
            [],
            |r| {
                Ok(TemplatesVersion {
                    count: r.get(0)?,
                    max_id: r.get(1)?,
                    observations: r.get(2)?,
                    max_observation: r.get(3)?,
                })
            },
        )?)
    }

    /// Every stored photo file name (relative to the photos folder).
    pub fn photo_files(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT file_name FROM photos")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The student's last day in class, when it was before `day` (they have left).
    pub fn left_before(
        &self,
        student_id: i64,
        day: NaiveDate,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_day FROM students WHERE id = ?1 AND last_day < ?2",
                params![student_id, day_text(day)],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records that a student is present on the day of `at`, unless already marked that day
    /// or recorded absent that day by hand. Atomic: two concurrent marks of one student
    /// produce one row.
    pub fn mark(
        &mut self,
        student_id: i64,
        at: DateTime<Local>,
        score: Option<f64>,
        source: &str,
        snapshot: Option<&[u8]>,
    ) -> Result<MarkRecord, StoreError> {
        let day = day_text(at.date_naive());
        if let Some(last_day) = self.left_before(student_id, at.date_naive())? {
            return Ok(MarkRecord::Left(last_day));
        }
        let when = timestamp(at);
        let inserted = self.conn.execute(
            "INSERT INTO attendance (student_id, day, marked_at, score, source, snapshot)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (student_id, day) DO NOTHING",
            params![student_id, day, when, score, source, snapshot],
        )?;
        if inserted == 1 {
            return Ok(MarkRecord::New(when));
        }
        let (at, door, present) = self.conn.query_row(
            "SELECT marked_at, CASE WHEN door IS NOT (SELECT door FROM school_link) THEN door END,
                    present
             FROM attendance WHERE student_id = ?1 AND day = ?2",
            params![student_id, day],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(if present {
            MarkRecord::Existing { at, door }
        } else {
            MarkRecord::AbsentByHand(at)
        })
    }

    /// A correction by hand: marks a student present (or absent) on a day, with the reason
    /// in the audit log. An absence is kept as a row of its own (`present = 0`), so the
    /// kiosk does not mark the student again that day; a correction to present replaces
    /// it. Taking away the day's last mark the kiosk (or the API, or the
    /// command line) made keeps the day a class day, declared (and logged): class took
    /// place, and the absence just recorded counts (until 2026-12-03 the day stopped being
    /// one, and with it everyone's absence that day). It can be withdrawn like any
    /// declaration. The decision is dated `at` (now, but for a test), as [`Store::mark`]'s
    /// mark: what is timed by decisions, such as the day's backup being written again once
    /// the day has been quiet, follows it.
    pub fn correct(
        &mut self,
        student_id: i64,
        day: NaiveDate,
        present: bool,
        reason: &str,
        actor: &str,
        at: DateTime<Local>,
    ) -> Result<Correction, StoreError> {
        self.office_only("Correcting attendance")?;
        let tx = self.conn.transaction()?;
        let who: String = tx.query_row(
            "SELECT roll_no || ' (' || name || ')' FROM students WHERE id = ?1",
            [student_id],
            |r| r.get(0),
        )?;
        let d = day_text(day);
        let mut kept_class_day = false;
        if !present {
            kept_class_day = !keep_class_days(&tx, student_id, Some(&d), false, actor)?.is_empty();
            // A kiosk mark taken away may have been someone else's face: what the kiosk
            // learnt from it that day goes (the calibration would count that face as this
            // student's).
            tx.execute(
                "DELETE FROM face_observations WHERE student_id = ?1 AND substr(seen_at, 1, 10) = ?2
                   AND EXISTS (SELECT 1 FROM attendance WHERE student_id = ?1 AND day = ?2
                                 AND present = 1 AND source <> 'admin')",
                params![student_id, d],
            )?;
        }
        // One row for the decision, made now: a decision by hand has no arrival time (a
        // mark by hand is shown as "by hand", never as a time of day), and a kiosk mark's
        // face snapshot goes with it (it may be of someone else).
        let changed = tx.execute(
            "INSERT INTO attendance (student_id, day, marked_at, score, source, present)
             VALUES (?1, ?2, ?3, NULL, 'admin', ?4)
             ON CONFLICT (student_id, day) DO UPDATE SET present = excluded.present,
                 marked_at = excluded.marked_at, score = NULL, source = 'admin',
                 snapshot = NULL, door = (SELECT door FROM school_link)
             WHERE present <> excluded.present",
            params![student_id, d, timestamp(at), present],
        )?;
        if changed > 0 {
            let action = if present {
                "mark present"
            } else {
                "mark absent"
            };
            audit(&tx, actor, action, &format!("{who} on {d}: {reason}"))?;
        }
        tx.commit()?;
        Ok(Correction {
            changed: changed > 0,
            kept_class_day,
        })
    }

    /// Class days between two days, inclusive: days on which anyone was marked other than
    /// by hand, and days an admin declared.
    pub fn class_days(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT day FROM attendance WHERE day BETWEEN ?1 AND ?2 AND source <> 'admin'
             UNION SELECT day FROM class_days WHERE day BETWEEN ?1 AND ?2
             ORDER BY day",
        )?;
        let days = stmt.query_map(day_range(from, to), |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for d in days {
            if let Some(day) = stored_day(&d?) {
                out.push(day);
            }
        }
        Ok(out)
    }

    /// Whether `day` is a class day.
    pub fn is_class_day(&self, day: NaiveDate) -> Result<bool, StoreError> {
        Ok(!self.class_days(day, day)?.is_empty())
    }

    /// Declares `day` a class day (it then counts for every enrolled student), with an
    /// audit entry. Returns whether it was not one before.
    pub fn declare_class_day(&mut self, day: NaiveDate, actor: &str) -> Result<bool, StoreError> {
        self.office_only("Declaring a class day")?;
        if self.is_class_day(day)? {
            return Ok(false);
        }
        let tx = self.conn.transaction()?;
        let d = day_text(day);
        tx.execute(
            "INSERT INTO class_days (day, declared_at, actor) VALUES (?1, ?2, ?3)
             ON CONFLICT (day) DO NOTHING",
            params![d, timestamp(Local::now()), actor],
        )?;
        audit(&tx, actor, "declare class day", &d)?;
        tx.commit()?;
        Ok(true)
    }

    /// When (RFC 3339) and by whom `day` was declared a class day, if it was.
    pub fn class_day_declaration(
        &self,
        day: NaiveDate,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT declared_at, actor FROM class_days WHERE day = ?1",
                [day_text(day)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Withdraws the declaration of `day` (a mistake), with an audit entry. The day stays a
    /// class day if the kiosk marked anyone on it. Returns whether it had been declared.
    pub fn withdraw_class_day(&mut self, day: NaiveDate, actor: &str) -> Result<bool, StoreError> {
        self.office_only("Withdrawing a class day")?;
        let tx = self.conn.transaction()?;
        let d = day_text(day);
        let gone = tx.execute("DELETE FROM class_days WHERE day = ?1", [&d])? > 0;
        if gone {
            audit(&tx, actor, "withdraw class day", &d)?;
        }
        tx.commit()?;
        Ok(gone)
    }

    /// Every mark between two days with who it is and the snapshot, oldest first.
    pub fn marks(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<MarkDetail>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT a.student_id, s.roll_no, s.name, a.day, a.marked_at, a.score, a.source, a.snapshot,
                    a.door
             FROM attendance a JOIN students s ON s.id = a.student_id
             WHERE a.day BETWEEN ?1 AND ?2 AND a.present = 1 ORDER BY a.day, a.marked_at",
        )?;
        let rows = stmt.query_map(day_range(from, to), |r| {
            Ok(MarkDetail {
                student_id: r.get(0)?,
                roll_no: r.get(1)?,
                name: r.get(2)?,
                day: r.get(3)?,
                marked_at: r.get(4)?,
                score: r.get(5)?,
                source: r.get(6)?,
                snapshot: r.get(7)?,
                door: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets face snapshots of marks, and refused faces, before `day` (the retention period).
    pub fn purge_snapshots(&mut self, before: NaiveDate) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE attendance SET snapshot = NULL WHERE day < ?1 AND snapshot IS NOT NULL",
            [day_text(before)],
        )? + self.conn.execute(
            "DELETE FROM kiosk_refusals WHERE day < ?1",
            [day_text(before)],
        )?)
    }

    /// Logs a face the kiosk refused as a possible photo attack.
    pub fn log_refusal(
        &mut self,
        student_id: Option<i64>,
        score: f32,
        snapshot: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let now = Local::now();
        self.conn.execute(
            "INSERT INTO kiosk_refusals (at, day, student_id, score, snapshot) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                timestamp(now),
                day_text(now.date_naive()),
                student_id,
                score as f64,
                snapshot
            ],
        )?;
        Ok(())
    }

    /// Refused faces, newest first.
    pub fn refusals(&self, limit: usize) -> Result<Vec<RefusalRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.at, s.name, r.score, r.snapshot FROM kiosk_refusals r
             LEFT JOIN students s ON s.id = r.student_id ORDER BY r.id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(RefusalRow {
                at: r.get(0)?,
                student: r.get(1)?,
                score: r.get::<_, f64>(2)? as f32,
                snapshot: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records one email in the email log.
    pub fn log_email(
        &mut self,
        recipient: &str,
        subject: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO email_log (at, recipient, subject, status, error) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                timestamp(Local::now()),
                recipient,
                subject,
                if error.is_none() { "sent" } else { "failed" },
                error
            ],
        )?;
        Ok(())
    }

    /// The email log, newest first.
    pub fn email_log(&self, limit: usize) -> Result<Vec<EmailLogRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.at, e.recipient, e.status, e.error,
                    (SELECT s.name || ' (' || s.roll_no || ')' FROM students s
                      WHERE s.email = e.recipient)
             FROM email_log e ORDER BY e.id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(EmailLogRow {
                at: r.get(0)?,
                recipient: r.get(1)?,
                status: r.get(2)?,
                error: r.get(3)?,
                student: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The students an admin recorded absent on `day`, by hand.
    pub fn absent_by_hand(&self, day: NaiveDate) -> Result<Vec<i64>, StoreError> {
        Ok(self
            .absences_by_hand(day, day)?
            .into_iter()
            .map(|(student_id, _)| student_id)
            .collect())
    }

    /// The absences recorded by hand between two days, inclusive: student and day
    /// ("YYYY-MM-DD").
    pub fn absences_by_hand(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT student_id, day FROM attendance
             WHERE day BETWEEN ?1 AND ?2 AND present = 0 ORDER BY day, student_id",
        )?;
        let rows = stmt.query_map(day_range(from, to), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Attendance marks between two days, inclusive (absences recorded by hand are not
    /// marks).
    pub fn attendance(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<AttendanceRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT student_id, day, marked_at, score, source, door FROM attendance
             WHERE day BETWEEN ?1 AND ?2 AND present = 1 ORDER BY day, marked_at",
        )?;
        let rows = stmt.query_map(day_range(from, to), |r| {
            Ok(AttendanceRow {
                student_id: r.get(0)?,
                day: r.get(1)?,
                marked_at: r.get(2)?,
                score: r.get(3)?,
                source: r.get(4)?,
                door: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The first day anyone was marked.
    pub fn first_mark_day(&self) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = self.conn.query_row(
            "SELECT MIN(day) FROM attendance WHERE present = 1",
            [],
            |r| r.get(0),
        )?;
        Ok(day.and_then(|d| stored_day(&d)))
    }

    /// Number of students marked on a day.
    pub fn marked_count(&self, day: NaiveDate) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM attendance WHERE day = ?1 AND present = 1",
            [day_text(day)],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
impl Store {
    /// Student `n` ("Student n", roll number Rn) without photos, for tests.
    pub(crate) fn add_test_student(&mut self, n: u32) -> i64 {
        let s = NewStudent {
            roll_no: format!("R{n}"),
            name: format!("Student {n}"),
            email: format!("s{n}@example.org"),
        };
        self.insert_student(&s, &[], "test").unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_change_that_reads_first_waits_for_another_writer_rather_than_failing() {
        let (dir, mut store) = store();
        let path = dir.path().join("rollcall.db");
        // Another program (a kiosk marking, the school link) writes for a moment, over and
        // over; each of these changes reads before it writes, and must wait its turn.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let other = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut conn = Connection::open(path).unwrap();
                // It takes its turn as soon as it is free.
                conn.busy_handler(Some(|_| {
                    std::thread::sleep(Duration::from_millis(1));
                    true
                }))
                .unwrap();
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    conn.execute_batch(
                        "BEGIN IMMEDIATE;
                         INSERT INTO audit_log (at, actor, action, details)
                         VALUES ('2026-12-05T10:00:00+00:00', 'other', 'write', '');",
                    )
                    .unwrap();
                    std::thread::sleep(Duration::from_millis(20));
                    conn.execute_batch("COMMIT").unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        let others_writes = |store: &Store| -> i64 {
            store
                .conn
                .query_row(
                    "SELECT COUNT(*) FROM audit_log WHERE actor = 'other'",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        while others_writes(&store) == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        for n in 0..30 {
            let [kept, gone] = [0, 1].map(|k| {
                let s = NewStudent {
                    roll_no: format!("W{n}-{k}"),
                    name: format!("Waiting {n}"),
                    email: format!("w{n}-{k}@example.org"),
                };
                store.insert_student(&s, &[], "admin").unwrap()
            });
            store
                .update_student(
                    kept,
                    &format!("W{n}-0"),
                    "Waited",
                    &format!("w{n}@example.org"),
                    "admin",
                )
                .unwrap();
            store.delete_student(gone, "admin").unwrap();
            store.link_to_school("North door").unwrap();
            store.leave_school("admin").unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        other.join().unwrap();
        assert_eq!(store.students().unwrap().len(), 30);
    }

    fn alice() -> NewStudent {
        NewStudent {
            roll_no: "R1".into(),
            name: "Alice".into(),
            email: "alice@example.org".into(),
        }
    }

    /// A photo with one template per (model, vector).
    fn photo(name: &str, origin: &str, templates: &[(&str, &[f32])]) -> NewPhoto {
        NewPhoto {
            file_name: name.into(),
            origin: origin.into(),
            templates: templates
                .iter()
                .map(|(m, v)| (m.to_string(), v.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn a_students_templates_come_back_grouped_by_photo() {
        let (_d, mut s) = store();
        let photos = [
            photo(
                "1/a.jpg",
                "camera",
                &[("m", &[1.0, 0.0]), ("n", &[0.0, 1.0])],
            ),
            photo("1/b.jpg", "upload", &[("m", &[0.6, 0.8])]),
        ];
        let id = s.insert_student(&alice(), &photos, "test").unwrap();
        let faces = s.faces_of(id).unwrap();
        assert_eq!(faces.len(), 2);
        assert_eq!(faces[0].origin, "camera");
        assert_eq!(
            faces[0].templates,
            vec![("m".into(), vec![1.0, 0.0]), ("n".into(), vec![0.0, 1.0])]
        );
        assert_eq!(faces[1].origin, "upload");
        assert_eq!(faces[1].templates, vec![("m".into(), vec![0.6, 0.8])]);
        assert!(s.faces_of(id + 1).unwrap().is_empty());
    }

    #[test]
    fn a_full_disk_is_explained_and_nothing_saved_before_is_lost() {
        let (_d, mut s) = store();
        let id = s.insert_student(&alice(), &[], "test").unwrap();
        // SQLite's own limit on the file's size stands in for a full disk.
        let pages: i64 = s
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        s.conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .unwrap();
        let photos: Vec<NewPhoto> = (0..200)
            .map(|i| photo(&format!("1/{i}.jpg"), "camera", &[("m", &[0.5; 512])]))
            .collect();
        let e = s.add_photos(id, &photos, "test").unwrap_err();
        assert!(matches!(e, StoreError::DiskFull), "{e:?}");
        assert!(e
            .to_string()
            .starts_with("The disk holding the attendance data is full"));
        assert_eq!(s.students().unwrap().len(), 1);
        assert!(s.photos_of(id).unwrap().is_empty(), "all or nothing");
    }

    #[test]
    fn an_erasure_made_again_spares_a_student_enrolled_after_it() {
        let (_d, mut s) = store();
        let id = s.insert_student(&alice(), &[], "test").unwrap();
        s.conn
            .execute(
                "UPDATE students SET enrolled_at = '2026-03-09T08:00:00+01:00' WHERE id = ?1",
                [id],
            )
            .unwrap();
        let deleted_at = |t: &str| Erasure {
            kind: ErasureKind::Student,
            subject: "r1".into(),
            erased_at: t.into(),
            new_roll_no: None,
        };
        // Deleted (in another database's history) before this R1 was enrolled: another
        // student who had the number then. 08:30 at +02:00 is 07:30 at +01:00.
        let again = s
            .apply_erasures(&[deleted_at("2026-03-09T08:30:00+02:00")], "test")
            .unwrap();
        assert!(!again.any());
        assert_eq!(s.students().unwrap().len(), 1);
        // Deleted after this R1 was enrolled: deleted again.
        let again = s
            .apply_erasures(&[deleted_at("2026-03-09T09:00:00+01:00")], "test")
            .unwrap();
        assert_eq!(again.students, 1);
        assert!(s.students().unwrap().is_empty());
    }

    #[test]
    fn enrolling_stores_photos_and_templates_together() {
        let (_d, mut s) = store();
        let photo = photo("1/a.jpg", "camera", &[("m", &[0.5, -1.0])]);
        let id = s.insert_student(&alice(), &[photo], "test").unwrap();
        let t = s.templates().unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].student_id, id);
        assert_eq!(t[0].vector, vec![0.5, -1.0]);
        assert_eq!(t[0].origin, "camera");
        assert_eq!(s.students().unwrap()[0].photo_count, 1);
    }

    #[test]
    fn photos_lacking_a_model_are_found_through_an_index_and_by_origin() {
        let (_d, mut s) = store();
        s.insert_student(
            &alice(),
            &[
                photo("1/a.jpg", "camera", &[("m", &[1.0]), ("texture", &[1.0])]),
                photo("1/b.jpg", "camera", &[("m", &[1.0])]),
                photo("1/c.jpg", "upload", &[]),
            ],
            "test",
        )
        .unwrap();
        let names = |rows: Vec<PhotoRow>| rows.into_iter().map(|p| p.file_name).collect::<Vec<_>>();
        assert_eq!(
            names(s.photos_without_model("m", None).unwrap()),
            ["1/c.jpg"]
        );
        assert_eq!(
            names(s.photos_without_model("texture", Some("camera")).unwrap()),
            ["1/b.jpg"]
        );
        // Every start asks this of every photo: with 10,000 students, scanning every
        // template per photo took more than 15 minutes.
        let plan: Vec<String> = s
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT 1 FROM photos p WHERE NOT EXISTS
                 (SELECT 1 FROM face_templates t WHERE t.photo_id = p.id AND t.model_id = 'm')",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter()
                .any(|step| step.contains("face_templates_photo")),
            "{plan:?}"
        );
    }

    #[test]
    fn templates_of_retired_models_are_dropped_and_otherwise_nothing_is_written() {
        let (_d, mut s) = store();
        let photo = photo("1/a.jpg", "upload", &[("m", &[1.0]), ("old", &[2.0])]);
        s.insert_student(&alice(), &[photo], "test").unwrap();
        assert_eq!(
            s.retire_templates_except(&["m"]).unwrap(),
            RetiredTemplates::Dropped(1)
        );
        assert_eq!(s.templates().unwrap().len(), 1);
        // Another program is writing: a start with nothing to drop does not wait for it.
        let other = Connection::open(s.path()).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        assert_eq!(
            s.retire_templates_except(&["m"]).unwrap(),
            RetiredTemplates::None
        );
    }

    #[test]
    fn a_door_of_a_school_keeps_templates_of_models_other_doors_may_run() {
        let (_d, mut s) = store();
        s.link_to_school_as_office("North door").unwrap();
        let photo = photo("1/a.jpg", "upload", &[("m", &[1.0]), ("new", &[2.0])]);
        s.insert_student(&alice(), &[photo], "test").unwrap();
        let queued = |s: &Store| -> i64 {
            s.conn
                .query_row("SELECT COUNT(*) FROM school_outbox", [], |r| r.get(0))
                .unwrap()
        };
        let before = queued(&s);
        // A door not yet upgraded (it runs "m" only) starts: the upgraded doors' "new"
        // templates stay, here and at the school (nothing is queued for deletion).
        assert_eq!(
            s.retire_templates_except(&["m"]).unwrap(),
            RetiredTemplates::KeptForTheSchool(1)
        );
        assert_eq!(s.templates().unwrap().len(), 2);
        assert_eq!(queued(&s), before);
    }

    #[test]
    fn the_kiosk_keeps_a_few_faces_per_student_and_erasing_removes_them() {
        let (_d, mut s) = store();
        let id = s.insert_student(&alice(), &[], "test").unwrap();
        let before = s.templates_version().unwrap();
        for i in 0..(OBSERVATIONS_PER_STUDENT + 3) {
            s.add_observation(id, &[("m".into(), vec![i as f32])])
                .unwrap();
        }
        assert_ne!(
            s.templates_version().unwrap(),
            before,
            "the gallery must reload"
        );
        let kept = s.observations().unwrap();
        assert_eq!(kept.len(), OBSERVATIONS_PER_STUDENT);
        assert_eq!(
            kept.last().unwrap().vector,
            vec![(OBSERVATIONS_PER_STUDENT + 2) as f32]
        );
        let (_, erased) = s.erase_face_data(id, "test").unwrap();
        assert_eq!(erased.observations, OBSERVATIONS_PER_STUDENT);
        assert!(s.observations().unwrap().is_empty());
    }

    #[test]
    fn stored_times_read_to_the_minute() {
        assert_eq!(
            to_the_minute("2026-03-09T08:12:45+01:00"),
            "2026-03-09 08:12"
        );
        assert_eq!(to_the_minute("odd"), "odd");
    }

    #[test]
    fn a_roll_number_typed_in_other_case_is_taken() {
        let (_d, mut s) = store();
        s.insert_student(&alice(), &[], "test").unwrap();
        let roll = alice().roll_no;
        assert!(s
            .student_exists(&roll.to_lowercase(), "new@example.org")
            .unwrap());
        assert!(!s.student_exists("R999", "new@example.org").unwrap());
    }

    #[test]
    fn email_uniqueness_ignores_case() {
        let (_d, mut s) = store();
        s.insert_student(&alice(), &[], "test").unwrap();
        assert!(s.student_exists("other", "ALICE@example.org").unwrap());
        let mut dup = alice();
        dup.roll_no = "R2".into();
        dup.email = "Alice@Example.org".into();
        assert!(matches!(
            s.insert_student(&dup, &[], "test"),
            Err(StoreError::Duplicate)
        ));
    }

    #[test]
    fn a_second_mark_on_the_same_day_keeps_the_first() {
        let (_d, mut s) = store();
        let id = s.insert_student(&alice(), &[], "test").unwrap();
        let morning = Local.with_ymd_and_hms(2026, 3, 2, 8, 41, 0).unwrap();
        let later = Local.with_ymd_and_hms(2026, 3, 2, 8, 52, 0).unwrap();
        let first = s.mark(id, morning, Some(9.0), "test", None).unwrap();
        assert!(matches!(first, MarkRecord::New(_)));
        match s.mark(id, later, Some(9.0), "test", None).unwrap() {
            MarkRecord::Existing { at, door } => {
                assert!(at.contains("08:41"), "{at}");
                assert_eq!(door, None, "a mark made at this door does not name it");
            }
            other => panic!("expected existing mark, got {other:?}"),
        }
        let next_day = Local.with_ymd_and_hms(2026, 3, 3, 8, 0, 0).unwrap();
        assert!(matches!(
            s.mark(id, next_day, None, "test", None).unwrap(),
            MarkRecord::New(_)
        ));
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(s.attendance(d, d).unwrap().len(), 1);
    }

    #[test]
    fn a_decision_by_hand_is_not_a_sighting() {
        let (_d, mut s) = store();
        let id = s.insert_student(&alice(), &[], "test").unwrap();
        let monday = Local.with_ymd_and_hms(2026, 3, 2, 8, 41, 0).unwrap();
        let tuesday = monday.date_naive().succ_opt().unwrap();
        let wednesday = Local.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap();
        s.correct(id, tuesday, true, "on a school trip", "admin", wednesday)
            .unwrap();
        assert_eq!(
            s.students().unwrap()[0].last_seen,
            None,
            "never at the door"
        );
        s.mark(id, monday, Some(9.0), "kiosk", None).unwrap();
        let seen = s.students().unwrap()[0].last_seen.clone().unwrap();
        assert!(seen.starts_with("2026-03-02T08:41"), "{seen}");
    }

    #[test]
    fn an_absence_recorded_by_hand_stands_until_corrected_to_present() {
        let (_d, mut s) = store();
        let id = s.insert_student(&alice(), &[], "test").unwrap();
        let morning = Local.with_ymd_and_hms(2026, 3, 2, 8, 41, 0).unwrap();
        let later = Local.with_ymd_and_hms(2026, 3, 2, 10, 5, 0).unwrap();
        let d = morning.date_naive();
        s.mark(id, morning, Some(9.0), "kiosk", Some(b"face"))
            .unwrap();
        // What the kiosk learnt from her face that morning.
        s.add_observation(id, &[("m".into(), vec![0.5; 4])])
            .unwrap();
        s.conn
            .execute(
                "UPDATE face_observations SET seen_at = '2026-03-02T08:41:00+01:00'",
                [],
            )
            .unwrap();
        let absent = s
            .correct(id, d, false, "went home ill", "admin", chrono::Local::now())
            .unwrap();
        assert!(absent.changed);
        assert!(
            s.observations().unwrap().is_empty(),
            "the face the kiosk took for her that day is not learnt from"
        );

        // She walks out past the door: not marked again, and the store says why.
        assert!(matches!(
            s.mark(id, later, Some(9.0), "kiosk", None).unwrap(),
            MarkRecord::AbsentByHand(_)
        ));
        assert!(s.attendance(d, d).unwrap().is_empty());
        assert!(s.marks(d, d).unwrap().is_empty());
        assert_eq!(s.marked_count(d).unwrap(), 0);
        assert_eq!(s.absent_by_hand(d).unwrap(), vec![id]);
        assert_eq!(s.students().unwrap()[0].last_seen, None);
        let snapshot: Option<Vec<u8>> = s
            .conn
            .query_row("SELECT snapshot FROM attendance", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            snapshot, None,
            "the kiosk's snapshot may be of someone else"
        );
        // The kiosk's mark still made it a class day, which stays one.
        assert!(s.is_class_day(d).unwrap());
        assert!(
            !s.correct(id, d, false, "again", "admin", chrono::Local::now())
                .unwrap()
                .changed
        );

        // Corrected to present, the next day untouched.
        assert!(
            s.correct(id, d, true, "came back", "admin", chrono::Local::now())
                .unwrap()
                .changed
        );
        assert_eq!(s.attendance(d, d).unwrap().len(), 1);
        assert!(s.absent_by_hand(d).unwrap().is_empty());
        assert!(matches!(
            s.mark(id, later, Some(9.0), "kiosk", None).unwrap(),
            MarkRecord::Existing { .. }
        ));

        // An absence recorded before the kiosk saw her keeps it from marking her.
        let tuesday = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
        assert!(
            s.correct(
                id,
                tuesday,
                false,
                "on leave",
                "admin",
                chrono::Local::now()
            )
            .unwrap()
            .changed
        );
        let at_door = Local.with_ymd_and_hms(2026, 3, 3, 8, 30, 0).unwrap();
        assert!(matches!(
            s.mark(id, at_door, Some(9.0), "kiosk", None).unwrap(),
            MarkRecord::AbsentByHand(_)
        ));
    }

    #[test]
    fn threads_opening_a_new_database_at_once_all_get_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollcall.db");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Store::open(&path).map(|_| ()))
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert!(Store::open(&path).unwrap().students().unwrap().is_empty());
    }

    #[test]
    fn reopening_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollcall.db");
        Store::open(&path)
            .unwrap()
            .insert_student(&alice(), &[], "t")
            .unwrap();
        assert_eq!(Store::open(&path).unwrap().students().unwrap().len(), 1);
    }
}
