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
    fn from_scores(scores: impl Iterator<Item = (String, bool, f32)>, threshold: f32) -> Self {
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
