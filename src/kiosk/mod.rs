//! The kiosk's background work: a capture thread and a vision thread, talking to the UI
//! through channels. The UI thread never decodes, detects, embeds or touches SQLite.
//!
//! capture ──newest frame──▶ vision ──faces, verdicts──▶ UI
//!    └──────newest frame (RGBA, for display)──────────▶ UI

pub mod admin;
mod capture;
pub mod latest;
mod sound;
mod vision_worker;

pub use sound::SoundCues;

use crate::attendance::verdict::Verdict;
use crate::camera::SourceSpec;
use crate::data_dir::DataDir;
use crate::settings::Settings;
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// Wakes the UI (egui's `request_repaint`) after something was sent to it.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// A camera frame, as captured.
pub struct Frame {
    pub seq: u64,
    pub image: opencv::core::Mat,
    pub captured: Instant,
}

/// A frame ready to show.
#[derive(Clone)]
pub struct VideoFrame {
    pub seq: u64,
    pub image: Arc<egui::ColorImage>,
}

/// What the camera is doing.
#[derive(Clone, Debug, PartialEq)]
pub enum CameraStatus {
    Starting,
    /// Frames are coming from this source.
    Live(String),
    /// The source could not be opened (`camera` tells a webcam from a file); the reason,
    /// for the admin.
    Unavailable {
        reason: String,
        camera: bool,
    },
    /// A camera that worked stopped; retrying by itself.
    Reconnecting(String),
    /// A recording reached its end.
    Ended,
}

/// How a face is drawn over the video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Neutral,
    Green,
    Amber,
    Red,
}

/// One face on one frame: where it is (frame pixels), and what to write next to it.
#[derive(Clone, Debug, PartialEq)]
pub struct FaceOverlay {
    pub track_id: u64,
    pub rect: [f32; 4],
    pub label: String,
    pub tone: Tone,
}

/// The faces found on one frame, with timings.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameFaces {
    pub seq: u64,
    pub frame_size: [f32; 2],
    pub faces: Vec<FaceOverlay>,
    pub detect_ms: f64,
    /// From capture to the end of processing.
    pub latency_ms: f64,
    /// Frames the vision thread has processed so far.
    pub processed: u64,
}

/// Discrete events for the UI.
#[derive(Clone, Debug)]
pub enum KioskEvent {
    Camera(CameraStatus),
    /// The models are loaded and the gallery holds this many students.
    Ready {
        students: usize,
    },
    /// A verdict for a face; `first_seen` is when its track began (for latency figures).
    Verdict {
        verdict: Verdict,
        first_seen: Instant,
        silent: bool,
    },
    /// Students marked today.
    MarkedToday(i64),
    /// Recognition cannot run (e.g. a model is missing); the camera keeps showing.
    RecognitionUnavailable(String),
    /// A transient problem worth a discreet note (e.g. the database was busy).
    Problem(String),
    /// An answer for the admin screens.
    Admin(admin::AdminEvent),
}

/// Commands for the capture thread.
#[derive(Clone, Debug)]
pub enum CaptureCommand {
    /// Use this source from now on.
    Switch(SourceSpec),
    /// Try opening the current source again.
    Retry,
}

/// The running kiosk back end.
pub struct Kiosk {
    pub events: Receiver<KioskEvent>,
    pub frames: Receiver<VideoFrame>,
    pub faces: Receiver<FrameFaces>,
    commands: Sender<CaptureCommand>,
    admin: Sender<admin::AdminRequest>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Kiosk {
    /// Starts the capture and vision threads. Models load on the vision thread, so this
    /// returns at once.
    pub fn start(source: SourceSpec, data: DataDir, settings: Settings, wake: Waker) -> Kiosk {
        let (event_tx, events) = unbounded();
        let (frame_tx, frames) = latest::latest();
        let (faces_tx, faces) = latest::latest();
        let (vision_tx, vision_rx) = latest::latest();
        let (commands, command_rx) = unbounded();
        let (admin, admin_rx) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let capture = capture::CaptureLoop {
            spec: source,
            commands: command_rx,
            to_vision: vision_tx,
            to_ui: frame_tx,
            events: event_tx.clone(),
            wake: wake.clone(),
            stop: stop.clone(),
            was_live: false,
        };
        let vision = vision_worker::VisionWorker::new(
            data,
            settings,
            vision_worker::Inputs {
                frames: vision_rx,
                admin: admin_rx,
            },
            faces_tx,
            event_tx,
            wake,
            stop.clone(),
        );
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .expect("spawn a kiosk thread")
        };
        let threads = vec![
            spawn("rollcall-capture", Box::new(move || capture.run())),
            spawn("rollcall-vision", Box::new(move || vision.run())),
        ];
        Kiosk {
            events,
            frames,
            faces,
            commands,
            admin,
            stop,
            threads,
        }
    }

    /// Sends a request to the admin desk on the vision thread.
    pub fn admin(&self, r: admin::AdminRequest) {
        let _ = self.admin.send(r);
    }

    /// Tells the capture thread to do something.
    pub fn command(&self, c: CaptureCommand) {
        let _ = self.commands.send(c);
    }

    /// Stops both threads and waits for them.
    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        self.shutdown();
    }
}
