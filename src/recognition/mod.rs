//! Recognition: a gallery of face templates per student, and the open-set decision of
//! whether a probe face is one of them.
//!
//! For each model, a probe's similarity to a student is its best cosine similarity over
//! the student's templates. It is normalised by the site's stranger statistics for that
//! kind of probe ([`calibration`]), and adjusted for the probe itself: a face that
//! resembles many of the enrolled students (common at one camera) must stand out from its
//! closest others to count. The models' normalised scores are fused as `Σz / √n`; a match
//! needs the fused score to reach the threshold and to lead the runner-up by a margin.

pub mod calibration;
mod codes;
mod gallery;
mod one_person;

pub use calibration::{Calibration, ModelStats, Source};
pub use gallery::{Gallery, Origin};
pub use one_person::{
    looks_like_student, photo_people, same_face_on_track, same_person, FaceVectors, Photo,
    PhotoPeople,
};

use crate::settings::{CalibrationSettings, RecognitionSettings};
use crate::vision::Embeddings;

/// The best candidate for a probe face.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub student_id: i64,
    /// Fused, site-normalised score (site stranger standard deviations).
    pub score: f32,
    /// Lead over the runner-up student (equal to `score` when there is none).
    pub margin: f32,
}

/// The open-set verdict for a probe.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Recognised as this student.
    Match(Candidate),
    /// Not confidently anyone enrolled; the best guess, if any, for diagnostics.
    Unknown(Option<Candidate>),
}

impl Decision {
    /// The student recognised, if any.
    pub fn student(&self) -> Option<i64> {
        match self {
            Decision::Match(c) => Some(c.student_id),
            Decision::Unknown(_) => None,
        }
    }
}

/// Which models decide, and how high a score must be.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub models: Vec<String>,
    pub accept: f32,
    pub margin: f32,
}

impl Rule {
    /// Every model at the full threshold.
    pub fn full(s: &RecognitionSettings) -> Rule {
        Rule {
            models: s.models.clone(),
            accept: s.accept,
            margin: s.margin,
        }
    }

    /// The kiosk's first match of a face track: every model, the kiosk's threshold.
    pub fn door(s: &RecognitionSettings) -> Rule {
        Rule {
            accept: s.kiosk_accept,
            ..Rule::full(s)
        }
    }

    /// A photo's early answer from the fast model alone, before the others are computed:
    /// it must pass the full rule by itself with every other model counted as an ordinary
    /// stranger of this site (z = 0), i.e. threshold and margin × √(number of models).
    /// Only a match is early; anything else goes on to every model.
    pub fn decisive(s: &RecognitionSettings) -> Rule {
        let n = (s.models.len().max(1) as f32).sqrt();
        Rule {
            models: vec![s.confirm.model_id.clone()],
            accept: s.accept * n,
            margin: s.margin * n,
        }
    }

    /// The verdict on a probe's best candidate by this rule's models.
    pub fn judge(&self, best: Option<Candidate>) -> Decision {
        match best {
            Some(c) if c.score >= self.accept && c.margin >= self.margin => Decision::Match(c),
            other => Decision::Unknown(other),
        }
    }

    /// The kiosk's fast confirmation: one model, its own threshold.
    pub fn confirmation(s: &RecognitionSettings) -> Rule {
        Rule {
            models: vec![s.confirm.model_id.clone()],
            accept: s.confirm.accept,
            margin: s.confirm.margin,
        }
    }
}

/// How a probe is compared with the whole school.
///
/// Up to `exact_up_to` students every template is compared. Beyond, reading every
/// template of every student for each face costs more than the rest of identification
/// (64 MB at 10,000 students), so each model first compares the probe with one summary
/// per student (the mean direction of their templates, 8-bit: 6.4 MB at 10,000) and
/// looks again, exactly, only at the `shortlist` closest students of each model. A
/// student outside every model's shortlist is not a candidate. How often this changes a
/// decision is measured by `rollcall-tools bench identify` (`same_decision`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Search {
    pub exact_up_to: usize,
    pub shortlist: usize,
}

impl Default for Search {
    /// Exact up to 2,000 students (about a millisecond per face), then the 64 closest
    /// students per model: four times the probe's cohort of closest others, so the
    /// probe's likeness is measured on (nearly always) the same students.
    fn default() -> Search {
        Search {
            exact_up_to: 2000,
            shortlist: 64,
        }
    }
}

impl Search {
    /// Compare every template, whatever the size of the school.
    pub fn exact() -> Search {
        Search {
            exact_up_to: usize::MAX,
            ..Search::default()
        }
    }
}

/// The gallery with the site's calibration: what identification needs.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    gallery: Gallery,
    calibration: Calibration,
    settings: CalibrationSettings,
    search: Search,
}

/// The mean of the `k` largest values of `v`, leaving out index `skip`.
fn top_mean(sorted_desc: &[(f32, usize)], skip: usize, k: usize) -> Option<(f32, usize)> {
    let mut sum = 0.0;
    let mut n = 0;
    for (v, i) in sorted_desc.iter() {
        if n == k {
            break;
        }
        if *i != skip && v.is_finite() {
            sum += v;
            n += 1;
        }
    }
    (n > 0).then_some((sum, n))
}

impl Matcher {
    /// A matcher over `gallery`, calibrated.
    pub fn new(gallery: Gallery, settings: &CalibrationSettings) -> Matcher {
        let calibration = Calibration::measure(&gallery, settings);
        let mut matcher = Matcher {
            gallery,
            calibration,
            settings: settings.clone(),
            search: Search::default(),
        };
        matcher.prepare_search();
        matcher
    }

    /// The same matcher searching the school another way.
    pub fn with_search(mut self, search: Search) -> Matcher {
        self.search = search;
        self.prepare_search();
        self
    }

    /// Whether the school is large enough to be searched through a shortlist.
    fn shortlisted(&self) -> bool {
        self.gallery.len() > self.search.exact_up_to
    }

    fn prepare_search(&mut self) {
        let large = self.shortlisted();
        self.gallery.summarise(large);
    }

    pub fn gallery(&self) -> &Gallery {
        &self.gallery
    }

    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// Changes the gallery, then measures the calibration again.
    pub fn update(&mut self, change: impl FnOnce(&mut Gallery)) {
        change(&mut self.gallery);
        self.calibration = Calibration::measure(&self.gallery, &self.settings);
        self.prepare_search();
    }

    /// The students worth an exact look for this probe, in order; None: every student
    /// (a school within [`Search::exact_up_to`], or a model without summaries).
    fn candidates(&self, probe: &Embeddings, models: &[String]) -> Option<Vec<u32>> {
        if !self.shortlisted() {
            return None;
        }
        // Never fewer than the probe's cohort of closest others.
        let count = self.search.shortlist.max(self.settings.probe_cohort + 1);
        let (mut found, mut looked) = (Vec::new(), false);
        for model_id in models {
            if let (Some(m), Some(p)) = (self.gallery.model(model_id), probe.get(model_id)) {
                if !m.closest_students(p, count, &mut found) {
                    return None;
                }
                looked = true;
            }
        }
        if !looked {
            return None;
        }
        found.sort_unstable();
        found.dedup();
        Some(found)
    }

    /// Fused, normalised score for every student, in gallery order.
    fn fused_scores(&self, probe: &Embeddings, source: Source, models: &[String]) -> Vec<f32> {
        let n = self.gallery.len();
        // The students scored: every one, or a large school's shortlist (the others are
        // not candidates).
        let (mut fused, who) = match self.candidates(probe, models) {
            Some(c) => {
                let mut fused = vec![f32::NEG_INFINITY; n];
                c.iter().for_each(|s| fused[*s as usize] = 0.0);
                (fused, c)
            }
            None => (vec![0f32; n], (0..n as u32).collect()),
        };
        let mut used = 0usize;
        let (mut raw, mut scratch) = (Vec::new(), Vec::new());
        for model_id in models {
            let (Some(m), Some(p), Some(stats)) = (
                self.gallery.model(model_id),
                probe.get(model_id),
                self.calibration.stats(source, model_id),
            ) else {
                continue;
            };
            if p.len() != m.dim() {
                continue;
            }
            used += 1;
            if who.len() == n {
                m.best_per_student(p, n, &mut raw, &mut scratch);
            } else {
                raw.clear();
                raw.resize(n, f32::NEG_INFINITY);
                m.best_of(&who, p, &mut raw);
            }
            // The probe's closest others: its likeness to this site's faces.
            let k = self.settings.probe_cohort.max(1);
            let mut top: Vec<(f32, usize)> = who
                .iter()
                .map(|t| (raw[*t as usize], *t as usize))
                .collect();
            let keep = (k + 1).min(top.len());
            if keep > 0 && keep < top.len() {
                top.select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0));
                top.truncate(keep);
            }
            top.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (w, kp) = (self.settings.probe_weight, 2.0);
            for t in who.iter().map(|t| *t as usize) {
                let s = raw[t];
                // A student without templates of this model counts as a stranger (z = 0).
                if !s.is_finite() {
                    continue;
                }
                let likeness = match top_mean(&top, t, k) {
                    Some((sum, count)) => (sum + kp * stats.mean) / (count as f32 + kp),
                    None => stats.mean,
                };
                let reference = stats.mean + w * (likeness - stats.mean);
                fused[t] += (s - reference) / stats.std;
            }
        }
        let scale = (used.max(1) as f32).sqrt();
        fused.iter_mut().for_each(|f| *f /= scale);
        fused
    }

    /// The best-scoring student and their lead over the runner-up, whatever the threshold.
    pub fn best(&self, probe: &Embeddings, source: Source, models: &[String]) -> Option<Candidate> {
        self.best_of(&self.fused_scores(probe, source, models))
    }

    /// The best of these fused scores (in gallery order) and its lead over the runner-up.
    fn best_of(&self, scores: &[f32]) -> Option<Candidate> {
        let (mut first, mut second) = (None::<(usize, f32)>, f32::NEG_INFINITY);
        for (i, s) in scores.iter().enumerate() {
            match first {
                Some((_, f)) if *s <= f => second = second.max(*s),
                _ => {
                    if let Some((_, f)) = first {
                        second = f;
                    }
                    first = Some((i, *s));
                }
            }
        }
        first.map(|(i, s)| Candidate {
            student_id: self.gallery.student(i),
            score: s,
            margin: if second.is_finite() { s - second } else { s },
        })
    }

    /// Every student scoring at least the rule's threshold, whatever their lead over the
    /// others, best first (each with their lead over the best of the others).
    pub fn above(&self, probe: &Embeddings, source: Source, rule: &Rule) -> Vec<Candidate> {
        let scores = self.fused_scores(probe, source, &rule.models);
        let Some(best) = self.best_of(&scores).filter(|b| b.score >= rule.accept) else {
            return Vec::new();
        };
        let mut others: Vec<Candidate> = scores
            .iter()
            .enumerate()
            .map(|(i, s)| (self.gallery.student(i), *s))
            .filter(|(id, s)| *id != best.student_id && *s >= rule.accept)
            .map(|(student_id, score)| Candidate {
                student_id,
                score,
                margin: score - best.score,
            })
            .collect();
        others.sort_by(|a, b| b.score.total_cmp(&a.score));
        others.insert(0, best);
        others
    }

    /// Identifies a probe face under a rule.
    pub fn identify(&self, probe: &Embeddings, source: Source, rule: &Rule) -> Decision {
        rule.judge(self.best(probe, source, &rule.models))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ModelPrior;

    fn face(v: &[f32]) -> Embeddings {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        Embeddings(vec![("m", v.iter().map(|x| x / n).collect())])
    }

    fn settings() -> CalibrationSettings {
        CalibrationSettings {
            prior: vec![ModelPrior {
                model_id: "m".into(),
                stranger_mean: 0.0,
                stranger_std: 0.1,
            }],
            ..CalibrationSettings::default()
        }
    }

    fn rule() -> Rule {
        Rule {
            models: vec!["m".into()],
            accept: 5.0,
            margin: 1.0,
        }
    }

    fn matcher(faces: &[(i64, &[f32])]) -> Matcher {
        let mut g = Gallery::default();
        for (id, v) in faces {
            g.add_face(*id, &face(v), Origin::Upload);
        }
        Matcher::new(g, &settings())
    }

    #[test]
    fn the_closest_student_wins_with_a_margin() {
        let m = matcher(&[
            (1, &[1.0, 0.0, 0.0]),
            (2, &[0.0, 1.0, 0.0]),
            (3, &[0.0, 0.0, 1.0]),
        ]);
        match m.identify(&face(&[1.0, 0.1, 0.0]), Source::Photo, &rule()) {
            Decision::Match(c) => {
                assert_eq!(c.student_id, 1);
                assert!(c.margin > 1.0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_face_between_two_students_is_not_guessed() {
        let m = matcher(&[(1, &[1.0, 0.0]), (2, &[0.9, 0.1])]);
        assert!(matches!(
            m.identify(&face(&[0.95, 0.05]), Source::Photo, &rule()),
            Decision::Unknown(Some(_))
        ));
    }

    #[test]
    fn an_empty_gallery_knows_nobody() {
        assert_eq!(
            Matcher::new(Gallery::default(), &settings()).identify(
                &face(&[1.0, 0.0]),
                Source::Camera,
                &rule()
            ),
            Decision::Unknown(None)
        );
    }

    #[test]
    fn a_single_student_is_judged_against_the_prior() {
        let m = matcher(&[(1, &[1.0, 0.0])]);
        // Cosine 1.0 is ten prior deviations above the prior's stranger mean of 0.
        assert!(matches!(
            m.identify(&face(&[1.0, 0.0]), Source::Camera, &rule()),
            Decision::Match(_)
        ));
        // Cosine 0.45 is 4.5 deviations: not enough.
        assert!(matches!(
            m.identify(&face(&[0.45, 0.893]), Source::Camera, &rule()),
            Decision::Unknown(_)
        ));
    }

    #[test]
    fn at_a_site_where_everyone_looks_alike_a_near_miss_is_a_stranger() {
        // Twenty students photographed alike: strangers score about 0.98 against each other.
        // A stranger scoring 0.99 with one of them would pass against the prior, but is an
        // ordinary stranger here.
        let person = |i: usize| {
            let mut v = vec![1.0; 24];
            v[i % 24] += 0.6;
            v[(i + 7) % 24] += 0.3;
            v
        };
        let students: Vec<Vec<f32>> = (0..20).map(person).collect();
        let faces: Vec<(i64, &[f32])> = students
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64, v.as_slice()))
            .collect();
        let mut g = Gallery::default();
        for (id, v) in &faces {
            g.add_face(*id, &face(v), Origin::Upload);
        }
        // The prior: strangers at a typical site score 0.9 ± 0.01.
        let mut narrow = settings();
        narrow.prior[0].stranger_mean = 0.9;
        narrow.prior[0].stranger_std = 0.01;
        let m = Matcher::new(g, &narrow);
        let stats = m.calibration().stats(Source::Photo, "m").unwrap();
        assert!(stats.mean > 0.9, "{stats:?}");
        let rule = Rule {
            accept: 3.0,
            ..rule()
        };
        let stranger = person(21);
        let unit = |v: &[f32]| face(v).0[0].1.clone();
        let closest = students
            .iter()
            .map(|v| {
                unit(v)
                    .iter()
                    .zip(unit(&stranger))
                    .map(|(a, b)| a * b)
                    .sum::<f32>()
            })
            .fold(f32::MIN, f32::max);
        assert!(
            (closest - 0.9) / 0.01 > 3.0,
            "against the prior alone this stranger would pass"
        );
        assert!(matches!(
            m.identify(&face(&stranger), Source::Photo, &rule),
            Decision::Unknown(_)
        ));
        // The student themselves still stands out.
        assert!(matches!(
            m.identify(&face(&students[3]), Source::Photo, &rule),
            Decision::Match(Candidate { student_id: 3, .. })
        ));
    }

    #[test]
    fn an_early_answer_from_one_model_is_one_the_full_rule_gives_when_the_other_is_neutral() {
        // Two models; the second sees every probe as an ordinary stranger would (z = 0).
        let mut calibration = settings();
        calibration.prior.push(ModelPrior {
            model_id: "n".into(),
            ..calibration.prior[0].clone()
        });
        let recognition = RecognitionSettings {
            accept: 5.0,
            margin: 1.0,
            models: vec!["m".into(), "n".into()],
            confirm: crate::settings::ConfirmSettings {
                model_id: "m".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut g = Gallery::default();
        g.add_face(
            1,
            &Embeddings(vec![("m", vec![1.0, 0.0]), ("n", vec![1.0, 0.0])]),
            Origin::Upload,
        );
        let m = Matcher::new(g, &calibration);
        let (early, full) = (Rule::decisive(&recognition), Rule::full(&recognition));
        assert_eq!(early.models, vec!["m".to_string()]);
        let mut answered_early = 0;
        for step in 0..=20 {
            let c = step as f32 / 20.0;
            let probe = Embeddings(vec![
                ("m", vec![c, (1.0 - c * c).sqrt()]),
                ("n", vec![0.0, 1.0]),
            ]);
            let quick = m.identify(&probe, Source::Photo, &early);
            let slow = m.identify(&probe, Source::Photo, &full);
            if matches!(quick, Decision::Match(_)) {
                answered_early += 1;
                assert!(matches!(slow, Decision::Match(_)), "cosine {c}");
            }
            // Near the threshold the two agree both ways.
            assert_eq!(
                matches!(quick, Decision::Match(_)),
                matches!(slow, Decision::Match(_)),
                "cosine {c}"
            );
        }
        assert!(answered_early > 0 && answered_early < 21);
    }

    #[test]
    fn removing_a_student_recalibrates() {
        let mut m = matcher(&[(1, &[1.0, 0.0]), (2, &[0.0, 1.0]), (3, &[1.0, 1.0])]);
        let before = m.calibration().stats(Source::Photo, "m").unwrap().pairs;
        m.update(|g| g.remove(3));
        let after = m.calibration().stats(Source::Photo, "m").unwrap().pairs;
        assert!(after < before);
        assert_eq!(m.gallery().len(), 2);
    }

    /// `n` students in `dim` dimensions, each with three photos scattered around their
    /// own direction; `photo(i, k)` is another photo of student `i` (a stranger for
    /// `i >= n`).
    struct School {
        dim: usize,
    }

    impl School {
        fn draw(&self, seed: u64) -> Vec<f32> {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            (0..self.dim)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect()
        }

        fn photo(&self, i: u64, k: u64) -> Embeddings {
            let (who, noise) = (self.draw(i + 1), self.draw((i + 1) * 1000 + k + 7));
            let v: Vec<f32> = who.iter().zip(&noise).map(|(a, b)| a + 0.2 * b).collect();
            face(&v)
        }

        fn gallery(&self, n: u64) -> Gallery {
            let mut g = Gallery::default();
            for i in 0..n {
                for k in 0..3 {
                    g.add_face(i as i64, &self.photo(i, k), Origin::Upload);
                }
            }
            g
        }
    }

    /// A shortlist of `shortlist` per model beyond `exact_up_to` students.
    fn search(exact_up_to: usize, shortlist: usize) -> Search {
        Search {
            exact_up_to,
            shortlist,
        }
    }

    #[test]
    fn a_large_schools_shortlist_decides_as_comparing_every_template() {
        let school = School { dim: 64 };
        let exact = Matcher::new(school.gallery(300), &settings()).with_search(Search::exact());
        let short = exact.clone().with_search(search(100, 20));
        let mut matched = 0;
        for i in (0..50).chain(1000..1050) {
            let probe = school.photo(i, 50);
            let (e, s) = (
                exact.identify(&probe, Source::Photo, &rule()),
                short.identify(&probe, Source::Photo, &rule()),
            );
            assert_eq!(e.student(), s.student(), "probe {i}");
            if let (Decision::Match(a), Decision::Match(b)) = (&e, &s) {
                assert!((a.score - b.score).abs() < 0.05 && (a.margin - b.margin).abs() < 0.05);
                assert_eq!(a.student_id, i as i64);
                matched += 1;
            }
        }
        // The probes are not all strangers to both: most students are found.
        assert!(matched >= 40, "{matched} of 50 students matched");
    }

    #[test]
    fn the_shortlist_follows_the_school_as_it_changes() {
        let school = School { dim: 64 };
        let mut m = Matcher::new(school.gallery(60), &settings()).with_search(search(10, 8));
        let found = |m: &Matcher, i: u64| {
            m.identify(&school.photo(i, 99), Source::Photo, &rule())
                .student()
        };
        assert_eq!(found(&m, 500), None);
        // Enrolled later: found through their new summary.
        m.update(|g| (0..3).for_each(|k| g.add_face(500, &school.photo(500, k), Origin::Upload)));
        assert_eq!(found(&m, 500), Some(500));
        // Removing a student renumbers the others; every summary follows.
        m.update(|g| g.remove(0));
        assert_eq!(found(&m, 500), Some(500));
        assert_eq!(found(&m, 7), Some(7));
        assert_eq!(found(&m, 0), None);
    }

    #[test]
    fn a_shortlist_of_nobody_or_one_student_still_decides() {
        let school = School { dim: 16 };
        let search = search(0, 4);
        let empty = Matcher::new(Gallery::default(), &settings()).with_search(search);
        assert_eq!(
            empty.identify(&school.photo(1, 1), Source::Photo, &rule()),
            Decision::Unknown(None)
        );
        let one = Matcher::new(school.gallery(1), &settings()).with_search(search);
        let exact = one.clone().with_search(Search::exact());
        let probe = school.photo(0, 9);
        assert_eq!(
            one.identify(&probe, Source::Photo, &rule()),
            exact.identify(&probe, Source::Photo, &rule())
        );
    }
}
