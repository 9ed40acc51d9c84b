//! The admin screens, behind a PIN: enrolment (camera or files) and student management.
//! Every action is a request to the admin worker; this module keeps the answer handles of
//! what it asked, draws and asks — it never touches files, models or the database.

use super::attack_check::AttackCheckView;
use super::change_pin::ChangePinWindow;
use super::door_settings::DoorSettingsView;
use super::email_settings::EmailSettingsView;
use super::files::{Ask, FileChooser};
use super::kiosk::KioskView;
use super::review::ReviewView;
use super::student_list::StudentList;
use super::widgets::{danger_button, field, hint, question_window, texture, ERROR, OK, WARN};
use crate::attendance::import::{ImportSummary, PhotosFoundByName};
use crate::attendance::pin::PinCheck;
use crate::attendance::{
    first_day_back_by_default, is_email, validate_student, Swapped, MAX_PHOTOS,
};
use crate::kiosk::admin::{
    AdminClient, Answer, AutoWait, CalibrationStatus, CheckedPhoto, DamagedRecords, Imported,
    LookAlike, Outcome, Pending, PhotoCheck, PhotoStream, PinState, Rescue, StudentPhotos, Task,
};
use crate::kiosk::Kiosk;
use crate::store::school::SchoolLogin;
use crate::store::{Leave, Student, WrongClock};
use crate::wording::school_link;
use crate::wording::{count, day_span, grouped, listing, long_date};
use egui::{Color32, RichText, TextureHandle, Vec2};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The admin mode locks itself after this long without input.
pub const IDLE_LOCK: Duration = Duration::from_secs(120);

/// Which admin screen is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Enrol,
    Students,
    Review,
    Door,
    Email,
}

/// A checked photo waiting in a form.
struct FormPhoto {
    ticket: u64,
    label: String,
    texture: TextureHandle,
    look_alike: Option<LookAlike>,
    /// For an enrolled student: the photo looks like none of their photos so far.
    unlike_student: bool,
}

/// Where a checked photo goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Destination {
    /// The enrolment form.
    Form,
    /// New photos for an enrolled student.
    Student(i64),
}

/// The enrolment form.
#[derive(Default)]
struct EnrolForm {
    roll_no: String,
    name: String,
    email: String,
    /// Fields the admin has typed into (their problems are shown only then).
    touched: [bool; 3],
    photos: Vec<FormPhoto>,
    refused: Vec<(String, String)>,
    auto: Option<PhotoStream>,
    saving: Option<Pending<Outcome>>,
}

/// What a confirmation dialog would do.
#[derive(Clone, Debug, PartialEq)]
enum Confirm {
    Erase(i64, String),
    Delete(i64, String),
    /// A student who left the school, or one back in the class: a question that asks for
    /// a day.
    Day(DayQuestion),
    /// Adding photos that look like none of the student's photos so far.
    AddUnlike(i64, String),
}

/// Leaving the school or coming back: the day asked for (their last day in class, or
/// their first day back), as typed; whether it was sent (the window stays open until the
/// answer) and why it was refused, if it was.
#[derive(Clone, Debug, PartialEq)]
struct DayQuestion {
    id: i64,
    name: String,
    /// Coming back: the last day in class of their leave. `None`: leaving.
    back_after: Option<chrono::NaiveDate>,
    /// Coming back from a leave not begun (recorded ahead, their face data still here):
    /// not leaving after all, every day counting again.
    not_leaving: bool,
    day: String,
    sent: bool,
    refused: Option<String>,
}

/// The PIN window's state.
#[derive(Default)]
struct PinWindow {
    open: bool,
    state: Option<PinState>,
    pin: String,
    again: String,
    message: Option<String>,
    status: Option<Answer<PinState>>,
    setting: Option<Answer<()>>,
    unlocking: Option<Answer<PinCheck>>,
    /// A damaged database being replaced by its newest daily backup.
    rescuing: Option<Answer<Rescue>>,
    /// Good news to show above the form (a backup restored before a PIN is chosen).
    note: Option<String>,
    /// Whether the first field was given the keyboard (once: the admin may click another).
    focused: bool,
}

/// The PIN window's one field, which keeps the keyboard while `waiting` for a PIN; returns
/// whether Enter was pressed in it.
fn pin_field(ui: &mut egui::Ui, pin: &mut String, waiting: bool) -> bool {
    let r = field(ui, "PIN", pin, true);
    // Read before the field takes the keyboard back, which would hide it.
    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if waiting && !enter {
        r.request_focus();
    }
    enter
}

/// The PIN window when the attendance records are damaged: what happened, and the newest
/// daily backup put back with the admin PIN it holds.
fn restore_damaged_form(
    ui: &mut egui::Ui,
    p: &mut PinWindow,
    damaged: &DamagedRecords,
    admin: &AdminClient,
) {
    let day = damaged.made.format("%A %-d %B %Y").to_string();
    ui.label(RichText::new("The attendance records cannot be read").strong());
    ui.label(format!(
        "The database file on this computer is damaged. The newest daily backup, made on \
         {day}, can be put back: students, photos and attendance return to how they were \
         then, and marks made since are lost. The damaged file is kept aside."
    ));
    let mut enter = false;
    if damaged.pin {
        ui.label(format!(
            "Enter the admin PIN (as it was on {day}) to put it back."
        ));
        enter = pin_field(ui, &mut p.pin, p.rescuing.is_none());
    }
    if let Some(m) = &p.message {
        ui.label(RichText::new(m).color(ERROR));
    }
    let ready = (!damaged.pin || !p.pin.is_empty()) && p.rescuing.is_none();
    let button = egui::Button::new(format!("Restore the backup of {day}"));
    if (ui.add_enabled(ready, button).clicked() || enter) && ready {
        p.message = None;
        p.rescuing = Some(admin.restore_damaged(damaged.backup.clone(), p.pin.clone()));
    }
    if p.rescuing.is_some() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Restoring the backup…");
        });
    }
}

/// The admin side of the window.
pub struct AdminView {
    pub unlocked: bool,
    pin: PinWindow,
    change_pin: ChangePinWindow,
    last_activity: Instant,
    pub screen: Screen,
    message: Option<(String, Color32)>,
    form: EnrolForm,
    /// Photo checks sent and not yet answered, with where each photo goes.
    checks: Vec<(Destination, Pending<PhotoCheck>)>,
    students: Vec<Student>,
    students_req: Option<Answer<Vec<Student>>>,
    /// How well recognition knows the site, said on the Students screen (or why it
    /// cannot be said).
    calibration: Option<Result<CalibrationStatus, String>>,
    calibration_req: Option<Answer<CalibrationStatus>>,
    /// Keys of settings.toml that Rollcall does not read (a typo is otherwise silent).
    settings_notes: Vec<String>,
    settings_notes_req: Option<Pending<Vec<String>>>,
    /// The photo-attack check: its strictness, and teaching it this camera.
    attack: AttackCheckView,
    search: String,
    list: StudentList,
    selected: Option<i64>,
    edit_roll_no: String,
    edit_name: String,
    edit_email: String,
    /// What the roll number, name and email fields were last filled with from the records,
    /// or sent to be saved: a field still showing it takes the records' value when the
    /// list comes again; a field changed since keeps what the admin typed.
    edits_from: [String; 3],
    selected_photos: Vec<(i64, TextureHandle)>,
    photos_req: Option<(i64, Answer<StudentPhotos>)>,
    /// Photos checked for adding to the selected student.
    additions: Vec<FormPhoto>,
    /// The additions being saved (they stay on screen until saved).
    adding: Option<Pending<Outcome>>,
    /// A change to a student in progress (edit, photos, erase, delete).
    change: Option<Pending<Outcome>>,
    /// Marks made while the clock was ahead being removed.
    clock_fix: Option<Pending<Outcome>>,
    confirm: Option<Confirm>,
    /// An import running, of this list.
    import: Option<(PathBuf, Task<Result<Imported, String>>)>,
    /// A list naming photos found elsewhere by file name, and those lines: import it with
    /// them?
    import_question: Option<(PathBuf, Vec<String>)>,
    import_summary: Option<ImportSummary>,
    import_email_domain: String,
    files: FileChooser,
    pub review: ReviewView,
    email: EmailSettingsView,
    pub door: DoorSettingsView,
}

impl Default for AdminView {
    fn default() -> Self {
        AdminView {
            unlocked: false,
            pin: PinWindow::default(),
            change_pin: ChangePinWindow::default(),
            last_activity: Instant::now(),
            screen: Screen::Enrol,
            message: None,
            form: EnrolForm::default(),
            checks: Vec::new(),
            students: Vec::new(),
            students_req: None,
            calibration: None,
            calibration_req: None,
            settings_notes: Vec::new(),
            settings_notes_req: None,
            attack: AttackCheckView::default(),
            search: String::new(),
            list: StudentList::default(),
            selected: None,
            edit_roll_no: String::new(),
            edit_name: String::new(),
            edit_email: String::new(),
            edits_from: Default::default(),
            selected_photos: Vec::new(),
            photos_req: None,
            additions: Vec::new(),
            adding: None,
            change: None,
            clock_fix: None,
            confirm: None,
            import: None,
            import_question: None,
            import_summary: None,
            import_email_domain: String::new(),
            files: FileChooser::default(),
            review: ReviewView::new(85.0),
            email: EmailSettingsView::default(),
            door: DoorSettingsView::default(),
        }
    }
}

/// A student's roll number, name and email: the fields an opened student's panel edits.
fn edited_fields(st: &Student) -> [String; 3] {
    [st.roll_no.clone(), st.name.clone(), st.email.clone()]
}

impl AdminView {
    /// Locks the admin mode.
    pub fn lock(&mut self, admin: &AdminClient) {
        self.unlocked = false;
        self.pin = PinWindow::default();
        // PINs typed and left behind are not there for the next person who unlocks.
        self.change_pin = ChangePinWindow::default();
        self.email.clear();
        self.review.close_windows();
        // A file dialog left open on the screen is not answered for the admin.
        self.files.forget();
        self.door.close_windows();
        if self.form.auto.take().is_some() {
            admin.stop_auto_capture();
        }
    }

    /// Whether the PIN window is open.
    pub fn asking_pin(&self) -> bool {
        self.pin.open
    }

    /// Opens the PIN window (the header's Admin button, or closing the window at the door).
    pub fn ask_pin(&mut self, admin: &AdminClient) {
        if !self.pin.open {
            self.pin = PinWindow {
                open: true,
                status: Some(admin.pin_status()),
                ..PinWindow::default()
            };
        }
    }

    /// Notes input, locks after two idle minutes, and takes the answers that came.
    pub fn tick(&mut self, ctx: &egui::Context, admin: &AdminClient) {
        let active = ctx.input(|i| !i.events.is_empty() || i.pointer.is_moving());
        if active {
            self.last_activity = Instant::now();
        }
        if self.unlocked && self.last_activity.elapsed() > IDLE_LOCK {
            self.lock(admin);
            self.message = None;
        }
        self.take_answers(ctx, admin);
        self.review.take_answers(ctx, admin);
        self.email.take_answers();
    }

    fn say(&mut self, r: Result<String, String>) {
        self.message = Some(match r {
            Ok(m) => (m, OK),
            Err(m) => (m, ERROR),
        });
    }

    fn take_answers(&mut self, ctx: &egui::Context, admin: &AdminClient) {
        if let Some(r) = self.pin.status.as_ref().and_then(Pending::poll) {
            self.pin.status = None;
            match r {
                Ok(Ok(state)) => self.pin.state = Some(state),
                Ok(Err(e)) => self.pin.message = Some(e),
                Err(lost) => self.pin.message = Some(lost.to_string()),
            }
        }
        if let Some(r) = self.pin.setting.as_ref().and_then(Pending::poll) {
            self.pin.setting = None;
            match r {
                Ok(Ok(())) => self.open(admin),
                Ok(Err(why)) => self.pin.message = Some(why),
                Err(lost) => self.pin.message = Some(lost.to_string()),
            }
        }
        if let Some(r) = self.pin.rescuing.as_ref().and_then(Pending::poll) {
            self.pin.rescuing = None;
            match r {
                Ok(Ok(Rescue::Restored(report))) => {
                    let pin_checked = matches!(
                        &self.pin.state,
                        Some(PinState::Damaged(DamagedRecords { pin: true, .. }))
                    );
                    if pin_checked {
                        self.open(admin);
                    } else {
                        // The backup has no PIN: the admin chooses one first.
                        self.pin = PinWindow::default();
                        self.ask_pin(admin);
                        self.pin.note = Some(
                            "The backup is restored. Choose an admin PIN to see what it brought back."
                                .into(),
                        );
                    }
                    self.message = Some((report, OK));
                }
                Ok(Ok(Rescue::Refused(check))) => {
                    self.pin.pin.clear();
                    self.pin.message = Some(check.message());
                }
                Ok(Err(e)) => self.pin.message = Some(e),
                Err(lost) => self.pin.message = Some(lost.to_string()),
            }
        }
        if let Some(r) = self.pin.unlocking.as_ref().and_then(Pending::poll) {
            self.pin.unlocking = None;
            match r {
                Ok(Ok(PinCheck::Accepted)) => self.open(admin),
                Ok(Ok(other)) => {
                    self.pin.pin.clear();
                    self.pin.message = Some(other.message());
                }
                Ok(Err(e)) => self.pin.message = Some(e),
                Err(lost) => self.pin.message = Some(lost.to_string()),
            }
        }
        if let Some(r) = self.calibration_req.as_ref().and_then(Pending::poll) {
            self.calibration_req = None;
            self.calibration = Some(match r {
                Ok(Ok(c)) => Ok(c),
                Ok(Err(e)) => Err(e),
                Err(lost) => Err(lost.to_string()),
            });
        }
        if let Some(r) = self.settings_notes_req.as_ref().and_then(Pending::poll) {
            self.settings_notes_req = None;
            self.settings_notes = r.unwrap_or_default();
        }
        self.attack.take_answers(admin);
        if let Some(r) = self.students_req.as_ref().and_then(Pending::poll) {
            self.students_req = None;
            self.calibration_req = Some(admin.calibration());
            self.settings_notes_req = Some(admin.settings_notes());
            self.attack.load(admin);
            match r {
                Ok(Ok(s)) => self.students_arrived(s),
                Ok(Err(e)) => self.say(Err(e)),
                Err(lost) => self.say(Err(lost.to_string())),
            }
        }
        let mut answered = Vec::new();
        for (i, (_, p)) in self.checks.iter().enumerate() {
            if let Some(r) = p.poll() {
                answered.push((i, r));
            }
        }
        for (i, r) in answered.into_iter().rev() {
            let (dest, _) = self.checks.remove(i);
            match r {
                Ok(Ok(photo)) => self.photo_checked(ctx, dest, photo),
                Ok(Err((label, reason))) => self.form.refused.push((label, reason)),
                Err(lost) => self.form.refused.push(("photo".into(), lost.to_string())),
            }
        }
        if let Some(stream) = &self.form.auto {
            for photo in stream.take() {
                self.photo_checked(ctx, Destination::Form, photo);
            }
            if self.form.photos.len() >= MAX_PHOTOS {
                self.form.auto = None;
                admin.stop_auto_capture();
            }
        }
        if let Some(r) = self.form.saving.as_ref().and_then(Pending::poll) {
            self.form.saving = None;
            let ok = matches!(r, Ok(Ok(_)));
            self.say(r.unwrap_or_else(|lost| Err(lost.to_string())));
            if ok {
                if self.form.auto.is_some() {
                    admin.stop_auto_capture();
                }
                self.form = EnrolForm::default();
            }
            self.students_req = Some(admin.students());
        }
        if let Some(r) = self.adding.as_ref().and_then(Pending::poll) {
            self.adding = None;
            let r = r.unwrap_or_else(|lost| Err(lost.to_string()));
            // Saved photos leave the list; photos not saved stay to be fixed and saved again.
            if r.is_ok() {
                self.additions.clear();
            }
            self.say(r);
            self.students_req = Some(admin.students());
            if let Some(id) = self.selected {
                self.photos_req = Some((id, admin.student_photos(id)));
            }
        }
        if let Some(r) = self.clock_fix.as_ref().and_then(Pending::poll) {
            self.clock_fix = None;
            self.say(r.unwrap_or_else(|lost| Err(lost.to_string())));
        }
        if let Some(r) = self.change.as_ref().and_then(Pending::poll) {
            self.change = None;
            let r = r.unwrap_or_else(|lost| Err(lost.to_string()));
            // Refused: what the admin typed stays to be mended, not replaced by the records.
            if let Some(st) = self
                .selected
                .filter(|_| r.is_err())
                .and_then(|id| self.students.iter().find(|s| s.id == id))
            {
                self.edits_from = edited_fields(st);
            }
            match (&mut self.confirm, r) {
                // A last day refused is said in its window, to be written again there.
                (
                    Some(Confirm::Day(DayQuestion {
                        sent: sent @ true,
                        refused,
                        ..
                    })),
                    Err(why),
                ) => {
                    *sent = false;
                    *refused = Some(why);
                }
                (confirm, r) => {
                    if let Some(Confirm::Day(DayQuestion { sent: true, .. })) = confirm {
                        *confirm = None;
                    }
                    self.say(r);
                }
            }
            self.students_req = Some(admin.students());
            if let Some(id) = self.selected {
                self.photos_req = Some((id, admin.student_photos(id)));
            }
        }
        if let Some((id, r)) = self
            .photos_req
            .as_ref()
            .and_then(|(id, p)| p.poll().map(|r| (*id, r)))
        {
            self.photos_req = None;
            match r {
                Ok(Ok(photos)) if Some(id) == self.selected => {
                    self.selected_photos = photos
                        .iter()
                        .map(|(pid, t)| (*pid, texture(ctx, &format!("photo-{pid}"), t)))
                        .collect();
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => self.say(Err(e)),
                Err(lost) => self.say(Err(lost.to_string())),
            }
        }
        if let Some((path, task)) = self.import.take() {
            match task.poll() {
                None => self.import = Some((path, task)),
                Some(r) => {
                    match r {
                        Ok(Ok(Imported::Done(summary))) => self.import_summary = Some(summary),
                        Ok(Ok(Imported::Ask(found_elsewhere))) => {
                            self.import_question = Some((path, found_elsewhere))
                        }
                        Ok(Err(e)) => self.say(Err(e)),
                        Err(lost) => self.say(Err(lost.to_string())),
                    }
                    self.students_req = Some(admin.students());
                }
            }
        }
    }

    fn students_arrived(&mut self, mut students: Vec<Student>) {
        students.sort_by(|a, b| crate::order::natural_cmp(&a.roll_no, &b.roll_no));
        self.students = students;
        self.list.students_changed();
        match self
            .selected
            .and_then(|id| self.students.iter().find(|s| s.id == id))
            .cloned()
        {
            // The list comes again after any change (a save, photos added, an import):
            // what the admin is typing meanwhile stays.
            Some(st) => self.fill_edits(&st, true),
            None => self.selected = None,
        }
    }

    /// Fills the opened student's roll number, name and email fields from `st`; with
    /// `keep_typed`, a field the admin changed since it was filled (or sent) keeps its text.
    fn fill_edits(&mut self, st: &Student, keep_typed: bool) {
        let stored = edited_fields(st);
        let fields = [
            &mut self.edit_roll_no,
            &mut self.edit_name,
            &mut self.edit_email,
        ];
        for ((field, from), value) in fields.into_iter().zip(&self.edits_from).zip(&stored) {
            if !keep_typed || field == from {
                *field = value.clone();
            }
        }
        self.edits_from = stored;
    }

    fn open(&mut self, admin: &AdminClient) {
        self.unlocked = true;
        self.pin = PinWindow::default();
        self.last_activity = Instant::now();
        self.students_req = Some(admin.students());
    }

    fn photo_checked(&mut self, ctx: &egui::Context, dest: Destination, p: CheckedPhoto) {
        let pending = FormPhoto {
            ticket: p.ticket,
            texture: texture(ctx, &format!("checked-{}", p.ticket), &p.thumbnail),
            label: p.label,
            look_alike: p.look_alike,
            unlike_student: p.unlike_student,
        };
        match dest {
            Destination::Student(id) if Some(id) == self.selected => self.additions.push(pending),
            Destination::Form => self.form.photos.push(pending),
            // The admin moved on to another student: the photo is not wanted any more.
            Destination::Student(_) => {}
        }
    }

    /// Photo checks still waiting for an answer, for one destination.
    fn checking(&self, dest: Destination) -> usize {
        self.checks.iter().filter(|(d, _)| *d == dest).count()
    }

    /// Sends photo files to be checked (what "Add from files…" does after the dialog).
    pub fn add_files(&mut self, kiosk: &Kiosk, files: &[PathBuf]) {
        let dest = match (self.screen, self.selected) {
            (Screen::Students, Some(id)) => Destination::Student(id),
            _ => Destination::Form,
        };
        let student = match dest {
            Destination::Student(id) => Some(id),
            Destination::Form => None,
        };
        for f in files {
            self.checks
                .push((dest, kiosk.admin.check_photo(f.clone(), student)));
        }
    }

    /// The header button: "Admin" (or "Lock" when unlocked).
    pub fn header_button(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk) {
        if self.unlocked {
            if ui.button(RichText::new("Lock").size(18.0)).clicked() {
                self.lock(&kiosk.admin);
            }
        } else if ui.button(RichText::new("Admin").size(18.0)).clicked() {
            self.ask_pin(&kiosk.admin);
        }
    }

    /// The PIN window (set the PIN the first time, then unlock with it).
    pub fn pin_window(&mut self, ctx: &egui::Context, kiosk: &Kiosk) {
        if !self.pin.open || self.unlocked {
            return;
        }
        let mut open = true;
        let p = &mut self.pin;
        egui::Window::new("Admin")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_CENTER, Vec2::ZERO)
            .show(ctx, |ui| {
                if let Some(note) = &p.note {
                    ui.label(RichText::new(note).color(OK));
                }
                match &p.state {
                None => {
                    ui.label("Checking…");
                    if let Some(m) = &p.message {
                        ui.label(RichText::new(m).color(ERROR));
                    }
                }
                Some(PinState::Damaged(damaged)) => {
                    let damaged = damaged.clone();
                    restore_damaged_form(ui, p, &damaged, &kiosk.admin);
                }
                Some(PinState::NotSet) => {
                    ui.label(RichText::new("Set an admin PIN").strong());
                    ui.label("4 to 12 digits. It protects enrolment, student data and closing the kiosk.");
                    let first = field(ui, "New PIN", &mut p.pin, true);
                    if !p.focused {
                        first.request_focus();
                        p.focused = true;
                    }
                    let r = field(ui, "PIN again", &mut p.again, true);
                    if let Some(m) = &p.message {
                        ui.label(RichText::new(m).color(ERROR));
                    }
                    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    let ready = !p.pin.is_empty() && !p.again.is_empty() && p.setting.is_none();
                    if (ui.add_enabled(ready, egui::Button::new("Set PIN")).clicked() || enter)
                        && ready
                    {
                        p.setting = Some(kiosk.admin.set_pin(p.pin.clone(), p.again.clone()));
                    }
                }
                Some(PinState::Set) => {
                    ui.label(RichText::new("Enter the admin PIN").strong());
                    let enter = pin_field(ui, &mut p.pin, p.unlocking.is_none());
                    if let Some(m) = &p.message {
                        ui.label(RichText::new(m).color(ERROR));
                    }
                    // An empty PIN is not a try.
                    let ready = !p.pin.is_empty() && p.unlocking.is_none();
                    if (ui.add_enabled(ready, egui::Button::new("Unlock")).clicked() || enter)
                        && ready
                    {
                        p.message = None;
                        p.unlocking = Some(kiosk.admin.unlock(p.pin.clone()));
                    }
                    ui.label(
                        RichText::new("Forgotten? On this computer, run: rollcall forget-pin")
                            .weak()
                            .small(),
                    );
                }
                }
            });
        if !open {
            self.pin = PinWindow::default();
        }
    }

    /// The admin screens, in place of the kiosk's video.
    pub fn show(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, view: &mut KioskView) {
        let shown = self.screen;
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.screen,
                Screen::Enrol,
                RichText::new("Enrol a student").size(18.0),
            );
            if ui
                .selectable_value(
                    &mut self.screen,
                    Screen::Students,
                    RichText::new("Students").size(18.0),
                )
                .clicked()
            {
                self.students_req = Some(kiosk.admin.students());
            }
            if ui
                .selectable_value(
                    &mut self.screen,
                    Screen::Review,
                    RichText::new("Review").size(18.0),
                )
                .clicked()
            {
                self.review.load(&kiosk.admin);
            }
            if ui
                .selectable_value(
                    &mut self.screen,
                    Screen::Door,
                    RichText::new("Door settings").size(18.0),
                )
                .clicked()
            {
                self.door.load(&kiosk.admin);
            }
            if ui
                .selectable_value(
                    &mut self.screen,
                    Screen::Email,
                    RichText::new("Email settings").size(18.0),
                )
                .clicked()
            {
                self.email.load(&kiosk.admin);
            }
            if ui.button("Change PIN…").clicked() {
                self.change_pin.open();
            }
        });
        // A message is about the screen it was given on (until 2026-12-03 "Enrolled …"
        // stayed over Students and Review until dismissed).
        if self.screen != shown {
            self.message = None;
        }
        if let Some(done) = self.change_pin.show(ui.ctx(), &kiosk.admin) {
            self.message = Some((done, OK));
        }
        ui.separator();
        if let Some(wrong) = &view.wrong_clock {
            self.clock_notice(ui, kiosk, wrong.clone());
        }
        let not_here = match view.school_login() {
            Some(SchoolLogin::Door) => Some((
                school_link::DOOR_LOGIN,
                "Corrections are made at the office.",
            )),
            Some(SchoolLogin::NotKnownYet) => Some((
                if view.no_server_here() {
                    school_link::NO_SERVER_SET
                } else {
                    school_link::LOGIN_NOT_KNOWN_YET
                },
                "Corrections wait until this computer has reached the school server.",
            )),
            Some(SchoolLogin::Office) | None => None,
        };
        let changes_here = not_here.is_none();
        if let Some((notice, _)) = not_here {
            ui.label(RichText::new(notice).color(WARN).size(16.0));
            ui.separator();
        }
        if let Some((m, colour)) = self.message.clone() {
            // A long message wraps rather than widening the screen past the window.
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(m).color(colour).size(16.0));
                if ui.small_button("Dismiss").clicked() {
                    self.message = None;
                }
            });
        }
        if let Some(problem) = &self.files.problem {
            ui.label(RichText::new(problem).color(ERROR));
        }
        match self.files.show(ui.ctx()) {
            Some((Ask::Photos, paths)) => self.add_files(kiosk, &paths),
            Some((Ask::Import, paths)) => {
                if let Some(p) = paths.into_iter().next() {
                    self.start_import(kiosk, p);
                }
            }
            _ => {}
        }
        match self.screen {
            Screen::Enrol => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui.add_enabled_ui(changes_here, |ui| self.enrol_screen(ui, kiosk, view))
                });
            }
            Screen::Students => self.students_screen(ui, kiosk, view),
            Screen::Review => {
                self.review
                    .show(ui, &kiosk.admin, not_here.map(|(_, review)| review))
            }
            Screen::Door => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.door.show(ui, kiosk, &view.camera, &mut view.settings)
                });
            }
            Screen::Email => {
                egui::ScrollArea::vertical().show(ui, |ui| self.email.show(ui, &kiosk.admin));
            }
        }
    }

    /// The kiosk takes no attendance while the clock cannot date marks: the admin reads why,
    /// and removes marks made here while the clock was ahead if today's date is the right one.
    fn clock_notice(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, wrong: WrongClock) {
        ui.label(RichText::new(wrong.to_string()).color(ERROR).size(16.0));
        let WrongClock::MarksAhead(ahead) = wrong else {
            // Set the clock: the link sees it within seconds.
            ui.separator();
            return;
        };
        let remove = format!(
            "Today is {}: remove {} made while the clock was ahead",
            ahead.today,
            ahead.the_marks()
        );
        let explains = "The marks were made while the computer's clock was ahead, so their \
                        dates are wrong (days that have not come yet, or that had not come \
                        at the school). They are removed for good (the audit log says so); \
                        the kiosk takes attendance again.";
        ui.add_enabled_ui(self.clock_fix.is_none(), |ui| {
            if danger_button(ui, &remove, explains).clicked() {
                self.clock_fix = Some(kiosk.admin.remove_future_marks(ahead.today));
            }
        });
        ui.separator();
    }

    fn taken_by(&self, pick: impl Fn(&Student) -> bool) -> Option<String> {
        self.students
            .iter()
            .find(|s| pick(s))
            .map(|s| format!("{} ({})", s.name, s.roll_no))
    }

    /// Problems with the form's fields (roll no, name, email), `None` where it is fine.
    fn form_problems(&self) -> [Option<String>; 3] {
        let f = &self.form;
        let roll = f.roll_no.trim();
        let email = f.email.trim();
        let roll_hint = if roll.is_empty() {
            Some("Required.".to_string())
        } else {
            // "cs-042" and "CS-042" are one roll number, as the store counts them.
            self.taken_by(|s| s.roll_no.eq_ignore_ascii_case(roll))
                .map(|w| format!("Already used by {w}."))
        };
        let name_hint = f.name.trim().is_empty().then(|| "Required.".to_string());
        let email_hint = if email.is_empty() {
            Some("Required.".to_string())
        } else if !is_email(email) {
            Some("Not a valid email address.".to_string())
        } else {
            self.taken_by(|s| s.email.eq_ignore_ascii_case(email))
                .map(|w| format!("Already used by {w}."))
        };
        [roll_hint, name_hint, email_hint]
    }

    fn enrol_screen(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, view: &mut KioskView) {
        // Each column left-aligned: a column's own layout would justify its long notes
        // (wide gaps between words).
        let column = egui::Layout::top_down(egui::Align::Min);
        ui.columns(2, |cols| {
            let form = cols[0].with_layout(column, |ui| self.enrol_form(ui, kiosk));
            cols[1].with_layout(column, |ui| self.enrol_photos(ui, kiosk, view, form.inner));
        });
    }

    /// The new student's details and Save; returns the photos taken and being checked.
    fn enrol_form(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk) -> (usize, usize) {
        let problems = self.form_problems();
        ui.heading("New student");
        let fields = [
            ("Roll no", &mut self.form.roll_no),
            ("Name", &mut self.form.name),
            ("Email", &mut self.form.email),
        ];
        for (i, (label, value)) in fields.into_iter().enumerate() {
            if field(ui, label, value, false).changed() {
                self.form.touched[i] = true;
            }
            let shown = problems[i].as_deref().filter(|_| self.form.touched[i]);
            hint(ui, shown);
        }
        ui.add_space(8.0);
        let n = self.form.photos.len();
        ui.label(RichText::new(format!("Photos: {n} / {MAX_PHOTOS}")).strong());
        let checking = self.checking(Destination::Form);
        if checking > 0 {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("Checking {}…", count(checking, "photo")));
            });
        } else if n == 0 {
            ui.label(RichText::new("Add at least one photo.").weak());
        }
        let look_alikes: Vec<LookAlike> = self
            .form
            .photos
            .iter()
            .filter_map(|p| p.look_alike.clone())
            .collect();
        if let Some(warning) = LookAlike::warning(&look_alikes) {
            // Most often it is the same student, about to be enrolled a second time: then
            // neither roll number would be marked, the kiosk unable to choose.
            ui.label(
                RichText::new(format!(
                    "{warning} If these are photos of a student already enrolled, do not save \
                     them as a new one: open that student in Students to add photos."
                ))
                .color(WARN),
            );
        }
        let ready = problems.iter().all(Option::is_none)
            && (1..=MAX_PHOTOS).contains(&n)
            && self.form.saving.is_none();
        let save_label = if look_alikes.is_empty() {
            "Save"
        } else {
            "Save anyway"
        };
        ui.horizontal(|ui| {
            let save = ui.add_enabled(
                ready,
                egui::Button::new(RichText::new(save_label).size(18.0)),
            );
            if save.clicked() {
                self.form.touched = [true; 3];
                self.message = None;
                self.form.saving = Some(kiosk.admin.enroll(
                    self.form.roll_no.clone(),
                    self.form.name.clone(),
                    self.form.email.clone(),
                    self.form.photos.iter().map(|p| p.ticket).collect(),
                ));
            }
            if checking > 0 && ready {
                ui.label(RichText::new("Photos still being checked are not included.").weak());
            }
            if self.form.saving.is_some() {
                ui.spinner();
                ui.label("Saving and updating the recogniser…");
            }
        });
        (n, checking)
    }

    /// The camera, the photos of the new student and what became of them.
    fn enrol_photos(
        &mut self,
        ui: &mut egui::Ui,
        kiosk: &Kiosk,
        view: &mut KioskView,
        (n, checking): (usize, usize),
    ) {
        ui.heading("Photos");
        view.small_video(ui, Vec2::new(320.0, 240.0));
        ui.horizontal_wrapped(|ui| {
            let room = n + checking < MAX_PHOTOS;
            if ui.add_enabled(room, egui::Button::new("Capture")).clicked() {
                self.checks
                    .push((Destination::Form, kiosk.admin.capture_photo(None)));
            }
            let mut auto = self.form.auto.is_some();
            if ui
                .add_enabled(room, egui::Checkbox::new(&mut auto, "Auto-capture"))
                .changed()
            {
                if auto {
                    self.form.auto = Some(kiosk.admin.auto_capture());
                } else {
                    self.form.auto = None;
                    kiosk.admin.stop_auto_capture();
                }
            }
            if ui
                .add_enabled(room, egui::Button::new("Add from files…"))
                .clicked()
            {
                self.files.open(Ask::Photos);
            }
        });
        if let Some(i) = thumbnails(ui, &self.form.photos, "photo", self.form.saving.is_none()) {
            let p = self.form.photos.remove(i);
            kiosk.admin.drop_photo(p.ticket);
        }
        let waiting = match self.form.auto.as_ref().and_then(PhotoStream::waiting) {
            Some(AutoWait::SomeoneElse) => Some(
                "Auto-capture is waiting: the face in front of the camera is not the \
                 person of the photos taken so far. If a photo shows someone else, remove it.",
            ),
            Some(AutoWait::SamePicture) => Some(
                "Auto-capture is waiting for a new look: ask the student to turn their \
                 head a little, or to come a little closer.",
            ),
            None => None,
        };
        if let Some(text) = waiting {
            ui.label(RichText::new(text).color(WARN));
        }
        for (label, why) in &self.form.refused {
            ui.label(RichText::new(format!("Not used: {label}: {why}")).color(ERROR));
        }
        if !self.form.refused.is_empty() && ui.small_button("Clear these notes").clicked() {
            self.form.refused.clear();
        }
    }

    fn select(&mut self, kiosk: &Kiosk, s: &Student) {
        self.close_student(kiosk);
        self.selected = Some(s.id);
        self.fill_edits(s, false);
        self.photos_req = Some((s.id, kiosk.admin.student_photos(s.id)));
    }

    /// The Students screen: the search and the site's notes above the list, and an opened
    /// student's details in a panel at the list's right. The list scrolls on its own, under its
    /// headings, so the search and the details stay in view at any of a school's rows.
    fn students_screen(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, view: &mut KioskView) {
        let changes_here = view.changes_here();
        ui.horizontal_wrapped(|ui| {
            field(ui, "Search", &mut self.search, false);
            let importing = self.import.is_some();
            if ui
                .add_enabled(!importing && changes_here, egui::Button::new("Import…"))
                .clicked()
            {
                self.files.open(Ask::Import);
            }
            field(ui, "Email domain", &mut self.import_email_domain, false)
                .on_hover_text(IMPORT_EMAIL_DOMAIN);
        });
        // The notes between the search and the list scroll by themselves when long, so the
        // list keeps at least half the height.
        egui::ScrollArea::vertical()
            .id_salt("students notes")
            .max_height(ui.available_height() * 0.5)
            .auto_shrink([false, true])
            .show(ui, |ui| self.students_notes(ui, kiosk, view.school_login()));
        ui.separator();
        // Beside the list, under the notes: opening a student moves no row.
        if let Some(id) = self.selected {
            self.student_panel(ui, kiosk, view, id);
        }
        if let Some(s) = self
            .list
            .show(ui, &self.students, &self.search, self.selected)
            .cloned()
        {
            if self.selected == Some(s.id) {
                self.close_student(kiosk);
            } else {
                self.select(kiosk, &s);
            }
        }
        self.confirm_window(ui.ctx(), kiosk);
    }

    /// The import's progress and summary, and the site's notes (calibration, settings, the
    /// photo-attack check); `login`: see [`KioskView::school_login`].
    fn students_notes(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, login: Option<SchoolLogin>) {
        if let Some((_, task)) = &mut self.import {
            let (done, total) = task.progress();
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32).text(format!(
                    "Importing {} / {}",
                    grouped(done),
                    grouped(total)
                )),
            );
        }
        if let Some(s) = &self.import_summary {
            ui.label(
                RichText::new(format!("Imported {}.", count(s.enrolled.len(), "student")))
                    .color(OK),
            );
            for (who, why) in &s.refused {
                ui.label(RichText::new(format!("Not imported: {who}: {why}")).color(ERROR));
            }
            for (who, note) in &s.photo_notes {
                ui.label(RichText::new(format!("Not used: {who}: {note}")).color(WARN));
            }
            for (who, warning) in &s.look_alikes {
                ui.label(RichText::new(format!("{who}: {warning}")).color(WARN));
            }
            for line in &s.found_by_name {
                ui.label(RichText::new(line).color(WARN));
            }
        }
        if let Some((path, found_elsewhere)) = &self.import_question {
            ui.label(
                RichText::new(
                    "Nothing imported yet: some photos are not where the list says. Photos \
                     of the same file names were found in other folders below it. Check they \
                     are these students' photos: another student's photo of that name would \
                     be enrolled as this one. Without them, those students are enrolled from \
                     their other photos.",
                )
                .color(WARN),
            );
            for line in found_elsewhere {
                ui.label(RichText::new(line).color(WARN));
            }
            let (path, shown) = (path.clone(), found_elsewhere.clone());
            ui.horizontal(|ui| {
                if ui.button("Import with these photos").clicked() {
                    self.run_import(kiosk, path.clone(), PhotosFoundByName::Use(shown));
                }
                if ui.button("Import without these photos").clicked() {
                    self.run_import(kiosk, path, PhotosFoundByName::LeaveOut);
                }
                if ui.button("Cancel the import").clicked() {
                    self.import_question = None;
                    self.say(Ok("Import cancelled: nothing was imported.".into()));
                }
            });
        }
        match &self.calibration {
            Some(Ok(c)) => {
                ui.label(RichText::new(c.describe(login)).weak());
            }
            Some(Err(e)) => {
                ui.label(RichText::new(e).weak());
            }
            None => {}
        }
        for note in &self.settings_notes {
            ui.label(RichText::new(format!("settings.toml: {note}")).color(WARN));
        }
        let selected = self
            .selected
            .and_then(|id| self.students.iter().find(|s| s.id == id))
            .map(|s| (s.id, s.name.clone()));
        self.attack.ui(
            ui,
            &kiosk.admin,
            selected.as_ref().map(|(id, name)| (*id, name.as_str())),
        );
    }

    /// The opened student's details, in a panel at the right of the list, which stays
    /// where it was scrolled and shows roll numbers and names beside it (under a school's
    /// 2,000 rows, details below the list were 40,000 points away from its top; in a
    /// window, they covered the rows' Open buttons).
    fn student_panel(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, view: &mut KioskView, id: i64) {
        let width = ui.available_width();
        let mut close = false;
        egui::Panel::right("student details")
            .resizable(true)
            .default_size((width * 0.6).clamp(280.0, 560.0))
            .min_size(260.0_f32.min(width * 0.5))
            .max_size((width - 200.0).max(260.0))
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new("Student").size(18.0).strong());
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        close = ui.button("Close").clicked();
                    });
                });
                // Each student's details start at their top.
                egui::ScrollArea::vertical()
                    .id_salt(("student details", id))
                    .auto_shrink([false, false])
                    .show(ui, |ui| self.student_details(ui, kiosk, view, id));
            });
        if close {
            self.close_student(kiosk);
        }
    }

    /// Closes the opened student; photos checked for adding and not saved are let go.
    fn close_student(&mut self, kiosk: &Kiosk) {
        self.selected = None;
        self.selected_photos.clear();
        self.photos_req = None;
        for p in self.additions.drain(..) {
            kiosk.admin.drop_photo(p.ticket);
        }
    }

    fn student_details(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, view: &mut KioskView, id: i64) {
        let Some(s) = self.students.iter().find(|s| s.id == id).cloned() else {
            return;
        };
        // At a door whose login may only add marks (or not known yet), nothing here can
        // change (the notice over the screens says why).
        let changes_here = view.changes_here();
        let busy = self.change.is_some() || self.adding.is_some() || !changes_here;
        ui.heading(format!("{} ({})", s.name, s.roll_no));
        field(ui, "Roll number", &mut self.edit_roll_no, false);
        field(ui, "Name", &mut self.edit_name, false);
        field(ui, "Email", &mut self.edit_email, false);
        let roll_no = self.edit_roll_no.trim();
        let email = self.edit_email.trim();
        let mut others = self.students.iter().filter(|o| o.id != id);
        let roll_no_holder = (others.clone())
            .find(|o| o.roll_no.eq_ignore_ascii_case(roll_no))
            .cloned();
        let email_holder = others
            .find(|o| o.email.eq_ignore_ascii_case(email))
            .cloned();
        let taken = roll_no_holder.is_some() || email_holder.is_some();
        let invalid = validate_student(roll_no, &self.edit_name, email)
            .err()
            .map(|w| format!("Cannot save: {w}."));
        // Another student's number or address is given only by swapping the two (typed
        // the wrong way round at enrolment).
        let (swap, refused) = match (taken, invalid) {
            (true, None) => {
                let name = self.edit_name.trim();
                match Swapped::offered(name, &s, roll_no_holder, email_holder) {
                    Ok(swap) => (Some(swap), None),
                    Err(why) => (None, Some(why)),
                }
            }
            (_, invalid) => (None, invalid),
        };
        // A correction is a step of its own: say what it keeps before it is saved.
        let correcting = (refused.is_none() && !taken && roll_no != s.roll_no).then(|| {
            format!(
                "Saving corrects the roll number {} to {roll_no}: their attendance, photos \
                 and face data stay theirs, and exports and reports show the new number.",
                s.roll_no
            )
        });
        hint(ui, refused.as_deref());
        if let Some(note) = correcting.or(swap.as_ref().map(Swapped::offer)) {
            ui.label(RichText::new(note).color(super::widgets::WARN));
        }
        let (save, swapping) = ui
            .horizontal(|ui| {
                let save = ui.add_enabled(
                    refused.is_none() && !taken && !busy,
                    egui::Button::new("Save changes"),
                );
                let swapping = swap.as_ref().is_some_and(|swap| {
                    ui.add_enabled(!busy, egui::Button::new(swap.button()))
                        .clicked()
                });
                (save.clicked(), swapping)
            })
            .inner;
        if save || swapping {
            self.edits_from = [
                self.edit_roll_no.clone(),
                self.edit_name.clone(),
                self.edit_email.clone(),
            ];
            self.change = Some(kiosk.admin.update_student(
                id,
                self.edit_roll_no.clone(),
                self.edit_name.clone(),
                self.edit_email.clone(),
                swapping,
            ));
        }
        ui.add_space(6.0);
        ui.label(RichText::new(format!("Photos ({})", self.selected_photos.len())).strong());
        let missing = usize::try_from(s.photo_count)
            .unwrap_or(0)
            .saturating_sub(self.selected_photos.len());
        if missing > 0 && self.photos_req.is_none() {
            ui.label(
                RichText::new(format!(
                    "{missing} of {} are not on this computer (taken at another of \
                     the school's machines, or their files were removed). The student is \
                     still recognised from the faces stored with them.",
                    count(s.photo_count, "photo")
                ))
                .color(super::widgets::WARN),
            );
        }
        if !s.away.is_empty() {
            let spans: Vec<String> = s.away.iter().map(|&(f, l)| day_span(f, l)).collect();
            ui.label(format!(
                "Away from the school before coming back: {}. Those days do not count for \
                 them.",
                listing(&spans)
            ));
        }
        let today = chrono::Local::now().date_naive();
        let leave = s.leave(today);
        // A leave recorded ahead of the last day: the kiosk knows them until it is over.
        let leaving = matches!(leave, Some(Leave::Ahead(_)));
        match leave {
            Some(Leave::Ahead(last_day)) => {
                ui.label(
                    RichText::new(format!(
                        "Leaves the school: their last day in class is {}. The kiosk marks \
                         them up to that day; then their photos and face data are erased and \
                         the days after it do not count for them. They get no email report \
                         for a range that ends after it.",
                        long_date(last_day)
                    ))
                    .color(super::widgets::WARN),
                );
            }
            Some(Leave::Over(last_day)) => {
                // Until the day's housekeeping erases it, the face is still stored (the
                // kiosk does not mark them meanwhile).
                let face = match s.has_face {
                    true => "is erased in the day's housekeeping",
                    false => "was erased",
                };
                ui.label(
                    RichText::new(format!(
                        "Left the school: their last day in class was {}. Their attendance \
                         up to then is kept; the days after it do not count for them, they \
                         get no email reports, and the kiosk does not recognise them (their \
                         face data {face}).",
                        long_date(last_day)
                    ))
                    .color(super::widgets::WARN),
                );
            }
            None if !s.has_face => {
                ui.label(
                    RichText::new(
                        "No face data is stored for this student: the kiosk cannot \
                         recognise them until photos are added.",
                    )
                    .color(super::widgets::WARN),
                );
            }
            None if !s.camera_enrolled => {
                let add = if changes_here {
                    " Add photos taken at the kiosk's camera for the stronger check."
                } else {
                    ""
                };
                ui.label(
                    RichText::new(format!(
                        "Enrolled from uploaded photos only: the photo-attack check cannot \
                         compare this student with their own live face, so it judges them \
                         more generally.{add}"
                    ))
                    .color(super::widgets::WARN),
                );
            }
            None => {}
        }
        let mut remove = None;
        ui.horizontal_wrapped(|ui| {
            for (i, (pid, tex)) in self.selected_photos.iter().enumerate() {
                // A tile of its own width: one that does not fit goes to the next row
                // whole, where it was squeezed at the panel's edge.
                let tile = Vec2::new(120.0, 130.0);
                ui.allocate_ui_with_layout(tile, egui::Layout::top_down(egui::Align::Min), |ui| {
                    ui.set_min_width(tile.x);
                    ui.add(
                        egui::Image::new(tex)
                            .max_size(Vec2::splat(100.0))
                            .alt_text(format!("Enrolment photo {}", i + 1)),
                    );
                    if ui
                        .add_enabled(
                            !busy,
                            egui::Button::new(format!("Remove photo {}", i + 1))
                                .small()
                                .wrap_mode(egui::TextWrapMode::Extend),
                        )
                        .clicked()
                    {
                        remove = Some(*pid);
                    }
                });
            }
        });
        if let Some(photo_id) = remove {
            self.change = Some(kiosk.admin.remove_photo(photo_id));
        }
        let dest = Destination::Student(id);
        let checking = self.checking(dest);
        // A student who left is not recognised; photos come once they are back (one
        // whose leave is ahead is still in the class).
        let changes_here = changes_here && !matches!(leave, Some(Leave::Over(_)));
        ui.horizontal(|ui| {
            // What a camera photo would take.
            view.small_video(ui, Vec2::new(200.0, 150.0));
            ui.vertical(|ui| {
                if ui
                    .add_enabled(changes_here, egui::Button::new("Add a camera photo"))
                    .clicked()
                {
                    self.checks
                        .push((dest, kiosk.admin.capture_photo(Some(id))));
                }
                if ui
                    .add_enabled(changes_here, egui::Button::new("Add photos from files…"))
                    .clicked()
                {
                    self.files.open(Ask::Photos);
                }
                if checking > 0 {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label(format!("Checking {}…", count(checking, "photo")));
                    });
                }
            });
        });
        if let Some(i) = thumbnails(ui, &self.additions, "new photo", !busy) {
            let p = self.additions.remove(i);
            kiosk.admin.drop_photo(p.ticket);
        }
        for p in self.additions.iter().filter_map(|p| p.look_alike.as_ref()) {
            ui.label(
                RichText::new(format!(
                    "Warning: a new photo looks like {} ({}).",
                    p.name, p.roll_no
                ))
                .color(WARN),
            );
        }
        let unlike = self.unlike_additions();
        if !unlike.is_empty() {
            ui.label(
                RichText::new(if unlike.len() == 1 {
                    format!(
                        "Warning: {} looks like none of {}'s photos so far. Keep it only if \
                         it shows {} (with a new look: glasses, a haircut, …).",
                        numbered("new photo", &unlike),
                        s.name,
                        s.name
                    )
                } else {
                    format!(
                        "Warning: {} look like none of {}'s photos so far. Keep them only \
                         if they show {} (with a new look: glasses, a haircut, …).",
                        numbered("new photo", &unlike),
                        s.name,
                        s.name
                    )
                })
                .color(WARN),
            );
        }
        if !self.additions.is_empty()
            && ui
                .add_enabled(
                    !busy,
                    egui::Button::new(format!("Save {}", count(self.additions.len(), "new photo"))),
                )
                .clicked()
        {
            if unlike.is_empty() {
                self.save_additions(kiosk, id);
            } else {
                self.confirm = Some(Confirm::AddUnlike(id, s.name.clone()));
            }
        }
        for (label, why) in &self.form.refused {
            ui.label(RichText::new(format!("Not used: {label}: {why}")).color(ERROR));
        }
        ui.add_space(10.0);
        ui.add_enabled_ui(view.changes_here() && !busy, |ui| {
            ui.horizontal(|ui| match s.last_day {
                None => {
                    if ui
                        .button("Left the school…")
                        .on_hover_text(
                            "Keeps their attendance up to their last day; erases their face \
                             data once it is over",
                        )
                        .clicked()
                    {
                        self.confirm = Some(Confirm::Day(DayQuestion {
                            id,
                            name: s.name.clone(),
                            back_after: None,
                            not_leaving: false,
                            day: today.to_string(),
                            sent: false,
                            refused: None,
                        }));
                    }
                }
                Some(last_day) => {
                    let label = match leaving {
                        true => "Not leaving after all…",
                        false => "Back in the class…",
                    };
                    if ui.button(label).clicked() {
                        self.confirm = Some(Confirm::Day(DayQuestion {
                            id,
                            name: s.name.clone(),
                            back_after: Some(last_day),
                            not_leaving: leaving,
                            day: first_day_back_by_default(last_day, today).to_string(),
                            sent: false,
                            refused: None,
                        }));
                    }
                }
            });
        });
        ui.horizontal(|ui| {
            // Nothing to erase once erased (or erased as they left).
            let face_data = s.has_face || s.photo_count > 0;
            let erase = ui.add_enabled_ui(view.changes_here() && face_data, |ui| {
                danger_button(
                    ui,
                    "Erase face data",
                    "Removes every photo, face template and face snapshot of this student",
                )
                .on_disabled_hover_text(match face_data {
                    true => "Face data is erased at the office",
                    false => "No face data is stored for this student",
                })
            });
            if erase.inner.clicked() {
                self.confirm = Some(Confirm::Erase(id, s.name.clone()));
            }
            // A door may delete its own student whom the school never took (the school's
            // student of the same roll number or email comes once they are gone).
            let delete = ui.add_enabled_ui(view.changes_here() || s.never_taken, |ui| {
                danger_button(
                    ui,
                    "Delete student",
                    "Removes the student and their attendance for good",
                )
                .on_disabled_hover_text("Students are deleted at the office")
            });
            if delete.inner.clicked() {
                self.confirm = Some(Confirm::Delete(id, s.name.clone()));
            }
        });
    }

    /// The numbers (from 1, as shown) of new photos that look like none of the student's.
    fn unlike_additions(&self) -> Vec<usize> {
        self.additions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.unlike_student)
            .map(|(i, _)| i + 1)
            .collect()
    }

    fn save_additions(&mut self, kiosk: &Kiosk, id: i64) {
        let tickets = self.additions.iter().map(|p| p.ticket).collect();
        self.adding = Some(kiosk.admin.add_photos(id, tickets));
    }

    fn confirm_window(&mut self, ctx: &egui::Context, kiosk: &Kiosk) {
        if let Some(Confirm::Day(_)) = self.confirm {
            return self.day_window(ctx, kiosk);
        }
        let Some(c) = self.confirm.clone() else {
            return;
        };
        let (title, text, action) = match &c {
            Confirm::Erase(_, name) => (
                "Erase face data",
                format!("Erase the face data of {name}? Their photos, face templates and the face snapshots kept with their marks are removed; their attendance is kept."),
                "Erase",
            ),
            Confirm::Delete(_, name) => (
                "Delete student",
                format!("Delete {name}? Their photos, face templates and attendance are removed for good."),
                "Delete",
            ),
            Confirm::Day(_) => return,
            Confirm::AddUnlike(_, name) => (
                "Add photos",
                format!(
                    "Add {} to {name}, though unlike {name}'s photos so far? A photo of \
                     someone else would make the kiosk mark that person as {name}.",
                    numbered("new photo", &self.unlike_additions())
                ),
                "Add anyway",
            ),
        };
        let warning = match &c {
            Confirm::AddUnlike(..) => "Only if the photos show this student",
            _ => "This cannot be undone",
        };
        question_window(title).show(ctx, |ui| {
            ui.label(text);
            ui.horizontal(|ui| {
                let chosen = danger_button(ui, action, warning);
                if chosen.clicked() {
                    match c {
                        Confirm::Erase(id, _) => {
                            self.change = Some(kiosk.admin.erase_face_data(id))
                        }
                        Confirm::Delete(id, _) => {
                            self.selected = None;
                            self.change = Some(kiosk.admin.delete_student(id))
                        }
                        Confirm::AddUnlike(id, _) => self.save_additions(kiosk, id),
                        Confirm::Day(_) => {}
                    }
                    self.confirm = None;
                }
                if ui.button("Cancel").clicked() {
                    self.confirm = None;
                }
            });
        });
    }

    /// The question before recording that a student left (their last day in class) or is
    /// back in the class (their first day back).
    fn day_window(&mut self, ctx: &egui::Context, kiosk: &Kiosk) {
        let Some(Confirm::Day(DayQuestion {
            id,
            name,
            back_after,
            not_leaving,
            day: typed,
            sent,
            refused,
        })) = &mut self.confirm
        else {
            return;
        };
        let (id, back_after, mut done) = (*id, *back_after, None);
        let day = crate::store::stored_day(typed);
        let ahead = day.is_some_and(|d| d > chrono::Local::now().date_naive());
        let (title, text, label) = match back_after {
            None => (
                "Left the school",
                format!(
                    "Record that {name} left the school? Their attendance up to their last \
                     day in class is kept in Review and the exports; the days after it do \
                     not count for them, and they get no more email reports. {}",
                    match ahead {
                        false =>
                            "Their photos and face data are erased now: the kiosk will \
                                  not recognise them.",
                        true =>
                            "Their photos and face data are erased once that day is \
                                 over: the kiosk marks them until then.",
                    }
                ),
                Some("Last day in class"),
            ),
            Some(last_day) if *not_leaving => (
                "Not leaving after all",
                format!(
                    "Record that {name} is not leaving the school after all? Every day after \
                     {} counts for them again, and the kiosk goes on recognising them.",
                    long_date(last_day)
                ),
                None,
            ),
            Some(last_day) => (
                "Back in the class",
                format!(
                    "Record that {name} is in the class again? The days between their last \
                     day in class ({}) and their first day back do not count for them; from \
                     that day on they count. If the leave was recorded by mistake, give the \
                     day after their last day: every day counts again. Add photos \
                     afterwards so that the kiosk recognises them.",
                    long_date(last_day)
                ),
                Some("First day back"),
            ),
        };
        question_window(title).show(ctx, |ui| {
            ui.label(text);
            if let Some(label) = label {
                if field(ui, label, typed, false).changed() {
                    *refused = None;
                }
                hint(
                    ui,
                    match (day, refused.as_deref()) {
                        (None, _) => Some("Write the day as year-month-day, e.g. 2026-12-04."),
                        (Some(_), why) => why,
                    },
                );
            } else {
                hint(ui, refused.as_deref());
            }
            ui.horizontal(|ui| {
                let record = ui.add_enabled_ui(day.is_some() && !*sent, |ui| match back_after {
                    None => danger_button(ui, "Record that they left", "Their face data is erased"),
                    // Nothing is lost by it: an ordinary button.
                    Some(_) => ui.button(title),
                });
                if *sent {
                    ui.spinner();
                }
                if let (true, Some(day)) = (record.inner.clicked(), day) {
                    done = Some(Some(day));
                }
                if ui.button("Cancel").clicked() {
                    done = Some(None);
                }
            });
        });
        match done {
            Some(Some(day)) => {
                *sent = true;
                self.change = Some(match back_after {
                    None => kiosk.admin.student_left(id, day),
                    Some(_) => kiosk.admin.student_back(id, day),
                });
            }
            Some(None) => self.confirm = None,
            None => {}
        }
    }

    /// Starts a bulk import (what "Import…" does after the dialog).
    pub fn start_import(&mut self, kiosk: &Kiosk, path: PathBuf) {
        self.run_import(kiosk, path, PhotosFoundByName::Ask)
    }

    /// Imports the list at `path`; `by_name`: see [`AdminClient::import`].
    fn run_import(&mut self, kiosk: &Kiosk, path: PathBuf, by_name: PhotosFoundByName) {
        self.import_summary = None;
        self.import_question = None;
        let domain = self.import_email_domain.trim().to_string();
        let domain = (!domain.is_empty()).then_some(domain);
        let task = kiosk.admin.import(path.clone(), domain, by_name);
        self.import = Some((path, task));
    }
}

/// What the email domain beside Import… is for.
const IMPORT_EMAIL_DOMAIN: &str = "For Import…: a student of the list without an email is \
     given their roll number at this domain (R12 at school.example: R12@school.example).";

/// Draws thumbnails with a Remove button each; returns the index to remove.
/// "new photo 2", "new photos 1 and 3": photos by their numbers on the screen.
fn numbered(noun: &str, numbers: &[usize]) -> String {
    let n: Vec<String> = numbers.iter().map(usize::to_string).collect();
    match n.as_slice() {
        [one] => format!("{noun} {one}"),
        [rest @ .., last] => format!("{noun}s {} and {last}", rest.join(", ")),
        [] => String::new(),
    }
}

/// Checked photos with a remove button each, named "Remove {noun} N"; which one was
/// removed, if any.
fn thumbnails(ui: &mut egui::Ui, photos: &[FormPhoto], noun: &str, enabled: bool) -> Option<usize> {
    let mut remove = None;
    ui.horizontal_wrapped(|ui| {
        for (i, p) in photos.iter().enumerate() {
            // A fixed size, so the row knows when to wrap before drawing the thumbnail.
            let cell = Vec2::new(100.0, 100.0 + 2.0 * ui.spacing().interact_size.y);
            ui.allocate_ui_with_layout(cell, egui::Layout::top_down(egui::Align::Min), |ui| {
                ui.set_max_width(100.0);
                ui.add(
                    egui::Image::new(&p.texture)
                        .max_size(Vec2::splat(100.0))
                        .alt_text(p.label.clone()),
                );
                // "Remove" under its photo (the cell is too narrow for more on one line);
                // screen readers hear which.
                let remove_label = format!("Remove {noun} {}", i + 1);
                let button = ui
                    .add_enabled(enabled, egui::Button::new("Remove").small())
                    .on_hover_text(format!("Remove {}", p.label));
                button.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, enabled, &remove_label)
                });
                if button.clicked() {
                    remove = Some(i);
                }
            });
        }
    });
    remove
}
