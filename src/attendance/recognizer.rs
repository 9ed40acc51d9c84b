//! The recogniser: the face models and the gallery of enrolled students, kept in step with
//! the store through its templates version. One per thread that recognises (the kiosk's
//! door, the admin worker, each API engine): the models are heavy to load and never
//! shared; the gallery can be ([`SharedGallery`]).

use super::photos::{main_face, PhotoInput};
use super::records::Records;
use super::service::EnrollError;
use super::shared_gallery::{MatcherView, SharedGallery};
use crate::recognition::{
    looks_like_student, photo_people, same_face_on_track, same_person, Candidate, Decision,
    FaceVectors, Origin, Photo, PhotoPeople, Rule, Source,
};
use crate::settings::{RecognitionSettings, Settings};
use crate::store::{NewStudent, Store, StoreError, StoredFace};
use crate::vision::liveness::LivenessModel;
use crate::vision::quality::QualityReport;
use crate::vision::{decode_image, Embeddings, Face, FaceEngine, VisionError};
use opencv::core::Mat;

/// A photo that passed the checks: decoded, one usable face, embedded (as an enrolment
/// template).
pub struct PreparedPhoto {
    pub label: String,
    pub image: Mat,
    pub face: Face,
    pub embeddings: Embeddings,
    /// Where the photo came from (the kiosk's camera, or a file).
    pub origin: Origin,
    /// The photo-attack check's texture features, kept as the student's reference when the
    /// photo comes from the kiosk's camera.
    pub liveness_reference: Option<Vec<f32>>,
}

impl PreparedPhoto {
    /// A small RGBA copy for thumbnails: (width, height, pixels).
    pub fn thumbnail_rgba(&self, side: i32) -> opencv::Result<(usize, usize, Vec<u8>)> {
        crate::vision::image_io::thumbnail_rgba(&self.image, side)
    }
}

/// Which models a face is identified with, at which threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Every model, at the single-photo threshold: a photo handed in. The fast model is
    /// computed first, and answers alone when it is decisive (`Rule::decisive`).
    Full,
    /// Every model, at the kiosk's threshold: the first match of a face track, which more
    /// frames must then confirm.
    Door,
    /// The fast model alone, at its own threshold, to confirm a match the kiosk already
    /// has (it keeps the kiosk quick); where it is unsure, every model at the kiosk's
    /// threshold, as `Door`: the shortcut never turns away a face every model accepts.
    Confirm,
}

/// Face models plus the gallery, calibrated to the site.
pub struct Recognizer {
    engine: FaceEngine,
    settings: RecognitionSettings,
    gallery: SharedGallery,
}

impl Recognizer {
    /// Loads the models and, meanwhile, the gallery.
    pub fn load(settings: &Settings, store: &Store) -> Result<Recognizer, super::OpenError> {
        let gallery = SharedGallery::new(&settings.recognition.calibration);
        Self::load_sharing(settings, store, gallery)
    }

    /// Loads the models and, meanwhile, brings this shared gallery up to date (read once
    /// for every recogniser that shares it).
    pub fn load_sharing(
        settings: &Settings,
        store: &Store,
        gallery: SharedGallery,
    ) -> Result<Recognizer, super::OpenError> {
        std::thread::scope(|s| {
            let engine = s.spawn(|| FaceEngine::load(settings));
            let read = gallery.refresh(store);
            let engine = crate::vision::joined(engine)?;
            read?;
            Ok(Recognizer {
                engine,
                settings: settings.recognition.clone(),
                gallery,
            })
        })
    }

    /// Reloads the gallery when someone (this process or another) enrolled or removed a
    /// student since it was loaded. Cheap when nothing changed; true when it reloaded.
    pub fn refresh(&mut self, store: &Store) -> Result<bool, StoreError> {
        self.gallery.refresh(store)
    }

    /// The gallery this recogniser uses, to share with another.
    pub fn gallery(&self) -> &SharedGallery {
        &self.gallery
    }

    /// Students the gallery knows.
    pub fn students(&self) -> usize {
        self.matcher().gallery().len()
    }

    /// The gallery and its calibration.
    pub fn matcher(&self) -> MatcherView<'_> {
        self.gallery.matcher()
    }

    /// Ids of the embedding models, in order.
    pub fn model_ids(&self) -> Vec<&'static str> {
        self.engine.model_ids()
    }

    /// Finds faces, largest first.
    pub fn detect(&mut self, image: &Mat) -> Result<Vec<Face>, VisionError> {
        self.engine.detect(image)
    }

    /// Finds the largest face only: less work than `detect` when it is large.
    pub fn detect_largest(&mut self, image: &Mat) -> Result<Option<Face>, VisionError> {
        self.engine.detect_largest(image)
    }

    /// Judges whether a face is good enough to recognise or enrol.
    pub fn assess(&self, image: &Mat, face: &Face) -> Result<QualityReport, VisionError> {
        self.engine.assess(image, face)
    }

    /// Whether too much of the face is outside the picture to recognise it.
    pub fn is_cut_off(&self, image: &Mat, face: &Face) -> bool {
        self.engine.is_cut_off(image, face)
    }

    /// A kiosk photo's texture features, to keep as its student's reference.
    pub fn reference_features(&self, image: &Mat, face: &Face) -> Result<Vec<f32>, VisionError> {
        self.engine.liveness_features(image, face)
    }

    /// Puts another photo-attack model in place (a retrained one, or `None` to turn the
    /// check off); returns the one it replaces.
    pub fn replace_liveness(&mut self, model: Option<LivenessModel>) -> Option<LivenessModel> {
        std::mem::replace(&mut self.engine.liveness, model)
    }

    /// The texture features the photo-attack check scores, or `None` when it is off.
    pub fn liveness_features(
        &self,
        image: &Mat,
        face: &Face,
    ) -> Result<Option<Vec<f32>>, VisionError> {
        if self.engine.liveness.is_none() {
            return Ok(None);
        }
        self.engine.liveness_features(image, face).map(Some)
    }

    /// How live a face track looks: the mean score of its frames' features, compared with
    /// `student`'s own kiosk enrolment when there is one. `None` when the check is off or
    /// there are no frames.
    pub fn liveness_of(
        &self,
        frames: &[Vec<f32>],
        student: Option<i64>,
    ) -> Result<Option<f32>, VisionError> {
        if frames.is_empty() {
            return Ok(None);
        }
        let reference = student.and_then(|s| {
            self.matcher()
                .gallery()
                .mean_template(s, crate::vision::liveness::FEATURES)
        });
        let mut sum = 0.0;
        for f in frames {
            match self.engine.liveness_score(f, reference.as_deref())? {
                Some(s) => sum += s,
                None => return Ok(None),
            }
        }
        Ok(Some(sum / frames.len() as f32))
    }

    /// Identifies one face against the gallery; also returns its embeddings.
    pub fn identify(
        &mut self,
        image: &Mat,
        face: &Face,
        pass: Pass,
        source: Source,
    ) -> Result<(Decision, Embeddings), VisionError> {
        // Where a fast model answers first (when decisive), and the rule for every model.
        let (early, rule) = match pass {
            Pass::Full => (
                Some(Rule::decisive(&self.settings)),
                Rule::full(&self.settings),
            ),
            Pass::Door => (None, Rule::door(&self.settings)),
            Pass::Confirm => (
                Some(Rule::confirmation(&self.settings)),
                Rule::door(&self.settings),
            ),
        };
        let mut embeddings = Embeddings(Vec::new());
        if let Some(early) = early {
            embeddings = self
                .engine
                .embed_with(image, face, |m| early.models.iter().any(|n| n == m))?;
            let decision = self.matcher().identify(&embeddings, source, &early);
            if let Decision::Match(_) = decision {
                return Ok((decision, embeddings));
            }
        }
        let done: Vec<&str> = embeddings.0.iter().map(|(m, _)| *m).collect();
        let rest = self.engine.embed_with(image, face, |m| {
            rule.models.iter().any(|n| n == m) && !done.contains(&m)
        })?;
        embeddings.0.extend(rest.0);
        let decision = self.matcher().identify(&embeddings, source, &rule);
        Ok((decision, embeddings))
    }

    /// The fast model's vector of a face: what a face track's person is followed by
    /// (see [`Recognizer::same_face_on_track`]).
    pub fn appearance(
        &mut self,
        image: &Mat,
        face: &Face,
    ) -> Result<Option<Vec<f32>>, VisionError> {
        let fast = &self.settings.confirm.model_id;
        let e = self.engine.embed_with(image, face, |m| m == fast)?;
        Ok(self.appearance_in(&e))
    }

    /// The fast model's vector among embeddings already computed, if they have it.
    pub fn appearance_in(&self, embeddings: &Embeddings) -> Option<Vec<f32>> {
        embeddings
            .get(&self.settings.confirm.model_id)
            .map(<[f32]>::to_vec)
    }

    /// Whether a frame's face (`frame`, from [`Recognizer::appearance`]) shows the person of
    /// a face track's recent frames (see [`crate::recognition::same_face_on_track`]); yes
    /// when the fast model has no prior to judge by.
    pub fn same_face_on_track(&self, track: &[Vec<f32>], frame: &[f32]) -> bool {
        let fast = &self.settings.confirm.model_id;
        self.settings
            .calibration
            .prior
            .iter()
            .find(|p| &p.model_id == fast)
            .is_none_or(|prior| same_face_on_track(track, frame, prior))
    }

    /// An enrolment template of one face with the given model only (for re-enrolment
    /// after a model change).
    pub fn embed_one(
        &mut self,
        image: &Mat,
        face: &Face,
        model: &str,
    ) -> Result<Option<Vec<f32>>, VisionError> {
        let e = self.engine.embed_template(image, face)?;
        Ok(e.get(model).map(<[f32]>::to_vec))
    }

    /// Checks one photo: decodes it, finds the one face, checks its quality and embeds it.
    /// The inner error is the reason the photo is refused, for the admin.
    pub fn check_photo(
        &mut self,
        photo: &PhotoInput,
    ) -> Result<Result<PreparedPhoto, String>, VisionError> {
        match decode_image(&photo.bytes) {
            Ok(image) => self.check_image(&photo.label, image, Origin::Upload),
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    /// Checks a decoded picture (a camera frame, a decoded file) like `check_photo`.
    pub fn check_image(
        &mut self,
        label: &str,
        image: Mat,
        origin: Origin,
    ) -> Result<Result<PreparedPhoto, String>, VisionError> {
        let faces = self.engine.detect(&image)?;
        let face = match (faces.first(), main_face(&faces)) {
            (None, _) => return Ok(Err("no face found in this photo".into())),
            (Some(largest), None) => {
                // Count the people in front, not every face far behind them.
                let n = faces
                    .iter()
                    .filter(|f| f.width() >= 0.5 * largest.width())
                    .count();
                return Ok(Err(format!(
                    "{n} faces in this photo; use a photo of the student alone"
                )));
            }
            (_, Some(f)) => f.clone(),
        };
        let quality = self.engine.assess(&image, &face)?;
        if !quality.is_good() {
            return Ok(Err(quality.reasons()));
        }
        let embeddings = self.engine.embed_template(&image, &face)?;
        let liveness_reference = match origin {
            Origin::Camera => Some(self.engine.liveness_features(&image, &face)?),
            Origin::Upload => None,
        };
        Ok(Ok(PreparedPhoto {
            label: label.to_string(),
            image,
            face,
            embeddings,
            origin,
            liveness_reference,
        }))
    }

    /// The enrolled students (other than `except`) this face scores as, best first: the
    /// marking threshold, so the warning means what it says, but not the lead over the
    /// runner-up, so that a student enrolled twice already (whose two enrolments tie, and
    /// so are never marked) is named under both.
    pub fn look_alikes(&self, photo: &PreparedPhoto, except: Option<i64>) -> Vec<Candidate> {
        let source = match photo.origin {
            Origin::Camera => Source::Camera,
            Origin::Upload => Source::Photo,
        };
        let mut found =
            self.matcher()
                .above(&photo.embeddings, source, &Rule::full(&self.settings));
        found.retain(|c| Some(c.student_id) != except);
        found
    }

    /// Whether these photos of one enrolment show one person (see
    /// [`crate::recognition::photo_people`]).
    pub fn photo_people(&self, photos: &[PreparedPhoto]) -> PhotoPeople {
        let faces: Vec<Photo> = photos
            .iter()
            .map(|p| (&p.embeddings as &dyn FaceVectors, p.origin))
            .collect();
        photo_people(&faces, &self.settings.calibration.prior)
    }

    /// Whether two shots of the kiosk's camera, moments apart, show one person (see
    /// [`crate::recognition::same_person`]).
    pub fn same_sitting(&self, a: &Embeddings, b: &Embeddings) -> bool {
        same_person(
            (a, Origin::Camera),
            (b, Origin::Camera),
            &self.settings.calibration.prior,
        )
    }

    /// Whether a photo being added to an enrolled student looks like the student's photos
    /// so far (see [`crate::recognition::looks_like_student`]).
    pub fn looks_like_student(
        &self,
        store: &Store,
        student_id: i64,
        photo: &PreparedPhoto,
    ) -> Result<bool, StoreError> {
        let faces = store.faces_of(student_id)?;
        let enrolled: Vec<Photo> = faces
            .iter()
            .map(|f| (f as &dyn FaceVectors, Origin::parse(&f.origin)))
            .collect();
        Ok(looks_like_student(
            &enrolled,
            (&photo.embeddings, photo.origin),
            &self.settings.calibration.prior,
        ))
    }

    /// Keeps a face the kiosk attributed to a student at marking: the site learns what
    /// its camera's strangers look like (see `recognition::calibration`).
    pub fn observed(
        &mut self,
        student_id: i64,
        embeddings: &Embeddings,
        store: &mut Store,
    ) -> Result<(), StoreError> {
        let vectors: Vec<(String, Vec<f32>)> = embeddings
            .0
            .iter()
            .map(|(m, v)| (m.to_string(), v.clone()))
            .collect();
        // The gallery keeps this session's observations; the store keeps the newest few,
        // which is what the next reload sees.
        self.gallery.change(
            store,
            |s| s.add_observation(student_id, &vectors),
            |g, _| {
                for (model, v) in &vectors {
                    g.add_observation(student_id, model, v);
                }
            },
        )
    }

    /// Enrols a student from checked photos: the records and the gallery change together,
    /// and the gallery follows at once, without a reload.
    pub fn enrol(
        &mut self,
        records: &mut Records,
        student: &NewStudent,
        photos: &[PreparedPhoto],
        actor: &str,
    ) -> Result<i64, EnrollError> {
        self.gallery.change(
            records,
            |r| r.enrol(student, photos, actor),
            |g, &student_id| {
                for p in photos {
                    g.add_face(student_id, &p.embeddings, p.origin);
                    if let Some(r) = &p.liveness_reference {
                        g.add(student_id, crate::vision::liveness::FEATURES, r, p.origin);
                    }
                }
            },
        )
    }
}

/// A stored face's templates, compared as a photo's embeddings are.
impl FaceVectors for StoredFace {
    fn vector(&self, model_id: &str) -> Option<&[f32]> {
        self.templates
            .iter()
            .find(|(m, _)| m == model_id)
            .map(|(_, v)| v.as_slice())
    }
}
