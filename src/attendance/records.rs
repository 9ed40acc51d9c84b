//! The records: the database and the enrolment photo files, changed together. Cheap to
//! open, so every thread that writes (the door, the admin worker, each API request) opens
//! its own; the recognisers follow through the store's templates version.

use super::photos::{is_photo_file_name, photo_file_name, validate_student, MAX_PHOTOS};
use super::recognizer::PreparedPhoto;
use super::{EnrollError, Outcome};
use crate::data_dir::{write_private_file, DataDir};
use crate::settings::Settings;
use crate::store::{
    Erased, Leave, MarkRecord, NewPhoto, NewStudent, PhotoRow, Store, StoreError, Student,
};
use crate::vision::image_io::encode_jpeg;
use crate::wording::{day_span, long_date};
use chrono::{Local, NaiveDate};
use std::path::{Path, PathBuf};

/// A mark as the store recorded it, with who it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Marked {
    pub record: MarkRecord,
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
    pub score: f32,
}

impl Marked {
    /// The old contract's message for this mark.
    pub fn outcome(&self) -> Outcome {
        match self.record {
            MarkRecord::New(_) => Outcome::AttendanceMarked,
            MarkRecord::Existing { .. } => Outcome::AlreadyMarked,
            MarkRecord::AbsentByHand(_) => Outcome::AbsentByHand,
            MarkRecord::Left(_) => Outcome::UserNotFound,
        }
    }

    /// When the student was marked (RFC 3339); for a repeat, the earlier time; for an
    /// absence recorded by hand, when it was recorded; for a student who left, their last
    /// day in class.
    pub fn at(&self) -> &str {
        match &self.record {
            MarkRecord::New(t)
            | MarkRecord::Existing { at: t, .. }
            | MarkRecord::AbsentByHand(t)
            | MarkRecord::Left(t) => t,
        }
    }

    /// For a repeat, the other door of the school that marked the student first.
    pub fn other_door(&self) -> Option<&str> {
        match &self.record {
            MarkRecord::Existing { door, .. } => door.as_deref(),
            MarkRecord::New(_) | MarkRecord::AbsentByHand(_) | MarkRecord::Left(_) => None,
        }
    }
}

/// Why an admin change did not happen, worded for the admin.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("That email address is already used by another student.")]
    EmailTaken,
    /// (Each place that shows it says how to swap the two numbers instead.)
    #[error("Roll number {roll_no} is already {name}'s.")]
    RollNoTaken { roll_no: String, name: String },
    #[error("A student can have at most {MAX_PHOTOS} photos.")]
    TooManyPhotos,
    #[error("That student no longer exists.")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("The photos could not be saved: {}.", crate::wording::file_problem(.0))]
    Io(#[from] std::io::Error),
}

impl From<EnrollError> for AdminError {
    fn from(e: EnrollError) -> Self {
        match e {
            EnrollError::Store(s) => AdminError::Store(s),
            EnrollError::Io(io) => AdminError::Io(io),
            other => AdminError::Invalid(other.to_string()),
        }
    }
}

/// A roll number or email taken by another student between the check and the change.
fn taken_in_the_meantime(e: StoreError) -> AdminError {
    match e {
        StoreError::Duplicate => AdminError::Invalid(
            "That roll number or email address is already used by another student.".into(),
        ),
        other => other.into(),
    }
}

/// A student as they are, and the other students who hold what their new details give
/// them.
struct Holders {
    me: Student,
    roll_no: Option<Student>,
    email: Option<Student>,
}

/// Two students' roll numbers or email addresses (or both) swapped, or offered to be
/// (`Records::swap_with`); each pair is (the student's before, the other's before).
#[derive(Debug, Clone, PartialEq)]
pub struct Swapped {
    /// The student changed, by their (new) name.
    pub name: String,
    pub other_id: i64,
    pub other_name: String,
    pub roll_no: Option<(String, String)>,
    pub email: Option<(String, String)>,
}

impl Swapped {
    /// The swap offered when `me`'s new details (`name`) take the roll number of
    /// `roll_no_holder` or the address of `email_holder`; the words of a refusal when
    /// there is no one to swap with, or two students.
    pub fn offered(
        name: &str,
        me: &Student,
        roll_no_holder: Option<Student>,
        email_holder: Option<Student>,
    ) -> Result<Swapped, String> {
        let other = match (roll_no_holder.as_ref(), email_holder.as_ref()) {
            (Some(a), Some(b)) if a.id != b.id => {
                return Err(format!(
                    "The roll number {} is {}'s and the email address {}'s: swap with one \
                     student at a time.",
                    a.roll_no, a.name, b.name
                ))
            }
            (Some(other), _) | (None, Some(other)) => other,
            (None, None) => {
                return Err(
                    "No other student has that roll number or email address: there is no one \
                     to swap with."
                        .into(),
                )
            }
        };
        Ok(Swapped {
            name: name.to_string(),
            other_id: other.id,
            other_name: other.name.clone(),
            roll_no: roll_no_holder.map(|o| (me.roll_no.clone(), o.roll_no)),
            email: email_holder.map(|o| (me.email.clone(), o.email)),
        })
    }

    /// What is swapped, for the store.
    pub fn what(&self) -> crate::store::Swap {
        crate::store::Swap {
            roll_no: self.roll_no.is_some(),
            email: self.email.is_some(),
        }
    }

    /// The button that makes the swap.
    pub fn button(&self) -> &'static str {
        match (&self.roll_no, &self.email) {
            (Some(_), Some(_)) => "Swap roll numbers and email addresses",
            (None, Some(_)) => "Swap email addresses",
            _ => "Swap roll numbers",
        }
    }

    /// What the swap would do, in the admin's words (beside its button).
    pub fn offer(&self) -> String {
        let (name, other) = (&self.name, &self.other_name);
        let keeps = "their attendance, photos and face data stay theirs.";
        match (&self.roll_no, &self.email) {
            (Some((mine, theirs)), None) => format!(
                "{} Swapping gives {name} the roll number {theirs} and {other} the roll \
                 number {mine}: {keeps}",
                AdminError::RollNoTaken {
                    roll_no: theirs.clone(),
                    name: other.clone(),
                }
            ),
            (None, Some((mine, theirs))) => format!(
                "The email address {theirs} is already {other}'s. Swapping gives {name} that \
                 address and {other} {mine}."
            ),
            (Some((mine_roll, theirs_roll)), Some((mine_email, theirs_email))) => format!(
                "Roll number {theirs_roll} and the email address {theirs_email} are already \
                 {other}'s. Swapping gives {name} both, and {other} the roll number \
                 {mine_roll} and {mine_email}: {keeps}"
            ),
            (None, None) => String::new(),
        }
    }
}

impl std::fmt::Display for Swapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, other) = (&self.name, &self.other_name);
        let keeps = "Their attendance, photos and face data stay theirs.";
        match (&self.roll_no, &self.email) {
            (Some((mine, theirs)), None) => write!(
                f,
                "Swapped the roll numbers: {name} is now {theirs} (was {mine}), {other} is \
                 now {mine}. {keeps}"
            ),
            (None, Some((mine, theirs))) => write!(
                f,
                "Swapped the email addresses: {name}'s is now {theirs} (was {mine}), \
                 {other}'s is now {mine}."
            ),
            (Some((mine_roll, theirs_roll)), Some((mine_email, theirs_email))) => write!(
                f,
                "Swapped the roll numbers and email addresses: {name} is now {theirs_roll}, \
                 {theirs_email} (was {mine_roll}, {mine_email}); {other} is now {mine_roll}, \
                 {mine_email}. {keeps}"
            ),
            (None, None) => Ok(()),
        }
    }
}

/// The first day back offered for a student whose last day in class was `last_day`:
/// today, or the day after the last day when that is later (a leave recorded by mistake,
/// undone: no day away).
pub fn first_day_back_by_default(last_day: NaiveDate, today: NaiveDate) -> NaiveDate {
    last_day.succ_opt().unwrap_or(last_day).max(today)
}

/// What coming back on `first_day_back` after a last day in class `last_day` does, in the
/// admin's words ("in the class again …"; "not leaving the school after all …" when the
/// last day has not gone by).
pub fn back_in_class(last_day: NaiveDate, first_day_back: NaiveDate, today: NaiveDate) -> String {
    if last_day >= today {
        return format!(
            "not leaving the school after all: every day after {} counts for them",
            long_date(last_day)
        );
    }
    match crate::store::away_span(last_day, first_day_back) {
        Some((first, last)) => {
            let away = day_span(first, last);
            format!(
                "in the class again from {}: the days away ({away}) do not count for them",
                long_date(first_day_back)
            )
        }
        None => format!(
            "in the class again: every day after their last day ({}) counts for them again",
            long_date(last_day)
        ),
    }
}

/// What recording a leave with last day in class `last_day` did, in the admin's words
/// ("their last day in class was …"); `erased`: what it erased now (nothing before the
/// last day is over).
pub fn leave_recorded(last_day: NaiveDate, today: NaiveDate, erased: Erased) -> String {
    match last_day > today {
        false => format!(
            "their last day in class was {}. Erased {erased}; their attendance up to that \
             day is kept, and they get no more email reports.",
            long_date(last_day)
        ),
        true => format!(
            "their last day in class is {}. The kiosk marks them up to that day; their photos \
             and face data are erased after it. Their attendance up to that day is kept, and \
             they get no email report for a range that ends after it.",
            long_date(last_day)
        ),
    }
}

/// The database and the photo files.
pub struct Records {
    data: DataDir,
    store: Store,
    /// Face snapshots are kept with marks this many days (0: none).
    snapshot_days: u32,
    /// The day the snapshots past their retention were last dropped.
    retention_kept: Option<NaiveDate>,
}

impl AsRef<Store> for Records {
    fn as_ref(&self) -> &Store {
        &self.store
    }
}

impl Records {
    /// Opens the data folder's database.
    pub fn open(data: &DataDir, settings: &Settings) -> Result<Records, StoreError> {
        Ok(Records {
            store: Store::open(&data.database())?,
            data: data.clone(),
            snapshot_days: settings.review.snapshot_days,
            retention_kept: None,
        })
    }

    /// Start-of-day housekeeping, once per process: removes photo files no student refers
    /// to (left by an interrupted enrolment; only files named as Rollcall names them, so
    /// whatever else someone put in the folder stays) and snapshots past their retention.
    pub fn tidy(&mut self) -> Result<(), StoreError> {
        self.sweep_orphan_photos();
        self.keep_retention()
    }

    /// Keeps face data no longer than it should, once a day: drops the face snapshots
    /// (with marks, and of refused faces) past their retention, and erases the face data
    /// of students whose last day in class is over (their leave recorded ahead of it). A
    /// kiosk or a server that runs for weeks calls it as it goes.
    pub fn keep_retention(&mut self) -> Result<(), StoreError> {
        self.keep_retention_on(Local::now().date_naive())
    }

    fn keep_retention_on(&mut self, today: NaiveDate) -> Result<(), StoreError> {
        if self.retention_kept == Some(today) {
            return Ok(());
        }
        // Tried once a day: a database that cannot be written now is reported once, not
        // at every frame; the next day tries again.
        self.retention_kept = Some(today);
        let (files, leavers) = self.store.erase_face_data_of_leavers(today, "rollcall")?;
        if leavers > 0 {
            self.erase_photo_files(&files);
        }
        let keep = chrono::Days::new(self.snapshot_days as u64);
        if let Some(cutoff) = today.checked_sub_days(keep) {
            self.store.purge_snapshots(cutoff)?;
        }
        Ok(())
    }

    /// The database, for reading.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The database, for the changes that involve no photo files (PIN, corrections, …).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Writes a backup of the database and the photos to `file` (a new file), while the
    /// kiosk keeps running; says what it holds.
    pub fn backup_to(
        &mut self,
        file: &Path,
        actor: &str,
    ) -> Result<String, crate::store::BackupError> {
        let summary = self.store.backup_to(file, &self.data)?;
        if let Err(e) = self.store.record_backup(file, actor) {
            tracing::warn!("the backup was made, but could not be recorded: {e}");
        }
        Ok(summary.backed_up_to(file))
    }

    /// Whether face snapshots are kept with marks.
    pub fn keeps_snapshots(&self) -> bool {
        self.snapshot_days > 0
    }

    /// Where a stored photo's file is.
    pub fn photo_path(&self, file_name: &str) -> PathBuf {
        self.data.photos().join(file_name)
    }

    fn sweep_orphan_photos(&self) {
        // Under the photos lock: another process's photos are committed or gone.
        let Ok(_photos) = self.data.lock_photos() else {
            return;
        };
        let Ok(known) = self.store.photo_files() else {
            return;
        };
        let known: std::collections::HashSet<String> = known.into_iter().collect();
        let Ok(entries) = std::fs::read_dir(self.data.photos()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !known.contains(&name) && is_photo_file_name(&name) {
                tracing::info!(file = %name, "removing a photo no student refers to");
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Records a recognised student as present today (with a face snapshot when the
    /// settings keep them). The store decides whether it is a new mark or a repeat. Refused
    /// while the clock cannot date it (see `WrongClock`).
    pub fn mark(
        &mut self,
        student_id: i64,
        score: f32,
        source: &str,
        snapshot: Option<&[u8]>,
    ) -> Result<Marked, StoreError> {
        let now = Local::now();
        if let Some(wrong) = self.store.wrong_clock(now)? {
            return Err(StoreError::WrongClock(wrong));
        }
        let snapshot = snapshot.filter(|_| self.keeps_snapshots());
        let record = self
            .store
            .mark(student_id, now, Some(score as f64), source, snapshot)?;
        let (roll_no, name) = self.store.student_name(student_id)?.unwrap_or_default();
        Ok(Marked {
            record,
            student_id,
            roll_no,
            name,
            score,
        })
    }

    /// The name of a student recognised in a try-out, where nothing is marked: `None` when
    /// they would not be marked either for having left the class (or the school).
    pub fn name_if_in_class(&self, student_id: i64) -> Result<Option<String>, StoreError> {
        if self
            .store
            .left_before(student_id, Local::now().date_naive())?
            .is_some()
        {
            return Ok(None);
        }
        Ok(self.store.student_name(student_id)?.map(|(_, name)| name))
    }

    /// Logs a face the kiosk refused as a possible photo attack.
    pub fn log_refusal(
        &mut self,
        resembled: Option<i64>,
        score: f32,
        snapshot: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let snapshot = snapshot.filter(|_| self.keeps_snapshots());
        self.store.log_refusal(resembled, score, snapshot)
    }

    /// Writes checked photos as files; returns the rows to store and the paths written.
    fn write_photos(
        &self,
        photos: &[PreparedPhoto],
    ) -> Result<(Vec<NewPhoto>, Vec<PathBuf>), EnrollError> {
        let mut rows = Vec::new();
        let mut written = Vec::new();
        let result = (|| {
            for p in photos {
                let jpeg = encode_jpeg(&p.image).map_err(|e| EnrollError::Vision(e.into()))?;
                let file_name = photo_file_name(&jpeg);
                let path = self.data.photos().join(&file_name);
                write_private_file(&path, &jpeg).map_err(EnrollError::Io)?;
                written.push(path);
                let mut templates: Vec<(String, Vec<f32>)> = p
                    .embeddings
                    .0
                    .iter()
                    .map(|(m, v)| (m.to_string(), v.clone()))
                    .collect();
                if let Some(r) = &p.liveness_reference {
                    templates.push((crate::vision::liveness::FEATURES.to_string(), r.clone()));
                }
                rows.push(NewPhoto {
                    file_name,
                    origin: p.origin.as_str().to_string(),
                    templates,
                });
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok((rows, written)),
            Err(e) => {
                remove_files(&written);
                Err(e)
            }
        }
    }

    /// Enrols a student from checked photos. Files first, then one database transaction,
    /// under the photos lock; if the transaction fails the files are removed (files left by
    /// a crash are swept at the next start).
    pub fn enrol(
        &mut self,
        student: &NewStudent,
        photos: &[PreparedPhoto],
        actor: &str,
    ) -> Result<i64, EnrollError> {
        if photos.is_empty() {
            return Err(EnrollError::NoImages);
        }
        if photos.len() > MAX_PHOTOS {
            return Err(EnrollError::TooManyImages);
        }
        let _photos = self.data.lock_photos().map_err(EnrollError::Io)?;
        let (rows, written) = self.write_photos(photos)?;
        match self.store.insert_student(student, &rows, actor) {
            Ok(id) => Ok(id),
            Err(e) => {
                remove_files(&written);
                Err(e.into())
            }
        }
    }

    /// Changes a student's roll number (one typed wrong), name and email, checked like at
    /// enrolment. Returns the old roll number when it was corrected.
    pub fn update_student(
        &mut self,
        id: i64,
        roll_no: &str,
        name: &str,
        email: &str,
        actor: &str,
    ) -> Result<Option<String>, AdminError> {
        let (clean, holders) = self.checked_change(id, roll_no, name, email)?;
        if let Some(other) = holders.roll_no {
            return Err(AdminError::RollNoTaken {
                roll_no: other.roll_no,
                name: other.name,
            });
        }
        if holders.email.is_some() {
            return Err(AdminError::EmailTaken);
        }
        self.store
            .update_student(id, &clean.roll_no, &clean.name, &clean.email, actor)
            .map_err(taken_in_the_meantime)
    }

    /// Gives a student the roll number or email address (or both) another student holds,
    /// and that student theirs (typed the wrong way round at enrolment), with the name
    /// given, all checked like at enrolment; in one step.
    pub fn swap_with(
        &mut self,
        id: i64,
        roll_no: &str,
        name: &str,
        email: &str,
        actor: &str,
    ) -> Result<Swapped, AdminError> {
        let (clean, holders) = self.checked_change(id, roll_no, name, email)?;
        let swapped = Swapped::offered(&clean.name, &holders.me, holders.roll_no, holders.email)
            .map_err(AdminError::Invalid)?;
        let done = self
            .store
            .swap_with(id, swapped.other_id, &clean, swapped.what(), actor)
            .map_err(taken_in_the_meantime)?;
        match done {
            true => Ok(swapped),
            false => Err(AdminError::NotFound),
        }
    }

    /// A student's new details checked like at enrolment, with the student as they are and
    /// the other students who hold their roll number or email address, if any.
    fn checked_change(
        &self,
        id: i64,
        roll_no: &str,
        name: &str,
        email: &str,
    ) -> Result<(NewStudent, Holders), AdminError> {
        let me = self.store.student(id)?.ok_or(AdminError::NotFound)?;
        let clean = validate_student(roll_no, name, email)
            .map_err(|w| AdminError::Invalid(format!("The changes cannot be saved: {w}.")))?;
        let other = |found: Option<i64>| -> Result<Option<Student>, AdminError> {
            match found.filter(|other| *other != id) {
                Some(other) => Ok(self.store.student(other)?),
                None => Ok(None),
            }
        };
        let by_roll_no = self.store.student_by_roll_no(&clean.roll_no)?;
        let holders = Holders {
            me,
            roll_no: other(by_roll_no.map(|(other, ..)| other))?,
            email: other(self.store.email_holder(&clean.email)?)?,
        };
        Ok((clean, holders))
    }

    /// Adds checked photos to a student (at most 10 in all).
    pub fn add_photos(
        &mut self,
        id: i64,
        photos: &[PreparedPhoto],
        actor: &str,
    ) -> Result<(), AdminError> {
        let Some(student) = self.store.student(id)? else {
            return Err(AdminError::NotFound);
        };
        // One whose leave is ahead is still in the class (their photos go with the rest
        // of their face data once the last day is over).
        if let Some(Leave::Over(day)) = student.leave(Local::now().date_naive()) {
            return Err(AdminError::Invalid(format!(
                "{} left the school (last day {}): record that they are back in the class \
                 before adding photos.",
                student.name,
                long_date(day)
            )));
        }
        if usize::try_from(student.photo_count).unwrap_or(0) + photos.len() > MAX_PHOTOS {
            return Err(AdminError::TooManyPhotos);
        }
        let _photos = self.data.lock_photos()?;
        let (rows, written) = self.write_photos(photos)?;
        if let Err(e) = self.store.add_photos(id, &rows, actor) {
            remove_files(&written);
            return Err(e.into());
        }
        Ok(())
    }

    /// Removes one photo and its templates; returns the photo removed.
    pub fn remove_photo(&mut self, photo_id: i64, actor: &str) -> Result<PhotoRow, AdminError> {
        let photo = self
            .store
            .remove_photo(photo_id, actor)?
            .ok_or(AdminError::NotFound)?;
        self.erase_photo_files(std::slice::from_ref(&photo.file_name));
        Ok(photo)
    }

    /// Records that a student left the school after `last_day` (see `may_leave`), erasing
    /// their face data once that day is over (now, when it is `today` or before); their
    /// attendance up to that day stays. Returns what was erased now.
    pub fn student_left(
        &mut self,
        id: i64,
        last_day: NaiveDate,
        today: NaiveDate,
        actor: &str,
    ) -> Result<Erased, AdminError> {
        self.may_leave(id, last_day, today)?;
        let (files, erased) = self.store.student_left(id, last_day, today, actor)?;
        self.erase_photo_files(&files);
        Ok(erased)
    }

    /// Whether a student may be recorded as gone from the school after `last_day`: not
    /// gone (or going) already, the day at most a year after `today`, not before their
    /// enrolment, nor before a day they were marked present (which it would hide); why
    /// not, in the admin's words.
    pub fn may_leave(
        &self,
        id: i64,
        last_day: NaiveDate,
        today: NaiveDate,
    ) -> Result<(), AdminError> {
        let Some(s) = self.store.student(id)? else {
            return Err(AdminError::NotFound);
        };
        if let Some(leave) = s.leave(today) {
            return Err(AdminError::Invalid(format!(
                "{} {} the school already (last day {}).",
                s.name,
                match leave {
                    Leave::Ahead(_) => "leaves",
                    Leave::Over(_) => "left",
                },
                long_date(leave.last_day())
            )));
        }
        if today
            .checked_add_days(chrono::Days::new(366))
            .is_some_and(|d| last_day > d)
        {
            return Err(AdminError::Invalid(
                "The last day cannot be more than a year from today.".into(),
            ));
        }
        let enrolled = s
            .enrolled_at
            .get(..10)
            .and_then(|d| d.parse::<NaiveDate>().ok());
        if let Some(enrolled) = enrolled.filter(|e| last_day < *e) {
            return Err(AdminError::Invalid(format!(
                "The last day cannot be before {} was enrolled ({}).",
                s.name,
                long_date(enrolled)
            )));
        }
        if let Some(marked) = self.store.present_after(id, last_day)? {
            return Err(AdminError::Invalid(format!(
                "{} was marked present on {}, after that day: give a later last day, or \
                 correct that day in Review first.",
                s.name,
                long_date(marked)
            )));
        }
        Ok(())
    }

    /// Records that a student who had left is in the class again from `first_day_back`
    /// (see `may_come_back`): the days between their last day and it count for nobody, the
    /// days from it on count for them.
    /// Returns what the admin is told (see `back_in_class`), and whether the kiosk still
    /// knows them (their face data kept: a leave that had not begun); if not, photos are
    /// to be added.
    pub fn student_back(
        &mut self,
        id: i64,
        first_day_back: NaiveDate,
        today: NaiveDate,
        actor: &str,
    ) -> Result<(String, bool), AdminError> {
        let last_day = self.may_come_back(id, first_day_back, today)?;
        self.store.student_back(id, first_day_back, actor)?;
        let known = self.store.student(id)?.is_some_and(|s| s.has_face);
        Ok((back_in_class(last_day, first_day_back, today), known))
    }

    /// Whether student `id` may be recorded as back in the class from `first_day_back`:
    /// they left, and the day is after their last day and not after today (photos, which
    /// the kiosk needs to know them again, are refused until then) — except the day after
    /// their last day, which undoes a leave recorded by mistake (see
    /// `first_day_back_by_default`).
    /// Returns their last day in class.
    pub fn may_come_back(
        &self,
        id: i64,
        first_day_back: NaiveDate,
        today: NaiveDate,
    ) -> Result<NaiveDate, AdminError> {
        let Some(s) = self.store.student(id)? else {
            return Err(AdminError::NotFound);
        };
        let Some(last_day) = s.last_day else {
            return Err(AdminError::Invalid(format!(
                "{} has not left the school.",
                s.name
            )));
        };
        if first_day_back <= last_day {
            return Err(AdminError::Invalid(format!(
                "The first day back must be after {}'s last day in class ({}).",
                s.name,
                long_date(last_day)
            )));
        }
        if first_day_back > first_day_back_by_default(last_day, today) {
            return Err(AdminError::Invalid(format!(
                "The first day back cannot be after today: record it on {}'s first day back \
                 (or, if the leave was recorded by mistake, give the day after their last \
                 day).",
                s.name
            )));
        }
        Ok(last_day)
    }

    /// Removes a student's photos and templates; keeps the student and their attendance.
    pub fn erase_face_data(&mut self, id: i64, actor: &str) -> Result<Erased, AdminError> {
        let (files, erased) = self.store.erase_face_data(id, actor)?;
        self.erase_photo_files(&files);
        Ok(erased)
    }

    /// Deletes a student with their photos, templates and attendance. Returns what the
    /// admin is told beyond the deletion: the days that stay class days for the others,
    /// as only this student was marked on them.
    pub fn delete_student(&mut self, id: i64, actor: &str) -> Result<Option<String>, AdminError> {
        let (files, kept) = self.store.delete_student(id, actor)?;
        self.erase_photo_files(&files);
        Ok((kept > 0).then(|| {
            let (stay, it) = if kept == 1 {
                ("stays a class day", "it")
            } else {
                ("stay class days", "them")
            };
            format!(
                "{} on which only they were marked {stay} (declared, in the audit log), so \
                 the other students' absence on {it} still counts.",
                crate::wording::count(kept, "day")
            )
        }))
    }

    /// What the admin is told after an erasure that cannot reach everywhere the face data
    /// may be: damaged databases restores set aside (see [`crate::store::damaged_copies_note`]).
    pub fn erasure_note(&self) -> Option<String> {
        crate::store::damaged_copies_note(self.data.root())
    }

    /// After an erasure in the database: its photo files go, and the erasure reaches the
    /// copies of the database restores saved.
    fn erase_photo_files(&self, files: &[String]) {
        let paths: Vec<PathBuf> = files.iter().map(|f| self.photo_path(f)).collect();
        remove_files(&paths);
        self.store.erase_in_saved_copies();
    }
}

fn remove_files(paths: &[PathBuf]) {
    for p in paths {
        if let Err(e) = std::fs::remove_file(p) {
            tracing::warn!(file = %p.display(), "could not remove a photo file: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ErasureKind, WrongClock};
    use chrono::TimeZone;

    /// Records in `dir` with one student, Ada (R1), enrolled from one camera photo
    /// ("r1-1.jpg", its file written) with one template.
    fn ada_with_a_photo(dir: &Path) -> (Records, i64) {
        let data = DataDir::resolve(Some(dir)).create().unwrap();
        let mut records = Records::open(&data, &Settings::default()).unwrap();
        let student = NewStudent {
            roll_no: "R1".into(),
            name: "Ada".into(),
            email: "ada@example.org".into(),
        };
        let photo = NewPhoto {
            file_name: "r1-1.jpg".into(),
            origin: "camera".into(),
            templates: vec![("facenet".into(), vec![0.5; 4])],
        };
        std::fs::write(records.photo_path("r1-1.jpg"), b"jpeg").unwrap();
        let id = records
            .store
            .insert_student(&student, &[photo], "test")
            .unwrap();
        (records, id)
    }

    #[test]
    fn photos_not_saved_for_a_full_disk_say_so_in_words() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(
            AdminError::Io(full).to_string(),
            "The photos could not be saved: the disk is full."
        );
    }

    #[test]
    fn nobody_is_marked_while_marks_made_here_are_dated_after_today() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::resolve(Some(dir.path())).create().unwrap();
        let mut records = Records::open(&data, &Settings::default()).unwrap();
        let mut add = |n: u32| {
            let s = NewStudent {
                roll_no: format!("R{n}"),
                name: format!("Student {n}"),
                email: format!("s{n}@example.org"),
            };
            records.store.insert_student(&s, &[], "test").unwrap()
        };
        let (ada, bo) = (add(1), add(2));
        // Ada was marked while the clock was a week ahead (or the clock has gone back).
        let ahead = Local::now() + chrono::Duration::days(7);
        records
            .store
            .mark(ada, ahead, Some(7.0), "kiosk", None)
            .unwrap();
        let today = Local::now().date_naive();
        match records.mark(bo, 7.0, "kiosk", None) {
            Err(StoreError::WrongClock(WrongClock::MarksAhead(f))) => {
                assert_eq!(
                    (f.today, f.last_day, f.marks),
                    (today, ahead.date_naive(), 1)
                )
            }
            other => panic!("expected the clock to be questioned, got {other:?}"),
        }
        assert_eq!(
            records.store.marked_count(today).unwrap(),
            0,
            "nothing written"
        );
        assert_eq!(
            records.store.remove_future_marks(today, "admin").unwrap(),
            1
        );
        assert!(matches!(
            records.mark(bo, 7.0, "kiosk", None).unwrap().record,
            MarkRecord::New(_)
        ));
        assert_eq!(records.store.marked_count(today).unwrap(), 1);
    }

    #[test]
    fn a_roll_number_is_corrected_unless_another_student_has_it() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::resolve(Some(dir.path())).create().unwrap();
        let mut records = Records::open(&data, &Settings::default()).unwrap();
        let [one, _two] = [1, 2].map(|n| records.store.add_test_student(n));
        let day = Local::now().date_naive();
        records
            .store
            .mark(one, Local::now(), Some(5.0), "kiosk", None)
            .unwrap();
        // Another student's number, in any case, is refused and names whose it is.
        let taken = records
            .update_student(one, " r2 ", "Student 1", "s1@example.org", "admin")
            .unwrap_err();
        assert_eq!(taken.to_string(), "Roll number R2 is already Student 2's.");
        let blank = records
            .update_student(one, "  ", "Student 1", "s1@example.org", "admin")
            .unwrap_err();
        assert_eq!(
            blank.to_string(),
            "The changes cannot be saved: the roll number is missing."
        );
        // A name change alone corrects nothing.
        let same = records
            .update_student(one, "R1", "Student One", "s1@example.org", "admin")
            .unwrap();
        assert_eq!(same, None);
        // A change of case is a correction; then a new number, trimmed.
        let case = records
            .update_student(one, "r1", "Student One", "s1@example.org", "admin")
            .unwrap();
        assert_eq!(case.as_deref(), Some("R1"));
        let corrected = records
            .update_student(one, " R10 ", "Student One", "s1@example.org", "admin")
            .unwrap();
        assert_eq!(corrected.as_deref(), Some("r1"));
        let (id, roll_no, _) = records.store.student_by_roll_no("R10").unwrap().unwrap();
        assert_eq!((id, roll_no.as_str()), (one, "R10"));
        // The student's marks stay theirs.
        let marks = records.store.marks(day, day).unwrap();
        assert_eq!(marks.len(), 1);
        assert_eq!(marks[0].roll_no, "R10");
        let corrections: Vec<_> = records
            .store
            .erasures()
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.subject, e.new_roll_no))
            .collect();
        assert_eq!(
            corrections,
            [
                (ErasureKind::RollNumber, "R1".into(), Some("r1".into())),
                (ErasureKind::RollNumber, "r1".into(), Some("R10".into())),
            ]
        );
    }

    /// Two roll numbers (or email addresses, or both) typed the wrong way round are swapped
    /// in one step; each student keeps their marks, and a backup made before it gets the
    /// swap when restored.
    #[test]
    fn two_roll_numbers_typed_the_wrong_way_round_are_swapped_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::resolve(Some(dir.path())).create().unwrap();
        let mut records = Records::open(&data, &Settings::default()).unwrap();
        let [one, two, _three] = [1, 2, 3].map(|n| records.store.add_test_student(n));
        let mut before = Store::open(&dir.path().join("before.db")).unwrap();
        for n in [1, 2] {
            before.add_test_student(n);
        }
        records
            .store
            .mark(one, Local::now(), Some(5.0), "kiosk", None)
            .unwrap();
        let not_held = records
            .swap_with(one, "R9", "Student 1", "s1@example.org", "admin")
            .unwrap_err();
        assert_eq!(
            not_held.to_string(),
            "No other student has that roll number or email address: there is no one to swap \
             with."
        );
        let two_others = records
            .swap_with(one, "R2", "Student 1", "s3@example.org", "admin")
            .unwrap_err();
        assert_eq!(
            two_others.to_string(),
            "The roll number R2 is Student 2's and the email address Student 3's: swap with \
             one student at a time."
        );
        let swapped = records
            .swap_with(one, " r2 ", "Student One", "s1@example.org", "admin")
            .unwrap();
        assert_eq!(
            swapped.to_string(),
            "Swapped the roll numbers: Student One is now R2 (was R1), Student 2 is now R1. \
             Their attendance, photos and face data stay theirs."
        );
        let holder = |store: &Store, roll_no: &str| store.student_by_roll_no(roll_no).unwrap();
        assert_eq!(holder(&records.store, "R2").unwrap().0, one);
        assert_eq!(holder(&records.store, "R1").unwrap().0, two);
        let day = Local::now().date_naive();
        let marks = records.store.marks(day, day).unwrap();
        assert_eq!(
            (
                marks.len(),
                marks[0].roll_no.as_str(),
                marks[0].name.as_str()
            ),
            (1, "R2", "Student One")
        );
        let erasures = records.store.erasures().unwrap();
        before.apply_erasures(&erasures, "restore").unwrap();
        let names = |roll_no| holder(&before, roll_no).unwrap().2;
        assert_eq!([names("R1"), names("R2")], ["Student 2", "Student 1"]);

        // Email addresses the wrong way round; then both at once, back as they were.
        let email_of = |records: &Records, id| records.store.student(id).unwrap().unwrap().email;
        let swapped = records
            .swap_with(one, "R2", "Student One", "S2@example.org", "admin")
            .unwrap();
        assert_eq!(
            swapped.to_string(),
            "Swapped the email addresses: Student One's is now s2@example.org (was \
             s1@example.org), Student 2's is now s1@example.org."
        );
        assert_eq!(
            [email_of(&records, one), email_of(&records, two)],
            ["S2@example.org", "s1@example.org"]
        );
        let swapped = records
            .swap_with(one, "R1", "Student One", "s1@example.org", "admin")
            .unwrap();
        assert_eq!(
            swapped.to_string(),
            "Swapped the roll numbers and email addresses: Student One is now R1, \
             s1@example.org (was R2, S2@example.org); Student 2 is now R2, S2@example.org. \
             Their attendance, photos and face data stay theirs."
        );
        assert_eq!(holder(&records.store, "R1").unwrap().0, one);
        assert_eq!(email_of(&records, two), "S2@example.org");
        let swaps: Vec<String> = (records.store.audit_log(20).unwrap().into_iter())
            .filter(|a| a.action == "swap with student")
            .map(|a| a.details)
            .collect();
        assert_eq!(
            swaps,
            [
                format!(
                    r#"student {two}: roll number "R1" to "R2", email "S2@example.org" (swapped with student {one})"#
                ),
                format!(r#"student {two}: email "s1@example.org" (swapped with student {one})"#),
                format!(r#"student {two}: roll number "R2" to "R1" (swapped with student {one})"#),
            ]
        );
    }

    #[test]
    fn a_student_who_left_keeps_their_attendance_and_loses_their_face_data() {
        let dir = tempfile::tempdir().unwrap();
        let (mut records, id) = ada_with_a_photo(dir.path());
        let today = Local::now().date_naive();
        let left = |records: &mut Records, day: NaiveDate| {
            records
                .student_left(id, day, today, "test")
                .map_err(|e| e.to_string())
        };
        let refused = left(&mut records, today + chrono::Days::new(400)).unwrap_err();
        assert_eq!(
            refused,
            "The last day cannot be more than a year from today."
        );
        let refused = left(&mut records, today - chrono::Days::new(1)).unwrap_err();
        assert!(refused.starts_with("The last day cannot be before Ada was enrolled"));
        // Enrolled a week ago and marked today: a last day before today would hide the mark.
        let week_ago = Local::now() - chrono::Duration::days(7);
        rusqlite::Connection::open(records.data.database())
            .unwrap()
            .execute(
                "UPDATE students SET enrolled_at = ?1",
                [crate::store::timestamp(week_ago)],
            )
            .unwrap();
        records
            .store
            .mark(id, Local::now(), Some(7.0), "kiosk", None)
            .unwrap();
        let refused = left(&mut records, today - chrono::Days::new(1)).unwrap_err();
        assert!(
            refused.starts_with("Ada was marked present on") && refused.contains("Review"),
            "{refused}"
        );
        let erased = left(&mut records, today).unwrap();
        assert!(erased.to_string().contains("1 face template"), "{erased}");
        assert!(records.store.templates_of(id).unwrap().is_empty());
        let listed = records.store.students().unwrap().remove(0);
        assert_eq!(listed.last_day, Some(today));
        assert_eq!(
            listed.status(today),
            format!("left, last day {}", long_date(today))
        );
        assert_eq!(listed.photo_check(), "no face data");
        assert_eq!(
            records.store.marked_count(today).unwrap(),
            1,
            "the attendance stays"
        );
        assert!(left(&mut records, today)
            .unwrap_err()
            .contains("left the school already"));
        let photos = records.add_photos(id, &[], "test").unwrap_err().to_string();
        assert!(photos.contains("record that they are back"), "{photos}");
        // Back: after the last day, and not after today but for the day after the last
        // day (recorded by mistake: undone, no day away).
        for (day, refusal) in [
            (
                today,
                "The first day back must be after Ada's last day in class",
            ),
            (
                today + chrono::Days::new(2),
                "The first day back cannot be after today",
            ),
        ] {
            let refused = records
                .student_back(id, day, today, "test")
                .unwrap_err()
                .to_string();
            assert!(refused.starts_with(refusal), "{refused}");
        }
        let tomorrow = today + chrono::Days::new(1);
        assert_eq!(first_day_back_by_default(today, today), tomorrow);
        records.student_back(id, tomorrow, today, "test").unwrap();
        assert_eq!(records.store.last_day(id).unwrap(), None);
        assert_eq!(records.store.student(id).unwrap().unwrap().away, []);
        let refused = records.student_back(id, tomorrow, today, "test");
        assert_eq!(
            refused.unwrap_err().to_string(),
            "Ada has not left the school."
        );
        records.add_photos(id, &[], "test").unwrap();
    }

    /// A leave recorded ahead of the last day (until 2026-12-06 refused: the face data
    /// went at once, so the leave could only be recorded once the student had gone).
    #[test]
    fn a_leave_recorded_ahead_keeps_the_face_until_the_last_day_is_over() {
        let dir = tempfile::tempdir().unwrap();
        let (mut records, id) = ada_with_a_photo(dir.path());
        let today = Local::now().date_naive();
        let friday = today + chrono::Days::new(4);
        let erased = records.student_left(id, friday, today, "test").unwrap();
        assert_eq!(erased, Erased::default(), "nothing erased before the day");
        assert_eq!(
            leave_recorded(friday, today, erased),
            format!(
                "their last day in class is {}. The kiosk marks them up to that day; their \
                 photos and face data are erased after it. Their attendance up to that day \
                 is kept, and they get no email report for a range that ends after it.",
                long_date(friday)
            )
        );
        let ada = records.store.student(id).unwrap().unwrap();
        assert_eq!(ada.last_day, Some(friday));
        assert_eq!(
            ada.status(today),
            format!("leaving, last day {}", long_date(friday))
        );
        assert_eq!(ada.photo_check(), "own face");
        // Still in the class: photos may be added (they go with the rest after the day).
        records.add_photos(id, &[], "test").unwrap();
        let refused = records.student_left(id, friday, today, "test").unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("Ada leaves the school already (last day"),
            "{refused}"
        );
        // Marked up to the last day; not after it (a door that still knows the face).
        let at = |day: NaiveDate| {
            day.and_hms_opt(9, 0, 0)
                .unwrap()
                .and_local_timezone(Local)
                .unwrap()
        };
        let mark = |records: &mut Records, day| {
            records
                .store
                .mark(id, at(day), Some(7.0), "kiosk", None)
                .unwrap()
        };
        assert!(matches!(mark(&mut records, today), MarkRecord::New(_)));
        assert_eq!(
            mark(&mut records, friday + chrono::Days::new(1)),
            MarkRecord::Left(friday.to_string())
        );
        // The face goes once the last day is over, not before, and once.
        records.keep_retention_on(friday).unwrap();
        assert_eq!(records.store.templates_of(id).unwrap().len(), 1);
        records
            .keep_retention_on(friday + chrono::Days::new(1))
            .unwrap();
        assert!(records.store.templates_of(id).unwrap().is_empty());
        assert!(
            !records.photo_path("r1-1.jpg").exists(),
            "the photo file went"
        );
        let ada = records.store.student(id).unwrap().unwrap();
        assert_eq!((ada.photo_count, ada.has_face), (0, false));
        assert!(records
            .store
            .erasures()
            .unwrap()
            .iter()
            .any(|e| e.kind == ErasureKind::FaceData && e.subject == "R1"));
        assert!(records.store.audit_log(3).unwrap().iter().any(|a| {
            a.action == "erase face data"
                && a.details
                    .contains(&format!("left the school, last day {friday}"))
        }));
        let (_, again) = records
            .store
            .erase_face_data_of_leavers(friday + chrono::Days::new(2), "test")
            .unwrap();
        assert_eq!(again, 0);
    }

    /// Not leaving after all: a leave recorded ahead is undone by the day after the last
    /// day, and the face stays.
    #[test]
    fn a_leave_recorded_ahead_is_undone_and_the_face_stays() {
        let dir = tempfile::tempdir().unwrap();
        let (mut records, id) = ada_with_a_photo(dir.path());
        let today = Local::now().date_naive();
        let friday = today + chrono::Days::new(4);
        records.student_left(id, friday, today, "test").unwrap();
        assert_eq!(
            first_day_back_by_default(friday, today),
            friday + chrono::Days::new(1)
        );
        let refused = records
            .student_back(id, friday + chrono::Days::new(2), today, "test")
            .unwrap_err();
        assert!(refused
            .to_string()
            .starts_with("The first day back cannot be after today"));
        records
            .student_back(id, friday + chrono::Days::new(1), today, "test")
            .unwrap();
        let ada = records.store.student(id).unwrap().unwrap();
        assert_eq!((ada.last_day, ada.away.len()), (None, 0));
        assert_eq!(records.store.templates_of(id).unwrap().len(), 1);
        records
            .keep_retention_on(friday + chrono::Days::new(1))
            .unwrap();
        assert_eq!(records.store.templates_of(id).unwrap().len(), 1);
    }

    #[test]
    fn snapshots_past_their_retention_are_dropped_once_each_day() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::resolve(Some(dir.path())).create().unwrap();
        let mut settings = Settings::default();
        settings.review.snapshot_days = 30;
        let mut records = Records::open(&data, &settings).unwrap();
        let student = NewStudent {
            roll_no: "R1".into(),
            name: "Ada".into(),
            email: "ada@example.org".into(),
        };
        let id = records.store.insert_student(&student, &[], "test").unwrap();
        let mark_on = |records: &mut Records, day: u32| {
            let at = Local.with_ymd_and_hms(2026, 3, day, 8, 0, 0).unwrap();
            records
                .store
                .mark(id, at, Some(7.0), "kiosk", Some(b"face".as_slice()))
                .unwrap();
        };
        let snapshots = |records: &Records| {
            let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
            let to = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
            records
                .store
                .marks(from, to)
                .unwrap()
                .iter()
                .filter(|m| m.snapshot.is_some())
                .count()
        };
        let day = |d| NaiveDate::from_ymd_opt(2026, 4, d).unwrap();
        mark_on(&mut records, 2);
        mark_on(&mut records, 10);
        // Kept 30 days: on 1 April the 2 March snapshot is kept, on 3 April dropped.
        records.keep_retention_on(day(1)).unwrap();
        assert_eq!(snapshots(&records), 2);
        records.keep_retention_on(day(3)).unwrap();
        assert_eq!(snapshots(&records), 1);
        // Once a day: the same day does nothing more; the next day catches up.
        mark_on(&mut records, 1);
        records.keep_retention_on(day(3)).unwrap();
        assert_eq!(snapshots(&records), 2);
        records.keep_retention_on(day(4)).unwrap();
        assert_eq!(snapshots(&records), 1);
    }
}
