//! Frame sources: a webcam (nokhwa), a video file, or a folder of images played in name
//! order. All behind one trait, so every live behaviour can be tested with recorded frames.

mod folder;
mod video;
mod webcam;

pub use folder::FolderSource;
pub use video::VideoFileSource;
pub use webcam::{list_cameras, CameraDescription, WebcamSource};

use opencv::core::Mat;
use std::path::PathBuf;

/// Why no frame came.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CameraError {
    #[error("No camera was found.")]
    NoCamera,
    /// Cameras exist, but none by the index or name asked for.
    #[error("No camera here is called \"{0}\".")]
    NotFound(String),
    #[error("The camera could not be opened: {0}")]
    Open(String),
    #[error("The camera stopped sending pictures: {0}")]
    Disconnected(String),
    #[error("The recording has ended.")]
    EndOfStream,
    #[error("{0}")]
    Unreadable(String),
}

/// Something that produces BGR frames.
pub trait FrameSource {
    /// The next frame; blocks until it is due (sources pace themselves to their fps).
    fn next_frame(&mut self) -> Result<Mat, CameraError>;
    /// A short description for the status line ("Camera 0 (HD Webcam) 640×480").
    fn describe(&self) -> String;
}

/// Which source to open, as chosen on the command line or in settings.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceSpec {
    /// A webcam by index or (part of its) name, with the wanted resolution and fps.
    Webcam {
        camera: String,
        width: u32,
        height: u32,
        fps: u32,
    },
    /// A folder of images played in name order.
    Folder {
        path: PathBuf,
        fps: f64,
        looping: bool,
    },
    /// A video file.
    Video {
        path: PathBuf,
        fps: Option<f64>,
        looping: bool,
    },
}

impl SourceSpec {
    /// A file or folder path given with `--source`: a folder plays its images, a file plays
    /// as video.
    pub fn from_path(path: PathBuf, fps: Option<f64>, looping: bool) -> SourceSpec {
        if path.is_dir() {
            SourceSpec::Folder {
                path,
                fps: fps.unwrap_or(15.0),
                looping,
            }
        } else {
            SourceSpec::Video { path, fps, looping }
        }
    }

    /// `camera` (an index or part of a name) at the size and rate the settings choose.
    pub fn webcam(camera: &str, kiosk: &crate::settings::KioskSettings) -> SourceSpec {
        SourceSpec::Webcam {
            camera: camera.to_string(),
            width: kiosk.width,
            height: kiosk.height,
            fps: kiosk.fps,
        }
    }

    /// Opens the source. Webcams must be opened on the thread that reads them.
    pub fn open(&self) -> Result<Box<dyn FrameSource>, CameraError> {
        Ok(match self {
            SourceSpec::Webcam {
                camera,
                width,
                height,
                fps,
            } => Box::new(WebcamSource::open(camera, *width, *height, *fps)?),
            SourceSpec::Folder { path, fps, looping } => {
                Box::new(FolderSource::open(path, *fps, *looping)?)
            }
            SourceSpec::Video { path, fps, looping } => {
                Box::new(VideoFileSource::open(path, *fps, *looping)?)
            }
        })
    }

    /// Whether losing this source means hardware trouble worth reconnecting to.
    pub fn is_live(&self) -> bool {
        matches!(self, SourceSpec::Webcam { .. })
    }
}

/// Keeps a source at its frame rate: sleeps until the next frame is due.
#[derive(Debug)]
pub struct Pacer {
    interval: std::time::Duration,
    next: Option<std::time::Instant>,
}

impl Pacer {
    pub fn new(fps: f64) -> Pacer {
        let fps = if fps.is_finite() && fps > 0.0 {
            fps
        } else {
            15.0
        };
        Pacer {
            interval: std::time::Duration::from_secs_f64(1.0 / fps),
            next: None,
        }
    }

    /// Waits for the next slot. A late caller does not get a burst of catch-up frames.
    pub fn wait(&mut self) {
        let now = std::time::Instant::now();
        let due = self.next.unwrap_or(now);
        if due > now {
            std::thread::sleep(due - now);
        }
        self.next = Some(due.max(now) + self.interval);
    }
}
