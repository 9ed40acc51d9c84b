//! The attendance service: what the CLI, the kiosk and the HTTP API call. It wires vision,
//! recognition and the store together and keeps the old system's contract.

pub mod admin;
pub mod email;
pub mod export;
pub mod import;
mod outcome;
pub mod pin;
pub mod report;
pub mod session;
pub mod tracking;
pub mod verdict;

pub use outcome::Outcome;

pub(crate) use crate::data_dir::write_private_file;
use crate::data_dir::DataDir;
use crate::recognition::{Candidate, Decision, Gallery};
use crate::settings::Settings;
use crate::store::{MarkRecord, NewStudent, Store, StoreError};
use crate::vision::{decode_image, Face, FaceEngine, ImageError, VisionError};
use chrono::Local;
use sha2::{Digest, Sha256};

/// Most photos one student may be enrolled with.
pub const MAX_PHOTOS: usize = 10;
/// Longest accepted roll number, name or email, in characters.
pub const MAX_FIELD_CHARS: usize = 200;

/// A photo handed in by a person, with a label (usually its file name) for messages.
#[derive(Clone, Debug)]
pub struct PhotoInput {
    pub label: String,
    pub bytes: Vec<u8>,
}

impl PhotoInput {
    /// Reads a photo file, labelled with its file name.
    pub fn read(path: &std::path::Path) -> std::io::Result<PhotoInput> {
        Ok(PhotoInput {
            label: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            bytes: std::fs::read(path)?,
        })
    }
}

/// Why one photo was not used.
#[derive(Clone, Debug, PartialEq)]
pub struct PhotoProblem {
    pub label: String,
    pub reason: String,
}

impl std::fmt::Display for PhotoProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.label, self.reason)
    }
}

/// A successful enrolment.
#[derive(Clone, Debug)]
pub struct Enrolled {
    pub student_id: i64,
    pub photos_used: usize,
    /// Photos that were left out, with the reason.
    pub refused: Vec<PhotoProblem>,
}

impl Enrolled {
    pub fn outcome(&self) -> Outcome {
        Outcome::UserAdded
    }
}

/// Why an enrolment did not happen.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("No images found")]
    NoImages,
    #[error("Maximum 10 images are allowed")]
    TooManyImages,
    #[error("Invalid data: {0}")]
    InvalidData(String),
    #[error("User already exists")]
    UserExists,
    #[error("None of the photos can be used. {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(". "))]
    NoUsablePhoto(Vec<PhotoProblem>),
    #[error(transparent)]
    Store(StoreError),
    #[error("The photos could not be saved: {0}")]
    Io(std::io::Error),
    #[error(transparent)]
    Vision(#[from] VisionError),
}

impl EnrollError {
    /// The contract message for this error.
    pub fn outcome(&self) -> Outcome {
        match self {
            EnrollError::NoImages => Outcome::NoImages,
            EnrollError::TooManyImages => Outcome::TooManyImages,
            EnrollError::InvalidData(_) | EnrollError::NoUsablePhoto(_) => Outcome::InvalidData,
            EnrollError::UserExists | EnrollError::Store(StoreError::Duplicate) => {
                Outcome::UserExists
            }
            EnrollError::Store(_) | EnrollError::Io(_) | EnrollError::Vision(_) => {
                Outcome::InternalError
            }
        }
    }
}

impl From<StoreError> for EnrollError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate => EnrollError::UserExists,
            other => EnrollError::Store(other),
        }
    }
}

/// A student recognised and marked (or found already marked).
#[derive(Clone, Debug, PartialEq)]
pub struct Marked {
    /// `AttendanceMarked` or `AlreadyMarked`.
    pub outcome: Outcome,
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
    /// When the student was marked (RFC 3339); for `AlreadyMarked`, the earlier time.
    pub at: String,
    pub score: f32,
}

/// Why a photo did not mark anyone.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    #[error("No face found")]
    NoFace,
    #[error("User not found")]
    UserNotFound,
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vision(#[from] VisionError),
}

impl MarkError {
    /// The contract message for this error.
    pub fn outcome(&self) -> Outcome {
        match self {
            MarkError::NoFace => Outcome::NoFace,
            MarkError::UserNotFound => Outcome::UserNotFound,
            MarkError::Image(_) => Outcome::InvalidData,
            MarkError::Store(_) | MarkError::Vision(_) => Outcome::InternalError,
        }
    }
}

/// Checks and tidies a roll number, name and email.
pub fn validate_student(roll_no: &str, name: &str, email: &str) -> Result<NewStudent, String> {
    let clean = |label: &str, v: &str| -> Result<String, String> {
        let v = v.trim();
        if v.is_empty() {
            return Err(format!("the {label} is missing"));
        }
        if v.chars().count() > MAX_FIELD_CHARS {
            return Err(format!(
                "the {label} is longer than {MAX_FIELD_CHARS} characters"
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(format!("the {label} contains control characters"));
        }
        Ok(v.to_string())
    };
    let roll_no = clean("roll number", roll_no)?;
    let name = clean("name", name)?;
    let email = clean("email", email)?;
    let valid_email = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !valid_email {
        return Err("the email address is not valid".into());
    }
    Ok(NewStudent {
        roll_no,
        name,
        email,
    })
}

/// Picks the face a single-person photo is about: the only one, or one at least twice as
/// wide as any other. `None` when the photo shows several people of similar size.
pub fn main_face(faces: &[Face]) -> Option<&Face> {
    match faces {
        [] => None,
        [only] => Some(only),
        [first, second, ..] => (first.width() >= 2.0 * second.width()).then_some(first),
    }
}

/// The service. Owns the database handle, the face models and the gallery.
pub struct AttendanceService {
    pub(crate) data: DataDir,
    settings: Settings,
    pub(crate) store: Store,
    engine: FaceEngine,
    pub(crate) gallery: Gallery,
    /// The store's templates version the gallery was loaded at.
    gallery_version: (i64, i64),
}

impl AttendanceService {
    /// Opens the data folder's database, loads the gallery, and removes photo files left
    /// behind by an interrupted enrolment.
    pub fn open(data: DataDir, settings: Settings, engine: FaceEngine) -> Result<Self, StoreError> {
        let store = Store::open(&data.database())?;
        let mut service = AttendanceService {
            data,
            settings,
            store,
            engine,
            gallery: Gallery::default(),
            gallery_version: (-1, -1),
        };
        service.sweep_orphan_photos();
        service.reembed_for_current_models()?;
        let keep = chrono::Days::new(service.settings.review.snapshot_days as u64);
        if let Some(cutoff) = Local::now().date_naive().checked_sub_days(keep) {
            service.store.purge_snapshots(cutoff)?;
        }
        service.refresh_gallery()?;
        Ok(service)
    }

    /// After this service changed the gallery and the store together: remember the store's
    /// version so the change is not mistaken for another process's.
    pub(crate) fn gallery_follows_store(&mut self) {
        if let Ok(v) = self.store.templates_version() {
            self.gallery_version = v;
        }
    }

    /// Reloads the gallery when another process (the kiosk, the HTTP server, the command
    /// line) has enrolled or removed someone since it was loaded. Cheap when nothing changed.
    pub fn refresh_gallery(&mut self) -> Result<(), StoreError> {
        let version = self.store.templates_version()?;
        if version == self.gallery_version {
            return Ok(());
        }
        let mut gallery = Gallery::default();
        for t in self.store.templates()? {
            gallery.add(t.student_id, &t.model_id, &t.vector);
        }
        self.gallery = gallery;
        self.gallery_version = version;
        Ok(())
    }

    /// After a model change: embeds stored photos with every current model they lack, and
    /// drops templates of models no longer used. Nothing to do in the usual case.
    fn reembed_for_current_models(&mut self) -> Result<(), StoreError> {
        let models = self.engine.model_ids();
        for model in &models {
            for photo in self.store.photos_without_model(model)? {
                let path = self.data.photos().join(&photo.file_name);
                let vector = crate::vision::image_io::read_image_file(&path)
                    .map_err(VisionError::from)
                    .and_then(|image| {
                        let faces = self.engine.detect(&image)?;
                        let Some(face) = main_face(&faces).cloned() else {
                            return Ok(None);
                        };
                        let e = self.engine.embed_with(&image, &face, |m| m == *model)?;
                        Ok(e.get(model).map(<[f32]>::to_vec))
                    });
                match vector {
                    Ok(Some(v)) => self.store.add_template(&photo, model, &v)?,
                    Ok(None) => {
                        tracing::warn!(file = %photo.file_name, "no face found when re-embedding")
                    }
                    Err(e) => tracing::warn!(file = %photo.file_name, "cannot re-embed: {e}"),
                }
            }
        }
        let dropped = self.store.drop_templates_except(&models)?;
        if dropped > 0 {
            tracing::info!(dropped, "removed templates of models no longer used");
        }
        Ok(())
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }
    /// The database file (for helper threads that open their own connection).
    pub fn database_path(&self) -> std::path::PathBuf {
        self.data.database()
    }
    pub fn gallery(&self) -> &Gallery {
        &self.gallery
    }
    pub fn engine_mut(&mut self) -> &mut FaceEngine {
        &mut self.engine
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
            if !known.contains(&name) {
                tracing::info!(file = %name, "removing a photo no student refers to");
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Enrols a student: the old `POST /upload`.
    pub fn enroll(
        &mut self,
        roll_no: &str,
        name: &str,
        email: &str,
        photos: &[PhotoInput],
        actor: &str,
    ) -> Result<Enrolled, EnrollError> {
        if photos.is_empty() {
            return Err(EnrollError::NoImages);
        }
        if photos.len() > MAX_PHOTOS {
            return Err(EnrollError::TooManyImages);
        }
        let student = validate_student(roll_no, name, email).map_err(EnrollError::InvalidData)?;
        if self
            .store
            .student_exists(&student.roll_no, &student.email)?
        {
            return Err(EnrollError::UserExists);
        }
        let mut accepted = Vec::new();
        let mut refused = Vec::new();
        for photo in photos {
            match self.check_photo(photo)? {
                Ok(ok) => accepted.push(ok),
                Err(reason) => refused.push(PhotoProblem {
                    label: photo.label.clone(),
                    reason,
                }),
            }
        }
        if accepted.is_empty() {
            return Err(EnrollError::NoUsablePhoto(refused));
        }
        let student_id = self.enroll_prepared(&student, &accepted, actor)?;
        Ok(Enrolled {
            student_id,
            photos_used: accepted.len(),
            refused,
        })
    }

    /// A small picture of the face to keep with a mark, when the settings keep them.
    pub fn snapshot(&self, image: &opencv::core::Mat, face: &Face) -> Option<Vec<u8>> {
        if self.settings.review.snapshot_days == 0 {
            return None;
        }
        crate::vision::image_io::face_snapshot(image, face).ok()
    }

    /// Records a recognised student as present today, with a face snapshot if given.
    pub fn record(
        &mut self,
        candidate: &Candidate,
        source: &str,
        snapshot: Option<&[u8]>,
    ) -> Result<Marked, StoreError> {
        let record = self.store.mark(
            candidate.student_id,
            Local::now(),
            Some(candidate.score as f64),
            source,
            snapshot,
        )?;
        let (roll_no, name) = self
            .store
            .student_name(candidate.student_id)?
            .unwrap_or_default();
        let (outcome, at) = match record {
            MarkRecord::New(at) => (Outcome::AttendanceMarked, at),
            MarkRecord::Existing(at) => (Outcome::AlreadyMarked, at),
        };
        Ok(Marked {
            outcome,
            student_id: candidate.student_id,
            roll_no,
            name,
            at,
            score: candidate.score,
        })
    }

    /// Marks attendance from one photo: the old `POST /attendance`. The largest face is
    /// the one that counts.
    pub fn mark_photo(&mut self, bytes: &[u8], source: &str) -> Result<Marked, MarkError> {
        let image = decode_image(bytes)?;
        self.refresh_gallery()?;
        let faces = self.engine.detect(&image)?;
        let face = faces.first().ok_or(MarkError::NoFace)?;
        let embeddings = self.engine.embed(&image, face)?;
        match self
            .gallery
            .identify(&embeddings, &self.settings.recognition)
        {
            Decision::Match(c) => {
                let snapshot = self.snapshot(&image, face);
                Ok(self.record(&c, source, snapshot.as_deref())?)
            }
            Decision::Unknown(_) => Err(MarkError::UserNotFound),
        }
    }
}

/// A file name the program makes: a digest of the content and the time, never user text.
pub(crate) fn photo_file_name(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    h.update(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_le_bytes(),
    );
    let hex: String = h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{hex}.jpg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_or_malformed_fields_are_invalid() {
        assert!(validate_student(" ", "A", "a@b.org").is_err());
        assert!(validate_student("R1", "", "a@b.org").is_err());
        assert!(validate_student("R1", "A", "   ").is_err());
        assert!(validate_student("R1", "A", "not-an-email").is_err());
        assert!(validate_student("R1", "A", "a@b").is_err());
        assert!(validate_student("R1", "A", "a b@c.org").is_err());
        assert!(validate_student(&"x".repeat(1_000_000), "A", "a@b.org").is_err());
    }

    #[test]
    fn fields_are_trimmed_and_unicode_names_are_kept() {
        let s = validate_student(" R1 ", " 李小龙 ", " li@example.org ").unwrap();
        assert_eq!(
            (s.roll_no.as_str(), s.name.as_str(), s.email.as_str()),
            ("R1", "李小龙", "li@example.org")
        );
    }

    #[test]
    fn photo_names_never_contain_user_text() {
        let n = photo_file_name(b"../../etc/passwd");
        assert!(n.ends_with(".jpg"));
        assert!(n
            .trim_end_matches(".jpg")
            .chars()
            .all(|c| c.is_ascii_hexdigit()));
    }

    fn face(width: f32) -> Face {
        Face {
            x1: 0.0,
            y1: 0.0,
            x2: width,
            y2: width,
            score: 1.0,
            landmarks: [[0.0; 2]; 5],
        }
    }

    #[test]
    fn a_dominant_face_is_chosen_but_two_similar_faces_are_not() {
        assert!(main_face(&[]).is_none());
        assert!(main_face(&[face(100.0)]).is_some());
        assert!(main_face(&[face(100.0), face(30.0)]).is_some());
        assert!(main_face(&[face(100.0), face(80.0)]).is_none());
    }
}
