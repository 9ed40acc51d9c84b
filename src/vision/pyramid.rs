//! The detector's image pyramid: every level is the frame averaged over each level
//! pixel's area (what OpenCV's `INTER_AREA` computes), read off one integral image of the
//! frame. Resizing the whole frame again for each level cost about 1.2–1.8 ms a level
//! whatever the level's size; from the integral image a level costs in proportion to its
//! own size; the candidates' crops for R-Net and O-Net are read off the same sums. The
//! sums are exact, so a value differs from OpenCV's (which sums in 32-bit
//! floats) only where the mean is within a rounding error of a half, by one grey level.

use opencv::core::{self, Mat, Rect, Size};
use opencv::imgproc;
use opencv::prelude::*;

/// Sums of an RGB frame's pixel values over every rectangle from its top-left corner.
pub struct AreaPyramid {
    /// (rows + 1) × (cols + 1) sums of each of the 3 channels; exact (32-bit integers).
    sums: Mat,
    width: usize,
    height: usize,
}

/// One side's cell boundaries: where each of `count` cells from `start`, `extent` long in
/// all, begins and ends in the frame (clamped to it: outside it counts as zero), as the
/// integral image's whole index below and the fraction past it.
fn boundaries(start: f64, extent: f64, count: usize, source: usize) -> Vec<(usize, f64)> {
    let step = extent / count as f64;
    (0..=count)
        .map(|i| {
            let at = (start + i as f64 * step).clamp(0.0, source as f64);
            let whole = (at.floor() as usize).min(source - 1);
            (whole, at - whole as f64)
        })
        .collect()
}

impl AreaPyramid {
    /// The most pixels a frame may have for its sums to fit 32-bit integers (255 × pixels).
    pub const MAX_PIXELS: usize = (i32::MAX / 255) as usize;

    /// Builds the integral image of an 8-bit, 3-channel frame of at most `MAX_PIXELS`.
    pub fn new(rgb: &Mat) -> opencv::Result<AreaPyramid> {
        if rgb.total() > Self::MAX_PIXELS {
            return Err(opencv::Error::new(
                core::StsOutOfRange,
                format!("a {}×{} frame is too large to sum", rgb.cols(), rgb.rows()),
            ));
        }
        let mut sums = Mat::default();
        imgproc::integral(rgb, &mut sums, core::CV_32S)?;
        Ok(AreaPyramid {
            sums,
            width: rgb.cols() as usize,
            height: rgb.rows() as usize,
        })
    }

    /// The frame's width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The frame's height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The sum of the frame over [0, x) × [0, y) for fractional x and y (the integral
    /// image is bilinear within each pixel, where the frame is constant).
    fn corner(
        &self,
        sums: &[i32],
        (c, fx): (usize, f64),
        (r, fy): (usize, f64),
        out: &mut [f64; 3],
    ) {
        let stride = (self.width + 1) * 3;
        let at = |r: usize, c: usize, ch: usize| sums[r * stride + c * 3 + ch] as f64;
        for (ch, o) in out.iter_mut().enumerate() {
            let top = at(r, c, ch) + fx * (at(r, c + 1, ch) - at(r, c, ch));
            let bottom = at(r + 1, c, ch) + fx * (at(r + 1, c + 1, ch) - at(r + 1, c, ch));
            *o = top + fy * (bottom - top);
        }
    }

    /// One level as MTCNN's input (1 × width × height × 3; see `area_input`).
    pub fn level_input(&self, size: Size) -> opencv::Result<Mat> {
        let mut input = Mat::new_nd_with_default(
            &[1, size.width, size.height, 3],
            core::CV_32F,
            core::Scalar::all(0.0),
        )?;
        let whole = Rect::new(0, 0, self.width as i32, self.height as i32);
        self.area_input(whole, size, input.data_typed_mut::<f32>()?)?;
        Ok(input)
    }

    /// A rectangle of the frame (zero where it reaches outside) shrunk to `size` as MTCNN's
    /// input: each pixel the mean over its area rounded to a whole value as an 8-bit image
    /// would hold it, scaled to (v − 127.5) / 128, with rows and columns swapped. The
    /// rectangle must be at least as large as `size` (OpenCV enlarges by interpolating).
    pub fn area_input(&self, rect: Rect, size: Size, out: &mut [f32]) -> opencv::Result<()> {
        let flat = self.sums.reshape(1, 0)?;
        let sums = flat.data_typed::<i32>()?;
        let (w, h) = (size.width as usize, size.height as usize);
        let (x0, y0) = (rect.x as f64, rect.y as f64);
        let (rw, rh) = (rect.width as f64, rect.height as f64);
        let xs = boundaries(x0, rw, w, self.width);
        let ys = boundaries(y0, rh, h, self.height);
        let mut corners = vec![[0f64; 3]; (w + 1) * (h + 1)];
        for (i, &y) in ys.iter().enumerate() {
            for (j, &x) in xs.iter().enumerate() {
                self.corner(sums, x, y, &mut corners[i * (w + 1) + j]);
            }
        }
        let area = (rw / w as f64) * (rh / h as f64);
        for i in 0..h {
            for j in 0..w {
                let (a, b) = (&corners[i * (w + 1) + j], &corners[i * (w + 1) + j + 1]);
                let (c, d) = (
                    &corners[(i + 1) * (w + 1) + j],
                    &corners[(i + 1) * (w + 1) + j + 1],
                );
                for ch in 0..3 {
                    let mean = (d[ch] - b[ch] - c[ch] + a[ch]) / area;
                    let value = mean.round_ties_even().clamp(0.0, 255.0) as f32;
                    out[(j * h + i) * 3 + ch] = value * 0.0078125 - 127.5 * 0.0078125;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of smooth gradients and sharp edges (what a face and its background give).
    fn frame(width: i32, height: i32) -> Mat {
        let mut m = Mat::new_rows_cols_with_default(height, width, core::CV_8UC3, 0.into())
            .expect("a frame");
        for y in 0..height {
            for x in 0..width {
                let p = m.at_2d_mut::<core::Vec3b>(y, x).expect("in the frame");
                let edge = if (x / 37 + y / 23) % 2 == 0 { 60 } else { 0 };
                *p = core::Vec3b::from([
                    ((x * 255) / width) as u8,
                    ((y * 200) / height + edge) as u8,
                    ((x * y) % 251) as u8,
                ]);
            }
        }
        m
    }

    /// OpenCV's INTER_AREA resize of the same frame, as the same input.
    fn opencv_level(rgb: &Mat, size: Size) -> Vec<f32> {
        let mut resized = Mat::default();
        imgproc::resize(rgb, &mut resized, size, 0.0, 0.0, imgproc::INTER_AREA).unwrap();
        let mut out = vec![0f32; (size.width * size.height * 3) as usize];
        for y in 0..size.height {
            for x in 0..size.width {
                let p = resized.at_2d::<core::Vec3b>(y, x).unwrap();
                for ch in 0..3 {
                    out[((x * size.height + y) * 3 + ch) as usize] =
                        p[ch as usize] as f32 * 0.0078125 - 127.5 * 0.0078125;
                }
            }
        }
        out
    }

    #[test]
    fn levels_match_opencvs_area_resize() {
        let rgb = frame(640, 480);
        let pyramid = AreaPyramid::new(&rgb).unwrap();
        let mut scale = 0.3f32;
        let (mut values, mut differ) = (0usize, 0usize);
        while 480.0 * scale >= 12.0 {
            let size = Size::new((640.0 * scale).ceil() as i32, (480.0 * scale).ceil() as i32);
            let ours = pyramid.level_input(size).unwrap();
            let ours = ours.data_typed::<f32>().unwrap();
            let theirs = opencv_level(&rgb, size);
            for (a, b) in ours.iter().zip(&theirs) {
                // At most one grey level apart (OpenCV sums in 32-bit floats).
                assert!((a - b).abs() <= 0.0079, "{size:?}: {a} vs {b}");
                differ += usize::from(a != b);
            }
            values += theirs.len();
            scale *= 0.709;
        }
        // Where OpenCV's float sums land the other side of a half (this frame's gradients
        // give many exact halves: about 2 % of its values).
        assert!(differ * 20 < values, "{differ} of {values} values differ");
    }

    #[test]
    fn a_crop_reaching_outside_the_frame_is_zero_there_as_with_opencv() {
        let rgb = frame(120, 90);
        let pyramid = AreaPyramid::new(&rgb).unwrap();
        // A 70-pixel square crossing the top-left corner, shrunk to 24 and to 48.
        let wanted = Rect::new(-20, -10, 70, 70);
        let inside = wanted & Rect::new(0, 0, 120, 90);
        let mut padded = Mat::default();
        core::copy_make_border(
            &Mat::roi(&rgb, inside).unwrap(),
            &mut padded,
            10,
            0,
            20,
            0,
            core::BORDER_CONSTANT,
            core::Scalar::all(0.0),
        )
        .unwrap();
        for side in [24, 48] {
            let size = Size::new(side, side);
            let mut ours = vec![0f32; (side * side * 3) as usize];
            pyramid.area_input(wanted, size, &mut ours).unwrap();
            let theirs = opencv_level(&padded, size);
            let differ = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count();
            assert!(ours
                .iter()
                .zip(&theirs)
                .all(|(a, b)| (a - b).abs() <= 0.0079));
            assert!(
                differ * 20 < ours.len(),
                "{differ} of {} differ",
                ours.len()
            );
            // The corner outside the frame is black: (0 - 127.5) / 128.
            assert_eq!(ours[0], -127.5 * 0.0078125);
        }
    }

    #[test]
    fn a_frame_too_large_to_sum_exactly_is_refused() {
        let side = (AreaPyramid::MAX_PIXELS as f64).sqrt() as i32 + 1;
        let big = Mat::new_rows_cols_with_default(side, side, core::CV_8UC3, 255.into()).unwrap();
        assert!(AreaPyramid::new(&big).is_err());
        let fits = Mat::roi(&big, Rect::new(0, 0, side, side - 2)).unwrap();
        assert!(AreaPyramid::new(&fits.try_clone().unwrap()).is_ok());
    }

    #[test]
    fn a_level_of_the_frames_own_size_is_the_frame() {
        let rgb = frame(50, 30);
        let pyramid = AreaPyramid::new(&rgb).unwrap();
        let ours = pyramid.level_input(Size::new(50, 30)).unwrap();
        assert_eq!(
            ours.data_typed::<f32>().unwrap(),
            opencv_level(&rgb, Size::new(50, 30))
        );
    }
}
