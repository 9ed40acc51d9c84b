//! The review screen: students × class days (P/A), totals, corrections with a reason, the
//! audit log, the day view with face snapshots, charts, exports and email reports.
//!
//! The table paints only the rows and day columns in view, so 2,000 students × 200 days
//! stay smooth.

use super::files::{Ask, FileChooser};
use super::widgets::{
    danger_button, field, movable_window_from, question_window, texture, ERROR, WARN, WINDOW_TOP,
};
use crate::kiosk::admin::{
    AdminClient, Answer, DayMark, DayView, Outcome, Pending, RefusedFace, Task,
};
use crate::reports::{
    percent_text, EmailPreview, Emailing, Format, Range, SendSummary, Sheet, SheetRow,
    TODAY_LEFT_OUT,
};
use crate::store::{backup_reminder, AuditRow, EmailLogRow};
use crate::wording::count;
use chrono::NaiveDate;
use egui::{Color32, FontId, Pos2, RichText, Sense, TextureHandle, Vec2};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

/// How Review counts class days, said on the screen.
pub const CLASS_DAY_RULE: &str =
    "A class day is a day on which the kiosk marked anyone, or a day an admin \
declared. Percentages count only class days since each student was enrolled.";

/// Said under a table that shows today, whose classes may not be over.
const TODAY_AS_IT_STANDS: &str = "Today is shown as it stands: a student not marked yet \
     counts as absent today until they come. Email reports count today only once its \
     classes are over.";

/// What the sheet shown records of a student's day.
enum Recorded {
    /// A class day's cell: present or not, decided by hand or not, counted (enrolled by then).
    ClassDay {
        present: bool,
        by_hand: bool,
        counted: bool,
    },
    /// A day that is not a class day, with the decision by hand made for it, if any.
    OffClassDay(Option<bool>),
}

/// What `sheet` records of `student_id` on `day`; `None` outside the range shown (or for a
/// student not on it).
fn recorded(sheet: &Sheet, student_id: i64, day: NaiveDate) -> Option<Recorded> {
    if !(sheet.from..=sheet.to).contains(&day) {
        return None;
    }
    let Some(c) = sheet.days.iter().position(|d| *d == day) else {
        let by_hand = sheet
            .by_hand_off_class_days
            .iter()
            .find(|(id, d, _)| *id == student_id && *d == day);
        return Some(Recorded::OffClassDay(
            by_hand.map(|&(_, _, present)| present),
        ));
    };
    let row = sheet.rows.iter().find(|r| r.student_id == student_id)?;
    Some(Recorded::ClassDay {
        present: row.present[c],
        by_hand: row.by_hand.get(c) == Some(&true),
        counted: row.counted.get(c) == Some(&true),
    })
}

/// What the records shown say of a student's `day`, for the correction window; `None`
/// outside the range shown.
fn recorded_now(sheet: &Sheet, student_id: i64, day: NaiveDate) -> Option<&'static str> {
    const ABSENT_BY_HAND: &str =
        "Now: absent, recorded by hand (the kiosk does not mark them that day).";
    Some(match recorded(sheet, student_id, day)? {
        Recorded::OffClassDay(Some(true)) => {
            "Now: present, marked by hand (not a class day: it counts for nobody)."
        }
        Recorded::OffClassDay(Some(false)) => ABSENT_BY_HAND,
        Recorded::OffClassDay(None) => "Now: no record (not a class day).",
        Recorded::ClassDay {
            present: true,
            by_hand: true,
            ..
        } => "Now: present, marked by hand.",
        Recorded::ClassDay { present: true, .. } => "Now: present, recognised by Rollcall.",
        Recorded::ClassDay { counted: false, .. } => {
            "Now: not counted (the day is before their enrolment)."
        }
        Recorded::ClassDay { by_hand: true, .. } => ABSENT_BY_HAND,
        Recorded::ClassDay { .. } => "Now: absent (not marked that day).",
    })
}

/// Whether the records shown hold `student_id` present on `day`; `None` outside the range
/// shown.
fn present_now(sheet: &Sheet, student_id: i64, day: NaiveDate) -> Option<bool> {
    recorded(sheet, student_id, day).map(|r| match r {
        Recorded::ClassDay { present, .. } => present,
        Recorded::OffClassDay(by_hand) => by_hand == Some(true),
    })
}

/// The table's legend for days decided by hand, shown when there are some.
const BY_HAND_RULE: &str = "P* and A*: decided by hand in a correction. On a day of A* \
the kiosk does not mark the student; correcting it to present undoes that.";

/// The table's legend for students who left, shown when there are some.
const LEFT_RULE: &str = "(left): the student left the school ((leaving): leaves it); the days \
after their last day in class do not count for them (\"-\").";

const AWAY_RULE: &str = "Away: the student left the school and came back; the class days \
they were away do not count for them (\"-\").";

const ROW_H: f32 = 22.0;
const ROLL_W: f32 = 90.0;
const NAME_W: f32 = 170.0;
const DAY_W: f32 = 30.0;
const TOTAL_W: f32 = 60.0;
/// Space between the last day's column and the totals.
const TOTALS_GAP: f32 = 10.0;
const ABSENT: Color32 = ERROR;
const UNDER_BG: Color32 = Color32::from_rgba_premultiplied(0x60, 0x10, 0x10, 0x60);

/// The range picker's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeChoice {
    Week,
    Month,
    Custom,
}

/// How the table is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    RollNo,
    Name,
    Percent,
}

/// A correction being entered.
#[derive(Clone, Debug, PartialEq)]
struct Correction {
    student_id: i64,
    who: String,
    day: String,
    present: bool,
    /// The day `present` was proposed for (the opposite of what it holds): typing another
    /// date proposes again.
    chosen_for: NaiveDate,
    reason: String,
    /// Declare the day a class day first (offered when the sheet shown does not have it).
    declare: bool,
}

/// The day shown in the day view.
struct DayShown {
    day: NaiveDate,
    /// Its marks, each with its snapshot.
    marks: Vec<(DayMark, Option<TextureHandle>)>,
    /// When and by whom it was declared a class day, if it was.
    declared: Option<String>,
    /// Students enrolled by then and not marked (`None`: not a class day).
    not_marked: Option<Vec<String>>,
    /// The admin asked to withdraw the declaration: confirm first.
    confirm_withdraw: bool,
}

/// The email dialog.
struct EmailDialog {
    /// Whose reports, over which days: the range chosen when the dialog opened.
    run: Emailing,
    preview: Option<EmailPreview>,
    preview_req: Option<Pending<Result<EmailPreview, String>>>,
    sending: Option<Task<Result<SendSummary, String>>>,
    result: Option<Result<SendSummary, String>>,
}

impl EmailDialog {
    /// The dialog for `run`, its preview asked for.
    fn previewing(admin: &AdminClient, run: Emailing) -> EmailDialog {
        EmailDialog {
            preview_req: Some(admin.email_preview(run.clone())),
            run,
            preview: None,
            sending: None,
            result: None,
        }
    }
}

/// Answers the review screen is waiting for.
#[derive(Default)]
struct Asked {
    sheet: Option<Pending<Result<Arc<Sheet>, String>>>,
    day: Option<(NaiveDate, Answer<DayView>)>,
    audit: Option<Pending<Result<Vec<AuditRow>, String>>>,
    email_log: Option<Pending<Result<Vec<EmailLogRow>, String>>>,
    refusals: Option<Pending<Result<Vec<RefusedFace>, String>>>,
    correction: Option<Pending<Outcome>>,
    /// An export or a backup being written.
    file: Option<Pending<Outcome>>,
    /// A backup being restored.
    restore: Option<Pending<Outcome>>,
    last_backup: Option<Answer<crate::store::BackupState>>,
}

/// What the save dialog is choosing a file for.
enum SaveAs {
    Export(Format, NaiveDate, NaiveDate),
    Backup,
}

/// State of the review screen. Requests go to the admin worker.
pub struct ReviewView {
    pub range: RangeChoice,
    pub from_text: String,
    pub to_text: String,
    pub sheet: Option<Arc<Sheet>>,
    /// Only this door's marks count (several doors on one school server).
    pub door: Option<String>,
    /// Where Review's windows (audit log, refused faces, email reports) first open: under
    /// its controls, so the date range the reports cover stays in view.
    windows_top: f32,
    pub search: String,
    pub sort: SortBy,
    pub descending: bool,
    pub threshold: f64,
    selected: Option<i64>,
    correction: Option<Correction>,
    day_text: String,
    day_shown: Option<DayShown>,
    audit: Option<Vec<AuditRow>>,
    email_log: Option<Vec<EmailLogRow>>,
    refusals: Option<Vec<(RefusedFace, Option<TextureHandle>)>>,
    email: Option<EmailDialog>,
    asked: Asked,
    /// The latest outcome of a correction, an export or a backup.
    message: Option<(String, Color32)>,
    /// What the file dialog is choosing a file for.
    save_as: Option<SaveAs>,
    /// The backup file chosen to restore, while the admin has still to confirm.
    restoring: Option<PathBuf>,
    /// What to say about the last backup, and whether it calls for one now.
    last_backup: Option<(String, bool)>,
    /// Where the daily backups are, for the restore picker to open.
    daily_folder: Option<std::path::PathBuf>,
    files: FileChooser,
}

impl ReviewView {
    pub fn new(threshold: f64) -> ReviewView {
        let today = chrono::Local::now().date_naive();
        let (from, to) = Range::ThisMonth.bounds(today);
        ReviewView {
            range: RangeChoice::Month,
            from_text: from.to_string(),
            to_text: to.to_string(),
            sheet: None,
            door: None,
            windows_top: WINDOW_TOP,
            search: String::new(),
            sort: SortBy::RollNo,
            descending: false,
            threshold,
            selected: None,
            correction: None,
            day_text: today.to_string(),
            day_shown: None,
            audit: None,
            email_log: None,
            refusals: None,
            email: None,
            asked: Asked::default(),
            message: None,
            save_as: None,
            restoring: None,
            last_backup: None,
            daily_folder: None,
            files: FileChooser::default(),
        }
    }

    /// The chosen range, if its dates are valid.
    fn bounds(&self) -> Option<(NaiveDate, NaiveDate)> {
        let today = chrono::Local::now().date_naive();
        match self.range {
            RangeChoice::Week => Some(Range::ThisWeek.bounds(today)),
            RangeChoice::Month => Some(Range::ThisMonth.bounds(today)),
            RangeChoice::Custom => {
                let from = crate::store::stored_day(&self.from_text)?;
                let to = crate::store::stored_day(&self.to_text)?;
                (from <= to).then_some((from, to))
            }
        }
    }

    /// Closes the windows open over the screen (a correction half typed, a restore to
    /// confirm, email reports not sent, the audit log, the refused faces), so that whoever
    /// unlocks next finds none of them left open. Email reports being sent, or sent, stay:
    /// the admin comes back to see how it went (the screens lock while they wait).
    pub fn close_windows(&mut self) {
        self.correction = None;
        self.restoring = None;
        self.files.forget();
        self.save_as = None;
        if self
            .email
            .as_ref()
            .is_some_and(|d| d.sending.is_none() && d.result.is_none())
        {
            self.email = None;
        }
        self.audit = None;
        self.email_log = None;
        self.refusals = None;
    }

    /// Asks for the sheet of the chosen range, and the open day again (marks, snapshots and
    /// names may have changed on another screen).
    pub fn load(&mut self, admin: &AdminClient) {
        if let Some((from, to)) = self.bounds() {
            self.asked.sheet = Some(admin.sheet(from, to, self.door.clone()));
        }
        if let Some(shown) = &self.day_shown {
            self.asked.day = Some((shown.day, admin.day_marks(shown.day)));
        }
        self.asked.last_backup = Some(admin.last_backup());
    }

    /// Takes the answers that came since the last frame.
    pub fn take_answers(&mut self, ctx: &egui::Context, admin: &AdminClient) {
        fn flat<T>(
            r: Result<Result<T, String>, super::super::kiosk::admin::Lost>,
        ) -> Result<T, String> {
            r.unwrap_or_else(|lost| Err(lost.to_string()))
        }
        if let Some(r) = self.asked.sheet.as_ref().and_then(Pending::poll) {
            self.asked.sheet = None;
            match flat(r) {
                Ok(s) => self.sheet = Some(s),
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        if let Some((day, r)) = self
            .asked
            .day
            .as_ref()
            .and_then(|(d, p)| p.poll().map(|r| (*d, r)))
        {
            self.asked.day = None;
            match flat(r) {
                Ok(view) => {
                    let marks = view
                        .marks
                        .into_iter()
                        .enumerate()
                        .map(|(i, m)| {
                            let tex = m
                                .snapshot
                                .as_ref()
                                .map(|t| texture(ctx, &format!("snapshot-{day}-{i}"), t));
                            (m, tex)
                        })
                        .collect();
                    self.day_shown = Some(DayShown {
                        day,
                        marks,
                        declared: view.declared,
                        not_marked: view.not_marked,
                        confirm_withdraw: false,
                    });
                }
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        if let Some(r) = self.asked.audit.as_ref().and_then(Pending::poll) {
            self.asked.audit = None;
            match flat(r) {
                Ok(rows) => self.audit = Some(rows),
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        if let Some(r) = self.asked.email_log.as_ref().and_then(Pending::poll) {
            self.asked.email_log = None;
            match flat(r) {
                Ok(rows) => self.email_log = Some(rows),
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        if let Some(r) = self.asked.refusals.as_ref().and_then(Pending::poll) {
            self.asked.refusals = None;
            match flat(r) {
                Ok(rows) => {
                    let rows = rows
                        .into_iter()
                        .enumerate()
                        .map(|(i, r)| {
                            let tex = r
                                .snapshot
                                .as_ref()
                                .map(|t| texture(ctx, &format!("refused-{i}"), t));
                            (r, tex)
                        })
                        .collect();
                    self.refusals = Some(rows);
                }
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        if let Some(r) = self.asked.correction.as_ref().and_then(Pending::poll) {
            self.asked.correction = None;
            match flat(r) {
                Ok(m) => {
                    // A correction went through: refresh the table, the day and the log.
                    self.correction = None;
                    self.message = Some((m, super::widgets::OK));
                    self.load(admin);
                    if self.audit.is_some() {
                        self.asked.audit = Some(admin.audit_log());
                    }
                }
                Err(e) => self.message = Some((e, ERROR)),
            }
        }
        if let Some(r) = self.asked.file.as_ref().and_then(Pending::poll) {
            self.asked.file = None;
            self.message = Some(match flat(r) {
                Ok(m) => {
                    self.asked.last_backup = Some(admin.last_backup());
                    (m, super::widgets::OK)
                }
                Err(e) => (e, ERROR),
            });
        }
        if let Some(r) = self.asked.last_backup.as_ref().and_then(Pending::poll) {
            self.asked.last_backup = None;
            if let Ok(state) = flat(r) {
                self.last_backup = Some(backup_reminder(&state, chrono::Local::now()));
                self.daily_folder = state.daily_folder;
            }
        }
        if let Some(r) = self.asked.restore.as_ref().and_then(Pending::poll) {
            self.asked.restore = None;
            self.message = Some(match flat(r) {
                Ok(m) => {
                    self.load(admin);
                    (m, super::widgets::OK)
                }
                Err(e) => (e, ERROR),
            });
        }
        if let Some(d) = &mut self.email {
            if let Some(r) = d.preview_req.as_ref().and_then(Pending::poll) {
                d.preview_req = None;
                match flat(r) {
                    Ok(p) => d.preview = Some(p),
                    Err(e) => d.result = Some(Err(e)),
                }
            }
            if let Some(r) = d.sending.as_ref().and_then(Task::poll) {
                d.sending = None;
                d.result = Some(flat(r));
                if self.email_log.is_some() {
                    self.asked.email_log = Some(admin.email_log());
                }
            }
        }
    }

    /// The rows shown: searched and sorted.
    pub fn visible_rows<'a>(&self, sheet: &'a Sheet) -> Vec<&'a SheetRow> {
        let q = self.search.trim().to_lowercase();
        let mut rows: Vec<&SheetRow> = sheet
            .rows
            .iter()
            .filter(|r| {
                q.is_empty()
                    || r.roll_no.to_lowercase().contains(&q)
                    || r.name.to_lowercase().contains(&q)
            })
            .collect();
        match self.sort {
            SortBy::RollNo => {
                rows.sort_by(|a, b| crate::order::natural_cmp(&a.roll_no, &b.roll_no))
            }
            SortBy::Name => rows.sort_by_cached_key(|r| r.name.to_lowercase()),
            SortBy::Percent => rows.sort_by(|a, b| {
                a.percent()
                    .unwrap_or(-1.0)
                    .total_cmp(&b.percent().unwrap_or(-1.0))
            }),
        }
        if self.descending {
            rows.reverse();
        }
        rows
    }

    /// Draws the review screen. Everything below the controls scrolls, so every part is
    /// reachable in a small window; the table scrolls inside it. `corrections_elsewhere`:
    /// why attendance is not corrected here, when it is not (a door whose login to the
    /// school server may only add marks: "Corrections are made at the office.").
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        admin: &AdminClient,
        corrections_elsewhere: Option<&str>,
    ) {
        if self.sheet.is_none() && self.asked.sheet.is_none() {
            self.load(admin);
        }
        self.controls(ui, admin);
        if let Some((text, remind)) = &self.last_backup {
            let text = RichText::new(text);
            ui.label(if *remind {
                text.color(WARN)
            } else {
                text.weak()
            });
        }
        if let Some((m, colour)) = &self.message {
            ui.label(RichText::new(m).color(*colour));
        }
        if let Some(p) = &self.files.problem {
            ui.label(RichText::new(p).color(ERROR));
        }
        match self.files.show(ui.ctx()) {
            Some((Ask::Save { .. }, paths)) => {
                self.asked.file = match (self.save_as.take(), paths.into_iter().next()) {
                    (Some(SaveAs::Export(format, from, to)), Some(path)) => {
                        Some(admin.export(path, format, from, to))
                    }
                    (Some(SaveAs::Backup), Some(path)) => Some(admin.backup(path)),
                    _ => None,
                };
            }
            Some((Ask::Backup { .. }, paths)) => {
                self.restoring = paths.into_iter().next();
            }
            _ => {}
        }
        self.restoring_notice(ui);
        // Before the table: a restore is what a table that cannot be read may call for.
        self.restore_window(ui.ctx(), admin);
        ui.separator();
        let Some(sheet) = self.sheet.clone() else {
            ui.spinner();
            return;
        };
        egui::ScrollArea::vertical()
            .id_salt("review-page")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.label(format!(
                    "{} to {}: {}, {}. {}",
                    sheet.from,
                    sheet.to,
                    count(sheet.rows.len(), "student"),
                    count(sheet.days.len(), "class day"),
                    corrections_elsewhere.unwrap_or("Click a row to correct it.")
                ));
                ui.label(RichText::new(CLASS_DAY_RULE).weak().small());
                if sheet.days.contains(&chrono::Local::now().date_naive()) {
                    ui.label(RichText::new(TODAY_AS_IT_STANDS).weak().small());
                }
                if sheet.rows.iter().any(|r| r.days_by_hand() > 0) {
                    ui.label(RichText::new(BY_HAND_RULE).weak().small());
                }
                if sheet.rows.iter().any(|r| r.last_day.is_some()) {
                    ui.label(RichText::new(LEFT_RULE).weak().small());
                }
                if sheet.rows.iter().any(|r| r.away_days > 0) {
                    ui.label(RichText::new(AWAY_RULE).weak().small());
                }
                self.table(ui, &sheet, corrections_elsewhere.is_none());
                ui.separator();
                egui::CollapsingHeader::new("Charts")
                    .id_salt("charts")
                    .show(ui, |ui| self.charts(ui, &sheet));
                egui::CollapsingHeader::new("Day view")
                    .id_salt("day-view")
                    .show(ui, |ui| {
                        self.day_view(ui, admin, corrections_elsewhere.is_none())
                    });
            });
        self.correction_window(ui.ctx(), admin);
        self.audit_window(ui.ctx());
        self.email_log_window(ui.ctx());
        self.refusals_window(ui.ctx());
        self.email_window(ui.ctx(), admin);
    }

    /// "Door: All doors / North door / …", when more than one door marked in the range.
    fn door_picker(&mut self, ui: &mut egui::Ui) {
        let doors = self
            .sheet
            .as_ref()
            .map(|s| s.doors.clone())
            .unwrap_or_default();
        if doors.len() < 2 && self.door.is_none() {
            return;
        }
        egui::ComboBox::from_label("Door")
            .selected_text(self.door.as_deref().unwrap_or("All doors"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.door, None, "All doors");
                for d in doors {
                    let label = d.clone();
                    ui.selectable_value(&mut self.door, Some(d), label);
                }
            });
    }

    fn controls(&mut self, ui: &mut egui::Ui, admin: &AdminClient) {
        ui.horizontal_wrapped(|ui| {
            let before = self.range;
            ui.radio_value(&mut self.range, RangeChoice::Week, "This week");
            ui.radio_value(&mut self.range, RangeChoice::Month, "This month");
            ui.radio_value(&mut self.range, RangeChoice::Custom, "Custom");
            if self.range == RangeChoice::Custom {
                for (label, text) in [("From", &mut self.from_text), ("To", &mut self.to_text)] {
                    let l = ui.label(label);
                    ui.add(egui::TextEdit::singleline(text).desired_width(100.0))
                        .labelled_by(l.id);
                }
            }
            if self.bounds().is_none() {
                ui.label(
                    RichText::new("Dates are YYYY-MM-DD, the first not after the second.")
                        .color(ABSENT),
                );
            }
            let door_before = self.door.clone();
            self.door_picker(ui);
            if ui.button("Show").clicked()
                || (before != self.range && self.range != RangeChoice::Custom)
                || door_before != self.door
            {
                self.load(admin);
            }
        });
        ui.horizontal_wrapped(|ui| {
            field(ui, "Search", &mut self.search, false);
            egui::ComboBox::from_label("Sort by")
                .selected_text(match self.sort {
                    SortBy::RollNo => "Roll no",
                    SortBy::Name => "Name",
                    SortBy::Percent => "Attendance %",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.sort, SortBy::RollNo, "Roll no");
                    ui.selectable_value(&mut self.sort, SortBy::Name, "Name");
                    ui.selectable_value(&mut self.sort, SortBy::Percent, "Attendance %");
                });
            ui.checkbox(&mut self.descending, "Descending");
            // The label and its slider wrap to the next line together.
            let size = Vec2::new(330.0, ui.spacing().interact_size.y);
            let row = egui::Layout::left_to_right(egui::Align::Center);
            ui.allocate_ui_with_layout(size, row, |ui| {
                ui.label("Highlight students under");
                ui.add(
                    egui::Slider::new(&mut self.threshold, 0.0..=100.0)
                        .suffix(" %")
                        .integer(),
                )
                .on_hover_text("Students under this attendance are shaded red");
            });
        });
        // Two rows of buttons by what they act on, each row fitting the kiosk's window:
        // the dates shown, then the records and the whole data folder.
        ui.horizontal_wrapped(|ui| {
            let bounds = self.bounds();
            group_label(ui, "These dates");
            for (label, format, ext) in [
                ("Export Excel…", Format::Xlsx, "xlsx"),
                ("Export CSV…", Format::Csv, "csv"),
            ] {
                if ui
                    .add_enabled(bounds.is_some(), egui::Button::new(label))
                    .clicked()
                {
                    if let Some((from, to)) = bounds {
                        self.save_as = Some(SaveAs::Export(format, from, to));
                        self.files.open(Ask::Save {
                            file_name: format!("attendance-{from}-to-{to}.{ext}"),
                            extension: ext.into(),
                        });
                    }
                }
            }
            if ui
                .add_enabled(
                    bounds.is_some(),
                    egui::Button::new("Email every student their attendance…"),
                )
                .clicked()
            {
                self.open_email(admin, None);
            }
            let under = format!("Email students under {:.0} %…", self.threshold);
            if ui
                .add_enabled(bounds.is_some(), egui::Button::new(under))
                .clicked()
            {
                self.open_email(admin, Some(self.threshold));
            }
        });
        ui.horizontal_wrapped(|ui| {
            group_label(ui, "Logs");
            if ui.button("Audit log").clicked() {
                self.audit = Some(Vec::new());
                self.asked.audit = Some(admin.audit_log());
            }
            if ui
                .button("Email log")
                .on_hover_text("The attendance reports emailed, and those not sent and why")
                .clicked()
            {
                self.email_log = Some(Vec::new());
                self.asked.email_log = Some(admin.email_log());
            }
            if ui.button("Refused faces").clicked() {
                self.refusals = Some(Vec::new());
                self.asked.refusals = Some(admin.refusals());
            }
            ui.separator();
            group_label(ui, "All data");
            if ui
                .button("Back up all data…")
                .on_hover_text(
                    "One file with every student, mark and photo, and the settings (rollcall \
                     restore puts it back)",
                )
                .clicked()
            {
                self.save_as = Some(SaveAs::Backup);
                self.files.open(Ask::Save {
                    file_name: format!(
                        "rollcall-{}.rollcall",
                        crate::store::day_text(chrono::Local::now().date_naive())
                    ),
                    extension: "rollcall".into(),
                });
            }
            if ui
                .add_enabled(
                    self.asked.restore.is_none(),
                    egui::Button::new("Restore from a backup…"),
                )
                .on_hover_text("Puts back every student, mark and photo as a backup holds them")
                .clicked()
            {
                self.files.open(Ask::Backup {
                    start: self.daily_folder.clone(),
                });
            }
        });
        self.windows_top = ui.cursor().top() + 8.0;
    }

    fn open_email(&mut self, admin: &AdminClient, under: Option<f64>) {
        if let Some((from, to)) = self.bounds() {
            self.email = Some(EmailDialog::previewing(
                admin,
                Emailing {
                    from,
                    to,
                    under,
                    with_today: false,
                    only: None,
                },
            ));
        }
    }

    /// The table: a fixed header, then only the rows in view, each painted in one go with
    /// only the day columns in view. Scrolled sideways through a long range, the roll
    /// number and name stay at the left and the totals at the right.
    /// `corrects`: a row clicked opens a correction.
    fn table(&mut self, ui: &mut egui::Ui, sheet: &Sheet, corrects: bool) {
        let rows = self.visible_rows(sheet);
        let days = sheet.days.len();
        let width = ROLL_W + NAME_W + days as f32 * DAY_W + TOTALS_GAP + 3.0 * TOTAL_W;
        let text = ui.visuals().text_color();
        let strong = ui.visuals().strong_text_color();
        let weak = ui.visuals().weak_text_color();
        let font = FontId::monospace(13.0);
        let threshold = self.threshold;
        let today = chrono::Local::now().date_naive();
        let mut clicked: Option<(i64, String, Option<usize>)> = None;
        // The frozen columns sit at the edges the sideways scrolling would fade; the
        // header's arrows say instead that days are out of view.
        let fade = ui.spacing().scroll.fade;
        ui.spacing_mut().scroll.fade.strength = 0.0;
        egui::ScrollArea::horizontal()
            .id_salt("review-h")
            .show(ui, |ui| {
                ui.spacing_mut().scroll.fade = fade;
                ui.set_min_width(width);
                // Header.
                let (rect, _) =
                    ui.allocate_exact_size(Vec2::new(width, ROW_H * 1.6), Sense::hover());
                let painter = ui.painter_at(rect);
                let cols = Columns::new(rect, ui.clip_rect(), days);
                let y = rect.center().y;
                cols.frozen(&painter, y, ["ID\\Date", "Name"], &font, text);
                for c in cols.days_in_view() {
                    painter.text(
                        Pos2::new(cols.day_x(c) + 2.0, y),
                        egui::Align2::LEFT_CENTER,
                        sheet.days[c].format("%d/%m").to_string(),
                        FontId::monospace(9.0),
                        text,
                    );
                }
                cols.totals(&painter, y, ["Present", "Absent", "%"], &font, [text; 3]);
                let in_view = cols.days_in_view();
                for (hidden, x, align, arrow) in [
                    (
                        in_view.start > 0,
                        cols.day_x(in_view.start),
                        egui::Align2::RIGHT_CENTER,
                        "◀",
                    ),
                    (
                        in_view.end < days,
                        cols.day_x(in_view.end),
                        egui::Align2::LEFT_CENTER,
                        "▶",
                    ),
                ] {
                    if hidden {
                        painter.text(Pos2::new(x, y), align, arrow, font.clone(), strong);
                    }
                }
                let height = (ui.available_height() - 40.0).clamp(200.0, 560.0);
                egui::ScrollArea::vertical()
                    .id_salt("review-v")
                    .max_height(height)
                    .auto_shrink([false, true])
                    .show_rows(ui, ROW_H, rows.len() + 1, |ui, range| {
                        for i in range {
                            let (rect, response) =
                                ui.allocate_exact_size(Vec2::new(width, ROW_H), Sense::click());
                            let painter = ui.painter_at(rect);
                            let cols = Columns::new(rect, ui.clip_rect(), days);
                            let y = rect.center().y;
                            let Some(row) = rows.get(i) else {
                                // The last line: students present per day.
                                cols.frozen(&painter, y, ["Present", ""], &font, text);
                                for c in cols.days_in_view() {
                                    painter.text(
                                        Pos2::new(cols.day_x(c) + 2.0, y),
                                        egui::Align2::LEFT_CENTER,
                                        sheet.per_day[c].to_string(),
                                        font.clone(),
                                        text,
                                    );
                                }
                                response.widget_info(|| {
                                    egui::WidgetInfo::labeled(
                                        egui::Role::Row,
                                        true,
                                        "Present per day",
                                    )
                                });
                                continue;
                            };
                            // A student gone by the range's end needs no one's attention
                            // any more (one leaving after it is still in the class).
                            let under = row.is_under(threshold) && !row.gone_by(sheet.to);
                            // On a highlighted (red) row, red text would not be read:
                            // absences and the percentage are drawn strong instead.
                            let absent = if under { strong } else { ABSENT };
                            if under {
                                painter.rect_filled(rect, 0.0, UNDER_BG);
                            }
                            if Some(row.student_id) == self.selected {
                                painter.rect_stroke(
                                    rect,
                                    0.0,
                                    (1.0, ui.visuals().selection.bg_fill),
                                    egui::StrokeKind::Inside,
                                );
                            }
                            // A student who left: greyed, so it shows when "(left)" is cut.
                            let (name, who) = match row.last_day {
                                Some(d) if d > today => (format!("{} (leaving)", row.name), weak),
                                Some(_) => (format!("{} (left)", row.name), weak),
                                None => (row.name.clone(), text),
                            };
                            cols.frozen(&painter, y, [&row.roll_no, &name], &font, who);
                            for c in cols.days_in_view() {
                                painter.text(
                                    Pos2::new(cols.day_x(c) + 8.0, y),
                                    egui::Align2::LEFT_CENTER,
                                    row.cell_on_screen(c),
                                    font.clone(),
                                    if row.cell(c) == "A" { absent } else { text },
                                );
                            }
                            let pct = percent_text(row.percent());
                            cols.totals(
                                &painter,
                                y,
                                [
                                    &row.present_days.to_string(),
                                    &row.absent_days.to_string(),
                                    &pct,
                                ],
                                &font,
                                [text, text, if under { absent } else { text }],
                            );
                            let label = format!(
                                "{} {}: {} present, {} absent, {}{}{}{}",
                                row.roll_no,
                                row.name,
                                row.present_days,
                                row.absent_days,
                                pct,
                                if under { " (under the threshold)" } else { "" },
                                match row.days_by_hand() {
                                    0 => String::new(),
                                    n => format!("; {} decided by hand", count(n, "day")),
                                },
                                match row.standing(today) {
                                    s if s.is_empty() => s,
                                    s => format!("; {s}"),
                                }
                            );
                            response.widget_info(|| {
                                egui::WidgetInfo::labeled(egui::Role::Row, true, &label)
                            });
                            if response.clicked() {
                                let day = response
                                    .interact_pointer_pos()
                                    .and_then(|p| cols.day_at(p.x));
                                clicked = Some((
                                    row.student_id,
                                    format!("{} ({})", row.name, row.roll_no),
                                    day,
                                ));
                            }
                        }
                    });
            });
        ui.spacing_mut().scroll.fade = fade;
        if let Some((id, who, day)) = clicked.filter(|_| corrects) {
            self.selected = Some(id);
            let day = day
                .and_then(|c| sheet.days.get(c))
                .copied()
                .unwrap_or_else(|| {
                    // Not on a day's column: today when the range shown holds it, else
                    // the range's last class day (a correction in the month looked at).
                    let today = chrono::Local::now().date_naive();
                    if (sheet.from..=sheet.to).contains(&today) {
                        today
                    } else {
                        sheet.days.last().copied().unwrap_or(sheet.to)
                    }
                });
            let present = present_now(sheet, id, day).unwrap_or(false);
            self.correction = Some(Correction {
                student_id: id,
                who,
                day: day.to_string(),
                present: !present,
                chosen_for: day,
                reason: String::new(),
                declare: false,
            });
        }
    }

    fn correction_window(&mut self, ctx: &egui::Context, admin: &AdminClient) {
        let Some(c) = &mut self.correction else {
            return;
        };
        let sheet = self.sheet.as_ref();
        let days: &[NaiveDate] = sheet.map_or(&[], |s| &s.days);
        let mut open = true;
        let mut save = false;
        egui::Window::new("Correct attendance")
            .collapsible(false)
            .open(&mut open)
            .anchor(egui::Align2::CENTER_CENTER, Vec2::ZERO)
            .show(ctx, |ui| {
                ui.label(RichText::new(&c.who).strong());
                field(ui, "Date", &mut c.day, false);
                let parsed = crate::store::stored_day(&c.day);
                if let Some(day) = parsed.filter(|d| *d != c.chosen_for) {
                    if let Some(present) = sheet.and_then(|s| present_now(s, c.student_id, day)) {
                        c.present = !present;
                        c.chosen_for = day;
                    }
                }
                let shown = parsed.and_then(|d| recorded_now(sheet?, c.student_id, d));
                if let Some(now) = shown {
                    ui.label(RichText::new(now).weak());
                }
                ui.horizontal(|ui| {
                    ui.radio_value(&mut c.present, true, "Present");
                    ui.radio_value(&mut c.present, false, "Absent");
                });
                field(ui, "Reason", &mut c.reason, false);
                if parsed.is_some_and(|d| !days.contains(&d)) {
                    ui.checkbox(
                        &mut c.declare,
                        "Declare it a class day (it then counts for every student)",
                    );
                }
                let day_ok = parsed.is_some();
                let ready = day_ok && !c.reason.trim().is_empty();
                if !day_ok {
                    ui.label(RichText::new("The date is YYYY-MM-DD.").color(ABSENT));
                } else if c.reason.trim().is_empty() {
                    // What to do next, not a mistake: nothing has been typed yet.
                    ui.label(
                        RichText::new("A reason is required; it goes to the audit log.").weak(),
                    );
                }
                save = ui
                    .add_enabled(ready, egui::Button::new("Save correction"))
                    .clicked();
            });
        if save {
            if let Some(day) = crate::store::stored_day(&c.day) {
                self.asked.correction =
                    Some(admin.correct(c.student_id, day, c.present, c.reason.clone(), c.declare));
            }
        }
        if !open {
            self.correction = None;
        }
    }

    /// Asks the admin to confirm a restore, and starts it.
    fn restore_window(&mut self, ctx: &egui::Context, admin: &AdminClient) {
        let Some(path) = &self.restoring else {
            return;
        };
        let (mut restore, mut cancel) = (false, false);
        question_window("Restore from a backup").show(ctx, |ui| {
            ui.label(format!(
                "Replace all the data here with the backup {}? Students, photos and \
                     attendance go back to how they were when it was made; what was erased \
                     since stays erased. The data here now is kept as a copy in the data folder.",
                path.display()
            ));
            ui.horizontal(|ui| {
                restore = danger_button(ui, "Restore", "Marks made since the backup are replaced")
                    .clicked();
                cancel = ui.button("Cancel").clicked();
            });
        });
        if restore {
            self.message = None;
            self.asked.restore = Some(admin.restore(path.clone()));
            self.restoring = None;
        } else if cancel {
            self.restoring = None;
        }
    }

    /// While a backup is being restored. (The door and the admin screens then work from
    /// the restored data: no restart.)
    fn restoring_notice(&self, ui: &mut egui::Ui) {
        if self.asked.restore.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Restoring the backup…");
            });
        }
    }

    fn audit_window(&mut self, ctx: &egui::Context) {
        let Some(rows) = &self.audit else { return };
        let rows = rows.iter().map(|r| {
            [
                crate::store::to_the_minute(&r.at).into(),
                r.actor.as_str().into(),
                r.action.as_str().into(),
                r.details.as_str().into(),
            ]
        });
        let headings = ["When", "Who", "What", "Details"];
        if !log_window(ctx, "Audit log", self.windows_top, headings, rows) {
            self.audit = None;
        }
    }

    /// The reports emailed, newest first: to whom, and why one was not sent.
    fn email_log_window(&mut self, ctx: &egui::Context) {
        let Some(rows) = &self.email_log else { return };
        let rows = rows.iter().map(|r| {
            [
                crate::store::to_the_minute(&r.at).into(),
                r.student.as_deref().unwrap_or("").into(),
                r.recipient.as_str().into(),
                r.outcome().into(),
            ]
        });
        let headings = ["When", "Student", "To", "Sent"];
        if !log_window(ctx, "Email log", self.windows_top, headings, rows) {
            self.email_log = None;
        }
    }

    /// Faces the photo-attack check refused: what they showed and whom they resembled.
    fn refusals_window(&mut self, ctx: &egui::Context) {
        let Some(rows) = &self.refusals else { return };
        let mut open = true;
        movable_window_from(ctx, "Refused at the kiosk", self.windows_top)
            .open(&mut open)
            .default_size([560.0, 420.0])
            .show(ctx, |ui| {
                ui.label(
                    "Faces that did not look live (for example a photo held up to the camera). \
                     Nobody was marked for them.",
                );
                if rows.is_empty() {
                    ui.label("No refused faces.");
                    return;
                }
                egui::ScrollArea::vertical().show(ui, |ui| {
                    egui::Grid::new("refusals").striped(true).show(ui, |ui| {
                        for h in ["", "When", "Looked like", "Liveness score"] {
                            ui.label(RichText::new(h).strong());
                        }
                        ui.end_row();
                        for (r, tex) in rows {
                            let who = r.resembled.as_deref().unwrap_or("nobody enrolled");
                            match tex {
                                Some(t) => ui.add(
                                    egui::Image::new(t)
                                        .max_size(Vec2::splat(64.0))
                                        .alt_text(format!("Refused face at {}", r.when)),
                                ),
                                None => ui.label("—"),
                            };
                            ui.label(&r.when);
                            ui.label(who);
                            ui.label(format!("{:.2}", r.score));
                            ui.end_row();
                        }
                    });
                });
            });
        if !open {
            self.refusals = None;
        }
    }

    fn email_window(&mut self, ctx: &egui::Context, admin: &AdminClient) {
        let Some(d) = &mut self.email else { return };
        let (mut open, mut again) = (true, None);
        movable_window_from(ctx, "Email reports", self.windows_top)
            .open(&mut open)
            .default_size([640.0, 420.0])
            .show(ctx, |ui| {
                if let Some(result) = &d.result {
                    match result {
                        Ok(r) if r.sent.is_empty() && r.failed.is_empty() => {
                            ui.label(d.run.nobody(chrono::Local::now().date_naive()));
                        }
                        Ok(r) => {
                            ui.label(r.sent_text());
                            for not_sent in &r.failed {
                                ui.label(RichText::new(not_sent.to_string()).color(ABSENT));
                            }
                            // Once put right, to those only: the others have theirs.
                            let retry = format!(
                                "Send again to the {} not sent…",
                                count(r.failed.len(), "student")
                            );
                            if !r.failed.is_empty() && ui.button(retry).clicked() {
                                again = Some(Emailing {
                                    only: Some(r.failed.iter().map(|n| n.student_id).collect()),
                                    ..d.run.clone()
                                });
                            }
                        }
                        Err(e) => {
                            ui.label(RichText::new(e).color(ABSENT));
                        }
                    }
                    return;
                }
                if let Some(task) = &mut d.sending {
                    let (done, total) = task.progress();
                    ui.add(
                        egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                            .text(format!("Sent {done} of {total}")),
                    );
                    return;
                }
                let Some(preview) = &d.preview else {
                    ui.spinner();
                    return;
                };
                let (p, not_set_up) = (&preview.reports, &preview.not_set_up);
                let (today_left_out, not_sent) = (preview.today_left_out, preview.not_sent_lines());
                // A range that takes in today counts it only once its classes are over.
                if today_left_out || d.run.with_today {
                    if today_left_out {
                        ui.label(RichText::new(TODAY_LEFT_OUT).color(WARN));
                    }
                    if ui
                        .checkbox(&mut d.run.with_today, "Count today: its classes are over")
                        .changed()
                    {
                        d.preview = None;
                        d.preview_req = Some(admin.email_preview(d.run.clone()));
                        return;
                    }
                }
                if let Some(why) = &preview.nobody {
                    ui.label(why);
                    return;
                }
                ui.label(format!("{} will be sent:", count(p.len(), "message")));
                for line in not_sent {
                    ui.label(RichText::new(line).weak());
                }
                egui::ScrollArea::vertical()
                    .max_height(180.0)
                    .show(ui, |ui| {
                        for r in p {
                            ui.label(format!(
                                "{} <{}>: {}",
                                r.name,
                                r.email,
                                percent_text(r.percent)
                            ));
                        }
                    });
                if let Some(first) = p.first() {
                    ui.separator();
                    ui.label(RichText::new(format!("Subject: {}", first.subject)).strong());
                    ui.label(&first.body);
                }
                if let Some(why) = not_set_up {
                    // Said before anything is sent, not after Send.
                    ui.separator();
                    ui.label(RichText::new(why).color(ABSENT));
                } else if ui
                    .button(format!("Send {}", count(p.len(), "message")))
                    .clicked()
                {
                    d.sending = Some(admin.email_send(d.run.clone()));
                }
            });
        if !open {
            self.email = None;
        } else if let Some(run) = again {
            self.email = Some(EmailDialog::previewing(admin, run));
        }
    }

    fn charts(&mut self, ui: &mut egui::Ui, sheet: &Sheet) {
        use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints};
        let bars: Vec<Bar> = sheet
            .per_day
            .iter()
            .enumerate()
            .map(|(i, n)| Bar::new(i as f64, *n as f64).name(sheet.days[i].to_string()))
            .collect();
        // Fixed charts: the mouse wheel scrolls the page, never the chart; the x-axis is dated.
        let fixed = |id: &str, days: Vec<NaiveDate>| {
            Plot::new(id.to_owned())
                .height(160.0)
                .allow_drag(false)
                .allow_zoom(false)
                .allow_scroll(false)
                .allow_boxed_zoom(false)
                .allow_double_click_reset(false)
                .x_axis_formatter(move |m, _| {
                    let i = m.value.round();
                    if (m.value - i).abs() > 0.01 || i < 0.0 {
                        return String::new();
                    }
                    days.get(i as usize)
                        .map(|d| d.format("%d/%m").to_string())
                        .unwrap_or_default()
                })
        };
        ui.label("Students present per class day");
        fixed("per-day", sheet.days.clone())
            .show(ui, |p| p.bar_chart(BarChart::new("present", bars)));
        let Some(row) = self
            .selected
            .and_then(|id| sheet.rows.iter().find(|r| r.student_id == id))
        else {
            ui.label("Click a student's row to see their attendance over time.");
            return;
        };
        ui.label(format!(
            "{} ({}): attendance so far, in percent",
            row.name, row.roll_no
        ));
        // Only the class days since the student's enrolment count.
        let (mut present, mut counted) = (0usize, 0usize);
        let mut points = Vec::new();
        for (i, p) in row.present.iter().enumerate() {
            if !row.counted[i] {
                continue;
            }
            present += *p as usize;
            counted += 1;
            points.push([i as f64, 100.0 * present as f64 / counted as f64]);
        }
        let points = PlotPoints::from(points);
        fixed("student", sheet.days.clone())
            .include_y(0.0)
            .include_y(100.0)
            .show(ui, |p| p.line(Line::new(row.name.clone(), points)));
    }

    /// `corrects`: a declared class day can be withdrawn here.
    fn day_view(&mut self, ui: &mut egui::Ui, admin: &AdminClient, corrects: bool) {
        ui.horizontal(|ui| {
            field(ui, "Day", &mut self.day_text, false);
            if ui.button("Show day").clicked() {
                if let Some(day) = crate::store::stored_day(&self.day_text) {
                    self.asked.day = Some((day, admin.day_marks(day)));
                }
            }
        });
        let Some(shown) = &mut self.day_shown else {
            return;
        };
        let (day, marks) = (shown.day, &shown.marks);
        ui.label(format!("{} on {day}", count(marks.len(), "mark")));
        if let Some(not_marked) = &shown.not_marked {
            let text = if not_marked.is_empty() {
                "Not marked: nobody — every student enrolled by then was marked.".to_string()
            } else {
                format!(
                    "Not marked ({}): {}",
                    not_marked.len(),
                    not_marked.join(", ")
                )
            };
            ui.add(egui::Label::new(text).wrap());
        }
        if let Some(declared) = &shown.declared {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!("Declared a class day on {declared}."));
                if corrects
                    && !shown.confirm_withdraw
                    && ui.button("Withdraw the declaration").clicked()
                {
                    shown.confirm_withdraw = true;
                }
            });
            if shown.confirm_withdraw {
                ui.label(
                    RichText::new(
                        "Withdraw it? Unless the kiosk marked anyone that day, the day stops \
                         counting for every student, and marks made by hand that day stop \
                         counting too.",
                    )
                    .color(ABSENT),
                );
                ui.horizontal(|ui| {
                    if ui.button("Withdraw").clicked() {
                        shown.confirm_withdraw = false;
                        self.asked.correction = Some(admin.withdraw_class_day(day));
                    }
                    if ui.button("Keep it").clicked() {
                        shown.confirm_withdraw = false;
                    }
                });
            }
        }
        egui::Grid::new("day-marks").striped(true).show(ui, |ui| {
            for h in ["", "Time", "Roll no", "Name", "Score", "Source"] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for (m, tex) in marks {
                match tex {
                    Some(t) => ui.add(
                        egui::Image::new(t)
                            .max_size(Vec2::splat(48.0))
                            .alt_text(format!("Snapshot of {}", m.name)),
                    ),
                    None => ui.label("—"),
                };
                ui.label(&m.time);
                ui.label(&m.roll_no);
                ui.label(&m.name);
                ui.label(
                    m.score
                        .map(|s| format!("{s:.1}"))
                        .unwrap_or_else(|| "by hand".into()),
                );
                let source = crate::wording::mark_source(&m.source);
                ui.label(match &m.door {
                    Some(door) => format!("{source} · {door}"),
                    None => source.to_owned(),
                });
                ui.end_row();
            }
        });
    }
}

/// Where the table's columns are painted in one row (or the header) at `rect`, of which
/// `clip` is in view: the roll number and name frozen at the left, the totals at the
/// right, and the day columns that fit whole between them.
struct Columns {
    /// The roll number's left edge.
    left: f32,
    /// Where day 0 starts (it moves as the table is scrolled sideways).
    first_day: f32,
    /// The room between the frozen columns that day columns may take.
    days_from: f32,
    days_to: f32,
    /// The first total's left edge.
    totals: f32,
    days: usize,
}

impl Columns {
    fn new(rect: egui::Rect, clip: egui::Rect, days: usize) -> Columns {
        let left = rect.left().max(clip.left());
        let first_day = rect.left() + ROLL_W + NAME_W;
        let natural = first_day + days as f32 * DAY_W + TOTALS_GAP;
        let totals = natural
            .min(clip.right() - 3.0 * TOTAL_W)
            .max(left + ROLL_W + NAME_W + TOTALS_GAP);
        Columns {
            left,
            first_day,
            days_from: left + ROLL_W + NAME_W,
            days_to: totals - TOTALS_GAP,
            totals,
            days,
        }
    }

    fn day_x(&self, c: usize) -> f32 {
        self.first_day + c as f32 * DAY_W
    }

    /// The day columns wholly in view between the frozen columns.
    fn days_in_view(&self) -> std::ops::Range<usize> {
        let from = ((self.days_from - self.first_day) / DAY_W).ceil().max(0.0) as usize;
        let to = ((self.days_to - self.first_day) / DAY_W).floor().max(0.0) as usize;
        from.min(self.days)..to.min(self.days)
    }

    /// The day column under `x`, when one is in view there.
    fn day_at(&self, x: f32) -> Option<usize> {
        let c = ((x - self.first_day) / DAY_W).floor();
        (c >= 0.0)
            .then_some(c as usize)
            .filter(|c| self.days_in_view().contains(c))
    }

    /// The roll number and name, cut to their columns.
    fn frozen(&self, p: &egui::Painter, y: f32, texts: [&str; 2], font: &FontId, c: Color32) {
        for (x, width, t) in [
            (self.left, ROLL_W, texts[0]),
            (self.left + ROLL_W, NAME_W, texts[1]),
        ] {
            cell_text(p, Pos2::new(x, y), t, width - 6.0, font, c);
        }
    }

    /// The three totals, each in its colour.
    fn totals(
        &self,
        p: &egui::Painter,
        y: f32,
        texts: [&str; 3],
        font: &FontId,
        colours: [Color32; 3],
    ) {
        for (k, (t, c)) in texts.iter().zip(colours).enumerate() {
            let x = self.totals + k as f32 * TOTAL_W;
            cell_text(p, Pos2::new(x, y), t, TOTAL_W - 4.0, font, c);
        }
    }
}

/// The name of a row of buttons, in a column of its own so both rows' buttons start
/// at the same place.
fn group_label(ui: &mut egui::Ui, text: &str) {
    let size = Vec2::new(78.0, ui.spacing().interact_size.y);
    let layout = egui::Layout::left_to_right(egui::Align::Center);
    ui.allocate_ui_with_layout(size, layout, |ui| {
        ui.set_min_width(size.x);
        ui.label(RichText::new(text).weak());
    });
}

/// One line of text left-centred at `pos`, cut with "…" to `width`.
fn cell_text(p: &egui::Painter, pos: Pos2, text: &str, width: f32, font: &FontId, c: Color32) {
    let mut job = egui::text::LayoutJob::simple_singleline(text.to_owned(), font.clone(), c);
    job.wrap = egui::text::TextWrapping::truncate_at_width(width);
    let galley = p.layout_job(job);
    let top = Pos2::new(pos.x, pos.y - galley.size().y / 2.0);
    p.galley(top, galley, c);
}

/// A window of a log's rows under four headings, opened under Review's controls
/// (`top`); false once the admin closes it.
fn log_window<'a>(
    ctx: &egui::Context,
    title: &str,
    top: f32,
    headings: [&str; 4],
    rows: impl Iterator<Item = [Cow<'a, str>; 4]>,
) -> bool {
    let mut open = true;
    movable_window_from(ctx, title, top)
        .open(&mut open)
        .default_size([720.0, 420.0])
        .show(ctx, |ui| {
            egui::ScrollArea::both().show(ui, |ui| {
                // Long cells (a reason not sent, a change's details) wrap rather than
                // send the window sideways.
                let grid = egui::Grid::new(title).striped(true).max_col_width(380.0);
                grid.show(ui, |ui| {
                    for h in headings {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for row in rows {
                        for cell in row {
                            ui.add(egui::Label::new(cell.as_ref()).wrap());
                        }
                        ui.end_row();
                    }
                });
            });
        });
    open
}
