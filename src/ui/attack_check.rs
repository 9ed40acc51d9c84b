//! The photo-attack check on the Students screen: how strict it is (with what each choice
//! costs), and teaching it this camera — record a student's printed photo, try a check
//! adapted to this camera against the current one, then use it or keep the current one.

use super::widgets::{ERROR, OK, WARN};
use crate::kiosk::admin::{AdminClient, Answer, AttackCheck, Outcome, Pending, Task};
use crate::store::AttackRecording;
use crate::vision::liveness::site::SiteRecord;
use crate::wording::count;
use egui::{Color32, RichText};

/// The section's state: what it asked the admin worker and what came back.
#[derive(Default)]
pub struct AttackCheckView {
    check: Option<Result<AttackCheck, String>>,
    /// A strictness the admin chose, on its way (the section waits for it).
    check_req: Option<Answer<AttackCheck>>,
    /// The check asked for again when the screen loads (nothing waits for it).
    refresh_req: Option<Answer<AttackCheck>>,
    recordings: Vec<AttackRecording>,
    recordings_req: Option<Answer<Vec<AttackRecording>>>,
    recording: Option<(String, Task<Outcome>)>,
    forgetting: Option<Pending<Outcome>>,
    adapting: Option<Answer<SiteRecord>>,
    /// Putting the adapted check in place, or returning from it: (what it will say, answer).
    choosing: Option<(String, Answer<AttackCheck>)>,
    /// An adapted check waiting for the admin's word.
    proposal: Option<SiteRecord>,
    message: Option<(String, Color32)>,
}

impl AttackCheckView {
    /// Asks for the check and the recordings again, unless they are on their way (another
    /// kiosk on the same data folder may have changed the check since). The buttons stay
    /// as they are meanwhile: the admin worker answers in order, so a strictness chosen
    /// after this is answered after it too.
    pub fn load(&mut self, admin: &AdminClient) {
        if self.refresh_req.is_none() {
            self.refresh_req = Some(admin.attack_check());
            self.recordings_req = Some(admin.attack_recordings());
        }
    }

    fn say(&mut self, r: Result<String, String>) {
        self.message = Some(match r {
            Ok(m) => (m, OK),
            Err(m) => (m, ERROR),
        });
    }

    /// Takes the answers that came.
    pub fn take_answers(&mut self, admin: &AdminClient) {
        if let Some(r) = self.refresh_req.as_ref().and_then(Pending::poll) {
            self.refresh_req = None;
            self.check = Some(r.unwrap_or_else(|lost| Err(lost.to_string())));
        }
        if let Some(r) = self.check_req.as_ref().and_then(Pending::poll) {
            self.check_req = None;
            self.check = Some(r.unwrap_or_else(|lost| Err(lost.to_string())));
        }
        if let Some(r) = self.recordings_req.as_ref().and_then(Pending::poll) {
            self.recordings_req = None;
            match r {
                Ok(Ok(v)) => self.recordings = v,
                Ok(Err(e)) => self.say(Err(e)),
                Err(lost) => self.say(Err(lost.to_string())),
            }
        }
        let recorded = self.recording.as_ref().and_then(|(_, t)| t.poll());
        let forgotten = self.forgetting.as_ref().and_then(Pending::poll);
        for r in [recorded, forgotten].into_iter().flatten() {
            self.recording = None;
            self.forgetting = None;
            self.proposal = None;
            self.say(r.unwrap_or_else(|lost| Err(lost.to_string())));
            self.recordings_req = Some(admin.attack_recordings());
        }
        if let Some(r) = self.choosing.as_ref().and_then(|(_, p)| p.poll()) {
            let done = self.choosing.take().map(|(m, _)| m).unwrap_or_default();
            match r {
                // The check in use changed: its description and strictness list too.
                Ok(Ok(check)) => {
                    self.check = Some(Ok(check));
                    self.say(Ok(done));
                }
                Ok(Err(e)) => self.say(Err(e)),
                Err(lost) => self.say(Err(lost.to_string())),
            }
        }
        if let Some(r) = self.adapting.as_ref().and_then(Pending::poll) {
            self.adapting = None;
            match r {
                Ok(Ok(site)) => {
                    self.message = None;
                    self.proposal = Some(site);
                }
                Ok(Err(e)) => self.say(Err(e)),
                Err(lost) => self.say(Err(lost.to_string())),
            }
        }
    }

    /// The section. `selected` is the student opened in the list (id, name), whose printed
    /// photo can be recorded.
    pub fn ui(&mut self, ui: &mut egui::Ui, admin: &AdminClient, selected: Option<(i64, &str)>) {
        let Some(check) = &self.check else {
            return;
        };
        let check = match check {
            Ok(c) => c.clone(),
            Err(e) => {
                ui.label(RichText::new(format!("Photo-attack check: {e}")).color(WARN));
                return;
            }
        };
        if !check.enabled {
            ui.label(
                RichText::new(
                    "The photo-attack check is off: a printed photo of a student can mark them \
                     present. Turn it on with [liveness] enabled = true in settings.toml.",
                )
                .color(WARN),
            );
            return;
        }
        self.strictness(ui, admin, &check);
        ui.collapsing("Teach the check this camera", |ui| {
            self.teaching(ui, admin, &check, selected)
        });
    }

    fn strictness(&mut self, ui: &mut egui::Ui, admin: &AdminClient, check: &AttackCheck) {
        let mut chosen = None;
        // Beside an opened student the screen is narrow: the choice shrinks, its label wraps.
        ui.horizontal_wrapped(|ui| {
            let current = check
                .current()
                .map(AttackCheck::describe)
                .unwrap_or_else(|| format!("{:+.1}", check.threshold));
            egui::ComboBox::from_label("Photo-attack check strictness")
                .selected_text(current)
                .width(420.0_f32.min(ui.available_width() - 24.0).max(160.0))
                .show_ui(ui, |ui| {
                    for t in check.choices() {
                        let on = (t.threshold - check.threshold).abs() < 0.01;
                        if ui.selectable_label(on, AttackCheck::describe(t)).clicked() && !on {
                            chosen = Some(t.threshold);
                        }
                    }
                });
            if self.check_req.is_some() || self.choosing.is_some() {
                ui.spinner();
            }
        });
        let measured = if check.adapted.is_some() {
            "Figures per camera frame, measured on this camera's frames by a check that did not \
             learn from them (few frames: a rough guide)."
        } else {
            "Figures per camera frame, measured on people the check never saw."
        };
        ui.label(
            RichText::new(format!(
                "{measured} The kiosk judges the mean of several frames, so whole attempts fare \
                 better. {}",
                check.trained_on
            ))
            .weak()
            .small(),
        );
        if let Some(t) = chosen {
            self.check_req = Some(admin.set_strictness(t));
        }
    }

    fn teaching(
        &mut self,
        ui: &mut egui::Ui,
        admin: &AdminClient,
        check: &AttackCheck,
        selected: Option<(i64, &str)>,
    ) {
        ui.label(
            "The check first learnt from other people in front of another webcam. Show it \
             what a printed photo looks like to this camera: open a student who was enrolled \
             at the kiosk's camera, print one of their photos, hold it up to the camera (your \
             own face out of view) and record it for a few seconds. Then try the adapted \
             check: it is compared with the current one on this camera's frames before \
             anything changes.",
        );
        let busy = self.recording.is_some()
            || self.adapting.is_some()
            || self.choosing.is_some()
            || self.forgetting.is_some()
            || self.check_req.is_some();
        ui.horizontal(|ui| {
            let label = match selected {
                Some((_, name)) => format!("Record a printed photo of {name}"),
                None => "Record a printed photo (open a student first)".into(),
            };
            if ui
                .add_enabled(selected.is_some() && !busy, egui::Button::new(label))
                .clicked()
            {
                if let Some((id, name)) = selected {
                    self.message = None;
                    self.recording = Some((name.to_string(), admin.record_attack(id)));
                }
            }
            if let Some((name, task)) = &mut self.recording {
                let (done, total) = task.progress();
                ui.add(
                    egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                        .desired_width(220.0)
                        .text(format!("Recording {name}'s photo: {done} / {total} frames")),
                );
            }
        });
        if self.recordings.is_empty() {
            ui.label(RichText::new("No printed photo recorded yet.").weak());
        } else {
            let list: Vec<String> = self
                .recordings
                .iter()
                .map(|r| {
                    format!(
                        "{} ({}, {})",
                        r.student_name,
                        count(r.frames, "frame"),
                        r.recorded_at.get(..10).unwrap_or(&r.recorded_at)
                    )
                })
                .collect();
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("Recorded: {}.", list.join("; ")));
                if ui
                    .add_enabled(!busy, egui::Button::new("Forget the recordings").small())
                    .clicked()
                {
                    self.forgetting = Some(admin.forget_attack_recordings());
                }
            });
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    !busy && !self.recordings.is_empty(),
                    egui::Button::new("Try a check adapted to this camera"),
                )
                .clicked()
            {
                self.message = None;
                self.proposal = None;
                self.adapting = Some(admin.adapt_check());
            }
            if self.adapting.is_some() {
                ui.spinner();
                ui.label("Adapting and measuring…");
            }
        });
        if let Some(site) = self.proposal.clone() {
            proposal_ui(ui, &site);
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(!busy, egui::Button::new("Use the adapted check"))
                    .clicked()
                {
                    self.proposal = None;
                    self.message = None;
                    self.choosing = Some((
                        "The door now uses the adapted check.".into(),
                        admin.use_adapted_check(),
                    ));
                }
                if ui.button("Keep the current check").clicked() {
                    self.proposal = None;
                }
            });
        }
        if check.adapted.is_some()
            && ui
                .add_enabled(
                    !busy,
                    egui::Button::new("Return to the check Rollcall came with"),
                )
                .clicked()
        {
            self.message = None;
            self.choosing = Some((
                "The door now uses the check Rollcall came with.".into(),
                admin.return_to_base_check(),
            ));
        }
        if let Some((m, colour)) = &self.message {
            ui.label(RichText::new(m).color(*colour));
        }
    }
}

/// The current and the adapted check side by side, on this camera's frames.
fn proposal_ui(ui: &mut egui::Ui, site: &SiteRecord) {
    ui.label(
        RichText::new(format!(
            "On this camera's frames ({} of {}, {} of {}), at strictness {:+.1}:",
            count(site.live_frames, "live frame"),
            count(site.students, "student"),
            count(site.attack_frames, "frame"),
            count(site.recordings, "printed photo"),
            site.threshold
        ))
        .strong(),
    );
    ui.label(format!("Current check: {}.", site.before.describe()));
    ui.label(format!(
        "Adapted check (each frame judged by a check that did not learn from it): {}.",
        site.after.describe()
    ));
    let better =
        site.after.apcer() + site.after.bpcer() < site.before.apcer() + site.before.bpcer();
    let (text, colour) = if better {
        ("The adapted check makes fewer mistakes on this camera.", OK)
    } else {
        (
            "The adapted check is not better on these frames: keeping the current one is \
             advised. More students enrolled at the camera, or more recordings, may help.",
            WARN,
        )
    };
    ui.label(RichText::new(text).color(colour));
}
