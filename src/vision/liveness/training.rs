//! Training data for the photo-attack check: two folder-per-person sets of webcam frames,
//! live people and photo attacks (`rollcall train-liveness`; the evaluation tools use it
//! too).
//!
//! Each person's **reference** is what their kiosk enrolment would give: the mean features
//! of five frames of their first live session (every other frame of a long one). Those
//! frames are kept apart from the samples the models learn and are measured on.

use super::{texture_features, LivenessModel, Tradeoff, TrainingRecord};
use crate::order::natural_cmp;
use crate::vision::image_io::{file_name_of, folders_in, images_in, read_image_file};
use crate::vision::{FaceEngine, VisionError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Frames a person's reference is made of.
pub const REFERENCE_FRAMES: usize = 5;

/// At its operating point the generic model accepts at most this share of any one
/// held-out training person's attack frames: half of the 2 % of a person's photos that may
/// get through, leaving room for people it has never seen.
pub const GENERIC_WORST_APCER: f64 = 0.01;

/// One frame's features.
#[derive(Clone, Debug)]
pub struct Sample {
    pub person: String,
    pub live: bool,
    /// The recording session (NUAA names carry it), for playing frames in order.
    pub session: String,
    pub features: Vec<f32>,
}

/// Features of every frame in which a face was found, and each person's reference.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    pub samples: Vec<Sample>,
    /// Mean features of each person's reference frames.
    pub references: BTreeMap<String, Vec<f32>>,
    /// Frames in which no face was found (or that could not be read).
    pub skipped: usize,
    /// Frames used as references.
    pub reference_frames: usize,
}

/// The session of a frame: NUAA names (`ID_glasses_position_session_frame`) carry one;
/// other names are one session.
pub fn session_of(p: &Path) -> String {
    let name = file_name_of(p);
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(&name);
    let parts: Vec<&str> = stem.split('_').collect();
    if parts.len() == 5 && parts.iter().all(|x| x.chars().all(|c| c.is_ascii_digit())) {
        parts[1..4].join("_")
    } else {
        String::new()
    }
}

/// A person's frames in time order (a NUAA frame `_109` after `_23`).
pub fn frames_in_order(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = images_in(folder)?;
    v.sort_by(|a, b| natural_cmp(&file_name_of(a), &file_name_of(b)));
    Ok(v)
}

/// The frames of a folder-per-person set, (person, path), in time order; `people` filters
/// by folder name when not empty.
pub fn frames(dir: &Path, people: &[String]) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for folder in folders_in(dir)? {
        let person = file_name_of(&folder);
        if !people.is_empty() && !people.contains(&person) {
            continue;
        }
        out.extend(
            frames_in_order(&folder)?
                .into_iter()
                .map(|p| (person.clone(), p)),
        );
    }
    Ok(out)
}

/// A frame of a person: (person, path, live).
pub type LabelledFrame = (String, PathBuf, bool);

/// Live and attack frames of two sets, labelled, in time order.
pub fn labelled_frames(
    live_dir: &Path,
    spoof_dir: &Path,
    people: &[String],
) -> std::io::Result<Vec<LabelledFrame>> {
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

/// The reference frames among one person's live frames (in time order).
pub fn reference_frames(live: &[PathBuf]) -> Vec<PathBuf> {
    let Some(first) = live.first().map(|p| session_of(p)) else {
        return Vec::new();
    };
    let session: Vec<&PathBuf> = live.iter().filter(|p| session_of(p) == first).collect();
    let step = if session.len() > 4 * REFERENCE_FRAMES {
        2
    } else {
        1
    };
    session
        .into_iter()
        .step_by(step)
        .take(REFERENCE_FRAMES)
        .cloned()
        .collect()
}

impl Samples {
    /// Detects the main face of every frame and computes its texture features; each
    /// person's reference frames become their reference.
    pub fn collect(
        engine: &mut FaceEngine,
        frames: &[(String, PathBuf, bool)],
        mut progress: impl FnMut(),
    ) -> Result<Samples, VisionError> {
        let mut live_of: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
        for (person, path, live) in frames {
            if *live {
                live_of.entry(person).or_default().push(path.clone());
            }
        }
        let reference: std::collections::HashSet<PathBuf> =
            live_of.values().flat_map(|v| reference_frames(v)).collect();
        let mut out = Samples::default();
        let mut sums: BTreeMap<String, (Vec<f32>, usize)> = BTreeMap::new();
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
            let features = texture_features(&image, &face)?;
            if *live && reference.contains(path) {
                let e = sums
                    .entry(person.clone())
                    .or_insert_with(|| (vec![0.0; features.len()], 0));
                e.0.iter_mut().zip(&features).for_each(|(s, f)| *s += f);
                e.1 += 1;
                out.reference_frames += 1;
                continue;
            }
            out.samples.push(Sample {
                person: person.clone(),
                live: *live,
                session: session_of(path),
                features,
            });
        }
        out.references = sums
            .into_iter()
            .map(|(p, (s, n))| (p, s.into_iter().map(|x| x / n as f32).collect()))
            .collect();
        Ok(out)
    }

    /// Only the samples (and references) of these people.
    pub fn of_people(&self, people: &[&str]) -> Samples {
        Samples {
            samples: self
                .samples
                .iter()
                .filter(|s| people.contains(&s.person.as_str()))
                .cloned()
                .collect(),
            references: self
                .references
                .iter()
                .filter(|(p, _)| people.contains(&p.as_str()))
                .map(|(p, r)| (p.clone(), r.clone()))
                .collect(),
            skipped: 0,
            reference_frames: 0,
        }
    }

    /// Everyone but `person`.
    pub fn without(&self, person: &str) -> Samples {
        let others: Vec<&str> = self.people().into_iter().filter(|p| *p != person).collect();
        self.of_people(&others)
    }

    /// The people, in name order.
    pub fn people(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.samples.iter().map(|s| s.person.as_str()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// A sample's reference (its person's).
    pub fn reference_of(&self, s: &Sample) -> Option<&[f32]> {
        self.references.get(&s.person).map(Vec::as_slice)
    }

    /// Trains a model on these samples.
    pub fn train(&self, record: TrainingRecord) -> Result<LivenessModel, VisionError> {
        let pick = |live: bool| -> Vec<(Vec<f32>, Option<Vec<f32>>)> {
            self.samples
                .iter()
                .filter(|s| s.live == live)
                .map(|s| {
                    (
                        s.features.clone(),
                        self.reference_of(s).map(<[f32]>::to_vec),
                    )
                })
                .collect()
        };
        let (live, spoof) = (pick(true), pick(false));
        let mut record = record;
        record.live_frames = live.len();
        record.spoof_frames = spoof.len();
        record.skipped_frames = self.skipped;
        record.reference_frames = self.reference_frames;
        record.people = self.people().into_iter().map(String::from).collect();
        let mut model = LivenessModel::train(&live, &spoof, record)?;
        model.record.generic_threshold = generic_operating_point(&self.held_out_generic_attacks()?);
        Ok(model)
    }

    /// Each person's attack frames scored by a generic classifier trained on everyone
    /// else (one list per person with attack frames).
    fn held_out_generic_attacks(&self) -> Result<Vec<Vec<f32>>, VisionError> {
        let mut out = Vec::new();
        for person in self.people() {
            let rows = |live: bool| -> Vec<Vec<f32>> {
                self.samples
                    .iter()
                    .filter(|s| s.person != person && s.live == live)
                    .map(|s| s.features.clone())
                    .collect()
            };
            let (live, spoof) = (rows(true), rows(false));
            if live.is_empty() || spoof.is_empty() {
                continue;
            }
            let (generic, _) = super::Classifier::train(&live, &spoof, None)?;
            let attacks = self
                .samples
                .iter()
                .filter(|s| s.person == person && !s.live)
                .map(|s| generic.score(&s.features))
                .collect::<Result<Vec<f32>, VisionError>>()?;
            if !attacks.is_empty() {
                out.push(attacks);
            }
        }
        Ok(out)
    }
}

/// The generic model's operating point from held-out attack scores (one list per person):
/// the lowest threshold at which no person has more than [`GENERIC_WORST_APCER`] of their
/// attack frames scored above it. A model that never had to judge a stranger without a
/// reference (students enrolled from uploaded photos have none) is otherwise tuned only
/// to the people it learnt, which let through too few live faces of people it had not
/// seen; 0 when there is nobody to learn the point from.
pub fn generic_operating_point(attacks_per_person: &[Vec<f32>]) -> f32 {
    attacks_per_person
        .iter()
        .map(|scores| {
            let mut sorted = scores.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let allowed = (GENERIC_WORST_APCER * sorted.len() as f64).floor() as usize;
            sorted.get(allowed).copied().unwrap_or(f32::MIN)
        })
        .reduce(f32::max)
        .unwrap_or(0.0)
}

/// One sample scored by models that never saw its person.
#[derive(Clone, Debug)]
pub struct HeldOutScore {
    pub person: String,
    pub live: bool,
    pub session: String,
    /// The client model's score (with the person's reference), if they have one.
    pub client: Option<f32>,
    /// The generic model's score.
    pub generic: f32,
}

/// Leave each person out in turn: train on everyone else, score that person's samples.
pub fn leave_one_out(
    samples: &Samples,
    mut progress: impl FnMut(&str),
) -> Result<Vec<HeldOutScore>, VisionError> {
    let mut out = Vec::new();
    for person in samples.people() {
        progress(person);
        let model = samples.without(person).train(TrainingRecord::default())?;
        for s in samples.samples.iter().filter(|s| s.person == person) {
            out.push(HeldOutScore::of(&model, s, samples.reference_of(s))?);
        }
    }
    Ok(out)
}

impl HeldOutScore {
    /// Scores one sample with `model`, with and without the person's reference.
    pub fn of(
        model: &LivenessModel,
        s: &Sample,
        reference: Option<&[f32]>,
    ) -> Result<HeldOutScore, VisionError> {
        Ok(HeldOutScore {
            person: s.person.clone(),
            live: s.live,
            session: s.session.clone(),
            client: reference
                .map(|r| model.score_features(&s.features, Some(r)))
                .transpose()?,
            generic: model.score_features(&s.features, None)?,
        })
    }
}

/// The trade-off of the client model over thresholds, from held-out scores: the share of
/// attack frames accepted and of live frames refused at each.
pub fn tradeoff(scores: &[HeldOutScore]) -> Vec<Tradeoff> {
    let client = |live: bool| -> Vec<f32> {
        scores
            .iter()
            .filter(|s| s.live == live)
            .filter_map(|s| s.client)
            .collect()
    };
    Tradeoff::over_thresholds(&client(true), &client(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_session_gives_the_reference_frames() {
        let names: Vec<PathBuf> = (0..30)
            .map(|i| PathBuf::from(format!("0001_00_00_01_{i}.jpg")))
            .chain((0..5).map(|i| PathBuf::from(format!("0001_00_00_02_{i}.jpg"))))
            .collect();
        let r = reference_frames(&names);
        assert_eq!(r.len(), REFERENCE_FRAMES);
        assert_eq!(
            r[1],
            PathBuf::from("0001_00_00_01_2.jpg"),
            "every other frame"
        );
        assert_eq!(session_of(&names[31]), "00_00_02");
    }

    #[test]
    fn the_generic_operating_point_lets_through_at_most_one_percent_of_anyones_attacks() {
        // Person A's attacks score −2.00 … −0.01, person B's −1.50 … 0.49 (200 each).
        let a: Vec<f32> = (0..200).map(|i| -2.0 + i as f32 / 100.0).collect();
        let b: Vec<f32> = (0..200).map(|i| -1.5 + i as f32 / 100.0).collect();
        let t = generic_operating_point(&[a.clone(), b.clone()]);
        let above = |v: &[f32], t: f32| v.iter().filter(|s| **s > t).count();
        assert!(above(&a, t) <= 2 && above(&b, t) <= 2, "threshold {t}");
        assert_eq!(
            above(&b, t),
            2,
            "the lowest such threshold: B, the worst, is at 1 %"
        );
        assert!(above(&b, t - 0.001) > 2);
        assert_eq!(generic_operating_point(&[]), 0.0, "nobody to learn from");
    }
}
