//! A folder of images played in file-name order at a fixed frame rate.

use super::{CameraError, FrameSource, Pacer};
use crate::vision::image_io::read_image_file;
use opencv::core::Mat;
use std::path::{Path, PathBuf};

pub struct FolderSource {
    dir: PathBuf,
    files: Vec<PathBuf>,
    pos: usize,
    looping: bool,
    pacer: Pacer,
}

impl FolderSource {
    pub fn open(dir: &Path, fps: f64, looping: bool) -> Result<FolderSource, CameraError> {
        let files = crate::vision::image_io::images_in(dir).map_err(|e| {
            CameraError::Open(format!(
                "cannot read the folder {}: {}",
                dir.display(),
                crate::wording::file_problem(&e)
            ))
        })?;
        if files.is_empty() {
            return Err(CameraError::Open(format!(
                "the folder {} has no images",
                dir.display()
            )));
        }
        Ok(FolderSource {
            dir: dir.to_path_buf(),
            files,
            pos: 0,
            looping,
            pacer: Pacer::new(fps),
        })
    }
}

impl FrameSource for FolderSource {
    fn next_frame(&mut self) -> Result<Mat, CameraError> {
        loop {
            if self.pos >= self.files.len() {
                if !self.looping {
                    return Err(CameraError::EndOfStream);
                }
                self.pos = 0;
            }
            let path = &self.files[self.pos];
            self.pos += 1;
            self.pacer.wait();
            match read_image_file(path) {
                Ok(m) => return Ok(m),
                // A damaged frame is skipped, as a camera drops one.
                Err(e) => tracing::warn!(file = %path.display(), "skipping frame: {e}"),
            }
        }
    }

    fn describe(&self) -> String {
        format!(
            "Folder {} ({} images)",
            self.dir.display(),
            self.files.len()
        )
    }
}
