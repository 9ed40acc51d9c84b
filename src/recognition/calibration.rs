//! Site calibration: what a stranger's similarity looks like here.
//!
//! Face similarity depends on where the photos come from. Between web photos of strangers
//! (other cameras, other light, other decades) it is low; between students photographed by
//! one classroom camera, in one room and light, it is much higher, and a threshold chosen
//! on web photos lets strangers in. So each model's scores are normalised by strangers
//! *of this site*: the enrolled students compared with each other (each student's templates
//! against every other student's, as a stranger's probe would be), and, for the kiosk,
//! the faces it has confidently attributed compared with the other students. With few
//! students those figures are shrunk towards a conservative prior (a same-camera
//! classroom), so one or two enrolled students get a strict decision, and the site's own
//! figures take over as the class grows.

use super::gallery::{Gallery, ModelRows, Origin};
use crate::settings::CalibrationSettings;

/// Where a probe face comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A frame of the kiosk's camera.
    Camera,
    /// A photo handed in (the HTTP API, the command line, an enrolment photo).
    Photo,
}

/// One model's stranger statistics at this site.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelStats {
    pub mean: f32,
    pub std: f32,
    /// Pairs of students the figures come from (0: the prior alone).
    pub pairs: f32,
}

/// Stranger statistics per model, for probes from the camera and for photos.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Calibration {
    camera: Vec<(String, ModelStats)>,
    photo: Vec<(String, ModelStats)>,
    /// Pairs of students the prior counts as, for the camera and for photos.
    prior_weight: (f32, f32),
}

/// A small deterministic generator, for sampling pairs of a large school.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// What stands for a probe of `source` from each student: (is an observation, row).
fn rows_by_student(m: &ModelRows, students: usize, source: Source) -> Vec<Vec<(bool, usize)>> {
    let mut probes = vec![Vec::new(); students];
    for (i, (o, origin)) in m.owner.iter().zip(&m.origin).enumerate() {
        if source == Source::Photo || *origin == Origin::Camera {
            probes[*o as usize].push((false, i));
        }
    }
    if source == Source::Camera {
        for (i, o) in m.observed_owner.iter().enumerate() {
            probes[*o as usize].push((true, i));
        }
    }
    probes
}

fn measure_model(
    m: &ModelRows,
    students: usize,
    source: Source,
    settings: &CalibrationSettings,
) -> Option<(f32, f32, f32)> {
    if students < 2 {
        return None;
    }
    let probes = rows_by_student(m, students, source);
    let mut templates = vec![Vec::new(); students];
    for (i, o) in m.owner.iter().enumerate() {
        templates[*o as usize].push(i);
    }
    let ordered = students * (students - 1);
    let pairs: Vec<(usize, usize)> = if ordered <= settings.max_pairs.max(1) {
        (0..students)
            .flat_map(|a| (0..students).filter(move |b| *b != a).map(move |b| (a, b)))
            .collect()
    } else {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ students as u64);
        (0..settings.max_pairs)
            .map(|_| {
                let a = rng.below(students);
                let b = (a + 1 + rng.below(students - 1)) % students;
                (a, b)
            })
            .collect()
    };
    let (mut values, mut pair_means, mut decoded) = (Vec::new(), Vec::new(), Vec::new());
    for (a, b) in pairs {
        if probes[a].is_empty() || templates[b].is_empty() {
            continue;
        }
        let before = values.len();
        for (observed, i) in &probes[a] {
            let x = if *observed {
                m.observation(*i)
            } else {
                m.rows.decode_into(*i, &mut decoded);
                &decoded
            };
            let best = templates[b]
                .iter()
                .map(|j| m.rows.similarity(*j, x))
                .fold(f32::NEG_INFINITY, f32::max);
            values.push(best);
        }
        let v = &values[before..];
        pair_means.push(v.iter().sum::<f32>() / v.len() as f32);
    }
    if pair_means.is_empty() {
        return None;
    }
    // Each pair of students weighs the same, however many templates they have.
    let mean = pair_means.iter().sum::<f32>() / pair_means.len() as f32;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32;
    // Unordered pairs: each pair of students counts once.
    Some((mean, var, pair_means.len() as f32 / 2.0))
}

/// How many pairs of students the prior counts as for probes from `source`.
fn prior_weight(settings: &CalibrationSettings, source: Source) -> f32 {
    match source {
        Source::Camera => settings.prior_pairs,
        Source::Photo => settings.photo_prior_pairs,
    }
    .max(0.0)
}

impl Calibration {
    /// Measures the site's stranger statistics from the gallery.
    pub fn measure(gallery: &Gallery, settings: &CalibrationSettings) -> Calibration {
        let mut out = Calibration {
            prior_weight: (
                prior_weight(settings, Source::Camera),
                prior_weight(settings, Source::Photo),
            ),
            ..Calibration::default()
        };
        for prior in &settings.prior {
            let model = gallery.model(&prior.model_id);
            for (source, list) in [
                (Source::Camera, &mut out.camera),
                (Source::Photo, &mut out.photo),
            ] {
                let measured =
                    model.and_then(|m| measure_model(m, gallery.len(), source, settings));
                let k = prior_weight(settings, source);
                let (mu0, sd0) = (prior.stranger_mean, prior.stranger_std);
                let stats = match measured {
                    Some((mean, var, n)) if n + k > 0.0 => {
                        let mu = (mean * n + k * mu0) / (n + k);
                        // The spread of strangers' scores about their own mean, shrunk
                        // separately: being unsure where the site's mean lies does not
                        // widen that spread (counting the gap between the site's mean
                        // and the shrunk one as spread made a few students' figures
                        // stricter the more they differed from the prior, in either
                        // direction).
                        let v = (var * n + k * sd0 * sd0) / (n + k);
                        ModelStats {
                            mean: mu,
                            std: v.sqrt().max(1e-4),
                            pairs: n,
                        }
                    }
                    _ => ModelStats {
                        mean: mu0,
                        std: sd0.max(1e-4),
                        pairs: 0.0,
                    },
                };
                list.push((prior.model_id.clone(), stats));
            }
        }
        out
    }

    /// A model's statistics for probes from `source` (`None` for a model with no prior).
    pub fn stats(&self, source: Source, model_id: &str) -> Option<ModelStats> {
        self.of(source)
            .0
            .iter()
            .find(|(m, _)| m == model_id)
            .map(|(_, s)| *s)
    }

    /// Pairs of students behind the figures for probes from `source` (the fewest over the
    /// models).
    pub fn pairs(&self, source: Source) -> f32 {
        self.of(source)
            .0
            .iter()
            .map(|(_, s)| s.pairs)
            .fold(f32::INFINITY, f32::min)
    }

    /// Whether the decision for probes from `source` still leans on the prior more than
    /// on the site's own figures (fewer pairs of students compared than the prior counts
    /// as): it is then stricter than it needs to be.
    pub fn is_conservative(&self, source: Source) -> bool {
        let (list, weight) = self.of(source);
        list.iter().any(|(_, s)| s.pairs < weight.max(1.0))
    }

    /// The statistics for probes from `source`, and the prior's weight for them.
    fn of(&self, source: Source) -> (&[(String, ModelStats)], f32) {
        match source {
            Source::Camera => (&self.camera, self.prior_weight.0),
            Source::Photo => (&self.photo, self.prior_weight.1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::Embeddings;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn settings(mean: f32, std: f32) -> CalibrationSettings {
        CalibrationSettings {
            prior: vec![crate::settings::ModelPrior {
                model_id: "m".into(),
                stranger_mean: mean,
                stranger_std: std,
            }],
            ..CalibrationSettings::default()
        }
    }

    #[test]
    fn an_empty_or_one_student_gallery_uses_the_prior() {
        let s = settings(0.9, 0.02);
        let c = Calibration::measure(&Gallery::default(), &s);
        let st = c.stats(Source::Photo, "m").unwrap();
        assert_eq!((st.mean, st.std, st.pairs), (0.9, 0.02, 0.0));
        let mut g = Gallery::default();
        g.add_face(
            1,
            &Embeddings(vec![("m", unit(&[1.0, 0.0]))]),
            Origin::Upload,
        );
        let c = Calibration::measure(&g, &s);
        assert_eq!(c.stats(Source::Camera, "m").unwrap().pairs, 0.0);
        assert!(c.is_conservative(Source::Camera));
    }

    #[test]
    fn many_similar_students_raise_the_stranger_level_above_a_low_prior() {
        // Forty students who all look alike (same camera, same light): their mutual
        // similarity is about 0.98, far above the prior of 0.5.
        let mut g = Gallery::default();
        for i in 0..40 {
            let t = i as f32 * 0.005;
            let v = unit(&[1.0, t, 0.1]);
            g.add_face(i, &Embeddings(vec![("m", v)]), Origin::Camera);
        }
        let c = Calibration::measure(&g, &settings(0.5, 0.1));
        let st = c.stats(Source::Camera, "m").unwrap();
        assert!(st.mean > 0.95, "{st:?}");
        assert!(st.pairs > 100.0);
        assert!(!c.is_conservative(Source::Camera));
    }

    #[test]
    fn single_photos_lean_on_the_prior_longer_than_the_kiosk() {
        // Three students from the kiosk's camera who look unlike each other: their figures
        // would lower the bar; single photos keep closer to the prior.
        let mut g = Gallery::default();
        for (i, v) in [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
            .iter()
            .enumerate()
        {
            g.add_face(
                i as i64,
                &Embeddings(vec![("m", v.to_vec())]),
                Origin::Camera,
            );
        }
        let c = Calibration::measure(&g, &settings(0.9, 0.02));
        let (camera, photo) = (
            c.stats(Source::Camera, "m").unwrap(),
            c.stats(Source::Photo, "m").unwrap(),
        );
        assert_eq!((camera.pairs, photo.pairs), (3.0, 3.0));
        assert!(!c.is_conservative(Source::Camera));
        assert!(c.is_conservative(Source::Photo));
        // 3 pairs measured at 0: the camera's prior counts 3 pairs, a photo's 10.
        assert!((camera.mean - 0.45).abs() < 1e-5, "{camera:?}");
        assert!((photo.mean - 0.9 * 10.0 / 13.0).abs() < 1e-5, "{photo:?}");
    }

    #[test]
    fn upload_templates_count_for_photos_but_not_for_the_camera() {
        let mut g = Gallery::default();
        for i in 0..5 {
            let v = unit(&[1.0, i as f32, 1.0]);
            g.add_face(i, &Embeddings(vec![("m", v)]), Origin::Upload);
        }
        let c = Calibration::measure(&g, &settings(0.9, 0.02));
        assert!(c.stats(Source::Photo, "m").unwrap().pairs > 0.0);
        assert_eq!(c.stats(Source::Camera, "m").unwrap().pairs, 0.0);
        // Faces the kiosk saw stand for camera probes.
        g.add_observation(0, "m", &unit(&[1.0, 0.0, 1.0]));
        let c = Calibration::measure(&g, &settings(0.9, 0.02));
        assert!(c.stats(Source::Camera, "m").unwrap().pairs > 0.0);
    }
}
