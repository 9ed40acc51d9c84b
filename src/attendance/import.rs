//! Bulk import: a folder with one sub-folder per student named `ROLLNO_Name`, or a CSV of
//! roll no, name, email and photo paths. Each student is enrolled like any other; what is
//! refused is reported with the reason.

use super::service::enroll;
use super::{EnrollError, PhotoInput, Recognizer, Records};
use crate::vision::image_io::{file_name_of, folders_in, images_in};
use std::path::{Path, PathBuf};

/// One student to import.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportEntry {
    /// Where the entry came from (folder name or CSV line), for messages.
    pub source: String,
    pub roll_no: String,
    pub name: String,
    pub email: Option<String>,
    pub photos: Vec<PathBuf>,
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

/// Reads the students to import from a folder or a CSV file. For folders, each student's
/// email comes from an `email.txt` in their folder, else `ROLLNO@email_domain`.
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
        read_csv(path)
    } else {
        Err(ImportError::Unknown(path.display().to_string()))
    }
}

fn read_folders(dir: &Path, email_domain: Option<&str>) -> Result<Vec<ImportEntry>, ImportError> {
    let folders = folders_in(dir).map_err(|e| unreadable(dir, e))?;
    let mut out = Vec::new();
    for folder in folders {
        let source = file_name_of(&folder);
        let (roll_no, name) = match source.split_once('_') {
            Some((r, n)) => (r.to_string(), n.replace('_', " ")),
            None => (source.clone(), String::new()),
        };
        let email = std::fs::read_to_string(folder.join("email.txt"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| email_domain.map(|d| format!("{roll_no}@{d}")));
        let photos = images_in(&folder).map_err(|e| unreadable(&folder, e))?;
        out.push(ImportEntry {
            source,
            roll_no,
            name,
            email,
            photos,
        });
    }
    Ok(out)
}

fn read_csv(path: &Path) -> Result<Vec<ImportEntry>, ImportError> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| unreadable(path, e))?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| unreadable(path, e))?;
        let field = |k: usize| record.get(k).unwrap_or("").to_string();
        // A header line ("roll no, name, email, photos") is skipped.
        if i == 0 && field(0).to_lowercase().contains("roll") {
            continue;
        }
        let photos = record
            .iter()
            .skip(3)
            .filter(|p| !p.is_empty())
            .map(|p| {
                let p = PathBuf::from(p);
                if p.is_absolute() {
                    p
                } else {
                    base.join(p)
                }
            })
            .collect();
        out.push(ImportEntry {
            source: format!("line {}", i + 1),
            roll_no: field(0),
            name: field(1),
            email: Some(field(2)).filter(|e| !e.is_empty()),
            photos,
        });
    }
    Ok(out)
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
    for (i, e) in entries.iter().enumerate() {
        let label = format!("{} ({})", e.source, e.roll_no);
        match import_one(recognizer, records, e, actor) {
            Ok(notes) => {
                summary.enrolled.push(e.roll_no.clone());
                summary
                    .photo_notes
                    .extend(notes.into_iter().map(|n| (label.clone(), n)));
            }
            Err(reason) => summary.refused.push((label, reason)),
        }
        progress(i + 1, entries.len());
    }
    summary
}

fn import_one(
    recognizer: &mut Recognizer,
    records: &mut Records,
    e: &ImportEntry,
    actor: &str,
) -> Result<Vec<String>, String> {
    let Some(email) = &e.email else {
        return Err(
            "no email address (add email.txt to the folder, or give an email domain)".into(),
        );
    };
    let mut photos = Vec::new();
    let mut notes = Vec::new();
    for p in &e.photos {
        match PhotoInput::read(p) {
            Ok(photo) => photos.push(photo),
            Err(err) => notes.push(format!("{}: cannot be read ({err})", p.display())),
        }
    }
    match enroll(
        recognizer, records, &e.roll_no, &e.name, email, &photos, actor,
    ) {
        Ok(done) => {
            notes.extend(done.refused.iter().map(|p| p.to_string()));
            Ok(notes)
        }
        Err(err) => Err(match err {
            EnrollError::InvalidData(why) => format!("invalid data: {why}"),
            other => other.to_string(),
        }),
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
}
