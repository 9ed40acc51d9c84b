//! The door: frame by frame, find faces, follow them, identify the ones still undecided
//! and mark students once a track confirms them. Cooldowns keep a student who lingers from
//! being greeted again and again. A decided face is looked at again now and then, so that
//! someone stepping in where another stood is judged for themselves.

pub mod tracking;
pub mod verdict;

use crate::attendance::{Pass, Recognizer, Records};
use crate::recognition::{Candidate, Decision, Source};
use crate::settings::Settings;
use crate::store::{clock_time, MarkRecord, StoreError, WrongClock};
use crate::vision::liveness::LivenessModel;
use crate::vision::quality::QualityIssue;
use crate::vision::Embeddings;
use crate::vision::{Face, VisionError};
use opencv::core::Mat;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tracking::{Continuity, FaceTracker, Observation, Progress, TrackerSettings};
use verdict::{Verdict, VerdictKind};

/// A face judged not recognised is identified again after this long, while it stays.
const RETRY_NOT_RECOGNISED: Duration = Duration::from_secs(4);
/// How often the gallery is checked for students enrolled by other processes.
const GALLERY_CHECK: Duration = Duration::from_secs(1);

/// What the kiosk shows next to one face.
#[derive(Clone, Debug, PartialEq)]
pub enum FaceState {
    /// The face cannot be judged yet; tell the student what to do.
    Hint(QualityIssue),
    /// Being identified.
    Checking,
    /// Recognised, but the photo-attack check needs a few more frames.
    Hold,
    /// Decided.
    Decided(Verdict),
}

/// A verdict issued on this frame.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVerdict {
    pub verdict: Verdict,
    /// When the face's track began.
    pub first_seen: Instant,
    /// A repeat within the cooldown: show it, but no sound.
    pub silent: bool,
}

/// The result of one frame.
#[derive(Clone, Debug, Default)]
pub struct FrameResult {
    pub faces: Vec<(u64, Face, Option<FaceState>)>,
    pub verdicts: Vec<NewVerdict>,
    pub detect_ms: f64,
    /// Set when a new student was marked; the count for today.
    pub marked_today: Option<i64>,
    /// Set when the gallery changed; the number of students enrolled.
    pub enrolled: Option<usize>,
    /// A problem to report discreetly (the database was busy, …).
    pub problem: Option<String>,
    /// Tracks ended on this frame because their face turned out to be someone else's
    /// (someone stepping in where another stood): the face goes on under a new track, and
    /// whatever was shown for the one who left should go.
    pub replaced: Vec<u64>,
}

/// Frame-by-frame attendance at the door.
pub struct DoorSession {
    recognizer: Recognizer,
    records: Records,
    tracker: FaceTracker,
    decided: HashMap<u64, Verdict>,
    /// Each undecided track's first full embeddings (kept if the track marks someone).
    first_match: HashMap<u64, Embeddings>,
    greeted: HashMap<i64, (Instant, Verdict)>,
    cooldown: Duration,
    min_eye_distance_px: f32,
    liveness_threshold: f32,
    /// Frames the photo-attack check needs before a track is decided.
    liveness_frames: usize,
    last_gallery_check: Instant,
    /// The gallery's generation this door last followed (the admin desk, sharing the
    /// gallery, changes it without the door reloading anything).
    gallery_seen: u64,
    /// The capture time of the frame being processed: the door's clock (so recorded
    /// frames replayed faster or slower than real time behave as at the door).
    now: Instant,
    /// The last comparison of this computer's time zone with another door's: when it was
    /// made, the newest mark then, and what it found (it reads a week of marks).
    zone_seen: Option<(Instant, Option<i64>, Option<String>)>,
    /// A try-out: students recognised are named, not marked (see `DoorSource::try_out`).
    try_out: bool,
}

/// What the door found of a confirmed student: marked (or not, and why), or named only
/// in a try-out.
struct Found {
    kind: VerdictKind,
    name: String,
    /// When they were marked today.
    at: Option<String>,
    /// The school's other door that marked them first.
    door: Option<String>,
    /// Whether the site may learn from this face (see `DoorSession::find`).
    learn: bool,
}

/// How often a linked door compares its time zone with the other doors' when no mark
/// came meanwhile.
const ZONE_CHECK: Duration = Duration::from_secs(60);

impl DoorSession {
    pub fn new(recognizer: Recognizer, records: Records, settings: &Settings) -> DoorSession {
        let kiosk = &settings.kiosk;
        let gallery_seen = recognizer.gallery().generation();
        DoorSession {
            recognizer,
            records,
            tracker: FaceTracker::new(TrackerSettings {
                confirm_frames: kiosk.confirm_frames,
                max_attempts: kiosk.max_attempts,
                ..TrackerSettings::default()
            }),
            decided: HashMap::new(),
            first_match: HashMap::new(),
            greeted: HashMap::new(),
            cooldown: Duration::from_secs(kiosk.cooldown_secs),
            min_eye_distance_px: kiosk.min_eye_distance_px,
            liveness_threshold: settings.liveness.threshold,
            liveness_frames: settings.liveness.min_frames.max(1),
            last_gallery_check: Instant::now(),
            gallery_seen,
            now: Instant::now(),
            zone_seen: None,
            try_out: false,
        }
    }

    /// Plays from now on as a try-out (nobody marked) or not. Faces already judged are
    /// judged again, and a student greeted before is greeted afresh: a verdict of one kind
    /// of play is not carried into the other.
    pub fn set_try_out(&mut self, on: bool) {
        if self.try_out == on {
            return;
        }
        self.try_out = on;
        for id in self.decided.keys() {
            self.tracker.reopen(*id);
        }
        self.decided.clear();
        self.first_match.clear();
        self.greeted.clear();
    }

    /// Puts another photo-attack model in place; returns the one it replaces.
    pub fn replace_liveness(&mut self, model: Option<LivenessModel>) -> Option<LivenessModel> {
        self.recognizer.replace_liveness(model)
    }

    /// How strict the photo-attack check is from now on (a track's mean score must be
    /// above this).
    pub fn set_liveness_threshold(&mut self, threshold: f32) {
        self.liveness_threshold = threshold;
    }

    /// How long a student greeted is shown the same greeting again, silently, from now on.
    pub fn set_cooldown(&mut self, cooldown: Duration) {
        self.cooldown = cooldown;
    }

    /// Students enrolled (in the gallery).
    pub fn enrolled(&self) -> usize {
        self.recognizer.students()
    }

    /// Students marked today.
    pub fn marked_today(&self) -> Result<i64, StoreError> {
        self.records
            .store()
            .marked_count(chrono::Local::now().date_naive())
    }

    /// Why the clock cannot date marks now, if it cannot (marks made here while the clock
    /// was ahead; the school server's clock an hour or more away): meanwhile the door takes
    /// no attendance.
    pub fn wrong_clock(&self) -> Result<Option<WrongClock>, StoreError> {
        self.records.store().wrong_clock(chrono::Local::now())
    }

    /// The door's link to the school server, when it has one. Its time zone is compared
    /// again when a mark came (here or from another door), else once a minute.
    pub fn school_status(&mut self) -> Option<crate::store::school::SchoolStatus> {
        let store = self.records.store();
        let mut status = store.school_status().ok().flatten()?;
        let newest = store.newest_mark().ok().flatten();
        let seen = match self.zone_seen.take() {
            Some((at, then, zone)) if at.elapsed() < ZONE_CHECK && then == newest => {
                (at, then, zone)
            }
            _ => (
                Instant::now(),
                newest,
                store.zone_unlike_another_door().ok().flatten(),
            ),
        };
        status.zone_off = seen.2.clone();
        self.zone_seen = Some(seen);
        Some(status)
    }

    /// Picks up students enrolled or removed elsewhere (another program, or the admin
    /// desk sharing the gallery); faces judged not recognised are identified again when
    /// the gallery changed, and so are faces greeted as a student it no longer holds
    /// (their face data erased, the student deleted or gone from the school: until
    /// 2026-12-06 such a student, still in front of the camera, went on being greeted by
    /// name). Returns the new number of students when it changed.
    pub fn follow_gallery(&mut self) -> Option<usize> {
        self.last_gallery_check = Instant::now();
        if let Err(e) = self.recognizer.refresh(self.records.store()) {
            tracing::warn!("could not reload the gallery: {e}");
        }
        let generation = self.recognizer.gallery().generation();
        if generation == self.gallery_seen {
            return None;
        }
        self.gallery_seen = generation;
        for id in self.tracker.retry_not_recognised(self.now, Duration::ZERO) {
            self.decided.remove(&id);
        }
        let matcher = self.recognizer.matcher();
        let gone: Vec<u64> = self
            .decided
            .iter()
            .filter(|(_, v)| v.student_id.is_some_and(|s| !matcher.gallery().contains(s)))
            .map(|(id, _)| *id)
            .collect();
        drop(matcher);
        for id in gone {
            self.tracker.reopen(id);
            self.decided.remove(&id);
            self.first_match.remove(&id);
        }
        Some(self.recognizer.students())
    }

    /// A face still in front of the camera, greeted as marked, whose student an admin has
    /// since recorded absent today (here or at another machine of the school) is told so:
    /// the welcome does not stay over them while the records say otherwise.
    fn follow_absences(&mut self, result: &mut FrameResult) -> Result<(), StoreError> {
        let named = |v: &Verdict| {
            matches!(v.kind, VerdictKind::Welcome | VerdictKind::AlreadyMarked)
                && v.student_id.is_some()
        };
        if !self.decided.values().any(named) {
            return Ok(());
        }
        let today = chrono::Local::now().date_naive();
        let absent = self.records.store().absent_by_hand(today)?;
        let mut told = Vec::new();
        for v in self.decided.values_mut() {
            if let Some(student) = v.student_id.filter(|s| named(v) && absent.contains(s)) {
                v.kind = VerdictKind::AbsentByHand;
                v.door = None;
                self.greeted.insert(student, (self.now, v.clone()));
                told.push(v.clone());
            }
        }
        if told.is_empty() {
            return Ok(());
        }
        for verdict in told {
            let first_seen = self
                .tracker
                .track(verdict.track_id)
                .map_or(self.now, |t| t.first_seen);
            result.verdicts.push(NewVerdict {
                verdict,
                first_seen,
                silent: false,
            });
        }
        result.marked_today = self.marked_today().ok();
        Ok(())
    }

    /// Processes one frame captured at `captured`.
    pub fn process(&mut self, image: &Mat, captured: Instant) -> Result<FrameResult, VisionError> {
        let mut result = FrameResult::default();
        self.now = captured;
        if self.last_gallery_check.elapsed() >= GALLERY_CHECK {
            result.enrolled = self.follow_gallery();
            if let Err(e) = self.follow_absences(&mut result) {
                tracing::warn!("could not read today's absences recorded by hand: {e}");
            }
            // A kiosk left on for weeks keeps face snapshots no longer than it should.
            if let Err(e) = self.records.keep_retention() {
                tracing::warn!("could not drop the face snapshots past their retention: {e}");
            }
        }
        for id in self
            .tracker
            .retry_not_recognised(captured, RETRY_NOT_RECOGNISED)
        {
            self.decided.remove(&id);
        }
        let t = Instant::now();
        let faces = self.recognizer.detect(image)?;
        result.detect_ms = t.elapsed().as_secs_f64() * 1e3;
        let ids = self.tracker.update(&faces, captured);
        let live: std::collections::HashSet<u64> =
            self.tracker.tracks().iter().map(|t| t.id).collect();
        self.decided.retain(|id, _| live.contains(id));
        self.first_match.retain(|id, _| live.contains(id));
        let nearest = faces.iter().map(Face::eye_distance).fold(0.0, f32::max);
        for (face, id) in faces.into_iter().zip(ids) {
            let (id, state) = if self.tracker.is_pending(id) {
                if self.in_background(&face, nearest) {
                    // Not coming to the kiosk (yet): nothing to tell them.
                    (id, None)
                } else {
                    self.identify(image, &face, id, &mut result)?
                }
            } else if let Some(new) = self.recheck(image, &face, id)? {
                result.replaced.push(id);
                self.identify(image, &face, new, &mut result)?
            } else if self.tracker.in_doubt(id) {
                // Perhaps someone else stepping in: not shown under the verdict of the one
                // who stood here until the next frame tells.
                (id, Some(FaceState::Checking))
            } else {
                (id, self.decided.get(&id).cloned().map(FaceState::Decided))
            };
            result.faces.push((id, face, state));
        }
        Ok(result)
    }

    /// Whether an undecided face belongs to someone further back than the kiosk judges
    /// while someone else is nearer (a queue, a hallway behind the one at the kiosk): they
    /// are left alone rather than asked to step closer or hold still, which only the one
    /// coming to the kiosk should be. `nearest` is the largest eye distance on the frame.
    fn in_background(&self, face: &Face, nearest: f32) -> bool {
        let eyes = face.eye_distance();
        eyes < self.min_eye_distance_px && eyes < nearest
    }

    /// Why a face cannot be judged on this frame, if it cannot.
    fn unusable(&self, image: &Mat, face: &Face) -> Result<Option<QualityIssue>, VisionError> {
        let quality = self.recognizer.assess(image, face)?;
        // People further back are not identified at the kiosk, only the one at it.
        let too_far = face.eye_distance() < self.min_eye_distance_px;
        Ok(quality
            .issues
            .first()
            .copied()
            .or(too_far.then_some(QualityIssue::TooSmall)))
    }

    /// Records how a usable frame's face looks on its track; someone else's face ends the
    /// track and goes on under a new one (see `FaceTracker::follow_appearance`).
    fn follow(&mut self, id: u64, appearance: Vec<f32>) -> (Continuity, u64) {
        let same = self
            .recognizer
            .same_face_on_track(self.tracker.appearance(id), &appearance);
        let (continuity, now_id) = self.tracker.follow_appearance(id, appearance, same);
        if continuity == Continuity::SomeoneElse {
            tracing::info!(
                track_id = id,
                new_track_id = now_id,
                "someone else stepped in"
            );
            self.decided.remove(&id);
            self.first_match.remove(&id);
        }
        (continuity, now_id)
    }

    /// Looks again, now and then, at a decided face: the new track's id when it is
    /// someone else now (stepping in where the decided person stood), to be judged afresh.
    fn recheck(&mut self, image: &Mat, face: &Face, id: u64) -> Result<Option<u64>, VisionError> {
        if !self.tracker.recheck_due(id, self.now) || self.unusable(image, face)?.is_some() {
            return Ok(None);
        }
        let Some(appearance) = self.recognizer.appearance(image, face)? else {
            return Ok(None);
        };
        Ok(match self.follow(id, appearance) {
            (Continuity::SomeoneElse, new) => Some(new),
            _ => None,
        })
    }

    /// What one usable or unusable frame shows of a face, and on which track (a new one
    /// when the face turned out to be someone else's); nothing when the face may be
    /// someone else's and one frame cannot tell yet.
    fn observe(
        &mut self,
        image: &Mat,
        face: &Face,
        id: u64,
    ) -> Result<(Option<Observation>, u64), VisionError> {
        if let Some(issue) = self.unusable(image, face)? {
            return Ok((Some(Observation::Unusable(issue)), id));
        }
        let liveness = self.recognizer.liveness_features(image, face)?;
        // The first match needs every model; later frames confirm with the fast one (and
        // every model again where it is unsure).
        let pass = if self.tracker.has_candidate(id) {
            Pass::Confirm
        } else {
            Pass::Door
        };
        let (decision, embeddings) = self
            .recognizer
            .identify(image, face, pass, Source::Camera)?;
        if let Some(appearance) = self.recognizer.appearance_in(&embeddings) {
            match self.follow(id, appearance) {
                (Continuity::Same, _) => {}
                (Continuity::Doubtful, _) => return Ok((None, id)),
                (Continuity::SomeoneElse, new) => return self.observe(image, face, new),
            }
        }
        if let Some(features) = liveness {
            self.tracker.observe_liveness(id, features);
        }
        let observation = match decision {
            Decision::Match(c) => {
                if pass == Pass::Door {
                    self.first_match.insert(id, embeddings);
                }
                Observation::Identified(c)
            }
            Decision::Unknown(_) => Observation::Unknown,
        };
        Ok((Some(observation), id))
    }

    /// Identifies an undecided face on this frame; returns its track (a new one when it
    /// turned out to be someone else) and what the kiosk shows.
    fn identify(
        &mut self,
        image: &Mat,
        face: &Face,
        id: u64,
        result: &mut FrameResult,
    ) -> Result<(u64, Option<FaceState>), VisionError> {
        let (observation, now_id) = self.observe(image, face, id)?;
        if now_id != id {
            result.replaced.push(id);
        }
        let id = now_id;
        let Some(observation) = observation else {
            return Ok((id, Some(FaceState::Checking)));
        };
        let first_seen = self
            .tracker
            .track(id)
            .map(|t| t.first_seen)
            .unwrap_or(self.now);
        let confirmed = match self.tracker.observe(id, observation.clone()) {
            Progress::Pending => {
                return Ok((
                    id,
                    Some(match observation {
                        Observation::Unusable(issue) => FaceState::Hint(issue),
                        _ => FaceState::Checking,
                    }),
                ))
            }
            Progress::Confirmed(c) => Some(c),
            Progress::NotRecognised => None,
        };
        let student = confirmed.as_ref().map(|c| c.student_id);
        // A student is not marked before the photo-attack check has seen enough of them.
        let frames = self
            .tracker
            .track(id)
            .map(|t| t.liveness_frames().len())
            .unwrap_or(0);
        if student.is_some() && frames > 0 && frames < self.liveness_frames {
            self.tracker.hold(id);
            return Ok((id, Some(FaceState::Hold)));
        }
        let verdict = match (confirmed, self.looks_like_a_photo(id, student)?) {
            (_, Some(score)) => self.refuse(id, student, score, first_seen, image, face),
            (None, None) => NewVerdict {
                verdict: Verdict::about_nobody(VerdictKind::NotRecognised, id),
                first_seen,
                silent: false,
            },
            (Some(c), None) => match self.confirm(&c, id, first_seen, image, face) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!("could not record a mark: {e}");
                    result.problem = Some(e.to_string());
                    self.tracker.reopen(id);
                    return Ok((id, Some(FaceState::Checking)));
                }
            },
        };
        if !verdict.silent
            && matches!(
                verdict.verdict.kind,
                VerdictKind::Welcome | VerdictKind::AbsentByHand
            )
        {
            result.marked_today = self.marked_today().ok();
        }
        self.decided.insert(id, verdict.verdict.clone());
        let state = FaceState::Decided(verdict.verdict.clone());
        result.verdicts.push(verdict);
        Ok((id, Some(state)))
    }

    /// The track's liveness score when the face did not pass the photo-attack check, judged
    /// against `student`'s own kiosk enrolment when they have one (`None` when it passed,
    /// or when the check is off).
    fn looks_like_a_photo(
        &self,
        id: u64,
        student: Option<i64>,
    ) -> Result<Option<f32>, VisionError> {
        let Some(track) = self.tracker.track(id) else {
            return Ok(None);
        };
        let score = self
            .recognizer
            .liveness_of(track.liveness_frames(), student)?;
        Ok(score.filter(|s| *s <= self.liveness_threshold))
    }

    /// Refuses a face that did not look live: no mark, and the admin can see it.
    fn refuse(
        &mut self,
        track_id: u64,
        resembled: Option<i64>,
        score: f32,
        first_seen: Instant,
        image: &Mat,
        face: &Face,
    ) -> NewVerdict {
        tracing::info!(track_id, score, "face refused by the photo-attack check");
        // A try-out's refusals are not the door's: the admin's list of them stays the door's.
        if !self.try_out {
            let snapshot = crate::vision::image_io::face_snapshot(image, face).ok();
            if let Err(e) = self
                .records
                .log_refusal(resembled, score, snapshot.as_deref())
            {
                tracing::warn!("could not log a refused face: {e}");
            }
        }
        NewVerdict {
            verdict: Verdict::about_nobody(VerdictKind::NotVerified, track_id),
            first_seen,
            silent: false,
        }
    }

    /// Marks a confirmed student (a try-out only names them). Greeted within the cooldown, they see that greeting
    /// again, silently — unless the records now say otherwise (an admin recorded them
    /// absent meanwhile, here or at another machine of the school).
    fn confirm(
        &mut self,
        c: &Candidate,
        track_id: u64,
        first_seen: Instant,
        image: &Mat,
        face: &Face,
    ) -> Result<NewVerdict, StoreError> {
        let greeted = self
            .greeted
            .get(&c.student_id)
            .filter(|(at, _)| self.now.saturating_duration_since(*at) < self.cooldown)
            .map(|(_, previous)| previous.clone());
        let snapshot = match greeted {
            None if !self.try_out => crate::vision::image_io::face_snapshot(image, face).ok(),
            _ => None,
        };
        let Some(found) = self.find(c, snapshot.as_deref())? else {
            // Their last day is over (their face data not yet erased here): no longer in
            // the class, so not known to the kiosk either.
            self.first_match.remove(&track_id);
            return Ok(NewVerdict {
                verdict: Verdict::about_nobody(VerdictKind::NotRecognised, track_id),
                first_seen,
                silent: false,
            });
        };
        let kind = found.kind;
        if let Some(previous) = greeted {
            let welcomed_and_still_marked =
                previous.kind == VerdictKind::Welcome && kind == VerdictKind::AlreadyMarked;
            if previous.kind == kind || welcomed_and_still_marked {
                return Ok(NewVerdict {
                    verdict: Verdict {
                        track_id,
                        ..previous
                    },
                    first_seen,
                    silent: true,
                });
            }
        }
        if let Some(embeddings) = self.first_match.remove(&track_id).filter(|_| found.learn) {
            let before = self.recognizer.gallery().generation();
            if let Err(e) =
                self.recognizer
                    .observed(c.student_id, &embeddings, self.records.store_mut())
            {
                tracing::warn!("could not keep the face for calibration: {e}");
            }
            // This door's own change is no news to it; anyone else's still is.
            if self.gallery_seen == before && self.recognizer.gallery().generation() == before + 1 {
                self.gallery_seen = before + 1;
            }
        }
        let verdict = Verdict {
            kind,
            track_id,
            student_id: Some(c.student_id),
            time: found.at,
            door: found.door,
            name: Some(found.name),
        };
        self.greeted
            .insert(c.student_id, (self.now, verdict.clone()));
        Ok(NewVerdict {
            verdict,
            first_seen,
            silent: false,
        })
    }

    /// Marks a confirmed student, or in a try-out only names them; `None` when they have
    /// left the class.
    fn find(
        &mut self,
        c: &Candidate,
        snapshot: Option<&[u8]>,
    ) -> Result<Option<Found>, StoreError> {
        if self.try_out {
            // Nothing written, nothing learnt: a try-out leaves the register as it was.
            return Ok(self
                .records
                .name_if_in_class(c.student_id)?
                .map(|name| Found {
                    kind: VerdictKind::TryOut,
                    name,
                    at: None,
                    door: None,
                    learn: false,
                }));
        }
        let marked = self
            .records
            .mark(c.student_id, c.score, "kiosk", snapshot)?;
        let kind = match marked.record {
            MarkRecord::New(_) => VerdictKind::Welcome,
            MarkRecord::Existing { .. } => VerdictKind::AlreadyMarked,
            MarkRecord::AbsentByHand(_) => VerdictKind::AbsentByHand,
            MarkRecord::Left(_) => return Ok(None),
        };
        Ok(Some(Found {
            kind,
            at: Some(clock_time(marked.at())),
            door: marked.other_door().map(str::to_string),
            name: marked.name,
            // A confirmed, live face from this camera: the site learns from it — unless an
            // admin recorded the student absent today, which may mean the kiosk took
            // someone else for them.
            learn: kind != VerdictKind::AbsentByHand,
        }))
    }
}
