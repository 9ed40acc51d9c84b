//! The door's vision thread: loads the models, then runs the door session on the newest
//! frame, and reloads the gallery (or applies a new strictness of the photo-attack check) as
//! soon as the admin worker says so — or, for the photo-attack check, as soon as the data
//! folder's settings file says so (saved by the admin of another kiosk or a windowless
//! door on the same folder, or edited by hand).

use super::door::verdict::VerdictKind;
use super::door::{DoorSession, FaceState, FrameResult};
use super::latest::LatestSender;
use super::{Events, FaceOverlay, Frame, FrameFaces, KioskEvent, SoundCues, Tone, Waker};
use crate::attendance::{reembed_for_current_models, Recognizer, Records, SharedGallery};
use crate::data_dir::DataDir;
use crate::settings::{Settings, SettingsWatch};
use crate::store::school::SchoolStatus;
use crate::store::{damaged_advice, AdviceFor, StoreError, WrongClock};
use crate::vision::liveness::LivenessChange;
use crossbeam_channel::Receiver;
use opencv::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the admin worker tells the door.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DoorNotice {
    /// Who is enrolled changed: reload the gallery.
    GalleryChanged,
    /// The admin chose how strict the photo-attack check is.
    LivenessThreshold(f32),
    /// The admin chose another photo-attack model: load it from this folder.
    LivenessModel(std::path::PathBuf),
    /// The data was restored from a backup: open the records again.
    Restored,
    /// The admin turned the verdicts' sounds on or off.
    Sound(bool),
    /// The admin chose how long a returning student's greeting is shown again silently
    /// (seconds).
    Cooldown(u64),
}

/// What the vision thread listens to.
pub(super) struct Inputs {
    pub frames: Receiver<Frame>,
    pub notices: Receiver<DoorNotice>,
    /// The gallery, shared with the admin desk: an enrolment there reaches the door at
    /// once, without a reload.
    pub gallery: SharedGallery,
}

pub(super) struct VisionWorker {
    data: DataDir,
    settings: Settings,
    inputs: Inputs,
    faces: LatestSender<FrameFaces>,
    events: Events,
    /// Wakes the window for a processed frame's faces (while it shows the video).
    wake: Waker,
    stop: Arc<AtomicBool>,
    sound: SoundCues,
    motion: BoxMotion,
    /// Today's count as the UI was last told it.
    marked_today: Option<i64>,
    /// Why the clock cannot date marks, as the UI was last told (no attendance is taken
    /// meanwhile).
    wrong_clock: Option<WrongClock>,
    /// The data folder's settings file as last read.
    settings_file: SettingsWatch,
}

/// Each face's speed across the frame, from where its track was on earlier frames.
#[derive(Default)]
struct BoxMotion {
    /// Per track: the box's centre, when, and the smoothed velocity (pixels per second).
    last: HashMap<u64, ([f32; 2], Instant, [f32; 2])>,
}

impl BoxMotion {
    /// Notes where each track's face is on a frame captured `at`; returns their velocities
    /// in the same order and forgets tracks that are gone.
    fn update(&mut self, faces: &[(u64, [f32; 4])], at: Instant) -> Vec<[f32; 2]> {
        let mut next = HashMap::new();
        let velocities = faces
            .iter()
            .map(|(id, [x1, y1, x2, y2])| {
                let centre = [(x1 + x2) / 2.0, (y1 + y2) / 2.0];
                let velocity = match self.last.get(id) {
                    Some((before, then, v)) if at > *then => {
                        let dt = at.duration_since(*then).as_secs_f32();
                        let now = [(centre[0] - before[0]) / dt, (centre[1] - before[1]) / dt];
                        // Smoothed, so one jittery detection does not throw the box.
                        [(v[0] + now[0]) / 2.0, (v[1] + now[1]) / 2.0]
                    }
                    Some((_, _, v)) => *v,
                    None => [0.0, 0.0],
                };
                next.insert(*id, (centre, at, velocity));
                velocity
            })
            .collect();
        self.last = next;
        velocities
    }
}

/// How a face is labelled and coloured.
fn overlay(id: u64, rect: [f32; 4], velocity: [f32; 2], state: &Option<FaceState>) -> FaceOverlay {
    let (label, tone, verdict) = match state {
        None | Some(FaceState::Checking) => (String::new(), Tone::Neutral, None),
        Some(FaceState::Hint(issue)) => (issue.hint().to_string(), Tone::Neutral, None),
        Some(FaceState::Hold) => ("Hold still a moment".to_string(), Tone::Neutral, None),
        Some(FaceState::Decided(v)) => (
            v.face_label(),
            match v.kind {
                VerdictKind::Welcome | VerdictKind::TryOut => Tone::Green,
                VerdictKind::AlreadyMarked | VerdictKind::AbsentByHand => Tone::Amber,
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
        judged: state.is_some(),
        velocity,
    }
}

/// The verdicts' sounds, on or off.
fn sound_cues(on: bool) -> SoundCues {
    if on {
        SoundCues::start()
    } else {
        SoundCues::silent()
    }
}

/// How often the door looks at its link to the school server and at today's count.
const STATUS_CHECK: Duration = Duration::from_secs(1);

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
        let sound = sound_cues(settings.kiosk.sound);
        VisionWorker {
            settings_file: SettingsWatch::new(data.settings()),
            data,
            settings,
            inputs,
            faces,
            events,
            wake,
            stop,
            sound,
            motion: BoxMotion::default(),
            marked_today: None,
            wrong_clock: None,
        }
    }

    fn open_session(&self) -> Result<DoorSession, String> {
        let mut settings = self.settings.clone();
        settings.detector.min_face_px = settings.kiosk.min_face_px;
        let data = self.data.clone().create().map_err(|e| e.to_string())?;
        let mut records = Records::open(&data, &settings).map_err(|e| match e {
            StoreError::Corrupt => {
                damaged_advice(&settings.backup.folder_in(&data), AdviceFor::Kiosk)
            }
            e => e.to_string(),
        })?;
        if let Err(e) = records.tidy() {
            tracing::warn!("could not tidy the records: {e}");
        }
        let mut recognizer =
            Recognizer::load_sharing(&settings, records.store(), self.inputs.gallery.clone())
                .map_err(|e| e.to_string())?;
        // After a release that changes a face model: the new model's templates from the
        // photos kept here, as the server and the commands do when they start. Nothing to
        // do in the usual case; if the database cannot be read now, the next start does it.
        let progress = |done, total| self.events.send(KioskEvent::Preparing { done, total });
        if let Err(e) = reembed_for_current_models(&mut recognizer, &mut records, progress) {
            tracing::warn!("could not check the face templates against the models: {e}");
        }
        Ok(DoorSession::new(recognizer, records, &settings))
    }

    pub fn run(mut self) {
        while let Some(session) = self.open_until_ready() {
            if !self.serve(session) {
                return;
            }
        }
    }

    /// Opens the door's session. While it cannot be (a damaged database, missing models),
    /// the UI is told why and the door waits for a restore to try again; `None` when the
    /// kiosk closes first.
    fn open_until_ready(&mut self) -> Option<DoorSession> {
        loop {
            match self.open_session() {
                Ok(session) => {
                    self.events.send(KioskEvent::Ready {
                        students: session.enrolled(),
                    });
                    return Some(session);
                }
                Err(reason) => {
                    tracing::error!("recognition unavailable: {reason}");
                    self.events.send(KioskEvent::RecognitionUnavailable(reason));
                }
            }
            loop {
                if self.stop.load(Ordering::SeqCst) {
                    return None;
                }
                match self.inputs.notices.recv_timeout(Duration::from_millis(200)) {
                    Ok(DoorNotice::Restored) => break,
                    Ok(notice) => self.remember(&notice),
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return None,
                }
            }
        }
    }

    /// Recognises faces on the camera's frames until the kiosk closes (false) or the data
    /// is restored from a backup (true: the session is to be opened again).
    fn serve(&mut self, mut session: DoorSession) -> bool {
        let mut processed = 0u64;
        let mut school = None;
        let mut status_checked = std::time::Instant::now() - STATUS_CHECK;
        while !self.stop.load(Ordering::SeqCst) {
            if status_checked.elapsed() >= STATUS_CHECK {
                status_checked = std::time::Instant::now();
                if let Some(now) = session
                    .school_status()
                    .map(|s| self.without_a_server(s))
                    .filter(|s| school.as_ref() != Some(s))
                {
                    school = Some(now.clone());
                    self.events.send(KioskEvent::School(now));
                }
                // Today's count changes without a mark here too: at midnight, and with
                // marks from another door, the API or a correction.
                if let Ok(n) = session.marked_today() {
                    self.tell_marked_today(n);
                }
                if let Ok(wrong) = session.wrong_clock() {
                    self.tell_clock(wrong);
                }
                for notice in self.settings_notices() {
                    self.apply(&mut session, notice);
                }
            }
            crossbeam_channel::select! {
                recv(self.inputs.notices) -> msg => {
                    let Ok(first) = msg else { break };
                    // Several nudges in a row need one reload.
                    let mut reload = false;
                    let notices: Vec<DoorNotice> =
                        std::iter::once(first).chain(self.inputs.notices.try_iter()).collect();
                    for notice in notices {
                        match notice {
                            DoorNotice::Restored => return true,
                            DoorNotice::GalleryChanged => reload = true,
                            notice => {
                                // The admin saved it in the settings file first.
                                self.settings_file.known();
                                self.apply(&mut session, notice)
                            }
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
                    // A wrong clock would mark everyone on the wrong day: the screen says so.
                    if self.wrong_clock.is_some() {
                        continue;
                    }
                    session.set_try_out(frame.try_out);
                    match session.process(&frame.image, frame.captured) {
                        Ok(result) => {
                            processed += 1;
                            let nobody_enrolled = session.enrolled() == 0;
                            self.publish(&frame, result, processed, nobody_enrolled);
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
        false
    }

    /// Applies a choice of the photo-attack check to the session, and keeps it.
    fn apply(&mut self, session: &mut DoorSession, notice: DoorNotice) {
        self.remember(&notice);
        match notice {
            DoorNotice::LivenessThreshold(t) => session.set_liveness_threshold(t),
            DoorNotice::LivenessModel(dir) => {
                match crate::vision::liveness::LivenessModel::load(&dir) {
                    Ok(model) => {
                        session.replace_liveness(Some(model));
                    }
                    Err(e) => tracing::warn!("kept the photo-attack model: {e}"),
                }
            }
            DoorNotice::Cooldown(secs) => session.set_cooldown(Duration::from_secs(secs)),
            DoorNotice::GalleryChanged | DoorNotice::Restored | DoorNotice::Sound(_) => {}
        }
    }

    /// The photo-attack choices, the sound and the cooldown changed in the settings file
    /// since the door last looked: saved by the admin desk, by another program on the same
    /// data folder (a second kiosk's admin), or by hand. The room's name, the mirror and
    /// the verdict's time go to the screen.
    fn settings_notices(&mut self) -> Vec<DoorNotice> {
        let Some((before, saved)) = self.settings_file.changed() else {
            return Vec::new();
        };
        let (was, now) = (&before.kiosk, &saved.kiosk);
        if (&was.room_name, was.mirror, was.verdict_secs)
            != (&now.room_name, now.mirror, now.verdict_secs)
        {
            self.events.send(KioskEvent::ScreenSettings {
                room_name: now.room_name.clone(),
                mirror: now.mirror,
                verdict_secs: now.verdict_secs,
            });
        }
        let change = LivenessChange::between(&before.liveness, &saved.liveness);
        let mut notices: Vec<DoorNotice> = change
            .threshold
            .map(DoorNotice::LivenessThreshold)
            .into_iter()
            .collect();
        if self.settings.liveness.enabled {
            notices.extend(change.model_dir.map(DoorNotice::LivenessModel));
        }
        if before.kiosk.sound != saved.kiosk.sound {
            notices.push(DoorNotice::Sound(saved.kiosk.sound));
        }
        if before.kiosk.cooldown_secs != saved.kiosk.cooldown_secs {
            notices.push(DoorNotice::Cooldown(saved.kiosk.cooldown_secs));
        }
        notices
    }

    /// Keeps the admin's choices that a notice brings in the settings, so that the session
    /// opened again after a restore has them too.
    fn remember(&mut self, notice: &DoorNotice) {
        match notice {
            DoorNotice::LivenessThreshold(t) => self.settings.liveness.threshold = *t,
            DoorNotice::LivenessModel(dir) => {
                self.settings.liveness.model_dir = dir.to_string_lossy().into_owned()
            }
            DoorNotice::Sound(on) => {
                if self.settings.kiosk.sound != *on {
                    self.settings.kiosk.sound = *on;
                    self.sound = sound_cues(*on);
                }
            }
            DoorNotice::Cooldown(secs) => self.settings.kiosk.cooldown_secs = *secs,
            DoorNotice::GalleryChanged | DoorNotice::Restored => {}
        }
    }

    /// A linked folder's status as this kiosk shows it: when no school server is set for
    /// it, nothing sends its marks, whatever the link last found.
    fn without_a_server(&self, mut status: SchoolStatus) -> SchoolStatus {
        if self.settings.school.no_server_here {
            status.no_server_here = true;
            status.online = false;
            status.problem = Some(crate::wording::school_link::NO_SERVER_SET_STATUS.into());
        }
        status
    }

    /// Tells the UI today's count, when it is not what the UI was last told.
    fn tell_marked_today(&mut self, n: i64) {
        if self.marked_today != Some(n) {
            self.marked_today = Some(n);
            self.events.send(KioskEvent::MarkedToday(n));
        }
    }

    fn tell_clock(&mut self, wrong: Option<WrongClock>) {
        if self.wrong_clock != wrong {
            self.wrong_clock = wrong.clone();
            self.events.send(KioskEvent::Clock(wrong));
        }
    }

    /// Hands a processed frame to the UI; with `nobody_enrolled`, verdicts make no sound
    /// (everyone would hear "try again": the screen says that no one is enrolled yet).
    fn publish(
        &mut self,
        frame: &Frame,
        result: FrameResult,
        processed: u64,
        nobody_enrolled: bool,
    ) {
        let boxes: Vec<(u64, [f32; 4])> = result
            .faces
            .iter()
            .map(|(id, f, _)| (*id, [f.x1, f.y1, f.x2, f.y2]))
            .collect();
        let velocities = self.motion.update(&boxes, frame.captured);
        let faces = result
            .faces
            .iter()
            .zip(boxes.iter().zip(velocities))
            .map(|((_, _, state), ((id, rect), v))| overlay(*id, *rect, v, state))
            .collect();
        self.faces.send(FrameFaces {
            seq: frame.seq,
            captured: frame.captured,
            frame_size: [frame.image.cols() as f32, frame.image.rows() as f32],
            faces,
            detect_ms: result.detect_ms,
            latency_ms: frame.captured.elapsed().as_secs_f64() * 1e3,
            processed,
        });
        if !result.replaced.is_empty() {
            self.events.send(KioskEvent::Replaced(result.replaced));
        }
        for v in result.verdicts {
            if !v.silent && !nobody_enrolled {
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
            self.tell_marked_today(n);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_face_moving_steadily_gets_its_speed_and_a_new_face_none() {
        let mut motion = BoxMotion::default();
        let t0 = Instant::now();
        let step = Duration::from_millis(100);
        assert_eq!(
            motion.update(&[(1, [0.0, 0.0, 10.0, 10.0])], t0),
            [[0.0, 0.0]]
        );
        // 10 px to the right per 100 ms, again and again: the smoothed speed nears 100 px/s.
        let mut v = [0.0, 0.0];
        for i in 1..=8 {
            let x = 10.0 * i as f32;
            v = motion.update(&[(1, [x, 0.0, x + 10.0, 10.0])], t0 + step * i)[0];
        }
        assert!((v[0] - 100.0).abs() < 1.0 && v[1].abs() < 1e-3, "{v:?}");
        // Another track starts still; the first one, gone, is forgotten.
        let later = t0 + step * 9;
        assert_eq!(
            motion.update(&[(2, [5.0, 5.0, 9.0, 9.0])], later),
            [[0.0, 0.0]]
        );
        assert_eq!(
            motion.update(&[(1, [0.0, 0.0, 10.0, 10.0])], later + step),
            [[0.0, 0.0]]
        );
    }

    #[test]
    fn the_box_is_moved_along_its_speed_but_never_far() {
        let face = FaceOverlay {
            track_id: 1,
            rect: [100.0, 50.0, 200.0, 150.0],
            label: String::new(),
            tone: Tone::Neutral,
            verdict: None,
            judged: true,
            velocity: [200.0, -40.0],
        };
        assert_eq!(face.rect_ahead(Duration::ZERO), face.rect);
        assert_eq!(
            face.rect_ahead(Duration::from_millis(100)),
            [120.0, 46.0, 220.0, 146.0]
        );
        assert_eq!(
            face.rect_ahead(Duration::from_secs(3)),
            face.rect_ahead(Duration::from_millis(250))
        );
    }
}
