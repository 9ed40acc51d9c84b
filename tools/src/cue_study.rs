//! `rollcall-tools eval-cues`: measures photo-attack cues besides the shipped colour
//! texture, on people the check was not trained on (each person left out in turn):
//!
//! - **context**: the texture of the wider crop, which takes in a held photo's edge and the
//!   fingers holding it — the shipped features with and without it;
//! - **frequency**: the face crop's spectrum in radial bands (a print's halftone, a
//!   screen's moiré), added to the shipped features;
//! - **scene light**: the face's brightness and colour against the scene around it (a
//!   print is lit by the room, not by whatever lit the photographed face), alone and added
//!   to the shipped features;
//! - **motion**: a photo held in a hand moves as one plane, so the points tracked on and
//!   around the face (optical flow) follow one homography with a small residual, while a
//!   live head shows parallax. Measured on pairs of successive frames of a session.
//!
//! Nothing here is used by the kiosk: it is how the shipped cue was chosen over these.

use crate::eval::ratio;
use crate::liveness_eval::ModelFigures;
use opencv::core::{Mat, Point2f, Rect, Size, Vector, CV_32F};
use opencv::prelude::*;
use opencv::{calib3d, imgproc, video};
use rollcall::vision::image_io::read_image_file;
use rollcall::vision::liveness::site::mean_of;
use rollcall::vision::liveness::texture_features;
use rollcall::vision::liveness::training::{self, reference_frames, session_of, Sample, Samples};
use rollcall::vision::{Face, FaceEngine, VisionError};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// Radial bands of the spectrum.
const BANDS: usize = 8;
/// Side of the crop the spectrum is taken of.
const SPECTRUM_CROP: i32 = 64;
/// Successive frames further apart than this (frame numbers) are not paired.
const MAX_GAP: u64 = 10;
/// A pair moving less than this (median point motion, pixels) says nothing about planes.
const MIN_MOTION: f64 = 2.0;
/// Residual-to-motion ratios below which a pair is called "moves as one plane".
const PLANE_RATIOS: [f64; 3] = [0.05, 0.1, 0.2];

struct Frame {
    person: String,
    live: bool,
    reference: bool,
    texture: Vec<f32>,
    frequency: Vec<f32>,
    light: Vec<f32>,
}

/// One pair of successive frames: median motion of the tracked points and median distance
/// from where one homography puts them.
struct MotionPair {
    person: String,
    live: bool,
    motion: f64,
    residual: f64,
}

/// Per person and overall, for one feature set.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CueFigures {
    pub features: String,
    pub worst_apcer: f64,
    pub mean_apcer: f64,
    pub worst_bpcer: f64,
    pub mean_bpcer: f64,
}

/// The motion rule at one ratio: pairs called "one plane" among live and attack pairs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MotionFigures {
    pub ratio: f64,
    pub live_pairs: usize,
    pub live_flagged: usize,
    pub worst_person_live_flagged: f64,
    pub attack_pairs: usize,
    pub attack_flagged: usize,
    pub worst_person_attack_caught: f64,
}

/// What `eval-cues` reports.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CueReport {
    pub texture: Vec<CueFigures>,
    pub motion: Vec<MotionFigures>,
    pub frames: usize,
    pub no_face: usize,
}

/// The face box, clamped to the image.
fn face_rect(image: &Mat, face: &Face, scale: f32) -> Rect {
    let side = face.width().max(face.height()) * scale;
    let (cx, cy) = ((face.x1 + face.x2) / 2.0, (face.y1 + face.y2) / 2.0);
    let x0 = (cx - side / 2.0).max(0.0) as i32;
    let y0 = (cy - side / 2.0).max(0.0) as i32;
    let x1 = ((cx + side / 2.0) as i32).min(image.cols());
    let y1 = ((cy + side / 2.0) as i32).min(image.rows());
    Rect::new(x0, y0, (x1 - x0).max(1), (y1 - y0).max(1))
}

fn gray(image: &Mat) -> Result<Mat, VisionError> {
    let mut g = Mat::default();
    imgproc::cvt_color_def(image, &mut g, imgproc::COLOR_BGR2GRAY)?;
    Ok(g)
}

/// Share of the face crop's spectral energy (DC left out) in each radial band.
fn frequency_features(image: &Mat, face: &Face) -> Result<Vec<f32>, VisionError> {
    let roi = Mat::roi(&gray(image)?, face_rect(image, face, 1.0))?.try_clone()?;
    let mut small = Mat::default();
    imgproc::resize(
        &roi,
        &mut small,
        Size::new(SPECTRUM_CROP, SPECTRUM_CROP),
        0.0,
        0.0,
        imgproc::INTER_AREA,
    )?;
    let mut f = Mat::default();
    small.convert_to(&mut f, CV_32F, 1.0 / 255.0, 0.0)?;
    let mut spectrum = Mat::default();
    opencv::core::dft(&f, &mut spectrum, opencv::core::DFT_COMPLEX_OUTPUT, 0)?;
    let n = SPECTRUM_CROP as usize;
    let mut bands = [0f64; BANDS];
    for y in 0..n {
        for x in 0..n {
            // Frequencies wrap: the far half of each axis is negative.
            let fy = y.min(n - y) as f64;
            let fx = x.min(n - x) as f64;
            let r = (fx * fx + fy * fy).sqrt() / (n as f64 / 2.0);
            if r == 0.0 || r > 1.0 {
                continue;
            }
            let c = spectrum.at_2d::<opencv::core::Vec2f>(y as i32, x as i32)?;
            let energy = f64::from(c[0]).powi(2) + f64::from(c[1]).powi(2);
            bands[((r * BANDS as f64) as usize).min(BANDS - 1)] += energy;
        }
    }
    let total: f64 = bands.iter().sum::<f64>().max(1e-12);
    Ok(bands.iter().map(|b| (b / total).sqrt() as f32).collect())
}

/// The face's light against the scene: for Y, Cr and Cb, the face crop's mean minus the
/// scene's (the frame outside the 1.6× crop), and the face's spread over the scene's;
/// scaled to about −1…1.
fn light_features(image: &Mat, face: &Face) -> Result<Vec<f32>, VisionError> {
    let mut ycrcb = Mat::default();
    imgproc::cvt_color_def(image, &mut ycrcb, imgproc::COLOR_BGR2YCrCb)?;
    let stats = |mask: &Mat| -> Result<(opencv::core::Scalar, opencv::core::Scalar), VisionError> {
        let (mut mean, mut std) = (Mat::default(), Mat::default());
        opencv::core::mean_std_dev(&ycrcb, &mut mean, &mut std, mask)?;
        let at = |m: &Mat, i: i32| m.at::<f64>(i).copied().unwrap_or(0.0);
        Ok((
            opencv::core::Scalar::new(at(&mean, 0), at(&mean, 1), at(&mean, 2), 0.0),
            opencv::core::Scalar::new(at(&std, 0), at(&std, 1), at(&std, 2), 0.0),
        ))
    };
    let region = |rect: Rect, inside: bool| -> Result<Mat, VisionError> {
        let (fill, rect_value) = if inside { (0.0, 255.0) } else { (255.0, 0.0) };
        let mut m = Mat::new_rows_cols_with_default(
            image.rows(),
            image.cols(),
            opencv::core::CV_8U,
            opencv::core::Scalar::all(fill),
        )?;
        imgproc::rectangle(
            &mut m,
            rect,
            opencv::core::Scalar::all(rect_value),
            -1,
            imgproc::LINE_8,
            0,
        )?;
        Ok(m)
    };
    let (face_mean, face_std) = stats(&region(face_rect(image, face, 1.0), true)?)?;
    let (scene_mean, scene_std) = stats(&region(face_rect(image, face, 1.6), false)?)?;
    let mut out = Vec::with_capacity(6);
    for c in 0..3 {
        out.push(((face_mean[c] - scene_mean[c]) / 255.0) as f32);
    }
    for c in 0..3 {
        out.push((face_std[c] / scene_std[c].max(1.0)).min(4.0) as f32 / 4.0);
    }
    Ok(out)
}

/// Tracks corners of the face region from `a` to `b` and fits one homography.
fn motion_pair(a: &Mat, b: &Mat, face: &Face) -> Result<Option<(f64, f64)>, VisionError> {
    let mut mask = Mat::zeros(a.rows(), a.cols(), opencv::core::CV_8U)?.to_mat()?;
    imgproc::rectangle(
        &mut mask,
        face_rect(a, face, 1.3),
        opencv::core::Scalar::all(255.0),
        -1,
        imgproc::LINE_8,
        0,
    )?;
    let mut corners: Vector<Point2f> = Vector::new();
    imgproc::good_features_to_track(a, &mut corners, 200, 0.01, 5.0, &mask, 3, false, 0.04)?;
    if corners.len() < 12 {
        return Ok(None);
    }
    let mut next: Vector<Point2f> = Vector::new();
    let (mut status, mut err) = (Vector::<u8>::new(), Vector::<f32>::new());
    video::calc_optical_flow_pyr_lk_def(a, b, &corners, &mut next, &mut status, &mut err)?;
    let (mut p0, mut p1) = (Vector::<Point2f>::new(), Vector::<Point2f>::new());
    for i in 0..corners.len() {
        if status.get(i)? == 1 {
            p0.push(corners.get(i)?);
            p1.push(next.get(i)?);
        }
    }
    if p0.len() < 12 {
        return Ok(None);
    }
    let h = calib3d::find_homography(&p0, &p1, &mut Mat::default(), calib3d::RANSAC, 1.0)?;
    if h.empty() {
        return Ok(None);
    }
    let mut projected: Vector<Point2f> = Vector::new();
    opencv::core::perspective_transform(&p0, &mut projected, &h)?;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let dist =
        |a: Point2f, b: Point2f| f64::from(((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt());
    let motion = median(
        (0..p0.len())
            .map(|i| dist(p0.get(i).unwrap(), p1.get(i).unwrap()))
            .collect(),
    );
    let residual = median(
        (0..p0.len())
            .map(|i| dist(projected.get(i).unwrap(), p1.get(i).unwrap()))
            .collect(),
    );
    Ok(Some((motion, residual)))
}

/// The frame number of a NUAA name (`…_109.jpg` → 109).
fn frame_number(p: &std::path::Path) -> u64 {
    p.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.rsplit('_').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Reads every frame (in time order per person and session), its cues and the motion
/// pairs.
fn collect(
    engine: &mut FaceEngine,
    frames: &[(String, PathBuf, bool)],
    mut progress: impl FnMut(),
) -> Result<(Vec<Frame>, Vec<MotionPair>, usize), VisionError> {
    let mut live_of: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    for (person, path, live) in frames {
        if *live {
            live_of.entry(person).or_default().push(path.clone());
        }
    }
    let references: HashSet<PathBuf> = live_of.values().flat_map(|v| reference_frames(v)).collect();
    let (mut out, mut pairs, mut no_face) = (Vec::new(), Vec::new(), 0);
    let mut previous: Option<(String, bool, String, u64, Mat, Face)> = None;
    for (person, path, live) in frames {
        progress();
        let Ok(image) = read_image_file(path) else {
            no_face += 1;
            continue;
        };
        let Some(face) = engine.detect(&image)?.into_iter().next() else {
            no_face += 1;
            continue;
        };
        let g = gray(&image)?;
        let (session, number) = (session_of(path), frame_number(path));
        if let Some((p, l, s, n, pg, pf)) = &previous {
            if p == person && l == live && *s == session && number > *n && number - n <= MAX_GAP {
                if let Some((motion, residual)) = motion_pair(pg, &g, pf)? {
                    pairs.push(MotionPair {
                        person: person.clone(),
                        live: *live,
                        motion,
                        residual,
                    });
                }
            }
        }
        out.push(Frame {
            person: person.clone(),
            live: *live,
            reference: references.contains(path),
            texture: texture_features(&image, &face)?,
            frequency: frequency_features(&image, &face)?,
            light: light_features(&image, &face)?,
        });
        previous = Some((person.clone(), *live, session, number, g, face));
    }
    Ok((out, pairs, no_face))
}

/// Leave-one-person-out figures of the client check on features made by `pick` (the same
/// evaluation as `eval-liveness`, on these features).
fn leave_one_out(
    name: &str,
    frames: &[Frame],
    pick: &dyn Fn(&Frame) -> Vec<f32>,
) -> Result<CueFigures, VisionError> {
    let mut references: BTreeMap<String, Vec<Vec<f32>>> = BTreeMap::new();
    for f in frames.iter().filter(|f| f.reference) {
        references
            .entry(f.person.clone())
            .or_default()
            .push(pick(f));
    }
    let samples = Samples {
        samples: frames
            .iter()
            .filter(|f| !f.reference)
            .map(|f| Sample {
                person: f.person.clone(),
                live: f.live,
                session: String::new(),
                features: pick(f),
            })
            .collect(),
        references: references
            .into_iter()
            .filter_map(|(p, rows)| mean_of(rows.iter()).map(|m| (p, m)))
            .collect(),
        ..Samples::default()
    };
    let scores = training::leave_one_out(&samples, |_| {})?;
    let client = ModelFigures::from_scores(
        scores
            .iter()
            .filter_map(|s| s.client.map(|c| (s.person.clone(), s.live, c))),
        0.0,
    );
    Ok(CueFigures {
        features: name.into(),
        worst_apcer: client.worst_apcer,
        mean_apcer: client.mean_apcer,
        worst_bpcer: client.worst_bpcer,
        mean_bpcer: client.mean_bpcer,
    })
}

fn motion_figures(pairs: &[MotionPair]) -> Vec<MotionFigures> {
    PLANE_RATIOS
        .iter()
        .map(|&r| {
            let flagged = |p: &MotionPair| p.motion >= MIN_MOTION && p.residual / p.motion < r;
            let mut per: BTreeMap<(&str, bool), (usize, usize)> = BTreeMap::new();
            for p in pairs {
                let e = per.entry((p.person.as_str(), p.live)).or_default();
                e.0 += 1;
                e.1 += usize::from(flagged(p));
            }
            let worst = |live: bool, pick: &dyn Fn(f64, f64) -> f64, start: f64| {
                per.iter()
                    .filter(|((_, l), _)| *l == live)
                    .map(|(_, (n, k))| ratio(*k, *n))
                    .fold(start, pick)
            };
            let count = |live: bool| {
                let v: Vec<&MotionPair> = pairs.iter().filter(|p| p.live == live).collect();
                (v.len(), v.iter().filter(|p| flagged(p)).count())
            };
            let ((lp, lf), (ap, af)) = (count(true), count(false));
            MotionFigures {
                ratio: r,
                live_pairs: lp,
                live_flagged: lf,
                worst_person_live_flagged: worst(true, &f64::max, 0.0),
                attack_pairs: ap,
                attack_flagged: af,
                worst_person_attack_caught: worst(false, &f64::min, 1.0),
            }
        })
        .collect()
}

/// Measures the cues on labelled frames (person, path, live), in time order.
pub fn study(
    engine: &mut FaceEngine,
    frames: &[(String, PathBuf, bool)],
    progress: impl FnMut(),
) -> Result<CueReport, VisionError> {
    let (frames_read, pairs, no_face) = collect(engine, frames, progress)?;
    let face_only = |f: &Frame| f.texture[..f.texture.len() / 2].to_vec();
    let shipped = |f: &Frame| f.texture.clone();
    let with_frequency = |f: &Frame| {
        let mut v = f.texture.clone();
        v.extend(&f.frequency);
        v
    };
    let light_only = |f: &Frame| f.light.clone();
    let with_light = |f: &Frame| {
        let mut v = f.texture.clone();
        v.extend(&f.light);
        v
    };
    Ok(CueReport {
        texture: vec![
            leave_one_out("face crop only", &frames_read, &face_only)?,
            leave_one_out("face + wider crop (shipped)", &frames_read, &shipped)?,
            leave_one_out(
                "face + wider crop + frequency bands",
                &frames_read,
                &with_frequency,
            )?,
            leave_one_out("scene light only", &frames_read, &light_only)?,
            leave_one_out("face + wider crop + scene light", &frames_read, &with_light)?,
        ],
        motion: motion_figures(&pairs),
        frames: frames_read.len(),
        no_face,
    })
}

/// Prints the report as Markdown tables.
pub fn print_report(r: &CueReport) {
    let pct = |x: f64| format!("{:.1} %", x * 100.0);
    println!(
        "{} frames with a face ({} without); client check, each person left out in turn, threshold 0, per frame.",
        r.frames, r.no_face
    );
    println!();
    println!("| features | attacks let in: worst / mean | live refused: worst / mean |");
    println!("|---|---|---|");
    for c in &r.texture {
        println!(
            "| {} | {} / {} | {} / {} |",
            c.features,
            pct(c.worst_apcer),
            pct(c.mean_apcer),
            pct(c.worst_bpcer),
            pct(c.mean_bpcer)
        );
    }
    println!();
    println!(
        "Motion: pairs of successive frames (≤ {MAX_GAP} frame numbers apart) moving ≥ {MIN_MOTION} px, called \"one plane\" when the homography residual is below ratio × motion."
    );
    println!();
    println!("| ratio | live pairs called a plane (all / worst person) | attack pairs called a plane (all / worst person) |");
    println!("|---|---|---|");
    for m in &r.motion {
        println!(
            "| {:.2} | {} of {} ({}) / {} | {} of {} ({}) / {} |",
            m.ratio,
            m.live_flagged,
            m.live_pairs,
            pct(ratio(m.live_flagged, m.live_pairs)),
            pct(m.worst_person_live_flagged),
            m.attack_flagged,
            m.attack_pairs,
            pct(ratio(m.attack_flagged, m.attack_pairs)),
            pct(m.worst_person_attack_caught)
        );
    }
}
