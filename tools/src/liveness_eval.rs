//! `rollcall-tools eval-liveness`: how well the photo-attack check tells live faces from
//! printed photos, per frame. By default every person is left out in turn (the models are
//! trained on everyone else, then score that person), so the figures are for people the
//! check has never seen; `--model` scores a given model instead.

use crate::eval::ratio;
use rollcall::vision::liveness::training::{leave_one_out, HeldOutScore, Samples};
use rollcall::vision::liveness::LivenessModel;
use rollcall::vision::VisionError;
use serde::Serialize;
use std::collections::BTreeMap;

/// Frame counts for one person (or everyone).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Counts {
    pub live: usize,
    pub live_refused: usize,
    pub attacks: usize,
    pub attacks_accepted: usize,
    /// Attacks accepted as live (fraction).
    pub apcer: f64,
    /// Live faces refused (fraction).
    pub bpcer: f64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.live += o.live;
        self.live_refused += o.live_refused;
        self.attacks += o.attacks;
        self.attacks_accepted += o.attacks_accepted;
        *self = self.clone().with_rates();
    }
    fn with_rates(mut self) -> Counts {
        self.apcer = ratio(self.attacks_accepted, self.attacks);
        self.bpcer = ratio(self.live_refused, self.live);
        self
    }
    fn count(&mut self, live: bool, score: f32, threshold: f32) {
        if live {
            self.live += 1;
            self.live_refused += usize::from(score <= threshold);
        } else {
            self.attacks += 1;
            self.attacks_accepted += usize::from(score > threshold);
        }
    }
}

/// One model's figures: per person, overall, the worst person and the mean over people.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ModelFigures {
    pub per_person: BTreeMap<String, Counts>,
    pub overall: Counts,
    pub worst_apcer: f64,
    pub worst_bpcer: f64,
    pub mean_apcer: f64,
    pub mean_bpcer: f64,
}

impl ModelFigures {
    /// Figures of (person, live, score) at `threshold`.
    pub fn from_scores(scores: impl Iterator<Item = (String, bool, f32)>, threshold: f32) -> Self {
        let mut per_person: BTreeMap<String, Counts> = BTreeMap::new();
        for (person, live, score) in scores {
            per_person
                .entry(person)
                .or_default()
                .count(live, score, threshold);
        }
        let mut f = ModelFigures::default();
        for (p, c) in per_person {
            let c = c.with_rates();
            f.overall.add(&c);
            f.per_person.insert(p, c);
        }
        let n = f.per_person.len().max(1) as f64;
        f.worst_apcer = f.per_person.values().map(|c| c.apcer).fold(0.0, f64::max);
        f.worst_bpcer = f.per_person.values().map(|c| c.bpcer).fold(0.0, f64::max);
        f.mean_apcer = f.per_person.values().map(|c| c.apcer).sum::<f64>() / n;
        f.mean_bpcer = f.per_person.values().map(|c| c.bpcer).sum::<f64>() / n;
        f
    }
}

/// What `rollcall-tools eval-liveness` reports.
#[derive(Clone, Debug, Serialize)]
pub struct LivenessReport {
    /// "leave one person out", or the model's folder.
    pub method: String,
    pub threshold: f32,
    /// The kiosk's check for students enrolled at the kiosk (their own reference).
    pub client: ModelFigures,
    /// The check for students enrolled from uploaded photos (no reference).
    pub generic: ModelFigures,
    /// The client figures, pooled (for compatibility: attacks accepted, live refused).
    pub apcer: f64,
    pub bpcer: f64,
    /// Frames in which no face was found (not scored), and frames used as references.
    pub no_face: usize,
    pub reference_frames: usize,
}

fn report(
    method: String,
    scores: &[HeldOutScore],
    samples: &Samples,
    threshold: f32,
) -> LivenessReport {
    let client = ModelFigures::from_scores(
        scores
            .iter()
            .filter_map(|s| s.client.map(|c| (s.person.clone(), s.live, c))),
        threshold,
    );
    let generic = ModelFigures::from_scores(
        scores.iter().map(|s| (s.person.clone(), s.live, s.generic)),
        threshold,
    );
    LivenessReport {
        method,
        threshold,
        apcer: client.overall.apcer,
        bpcer: client.overall.bpcer,
        client,
        generic,
        no_face: samples.skipped,
        reference_frames: samples.reference_frames,
    }
}

/// Leave-one-person-out figures.
pub fn leave_one_person_out(
    samples: &Samples,
    threshold: f32,
    progress: impl FnMut(&str),
) -> Result<LivenessReport, VisionError> {
    let scores = leave_one_out(samples, progress)?;
    Ok(report(
        "leave one person out".into(),
        &scores,
        samples,
        threshold,
    ))
}

/// Figures of a given model on every sample.
pub fn evaluate(
    samples: &Samples,
    model: &LivenessModel,
    threshold: f32,
) -> Result<LivenessReport, VisionError> {
    let scores = samples
        .samples
        .iter()
        .map(|s| HeldOutScore::of(model, s, samples.reference_of(s)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(report(
        format!("model trained on {}", model.record.people.join(", ")),
        &scores,
        samples,
        threshold,
    ))
}

/// Prints the report as Markdown tables.
pub fn print_report(r: &LivenessReport) {
    let pct = |x: f64| format!("{:.2} %", x * 100.0);
    println!(
        "{}; threshold {:.2}; {} frames without a face not scored; {} frames used as references.",
        r.method, r.threshold, r.no_face, r.reference_frames
    );
    for (title, m) in [
        (
            "Students enrolled at the kiosk (compared with their own enrolment)",
            &r.client,
        ),
        (
            "Students enrolled from uploaded photos (no reference)",
            &r.generic,
        ),
    ] {
        println!();
        println!("{title}:");
        println!();
        println!(
            "| person | attacks | attacks accepted (APCER) | live frames | live refused (BPCER) |"
        );
        println!("|---|---|---|---|---|");
        for (person, c) in &m.per_person {
            println!(
                "| {person} | {} | {} ({}) | {} | {} ({}) |",
                c.attacks,
                pct(c.apcer),
                c.attacks_accepted,
                c.live,
                pct(c.bpcer),
                c.live_refused
            );
        }
        println!(
            "| all | {} | {} ({}) | {} | {} ({}) |",
            m.overall.attacks,
            pct(m.overall.apcer),
            m.overall.attacks_accepted,
            m.overall.live,
            pct(m.overall.bpcer),
            m.overall.live_refused
        );
        println!(
            "| worst person / mean | | {} / {} | | {} / {} |",
            pct(m.worst_apcer),
            pct(m.mean_apcer),
            pct(m.worst_bpcer),
            pct(m.mean_bpcer)
        );
    }
}

/// Site adaptation, one rotation: the check trained on the other people (the "shipped"
/// one), and the same check adapted to the site's students, measured on their frames
/// that neither saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SiteRotation {
    /// The site's students (enrolled at its camera) and whose printed photo was recorded.
    pub students: Vec<String>,
    pub recorded: String,
    /// Attack frames of the recorded student's other sessions, and every site student's
    /// live frames not used for enrolment.
    pub before_recorded: Counts,
    pub after_recorded: Counts,
    /// Attack frames of the site's other students (never recorded), and their live frames.
    pub before_others: Counts,
    pub after_others: Counts,
}

/// What `eval-liveness --site` reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SiteReport {
    pub threshold: f32,
    pub enrolment_frames: usize,
    pub recording_frames: usize,
    pub rotations: Vec<SiteRotation>,
}

/// Frames a site student is enrolled with, and frames of a recorded printed photo.
const SITE_ENROLMENT: usize = 5;
const SITE_RECORDING: usize = 40;
/// Students at each simulated site.
const SITE_STUDENTS: usize = 3;

/// Simulates adapting the check at a site: for each rotation, three people are the site's
/// students (enrolled with their first live frames), the others train the base check, and
/// one printed photo (the first attack session of one student) is recorded. Both checks
/// then judge every other frame of the site's students.
pub fn site_adaptation(
    samples: &Samples,
    threshold: f32,
    attempt_frames: usize,
    mut progress: impl FnMut(),
) -> Result<SiteReport, rollcall::vision::liveness::site::SiteError> {
    use rollcall::vision::liveness::site::{SiteFrame, SiteFrames};
    let people = samples.people();
    let mut report = SiteReport {
        threshold,
        enrolment_frames: SITE_ENROLMENT,
        recording_frames: SITE_RECORDING,
        rotations: Vec::new(),
    };
    for start in 0..people.len() {
        progress();
        let site_people: Vec<&str> = (0..SITE_STUDENTS.min(people.len() - 1))
            .map(|i| people[(start + i) % people.len()])
            .collect();
        let others: Vec<&str> = people
            .iter()
            .copied()
            .filter(|p| !site_people.contains(p))
            .collect();
        let base = samples
            .of_people(&others)
            .train(rollcall::vision::liveness::TrainingRecord::default())?;
        let recorded = site_people[0];
        let mut site = SiteFrames::default();
        let mut used = std::collections::HashSet::new();
        for p in &site_people {
            let reference = samples.references.get(*p).cloned();
            let live: Vec<usize> = (0..samples.samples.len())
                .filter(|&i| samples.samples[i].person == *p && samples.samples[i].live)
                .take(SITE_ENROLMENT)
                .collect();
            for i in live {
                used.insert(i);
                site.live.push(SiteFrame {
                    group: p.to_string(),
                    features: samples.samples[i].features.clone(),
                    reference: reference.clone(),
                });
            }
        }
        let first_attack = samples
            .samples
            .iter()
            .find(|s| s.person == recorded && !s.live)
            .map(|s| s.session.clone());
        let recording: Vec<usize> = (0..samples.samples.len())
            .filter(|&i| {
                let s = &samples.samples[i];
                s.person == recorded && !s.live && Some(&s.session) == first_attack.as_ref()
            })
            .take(SITE_RECORDING)
            .collect();
        for &i in &recording {
            used.insert(i);
        }
        let frames: Vec<Vec<f32>> = recording
            .iter()
            .map(|&i| samples.samples[i].features.clone())
            .collect();
        site.add_recording(
            1,
            &frames,
            samples.references.get(recorded).map(Vec::as_slice),
        );
        let adapted = base.adapt(&site, std::path::Path::new(""), threshold, attempt_frames)?;
        let mut rotation = SiteRotation {
            students: site_people.iter().map(|p| p.to_string()).collect(),
            recorded: recorded.to_string(),
            ..SiteRotation::default()
        };
        for (i, s) in samples.samples.iter().enumerate() {
            if used.contains(&i) || !site_people.contains(&s.person.as_str()) {
                continue;
            }
            // Attacks of the recorded student's recorded session are left out too.
            if s.person == recorded && !s.live && Some(&s.session) == first_attack.as_ref() {
                continue;
            }
            let reference = samples.reference_of(s);
            let before = base.score_features(&s.features, reference)?;
            let after = adapted.score_features(&s.features, reference)?;
            let (b, a) = if s.person == recorded || s.live {
                (&mut rotation.before_recorded, &mut rotation.after_recorded)
            } else {
                (&mut rotation.before_others, &mut rotation.after_others)
            };
            b.count(s.live, before, threshold);
            a.count(s.live, after, threshold);
            if s.live && s.person != recorded {
                // Live frames of the other students count with them too.
                rotation.before_others.count(true, before, threshold);
                rotation.after_others.count(true, after, threshold);
            }
        }
        for c in [
            &mut rotation.before_recorded,
            &mut rotation.after_recorded,
            &mut rotation.before_others,
            &mut rotation.after_others,
        ] {
            *c = c.clone().with_rates();
        }
        report.rotations.push(rotation);
    }
    Ok(report)
}

/// Prints the site report as a Markdown table, with the worst rotation and the mean.
pub fn print_site_report(r: &SiteReport) {
    let pct = |x: f64| format!("{:.1} %", x * 100.0);
    println!(
        "Site adaptation: {SITE_STUDENTS} students enrolled at the site ({} frames each), one printed photo recorded ({} frames); threshold {:.2}; per frame; base check trained on the other people.",
        r.enrolment_frames, r.recording_frames, r.threshold
    );
    println!();
    println!("| site students | recorded | recorded student's other photos let in: before → after | other students' photos let in: before → after | live refused: before → after |");
    println!("|---|---|---|---|---|");
    // Per rotation, each column's before and after.
    let figures: Vec<[f64; 6]> = r
        .rotations
        .iter()
        .map(|x| {
            [
                x.before_recorded.apcer,
                x.after_recorded.apcer,
                x.before_others.apcer,
                x.after_others.apcer,
                ratio(x.before_recorded.live_refused, x.before_recorded.live),
                ratio(x.after_recorded.live_refused, x.after_recorded.live),
            ]
        })
        .collect();
    let cells = |v: &[f64; 6]| {
        format!(
            "{} → {} | {} → {} | {} → {}",
            pct(v[0]),
            pct(v[1]),
            pct(v[2]),
            pct(v[3]),
            pct(v[4]),
            pct(v[5])
        )
    };
    for (x, v) in r.rotations.iter().zip(&figures) {
        println!(
            "| {} | {} | {} |",
            x.students.join(", "),
            x.recorded,
            cells(v)
        );
    }
    let n = figures.len().max(1) as f64;
    let (mut worst, mut mean) = ([0f64; 6], [0f64; 6]);
    for v in &figures {
        for c in 0..6 {
            worst[c] = worst[c].max(v[c]);
            mean[c] += v[c] / n;
        }
    }
    println!("| worst rotation | | {} |", cells(&worst));
    println!("| mean | | {} |", cells(&mean));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_fractions_of_their_own_kind_and_the_worst_person_is_kept() {
        let scores = vec![
            ("a".to_string(), true, 1.0),
            ("a".to_string(), false, -1.0),
            ("b".to_string(), true, -1.0),
            ("b".to_string(), false, 1.0),
            ("b".to_string(), false, -1.0),
        ];
        let f = ModelFigures::from_scores(scores.into_iter(), 0.0);
        assert_eq!(f.per_person["b"].apcer, 0.5);
        assert_eq!(f.per_person["b"].bpcer, 1.0);
        assert_eq!(f.worst_apcer, 0.5);
        assert_eq!(f.mean_apcer, 0.25);
        assert_eq!(f.overall.attacks, 3);
        assert!((f.overall.apcer - 1.0 / 3.0).abs() < 1e-9);
    }
}
