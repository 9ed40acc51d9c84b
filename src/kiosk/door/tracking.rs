//! Following faces across frames and deciding, per face track, when a student is
//! recognised: one identity must win on N usable frames, and no other identity may appear
//! on the same track. One verdict per track — and one person: a face that stops looking
//! like the track's recent frames (someone stepping in where another stood) gets a track
//! of its own.

use crate::recognition::Candidate;
use crate::vision::quality::QualityIssue;
use crate::vision::Face;
use std::time::{Duration, Instant};

/// How tracks are followed and confirmed.
#[derive(Clone, Debug)]
pub struct TrackerSettings {
    /// Frames on which one identity must win before a student is marked.
    pub confirm_frames: u32,
    /// Usable frames after which a face nobody matches is declared not recognised.
    pub max_attempts: u32,
    /// A track not seen for this long is forgotten.
    pub lost_after: Duration,
    /// Boxes overlapping at least this much (intersection over union) are the same face.
    pub min_iou: f32,
    /// Usable frames in a row that must look like someone else before a track is split.
    pub doubts_to_split: u32,
    /// How often a decided track's face is looked at again (pending tracks are on every
    /// usable frame).
    pub recheck_every: Duration,
}

impl Default for TrackerSettings {
    fn default() -> Self {
        TrackerSettings {
            confirm_frames: 3,
            max_attempts: 8,
            lost_after: Duration::from_millis(800),
            min_iou: 0.3,
            doubts_to_split: 2,
            recheck_every: Duration::from_millis(100),
        }
    }
}

/// What one frame showed of a tracked face.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    /// The face cannot be judged on this frame (too small, turned away, …).
    Unusable(QualityIssue),
    /// The gallery matched this student above threshold and margin.
    Identified(Candidate),
    /// Nobody matched.
    Unknown,
}

/// Where a track stands after an observation.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Keep looking.
    Pending,
    /// This student is confirmed on this track.
    Confirmed(Candidate),
    /// Enough usable frames and no consistent identity.
    NotRecognised,
}

/// Whether a frame's face is still the track's person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Continuity {
    /// It looks like the track's recent frames.
    Same,
    /// It does not, but not yet on enough frames in a row.
    Doubtful,
    /// Someone else: the track has been split (see `FaceTracker::follow_appearance`).
    SomeoneElse,
}

/// Recent frames a track's person is recognised by.
const APPEARANCES_KEPT: usize = 4;

/// One face followed across frames.
#[derive(Clone, Debug)]
pub struct Track {
    pub id: u64,
    pub face: Face,
    pub first_seen: Instant,
    pub last_seen: Instant,
    /// (student, frames won, best candidate seen)
    votes: Vec<(i64, u32, Candidate)>,
    attempts: u32,
    /// The latest reason the face could not be judged, cleared by a usable frame.
    pub hint: Option<QualityIssue>,
    /// Set once the track has its verdict; it is then not identified again, except a
    /// face judged not recognised (see `FaceTracker::retry_not_recognised`).
    pub settled: bool,
    /// When the track was judged not recognised.
    not_recognised_at: Option<Instant>,
    /// Texture features of the track's usable frames, for the photo-attack check.
    liveness: Vec<Vec<f32>>,
    /// The fast model's vectors of the track's recent frames that looked like its person.
    appearance: Vec<Vec<f32>>,
    /// Usable frames in a row that did not.
    doubts: u32,
    /// When a frame was last compared with them.
    appearance_at: Option<Instant>,
}

impl Track {
    fn new(id: u64, face: Face, now: Instant) -> Track {
        Track {
            id,
            face,
            first_seen: now,
            last_seen: now,
            votes: Vec::new(),
            attempts: 0,
            hint: None,
            settled: false,
            not_recognised_at: None,
            liveness: Vec::new(),
            appearance: Vec::new(),
            doubts: 0,
            appearance_at: None,
        }
    }

    fn reset(&mut self) {
        self.settled = false;
        self.not_recognised_at = None;
        self.votes.clear();
        self.attempts = 0;
        self.liveness.clear();
    }

    /// Texture features of the track's usable frames (the most recent few).
    pub fn liveness_frames(&self) -> &[Vec<f32>] {
        &self.liveness
    }
}

fn iou(a: &Face, b: &Face) -> f32 {
    let w = (a.x2.min(b.x2) - a.x1.max(b.x1)).max(0.0);
    let h = (a.y2.min(b.y2) - a.y1.max(b.y1)).max(0.0);
    let inter = w * h;
    let union = a.width() * a.height() + b.width() * b.height() - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Follows faces across frames.
#[derive(Debug, Default)]
pub struct FaceTracker {
    settings: TrackerSettings,
    tracks: Vec<Track>,
    next_id: u64,
}

impl FaceTracker {
    pub fn new(settings: TrackerSettings) -> FaceTracker {
        FaceTracker {
            settings,
            tracks: Vec::new(),
            next_id: 1,
        }
    }

    /// Live tracks.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    pub fn track(&self, id: u64) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }

    fn track_mut(&mut self, id: u64) -> Option<&mut Track> {
        self.tracks.iter_mut().find(|t| t.id == id)
    }

    /// Matches this frame's faces to tracks (new faces start tracks; tracks unseen for a
    /// while end). Returns the track id of each face, in order.
    pub fn update(&mut self, faces: &[Face], now: Instant) -> Vec<u64> {
        let lost_after = self.settings.lost_after;
        self.tracks
            .retain(|t| now.duration_since(t.last_seen) <= lost_after);
        // Greedy matching by overlap, best pairs first.
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (fi, f) in faces.iter().enumerate() {
            for (ti, t) in self.tracks.iter().enumerate() {
                let o = iou(f, &t.face);
                if o >= self.settings.min_iou {
                    pairs.push((o, fi, ti));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut face_track: Vec<Option<usize>> = vec![None; faces.len()];
        let mut taken = vec![false; self.tracks.len()];
        for (_, fi, ti) in pairs {
            if face_track[fi].is_none() && !taken[ti] {
                face_track[fi] = Some(ti);
                taken[ti] = true;
            }
        }
        let mut ids = Vec::with_capacity(faces.len());
        for (fi, f) in faces.iter().enumerate() {
            match face_track[fi] {
                Some(ti) => {
                    let t = &mut self.tracks[ti];
                    t.face = f.clone();
                    t.last_seen = now;
                    ids.push(t.id);
                }
                None => {
                    let id = self.new_id();
                    self.tracks.push(Track::new(id, f.clone(), now));
                    ids.push(id);
                }
            }
        }
        ids
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id - 1
    }

    /// The fast model's vectors of the track's recent frames of its person.
    pub fn appearance(&self, id: u64) -> &[Vec<f32>] {
        self.track(id).map_or(&[], |t| &t.appearance)
    }

    /// Whether the track's last usable frame did not look like its person (someone else
    /// may be stepping in: one more frame will tell).
    pub fn in_doubt(&self, id: u64) -> bool {
        self.track(id).is_some_and(|t| t.doubts > 0)
    }

    /// Whether a decided track's face is due to be looked at again, at `now`: every
    /// `recheck_every`, and on the next usable frame after one that did not look like its
    /// person (so that a newcomer is told apart within two frames of the first doubt).
    pub fn recheck_due(&self, id: u64, now: Instant) -> bool {
        self.track(id).is_some_and(|t| {
            t.doubts > 0
                || t.appearance_at.is_none_or(|at| {
                    now.saturating_duration_since(at) >= self.settings.recheck_every
                })
        })
    }

    /// Records a usable frame's vector (`same`: whether it looks like the track's recent
    /// frames, see [`crate::recognition::same_face_on_track`]). After
    /// `doubts_to_split` frames in a row that do not, the face is someone else: the track
    /// ends and the face goes on under a new track, with this frame as its first, whose id
    /// is returned beside `SomeoneElse`.
    pub fn follow_appearance(
        &mut self,
        id: u64,
        vector: Vec<f32>,
        same: bool,
    ) -> (Continuity, u64) {
        let need = self.settings.doubts_to_split.max(1);
        let Some(t) = self.track_mut(id) else {
            return (Continuity::Same, id);
        };
        t.appearance_at = Some(t.last_seen);
        if same {
            t.doubts = 0;
            if t.appearance.len() == APPEARANCES_KEPT {
                t.appearance.remove(0);
            }
            t.appearance.push(vector);
            return (Continuity::Same, id);
        }
        t.doubts += 1;
        if t.doubts < need {
            return (Continuity::Doubtful, id);
        }
        let (face, now) = (t.face.clone(), t.last_seen);
        let new = self.new_id();
        let mut track = Track::new(new, face, now);
        track.appearance.push(vector);
        track.appearance_at = Some(now);
        if let Some(old) = self.track_mut(id) {
            *old = track;
        }
        (Continuity::SomeoneElse, new)
    }

    /// Whether some frame of the track has already matched a student.
    pub fn has_candidate(&self, id: u64) -> bool {
        self.track(id).is_some_and(|t| !t.votes.is_empty())
    }

    /// Whether the track still needs identifying (exists and has no verdict).
    pub fn is_pending(&self, id: u64) -> bool {
        self.track(id).is_some_and(|t| !t.settled)
    }

    /// Keeps a usable frame's texture features for the photo-attack check.
    pub fn observe_liveness(&mut self, id: u64, features: Vec<f32>) {
        /// Frames kept per track: enough to judge, not a growing pile.
        const KEPT: usize = 12;
        if let Some(t) = self.track_mut(id) {
            if t.liveness.len() == KEPT {
                t.liveness.remove(0);
            }
            t.liveness.push(features);
        }
    }

    /// Keeps a confirmed track open for more frames (the photo-attack check has not seen
    /// enough of it yet); its votes stay, so the next frame confirms it again.
    pub fn hold(&mut self, id: u64) {
        if let Some(t) = self.track_mut(id) {
            t.settled = false;
        }
    }

    /// Records what one frame showed of a track and says where it stands.
    pub fn observe(&mut self, id: u64, observation: Observation) -> Progress {
        let now = self.track(id).map(|t| t.last_seen);
        let confirm = self.settings.confirm_frames.max(1);
        let max_attempts = self.settings.max_attempts.max(confirm);
        let Some(t) = self.track_mut(id) else {
            return Progress::Pending;
        };
        if t.settled {
            return Progress::Pending;
        }
        match observation {
            Observation::Unusable(issue) => {
                t.hint = Some(issue);
                return Progress::Pending;
            }
            Observation::Unknown => {
                t.hint = None;
                t.attempts += 1;
            }
            Observation::Identified(c) => {
                t.hint = None;
                t.attempts += 1;
                match t.votes.iter_mut().find(|v| v.0 == c.student_id) {
                    Some(v) => {
                        v.1 += 1;
                        if c.score > v.2.score {
                            v.2 = c;
                        }
                    }
                    None => t.votes.push((c.student_id, 1, c)),
                }
            }
        }
        // Confirmed only when a single identity has won enough frames.
        if let [(_, wins, best)] = t.votes.as_slice() {
            if *wins >= confirm {
                let best = best.clone();
                t.settled = true;
                return Progress::Confirmed(best);
            }
        }
        if t.attempts >= max_attempts || t.votes.len() > 1 {
            t.settled = true;
            t.not_recognised_at = now;
            return Progress::NotRecognised;
        }
        Progress::Pending
    }

    /// Starts a track's identification over (e.g. when its mark could not be saved).
    pub fn reopen(&mut self, id: u64) {
        if let Some(t) = self.track_mut(id) {
            t.reset();
        }
    }

    /// Faces judged not recognised at least `after` before `now` are identified again
    /// (they may have been enrolled meanwhile, or turned towards the camera); returns their
    /// ids.
    pub fn retry_not_recognised(&mut self, now: Instant, after: Duration) -> Vec<u64> {
        let mut ids = Vec::new();
        for t in &mut self.tracks {
            if t.not_recognised_at
                .is_some_and(|at| now.saturating_duration_since(at) >= after)
            {
                t.reset();
                ids.push(t.id);
            }
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32) -> Face {
        Face {
            x1: x,
            y1: 100.0,
            x2: x + 100.0,
            y2: 220.0,
            score: 0.99,
            landmarks: [[0.0; 2]; 5],
        }
    }

    fn cand(id: i64) -> Candidate {
        Candidate {
            student_id: id,
            score: 8.0,
            margin: 3.0,
        }
    }

    #[test]
    fn a_moving_face_keeps_its_track() {
        let mut t = FaceTracker::new(TrackerSettings::default());
        let now = Instant::now();
        let a = t.update(&[face(100.0)], now);
        let b = t.update(&[face(110.0)], now + Duration::from_millis(40));
        assert_eq!(a, b);
        let c = t.update(&[face(400.0)], now + Duration::from_millis(80));
        assert_ne!(a, c, "a face far away is someone else");
    }

    #[test]
    fn a_student_is_confirmed_after_n_agreeing_frames() {
        let mut t = FaceTracker::new(TrackerSettings::default());
        let id = t.update(&[face(100.0)], Instant::now())[0];
        assert_eq!(
            t.observe(id, Observation::Identified(cand(7))),
            Progress::Pending
        );
        assert_eq!(
            t.observe(id, Observation::Unusable(QualityIssue::Blurry)),
            Progress::Pending
        );
        assert_eq!(
            t.observe(id, Observation::Identified(cand(7))),
            Progress::Pending
        );
        assert_eq!(
            t.observe(id, Observation::Identified(cand(7))),
            Progress::Confirmed(cand(7))
        );
        assert!(!t.is_pending(id), "one verdict per track");
        assert_eq!(
            t.observe(id, Observation::Identified(cand(7))),
            Progress::Pending
        );
    }

    #[test]
    fn two_identities_on_one_track_mark_nobody() {
        let mut t = FaceTracker::new(TrackerSettings::default());
        let id = t.update(&[face(100.0)], Instant::now())[0];
        t.observe(id, Observation::Identified(cand(7)));
        assert_eq!(
            t.observe(id, Observation::Identified(cand(8))),
            Progress::NotRecognised
        );
    }

    #[test]
    fn a_stranger_is_not_recognised_after_the_attempts() {
        let settings = TrackerSettings::default();
        let max = settings.max_attempts;
        let mut t = FaceTracker::new(settings);
        let id = t.update(&[face(100.0)], Instant::now())[0];
        for _ in 1..max {
            assert_eq!(t.observe(id, Observation::Unknown), Progress::Pending);
        }
        assert_eq!(t.observe(id, Observation::Unknown), Progress::NotRecognised);
    }

    #[test]
    fn a_face_not_recognised_is_tried_again() {
        let mut t = FaceTracker::new(TrackerSettings {
            confirm_frames: 1,
            max_attempts: 1,
            ..TrackerSettings::default()
        });
        let id = t.update(&[face(100.0)], Instant::now())[0];
        assert_eq!(t.observe(id, Observation::Unknown), Progress::NotRecognised);
        assert!(!t.is_pending(id));
        let now = Instant::now();
        assert!(t
            .retry_not_recognised(now, Duration::from_secs(60))
            .is_empty());
        assert_eq!(t.retry_not_recognised(now, Duration::ZERO), vec![id]);
        assert!(t.is_pending(id));
        assert_eq!(
            t.observe(id, Observation::Identified(cand(7))),
            Progress::Confirmed(cand(7))
        );
    }

    #[test]
    fn a_held_track_keeps_its_votes_and_confirms_on_the_next_frame() {
        let mut t = FaceTracker::new(TrackerSettings {
            confirm_frames: 2,
            ..TrackerSettings::default()
        });
        let id = t.update(&[face(100.0)], Instant::now())[0];
        t.observe(id, Observation::Identified(cand(7)));
        assert_eq!(
            t.observe(id, Observation::Identified(cand(7))),
            Progress::Confirmed(cand(7))
        );
        t.hold(id);
        assert!(t.is_pending(id));
        assert_eq!(
            t.observe(id, Observation::Identified(cand(7))),
            Progress::Confirmed(cand(7))
        );
        for i in 0..20 {
            t.observe_liveness(id, vec![i as f32]);
        }
        let kept = t.track(id).unwrap().liveness_frames();
        assert_eq!(kept.len(), 12);
        assert_eq!(kept[11], vec![19.0]);
    }

    #[test]
    fn someone_else_on_a_decided_track_gets_a_track_of_their_own() {
        let mut t = FaceTracker::new(TrackerSettings {
            confirm_frames: 1,
            ..TrackerSettings::default()
        });
        let now = Instant::now();
        let id = t.update(&[face(100.0)], now)[0];
        assert!(t.recheck_due(id, now), "a new track has not been looked at");
        for i in 0..6 {
            let (c, same_id) = t.follow_appearance(id, vec![i as f32], true);
            assert_eq!((c, same_id), (Continuity::Same, id));
        }
        assert_eq!(
            t.appearance(id).len(),
            APPEARANCES_KEPT,
            "the newest few are kept"
        );
        assert_eq!(t.appearance(id)[APPEARANCES_KEPT - 1], vec![5.0]);
        assert_eq!(
            t.observe(id, Observation::Identified(cand(7))),
            Progress::Confirmed(cand(7))
        );
        assert!(!t.recheck_due(id, now), "just looked at");
        assert!(t.recheck_due(id, now + Duration::from_millis(100)));

        // One unlike frame is doubtful (and the next frame is looked at at once); a like
        // one in between starts the count again.
        assert_eq!(
            t.follow_appearance(id, vec![9.0], false),
            (Continuity::Doubtful, id)
        );
        assert!(
            t.recheck_due(id, now),
            "a doubt is settled on the next frame"
        );
        assert!(t.in_doubt(id), "meanwhile nobody's name is shown on it");
        assert_eq!(t.follow_appearance(id, vec![6.0], true).0, Continuity::Same);
        assert!(!t.recheck_due(id, now));
        assert!(!t.in_doubt(id));
        assert_eq!(
            t.follow_appearance(id, vec![9.0], false).0,
            Continuity::Doubtful
        );
        let (c, new) = t.follow_appearance(id, vec![9.5], false);
        assert_eq!(c, Continuity::SomeoneElse);
        assert_ne!(new, id);
        assert!(t.track(id).is_none(), "the old person's track ends");
        assert!(t.is_pending(new), "the newcomer is judged afresh");
        assert!(!t.has_candidate(new), "with nobody's votes");
        assert_eq!(t.appearance(new), [vec![9.5]], "by their own looks");
        assert_eq!(
            t.update(&[face(105.0)], now + Duration::from_millis(40)),
            vec![new],
            "the face goes on under the new track"
        );
    }

    #[test]
    fn two_faces_in_one_frame_get_their_own_tracks() {
        let mut t = FaceTracker::new(TrackerSettings::default());
        let ids = t.update(&[face(100.0), face(300.0)], Instant::now());
        assert_ne!(ids[0], ids[1]);
        assert_eq!(t.tracks().len(), 2);
    }

    #[test]
    fn a_face_gone_for_a_while_starts_a_new_track() {
        let mut t = FaceTracker::new(TrackerSettings::default());
        let now = Instant::now();
        let a = t.update(&[face(100.0)], now);
        t.update(&[], now + Duration::from_millis(100));
        let b = t.update(&[face(100.0)], now + Duration::from_secs(2));
        assert_ne!(a, b);
    }
}
