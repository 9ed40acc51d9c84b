//! The admin worker: a thread of its own, off the door's, so a bulk import or a slow mail
//! server never stops recognition at the door. It owns its records and, from the first
//! photo it checks, a recogniser of its own; after a change to the gallery it nudges the
//! door to reload.

use super::{
    AutoWait, CheckedPhoto, DamagedRecords, DayMark, DayView, DoorForm, EmailForm, Imported,
    LookAlike, Outcome, PhotoCheck, PinState, RefusedFace, Request, Rescue, TaskReply, Thumbnail,
};
use crate::attendance::pin::{AdminPin, PinCheck};
use crate::attendance::{
    import, import::PhotosFoundByName, leave_recorded, validate_student, EnrollError, PhotoInput,
    PreparedPhoto, Recognizer, Records, SharedGallery, MAX_PHOTOS,
};
use crate::data_dir::{DataDir, MAIL_AUTHORITY};
use crate::kiosk::latest::NewestFrame;
use crate::kiosk::vision_worker::DoorNotice;
use crate::recognition::{Origin, PhotoPeople, Source};
use crate::reports::{self, Sheet};
use crate::settings::{EmailSettings, Settings, SettingsWatch};
use crate::store::{backup_admin_pin, to_the_minute, Store, StoreError};
use crate::vision::image_io::{read_image_file, thumbnail_rgba};
use crate::vision::liveness::LivenessModel;
use crate::vision::Embeddings;
use crate::wording::count;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use opencv::core::Mat;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Side of the thumbnails sent to the UI, in pixels.
const THUMB: i32 = 120;
/// Auto-capture waits at least this long between shots.
const AUTO_INTERVAL: Duration = Duration::from_millis(700);
/// Auto-capture skips a shot this similar (dlib cosine) to an earlier one.
const AUTO_MAX_SIMILARITY: f32 = 0.985;
/// Auto-capture asks for a new look after this many good faces in a row that were nearly
/// the same picture as a shot (about two seconds).
const ASK_NEW_LOOK_AFTER: u32 = 3;
/// The model whose similarity says two shots are nearly the same picture.
const DIVERSITY_MODEL: &str = "dlib-resnet-v1";

/// Auto-capture in progress.
struct AutoCapture {
    to: Sender<CheckedPhoto>,
    /// Why the last good face in front of the camera was not taken, for the form.
    waiting: Arc<AtomicU8>,
    /// Good faces in a row that were nearly the same picture as a shot.
    repeats: u32,
    /// The shots taken and still on the form: their tickets and faces.
    shots: Vec<(u64, Embeddings)>,
    last: Option<Instant>,
}

pub(crate) struct AdminWorker {
    pub data: DataDir,
    pub settings: Settings,
    pub requests: Receiver<Request>,
    /// The camera's newest picture (for Capture and auto-capture).
    pub frame: NewestFrame,
    /// Tells the door the gallery or the photo check's strictness changed.
    pub door: Sender<DoorNotice>,
    /// The gallery, shared with the door.
    pub gallery: SharedGallery,
    pub stop: Arc<AtomicBool>,
}

/// The worker's state once running.
pub(super) struct Desk {
    data: DataDir,
    records: Result<Records, String>,
    /// The records could not be opened because the database file is damaged.
    damaged: bool,
    pub(super) recognizer: Option<Result<Recognizer, String>>,
    gallery: SharedGallery,
    pub(super) settings: Settings,
    pin: AdminPin,
    checked: HashMap<u64, PreparedPhoto>,
    next_ticket: u64,
    auto: Option<AutoCapture>,
    pub(super) door: Sender<DoorNotice>,
    /// The data folder's settings.toml, where the admin's choices are saved.
    pub(super) settings_file: PathBuf,
    /// The same file, for choices another program saves in it.
    pub(super) settings_saved: SettingsWatch,
    /// Where a photo-attack check adapted to this camera is kept.
    pub(super) site_check_dir: PathBuf,
    /// A check adapted to this camera, measured and waiting for the admin's word.
    pub(super) adapted: Option<LivenessModel>,
}

fn thumbnail(image: &Mat) -> Option<Thumbnail> {
    let (w, h, rgba) = thumbnail_rgba(image, THUMB).ok()?;
    Some(Thumbnail { size: [w, h], rgba })
}

/// A stored JPEG snapshot, ready to show.
fn snapshot_thumbnail(jpeg: Option<&[u8]>) -> Option<Thumbnail> {
    thumbnail(&crate::vision::decode_image(jpeg?).ok()?)
}

/// What the admin is told when the photos of a new student (or the new photos of a student
/// who has none left) show someone else too, if they do. `photo` is what the screen calls
/// them, numbered as it shows them ("Photo", "New photo").
fn someone_else(people: &PhotoPeople, photo: &str) -> Option<String> {
    const RETAKE: &str = "or take the photos again with only the student in front of the camera";
    match people {
        PhotoPeople::OnePerson => None,
        PhotoPeople::SomeoneElse(others) => {
            let numbers: Vec<String> = others.iter().map(|i| (i + 1).to_string()).collect();
            let (which, it) = match numbers.as_slice() {
                [one] => (format!("{photo} {one} seems"), "it"),
                [rest @ .., last] => (
                    format!("{photo}s {} and {last} seem", rest.join(", ")),
                    "them",
                ),
                [] => return None,
            };
            Some(format!(
                "{which} to show someone else than the other photos: remove {it}, {RETAKE}."
            ))
        }
        PhotoPeople::Undecided => Some(format!(
            "These photos seem to show different people: remove those that are not of this \
             student, {RETAKE}."
        )),
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl AdminWorker {
    pub fn run(self) {
        let (records, damaged) = Desk::open_records(&self.data, &self.settings);
        let mut desk = Desk {
            data: self.data.clone(),
            records,
            damaged,
            recognizer: None,
            gallery: self.gallery.clone(),
            settings: self.settings.clone(),
            pin: AdminPin::default(),
            checked: HashMap::new(),
            next_ticket: 0,
            auto: None,
            door: self.door.clone(),
            settings_file: self.data.settings(),
            settings_saved: SettingsWatch::new(self.data.settings()),
            site_check_dir: self.data.site_check(),
            adapted: None,
        };
        while !self.stop.load(Ordering::SeqCst) {
            let wait = if desk.auto.is_some() {
                Duration::from_millis(100)
            } else {
                Duration::from_millis(200)
            };
            match self.requests.recv_timeout(wait) {
                Ok(req) => desk.handle(req, &self.frame),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            desk.auto_capture(&self.frame);
        }
    }
}

impl Desk {
    /// The records, or why they cannot be used.
    pub(super) fn records(&mut self) -> Result<&mut Records, String> {
        self.records.as_mut().map_err(|e| e.clone())
    }

    /// The recogniser, loaded on first use (it needs the face models).
    pub(super) fn recognizer(&mut self) -> Result<&mut Recognizer, String> {
        if self.recognizer.is_none() {
            // Records that cannot be read now (being restored) are not a lasting failure.
            let records = self.records.as_ref().map_err(|e| e.clone())?;
            let loaded =
                Recognizer::load_sharing(&self.settings, records.store(), self.gallery.clone())
                    .map_err(|e| format!("Admin tasks need the face models: {e}"));
            self.recognizer = Some(loaded);
        }
        match self.recognizer.as_mut() {
            Some(Ok(r)) => {
                if let Ok(records) = &self.records {
                    if let Err(e) = r.refresh(records.store()) {
                        tracing::warn!("could not reload the gallery: {e}");
                    }
                }
                Ok(r)
            }
            Some(Err(e)) => Err(e.clone()),
            None => Err("The face models are not loaded.".into()),
        }
    }

    /// After a change to who is enrolled: this worker's gallery and the door's follow.
    fn gallery_changed(&mut self) {
        self.reload_gallery();
        let _ = self.door.send(DoorNotice::GalleryChanged);
    }

    fn reload_gallery(&mut self) {
        if let (Some(Ok(r)), Ok(records)) = (self.recognizer.as_mut(), &self.records) {
            if let Err(e) = r.refresh(records.store()) {
                tracing::warn!("could not reload the gallery: {e}");
            }
        }
    }

    /// Opens the records, or says why they cannot be, and whether it is because the
    /// database file is damaged.
    fn open_records(data: &DataDir, settings: &Settings) -> (Result<Records, String>, bool) {
        let opened = Records::open(data, settings);
        let damaged = matches!(opened, Err(StoreError::Corrupt));
        (opened.map_err(|e| e.to_string()), damaged)
    }

    /// Puts a backup back in place of the data folder's database and photos (see
    /// `store::restore`), and opens the records again; the door opens them again too.
    fn restore(&mut self, from: &std::path::Path) -> Outcome {
        // This desk's connection closes first: a damaged database is moved aside.
        self.records = Err("The data is being restored.".into());
        let restored = crate::store::restore(&self.data, from);
        (self.records, self.damaged) = Self::open_records(&self.data, &self.settings);
        let restored = restored.map_err(|e| e.to_string())?;
        self.reload_gallery();
        let _ = self.door.send(DoorNotice::Restored);
        Ok(restored.report(from).join("\n"))
    }

    /// What the PIN window asks for: a PIN to choose or to enter, or, when the database
    /// is damaged, the daily backup that can replace it.
    fn pin_state(&mut self) -> Result<PinState, String> {
        if self.damaged {
            let folder = self.settings.backup.folder_in(&self.data);
            let today = chrono::Local::now().date_naive();
            let Some((backup, made)) = crate::store::newest_daily_backup(&folder, today) else {
                return Err(StoreError::Corrupt.to_string());
            };
            let pin = backup_admin_pin(&backup).map_err(|e| e.to_string())?;
            return Ok(PinState::Damaged(DamagedRecords {
                backup,
                made,
                pin: pin.is_some(),
            }));
        }
        let records = self.records()?;
        match AdminPin::is_set(records.store()) {
            Ok(true) => Ok(PinState::Set),
            Ok(false) => Ok(PinState::NotSet),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Replaces a damaged database with a daily backup, once the PIN it holds is given.
    fn restore_damaged(&mut self, backup: &std::path::Path, pin: &str) -> Result<Rescue, String> {
        if !self.damaged {
            return Err("The attendance records can be read again: nothing was restored.".into());
        }
        let stored = backup_admin_pin(backup).map_err(|e| e.to_string())?;
        if stored.is_some() {
            match self
                .pin
                .check_against(stored.as_deref(), pin, Instant::now())
            {
                PinCheck::Accepted => {}
                refused => return Ok(Rescue::Refused(refused)),
            }
        }
        self.restore(backup).map(Rescue::Restored)
    }

    /// What an erasure says: `done`, and where the face data may still be that it could
    /// not reach.
    fn after_erasure(&self, done: String) -> String {
        match self.records.as_ref().ok().and_then(Records::erasure_note) {
            Some(note) => format!("{done} {note}"),
            None => done,
        }
    }

    /// Takes in what another program saved in the settings file since the desk last
    /// looked (a second kiosk's admin, a hand edit): the photo-attack choices, the door's
    /// settings and the mail server, so that the screens show them and what the admin
    /// does next (a report emailed) starts from them.
    fn follow_settings_file(&mut self) {
        let Some((before, saved)) = self.settings_saved.changed() else {
            return;
        };
        let saved = saved.clone();
        DoorForm::follow(&before.kiosk, &saved.kiosk, &mut self.settings.kiosk);
        if before.email != saved.email {
            self.settings.email = saved.email.clone();
        }
        self.follow_liveness_choices(&before, &saved);
    }

    fn handle(&mut self, req: Request, frame: &NewestFrame) {
        self.follow_settings_file();
        match req {
            Request::PinStatus(reply) => {
                let r = self.pin_state();
                reply.send(r)
            }
            Request::SetPin { pin, again, reply } => {
                let r = self.records().and_then(|r| {
                    AdminPin::set(r.store_mut(), &pin, &again).map_err(|e| e.to_string())
                });
                reply.send(r)
            }
            Request::Unlock { pin, reply } => {
                let r = match self.records.as_mut() {
                    Ok(records) => self
                        .pin
                        .check(records.store_mut(), &pin, Instant::now())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                reply.send(r)
            }
            Request::ChangePin {
                current,
                new,
                again,
                reply,
            } => {
                let r = match self.records.as_mut() {
                    Ok(records) => self
                        .pin
                        .change(records.store_mut(), &current, &new, &again, Instant::now())
                        .map(|()| "The admin PIN is changed.".to_string())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.clone()),
                };
                reply.send(r)
            }
            Request::ListStudents(reply) => reply.send(self.students()),
            Request::AttackCheck(reply) => reply.send(self.attack_check()),
            Request::SetStrictness { threshold, reply } => {
                reply.send(self.set_strictness(threshold))
            }
            Request::RecordAttack { student, reply } => self.record_attack(student, frame, reply),
            Request::AttackRecordings(reply) => reply.send(
                self.records()
                    .and_then(|r| r.store().attack_recordings().map_err(|e| e.to_string())),
            ),
            Request::ForgetAttackRecordings(reply) => reply.send(self.forget_recordings()),
            Request::AdaptCheck(reply) => reply.send(self.adapt_check()),
            Request::UseAdaptedCheck(reply) => reply.send(self.use_adapted_check()),
            Request::ReturnToBaseCheck(reply) => reply.send(self.return_to_base_check()),
            Request::SettingsNotes(reply) => {
                let text = std::fs::read_to_string(&self.settings_file).unwrap_or_default();
                reply.send(crate::settings::unknown_settings(&text))
            }
            Request::Calibration(reply) => {
                let r = self.recognizer().map(|r| {
                    let m = r.matcher();
                    let c = m.calibration();
                    super::CalibrationStatus {
                        students: m.gallery().len(),
                        camera_enrolled: m.gallery().camera_enrolled(),
                        observations: m.gallery().observations(),
                        camera_pairs: c.pairs(Source::Camera),
                        photo_pairs: c.pairs(Source::Photo),
                        conservative: c.is_conservative(Source::Camera),
                        photos_conservative: c.is_conservative(Source::Photo),
                    }
                });
                reply.send(r)
            }
            Request::CheckPhoto {
                path,
                student,
                reply,
            } => {
                let label = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                let r = match PhotoInput::read(&path) {
                    Ok(photo) => self
                        .recognizer()
                        .and_then(|r| r.check_photo(&photo).map_err(|e| e.to_string())),
                    Err(e) => Ok(Err(format!(
                        "cannot be read: {}",
                        crate::wording::file_problem(&e)
                    ))),
                };
                reply.send(self.keep(label, r, student))
            }
            Request::CapturePhoto { student, reply } => {
                let label = format!("Camera {}", chrono::Local::now().format("%H:%M:%S"));
                let r = match frame.get() {
                    Some(image) => self.recognizer().and_then(|r| {
                        r.check_image(&label, (*image).clone(), Origin::Camera)
                            .map_err(|e| e.to_string())
                    }),
                    None => Ok(Err("there is no camera picture to capture".into())),
                };
                reply.send(self.keep(label, r, student))
            }
            Request::AutoCapture(target) => {
                self.auto = target.map(|t| AutoCapture {
                    to: t.to,
                    waiting: t.waiting,
                    repeats: 0,
                    shots: Vec::new(),
                    last: None,
                })
            }
            Request::DropPhoto(ticket) => {
                self.checked.remove(&ticket);
                // A shot removed from the form no longer says who is being enrolled.
                if let Some(a) = self.auto.as_mut() {
                    a.shots.retain(|(t, _)| *t != ticket);
                    if a.shots.is_empty() {
                        AutoWait::set(&a.waiting, None);
                    }
                }
            }
            Request::Enroll {
                roll_no,
                name,
                email,
                tickets,
                reply,
            } => reply.send(self.enroll(&roll_no, &name, &email, &tickets)),
            Request::UpdateStudent {
                id,
                roll_no,
                name,
                email,
                swap: false,
                reply,
            } => {
                let r = self.records().and_then(|r| {
                    r.update_student(id, &roll_no, &name, &email, "admin")
                        .map_err(|e| e.to_string())
                });
                reply.send(r.map(|corrected| match corrected {
                    Some(old) => format!(
                        "Saved the changes to {name}: roll number {} (was {old}).",
                        roll_no.trim()
                    ),
                    None => format!("Saved the changes to {name}."),
                }))
            }
            Request::UpdateStudent {
                id,
                roll_no,
                name,
                email,
                swap: true,
                reply,
            } => {
                let r = self.records().and_then(|r| {
                    r.swap_with(id, &roll_no, &name, &email, "admin")
                        .map_err(|e| e.to_string())
                });
                reply.send(r.map(|swapped| swapped.to_string()))
            }
            Request::AddPhotos { id, tickets, reply } => reply.send(self.add_photos(id, tickets)),
            Request::StudentPhotos { id, reply } => reply.send(self.photos_of(id)),
            Request::RemovePhoto { photo_id, reply } => {
                let r = self
                    .records()
                    .and_then(|r| r.remove_photo(photo_id, "admin").map_err(|e| e.to_string()));
                if r.is_ok() {
                    self.gallery_changed();
                }
                reply.send(r.map(|_| self.after_erasure("Removed the photo.".into())))
            }
            Request::EraseFaceData { id, reply } => {
                let r = self
                    .records()
                    .and_then(|r| r.erase_face_data(id, "admin").map_err(|e| e.to_string()));
                if r.is_ok() {
                    self.gallery_changed();
                }
                reply.send(r.map(|erased| {
                    self.after_erasure(format!("Erased {erased}; the attendance history is kept."))
                }))
            }
            Request::DeleteStudent { id, reply } => {
                let r = self
                    .records()
                    .and_then(|r| r.delete_student(id, "admin").map_err(|e| e.to_string()));
                if r.is_ok() {
                    self.gallery_changed();
                }
                reply.send(r.map(|kept| {
                    let said = match kept {
                        Some(kept) => format!("Deleted the student. {kept}"),
                        None => "Deleted the student.".into(),
                    };
                    self.after_erasure(said)
                }))
            }
            Request::StudentLeft {
                id,
                last_day,
                reply,
            } => {
                let today = chrono::Local::now().date_naive();
                let r = self.records().and_then(|r| {
                    r.student_left(id, last_day, today, "admin")
                        .map_err(|e| e.to_string())
                });
                if r.is_ok() {
                    self.gallery_changed();
                }
                reply.send(r.map(|erased| {
                    let done = format!("Recorded: {}", leave_recorded(last_day, today, erased));
                    match last_day > today {
                        true => done,
                        false => self.after_erasure(done),
                    }
                }))
            }
            Request::StudentBack {
                id,
                first_day_back,
                reply,
            } => {
                let today = chrono::Local::now().date_naive();
                let r = self.records().and_then(|r| {
                    r.student_back(id, first_day_back, today, "admin")
                        .map_err(|e| e.to_string())
                });
                reply.send(r.map(|(back, known)| match known {
                    true => format!("Recorded: the student is {back}."),
                    false => format!(
                        "Recorded: the student is {back}. Add photos so that the kiosk \
                         recognises them."
                    ),
                }))
            }
            Request::Import {
                path,
                email_domain,
                by_name,
                reply,
            } => self.import(&path, email_domain.as_deref(), by_name, reply),
            Request::Sheet {
                from,
                to,
                door,
                reply,
            } => {
                let r = self.records().and_then(|r| {
                    Sheet::build_for_door(r.store(), from, to, door.as_deref())
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                });
                reply.send(r)
            }
            Request::DayMarks { day, reply } => reply.send(self.day_marks(day)),
            Request::WithdrawClassDay { day, reply } => reply.send(self.withdraw_class_day(day)),
            Request::RemoveFutureMarks { today, reply } => {
                reply.send(self.remove_future_marks(today))
            }
            Request::Correct {
                student_id,
                day,
                present,
                reason,
                declare,
                reply,
            } => reply.send(self.correct(student_id, day, present, &reason, declare)),
            Request::AuditLog(reply) => {
                let r = self
                    .records()
                    .and_then(|r| r.store().audit_log(500).map_err(|e| e.to_string()));
                reply.send(r)
            }
            Request::EmailLog(reply) => {
                let r = self
                    .records()
                    .and_then(|r| r.store().email_log(500).map_err(|e| e.to_string()));
                reply.send(r)
            }
            Request::Refusals(reply) => reply.send(self.refusals()),
            Request::Backup { path, reply } => {
                let r = self
                    .records()
                    .and_then(|r| r.backup_to(&path, "admin").map_err(|e| e.to_string()));
                reply.send(r)
            }
            Request::LastBackup(reply) => reply.send(
                self.records()
                    .and_then(|r| r.store().backup_state().map_err(|e| e.to_string())),
            ),
            Request::Restore { path, reply } => {
                let r = self.restore(&path);
                reply.send(r)
            }
            Request::RestoreDamaged { backup, pin, reply } => {
                let r = self.restore_damaged(&backup, &pin);
                reply.send(r)
            }
            Request::Export {
                path,
                format,
                from,
                to,
                reply,
            } => {
                let r = self.records().and_then(|r| {
                    reports::export(r.store(), from, to, format, &path).map_err(|e| e.to_string())
                });
                reply.send(r.map(|sheet| {
                    format!(
                        "Exported {} × {} to {}.",
                        count(sheet.rows.len(), "student"),
                        count(sheet.days.len(), "class day"),
                        path.display()
                    )
                }))
            }
            Request::EmailPreview { run, reply } => {
                let settings = self.settings.email.clone();
                let r = self.records().and_then(|r| {
                    reports::email_preview(r.store(), &settings, &run).map_err(|e| e.to_string())
                });
                reply.send(r)
            }
            Request::EmailSend { run, reply } => self.email(run, reply),
            Request::EmailSettings(reply) => reply.send(Ok(EmailForm::of(&self.settings.email))),
            Request::SaveEmailSettings {
                loaded,
                form,
                password,
                reply,
            } => reply.send(self.save_email_settings(&loaded, &form, password)),
            Request::TestEmail {
                form,
                password,
                to,
                reply,
            } => self.test_email(form.apply(&self.settings.email, password), to, reply),
            Request::SaveCamera { camera, reply } => reply.send(self.save_camera(camera)),
            Request::DoorSettings(reply) => reply.send(Ok(self.door_settings())),
            Request::SaveDoorSettings {
                loaded,
                form,
                reply,
            } => reply.send(self.save_door_settings(&loaded, form)),
        }
    }

    fn save_email_settings(
        &mut self,
        loaded: &EmailForm,
        form: &EmailForm,
        password: Option<String>,
    ) -> Result<EmailForm, String> {
        let mut changes = form.changes_from(loaded);
        for (key, value) in &mut changes {
            // A certificate authority newly chosen is checked and kept in the data folder,
            // named from the settings' own folder (see `Settings::load`).
            if key == "ca_file" && value.as_str().is_some_and(|f| !f.is_empty()) {
                let chosen = value.as_str().unwrap_or_default();
                let path = std::path::absolute(chosen).unwrap_or_else(|_| chosen.into());
                reports::email::authority_certificates(&path).map_err(|e| e.to_string())?;
                self.keep_mail_authority(&path)?;
                *value = toml::Value::String(MAIL_AUTHORITY.into());
            }
        }
        changes.extend(password.map(|p| ("password".to_string(), toml::Value::String(p))));
        if changes.is_empty() {
            return Ok(EmailForm::of(&self.settings.email));
        }
        let saved = Settings::set_many_in_file(&self.settings_file, "email", changes)
            .map_err(|e| format!("The email settings could not be saved: {e}"))?;
        self.settings_saved.known();
        self.settings.email = saved.email;
        Ok(EmailForm::of(&self.settings.email))
    }

    /// The school's certificate authority, checked, copied into the data folder unless it
    /// is that copy already: the file chosen may be on a USB stick or in Downloads, gone by
    /// the next report, and the copy travels with the folder.
    fn keep_mail_authority(&self, chosen: &Path) -> Result<(), String> {
        let kept = self.data.mail_authority();
        if chosen == kept {
            return Ok(());
        }
        let copied = std::fs::read(chosen).and_then(|bytes| {
            let part = kept.with_extension("pem.part");
            std::fs::write(&part, bytes)?;
            std::fs::rename(&part, &kept)
        });
        copied.map_err(|e| {
            format!(
                "The CA certificate could not be kept in Rollcall's folder ({}): {}. Nothing \
                 was saved.",
                kept.display(),
                crate::wording::file_problem(&e)
            )
        })
    }

    /// Sends a test message from a helper thread: a mail server can take its time.
    fn test_email(&self, settings: EmailSettings, to: String, reply: super::Reply<Outcome>) {
        let room = self.settings.kiosk.room_name.clone();
        let spawned = std::thread::Builder::new()
            .name("rollcall-test-email".into())
            .spawn(move || {
                reply.send(
                    reports::email::send_test(&settings, &to, &room)
                        .map(|()| format!("A test email was sent to {}.", to.trim()))
                        .map_err(|e| e.to_string()),
                )
            });
        if let Err(e) = spawned {
            tracing::error!("could not start sending a test email: {e}");
        }
    }

    fn students(&mut self) -> Result<Vec<crate::store::Student>, String> {
        self.records()
            .and_then(|r| r.store().students().map_err(|e| e.to_string()))
    }

    /// Keeps a checked photo under a new ticket and describes it for the UI.
    fn keep(
        &mut self,
        label: String,
        checked: Result<Result<PreparedPhoto, String>, String>,
        student: Option<i64>,
    ) -> PhotoCheck {
        let prepared = match checked {
            Ok(Ok(p)) => p,
            Ok(Err(reason)) | Err(reason) => return Err((label, reason)),
        };
        let look_alike = self.look_alike(&prepared, student);
        let unlike_student = student.is_some_and(|id| !self.looks_like_student(id, &prepared));
        let Some(thumbnail) = thumbnail(&prepared.image) else {
            return Err((label, "the photo could not be shown".into()));
        };
        self.next_ticket += 1;
        let ticket = self.next_ticket;
        self.checked.insert(ticket, prepared);
        Ok(CheckedPhoto {
            ticket,
            label,
            thumbnail,
            look_alike,
            unlike_student,
        })
    }

    /// Whether a photo for an enrolled student looks like their photos so far (yes when
    /// it cannot be told).
    fn looks_like_student(&self, student: i64, photo: &PreparedPhoto) -> bool {
        let (Some(Ok(recognizer)), Ok(records)) = (&self.recognizer, &self.records) else {
            return true;
        };
        recognizer
            .looks_like_student(records.store(), student, photo)
            .unwrap_or(true)
    }

    fn look_alike(&mut self, photo: &PreparedPhoto, except: Option<i64>) -> Option<LookAlike> {
        self.recognizer().ok()?;
        let (Some(Ok(recognizer)), Ok(records)) = (&self.recognizer, &self.records) else {
            return None;
        };
        // The closest one: the screen names one student per photo.
        LookAlike::of(recognizer, records.store(), photo, except)
            .into_iter()
            .next()
    }

    fn take(&mut self, tickets: &[u64]) -> Vec<PreparedPhoto> {
        tickets
            .iter()
            .filter_map(|t| self.checked.remove(t))
            .collect()
    }

    /// Keeps photos after a failed save so the admin can fix the form and save again.
    fn put_back(&mut self, tickets: Vec<u64>, photos: Vec<PreparedPhoto>) {
        for (t, p) in tickets.into_iter().zip(photos) {
            self.checked.insert(t, p);
        }
    }

    fn enroll(&mut self, roll_no: &str, name: &str, email: &str, tickets: &[u64]) -> Outcome {
        let student = validate_student(roll_no, name, email)
            .map_err(|why| format!("Please check the form: {why}."))?;
        let photos = self.take(tickets);
        // A classmate captured among the student's photos would be marked as them.
        if let Some(Ok(recognizer)) = &self.recognizer {
            if let Some(problem) = someone_else(&recognizer.photo_people(&photos), "Photo") {
                self.put_back(tickets.to_vec(), photos);
                return Err(problem);
            }
        }
        let result = match (self.records.as_mut(), self.recognizer.as_mut()) {
            (Err(e), _) => Err(EnrollError::InvalidData(e.clone())),
            (Ok(r), rec) => match r.store().student_exists(&student.roll_no, &student.email) {
                Err(e) => Err(e.into()),
                Ok(true) => Err(EnrollError::UserExists),
                // The gallery follows at once.
                Ok(false) => match rec {
                    Some(Ok(rec)) => rec.enrol(r, &student, &photos, "admin"),
                    _ => r.enrol(&student, &photos, "admin"),
                },
            },
        };
        match result {
            Ok(_) => {
                let _ = self.door.send(DoorNotice::GalleryChanged);
                Ok(format!(
                    "Enrolled {} ({}) with {}.",
                    student.name,
                    student.roll_no,
                    count(photos.len(), "photo")
                ))
            }
            Err(e) => {
                self.put_back(tickets.to_vec(), photos);
                Err(match e {
                    EnrollError::UserExists => {
                        "A student with this roll number or email already exists.".into()
                    }
                    other => other.to_string(),
                })
            }
        }
    }

    fn add_photos(&mut self, id: i64, tickets: Vec<u64>) -> Outcome {
        let photos = self.take(&tickets);
        let n = photos.len();
        // A student without photos (their face data erased) starts again: the new photos
        // must show one person, as at enrolment. Otherwise each photo was held against the
        // student's when it was checked, and the admin was warned.
        let problem = match (&self.recognizer, &self.records) {
            (Some(Ok(recognizer)), Ok(records))
                if records.store().faces_of(id).is_ok_and(|f| f.is_empty()) =>
            {
                someone_else(&recognizer.photo_people(&photos), "New photo")
            }
            _ => None,
        };
        let r = match problem {
            Some(problem) => Err(problem),
            None => self.records().and_then(|r| {
                r.add_photos(id, &photos, "admin")
                    .map_err(|e| e.to_string())
            }),
        };
        if r.is_ok() {
            self.gallery_changed();
        } else {
            self.put_back(tickets, photos);
        }
        r.map(|_| format!("Added {}.", count(n, "photo")))
    }

    fn photos_of(&mut self, id: i64) -> Result<Vec<(i64, Thumbnail)>, String> {
        let records = self.records()?;
        let rows = records.store().photos_of(id).map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .filter_map(|p| {
                let image = read_image_file(&records.photo_path(&p.file_name)).ok()?;
                Some((p.id, thumbnail(&image)?))
            })
            .collect())
    }

    fn import(
        &mut self,
        path: &std::path::Path,
        email_domain: Option<&str>,
        by_name: PhotosFoundByName,
        reply: TaskReply<Result<Imported, String>>,
    ) {
        let mut entries = match import::read_entries(path, email_domain) {
            Ok(e) => e,
            Err(e) => return reply.send(Err(e.to_string())),
        };
        if by_name == PhotosFoundByName::LeaveOut {
            import::leave_out(&mut entries);
        }
        // The list is read again: the photos it finds now must be those the admin was shown.
        let found_elsewhere = import::found_elsewhere(&entries);
        let shown = matches!(&by_name, PhotosFoundByName::Use(shown) if *shown == found_elsewhere);
        if !found_elsewhere.is_empty() && !shown {
            return reply.send(Ok(Imported::Ask(found_elsewhere)));
        }
        if let Err(e) = self.recognizer() {
            return reply.send(Err(e));
        }
        let (Some(Ok(recognizer)), Ok(records)) = (self.recognizer.as_mut(), self.records.as_mut())
        else {
            return reply.send(Err("The records cannot be opened.".into()));
        };
        let door = self.door.clone();
        let summary = import::import(recognizer, records, &entries, "admin", |done, total| {
            reply.progress(done, total);
            // The door greets each student as soon as they are in.
            let _ = door.send(DoorNotice::GalleryChanged);
        });
        reply.send(Ok(Imported::Done(summary)))
    }

    fn day_marks(&mut self, day: chrono::NaiveDate) -> Result<DayView, String> {
        let store = self.records()?.store();
        let declared = store
            .class_day_declaration(day)
            .map_err(|e| e.to_string())?
            .map(|(at, actor)| format!("{} by {actor}", to_the_minute(&at)));
        let marks = store.marks(day, day).map_err(|e| e.to_string())?;
        // As Review counts it: a class day, and the student enrolled by then.
        let sheet = crate::reports::Sheet::build(store, day, day).map_err(|e| e.to_string())?;
        let not_marked = (!sheet.days.is_empty()).then(|| {
            sheet
                .rows
                .iter()
                .filter(|r| r.counted[0] && !r.present[0])
                .map(|r| {
                    // Not present, decided by hand: an absence recorded by hand.
                    let by_hand = if r.by_hand[0] { ", absent by hand" } else { "" };
                    format!("{} ({}{by_hand})", r.name, r.roll_no)
                })
                .collect()
        });
        let marks = marks
            .into_iter()
            .map(|m| DayMark {
                time: if m.source == "admin" {
                    "by hand".into()
                } else {
                    crate::store::clock_time(&m.marked_at)
                },
                snapshot: snapshot_thumbnail(m.snapshot.as_deref()),
                roll_no: m.roll_no,
                name: m.name,
                score: m.score,
                source: m.source,
                door: m.door,
            })
            .collect();
        Ok(DayView {
            marks,
            declared,
            not_marked,
        })
    }

    fn withdraw_class_day(&mut self, day: chrono::NaiveDate) -> Outcome {
        let store = self.records()?.store_mut();
        if !store
            .withdraw_class_day(day, "admin")
            .map_err(|e| e.to_string())?
        {
            return Ok(format!(
                "{day} was not declared a class day; nothing changed."
            ));
        }
        let still = store.is_class_day(day).map_err(|e| e.to_string())?;
        Ok(if still {
            format!(
                "The declaration of {day} is withdrawn. It stays a class day: the kiosk \
                 marked students that day."
            )
        } else {
            format!(
                "{day} is no longer a class day: it counts for nobody, and marks made by \
                 hand that day no longer count."
            )
        })
    }

    fn remove_future_marks(&mut self, today: chrono::NaiveDate) -> Outcome {
        let removed = self
            .records()?
            .store_mut()
            .remove_future_marks(today, "admin")
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "{} made while the clock was ahead removed (today is {today}). The kiosk takes \
             attendance again.",
            count(removed, "mark")
        ))
    }

    fn correct(
        &mut self,
        student_id: i64,
        day: chrono::NaiveDate,
        present: bool,
        reason: &str,
        declare: bool,
    ) -> Outcome {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err("Please give a reason for the correction.".into());
        }
        let store = self.records()?.store_mut();
        let class_day = store.is_class_day(day).map_err(|e| e.to_string())?;
        let declared = if declare && !class_day {
            store
                .declare_class_day(day, "admin")
                .map_err(|e| e.to_string())?
        } else {
            false
        };
        if present && !class_day && !declared {
            return Err(format!(
                "{day} is not a class day: nobody was marked by the kiosk and it was not \
                 declared one, so a mark would not count. Tick \"Declare it a class day\" \
                 if class took place (it then counts for every student)."
            ));
        }
        let done = store
            .correct(
                student_id,
                day,
                present,
                reason,
                "admin",
                chrono::Local::now(),
            )
            .map_err(|e| e.to_string())?;
        let state = if present { "present" } else { "absent" };
        let also = if declared {
            format!(" {day} is now a class day for every student.")
        } else if done.kept_class_day {
            format!(
                " {day} stays a class day, as the kiosk marked someone that day, so the \
                 absence counts; if there was no class, withdraw the day in Day view."
            )
        } else {
            String::new()
        };
        let kiosk = if !present && done.changed && day >= chrono::Local::now().date_naive() {
            " The kiosk will not mark them that day: if they come, it asks them to see \
             their teacher (then correct to present here)."
        } else {
            ""
        };
        Ok(if done.changed {
            format!("Marked {state} on {day}.{kiosk}{also}")
        } else {
            format!("Nothing to change: already {state} on {day}.{also}")
        })
    }

    fn refusals(&mut self) -> Result<Vec<RefusedFace>, String> {
        let rows = self
            .records()?
            .store()
            .refusals(200)
            .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .map(|r| RefusedFace {
                when: to_the_minute(&r.at),
                resembled: r.student,
                score: r.score,
                snapshot: snapshot_thumbnail(r.snapshot.as_deref()),
            })
            .collect())
    }

    /// Sends the reports from a helper thread with its own connection: the network can be
    /// slow, and the admin may keep working meanwhile.
    fn email(
        &mut self,
        run: reports::Emailing,
        reply: TaskReply<Result<crate::reports::SendSummary, String>>,
    ) {
        let settings = self.settings.email.clone();
        let db = match self.records() {
            Ok(r) => r.store().path().to_path_buf(),
            Err(e) => return reply.send(Err(e)),
        };
        let spawned = std::thread::Builder::new()
            .name("rollcall-email".into())
            .spawn(move || {
                let result = Store::open(&db)
                    .map_err(|e| e.to_string())
                    .and_then(|mut store| {
                        reports::email_students(&mut store, &settings, &run, |d, t| {
                            reply.progress(d, t)
                        })
                        .map_err(|e| e.to_string())
                    });
                reply.send(result)
            });
        if let Err(e) = spawned {
            tracing::error!("could not start sending email: {e}");
        }
    }

    /// Auto-capture: take a shot when the face is good, of the person of the shots so far,
    /// and different enough from them.
    fn auto_capture(&mut self, frame: &NewestFrame) {
        let due = match &self.auto {
            Some(a) => {
                a.shots.len() < MAX_PHOTOS && a.last.is_none_or(|t| t.elapsed() >= AUTO_INTERVAL)
            }
            None => false,
        };
        if !due {
            return;
        }
        if let Some(a) = self.auto.as_mut() {
            a.last = Some(Instant::now());
        }
        let Some(image) = frame.get() else {
            return;
        };
        let label = format!("Auto {}", chrono::Local::now().format("%H:%M:%S"));
        // Only good shots are kept; a refused frame is simply skipped.
        let Ok(Ok(prepared)) = self.recognizer().and_then(|r| {
            r.check_image(&label, (*image).clone(), Origin::Camera)
                .map_err(|e| e.to_string())
        }) else {
            return;
        };
        let Some(recognizer) = self.recognizer.as_ref().and_then(|r| r.as_ref().ok()) else {
            return;
        };
        let shots = self.auto.as_ref().map_or(&[][..], |a| &a.shots[..]);
        // Nearly the same picture as a shot taken adds nothing.
        let repeat = |(_, s): &(u64, Embeddings)| match (
            s.get(DIVERSITY_MODEL),
            prepared.embeddings.get(DIVERSITY_MODEL),
        ) {
            (Some(a), Some(b)) => dot(a, b) > AUTO_MAX_SIMILARITY,
            _ => false,
        };
        // Someone else who steps in front of the camera is not taken for the student
        // whose shots are on the form.
        let someone_else = !shots.is_empty()
            && !shots
                .iter()
                .any(|(_, s)| recognizer.same_sitting(s, &prepared.embeddings));
        let repeated = !someone_else && shots.iter().any(repeat);
        if let Some(a) = self.auto.as_mut() {
            a.repeats = if repeated { a.repeats + 1 } else { 0 };
            // A new look is asked for only once the student has kept still a while (a
            // student turning slowly gives a repeat or two between shots).
            let wait = match (someone_else, a.repeats >= ASK_NEW_LOOK_AFTER) {
                (true, _) => Some(AutoWait::SomeoneElse),
                (false, true) => Some(AutoWait::SamePicture),
                (false, false) => None,
            };
            AutoWait::set(&a.waiting, wait);
        }
        if someone_else || repeated {
            return;
        }
        let face = prepared.embeddings.clone();
        if let Ok(photo) = self.keep(label, Ok(Ok(prepared)), None) {
            if let Some(a) = self.auto.as_mut() {
                a.shots.push((photo.ticket, face));
                if a.to.send(photo).is_err() {
                    self.auto = None;
                }
            }
        }
    }
}
