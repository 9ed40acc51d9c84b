//! Training and evaluating the liveness model on two folder-per-person sets of webcam
//! frames: live people and photo attacks (`rollcall train-liveness`, `rollcall eval-liveness`).

use crate::vision::image_io::{file_name_of, folders_in, images_in, read_image_file};
use crate::vision::liveness::{texture_features, LivenessModel, TrainingRecord};
use crate::vision::{FaceEngine, VisionError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One frame's features.
#[derive(Clone, Debug)]
pub struct Sample {
    pub person: String,
    pub live: bool,
    pub features: Vec<f32>,
}

/// Features of every frame in which a face was found.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    pub samples: Vec<Sample>,
    /// Frames in which no face was found (or that could not be read).
    pub skipped: usize,
}

/// The frames of a folder-per-person set, (person, path), in name order; `people` filters
/// by folder name when not empty.
pub fn frames(dir: &Path, people: &[String]) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for folder in folders_in(dir)? {
        let person = file_name_of(&folder);
        if !people.is_empty() && !people.contains(&person) {
            continue;
        }
        out.extend(images_in(&folder)?.into_iter().map(|p| (person.clone(), p)));
    }
    Ok(out)
}

impl Samples {
    /// Detects the main face of every frame and computes its texture features.
    pub fn collect(
        engine: &mut FaceEngine,
        frames: &[(String, PathBuf, bool)],
        mut progress: impl FnMut(),
    ) -> Result<Samples, VisionError> {
        let mut out = Samples::default();
        for (person, path, live) in frames {
            progress();
            let image = match read_image_file(path) {
                Ok(i) => i,
                Err(_) => {
                    out.skipped += 1;
                    continue;
                }
            };
            let Some(face) = engine.detect(&image)?.into_iter().next() else {
                out.skipped += 1;
                continue;
            };
            out.samples.push(Sample {
                person: person.clone(),
                live: *live,
                features: texture_features(&image, &face)?,
            });
        }
        Ok(out)
    }

    /// Only the samples of these people.
    pub fn of_people(&self, people: &[&str]) -> Samples {
        Samples {
            samples: self
                .samples
                .iter()
                .filter(|s| people.contains(&s.person.as_str()))
                .cloned()
                .collect(),
            skipped: 0,
        }
    }

    /// Trains a model on these samples.
    pub fn train(&self, record: TrainingRecord) -> Result<LivenessModel, VisionError> {
        let (live, spoof): (Vec<&Sample>, Vec<&Sample>) = self.samples.iter().partition(|s| s.live);
        let features = |v: Vec<&Sample>| {
            v.into_iter()
                .map(|s| s.features.clone())
                .collect::<Vec<_>>()
        };
        let mut record = record;
        record.live_frames = live.len();
        record.spoof_frames = spoof.len();
        record.skipped_frames = self.skipped;
        let mut people: Vec<String> = self.samples.iter().map(|s| s.person.clone()).collect();
        people.sort();
        people.dedup();
        record.people = people;
        LivenessModel::train(&features(live), &features(spoof), record)
    }

    /// Scores every sample and counts errors at `threshold`.
    pub fn evaluate(
        &self,
        model: &LivenessModel,
        threshold: f32,
    ) -> Result<LivenessReport, VisionError> {
        let mut per_person: BTreeMap<String, Counts> = BTreeMap::new();
        for s in &self.samples {
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
            no_face: self.skipped,
            threshold,
        })
    }
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

/// Live and attack frames of two sets, labelled.
pub fn labelled_frames(
    live_dir: &Path,
    spoof_dir: &Path,
    people: &[String],
) -> std::io::Result<Vec<(String, PathBuf, bool)>> {
    let mut out: Vec<(String, PathBuf, bool)> = frames(live_dir, people)?
        .into_iter()
        .map(|(p, f)| (p, f, true))
        .collect();
    out.extend(
        frames(spoof_dir, people)?
            .into_iter()
            .map(|(p, f)| (p, f, false)),
    );
    Ok(out)
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
