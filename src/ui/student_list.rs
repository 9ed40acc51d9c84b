//! The Students screen's list: one row per student matching the search, with a button to
//! open each.

use crate::store::Student;
use crate::wording::count;
use egui::RichText;

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

/// Whether a student matches a search (roll number, name or email, in any letter case;
/// `query` already lower-case).
fn matches(s: &Student, query: &str) -> bool {
    query.is_empty()
        || s.roll_no.to_lowercase().contains(query)
        || s.name.to_lowercase().contains(query)
        || s.email.to_lowercase().contains(query)
}

/// The list of students.
#[derive(Default)]
pub struct StudentList;

impl StudentList {
    /// Draws the students matching `search`, and under them how many that is; returns the
    /// student whose Open button was clicked.
    pub fn show<'s>(
        &mut self,
        ui: &mut egui::Ui,
        students: &'s [Student],
        search: &str,
    ) -> Option<&'s Student> {
        let query = search.trim().to_lowercase();
        let shown: Vec<&Student> = students.iter().filter(|s| matches(s, &query)).collect();
        let mut opened = None;
        egui::Grid::new("students")
            .striped(true)
            .num_columns(HEADINGS.len())
            .show(ui, |ui| {
                for h in HEADINGS {
                    ui.label(RichText::new(h).strong());
                }
                ui.end_row();
                for s in &shown {
                    for text in cells(s) {
                        ui.label(text);
                    }
                    if ui.button(format!("Open {}", s.roll_no)).clicked() {
                        opened = Some(*s);
                    }
                    ui.end_row();
                }
            });
        ui.label(format!(
            "{} of {}",
            shown.len(),
            count(students.len(), "student")
        ));
        opened
    }
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
