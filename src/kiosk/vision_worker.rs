//! The door's vision thread: loads the models, then runs the door session on the newest
//! frame, and reloads the gallery (or applies a new strictness of the photo-attack check) as
//! soon as the admin worker says so.

use super::door::verdict::VerdictKind;
use super::door::{DoorSession, FaceState, FrameResult};
use super::latest::LatestSender;
use super::{Events, FaceOverlay, Frame, FrameFaces, KioskEvent, SoundCues, Tone, Waker};
use crate::attendance::{Recognizer, Records};
use crate::data_dir::DataDir;
use crate::settings::Settings;
use crossbeam_channel::Receiver;
use opencv::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the admin worker tells the door.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum DoorNotice {
    /// Who is enrolled changed: reload the gallery.
    GalleryChanged,
    /// The admin chose how strict the photo-attack check is.
    LivenessThreshold(f32),
}

/// What the vision thread listens to.
pub(super) struct Inputs {
    pub frames: Receiver<Frame>,
    pub notices: Receiver<DoorNotice>,
}

pub(super) struct VisionWorker {
    data: DataDir,
    settings: Settings,
    inputs: Inputs,
    faces: LatestSender<FrameFaces>,
    events: Events,
    wake: Waker,
    stop: Arc<AtomicBool>,
    sound: SoundCues,
}

/// How a face is labelled and coloured.
fn overlay(id: u64, rect: [f32; 4], state: &Option<FaceState>) -> FaceOverlay {
    let (label, tone, verdict) = match state {
        None | Some(FaceState::Checking) => (String::new(), Tone::Neutral, None),
        Some(FaceState::Hint(issue)) => (issue.hint().to_string(), Tone::Neutral, None),
        Some(FaceState::Hold) => ("Hold still a moment".to_string(), Tone::Neutral, None),
        Some(FaceState::Decided(v)) => (
            v.face_label(),
            match v.kind {
                VerdictKind::Welcome => Tone::Green,
                VerdictKind::AlreadyMarked => Tone::Amber,
                VerdictKind::NotRecognised | VerdictKind::NotVerified => Tone::Red,
            },
            Some(v.clone()),
        ),
    };
    FaceOverlay {
        track_id: id,
        rect,
        label,
        tone,
        verdict,
    }
}

impl VisionWorker {
    pub fn new(
        data: DataDir,
        settings: Settings,
        inputs: Inputs,
        faces: LatestSender<FrameFaces>,
        events: Events,
        wake: Waker,
        stop: Arc<AtomicBool>,
    ) -> VisionWorker {
        let sound = if settings.kiosk.sound {
            SoundCues::start()
        } else {
            SoundCues::silent()
        };
        VisionWorker {
            data,
            settings,
            inputs,
            faces,
            events,
            wake,
            stop,
            sound,
        }
    }

    fn open_session(&self) -> Result<DoorSession, String> {
        let mut settings = self.settings.clone();
        settings.detector.min_face_px = settings.kiosk.min_face_px;
        let data = self.data.clone().create().map_err(|e| e.to_string())?;
        let mut records = Records::open(&data, &settings).map_err(|e| e.to_string())?;
        if let Err(e) = records.tidy() {
            tracing::warn!("could not tidy the records: {e}");
        }
        let recognizer = Recognizer::load(&settings, records.store()).map_err(|e| e.to_string())?;
        Ok(DoorSession::new(recognizer, records, &settings))
    }

    pub fn run(self) {
        let mut session = match self.open_session() {
            Ok(s) => s,
            Err(reason) => {
                tracing::error!("recognition unavailable: {reason}");
                self.events.send(KioskEvent::RecognitionUnavailable(reason));
                return;
            }
        };
        self.events.send(KioskEvent::Ready {
            students: session.enrolled(),
        });
        if let Ok(n) = session.marked_today() {
            self.events.send(KioskEvent::MarkedToday(n));
        }
        let mut processed = 0u64;
        while !self.stop.load(Ordering::SeqCst) {
            crossbeam_channel::select! {
                recv(self.inputs.notices) -> msg => {
                    let Ok(first) = msg else { break };
                    // Several nudges in a row need one reload.
                    let mut reload = false;
                    for notice in std::iter::once(first).chain(self.inputs.notices.try_iter()) {
                        match notice {
                            DoorNotice::GalleryChanged => reload = true,
                            DoorNotice::LivenessThreshold(t) => session.set_liveness_threshold(t),
                        }
                    }
                    if reload {
                        if let Some(n) = session.follow_gallery() {
                            self.events.send(KioskEvent::Enrolled(n));
                        }
                    }
                }
                recv(self.inputs.frames) -> frame => {
                    let Ok(frame) = frame else { break };
                    match session.process(&frame.image, frame.captured) {
                        Ok(result) => {
                            processed += 1;
                            self.publish(&frame, result, processed);
                        }
                        Err(e) => {
                            tracing::warn!("frame {} could not be processed: {e}", frame.seq);
                            self.events.send(KioskEvent::Problem(e.to_string()));
                        }
                    }
                }
                default(Duration::from_millis(100)) => {}
            }
        }
    }

    fn publish(&self, frame: &Frame, result: FrameResult, processed: u64) {
        let faces = result
            .faces
            .iter()
            .map(|(id, f, state)| overlay(*id, [f.x1, f.y1, f.x2, f.y2], state))
            .collect();
        self.faces.send(FrameFaces {
            seq: frame.seq,
            frame_size: [frame.image.cols() as f32, frame.image.rows() as f32],
            faces,
            detect_ms: result.detect_ms,
            latency_ms: frame.captured.elapsed().as_secs_f64() * 1e3,
            processed,
        });
        for v in result.verdicts {
            if !v.silent {
                self.sound.play(v.verdict.kind);
            }
            self.events.send(KioskEvent::Verdict {
                verdict: v.verdict,
                first_seen: v.first_seen,
                at: std::time::Instant::now(),
                silent: v.silent,
            });
        }
        if let Some(n) = result.marked_today {
            self.events.send(KioskEvent::MarkedToday(n));
        }
        if let Some(n) = result.enrolled {
            self.events.send(KioskEvent::Enrolled(n));
        }
        if let Some(p) = result.problem {
            self.events.send(KioskEvent::Problem(p));
        }
        (self.wake)();
    }
}
