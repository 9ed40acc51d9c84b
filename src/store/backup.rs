//! Backups: one SQLite file holding a consistent copy of the database (`VACUUM INTO`, while
//! Rollcall keeps running) and the enrolment photos. Restoring puts both back, after saving
//! the current database beside it, less what was erased since the backup was made.

use super::school::AwayFromSchool;
use super::{ErasedAgain, Store, StoreError, MIGRATIONS};
use crate::data_dir::{write_private_file, DataDir, SITE_CHECK};
use crate::settings::SettingsPutBack;
use crate::wording::count;
use chrono::{DateTime, Local};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Why a backup or restore did not happen, worded for the admin.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose a new file name for the backup.")]
    Exists(PathBuf),
    #[error("{0} is not a Rollcall backup.")]
    NotABackup(PathBuf),
    #[error("There is no file {0}: check its name and folder.")]
    NoSuchFile(PathBuf),
    #[error("The backup {0} is damaged and was not restored.")]
    Damaged(PathBuf),
    #[error("The backup {0} was made by a newer version of Rollcall.")]
    TooNew(PathBuf),
    #[error("Could not write {path}: {reason}.")]
    Io { path: PathBuf, reason: String },

    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Files of the data folder a backup holds besides its photos: name in the folder
/// (`liveness/record.json`) and bytes.
type FolderFiles = Vec<(String, Vec<u8>)>;

/// The files of the data folder a backup holds besides its database and photos, each with
/// the name it is held under (its path in the folder): the settings, the mail server's
/// authority and the files of the photo-attack check adapted to this camera.
fn folder_files(data: &DataDir) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = [data.settings(), data.mail_authority()]
        .into_iter()
        .filter_map(|p| Some((p.file_name()?.to_string_lossy().into_owned(), p)))
        .collect();
    if let Ok(entries) = std::fs::read_dir(data.site_check()) {
        let mut check: Vec<(String, PathBuf)> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .filter_map(|p| {
                let name = p.file_name()?.to_str()?.to_string();
                Some((format!("{SITE_CHECK}/{name}"), p))
            })
            .collect();
        check.sort();
        files.extend(check);
    }
    files
}

/// Puts back the photo-attack check adapted to the old computer's camera that a backup
/// held, where this folder has none: the settings put back may name it, and without it
/// the door could not start its recognition. Returns whether it was put back.
fn put_back_site_check(data: &DataDir, files: &FolderFiles) -> std::io::Result<bool> {
    let prefix = format!("{SITE_CHECK}/");
    let held: Vec<(&str, &Vec<u8>)> = files
        .iter()
        .filter_map(|(name, bytes)| Some((name.strip_prefix(&prefix)?, bytes)))
        .filter(|(name, _)| !name.is_empty() && !name.contains(['/', '\\']) && *name != "..")
        .collect();
    let dir = data.site_check();
    if held.is_empty() || dir.exists() {
        return Ok(false);
    }
    // Whole or not at all: a check missing one of its files would not load either.
    let fresh = dir.with_extension("restoring");
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir_all(&fresh)?;
    for (name, bytes) in held {
        write_private_file(&fresh.join(name), bytes)?;
    }
    std::fs::rename(&fresh, &dir)?;
    Ok(true)
}

/// How the copies of the database a restore replaced begin their names.
const SAVED_COPY: &str = "rollcall-before-restore-";
/// How the damaged databases a restore moved aside begin their names.
const DAMAGED_COPY: &str = "rollcall-damaged-";

pub(super) fn io(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io {
        path: path.to_path_buf(),
        reason: crate::wording::file_problem(&e),
    }
}

/// What a backup or restore contained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSummary {
    pub students: i64,
    pub marks: i64,
    pub photos: usize,
    /// Photos the database names but whose files were missing.
    pub missing_photos: usize,
}

impl BackupSummary {
    /// What was backed up, for the admin: "Backed up 2 students, 1 mark and 6 photos to
    /// FILE.", and the photo files that were missing, if any.
    pub fn backed_up_to(&self, file: &Path) -> String {
        let mut text = format!(
            "Backed up {}, {} and {} to {}.",
            count(self.students, "student"),
            count(self.marks, "mark"),
            count(self.photos, "photo"),
            file.display()
        );
        if self.missing_photos > 0 {
            text.push_str(&format!(
                " Not in the backup, as they were missing from the photo folder: {}.",
                count(self.missing_photos, "photo file")
            ));
        }
        text
    }
}

fn counts(conn: &Connection) -> Result<(i64, i64), StoreError> {
    Ok((
        conn.query_row("SELECT COUNT(*) FROM students", [], |r| r.get(0))?,
        conn.query_row(
            "SELECT COUNT(*) FROM attendance WHERE present = 1",
            [],
            |r| r.get(0),
        )?,
    ))
}

/// A photo file name the program made (hex digest, `.jpg`): never a path.
fn is_photo_name(name: &str) -> bool {
    name.strip_suffix(".jpg").is_some_and(|stem| {
        !stem.is_empty() && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// The admin setting holding when all data was last backed up.
const LAST_BACKUP: &str = "last_backup";

/// The admin setting holding the file all data was last backed up to.
const LAST_BACKUP_FILE: &str = "last_backup_file";

/// How old a backup may be before the admin screens remind the admin to make one.
pub const BACKUP_REMINDER_DAYS: i64 = 7;

/// What the admin screens are told about backups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackupState {
    /// When all data was last backed up (RFC 3339), if ever.
    pub last: Option<String>,
    /// To which file, when this database made it.
    pub last_file: Option<String>,
    /// Why the last daily backup could not be made, if it failed.
    pub daily_problem: Option<String>,
    /// Where the daily backups went, once one was made.
    pub daily_folder: Option<PathBuf>,
}

/// What the admin screens say about the last backup, and whether it calls for action:
/// never made, older than `BACKUP_REMINDER_DAYS`, or the daily backup failing.
pub fn backup_reminder(state: &BackupState, now: DateTime<Local>) -> (String, bool) {
    let (mut text, mut remind) = match &state.last {
        None => (
            "No backup has been made here yet. \"Back up all data…\" keeps every student, \
             mark and photo in one file; keep it on another disk."
                .to_string(),
            true,
        ),
        Some(last) => {
            let days = DateTime::parse_from_rfc3339(last)
                .map(|t| (now.fixed_offset() - t).num_days())
                .unwrap_or(0);
            let when = match &state.last_file {
                Some(file) => format!("{}, to {file}", super::to_the_minute(last)),
                None => super::to_the_minute(last),
            };
            if days >= BACKUP_REMINDER_DAYS {
                (format!("Last backup: {when}, {days} days ago."), true)
            } else {
                (format!("Last backup: {when}."), false)
            }
        }
    };
    if let Some(problem) = &state.daily_problem {
        text.push_str(&format!(" The daily backup could not be made: {problem}"));
        remind = true;
    }
    (text, remind)
}

impl Store {
    /// Records that all data was backed up to `file`: in the audit log (a backup holds
    /// every face), and when, for the reminder.
    pub fn record_backup(&mut self, file: &Path, actor: &str) -> Result<(), StoreError> {
        self.set_admin_setting(LAST_BACKUP, &super::timestamp(Local::now()))?;
        self.set_admin_setting(LAST_BACKUP_FILE, &file.to_string_lossy())?;
        self.audit(
            actor,
            "backup",
            &format!(
                "every student, mark and photo backed up to {}",
                file.display()
            ),
        )
    }

    /// When all data was last backed up from this database, and whether the daily backup
    /// is failing.
    pub fn backup_state(&self) -> Result<BackupState, StoreError> {
        Ok(BackupState {
            last: self.admin_setting(LAST_BACKUP)?,
            last_file: self.admin_setting(LAST_BACKUP_FILE)?,
            daily_problem: self.admin_setting(super::daily_backup::PROBLEM_KEY)?,
            daily_folder: self.daily_backup_folders()?.into_iter().next(),
        })
    }

    /// Writes a backup to `dest` (a new file, readable only by this user): the database
    /// as of now, the photo files and the settings of the data folder `data`.
    pub fn backup_to(&self, dest: &Path, data: &DataDir) -> Result<BackupSummary, BackupError> {
        if dest.exists() {
            return Err(BackupError::Exists(dest.to_path_buf()));
        }
        // VACUUM INTO accepts an empty file: create it private first.
        write_private_file(dest, b"").map_err(io(dest))?;
        let result = self.write_backup(dest, data);
        if result.is_err() {
            let _ = std::fs::remove_file(dest);
        }
        result
    }

    fn write_backup(&self, dest: &Path, data: &DataDir) -> Result<BackupSummary, BackupError> {
        let photos = data.photos();
        // What it holds is the data as of now: a photo added while it is written is not in
        // it, and must not look as if it were (the daily backup is made again for it).
        let as_of = super::timestamp(Local::now());
        self.conn
            .execute("VACUUM INTO ?1", [dest.to_string_lossy()])
            .map_err(StoreError::from)?;
        let mut copy = Connection::open(dest).map_err(StoreError::from)?;
        let (students, marks) = counts(&copy)?;
        let tx = copy.transaction().map_err(StoreError::from)?;
        tx.execute_batch(
            "CREATE TABLE backup_photos (file_name TEXT PRIMARY KEY, bytes BLOB NOT NULL)",
        )
        .map_err(StoreError::from)?;
        let names: Vec<String> = {
            let mut stmt = tx
                .prepare("SELECT file_name FROM photos")
                .map_err(StoreError::from)?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(StoreError::from)?;
            rows.collect::<Result<_, _>>().map_err(StoreError::from)?
        };
        let (mut copied, mut missing) = (0, 0);
        for name in names {
            match std::fs::read(photos.join(&name)) {
                Ok(bytes) => {
                    tx.execute(
                        "INSERT INTO backup_photos (file_name, bytes) VALUES (?1, ?2)",
                        rusqlite::params![name, bytes],
                    )
                    .map_err(StoreError::from)?;
                    copied += 1;
                }
                Err(_) => missing += 1,
            }
        }
        // The folder's settings (room, camera, mail server…), the mail server's authority
        // and the photo-attack check adapted to this camera they name: a new computer gets
        // them back with the data.
        tx.execute_batch(
            "CREATE TABLE backup_files (file_name TEXT PRIMARY KEY, bytes BLOB NOT NULL)",
        )
        .map_err(StoreError::from)?;
        for (name, path) in folder_files(data) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            tx.execute(
                "INSERT INTO backup_files (file_name, bytes) VALUES (?1, ?2)",
                rusqlite::params![name, bytes],
            )
            .map_err(StoreError::from)?;
        }
        // Restored, the data says when it was backed up (the file of an earlier backup
        // would be wrong, and this file may be renamed or moved).
        super::put_admin_setting(&tx, LAST_BACKUP, &as_of)?;
        super::delete_admin_setting(&tx, LAST_BACKUP_FILE)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(BackupSummary {
            students,
            marks,
            photos: copied,
            missing_photos: missing,
        })
    }
}

/// A backup already written, as it records itself.
pub(super) struct WrittenBackup {
    conn: Connection,
    /// When it was written, as it records inside (its file's time changes when an erasure
    /// is made in it).
    pub at: DateTime<chrono::FixedOffset>,
}

impl WrittenBackup {
    /// Reads the backup `file`; `None` when it cannot be read.
    pub fn open(file: &Path) -> Option<WrittenBackup> {
        let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        let at: String = conn
            .query_row(
                "SELECT value FROM admin_settings WHERE key = ?1",
                [LAST_BACKUP],
                |r| r.get(0),
            )
            .ok()?;
        let at = DateTime::parse_from_rfc3339(&at).ok()?;
        Some(WrittenBackup { conn, at })
    }

    /// Whether it holds the enrolment photo `file_name` (as a record: a photo whose file
    /// was missing when it was written counts as held, as writing it again would not help).
    pub fn holds_photo(&self, file_name: &str) -> bool {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM photos WHERE file_name = ?1)",
                [file_name],
                |r| r.get(0),
            )
            .unwrap_or(true)
    }

    /// Whether it holds the attendance decision `mark` (the same student, day and verdict).
    pub fn holds_mark(&self, mark: &super::RecordedMark) -> bool {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM attendance
                                WHERE student_id = ?1 AND day = ?2 AND present = ?3)",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    rusqlite::params![mark.student_id, mark.day, mark.present],
                    |r| r.get(0),
                )
            })
            .unwrap_or(true)
    }
}

/// Checks a backup file before anything is touched.
fn open_backup(src: &Path) -> Result<Connection, BackupError> {
    let not_backup = || BackupError::NotABackup(src.to_path_buf());
    if !src.exists() {
        return Err(BackupError::NoSuchFile(src.to_path_buf()));
    }
    if !src.is_file() {
        return Err(not_backup());
    }
    let conn = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|_| not_backup())?;
    let integrity: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| match StoreError::from(e) {
            StoreError::Corrupt => not_backup(),
            _ => BackupError::Damaged(src.to_path_buf()),
        })?;
    if integrity != "ok" {
        return Err(BackupError::Damaged(src.to_path_buf()));
    }
    let has = |table: &str| has_table(&conn, table).unwrap_or(false);
    if !has("students") || !has("backup_photos") {
        return Err(not_backup());
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|_| not_backup())?;
    if version as usize > MIGRATIONS.len() {
        return Err(BackupError::TooNew(src.to_path_buf()));
    }
    Ok(conn)
}

/// The hash of the admin PIN a backup holds (the PIN its data would be unlocked with once
/// restored), if one was set.
pub fn backup_admin_pin(src: &Path) -> Result<Option<String>, BackupError> {
    let conn = open_backup(src)?;
    Ok(super::read_admin_setting(&conn, super::ADMIN_PIN_KEY)?)
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// What the data folder holds now.
    pub summary: BackupSummary,
    /// Where the database it replaced was saved.
    pub saved: Option<PathBuf>,
    /// The replaced database could not be read (damaged): it was moved here as it was, and
    /// its erasures could not be made again.
    pub damaged: Option<PathBuf>,
    /// Data the backup held that had been erased since it was made, erased again.
    pub erased_again: ErasedAgain,
    /// The backup is of a door linked to a school server.
    pub linked: bool,
    /// The data folder had left its school server: it stays away from it.
    pub away: bool,
    /// Whether the backup's settings were put back.
    pub settings: SettingsPutBack,
}

impl Restored {
    /// What the restore of `from` did, for the admin, one sentence a line.
    pub fn report(&self, from: &Path) -> Vec<String> {
        let b = &self.summary;
        let mut lines = vec![format!(
            "Restored {}, {} and {} from {}.",
            count(b.students, "student"),
            count(b.marks, "mark"),
            count(b.photos, "photo"),
            from.display()
        )];
        if self.erased_again.any() {
            lines.push(format!(
                "Erased again, as it was erased after this backup was made: {}.",
                self.erased_again
            ));
        }
        if self.erased_again.roll_numbers > 0 {
            lines.push(format!(
                "Corrected again, as corrected after this backup was made: {}.",
                count(self.erased_again.roll_numbers, "roll number")
            ));
        }
        if self.away {
            lines.push(
                "This computer had left the school server: it stays a door of its own, and \
                 what was erased here and not yet told to the school still goes to it if \
                 this computer joins it again."
                    .into(),
            );
        }
        if self.linked {
            lines.push(
                "This door is linked to the school server: it takes what the school changed \
                 since this backup was made before sending anything, so the backup does not \
                 undo it."
                    .into(),
            );
        }
        match &self.settings {
            SettingsPutBack::NoneHeld | SettingsPutBack::Same => {}
            SettingsPutBack::PutBack => lines.push(
                "The settings were put back too (room, camera, mail server…): close Rollcall \
                 and start it again for every one of them to apply."
                    .into(),
            ),
            SettingsPutBack::KeptOwn => lines.push(
                "This computer's own settings were kept: the backup's are put back only \
                 where the settings were never changed (a new computer)."
                    .into(),
            ),
            SettingsPutBack::Failed(why) => lines.push(format!(
                "The backup's settings could not be put back ({why}): enter them again in \
                 Admin."
            )),
        }
        if let Some(saved) = &self.saved {
            lines.push(format!(
                "The database it replaced is saved as {} (with every student's photos: delete it \
                 once the restored data is right).",
                saved.display()
            ));
        }
        if let Some(damaged) = &self.damaged {
            lines.push(format!(
                "The database it replaced was damaged and could not be read; it is kept as it was in {}. \
                 If a student's face data was erased or a student deleted after this backup was made, do it again.",
                damaged.display()
            ));
        }
        lines
    }
}

/// Replaces the data folder's database and photos with a backup's. The database being
/// replaced is first saved as `rollcall-before-restore-<time>.db` in the data folder (a
/// damaged one, which cannot be read, is moved aside as `rollcall-damaged-<time>.db`);
/// whatever it records as erased since the backup was made (a student's face data, a
/// student, a photo) is erased again from what the backup brings back.
pub fn restore(data: &DataDir, src: &Path) -> Result<Restored, BackupError> {
    let backup = open_backup(src)?;
    let lock_path = data.root().join("photos.lock");
    let _photos = data.lock_photos().map_err(io(&lock_path))?;
    let now = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let (mut saved, mut damaged, mut erasures, mut pin, mut away) =
        (None, None, Vec::new(), None, None);
    if data.database().exists() {
        match Store::open(&data.database()) {
            Ok(current) => {
                erasures = current.erasures()?;
                pin = current.admin_setting(super::ADMIN_PIN_KEY)?;
                away = current.away_from_school()?;
                let path = new_file(data.root(), &format!("{SAVED_COPY}{now}"));
                current.backup_to(&path, data)?;
                saved = Some(path);
            }
            // Restoring is what a damaged database calls for: keep it as it is, aside.
            Err(StoreError::Corrupt) => damaged = Some(move_aside(data, &now.to_string())?),
            Err(e) => return Err(e.into()),
        }
    }
    drop(backup);
    // The backup is staged in the data folder and the erasures are made there, before
    // anything is put back: nothing erased returns, not even for a moment.
    let staged = new_file(data.root(), &format!("rollcall-restoring-{now}"));
    let result = restore_staged(data, src, &staged, &erasures, pin.as_deref(), away.as_ref());
    for file in with_logs(&staged) {
        let _ = std::fs::remove_file(file);
    }
    let (written, erased_again, linked, files) = result?;
    match put_back_site_check(data, &files) {
        Ok(true) => tracing::info!("put back the photo-attack check adapted to the camera"),
        Ok(false) => {}
        Err(e) => tracing::warn!("could not put back the adapted photo-attack check: {e}"),
    }
    let settings = crate::settings::put_back(data, &files);
    let live = Store::open(&data.database())?;
    let (students, marks) = counts(&live.conn)?;
    Ok(Restored {
        summary: BackupSummary {
            students,
            marks,
            photos: written,
            missing_photos: 0,
        },
        saved,
        damaged,
        erased_again,
        linked,
        away: away.is_some(),
        settings,
    })
}

/// A database file and its two log files (`-wal`, `-shm`), which go wherever it goes.
fn with_logs(db: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// The database files in `folder` whose names begin with `prefix`, in name order.
fn copies_named(folder: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut copies: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".db"))
        })
        .collect();
    copies.sort();
    copies
}

/// The copies of the database that restores saved in the folder.
fn saved_copies(folder: &Path) -> Vec<PathBuf> {
    copies_named(folder, SAVED_COPY)
}

/// What an admin is told after erasing face data or a student while restores have left
/// damaged databases in the data folder `folder`: no erasure can change them (they cannot
/// be read), so they may still hold what was erased. They are kept, as what the marks
/// made since the last backup may be recovered from, and named for the admin to delete.
pub fn damaged_copies_note(folder: &Path) -> Option<String> {
    let copies = copies_named(folder, DAMAGED_COPY);
    // Each with the log files moved aside with it: the write-ahead log may hold the very
    // rows erased, so it must go too.
    let files: Vec<String> = copies
        .iter()
        .flat_map(|copy| {
            let [copy, logs @ ..] = with_logs(copy);
            std::iter::once(copy).chain(logs.into_iter().filter(|log| log.exists()))
        })
        .map(|p| p.display().to_string())
        .collect();
    let files = crate::wording::listing(&files);
    let (what, it, them) = match copies.len() {
        0 => return None,
        1 => (
            format!("The damaged database a restore set aside ({files}) cannot be changed"),
            "it",
            "it",
        ),
        many => (
            format!("The {many} damaged databases restores set aside ({files}) cannot be changed"),
            "they",
            "them",
        ),
    };
    Some(format!(
        "{what}, so {it} may still hold what was just erased: delete {them} once nothing more \
         is needed from {them}."
    ))
}

impl Store {
    /// Makes this database's erasures in the copies that restores saved beside it and in
    /// its daily backups, so that face data erased does not live on in them (nor come back
    /// with a restore from them): their rows and photos go (overwritten, not only
    /// unlinked). A copy that cannot be changed is deleted, as the erasure counts for more.
    pub fn erase_in_saved_copies(&self) {
        let Some(folder) = self.path.parent() else {
            return;
        };
        let copies = || {
            let mut all = saved_copies(folder);
            for daily in self.daily_backup_folders().unwrap_or_default() {
                all.extend(super::daily_backup::named_as_daily_backups(&daily));
            }
            all
        };
        if copies().is_empty() {
            return;
        }
        let erasures = match self.erasures() {
            Ok(erasures) => erasures,
            Err(e) => {
                tracing::warn!("could not read the erasures for the saved copies: {e}");
                return;
            }
        };
        // A restore saving a copy holds this lock until it is written.
        let _photos = DataDir::resolve(Some(folder)).lock_photos();
        for copy in copies() {
            if let Err(e) = erase_in_copy(&copy, &erasures) {
                tracing::warn!(copy = %copy.display(), "deleting a saved copy that an erasure could not reach: {e}");
                for file in with_logs(&copy) {
                    let _ = std::fs::remove_file(file);
                }
            }
        }
    }
}

/// Makes `erasures` in a copy of the database (a backup, or what a restore replaced).
pub(super) fn erase_in_copy(copy: &Path, erasures: &[super::Erasure]) -> Result<(), StoreError> {
    let mut store = Store::open(copy)?;
    store.apply_erasures(erasures, "erasure")?;
    store.conn.execute(
        "DELETE FROM backup_photos WHERE file_name NOT IN (SELECT file_name FROM photos)",
        [],
    )?;
    store.flush_erased();
    Ok(())
}

/// Restores the database from a staged copy of the backup `src`, after making the
/// erasures in it, putting in the admin PIN in use (`pin`, its hash, when there is one) and
/// writing the photo files it still refers to; a folder that had left its school server
/// (`away`) stays away from it. Returns the number of photos, what was erased again and
/// whether it is a door linked to a school server.
fn restore_staged(
    data: &DataDir,
    src: &Path,
    staged: &Path,
    erasures: &[super::Erasure],
    pin: Option<&str>,
    away: Option<&AwayFromSchool>,
) -> Result<(usize, ErasedAgain, bool, FolderFiles), BackupError> {
    std::fs::copy(src, staged).map_err(io(staged))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staged, std::fs::Permissions::from_mode(0o600))
            .map_err(io(staged))?;
    }
    // Opening it brings an older backup's schema up to date.
    let mut store = Store::open(staged)?;
    let erased_again = store.apply_erasures(erasures, "restore")?;
    let linked = match away {
        Some(away) => {
            store.stay_away_from_school(away)?;
            false
        }
        None => store.reconcile_after_restore()?,
    };
    // The PIN in use stays: a backup's older one may be known to someone who left.
    if let Some(pin) = pin {
        store.set_admin_setting(super::ADMIN_PIN_KEY, pin)?;
    }
    // Whether this computer's daily backup fails is not the backup's to say: the next
    // attempt says it again if it still fails.
    store.remove_admin_setting(super::daily_backup::PROBLEM_KEY)?;
    // The restored audit log says that it was restored, from which file.
    super::audit(
        &store.conn,
        "restore",
        "restore",
        &format!("restored from {}", src.display()),
    )?;
    drop(store);
    // Photos first: a file nobody refers to is swept later; a missing one would be lost.
    let photos = data.photos();
    let copy = Connection::open(staged).map_err(StoreError::from)?;
    let mut written = 0;
    {
        let mut stmt = copy
            .prepare(
                "SELECT file_name, bytes FROM backup_photos
                 WHERE file_name IN (SELECT file_name FROM photos)",
            )
            .map_err(StoreError::from)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(StoreError::from)?;
        for row in rows {
            let (name, bytes) = row.map_err(StoreError::from)?;
            if !is_photo_name(&name) {
                return Err(BackupError::Damaged(src.to_path_buf()));
            }
            let path = photos.join(&name);
            if !path.exists() {
                write_private_file(&path, &bytes).map_err(io(&path))?;
            }
            written += 1;
        }
    }
    drop(copy);
    let mut live = Store::open(&data.database())?;
    live.conn
        .restore(
            rusqlite::MAIN_DB,
            staged,
            None::<fn(rusqlite::backup::Progress)>,
        )
        .map_err(StoreError::from)?;
    live.conn
        .execute_batch("DROP TABLE backup_photos")
        .map_err(StoreError::from)?;
    let files = take_backup_files(&live.conn)?;
    Ok((written, erased_again, linked, files))
}

/// The data folder's files a backup holds besides its photos (see `folder_files`; none in a
/// backup made before 2026-12-07), taken out of the restored database.
fn take_backup_files(conn: &Connection) -> Result<FolderFiles, BackupError> {
    if !has_table(conn, "backup_files").map_err(StoreError::from)? {
        return Ok(Vec::new());
    }
    let files = {
        let mut stmt = conn
            .prepare("SELECT file_name, bytes FROM backup_files")
            .map_err(StoreError::from)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(StoreError::from)?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?
    };
    conn.execute_batch("DROP TABLE backup_files")
        .map_err(StoreError::from)?;
    Ok(files)
}

/// Whether the database holds a table of this name.
fn has_table(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n == 1)
}

/// `STEM.db` in `folder`, or `STEM-2.db`, `STEM-3.db`, … when it exists (two restores
/// within a second).
fn new_file(folder: &Path, stem: &str) -> PathBuf {
    (1..)
        .map(|n| match n {
            1 => folder.join(format!("{stem}.db")),
            n => folder.join(format!("{stem}-{n}.db")),
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| folder.join(format!("{stem}.db")))
}

/// Moves a damaged database (and its log files) aside, unchanged; returns its new path.
fn move_aside(data: &DataDir, now: &str) -> Result<PathBuf, BackupError> {
    let db = data.database();
    let aside = new_file(data.root(), &format!("{DAMAGED_COPY}{now}"));
    let ([db, logs @ ..], [_, moved @ ..]) = (with_logs(&db), with_logs(&aside));
    std::fs::rename(&db, &aside).map_err(io(&db))?;
    for (log, to) in logs.iter().zip(&moved) {
        if log.exists() {
            std::fs::rename(log, to).map_err(io(log))?;
        }
    }
    Ok(aside)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    /// The data folder `name` in `dir`, made, with one student enrolled.
    fn folder_with_a_student(dir: &Path, name: &str) -> (DataDir, Store) {
        let data = DataDir::resolve(Some(&dir.join(name))).create().unwrap();
        let mut store = Store::open(&data.database()).unwrap();
        store.add_test_student(1);
        (data, store)
    }

    #[test]
    fn a_new_computer_gets_the_backups_settings_and_one_set_up_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let (old, store) = folder_with_a_student(dir.path(), "old");
        // Settings never changed are nothing to put back, nor to speak of.
        Settings::load_or_create(&old.settings()).unwrap();
        let untouched = dir.path().join("untouched.rollcall");
        store.backup_to(&untouched, &old).unwrap();
        let fresh = DataDir::resolve(Some(&dir.path().join("fresh")))
            .create()
            .unwrap();
        let restored = restore(&fresh, &untouched).unwrap();
        assert_eq!(restored.settings, SettingsPutBack::Same);
        assert!(!restored.report(&untouched).join(" ").contains("settings"));
        std::fs::write(old.mail_authority(), b"-----BEGIN CERTIFICATE-----\n").unwrap();
        Settings::set_in_file(&old.settings(), "kiosk", "room_name", "Lab 4".into()).unwrap();
        Settings::set_in_file(
            &old.settings(),
            "email",
            "ca_file",
            "mail-authority.pem".into(),
        )
        .unwrap();
        let backup = dir.path().join("lab4.rollcall");
        store.backup_to(&backup, &old).unwrap();
        let said = |r: &Restored| r.report(&backup).join("\n");

        // A new computer: its settings are Rollcall's defaults, written at first start.
        let new = DataDir::resolve(Some(&dir.path().join("new")))
            .create()
            .unwrap();
        Settings::load_or_create(&new.settings()).unwrap();
        let restored = restore(&new, &backup).unwrap();
        assert_eq!(
            restored.settings,
            SettingsPutBack::PutBack,
            "{}",
            said(&restored)
        );
        assert!(said(&restored).contains("The settings were put back too"));
        let settings = Settings::load(&new.settings()).unwrap();
        assert_eq!(settings.kiosk.room_name, "Lab 4");
        // The authority they name is the new folder's copy.
        assert_eq!(
            settings.email.ca_file,
            new.mail_authority().to_string_lossy()
        );
        assert_eq!(
            std::fs::read(new.mail_authority()).unwrap(),
            std::fs::read(old.mail_authority()).unwrap()
        );
        // The restored database holds no copy of them.
        let tables: i64 = Store::open(&new.database())
            .unwrap()
            .conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'backup_files'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
        assert_eq!(
            restore(&new, &backup).unwrap().settings,
            SettingsPutBack::Same
        );

        // A computer set up its own way keeps its settings.
        let other = DataDir::resolve(Some(&dir.path().join("other")))
            .create()
            .unwrap();
        Settings::set_in_file(&other.settings(), "kiosk", "room_name", "Lab 9".into()).unwrap();
        let restored = restore(&other, &backup).unwrap();
        assert_eq!(restored.settings, SettingsPutBack::KeptOwn);
        assert!(said(&restored).contains("This computer's own settings were kept"));
        assert_eq!(
            Settings::load(&other.settings()).unwrap().kiosk.room_name,
            "Lab 9"
        );
        assert!(!other.mail_authority().exists());
    }

    #[test]
    fn a_new_computer_gets_the_photo_attack_check_adapted_to_the_old_ones_camera() {
        use crate::vision::liveness::{model_dir, LivenessModel};
        let dir = tempfile::tempdir().unwrap();
        let (old, store) = folder_with_a_student(dir.path(), "old");
        // As Admin → Photo-attack check → "Use the adapted check" leaves it.
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/liveness");
        std::fs::create_dir_all(old.site_check()).unwrap();
        for file in std::fs::read_dir(&shipped).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, old.site_check().join(file.file_name().unwrap())).unwrap();
        }
        Settings::set_in_file(&old.settings(), "liveness", "model_dir", "liveness".into()).unwrap();
        let backup = dir.path().join("adapted.rollcall");
        store.backup_to(&backup, &old).unwrap();

        let new = DataDir::resolve(Some(&dir.path().join("new")))
            .create()
            .unwrap();
        Settings::load_or_create(&new.settings()).unwrap();
        let restored = restore(&new, &backup).unwrap();
        assert_eq!(restored.settings, SettingsPutBack::PutBack);
        let settings = Settings::load(&new.settings()).unwrap();
        assert_eq!(model_dir(&settings.liveness), new.site_check());
        for file in ["record.json", "generic.yml.gz", "client.yml.gz"] {
            assert_eq!(
                std::fs::read(new.site_check().join(file)).unwrap(),
                std::fs::read(old.site_check().join(file)).unwrap(),
                "{file}"
            );
        }
        // The door's recognition starts: the check the settings name is there.
        LivenessModel::load(&model_dir(&settings.liveness)).unwrap();
        assert!(!new.root().join("liveness.restoring").exists());

        // A computer with an adapted check of its own keeps it.
        let other = DataDir::resolve(Some(&dir.path().join("other")))
            .create()
            .unwrap();
        std::fs::create_dir_all(other.site_check()).unwrap();
        std::fs::write(other.site_check().join("record.json"), b"its own").unwrap();
        restore(&other, &backup).unwrap();
        assert_eq!(
            std::fs::read(other.site_check().join("record.json")).unwrap(),
            b"its own"
        );
        assert!(!other.site_check().join("client.yml.gz").exists());
    }

    #[test]
    fn a_restore_keeps_a_folder_away_from_its_school_and_what_it_erased_for_the_school() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::resolve(Some(dir.path())).create().unwrap();
        let mut store = Store::open(&data.database()).unwrap();
        let ids = [1, 2, 3, 4].map(|n| store.add_test_student(n));
        for (n, id) in ids.into_iter().enumerate() {
            let photo = super::super::NewPhoto {
                file_name: format!("r{n}.jpg"),
                origin: "upload".into(),
                templates: vec![("facenet".into(), vec![0.5; 4])],
            };
            store.add_photos(id, &[photo], "test").unwrap();
        }
        let uid = |store: &Store, id: i64| -> String {
            store
                .conn
                .query_row("SELECT uid FROM students WHERE id = ?1", [id], |r| r.get(0))
                .unwrap()
        };
        let uids = ids.map(|id| uid(&store, id));
        let photo_of_four: (i64, String) = store
            .conn
            .query_row(
                "SELECT p.id, t.uid FROM photos p JOIN face_templates t ON t.photo_id = p.id
                 WHERE p.student_id = ?1",
                [ids[3]],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let erasures_waiting = |data: &DataDir| -> Vec<(String, String)> {
            let store = Store::open(&data.database()).unwrap();
            let mut waiting: Vec<(String, String)> = store
                .outbox_entries()
                .into_iter()
                .filter(|(_, _, gone)| *gone)
                .map(|(table, uid, _)| (table, uid))
                .collect();
            waiting.sort();
            waiting
        };
        let before_link = dir.path().join("before-the-link.rollcall");
        store.backup_to(&before_link, &data).unwrap();
        store.link_to_school_as_office("Office").unwrap();
        let while_linked = dir.path().join("while-linked.rollcall");
        store.backup_to(&while_linked, &data).unwrap();
        // The office's computer leaves the school; alone, it erases a face, deletes a
        // leaver and removes a photo, then restores a backup made before it left.
        store.leave_school("test").unwrap();
        store.erase_face_data(ids[0], "admin").unwrap();
        store.delete_student(ids[1], "admin").unwrap();
        store.remove_photo(photo_of_four.0, "admin").unwrap();
        let told = vec![
            ("face_data".to_string(), uids[0].clone()),
            ("face_templates".to_string(), photo_of_four.1.clone()),
            ("students".to_string(), uids[1].clone()),
        ];
        assert_eq!(erasures_waiting(&data), told);
        drop(store);
        for backup in [&while_linked, &before_link] {
            let restored = restore(&data, backup).unwrap();
            // It stays away from the school, with what it erased waiting for the school:
            // joined again, the school's older copies do not come back.
            assert!(restored.away && !restored.linked, "{restored:?}");
            assert!(restored
                .report(backup)
                .iter()
                .any(|line| line.starts_with("This computer had left the school server")));
            let store = Store::open(&data.database()).unwrap();
            assert!(store.school_status().unwrap().is_none());
            assert!(store.away_from_school().unwrap().is_some());
            assert_eq!(store.templates_of(ids[0]).unwrap().len(), 0);
            assert!(store.students().unwrap().iter().all(|s| s.roll_no != "R2"));
            assert_eq!(erasures_waiting(&data), told, "{}", backup.display());
        }

        // Linked again (the school fetched, everything told), a face erased while the
        // server is out of reach is told to the school as the face's erasure after a
        // restore, not as its templates one by one: the school erases it everywhere.
        let mut store = Store::open(&data.database()).unwrap();
        store.link_to_school_as_office("Office").unwrap();
        store
            .conn
            .execute_batch(
                "UPDATE school_link SET left_at = NULL, reconcile = 0;
                 DELETE FROM school_outbox;",
            )
            .unwrap();
        let linked = dir.path().join("linked-again.rollcall");
        store.backup_to(&linked, &data).unwrap();
        store.erase_face_data(ids[2], "admin").unwrap();
        drop(store);
        let restored = restore(&data, &linked).unwrap();
        assert!(restored.linked && !restored.away, "{restored:?}");
        let face = ("face_data".to_string(), uids[2].clone());
        let waiting = erasures_waiting(&data);
        assert!(waiting.contains(&face), "{waiting:?}");
    }

    /// A roll number corrected after a backup is corrected again in it, in its place among
    /// the erasures: the face erased under the new number does not come back, and the old
    /// number given to another student since stays theirs.
    #[test]
    fn a_restore_corrects_again_the_roll_numbers_corrected_after_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::resolve(Some(dir.path())).create().unwrap();
        let mut store = Store::open(&data.database()).unwrap();
        let [one, two] = [1, 2].map(|n| store.add_test_student(n));
        for (n, id) in [one, two].into_iter().enumerate() {
            let photo = super::super::NewPhoto {
                file_name: format!("r{n}.jpg"),
                origin: "upload".into(),
                templates: vec![("facenet".into(), vec![0.5; 4])],
            };
            store.add_photos(id, &[photo], "test").unwrap();
        }
        let backup = dir.path().join("before.rollcall");
        store.backup_to(&backup, &data).unwrap();
        // R1 was a typo for R10; R2 was meant to be R1. R10's face is erased after.
        store
            .update_student(one, "R10", "Student 1", "s1@example.org", "admin")
            .unwrap();
        store
            .update_student(two, "R1", "Student 2", "s2@example.org", "admin")
            .unwrap();
        store.erase_face_data(one, "admin").unwrap();
        drop(store);

        let restored = restore(&data, &backup).unwrap();
        let report = restored.report(&backup);
        assert!(
            report.contains(
                &"Corrected again, as corrected after this backup was made: 2 roll numbers."
                    .to_string()
            ),
            "{report:?}"
        );
        assert!(
            report
                .iter()
                .any(|l| l.starts_with("Erased again") && l.contains("the face data of 1 student")),
            "{report:?}"
        );
        let store = Store::open(&data.database()).unwrap();
        let (ten, _, name) = store.student_by_roll_no("R10").unwrap().unwrap();
        assert_eq!(name, "Student 1");
        assert!(store.templates_of(ten).unwrap().is_empty());
        let (r1, _, name) = store.student_by_roll_no("R1").unwrap().unwrap();
        assert_eq!(name, "Student 2");
        assert_eq!(store.templates_of(r1).unwrap().len(), 1);
        assert!(store.student_by_roll_no("R2").unwrap().is_none());
    }

    #[test]
    fn the_damaged_databases_set_aside_are_named_after_an_erasure() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(damaged_copies_note(dir.path()), None);
        // A copy a restore saved is reached by erasures: it is not named.
        std::fs::write(dir.path().join("rollcall-before-restore-1.db"), b"").unwrap();
        assert_eq!(damaged_copies_note(dir.path()), None);
        let one = dir.path().join("rollcall-damaged-20261203-054500.db");
        std::fs::write(&one, b"junk").unwrap();
        std::fs::write(
            dir.path().join("rollcall-damaged-20261203-054500.db-wal"),
            b"",
        )
        .unwrap();
        // Its write-ahead log, moved aside with it, may hold the rows erased: named too.
        let said = damaged_copies_note(dir.path()).unwrap();
        assert!(
            said.starts_with(&format!(
                "The damaged database a restore set aside ({0} and {0}-wal) cannot be changed, \
                 so it may",
                one.display()
            )),
            "{said}"
        );
        let two = dir.path().join("rollcall-damaged-20261204-080000.db");
        std::fs::write(&two, b"junk").unwrap();
        let said = damaged_copies_note(dir.path()).unwrap();
        assert!(
            said.starts_with(&format!(
                "The 2 damaged databases restores set aside ({0}, {0}-wal and {1}) cannot be \
                 changed, so they",
                one.display(),
                two.display()
            )),
            "{said}"
        );
        assert!(said.ends_with("delete them once nothing more is needed from them."));
    }

    #[test]
    fn the_backup_reminder_asks_for_a_first_backup_and_after_a_week() {
        use chrono::TimeZone;
        let now = Local.with_ymd_and_hms(2026, 3, 20, 9, 0, 0).unwrap();
        let (never, remind) = backup_reminder(&BackupState::default(), now);
        assert!(never.starts_with("No backup has been made here yet."));
        assert!(remind);
        let made = |d: u32| BackupState {
            last: Some(super::super::timestamp(
                Local.with_ymd_and_hms(2026, 3, d, 16, 5, 0).unwrap(),
            )),
            last_file: None,
            daily_problem: None,
            daily_folder: None,
        };
        assert_eq!(
            backup_reminder(&made(18), now),
            ("Last backup: 2026-03-18 16:05.".to_string(), false)
        );
        assert_eq!(
            backup_reminder(&made(10), now),
            (
                "Last backup: 2026-03-10 16:05, 9 days ago.".to_string(),
                true
            )
        );
        // Where it is, when this database made it.
        let to_usb = BackupState {
            last_file: Some("/media/usb/class.rollcall".into()),
            ..made(18)
        };
        assert_eq!(
            backup_reminder(&to_usb, now).0,
            "Last backup: 2026-03-18 16:05, to /media/usb/class.rollcall."
        );
        // A daily backup that fails is said at once, not a week later.
        let failing = BackupState {
            daily_problem: Some("Could not write /mnt/usb: the disk is full.".into()),
            ..made(18)
        };
        assert_eq!(
            backup_reminder(&failing, now),
            (
                "Last backup: 2026-03-18 16:05. The daily backup could not be made: Could not write /mnt/usb: the disk is full."
                    .to_string(),
                true
            )
        );
    }

    #[test]
    fn a_restore_does_not_bring_back_an_old_daily_backup_problem() {
        let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let old = DataDir::resolve(Some(from.path())).create().unwrap();
        let mut store = Store::open(&old.database()).unwrap();
        let problem = "Could not write /mnt/usb: the disk is full.";
        store
            .set_admin_setting(super::super::daily_backup::PROBLEM_KEY, problem)
            .unwrap();
        let file = from.path().join("class.rollcall");
        store.backup_to(&file, &old).unwrap();
        assert_eq!(
            store.backup_state().unwrap().daily_problem.as_deref(),
            Some(problem)
        );
        let here = DataDir::resolve(Some(to.path())).create().unwrap();
        restore(&here, &file).unwrap();
        let restored = Store::open(&here.database()).unwrap();
        assert_eq!(restored.backup_state().unwrap().daily_problem, None);
    }

    #[test]
    fn only_program_made_names_are_photo_names() {
        assert!(is_photo_name("3dfe95d6501056b28fdd6319.jpg"));
        assert!(!is_photo_name("../../etc/passwd.jpg"));
        assert!(!is_photo_name("a/b.jpg"));
        assert!(!is_photo_name(".jpg"));
        assert!(!is_photo_name("abc.png"));
    }
}
