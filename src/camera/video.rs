//! A video file, read with OpenCV and played at its own (or a given) frame rate.

use super::{CameraError, FrameSource, Pacer};
use opencv::core::Mat;
use opencv::prelude::*;
use opencv::videoio;
use std::path::{Path, PathBuf};

pub struct VideoFileSource {
    path: PathBuf,
    capture: videoio::VideoCapture,
    looping: bool,
    pacer: Pacer,
}

impl VideoFileSource {
    pub fn open(
        path: &Path,
        fps: Option<f64>,
        looping: bool,
    ) -> Result<VideoFileSource, CameraError> {
        let unreadable = || CameraError::Open(format!("cannot play {}", path.display()));
        let name = path.to_str().ok_or_else(unreadable)?;
        if !path.is_file() {
            return Err(CameraError::Open(format!(
                "{} does not exist",
                path.display()
            )));
        }
        let capture =
            videoio::VideoCapture::from_file(name, videoio::CAP_ANY).map_err(|_| unreadable())?;
        if !capture.is_opened().unwrap_or(false) {
            return Err(unreadable());
        }
        let native = capture.get(videoio::CAP_PROP_FPS).unwrap_or(0.0);
        let fps = fps.unwrap_or(if native > 0.0 { native } else { 25.0 });
        Ok(VideoFileSource {
            path: path.to_path_buf(),
            capture,
            looping,
            pacer: Pacer::new(fps),
        })
    }
}

impl FrameSource for VideoFileSource {
    fn next_frame(&mut self) -> Result<Mat, CameraError> {
        self.pacer.wait();
        let mut frame = Mat::default();
        let mut rewound = false;
        loop {
            let ok = self
                .capture
                .read(&mut frame)
                .map_err(|e| CameraError::Disconnected(e.message.clone()))?;
            if ok && !frame.empty() {
                return Ok(frame);
            }
            if !self.looping || rewound {
                return Err(CameraError::EndOfStream);
            }
            rewound = true;
            let _ = self.capture.set(videoio::CAP_PROP_POS_FRAMES, 0.0);
        }
    }

    fn describe(&self) -> String {
        format!("Video {}", self.path.display())
    }
}
