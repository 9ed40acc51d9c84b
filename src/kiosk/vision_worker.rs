//! The vision thread: loads the models, then runs the kiosk session on the newest frame.

use super::admin::{AdminDesk, AdminEvent, AdminRequest, Emitter};
use super::latest::LatestSender;
use super::{FaceOverlay, Frame, FrameFaces, KioskEvent, SoundCues, Tone, Waker};
use crate::attendance::session::{FaceState, FrameResult, KioskSession};
use crate::attendance::verdict::VerdictKind;
use crate::attendance::AttendanceService;
use crate::data_dir::DataDir;
use crate::settings::Settings;
use crate::vision::FaceEngine;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use opencv::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the vision thread listens to.
pub(super) struct Inputs {
    pub frames: Receiver<Frame>,
    pub admin: Receiver<AdminRequest>,
}

pub(super) struct VisionWorker {
    data: DataDir,
    settings: Settings,
    inputs: Inputs,
    faces: LatestSender<FrameFaces>,
    events: Sender<KioskEvent>,
    wake: Waker,
    stop: Arc<AtomicBool>,
    sound: SoundCues,
}

/// How a face is labelled and coloured.
fn overlay(id: u64, rect: [f32; 4], state: &Option<FaceState>) -> FaceOverlay {
    let (label, tone) = match state {
        None | Some(FaceState::Checking) => (String::new(), Tone::Neutral),
        Some(FaceState::Hint(issue)) => (issue.hint().to_string(), Tone::Neutral),
        Some(FaceState::Decided(v)) => (
            v.face_label(),
            match v.kind {
                VerdictKind::Welcome => Tone::Green,
                VerdictKind::AlreadyMarked => Tone::Amber,
                VerdictKind::NotRecognised | VerdictKind::NotVerified => Tone::Red,
            },
        ),
    };
    FaceOverlay {
        track_id: id,
        rect,
        label,
        tone,
    }
}

impl VisionWorker {
    pub fn new(
        data: DataDir,
        settings: Settings,
        inputs: Inputs,
        faces: LatestSender<FrameFaces>,
        events: Sender<KioskEvent>,
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

    fn send(&self, e: KioskEvent) {
        let _ = self.events.send(e);
        (self.wake)();
    }

    fn open_session(&self) -> Result<KioskSession, String> {
        let mut settings = self.settings.clone();
        settings.detector.min_face_px = settings.kiosk.min_face_px;
        let engine = FaceEngine::load(&settings).map_err(|e| e.to_string())?;
        let data = self.data.clone().create().map_err(|e| e.to_string())?;
        let service =
            AttendanceService::open(data, settings.clone(), engine).map_err(|e| e.to_string())?;
        Ok(KioskSession::new(service, &settings.kiosk))
    }

    pub fn run(self) {
        let mut session = match self.open_session() {
            Ok(s) => s,
            Err(reason) => {
                tracing::error!("recognition unavailable: {reason}");
                self.send(KioskEvent::RecognitionUnavailable(reason.clone()));
                self.refuse_admin(&reason);
                return;
            }
        };
        self.send(KioskEvent::Ready {
            students: session.service().gallery().len(),
        });
        if let Ok(n) = session.marked_today() {
            self.send(KioskEvent::MarkedToday(n));
        }
        let mut desk = AdminDesk::default();
        let emit = Emitter {
            events: self.events.clone(),
            wake: self.wake.clone(),
        };
        let mut latest: Option<opencv::core::Mat> = None;
        let mut processed = 0u64;
        while !self.stop.load(Ordering::SeqCst) {
            crossbeam_channel::select! {
                recv(self.inputs.admin) -> req => {
                    let Ok(req) = req else { break };
                    desk.handle(req, &mut session, latest.as_ref(), &emit);
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
                            self.send(KioskEvent::Problem(e.to_string()));
                        }
                    }
                    desk.after_frame(&mut session, &frame.image, &emit);
                    latest = Some(frame.image);
                }
                default(Duration::from_millis(100)) => {}
            }
        }
    }

    /// Without models, admin requests can only be answered with the reason.
    fn refuse_admin(&self, reason: &str) {
        while !self.stop.load(Ordering::SeqCst) {
            match self.inputs.admin.recv_timeout(Duration::from_millis(100)) {
                Ok(_) => self.send(KioskEvent::Admin(AdminEvent::Failed(format!(
                    "Admin tasks need the face models: {reason}"
                )))),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
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
            let _ = self.events.send(KioskEvent::Verdict {
                verdict: v.verdict,
                first_seen: v.first_seen,
                silent: v.silent,
            });
        }
        if let Some(n) = result.marked_today {
            let _ = self.events.send(KioskEvent::MarkedToday(n));
        }
        if let Some(p) = result.problem {
            let _ = self.events.send(KioskEvent::Problem(p));
        }
        (self.wake)();
    }
}
