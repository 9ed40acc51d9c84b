//! FaceNet's aligned face chips of a photo set, as the recogniser sees them: what the
//! statistics for FaceNet in 8 bits (`assets/facenet-int8/`) are collected on.

use crate::eval::photos_of;
use opencv::core::Mat;
use opencv::imgproc;
use opencv::prelude::*;
use rollcall::vision::align::{self, FACENET_CHIP};
use rollcall::vision::image_io::{folders_in, read_image_file};
use rollcall::vision::FaceEngine;
use std::path::Path;

/// Writes the chip of the largest face of every photo of a folder-per-person set into
/// `out`, as raw 160×160 RGB bytes named `<number>_<person>.rgb`; photos without a face
/// (or with one cut off at the edge) are skipped. Returns how many were written.
pub fn write_chips(engine: &mut FaceEngine, set: &Path, out: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(out)?;
    let mut written = 0;
    for person in folders_in(set)? {
        let name = person
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        for photo in photos_of(&person)? {
            let Ok(image) = read_image_file(&photo) else {
                continue;
            };
            let Some(face) = engine.detect_largest(&image)? else {
                continue;
            };
            if engine.is_cut_off(&image, &face) {
                continue;
            }
            let chip = align::chip(&image, &face, &FACENET_CHIP)?;
            let mut rgb = Mat::default();
            imgproc::cvt_color_def(&chip, &mut rgb, imgproc::COLOR_BGR2RGB)?;
            let bytes = rgb.data_bytes()?;
            std::fs::write(out.join(format!("{written:06}_{name}.rgb")), bytes)?;
            written += 1;
        }
    }
    Ok(written)
}
