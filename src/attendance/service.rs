//! The service the one-shot fronts call (the command line, each HTTP request): a
//! recogniser and the records, wired the same way for everyone.

use super::import::{ImportEntry, ImportSummary};
use super::photos::{main_face, validate_student, PhotoInput, PhotoProblem, MAX_PHOTOS};
use super::recognizer::{Pass, PreparedPhoto, Recognizer};
use super::records::{Marked, Records};
use super::shared_gallery::SharedGallery;
use super::{OpenError, Outcome};
use crate::data_dir::DataDir;
use crate::recognition::{Decision, Origin, PhotoPeople, Source};
use crate::settings::Settings;
use crate::store::{NewStudent, RetiredTemplates, Store, StoreError};
use crate::vision::{decode_image, ImageError, VisionError};

/// A successful enrolment.
#[derive(Clone, Debug)]
pub struct Enrolled {
    pub student_id: i64,
    pub photos_used: usize,
    /// Photos that were left out, with the reason.
    pub refused: Vec<PhotoProblem>,
    /// Students already enrolled whom the photos would have been recognised as: perhaps
    /// the same student enrolled twice (each named once).
    pub look_alikes: Vec<LookAlike>,
}

impl Enrolled {
    pub fn outcome(&self) -> Outcome {
        Outcome::UserAdded
    }
}

/// An enrolled student whom a new photo resembles.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LookAlike {
    pub student_id: i64,
    pub roll_no: String,
    pub name: String,
}

impl LookAlike {
    /// The enrolled students (other than `except`) this photo scores as at marking, named,
    /// best first (see `Recognizer::look_alikes`).
    pub fn of(
        recognizer: &Recognizer,
        store: &Store,
        photo: &PreparedPhoto,
        except: Option<i64>,
    ) -> Vec<LookAlike> {
        recognizer
            .look_alikes(photo, except)
            .into_iter()
            .filter_map(|c| {
                let (roll_no, name) = store.student_name(c.student_id).ok()??;
                Some(LookAlike {
                    student_id: c.student_id,
                    roll_no,
                    name,
                })
            })
            .collect()
    }

    /// The warning before a student is saved whose photos look like these students
    /// ("Warning: these photos look like Ada (R1), who is already enrolled. If they are
    /// different people …"): the first three named in the order given (best first), the
    /// others counted.
    pub fn warning(students: &[LookAlike]) -> Option<String> {
        const NAMED: usize = 3;
        let mut seen = std::collections::HashSet::new();
        let names: Vec<String> = students
            .iter()
            .filter(|l| seen.insert(l.student_id))
            .map(|l| format!("{} ({})", l.name, l.roll_no))
            .collect();
        let who = match names.len() {
            0 => return None,
            1 => format!("{}, who is already enrolled", names[0]),
            n if n <= NAMED => format!("{}, who are already enrolled", names.join(", ")),
            n => format!(
                "{} and {}, who are already enrolled",
                names[..NAMED].join(", "),
                crate::wording::count(n - NAMED, "other student")
            ),
        };
        Some(format!(
            "Warning: these photos look like {who}. If they are different people (twins, \
             siblings), the kiosk may not tell them apart and will ask them to see the teacher."
        ))
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
    #[error("The photos could not be saved: {}.", crate::wording::file_problem(.0))]
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

    /// Whether the client of a failed enrolment may be told this error's message: what
    /// the school can put right (a door's login that may not enrol, the database busy, the
    /// disk full), not the database's own errors.
    pub fn tells_the_client(&self) -> bool {
        match self {
            EnrollError::Store(store) => store.tells_the_client(),
            EnrollError::Io(_) => true,
            _ => false,
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

    /// Whether the client of a failed mark may be told this error's message: what the
    /// school can put right (a wrong clock, the database busy, the disk full), not the
    /// database's own errors.
    pub fn tells_the_client(&self) -> bool {
        matches!(self, MarkError::Store(store) if store.tells_the_client())
    }
}

/// A recogniser and the records of one data folder.
pub struct AttendanceService {
    recognizer: Recognizer,
    records: Records,
    settings: Settings,
}

impl AttendanceService {
    /// Opens the data folder's records and tidies them, loads the face models and,
    /// meanwhile, the gallery, then re-embeds stored photos for any new model.
    pub fn open(data: DataDir, settings: Settings) -> Result<AttendanceService, OpenError> {
        let gallery = SharedGallery::new(&settings.recognition.calibration);
        Self::open_sharing(data, settings, gallery)
    }

    /// Like `open`, with a gallery the process's other services share (the engines of
    /// `rollcall serve`): one copy in memory, read once.
    pub fn open_sharing(
        data: DataDir,
        settings: Settings,
        gallery: SharedGallery,
    ) -> Result<AttendanceService, OpenError> {
        let mut records = Records::open(&data, &settings)?;
        records.tidy()?;
        let mut recognizer = Recognizer::load_sharing(&settings, records.store(), gallery)?;
        reembed_for_current_models(&mut recognizer, &mut records, log_progress)?;
        Ok(AttendanceService {
            recognizer,
            records,
            settings,
        })
    }

    /// A service from parts already open (the HTTP server's recognisers share records).
    pub fn from_parts(recognizer: Recognizer, records: Records, settings: Settings) -> Self {
        AttendanceService {
            recognizer,
            records,
            settings,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The recogniser, for reading (its gallery and calibration).
    pub fn recognizer(&self) -> &Recognizer {
        &self.recognizer
    }

    /// The records, for reading.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Drops face snapshots past their retention, once a day (see `Records::keep_retention`).
    pub fn keep_retention(&mut self) -> Result<(), StoreError> {
        self.records.keep_retention()
    }

    /// Students the recogniser knows.
    pub fn students(&self) -> usize {
        self.recognizer.students()
    }

    /// Enrols a student from photos: the old `POST /upload`. Photos that cannot be used
    /// are left out and listed; with none left, nothing is stored.
    pub fn enroll(
        &mut self,
        roll_no: &str,
        name: &str,
        email: &str,
        photos: &[PhotoInput],
        actor: &str,
    ) -> Result<Enrolled, EnrollError> {
        enroll(
            &mut self.recognizer,
            &mut self.records,
            &NewEnrolment {
                roll_no,
                name,
                email,
                actor,
            },
            photos,
            &mut std::iter::empty(),
        )
    }

    /// Enrols every entry of a bulk import; `progress(done, total)` after each student.
    pub fn import(
        &mut self,
        entries: &[ImportEntry],
        actor: &str,
        progress: impl FnMut(usize, usize),
    ) -> ImportSummary {
        super::import::import(
            &mut self.recognizer,
            &mut self.records,
            entries,
            actor,
            progress,
        )
    }

    /// Marks attendance from one photo: the old `POST /attendance`. The largest face is
    /// the one that counts; a face cut off at the edge of the photo is not guessed at (it
    /// counts as no face).
    pub fn mark_photo(&mut self, bytes: &[u8], source: &str) -> Result<Marked, MarkError> {
        let image = decode_image(bytes)?;
        self.recognizer.refresh(self.records.store())?;
        let face = self
            .recognizer
            .detect_largest(&image)?
            .filter(|f| !self.recognizer.is_cut_off(&image, f))
            .ok_or(MarkError::NoFace)?;
        match self
            .recognizer
            .identify(&image, &face, Pass::Full, Source::Photo)?
            .0
        {
            Decision::Match(c) => {
                let snapshot = crate::vision::image_io::face_snapshot(&image, &face).ok();
                Ok(self
                    .records
                    .mark(c.student_id, c.score, source, snapshot.as_deref())?)
            }
            Decision::Unknown(_) => Err(MarkError::UserNotFound),
        }
    }
}

/// What can be refused in an enrolment request before any face is looked at: the number
/// of photos and the student's fields (the old API's order of checks). Callers that load
/// the face models only for enrolment check this first, so a request that cannot succeed
/// is answered without them.
pub fn check_request(
    roll_no: &str,
    name: &str,
    email: &str,
    photos: &[PhotoInput],
) -> Result<NewStudent, EnrollError> {
    if photos.is_empty() {
        return Err(EnrollError::NoImages);
    }
    if photos.len() > MAX_PHOTOS {
        return Err(EnrollError::TooManyImages);
    }
    validate_student(roll_no, name, email).map_err(EnrollError::InvalidData)
}

/// Why a photo unlike the student's other photos is left out.
const SOMEONE_ELSE: &str = "it seems to show someone else than the other photos";

/// Who is enrolled, and by whom.
pub(super) struct NewEnrolment<'a> {
    pub roll_no: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub actor: &'a str,
}

/// Enrols a student from photos with this recogniser and these records. Each photo the
/// check refuses, or that shows someone else than the others, is replaced by the next of
/// `spares` it accepts, while there are any (a folder import's photos beyond the ten it
/// chose).
pub(super) fn enroll(
    recognizer: &mut Recognizer,
    records: &mut Records,
    who: &NewEnrolment,
    photos: &[PhotoInput],
    spares: &mut dyn Iterator<Item = PhotoInput>,
) -> Result<Enrolled, EnrollError> {
    let student = check_request(who.roll_no, who.name, who.email, photos)?;
    if records
        .store()
        .student_exists(&student.roll_no, &student.email)?
    {
        return Err(EnrollError::UserExists);
    }
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    let mut pool =
        (photos.iter().map(std::borrow::Cow::Borrowed)).chain(spares.map(std::borrow::Cow::Owned));
    let want = photos.len();
    fill_checked(recognizer, &mut pool, want, &mut accepted, &mut refused)?;
    if accepted.is_empty() {
        return Err(EnrollError::NoUsablePhoto(refused));
    }
    // A photo of someone else would have the kiosk mark them as this student. Spares
    // stand in for such photos too, and the whole set is looked at again; should the
    // spares leave it undecided, they are not used.
    let mut before_spares = None;
    loop {
        match (recognizer.photo_people(&accepted), before_spares.take()) {
            (PhotoPeople::OnePerson, _) => break,
            (PhotoPeople::Undecided, Some(settled)) => {
                accepted.truncate(settled);
                break;
            }
            (PhotoPeople::Undecided, None) => {
                let labels: Vec<&str> = accepted.iter().map(|p| p.label.as_str()).collect();
                return Err(EnrollError::InvalidData(format!(
                    "the photos seem to show different people ({}); send only photos of \
                     this student",
                    labels.join(", ")
                )));
            }
            (PhotoPeople::SomeoneElse(others), _) => {
                let mut left_out = Vec::new();
                for i in others.into_iter().rev() {
                    left_out.push(accepted.remove(i));
                }
                refused.extend(left_out.into_iter().rev().map(|p| PhotoProblem {
                    label: p.label,
                    reason: SOMEONE_ELSE.into(),
                }));
                let settled = accepted.len();
                fill_checked(recognizer, &mut pool, want, &mut accepted, &mut refused)?;
                if accepted.len() == settled {
                    break;
                }
                before_spares = Some(settled);
            }
        }
    }
    let mut look_alikes: Vec<LookAlike> = accepted
        .iter()
        .flat_map(|p| LookAlike::of(recognizer, records.store(), p, None))
        .collect();
    look_alikes.sort();
    look_alikes.dedup();
    let student_id = recognizer.enrol(records, &student, &accepted, who.actor)?;
    Ok(Enrolled {
        student_id,
        photos_used: accepted.len(),
        refused,
        look_alikes,
    })
}

/// Takes photos from `pool` until `accepted` has `want` the check accepts or the pool
/// is empty; those it refuses go to `refused` with the reason.
fn fill_checked<'a>(
    recognizer: &mut Recognizer,
    pool: &mut impl Iterator<Item = std::borrow::Cow<'a, PhotoInput>>,
    want: usize,
    accepted: &mut Vec<PreparedPhoto>,
    refused: &mut Vec<PhotoProblem>,
) -> Result<(), EnrollError> {
    while accepted.len() < want {
        let Some(photo) = pool.next() else {
            return Ok(());
        };
        match recognizer.check_photo(&photo)? {
            Ok(ok) => accepted.push(ok),
            Err(reason) => refused.push(PhotoProblem {
                label: photo.label.clone(),
                reason,
            }),
        }
    }
    Ok(())
}

/// After a model change: embeds stored photos with every current model they lack, and
/// drops templates of models no longer used (kept where the data folder is linked to a
/// school: see `Store::retire_templates_except`), then brings the recogniser's gallery up
/// to date (a reload only when anything changed). Nothing to do in the usual case.
/// `progress` hears (photos done, photos to do) before each photo, when there is any.
pub fn reembed_for_current_models(
    recognizer: &mut Recognizer,
    records: &mut Records,
    mut progress: impl FnMut(usize, usize),
) -> Result<(), StoreError> {
    let models = recognizer.model_ids();
    // What each photo lacks: a model's template, or (kiosk photos only) the photo-attack
    // check's reference texture.
    let texture = crate::vision::liveness::FEATURES;
    let mut work = Vec::new();
    for model in &models {
        for photo in records.store().photos_without_model(model, None)? {
            work.push((*model, photo));
        }
    }
    for photo in records
        .store()
        .photos_without_model(texture, Some(Origin::Camera.as_str()))?
    {
        work.push((texture, photo));
    }
    let total = work.len();
    for (done, (model, photo)) in work.iter().enumerate() {
        progress(done, total);
        let path = records.photo_path(&photo.file_name);
        let vector = crate::vision::image_io::read_image_file(&path)
            .map_err(VisionError::from)
            .and_then(|image| {
                let faces = recognizer.detect(&image)?;
                match main_face(&faces).cloned() {
                    Some(face) if *model == texture => {
                        recognizer.reference_features(&image, &face).map(Some)
                    }
                    Some(face) => recognizer.embed_one(&image, &face, model),
                    None => Ok(None),
                }
            });
        match vector {
            Ok(Some(v)) => records.store_mut().add_template(photo, model, &v)?,
            Ok(None) => {
                tracing::warn!(file = %photo.file_name, "no face found when re-embedding")
            }
            Err(e) => tracing::warn!(file = %photo.file_name, "cannot re-embed: {e}"),
        }
    }
    let mut keep = models;
    keep.push(texture);
    match records.store_mut().retire_templates_except(&keep)? {
        RetiredTemplates::None => {}
        RetiredTemplates::Dropped(dropped) => {
            tracing::info!(dropped, "removed templates of models no longer used")
        }
        RetiredTemplates::KeptForTheSchool(kept) => tracing::info!(
            kept,
            "kept templates of models this program does not run: other doors of the school may run them"
        ),
    }
    recognizer.refresh(records.store())?;
    Ok(())
}

/// Says in the log how far the embedding of stored photos after a model change is, at its
/// start and then every 500 photos (about a quarter of a minute each here).
fn log_progress(done: usize, total: usize) {
    if done.is_multiple_of(500) {
        tracing::info!(
            done,
            total,
            "embedding the stored photos with the new face model"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::LookAlike;

    fn student(id: i64, name: &str) -> LookAlike {
        LookAlike {
            student_id: id,
            roll_no: format!("R{id}"),
            name: name.into(),
        }
    }

    #[test]
    fn the_look_alike_warning_names_the_closest_three_once_each() {
        assert_eq!(LookAlike::warning(&[]), None);
        let one = LookAlike::warning(&[student(1, "Ada"), student(1, "Ada")]).unwrap();
        assert!(
            one.starts_with("Warning: these photos look like Ada (R1), who is already enrolled.")
        );
        let many: Vec<LookAlike> = [
            (5, "Eve"),
            (2, "Bob"),
            (5, "Eve"),
            (9, "Ivy"),
            (1, "Ada"),
            (3, "Cy"),
        ]
        .into_iter()
        .map(|(id, n)| student(id, n))
        .collect();
        assert!(LookAlike::warning(&many).unwrap().starts_with(
            "Warning: these photos look like Eve (R5), Bob (R2), Ivy (R9) and 2 other students, \
             who are already enrolled."
        ));
    }
}
