//! The evaluation harness behind `rollcall eval`: the protocol of
//! `../shared/datasets/README.md` on a folder-per-person data set.
//!
//! A person with at least K+1 photos is enrolled with the first K (file-name order) and the
//! rest (at most 10) are genuine probes; everyone else is an impostor whose photos are all
//! impostor probes. Nothing touches the user's database: the gallery lives in memory.

use opencv::core::{Mat, Rect, Size, Vector};
use opencv::prelude::*;
use opencv::{face, imgproc, objdetect};
use rollcall::attendance::main_face;
use rollcall::recognition::{Candidate, Gallery};
use rollcall::settings::{RecognitionSettings, Settings};
use rollcall::vision::image_io::{file_name_of, folders_in, images_in, read_image_file};
use rollcall::vision::{Embeddings, FaceEngine, VisionError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Most genuine probes per enrolled person.
pub const MAX_PROBES_PER_PERSON: usize = 10;

/// Who is enrolled with which photos, and which photos probe.
#[derive(Debug, Default)]
pub struct Protocol {
    /// (person, enrolment photos, genuine probes)
    pub enrolled: Vec<(String, Vec<PathBuf>, Vec<PathBuf>)>,
    /// (person, impostor probes)
    pub impostors: Vec<(String, Vec<PathBuf>)>,
}

impl Protocol {
    /// Splits a folder-per-person data set for K enrolment photos.
    pub fn from_dir(dir: &Path, k: usize) -> std::io::Result<Protocol> {
        let mut protocol = Protocol::default();
        for person in folders_in(dir)? {
            let name = file_name_of(&person);
            let mut photos = images_in(&person)?;
            if photos.len() > k {
                let probes = photos[k..]
                    .iter()
                    .take(MAX_PROBES_PER_PERSON)
                    .cloned()
                    .collect();
                photos.truncate(k);
                protocol.enrolled.push((name, photos, probes));
            } else if !photos.is_empty() {
                protocol.impostors.push((name, photos));
            }
        }
        Ok(protocol)
    }

    pub fn photo_count(&self) -> usize {
        self.enrolled
            .iter()
            .map(|(_, e, p)| e.len() + p.len())
            .sum::<usize>()
            + self.impostors.iter().map(|(_, p)| p.len()).sum::<usize>()
    }
}

/// Figures for one method, as fractions.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Metrics {
    pub correct_accept: f64,
    pub wrong_person: f64,
    pub false_reject: f64,
    pub stranger_accept: f64,
    pub no_face: f64,
    pub rank1: f64,
    pub correct_at_1pct: f64,
    pub correct_at_0_1pct: f64,
    pub sec_per_photo: f64,
}

/// One probe's best match: (truth, best candidate with its score; None = no face/gallery).
struct ProbeResult {
    truth: Option<usize>,
    best: Option<(usize, f32, f32)>, // (person, score, margin)
    face_found: bool,
}

/// Computes the metrics from probe results under a threshold and margin.
fn metrics(results: &[ProbeResult], threshold: f32, margin: f32, sec_per_photo: f64) -> Metrics {
    let genuine: Vec<&ProbeResult> = results.iter().filter(|r| r.truth.is_some()).collect();
    let impostor: Vec<&ProbeResult> = results.iter().filter(|r| r.truth.is_none()).collect();
    let g = genuine.len().max(1) as f64;
    let i = impostor.len().max(1) as f64;
    let accepted =
        |r: &ProbeResult, t: f32| matches!(r.best, Some((_, s, m)) if s >= t && m >= margin);
    let correct = |r: &ProbeResult, t: f32| accepted(r, t) && r.best.map(|b| b.0) == r.truth;
    let ca = genuine.iter().filter(|r| correct(r, threshold)).count() as f64;
    let wp = genuine
        .iter()
        .filter(|r| accepted(r, threshold) && !correct(r, threshold))
        .count() as f64;
    let sa = impostor.iter().filter(|r| accepted(r, threshold)).count() as f64;
    let rank1 = genuine
        .iter()
        .filter(|r| r.best.map(|b| b.0) == r.truth && r.truth.is_some())
        .count() as f64;
    let no_face = results.iter().filter(|r| !r.face_found).count() as f64;

    // Threshold sweep: the lowest threshold that lets through at most the allowed share
    // of impostor probes, and the correct accept rate there.
    let mut stranger_scores: Vec<f32> = impostor
        .iter()
        .filter_map(|r| r.best.filter(|b| b.2 >= margin).map(|b| b.1))
        .collect();
    stranger_scores.sort_by(|a, b| b.total_cmp(a));
    let at_rate = |rate: f64| {
        let allowed = (rate * impostor.len() as f64).floor() as usize;
        let t = stranger_scores
            .get(allowed)
            .map(|s| s.next_up())
            .unwrap_or(f32::NEG_INFINITY);
        genuine.iter().filter(|r| correct(r, t)).count() as f64 / g
    };
    Metrics {
        correct_accept: ca / g,
        wrong_person: wp / g,
        false_reject: (g - ca - wp) / g,
        stranger_accept: sa / i,
        no_face: no_face / results.len().max(1) as f64,
        rank1: rank1 / g,
        correct_at_1pct: at_rate(0.01),
        correct_at_0_1pct: at_rate(0.001),
        sec_per_photo,
    }
}

/// The embeddings of every photo (None where no face was found).
pub struct EmbeddedSet {
    pub enrol: Vec<Vec<Option<Embeddings>>>,
    pub genuine: Vec<Vec<Option<Embeddings>>>,
    pub impostor: Vec<Vec<Option<Embeddings>>>,
    pub sec_per_photo: f64,
}

/// Embeds every photo of the protocol; `progress` is called after each photo.
pub fn embed_all(
    engine: &mut FaceEngine,
    protocol: &Protocol,
    mut progress: impl FnMut(),
) -> Result<EmbeddedSet, VisionError> {
    let start = Instant::now();
    let mut count = 0usize;
    let mut one = |engine: &mut FaceEngine,
                   path: &Path,
                   enrol: bool|
     -> Result<Option<Embeddings>, VisionError> {
        count += 1;
        let out = match read_image_file(path) {
            Ok(image) => {
                let faces = engine.detect(&image)?;
                let face = if enrol {
                    main_face(&faces)
                } else {
                    faces.first()
                };
                match face {
                    Some(f) if !enrol || engine.assess(&image, f)?.is_good() => {
                        Some(engine.embed(&image, f)?)
                    }
                    _ => None,
                }
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "{e}");
                None
            }
        };
        progress();
        Ok(out)
    };
    let mut enrol = Vec::new();
    let mut genuine = Vec::new();
    for (_, e, p) in &protocol.enrolled {
        enrol.push(
            e.iter()
                .map(|x| one(engine, x, true))
                .collect::<Result<_, _>>()?,
        );
        genuine.push(
            p.iter()
                .map(|x| one(engine, x, false))
                .collect::<Result<_, _>>()?,
        );
    }
    let mut impostor = Vec::new();
    for (_, p) in &protocol.impostors {
        impostor.push(
            p.iter()
                .map(|x| one(engine, x, false))
                .collect::<Result<_, _>>()?,
        );
    }
    let sec_per_photo = start.elapsed().as_secs_f64() / count.max(1) as f64;
    Ok(EmbeddedSet {
        enrol,
        genuine,
        impostor,
        sec_per_photo,
    })
}

impl EmbeddedSet {
    /// Scores every probe against a gallery of the enrolled people.
    fn results(&self, settings: &RecognitionSettings) -> Vec<ProbeResult> {
        let mut gallery = Gallery::default();
        for (person, faces) in self.enrol.iter().enumerate() {
            for f in faces.iter().flatten() {
                gallery.add_face(person as i64, f);
            }
        }
        let probe = |truth: Option<usize>, e: &Option<Embeddings>| ProbeResult {
            truth,
            face_found: e.is_some(),
            best: e
                .as_ref()
                .and_then(|e| gallery.best(e, &settings.models))
                .map(
                    |Candidate {
                         student_id,
                         score,
                         margin,
                     }| (student_id as usize, score, margin),
                ),
        };
        let mut out = Vec::new();
        for (person, probes) in self.genuine.iter().enumerate() {
            out.extend(probes.iter().map(|e| probe(Some(person), e)));
        }
        for probes in &self.impostor {
            out.extend(probes.iter().map(|e| probe(None, e)));
        }
        out
    }

    /// Metrics under the given recognition settings.
    pub fn evaluate(&self, settings: &RecognitionSettings) -> Metrics {
        metrics(
            &self.results(settings),
            settings.threshold,
            settings.margin,
            self.sec_per_photo,
        )
    }

    /// Similarities between faces of different people, per model (for calibration).
    pub fn stranger_similarities(&self, model_id: &str) -> Vec<f32> {
        let people: Vec<Vec<&[f32]>> = self
            .enrol
            .iter()
            .chain(&self.impostor)
            .map(|faces| {
                faces
                    .iter()
                    .flatten()
                    .filter_map(|e| e.get(model_id))
                    .collect()
            })
            .collect();
        let mut out = Vec::new();
        for (i, a) in people.iter().enumerate() {
            for b in people.iter().skip(i + 1).take(40) {
                if let (Some(x), Some(y)) = (a.first(), b.first()) {
                    out.push(x.iter().zip(y.iter()).map(|(p, q)| p * q).sum());
                }
            }
        }
        out
    }
}

/// The old system's recogniser for comparison: Haar cascade + LBPH (OpenCV contrib).
pub fn baseline(protocol: &Protocol, mut progress: impl FnMut()) -> Result<Metrics, VisionError> {
    const CASCADE: &str = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
    /// LBPH distance below which the old recogniser accepts a match.
    const LBPH_THRESHOLD: f32 = 80.0;
    let mut cascade = objdetect::CascadeClassifier::new(CASCADE)?;
    let start = Instant::now();
    let mut count = 0usize;
    let mut crop = |path: &Path| -> Result<Option<Mat>, VisionError> {
        count += 1;
        progress();
        let Ok(image) = read_image_file(path) else {
            return Ok(None);
        };
        let mut grey = Mat::default();
        imgproc::cvt_color_def(&image, &mut grey, imgproc::COLOR_BGR2GRAY)?;
        let mut faces = Vector::<Rect>::new();
        cascade.detect_multi_scale(
            &grey,
            &mut faces,
            1.1,
            5,
            0,
            Size::new(30, 30),
            Size::default(),
        )?;
        let Some(r) = faces.iter().max_by_key(|r| r.area()) else {
            return Ok(None);
        };
        let mut out = Mat::default();
        imgproc::resize(
            &Mat::roi(&grey, r)?,
            &mut out,
            Size::new(100, 100),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        Ok(Some(out))
    };
    let mut train = Vector::<Mat>::new();
    let mut labels = Vec::<i32>::new();
    let mut genuine = Vec::new();
    for (person, (_, e, p)) in protocol.enrolled.iter().enumerate() {
        for path in e {
            if let Some(m) = crop(path)? {
                train.push(m);
                labels.push(person as i32);
            }
        }
        for path in p {
            genuine.push((person, crop(path)?));
        }
    }
    let mut impostor = Vec::new();
    for (_, p) in &protocol.impostors {
        for path in p {
            impostor.push(crop(path)?);
        }
    }
    let mut lbph = face::LBPHFaceRecognizer::create(1, 8, 8, 8, f64::MAX)?;
    lbph.train(&train, &Mat::from_slice(&labels)?)?;
    let predict = |m: &Option<Mat>| -> Result<Option<(usize, f32, f32)>, VisionError> {
        let Some(m) = m else { return Ok(None) };
        let mut label = -1;
        let mut distance = 0.0;
        lbph.predict(m, &mut label, &mut distance)?;
        // Score: higher is better; the old recogniser has no runner-up margin.
        Ok((label >= 0).then_some((label as usize, -(distance as f32), f32::INFINITY)))
    };
    let mut results = Vec::new();
    for (person, m) in &genuine {
        results.push(ProbeResult {
            truth: Some(*person),
            face_found: m.is_some(),
            best: predict(m)?,
        });
    }
    for m in &impostor {
        results.push(ProbeResult {
            truth: None,
            face_found: m.is_some(),
            best: predict(m)?,
        });
    }
    let sec = start.elapsed().as_secs_f64() / count.max(1) as f64;
    Ok(metrics(&results, -LBPH_THRESHOLD, 0.0, sec))
}

/// Recognition settings restricted to one model (for the per-model rows of the table).
pub fn single_model(settings: &Settings, model_id: &str) -> RecognitionSettings {
    let mut r = settings.recognition.clone();
    r.models.retain(|m| m.model_id == model_id);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(truth: Option<usize>, best: Option<(usize, f32, f32)>) -> ProbeResult {
        ProbeResult {
            truth,
            face_found: best.is_some(),
            best,
        }
    }

    #[test]
    fn metrics_count_each_kind_of_outcome() {
        let results = vec![
            probe(Some(0), Some((0, 9.0, 3.0))), // correct
            probe(Some(1), Some((0, 9.0, 3.0))), // wrong person
            probe(Some(2), Some((2, 1.0, 1.0))), // false reject (low score), rank-1 hit
            probe(Some(3), None),                // no face
            probe(None, Some((1, 8.0, 2.0))),    // stranger accepted
            probe(None, Some((1, 2.0, 2.0))),    // stranger rejected
        ];
        let m = metrics(&results, 5.0, 0.5, 0.0);
        assert_eq!(m.correct_accept, 0.25);
        assert_eq!(m.wrong_person, 0.25);
        assert_eq!(m.false_reject, 0.5);
        assert_eq!(m.stranger_accept, 0.5);
        assert_eq!(m.rank1, 0.5);
        assert!((m.no_face - 1.0 / 6.0).abs() < 1e-9);
    }

    #[test]
    fn the_sweep_admits_no_stranger_at_a_strict_rate() {
        let results = vec![
            probe(Some(0), Some((0, 9.0, 3.0))),
            probe(Some(1), Some((1, 7.0, 3.0))),
            probe(None, Some((1, 8.0, 2.0))),
        ];
        // With one impostor probe, 1 % allows none: the threshold sits above 8.
        let m = metrics(&results, 5.0, 0.5, 0.0);
        assert_eq!(m.correct_at_1pct, 0.5);
    }

    #[test]
    fn protocol_enrols_people_with_more_than_k_photos() {
        let dir = tempfile::tempdir().unwrap();
        for (person, n) in [("a", 3), ("b", 1), ("c", 20)] {
            std::fs::create_dir(dir.path().join(person)).unwrap();
            for i in 0..n {
                std::fs::write(dir.path().join(person).join(format!("{i:02}.jpg")), b"x").unwrap();
            }
        }
        let p = Protocol::from_dir(dir.path(), 2).unwrap();
        assert_eq!(p.enrolled.len(), 2);
        assert_eq!(p.enrolled[0].1.len(), 2);
        assert_eq!(p.enrolled[0].2.len(), 1);
        assert_eq!(p.enrolled[1].2.len(), MAX_PROBES_PER_PERSON);
        assert_eq!(p.impostors.len(), 1);
    }
}
