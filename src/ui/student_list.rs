//! The Students screen's list: one row per student matching the search, with a button to
//! open each. Only the rows in view are laid out, so a school's 2,000 students cost a frame
//! about what twenty do.

use crate::store::Student;
use crate::wording::{count, grouped};
use chrono::NaiveDate;
use egui::{Align, Layout, RichText, Sense, UiBuilder, WidgetText};

/// The list's columns.
const HEADINGS: [&str; 9] = [
    "Roll no",
    "Name",
    "Email",
    "Status",
    "Photos",
    "Photo check",
    "Enrolled",
    "Last seen",
    "",
];

/// The widest a column gets (roll number, name, email); longer entries are cut with "…"
/// and shown whole on hover.
const MAX_WIDTH: [f32; 3] = [160.0, 240.0, 280.0];

/// The column saying how the photo-attack check judges a student.
const PHOTO_CHECK: usize = 5;

/// The Open button's column (the others are a student's `cells`).
const OPEN: usize = 8;

/// Every column, in order.
const ALL: [usize; 9] = [0, 1, 2, 3, 4, 5, 6, 7, OPEN];

/// The columns beside an opened student: roll number, name, Open.
const COMPACT: [usize; 3] = [0, 1, OPEN];

/// What a search looks in: roll number, name and email, lower-case (a search is in any
/// letter case).
fn search_key(s: &Student) -> String {
    format!("{}\n{}\n{}", s.roll_no, s.name, s.email).to_lowercase()
}

/// What is worked out once per list: its columns' widths and what searches look in.
struct Measured {
    /// The day the rows' statuses are for (measured again the next day).
    today: NaiveDate,
    widths: [f32; 9],
    /// Each student's `search_key`, in the list's order.
    keys: Vec<String>,
}

/// The students a search shows.
struct Rows {
    /// The search (lower-case).
    query: String,
    /// Indices of the students shown, in the list's order.
    shown: Vec<usize>,
}

/// The list of students.
#[derive(Default)]
pub struct StudentList {
    /// Worked out again when the students change.
    measured: Option<Measured>,
    /// Worked out again when the search or the students change.
    rows: Option<Rows>,
}

impl StudentList {
    /// The students (or what is known of them) changed: the rows and widths are worked out
    /// again on the next frame.
    pub fn students_changed(&mut self) {
        self.measured = None;
        self.rows = None;
    }

    /// Draws how many students match `search`, the columns' headings and, in a scroll area
    /// filling the rest of `ui`, the rows; returns the student whose Open button was
    /// clicked. With a student `open` beside the list: roll number and name only, and the
    /// open student's row marked and its Open button pressed.
    /// `students` must be the same list as on the last frame unless `students_changed` was
    /// called since.
    pub fn show<'s>(
        &mut self,
        ui: &mut egui::Ui,
        students: &'s [Student],
        search: &str,
        open: Option<i64>,
    ) -> Option<&'s Student> {
        let today = chrono::Local::now().date_naive();
        if self.measured.as_ref().is_some_and(|m| m.today != today) {
            self.measured = None;
        }
        let measured = self.measured.get_or_insert_with(|| Measured {
            today,
            widths: measure(ui, students, today),
            keys: students.iter().map(search_key).collect(),
        });
        let query = search.trim().to_lowercase();
        if self.rows.as_ref().is_none_or(|r| r.query != query) {
            let shown = (0..measured.keys.len())
                .filter(|&i| measured.keys[i].contains(&query))
                .collect();
            self.rows = Some(Rows { query, shown });
        }
        let (widths, shown) = (measured.widths, &self.rows.as_ref()?.shown);
        let columns: &[usize] = if open.is_some() { &COMPACT } else { &ALL };
        let gap = ui.spacing().item_spacing;
        let widths = fit(widths, columns, ui.available_width(), gap.x);
        let row_h = ui
            .spacing()
            .interact_size
            .y
            .max(ui.text_style_height(&egui::TextStyle::Body))
            + gap.y;
        let width = span(&widths, columns, gap.x);

        let n = shown.len();
        let everyone = count(students.len(), "student");
        ui.label(if n == students.len() {
            everyone
        } else {
            format!("{} of {everyone}", grouped(n))
        });
        // The headings stay while the rows scroll.
        ui.horizontal(|ui| {
            for &c in columns {
                let heading = cell(ui, widths[c], RichText::new(HEADINGS[c]).strong());
                if c == PHOTO_CHECK {
                    heading.on_hover_text(
                        "How the photo-attack check judges the student: against their own \
                         face (photos taken at this camera), general only (uploaded photos \
                         only: open the student and add a camera photo for the stronger \
                         check), or no face data (nothing to recognise them by).",
                    );
                }
            }
        });
        let mut opened = None;
        ui.scope(|ui| {
            // Rows touch: `row_h` has the spacing in it.
            ui.spacing_mut().item_spacing.y = 0.0;
            egui::ScrollArea::vertical()
                .id_salt("student rows")
                .auto_shrink([false, false])
                .show_rows(ui, row_h, n, |ui, in_view| {
                    for row in in_view {
                        let Some(s) = shown.get(row).and_then(|&i| students.get(i)) else {
                            continue;
                        };
                        let (rect, _) =
                            ui.allocate_exact_size(egui::vec2(width, row_h), Sense::hover());
                        if open == Some(s.id) {
                            ui.painter()
                                .rect_filled(rect, 2.0, ui.visuals().selection.bg_fill);
                        } else if row % 2 == 1 {
                            ui.painter()
                                .rect_filled(rect, 0.0, ui.visuals().faint_bg_color);
                        }
                        let mut row_ui = ui.new_child(
                            UiBuilder::new()
                                .id_salt(("student row", s.id))
                                .max_rect(rect)
                                .layout(Layout::left_to_right(Align::Center)),
                        );
                        let texts = cells(s, today);
                        for &c in columns.iter().filter(|&&c| c != OPEN) {
                            cell(&mut row_ui, widths[c], texts[c].as_str());
                        }
                        // The open student's button is pressed (screen readers say so);
                        // pressing it again closes them.
                        let button = egui::Button::new(format!("Open {}", s.roll_no))
                            .selected(open == Some(s.id));
                        if row_ui.add(button).clicked() {
                            opened = Some(s);
                        }
                    }
                });
        });
        opened
    }
}

/// One cell: `text` in a column `width` wide, cut with "…" when longer.
fn cell(ui: &mut egui::Ui, width: f32, text: impl Into<WidgetText>) -> egui::Response {
    ui.allocate_ui_with_layout(
        egui::vec2(width, ui.available_height()),
        Layout::left_to_right(Align::Center),
        |ui| {
            ui.set_width(width);
            ui.add(egui::Label::new(text).truncate())
        },
    )
    .inner
}

/// Each column as wide as its widest entry (or heading), within `MAX_WIDTH`. Text is
/// measured by its characters' widths (no layout: a school's list is measured in a few
/// milliseconds, where laying out every cell took a tenth of a second at 2,000 students).
fn measure(ui: &egui::Ui, students: &[Student], today: NaiveDate) -> [f32; 9] {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let button = 2.0 * ui.spacing().button_padding.x;
    let mut glyphs = std::collections::HashMap::new();
    ui.ctx().fonts_mut(|fonts| {
        let mut width = |text: &str| -> f32 {
            text.chars()
                .map(|c| {
                    *glyphs
                        .entry(c)
                        .or_insert_with(|| fonts.glyph_width(&font, c))
                })
                .sum()
        };
        // Headings are strong, a little wider than the same text plain.
        let mut widths = HEADINGS.map(|h| width(h) * 1.1);
        for s in students {
            for (w, text) in widths.iter_mut().zip(cells(s, today)) {
                *w = w.max(width(&text));
            }
            widths[OPEN] = widths[OPEN].max(width(&format!("Open {}", s.roll_no)) + button);
        }
        for (w, max) in widths.iter_mut().zip(MAX_WIDTH) {
            *w = w.min(max);
        }
        widths.map(|w| w.ceil() + 2.0)
    })
}

/// The narrowest the name and email columns get when the window is narrower than the
/// list: the Open button stays in view, longer entries are cut.
const MIN_FLEXIBLE: f32 = 100.0;

/// Widths of the `columns` shown within `available` width (columns `gap` apart): name and
/// email give up what is too much, in proportion to their width above `MIN_FLEXIBLE`.
fn fit(mut widths: [f32; 9], columns: &[usize], available: f32, gap: f32) -> [f32; 9] {
    let total = span(&widths, columns, gap);
    let spare = |w: f32| (w - MIN_FLEXIBLE).max(0.0);
    let flexible = || columns.iter().copied().filter(|c| (1..=2).contains(c));
    let room: f32 = flexible().map(|c| spare(widths[c])).sum();
    if total > available && room > 0.0 {
        let cut = ((total - available) / room).min(1.0);
        for c in flexible() {
            widths[c] -= spare(widths[c]) * cut;
        }
    }
    widths
}

/// How wide the `columns` are together, `gap` apart.
fn span(widths: &[f32; 9], columns: &[usize], gap: f32) -> f32 {
    columns.iter().map(|&c| widths[c]).sum::<f32>() + gap * columns.len().saturating_sub(1) as f32
}

/// A student's row as text on `today`, the Open button aside.
fn cells(s: &Student, today: NaiveDate) -> [String; 8] {
    [
        s.roll_no.clone(),
        s.name.clone(),
        s.email.clone(),
        s.status(today),
        s.photo_count.to_string(),
        s.photo_check().to_string(),
        crate::store::to_the_minute(&s.enrolled_at),
        s.last_seen
            .as_deref()
            .map(crate::store::to_the_minute)
            .unwrap_or_else(|| "never".into()),
    ]
}
