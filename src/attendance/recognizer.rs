//! The recogniser: the face models and the gallery of enrolled students, kept in step with
//! the store through its templates version. One per thread that recognises (the kiosk's
//! door, the admin worker, each API engine); it is heavy to load and never shared.

use super::photos::{main_face, PhotoInput};
use crate::recognition::{Candidate, Decision, Gallery};
use crate::settings::{RecognitionSettings, Settings};
use crate::store::{Store, StoreError, TemplatesVersion};
use crate::vision::quality::QualityReport;
use crate::vision::{decode_image, Embeddings, Face, FaceEngine, VisionError};
use opencv::core::Mat;

/// A photo that passed the checks: decoded, one usable face, embedded.
pub struct PreparedPhoto {
    pub label: String,
    pub image: Mat,
    pub face: Face,
    pub embeddings: Embeddings,
}

impl PreparedPhoto {
    /// A small RGBA copy for thumbnails: (width, height, pixels).
    pub fn thumbnail_rgba(&self, side: i32) -> opencv::Result<(usize, usize, Vec<u8>)> {
        crate::vision::image_io::thumbnail_rgba(&self.image, side)
    }
}

/// Which models a face is identified with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Every model, at the full threshold: a first match, a photo, an enrolment check.
    Full,
    /// The fast model alone, to confirm a match the kiosk already has.
    Confirm,
}

/// Face models plus the gallery.
pub struct Recognizer {
    engine: FaceEngine,
    settings: RecognitionSettings,
    gallery: Gallery,
    /// The store's templates version the gallery was loaded at.
    version: Option<TemplatesVersion>,
}

impl Recognizer {
    /// A recogniser with an empty gallery; `refresh` loads it.
    pub fn new(engine: FaceEngine, settings: &Settings) -> Recognizer {
        Recognizer {
            engine,
            settings: settings.recognition.clone(),
            gallery: Gallery::default(),
            version: None,
        }
    }

    /// Loads the models and the gallery.
    pub fn load(settings: &Settings, store: &Store) -> Result<Recognizer, super::OpenError> {
        let mut r = Recognizer::new(FaceEngine::load(settings)?, settings);
        r.refresh(store)?;
        Ok(r)
    }

    /// Reloads the gallery when someone (this process or another) enrolled or removed a
    /// student since it was loaded. Cheap when nothing changed; true when it reloaded.
    pub fn refresh(&mut self, store: &Store) -> Result<bool, StoreError> {
        let version = store.templates_version()?;
        if self.version == Some(version) {
            return Ok(false);
        }
        let mut gallery = Gallery::default();
        for t in store.templates()? {
            gallery.add(t.student_id, &t.model_id, &t.vector);
        }
        self.gallery = gallery;
        self.version = Some(version);
        Ok(true)
    }

    /// Students the gallery knows.
    pub fn students(&self) -> usize {
        self.gallery.len()
    }

    pub fn gallery(&self) -> &Gallery {
        &self.gallery
    }

    /// Ids of the embedding models, in order.
    pub fn model_ids(&self) -> Vec<&'static str> {
        self.engine.model_ids()
    }

    /// Finds faces, largest first.
    pub fn detect(&mut self, image: &Mat) -> Result<Vec<Face>, VisionError> {
        self.engine.detect(image)
    }

    /// Judges whether a face is good enough to recognise or enrol.
    pub fn assess(&self, image: &Mat, face: &Face) -> Result<QualityReport, VisionError> {
        self.engine.assess(image, face)
    }

    /// How live a face looks, or `None` when the photo-attack check is off.
    pub fn liveness(&self, image: &Mat, face: &Face) -> Result<Option<f32>, VisionError> {
        self.engine.liveness(image, face)
    }

    /// Whether the photo-attack check is on.
    pub fn checks_liveness(&self) -> bool {
        self.engine.liveness.is_some()
    }

    /// Identifies one face against the gallery.
    pub fn identify(
        &mut self,
        image: &Mat,
        face: &Face,
        pass: Pass,
    ) -> Result<Decision, VisionError> {
        let settings = match pass {
            Pass::Full => self.settings.clone(),
            Pass::Confirm => self.settings.confirmation(),
        };
        let embeddings = self.engine.embed_with(image, face, |m| {
            settings.models.iter().any(|n| n.model_id == m)
        })?;
        Ok(self.gallery.identify(&embeddings, &settings))
    }

    /// Embeds one face with the given model only (for re-enrolment after a model change).
    pub fn embed_one(
        &mut self,
        image: &Mat,
        face: &Face,
        model: &str,
    ) -> Result<Option<Vec<f32>>, VisionError> {
        let e = self.engine.embed_with(image, face, |m| m == model)?;
        Ok(e.get(model).map(<[f32]>::to_vec))
    }

    /// Checks one photo: decodes it, finds the one face, checks its quality and embeds it.
    /// The inner error is the reason the photo is refused, for the admin.
    pub fn check_photo(
        &mut self,
        photo: &PhotoInput,
    ) -> Result<Result<PreparedPhoto, String>, VisionError> {
        match decode_image(&photo.bytes) {
            Ok(image) => self.check_image(&photo.label, image),
            Err(e) => Ok(Err(e.to_string())),
        }
    }

    /// Checks a decoded picture (a camera frame, a decoded file) like `check_photo`.
    pub fn check_image(
        &mut self,
        label: &str,
        image: Mat,
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
        let embeddings = self.engine.embed(&image, &face)?;
        Ok(Ok(PreparedPhoto {
            label: label.to_string(),
            image,
            face,
            embeddings,
        }))
    }

    /// The enrolled student (other than `except`) this face would be recognised as, if any.
    pub fn look_alike(&self, photo: &PreparedPhoto, except: Option<i64>) -> Option<Candidate> {
        match self.gallery.identify(&photo.embeddings, &self.settings) {
            Decision::Match(c) if Some(c.student_id) != except => Some(c),
            _ => None,
        }
    }

    /// After the store took these photos for `student_id`: the gallery follows at once,
    /// without a reload.
    pub fn added(
        &mut self,
        student_id: i64,
        photos: &[PreparedPhoto],
        store: &Store,
    ) -> Result<(), StoreError> {
        for p in photos {
            self.gallery.add_face(student_id, &p.embeddings);
        }
        self.follow(store)
    }

    /// After the store dropped a student's faces: the gallery forgets them at once.
    pub fn forgot(&mut self, student_id: i64, store: &Store) -> Result<(), StoreError> {
        self.gallery.remove(student_id);
        self.follow(store)
    }

    /// This recogniser changed the gallery and the store together: remember the store's
    /// version, so the change is not mistaken for another process's.
    fn follow(&mut self, store: &Store) -> Result<(), StoreError> {
        self.version = Some(store.templates_version()?);
        Ok(())
    }
}
