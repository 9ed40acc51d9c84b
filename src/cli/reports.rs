//! Report commands: export the sheet, email students.

use super::{progress_bar, settings_for, Exit, ExportFormat};
use crate::data_dir::DataDir;
use crate::reports::{self, percent_text, Format, Range};
use crate::store::Store;
use crate::wording::count;
use chrono::NaiveDate;
use std::path::Path;

/// The range a command covers: given days, else this month up to today.
fn range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let today = chrono::Local::now().date_naive();
    let (month_start, _) = Range::ThisMonth.bounds(today);
    let (from, to) = (from.unwrap_or(month_start), to.unwrap_or(today));
    if from > to {
        anyhow::bail!(
            "The range starts after it ends ({from} to {to}): give --from the first day and \
             --to the last."
        );
    }
    Ok((from, to))
}

pub fn export(
    data_dir: Option<&Path>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: ExportFormat,
    output: &Path,
) -> anyhow::Result<Exit> {
    let data = DataDir::resolve(data_dir).create()?;
    let store = Store::open(&data.database())?;
    let (from, to) = range(from, to)?;
    let format = match format {
        ExportFormat::Xlsx => Format::Xlsx,
        ExportFormat::Csv => Format::Csv,
    };
    let sheet = reports::export(&store, from, to, format, output)?;
    println!(
        "Wrote {} × {}, {from} to {to}, to {}.",
        count(sheet.rows.len(), "student"),
        count(sheet.days.len(), "class day"),
        output.display()
    );
    Ok(Exit::Ok)
}

pub fn email(
    data_dir: Option<&Path>,
    under: Option<f64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    with_today: bool,
    preview: bool,
) -> anyhow::Result<Exit> {
    let data = DataDir::resolve(data_dir).create()?;
    let settings = settings_for(&data)?;
    let mut store = Store::open(&data.database())?;
    let (from, to) = range(from, to)?;
    let run = reports::Emailing {
        from,
        to,
        under,
        with_today,
    };
    let today = chrono::Local::now().date_naive();
    if run.leaves_out(today) {
        println!(
            "{} Once they are, add --with-today to count it.",
            reports::TODAY_LEFT_OUT
        );
    }
    if preview {
        let preview = reports::email_preview(&store, &settings.email, run)?;
        if let Some(why) = &preview.nobody {
            println!("{why}");
            return Ok(Exit::Ok);
        }
        for r in &preview.reports {
            println!("{} <{}>: {}", r.name, r.email, percent_text(r.percent));
        }
        println!("{} would be sent.", count(preview.reports.len(), "message"));
        for line in preview.not_sent_lines() {
            println!("{line}");
        }
        if let Some(why) = preview.not_set_up {
            println!("{why}");
        }
        return Ok(Exit::Ok);
    }
    let bar = progress_bar(0, "sending", "messages");
    let summary = reports::email_students(&mut store, &settings.email, run, |d, t| {
        bar.set_length(t as u64);
        bar.set_position(d as u64)
    })?;
    bar.finish_and_clear();
    if summary.sent.is_empty() && summary.failed.is_empty() {
        println!("{}", run.nobody(today));
    } else {
        println!(
            "Sent {} of {}.",
            summary.sent.len(),
            count(summary.sent.len() + summary.failed.len(), "message")
        );
    }
    for (to, why) in &summary.failed {
        println!("Not sent to {to}: {why}");
    }
    Ok(if summary.failed.is_empty() {
        Exit::Ok
    } else {
        Exit::Refused
    })
}
