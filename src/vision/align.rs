//! Face alignment: a similarity transform (rotation, uniform scale, translation) that maps
//! the five detected landmarks onto an embedder's canonical positions, and the warped chip.

use super::Face;
use opencv::core::{self, Mat, Rect, Scalar, Size};
use opencv::imgproc;
use opencv::prelude::*;

/// Canonical landmark positions (eyes, nose tip, mouth corners) in a chip of `size` pixels.
#[derive(Clone, Copy, Debug)]
pub struct ChipTemplate {
    pub size: i32,
    pub points: [[f32; 2]; 5],
}

/// dlib's 150×150 face chip (padding 0.25). Measured by running the detector on chips made
/// by dlib's own `get_face_chip` from LFW photos and averaging the landmark positions.
pub const DLIB_CHIP: ChipTemplate = ChipTemplate {
    size: 150,
    points: [
        [46.7, 44.7],
        [101.8, 44.8],
        [73.8, 77.3],
        [50.5, 105.0],
        [97.5, 105.1],
    ],
};

/// FaceNet's 160×160 input. Landmark positions averaged over LFW crops of the detector box
/// squared and enlarged by 30 %, then scaled by 1.2 about the centre: the tighter crop
/// verified best on LFW pairs (true accepts at 0.1 % false accepts: 0.87 → 0.90).
pub const FACENET_CHIP: ChipTemplate = ChipTemplate {
    size: 160,
    points: [
        [56.8, 63.7],
        [106.5, 62.7],
        [81.9, 92.5],
        [60.2, 118.5],
        [104.0, 117.8],
    ],
};

/// A 2×3 affine matrix `[[a, -b, tx], [b, a, ty]]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Similarity {
    pub a: f64,
    pub b: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Similarity {
    /// Least-squares similarity transform taking `src` points onto `dst` points.
    pub fn fit(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Similarity {
        let n = src.len().min(dst.len()) as f64;
        let mean = |p: &[[f32; 2]]| {
            let (sx, sy) = p
                .iter()
                .fold((0.0, 0.0), |(x, y), q| (x + q[0] as f64, y + q[1] as f64));
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (s[0] as f64 - msx, s[1] as f64 - msy);
            let (dx, dy) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
            norm += sx * sx + sy * sy;
        }
        let norm = norm.max(1e-9);
        let (a, b) = (dot / norm, cross / norm);
        Similarity {
            a,
            b,
            tx: mdx - (a * msx - b * msy),
            ty: mdy - (b * msx + a * msy),
        }
    }

    /// How many output pixels one input pixel becomes.
    pub fn scale(&self) -> f64 {
        (self.a * self.a + self.b * self.b).sqrt()
    }

    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
    }

    pub fn inverse(&self) -> Similarity {
        let s2 = (self.a * self.a + self.b * self.b).max(1e-12);
        let (a, b) = (self.a / s2, -self.b / s2);
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }

    fn to_mat(self) -> opencv::Result<Mat> {
        Mat::from_slice_2d(&[[self.a, -self.b, self.tx], [self.b, self.a, self.ty]])
    }
}

/// Cuts the aligned chip for `template` out of a BGR image.
///
/// When the face is much larger than the chip, the region around it is first shrunk with
/// area averaging so the chip is not aliased.
pub fn chip(bgr: &Mat, face: &Face, template: &ChipTemplate) -> opencv::Result<Mat> {
    let mut m = Similarity::fit(&face.landmarks, &template.points);
    let size = Size::new(template.size, template.size);
    // The frame itself, or the shrunk region around the face (never a copy of the frame).
    let mut small = Mat::default();
    let mut source = bgr;
    if m.scale() < 0.7 {
        // Region of the image the chip covers, with a small margin.
        let inv = m.inverse();
        let s = template.size as f64;
        let corners = [[0.0, 0.0], [s, 0.0], [0.0, s], [s, s]].map(|c| inv.apply(c));
        let x0 = corners
            .iter()
            .map(|c| c[0])
            .fold(f64::MAX, f64::min)
            .floor() as i32
            - 2;
        let y0 = corners
            .iter()
            .map(|c| c[1])
            .fold(f64::MAX, f64::min)
            .floor() as i32
            - 2;
        let x1 = corners.iter().map(|c| c[0]).fold(f64::MIN, f64::max).ceil() as i32 + 2;
        let y1 = corners.iter().map(|c| c[1]).fold(f64::MIN, f64::max).ceil() as i32 + 2;
        let roi = Rect::new(x0, y0, x1 - x0, y1 - y0) & Rect::new(0, 0, bgr.cols(), bgr.rows());
        if roi.width > 0 && roi.height > 0 {
            let f = m.scale();
            let target = Size::new(
                ((roi.width as f64 * f).round() as i32).max(1),
                ((roi.height as f64 * f).round() as i32).max(1),
            );
            imgproc::resize(
                &Mat::roi(bgr, roi)?,
                &mut small,
                target,
                0.0,
                0.0,
                imgproc::INTER_AREA,
            )?;
            let (fx, fy) = (
                target.width as f64 / roi.width as f64,
                target.height as f64 / roi.height as f64,
            );
            // Chip = M · (q / f + origin), with q in the shrunk region.
            let f_avg = (fx + fy) / 2.0;
            let origin = m.apply([roi.x as f64, roi.y as f64]);
            m = Similarity {
                a: m.a / f_avg,
                b: m.b / f_avg,
                tx: origin[0],
                ty: origin[1],
            };
            source = &small;
        }
    }
    let mut out = Mat::default();
    imgproc::warp_affine(
        source,
        &mut out,
        &m.to_mat()?,
        size,
        imgproc::INTER_LINEAR,
        core::BORDER_CONSTANT,
        Scalar::all(0.0),
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_similarity() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 12.0,
            ty: -4.0,
        };
        let src = [
            [10.0f32, 20.0],
            [50.0, 22.0],
            [30.0, 40.0],
            [15.0, 60.0],
            [45.0, 61.0],
        ];
        let dst: Vec<[f32; 2]> = src
            .iter()
            .map(|p| {
                let q = truth.apply([p[0] as f64, p[1] as f64]);
                [q[0] as f32, q[1] as f32]
            })
            .collect();
        let m = Similarity::fit(&src, &dst);
        assert!((m.a - truth.a).abs() < 1e-4 && (m.b - truth.b).abs() < 1e-4);
        assert!((m.tx - truth.tx).abs() < 1e-3 && (m.ty - truth.ty).abs() < 1e-3);
    }

    #[test]
    fn inverse_undoes_the_transform() {
        let m = Similarity {
            a: 1.5,
            b: -0.4,
            tx: 3.0,
            ty: 7.0,
        };
        let p = m.inverse().apply(m.apply([11.0, -5.0]));
        assert!((p[0] - 11.0).abs() < 1e-9 && (p[1] + 5.0).abs() < 1e-9);
    }
}
