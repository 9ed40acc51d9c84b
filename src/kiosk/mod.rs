//! The kiosk's background work: a capture thread, the door's vision thread and the admin
//! worker, talking to the UI through channels. The UI thread never decodes, detects,
//! embeds or touches SQLite.
//!
//! ```text
//! capture ──newest frame──▶ door (vision) ──faces, verdicts──▶ UI
//!    │  └───newest frame (RGBA, for display)──────────────────▶ UI
//!    └──newest frame (on request)──▶ admin worker ◀──requests/replies──▶ UI
//!                                        └──"gallery changed"──▶ door
//! ```

pub mod admin;
pub mod autostart;
mod capture;
pub mod door;
pub mod latest;
mod sound;
mod vision_worker;

pub use sound::SoundCues;

use crate::camera::{CameraError, SourceSpec};
use crate::data_dir::DataDir;
use crate::settings::Settings;
use crossbeam_channel::{unbounded, Receiver, Sender};
use door::verdict::Verdict;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// Wakes the UI (egui's `request_repaint`) after something was sent to it.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// A camera frame, as captured (BGR, shared without copying).
pub struct Frame {
    pub seq: u64,
    pub image: Arc<opencv::core::Mat>,
    pub captured: Instant,
    /// Whether it comes from a try-out (see [`DoorSource::try_out`]).
    pub try_out: bool,
}

/// What the door plays, and whether the students it recognises there are marked.
#[derive(Clone, Debug, PartialEq)]
pub struct DoorSource {
    pub spec: SourceSpec,
    /// A try-out: the door shows whom it recognises and marks nobody, keeps no snapshot and
    /// learns nothing from it (a recording played to see Rollcall at work, or to check it on
    /// a recording of the school's own door, without touching the register).
    pub try_out: bool,
}

impl DoorSource {
    /// A try-out of `spec`: nobody it shows is marked.
    pub fn try_out(spec: SourceSpec) -> DoorSource {
        DoorSource {
            spec,
            try_out: true,
        }
    }
}

impl From<SourceSpec> for DoorSource {
    /// The door at work: the students `spec` shows are marked.
    fn from(spec: SourceSpec) -> DoorSource {
        DoorSource {
            spec,
            try_out: false,
        }
    }
}

/// A frame ready to show.
#[derive(Clone)]
pub struct VideoFrame {
    pub seq: u64,
    pub image: Arc<egui::ColorImage>,
    pub captured: Instant,
}

/// The open source, as the screens name it.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceName {
    /// Its description ("Camera 0 (HD Webcam) 640×480", "Video /home/door.mp4").
    pub label: String,
    /// Whether it plays a recording (a video file, a folder of images), not a camera.
    pub recording: bool,
    /// Whether it is played as a try-out: nobody it shows is marked.
    pub try_out: bool,
}

impl std::fmt::Display for SourceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)?;
        if self.try_out {
            f.write_str(" (a try-out: nobody is marked)")?;
        }
        Ok(())
    }
}

/// What the camera is doing.
#[derive(Clone, Debug, PartialEq)]
pub enum CameraStatus {
    Starting,
    /// Frames are coming from this source.
    Live(SourceName),
    /// Frames are coming from this source, but have been almost black for seconds: a
    /// closed privacy shutter, a covered lens, the lights off.
    Dark(SourceName),
    /// The source is open but has sent no picture for seconds: a camera whose driver or
    /// cable hangs. `Live` or `Dark` again once pictures come.
    Stuck(SourceName),
    /// The source could not be opened, or a file stopped playing (`camera` tells a webcam
    /// from a file).
    Unavailable {
        problem: CameraError,
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
    /// The face's verdict, once it has one.
    pub verdict: Option<Verdict>,
    /// Whether the kiosk is judging (or has judged) this face; false for a face left alone
    /// further back while someone else is nearer.
    pub judged: bool,
    /// How fast the face moves across the frame (frame pixels per second), so the box can
    /// follow it on frames newer than the one it was found on.
    pub velocity: [f32; 2],
}

impl FaceOverlay {
    /// Where the face probably is `ahead` after the frame it was found on: its box moved
    /// along its velocity, at most a quarter of a second ahead (beyond that a guess is worse
    /// than a late box).
    pub fn rect_ahead(&self, ahead: std::time::Duration) -> [f32; 4] {
        let t = ahead.as_secs_f32().min(0.25);
        let [x1, y1, x2, y2] = self.rect;
        let [vx, vy] = self.velocity;
        [x1 + vx * t, y1 + vy * t, x2 + vx * t, y2 + vy * t]
    }
}

/// The faces found on one frame, with timings.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameFaces {
    pub seq: u64,
    /// When the frame the faces were found on was captured.
    pub captured: Instant,
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
    /// Before `Ready`, after a release that changed a face model: the stored photos
    /// embedded with the new model so far, of this many.
    Preparing {
        done: usize,
        total: usize,
    },
    /// The models are loaded and the gallery holds this many students.
    Ready {
        students: usize,
    },
    /// The number of students enrolled changed (here or in another program).
    Enrolled(usize),
    /// A verdict for a face; `first_seen` is when its track began and `at` when the verdict
    /// was reached (for latency figures).
    Verdict {
        verdict: Verdict,
        first_seen: Instant,
        at: Instant,
        silent: bool,
    },
    /// Students marked today.
    MarkedToday(i64),
    /// Why the clock cannot date marks (`None` once it can: see `WrongClock`); the door
    /// takes no attendance meanwhile.
    Clock(Option<crate::store::WrongClock>),
    /// Recognition cannot run (e.g. a model is missing); the camera keeps showing.
    RecognitionUnavailable(String),
    /// A transient problem worth a discreet note (e.g. the database was busy).
    Problem(String),
    /// The door's link to the school server changed (only for a door that has one).
    School(crate::store::school::SchoolStatus),
    /// These faces' people have left and someone else stands where they stood: what was
    /// shown for them goes (the newcomer is being judged).
    Replaced(Vec<u64>),
    /// What the screen shows as the settings file now sets it, changed there by hand or by
    /// another program on the same data folder (the admin's own saves reach the screen
    /// with their answer).
    ScreenSettings {
        room_name: String,
        mirror: bool,
        verdict_secs: u64,
    },
}

/// Commands for the capture thread.
#[derive(Clone, Debug)]
pub enum CaptureCommand {
    /// Use this source from now on.
    Switch(DoorSource),
    /// Try opening the current source again.
    Retry,
}

/// Sends events to the UI and to an optional observer (a benchmark, a test), and wakes
/// the UI.
#[derive(Clone)]
pub(crate) struct Events {
    ui: Sender<KioskEvent>,
    observer: Option<Sender<KioskEvent>>,
    wake: Waker,
    /// Set once the door has started: recognition ready, or known to be unavailable.
    door_started: Arc<AtomicBool>,
}

impl Events {
    pub fn send(&self, e: KioskEvent) {
        let starts_the_door = matches!(
            e,
            KioskEvent::Ready { .. } | KioskEvent::RecognitionUnavailable(_)
        );
        if let Some(o) = &self.observer {
            let _ = o.send(e.clone());
        }
        let _ = self.ui.send(e);
        // After the event: whatever the door's start lets happen is heard after it.
        if starts_the_door {
            self.door_started.store(true, Ordering::SeqCst);
        }
        (self.wake)();
    }

    /// Whether the door has started (its models loaded, or found missing).
    pub fn door_started(&self) -> bool {
        self.door_started.load(Ordering::SeqCst)
    }
}

/// The running kiosk back end.
pub struct Kiosk {
    pub events: Receiver<KioskEvent>,
    pub frames: Receiver<VideoFrame>,
    pub faces: Receiver<FrameFaces>,
    /// The admin screens' way to the admin worker.
    pub admin: admin::AdminClient,
    commands: Sender<CaptureCommand>,
    /// Whether the window shows the video (the kiosk, or a screen with a camera view).
    video_shown: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Kiosk {
    /// Starts the capture, door and admin threads. Models load on their threads, so this
    /// returns at once. `observer`, when given, receives a copy of every event.
    pub fn start(
        source: impl Into<DoorSource>,
        data: DataDir,
        settings: Settings,
        wake: Waker,
        observer: Option<Sender<KioskEvent>>,
    ) -> Kiosk {
        let (event_tx, events) = unbounded();
        let events_out = Events {
            ui: event_tx,
            observer,
            wake: wake.clone(),
            door_started: Arc::new(AtomicBool::new(false)),
        };
        let (frame_tx, frames) = latest::latest();
        let (faces_tx, faces) = latest::latest();
        let (vision_tx, vision_rx) = latest::latest();
        let newest = latest::NewestFrame::default();
        let (commands, command_rx) = unbounded();
        let (admin_tx, admin_rx) = unbounded();
        let (door_tx, door_rx) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        // A new frame, or the faces found on one, wake the window only while it shows the
        // video: a screen without it (Students, Review) is drawn for its own reasons, and
        // not 15 times a second on the cores the door recognises on. Events always wake.
        let video_shown = Arc::new(AtomicBool::new(true));
        let frame_wake: Waker = {
            let shown = video_shown.clone();
            let wake = wake.clone();
            Arc::new(move || {
                if shown.load(Ordering::Relaxed) {
                    wake()
                }
            })
        };
        let capture = capture::CaptureLoop {
            source: source.into(),
            commands: command_rx,
            to_vision: vision_tx,
            to_ui: frame_tx,
            newest: newest.clone(),
            events: events_out.clone(),
            wake: frame_wake.clone(),
            stop: stop.clone(),
            was_live: false,
        };
        // One gallery for the door and the admin desk.
        let gallery = crate::attendance::SharedGallery::new(&settings.recognition.calibration);
        let vision = vision_worker::VisionWorker::new(
            data.clone(),
            settings.clone(),
            vision_worker::Inputs {
                frames: vision_rx,
                notices: door_rx,
                gallery: gallery.clone(),
            },
            faces_tx,
            events_out,
            frame_wake,
            stop.clone(),
        );
        let desk = admin::AdminWorker {
            data,
            settings,
            gallery,
            requests: admin_rx,
            frame: newest,
            door: door_tx,
            stop: stop.clone(),
        };
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .expect("spawn a kiosk thread")
        };
        let threads = vec![
            spawn("rollcall-capture", Box::new(move || capture.run())),
            spawn("rollcall-vision", Box::new(move || vision.run())),
            spawn("rollcall-admin", Box::new(move || desk.run())),
        ];
        Kiosk {
            events,
            frames,
            faces,
            admin: admin::AdminClient::new(admin_tx, wake),
            commands,
            video_shown,
            stop,
            threads,
        }
    }

    /// Tells the capture thread to do something.
    pub fn command(&self, c: CaptureCommand) {
        let _ = self.commands.send(c);
    }

    /// Says whether the window shows the video now; while it does not, new frames and
    /// faces wait for the window's next repaint instead of causing one.
    pub fn show_video(&self, shown: bool) {
        self.video_shown.store(shown, Ordering::Relaxed);
    }

    /// Whether new frames wake the window (see [`Kiosk::show_video`]).
    pub fn video_shown(&self) -> bool {
        self.video_shown.load(Ordering::Relaxed)
    }

    /// Stops every thread and waits for them.
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
