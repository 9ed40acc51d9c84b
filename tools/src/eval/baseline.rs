//! The old system's recogniser, for comparison: Haar cascade + LBPH (OpenCV contrib).

use super::{metrics, Metrics, ProbeResult, Protocol};
use opencv::core::{Mat, Rect, Size, Vector};
use opencv::prelude::*;
use opencv::{face, imgproc, objdetect};
use rollcall::vision::image_io::read_image_file;
use rollcall::vision::VisionError;
use std::path::Path;
use std::time::Instant;

/// Runs the old recogniser on the protocol.
pub fn baseline(protocol: &Protocol, mut progress: impl FnMut()) -> Result<Metrics, VisionError> {
    const CASCADE: &str = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
    /// LBPH distance below which the old recogniser accepts a match.
    const LBPH_THRESHOLD: f32 = 80.0;
    let mut cascade = objdetect::CascadeClassifier::new(CASCADE)?;
    let start = Instant::now();
    let mut count = 0usize;
    let mut crop = |path: &Path| -> Result<Option<Mat>, VisionError> {
        count += 1;
        progress();
        let Ok(image) = read_image_file(path) else {
            return Ok(None);
        };
        let mut grey = Mat::default();
        imgproc::cvt_color_def(&image, &mut grey, imgproc::COLOR_BGR2GRAY)?;
        let mut faces = Vector::<Rect>::new();
        cascade.detect_multi_scale(
            &grey,
            &mut faces,
            1.1,
            5,
            0,
            Size::new(30, 30),
            Size::default(),
        )?;
        let Some(r) = faces.iter().max_by_key(|r| r.area()) else {
            return Ok(None);
        };
        let mut out = Mat::default();
        imgproc::resize(
            &Mat::roi(&grey, r)?,
            &mut out,
            Size::new(100, 100),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        Ok(Some(out))
    };
    let mut train = Vector::<Mat>::new();
    let mut labels = Vec::<i32>::new();
    let mut genuine = Vec::new();
    for (person, (_, e, p)) in protocol.enrolled.iter().enumerate() {
        for path in e {
            if let Some(m) = crop(path)? {
                train.push(m);
                labels.push(person as i32);
            }
        }
        for path in p {
            genuine.push((person, crop(path)?));
        }
    }
    let mut impostor = Vec::new();
    for (_, p) in &protocol.impostors {
        for path in p {
            impostor.push(crop(path)?);
        }
    }
    let mut lbph = face::LBPHFaceRecognizer::create(1, 8, 8, 8, f64::MAX)?;
    lbph.train(&train, &Mat::from_slice(&labels)?)?;
    let predict = |m: &Option<Mat>| -> Result<Option<(usize, f32, f32)>, VisionError> {
        let Some(m) = m else { return Ok(None) };
        let mut label = -1;
        let mut distance = 0.0;
        lbph.predict(m, &mut label, &mut distance)?;
        // Score: higher is better; the old recogniser has no runner-up margin.
        Ok((label >= 0).then_some((label as usize, -(distance as f32), f32::INFINITY)))
    };
    let mut results = Vec::new();
    for (person, m) in &genuine {
        results.push(ProbeResult {
            truth: Some(*person),
            face_found: m.is_some(),
            best: predict(m)?,
        });
    }
    for m in &impostor {
        results.push(ProbeResult {
            truth: None,
            face_found: m.is_some(),
            best: predict(m)?,
        });
    }
    let sec = start.elapsed().as_secs_f64() / count.max(1) as f64;
    Ok(metrics(&results, -LBPH_THRESHOLD, 0.0, sec))
}
