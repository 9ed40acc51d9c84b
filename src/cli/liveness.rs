//! `rollcall train-liveness`: trains the photo-attack check from folders of frames.

use super::{progress_bar, settings_for, LivenessFrames};
use crate::data_dir::DataDir;
use crate::vision::liveness::training::{labelled_frames, LabelledFrame, Samples};
use crate::vision::liveness::TrainingRecord;
use crate::vision::FaceEngine;
use anyhow::{bail, Context};
use std::path::Path;

/// The labelled frames of both sets (person, path, live), and a face engine to read them
/// with (without the photo check itself: only features are computed).
pub fn frames_and_engine(
    frames: &LivenessFrames,
    data_dir: Option<&Path>,
) -> anyhow::Result<(Vec<LabelledFrame>, FaceEngine)> {
    let LivenessFrames {
        live,
        spoof,
        people,
    } = frames;
    for dir in [live, spoof] {
        if !dir.is_dir() {
            bail!(
                "{} is not a folder with one folder of frames per person",
                dir.display()
            );
        }
    }
    let frames = labelled_frames(live, spoof, people)?;
    if frames.is_empty() {
        bail!("no frames found (images in one folder per person)");
    }
    let mut settings = settings_for(&DataDir::resolve(data_dir))?;
    settings.liveness.enabled = false;
    Ok((frames, FaceEngine::load(&settings)?))
}

/// Detects faces in both sets and computes their features, with a progress bar.
pub fn samples(frames: &LivenessFrames, data_dir: Option<&Path>) -> anyhow::Result<Samples> {
    let (frames, mut engine) = frames_and_engine(frames, data_dir)?;
    let bar = progress_bar(frames.len(), "faces", "frames");
    let samples = Samples::collect(&mut engine, &frames, || bar.inc(1))?;
    bar.finish_and_clear();
    Ok(samples)
}

/// Trains the model and writes it into `out`.
pub fn train(frames: &LivenessFrames, out: &Path, data_dir: Option<&Path>) -> anyhow::Result<()> {
    let samples = samples(frames, data_dir)?;
    let (n_live, n_spoof) =
        samples.samples.iter().fold(
            (0, 0),
            |(l, s), x| if x.live { (l + 1, s) } else { (l, s + 1) },
        );
    if n_live == 0 || n_spoof == 0 {
        bail!(
            "training needs faces in both folders (found {n_live} live, {n_spoof} attack frames)"
        );
    }
    let record = TrainingRecord {
        trained_at: chrono::Local::now().to_rfc3339(),
        live_dir: frames.live.display().to_string(),
        spoof_dir: frames.spoof.display().to_string(),
        ..TrainingRecord::default()
    };
    let mut model = samples.train(record)?;
    // How strict the check is, measured on people each model never saw: shown to the admin
    // next to the strictness setting.
    if samples.people().len() > 1 {
        eprintln!("Measuring the trade-off, leaving each person out in turn…");
        let held_out = crate::vision::liveness::training::leave_one_out(&samples, |_| {})?;
        model.record.tradeoff = crate::vision::liveness::training::tradeoff(&held_out);
    }
    model
        .save(out)
        .with_context(|| format!("could not save the model in {}", out.display()))?;
    let r = &model.record;
    println!(
        "Trained on {} live and {} attack frames of {} people ({} more frames as their references, {} without a face skipped); {} + {} support vectors. Saved in {}.",
        r.live_frames,
        r.spoof_frames,
        r.people.len(),
        r.reference_frames,
        r.skipped_frames,
        r.generic.support_vectors,
        r.client.support_vectors,
        out.display()
    );
    Ok(())
}
