//! Admin → Door settings: what the door's screen shows and plays, and its camera. Saved in
//! settings.toml and used at once; who is recognised is not set here.

use super::camera_chooser::CameraChooser;
use super::files::{Ask, FileChooser};
use super::widgets::{field, note, ERROR, OK};
use crate::camera::SourceSpec;
use crate::kiosk::admin::{AdminClient, Answer, DoorForm};
use crate::kiosk::{CameraStatus, CaptureCommand, DoorSource, Kiosk};
use crate::settings::KioskSettings;
use egui::{Color32, RichText};
use std::time::{Duration, Instant};

/// The door settings screen.
#[derive(Default)]
pub struct DoorSettingsView {
    form: Option<DoorForm>,
    /// The form as saved when it was last loaded or saved: Save writes only what the
    /// admin changed from it.
    loaded: Option<DoorForm>,
    verdict_secs: String,
    cooldown_secs: String,
    /// Loading the settings (`false`) or saving them (`true`).
    asked: Option<(Answer<DoorForm>, bool)>,
    /// When the saved settings were last asked for, to show what another program saved
    /// (a hand edit, a second kiosk's admin) while the form is untouched.
    looked: Option<Instant>,
    message: Option<(String, Color32)>,
    pub camera: CameraChooser,
    /// A video file or a folder of images played instead of a camera.
    recording: FileChooser,
    /// Whether the students in the recording chosen are marked present; unticked, it is
    /// a try-out.
    recording_marks: bool,
}

/// How often the saved settings are looked at again while the screen shows them.
const LOOK_AGAIN: Duration = Duration::from_secs(2);

/// The camera in use, as the screen names it.
fn camera_in_use(status: &CameraStatus) -> String {
    match status {
        CameraStatus::Starting => "starting…".into(),
        CameraStatus::Live(name) => name.to_string(),
        CameraStatus::Dark(name) => format!("{name} (its picture is dark)"),
        CameraStatus::Stuck(name) => format!("{name} (it sends no picture)"),
        CameraStatus::Reconnecting(name) => format!("{name} (reconnecting)"),
        CameraStatus::Unavailable { .. } => "none: the camera could not be opened".into(),
        CameraStatus::Ended => "none: the recording has ended".into(),
    }
}

/// Whether the door plays a recording (or did, until it ended or could not be played)
/// rather than a camera.
fn plays_a_recording(status: &CameraStatus) -> bool {
    match status {
        CameraStatus::Live(s) | CameraStatus::Dark(s) | CameraStatus::Stuck(s) => s.recording,
        CameraStatus::Ended => true,
        CameraStatus::Unavailable { camera, .. } => !camera,
        CameraStatus::Starting | CameraStatus::Reconnecting(_) => false,
    }
}

impl DoorSettingsView {
    /// Closes the recording's file dialog (the admin screens are locked), and unticks
    /// the marking of a recording: the next admin's recording is a try-out unless they
    /// tick it themselves.
    pub fn close_windows(&mut self) {
        self.recording.forget();
        self.recording_marks = false;
    }

    /// Asks for the saved settings (when the screen is opened).
    pub fn load(&mut self, admin: &AdminClient) {
        self.form = None;
        self.message = None;
        self.look(admin);
    }

    fn look(&mut self, admin: &AdminClient) {
        self.asked = Some((admin.door_settings(), false));
        self.looked = Some(Instant::now());
    }

    /// Whether the form shows the settings as loaded (nothing typed or ticked since).
    fn untouched(&self) -> bool {
        match (&self.form, &self.loaded) {
            (Some(form), Some(loaded)) => {
                form == loaded
                    && self.verdict_secs == loaded.verdict_secs.to_string()
                    && self.cooldown_secs == loaded.cooldown_secs.to_string()
            }
            _ => false,
        }
    }

    /// Takes the answer that came, putting saved settings to use on the door's screen.
    fn take_answer(&mut self, door: &mut KioskSettings) {
        let Some((r, saving)) = self
            .asked
            .as_ref()
            .and_then(|(a, saving)| Some((a.poll()?, *saving)))
        else {
            return;
        };
        self.asked = None;
        // Settings looked up again once the admin started typing are not put over it.
        if !saving && self.form.is_some() && !self.untouched() {
            return;
        }
        match r.unwrap_or_else(|lost| Err(lost.to_string())) {
            Ok(form) => {
                if saving {
                    form.apply_to(door);
                    self.message =
                        Some(("Door settings saved: the door uses them now.".into(), OK));
                }
                self.verdict_secs = form.verdict_secs.to_string();
                self.cooldown_secs = form.cooldown_secs.to_string();
                self.loaded = Some(form.clone());
                self.form = Some(form);
            }
            Err(e) => self.message = Some((e, ERROR)),
        }
    }

    /// The form as typed, or why it cannot be used.
    fn typed(&self) -> Result<DoorForm, String> {
        let mut form = self.form.clone().ok_or("The settings are still loading.")?;
        let seconds = |typed: &str, what: &str| {
            typed
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{what} is a number of seconds, such as 5."))
        };
        form.verdict_secs = seconds(&self.verdict_secs, "How long a verdict stays")?;
        form.cooldown_secs = seconds(&self.cooldown_secs, "The quiet repeat")?;
        match form.problem() {
            Some(problem) => Err(problem),
            None => Ok(form),
        }
    }

    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        kiosk: &Kiosk,
        camera: &CameraStatus,
        door: &mut KioskSettings,
    ) {
        self.take_answer(door);
        if self.form.is_none() && self.asked.is_none() {
            self.load(&kiosk.admin);
        }
        // What another program saves meanwhile shows while the form is untouched.
        if self.asked.is_none()
            && self.untouched()
            && self.looked.is_none_or(|at| at.elapsed() >= LOOK_AGAIN)
        {
            self.look(&kiosk.admin);
        }
        ui.ctx().request_repaint_after(LOOK_AGAIN);
        let Some(form) = self.form.as_mut() else {
            ui.spinner();
            return;
        };
        ui.heading("Door settings");
        ui.label(
            RichText::new(
                "What the door's screen shows and plays. Saved on this computer and used at \
                 once. Who is recognised is not set here.",
            )
            .weak(),
        );
        ui.add_space(6.0);
        field(ui, "Room name", &mut form.room_name, false);
        note(ui, "Shown at the top of the door's screen.");
        field(ui, "Verdict shown", &mut self.verdict_secs, false);
        note(
            ui,
            "Seconds a verdict stays on screen after the person leaves the picture.",
        );
        field(ui, "Quiet repeat", &mut self.cooldown_secs, false);
        note(
            ui,
            "Seconds during which a student back at the door sees their greeting again, \
             without a sound; after that they are told they are already marked. 0: told \
             each time.",
        );
        ui.checkbox(&mut form.mirror, "Show the picture as a mirror");
        ui.checkbox(&mut form.sound, "Play a sound with each verdict");
        ui.label(
            RichText::new(if form.starts_at_login {
                "Rollcall starts full screen by itself when this computer's account logs in \
                 (`rollcall autostart off` at this computer stops it)."
            } else {
                "Rollcall does not start by itself. For a door that comes back after a power \
                 cut or a restart, run `rollcall autostart on` at this computer, and set it to \
                 log its account in by itself."
            })
            .weak(),
        );
        ui.add_space(6.0);
        let busy = matches!(self.asked, Some((_, true)));
        if ui
            .add_enabled(!busy, egui::Button::new("Save door settings"))
            .clicked()
        {
            match self.typed() {
                Ok(form) => {
                    self.message = None;
                    let loaded = self.loaded.clone().unwrap_or_else(|| form.clone());
                    self.asked = Some((kiosk.admin.save_door_settings(loaded, form), true));
                }
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        if let Some((m, colour)) = &self.message {
            ui.label(RichText::new(m).color(*colour));
        }
        ui.separator();
        ui.label(RichText::new("Camera").strong());
        ui.label(format!("In use: {}", camera_in_use(camera)));
        self.camera.show(ui, kiosk, door);
        ui.add_space(6.0);
        ui.label(
            RichText::new(
                "Or play a recording instead of a camera, to try Rollcall out or check it on \
                 a recording of the door (the camera is used again at the next start):",
            )
            .weak(),
        );
        ui.checkbox(
            &mut self.recording_marks,
            "Mark the students in it present, as at the camera",
        )
        .on_hover_text(
            "Unticked, the recording is a try-out: the door shows whom it recognises and \
             marks nobody.",
        );
        ui.horizontal(|ui| {
            if ui.button("Open a video file…").clicked() {
                self.recording.open(Ask::Video);
            }
            if ui.button("Open a folder of images…").clicked() {
                self.recording.open(Ask::Folder);
            }
        });
        if plays_a_recording(camera) && ui.button("Use the door's camera again").clicked() {
            kiosk.command(CaptureCommand::Switch(
                SourceSpec::webcam(&door.camera, door).into(),
            ));
        }
        if let Some(p) = &self.recording.problem {
            ui.label(RichText::new(p).color(ERROR));
        }
        if let Some((_, paths)) = self.recording.show(ui.ctx()) {
            if let Some(path) = paths.into_iter().next() {
                kiosk.command(CaptureCommand::Switch(DoorSource {
                    spec: SourceSpec::from_path(path, None, true),
                    try_out: !self.recording_marks,
                }));
            }
        }
    }
}
