//! Face quality: size, sharpness, brightness and pose (from the landmarks), each with a
//! reason a person can act on.

use super::align::{self, DLIB_CHIP};
use super::{Face, VisionError};
use crate::settings::QualitySettings;
use opencv::core::{self, Mat, Rect};
use opencv::imgproc;
use opencv::prelude::*;

/// Something wrong with a face, and what the person can do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QualityIssue {
    /// Part of the face is outside the picture.
    CutOff,
    TooSmall,
    Blurry,
    TooDark,
    TooBright,
    TurnedAway,
    Tilted,
}

impl QualityIssue {
    /// A short instruction for someone standing at the kiosk.
    pub fn hint(&self) -> &'static str {
        match self {
            QualityIssue::CutOff => "Move into the picture",
            QualityIssue::TooSmall => "Step closer",
            QualityIssue::Blurry => "Hold still",
            QualityIssue::TooDark => "Too dark",
            QualityIssue::TooBright => "Too bright",
            QualityIssue::TurnedAway | QualityIssue::Tilted => "Face the camera",
        }
    }
}

impl std::fmt::Display for QualityIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QualityIssue::CutOff => "the face is cut off at the edge of the photo",
            QualityIssue::TooSmall => "the face is too small; use a closer photo",
            QualityIssue::Blurry => "the face is blurry",
            QualityIssue::TooDark => "the face is too dark",
            QualityIssue::TooBright => "the face is overexposed",
            QualityIssue::TurnedAway => "the face is turned away from the camera",
            QualityIssue::Tilted => "the head is tilted too far",
        })
    }
}

/// Measurements of one face and the issues found.
#[derive(Clone, Debug)]
pub struct QualityReport {
    /// Distance between the eyes, in image pixels.
    pub eye_distance_px: f32,
    /// Contrast-normalised detail on the aligned grey chip (higher is sharper).
    pub sharpness: f32,
    /// Mean grey level of the central face region (0–255).
    pub brightness: f32,
    /// Left/right turn: nose offset from the eye midline, in eye distances.
    pub yaw: f32,
    /// Up/down: nose position between the eye line (0) and mouth line (1).
    pub pitch: f32,
    /// Head roll in degrees.
    pub roll_deg: f32,
    /// Share of the face box outside the picture.
    pub cut_off: f32,
    pub issues: Vec<QualityIssue>,
}

impl QualityReport {
    pub fn is_good(&self) -> bool {
        self.issues.is_empty()
    }

    /// All issues as one sentence fragment ("the face is blurry; the face is too dark").
    pub fn reasons(&self) -> String {
        self.issues
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Pose from the five landmarks: (yaw, pitch, roll in degrees).
pub fn pose(face: &Face) -> (f32, f32, f32) {
    let [le, re, nose, ml, mr] = face.landmarks;
    let (dx, dy) = (re[0] - le[0], re[1] - le[1]);
    let d = (dx * dx + dy * dy).sqrt().max(1e-3);
    let roll = dy.atan2(dx);
    // Rotate so the eyes are level, then measure relative to the eye midpoint.
    let (c, s) = (roll.cos(), roll.sin());
    let eye_mid = [(le[0] + re[0]) / 2.0, (le[1] + re[1]) / 2.0];
    let mouth_mid = [(ml[0] + mr[0]) / 2.0, (ml[1] + mr[1]) / 2.0];
    let level = |p: [f32; 2]| {
        let (x, y) = (p[0] - eye_mid[0], p[1] - eye_mid[1]);
        [c * x + s * y, -s * x + c * y]
    };
    let n = level(nose);
    let m = level(mouth_mid);
    let yaw = n[0] / d;
    let pitch = if m[1].abs() > 1e-3 { n[1] / m[1] } else { 0.5 };
    (yaw, pitch, roll.to_degrees())
}

fn std_dev(m: &impl core::ToInputArray) -> opencv::Result<f64> {
    let mut mean = Mat::default();
    let mut std = Mat::default();
    core::mean_std_dev(m, &mut mean, &mut std, &core::no_array())?;
    Ok(*std.at::<f64>(0)?)
}

/// Detail relative to contrast: the Laplacian's spread over the grey levels' spread (×100),
/// so a dim or flat webcam picture is not mistaken for a blurred one.
fn sharpness(grey: &impl core::ToInputArray) -> opencv::Result<f32> {
    let mut lap = Mat::default();
    imgproc::laplacian_def(grey, &mut lap, core::CV_32F)?;
    let contrast = std_dev(grey)?.max(1.0);
    Ok((100.0 * (std_dev(&lap)? / contrast).powi(2)) as f32)
}

/// A whole picture's mean brightness, 0–255 (255 when it cannot be measured): how the
/// kiosk tells a camera whose picture stays black.
pub fn picture_brightness(bgr: &Mat) -> f64 {
    core::mean(bgr, &core::no_array())
        .map(|m| (m[0] + m[1] + m[2]) / 3.0)
        .unwrap_or(255.0)
}

/// The share of a face's box that lies outside a `width`×`height` picture.
pub fn cut_off(face: &Face, width: f32, height: f32) -> f32 {
    let area = face.width().max(1.0) * face.height().max(1.0);
    let inside_w = (face.x2.min(width) - face.x1.max(0.0)).max(0.0);
    let inside_h = (face.y2.min(height) - face.y1.max(0.0)).max(0.0);
    (1.0 - inside_w * inside_h / area).clamp(0.0, 1.0)
}

/// Measures a face and lists what makes it unsuitable.
pub fn assess(bgr: &Mat, face: &Face, s: &QualitySettings) -> Result<QualityReport, VisionError> {
    let chip = align::chip(bgr, face, &DLIB_CHIP)?;
    let mut grey = Mat::default();
    imgproc::cvt_color_def(&chip, &mut grey, imgproc::COLOR_BGR2GRAY)?;
    // Central region: eyes to mouth, without background.
    let centre = Mat::roi(&grey, Rect::new(40, 35, 70, 80))?;
    let brightness = core::mean_def(&centre)?[0] as f32;
    let sharpness = sharpness(&centre)?;
    let (yaw, pitch, roll_deg) = pose(face);
    let eye_distance_px = face.eye_distance();

    let cut_off = cut_off(face, bgr.cols() as f32, bgr.rows() as f32);
    let mut issues = Vec::new();
    if cut_off > s.max_cut_off {
        issues.push(QualityIssue::CutOff);
    }
    if eye_distance_px < s.min_eye_distance_px {
        issues.push(QualityIssue::TooSmall);
    }
    if brightness < s.min_brightness {
        issues.push(QualityIssue::TooDark);
    } else if brightness > s.max_brightness {
        issues.push(QualityIssue::TooBright);
    }
    if yaw.abs() > s.max_yaw || !(s.min_pitch..=s.max_pitch).contains(&pitch) {
        issues.push(QualityIssue::TurnedAway);
    } else if roll_deg.abs() > s.max_roll_deg {
        issues.push(QualityIssue::Tilted);
    }
    // Sharpness is only meaningful for faces big enough to carry detail.
    if sharpness < s.min_sharpness && !issues.contains(&QualityIssue::TooSmall) {
        issues.push(QualityIssue::Blurry);
    }
    Ok(QualityReport {
        eye_distance_px,
        sharpness,
        brightness,
        yaw,
        pitch,
        roll_deg,
        cut_off,
        issues,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(landmarks: [[f32; 2]; 5]) -> Face {
        Face {
            x1: 0.0,
            y1: 0.0,
            x2: 100.0,
            y2: 100.0,
            score: 1.0,
            landmarks,
        }
    }

    #[test]
    fn a_frontal_face_has_small_yaw_and_roll() {
        let (yaw, pitch, roll) = pose(&face(DLIB_CHIP.points));
        assert!(yaw.abs() < 0.05, "{yaw}");
        assert!((0.4..0.7).contains(&pitch), "{pitch}");
        assert!(roll.abs() < 1.0, "{roll}");
    }

    #[test]
    fn a_face_over_the_edge_is_cut_off() {
        let f = face(DLIB_CHIP.points);
        assert_eq!(cut_off(&f, 200.0, 200.0), 0.0);
        assert!((cut_off(&f, 200.0, 80.0) - 0.2).abs() < 1e-6);
    }

    #[test]
    fn a_nose_near_one_eye_means_the_head_is_turned() {
        let mut p = DLIB_CHIP.points;
        p[2][0] = p[1][0] - 5.0;
        let (yaw, _, _) = pose(&face(p));
        assert!(yaw > 0.3, "{yaw}");
    }
}
