//! Report commands: export the sheet, email students.

use super::records::{existing_folder, store};
use super::{progress_bar, settings_for, Exit, ExportFormat};
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

/// `word` as one word for a shell: quoted when it holds anything but letters, digits, `-`,
/// `_`, `.` and `/`.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    match plain {
        true => word.to_string(),
        false => format!("'{}'", word.replace('\'', r"'\''")),
    }
}

pub fn export(
    data_dir: Option<&Path>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    format: ExportFormat,
    output: &Path,
) -> anyhow::Result<Exit> {
    let (_, store) = store(data_dir)?;
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

/// Prints the last `last` messages of the email log (only those not sent, if asked),
/// newest first: when, to whom, and whether they went or why not.
pub fn email_log(data_dir: Option<&Path>, last: usize, not_sent: bool) -> anyhow::Result<Exit> {
    let (_, store) = store(data_dir)?;
    let rows = store.email_log(last)?;
    if rows.is_empty() {
        println!("No report has been emailed from this data folder yet.");
        return Ok(Exit::Ok);
    }
    let shown: Vec<_> = rows
        .iter()
        .filter(|r| !(not_sent && r.was_sent()))
        .collect();
    if shown.is_empty() {
        match rows.len() {
            1 => println!("The last message went."),
            n => println!("The last {n} messages all went."),
        }
    }
    for r in shown {
        let to = match &r.student {
            Some(student) => format!("{student} <{}>", r.recipient),
            None => format!("<{}>", r.recipient),
        };
        println!(
            "{}  {to}: {}",
            crate::store::to_the_minute(&r.at),
            r.outcome()
        );
    }
    Ok(Exit::Ok)
}

/// `rollcall report email`'s choices: whose reports, over which days.
pub struct EmailRun<'a> {
    pub under: Option<f64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub with_today: bool,
    /// Roll numbers; empty: the whole class.
    pub only: &'a [String],
}

pub fn email(data_dir: Option<&Path>, asked: EmailRun, preview: bool) -> anyhow::Result<Exit> {
    let data = existing_folder(data_dir)?;
    let settings = settings_for(&data)?;
    let mut store = Store::open(&data.database())?;
    let (from, to) = range(asked.from, asked.to)?;
    let mut only = Vec::new();
    for roll_no in asked.only {
        match store.student_by_roll_no(roll_no)? {
            Some((id, _, _)) => only.push(id),
            None => anyhow::bail!("No student has the roll number \"{roll_no}\"."),
        }
    }
    let run = reports::Emailing {
        from,
        to,
        under: asked.under,
        with_today: asked.with_today,
        only: (!asked.only.is_empty()).then_some(only),
    };
    let today = chrono::Local::now().date_naive();
    if run.leaves_out(today) {
        println!(
            "{} Once they are, add --with-today to count it.",
            reports::TODAY_LEFT_OUT
        );
    }
    if preview {
        let preview = reports::email_preview(&store, &settings.email, &run)?;
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
    let summary = reports::email_students(&mut store, &settings.email, &run, |d, t| {
        bar.set_length(t as u64);
        bar.set_position(d as u64)
    })?;
    bar.finish_and_clear();
    if summary.sent.is_empty() && summary.failed.is_empty() {
        println!("{}", run.nobody(today));
    } else {
        println!("{}", summary.sent_text());
    }
    for not_sent in &summary.failed {
        println!("{not_sent}");
    }
    if !summary.failed.is_empty() {
        // The same run, to those only: the others have theirs.
        let mut again = format!("rollcall report email --from {from} --to {to}");
        if let Some(t) = run.under {
            again.push_str(&format!(" --under {t}"));
        }
        if run.with_today {
            again.push_str(" --with-today");
        }
        for n in &summary.failed {
            again.push_str(&format!(" --only {}", shell_word(&n.roll_no)));
        }
        println!("Once put right, send these again with: {again}");
    }
    Ok(if summary.failed.is_empty() {
        Exit::Ok
    } else {
        Exit::Refused
    })
}
