//! Admin work done on the vision thread, between frames: PIN checks, photo checks (from
//! files or the camera), enrolment and student management. The UI sends requests and gets
//! events back; it never touches the models or the database itself.

use crate::attendance::admin::{LookAlike, PreparedPhoto};
use crate::attendance::email::{self, Report, SendSummary};
use crate::attendance::export;
use crate::attendance::import::{read_entries, ImportSummary};
use crate::attendance::pin::{AdminPin, PinCheck};
use crate::attendance::report::Sheet;
use crate::attendance::session::KioskSession;
use crate::attendance::{validate_student, EnrollError, PhotoInput, MAX_PHOTOS};
use crate::store::{AuditRow, Store, Student};
use crate::vision::image_io::{encode_jpeg, read_image_file};
use chrono::NaiveDate;
use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Side of the thumbnails sent to the UI, in pixels.
const THUMB: i32 = 120;
/// Auto-capture waits at least this long between shots.
const AUTO_INTERVAL: Duration = Duration::from_millis(700);
/// Auto-capture skips a shot this similar (dlib cosine) to an earlier one.
const AUTO_MAX_SIMILARITY: f32 = 0.985;

/// A small RGBA picture for the UI.
#[derive(Clone, Debug, PartialEq)]
pub struct Thumbnail {
    pub size: [usize; 2],
    pub rgba: Vec<u8>,
}

/// A photo that passed the checks, as the UI sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedPhoto {
    pub thumbnail: Thumbnail,
    /// An enrolled student these photos would be recognised as.
    pub look_alike: Option<LookAlike>,
}

/// What the admin screens ask for.
#[derive(Clone, Debug)]
pub enum AdminRequest {
    PinStatus,
    SetPin {
        pin: String,
        again: String,
    },
    Unlock {
        pin: String,
    },
    ListStudents,
    /// Check a photo from a file; `student` is the one it will be added to, if any.
    CheckPhoto {
        label: String,
        bytes: Vec<u8>,
        student: Option<i64>,
    },
    /// Check the camera's current frame.
    CapturePhoto {
        student: Option<i64>,
    },
    AutoCapture(bool),
    /// Forget a checked photo (removed from the dialog).
    DropPhoto {
        ticket: u64,
    },
    Enroll {
        roll_no: String,
        name: String,
        email: String,
        tickets: Vec<u64>,
    },
    UpdateStudent {
        id: i64,
        name: String,
        email: String,
    },
    AddPhotos {
        id: i64,
        tickets: Vec<u64>,
    },
    StudentPhotos {
        id: i64,
    },
    RemovePhoto {
        id: i64,
        photo_id: i64,
    },
    EraseFaceData {
        id: i64,
    },
    DeleteStudent {
        id: i64,
    },
    Import {
        path: PathBuf,
        email_domain: Option<String>,
    },
    /// The attendance sheet for a range.
    Sheet {
        from: NaiveDate,
        to: NaiveDate,
    },
    /// Every mark of one day, with snapshots.
    DayMarks {
        day: NaiveDate,
    },
    /// Mark present or absent by hand.
    Correct {
        student_id: i64,
        day: NaiveDate,
        present: bool,
        reason: String,
    },
    AuditLog,
    /// Faces the photo-attack check refused, newest first.
    Refusals,
    Export {
        path: PathBuf,
        format: export::Format,
        from: NaiveDate,
        to: NaiveDate,
    },
    /// Who would get which report.
    EmailPreview {
        from: NaiveDate,
        to: NaiveDate,
        under: Option<f64>,
    },
    /// Send the reports (on a helper thread; the kiosk keeps running).
    EmailSend {
        from: NaiveDate,
        to: NaiveDate,
        under: Option<f64>,
    },
}

/// One mark in the day view.
#[derive(Clone, Debug, PartialEq)]
pub struct DayMark {
    pub roll_no: String,
    pub name: String,
    pub time: String,
    pub score: Option<f64>,
    pub source: String,
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

/// Answers for the admin screens.
#[derive(Clone, Debug)]
pub enum AdminEvent {
    PinStatus {
        set: bool,
    },
    PinSet(Result<(), String>),
    Unlock(PinCheck),
    Students(Vec<Student>),
    PhotoChecked {
        ticket: u64,
        label: String,
        outcome: Result<CheckedPhoto, String>,
    },
    /// A change was made; the sentence says what.
    Done(String),
    /// A change was refused or failed; the sentence says why.
    Failed(String),
    StudentPhotos {
        id: i64,
        photos: Vec<(i64, Thumbnail)>,
    },
    ImportProgress {
        done: usize,
        total: usize,
    },
    ImportDone(ImportSummary),
    Sheet(std::sync::Arc<Sheet>),
    DayMarks {
        day: NaiveDate,
        marks: Vec<DayMark>,
    },
    AuditLog(Vec<AuditRow>),
    Refusals(Vec<RefusedFace>),
    EmailPreview(Vec<Report>),
    EmailProgress {
        done: usize,
        total: usize,
    },
    EmailDone(SendSummary),
}

/// A stored JPEG snapshot, ready to show.
fn snapshot_thumbnail(jpeg: Option<&[u8]>) -> Option<Thumbnail> {
    let img = crate::vision::decode_image(jpeg?).ok()?;
    thumbnail_of(&img).ok()
}

fn thumbnail_of(bgr: &Mat) -> opencv::Result<Thumbnail> {
    let scale = THUMB as f64 / bgr.cols().max(bgr.rows()).max(1) as f64;
    let size = Size::new(
        ((bgr.cols() as f64 * scale).round() as i32).max(1),
        ((bgr.rows() as f64 * scale).round() as i32).max(1),
    );
    let mut small = Mat::default();
    imgproc::resize(bgr, &mut small, size, 0.0, 0.0, imgproc::INTER_AREA)?;
    let mut rgba = Mat::default();
    imgproc::cvt_color_def(&small, &mut rgba, imgproc::COLOR_BGR2RGBA)?;
    Ok(Thumbnail {
        size: [size.width as usize, size.height as usize],
        rgba: rgba.data_bytes()?.to_vec(),
    })
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Sends admin events to the UI (and wakes it); can be handed to helper threads.
#[derive(Clone)]
pub struct Emitter {
    pub events: crossbeam_channel::Sender<super::KioskEvent>,
    pub wake: super::Waker,
}

impl Emitter {
    pub fn send(&self, e: AdminEvent) {
        let _ = self.events.send(super::KioskEvent::Admin(e));
        (self.wake)();
    }
}

/// The admin side of the vision thread.
#[derive(Default)]
pub struct AdminDesk {
    pin: AdminPin,
    checked: HashMap<u64, PreparedPhoto>,
    next_ticket: u64,
    auto_capture: bool,
    auto_shots: Vec<Vec<f32>>,
    last_auto: Option<Instant>,
}

impl AdminDesk {
    /// Handles one request; `frame` is the camera's latest frame.
    pub fn handle(
        &mut self,
        req: AdminRequest,
        session: &mut KioskSession,
        frame: Option<&Mat>,
        emit: &Emitter,
    ) {
        let service = session.service_mut();
        match req {
            AdminRequest::PinStatus => match AdminPin::is_set(service.store()) {
                Ok(set) => emit.send(AdminEvent::PinStatus { set }),
                Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
            },
            AdminRequest::SetPin { pin, again } => {
                let r = AdminPin::set(service.store_mut(), &pin, &again).map_err(|e| e.to_string());
                emit.send(AdminEvent::PinSet(r));
            }
            AdminRequest::Unlock { pin } => {
                match self.pin.check(service.store_mut(), &pin, Instant::now()) {
                    Ok(c) => emit.send(AdminEvent::Unlock(c)),
                    Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
                }
            }
            AdminRequest::ListStudents => self.list(session, emit),
            AdminRequest::CheckPhoto {
                label,
                bytes,
                student,
            } => self.check(session, PhotoInput { label, bytes }, student, emit),
            AdminRequest::CapturePhoto { student } => match frame.map(encode_jpeg) {
                Some(Ok(bytes)) => {
                    let label = format!("Camera {}", chrono::Local::now().format("%H:%M:%S"));
                    self.check(session, PhotoInput { label, bytes }, student, emit)
                }
                _ => emit.send(AdminEvent::Failed(
                    "There is no camera picture to capture.".into(),
                )),
            },
            AdminRequest::AutoCapture(on) => {
                self.auto_capture = on;
                self.auto_shots.clear();
                self.last_auto = None;
            }
            AdminRequest::DropPhoto { ticket } => {
                self.checked.remove(&ticket);
            }
            AdminRequest::Enroll {
                roll_no,
                name,
                email,
                tickets,
            } => {
                let photos: Vec<PreparedPhoto> = tickets
                    .iter()
                    .filter_map(|t| self.checked.remove(t))
                    .collect();
                let result = validate_student(&roll_no, &name, &email)
                    .map_err(EnrollError::InvalidData)
                    .and_then(|student| {
                        if service
                            .store()
                            .student_exists(&student.roll_no, &student.email)?
                        {
                            return Err(EnrollError::UserExists);
                        }
                        service
                            .enroll_prepared(&student, &photos, "admin")
                            .map(|_| student)
                    });
                match result {
                    Ok(s) => emit.send(AdminEvent::Done(format!(
                        "Enrolled {} ({}) with {} photo(s).",
                        s.name,
                        s.roll_no,
                        photos.len()
                    ))),
                    Err(e) => {
                        // Keep the photos so the admin can fix the form and save again.
                        for (t, p) in tickets.into_iter().zip(photos) {
                            self.checked.insert(t, p);
                        }
                        emit.send(AdminEvent::Failed(match e {
                            EnrollError::InvalidData(why) => {
                                format!("Please check the form: {why}.")
                            }
                            EnrollError::UserExists => {
                                "A student with this roll number or email already exists.".into()
                            }
                            other => other.to_string(),
                        }))
                    }
                }
                self.list(session, emit);
            }
            AdminRequest::UpdateStudent { id, name, email } => {
                let r = service.update_student(id, &name, &email, "admin");
                self.report(
                    r.map(|_| format!("Saved the changes to {name}.")),
                    session,
                    emit,
                );
            }
            AdminRequest::AddPhotos { id, tickets } => {
                let photos: Vec<PreparedPhoto> = tickets
                    .iter()
                    .filter_map(|t| self.checked.remove(t))
                    .collect();
                let r = service.add_photos(id, &photos, "admin");
                self.report(
                    r.map(|_| format!("Added {} photo(s).", photos.len())),
                    session,
                    emit,
                );
                self.photos(session, id, emit);
            }
            AdminRequest::StudentPhotos { id } => self.photos(session, id, emit),
            AdminRequest::RemovePhoto { id, photo_id } => {
                let r = service.remove_photo(photo_id, "admin");
                self.report(r.map(|_| "Removed the photo.".to_string()), session, emit);
                self.photos(session, id, emit);
            }
            AdminRequest::EraseFaceData { id } => {
                let r = service.erase_face_data(id, "admin");
                self.report(
                    r.map(|_| "Erased the face data; the attendance history is kept.".to_string()),
                    session,
                    emit,
                );
                self.photos(session, id, emit);
            }
            AdminRequest::DeleteStudent { id } => {
                let r = service.delete_student(id, "admin");
                self.report(r.map(|_| "Deleted the student.".to_string()), session, emit);
            }
            AdminRequest::Sheet { from, to } => match Sheet::build(service.store(), from, to) {
                Ok(sheet) => emit.send(AdminEvent::Sheet(std::sync::Arc::new(sheet))),
                Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
            },
            AdminRequest::DayMarks { day } => match service.store().marks(day, day) {
                Ok(marks) => emit.send(AdminEvent::DayMarks {
                    day,
                    marks: marks
                        .into_iter()
                        .map(|m| DayMark {
                            time: m.marked_at.get(11..16).unwrap_or(&m.marked_at).to_string(),
                            snapshot: snapshot_thumbnail(m.snapshot.as_deref()),
                            roll_no: m.roll_no,
                            name: m.name,
                            score: m.score,
                            source: m.source,
                        })
                        .collect(),
                }),
                Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
            },
            AdminRequest::Correct {
                student_id,
                day,
                present,
                reason,
            } => {
                let reason = reason.trim().to_string();
                if reason.is_empty() {
                    emit.send(AdminEvent::Failed(
                        "Please give a reason for the correction.".into(),
                    ));
                    return;
                }
                match service
                    .store_mut()
                    .correct(student_id, day, present, &reason, "admin")
                {
                    Ok(true) => emit.send(AdminEvent::Done(format!(
                        "Marked {} on {day}.",
                        if present { "present" } else { "absent" }
                    ))),
                    Ok(false) => emit.send(AdminEvent::Done(format!(
                        "Nothing to change: already {} on {day}.",
                        if present { "present" } else { "absent" }
                    ))),
                    Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
                }
            }
            AdminRequest::AuditLog => match service.store().audit_log(500) {
                Ok(rows) => emit.send(AdminEvent::AuditLog(rows)),
                Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
            },
            AdminRequest::Refusals => match service.store().refusals(200) {
                Ok(rows) => emit.send(AdminEvent::Refusals(
                    rows.into_iter()
                        .map(|r| RefusedFace {
                            when: r
                                .at
                                .replace('T', " ")
                                .get(..16)
                                .unwrap_or(&r.at)
                                .to_string(),
                            resembled: r.student,
                            score: r.score,
                            snapshot: snapshot_thumbnail(r.snapshot.as_deref()),
                        })
                        .collect(),
                )),
                Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
            },
            AdminRequest::Export {
                path,
                format,
                from,
                to,
            } => match export::export(service.store(), from, to, format, &path) {
                Ok(sheet) => emit.send(AdminEvent::Done(format!(
                    "Exported {} student(s) × {} class day(s) to {}.",
                    sheet.rows.len(),
                    sheet.days.len(),
                    path.display()
                ))),
                Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
            },
            AdminRequest::EmailPreview { from, to, under } => {
                match Sheet::build(service.store(), from, to) {
                    Ok(sheet) => emit.send(AdminEvent::EmailPreview(email::reports(
                        &sheet,
                        under,
                        &service.settings().email.subject,
                    ))),
                    Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
                }
            }
            AdminRequest::EmailSend { from, to, under } => {
                let settings = service.settings().email.clone();
                let db = service.database_path();
                let helper = emit.clone();
                // The network can be slow: send from a helper thread with its own connection.
                let spawned = std::thread::Builder::new()
                    .name("rollcall-email".into())
                    .spawn(move || {
                        let result =
                            Store::open(&db)
                                .map_err(|e| e.to_string())
                                .and_then(|mut store| {
                                    let sheet = Sheet::build(&store, from, to)
                                        .map_err(|e| e.to_string())?;
                                    let reports = email::reports(&sheet, under, &settings.subject);
                                    email::send(&settings, &reports, &mut store, |done, total| {
                                        helper.send(AdminEvent::EmailProgress { done, total })
                                    })
                                    .map_err(|e| e.to_string())
                                });
                        match result {
                            Ok(summary) => helper.send(AdminEvent::EmailDone(summary)),
                            Err(e) => helper.send(AdminEvent::Failed(e)),
                        }
                    });
                if spawned.is_err() {
                    emit.send(AdminEvent::Failed("The email could not be started.".into()));
                }
            }
            AdminRequest::Import { path, email_domain } => {
                match read_entries(&path, email_domain.as_deref()) {
                    Ok(entries) => {
                        let summary = service.import(&entries, "admin", |done, total| {
                            emit.send(AdminEvent::ImportProgress { done, total })
                        });
                        emit.send(AdminEvent::ImportDone(summary));
                    }
                    Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
                }
                self.list(session, emit);
            }
        }
    }

    fn report(
        &mut self,
        r: Result<String, crate::attendance::admin::AdminError>,
        session: &mut KioskSession,
        emit: &Emitter,
    ) {
        match r {
            Ok(m) => emit.send(AdminEvent::Done(m)),
            Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
        }
        self.list(session, emit);
    }

    fn list(&self, session: &KioskSession, emit: &Emitter) {
        match session.service().store().students() {
            Ok(s) => emit.send(AdminEvent::Students(s)),
            Err(e) => emit.send(AdminEvent::Failed(e.to_string())),
        }
    }

    fn photos(&self, session: &KioskSession, id: i64, emit: &Emitter) {
        let service = session.service();
        let rows = match service.store().photos_of(id) {
            Ok(r) => r,
            Err(e) => return emit.send(AdminEvent::Failed(e.to_string())),
        };
        let photos = rows
            .into_iter()
            .filter_map(|p| {
                let image = read_image_file(&service.photo_path(&p.file_name)).ok()?;
                Some((p.id, thumbnail_of(&image).ok()?))
            })
            .collect();
        emit.send(AdminEvent::StudentPhotos { id, photos });
    }

    /// Checks a photo and keeps it under a ticket if it passes.
    fn check(
        &mut self,
        session: &mut KioskSession,
        photo: PhotoInput,
        student: Option<i64>,
        emit: &Emitter,
    ) {
        let label = photo.label.clone();
        let service = session.service_mut();
        let outcome = match service.check_photo(&photo) {
            Ok(Ok(prepared)) => {
                let look_alike = service.look_alike(&prepared, student).ok().flatten();
                match prepared.thumbnail_rgba(THUMB) {
                    Ok((w, h, rgba)) => {
                        self.next_ticket += 1;
                        let ticket = self.next_ticket;
                        self.checked.insert(ticket, prepared);
                        emit.send(AdminEvent::PhotoChecked {
                            ticket,
                            label,
                            outcome: Ok(CheckedPhoto {
                                thumbnail: Thumbnail { size: [w, h], rgba },
                                look_alike,
                            }),
                        });
                        return;
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Ok(Err(reason)) => Err(reason),
            Err(e) => Err(e.to_string()),
        };
        emit.send(AdminEvent::PhotoChecked {
            ticket: 0,
            label,
            outcome,
        });
    }

    /// Auto-capture: after each frame, take a shot when the face is good and different
    /// enough from the previous shots.
    pub fn after_frame(&mut self, session: &mut KioskSession, frame: &Mat, emit: &Emitter) {
        if !self.auto_capture
            || self.auto_shots.len() >= MAX_PHOTOS
            || self.last_auto.is_some_and(|t| t.elapsed() < AUTO_INTERVAL)
        {
            return;
        }
        self.last_auto = Some(Instant::now());
        let Ok(bytes) = encode_jpeg(frame) else {
            return;
        };
        let photo = PhotoInput {
            label: format!("Auto {}", chrono::Local::now().format("%H:%M:%S")),
            bytes,
        };
        // Only good shots are kept; a refused frame is simply skipped.
        let Ok(Ok(prepared)) = session.service_mut().check_photo(&photo) else {
            return;
        };
        let Some(v) = prepared
            .embeddings
            .get("dlib-resnet-v1")
            .map(<[f32]>::to_vec)
        else {
            return;
        };
        if self
            .auto_shots
            .iter()
            .any(|s| dot(s, &v) > AUTO_MAX_SIMILARITY)
        {
            return;
        }
        let look_alike = session.service().look_alike(&prepared, None).ok().flatten();
        let Ok((w, h, rgba)) = prepared.thumbnail_rgba(THUMB) else {
            return;
        };
        self.auto_shots.push(v);
        self.next_ticket += 1;
        self.checked.insert(self.next_ticket, prepared);
        emit.send(AdminEvent::PhotoChecked {
            ticket: self.next_ticket,
            label: photo.label,
            outcome: Ok(CheckedPhoto {
                thumbnail: Thumbnail { size: [w, h], rgba },
                look_alike,
            }),
        });
    }
}
