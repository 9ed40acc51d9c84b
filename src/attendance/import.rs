//! Bulk import: a folder with one sub-folder per student named `ROLLNO_Name`, or a CSV of
//! roll no, name, email and photo paths. Each student is enrolled like any other; what is
//! refused is reported with the reason.

use super::service::{enroll, NewEnrolment};
use super::{EnrollError, Enrolled, LookAlike, PhotoInput, Recognizer, Records, MAX_PHOTOS};
use crate::vision::image_io::{file_name_of, folders_in, images_in, is_image};
use std::path::{Path, PathBuf};

/// One student to import.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportEntry {
    /// Where the entry came from (folder name or CSV line), for messages.
    pub source: String,
    pub roll_no: String,
    pub name: String,
    pub email: Option<String>,
    /// Where an email was looked for, told to the admin when there is none.
    pub email_hint: &'static str,
    /// What the admin is told when there is no name.
    pub no_name: &'static str,
    pub photos: Vec<PathBuf>,
    /// What the admin is told of a photo not found (where it was looked for), or "".
    pub missing_hint: &'static str,
    /// Photos a CSV names that were not where it says, found below it by file name.
    pub found_by_name: Vec<FoundByName>,
    /// Photos found by file name that the admin chose not to use (see [`leave_out`]).
    pub left_out: Vec<FoundByName>,
}

impl ImportEntry {
    /// The entry as the import's messages name it: "line 2 (R1)", "R1_Ana (R1)".
    fn label(&self) -> String {
        format!("{} ({})", self.source, self.roll_no)
    }
}

/// What an import does with the photos a list names that are not where it says but were
/// found below it by file name (see [`FoundByName`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhotosFoundByName {
    /// Import nothing yet: the admin is to be asked first ([`found_elsewhere`]).
    Ask,
    /// Use them: the admin has checked these (the lines of [`found_elsewhere`] they were
    /// shown; a list that now finds others, edited meanwhile, is asked about again).
    Use(Vec<String>),
    /// Import without them: each student is enrolled from their other photos.
    LeaveOut,
}

/// A photo a CSV names that was not at the path written, taken from the folder below the
/// CSV where the only photo of that name is: perhaps another class's, so the admin is told.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundByName {
    /// The path as the CSV writes it.
    pub written: String,
    /// Where it was found.
    pub found: PathBuf,
    /// The folder it was taken from, relative to the CSV's (`photos/`), or "the list's
    /// folder".
    pub folder: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportSummary {
    /// Roll numbers enrolled.
    pub enrolled: Vec<String>,
    /// (entry, reason) for students not enrolled.
    pub refused: Vec<(String, String)>,
    /// (entry, note) about single photos left out of an enrolment.
    pub photo_notes: Vec<(String, String)>,
    /// (entry, warning) for students enrolled whose photos look like a student enrolled
    /// before them: perhaps one student twice (under two roll numbers, or imported again).
    pub look_alikes: Vec<(String, String)>,
    /// One line per folder from which photos enrolled were taken by file name,
    /// not where the CSV says they are (see [`FoundByName`]), fewest photos first.
    pub found_by_name: Vec<String>,
}

/// The import source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path} cannot be read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{0} is neither a folder of student folders nor a CSV file")]
    Unknown(String),
}

fn unreadable(path: &Path, e: impl ToString) -> ImportError {
    ImportError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn unreadable_file(path: &Path, e: &std::io::Error) -> ImportError {
    unreadable(path, crate::wording::file_problem(e))
}

/// Reads the students to import from a folder or a CSV file. Each student's email comes
/// from an `email.txt` in their folder or a CSV's third column, else `ROLLNO@email_domain`.
pub fn read_entries(
    path: &Path,
    email_domain: Option<&str>,
) -> Result<Vec<ImportEntry>, ImportError> {
    if path.is_dir() {
        read_folders(path, email_domain)
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        read_csv(path, email_domain)
    } else {
        Err(ImportError::Unknown(path.display().to_string()))
    }
}

fn read_folders(dir: &Path, email_domain: Option<&str>) -> Result<Vec<ImportEntry>, ImportError> {
    let folders = folders_in(dir).map_err(|e| unreadable_file(dir, &e))?;
    let mut out = Vec::new();
    for folder in folders {
        let source = file_name_of(&folder);
        // `ROLLNO_Name`, or as often typed, `ROLLNO - Name` (a hyphen alone is not a
        // separator: roll numbers such as CS-042 hold one).
        let (roll_no, name) = match source.split_once('_').or(source.split_once(" - ")) {
            Some((r, n)) => (r.trim().to_string(), n.replace('_', " ").trim().to_string()),
            None => (source.clone(), String::new()),
        };
        let email = std::fs::read_to_string(folder.join("email.txt"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| email_domain.map(|d| format!("{roll_no}@{d}")));
        let photos = images_in(&folder).map_err(|e| unreadable_file(&folder, &e))?;
        out.push(ImportEntry {
            source,
            roll_no,
            name,
            email,
            email_hint: "add email.txt to the folder, or give an email domain",
            no_name: "the folder's name is not ROLLNO_Name: rename it, such as 12_Ana Lopez",
            photos,
            missing_hint: "",
            found_by_name: Vec::new(),
            left_out: Vec::new(),
        });
    }
    Ok(out)
}

/// Reads a CSV as spreadsheets save it: comma-, semicolon- or tab-separated (Excel uses
/// semicolons where the decimal mark is a comma), UTF-8 with or without a byte-order mark,
/// or Windows-1252 (Excel's plain "CSV" on Windows), with or without a header line.
fn read_csv(path: &Path, email_domain: Option<&str>) -> Result<Vec<ImportEntry>, ImportError> {
    // A CSV named without its folder (`rollcall import class.csv`) is in the working one,
    // whose photos are then told by their full paths.
    let here;
    let base = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => {
            here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            &here
        }
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable_file(path, &e))?;
    let text = decode_text(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter_of(&text))
        .from_reader(text.as_bytes());
    let csv_photos = CsvPhotos::new(base);
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| unreadable(path, e))?;
        let field = |k: usize| record.get(k).unwrap_or("").to_string();
        let (mut photos, mut found_by_name) = (Vec::new(), Vec::new());
        for written in record.iter().skip(3).filter(|p| !p.is_empty()) {
            let (photo, by_name) = csv_photos.locate(written);
            photos.push(photo);
            found_by_name.extend(by_name);
        }
        // A spreadsheet's empty rows come out as separators alone.
        if record.iter().all(str::is_empty) {
            continue;
        }
        // A header line ("roll no, name, email, photos", in any language) is skipped: a
        // title where the email address goes, and no photo that exists.
        let titles = field(0).to_lowercase().contains("roll")
            || (!field(2).is_empty()
                && !field(2).contains('@')
                && !photos.iter().any(|p| p.is_file()));
        if i == 0 && titles {
            continue;
        }
        out.push(ImportEntry {
            source: format!("line {}", i + 1),
            roll_no: field(0),
            name: field(1),
            email: Some(field(2))
                .filter(|e| !e.is_empty())
                .or_else(|| email_domain.map(|d| format!("{}@{d}", field(0)))),
            email_hint: "the third column is the email address, or give an email domain",
            no_name: "no name (the second column is the name)",
            photos,
            missing_hint: match csv_photos.search_cut_short() {
                true => MISSING_UNSEARCHED,
                false => "",
            },
            found_by_name,
            left_out: Vec::new(),
        });
    }
    Ok(out)
}

/// Said of a CSV's photo not found where written while the folders below the CSV held too
/// much to look through for it by name.
const MISSING_UNSEARCHED: &str = " (nor by its file name below the list, whose folders hold \
     too many files to look through them all: write the photo's folder too, such as \
     photos\\ana.jpg)";

/// Where the photos a CSV names are, relative to the CSV's folder (`base`).
struct CsvPhotos<'a> {
    base: &'a Path,
    /// Entries read at most when looking for photos by name.
    entries: usize,
    /// The photos below `base` by file name, read when first needed.
    index: std::cell::OnceCell<PhotoIndex>,
}

/// The photos below a CSV by lower-case file name, nearest folders first.
#[derive(Default)]
struct PhotoIndex {
    by_name: std::collections::HashMap<String, Vec<PathBuf>>,
    /// More entries were below than were read.
    cut_short: bool,
}

impl<'a> CsvPhotos<'a> {
    /// Folders below the CSV's that are searched by file name.
    const DEPTH: usize = 3;
    /// Entries read at most (a CSV saved in a home folder must not walk the disk).
    const ENTRIES: usize = 20_000;

    fn new(base: &'a Path) -> Self {
        Self {
            base,
            entries: Self::ENTRIES,
            index: Default::default(),
        }
    }

    /// Whether a photo was looked for by name while the folders below the CSV held more
    /// entries than were read: one not found may be in those left unread.
    fn search_cut_short(&self) -> bool {
        self.index.get().is_some_and(|i| i.cut_short)
    }

    /// Where a photo named in a CSV is: the path as written, relative to the CSV's folder
    /// unless absolute; else that path read as on Windows (see `as_on_windows`); else,
    /// by its file name, a photo in the folders below the CSV (see `by_file_name`), which
    /// is returned as such too. A path found none of these ways is left as written, to be
    /// told as missing (a Windows drive path or a web address, which cannot be reached
    /// here, with what to do).
    fn locate(&self, written: &str) -> (PathBuf, Option<FoundByName>) {
        let as_written = Path::new(written);
        let path = match as_written.is_absolute() || !elsewhere(written).is_empty() {
            true => as_written.to_path_buf(),
            false => self.as_on_windows(written),
        };
        if path.exists() {
            return (path, None);
        }
        match self.by_file_name(written) {
            Some(found) => {
                let folder = found.parent().and_then(|f| f.strip_prefix(self.base).ok());
                let folder = folder
                    .map(|f| f.iter().map(|p| format!("{}/", p.to_string_lossy())))
                    .map(|parts| parts.collect::<String>())
                    .filter(|f| !f.is_empty())
                    .unwrap_or_else(|| "the list's folder".to_string());
                let written = written.to_string();
                let by_name = FoundByName {
                    written,
                    found: found.clone(),
                    folder,
                };
                (found, Some(by_name))
            }
            None => (path, None),
        }
    }

    /// A relative path as Windows would find it (a class list is often written there):
    /// a backslash separates folders (`photos\ana.jpg`) and the letter case of each part
    /// is matched to the files there (`Photos/Ana.JPG` for `photos/ana.jpg`); a name two
    /// files match in different cases is left as written.
    fn as_on_windows(&self, written: &str) -> PathBuf {
        let direct = self.base.join(written);
        if direct.exists() {
            return direct;
        }
        let mut found = self.base.to_path_buf();
        for part in written
            .split(['/', '\\'])
            .filter(|p| !p.is_empty() && *p != ".")
        {
            let exact = found.join(part);
            if exact.exists() || part == ".." {
                found = exact;
                continue;
            }
            let wanted = part.to_lowercase();
            let matching: Vec<PathBuf> = std::fs::read_dir(&found)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().to_lowercase() == wanted)
                .map(|e| e.path())
                .collect();
            match <[PathBuf; 1]>::try_from(matching) {
                Ok([only]) => found = only,
                Err(_) => return direct,
            }
        }
        found
    }

    /// A photo below the CSV with the written path's file name: a list naming `ana.jpg`
    /// while the photos sit in `photos/`, or a Windows path (`D:\Class\photos\ana.jpg`)
    /// whose photos were copied beside the CSV. A name only one photo has is taken; among
    /// photos of one name, the one whose folders match most of the written path's
    /// (`3a\ana.jpg` in `3a/`, not in `3b/`); any tie is left unfound.
    fn by_file_name(&self, written: &str) -> Option<PathBuf> {
        let parts: Vec<String> = written
            .split(['/', '\\'])
            .filter(|p| !p.is_empty())
            .map(str::to_lowercase)
            .collect();
        let same_name = self
            .index
            .get_or_init(|| self.read_index())
            .by_name
            .get(parts.last()?)?;
        // How many of the written path's last folders the photo's folders match.
        let matching = |p: &PathBuf| {
            let folders = p.strip_prefix(self.base).unwrap_or(p).parent();
            let folders = folders.into_iter().flat_map(|f| f.iter().rev());
            folders
                .zip(parts.iter().rev().skip(1))
                .take_while(|(f, w)| f.to_string_lossy().to_lowercase() == **w)
                .count()
        };
        let best = same_name.iter().map(matching).max()?;
        let mut at_best = same_name.iter().filter(|p| matching(p) == best);
        match (at_best.next(), at_best.next()) {
            (Some(only), None) => Some(only.clone()),
            _ => None,
        }
    }

    /// The photos below `base`: `DEPTH` folders deep, the nearest folders first, `entries`
    /// entries at most, hidden ones skipped.
    fn read_index(&self) -> PhotoIndex {
        let mut index = PhotoIndex::default();
        let mut folders = std::collections::VecDeque::from([(self.base.to_path_buf(), 0)]);
        let mut read = 0;
        while let Some((folder, depth)) = folders.pop_front() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                read += 1;
                if read > self.entries {
                    index.cut_short = true;
                    return index;
                }
                let (path, name) = (
                    entry.path(),
                    entry.file_name().to_string_lossy().to_lowercase(),
                );
                if name.starts_with('.') {
                    continue;
                }
                if path.is_dir() && depth < Self::DEPTH {
                    folders.push_back((path, depth + 1));
                } else if is_image(&path) {
                    index.by_name.entry(name).or_default().push(path);
                }
            }
        }
        index
    }
}

/// At most `n` of `items`, evenly spaced from the first (all of them when there are no
/// more than `n`): photos named by date then come from different days.
fn spread<T>(items: &[T], n: usize) -> Vec<&T> {
    let step = items.len() as f64 / n.max(1) as f64;
    match items.len() > n {
        true => (0..n).map(|i| &items[(i as f64 * step) as usize]).collect(),
        false => items.iter().collect(),
    }
}

/// What to do with a photo path that names a place this computer cannot reach: a
/// Windows drive (`C:\…`) or a web address; "" for any other path.
fn elsewhere(written: &str) -> &'static str {
    let b = written.as_bytes();
    let lower = written.to_ascii_lowercase();
    if b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/') {
        " (a path on a Windows computer: put the photos in a folder beside the CSV and write \
         their paths from there, such as photos\\ana.jpg)"
    } else if lower.starts_with("http://") || lower.starts_with("https://") {
        " (a web address: Rollcall does not download photos; save them in a folder beside \
         the CSV and write their paths from there, such as photos\\ana.jpg)"
    } else {
        ""
    }
}

/// A text file's contents: UTF-8 (a byte-order mark dropped), else Windows-1252.
fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The separator of a CSV's first line: the most frequent of comma, semicolon and tab
/// outside quotes (a comma when none is).
fn delimiter_of(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [(b',', 0), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in first.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if c == *d {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

/// Enrols every entry; `progress(done, total)` is called after each student.
pub fn import(
    recognizer: &mut Recognizer,
    records: &mut Records,
    entries: &[ImportEntry],
    actor: &str,
    mut progress: impl FnMut(usize, usize),
) -> ImportSummary {
    let mut summary = ImportSummary::default();
    let mut taken = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let label = e.label();
        match import_one(recognizer, records, e, actor) {
            Ok((notes, done)) => {
                summary.enrolled.push(e.roll_no.clone());
                // Only photos enrolled are told: one refused is among the notes already.
                let enrolled = |f: &&FoundByName| done.used.contains(&file_name_of(&f.found));
                taken.extend(e.found_by_name.iter().filter(enrolled).map(|f| (e, f)));
                summary
                    .photo_notes
                    .extend(notes.into_iter().map(|n| (label.clone(), n)));
                if let Some(warning) = LookAlike::warning(&done.look_alikes) {
                    summary.look_alikes.push((label.clone(), warning));
                }
            }
            Err(reason) => summary.refused.push((label, reason)),
        }
        progress(i + 1, entries.len());
    }
    summary.found_by_name = found_by_name_lines(by_folder(taken), Told::Taken);
    summary
}

/// The photos an import of `entries` would take by file name from folders other than
/// where the list says (see [`FoundByName`]), one line per folder, fewest photos first:
/// what an admin is asked about before importing.
pub fn found_elsewhere(entries: &[ImportEntry]) -> Vec<String> {
    let found = entries
        .iter()
        .flat_map(|e| e.found_by_name.iter().map(move |f| (e, f)));
    found_by_name_lines(by_folder(found), Told::Found)
}

/// Takes the photos found by file name out of `entries`, as the admin chose: each student
/// is then enrolled from the photos found where the list says, and told which were left
/// out (a student left with none is refused, saying so).
pub fn leave_out(entries: &mut [ImportEntry]) {
    for e in entries {
        let found = std::mem::take(&mut e.found_by_name);
        e.photos.retain(|p| !found.iter().any(|f| f.found == *p));
        e.left_out = found;
    }
}

/// Photos found by file name by the folder they were found in: "line 2 (R1) ana.jpg" for
/// each.
fn by_folder<'a>(
    found: impl IntoIterator<Item = (&'a ImportEntry, &'a FoundByName)>,
) -> std::collections::BTreeMap<&'a str, Vec<String>> {
    let mut by_folder: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (e, f) in found {
        let photo = format!("{} {}", e.label(), f.written);
        by_folder.entry(&f.folder).or_default().push(photo);
    }
    by_folder
}

/// Whether photos found by file name are told before an import (found) or after (taken).
#[derive(Clone, Copy)]
enum Told {
    Found,
    Taken,
}

/// Examples named in a line about photos taken from one folder.
const FOUND_EXAMPLES: usize = 3;
/// Folders named in the lines about photos found by file name; the rest are counted.
const FOUND_FOLDERS: usize = 10;

/// One line per folder that photos were found in or taken from by file name (`folder` →
/// "line 2 (R1) ana.jpg" for each), fewest photos first: a folder that gave one or two
/// photos while the others came from another is the one to check.
fn found_by_name_lines(
    by_folder: std::collections::BTreeMap<&str, Vec<String>>,
    told: Told,
) -> Vec<String> {
    let mut folders: Vec<(&str, Vec<String>)> = by_folder.into_iter().collect();
    folders.sort_by_key(|(_, photos)| photos.len());
    // A list whose photos sit in one folder per student would give a line each: the
    // folders with fewest, the ones to check, are told; the rest counted.
    let rest = folders.split_off(folders.len().min(FOUND_FOLDERS));
    let mut lines: Vec<String> = folders
        .into_iter()
        .map(|(folder, photos)| {
            let more = photos.len().saturating_sub(FOUND_EXAMPLES);
            let mut named = photos[..photos.len() - more].join(", ");
            if more > 0 {
                named.push_str(&format!(" and {more} more"));
            }
            let n = crate::wording::count(photos.len(), "photo");
            let one = photos.len() == 1;
            match told {
                Told::Taken => {
                    let (was, check) = match one {
                        true => (
                            "was",
                            "it is this student's photo, not another's of that name",
                        ),
                        false => ("were", "they are these students' photos"),
                    };
                    format!(
                        "{n} not where the list says {was} taken from {folder} by file name: \
                         {named}. Check {check}."
                    )
                }
                Told::Found => {
                    let is = if one { "is" } else { "are" };
                    format!("{n} not where the list says {is} in {folder}: {named}.")
                }
            }
        })
        .collect();
    if !rest.is_empty() {
        let photos: usize = rest.iter().map(|(_, p)| p.len()).sum();
        lines.push(format!(
            "{} more not where the list says, in {}.",
            crate::wording::count(photos, "photo"),
            crate::wording::count(rest.len(), "other folder"),
        ));
    }
    lines
}

fn import_one(
    recognizer: &mut Recognizer,
    records: &mut Records,
    e: &ImportEntry,
    actor: &str,
) -> Result<(Vec<String>, Enrolled), String> {
    if e.name.trim().is_empty() {
        return Err(e.no_name.to_string());
    }
    let Some(email) = &e.email else {
        return Err(format!("no email address ({})", e.email_hint));
    };
    let mut notes: Vec<String> = e
        .left_out
        .iter()
        .map(|f| {
            format!(
                "{}: not where the list says; the photo of that name in {} was left out, as \
                 chosen",
                f.written, f.folder
            )
        })
        .collect();
    let chosen = spread(&e.photos, MAX_PHOTOS);
    let read = |p: &PathBuf, notes: &mut Vec<String>| match PhotoInput::read(p) {
        Ok(photo) => Some(photo),
        Err(err) => {
            let hint = match (elsewhere(&p.to_string_lossy()), err.kind()) {
                ("", std::io::ErrorKind::NotFound) => e.missing_hint,
                (there, _) => there,
            };
            notes.push(format!(
                "{}: cannot be read: {}{hint}",
                p.display(),
                crate::wording::file_problem(&err),
            ));
            None
        }
    };
    let mut photos: Vec<PhotoInput> = chosen.iter().filter_map(|p| read(p, &mut notes)).collect();
    // Those left out stand in, in name order, for photos that cannot be read or used.
    let left_out: Vec<&PathBuf> = e.photos.iter().filter(|p| !chosen.contains(p)).collect();
    let (mut spare_notes, mut spares_tried) = (Vec::new(), 0);
    let mut spares = left_out.iter().filter_map(|p| {
        spares_tried += 1;
        read(p, &mut spare_notes)
    });
    photos.extend((&mut spares).take(chosen.len() - photos.len()));
    let who = NewEnrolment {
        roll_no: &e.roll_no,
        name: &e.name,
        email,
        actor,
    };
    let enrolled = enroll(recognizer, records, &who, &photos, &mut spares);
    drop(spares);
    notes.append(&mut spare_notes);
    if left_out.len() > spares_tried {
        notes.push(format!(
            "{} of its {} photos: a student has at most {MAX_PHOTOS}, chosen spread across \
             the list in name order, the next one left out standing in for any that could \
             not be used",
            left_out.len() - spares_tried,
            e.photos.len()
        ));
    }
    match enrolled {
        Ok(done) => {
            notes.extend(done.refused.iter().map(|p| p.to_string()));
            Ok((notes, done))
        }
        Err(err) => {
            let why = match err {
                EnrollError::InvalidData(why) => format!("invalid data: {why}"),
                other => other.to_string(),
            };
            // The photos that could not even be read say why there was nothing to enrol.
            Err(match notes.is_empty() {
                true => why,
                false => format!("{}. {}", why.trim_end_matches('.'), notes.join("; ")),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_named_rollno_name_become_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("R7_Ada_Lovelace")).unwrap();
        std::fs::write(dir.path().join("R7_Ada_Lovelace/a.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("R7_Ada_Lovelace/notes.txt"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("R8_Alan")).unwrap();
        std::fs::write(dir.path().join("R8_Alan/email.txt"), b" alan@example.org\n").unwrap();
        let e = read_entries(dir.path(), Some("school.example")).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].roll_no.as_str(), e[0].name.as_str()),
            ("R7", "Ada Lovelace")
        );
        assert_eq!(e[0].email.as_deref(), Some("R7@school.example"));
        assert_eq!(e[0].photos.len(), 1);
        assert_eq!(e[1].email.as_deref(), Some("alan@example.org"));
        assert_eq!(read_entries(dir.path(), None).unwrap()[0].email, None);
    }

    #[test]
    fn a_folder_named_rollno_dash_name_is_read_and_one_without_a_roll_number_is_told_how() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["12 - Ben Ross", "CS-042_Grace Hopper", "Ana Lopez"] {
            std::fs::create_dir(dir.path().join(f)).unwrap();
        }
        let e = read_entries(dir.path(), Some("school.example")).unwrap();
        let read: Vec<(&str, &str)> = e
            .iter()
            .map(|e| (e.roll_no.as_str(), e.name.as_str()))
            .collect();
        assert_eq!(
            read,
            [
                ("12", "Ben Ross"),
                ("Ana Lopez", ""),
                ("CS-042", "Grace Hopper")
            ]
        );
        assert!(e[1].no_name.contains("ROLLNO_Name"));
    }

    #[test]
    fn more_photos_than_a_student_may_have_are_taken_across_the_list() {
        let items: Vec<usize> = (0..25).collect();
        let chosen: Vec<usize> = spread(&items, 10).into_iter().copied().collect();
        assert_eq!(chosen, [0, 2, 5, 7, 10, 12, 15, 17, 20, 22]);
        assert_eq!(spread(&items[..7], 10).len(), 7);
    }

    #[test]
    fn a_class_list_written_on_windows_finds_its_photos() {
        let dir = tempfile::tempdir().unwrap();
        let photos = dir.path().join("Photos");
        std::fs::create_dir(&photos).unwrap();
        for f in ["Ana.JPG", "twin.jpg", "TWIN.jpg"] {
            std::fs::write(photos.join(f), b"x").unwrap();
        }
        let csv = dir.path().join("class.csv");
        std::fs::write(
            &csv,
            "R1,Ana,a@example.org,Photos\\Ana.JPG,photos/ana.jpg,.\\PHOTOS\\ANA.jpg\n\
             R2,Twin,t@example.org,photos\\Twin.jpg,Photos\\twin.jpg,C:\\Users\\t\\b.jpg,\
             https://sis.example/p/2.jpg\n",
        )
        .unwrap();
        let e = read_entries(&csv, None).unwrap();
        let ana = photos.join("Ana.JPG");
        assert_eq!(e[0].photos, vec![ana.clone(), ana.clone(), ana]);
        // Two files match "Twin.jpg" in different cases: neither is taken for it.
        assert_eq!(
            e[1].photos,
            vec![
                dir.path().join("photos\\Twin.jpg"),
                photos.join("twin.jpg"),
                PathBuf::from("C:\\Users\\t\\b.jpg"),
                PathBuf::from("https://sis.example/p/2.jpg"),
            ]
        );
        // Written with other separators or letter case, not found by name elsewhere.
        assert!(e.iter().all(|e| e.found_by_name.is_empty()));
    }

    #[test]
    fn photos_named_without_their_folder_are_found_below_the_list() {
        let dir = tempfile::tempdir().unwrap();
        for folder in ["photos", "3a", "3b", "3b/old", ".trash"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        for f in [
            "photos/ana.jpg",
            "3a/ben.jpg",
            "3b/ben.jpg",
            "3b/old/cy.jpg",
            ".trash/di.jpg",
            "eve.jpg",
        ] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        std::fs::write(dir.path().join("photos/notes.txt"), b"x").unwrap();
        let csv = dir.path().join("class.csv");
        std::fs::write(
            &csv,
            "R1,Ana,a@example.org,ANA.jpg,D:\\Klasse\\Fotos\\ana.jpg\n\
             R2,Ben,b@example.org,3b\\ben.jpg,D:\\Klasse\\3A\\ben.jpg,ben.jpg\n\
             R3,Cy,c@example.org,cy.jpg,di.jpg,notes.txt\n\
             R4,Eve,e@example.org,Fotos\\eve.jpg\n",
        )
        .unwrap();
        let e = read_entries(&csv, None).unwrap();
        let at = |f: &str| dir.path().join(f);
        assert_eq!(
            e[0].photos,
            vec![at("photos/ana.jpg"), at("photos/ana.jpg")]
        );
        // Two photos are called ben.jpg: the folder written picks one; none, neither.
        assert_eq!(
            e[1].photos,
            vec![at("3b/ben.jpg"), at("3a/ben.jpg"), at("ben.jpg")]
        );
        // Hidden folders and files that are not photos are not searched.
        assert_eq!(
            e[2].photos,
            vec![at("3b/old/cy.jpg"), at("di.jpg"), at("notes.txt")]
        );
        // What was found by name, not where the list says, is kept to tell the admin.
        let found = |e: &ImportEntry| -> Vec<(String, String)> {
            let f = e.found_by_name.iter();
            f.map(|f| (f.written.clone(), f.folder.clone())).collect()
        };
        let pair = |w: &str, f: &str| (w.to_string(), f.to_string());
        assert_eq!(
            found(&e[0]),
            [
                pair("ANA.jpg", "photos/"),
                pair("D:\\Klasse\\Fotos\\ana.jpg", "photos/")
            ]
        );
        assert_eq!(
            found(&e[1]),
            [pair("D:\\Klasse\\3A\\ben.jpg", "3a/")],
            "3b\\ben.jpg is where the list says"
        );
        assert_eq!(found(&e[2]), [pair("cy.jpg", "3b/old/")]);
        assert_eq!(e[3].photos, [at("eve.jpg")]);
        assert_eq!(found(&e[3]), [pair("Fotos\\eve.jpg", "the list's folder")]);
        // What the admin is asked before the import, the folder with fewest first.
        assert_eq!(
            found_elsewhere(&e),
            [
                "1 photo not where the list says is in 3a/: line 2 (R2) D:\\Klasse\\3A\\ben.jpg.",
                "1 photo not where the list says is in 3b/old/: line 3 (R3) cy.jpg.",
                "1 photo not where the list says is in the list's folder: line 4 (R4) \
                 Fotos\\eve.jpg.",
                "2 photos not where the list says are in photos/: line 1 (R1) ANA.jpg, line 1 \
                 (R1) D:\\Klasse\\Fotos\\ana.jpg."
            ]
        );
        // Imported without them, as an admin may choose: the others stay, and those left
        // out are kept to say so.
        let mut without = e.clone();
        leave_out(&mut without);
        assert!(without[0].photos.is_empty());
        assert_eq!(without[1].photos, vec![at("3b/ben.jpg"), at("ben.jpg")]);
        assert_eq!(without[2].photos, vec![at("di.jpg"), at("notes.txt")]);
        assert!(without[3].photos.is_empty());
        let left_out: Vec<usize> = without.iter().map(|e| e.left_out.len()).collect();
        assert_eq!(left_out, [2, 1, 1, 1]);
        assert!(found_elsewhere(&without).is_empty(), "nothing more to ask");
    }

    #[test]
    fn the_search_by_name_looks_in_the_nearest_folders_first_and_says_when_cut_short() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "a/b/c/deep.jpg",
            "a/b/c/x1.jpg",
            "a/b/c/x2.jpg",
            "photos/ana.jpg",
        ] {
            std::fs::create_dir_all(dir.path().join(f).parent().unwrap()).unwrap();
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        // Eight entries are below the list: its own two folders (a, photos), photos' one
        // file, a's b, b's c and c's three files, read folder by folder from the nearest.
        let mut photos = CsvPhotos::new(dir.path());
        photos.entries = 5;
        assert!(!photos.search_cut_short(), "nothing looked for by name yet");
        let (ana, found) = photos.locate("ana.jpg");
        assert_eq!(ana, dir.path().join("photos/ana.jpg"));
        assert_eq!(found.map(|f| f.folder), Some("photos/".to_string()));
        assert_eq!(
            photos.locate("deep.jpg"),
            (dir.path().join("deep.jpg"), None)
        );
        assert!(photos.search_cut_short());
        let mut photos = CsvPhotos::new(dir.path());
        photos.entries = 8;
        assert_eq!(
            photos.locate("deep.jpg").0,
            dir.path().join("a/b/c/deep.jpg")
        );
        assert!(!photos.search_cut_short());
    }

    #[test]
    fn photos_found_by_name_are_told_per_folder_the_fewest_first() {
        let by_folder = [
            (
                "photos/",
                (1..=5)
                    .map(|i| format!("line {i} (R{i}) s{i}.jpg"))
                    .collect(),
            ),
            ("2023/3b/", vec!["line 6 (R6) zoe.jpg".to_string()]),
        ];
        let lines = found_by_name_lines(by_folder.clone().into_iter().collect(), Told::Taken);
        assert_eq!(
            lines,
            [
                "1 photo not where the list says was taken from 2023/3b/ by file name: \
                 line 6 (R6) zoe.jpg. Check it is this student's photo, not another's of \
                 that name.",
                "5 photos not where the list says were taken from photos/ by file name: \
                 line 1 (R1) s1.jpg, line 2 (R2) s2.jpg, line 3 (R3) s3.jpg and 2 more. \
                 Check they are these students' photos."
            ]
        );
        assert!(found_by_name_lines(Default::default(), Told::Taken).is_empty());
        // Asked before an import: where they are, not yet taken.
        let asked = found_by_name_lines(by_folder.into_iter().collect(), Told::Found);
        assert_eq!(
            asked[0],
            "1 photo not where the list says is in 2023/3b/: line 6 (R6) zoe.jpg."
        );
        assert!(asked[1].starts_with("5 photos not where the list says are in photos/: line 1"));
        // One folder per student: ten told, the fewest first, the others counted.
        let per_student: Vec<(String, Vec<String>)> = (1..=14)
            .map(|i| (format!("s{i:02}/"), vec![format!("p{i}.jpg"); 1 + i % 3]))
            .collect();
        let per_student = per_student.iter().map(|(f, p)| (f.as_str(), p.clone()));
        let lines = found_by_name_lines(per_student.collect(), Told::Found);
        assert_eq!(lines.len(), 11);
        assert!(
            lines[..4].iter().all(|l| l.starts_with("1 photo ")),
            "{lines:?}"
        );
        assert_eq!(
            lines[10],
            "12 photos more not where the list says, in 4 other folders."
        );
    }

    #[test]
    fn csv_rows_list_photos_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("class.csv");
        std::fs::write(
            &csv,
            "roll no,name,email,photos\nR1,\"Hopper, Grace\",g@example.org,a.jpg,b.jpg\n",
        )
        .unwrap();
        let e = read_entries(&csv, None).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].name, "Hopper, Grace");
        assert_eq!(
            e[0].photos,
            vec![dir.path().join("a.jpg"), dir.path().join("b.jpg")]
        );
    }

    #[test]
    fn csv_as_excel_saves_it_elsewhere_semicolons_and_windows_1252() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("klasse.csv");
        // Excel's plain CSV on a German Windows: semicolons, Windows-1252, a header in
        // German, and the empty rows at the end of the sheet.
        let mut bytes = b"Matrikel;Name;E-Mail;Foto\r\n".to_vec();
        bytes.extend(b"R1;\"M\xfcller; Zo\xeb\";z@example.org;a.jpg;b.jpg\r\n");
        bytes.extend(b"R2;Ben;;c.jpg\r\n;;;\r\n;;;\r\n");
        std::fs::write(&csv, bytes).unwrap();
        let e = read_entries(&csv, None).unwrap();
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(
            (e[0].roll_no.as_str(), e[0].name.as_str()),
            ("R1", "Müller; Zoë")
        );
        assert_eq!(e[0].email.as_deref(), Some("z@example.org"));
        assert_eq!(e[0].photos.len(), 2);
        assert_eq!(e[1].source, "line 3");
        assert_eq!(e[1].email, None);
        assert!(e[1].email_hint.contains("third column"));
    }

    #[test]
    fn a_first_student_without_an_email_is_reported_not_taken_for_a_header() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("class.csv");
        std::fs::write(
            &csv,
            "\u{feff}R1\tAda\t\ta.jpg\nR2\tAlan\talan@example.org\n",
        )
        .unwrap();
        let e = read_entries(&csv, None).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].roll_no.as_str(), e[0].email.as_deref()), ("R1", None));
        assert_eq!(e[1].email.as_deref(), Some("alan@example.org"));
        // With an email domain, as for folders (until 2026-12-05 a CSV ignored it).
        let e = read_entries(&csv, Some("school.example")).unwrap();
        assert_eq!(e[0].email.as_deref(), Some("R1@school.example"));
        assert_eq!(e[1].email.as_deref(), Some("alan@example.org"));
    }
}
