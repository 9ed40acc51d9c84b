//! Presentation-attack detection: is the face in front of the camera a live person or a
//! printed photo held up to it? Colour-texture cues: a print re-captured by a webcam loses
//! fine skin texture and shifts its colours, which shows in local binary pattern (LBP)
//! histograms of the chroma channels (of the face, and of a wider crop that takes in a
//! photo's edges).
//!
//! Texture also says a lot about *who* someone is, and a classifier trained on a few people
//! learns their faces rather than print against skin. So the kiosk compares a face with
//! the same student's own texture: the features of their enrolment photos taken by the
//! kiosk's camera (the "reference"). The **client** model scores `[f, f − reference]`,
//! which leaves mostly what a print changes; the **generic** model scores `f` alone, for
//! students enrolled from uploaded photos and for faces nobody matched. Both are RBF
//! support vector machines (OpenCV `ml`). The generic model's score is shifted by its own
//! operating point, chosen when it is trained on held-out training people (see
//! [`training::generic_operating_point`]), so one threshold serves both.
//!
//! The trained models live in `assets/liveness/` with a record of what they were trained
//! on; `rollcall train-liveness` writes them.

pub mod site;
pub mod training;

use super::{Face, ModelError, VisionError};
use opencv::core::{Mat, Ptr, Scalar, Size, TermCriteria, TermCriteria_Type, CV_32F, CV_32S};
use opencv::ml::{SVMTrait, SVMTraitConst, StatModelTrait, StatModelTraitConst, SVM};
use opencv::prelude::*;
use opencv::{imgproc, ml};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Names the texture layout (also the model id of the references stored with enrolment
/// photos).
pub const FEATURES: &str = "colour-lbp-v1";
/// Names the model layout; a model of another layout is refused.
pub const MODEL_LAYOUT: &str = "colour-lbp-v1-client-v1";
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

const GENERIC_FILE: &str = "generic.yml.gz";
const CLIENT_FILE: &str = "client.yml.gz";
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

/// What changed in the photo-attack choices between two readings of the settings file
/// (another program saved them meanwhile).
#[derive(Debug, Default, PartialEq)]
pub struct LivenessChange {
    /// The new strictness, when it changed.
    pub threshold: Option<f32>,
    /// The new model's folder, when it changed.
    pub model_dir: Option<PathBuf>,
}

impl LivenessChange {
    pub fn between(
        before: &crate::settings::LivenessSettings,
        after: &crate::settings::LivenessSettings,
    ) -> LivenessChange {
        let dir = model_dir(after);
        LivenessChange {
            threshold: (after.threshold != before.threshold).then_some(after.threshold),
            model_dir: (dir != model_dir(before)).then_some(dir),
        }
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

/// One of the two classifiers, as recorded.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SvmRecord {
    pub gamma: f64,
    pub support_vectors: i32,
    /// +1 when the SVM's raw output is positive for live faces, −1 otherwise.
    pub live_sign: f32,
    /// SHA-256 of the SVM file, checked when it is loaded.
    pub sha256: String,
}

/// How strict the check is: at a threshold, the share of attack frames accepted and of
/// live frames refused, measured leaving each training person out in turn.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Tradeoff {
    pub threshold: f32,
    pub apcer: f64,
    pub bpcer: f64,
}

impl Tradeoff {
    /// The trade-off at thresholds −1.0, −0.9, …, 1.0 of held-out scores of live faces and
    /// of attacks: the share of attacks above each threshold and of live faces at or below.
    pub fn over_thresholds(live: &[f32], attacks: &[f32]) -> Vec<Tradeoff> {
        let share = |v: &[f32], hit: &dyn Fn(f32) -> bool| {
            v.iter().filter(|s| hit(**s)).count() as f64 / v.len().max(1) as f64
        };
        (-10..=10)
            .map(|i| {
                let threshold = i as f32 / 10.0;
                Tradeoff {
                    threshold,
                    apcer: share(attacks, &|s| s > threshold),
                    bpcer: share(live, &|s| s <= threshold),
                }
            })
            .collect()
    }
}

/// What a liveness model was trained on, saved beside it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainingRecord {
    pub layout: String,
    pub trained_at: String,
    pub live_dir: String,
    pub spoof_dir: String,
    /// People (folder names) whose frames were used.
    pub people: Vec<String>,
    pub live_frames: usize,
    pub spoof_frames: usize,
    /// Live frames used as the people's references (as their kiosk enrolment would be).
    pub reference_frames: usize,
    /// Frames skipped because no face was found.
    pub skipped_frames: usize,
    pub svm_c: f64,
    pub generic: SvmRecord,
    /// The generic model's operating point: its raw score at this value reads as 0, the
    /// client model's. Chosen on the training people (see
    /// [`training::generic_operating_point`]); 0 in models trained before it existed.
    #[serde(default)]
    pub generic_threshold: f32,
    pub client: SvmRecord,
    /// The client model's measured trade-off (empty when not measured).
    pub tradeoff: Vec<Tradeoff>,
    /// How the model was adapted to a site's camera, when it was.
    #[serde(default)]
    pub site: Option<site::SiteRecord>,
}

impl Default for TrainingRecord {
    fn default() -> Self {
        TrainingRecord {
            layout: MODEL_LAYOUT.into(),
            trained_at: String::new(),
            live_dir: String::new(),
            spoof_dir: String::new(),
            people: Vec::new(),
            live_frames: 0,
            spoof_frames: 0,
            reference_frames: 0,
            skipped_frames: 0,
            svm_c: SVM_C,
            generic: SvmRecord::default(),
            generic_threshold: 0.0,
            client: SvmRecord::default(),
            tradeoff: Vec::new(),
            site: None,
        }
    }
}

/// The SVMs' regularisation.
const SVM_C: f64 = 10.0;

/// Rows of live faces, then rows of attacks.
type LabelledRows = (Vec<Vec<f32>>, Vec<Vec<f32>>);

/// One trained RBF classifier of fixed-length rows.
struct Classifier {
    svm: Ptr<SVM>,
    live_sign: f32,
    len: usize,
}

fn rows_mat(rows: &[&[f32]], len: usize) -> Result<Mat, VisionError> {
    let mut m =
        Mat::new_rows_cols_with_default(rows.len() as i32, len as i32, CV_32F, Scalar::default())?;
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

impl Classifier {
    /// Trains on rows of live faces and of attacks; the RBF width is `gamma`, else taken
    /// from the data's spread.
    fn train(
        live: &[Vec<f32>],
        spoof: &[Vec<f32>],
        gamma: Option<f64>,
    ) -> Result<(Classifier, SvmRecord), VisionError> {
        let rows: Vec<&[f32]> = live.iter().chain(spoof).map(|v| v.as_slice()).collect();
        let len = rows.first().map(|r| r.len()).unwrap_or(FEATURE_LEN);
        let samples = rows_mat(&rows, len)?;
        let labels: Vec<i32> = (0..rows.len()).map(|i| i32::from(i < live.len())).collect();
        let responses = Mat::from_slice(&labels)?.t()?.to_mat()?;
        debug_assert_eq!(responses.typ(), CV_32S);
        let gamma = gamma.unwrap_or_else(|| spread_gamma(&rows, len));
        let mut svm = SVM::create()?;
        svm.set_type(ml::SVM_C_SVC)?;
        svm.set_kernel(ml::SVM_RBF)?;
        svm.set_c(SVM_C)?;
        svm.set_gamma(gamma)?;
        svm.set_term_criteria(TermCriteria::new(
            TermCriteria_Type::COUNT as i32 + TermCriteria_Type::EPS as i32,
            100_000,
            1e-6,
        )?)?;
        svm.train(&samples, ml::ROW_SAMPLE, &responses)?;
        // OpenCV's sign convention for the raw output depends on label order: measure it.
        let mut c = Classifier {
            svm,
            live_sign: 1.0,
            len,
        };
        let mean_of = |rows: &[Vec<f32>], c: &Classifier| -> Result<f32, VisionError> {
            let mut sum = 0.0;
            for r in rows {
                sum += c.score(r)?;
            }
            Ok(sum / rows.len().max(1) as f32)
        };
        if mean_of(live, &c)? < mean_of(spoof, &c)? {
            c.live_sign = -1.0;
        }
        let record = SvmRecord {
            gamma,
            support_vectors: c.svm.get_support_vectors()?.rows(),
            live_sign: c.live_sign,
            sha256: String::new(),
        };
        Ok((c, record))
    }

    /// The rows the classifier keeps (its support vectors), live ones then attacks: what
    /// it learnt, in a form another training can start from.
    fn support_rows(&self) -> Result<LabelledRows, VisionError> {
        // An RBF machine keeps its support vectors as they are (only linear ones are compressed).
        let vectors = self.svm.get_support_vectors()?;
        let (mut alpha, mut index) = (Mat::default(), Mat::default());
        self.svm.get_decision_function(0, &mut alpha, &mut index)?;
        let mut alpha64 = Mat::default();
        alpha.convert_to(&mut alpha64, opencv::core::CV_64F, 1.0, 0.0)?;
        let (mut live, mut spoof) = (Vec::new(), Vec::new());
        for i in 0..index.total() as i32 {
            let row = vectors.at_row::<f32>(*index.at::<i32>(i)?)?.to_vec();
            // The decision value rises with a positive weight; `live_sign` says which
            // way is live.
            if *alpha64.at::<f64>(i)? * f64::from(self.live_sign) > 0.0 {
                live.push(row);
            } else {
                spoof.push(row);
            }
        }
        Ok((live, spoof))
    }

    fn score(&self, row: &[f32]) -> Result<f32, VisionError> {
        let sample = rows_mat(&[row], self.len)?;
        let mut out = Mat::default();
        self.svm
            .predict(&sample, &mut out, ml::StatModel_RAW_OUTPUT)?;
        Ok(self.live_sign * *out.at::<f32>(0)?)
    }

    /// Writes the SVM; returns its checksum.
    fn save(&self, path: &Path) -> Result<String, VisionError> {
        self.svm.save(path.to_string_lossy().as_ref())?;
        let bytes = std::fs::read(path).map_err(|e| unwritable(path, e))?;
        Ok(sha256_hex(&bytes))
    }

    fn load(path: &Path, record: &SvmRecord, len: usize) -> Result<Classifier, ModelError> {
        let fail = |reason: &str| ModelError::Liveness {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let bytes = std::fs::read(path).map_err(|_| fail("the model is missing"))?;
        if sha256_hex(&bytes) != record.sha256 {
            return Err(fail("the model is damaged (its checksum is wrong)"));
        }
        let svm = SVM::load(path.to_string_lossy().as_ref())
            .map_err(|_| fail("the model could not be read"))?;
        let trained =
            svm.is_trained().unwrap_or(false) && svm.get_var_count().unwrap_or(0) == len as i32;
        if !trained {
            return Err(fail("the model could not be read"));
        }
        Ok(Classifier {
            svm,
            live_sign: record.live_sign,
            len,
        })
    }
}

/// The RBF width from the data's spread, as scikit-learn's "scale" does.
fn spread_gamma(rows: &[&[f32]], len: usize) -> f64 {
    let n = (rows.len() * len) as f64;
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
    1.0 / (len as f64 * var.max(1e-12))
}

/// The client model's row: the face's features, then their difference from the student's
/// reference.
pub fn client_row(features: &[f32], reference: &[f32]) -> Vec<f32> {
    let mut row = Vec::with_capacity(2 * features.len());
    row.extend_from_slice(features);
    row.extend(features.iter().zip(reference).map(|(f, r)| f - r));
    row
}

/// A trained live-or-photo check. A score above the threshold (default 0) means live.
pub struct LivenessModel {
    generic: Classifier,
    client: Classifier,
    pub record: TrainingRecord,
}

impl LivenessModel {
    /// Trains both classifiers. `live` and `spoof` are (features, the person's reference if
    /// they have one).
    pub fn train(
        live: &[(Vec<f32>, Option<Vec<f32>>)],
        spoof: &[(Vec<f32>, Option<Vec<f32>>)],
        mut record: TrainingRecord,
    ) -> Result<LivenessModel, VisionError> {
        let plain = |v: &[(Vec<f32>, Option<Vec<f32>>)]| -> Vec<Vec<f32>> {
            v.iter().map(|(f, _)| f.clone()).collect()
        };
        let client = |v: &[(Vec<f32>, Option<Vec<f32>>)]| -> Vec<Vec<f32>> {
            v.iter()
                .filter_map(|(f, r)| r.as_ref().map(|r| client_row(f, r)))
                .collect()
        };
        let (generic, generic_record) = Classifier::train(&plain(live), &plain(spoof), None)?;
        let (client_live, client_spoof) = (client(live), client(spoof));
        if client_live.is_empty() || client_spoof.is_empty() {
            return Err(VisionError::OpenCv(opencv::Error::new(
                opencv::core::StsBadArg,
                "training needs people with reference frames".to_string(),
            )));
        }
        let (client, client_record) = Classifier::train(&client_live, &client_spoof, None)?;
        record.layout = MODEL_LAYOUT.into();
        record.svm_c = SVM_C;
        record.generic = generic_record;
        record.client = client_record;
        Ok(LivenessModel {
            generic,
            client,
            record,
        })
    }

    /// Liveness score of a face's features: with the student's reference (from their
    /// kiosk enrolment) when there is one, else the generic model (from its operating
    /// point).
    pub fn score_features(
        &self,
        features: &[f32],
        reference: Option<&[f32]>,
    ) -> Result<f32, VisionError> {
        match reference {
            Some(r) => self.client.score(&client_row(features, r)),
            None => Ok(self.generic.score(features)? - self.record.generic_threshold),
        }
    }

    /// Writes the models and their record into `dir`.
    pub fn save(&mut self, dir: &Path) -> Result<(), VisionError> {
        std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, e))?;
        self.record.generic.sha256 = self.generic.save(&dir.join(GENERIC_FILE))?;
        self.record.client.sha256 = self.client.save(&dir.join(CLIENT_FILE))?;
        let json = serde_json::to_string_pretty(&self.record).expect("record serialises");
        let record_path = dir.join(RECORD_FILE);
        std::fs::write(&record_path, json + "\n").map_err(|e| unwritable(&record_path, e))
    }

    /// Loads the models in `dir`, checking them against their record.
    pub fn load(dir: &Path) -> Result<LivenessModel, ModelError> {
        let record = TrainingRecord::read(dir)?;
        Ok(LivenessModel {
            generic: Classifier::load(&dir.join(GENERIC_FILE), &record.generic, FEATURE_LEN)?,
            client: Classifier::load(&dir.join(CLIENT_FILE), &record.client, 2 * FEATURE_LEN)?,
            record,
        })
    }
}

impl TrainingRecord {
    /// Reads the record of the model in `dir` (what it was trained on, its trade-off)
    /// without loading the model itself.
    pub fn read(dir: &Path) -> Result<TrainingRecord, ModelError> {
        let record_path = dir.join(RECORD_FILE);
        let fail = |reason: &str| ModelError::Liveness {
            path: record_path.clone(),
            reason: reason.to_string(),
        };
        let text = std::fs::read_to_string(&record_path)
            .map_err(|_| fail("the model's record is missing"))?;
        let record: TrainingRecord = serde_json::from_str(&text).map_err(|_| {
            fail("the model was made by another version of Rollcall, or its record is damaged")
        })?;
        if record.layout != MODEL_LAYOUT {
            return Err(fail("the model was made by another version of Rollcall"));
        }
        Ok(record)
    }
}

fn unwritable(path: &Path, e: std::io::Error) -> VisionError {
    VisionError::OpenCv(opencv::Error::new(
        opencv::core::StsError,
        format!("could not write {}: {e}", path.display()),
    ))
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
    fn a_classifier_retrained_on_what_it_kept_decides_the_same() {
        // Two noisy clouds that overlap a little, so some rows end on the margin.
        let mut rng = 7u32;
        let mut noise = || {
            rng = rng.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (rng >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let mut cloud = |centre: f32| -> Vec<Vec<f32>> {
            (0..60)
                .map(|_| (0..6).map(|_| centre + 1.5 * noise()).collect())
                .collect()
        };
        let (live, spoof) = (cloud(0.4), cloud(-0.4));
        let (first, record) = Classifier::train(&live, &spoof, None).unwrap();
        let (kept_live, kept_spoof) = first.support_rows().unwrap();
        assert!(!kept_live.is_empty() && !kept_spoof.is_empty());
        assert!(kept_live.len() + kept_spoof.len() < live.len() + spoof.len());
        let (again, _) = Classifier::train(&kept_live, &kept_spoof, Some(record.gamma)).unwrap();
        let agree = live
            .iter()
            .chain(&spoof)
            .filter(|r| (first.score(r).unwrap() > 0.0) == (again.score(r).unwrap() > 0.0))
            .count();
        assert!(agree >= 114, "{agree} of 120 decided the same");
        let live_side = live
            .iter()
            .filter(|r| again.score(r).unwrap() > 0.0)
            .count();
        assert!(live_side > 45, "live rows stay live: {live_side} of 60");
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
