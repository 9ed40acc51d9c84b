//! Admin → Door settings: the kiosk's own choices (the room's name, the mirror, the sound,
//! how long verdicts stay, when a returning student is greeted again, the camera), saved
//! in settings.toml and put to use at once.

use super::worker::Desk;
use super::Outcome;
use crate::kiosk::autostart::Autostart;
use crate::kiosk::vision_worker::DoorNotice;
use crate::settings::{KioskSettings, Settings};

/// The longest room name taken (the door's header cuts a long one short).
const ROOM_NAME_MAX: usize = 40;
/// The longest a verdict may stay on screen after its face left, in seconds.
const VERDICT_SECS_MAX: u64 = 60;
/// The longest a returning student may be greeted silently with the same words, in
/// seconds (an hour: longer, and a student back after a lesson would not hear "already
/// marked").
const COOLDOWN_SECS_MAX: u64 = 3600;

/// The door's settings an admin changes on the screen (the others, which decide who is
/// recognised, stay in settings.toml).
#[derive(Clone, Debug, PartialEq)]
pub struct DoorForm {
    pub room_name: String,
    pub mirror: bool,
    pub sound: bool,
    /// Seconds a verdict stays on screen after its face left.
    pub verdict_secs: u64,
    /// Seconds during which a student back at the door sees their greeting again, without
    /// a sound.
    pub cooldown_secs: u64,
    /// Whether the kiosk starts full screen when this account logs in (`rollcall
    /// autostart`); shown, not saved with the form.
    pub starts_at_login: bool,
}

impl DoorForm {
    /// The form for saved settings.
    pub fn of(k: &KioskSettings) -> DoorForm {
        DoorForm {
            room_name: k.room_name.clone(),
            mirror: k.mirror,
            sound: k.sound,
            verdict_secs: k.verdict_secs,
            cooldown_secs: k.cooldown_secs,
            starts_at_login: Autostart::for_this_account().is_ok_and(|a| a.is_on()),
        }
    }

    /// Puts the form's settings into `kiosk` (the others stay).
    pub fn apply_to(&self, kiosk: &mut KioskSettings) {
        kiosk.room_name = self.room_name.clone();
        kiosk.mirror = self.mirror;
        kiosk.sound = self.sound;
        kiosk.verdict_secs = self.verdict_secs;
        kiosk.cooldown_secs = self.cooldown_secs;
    }

    /// The settings `self` changes from `loaded` (the form as the admin found it), as
    /// settings.toml writes them: only those are saved, so a setting another program
    /// changed meanwhile (a second kiosk's admin, a hand edit) stays as it made it.
    fn changes_from(&self, loaded: &DoorForm) -> Vec<(String, toml::Value)> {
        let whole = |n: u64| toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        let room = self.room_name.trim();
        [
            (room != loaded.room_name.trim())
                .then(|| ("room_name", toml::Value::String(room.to_string()))),
            (self.mirror != loaded.mirror).then_some(("mirror", toml::Value::Boolean(self.mirror))),
            (self.sound != loaded.sound).then_some(("sound", toml::Value::Boolean(self.sound))),
            (self.verdict_secs != loaded.verdict_secs)
                .then(|| ("verdict_secs", whole(self.verdict_secs))),
            (self.cooldown_secs != loaded.cooldown_secs)
                .then(|| ("cooldown_secs", whole(self.cooldown_secs))),
        ]
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.to_string(), value))
        .collect()
    }

    /// Takes into `kiosk` the form's settings that changed in the file from `before` to
    /// `now` (another program's choices; a setting this process was given otherwise
    /// stays unless the file changes it).
    pub(super) fn follow(before: &KioskSettings, now: &KioskSettings, kiosk: &mut KioskSettings) {
        if before.room_name != now.room_name {
            kiosk.room_name = now.room_name.clone();
        }
        if before.mirror != now.mirror {
            kiosk.mirror = now.mirror;
        }
        if before.sound != now.sound {
            kiosk.sound = now.sound;
        }
        if before.verdict_secs != now.verdict_secs {
            kiosk.verdict_secs = now.verdict_secs;
        }
        if before.cooldown_secs != now.cooldown_secs {
            kiosk.cooldown_secs = now.cooldown_secs;
        }
    }

    /// What is wrong with the form, in the admin's words, if anything.
    pub fn problem(&self) -> Option<String> {
        let room = self.room_name.trim();
        if room.is_empty() {
            return Some(
                "Give the room a name: it is shown at the top of the door's screen.".into(),
            );
        }
        if room.chars().count() > ROOM_NAME_MAX {
            return Some(format!(
                "The room's name is too long: at most {ROOM_NAME_MAX} letters."
            ));
        }
        if !(1..=VERDICT_SECS_MAX).contains(&self.verdict_secs) {
            return Some(format!(
                "Verdicts stay on screen from 1 to {VERDICT_SECS_MAX} seconds."
            ));
        }
        if self.cooldown_secs > COOLDOWN_SECS_MAX {
            return Some(format!(
                "A student is greeted again silently for at most {COOLDOWN_SECS_MAX} seconds \
                 (an hour)."
            ));
        }
        None
    }
}

impl Desk {
    /// The door's settings as saved.
    pub(super) fn door_settings(&self) -> DoorForm {
        DoorForm::of(&self.settings.kiosk)
    }

    /// Saves what the admin changed from the form they `loaded`, and tells the door the
    /// settings it uses itself (the screen takes the others from the answer: the saved
    /// form, with whatever another program changed meanwhile).
    pub(super) fn save_door_settings(
        &mut self,
        loaded: &DoorForm,
        form: DoorForm,
    ) -> Result<DoorForm, String> {
        if let Some(problem) = form.problem() {
            return Err(problem);
        }
        let changes = form.changes_from(loaded);
        if changes.is_empty() {
            return Ok(self.door_settings());
        }
        let saved = Settings::set_many_in_file(&self.settings_file, "kiosk", changes)
            .map_err(|e| format!("The door's settings could not be saved: {e}"))?;
        self.settings_saved.known();
        let saved = DoorForm::of(&saved.kiosk);
        saved.apply_to(&mut self.settings.kiosk);
        let _ = self.door.send(DoorNotice::Sound(saved.sound));
        let _ = self.door.send(DoorNotice::Cooldown(saved.cooldown_secs));
        Ok(saved)
    }

    /// Keeps `[kiosk] camera` (a camera chosen on the screen, already in use) for the next
    /// start.
    pub(super) fn save_camera(&mut self, camera: String) -> Outcome {
        let saved = Settings::set_in_file(
            &self.settings_file,
            "kiosk",
            "camera",
            toml::Value::String(camera),
        );
        match saved {
            Ok(s) => {
                self.settings_saved.known();
                self.settings.kiosk.camera = s.kiosk.camera;
                Ok("This camera is used from now on, also when Rollcall starts again.".into())
            }
            Err(e) => Err(format!(
                "This camera is used until Rollcall is closed; it could not be kept for the \
                 next start: {e}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DoorForm;
    use crate::settings::KioskSettings;

    #[test]
    fn a_form_is_refused_with_what_to_change() {
        let good = DoorForm::of(&KioskSettings::default());
        assert_eq!(good.problem(), None);
        let with = |change: fn(&mut DoorForm)| {
            let mut f = good.clone();
            change(&mut f);
            f.problem().unwrap_or_default()
        };
        assert!(with(|f| f.room_name = "  ".into()).starts_with("Give the room a name"));
        assert!(with(|f| f.room_name = "x".repeat(41)).contains("at most 40 letters"));
        // Forty letters of a script whose letters take several bytes each are forty.
        assert_eq!(with(|f| f.room_name = "教".repeat(40)), "");
        assert!(with(|f| f.verdict_secs = 0).contains("from 1 to 60 seconds"));
        assert!(with(|f| f.verdict_secs = 61).contains("from 1 to 60 seconds"));
        assert_eq!(
            with(|f| f.cooldown_secs = 0),
            "",
            "0: greeted afresh each time"
        );
        assert!(with(|f| f.cooldown_secs = 3601).contains("at most 3600 seconds"));
    }

    #[test]
    fn only_what_the_admin_changed_is_saved_and_only_what_the_file_changed_is_followed() {
        let loaded = DoorForm::of(&KioskSettings::default());
        assert!(loaded.changes_from(&loaded).is_empty());
        let mut typed = loaded.clone();
        typed.room_name = format!("  {}  ", loaded.room_name);
        assert!(
            typed.changes_from(&loaded).is_empty(),
            "spaces around a name"
        );
        typed.room_name = " Lab 5 ".into();
        typed.sound = !loaded.sound;
        typed.cooldown_secs = loaded.cooldown_secs + 1;
        let keys: Vec<_> = typed
            .changes_from(&loaded)
            .into_iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        assert_eq!(
            keys,
            [
                "room_name=\"Lab 5\"".to_string(),
                format!("sound={}", typed.sound),
                format!("cooldown_secs={}", typed.cooldown_secs),
            ]
        );

        // The file changed the room and the mirror; this process was given another sound.
        let before = KioskSettings::default();
        let mut now = before.clone();
        now.room_name = "Lab 6".into();
        now.mirror = !before.mirror;
        let mut kiosk = before.clone();
        kiosk.sound = !before.sound;
        kiosk.verdict_secs = before.verdict_secs + 3;
        DoorForm::follow(&before, &now, &mut kiosk);
        assert_eq!(kiosk.room_name, "Lab 6");
        assert_eq!(kiosk.mirror, now.mirror);
        assert_eq!(kiosk.sound, !before.sound, "not changed in the file");
        assert_eq!(kiosk.verdict_secs, before.verdict_secs + 3);
    }
}
