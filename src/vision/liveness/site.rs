//! Adapting the photo-attack check to a school's own camera.
//!
//! The shipped check learnt from other people in front of another webcam. At a school the
//! kiosk's camera has already seen real live faces — the frames of every student enrolled
//! at it — and an admin can show it a printed photo of a student for a few seconds. The
//! adapted check is trained on what the current one kept (its support vectors) plus these
//! frames, with the same RBF widths. Before it replaces anything, both are measured on the
//! site's frames: the current check as it is, the adapted one in two folds, so every frame
//! is judged by a check that did not learn from it (nor from its student or its recording,
//! when there are two or more of them).

use super::{Classifier, LivenessModel, Tradeoff, VisionError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Attack frames needed before the check can learn from a recording.
pub const MIN_ATTACK_FRAMES: usize = 8;

/// One frame seen by the site's camera.
#[derive(Clone, Debug)]
pub struct SiteFrame {
    /// Who or what it belongs to (a student's live frames, one recording's attack frames):
    /// frames of one group are judged together.
    pub group: String,
    pub features: Vec<f32>,
    /// The student's reference (their camera enrolment, without this frame).
    pub reference: Option<Vec<f32>>,
}

/// The site's live and attack frames.
#[derive(Clone, Debug, Default)]
pub struct SiteFrames {
    pub live: Vec<SiteFrame>,
    pub attacks: Vec<SiteFrame>,
}

/// The mean of some feature vectors (`None` when there are none).
pub fn mean_of<'a>(rows: impl Iterator<Item = &'a Vec<f32>>) -> Option<Vec<f32>> {
    let mut sum: Option<Vec<f32>> = None;
    let mut n = 0usize;
    for r in rows {
        let s = sum.get_or_insert_with(|| vec![0.0; r.len()]);
        s.iter_mut().zip(r).for_each(|(s, v)| *s += v);
        n += 1;
    }
    sum.map(|s| s.into_iter().map(|v| v / n as f32).collect())
}

impl SiteFrames {
    /// A student's camera enrolment frames as live frames; each one's reference is the
    /// mean of the student's other frames (a student with one frame has none).
    pub fn add_enrolment(&mut self, student: i64, frames: &[Vec<f32>]) {
        for (i, f) in frames.iter().enumerate() {
            let others = frames.iter().enumerate().filter(|(j, _)| *j != i);
            self.live.push(SiteFrame {
                group: format!("student {student}"),
                features: f.clone(),
                reference: mean_of(others.map(|(_, r)| r)),
            });
        }
    }

    /// A recorded attack (frames in time order) on a student with this reference.
    pub fn add_recording(
        &mut self,
        recording: i64,
        frames: &[Vec<f32>],
        reference: Option<&[f32]>,
    ) {
        self.attacks.extend(frames.iter().map(|f| SiteFrame {
            group: format!("recording {recording}"),
            features: f.clone(),
            reference: reference.map(<[f32]>::to_vec),
        }));
    }

    fn groups(frames: &[SiteFrame]) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in frames {
            if !out.contains(&f.group.as_str()) {
                out.push(&f.group);
            }
        }
        out
    }
}

/// Why the check cannot be adapted yet, worded for the admin.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(
        "Record a printed photo first: the check needs to see what a photo looks like to this camera (at least {MIN_ATTACK_FRAMES} frames)."
    )]
    NoAttack,
    #[error(
        "Enrol a student at the kiosk's camera first (two photos or more): their enrolment frames are the live faces the check learns from."
    )]
    NoLive,
    #[error("The check could not be adapted: {0}")]
    Vision(#[from] VisionError),
}

/// How a check fares on the site's frames at one threshold.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SiteRates {
    pub live_frames: usize,
    pub live_refused: usize,
    pub attack_frames: usize,
    pub attacks_let_in: usize,
    /// Runs of consecutive frames of one recording, judged on their mean as the kiosk
    /// judges a face.
    pub attempts: usize,
    pub attempts_let_in: usize,
}

impl SiteRates {
    /// Share of attack frames let in.
    pub fn apcer(&self) -> f64 {
        self.attacks_let_in as f64 / self.attack_frames.max(1) as f64
    }

    /// Share of live frames refused.
    pub fn bpcer(&self) -> f64 {
        self.live_refused as f64 / self.live_frames.max(1) as f64
    }

    /// One sentence for the admin.
    pub fn describe(&self) -> String {
        format!(
            "photos let in {:.1} % ({} of {} frames; {} of {} attempts), live students refused {:.1} % ({} of {} frames)",
            self.apcer() * 100.0,
            self.attacks_let_in,
            self.attack_frames,
            self.attempts_let_in,
            self.attempts,
            self.bpcer() * 100.0,
            self.live_refused,
            self.live_frames
        )
    }
}

/// How a model was adapted to a site, kept in its training record.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SiteRecord {
    pub adapted_at: String,
    /// The folder of the model it was adapted from.
    pub base_dir: String,
    pub students: usize,
    pub recordings: usize,
    pub live_frames: usize,
    pub attack_frames: usize,
    /// The threshold the figures are measured at.
    pub threshold: f32,
    /// The model it was adapted from, on the site's frames.
    pub before: SiteRates,
    /// The adapted model, each frame judged by one that did not learn from it.
    pub after: SiteRates,
}

/// Scores of the site's frames, in the order of `SiteFrames`.
struct Scores {
    live: Vec<f32>,
    attacks: Vec<f32>,
}

impl Scores {
    fn rates(&self, site: &SiteFrames, threshold: f32, attempt_frames: usize) -> SiteRates {
        let mut attempts = 0;
        let mut attempts_let_in = 0;
        for group in SiteFrames::groups(&site.attacks) {
            let scores: Vec<f32> = site
                .attacks
                .iter()
                .zip(&self.attacks)
                .filter(|(f, _)| f.group == group)
                .map(|(_, s)| *s)
                .collect();
            for run in scores.chunks_exact(attempt_frames.max(1)) {
                attempts += 1;
                if run.iter().sum::<f32>() / run.len() as f32 > threshold {
                    attempts_let_in += 1;
                }
            }
        }
        SiteRates {
            live_frames: self.live.len(),
            live_refused: self.live.iter().filter(|s| **s <= threshold).count(),
            attack_frames: self.attacks.len(),
            attacks_let_in: self.attacks.iter().filter(|s| **s > threshold).count(),
            attempts,
            attempts_let_in,
        }
    }
}

/// Which of two folds each frame is in: alternate groups when there are two or more,
/// else the first and second half of the one group (in time order).
fn folds(frames: &[SiteFrame]) -> Vec<usize> {
    let groups = SiteFrames::groups(frames);
    if groups.len() >= 2 {
        frames
            .iter()
            .map(|f| groups.iter().position(|g| *g == f.group).unwrap_or(0) % 2)
            .collect()
    } else {
        let half = frames.len() / 2;
        (0..frames.len()).map(|i| usize::from(i >= half)).collect()
    }
}

impl LivenessModel {
    fn score_frame(&self, f: &SiteFrame) -> Result<f32, VisionError> {
        self.score_features(&f.features, f.reference.as_deref())
    }

    fn scores<'a>(
        &self,
        frames: impl Iterator<Item = &'a SiteFrame>,
    ) -> Result<Vec<f32>, VisionError> {
        frames.map(|f| self.score_frame(f)).collect()
    }

    /// This model retrained on what it kept plus the site's frames, with its RBF widths.
    fn retrained<'a>(
        &self,
        live: impl Iterator<Item = &'a SiteFrame> + Clone,
        attacks: impl Iterator<Item = &'a SiteFrame> + Clone,
    ) -> Result<LivenessModel, VisionError> {
        let client_rows = |frames: &mut dyn Iterator<Item = &'a SiteFrame>| -> Vec<Vec<f32>> {
            frames
                .filter_map(|f| {
                    f.reference
                        .as_ref()
                        .map(|r| super::client_row(&f.features, r))
                })
                .collect()
        };
        let (mut generic_live, mut generic_spoof) = self.generic.support_rows()?;
        generic_live.extend(live.clone().map(|f| f.features.clone()));
        generic_spoof.extend(attacks.clone().map(|f| f.features.clone()));
        let (mut client_live, mut client_spoof) = self.client.support_rows()?;
        client_live.extend(client_rows(&mut live.clone()));
        client_spoof.extend(client_rows(&mut attacks.clone()));
        let (generic, generic_record) = Classifier::train(
            &generic_live,
            &generic_spoof,
            Some(self.record.generic.gamma),
        )?;
        let (client, client_record) =
            Classifier::train(&client_live, &client_spoof, Some(self.record.client.gamma))?;
        // The generic model keeps the current check's operating point: a site's few
        // students are too few to choose one by leaving each out.
        let record = super::TrainingRecord {
            generic: generic_record,
            client: client_record,
            ..self.record.clone()
        };
        Ok(LivenessModel {
            generic,
            client,
            record,
        })
    }

    /// How this model fares on the site's frames at `threshold`.
    pub fn measure(
        &self,
        site: &SiteFrames,
        threshold: f32,
        attempt_frames: usize,
    ) -> Result<SiteRates, VisionError> {
        let scores = Scores {
            live: self.scores(site.live.iter())?,
            attacks: self.scores(site.attacks.iter())?,
        };
        Ok(scores.rates(site, threshold, attempt_frames))
    }

    /// A model adapted to the site's camera, with how it and this one fare there at
    /// `threshold` (in its record's `site`; `before` is this model's figures). `base_dir`
    /// is this model's folder, kept so the admin can return to it; `attempt_frames` is how
    /// many frames the kiosk judges a face on.
    pub fn adapt(
        &self,
        site: &SiteFrames,
        base_dir: &Path,
        threshold: f32,
        attempt_frames: usize,
    ) -> Result<LivenessModel, SiteError> {
        if site.attacks.len() < MIN_ATTACK_FRAMES {
            return Err(SiteError::NoAttack);
        }
        if site.live.iter().all(|f| f.reference.is_none()) {
            return Err(SiteError::NoLive);
        }
        let (live_fold, attack_fold) = (folds(&site.live), folds(&site.attacks));
        let mut after = Scores {
            live: vec![0.0; site.live.len()],
            attacks: vec![0.0; site.attacks.len()],
        };
        for k in 0..2 {
            let trained = self.retrained(
                site.live
                    .iter()
                    .zip(&live_fold)
                    .filter(|(_, f)| **f != k)
                    .map(|(x, _)| x),
                site.attacks
                    .iter()
                    .zip(&attack_fold)
                    .filter(|(_, f)| **f != k)
                    .map(|(x, _)| x),
            )?;
            for (i, f) in site.live.iter().enumerate() {
                if live_fold[i] == k {
                    after.live[i] = trained.score_frame(f)?;
                }
            }
            for (i, f) in site.attacks.iter().enumerate() {
                if attack_fold[i] == k {
                    after.attacks[i] = trained.score_frame(f)?;
                }
            }
        }
        let mut adapted = self.retrained(site.live.iter(), site.attacks.iter())?;
        adapted.record.trained_at = chrono::Utc::now().to_rfc3339();
        adapted.record.tradeoff = Tradeoff::over_thresholds(&after.live, &after.attacks);
        adapted.record.site = Some(SiteRecord {
            adapted_at: adapted.record.trained_at.clone(),
            base_dir: base_dir.to_string_lossy().into_owned(),
            students: SiteFrames::groups(&site.live).len(),
            recordings: SiteFrames::groups(&site.attacks).len(),
            live_frames: site.live.len(),
            attack_frames: site.attacks.len(),
            threshold,
            before: self.measure(site, threshold, attempt_frames)?,
            after: after.rates(site, threshold, attempt_frames),
        });
        Ok(adapted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(group: &str) -> SiteFrame {
        SiteFrame {
            group: group.into(),
            features: vec![0.0],
            reference: None,
        }
    }

    #[test]
    fn folds_alternate_groups_or_halve_a_single_one() {
        let two = [frame("a"), frame("b"), frame("a"), frame("b")];
        assert_eq!(folds(&two), vec![0, 1, 0, 1]);
        let one = [frame("a"), frame("a"), frame("a"), frame("a"), frame("a")];
        assert_eq!(folds(&one), vec![0, 0, 1, 1, 1]);
    }

    #[test]
    fn each_enrolment_frame_is_compared_with_the_others() {
        let mut site = SiteFrames::default();
        site.add_enrolment(7, &[vec![1.0, 0.0], vec![0.0, 1.0], vec![0.0, 0.0]]);
        assert_eq!(site.live[0].reference, Some(vec![0.0, 0.5]));
        assert_eq!(site.live[2].reference, Some(vec![0.5, 0.5]));
        let mut alone = SiteFrames::default();
        alone.add_enrolment(8, &[vec![1.0]]);
        assert_eq!(alone.live[0].reference, None, "nothing to compare with");
    }

    #[test]
    fn attempts_are_judged_on_their_mean() {
        let mut site = SiteFrames::default();
        site.add_recording(1, &vec![vec![0.0]; 9], None);
        let scores = Scores {
            live: vec![0.5, -0.5],
            // Two runs of four (the ninth frame makes no run): one mean above 0.
            attacks: vec![1.0, 1.0, -0.5, -0.5, -1.0, 0.5, -0.5, -0.5, 3.0],
        };
        let r = scores.rates(&site, 0.0, 4);
        assert_eq!((r.attempts, r.attempts_let_in), (2, 1));
        assert_eq!((r.attack_frames, r.attacks_let_in), (9, 4));
        assert_eq!((r.live_frames, r.live_refused), (2, 1));
    }
}
