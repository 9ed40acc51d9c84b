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
    /// The photos enrolled, by label.
    pub used: Vec<String>,
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
                let marked =
                    self.records
                        .mark(c.student_id, c.score, source, snapshot.as_deref())?;
                // Their last day is over (their face data not yet erased here).
                if let crate::store::MarkRecord::Left(_) = marked.record {
                    return Err(MarkError::UserNotFound);
                }
                Ok(marked)
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
    let pool =
        (photos.iter().map(std::borrow::Cow::Borrowed)).chain(spares.map(std::borrow::Cow::Owned));
    let mut checked = CheckedPhotos {
        recognizer,
        pool,
        want: photos.len(),
    };
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    checked.refill(&mut accepted, &mut refused)?;
    if accepted.is_empty() {
        return Err(EnrollError::NoUsablePhoto(refused));
    }
    keep_one_person(&mut checked, &mut accepted, &mut refused)?;
    let recognizer = checked.recognizer;
    let mut look_alikes: Vec<LookAlike> = accepted
        .iter()
        .flat_map(|p| LookAlike::of(recognizer, records.store(), p, None))
        .collect();
    look_alikes.sort();
    look_alikes.dedup();
    let student_id = recognizer.enrol(records, &student, &accepted, who.actor)?;
    Ok(Enrolled {
        student_id,
        used: accepted.iter().map(|p| p.label.clone()).collect(),
        refused,
        look_alikes,
    })
}

/// Why a spare photo taken in place of someone else's is not used.
const SPARE_UNDECIDED: &str = "it was to stand in for a photo of someone else, but with it \
     the photos no longer clearly show one person";

/// Leaves out of `accepted` the photos that show someone else than most of them (to
/// `refused`, with the reason): a photo of someone else would have the kiosk mark them
/// as this student. The choice's spares then stand in for them (`refill`) and the whole
/// set is judged again (`people`); spares that leave it undecided are not used (each
/// named, with the reason), the set before them kept. A set undecided from the start is
/// refused: which photos are the student's cannot be told.
fn keep_one_person<C: PhotoChoice>(
    choice: &mut C,
    accepted: &mut Vec<C::Photo>,
    refused: &mut Vec<PhotoProblem>,
) -> Result<(), EnrollError> {
    let problem = |p: &C::Photo, reason: &str| PhotoProblem {
        label: C::label(p),
        reason: reason.into(),
    };
    let mut before_spares = None;
    loop {
        match (choice.people(accepted), before_spares.take()) {
            (PhotoPeople::OnePerson, _) => return Ok(()),
            (PhotoPeople::Undecided, Some(settled)) => {
                let spares = accepted.split_off(settled);
                refused.extend(spares.iter().map(|p| problem(p, SPARE_UNDECIDED)));
                return Ok(());
            }
            (PhotoPeople::Undecided, None) => {
                let labels: Vec<String> = accepted.iter().map(C::label).collect();
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
                refused.extend(left_out.iter().rev().map(|p| problem(p, SOMEONE_ELSE)));
                let settled = accepted.len();
                choice.refill(accepted, refused)?;
                if accepted.len() == settled {
                    return Ok(());
                }
                before_spares = Some(settled);
            }
        }
    }
}

/// What choosing the photos of one enrolment works with: a judge of whom a set of photos
/// shows, and more photos to check when some are left out.
trait PhotoChoice {
    type Photo;
    fn label(photo: &Self::Photo) -> String;
    /// Whom `set` shows.
    fn people(&self, set: &[Self::Photo]) -> PhotoPeople;
    /// Adds photos to `accepted` until it holds as many as were asked for, or none is left;
    /// those refused go to `refused` with the reason.
    fn refill(
        &mut self,
        accepted: &mut Vec<Self::Photo>,
        refused: &mut Vec<PhotoProblem>,
    ) -> Result<(), EnrollError>;
}

/// The photos of an enrolment checked one by one from `pool` (the photos sent, then any
/// spares), `want` of them at most.
struct CheckedPhotos<'r, I> {
    recognizer: &'r mut Recognizer,
    pool: I,
    want: usize,
}

impl<'a, I: Iterator<Item = std::borrow::Cow<'a, PhotoInput>>> PhotoChoice
    for CheckedPhotos<'_, I>
{
    type Photo = PreparedPhoto;

    fn label(photo: &PreparedPhoto) -> String {
        photo.label.clone()
    }

    fn people(&self, set: &[PreparedPhoto]) -> PhotoPeople {
        self.recognizer.photo_people(set)
    }

    fn refill(
        &mut self,
        accepted: &mut Vec<PreparedPhoto>,
        refused: &mut Vec<PhotoProblem>,
    ) -> Result<(), EnrollError> {
        while accepted.len() < self.want {
            let Some(photo) = self.pool.next() else {
                return Ok(());
            };
            match self.recognizer.check_photo(&photo)? {
                Ok(ok) => accepted.push(ok),
                Err(reason) => refused.push(PhotoProblem {
                    label: photo.label.clone(),
                    reason,
                }),
            }
        }
        Ok(())
    }
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
    use super::*;

    /// Photos named by label and the person they show ('?' for a photo that leaves any set
    /// it is in undecided), judged by who most of a set shows; spares from a list.
    struct Judged {
        spares: Vec<(&'static str, char)>,
        want: usize,
    }

    impl PhotoChoice for Judged {
        type Photo = (&'static str, char);

        fn label(photo: &Self::Photo) -> String {
            photo.0.to_string()
        }

        fn people(&self, set: &[Self::Photo]) -> PhotoPeople {
            let count = |who: char| set.iter().filter(|p| p.1 == who).count();
            let most = set.iter().map(|p| count(p.1)).max().unwrap_or(0);
            let leaders: Vec<char> = set
                .iter()
                .map(|p| p.1)
                .filter(|&w| count(w) == most)
                .collect();
            let leader = leaders[0];
            if set.iter().any(|p| p.1 == '?') || leaders.iter().any(|&w| w != leader) {
                return PhotoPeople::Undecided;
            }
            let others: Vec<usize> = (0..set.len()).filter(|&i| set[i].1 != leader).collect();
            match others.is_empty() {
                true => PhotoPeople::OnePerson,
                false => PhotoPeople::SomeoneElse(others),
            }
        }

        fn refill(
            &mut self,
            accepted: &mut Vec<Self::Photo>,
            _: &mut Vec<PhotoProblem>,
        ) -> Result<(), EnrollError> {
            let n = (self.want - accepted.len()).min(self.spares.len());
            accepted.extend(self.spares.drain(..n));
            Ok(())
        }
    }

    /// The photos kept and the (label, reason) of those left out.
    type Chosen = (Vec<&'static str>, Vec<(String, String)>);

    /// Chooses among `photos` as an enrolment does, `spares` standing in.
    fn choose(
        photos: &[(&'static str, char)],
        spares: &[(&'static str, char)],
    ) -> Result<Chosen, EnrollError> {
        let mut judged = Judged {
            spares: spares.to_vec(),
            want: photos.len(),
        };
        let (mut accepted, mut refused) = (photos.to_vec(), Vec::new());
        keep_one_person(&mut judged, &mut accepted, &mut refused)?;
        let refused = refused.into_iter().map(|p| (p.label, p.reason)).collect();
        Ok((accepted.iter().map(|p| p.0).collect(), refused))
    }

    fn left_out(labels: &[&str], reason: &str) -> Vec<(String, String)> {
        labels
            .iter()
            .map(|l| (l.to_string(), reason.to_string()))
            .collect()
    }

    #[test]
    fn a_photo_of_someone_else_is_left_out_and_replaced_by_a_spare_of_the_student() {
        let photos = [("a1", 'A'), ("a2", 'A'), ("b1", 'B')];
        let (kept, refused) = choose(&photos, &[("b2", 'B'), ("a3", 'A')]).unwrap();
        assert_eq!(kept, ["a1", "a2", "a3"]);
        assert_eq!(refused, left_out(&["b1", "b2"], SOMEONE_ELSE));
        let (kept, refused) = choose(&photos, &[]).unwrap();
        assert_eq!(kept, ["a1", "a2"]);
        assert_eq!(refused, left_out(&["b1"], SOMEONE_ELSE));
        let (kept, refused) = choose(&photos[..2], &[("b2", 'B')]).unwrap();
        assert_eq!((kept, refused), (vec!["a1", "a2"], vec![]));
    }

    #[test]
    fn spares_that_leave_the_photos_undecided_are_named_and_the_set_before_them_kept() {
        let photos = [("a1", 'A'), ("b1", 'B'), ("a2", 'A'), ("c1", 'C')];
        let (kept, refused) = choose(&photos, &[("x", '?'), ("a3", 'A')]).unwrap();
        assert_eq!(kept, ["a1", "a2"]);
        let mut expected = left_out(&["b1", "c1"], SOMEONE_ELSE);
        expected.extend(left_out(&["x", "a3"], SPARE_UNDECIDED));
        assert_eq!(refused, expected);
    }

    #[test]
    fn photos_undecided_from_the_start_are_refused_naming_them() {
        let Err(EnrollError::InvalidData(why)) = choose(&[("a1", 'A'), ("b1", 'B')], &[]) else {
            panic!("two photos of two people were accepted");
        };
        assert!(why.contains("different people (a1, b1)"), "{why}");
    }

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
