//! `rollcall-tools eval-liveness`: scores live and attack frames and counts errors.

use rollcall::vision::liveness::training::Samples;
use rollcall::vision::liveness::LivenessModel;
use rollcall::vision::VisionError;
use serde::Serialize;
use std::collections::BTreeMap;

/// Scores every sample and counts errors at `threshold`.
pub fn evaluate(
    samples: &Samples,
    model: &LivenessModel,
    threshold: f32,
) -> Result<LivenessReport, VisionError> {
    let mut per_person: BTreeMap<String, Counts> = BTreeMap::new();
    for s in &samples.samples {
        let live_verdict = model.score_features(&s.features)? > threshold;
        let c = per_person.entry(s.person.clone()).or_default();
        if s.live {
            c.live += 1;
            c.live_refused += usize::from(!live_verdict);
        } else {
            c.attacks += 1;
            c.attacks_accepted += usize::from(live_verdict);
        }
    }
    let mut overall = Counts::default();
    for c in per_person.values() {
        overall.add(c);
    }
    Ok(LivenessReport {
        apcer: overall.apcer,
        bpcer: overall.bpcer,
        overall,
        per_person: per_person
            .into_iter()
            .map(|(p, c)| (p, c.with_rates()))
            .collect(),
        no_face: samples.skipped,
        threshold,
    })
}

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

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
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
}

/// What `rollcall eval-liveness` reports.
#[derive(Clone, Debug, Serialize)]
pub struct LivenessReport {
    /// Attacks accepted as live (fraction of attack frames).
    pub apcer: f64,
    /// Live faces refused (fraction of live frames).
    pub bpcer: f64,
    pub overall: Counts,
    pub per_person: BTreeMap<String, Counts>,
    /// Frames in which no face was found (not scored).
    pub no_face: usize,
    pub threshold: f32,
}

/// Prints the report as a Markdown table.
pub fn print_report(r: &LivenessReport, trained_on: &[String]) {
    let pct = |x: f64| format!("{:.2} %", x * 100.0);
    println!(
        "Threshold {:.2}; model trained on people {}; {} frames without a face not scored.",
        r.threshold,
        trained_on.join(", "),
        r.no_face
    );
    println!(
        "| person | attacks | attacks accepted (APCER) | live frames | live refused (BPCER) |"
    );
    println!("|---|---|---|---|---|");
    let rows = r
        .per_person
        .iter()
        .map(|(p, c)| (p.as_str(), c))
        .chain(std::iter::once(("all", &r.overall)));
    for (person, c) in rows {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_fractions_of_their_own_kind() {
        let mut all = Counts::default();
        all.add(&Counts {
            live: 10,
            live_refused: 1,
            attacks: 20,
            attacks_accepted: 2,
            ..Counts::default()
        });
        assert_eq!(all.bpcer, 0.1);
        assert_eq!(all.apcer, 0.1);
        assert_eq!(
            Counts::default().with_rates().apcer,
            0.0,
            "no attacks: nothing accepted"
        );
    }
}
