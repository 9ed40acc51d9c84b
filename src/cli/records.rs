//! Commands on students and their records: enrol, mark, list, import, backup, restore.

use super::{progress_bar, settings_for, Exit};
use crate::attendance::import::PhotosFoundByName;
use crate::attendance::{
    check_request, AdminError, AttendanceService, EnrollError, LookAlike, MarkError, Outcome,
    PhotoInput,
};
use crate::data_dir::DataDir;
use crate::store::{clock_time, Store};
use crate::wording::{count, long_date};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

fn service(data: DataDir) -> anyhow::Result<AttendanceService> {
    let settings = settings_for(&data)?;
    Ok(AttendanceService::open(data, settings)?)
}

fn read_photo(path: &Path) -> anyhow::Result<PhotoInput> {
    PhotoInput::read(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read {}: {}",
            path.display(),
            crate::wording::file_problem(&e)
        )
    })
}

/// The data folder, refused if it is not there: for the commands that read or change what
/// it holds (see `DataDir::existing`).
pub(super) fn existing_folder(data_dir: Option<&Path>) -> anyhow::Result<DataDir> {
    Ok(DataDir::resolve(data_dir).existing()?.create()?)
}

/// The data folder (refused if it is not there) and its database.
pub(super) fn store(data_dir: Option<&Path>) -> anyhow::Result<(DataDir, Store)> {
    let data = existing_folder(data_dir)?;
    let store = Store::open(&data.database())?;
    Ok((data, store))
}

pub fn enroll(
    data_dir: Option<&Path>,
    roll_no: &str,
    name: &str,
    email: &str,
    photos: &[PathBuf],
) -> anyhow::Result<Exit> {
    let photos = photos
        .iter()
        .map(|p| read_photo(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // A request that cannot succeed is answered without loading the face models.
    let result = match check_request(roll_no, name, email, &photos) {
        Ok(_) => service(DataDir::resolve(data_dir).create()?)?.enroll(
            roll_no,
            name,
            email,
            &photos,
            "command line",
        ),
        Err(e) => Err(e),
    };
    match result {
        Ok(done) => {
            println!("{}", done.outcome());
            for p in &done.refused {
                eprintln!("Not used: {p}");
            }
            if let Some(warning) = LookAlike::warning(&done.look_alikes) {
                eprintln!("{warning} Check this is not the same student enrolled twice.");
            }
            Ok(Exit::Ok)
        }
        Err(e @ (EnrollError::Store(_) | EnrollError::Io(_) | EnrollError::Vision(_))) => {
            Err(e.into())
        }
        Err(e) => {
            println!("{}", e.outcome());
            match &e {
                EnrollError::InvalidData(why) => eprintln!("Because {why}."),
                EnrollError::NoUsablePhoto(problems) => {
                    for p in problems {
                        eprintln!("Not used: {p}");
                    }
                }
                _ => {}
            }
            Ok(Exit::Refused)
        }
    }
}

pub fn mark(data_dir: Option<&Path>, photo: &Path) -> anyhow::Result<Exit> {
    let photo = read_photo(photo)?;
    let mut service = service(existing_folder(data_dir)?)?;
    match service.mark_photo(&photo.bytes, "cli") {
        Ok(m) => {
            println!("{}", m.outcome());
            if m.outcome() == Outcome::AbsentByHand {
                eprintln!(
                    "{} ({}) was recorded absent today by hand at {}: not marked (an admin can correct it to present)",
                    m.name,
                    m.roll_no,
                    clock_time(m.at())
                );
                return Ok(Exit::Refused);
            }
            let at = clock_time(m.at());
            match m.other_door() {
                Some(door) => eprintln!("{} ({}) at {at}, {door}", m.name, m.roll_no),
                None => eprintln!("{} ({}) at {at}", m.name, m.roll_no),
            }
            Ok(Exit::Ok)
        }
        Err(e @ (MarkError::Store(_) | MarkError::Vision(_))) => Err(e.into()),
        Err(e) => {
            println!("{}", e.outcome());
            if let MarkError::Image(why) = &e {
                eprintln!("{why}");
            }
            Ok(Exit::Refused)
        }
    }
}

/// Prints the last `last` entries of the audit log, newest first: when, who (the kiosk's
/// admin, the command line, the API…), what, and its details.
pub fn audit_log(data_dir: Option<&Path>, last: usize) -> anyhow::Result<Exit> {
    let (_, store) = store(data_dir)?;
    let rows = store.audit_log(last)?;
    if rows.is_empty() {
        println!("Nothing has been changed in this data folder yet.");
    }
    for r in rows {
        println!(
            "{}  {}: {} — {}",
            crate::store::to_the_minute(&r.at),
            r.actor,
            r.action,
            r.details
        );
    }
    Ok(Exit::Ok)
}

/// Pads `text` to `width` columns as a terminal shows them (wide characters take two).
fn pad(text: &str, width: usize) -> String {
    let shown: usize = text.chars().map(display_width).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(shown)))
}

/// Columns a character takes in a terminal: two for East Asian wide characters and emoji.
fn display_width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1FAFF
        | 0x20000..=0x3FFFD);
    if wide {
        2
    } else if c.is_control() || ('\u{300}'..='\u{36F}').contains(&c) {
        0
    } else {
        1
    }
}

pub fn students(data_dir: Option<&Path>) -> anyhow::Result<Exit> {
    let (_, store) = store(data_dir)?;
    let mut students = store.students()?;
    students.sort_by(|a, b| crate::order::natural_cmp(&a.roll_no, &b.roll_no));
    let today = chrono::Local::now().date_naive();
    let mut out = std::io::stdout().lock();
    // The status last: the columns before it are where they were before it came.
    let listed = writeln!(
        out,
        "{} {} {} {:>6}  {}  {}  {}  status",
        pad("roll no", 12),
        pad("name", 28),
        pad("email", 32),
        "photos",
        pad("photo check", 15),
        pad("enrolled", 16),
        pad("last seen", 16)
    )
    .and_then(|()| {
        students.iter().try_for_each(|s| {
            writeln!(
                out,
                "{} {} {} {:>6}  {}  {}  {}  {}",
                pad(&s.roll_no, 12),
                pad(&s.name, 28),
                pad(&s.email, 32),
                s.photo_count,
                pad(s.photo_check(), 15),
                pad(&crate::store::to_the_minute(&s.enrolled_at), 16),
                pad(
                    &s.last_seen
                        .as_deref()
                        .map(crate::store::to_the_minute)
                        .unwrap_or_else(|| "never".into()),
                    16
                ),
                s.status(today)
            )
        })
    });
    // Read by something that stopped early (`rollcall students | head`): nothing to add.
    match listed {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Ok),
        other => other?,
    }
    eprintln!("{}", count(students.len(), "student"));
    Ok(Exit::Ok)
}

pub fn import(
    data_dir: Option<&Path>,
    path: &Path,
    email_domain: Option<&str>,
) -> anyhow::Result<Exit> {
    use crate::attendance::import::{found_elsewhere, leave_out, read_entries};
    let mut entries = read_entries(path, email_domain)?;
    // Asked at a terminal, as the admin screen asks; a script is told after the import.
    let found_elsewhere = found_elsewhere(&entries);
    let at_a_terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if at_a_terminal && !found_elsewhere.is_empty() {
        match ask_about_found_elsewhere(&found_elsewhere)? {
            Some(PhotosFoundByName::LeaveOut) => leave_out(&mut entries),
            Some(_) => {}
            None => {
                println!("Nothing imported.");
                return Ok(Exit::Refused);
            }
        }
    }
    let mut service = service(DataDir::resolve(data_dir).create()?)?;
    let bar = progress_bar(entries.len(), "importing", "students");
    let summary = service.import(&entries, "command line", |done, _| {
        bar.set_position(done as u64)
    });
    bar.finish_and_clear();
    println!(
        "Enrolled {} of {}.",
        summary.enrolled.len(),
        count(entries.len(), "student")
    );
    for (who, why) in &summary.refused {
        println!("Not enrolled: {who}: {why}");
    }
    for (who, note) in &summary.photo_notes {
        println!("Not used: {who}: {note}");
    }
    for (who, warning) in &summary.look_alikes {
        println!("{who}: {warning}");
    }
    for line in &summary.found_by_name {
        println!("{line}");
    }
    Ok(if summary.refused.is_empty() {
        Exit::Ok
    } else {
        Exit::Refused
    })
}

/// Asks whether photos a class list names, found elsewhere than it says by file name
/// (one line per folder), are to be used; `None`: nothing is to be imported.
fn ask_about_found_elsewhere(
    found_elsewhere: &[String],
) -> std::io::Result<Option<PhotosFoundByName>> {
    println!(
        "Some photos are not where the list says. Photos of the same file names were found \
         in other folders below it:"
    );
    for line in found_elsewhere {
        println!("  {line}");
    }
    print!(
        "Check they are these students' photos: another student's photo of that name would \
         be enrolled as this one. Import with these photos (y), without them (w: those \
         students are enrolled from their other photos), or nothing (n)? [y/w/N] "
    );
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Some(PhotosFoundByName::Use(found_elsewhere.to_vec())),
        "w" | "without" => Some(PhotosFoundByName::LeaveOut),
        _ => None,
    })
}

pub fn backup(data_dir: Option<&Path>, file: &Path) -> anyhow::Result<Exit> {
    let (data, mut store) = store(data_dir)?;
    let b = store.backup_to(file, &data)?;
    store.record_backup(file, "command line")?;
    println!("{}", b.backed_up_to(file));
    Ok(Exit::Ok)
}

/// Removes a forgotten admin PIN.
pub fn forget_pin(data_dir: Option<&Path>) -> anyhow::Result<Exit> {
    let (_, mut store) = store(data_dir)?;
    if crate::attendance::pin::AdminPin::forget(&mut store, "command line")? {
        println!(
            "The admin PIN is removed. Open Admin at the kiosk now and choose a new one: \
             until then, anyone at the kiosk can."
        );
    } else {
        println!("No admin PIN was set: the first person to open Admin chooses one.");
    }
    Ok(Exit::Ok)
}

/// Deletes students, or erases their face data, by roll number; a roll number nobody has
/// is reported and the others are still done. Without `yes`, only lists them.
pub fn delete(
    data_dir: Option<&Path>,
    roll_nos: &[String],
    face_data: bool,
    yes: bool,
) -> anyhow::Result<Exit> {
    let data = existing_folder(data_dir)?;
    let settings = super::settings_for(&data)?;
    let mut records = crate::attendance::Records::open(&data, &settings)?;
    let mut exit = Exit::Ok;
    let mut found = Vec::new();
    for roll_no in roll_nos {
        match records.store().student_by_roll_no(roll_no)? {
            // The same student named twice (CS-1 and cs-1) is done once.
            Some(student) if found.iter().any(|f: &(i64, _, _)| f.0 == student.0) => {}
            Some(student) => found.push(student),
            None => {
                eprintln!("No student has the roll number {roll_no}.");
                exit = Exit::Refused;
            }
        }
    }
    if found.is_empty() {
        println!("Nothing was changed.");
        return Ok(Exit::Refused);
    }
    if !yes {
        println!(
            "This would erase {}",
            if face_data {
                "the face data (photos, face templates, snapshots) of:"
            } else {
                "these students with their photos and attendance:"
            }
        );
        for (_, roll_no, name) in &found {
            println!("  {name} ({roll_no})");
        }
        println!("Nothing was changed: run it again with --yes to do it.");
        return Ok(Exit::Refused);
    }
    for (id, roll_no, name) in found {
        let who = format!("{name} ({roll_no})");
        if face_data {
            let erased = records.erase_face_data(id, "command line")?;
            println!("Erased the face data of {who}: {erased}.");
        } else {
            let kept = records.delete_student(id, "command line")?;
            println!("Deleted {who} with their photos and attendance.");
            if let Some(kept) = kept {
                println!("  {kept}");
            }
        }
    }
    if let Some(note) = records.erasure_note() {
        println!("{note}");
    }
    Ok(exit)
}

/// What `rollcall edit` changes of a student (`None`: stays as it is).
pub struct StudentChange<'a> {
    pub roll_no: Option<&'a str>,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    /// The new roll number or email address is another student's: swap them.
    pub swap: bool,
}

/// `rollcall edit`: corrects a student's roll number, name or email.
pub fn edit(
    data_dir: Option<&Path>,
    roll_no: &str,
    change: &StudentChange,
) -> anyhow::Result<Exit> {
    if change.roll_no.is_none() && change.name.is_none() && change.email.is_none() {
        eprintln!("Nothing to change: give --roll-no, --name or --email.");
        return Ok(Exit::Refused);
    }
    let data = existing_folder(data_dir)?;
    let settings = super::settings_for(&data)?;
    let mut records = crate::attendance::Records::open(&data, &settings)?;
    let found = records.store().student_by_roll_no(roll_no)?;
    let Some(student) = found
        .map(|(id, ..)| records.store().student(id))
        .transpose()?
        .flatten()
    else {
        eprintln!("No student has the roll number {roll_no}. Nothing was changed.");
        return Ok(Exit::Refused);
    };
    let new_roll_no = change.roll_no.unwrap_or(&student.roll_no);
    let name = change.name.unwrap_or(&student.name);
    let email = change.email.unwrap_or(&student.email);
    if change.swap {
        return match records.swap_with(student.id, new_roll_no, name, email, "command line") {
            Ok(swapped) => {
                println!("{swapped}");
                Ok(Exit::Ok)
            }
            Err(e @ AdminError::Invalid(_)) => {
                eprintln!("{e} Nothing was changed.");
                Ok(Exit::Refused)
            }
            Err(e) => Err(e.into()),
        };
    }
    match records.update_student(student.id, new_roll_no, name, email, "command line") {
        Ok(corrected) => {
            let name = name.trim();
            match corrected {
                Some(old) => println!(
                    "Saved the changes to {name}: roll number {} (was {old}). Their \
                     attendance, photos and face data stay theirs.",
                    new_roll_no.trim()
                ),
                None => println!("Saved the changes to {name} ({}).", student.roll_no),
            }
            Ok(Exit::Ok)
        }
        Err(e @ AdminError::RollNoTaken { .. }) => {
            eprintln!(
                "{e} Nothing was changed. To swap the two students' roll numbers, add --swap."
            );
            Ok(Exit::Refused)
        }
        Err(e @ AdminError::EmailTaken) => {
            eprintln!(
                "{e} Nothing was changed. To swap the two students' email addresses, add --swap."
            );
            Ok(Exit::Refused)
        }
        Err(e @ AdminError::Invalid(_)) => {
            eprintln!("{e} Nothing was changed.");
            Ok(Exit::Refused)
        }
        Err(e) => Err(e.into()),
    }
}

/// The day `rollcall left` is given: the last day in class of a student leaving, or the
/// first day back of one coming back (`None`: the usual one).
pub enum LeaveDay {
    Last(Option<chrono::NaiveDate>),
    FirstBack(Option<chrono::NaiveDate>),
}

/// `rollcall left`: records that a student left the school (or leaves it: `day` may be
/// ahead), or is back in the class; without `yes` it only says what it would do.
pub fn left(
    data_dir: Option<&Path>,
    roll_no: &str,
    day: LeaveDay,
    yes: bool,
) -> anyhow::Result<Exit> {
    let data = existing_folder(data_dir)?;
    let settings = super::settings_for(&data)?;
    let mut records = crate::attendance::Records::open(&data, &settings)?;
    let Some((id, roll_no, name)) = records.store().student_by_roll_no(roll_no)? else {
        eprintln!("No student has the roll number {roll_no}. Nothing was changed.");
        return Ok(Exit::Refused);
    };
    let who = format!("{name} ({roll_no})");
    let today = chrono::Local::now().date_naive();
    let last_day = match day {
        LeaveDay::Last(day) => day.unwrap_or(today),
        LeaveDay::FirstBack(day) => return come_back(&mut records, id, &who, day, yes),
    };
    if !yes {
        // Said now, not only once run again with --yes (`student_left` checks then).
        records.may_leave(id, last_day, today)?;
        let (left, erased) = match last_day > today {
            true => ("leaves", "after it (the kiosk marks them until then)"),
            false => ("left", "now"),
        };
        println!(
            "This would record that {who} {left} the school, their last day in class {}: \
             their attendance up to then stays, and their photos and face data are erased \
             {erased}.",
            long_date(last_day),
        );
        println!("Nothing was changed: run it again with --yes to do it.");
        return Ok(Exit::Refused);
    }
    let erased = records.student_left(id, last_day, today, "command line")?;
    println!(
        "Recorded for {who}: {}",
        crate::attendance::leave_recorded(last_day, today, erased)
    );
    if let Some(note) = records.erasure_note().filter(|_| last_day <= today) {
        println!("{note}");
    }
    Ok(Exit::Ok)
}

/// `rollcall left --back`: records that a student who left is in the class again from
/// `day` (`None`: the usual first day back).
fn come_back(
    records: &mut crate::attendance::Records,
    id: i64,
    who: &str,
    day: Option<chrono::NaiveDate>,
    yes: bool,
) -> anyhow::Result<Exit> {
    let today = chrono::Local::now().date_naive();
    let Some(left) = records.store().last_day(id)? else {
        println!("{who} has not left the school. Nothing was changed.");
        return Ok(Exit::Refused);
    };
    let back = day.unwrap_or(crate::attendance::first_day_back_by_default(left, today));
    // Said now, not only once run again with --yes (`student_back` checks then).
    records.may_come_back(id, back, today)?;
    if !yes {
        let would = crate::attendance::back_in_class(left, back, today);
        println!("This would record that {who} is {would}.");
        println!("Nothing was changed: run it again with --yes to do it.");
        return Ok(Exit::Refused);
    }
    let (done, known) = records.student_back(id, back, today, "command line")?;
    match known {
        true => println!("{who} is {done}."),
        false => println!(
            "{who} is {done}. Add their photos in Admin → Students so that the kiosk \
             recognises them."
        ),
    }
    Ok(Exit::Ok)
}

/// Marks made here while the clock was ahead (dated after today, or refused by the school
/// server as dated on a day that had not come there): said, or with `yes` removed.
pub fn future_marks(data_dir: Option<&Path>, yes: bool) -> anyhow::Result<Exit> {
    let (_, mut store) = store(data_dir)?;
    let today = chrono::Local::now().date_naive();
    let Some(ahead) = store.future_marks(today)? else {
        println!("No mark made here was dated while the clock was ahead (today is {today}).");
        return Ok(Exit::Ok);
    };
    if !yes {
        println!("{ahead}");
        println!("Nothing was changed: if today really is {today}, run it again with --yes.");
        return Ok(Exit::Refused);
    }
    let removed = store.remove_future_marks(today, "command line")?;
    println!(
        "Removed {} made while the clock was ahead (today is {today}). Attendance is taken \
         again.",
        count(removed, "mark")
    );
    Ok(Exit::Ok)
}

pub fn restore(data_dir: Option<&Path>, file: &Path) -> anyhow::Result<Exit> {
    let data = DataDir::resolve(data_dir).create()?;
    let restored = crate::store::restore(&data, file)?;
    for line in restored.report(file) {
        println!("{line}");
    }
    println!(
        "If the kiosk or the server is running on this data folder, close it and start it \
         again, so that it works from the restored data."
    );
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(pad("李小龙", 8), "李小龙  ");
        assert_eq!(pad("Ada", 5), "Ada  ");
        assert_eq!(pad("too long", 3), "too long");
    }
}
