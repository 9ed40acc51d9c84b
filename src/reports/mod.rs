//! Attendance reports: the students × class days sheet, its exports (Excel, CSV) and the
//! emails to students. One home for each workflow: the command line, the HTTP API and the
//! admin screens all call the functions here.

pub mod email;
pub mod export;
mod mail_failure;
pub mod sheet;

pub use email::{nobody_to_email, EmailError, NotSent, Report, SendSummary};
pub use export::{ExportError, Format};
pub use sheet::{percent_text, Range, Sheet, SheetRow};

use crate::settings::EmailSettings;
use crate::store::{Store, StoreError};
use crate::wording::count;
use chrono::NaiveDate;
use std::path::Path;

/// Why a report could not be made or sent, worded for an admin.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Email(#[from] EmailError),
}

/// From the first day anyone was marked up to today: what the old dashboard showed
/// (`GET /getdata`, the mail endpoints).
pub fn whole_history(store: &Store) -> Result<(NaiveDate, NaiveDate), StoreError> {
    let today = today();
    let first = store.first_mark_day()?.unwrap_or(today);
    Ok((first, today.max(first)))
}

/// Builds the sheet for a range and writes it to `path`. Returns the sheet written.
pub fn export(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
    format: Format,
    path: &Path,
) -> Result<Sheet, ReportError> {
    let sheet = Sheet::build(store, from, to)?;
    match format {
        Format::Xlsx => export::write_xlsx(&sheet, &store.marks(from, to)?, path)?,
        Format::Csv => export::write_csv(&sheet, path)?,
    }
    Ok(sheet)
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Said when an email run's range takes in today, which it does not count.
pub const TODAY_LEFT_OUT: &str = "Today is not counted: its classes may not be over, and a \
     student who has not come in yet would be told they were absent.";

/// An email run: whose reports, over which days.
#[derive(Clone, Debug, PartialEq)]
pub struct Emailing {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only the students under this percent; `None`: every student.
    pub under: Option<f64>,
    /// Whether today counts. Unless the admin says its classes are over it does not: a
    /// student who has not come in yet would be told they were absent today.
    pub with_today: bool,
    /// Only these students (ids), e.g. those whose message the mail server did not take,
    /// sent again once put right; `None`: the whole class.
    pub only: Option<Vec<i64>>,
}

impl Emailing {
    /// The days the reports count, seen on `today`: the range up to yesterday, or up to
    /// today `with_today` (the days after it have not happened); `None` when that leaves
    /// none.
    pub fn days(&self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let last = match self.with_today {
            true => today,
            false => today.pred_opt()?,
        };
        let to = self.to.min(last);
        (to >= self.from).then_some((self.from, to))
    }

    /// Why the run has no one to email, seen on `today`: no day of its range is over yet,
    /// or nobody is under its bar (or had a class day in it since their enrolment).
    pub fn nobody(&self, today: NaiveDate) -> String {
        match self.days(today) {
            None => "No day of this range is over yet (today counts once its classes are \
                     over): there is no one to email."
                .into(),
            Some(_) => nobody_to_email(self.under),
        }
    }

    /// Whether the range takes in `today` and today is not counted.
    pub fn leaves_out(&self, today: NaiveDate) -> bool {
        !self.with_today && (self.from..=self.to).contains(&today)
    }

    /// The sheet of the days the run counts, seen on `today` (`None`: no day is over).
    fn sheet(&self, store: &Store, today: NaiveDate) -> Result<Option<Sheet>, StoreError> {
        let Some((from, to)) = self.days(today) else {
            return Ok(None);
        };
        let mut sheet = Sheet::build(store, from, to)?;
        if let Some(only) = &self.only {
            sheet.rows.retain(|r| only.contains(&r.student_id));
        }
        Ok(Some(sheet))
    }
}

/// What an email run would send, and why it cannot be sent yet, if so.
#[derive(Clone, Debug, PartialEq)]
pub struct EmailPreview {
    pub reports: Vec<Report>,
    /// No mail server is set up: what the admin must do first.
    pub not_set_up: Option<String>,
    /// Today is in the range but not counted (see [`Emailing::with_today`]).
    pub today_left_out: bool,
    /// Students not emailed, in a run for every student, because no class day of the
    /// range came after their enrolment: there is nothing to tell them.
    pub nothing_to_report: usize,
    /// Students not emailed because they left the school (in the range, and under the
    /// run's bar if it has one).
    pub left_the_school: usize,
    /// Why nobody would be emailed, when nobody would.
    pub nobody: Option<String>,
}

impl EmailPreview {
    /// What the preview says of the students sent no message though in its range: those
    /// with nothing to report, and those who left the school.
    pub fn not_sent_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.nothing_to_report > 0 {
            lines.push(format!(
                "No message for {}: no class day in this range since they were enrolled.",
                count(self.nothing_to_report, "student")
            ));
        }
        if self.left_the_school > 0 {
            lines.push(format!(
                "No message for {} who left the school.",
                count(self.left_the_school, "student")
            ));
        }
        lines
    }
}

/// The messages an email run would send.
pub fn email_preview(
    store: &Store,
    settings: &EmailSettings,
    run: &Emailing,
) -> Result<EmailPreview, ReportError> {
    let today = today();
    let sheet = run.sheet(store, today)?;
    let reports = sheet.as_ref().map_or_else(Vec::new, |s| {
        email::reports(s, run.under, &settings.subject)
    });
    let nothing_to_report = match (&sheet, run.under) {
        (Some(sheet), None) => email::nothing_to_report(sheet),
        _ => 0,
    };
    let left_the_school = sheet
        .as_ref()
        .map_or(0, |s| email::left_the_school(s, run.under));
    let nobody = reports.is_empty().then(|| match &sheet {
        Some(sheet) if sheet.days.is_empty() => {
            "There was no class day in the days counted: there is no one to email.".to_string()
        }
        Some(_) if left_the_school > 0 => {
            let who = match run.under {
                Some(t) => format!("under {t:.0} %"),
                None => "with a class day in this range".into(),
            };
            format!(
                "Nobody to email: the only {} {who} left the school.",
                count(left_the_school, "student")
            )
        }
        _ => run.nobody(today),
    });
    Ok(EmailPreview {
        reports,
        not_set_up: email::set_up(settings).err().map(|e| e.to_string()),
        today_left_out: run.leaves_out(today),
        nothing_to_report,
        left_the_school,
        nobody,
    })
}

/// Emails each student of the run their attendance; `progress(done, total)` after each
/// message. Nobody to mail means no mail server is contacted at all.
pub fn email_students(
    store: &mut Store,
    settings: &EmailSettings,
    run: &Emailing,
    progress: impl FnMut(usize, usize),
) -> Result<SendSummary, ReportError> {
    let Some(sheet) = run.sheet(store, today())? else {
        return Ok(SendSummary::default());
    };
    let reports = email::reports(&sheet, run.under, &settings.subject);
    if reports.is_empty() {
        return Ok(SendSummary::default());
    }
    Ok(email::send(settings, &reports, store, progress)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn reports_count_up_to_yesterday_unless_today_is_over() {
        let month = |with_today| Emailing {
            from: day(12, 1),
            to: day(12, 31),
            under: Some(85.0),
            with_today,
            only: None,
        };
        // Seen on 3 December: the days after it have not happened; today only once over.
        assert_eq!(
            month(false).days(day(12, 3)),
            Some((day(12, 1), day(12, 2)))
        );
        assert!(month(false).leaves_out(day(12, 3)));
        assert_eq!(month(true).days(day(12, 3)), Some((day(12, 1), day(12, 3))));
        assert!(!month(true).leaves_out(day(12, 3)));
        // On the first day of the range, nothing is over yet.
        assert_eq!(month(false).days(day(12, 1)), None);
        // Seen after its end, the range is counted as chosen, and today is not in it.
        assert_eq!(
            month(false).days(day(1, 5) + chrono::Months::new(12)),
            Some((day(12, 1), day(12, 31)))
        );
        let november = Emailing {
            from: day(11, 1),
            to: day(11, 30),
            ..month(false)
        };
        assert_eq!(november.days(day(12, 3)), Some((day(11, 1), day(11, 30))));
        assert!(!november.leaves_out(day(12, 3)));
        // A range yet to come has no day to count.
        assert_eq!(month(true).days(day(11, 20)), None);
        assert!(month(false)
            .nobody(day(12, 1))
            .starts_with("No day of this range is over"));
        assert!(month(false)
            .nobody(day(12, 3))
            .starts_with("Nobody is under 85 %"));
    }
}
