//! `rollcall train-liveness` and `rollcall eval-liveness`.

use super::{progress_bar, settings_for, LivenessFrames};
use crate::data_dir::DataDir;
use crate::liveness_eval::{labelled_frames, LivenessReport, Samples};
use crate::vision::liveness::{LivenessModel, TrainingRecord};
use crate::vision::FaceEngine;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// Detects faces in both sets and computes their features, with a progress bar.
fn samples(frames: &LivenessFrames, data_dir: Option<&Path>) -> anyhow::Result<Samples> {
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
    // Features only: the photo check itself is not needed to compute them.
    settings.liveness.enabled = false;
    let mut engine = FaceEngine::load(&settings)?;
    let bar = progress_bar(frames.len(), "faces", false);
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
    model
        .save(out)
        .with_context(|| format!("could not save the model in {}", out.display()))?;
    let r = &model.record;
    println!(
        "Trained on {} live and {} attack frames of {} people ({} frames without a face skipped); {} support vectors. Saved in {}.",
        r.live_frames,
        r.spoof_frames,
        r.people.len(),
        r.skipped_frames,
        r.support_vectors,
        out.display()
    );
    Ok(())
}

/// Scores both sets with the model in `model_dir` (default: the settings' model).
pub fn eval(
    frames: &LivenessFrames,
    model_dir: Option<PathBuf>,
    json: bool,
    data_dir: Option<&Path>,
) -> anyhow::Result<()> {
    let settings = settings_for(&DataDir::resolve(data_dir))?;
    let dir = model_dir.unwrap_or_else(|| settings.liveness.dir());
    let model = LivenessModel::load(&dir)?;
    let samples = samples(frames, data_dir)?;
    let report = samples.evaluate(&model, settings.liveness.threshold)?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report, &model.record.people);
    }
    Ok(())
}

fn print_report(r: &LivenessReport, trained_on: &[String]) {
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
