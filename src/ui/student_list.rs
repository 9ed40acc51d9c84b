//! The Students screen's list: one row per student matching the search, with a button to
//! open each. Only the rows in view are laid out, so a school's 2,000 students cost a frame
//! about what twenty do.

use crate::store::Student;
use crate::wording::{count, grouped};
use egui::{Align, Layout, Rect, RichText, Sense, UiBuilder, WidgetText};

/// The list's columns.
const HEADINGS: [&str; 8] = [
    "Roll no",
    "Name",
    "Email",
    "Photos",
    "Photo check",
    "Enrolled",
    "Last seen",
    "",
];

/// The widest a column gets (roll number, name, email); longer entries are cut with "…"
/// and shown whole on hover.
const MAX_WIDTH: [f32; 3] = [160.0, 240.0, 280.0];

/// What a search looks in: roll number, name and email, lower-case (a search is in any
/// letter case).
fn search_key(s: &Student) -> String {
    format!("{}\n{}\n{}", s.roll_no, s.name, s.email).to_lowercase()
}

/// What is worked out once per list: its columns' widths and what searches look in.
struct Measured {
    widths: [f32; 8],
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

    /// Draws the students matching `search`, and under them how many that is; returns the
    /// student whose Open button was clicked. `students` must be the same list as on the
    /// last frame unless `students_changed` was called since.
    pub fn show<'s>(
        &mut self,
        ui: &mut egui::Ui,
        students: &'s [Student],
        search: &str,
    ) -> Option<&'s Student> {
        let measured = self.measured.get_or_insert_with(|| Measured {
            widths: measure(ui, students),
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
        let gap = ui.spacing().item_spacing;
        let widths = fit(widths, ui.available_width(), gap.x);
        let row_h = ui
            .spacing()
            .interact_size
            .y
            .max(ui.text_style_height(&egui::TextStyle::Body))
            + gap.y;
        let width = widths.iter().sum::<f32>() + gap.x * (widths.len() - 1) as f32;

        ui.horizontal(|ui| {
            for (h, w) in HEADINGS.iter().zip(widths) {
                cell(ui, w, RichText::new(*h).strong());
            }
        });
        let n = shown.len();
        let (block, _) =
            ui.allocate_exact_size(egui::vec2(width, row_h * n as f32), Sense::hover());
        let clip = ui.clip_rect();
        let first = ((clip.top() - block.top()) / row_h).floor().max(0.0) as usize;
        let end = (((clip.bottom() - block.top()) / row_h).ceil().max(0.0) as usize).min(n);
        let mut opened = None;
        let in_view = shown
            .iter()
            .enumerate()
            .skip(first)
            .take(end.saturating_sub(first));
        for (row, &index) in in_view {
            let Some(s) = students.get(index) else {
                continue;
            };
            let rect = Rect::from_min_size(
                block.min + egui::vec2(0.0, row as f32 * row_h),
                egui::vec2(width, row_h),
            );
            if row % 2 == 1 {
                ui.painter()
                    .rect_filled(rect, 0.0, ui.visuals().faint_bg_color);
            }
            let mut row_ui = ui.new_child(
                UiBuilder::new()
                    .id_salt(("student row", s.id))
                    .max_rect(rect)
                    .layout(Layout::left_to_right(Align::Center)),
            );
            for (text, w) in cells(s).into_iter().zip(widths) {
                cell(&mut row_ui, w, text);
            }
            if row_ui.button(format!("Open {}", s.roll_no)).clicked() {
                opened = Some(s);
            }
        }
        ui.label(format!(
            "{} of {}",
            grouped(n),
            count(students.len(), "student")
        ));
        opened
    }
}

/// One cell: `text` in a column `width` wide, cut with "…" when longer.
fn cell(ui: &mut egui::Ui, width: f32, text: impl Into<WidgetText>) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, ui.available_height()),
        Layout::left_to_right(Align::Center),
        |ui| {
            ui.set_width(width);
            ui.add(egui::Label::new(text).truncate());
        },
    );
}

/// Each column as wide as its widest entry (or heading), within `MAX_WIDTH`. Text is
/// measured by its characters' widths (no layout: a school's list is measured in a few
/// milliseconds, where laying out every cell took a tenth of a second at 2,000 students).
fn measure(ui: &egui::Ui, students: &[Student]) -> [f32; 8] {
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
            for (w, text) in widths.iter_mut().zip(cells(s)) {
                *w = w.max(width(&text));
            }
            widths[7] = widths[7].max(width(&format!("Open {}", s.roll_no)) + button);
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

/// Column widths within `available` width (columns `gap` apart): name and email give up
/// what is too much, in proportion to their width above `MIN_FLEXIBLE`.
fn fit(mut widths: [f32; 8], available: f32, gap: f32) -> [f32; 8] {
    let total = widths.iter().sum::<f32>() + gap * (widths.len() - 1) as f32;
    let spare = |w: f32| (w - MIN_FLEXIBLE).max(0.0);
    let flexible = spare(widths[1]) + spare(widths[2]);
    if total > available && flexible > 0.0 {
        let cut = ((total - available) / flexible).min(1.0);
        for w in &mut widths[1..=2] {
            *w -= spare(*w) * cut;
        }
    }
    widths
}

/// A student's row as text, the Open button aside.
fn cells(s: &Student) -> [String; 7] {
    [
        s.roll_no.clone(),
        s.name.clone(),
        s.email.clone(),
        s.photo_count.to_string(),
        s.photo_check().to_string(),
        crate::store::to_the_minute(&s.enrolled_at),
        s.last_seen
            .as_deref()
            .map(crate::store::to_the_minute)
            .unwrap_or_else(|| "never".into()),
    ]
}
