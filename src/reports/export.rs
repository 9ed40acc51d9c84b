//! Exports of the attendance sheet: an Excel workbook like the old dashboard (plus every
//! mark), or CSV.

use super::sheet::Sheet;
use crate::store::MarkDetail;
use rust_xlsxwriter::{Color, Format as CellFormat, Workbook};
use std::path::Path;

/// An export could not be written.
#[derive(Debug, thiserror::Error)]
#[error("The export could not be written to {path}: {reason}")]
pub struct ExportError {
    pub path: String,
    pub reason: String,
}

fn fail(path: &Path, e: impl ToString) -> ExportError {
    ExportError {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// The file itself could not be written (a folder that does not exist, a full disk, …).
fn fail_io(path: &Path, e: &std::io::Error) -> ExportError {
    fail(path, crate::wording::file_problem(e))
}

/// A CSV writer's failure: the file's, worded, or the writer's own.
fn fail_csv(path: &Path, e: csv::Error) -> ExportError {
    match e.kind() {
        csv::ErrorKind::Io(io) => fail_io(path, io),
        _ => fail(path, e),
    }
}

/// File formats for exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

/// The columns after the days: each student's totals, then a note on why some of their
/// days show "-" after their enrolment (`SheetRow::standing`: they left, or were away).
const AFTER_DAYS: [&str; 4] = ["Present", "Absent", "%", "Note"];

/// Writes the workbook: sheet "Attendance" (ID\Date, P/A per class day, totals and a note
/// per student, present count per day) and sheet "Marks" (every mark).
pub fn write_xlsx(sheet: &Sheet, marks: &[MarkDetail], path: &Path) -> Result<(), ExportError> {
    let today = chrono::Local::now().date_naive();
    let mut book = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let absent = CellFormat::new().set_font_color(Color::RGB(0xB3261E));
    let ws = book.add_worksheet();
    ws.set_name("Attendance").map_err(|e| fail(path, e))?;
    let n = sheet.days.len() as u16;
    let put = |r: Result<&mut rust_xlsxwriter::Worksheet, rust_xlsxwriter::XlsxError>| {
        r.map(|_| ()).map_err(|e| fail(path, e))
    };
    put(ws.write_string_with_format(0, 0, "ID\\Date", &bold))?;
    put(ws.write_string_with_format(0, 1, "Name", &bold))?;
    for (i, d) in sheet.days.iter().enumerate() {
        put(ws.write_string_with_format(0, 2 + i as u16, crate::store::day_text(*d), &bold))?;
    }
    for (k, t) in AFTER_DAYS.iter().enumerate() {
        put(ws.write_string_with_format(0, 2 + n + k as u16, *t, &bold))?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        let r = r as u32 + 1;
        put(ws.write_string(r, 0, &row.roll_no))?;
        put(ws.write_string(r, 1, &row.name))?;
        for i in 0..row.present.len() {
            let c = 2 + i as u16;
            put(match row.cell(i) {
                "A" => ws.write_string_with_format(r, c, "A", &absent),
                text => ws.write_string(r, c, text),
            })?;
        }
        put(ws.write_number(r, 2 + n, row.present_days as f64))?;
        put(ws.write_number(r, 3 + n, row.absent_days as f64))?;
        if let Some(p) = row.percent() {
            put(ws.write_number(r, 4 + n, (p * 10.0).round() / 10.0))?;
        }
        let note = row.standing(today);
        if !note.is_empty() {
            put(ws.write_string(r, 5 + n, note))?;
        }
    }
    let last = sheet.rows.len() as u32 + 1;
    put(ws.write_string_with_format(last, 0, "Present", &bold))?;
    for (i, c) in sheet.per_day.iter().enumerate() {
        put(ws.write_number(last, 2 + i as u16, *c as f64))?;
    }

    let ws = book.add_worksheet();
    ws.set_name("Marks").map_err(|e| fail(path, e))?;
    for (c, h) in ["Roll no", "Name", "Date", "Time", "Score", "Source", "Door"]
        .iter()
        .enumerate()
    {
        put(ws.write_string_with_format(0, c as u16, *h, &bold))?;
    }
    for (i, m) in marks.iter().enumerate() {
        let r = i as u32 + 1;
        put(ws.write_string(r, 0, &m.roll_no))?;
        put(ws.write_string(r, 1, &m.name))?;
        put(ws.write_string(r, 2, &m.day))?;
        put(ws.write_string(r, 3, mark_time(m)))?;
        if let Some(s) = m.score {
            put(ws.write_number(r, 4, (s * 100.0).round() / 100.0))?;
        }
        put(ws.write_string(r, 5, crate::wording::mark_source(&m.source)))?;
        if let Some(door) = &m.door {
            put(ws.write_string(r, 6, door))?;
        }
    }
    book.save(path).map_err(|e| match e {
        rust_xlsxwriter::XlsxError::IoError(io) => fail_io(path, &io),
        other => fail(path, other),
    })
}

/// A mark's time of day, or "by hand" for a correction (it has no arrival time).
fn mark_time(m: &crate::store::MarkDetail) -> &str {
    if m.source == "admin" {
        "by hand"
    } else {
        m.marked_at.get(11..19).unwrap_or(&m.marked_at)
    }
}

/// Writes the Attendance sheet as CSV (same columns as the workbook, without the per-day
/// count line), as a spreadsheet opens it safely: UTF-8 with a byte-order mark (without
/// it Excel reads "Zoë" as "ZoÃ«"), and a name or roll number that a spreadsheet would
/// take for a formula ("=…", "+…", "-…", "@…") kept as text behind an apostrophe, so
/// opening the export never runs what someone typed as a student's name.
pub fn write_csv(sheet: &Sheet, path: &Path) -> Result<(), ExportError> {
    let today = chrono::Local::now().date_naive();
    use std::io::Write;
    let mut file = std::fs::File::create(path).map_err(|e| fail_io(path, &e))?;
    file.write_all(b"\xEF\xBB\xBF")
        .map_err(|e| fail_io(path, &e))?;
    let mut w = csv::Writer::from_writer(file);
    let mut header = vec!["ID\\Date".to_string(), "Name".to_string()];
    header.extend(sheet.days.iter().copied().map(crate::store::day_text));
    header.extend(AFTER_DAYS.iter().map(|t| t.to_string()));
    w.write_record(&header).map_err(|e| fail_csv(path, e))?;
    for row in &sheet.rows {
        let mut rec = vec![as_text(&row.roll_no), as_text(&row.name)];
        rec.extend((0..row.present.len()).map(|c| row.cell(c).to_string()));
        rec.push(row.present_days.to_string());
        rec.push(row.absent_days.to_string());
        rec.push(row.percent().map(|p| format!("{p:.1}")).unwrap_or_default());
        rec.push(row.standing(today));
        w.write_record(&rec).map_err(|e| fail_csv(path, e))?;
    }
    w.flush().map_err(|e| fail_io(path, &e))
}

/// A person's text for a CSV cell: as it is, unless a spreadsheet would read it as a
/// formula; then behind an apostrophe (OWASP's advice for CSV exports).
fn as_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::as_text;

    #[test]
    fn text_a_spreadsheet_would_run_is_kept_as_text() {
        assert_eq!(
            as_text("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(as_text("+1"), "'+1");
        assert_eq!(as_text("-A"), "'-A");
        assert_eq!(as_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(as_text("Zoë O'Brien"), "Zoë O'Brien");
        assert_eq!(as_text("CS-2024-1"), "CS-2024-1");
    }
}
