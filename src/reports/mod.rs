//! Attendance reports: the students × class days sheet, its exports (Excel, CSV) and the
//! emails to students. One home for each workflow: the command line, the HTTP API and the
//! admin screens all call the functions here.

pub mod email;
pub mod export;
pub mod sheet;

pub use email::{nobody_to_email, EmailError, Report, SendSummary};
pub use export::{ExportError, Format};
pub use sheet::{percent_text, Range, Sheet, SheetRow};

use crate::settings::EmailSettings;
use crate::store::{Store, StoreError};
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

/// The sheet from the first day anyone was marked up to today: what the old dashboard
/// showed (`GET /getdata`, the mail endpoints).
pub fn whole_history(store: &Store) -> Result<Sheet, StoreError> {
    let today = chrono::Local::now().date_naive();
    let first = store.first_mark_day()?.unwrap_or(today);
    Sheet::build(store, first, today.max(first))
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

/// What an email run would send, and why it cannot be sent yet, if so.
#[derive(Clone, Debug, PartialEq)]
pub struct EmailPreview {
    pub reports: Vec<Report>,
    /// No mail server is set up: what the admin must do first.
    pub not_set_up: Option<String>,
}

/// The messages an email run would send: every student, or those under `under` percent.
pub fn email_preview(
    store: &Store,
    settings: &EmailSettings,
    from: NaiveDate,
    to: NaiveDate,
    under: Option<f64>,
) -> Result<EmailPreview, ReportError> {
    let sheet = Sheet::build(store, from, to)?;
    Ok(EmailPreview {
        reports: email::reports(&sheet, under, &settings.subject, today()),
        not_set_up: email::set_up(settings).err().map(|e| e.to_string()),
    })
}

/// Emails each student their attendance (or only those under `under` percent);
/// `progress(done, total)` after each message. Nobody to mail means no mail server is
/// contacted at all.
pub fn email_students(
    store: &mut Store,
    settings: &EmailSettings,
    sheet: &Sheet,
    under: Option<f64>,
    progress: impl FnMut(usize, usize),
) -> Result<SendSummary, ReportError> {
    let reports = email::reports(sheet, under, &settings.subject, today());
    if reports.is_empty() {
        return Ok(SendSummary::default());
    }
    Ok(email::send(settings, &reports, store, progress)?)
}
