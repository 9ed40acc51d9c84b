//! Benchmarks behind `rollcall bench` and `cargo bench`: figures are printed as tables with
//! the machine named, never asserted in tests.

use crate::settings::Settings;
use crate::vision::image_io::read_image_file;
use crate::vision::{FaceEngine, VisionError};
use opencv::core::{Mat, Size};
use opencv::imgproc;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The CPU model, for labelling figures.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {cores} cores")
}

/// Percentile (0–100) of a sample, by nearest rank.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Timing of one pipeline step, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct StepTiming {
    pub step: String,
    pub ms_p50: f64,
    pub ms_p95: f64,
    pub runs: usize,
}

fn timing(step: &str, samples: &[f64]) -> StepTiming {
    StepTiming {
        step: step.to_string(),
        ms_p50: percentile(samples, 50.0),
        ms_p95: percentile(samples, 95.0),
        runs: samples.len(),
    }
}

/// Frames (any size, resized to 640×480) from a folder of images, in name order.
pub fn frames_640x480(dir: &Path, limit: usize) -> Result<Vec<Mat>, VisionError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| crate::vision::ImageError::Unreadable(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files.iter().take(limit) {
        let m = read_image_file(f)?;
        let mut r = Mat::default();
        imgproc::resize(
            &m,
            &mut r,
            Size::new(640, 480),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        out.push(r);
    }
    Ok(out)
}

/// Detection time per 640×480 frame and embedding time per face for each model.
pub fn pipeline(frames: &[Mat], settings: &Settings) -> Result<Vec<StepTiming>, VisionError> {
    let mut engine = FaceEngine::load(settings)?;
    // Warm-up: the first forward pass of each net allocates.
    if let Some(f) = frames.first() {
        if let Some(face) = engine.detect(f)?.first() {
            engine.embed(f, face)?;
        }
    }
    let mut detect = Vec::new();
    let mut faces = Vec::new();
    for f in frames {
        let t = Instant::now();
        let found = engine.detect(f)?;
        detect.push(t.elapsed().as_secs_f64() * 1e3);
        if let Some(face) = found.into_iter().next() {
            faces.push((f, face));
        }
    }
    let mut rows = vec![timing("detect (640×480 frame)", &detect)];
    for e in &mut engine.embedders {
        let mut samples = Vec::new();
        for (f, face) in &faces {
            let t = Instant::now();
            e.embed(f, face)?;
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
        rows.push(timing(
            &format!("embed one face: {}", e.model_id()),
            &samples,
        ));
    }
    Ok(rows)
}

/// Prints step timings as a Markdown table.
pub fn print_steps(rows: &[StepTiming]) {
    println!("Machine: {}", machine());
    println!("| step | p50 ms | p95 ms | runs |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.1} | {:.1} | {} |",
            r.step, r.ms_p50, r.ms_p95, r.runs
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
