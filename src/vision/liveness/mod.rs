//! Presentation-attack detection: is the face in front of the camera a live person or a
//! printed photo held up to it? Colour-texture cues: a print re-captured by a webcam loses
//! fine skin texture and shifts its colours, which shows in local binary pattern (LBP)
//! histograms of the chroma channels. Histograms of the face (and of a wider crop that takes
//! in a photo's edges) feed an RBF support vector machine (OpenCV `ml`).
//!
//! The trained model lives in `assets/liveness/` with a record of what it was trained on;
//! `rollcall train-liveness` writes it.

pub mod training;

use super::{Face, ModelError, VisionError};
use opencv::core::{Mat, Ptr, Scalar, Size, TermCriteria, TermCriteria_Type, CV_32F, CV_32S};
use opencv::ml::{SVMTrait, SVMTraitConst, StatModelTrait, StatModelTraitConst, SVM};
use opencv::prelude::*;
use opencv::{imgproc, ml};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Names the feature layout; a model trained on another layout is refused.
pub const FEATURES: &str = "colour-lbp-v1";
/// Side of the square crops the texture is read from.
const CROP: i32 = 64;
/// Crops around the face box: the face itself and a wider one reaching a photo's edges.
const CROP_SCALES: [f32; 2] = [1.0, 1.6];
/// LBP radii (8 neighbours each).
const RADII: [usize; 2] = [1, 2];
/// Uniform patterns with 8 neighbours: 58, plus one bin for all the others.
const BINS: usize = 59;
/// Length of a feature vector.
pub const FEATURE_LEN: usize = CROP_SCALES.len() * 2 * 3 * RADII.len() * BINS;

const SVM_FILE: &str = "svm.yml.gz";
const RECORD_FILE: &str = "record.json";

/// The folder with the liveness model: `$ROLLCALL_LIVENESS_DIR`, else `assets/liveness`
/// next to the current directory, else the one in the source tree this binary was built from.
pub fn default_liveness_dir() -> PathBuf {
    super::models::asset_dir("ROLLCALL_LIVENESS_DIR", "assets/liveness")
}

/// The folder the model is read from: the settings' `model_dir`, else the default.
pub fn model_dir(settings: &crate::settings::LivenessSettings) -> PathBuf {
    if settings.model_dir.trim().is_empty() {
        default_liveness_dir()
    } else {
        PathBuf::from(&settings.model_dir)
    }
}

/// Maps each 8-bit pattern to its uniform-pattern bin (at most two 0/1 transitions
/// around the circle), or to the last bin.
fn uniform_bins() -> [u8; 256] {
    let mut map = [(BINS - 1) as u8; 256];
    let mut next = 0u8;
    for (code, bin) in map.iter_mut().enumerate() {
        let transitions = (0..8)
            .filter(|i| (code >> i) & 1 != (code >> ((i + 1) % 8)) & 1)
            .count();
        if transitions <= 2 {
            *bin = next;
            next += 1;
        }
    }
    map
}

/// Normalised, square-rooted histogram of uniform LBP codes of one channel of an
/// interleaved 3-channel `CROP`×`CROP` image.
fn lbp_histogram(
    pixels: &[u8],
    channel: usize,
    radius: usize,
    bins: &[u8; 256],
    out: &mut Vec<f32>,
) {
    let n = CROP as usize;
    let at = |y: usize, x: usize| pixels[(y * n + x) * 3 + channel];
    let r = radius as isize;
    let offsets: [(isize, isize); 8] = [
        (-r, -r),
        (-r, 0),
        (-r, r),
        (0, r),
        (r, r),
        (r, 0),
        (r, -r),
        (0, -r),
    ];
    let mut hist = [0u32; BINS];
    for y in radius..n - radius {
        for x in radius..n - radius {
            let centre = at(y, x);
            let mut code = 0usize;
            for (i, (dy, dx)) in offsets.iter().enumerate() {
                let v = at((y as isize + dy) as usize, (x as isize + dx) as usize);
                code |= usize::from(v >= centre) << i;
            }
            hist[bins[code] as usize] += 1;
        }
    }
    let total: u32 = hist.iter().sum();
    out.extend(
        hist.iter()
            .map(|&c| (c as f32 / total.max(1) as f32).sqrt()),
    );
}

/// A `CROP`×`CROP` square around the face box, `scale` times its larger side.
fn square_crop(bgr: &Mat, face: &Face, scale: f32) -> Result<Mat, VisionError> {
    let side = face.width().max(face.height()).max(1.0) * scale;
    let (cx, cy) = ((face.x1 + face.x2) / 2.0, (face.y1 + face.y2) / 2.0);
    let s = CROP as f32 / side;
    let m = Mat::from_slice_2d(&[
        [s as f64, 0.0, (CROP as f32 / 2.0 - cx * s) as f64],
        [0.0, s as f64, (CROP as f32 / 2.0 - cy * s) as f64],
    ])?;
    let mut out = Mat::default();
    imgproc::warp_affine(
        bgr,
        &mut out,
        &m,
        Size::new(CROP, CROP),
        imgproc::INTER_LINEAR,
        opencv::core::BORDER_REPLICATE,
        Scalar::default(),
    )?;
    Ok(out)
}

/// The texture features of one face in a BGR frame.
pub fn texture_features(bgr: &Mat, face: &Face) -> Result<Vec<f32>, VisionError> {
    static BINS: std::sync::LazyLock<[u8; 256]> = std::sync::LazyLock::new(uniform_bins);
    let mut features = Vec::with_capacity(FEATURE_LEN);
    for scale in CROP_SCALES {
        let crop = square_crop(bgr, face, scale)?;
        for code in [imgproc::COLOR_BGR2HSV, imgproc::COLOR_BGR2YCrCb] {
            let mut converted = Mat::default();
            imgproc::cvt_color_def(&crop, &mut converted, code)?;
            let pixels = converted.data_bytes()?;
            for channel in 0..3 {
                for radius in RADII {
                    lbp_histogram(pixels, channel, radius, &BINS, &mut features);
                }
            }
        }
    }
    Ok(features)
}

/// What a liveness model was trained on, saved beside it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainingRecord {
    pub features: String,
    pub trained_at: String,
    pub live_dir: String,
    pub spoof_dir: String,
    /// People (folder names) whose frames were used.
    pub people: Vec<String>,
    pub live_frames: usize,
    pub spoof_frames: usize,
    /// Frames skipped because no face was found.
    pub skipped_frames: usize,
    pub svm_c: f64,
    pub svm_gamma: f64,
    pub support_vectors: i32,
    /// +1 when the SVM's raw output is positive for live faces, −1 otherwise.
    pub live_sign: f32,
    /// SHA-256 of the SVM file, checked when it is loaded.
    pub svm_sha256: String,
}

/// A trained live-or-photo classifier. `score` > threshold (default 0) means live.
pub struct LivenessModel {
    svm: Ptr<SVM>,
    live_sign: f32,
    pub record: TrainingRecord,
}

fn rows_mat(rows: &[&[f32]]) -> Result<Mat, VisionError> {
    let mut m = Mat::new_rows_cols_with_default(
        rows.len() as i32,
        FEATURE_LEN as i32,
        CV_32F,
        Scalar::default(),
    )?;
    for (i, r) in rows.iter().enumerate() {
        m.at_row_mut::<f32>(i as i32)?.copy_from_slice(r);
    }
    Ok(m)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl LivenessModel {
    /// Trains on feature vectors of live faces and of photo attacks. `record` describes the
    /// data; its SVM fields are filled in here.
    pub fn train(
        live: &[Vec<f32>],
        spoof: &[Vec<f32>],
        mut record: TrainingRecord,
    ) -> Result<LivenessModel, VisionError> {
        let rows: Vec<&[f32]> = live.iter().chain(spoof).map(|v| v.as_slice()).collect();
        let samples = rows_mat(&rows)?;
        let labels: Vec<i32> = (0..rows.len()).map(|i| i32::from(i < live.len())).collect();
        let responses = Mat::from_slice(&labels)?.t()?.to_mat()?;
        debug_assert_eq!(responses.typ(), CV_32S);
        // RBF width from the data's spread, as scikit-learn's "scale" does.
        let n = (rows.len() * FEATURE_LEN) as f64;
        let mean = rows
            .iter()
            .flat_map(|r| r.iter())
            .map(|&v| v as f64)
            .sum::<f64>()
            / n;
        let var = rows
            .iter()
            .flat_map(|r| r.iter())
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        let gamma = 1.0 / (FEATURE_LEN as f64 * var.max(1e-12));
        let c = 10.0;
        let mut svm = SVM::create()?;
        svm.set_type(ml::SVM_C_SVC)?;
        svm.set_kernel(ml::SVM_RBF)?;
        svm.set_c(c)?;
        svm.set_gamma(gamma)?;
        svm.set_term_criteria(TermCriteria::new(
            TermCriteria_Type::COUNT as i32 + TermCriteria_Type::EPS as i32,
            100_000,
            1e-6,
        )?)?;
        svm.train(&samples, ml::ROW_SAMPLE, &responses)?;
        // OpenCV's sign convention for the raw output depends on label order: measure it.
        let mut model = LivenessModel {
            svm,
            live_sign: 1.0,
            record: TrainingRecord::default(),
        };
        let mean_live = mean_score(&model, live)?;
        let mean_spoof = mean_score(&model, spoof)?;
        model.live_sign = if mean_live >= mean_spoof { 1.0 } else { -1.0 };
        record.svm_c = c;
        record.svm_gamma = gamma;
        record.support_vectors = model.svm.get_support_vectors()?.rows();
        record.live_sign = model.live_sign;
        record.features = FEATURES.into();
        model.record = record;
        Ok(model)
    }

    /// Liveness score of a feature vector: above the threshold (default 0) means live.
    pub fn score_features(&self, features: &[f32]) -> Result<f32, VisionError> {
        let sample = rows_mat(&[features])?;
        let mut out = Mat::default();
        self.svm
            .predict(&sample, &mut out, ml::StatModel_RAW_OUTPUT)?;
        Ok(self.live_sign * *out.at::<f32>(0)?)
    }

    /// Liveness score of one face in a BGR frame.
    pub fn score(&self, bgr: &Mat, face: &Face) -> Result<f32, VisionError> {
        self.score_features(&texture_features(bgr, face)?)
    }

    /// Writes the model and its record into `dir`.
    pub fn save(&mut self, dir: &Path) -> Result<(), VisionError> {
        std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, e))?;
        let svm_path = dir.join(SVM_FILE);
        self.svm.save(svm_path.to_string_lossy().as_ref())?;
        let bytes = std::fs::read(&svm_path).map_err(|e| unwritable(&svm_path, e))?;
        self.record.svm_sha256 = sha256_hex(&bytes);
        let json = serde_json::to_string_pretty(&self.record).expect("record serialises");
        let record_path = dir.join(RECORD_FILE);
        std::fs::write(&record_path, json + "\n").map_err(|e| unwritable(&record_path, e))
    }

    /// Loads the model in `dir`, checking it against its record.
    pub fn load(dir: &Path) -> Result<LivenessModel, ModelError> {
        let record_path = dir.join(RECORD_FILE);
        let svm_path = dir.join(SVM_FILE);
        let fail = |path: &Path, reason: &str| ModelError::Liveness {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let text = std::fs::read_to_string(&record_path)
            .map_err(|_| fail(&record_path, "the model's record is missing"))?;
        let record: TrainingRecord = serde_json::from_str(&text)
            .map_err(|_| fail(&record_path, "the model's record is damaged"))?;
        let bytes =
            std::fs::read(&svm_path).map_err(|_| fail(&svm_path, "the model is missing"))?;
        if sha256_hex(&bytes) != record.svm_sha256 {
            return Err(fail(
                &svm_path,
                "the model is damaged (its checksum is wrong)",
            ));
        }
        if record.features != FEATURES {
            return Err(fail(
                &svm_path,
                "the model was made by another version of Rollcall",
            ));
        }
        let svm = SVM::load(svm_path.to_string_lossy().as_ref())
            .map_err(|_| fail(&svm_path, "the model could not be read"))?;
        let trained = svm.is_trained().unwrap_or(false)
            && svm.get_var_count().unwrap_or(0) == FEATURE_LEN as i32;
        if !trained {
            return Err(fail(&svm_path, "the model could not be read"));
        }
        Ok(LivenessModel {
            svm,
            live_sign: record.live_sign,
            record,
        })
    }
}

fn mean_score(model: &LivenessModel, rows: &[Vec<f32>]) -> Result<f32, VisionError> {
    let mut sum = 0.0;
    for r in rows {
        sum += model.score_features(r)?;
    }
    Ok(sum / rows.len().max(1) as f32)
}

fn unwritable(path: &Path, e: std::io::Error) -> VisionError {
    VisionError::OpenCv(opencv::Error::new(
        opencv::core::StsError,
        format!("could not write {}: {e}", path.display()),
    ))
}

impl Default for TrainingRecord {
    fn default() -> Self {
        TrainingRecord {
            features: FEATURES.into(),
            trained_at: String::new(),
            live_dir: String::new(),
            spoof_dir: String::new(),
            people: Vec::new(),
            live_frames: 0,
            spoof_frames: 0,
            skipped_frames: 0,
            svm_c: 0.0,
            svm_gamma: 0.0,
            support_vectors: 0,
            live_sign: 1.0,
            svm_sha256: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_58_uniform_patterns() {
        let bins = uniform_bins();
        assert_eq!(
            bins.iter().filter(|&&b| (b as usize) < BINS - 1).count(),
            58
        );
        assert_eq!(bins[0], 0, "all-zeros is uniform");
        assert_eq!(bins[0b0101_0101] as usize, BINS - 1, "alternating is not");
    }

    #[test]
    fn features_are_unit_histograms() {
        let mut img =
            Mat::new_rows_cols_with_default(120, 120, opencv::core::CV_8UC3, Scalar::all(0.0))
                .unwrap();
        opencv::core::randu(&mut img, &Scalar::all(0.0), &Scalar::all(255.0)).unwrap();
        let face = Face {
            x1: 30.0,
            y1: 30.0,
            x2: 90.0,
            y2: 90.0,
            score: 1.0,
            landmarks: [[0.0; 2]; 5],
        };
        let f = texture_features(&img, &face).unwrap();
        assert_eq!(f.len(), FEATURE_LEN);
        for h in f.chunks(BINS) {
            let total: f32 = h.iter().map(|v| v * v).sum();
            assert!((total - 1.0).abs() < 1e-4, "each histogram sums to one");
        }
    }
}
