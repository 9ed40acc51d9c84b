//! Vision: decode photos, find faces, align them, turn them into embeddings and judge
//! their quality. Knows OpenCV; knows nothing of SQLite or the UI.

pub mod align;
mod detector;
pub mod dlib_convert;
mod embedder;
mod heif;
pub mod image_io;
pub mod liveness;
mod models;
pub mod network;
mod onnx_writer;
mod openvino;
mod pyramid;
pub mod quality;

pub use detector::FaceDetector;
pub use embedder::{DlibResnetEmbedder, FaceEmbedder, FaceNetEmbedder};
pub use image_io::{decode_image, ImageError};
pub use models::{
    models_dir, ModelError, ModelFiles, FACENET_FILE, FACENET_INT8_FILE, SETUP_COMMAND,
};
pub use quality::{QualityIssue, QualityReport};

use crate::settings::{Precision, Settings};
use opencv::core::Mat;

/// Errors from the vision layer.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("image processing failed: {0}")]
    OpenCv(#[from] opencv::Error),
    #[error("the face models could not run: {0}")]
    Runtime(String),
}

/// Gives the memory the loading threads freed back to the system (glibc keeps a freed
/// arena per thread otherwise: about 100 MB after loading the models).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What a scoped thread returned (its panic goes on).
pub(crate) fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A detected face: its box in image pixels, detector confidence and five landmarks
/// (left eye, right eye, nose tip, left and right mouth corner, as seen in the image).
#[derive(Clone, Debug, PartialEq)]
pub struct Face {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub score: f32,
    pub landmarks: [[f32; 2]; 5],
}

impl Face {
    pub fn width(&self) -> f32 {
        self.x2 - self.x1
    }
    pub fn height(&self) -> f32 {
        self.y2 - self.y1
    }
    /// Distance between the eye centres in pixels: a pose-robust measure of face size.
    pub fn eye_distance(&self) -> f32 {
        let [l, r] = [self.landmarks[0], self.landmarks[1]];
        ((r[0] - l[0]).powi(2) + (r[1] - l[1]).powi(2)).sqrt()
    }
    /// Scales box and landmarks by `s` (e.g. back to the full-size image).
    pub fn scale(&mut self, s: f32) {
        self.x1 *= s;
        self.y1 *= s;
        self.x2 *= s;
        self.y2 *= s;
        for l in &mut self.landmarks {
            l[0] *= s;
            l[1] *= s;
        }
    }
}

/// One face's embeddings, one per model, with the model ids.
#[derive(Clone, Debug, Default)]
pub struct Embeddings(pub Vec<(&'static str, Vec<f32>)>);

impl Embeddings {
    pub fn get(&self, model_id: &str) -> Option<&[f32]> {
        self.0
            .iter()
            .find(|(m, _)| *m == model_id)
            .map(|(_, v)| v.as_slice())
    }
}

/// Detector plus embedders: everything needed to turn a photo into face embeddings.
pub struct FaceEngine {
    pub detector: FaceDetector,
    pub embedders: Vec<Box<dyn FaceEmbedder>>,
    pub quality: crate::settings::QualitySettings,
    /// The photo-attack check; `None` when turned off in the settings.
    pub liveness: Option<liveness::LivenessModel>,
    /// The runtime the networks run on (`Backend::name`).
    runtime: &'static str,
}

/// FaceNet in 8 bits when OpenVINO runs it, the settings ask for it and the set-up built
/// it (true); else the published 32-bit graph. The published file is checked either way
/// (it is what the 8-bit one is built from), and before its loader reads it: a damaged one
/// would have OpenVINO print parser errors before Rollcall's own message. Why the 8-bit
/// one is not used is logged once.
fn load_facenet(
    dir: &std::path::Path,
    files: &ModelFiles,
    backend: &network::Backend,
    precision: Precision,
) -> Result<(FaceNetEmbedder, bool), VisionError> {
    ModelFiles::verify_where(dir, |f| f == models::FACENET_FILE)?;
    if let (network::Backend::OpenVino(_), Precision::Int8) = (backend, precision) {
        let eight_bit = ModelFiles::verify_facenet_int8(dir)
            .map_err(VisionError::from)
            .and_then(|()| FaceNetEmbedder::new_int8(files, backend));
        match eight_bit {
            Ok(facenet) => return Ok((facenet, true)),
            Err(e) => {
                static SAID: std::sync::OnceLock<()> = std::sync::OnceLock::new();
                SAID.get_or_init(|| tracing::info!("FaceNet runs in 32 bits: {e}"));
            }
        }
    }
    Ok((FaceNetEmbedder::new(files, backend)?, false))
}

impl FaceEngine {
    /// Loads every model from the models folder and checks the files' checksums. The
    /// checks, FaceNet and the photo-attack check load on threads of their own beside the
    /// detector and dlib's network (start-up is about half as long on two cores); a
    /// damaged file is reported as damaged, whatever its loader made of it, and FaceNet's
    /// is checked before its loader reads it.
    pub fn load(settings: &Settings) -> Result<Self, VisionError> {
        let dir = models::models_dir_for(settings);
        let files = ModelFiles::at(&dir);
        let backend = network::Backend::choose(settings.inference)?;
        std::thread::scope(|s| {
            let checked = s.spawn(|| ModelFiles::verify_where(&dir, |f| f != models::FACENET_FILE));
            let facenet =
                s.spawn(|| load_facenet(&dir, &files, &backend, settings.facenet_precision));
            let liveness = s.spawn(|| {
                settings
                    .liveness
                    .enabled
                    .then(|| {
                        liveness::LivenessModel::load(&liveness::model_dir(&settings.liveness))
                    })
                    .transpose()
            });
            let detector = FaceDetector::new(&files, settings.detector.clone(), &backend);
            let dlib = DlibResnetEmbedder::new(&files, &backend);
            joined(checked)?;
            let (facenet, eight_bit) = joined(facenet)?;
            Ok(FaceEngine {
                detector: detector?,
                embedders: vec![Box::new(dlib?), Box::new(facenet)],
                quality: settings.quality.clone(),
                liveness: joined(liveness)?,
                runtime: if eight_bit {
                    "OpenVINO, FaceNet in 8 bits"
                } else {
                    backend.name()
                },
            })
        })
        .inspect(|_| release_freed_memory())
    }

    /// The runtime the face models run on, for people ("OpenVINO", "OpenVINO, FaceNet in 8
    /// bits", "OpenCV dnn").
    pub fn runtime(&self) -> &'static str {
        self.runtime
    }

    /// Finds faces, largest first.
    pub fn detect(&mut self, bgr: &Mat) -> Result<Vec<Face>, VisionError> {
        self.detector.detect(bgr)
    }

    /// Finds the largest face only (see `FaceDetector::detect_largest`).
    pub fn detect_largest(&mut self, bgr: &Mat) -> Result<Option<Face>, VisionError> {
        self.detector.detect_largest(bgr)
    }

    /// Embeds one face with every model.
    pub fn embed(&mut self, bgr: &Mat, face: &Face) -> Result<Embeddings, VisionError> {
        self.embed_with(bgr, face, |_| true)
    }

    /// Embeds one face with the models `wanted` accepts (by model id).
    pub fn embed_with(
        &mut self,
        bgr: &Mat,
        face: &Face,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Embeddings, VisionError> {
        let mut out = Vec::with_capacity(self.embedders.len());
        for e in self.embedders.iter_mut().filter(|e| wanted(e.model_id())) {
            out.push((e.model_id(), e.embed(bgr, face)?));
        }
        Ok(Embeddings(out))
    }

    /// Enrolment templates of one face with every model (see `FaceEmbedder::embed_template`).
    pub fn embed_template(&mut self, bgr: &Mat, face: &Face) -> Result<Embeddings, VisionError> {
        let mut out = Vec::with_capacity(self.embedders.len());
        for e in self.embedders.iter_mut() {
            out.push((e.model_id(), e.embed_template(bgr, face)?));
        }
        Ok(Embeddings(out))
    }

    /// A face's plain embeddings (as a probe) and its enrolment templates, at the cost of
    /// the templates alone.
    pub fn embed_plain_and_template(
        &mut self,
        bgr: &Mat,
        face: &Face,
    ) -> Result<(Embeddings, Embeddings), VisionError> {
        let (mut plain, mut template) = (Vec::new(), Vec::new());
        for e in self.embedders.iter_mut() {
            let (p, t) = e.embed_plain_and_template(bgr, face)?;
            plain.push((e.model_id(), p));
            template.push((e.model_id(), t));
        }
        Ok((Embeddings(plain), Embeddings(template)))
    }

    /// Whether too much of the face is outside the picture to recognise it.
    pub fn is_cut_off(&self, bgr: &Mat, face: &Face) -> bool {
        use opencv::prelude::MatTraitConst;
        quality::cut_off(face, bgr.cols() as f32, bgr.rows() as f32) > self.quality.max_cut_off
    }

    /// Judges whether a face is good enough to enrol or recognise.
    pub fn assess(&self, bgr: &Mat, face: &Face) -> Result<QualityReport, VisionError> {
        quality::assess(bgr, face, &self.quality)
    }

    /// The texture features the photo-attack check scores (also a student's reference
    /// when the photo is a kiosk enrolment photo).
    pub fn liveness_features(&self, bgr: &Mat, face: &Face) -> Result<Vec<f32>, VisionError> {
        liveness::texture_features(bgr, face)
    }

    /// How live a face looks from its features, with the student's reference when there
    /// is one; `None` when the check is turned off.
    pub fn liveness_score(
        &self,
        features: &[f32],
        reference: Option<&[f32]>,
    ) -> Result<Option<f32>, VisionError> {
        self.liveness
            .as_ref()
            .map(|m| m.score_features(features, reference))
            .transpose()
    }

    /// The ids of the embedding models, in order.
    pub fn model_ids(&self) -> Vec<&'static str> {
        self.embedders.iter().map(|e| e.model_id()).collect()
    }
}
