//! Daily backups: while the kiosk, a door or the server runs, once a day a backup of
//! everything (what `rollcall backup` writes) goes into the backup folder, and only the
//! newest few are kept. Students enrolled (or photos added) after the day's backup was made
//! are written into it again once the enrolling is over: they are what could not be redone
//! from memory; the day's marks and corrections, once the door has been quiet for a while.
//! Erasures reach them as they reach the copies restores saved.

use super::backup::{io, BackupError};
use super::{Store, StoreError};
use crate::data_dir::DataDir;
use crate::store::stored_day;
use chrono::{DateTime, Local, NaiveDate};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How daily backups' file names begin; the date and `.rollcall` follow.
const PREFIX: &str = "rollcall-daily-";
const SUFFIX: &str = ".rollcall";

/// The admin setting holding the folders daily backups went to, the one in use first, one
/// a line: erasures reach them all, and a folder no longer used empties as its backups age.
const FOLDERS_KEY: &str = "daily_backup_folders";

/// The admin setting holding why the last daily backup failed, for the admin screens.
pub(super) const PROBLEM_KEY: &str = "daily_backup_problem";

/// How often the background thread looks whether today's backup is made.
const CHECK_EVERY: Duration = Duration::from_secs(15 * 60);

/// A backup being written that is older than this was left by a process that stopped.
const STALE: Duration = Duration::from_secs(60 * 60);

/// How long what a backup lacks may wait before it is written again: until nothing new
/// has come for `quiet`, or the first thing it lacks has waited `at_most`.
struct Patience {
    quiet: chrono::TimeDelta,
    at_most: chrono::TimeDelta,
}

/// Enrolment photos: a class enrolled one after another is written once, after the last
/// (ten minutes without a photo), or hourly while enrolling goes on all day.
const ENROLMENTS: Patience = Patience {
    quiet: chrono::TimeDelta::minutes(10),
    at_most: chrono::TimeDelta::hours(1),
};

/// Marks and corrections: once the arrivals are over (half an hour without one), or every
/// two hours at a door busy all day — a full copy with every photo is not written for each
/// student who walks in.
const MARKS: Patience = Patience {
    quiet: chrono::TimeDelta::minutes(30),
    at_most: chrono::TimeDelta::hours(2),
};

/// Makes today's backup in `folder` (created private when missing) unless it is there —
/// and holds the enrolments and marks worth keeping (see `ENROLMENTS`, `MARKS`) — or
/// another process is writing it, then deletes all but the newest `keep`; makes in every
/// backup the erasures it lacks. Returns the new backup's file, if one was made. A failure
/// is recorded for the admin screens (and cleared by the next success).
pub fn make_daily_backup(
    data: &DataDir,
    folder: &Path,
    keep: usize,
    now: DateTime<Local>,
) -> Result<Option<PathBuf>, BackupError> {
    let today = now.date_naive();
    let mut store = Store::open(&data.database())?;
    let made = write_daily(&store, data, folder, now);
    let recorded = match &made {
        Ok(Some(file)) => store
            .record_backup(file, "daily backup")
            .and_then(|()| store.remove_admin_setting(PROBLEM_KEY).map(|_| ())),
        Ok(None) => Ok(()),
        Err(e) => store.set_admin_setting(PROBLEM_KEY, &e.to_string()),
    };
    // Once today's backup is in the folder in use, the folders used before keep theirs
    // only for `keep` more days.
    let today_made = daily_file(folder, today).is_file();
    let recorded = recorded.and_then(|()| match today_made {
        true => tend_folders(&mut store, folder, keep, today),
        false => Ok(()),
    });
    if let Err(e) = recorded {
        tracing::warn!("the daily backup could not be recorded: {e}");
    }
    // Erasures made while the backups were out of reach (a network folder not mounted)
    // are made in them now: each look does it, so within a quarter of an hour.
    store.erase_in_saved_copies();
    let file = made?;
    prune(folder, keep, today);
    Ok(file)
}

fn write_daily(
    store: &Store,
    data: &DataDir,
    folder: &Path,
    now: DateTime<Local>,
) -> Result<Option<PathBuf>, BackupError> {
    let file = daily_file(folder, now.date_naive());
    if file.exists() && !lacks_what_is_worth_keeping(store, &file, now)? {
        return Ok(None);
    }
    if !folder.exists() {
        // A folder made here holds faces: private, like the data folder.
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(folder).map_err(io(folder))?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700))
            .map_err(io(folder))?;
    }
    let partial = file.with_extension("rollcall.partial");
    let age = std::fs::metadata(&partial)
        .and_then(|m| m.modified())
        .map(|t| SystemTime::now().duration_since(t).unwrap_or_default());
    match age {
        Ok(age) if age < STALE => return Ok(None), // another process is writing it
        Ok(_) => std::fs::remove_file(&partial).map_err(io(&partial))?,
        Err(_) => {}
    }
    match store.backup_to(&partial, data) {
        Ok(_) => {}
        Err(BackupError::Exists(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    // An erasure made while it was being written did not see it: made again in it.
    let erased = store
        .erasures()
        .and_then(|erasures| super::backup::erase_in_copy(&partial, &erasures));
    if let Err(e) = erased {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    // Over the day's earlier backup, if any, in one step: there is always one to restore.
    std::fs::rename(&partial, &file).map_err(io(&file))?;
    Ok(Some(file))
}

/// Whether the backup `file` lacks enrolment photos, marks or corrections made since it was
/// written that are worth writing it again for at `now` (see `Patience`).
fn lacks_what_is_worth_keeping(
    store: &Store,
    file: &Path,
    now: DateTime<Local>,
) -> Result<bool, BackupError> {
    let Some(backup) = super::backup::WrittenBackup::open(file) else {
        return Ok(false); // not one of ours to judge: left as it is
    };
    // What was recorded in the second it was written may or may not be in it: it is asked.
    let photos: Vec<_> = store
        .photos_added_since(backup.at)?
        .into_iter()
        .filter(|(file_name, _)| !backup.holds_photo(file_name))
        .map(|(_, at)| at)
        .collect();
    // Marks are asked for by day, not by time: a school's server receives a door's marks
    // with the time they were made, which may be before the backup.
    let marks: Vec<_> = store
        .marks_from((backup.at - chrono::Days::new(1)).date_naive())?
        .into_iter()
        .filter(|(mark, _)| !backup.holds_mark(mark))
        .map(|(_, at)| at)
        .collect();
    Ok(worth_writing_again(photos, &ENROLMENTS, now) || worth_writing_again(marks, &MARKS, now))
}

/// Whether things recorded at `lacking` are worth writing a backup again for at `now`.
fn worth_writing_again(
    mut lacking: Vec<DateTime<chrono::FixedOffset>>,
    patience: &Patience,
    now: DateTime<Local>,
) -> bool {
    lacking.sort();
    let (Some(first), Some(last)) = (lacking.first(), lacking.last()) else {
        return false;
    };
    let waited = |at: &DateTime<chrono::FixedOffset>| now.fixed_offset() - *at;
    waited(last) >= patience.quiet || waited(first) >= patience.at_most
}

/// The daily backup of `day` in `folder`.
fn daily_file(folder: &Path, day: NaiveDate) -> PathBuf {
    folder.join(format!("{PREFIX}{day}{SUFFIX}"))
}

/// The day of a daily backup, from its file name.
fn day_of(file: &Path) -> Option<NaiveDate> {
    let name = file.file_name()?.to_str()?;
    let day = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    stored_day(day)
}

/// The daily backups in `folder` with the day each was made, oldest first: the files
/// named exactly as they are made (`rollcall-daily-2026-03-02.rollcall`). A copy an admin
/// saved there under another name (`rollcall-daily-2026-03-02 (copy).rollcall`) is not
/// one: never pruned or deleted, nor counted among the newest kept.
pub fn daily_backups(folder: &Path) -> Vec<(PathBuf, NaiveDate)> {
    let files = named_as_daily_backups(folder).into_iter();
    files
        .filter_map(|f| day_of(&f).map(|day| (f, day)))
        .collect()
}

/// Every file in `folder` whose name starts and ends as a daily backup's: the daily
/// backups and copies of them saved beside them, which an erasure reaches too.
pub fn named_as_daily_backups(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    files.sort();
    files
}

/// Records `folder` as the one in use and, in each folder used before, deletes the daily
/// backups more than `keep` days old; a folder left with none is forgotten (one out of
/// reach is remembered, for the erasures).
fn tend_folders(
    store: &mut Store,
    folder: &Path,
    keep: usize,
    today: NaiveDate,
) -> Result<(), StoreError> {
    let before = store.daily_backup_folders()?;
    let cutoff = today - chrono::Days::new(keep as u64);
    let mut folders = vec![folder.to_path_buf()];
    for old in before.iter().filter(|f| f.as_path() != folder) {
        if std::fs::read_dir(old).is_err() {
            folders.push(old.clone());
            continue;
        }
        let mut left = 0;
        for (file, day) in daily_backups(old) {
            if day >= cutoff {
                left += 1;
            } else if let Err(e) = std::fs::remove_file(&file) {
                tracing::warn!(file = %file.display(), "an old daily backup could not be deleted: {e}");
                left += 1;
            }
        }
        if left > 0 {
            folders.push(old.clone());
        }
    }
    if folders != before {
        store.set_daily_backup_folders(&folders)?;
    }
    Ok(())
}

/// With daily backups turned off (`keep` 0), deletes the ones made before, in `folder` and
/// in every folder used before (a school that stops them does not want copies of its
/// students' faces left behind); returns how many. A folder out of reach stays on the
/// list, for its backups to be deleted at a later start.
pub fn remove_daily_backups(data: &DataDir, folder: &Path) -> Result<usize, StoreError> {
    let mut store = Store::open(&data.database())?;
    let before = store.daily_backup_folders()?;
    let mut folders = vec![folder.to_path_buf()];
    folders.extend(before.iter().filter(|f| f.as_path() != folder).cloned());
    let mut removed = 0;
    let mut left = Vec::new();
    for f in folders {
        if std::fs::read_dir(&f).is_err() {
            if f != folder {
                left.push(f);
            }
            continue;
        }
        let mut stayed = 0;
        for (file, _) in daily_backups(&f) {
            match std::fs::remove_file(&file) {
                Ok(()) => removed += 1,
                Err(e) => {
                    tracing::warn!(file = %file.display(), "a daily backup could not be deleted: {e}");
                    stayed += 1;
                }
            }
        }
        if stayed > 0 {
            left.push(f);
        }
    }
    if left != before {
        store.set_daily_backup_folders(&left)?;
    }
    Ok(removed)
}

/// Deletes all daily backups in `folder` but the newest `keep`, counting only those dated
/// up to `today`. One dated after it was made while the clock was ahead, or is dated
/// rightly while the clock has gone back (a flat clock battery): which clock was wrong
/// cannot be told, so it is kept, and not counted (counted, a clock gone back would see
/// its own day's backup as the oldest and delete it at once, to write it again a quarter
/// of an hour later).
fn prune(folder: &Path, keep: usize, today: NaiveDate) {
    let mut files = daily_backups(folder);
    files.retain(|(_, day)| *day <= today);
    for (old, _) in &files[..files.len().saturating_sub(keep)] {
        if let Err(e) = std::fs::remove_file(old) {
            tracing::warn!(file = %old.display(), "an old daily backup could not be deleted: {e}");
        }
    }
}

/// Where the advice on a damaged database is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdviceFor {
    /// At the kiosk, whose Admin button can put the backup back.
    Kiosk,
    /// At a command line, a server's log or a windowless door.
    Commands,
}

/// What to tell the admin of a damaged database whose daily backups go to `folder`: how to
/// restore the newest one, when there is one.
pub fn damaged_advice(folder: &Path, reader: AdviceFor) -> String {
    let today = Local::now().date_naive();
    let Some((newest, _)) = newest_daily_backup(folder, today) else {
        return StoreError::Corrupt.to_string();
    };
    match reader {
        AdviceFor::Kiosk => format!(
            "The attendance database file is damaged. An admin can put back the newest daily \
             backup here: press Admin (or, on this computer, run `rollcall restore {}`; the \
             damaged file is kept aside).",
            newest.display()
        ),
        AdviceFor::Commands => format!(
            "The attendance database file is damaged. Restore the newest daily backup on this \
             computer: `rollcall restore {}` (the damaged file is kept aside).",
            newest.display()
        ),
    }
}

/// The newest daily backup in `folder` up to `today`, with the day it was made: one dated
/// after today (see [`prune`]) only when there is no other. A clock that once ran ahead
/// left a backup that old; a clock gone back has written today's, the newest state.
pub fn newest_daily_backup(folder: &Path, today: NaiveDate) -> Option<(PathBuf, NaiveDate)> {
    let dated = daily_backups(folder);
    let up_to_today = dated.iter().rev().find(|(_, day)| *day <= today);
    up_to_today.or(dated.last()).cloned()
}

impl Store {
    /// The folders this database's daily backups went to, the one in use first.
    pub(super) fn daily_backup_folders(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(self
            .admin_setting(FOLDERS_KEY)?
            .map(|v| {
                v.lines()
                    .filter(|l| !l.is_empty())
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Records the folders holding daily backups, the one in use first.
    fn set_daily_backup_folders(&mut self, folders: &[PathBuf]) -> Result<(), StoreError> {
        let lines: Vec<String> = folders
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        self.set_admin_setting(FOLDERS_KEY, &lines.join("\n"))
    }
}

/// The thread that makes the daily backup while the kiosk, a door or the server runs: at
/// start, then every quarter of an hour it looks whether today's is made and holds the
/// day's enrolments and marks. Dropping it stops the thread without waiting for a backup
/// being written (an interrupted one is started again later).
pub struct DailyBackups {
    stop: Arc<AtomicBool>,
}

impl DailyBackups {
    /// Starts the thread; `None` when daily backups are off (`keep` 0), after deleting the
    /// ones made before.
    pub fn start(data: &DataDir, settings: &crate::settings::BackupSettings) -> Option<Self> {
        if settings.keep == 0 {
            match remove_daily_backups(data, &settings.folder_in(data)) {
                Ok(0) => {}
                Ok(n) => tracing::info!("daily backups are off: deleted the {n} made before"),
                Err(e) => tracing::warn!(
                    "daily backups are off; those made before could not be listed: {e}"
                ),
            }
            return None;
        }
        let (data, folder, keep) = (data.clone(), settings.folder_in(data), settings.keep);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let started = std::thread::Builder::new()
            .name("rollcall-daily-backup".into())
            .spawn(move || {
                while !stopping.load(Ordering::SeqCst) {
                    match make_daily_backup(&data, &folder, keep as usize, Local::now()) {
                        Ok(Some(file)) => {
                            tracing::info!(file = %file.display(), "daily backup made")
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!("the daily backup could not be made: {e}"),
                    }
                    super::sleep_unless(&stopping, CHECK_EVERY);
                }
            });
        match started {
            Ok(_) => Some(DailyBackups { stop }),
            Err(e) => {
                tracing::warn!("cannot start the daily backups: {e}");
                None
            }
        }
    }
}

impl Drop for DailyBackups {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether things recorded so many minutes after now are worth writing a backup again
    /// for so many minutes after now, with `patience`.
    fn worth_after(patience: &Patience) -> impl Fn(&[i64], i64) -> bool + '_ {
        let start = Local::now();
        move |lacking, minutes| {
            let at = |m: i64| start + chrono::TimeDelta::minutes(m);
            let lacking = lacking.iter().map(|&m| at(m).fixed_offset()).collect();
            worth_writing_again(lacking, patience, at(minutes))
        }
    }

    #[test]
    fn a_backup_is_written_again_once_enrolling_is_over_or_has_gone_on_an_hour() {
        let worth = worth_after(&ENROLMENTS);
        assert!(!worth(&[], 600), "nothing lacking");
        // One student enrolled: written again ten minutes after their last photo.
        assert!(!worth(&[0, 1], 5));
        assert!(worth(&[1, 0], 11));
        // A class enrolled one after another, photos every few minutes: not between
        // students, but not later than an hour after the first photo it lacks.
        let class: Vec<i64> = (0..30).map(|i| i * 3).collect();
        assert!(!worth(&class[..10], 30));
        assert!(worth(&class[..21], 61));
        assert!(worth(&class, 97));
    }

    #[test]
    fn a_backup_is_written_again_for_the_days_marks_once_arrivals_are_over() {
        let worth = worth_after(&MARKS);
        // The morning's arrivals over a quarter of an hour: not while students still come
        // in (a gap of ten minutes between two is not the end), half an hour after the last.
        let morning = [0, 2, 3, 5, 15];
        assert!(!worth(&morning, 12));
        assert!(!worth(&morning, 40));
        assert!(worth(&morning, 45));
        // A door busy all day, someone every twenty minutes: every two hours.
        let all_day: Vec<i64> = (0..30).map(|i| i * 20).collect();
        assert!(!worth(&all_day[..6], 101));
        assert!(worth(&all_day[..7], 121));
        // A late mark handed on by another door, made before the backup: at the next look.
        assert!(worth(&[-90], 0));
    }

    #[test]
    fn pruning_keeps_the_newest_daily_backups_and_never_touches_a_copy_saved_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "rollcall-daily-2026-03-01.rollcall",
            "rollcall-daily-2026-03-02.rollcall",
            "rollcall-daily-2026-03-03.rollcall",
            // Made while the clock ran ahead.
            "rollcall-daily-2026-03-09.rollcall",
            // An admin's copies: by name, one of them would sort after every day's.
            "rollcall-daily-2026-03-01 (copy).rollcall",
            "rollcall-daily-before-the-upgrade.rollcall",
            "notes.txt",
        ];
        for n in names {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        let first = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let newest = |today| newest_daily_backup(dir.path(), today).map(|(file, _)| file);
        assert_eq!(
            newest(first + chrono::Days::new(5)),
            Some(dir.path().join(names[2]))
        );
        // Seen before every day's, the one dated furthest ahead.
        assert_eq!(
            newest(first - chrono::Days::new(30)),
            Some(dir.path().join(names[3]))
        );
        let left = || {
            let mut left: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            left.sort();
            left
        };
        // Seen on the 1st (the clock gone back): the backups dated after it are kept and
        // not counted, so the 1st's own is not deleted as the oldest.
        prune(dir.path(), 2, first);
        assert_eq!(left().len(), names.len(), "nothing deleted");
        prune(dir.path(), 2, first + chrono::Days::new(2));
        assert_eq!(
            left(),
            [names[6], names[4], names[1], names[2], names[3], names[5]]
        );
        // An erasure reaches the copies as well as the backups.
        assert_eq!(named_as_daily_backups(dir.path()).len(), 5);
    }
}
