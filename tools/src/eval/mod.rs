//! The evaluation harness behind `rollcall-tools eval`: the protocol of
//! `../shared/datasets/README.md` on a folder-per-person data set, and the classroom
//! protocol (strangers from the same camera, `classroom`).
//!
//! A person with at least K+1 photos is enrolled with the first K (file-name order) and the
//! rest (at most 10) are genuine probes; everyone else is an impostor whose photos are all
//! impostor probes. Nothing touches the user's database: the gallery lives in memory.

pub mod baseline;
pub mod classroom;

use rollcall::attendance::main_face;
use rollcall::order::natural_cmp;
use rollcall::recognition::{Gallery, Matcher, Origin, Search, Source};
use rollcall::settings::RecognitionSettings;
use rollcall::vision::image_io::{file_name_of, folders_in, images_in, read_image_file};
use rollcall::vision::{Embeddings, FaceEngine, VisionError};
use serde::Serialize;
use std::collections::HashMap;
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
            let mut photos = photos_of(&person)?;
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

/// Most recurring mistakes listed (per class size in the classroom protocol).
const MAX_MISTAKES: usize = 10;

/// Photos of one person marked as another student: who the school should look at (twins,
/// siblings, a mislabelled photo, poor enrolment photos).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Mistake {
    /// Whether the photo's person was enrolled too ("wrong person") or not ("stranger").
    pub kind: &'static str,
    /// The person in the photos.
    pub person: String,
    /// The student they were marked as.
    pub marked_as: String,
    /// Marks (the classroom protocol counts each rotation).
    pub times: usize,
    /// Different photos among them.
    pub photos: usize,
    /// One of those photos (file name).
    pub example: String,
}

/// A tally of mistakes by who was taken for whom.
#[derive(Default)]
pub(crate) struct Mistakes(HashMap<(bool, String, String), (usize, Vec<PathBuf>)>);

impl Mistakes {
    /// One photo of `person` marked as `marked_as`; `stranger`: `person` is not enrolled.
    pub(crate) fn add(&mut self, stranger: bool, person: &str, marked_as: &str, photo: &Path) {
        let key = (stranger, person.to_string(), marked_as.to_string());
        let (times, photos) = self.0.entry(key).or_default();
        *times += 1;
        if !photos.iter().any(|p| p == photo) {
            photos.push(photo.to_path_buf());
        }
    }

    /// The most frequent first (then by names, so the list is stable), at most
    /// `MAX_MISTAKES`.
    pub(crate) fn most_frequent(self) -> Vec<Mistake> {
        let mut v: Vec<Mistake> = self
            .0
            .into_iter()
            .map(|((stranger, person, marked_as), (times, photos))| Mistake {
                kind: if stranger { "stranger" } else { "wrong person" },
                person,
                marked_as,
                times,
                photos: photos.len(),
                example: photos.first().map(|p| file_name_of(p)).unwrap_or_default(),
            })
            .collect();
        v.sort_by(|a, b| {
            b.times
                .cmp(&a.times)
                .then_with(|| (&a.person, &a.marked_as).cmp(&(&b.person, &b.marked_as)))
        });
        v.truncate(MAX_MISTAKES);
        v
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
pub(crate) struct ProbeResult {
    pub truth: Option<usize>,
    pub best: Option<(usize, f32, f32)>, // (person, score, margin)
    pub face_found: bool,
}

impl ProbeResult {
    /// The person this probe is marked as under a threshold and margin, if any.
    fn accepted(&self, threshold: f32, margin: f32) -> Option<usize> {
        self.best
            .filter(|(_, s, m)| *s >= threshold && *m >= margin)
            .map(|(who, _, _)| who)
    }
}

/// Computes the metrics from probe results under a threshold and margin.
pub(crate) fn metrics(
    results: &[ProbeResult],
    threshold: f32,
    margin: f32,
    sec_per_photo: f64,
) -> Metrics {
    let genuine: Vec<&ProbeResult> = results.iter().filter(|r| r.truth.is_some()).collect();
    let impostor: Vec<&ProbeResult> = results.iter().filter(|r| r.truth.is_none()).collect();
    let g = genuine.len().max(1) as f64;
    let i = impostor.len().max(1) as f64;
    let accepted = |r: &ProbeResult, t: f32| r.accepted(t, margin).is_some();
    let correct = |r: &ProbeResult, t: f32| r.truth.is_some() && r.accepted(t, margin) == r.truth;
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

/// One photo, embedded: as a probe (its largest face) and, when it could be enrolled (one
/// clear face of good quality), as an enrolment template.
#[derive(Clone, Debug, Default)]
pub struct PhotoFaces {
    pub probe: Option<Embeddings>,
    pub template: Option<Embeddings>,
    /// The probe's face passes the quality check (sharp, lit, frontal enough).
    pub clear: bool,
    /// The distance between the probe face's eyes, in pixels.
    pub eye_distance_px: f32,
}

impl PhotoFaces {
    /// Whether the kiosk would judge this face: clear and near enough (eyes at least
    /// `min_eye_distance_px` apart); else it asks the person to step closer, face the
    /// camera, … and judges a later frame.
    pub fn kiosk_judges(&self, min_eye_distance_px: f32) -> bool {
        self.probe.is_some() && self.clear && self.eye_distance_px >= min_eye_distance_px
    }
}

/// Every photo of a set, embedded once, by path.
pub struct FaceSet {
    pub photos: HashMap<PathBuf, PhotoFaces>,
    pub sec_per_photo: f64,
    /// How the matchers made from the set search the enrolled people.
    pub search: Search,
}

/// `n / d`, or 0 when there is nothing to divide by.
pub fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// The photos of a person's folder in natural order (a NUAA frame `_109` after `_23`).
pub fn photos_of(person: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = images_in(person)?;
    v.sort_by(|a, b| natural_cmp(&file_name_of(a), &file_name_of(b)));
    Ok(v)
}

impl FaceSet {
    /// Detects and embeds every photo (as an enrolment template too where `enrols` says
    /// it may be enrolled); `progress` is called after each one.
    pub fn embed(
        engine: &mut FaceEngine,
        paths: &[PathBuf],
        enrols: impl Fn(&Path) -> bool,
        mut progress: impl FnMut(),
    ) -> Result<FaceSet, VisionError> {
        let start = Instant::now();
        let mut photos = HashMap::new();
        for path in paths {
            let faces = match read_image_file(path) {
                Ok(image) => {
                    let found = engine.detect(&image)?;
                    // A face cut off at the edge is not guessed at, as when marking.
                    match found.first().filter(|f| !engine.is_cut_off(&image, f)) {
                        Some(first) => {
                            let clear = engine.assess(&image, first)?.is_good();
                            let eye_distance_px = first.eye_distance();
                            if enrols(path) {
                                let (plain, template) =
                                    engine.embed_plain_and_template(&image, first)?;
                                let enrollable = main_face(&found).is_some() && clear;
                                PhotoFaces {
                                    probe: Some(plain),
                                    template: enrollable.then_some(template),
                                    clear,
                                    eye_distance_px,
                                }
                            } else {
                                PhotoFaces {
                                    probe: Some(engine.embed(&image, first)?),
                                    template: None,
                                    clear,
                                    eye_distance_px,
                                }
                            }
                        }
                        None => PhotoFaces::default(),
                    }
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), "{e}");
                    PhotoFaces::default()
                }
            };
            photos.insert(path.clone(), faces);
            progress();
        }
        Ok(FaceSet {
            search: Search::default(),
            photos,
            sec_per_photo: start.elapsed().as_secs_f64() / paths.len().max(1) as f64,
        })
    }

    fn get(&self, p: &Path) -> Option<&PhotoFaces> {
        self.photos.get(p)
    }

    /// A matcher with these people enrolled (their templates); `person` ids are indices.
    pub fn matcher(
        &self,
        enrolled: &[(usize, &[PathBuf])],
        origin: Origin,
        settings: &RecognitionSettings,
    ) -> Matcher {
        let mut gallery = Gallery::default();
        for (person, photos) in enrolled {
            for p in photos.iter() {
                if let Some(t) = self.get(p).and_then(|f| f.template.as_ref()) {
                    gallery.add_face(*person as i64, t, origin);
                }
            }
        }
        Matcher::new(gallery, &settings.calibration).with_search(self.search)
    }
}

impl Protocol {
    /// Every photo the protocol uses.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for (_, e, p) in &self.enrolled {
            out.extend(e.iter().cloned());
            out.extend(p.iter().cloned());
        }
        for (_, p) in &self.impostors {
            out.extend(p.iter().cloned());
        }
        out
    }

    /// Scores every probe against a gallery of the enrolled people.
    fn results(
        &self,
        set: &FaceSet,
        settings: &RecognitionSettings,
        models: &[String],
    ) -> Vec<ProbeResult> {
        let enrolled: Vec<(usize, &[PathBuf])> = self
            .enrolled
            .iter()
            .enumerate()
            .map(|(i, (_, e, _))| (i, e.as_slice()))
            .collect();
        let matcher = set.matcher(&enrolled, Origin::Upload, settings);
        let probe = |truth: Option<usize>, p: &PathBuf| {
            let e = set.get(p).and_then(|f| f.probe.as_ref());
            ProbeResult {
                truth,
                face_found: e.is_some(),
                best: e
                    .and_then(|e| matcher.best(e, Source::Photo, models))
                    .map(|c| (c.student_id as usize, c.score, c.margin)),
            }
        };
        self.probes()
            .into_iter()
            .map(|(truth, _, p)| probe(truth, p))
            .collect()
    }

    /// Every probe in order: (the enrolled person it shows, or None for an impostor; the
    /// name of who it shows; the photo).
    fn probes(&self) -> Vec<(Option<usize>, &str, &PathBuf)> {
        let mut out = Vec::new();
        for (person, (name, _, probes)) in self.enrolled.iter().enumerate() {
            out.extend(probes.iter().map(|p| (Some(person), name.as_str(), p)));
        }
        for (name, probes) in &self.impostors {
            out.extend(probes.iter().map(|p| (None, name.as_str(), p)));
        }
        out
    }

    /// The most frequent mistakes among scored probes (in `probes` order) at these
    /// settings: genuine photos given to someone else, impostors' photos accepted.
    fn mistakes(&self, results: &[ProbeResult], settings: &RecognitionSettings) -> Vec<Mistake> {
        let mut tally = Mistakes::default();
        for (r, (truth, name, photo)) in results.iter().zip(self.probes()) {
            match r.accepted(settings.accept, settings.margin) {
                Some(who) if Some(who) != truth => {
                    tally.add(truth.is_none(), name, &self.enrolled[who].0, photo)
                }
                _ => {}
            }
        }
        tally.most_frequent()
    }

    /// Rollcall's own decision (every model of the settings, their threshold and margin):
    /// its metrics and its most frequent mistakes, from one scoring of the probes.
    pub fn evaluate_fused(
        &self,
        set: &FaceSet,
        settings: &RecognitionSettings,
    ) -> (Metrics, Vec<Mistake>) {
        let results = self.results(set, settings, &settings.models);
        let m = metrics(
            &results,
            settings.accept,
            settings.margin,
            set.sec_per_photo,
        );
        (m, self.mistakes(&results, settings))
    }

    /// Metrics under the given settings, fusing `models`.
    pub fn evaluate(
        &self,
        set: &FaceSet,
        settings: &RecognitionSettings,
        models: &[String],
    ) -> Metrics {
        metrics(
            &self.results(set, settings, models),
            settings.accept,
            settings.margin,
            set.sec_per_photo,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_are_tallied_per_pair_of_people_most_frequent_first() {
        let mut m = Mistakes::default();
        let photo = |s: &str| PathBuf::from(format!("/set/{s}"));
        // Cy's photo taken for Ann twice (two rotations), another photo of Cy once; Ben's
        // photo once for Ann while both were enrolled.
        m.add(true, "Cy", "Ann", &photo("cy_1.jpg"));
        m.add(true, "Cy", "Ann", &photo("cy_1.jpg"));
        m.add(true, "Cy", "Ann", &photo("cy_2.jpg"));
        m.add(false, "Ben", "Ann", &photo("ben_1.jpg"));
        let list = m.most_frequent();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (
                list[0].kind,
                list[0].person.as_str(),
                list[0].marked_as.as_str()
            ),
            ("stranger", "Cy", "Ann")
        );
        assert_eq!((list[0].times, list[0].photos), (3, 2));
        assert_eq!(list[0].example, "cy_1.jpg");
        assert_eq!((list[1].kind, list[1].times), ("wrong person", 1));
        let mut many = Mistakes::default();
        for i in 0..4 {
            for j in 0..4 {
                for k in 0..=i + j {
                    many.add(
                        true,
                        &i.to_string(),
                        &j.to_string(),
                        &photo(&format!("{k}.jpg")),
                    );
                }
            }
        }
        let list = many.most_frequent();
        assert_eq!(list.len(), MAX_MISTAKES, "at most ten of the sixteen pairs");
        assert!(list.windows(2).all(|w| w[0].times >= w[1].times));
        assert_eq!(list[0].times, 7, "the most frequent first");
    }

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
