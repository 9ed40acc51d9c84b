//! The capture thread: reads the source, hands the newest frame to the vision thread and
//! a displayable copy to the UI, and reopens a camera that went away.

use super::latest::{LatestSender, NewestFrame};
use super::{
    CameraStatus, CaptureCommand, DoorSource, Events, Frame, KioskEvent, SourceName, VideoFrame,
    Waker,
};
use crate::camera::{CameraError, FrameSource};
use crate::vision::quality::picture_brightness;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use opencv::core::Mat;
use opencv::imgproc;
use opencv::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How often a lost or missing camera is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// A picture this dark on average (of 255) is almost black: no frame of the recordings
/// here, in any of their lights, is under 23; a closed shutter gives 0–5.
const DARK_LEVEL: f64 = 12.0;
/// How long the picture stays that dark before the kiosk says so (a camera starting up,
/// or someone passing right in front of the lens, darkens it for a moment).
const DARK_FOR: Duration = Duration::from_secs(3);

/// Tells a picture that has stayed almost black from one dark for a moment.
#[derive(Default)]
struct DarkWatch {
    since: Option<Instant>,
    said: bool,
}

impl DarkWatch {
    /// Looks at a frame's mean brightness (0–255) read at `now`; returns what changed:
    /// `Some(true)`, dark from now on; `Some(false)`, light again.
    fn look(&mut self, brightness: f64, now: Instant) -> Option<bool> {
        if brightness < DARK_LEVEL {
            let since = *self.since.get_or_insert(now);
            if !self.said && now.duration_since(since) >= DARK_FOR {
                self.said = true;
                return Some(true);
            }
        } else {
            self.since = None;
            if std::mem::take(&mut self.said) {
                return Some(false);
            }
        }
        None
    }
}

/// How long an open source may send no picture before it is said to have stopped: a camera
/// whose driver or cable hangs stays in its read, saying nothing of itself.
const STUCK_AFTER: Duration = Duration::from_secs(5);

/// The open source, as the capture thread shares it with the watch for one that stops
/// sending.
#[derive(Default)]
struct Sending {
    /// The open source's name and when it last sent a frame (or opened); `None` while no
    /// source is open.
    open: Option<(SourceName, Instant)>,
    /// Whether it has been said to have stopped sending.
    stuck: bool,
}

/// Watches the open source from a thread of its own, and says `CameraStatus::Stuck` once
/// it has sent no picture for [`STUCK_AFTER`]: the capture thread, blocked in the read,
/// cannot. The thread ends when this is dropped.
struct SourceWatch(Arc<Mutex<Sending>>);

impl SourceWatch {
    fn start(events: Events) -> SourceWatch {
        let sending = Arc::new(Mutex::new(Sending::default()));
        let watched = Arc::downgrade(&sending);
        let watch = std::thread::Builder::new()
            .name("rollcall-camera-watch".into())
            .spawn(move || Self::watch(watched, events));
        if let Err(e) = watch {
            tracing::warn!("no watch for a camera that stops sending: {e}");
        }
        SourceWatch(sending)
    }

    fn watch(sending: Weak<Mutex<Sending>>, events: Events) {
        while let Some(sending) = sending.upgrade() {
            {
                let mut s = sending.lock().unwrap_or_else(|e| e.into_inner());
                let s = &mut *s;
                if let Some((label, last)) = &s.open {
                    if !s.stuck && last.elapsed() >= STUCK_AFTER {
                        s.stuck = true;
                        // Said under the lock: a frame that comes now is told after it.
                        events.send(KioskEvent::Camera(CameraStatus::Stuck(label.clone())));
                    }
                }
            }
            drop(sending);
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn sending(&self) -> std::sync::MutexGuard<'_, Sending> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A source opened, called `name`.
    fn opened(&self, name: &SourceName) {
        *self.sending() = Sending {
            open: Some((name.clone(), Instant::now())),
            stuck: false,
        };
    }

    /// No source is open: nothing to wait for.
    fn closed(&self) {
        *self.sending() = Sending::default();
    }

    /// The source sent a frame at `at`; returns whether it had been said to have stopped.
    fn frame(&self, at: Instant) -> bool {
        let mut s = self.sending();
        if let Some((_, last)) = &mut s.open {
            *last = at;
        }
        std::mem::take(&mut s.stuck)
    }
}

pub(super) struct CaptureLoop {
    pub source: DoorSource,
    pub commands: Receiver<CaptureCommand>,
    pub to_vision: LatestSender<Frame>,
    pub to_ui: LatestSender<VideoFrame>,
    /// The newest frame for the admin worker's Capture.
    pub newest: NewestFrame,
    pub events: Events,
    /// Wakes the window for a new frame (while it shows the video).
    pub wake: Waker,
    pub stop: Arc<AtomicBool>,
    /// Whether the current source has delivered frames (so a failure is a lost camera).
    pub was_live: bool,
}

impl CaptureLoop {
    /// Reads frames until the kiosk stops, a watch beside it for a source that stops
    /// sending.
    pub fn run(self) {
        let watch = SourceWatch::start(self.events.clone());
        self.read_frames(&watch);
    }

    /// The source is gone (lost, ended, switched): no picture to capture, none to wait for.
    fn source_gone(&self, watch: &SourceWatch) {
        self.newest.clear();
        watch.closed();
    }
}

/// Converts a BGR frame to an egui image: the frame path's one colour conversion.
fn to_color_image(bgr: &Mat) -> opencv::Result<egui::ColorImage> {
    let mut rgba = Mat::default();
    imgproc::cvt_color_def(bgr, &mut rgba, imgproc::COLOR_BGR2RGBA)?;
    let size = [rgba.cols() as usize, rgba.rows() as usize];
    let rgba = if rgba.is_continuous() {
        rgba
    } else {
        rgba.try_clone()?
    };
    Ok(egui::ColorImage::from_rgba_unmultiplied(
        size,
        rgba.data_bytes()?,
    ))
}

impl CaptureLoop {
    fn status(&self, s: CameraStatus) {
        self.events.send(KioskEvent::Camera(s));
    }

    /// Applies a command; returns true when the source must be reopened.
    fn apply(&mut self, c: CaptureCommand) -> bool {
        if let CaptureCommand::Switch(source) = c {
            self.source = source;
            self.was_live = false;
        }
        true
    }

    /// Waits for a command (or the retry interval when `auto_retry`); true to reopen.
    fn wait(&mut self, auto_retry: bool) -> bool {
        let deadline = Instant::now() + RETRY_EVERY;
        while !self.stop.load(Ordering::SeqCst) {
            match self.commands.recv_timeout(Duration::from_millis(100)) {
                Ok(c) => return self.apply(c),
                Err(RecvTimeoutError::Disconnected) => return false,
                Err(RecvTimeoutError::Timeout) if auto_retry && Instant::now() >= deadline => {
                    return true
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        false
    }

    /// Waits until the door has started; false when the kiosk closes first.
    fn wait_for_the_door(&self) -> bool {
        while !self.events.door_started() {
            if self.stop.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    fn read_frames(mut self, watch: &SourceWatch) {
        self.status(CameraStatus::Starting);
        let mut source: Option<Box<dyn FrameSource>> = None;
        let mut seq = 0u64;
        let mut dark = DarkWatch::default();
        let mut label = SourceName {
            label: String::new(),
            recording: false,
            try_out: false,
        };
        while !self.stop.load(Ordering::SeqCst) {
            // Commands first: a switch or retry drops the current source.
            while let Ok(c) = self.commands.try_recv() {
                if self.apply(c) {
                    source = None;
                }
            }
            let Some(src) = source.as_mut() else {
                // No source (lost, ended, switched, never opened).
                self.source_gone(watch);
                match self.source.spec.open() {
                    Ok(s) => {
                        // A recording is played from its start once the door can judge
                        // it (models load for seconds); a camera shows at once.
                        if !self.source.spec.is_live() && !self.wait_for_the_door() {
                            break;
                        }
                        label = SourceName {
                            label: s.describe(),
                            recording: !self.source.spec.is_live(),
                            try_out: self.source.try_out,
                        };
                        dark = DarkWatch::default();
                        watch.opened(&label);
                        self.status(CameraStatus::Live(label.clone()));
                        source = Some(s);
                    }
                    Err(e) => {
                        let lost_camera = self.was_live && self.source.spec.is_live();
                        self.status(if lost_camera {
                            CameraStatus::Reconnecting(e.to_string())
                        } else {
                            CameraStatus::Unavailable {
                                problem: e,
                                camera: self.source.spec.is_live(),
                            }
                        });
                        // A camera is retried by itself; a bad file waits for the admin.
                        if !self.wait(self.source.spec.is_live()) {
                            break;
                        }
                    }
                }
                continue;
            };
            match src.next_frame() {
                Ok(image) => {
                    self.was_live = true;
                    seq += 1;
                    let captured = Instant::now();
                    let was_stuck = watch.frame(captured);
                    let changed = dark.look(picture_brightness(&image), captured);
                    // Said when it changes, or when pictures come again after a stop.
                    match changed.or(was_stuck.then_some(dark.said)) {
                        Some(true) => self.status(CameraStatus::Dark(label.clone())),
                        Some(false) => self.status(CameraStatus::Live(label.clone())),
                        None => {}
                    }
                    match to_color_image(&image) {
                        Ok(c) => self.to_ui.send(VideoFrame {
                            seq,
                            image: Arc::new(c),
                            captured,
                        }),
                        Err(e) => tracing::warn!("cannot display a frame: {e}"),
                    }
                    let image = Arc::new(image);
                    self.newest.put(image.clone(), captured);
                    self.to_vision.send(Frame {
                        seq,
                        image,
                        captured,
                        try_out: self.source.try_out,
                    });
                    (self.wake)();
                }
                Err(CameraError::EndOfStream) => {
                    source = None;
                    self.source_gone(watch);
                    self.status(CameraStatus::Ended);
                    if !self.wait(false) {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!("camera lost: {e}");
                    source = None;
                    self.source_gone(watch);
                    if self.source.spec.is_live() {
                        self.status(CameraStatus::Reconnecting(e.to_string()));
                        std::thread::sleep(Duration::from_millis(300));
                    } else {
                        self.status(CameraStatus::Unavailable {
                            problem: e,
                            camera: false,
                        });
                        if !self.wait(false) {
                            break;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_is_called_dark_once_it_stays_almost_black_and_light_when_it_comes_back() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut watch = DarkWatch::default();
        // Dark for a moment (someone right in front of the lens): nothing said.
        assert_eq!(watch.look(3.0, at(0)), None);
        assert_eq!(watch.look(3.0, at(2000)), None);
        assert_eq!(watch.look(90.0, at(2100)), None);
        assert_eq!(watch.look(3.0, at(2200)), None);
        assert_eq!(
            watch.look(3.0, at(5100)),
            None,
            "3 s counted from the last light frame"
        );
        // Still dark three seconds on: said once.
        assert_eq!(watch.look(3.0, at(5200)), Some(true));
        assert_eq!(watch.look(3.0, at(9000)), None);
        // A dim room is not dark; light again is said once.
        assert_eq!(watch.look(DARK_LEVEL + 10.0, at(9100)), Some(false));
        assert_eq!(watch.look(DARK_LEVEL + 10.0, at(9200)), None);
    }
}
