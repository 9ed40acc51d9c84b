//! The admin worker's side of the photo-attack check: its strictness, recordings of printed
//! photos held up to the camera, and adapting the check to this camera.

use super::worker::Desk;
use super::{AttackCheck, Outcome, TaskReply};
use crate::kiosk::latest::NewestFrame;
use crate::kiosk::vision_worker::DoorNotice;
use crate::settings::Settings;
use crate::vision::liveness::site::{mean_of, SiteFrames, SiteRecord, MIN_ATTACK_FRAMES};
use crate::vision::liveness::{
    default_liveness_dir, model_dir, LivenessChange, LivenessModel, TrainingRecord, FEATURES,
};
use crate::wording::count;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Frames a recording of a printed photo aims for.
pub const RECORDING_FRAMES: usize = 40;
/// A recording stops after this long even with fewer frames.
const RECORDING_TIME: Duration = Duration::from_secs(8);
/// Live frames the adaptation learns from at most (spread over the students).
const MAX_LIVE_FRAMES: usize = 400;

impl Desk {
    /// Takes in the photo-attack choices another program changed in the settings file
    /// from `before` to `saved`.
    pub(super) fn follow_liveness_choices(&mut self, before: &Settings, saved: &Settings) {
        let change = LivenessChange::between(&before.liveness, &saved.liveness);
        if let Some(threshold) = change.threshold {
            self.settings.liveness.threshold = threshold;
        }
        if let Some(dir) = change.model_dir {
            self.settings.liveness.model_dir = saved.liveness.model_dir.clone();
            if self.settings.liveness.enabled {
                if let (Some(Ok(r)), Ok(model)) =
                    (self.recognizer.as_mut(), LivenessModel::load(&dir))
                {
                    r.replace_liveness(Some(model));
                }
            }
        }
    }

    pub(super) fn attack_check(&self) -> Result<AttackCheck, String> {
        let s = &self.settings.liveness;
        let record = TrainingRecord::read(&model_dir(s)).map_err(|e| e.to_string())?;
        let date = record.trained_at.get(..10).unwrap_or(&record.trained_at);
        let trained_on = match &record.site {
            Some(site) => format!(
                "Adapted to this camera on {date} from {} of {} and {} of {}; first trained on {} people.",
                count(site.live_frames, "live frame"),
                count(site.students, "student"),
                count(site.attack_frames, "frame"),
                count(site.recordings, "printed photo"),
                record.people.len()
            ),
            None => format!(
                "Its model learnt from {} people ({} live and {} photo frames) on {date}.",
                record.people.len(),
                record.live_frames,
                record.spoof_frames
            ),
        };
        Ok(AttackCheck {
            enabled: s.enabled,
            threshold: s.threshold,
            trained_on,
            tradeoff: record.tradeoff,
            adapted: record.site,
        })
    }

    pub(super) fn set_strictness(&mut self, threshold: f32) -> Result<AttackCheck, String> {
        // Saved as written on screen (0.1, not 0.10000000149).
        let value = (f64::from(threshold) * 100.0).round() / 100.0;
        let saved = Settings::set_in_file(
            &self.settings_file,
            "liveness",
            "threshold",
            toml::Value::Float(value),
        )
        .map_err(|e| format!("The strictness could not be saved: {e}"))?;
        self.settings_saved.known();
        self.settings.liveness.threshold = saved.liveness.threshold;
        let _ = self
            .door
            .send(DoorNotice::LivenessThreshold(saved.liveness.threshold));
        self.attack_check()
    }

    /// Keeps the texture of a printed photo of `student` held up to the camera: up to
    /// `RECORDING_FRAMES` camera frames showing exactly one face.
    pub(super) fn record_attack(
        &mut self,
        student: i64,
        frame: &NewestFrame,
        reply: TaskReply<Outcome>,
    ) {
        let r = self.record(student, frame, &reply);
        reply.send(r)
    }

    fn record(&mut self, student: i64, frame: &NewestFrame, reply: &TaskReply<Outcome>) -> Outcome {
        let name = self
            .records()?
            .store()
            .students()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|s| s.id == student)
            .map(|s| s.name)
            .ok_or("This student is no longer enrolled.")?;
        let recognizer = self.recognizer()?;
        let (mut kept, mut crowded, mut seen) = (Vec::new(), 0usize, 0usize);
        let mut last: Option<Arc<opencv::core::Mat>> = None;
        let until = Instant::now() + RECORDING_TIME;
        reply.progress(0, RECORDING_FRAMES);
        while kept.len() < RECORDING_FRAMES && Instant::now() < until {
            let image = match frame.get() {
                Some(i) if !last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &i)) => i,
                _ => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            last = Some(image.clone());
            seen += 1;
            let faces = recognizer.detect(&image).map_err(|e| e.to_string())?;
            match faces.as_slice() {
                [face] => kept.push(
                    recognizer
                        .reference_features(&image, face)
                        .map_err(|e| e.to_string())?,
                ),
                [] => {}
                _ => crowded += 1,
            }
            reply.progress(kept.len(), RECORDING_FRAMES);
        }
        if seen == 0 {
            return Err("There is no camera picture to record.".into());
        }
        if kept.len() < MIN_ATTACK_FRAMES {
            let why = if crowded > kept.len() {
                "more than one face was in the picture: keep your own face out of view"
            } else {
                "no face was found in the others: hold the photo closer, facing the camera"
            };
            return Err(format!(
                "Only {} of {seen} camera frames showed the photo ({why}). Nothing was kept; try again.",
                kept.len()
            ));
        }
        self.records()?
            .store_mut()
            .add_attack_recording(student, &kept, "admin")
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "Recorded {} of {name}'s printed photo.",
            count(kept.len(), "frame")
        ))
    }

    pub(super) fn forget_recordings(&mut self) -> Outcome {
        let n = self
            .records()?
            .store_mut()
            .forget_attack_recordings("admin")
            .map_err(|e| e.to_string())?;
        self.adapted = None;
        Ok(format!(
            "Forgot {} of printed photos.",
            count(n, "recording")
        ))
    }

    /// The site's frames: students' camera enrolments (live) and the recordings (attacks).
    fn site_frames(&mut self) -> Result<SiteFrames, String> {
        let store = self.records()?.store();
        let mut camera: BTreeMap<i64, Vec<Vec<f32>>> = BTreeMap::new();
        for t in store
            .templates_of_model(FEATURES)
            .map_err(|e| e.to_string())?
        {
            if t.origin == "camera" {
                camera.entry(t.student_id).or_default().push(t.vector);
            }
        }
        let mut site = SiteFrames::default();
        for (id, frames) in &camera {
            site.add_enrolment(*id, frames);
        }
        // Many students: every k-th, so the frames stay spread over the school.
        if site.live.len() > MAX_LIVE_FRAMES {
            let step = site.live.len().div_ceil(MAX_LIVE_FRAMES);
            site.live = site.live.into_iter().step_by(step).collect();
        }
        for rec in store.attack_recordings().map_err(|e| e.to_string())? {
            let frames = store.attack_frames(rec.id).map_err(|e| e.to_string())?;
            let reference = camera.get(&rec.student_id).and_then(|v| mean_of(v.iter()));
            site.add_recording(rec.id, &frames, reference.as_deref());
        }
        Ok(site)
    }

    /// The folder of the check the current one was adapted from (or the current one's).
    fn base_dir(&self) -> PathBuf {
        let current = model_dir(&self.settings.liveness);
        match TrainingRecord::read(&current).ok().and_then(|r| r.site) {
            Some(site) => PathBuf::from(site.base_dir),
            None => current,
        }
    }

    pub(super) fn adapt_check(&mut self) -> Result<SiteRecord, String> {
        let site = self.site_frames()?;
        let base_dir = self.base_dir();
        let base = LivenessModel::load(&base_dir).map_err(|e| e.to_string())?;
        let s = &self.settings.liveness;
        let mut adapted = base
            .adapt(&site, &base_dir, s.threshold, s.min_frames)
            .map_err(|e| e.to_string())?;
        // "Before" is the check in use, which may itself be an earlier adaptation.
        let current = model_dir(s);
        if current != base_dir {
            let in_use = LivenessModel::load(&current).map_err(|e| e.to_string())?;
            let before = in_use
                .measure(&site, s.threshold, s.min_frames)
                .map_err(|e| e.to_string())?;
            if let Some(record) = adapted.record.site.as_mut() {
                record.before = before;
            }
        }
        let record = adapted.record.site.clone().unwrap_or_default();
        self.adapted = Some(adapted);
        Ok(record)
    }

    pub(super) fn use_adapted_check(&mut self) -> Result<AttackCheck, String> {
        let Some(mut model) = self.adapted.take() else {
            return Err("Try adapting the check first.".into());
        };
        let dir = self.site_check_dir.clone();
        let fresh = dir.with_extension("new");
        let _ = std::fs::remove_dir_all(&fresh);
        model.save(&fresh).map_err(|e| {
            format!(
                "The adapted check could not be saved in {}: {e}",
                fresh.display()
            )
        })?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| {
                format!(
                    "The old adapted check in {} could not be replaced: {e}",
                    dir.display()
                )
            })?;
        }
        std::fs::rename(&fresh, &dir).map_err(|e| {
            format!(
                "The adapted check could not be put in {}: {e}",
                dir.display()
            )
        })?;
        self.choose_model(&dir)
    }

    pub(super) fn return_to_base_check(&mut self) -> Result<AttackCheck, String> {
        let base = self.base_dir();
        self.choose_model(&base)
    }

    /// Makes the check in `dir` the one the door and settings.toml use.
    fn choose_model(&mut self, dir: &Path) -> Result<AttackCheck, String> {
        let loaded = LivenessModel::load(dir).map_err(|e| e.to_string())?;
        // Inside the data folder the path is saved relative to it, so the folder can move.
        let data_folder = self.settings_file.parent().unwrap_or(Path::new(""));
        let value = if dir == default_liveness_dir() {
            String::new()
        } else {
            dir.strip_prefix(data_folder)
                .unwrap_or(dir)
                .to_string_lossy()
                .into_owned()
        };
        let saved = Settings::set_in_file(
            &self.settings_file,
            "liveness",
            "model_dir",
            toml::Value::String(value),
        )
        .map_err(|e| format!("The choice could not be saved: {e}"))?;
        self.settings_saved.known();
        self.settings.liveness.model_dir = saved.liveness.model_dir;
        if self.settings.liveness.enabled {
            if let Some(Ok(r)) = self.recognizer.as_mut() {
                r.replace_liveness(Some(loaded));
            }
            let _ = self.door.send(DoorNotice::LivenessModel(dir.to_path_buf()));
        }
        self.attack_check()
    }
}
