//! The admin screens, behind a PIN: enrolment (camera or files) and student management.
//! Every action is a request to the vision thread; this module only draws and asks.

use super::kiosk::KioskView;
use super::review::ReviewView;
use crate::attendance::admin::LookAlike;
use crate::attendance::import::ImportSummary;
use crate::attendance::pin::PinCheck;
use crate::attendance::{validate_student, MAX_PHOTOS};
use crate::kiosk::admin::{AdminEvent, AdminRequest, CheckedPhoto, Thumbnail};
use crate::kiosk::Kiosk;
use crate::store::Student;
use egui::{Color32, RichText, TextureHandle, Vec2};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The admin mode locks itself after this long without input.
pub const IDLE_LOCK: Duration = Duration::from_secs(120);

const ERROR: Color32 = Color32::from_rgb(0xd0, 0x3a, 0x2f);
const WARN: Color32 = Color32::from_rgb(0xd9, 0x8c, 0x00);
const OK: Color32 = Color32::from_rgb(0x2e, 0x9d, 0x54);

/// Which admin screen is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Enrol,
    Students,
    Review,
}

/// A checked photo waiting in a form.
struct Pending {
    ticket: u64,
    label: String,
    texture: TextureHandle,
    look_alike: Option<LookAlike>,
}

/// The enrolment form.
#[derive(Default)]
struct EnrolForm {
    roll_no: String,
    name: String,
    email: String,
    photos: Vec<Pending>,
    refused: Vec<(String, String)>,
    auto_capture: bool,
    saving: bool,
}

/// What a confirmation dialog would do.
#[derive(Clone, Debug, PartialEq)]
enum Confirm {
    Erase(i64, String),
    Delete(i64, String),
}

/// The admin side of the window.
pub struct AdminView {
    pub unlocked: bool,
    /// The PIN window is open.
    pub asking_pin: bool,
    pin_set: Option<bool>,
    pin: String,
    pin_again: String,
    pin_message: Option<String>,
    last_activity: Instant,
    pub screen: Screen,
    message: Option<(String, Color32)>,
    form: EnrolForm,
    /// Photo checks sent and not yet answered.
    checking: usize,
    students: Vec<Student>,
    search: String,
    selected: Option<i64>,
    edit_name: String,
    edit_email: String,
    selected_photos: Vec<(i64, TextureHandle)>,
    /// Photos checked for adding to the selected student.
    additions: Vec<Pending>,
    confirm: Option<Confirm>,
    import_progress: Option<(usize, usize)>,
    import_summary: Option<ImportSummary>,
    import_email_domain: String,
    pub review: ReviewView,
}

impl Default for AdminView {
    fn default() -> Self {
        AdminView {
            unlocked: false,
            asking_pin: false,
            pin_set: None,
            pin: String::new(),
            pin_again: String::new(),
            pin_message: None,
            last_activity: Instant::now(),
            screen: Screen::Enrol,
            message: None,
            form: EnrolForm::default(),
            checking: 0,
            students: Vec::new(),
            search: String::new(),
            selected: None,
            edit_name: String::new(),
            edit_email: String::new(),
            selected_photos: Vec::new(),
            additions: Vec::new(),
            confirm: None,
            import_progress: None,
            import_summary: None,
            import_email_domain: String::new(),
            review: ReviewView::new(85.0),
        }
    }
}

fn texture(ctx: &egui::Context, name: &str, t: &Thumbnail) -> TextureHandle {
    let image = egui::ColorImage::from_rgba_unmultiplied(t.size, &t.rgba);
    ctx.load_texture(name, image, egui::TextureOptions::LINEAR)
}

/// A text field with a visible label that is also its accessible name.
pub(super) fn field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    password: bool,
) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.add_sized([110.0, 24.0], egui::Label::new(label));
        ui.add(
            egui::TextEdit::singleline(value)
                .password(password)
                .desired_width(280.0),
        )
        .labelled_by(l.id)
    })
    .inner
}

fn hint(ui: &mut egui::Ui, text: Option<String>) {
    if let Some(t) = text {
        ui.label(RichText::new(t).color(ERROR).small());
    }
}

impl AdminView {
    /// Locks the admin mode.
    pub fn lock(&mut self, kiosk: &Kiosk) {
        self.unlocked = false;
        self.asking_pin = false;
        self.pin.clear();
        self.pin_again.clear();
        if self.form.auto_capture {
            self.form.auto_capture = false;
            kiosk.admin(AdminRequest::AutoCapture(false));
        }
    }

    /// Notes input and locks after two idle minutes.
    pub fn tick(&mut self, ctx: &egui::Context, kiosk: &Kiosk) {
        let active = ctx.input(|i| !i.events.is_empty() || i.pointer.is_moving());
        if active {
            self.last_activity = Instant::now();
        }
        if self.unlocked && self.last_activity.elapsed() > IDLE_LOCK {
            self.lock(kiosk);
            self.message = None;
        }
    }

    /// Handles an answer from the vision thread.
    pub fn on_event(&mut self, ctx: &egui::Context, e: AdminEvent, kiosk: &Kiosk) {
        let Some(e) = self.review.on_event(ctx, e, &|r| kiosk.admin(r)) else {
            return;
        };
        match e {
            AdminEvent::PinStatus { set } => self.pin_set = Some(set),
            AdminEvent::PinSet(Ok(())) => {
                self.pin_set = Some(true);
                self.pin_message = None;
                self.open(kiosk);
            }
            AdminEvent::PinSet(Err(why)) => self.pin_message = Some(why),
            AdminEvent::Unlock(PinCheck::Accepted) => self.open(kiosk),
            AdminEvent::Unlock(other) => {
                self.pin.clear();
                self.pin_message = Some(other.message());
            }
            AdminEvent::Students(s) => {
                self.students = s;
                if let Some(st) = self
                    .selected
                    .and_then(|id| self.students.iter().find(|s| s.id == id))
                {
                    self.edit_name = st.name.clone();
                    self.edit_email = st.email.clone();
                } else {
                    self.selected = None;
                }
            }
            AdminEvent::PhotoChecked {
                ticket,
                label,
                outcome,
            } => {
                self.checking = self.checking.saturating_sub(1);
                self.photo_checked(ctx, ticket, label, outcome);
            }
            AdminEvent::Done(m) => {
                if self.form.saving {
                    self.form = EnrolForm::default();
                }
                self.message = Some((m, OK));
            }
            AdminEvent::Failed(m) => {
                self.form.saving = false;
                self.message = Some((m, ERROR));
            }
            AdminEvent::StudentPhotos { id, photos } if Some(id) == self.selected => {
                self.selected_photos = photos
                    .iter()
                    .map(|(pid, t)| (*pid, texture(ctx, &format!("photo-{pid}"), t)))
                    .collect();
            }
            AdminEvent::ImportProgress { done, total } => {
                self.import_progress = Some((done, total))
            }
            AdminEvent::ImportDone(summary) => {
                self.import_progress = None;
                self.import_summary = Some(summary);
            }
            // The review's own answers were taken above.
            _ => {}
        }
    }

    fn open(&mut self, kiosk: &Kiosk) {
        self.unlocked = true;
        self.asking_pin = false;
        self.pin.clear();
        self.pin_again.clear();
        self.pin_message = None;
        self.last_activity = Instant::now();
        kiosk.admin(AdminRequest::ListStudents);
    }

    fn photo_checked(
        &mut self,
        ctx: &egui::Context,
        ticket: u64,
        label: String,
        outcome: Result<CheckedPhoto, String>,
    ) {
        let adding = self.screen == Screen::Students && self.selected.is_some();
        match outcome {
            Ok(p) => {
                let pending = Pending {
                    ticket,
                    texture: texture(ctx, &format!("checked-{ticket}"), &p.thumbnail),
                    label,
                    look_alike: p.look_alike,
                };
                let list = if adding {
                    &mut self.additions
                } else {
                    &mut self.form.photos
                };
                list.push(pending);
                if self.form.photos.len() >= MAX_PHOTOS && self.form.auto_capture {
                    self.form.auto_capture = false;
                }
            }
            Err(reason) => self.form.refused.push((label, reason)),
        }
    }

    /// Sends photo files to be checked (what "Add from files…" does after the dialog).
    pub fn add_files(&mut self, kiosk: &Kiosk, files: &[PathBuf]) {
        let student = if self.screen == Screen::Students {
            self.selected
        } else {
            None
        };
        for f in files {
            let label = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match std::fs::read(f) {
                Ok(bytes) => {
                    self.checking += 1;
                    kiosk.admin(AdminRequest::CheckPhoto {
                        label,
                        bytes,
                        student,
                    });
                }
                Err(e) => self
                    .form
                    .refused
                    .push((label, format!("cannot be read ({e})"))),
            }
        }
    }

    /// The header button: "Admin" (or "Lock" when unlocked).
    pub fn header_button(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk) {
        if self.unlocked {
            if ui.button(RichText::new("Lock").size(18.0)).clicked() {
                self.lock(kiosk);
            }
        } else if ui.button(RichText::new("Admin").size(18.0)).clicked() {
            self.asking_pin = true;
            self.pin_message = None;
            kiosk.admin(AdminRequest::PinStatus);
        }
    }

    /// The PIN window (set the PIN the first time, then unlock with it).
    pub fn pin_window(&mut self, ctx: &egui::Context, kiosk: &Kiosk) {
        if !self.asking_pin || self.unlocked {
            return;
        }
        let mut open = true;
        egui::Window::new("Admin")
            .collapsible(false)
            .resizable(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_CENTER, Vec2::ZERO)
            .show(ctx, |ui| match self.pin_set {
                None => {
                    ui.label("Checking…");
                }
                Some(false) => {
                    ui.label(RichText::new("Set an admin PIN").strong());
                    ui.label("4 to 12 digits. It protects enrolment, student data and closing the kiosk.");
                    field(ui, "New PIN", &mut self.pin, true);
                    field(ui, "PIN again", &mut self.pin_again, true);
                    if let Some(m) = &self.pin_message {
                        ui.label(RichText::new(m).color(ERROR));
                    }
                    if ui.button("Set PIN").clicked() {
                        kiosk.admin(AdminRequest::SetPin {
                            pin: self.pin.clone(),
                            again: self.pin_again.clone(),
                        });
                    }
                }
                Some(true) => {
                    ui.label(RichText::new("Enter the admin PIN").strong());
                    let r = field(ui, "PIN", &mut self.pin, true);
                    if let Some(m) = &self.pin_message {
                        ui.label(RichText::new(m).color(ERROR));
                    }
                    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if ui.button("Unlock").clicked() || enter {
                        kiosk.admin(AdminRequest::Unlock { pin: self.pin.clone() });
                    }
                }
            });
        if !open {
            self.asking_pin = false;
        }
    }

    /// The admin screens, in place of the kiosk's video.
    pub fn show(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, view: &mut KioskView) {
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
                kiosk.admin(AdminRequest::ListStudents);
            }
            if ui
                .selectable_value(
                    &mut self.screen,
                    Screen::Review,
                    RichText::new("Review").size(18.0),
                )
                .clicked()
            {
                self.review.load(&|r| kiosk.admin(r));
            }
        });
        ui.separator();
        if let Some((m, colour)) = &self.message {
            ui.label(RichText::new(m).color(*colour).size(16.0));
        }
        match self.screen {
            Screen::Enrol => {
                egui::ScrollArea::vertical().show(ui, |ui| self.enrol_screen(ui, kiosk, view));
            }
            Screen::Students => {
                egui::ScrollArea::vertical().show(ui, |ui| self.students_screen(ui, kiosk));
            }
            // The review table scrolls by itself.
            Screen::Review => self.review.show(ui, &|r| kiosk.admin(r)),
        }
    }

    fn taken_by(&self, pick: impl Fn(&Student) -> bool) -> Option<String> {
        self.students
            .iter()
            .find(|s| pick(s))
            .map(|s| format!("{} ({})", s.name, s.roll_no))
    }

    fn enrol_screen(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, view: &mut KioskView) {
        ui.columns(2, |cols| {
            let ui = &mut cols[0];
            ui.heading("New student");
            let f = &self.form;
            let roll = f.roll_no.trim().to_string();
            let email = f.email.trim().to_string();
            let roll_hint = if roll.is_empty() {
                Some("Required.".to_string())
            } else {
                self.taken_by(|s| s.roll_no == roll)
                    .map(|w| format!("Already used by {w}."))
            };
            let name_hint = f.name.trim().is_empty().then(|| "Required.".to_string());
            let email_hint = if email.is_empty() {
                Some("Required.".to_string())
            } else if validate_student("x", "x", &email).is_err() {
                Some("Not a valid email address.".to_string())
            } else {
                self.taken_by(|s| s.email.eq_ignore_ascii_case(&email))
                    .map(|w| format!("Already used by {w}."))
            };
            field(ui, "Roll no", &mut self.form.roll_no, false);
            hint(ui, roll_hint.clone());
            field(ui, "Name", &mut self.form.name, false);
            hint(ui, name_hint.clone());
            field(ui, "Email", &mut self.form.email, false);
            hint(ui, email_hint.clone());
            ui.add_space(8.0);
            let n = self.form.photos.len();
            ui.label(RichText::new(format!("Photos: {n} / {MAX_PHOTOS}")).strong());
            if n == 0 {
                hint(ui, Some("Add at least one photo.".into()));
            }
            if self.checking > 0 {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Checking {} photo(s)…", self.checking));
                });
            }
            let look_alikes: Vec<String> = self
                .form
                .photos
                .iter()
                .filter_map(|p| p.look_alike.as_ref())
                .map(|l| format!("{} ({})", l.name, l.roll_no))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !look_alikes.is_empty() {
                ui.label(
                    RichText::new(format!(
                        "Warning: these photos look like {}, who is already enrolled.",
                        look_alikes.join(", ")
                    ))
                    .color(WARN),
                );
            }
            let ready = roll_hint.is_none()
                && name_hint.is_none()
                && email_hint.is_none()
                && (1..=MAX_PHOTOS).contains(&n)
                && self.checking == 0
                && !self.form.saving;
            let save_label = if look_alikes.is_empty() {
                "Save"
            } else {
                "Save anyway"
            };
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(
                        ready,
                        egui::Button::new(RichText::new(save_label).size(18.0)),
                    )
                    .clicked()
                {
                    self.form.saving = true;
                    self.message = None;
                    kiosk.admin(AdminRequest::Enroll {
                        roll_no: self.form.roll_no.clone(),
                        name: self.form.name.clone(),
                        email: self.form.email.clone(),
                        tickets: self.form.photos.iter().map(|p| p.ticket).collect(),
                    });
                }
                if self.form.saving {
                    ui.spinner();
                    ui.label("Saving and updating the recogniser…");
                }
            });

            let ui = &mut cols[1];
            ui.heading("Photos");
            view.small_video(ui, Vec2::new(320.0, 240.0));
            ui.horizontal(|ui| {
                let room = n < MAX_PHOTOS;
                if ui.add_enabled(room, egui::Button::new("Capture")).clicked() {
                    self.checking += 1;
                    kiosk.admin(AdminRequest::CapturePhoto { student: None });
                }
                let mut auto = self.form.auto_capture;
                if ui
                    .add_enabled(room, egui::Checkbox::new(&mut auto, "Auto-capture"))
                    .changed()
                {
                    self.form.auto_capture = auto;
                    kiosk.admin(AdminRequest::AutoCapture(auto));
                }
                if ui
                    .add_enabled(room, egui::Button::new("Add from files…"))
                    .clicked()
                {
                    if let Some(files) = rfd::FileDialog::new()
                        .add_filter("Photos", &["jpg", "jpeg", "png", "bmp", "webp"])
                        .pick_files()
                    {
                        self.add_files(kiosk, &files);
                    }
                }
            });
            if let Some(i) = thumbnails(ui, &self.form.photos) {
                let p = self.form.photos.remove(i);
                kiosk.admin(AdminRequest::DropPhoto { ticket: p.ticket });
            }
            for (label, why) in &self.form.refused {
                ui.label(RichText::new(format!("Not used: {label}: {why}")).color(ERROR));
            }
            if !self.form.refused.is_empty() && ui.small_button("Clear these notes").clicked() {
                self.form.refused.clear();
            }
        });
    }

    fn select(&mut self, kiosk: &Kiosk, s: &Student) {
        self.selected = Some(s.id);
        self.edit_name = s.name.clone();
        self.edit_email = s.email.clone();
        self.selected_photos.clear();
        self.additions.clear();
        kiosk.admin(AdminRequest::StudentPhotos { id: s.id });
    }

    fn students_screen(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk) {
        ui.horizontal(|ui| {
            field(ui, "Search", &mut self.search, false);
            if ui.button("Import…").clicked() {
                let picked = rfd::FileDialog::new().pick_folder().or_else(|| {
                    rfd::FileDialog::new()
                        .add_filter("CSV", &["csv"])
                        .pick_file()
                });
                if let Some(path) = picked {
                    self.import(kiosk, path);
                }
            }
            field(ui, "Email domain", &mut self.import_email_domain, false);
        });
        if let Some((done, total)) = self.import_progress {
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                    .text(format!("Importing {done} / {total}")),
            );
        }
        if let Some(s) = &self.import_summary {
            ui.label(RichText::new(format!("Imported {} student(s).", s.enrolled.len())).color(OK));
            for (who, why) in &s.refused {
                ui.label(RichText::new(format!("Not imported: {who}: {why}")).color(ERROR));
            }
            for (who, note) in &s.photo_notes {
                ui.label(RichText::new(format!("Photo not used: {who}: {note}")).color(WARN));
            }
        }
        ui.separator();
        let q = self.search.trim().to_lowercase();
        let shown: Vec<Student> = self
            .students
            .iter()
            .filter(|s| {
                q.is_empty()
                    || s.roll_no.to_lowercase().contains(&q)
                    || s.name.to_lowercase().contains(&q)
                    || s.email.to_lowercase().contains(&q)
            })
            .cloned()
            .collect();
        egui::Grid::new("students")
            .striped(true)
            .num_columns(7)
            .show(ui, |ui| {
                for h in [
                    "Roll no",
                    "Name",
                    "Email",
                    "Photos",
                    "Enrolled on",
                    "Last seen",
                    "",
                ] {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for s in &shown {
                    ui.label(&s.roll_no);
                    ui.label(&s.name);
                    ui.label(&s.email);
                    ui.label(s.photo_count.to_string());
                    ui.label(s.enrolled_at.get(..10).unwrap_or(&s.enrolled_at));
                    ui.label(
                        s.last_seen
                            .as_deref()
                            .map(|t| t.get(..16).unwrap_or(t).replace('T', " "))
                            .unwrap_or_else(|| "never".into()),
                    );
                    if ui.button(format!("Open {}", s.roll_no)).clicked() {
                        self.select(kiosk, s);
                    }
                    ui.end_row();
                }
            });
        ui.label(format!(
            "{} of {} student(s)",
            shown.len(),
            self.students.len()
        ));
        if let Some(id) = self.selected {
            ui.separator();
            self.student_details(ui, kiosk, id);
        }
        self.confirm_window(ui.ctx(), kiosk);
    }

    fn student_details(&mut self, ui: &mut egui::Ui, kiosk: &Kiosk, id: i64) {
        let Some(s) = self.students.iter().find(|s| s.id == id).cloned() else {
            return;
        };
        ui.heading(format!("{} ({})", s.name, s.roll_no));
        field(ui, "Name", &mut self.edit_name, false);
        field(ui, "Email", &mut self.edit_email, false);
        let invalid = validate_student(&s.roll_no, &self.edit_name, &self.edit_email).err();
        hint(ui, invalid.clone().map(|w| format!("Cannot save: {w}.")));
        if ui
            .add_enabled(invalid.is_none(), egui::Button::new("Save changes"))
            .clicked()
        {
            kiosk.admin(AdminRequest::UpdateStudent {
                id,
                name: self.edit_name.clone(),
                email: self.edit_email.clone(),
            });
        }
        ui.add_space(6.0);
        ui.label(RichText::new(format!("Photos ({})", self.selected_photos.len())).strong());
        let mut remove = None;
        ui.horizontal_wrapped(|ui| {
            for (pid, tex) in &self.selected_photos {
                ui.vertical(|ui| {
                    ui.add(
                        egui::Image::new(tex)
                            .max_size(Vec2::splat(100.0))
                            .alt_text("Enrolment photo"),
                    );
                    if ui.small_button("Remove").clicked() {
                        remove = Some(*pid);
                    }
                });
            }
        });
        if let Some(photo_id) = remove {
            kiosk.admin(AdminRequest::RemovePhoto { id, photo_id });
        }
        ui.horizontal(|ui| {
            if ui.button("Add photos from files…").clicked() {
                if let Some(files) = rfd::FileDialog::new()
                    .add_filter("Photos", &["jpg", "jpeg", "png", "bmp", "webp"])
                    .pick_files()
                {
                    self.add_files(kiosk, &files);
                }
            }
            if ui.button("Add a camera photo").clicked() {
                self.checking += 1;
                kiosk.admin(AdminRequest::CapturePhoto { student: Some(id) });
            }
        });
        if let Some(i) = thumbnails(ui, &self.additions) {
            let p = self.additions.remove(i);
            kiosk.admin(AdminRequest::DropPhoto { ticket: p.ticket });
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
        if !self.additions.is_empty()
            && ui
                .button(format!("Save {} new photo(s)", self.additions.len()))
                .clicked()
        {
            kiosk.admin(AdminRequest::AddPhotos {
                id,
                tickets: self.additions.drain(..).map(|p| p.ticket).collect(),
            });
        }
        for (label, why) in &self.form.refused {
            ui.label(RichText::new(format!("Not used: {label}: {why}")).color(ERROR));
        }
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            if ui.button("Erase face data").clicked() {
                self.confirm = Some(Confirm::Erase(id, s.name.clone()));
            }
            if ui.button("Delete student").clicked() {
                self.confirm = Some(Confirm::Delete(id, s.name.clone()));
            }
        });
    }

    fn confirm_window(&mut self, ctx: &egui::Context, kiosk: &Kiosk) {
        let Some(c) = self.confirm.clone() else {
            return;
        };
        let (title, text, action) = match &c {
            Confirm::Erase(_, name) => (
                "Erase face data",
                format!("Erase the face data of {name}? Their photos and face templates are removed; their attendance is kept."),
                "Erase",
            ),
            Confirm::Delete(_, name) => (
                "Delete student",
                format!("Delete {name}? Their photos, face templates and attendance are removed for good."),
                "Delete",
            ),
        };
        egui::Window::new(title)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, Vec2::ZERO)
            .show(ctx, |ui| {
                ui.label(text);
                ui.horizontal(|ui| {
                    if ui.button(action).clicked() {
                        match c {
                            Confirm::Erase(id, _) => {
                                kiosk.admin(AdminRequest::EraseFaceData { id })
                            }
                            Confirm::Delete(id, _) => {
                                kiosk.admin(AdminRequest::DeleteStudent { id });
                                self.selected = None;
                            }
                        }
                        self.confirm = None;
                    }
                    if ui.button("Cancel").clicked() {
                        self.confirm = None;
                    }
                });
            });
    }

    /// Starts a bulk import (what "Import…" does after the dialog).
    pub fn import(&mut self, kiosk: &Kiosk, path: PathBuf) {
        self.import_summary = None;
        self.import_progress = Some((0, 0));
        let domain = self.import_email_domain.trim().to_string();
        kiosk.admin(AdminRequest::Import {
            path,
            email_domain: (!domain.is_empty()).then_some(domain),
        });
    }
}

/// Draws thumbnails with a Remove button each; returns the index to remove.
fn thumbnails(ui: &mut egui::Ui, photos: &[Pending]) -> Option<usize> {
    let mut remove = None;
    ui.horizontal_wrapped(|ui| {
        for (i, p) in photos.iter().enumerate() {
            ui.vertical(|ui| {
                ui.add(
                    egui::Image::new(&p.texture)
                        .max_size(Vec2::splat(100.0))
                        .alt_text(p.label.clone()),
                );
                if ui.small_button(format!("Remove {}", p.label)).clicked() {
                    remove = Some(i);
                }
            });
        }
    });
    remove
}
