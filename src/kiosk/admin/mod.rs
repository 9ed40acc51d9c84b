//! The admin protocol: what the admin screens ask the admin worker, each request with its
//! own reply handle. A screen keeps the [`Pending`] answer of what it asked and polls it
//! once per frame; the worker sends the answer and wakes the window. No screen matches
//! answers to questions by counting.

mod attack_check;
mod door_settings;
mod worker;

pub(super) use worker::AdminWorker;

use super::Waker;
use crate::attendance::import::{ImportSummary, PhotosFoundByName};
use crate::attendance::pin::PinCheck;
use crate::camera::{list_cameras, CameraDescription};
use crate::reports::{EmailPreview, Emailing, Format, SendSummary, Sheet};
use crate::settings::{EmailSettings, MailSecurity};
use crate::store::school::SchoolLogin;
use crate::store::{AttackRecording, AuditRow, EmailLogRow, Student};
use crate::vision::liveness::site::SiteRecord;
use crate::vision::liveness::Tradeoff;
use crate::wording::count;
use chrono::NaiveDate;
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

/// What an import asked of the admin desk came to.
#[derive(Debug)]
pub enum Imported {
    /// What it did.
    Done(ImportSummary),
    /// Nothing yet: the list names photos that are not where it says, found below it by
    /// file name, one line per folder; the admin is asked before they are used.
    Ask(Vec<String>),
}

/// The worker has stopped: the request will never be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Rollcall could not finish this: the admin tasks have stopped. Restart Rollcall.")]
pub struct Lost;

/// The answer to one request, once it comes.
pub struct Pending<T> {
    rx: Receiver<T>,
}

impl<T> Pending<T> {
    /// The answer if it has come (`Err` when it never will).
    pub fn poll(&self) -> Option<Result<T, Lost>> {
        match self.rx.try_recv() {
            Ok(v) => Some(Ok(v)),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => Some(Err(Lost)),
        }
    }
}

/// An answer that is a value or a sentence saying why there is none.
pub type Answer<T> = Pending<Result<T, String>>;

/// A student's enrolment photos: (photo id, thumbnail).
pub type StudentPhotos = Vec<(i64, Thumbnail)>;

/// Where the worker sends one answer (and wakes the window).
pub struct Reply<T> {
    tx: Sender<T>,
    wake: Waker,
}

impl<T> Reply<T> {
    pub fn send(self, value: T) {
        let _ = self.tx.send(value);
        (self.wake)();
    }
}

fn pair<T>(wake: &Waker) -> (Reply<T>, Pending<T>) {
    let (tx, rx) = bounded(1);
    (
        Reply {
            tx,
            wake: wake.clone(),
        },
        Pending { rx },
    )
}

/// A longer task: progress as it goes, then one answer.
pub struct Task<T> {
    progress: Receiver<(usize, usize)>,
    done: Pending<T>,
    last: (usize, usize),
}

impl<T> Task<T> {
    /// The latest (done, total) reported.
    pub fn progress(&mut self) -> (usize, usize) {
        while let Ok(p) = self.progress.try_recv() {
            self.last = p;
        }
        self.last
    }

    /// The answer if it has come.
    pub fn poll(&self) -> Option<Result<T, Lost>> {
        self.done.poll()
    }
}

/// Where the worker reports a task's progress and then its answer.
pub struct TaskReply<T> {
    progress: Sender<(usize, usize)>,
    reply: Reply<T>,
}

impl<T> TaskReply<T> {
    /// Reports `done` of `total`.
    pub fn progress(&self, done: usize, total: usize) {
        let _ = self.progress.send((done, total));
        (self.reply.wake)();
    }

    pub fn send(self, value: T) {
        self.reply.send(value)
    }
}

fn task<T>(wake: &Waker) -> (TaskReply<T>, Task<T>) {
    let (progress_tx, progress_rx) = unbounded();
    let (reply, done) = pair(wake);
    (
        TaskReply {
            progress: progress_tx,
            reply,
        },
        Task {
            progress: progress_rx,
            done,
            last: (0, 0),
        },
    )
}

/// Photos found by auto-capture, as they come.
pub struct PhotoStream {
    rx: Receiver<CheckedPhoto>,
    waiting: Arc<AtomicU8>,
}

/// Why auto-capture took no photo of the last good face it saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoWait {
    /// Not the person of the photos so far.
    SomeoneElse,
    /// Nearly the same picture as a photo taken.
    SamePicture,
}

impl AutoWait {
    /// Notes in `cell` why the last good face was not taken (`None`: it was, or no photo
    /// says whose face to wait for any more).
    pub(super) fn set(cell: &AtomicU8, wait: Option<AutoWait>) {
        let code = match wait {
            None => 0,
            Some(AutoWait::SomeoneElse) => 1,
            Some(AutoWait::SamePicture) => 2,
        };
        cell.store(code, Ordering::Relaxed);
    }

    /// What `set` last noted in `cell`.
    fn get(cell: &AtomicU8) -> Option<AutoWait> {
        match cell.load(Ordering::Relaxed) {
            1 => Some(AutoWait::SomeoneElse),
            2 => Some(AutoWait::SamePicture),
            _ => None,
        }
    }
}

impl PhotoStream {
    /// Every photo taken since the last call.
    pub fn take(&self) -> Vec<CheckedPhoto> {
        self.rx.try_iter().collect()
    }

    /// Why auto-capture is waiting, if it is.
    pub fn waiting(&self) -> Option<AutoWait> {
        AutoWait::get(&self.waiting)
    }
}

/// Where auto-capture sends its photos, and says why it is waiting.
pub(super) struct AutoTarget {
    pub to: Sender<CheckedPhoto>,
    pub waiting: Arc<AtomicU8>,
}

/// A small RGBA picture for the UI.
#[derive(Clone, Debug, PartialEq)]
pub struct Thumbnail {
    pub size: [usize; 2],
    pub rgba: Vec<u8>,
}

pub use crate::attendance::LookAlike;
pub use door_settings::DoorForm;

/// A photo that passed the checks, kept by the worker under `ticket` until it is saved
/// or dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedPhoto {
    pub ticket: u64,
    pub label: String,
    pub thumbnail: Thumbnail,
    /// An enrolled student this photo would be recognised as.
    pub look_alike: Option<LookAlike>,
    /// A photo for an enrolled student that looks like none of the student's photos so
    /// far: someone else, or the student with a new look (the admin decides).
    pub unlike_student: bool,
}

/// A checked photo, or why it was refused: (label, reason).
pub type PhotoCheck = Result<CheckedPhoto, (String, String)>;

/// A sentence saying what was done, or why it was not.
pub type Outcome = Result<String, String>;

/// The email settings as an admin sees them: everything but the password, which is only
/// said to be saved (it is never sent back to the screen).
#[derive(Clone, Debug, PartialEq)]
pub struct EmailForm {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub user: String,
    pub from: String,
    pub subject: String,
    /// The school's own certificate authority (a PEM file; empty: none).
    pub ca_file: String,
    pub password_saved: bool,
}

impl EmailForm {
    /// The form for saved settings.
    pub fn of(s: &EmailSettings) -> EmailForm {
        EmailForm {
            host: s.host.clone(),
            port: s.port,
            security: s.security,
            user: s.user.clone(),
            from: s.from.clone(),
            subject: s.subject.clone(),
            ca_file: s.ca_file.clone(),
            password_saved: !s.password.is_empty(),
        }
    }

    /// The settings `self` changes from `loaded` (the form as the admin found it), as
    /// settings.toml writes them: only those are saved, so a setting another program
    /// changed meanwhile (a hand edit, a second kiosk's admin) stays as it made it. The
    /// password is not on the form: a new one is saved beside these.
    pub fn changes_from(&self, loaded: &EmailForm) -> Vec<(String, toml::Value)> {
        let text = |v: &str| Some(toml::Value::String(v.to_string()));
        let trimmed = |now: &str, was: &str| (now.trim() != was.trim()).then(|| text(now.trim()));
        let security = |s: MailSecurity| match s {
            MailSecurity::None => "none",
            MailSecurity::Starttls => "starttls",
            MailSecurity::Tls => "tls",
        };
        [
            ("host", trimmed(&self.host, &loaded.host)),
            (
                "port",
                (self.port != loaded.port).then(|| Some(toml::Value::Integer(self.port.into()))),
            ),
            (
                "security",
                (self.security != loaded.security).then(|| text(security(self.security))),
            ),
            ("user", trimmed(&self.user, &loaded.user)),
            ("from", trimmed(&self.from, &loaded.from)),
            (
                "subject",
                (self.subject != loaded.subject).then(|| text(&self.subject)),
            ),
            ("ca_file", trimmed(&self.ca_file, &loaded.ca_file)),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key.to_string(), value.flatten()?)))
        .collect()
    }

    /// The settings this form makes of `saved`: a new `password`, or the saved one.
    pub fn apply(&self, saved: &EmailSettings, password: Option<String>) -> EmailSettings {
        EmailSettings {
            host: self.host.trim().to_string(),
            port: self.port,
            security: self.security,
            user: self.user.trim().to_string(),
            password: password.unwrap_or_else(|| saved.password.clone()),
            from: self.from.trim().to_string(),
            subject: self.subject.clone(),
            timeout_secs: saved.timeout_secs,
            ca_file: self.ca_file.trim().to_string(),
        }
    }
}

/// The photo-attack check as the admin sees it: what its model learnt from, how strict it
/// is, and what each strictness costs.
#[derive(Clone, Debug, PartialEq)]
pub struct AttackCheck {
    pub enabled: bool,
    pub threshold: f32,
    /// "Trained on 7 people (897 live, 1373 photo frames) on 2026-11-24."
    pub trained_on: String,
    /// Measured leaving each training person out (or, for a check adapted to this camera,
    /// on this camera's frames): photos let in and live faces refused per frame, at each
    /// threshold.
    pub tradeoff: Vec<Tradeoff>,
    /// How the check was adapted to this camera, when it was.
    pub adapted: Option<SiteRecord>,
}

impl AttackCheck {
    /// The thresholds an admin may choose from (the measured ones a kiosk can live with).
    pub fn choices(&self) -> impl Iterator<Item = &Tradeoff> {
        self.tradeoff
            .iter()
            .filter(|t| (-0.55..=0.65).contains(&t.threshold))
    }

    /// One choice, worded for the admin.
    pub fn describe(t: &Tradeoff) -> String {
        let name = match t.threshold {
            x if x < -0.05 => "lenient",
            x if x <= 0.05 => "standard",
            _ => "strict",
        };
        format!(
            "{:+.1} ({name}): photos let in {:.1} %, live students refused {:.1} %",
            t.threshold,
            t.apcer * 100.0,
            t.bpcer * 100.0
        )
    }

    /// The measured trade-off at the current threshold.
    pub fn current(&self) -> Option<&Tradeoff> {
        self.tradeoff.iter().min_by(|a, b| {
            (a.threshold - self.threshold)
                .abs()
                .total_cmp(&(b.threshold - self.threshold).abs())
        })
    }
}

/// How well recognition knows this site, for the admin.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationStatus {
    pub students: usize,
    /// Students enrolled from the kiosk's own camera.
    pub camera_enrolled: usize,
    /// Faces the kiosk has kept from confirmed marks.
    pub observations: usize,
    /// Pairs of students the kiosk's (camera) figures come from.
    pub camera_pairs: f32,
    /// Pairs the figures for uploaded photos come from.
    pub photo_pairs: f32,
    /// The kiosk's decision still leans on the strict prior.
    pub conservative: bool,
    /// Single photos (the HTTP API, the command line) are still judged by the strict prior.
    pub photos_conservative: bool,
}

impl CalibrationStatus {
    /// A sentence for the admin. `login`: what this door's login to the school server may
    /// do (`None`: not linked), which says whether students' photos can be added here.
    pub fn describe(&self, login: Option<SchoolLogin>) -> String {
        if self.students == 0 {
            return "Recognition: nobody is enrolled yet.".into();
        }
        let from_files = self.students.saturating_sub(self.camera_enrolled);
        let take = match login {
            None | Some(SchoolLogin::Office) => {
                "the door knows them from files only and recognises them less readily; take a \
                 camera photo when they come (open the student, Add a camera photo)."
            }
            Some(SchoolLogin::Door) => {
                "the door knows them from files only and recognises them less readily (photos \
                 are added at the office)."
            }
            Some(SchoolLogin::NotKnownYet) => {
                "the door knows them from files only and recognises them less readily (photos \
                 can be added once this computer has reached the school server)."
            }
        };
        let files_note = match from_files {
            0 => String::new(),
            n if n == self.students => {
                format!(" No student has a photo from this camera yet: {take}")
            }
            1 => format!(" 1 of them has no photo from this camera: {take}"),
            n => format!(" {n} of them have no photo from this camera: {take}"),
        };
        let summary = if self.conservative {
            format!(
                "Recognition is strict for now: with {} enrolled ({} from this camera) it cannot yet tell how alike strangers look here, so it errs towards \"not recognised\". It adjusts as more students are enrolled and marked.",
                count(self.students, "student"), self.camera_enrolled
            )
        } else {
            format!(
                "Recognition is calibrated to this site: {} enrolled ({} from this camera), {} kept from marks; strangers' likeness measured on {:.0} pairs of students for the kiosk and {:.0} for uploaded photos.",
                count(self.students, "student"), self.camera_enrolled, count(self.observations, "face"), self.camera_pairs, self.photo_pairs
            ) + if self.photos_conservative {
                " Single photos (the HTTP API, the command line) are still judged strictly, until more students are enrolled."
            } else {
                ""
            }
        };
        summary + &files_note
    }
}

/// The day view: the day's marks, whether an admin declared it a class day, and who was
/// not marked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DayView {
    pub marks: Vec<DayMark>,
    /// "2026-03-09 08:12 by admin" when the day was declared a class day.
    pub declared: Option<String>,
    /// Students enrolled by that day and not marked, as "Name (roll no)" in roll number
    /// order; `None` on a day that is not a class day (nobody was expected).
    pub not_marked: Option<Vec<String>>,
}

/// One mark in the day view.
#[derive(Clone, Debug, PartialEq)]
pub struct DayMark {
    pub roll_no: String,
    pub name: String,
    /// "HH:MM", or empty for a mark an admin made by hand.
    pub time: String,
    pub score: Option<f64>,
    pub source: String,
    /// The school's door that marked, when the school has several.
    pub door: Option<String>,
    pub snapshot: Option<Thumbnail>,
}

/// A face the kiosk refused as a possible photo.
#[derive(Clone, Debug, PartialEq)]
pub struct RefusedFace {
    /// "YYYY-MM-DD HH:MM"
    pub when: String,
    /// The student the face resembled, if any.
    pub resembled: Option<String>,
    pub score: f32,
    pub snapshot: Option<Thumbnail>,
}

/// What the PIN window asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum PinState {
    /// No admin PIN yet: the first admin chooses one.
    NotSet,
    /// The admin PIN unlocks the admin screens.
    Set,
    /// The attendance records cannot be read (the file is damaged); the newest daily
    /// backup can be put back.
    Damaged(DamagedRecords),
}

/// A damaged database and the daily backup that can replace it.
#[derive(Clone, Debug, PartialEq)]
pub struct DamagedRecords {
    pub backup: PathBuf,
    /// The day the backup was made.
    pub made: NaiveDate,
    /// Whether the backup holds an admin PIN (asked before restoring it).
    pub pin: bool,
}

/// The answer to restoring a damaged database.
#[derive(Clone, Debug, PartialEq)]
pub enum Rescue {
    /// The PIN was refused (wrong, or locked out); nothing was changed.
    Refused(PinCheck),
    /// Restored: what the restore did, for the admin.
    Restored(String),
}

/// What the admin screens ask for.
pub(super) enum Request {
    PinStatus(Reply<Result<PinState, String>>),
    SetPin {
        pin: String,
        again: String,
        reply: Reply<Result<(), String>>,
    },
    Unlock {
        pin: String,
        reply: Reply<Result<PinCheck, String>>,
    },
    /// A new PIN, given the current one.
    ChangePin {
        current: String,
        new: String,
        again: String,
        reply: Reply<Outcome>,
    },
    ListStudents(Reply<Result<Vec<Student>, String>>),
    Calibration(Reply<Result<CalibrationStatus, String>>),
    /// What settings.toml holds that Rollcall does not read (typos, retired keys).
    SettingsNotes(Reply<Vec<String>>),
    AttackCheck(Reply<Result<AttackCheck, String>>),
    /// Set how strict the photo-attack check is (saved in settings.toml, applied at once).
    SetStrictness {
        threshold: f32,
        reply: Reply<Result<AttackCheck, String>>,
    },
    /// Record a few seconds of a student's printed photo held up to the camera.
    RecordAttack {
        student: i64,
        reply: TaskReply<Outcome>,
    },
    AttackRecordings(Reply<Result<Vec<AttackRecording>, String>>),
    ForgetAttackRecordings(Reply<Outcome>),
    /// Adapt the photo-attack check to this camera (kept by the worker until used).
    AdaptCheck(Reply<Result<SiteRecord, String>>),
    /// Put the adapted check in place, at the door at once and in settings.toml.
    UseAdaptedCheck(Reply<Result<AttackCheck, String>>),
    /// Return to the check the adapted one was made from.
    ReturnToBaseCheck(Reply<Result<AttackCheck, String>>),
    /// Check a photo file; `student` is the one it will be added to, if any.
    CheckPhoto {
        path: PathBuf,
        student: Option<i64>,
        reply: Reply<PhotoCheck>,
    },
    /// Check the camera's current picture.
    CapturePhoto {
        student: Option<i64>,
        reply: Reply<PhotoCheck>,
    },
    /// Start (with where to send the photos) or stop auto-capture.
    AutoCapture(Option<AutoTarget>),
    /// Forget a checked photo (removed from the form).
    DropPhoto(u64),
    Enroll {
        roll_no: String,
        name: String,
        email: String,
        tickets: Vec<u64>,
        reply: Reply<Outcome>,
    },
    /// `swap`: the roll number or email address is another student's, who gets this one's.
    UpdateStudent {
        id: i64,
        roll_no: String,
        name: String,
        email: String,
        swap: bool,
        reply: Reply<Outcome>,
    },
    AddPhotos {
        id: i64,
        tickets: Vec<u64>,
        reply: Reply<Outcome>,
    },
    StudentPhotos {
        id: i64,
        reply: Reply<Result<StudentPhotos, String>>,
    },
    RemovePhoto {
        photo_id: i64,
        reply: Reply<Outcome>,
    },
    EraseFaceData {
        id: i64,
        reply: Reply<Outcome>,
    },
    DeleteStudent {
        id: i64,
        reply: Reply<Outcome>,
    },
    StudentLeft {
        id: i64,
        last_day: NaiveDate,
        reply: Reply<Outcome>,
    },
    StudentBack {
        id: i64,
        first_day_back: NaiveDate,
        reply: Reply<Outcome>,
    },
    Import {
        path: PathBuf,
        email_domain: Option<String>,
        by_name: PhotosFoundByName,
        reply: TaskReply<Result<Imported, String>>,
    },
    Sheet {
        from: NaiveDate,
        to: NaiveDate,
        door: Option<String>,
        reply: Reply<Result<Arc<Sheet>, String>>,
    },
    DayMarks {
        day: NaiveDate,
        reply: Reply<Result<DayView, String>>,
    },
    /// Withdraw a day's class-day declaration.
    WithdrawClassDay {
        day: NaiveDate,
        reply: Reply<Outcome>,
    },
    /// Remove the marks made here while the clock was ahead (`today`: this computer's date).
    RemoveFutureMarks {
        today: NaiveDate,
        reply: Reply<Outcome>,
    },
    Correct {
        student_id: i64,
        day: NaiveDate,
        present: bool,
        reason: String,
        /// Declare the day a class day first.
        declare: bool,
        reply: Reply<Outcome>,
    },
    AuditLog(Reply<Result<Vec<AuditRow>, String>>),
    /// The reports emailed (or not), newest first.
    EmailLog(Reply<Result<Vec<EmailLogRow>, String>>),
    Refusals(Reply<Result<Vec<RefusedFace>, String>>),
    /// A backup of the database and the photos to a new file.
    Backup {
        path: PathBuf,
        reply: Reply<Outcome>,
    },
    /// When all data was last backed up (RFC 3339), if ever.
    LastBackup(Reply<Result<crate::store::BackupState, String>>),
    /// The database and photos replaced by a backup's.
    Restore {
        path: PathBuf,
        reply: Reply<Outcome>,
    },
    /// A damaged database replaced by the daily backup `backup`, once `pin` is the PIN
    /// the backup holds.
    RestoreDamaged {
        backup: PathBuf,
        pin: String,
        reply: Reply<Result<Rescue, String>>,
    },
    Export {
        path: PathBuf,
        format: Format,
        from: NaiveDate,
        to: NaiveDate,
        reply: Reply<Outcome>,
    },
    EmailPreview {
        run: Emailing,
        reply: Reply<Result<EmailPreview, String>>,
    },
    EmailSend {
        run: Emailing,
        reply: TaskReply<Result<SendSummary, String>>,
    },
    EmailSettings(Reply<Result<EmailForm, String>>),
    /// Save what the admin changed from the form as they `loaded` it (a new password, or
    /// `None` to keep the saved one).
    SaveEmailSettings {
        loaded: EmailForm,
        form: EmailForm,
        password: Option<String>,
        reply: Reply<Result<EmailForm, String>>,
    },
    /// Send a test message with these settings (saved or not).
    TestEmail {
        form: EmailForm,
        password: Option<String>,
        to: String,
        reply: Reply<Outcome>,
    },
    /// Keep `[kiosk] camera` (a camera chosen at the door) for the next start.
    SaveCamera {
        camera: String,
        reply: Reply<Outcome>,
    },
    /// The door's settings an admin changes on the screen.
    DoorSettings(Reply<Result<DoorForm, String>>),
    /// Save what the admin changed from the form as they `loaded` it (the door takes them
    /// at once).
    SaveDoorSettings {
        loaded: DoorForm,
        form: DoorForm,
        reply: Reply<Result<DoorForm, String>>,
    },
}

/// The admin screens' side of the protocol: each method sends one request and returns
/// the handle its answer comes through.
#[derive(Clone)]
pub struct AdminClient {
    tx: Sender<Request>,
    wake: Waker,
}

impl AdminClient {
    pub(super) fn new(tx: Sender<Request>, wake: Waker) -> AdminClient {
        AdminClient { tx, wake }
    }

    /// A client with no worker behind it: every answer is `Lost`. For drawing a screen
    /// without a back end (the review table's benchmark).
    pub fn offline() -> AdminClient {
        let (tx, _) = unbounded();
        AdminClient {
            tx,
            wake: Arc::new(|| {}),
        }
    }

    fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Pending<T> {
        let (reply, pending) = pair(&self.wake);
        // A stopped worker drops the reply: the screen sees `Lost`.
        let _ = self.tx.send(make(reply));
        pending
    }

    fn run<T>(&self, make: impl FnOnce(TaskReply<T>) -> Request) -> Task<T> {
        let (reply, task) = task(&self.wake);
        let _ = self.tx.send(make(reply));
        task
    }

    pub fn pin_status(&self) -> Answer<PinState> {
        self.ask(Request::PinStatus)
    }
    pub fn set_pin(&self, pin: String, again: String) -> Answer<()> {
        self.ask(|reply| Request::SetPin { pin, again, reply })
    }
    pub fn unlock(&self, pin: String) -> Answer<PinCheck> {
        self.ask(|reply| Request::Unlock { pin, reply })
    }
    /// Changes the admin PIN (the current one, then the new one twice).
    pub fn change_pin(&self, current: String, new: String, again: String) -> Pending<Outcome> {
        self.ask(|reply| Request::ChangePin {
            current,
            new,
            again,
            reply,
        })
    }
    pub fn students(&self) -> Answer<Vec<Student>> {
        self.ask(Request::ListStudents)
    }
    /// How well recognition knows this site (loads the face models if needed).
    pub fn calibration(&self) -> Answer<CalibrationStatus> {
        self.ask(Request::Calibration)
    }
    /// Settings in settings.toml that Rollcall does not read, one line each.
    pub fn settings_notes(&self) -> Pending<Vec<String>> {
        self.ask(Request::SettingsNotes)
    }
    /// The photo-attack check's model, strictness and measured trade-off.
    pub fn attack_check(&self) -> Answer<AttackCheck> {
        self.ask(Request::AttackCheck)
    }
    /// Makes the photo-attack check this strict, at the door at once and in settings.toml.
    pub fn set_strictness(&self, threshold: f32) -> Answer<AttackCheck> {
        self.ask(|reply| Request::SetStrictness { threshold, reply })
    }
    /// Records the camera for a few seconds while an admin holds up a printed photo of
    /// `student`; progress is frames kept of the frames wanted.
    pub fn record_attack(&self, student: i64) -> Task<Outcome> {
        self.run(|reply| Request::RecordAttack { student, reply })
    }
    pub fn attack_recordings(&self) -> Answer<Vec<AttackRecording>> {
        self.ask(Request::AttackRecordings)
    }
    pub fn forget_attack_recordings(&self) -> Pending<Outcome> {
        self.ask(Request::ForgetAttackRecordings)
    }
    /// Adapts the photo-attack check to this camera and measures it against the current
    /// one; nothing changes until `use_adapted_check`.
    pub fn adapt_check(&self) -> Answer<SiteRecord> {
        self.ask(Request::AdaptCheck)
    }
    pub fn use_adapted_check(&self) -> Answer<AttackCheck> {
        self.ask(Request::UseAdaptedCheck)
    }
    pub fn return_to_base_check(&self) -> Answer<AttackCheck> {
        self.ask(Request::ReturnToBaseCheck)
    }
    /// Checks a photo file (read by the worker, not the window).
    pub fn check_photo(&self, path: PathBuf, student: Option<i64>) -> Pending<PhotoCheck> {
        self.ask(|reply| Request::CheckPhoto {
            path,
            student,
            reply,
        })
    }
    pub fn capture_photo(&self, student: Option<i64>) -> Pending<PhotoCheck> {
        self.ask(|reply| Request::CapturePhoto { student, reply })
    }
    /// Starts auto-capture; the photos come through the stream until `stop_auto_capture`.
    pub fn auto_capture(&self) -> PhotoStream {
        let (to, rx) = unbounded();
        let waiting = Arc::new(AtomicU8::new(0));
        let _ = self.tx.send(Request::AutoCapture(Some(AutoTarget {
            to,
            waiting: waiting.clone(),
        })));
        PhotoStream { rx, waiting }
    }
    pub fn stop_auto_capture(&self) {
        let _ = self.tx.send(Request::AutoCapture(None));
    }
    pub fn drop_photo(&self, ticket: u64) {
        let _ = self.tx.send(Request::DropPhoto(ticket));
    }
    pub fn enroll(
        &self,
        roll_no: String,
        name: String,
        email: String,
        tickets: Vec<u64>,
    ) -> Pending<Outcome> {
        self.ask(|reply| Request::Enroll {
            roll_no,
            name,
            email,
            tickets,
            reply,
        })
    }
    /// Saves a student's roll number, name and email (`swap`: the roll number or email
    /// address is another student's, who gets this one's: `Records::swap_with`).
    pub fn update_student(
        &self,
        id: i64,
        roll_no: String,
        name: String,
        email: String,
        swap: bool,
    ) -> Pending<Outcome> {
        self.ask(|reply| Request::UpdateStudent {
            id,
            roll_no,
            name,
            email,
            swap,
            reply,
        })
    }
    pub fn add_photos(&self, id: i64, tickets: Vec<u64>) -> Pending<Outcome> {
        self.ask(|reply| Request::AddPhotos { id, tickets, reply })
    }
    pub fn student_photos(&self, id: i64) -> Answer<StudentPhotos> {
        self.ask(|reply| Request::StudentPhotos { id, reply })
    }
    pub fn remove_photo(&self, photo_id: i64) -> Pending<Outcome> {
        self.ask(|reply| Request::RemovePhoto { photo_id, reply })
    }
    pub fn erase_face_data(&self, id: i64) -> Pending<Outcome> {
        self.ask(|reply| Request::EraseFaceData { id, reply })
    }
    pub fn delete_student(&self, id: i64) -> Pending<Outcome> {
        self.ask(|reply| Request::DeleteStudent { id, reply })
    }
    /// Records that a student left the school after `last_day` (their face data erased).
    pub fn student_left(&self, id: i64, last_day: NaiveDate) -> Pending<Outcome> {
        self.ask(|reply| Request::StudentLeft {
            id,
            last_day,
            reply,
        })
    }
    /// Records that a student who had left is in the class again from `first_day_back`.
    pub fn student_back(&self, id: i64, first_day_back: NaiveDate) -> Pending<Outcome> {
        self.ask(|reply| Request::StudentBack {
            id,
            first_day_back,
            reply,
        })
    }
    /// Imports a class (see `attendance::import`). A list naming photos that are not where
    /// it says, but that were found below it by file name, imports nothing and asks first
    /// when `by_name` says so (a photo of that name elsewhere may be another student's).
    pub fn import(
        &self,
        path: PathBuf,
        email_domain: Option<String>,
        by_name: PhotosFoundByName,
    ) -> Task<Result<Imported, String>> {
        self.run(|reply| Request::Import {
            path,
            email_domain,
            by_name,
            reply,
        })
    }
    /// The sheet of a range; with `door`, only that door's marks count as present.
    pub fn sheet(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        door: Option<String>,
    ) -> Answer<Arc<Sheet>> {
        self.ask(|reply| Request::Sheet {
            from,
            to,
            door,
            reply,
        })
    }
    pub fn day_marks(&self, day: NaiveDate) -> Answer<DayView> {
        self.ask(|reply| Request::DayMarks { day, reply })
    }
    pub fn withdraw_class_day(&self, day: NaiveDate) -> Pending<Outcome> {
        self.ask(|reply| Request::WithdrawClassDay { day, reply })
    }
    pub fn remove_future_marks(&self, today: NaiveDate) -> Pending<Outcome> {
        self.ask(|reply| Request::RemoveFutureMarks { today, reply })
    }
    pub fn correct(
        &self,
        student_id: i64,
        day: NaiveDate,
        present: bool,
        reason: String,
        declare: bool,
    ) -> Pending<Outcome> {
        self.ask(|reply| Request::Correct {
            student_id,
            day,
            present,
            reason,
            declare,
            reply,
        })
    }
    pub fn audit_log(&self) -> Answer<Vec<AuditRow>> {
        self.ask(Request::AuditLog)
    }
    pub fn email_log(&self) -> Answer<Vec<EmailLogRow>> {
        self.ask(Request::EmailLog)
    }
    pub fn refusals(&self) -> Answer<Vec<RefusedFace>> {
        self.ask(Request::Refusals)
    }
    /// Backs up the database and the photos to `path` (a new file).
    pub fn backup(&self, path: PathBuf) -> Pending<Outcome> {
        self.ask(|reply| Request::Backup { path, reply })
    }
    /// When all data was last backed up, if ever, and whether the daily backup fails.
    pub fn last_backup(&self) -> Answer<crate::store::BackupState> {
        self.ask(Request::LastBackup)
    }
    /// Replaces the database and the photos with the backup at `path`.
    pub fn restore(&self, path: PathBuf) -> Pending<Outcome> {
        self.ask(|reply| Request::Restore { path, reply })
    }
    /// Replaces a damaged database with the daily backup `backup`, given its admin PIN.
    pub fn restore_damaged(&self, backup: PathBuf, pin: String) -> Answer<Rescue> {
        self.ask(|reply| Request::RestoreDamaged { backup, pin, reply })
    }
    pub fn export(
        &self,
        path: PathBuf,
        format: Format,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Pending<Outcome> {
        self.ask(|reply| Request::Export {
            path,
            format,
            from,
            to,
            reply,
        })
    }
    pub fn email_preview(&self, run: Emailing) -> Answer<EmailPreview> {
        self.ask(|reply| Request::EmailPreview { run, reply })
    }
    /// The cameras connected, asked of the camera driver on a thread of its own (a slow
    /// driver holds neither the window nor the admin tasks).
    pub fn find_cameras(&self) -> Pending<Vec<CameraDescription>> {
        let (reply, pending) = pair(&self.wake);
        let started = std::thread::Builder::new()
            .name("camera-list".into())
            .spawn(move || reply.send(list_cameras()));
        if let Err(e) = started {
            // The reply is dropped with the closure: the screen sees `Lost`.
            tracing::warn!("could not start listing cameras: {e}");
        }
        pending
    }
    /// Keeps the camera chosen at the door (`[kiosk] camera`, see
    /// `CameraDescription::setting`) for when Rollcall starts again.
    pub fn save_camera(&self, camera: String) -> Pending<Outcome> {
        self.ask(|reply| Request::SaveCamera { camera, reply })
    }
    /// The door's settings as saved.
    pub fn door_settings(&self) -> Answer<DoorForm> {
        self.ask(Request::DoorSettings)
    }
    /// Saves the door's settings the admin changed from the form as they `loaded` it (the
    /// others stay as saved, maybe meanwhile by another program); the door uses them at
    /// once.
    pub fn save_door_settings(&self, loaded: DoorForm, form: DoorForm) -> Answer<DoorForm> {
        self.ask(|reply| Request::SaveDoorSettings {
            loaded,
            form,
            reply,
        })
    }
    /// The saved email settings, without the password.
    pub fn email_settings(&self) -> Answer<EmailForm> {
        self.ask(Request::EmailSettings)
    }
    /// Saves in settings.toml the email settings the admin changed from the form as they
    /// `loaded` it (the others stay as saved, maybe meanwhile by another program);
    /// `password: None` keeps the saved one.
    pub fn save_email_settings(
        &self,
        loaded: EmailForm,
        form: EmailForm,
        password: Option<String>,
    ) -> Answer<EmailForm> {
        self.ask(|reply| Request::SaveEmailSettings {
            loaded,
            form,
            password,
            reply,
        })
    }
    /// Sends a test message to `to` with the settings on the form.
    pub fn test_email(
        &self,
        form: EmailForm,
        password: Option<String>,
        to: String,
    ) -> Pending<Outcome> {
        self.ask(|reply| Request::TestEmail {
            form,
            password,
            to,
            reply,
        })
    }
    pub fn email_send(&self, run: Emailing) -> Task<Result<SendSummary, String>> {
        self.run(|reply| Request::EmailSend { run, reply })
    }
}

#[cfg(test)]
mod tests {
    use super::{CalibrationStatus, EmailForm, SchoolLogin};
    use crate::settings::{EmailSettings, MailSecurity};

    #[test]
    fn email_settings_save_only_what_the_admin_changed() {
        let loaded = EmailForm::of(&EmailSettings {
            host: "smtp.school.example".into(),
            ca_file: "/data/mail-authority.pem".into(),
            ..EmailSettings::default()
        });
        assert!(loaded.changes_from(&loaded).is_empty());
        // Spaces typed around a name change nothing.
        let typed = EmailForm {
            host: " smtp.school.example ".into(),
            ..loaded.clone()
        };
        assert!(typed.changes_from(&loaded).is_empty());
        let changed = EmailForm {
            security: MailSecurity::Tls,
            port: 465,
            ca_file: String::new(),
            ..loaded.clone()
        };
        let keys: Vec<(String, String)> = changed
            .changes_from(&loaded)
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect();
        assert_eq!(
            keys,
            [
                ("port".to_string(), "465".to_string()),
                ("security".into(), "\"tls\"".into()),
                ("ca_file".into(), "\"\"".into()),
            ]
        );
    }

    fn status(students: usize, conservative: bool, photos: bool) -> CalibrationStatus {
        CalibrationStatus {
            students,
            camera_enrolled: students,
            observations: 0,
            camera_pairs: (students * students.saturating_sub(1) / 2) as f32,
            photo_pairs: (students * students.saturating_sub(1) / 2) as f32,
            conservative,
            photos_conservative: photos,
        }
    }

    #[test]
    fn the_admin_is_told_which_decisions_are_still_strict() {
        assert!(status(2, true, true)
            .describe(None)
            .starts_with("Recognition is strict for now"));
        let three = status(3, false, true).describe(None);
        assert!(three.starts_with("Recognition is calibrated"), "{three}");
        assert!(three.contains("Single photos"), "{three}");
        let ten = status(10, false, false).describe(None);
        assert!(!ten.contains("Single photos"), "{ten}");
        assert!(!ten.contains("from files only"), "{ten}");
    }

    #[test]
    fn students_the_camera_has_never_photographed_are_counted() {
        let mut some = status(10, false, false);
        some.camera_enrolled = 7;
        let said = some.describe(None);
        assert!(
            said.contains(" 3 of them have no photo from this camera")
                && said.contains("Add a camera photo"),
            "{said}"
        );
        some.camera_enrolled = 0;
        let said = some.describe(None);
        assert!(
            said.contains(" No student has a photo from this camera yet"),
            "{said}"
        );
        // At a door whose login may only add marks, photos are added at the office.
        let said = some.describe(Some(SchoolLogin::Door));
        assert!(
            said.contains("(photos are added at the office)")
                && !said.contains("Add a camera photo"),
            "{said}"
        );
        // The office's own machine advises the camera photo as a single door does.
        assert!(some
            .describe(Some(SchoolLogin::Office))
            .contains("Add a camera photo"));
        // Before the link has learnt what its login may do, nothing is advised that
        // would be refused.
        let said = some.describe(Some(SchoolLogin::NotKnownYet));
        assert!(
            said.contains("once this computer has reached the school server")
                && !said.contains("Add a camera photo"),
            "{said}"
        );
    }
}
