//! Training data for the liveness model: two folder-per-person sets of webcam frames, live
//! people and photo attacks (`rollcall train-liveness`; the evaluation tools use it too).

use super::{texture_features, LivenessModel, TrainingRecord};
use crate::vision::image_io::{file_name_of, folders_in, images_in, read_image_file};
use crate::vision::{FaceEngine, VisionError};
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
