//! Data protection: private files, online backup and restore, erasing face data, a locked
//! database and a read-only data folder, with the real binary and real photos.

use crate::common;

use common::{open_service, photos, rollcall, rollcall_with_env};
use rollcall::attendance::{AttendanceService, PhotoInput};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn frames(person: &str, n: usize) -> Vec<PhotoInput> {
    photos("webcam-dev", person)[..n]
        .iter()
        .map(|p| PhotoInput::read(p).unwrap())
        .collect()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn photo_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join("photos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

fn enrol_grace(s: &mut AttendanceService) {
    let frames = frames("0002", 3);
    s.enroll("R2", "Grace", "grace@example.org", &frames, "test")
        .unwrap();
}

/// Two enrolled students, one marked today.
fn class(dir: &Path) -> AttendanceService {
    let mut s = open_service(dir);
    s.enroll("R1", "Ada", "ada@example.org", &frames("0001", 3), "test")
        .unwrap();
    enrol_grace(&mut s);
    let probe = std::fs::read(&photos("webcam-dev", "0001")[30]).unwrap();
    assert_eq!(s.mark_photo(&probe, "test").unwrap().name, "Ada");
    s
}

#[test]
fn files_are_private_and_a_backup_taken_while_running_restores_everything() {
    let dir = tempfile::tempdir().unwrap();
    let running = class(dir.path());
    assert_eq!(mode(dir.path()), 0o700);
    assert_eq!(mode(&dir.path().join("photos")), 0o700);
    assert_eq!(mode(&dir.path().join("rollcall.db")), 0o600);
    let files = photo_files(dir.path());
    assert_eq!(files.len(), 6);
    assert!(files.iter().all(|f| mode(f) == 0o600));

    // Online: the service still has the database open.
    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("class.rollcall-backup");
    let b = rollcall(dir.path(), &["backup", backup.to_str().unwrap()]);
    assert!(b.status.success(), "{}", text(&b));
    assert!(
        text(&b).contains("Backed up 2 students, 1 mark and 6 photos"),
        "{}",
        text(&b)
    );
    assert_eq!(mode(&backup), 0o600, "the backup holds faces too");
    let again = rollcall(dir.path(), &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    drop(running);

    // A new machine: restore, then the kiosk recognises the students as before.
    let fresh = tempfile::tempdir().unwrap();
    let r = rollcall(fresh.path(), &["restore", backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("Restored 2 students, 1 mark and 6 photos"),
        "{}",
        text(&r)
    );
    assert!(photo_files(fresh.path()).iter().all(|f| mode(f) == 0o600));
    let mut s = open_service(fresh.path());
    assert_eq!(s.students(), 2);
    assert_eq!(common::marks_made(s.records().store()), 1);
    let probe = std::fs::read(&photos("webcam-dev", "0002")[30]).unwrap();
    assert_eq!(s.mark_photo(&probe, "test").unwrap().name, "Grace");
    drop(s);

    // Restoring over data keeps a copy of what it replaced.
    let r = rollcall(fresh.path(), &["restore", backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("rollcall-before-restore-"),
        "{}",
        text(&r)
    );
    let s = open_service(fresh.path());
    assert_eq!(
        common::marks_made(s.records().store()),
        1,
        "the backup's state, not the later mark"
    );

    // Files that are not backups are refused and change nothing.
    let notes = out_dir.path().join("notes.txt");
    std::fs::write(&notes, "not a database").unwrap();
    let plain_db = dir.path().join("rollcall.db");
    let missing = out_dir.path().join("missing");
    for (bad, said) in [
        (notes.as_path(), "is not a Rollcall backup"),
        (&plain_db, "is not a Rollcall backup"),
        (out_dir.path(), "is not a Rollcall backup"),
        (&missing, "There is no file"),
    ] {
        let r = rollcall(fresh.path(), &["restore", bad.to_str().unwrap()]);
        assert!(!r.status.success());
        assert!(text(&r).contains(said), "{}", text(&r));
    }
    assert_eq!(s.records().store().students().unwrap().len(), 2);
}

#[test]
fn erasing_face_data_removes_the_photo_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = class(dir.path());
    let ada = s.records().store().students().unwrap()[0].id;
    let before = photo_files(dir.path()).len();
    let data = rollcall::data_dir::DataDir::resolve(Some(dir.path()));
    let mut records =
        rollcall::attendance::Records::open(&data, &rollcall::settings::Settings::default())
            .unwrap();
    records.erase_face_data(ada, "admin").unwrap();
    assert_eq!(photo_files(dir.path()).len(), before - 3);
    assert!(s.records().store().templates_of(ada).unwrap().is_empty());
    assert!(s.records().store().photos_of(ada).unwrap().is_empty());
}

/// A start removes the photo files an interrupted enrolment left (named as Rollcall names
/// them, referred to by no student) and nothing else in the folder: until 2026-12-06 it
/// removed every file no student refers to, such as a class's photos and list a teacher
/// had put in `photos/`, even before importing them from there.
#[test]
fn a_start_sweeps_only_its_own_stray_photos_from_the_photos_folder() {
    let dir = tempfile::tempdir().unwrap();
    let s = class(dir.path());
    let enrolled = photo_files(dir.path());
    drop(s);
    let folder = dir.path().join("photos");
    let stray = "0123456789abcdef01234567.jpg";
    let theirs = ["ana.jpg", "class.csv", "IMG_0001.HEIC"];
    for name in theirs.iter().chain([&stray]) {
        std::fs::write(folder.join(name), b"x").unwrap();
    }
    drop(open_service(dir.path()));
    let mut left = photo_files(dir.path());
    left.sort();
    let mut expected = enrolled.clone();
    expected.extend(theirs.iter().map(|n| folder.join(n)));
    expected.sort();
    assert_eq!(left, expected);
}

/// `rollcall backup FILE` of the data folder; it must succeed.
fn back_up(dir: &Path, file: &Path) {
    let b = rollcall(dir, &["backup", file.to_str().unwrap()]);
    assert!(b.status.success(), "{}", text(&b));
}

/// The names of the files in `dir` that begin with `prefix`.
fn files_named(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// The data folder's photo records and templates, as (roll no, photos, templates).
fn face_data(dir: &Path) -> Vec<(String, usize, usize)> {
    let store = rollcall::store::Store::open(&dir.join("rollcall.db")).unwrap();
    store
        .students()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s.roll_no.clone(),
                store.photos_of(s.id).unwrap().len(),
                store.templates_of(s.id).unwrap().len(),
            )
        })
        .collect()
}

#[test]
fn a_restore_does_not_bring_back_what_was_erased_after_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = class(dir.path());
    s.enroll("R3", "Lin", "lin@example.org", &frames("0003", 3), "test")
        .unwrap();
    drop(s);
    let out_dir = tempfile::tempdir().unwrap();
    let before = out_dir.path().join("before.rollcall");
    back_up(dir.path(), &before);

    // After the backup: Ada's face data erased (say, her parents withdrew consent),
    // Grace deleted, one of Lin's photos removed.
    let data = rollcall::data_dir::DataDir::resolve(Some(dir.path()));
    let mut records =
        rollcall::attendance::Records::open(&data, &rollcall::settings::Settings::default())
            .unwrap();
    let ids: Vec<i64> = records
        .store()
        .students()
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    records.erase_face_data(ids[0], "admin").unwrap();
    records.delete_student(ids[1], "admin").unwrap();
    let lin_photo = records.store().photos_of(ids[2]).unwrap()[0].id;
    records.remove_photo(lin_photo, "admin").unwrap();
    drop(records);
    let erased = face_data(dir.path());
    assert_eq!(erased.len(), 2);
    assert_eq!((erased[0].1, erased[1].1), (0, 2));
    let after = out_dir.path().join("after.rollcall");
    back_up(dir.path(), &after);

    // Restoring the older backup brings back the marks and students of then, but not
    // what was erased since.
    let r = rollcall(dir.path(), &["restore", before.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains(
            "Erased again, as it was erased after this backup was made: the face data of 1 student, 1 student deleted and 1 photo removed."
        ),
        "{}",
        text(&r)
    );
    assert_eq!(face_data(dir.path()), erased);
    assert_eq!(
        photo_files(dir.path()).len(),
        2,
        "no erased photo file is back in the photo folder"
    );
    assert!(text(&r).contains("and 2 photos"), "{}", text(&r));
    let log = rollcall::store::Store::open(&dir.path().join("rollcall.db"))
        .unwrap()
        .audit_log(2)
        .unwrap();
    let actions: Vec<(&str, &str)> = log
        .iter()
        .map(|a| (a.action.as_str(), a.details.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("restore", format!("restored from {}", before.display()).as_str()),
            (
                "erase again",
                "erased after this copy was made: the face data of 1 student, 1 student deleted and 1 photo removed"
            ),
        ],
        "the audit log says what the restore did"
    );
    let staged = files_named(dir.path(), "rollcall-restoring-");
    assert!(staged.is_empty(), "the staged copy is gone: {staged:?}");
    // A backup made after the erasures has nothing to erase again; the older one, once
    // more, has (the database it replaces keeps the record of them).
    for (backup, erases) in [(&after, false), (&before, true)] {
        let r = rollcall(dir.path(), &["restore", backup.to_str().unwrap()]);
        assert!(r.status.success(), "{}", text(&r));
        assert_eq!(text(&r).contains("Erased again"), erases, "{}", text(&r));
        assert_eq!(face_data(dir.path()), erased);
    }

    // Grace enrolled again after her deletion stays enrolled through a restore of a
    // backup made after that.
    let mut s = open_service(dir.path());
    enrol_grace(&mut s);
    drop(s);
    let later = out_dir.path().join("later.rollcall");
    back_up(dir.path(), &later);
    let r = rollcall(dir.path(), &["restore", later.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(!text(&r).contains("Erased again"), "{}", text(&r));
    assert!(
        face_data(dir.path()).contains(&("R2".to_string(), 3, 6)),
        "{:?}",
        face_data(dir.path())
    );
}

/// Whether the file at `path` holds `bytes` anywhere.
fn holds(path: &Path, bytes: &[u8]) -> bool {
    std::fs::read(path)
        .unwrap()
        .windows(bytes.len())
        .any(|w| w == bytes)
}

/// 64 bytes from the middle of each of a student's photo files, by roll number.
fn photo_pieces(dir: &Path, roll_no: &str) -> Vec<Vec<u8>> {
    let store = rollcall::store::Store::open(&dir.join("rollcall.db")).unwrap();
    let (id, _, _) = store.student_by_roll_no(roll_no).unwrap().unwrap();
    store
        .photos_of(id)
        .unwrap()
        .iter()
        .map(|p| {
            let bytes = std::fs::read(dir.join("photos").join(&p.file_name)).unwrap();
            bytes[bytes.len() / 2..][..64].to_vec()
        })
        .collect()
}

#[test]
fn an_erasure_reaches_the_copies_that_restores_saved() {
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let (ada, grace) = (
        photo_pieces(dir.path(), "R1"),
        photo_pieces(dir.path(), "R2"),
    );
    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("class.rollcall");
    back_up(dir.path(), &backup);
    let r = rollcall(dir.path(), &["restore", backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    let saved = files_named(dir.path(), "rollcall-before-restore-");
    assert_eq!(saved.len(), 1, "{saved:?}");
    let copy = dir.path().join(&saved[0]);
    assert!(
        grace.iter().all(|piece| holds(&copy, piece)),
        "the copy holds Grace's photos"
    );

    // Grace's parents withdraw consent after the restore: her face data is erased, and
    // with it from the copy of what the restore replaced (rows and photo bytes).
    let e = rollcall(dir.path(), &["delete", "R2", "--face-data", "--yes"]);
    assert!(e.status.success(), "{}", text(&e));
    assert!(
        grace.iter().all(|piece| !holds(&copy, piece)),
        "no byte of Grace's photos is left in the saved copy"
    );
    assert!(
        ada.iter().all(|piece| holds(&copy, piece)),
        "Ada's photos stay in it"
    );
    let logs = files_named(dir.path(), &format!("{}-", saved[0]));
    assert!(logs.is_empty(), "no log file is left beside it: {logs:?}");
    // Undoing the restore from that copy brings back no face of Grace's.
    let r = rollcall(dir.path(), &["restore", copy.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    let restored = face_data(dir.path());
    assert!(restored.contains(&("R1".to_string(), 3, 6)), "{restored:?}");
    assert!(restored.contains(&("R2".to_string(), 0, 0)), "{restored:?}");

    // Both copies now held (one from each restore) lose a student deleted later.
    let d = rollcall(dir.path(), &["delete", "R1", "--yes"]);
    assert!(d.status.success(), "{}", text(&d));
    let saved = files_named(dir.path(), "rollcall-before-restore-");
    assert_eq!(saved.len(), 2, "{saved:?}");
    for copy in &saved {
        let copy = dir.path().join(copy);
        assert!(ada.iter().all(|piece| !holds(&copy, piece)), "{copy:?}");
        let store = rollcall::store::Store::open(&copy).unwrap();
        assert!(
            store.student_by_roll_no("R1").unwrap().is_none(),
            "{copy:?}"
        );
        assert!(
            store.student_by_roll_no("R2").unwrap().is_some(),
            "{copy:?}"
        );
    }
}

#[test]
fn a_restore_keeps_the_admin_pin_in_use() {
    use rollcall::attendance::pin::{AdminPin, PinCheck};
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let mut store = rollcall::store::Store::open(&db).unwrap();
    AdminPin::set(&mut store, "1111", "1111").unwrap();
    drop(store);
    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("pin.rollcall");
    back_up(dir.path(), &backup);
    // The PIN is changed after the backup (a teacher who knew it has left).
    let mut store = rollcall::store::Store::open(&db).unwrap();
    AdminPin::default()
        .change(&mut store, "1111", "2222", "2222", Instant::now())
        .unwrap();
    drop(store);
    let r = rollcall(dir.path(), &["restore", backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    let check = |pin: &str| {
        let mut store = rollcall::store::Store::open(&db).unwrap();
        AdminPin::default()
            .check(&mut store, pin, Instant::now())
            .unwrap()
    };
    assert_eq!(check("2222"), PinCheck::Accepted);
    assert_ne!(
        check("1111"),
        PinCheck::Accepted,
        "the old PIN stays retired"
    );

    // On a new machine (no PIN yet), the backup's PIN comes with it.
    let fresh = tempfile::tempdir().unwrap();
    let r = rollcall(fresh.path(), &["restore", backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    let mut store = rollcall::store::Store::open(&fresh.path().join("rollcall.db")).unwrap();
    assert_eq!(
        AdminPin::default()
            .check(&mut store, "1111", Instant::now())
            .unwrap(),
        PinCheck::Accepted
    );
}

#[test]
fn a_damaged_database_is_replaced_by_a_restore_and_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("class.rollcall");
    back_up(dir.path(), &backup);
    let db = dir.path().join("rollcall.db");
    std::fs::write(&db, b"this is not a database any more").unwrap();
    let damaged = rollcall(dir.path(), &["students"]);
    assert!(
        text(&damaged).contains("Restore it from a backup: `rollcall restore BACKUP-FILE`"),
        "{}",
        text(&damaged)
    );
    // With daily backups, the command names the newest.
    let daily_dir = dir.path().join("backups");
    std::fs::create_dir_all(&daily_dir).unwrap();
    for day in ["2026-03-02", "2026-03-03"] {
        std::fs::copy(
            &backup,
            daily_dir.join(format!("rollcall-daily-{day}.rollcall")),
        )
        .unwrap();
    }
    let damaged = rollcall(dir.path(), &["students"]);
    let newest = daily_dir.join("rollcall-daily-2026-03-03.rollcall");
    assert!(
        text(&damaged).contains(&format!(
            "Restore the newest daily backup on this computer: `rollcall restore {}`",
            newest.display()
        )),
        "{}",
        text(&damaged)
    );
    std::fs::remove_dir_all(&daily_dir).unwrap();

    let r = rollcall(dir.path(), &["restore", backup.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        text(&r).contains("Restored 2 students, 1 mark and 6 photos"),
        "{}",
        text(&r)
    );
    assert!(
        text(&r).contains("was damaged and could not be read"),
        "{}",
        text(&r)
    );
    let kept = files_named(dir.path(), "rollcall-damaged-");
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        std::fs::read(dir.path().join(&kept[0])).unwrap(),
        b"this is not a database any more"
    );
    let ok = rollcall(dir.path(), &["students"]);
    assert!(ok.status.success(), "{}", text(&ok));

    // No erasure can change the damaged file, which may hold Grace's face: the admin who
    // erases it is told where it is, and the file is left for them to delete.
    let e = rollcall(dir.path(), &["delete", "R2", "--face-data", "--yes"]);
    assert!(e.status.success(), "{}", text(&e));
    let aside = dir.path().join(&kept[0]);
    assert!(
        text(&e).contains(&format!(
            "The damaged database a restore set aside ({}) cannot be changed, so it may still \
             hold what was just erased: delete it once nothing more is needed from it.",
            aside.display()
        )),
        "{}",
        text(&e)
    );
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        b"this is not a database any more"
    );
}

#[test]
fn a_database_locked_by_another_program_is_explained_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let photo = photos("webcam-dev", "0002")[30].display().to_string();
    let other = rusqlite::Connection::open(dir.path().join("rollcall.db")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // Held for longer than the busy timeout.
    let busy = rollcall(dir.path(), &["mark", &photo]);
    assert!(!busy.status.success());
    assert!(
        text(&busy).contains("The attendance database is busy"),
        "{}",
        text(&busy)
    );
    assert!(!text(&busy).contains("panicked"));
    other.execute_batch("ROLLBACK").unwrap();
    let ok = rollcall(dir.path(), &["mark", &photo]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        "Attendance marked successfully"
    );
}

/// Makes a folder immutable (even for root) while alive; `None` where the file system or
/// the user cannot.
struct Immutable<'a>(&'a Path);

impl<'a> Immutable<'a> {
    fn set(p: &'a Path) -> Option<Immutable<'a>> {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(p)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Immutable(p))
    }
}

impl Drop for Immutable<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).status();
    }
}

#[test]
fn a_read_only_data_folder_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let Some(_lock) = Immutable::set(dir.path()) else {
        eprintln!("chattr is not available here: the read-only case cannot be set up");
        return;
    };
    let photo = photos("webcam-dev", "0002")[30].display().to_string();
    let out = rollcall(dir.path(), &["mark", &photo]);
    assert!(!out.status.success());
    assert!(text(&out).contains("is read-only"), "{}", text(&out));
    assert!(!text(&out).contains("panicked"));
}

#[test]
fn a_cache_folder_that_cannot_be_written_only_costs_compiling_the_models_again() {
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let cache = tempfile::tempdir().unwrap();
    let compiled = cache.path().join("rollcall").join("openvino");
    std::fs::create_dir_all(&compiled).unwrap();
    let Some(_lock) = Immutable::set(&compiled) else {
        eprintln!("chattr is not available here: the read-only case cannot be set up");
        return;
    };
    let photo = photos("webcam-dev", "0002")[30].display().to_string();
    let out = rollcall_with_env(
        dir.path(),
        &[("XDG_CACHE_HOME", cache.path())],
        &["mark", &photo],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Attendance marked successfully"
    );
    assert!(!text(&out).contains("panicked"));
    assert_eq!(std::fs::read_dir(&compiled).unwrap().count(), 0);
}

#[test]
fn a_daily_backup_is_kept_for_a_week_and_erasures_reach_it() {
    use chrono::NaiveDate;
    use rollcall::store::make_daily_backup;
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let grace = photo_pieces(dir.path(), "R2");
    let data = rollcall::data_dir::DataDir::resolve(Some(dir.path()));
    let folder = dir.path().join("backups");
    let day = |d: u32| noon(NaiveDate::from_ymd_opt(2026, 3, d).unwrap());
    let daily = |d: u32| folder.join(format!("rollcall-daily-2026-03-{d:02}.rollcall"));
    let names = || {
        let mut n = files_named(&folder, "rollcall-daily-");
        n.sort();
        n
    };

    // One a day, in a private folder, private files; a second look the same day does nothing.
    let made = make_daily_backup(&data, &folder, 2, day(2)).unwrap();
    assert_eq!(made, Some(daily(2)));
    assert_eq!(make_daily_backup(&data, &folder, 2, day(2)).unwrap(), None);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&folder), mode(&daily(2))), (0o700, 0o600));
    assert!(grace.iter().all(|piece| holds(&daily(2), piece)));
    let store = rollcall::store::Store::open(&dir.path().join("rollcall.db")).unwrap();
    assert!(store.backup_state().unwrap().last.is_some());
    let log = store.audit_log(1).unwrap();
    assert_eq!(
        (log[0].actor.as_str(), log[0].action.as_str()),
        ("daily backup", "backup")
    );
    drop(store);

    // The newest two are kept.
    make_daily_backup(&data, &folder, 2, day(3)).unwrap();
    make_daily_backup(&data, &folder, 2, day(4)).unwrap();
    assert_eq!(
        names(),
        [
            "rollcall-daily-2026-03-03.rollcall",
            "rollcall-daily-2026-03-04.rollcall"
        ]
    );

    // Grace's face data erased: no byte of her photos is left in any daily backup.
    let e = rollcall(dir.path(), &["delete", "R2", "--face-data", "--yes"]);
    assert!(e.status.success(), "{}", text(&e));
    for d in [3, 4] {
        assert!(
            grace.iter().all(|piece| !holds(&daily(d), piece)),
            "day {d}"
        );
    }
    // A backup folder out of reach when an erasure is made (a network folder not
    // mounted) gets it at the next look, once it is back.
    let away = dir.path().join("backups-unmounted");
    std::fs::rename(&folder, &away).unwrap();
    let ada = photo_pieces(dir.path(), "R1");
    let e = rollcall(dir.path(), &["delete", "R1", "--face-data", "--yes"]);
    assert!(e.status.success(), "{}", text(&e));
    std::fs::rename(&away, &folder).unwrap();
    assert!(ada.iter().all(|piece| holds(&daily(4), piece)));
    assert_eq!(make_daily_backup(&data, &folder, 2, day(4)).unwrap(), None);
    for d in [3, 4] {
        assert!(ada.iter().all(|piece| !holds(&daily(d), piece)), "day {d}");
    }
    let r = rollcall(dir.path(), &["restore", daily(4).to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    let restored = face_data(dir.path());
    assert!(restored.contains(&("R1".to_string(), 0, 0)), "{restored:?}");
    assert!(restored.contains(&("R2".to_string(), 0, 0)), "{restored:?}");

    // A backup folder that cannot be written is told to the admin at once; the next
    // backup that works clears it.
    let blocked = dir.path().join("not-a-folder");
    std::fs::write(&blocked, b"").unwrap();
    assert!(make_daily_backup(&data, &blocked, 2, day(5)).is_err());
    let state = || {
        rollcall::store::Store::open(&dir.path().join("rollcall.db"))
            .unwrap()
            .backup_state()
            .unwrap()
    };
    let (said, remind) = rollcall::store::backup_reminder(&state(), chrono::Local::now());
    assert!(remind);
    assert!(
        said.contains("The daily backup could not be made: Could not write"),
        "{said}"
    );
    make_daily_backup(&data, &folder, 2, day(5)).unwrap();
    assert_eq!(state().daily_problem, None);

    // The clock gone back to the 1st (a flat clock battery): the 1st's backup is written
    // once, not deleted at once as the oldest (to be written again a quarter of an hour
    // later), and the backups dated after it are kept.
    let first = make_daily_backup(&data, &folder, 2, day(1)).unwrap();
    assert_eq!(first, Some(daily(1)));
    assert_eq!(make_daily_backup(&data, &folder, 2, day(1)).unwrap(), None);
    assert_eq!(
        names(),
        [
            "rollcall-daily-2026-03-01.rollcall",
            "rollcall-daily-2026-03-04.rollcall",
            "rollcall-daily-2026-03-05.rollcall"
        ]
    );
    // The clock right again, the 1st's is the oldest.
    make_daily_backup(&data, &folder, 2, day(6)).unwrap();
    assert_eq!(
        names(),
        [
            "rollcall-daily-2026-03-05.rollcall",
            "rollcall-daily-2026-03-06.rollcall"
        ]
    );
}

/// Noon of `day`, here.
fn noon(day: chrono::NaiveDate) -> chrono::DateTime<chrono::Local> {
    use chrono::TimeZone;
    chrono::Local
        .from_local_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
        .unwrap()
}

/// The class in `dir`, and its daily backup made now: the data folder, the backups'
/// folder and today's backup file.
fn class_backed_up_today(
    dir: &Path,
    now: chrono::DateTime<chrono::Local>,
) -> (rollcall::data_dir::DataDir, PathBuf, PathBuf) {
    drop(class(dir));
    let data = rollcall::data_dir::DataDir::resolve(Some(dir));
    let folder = dir.join("backups");
    let today = folder.join(format!("rollcall-daily-{}.rollcall", now.date_naive()));
    assert_eq!(
        rollcall::store::make_daily_backup(&data, &folder, 2, now).unwrap(),
        Some(today.clone())
    );
    (data, folder, today)
}

/// Sleeps past midnight when fewer than `minutes` of the day are left (a test whose
/// steps take the clock's time and must share one day).
fn wait_out_the_days_last_minutes(minutes: u64) {
    let now = chrono::Local::now();
    let midnight = now
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 1))
        .and_then(|t| t.and_local_timezone(chrono::Local).earliest());
    if let Some(left) = midnight.and_then(|m| (m - now).to_std().ok()) {
        if left < std::time::Duration::from_secs(60 * minutes) {
            std::thread::sleep(left);
        }
    }
}

#[test]
fn a_student_enrolled_after_the_days_backup_is_written_into_it_once_enrolling_is_over() {
    use rollcall::store::make_daily_backup;
    // The enrolment photos take the clock's time, and ten quiet minutes after them must
    // still be the same day: a run begun late in the evening waits for the next one.
    wait_out_the_days_last_minutes(20);
    let dir = tempfile::tempdir().unwrap();
    let (data, folder, today) = class_backed_up_today(dir.path(), chrono::Local::now());
    // Later that morning a student is enrolled, and another's face data erased (which
    // changes the backup file, not what it holds of the day's enrolments).
    let mut s = open_service(dir.path());
    s.enroll(
        "R3",
        "Linus",
        "linus@example.org",
        &frames("0003", 3),
        "test",
    )
    .unwrap();
    drop(s);
    let linus = photo_pieces(dir.path(), "R3");
    let ada = photo_pieces(dir.path(), "R1");
    let e = rollcall(dir.path(), &["delete", "R1", "--face-data", "--yes"]);
    assert!(e.status.success(), "{}", text(&e));
    assert!(ada.iter().all(|piece| !holds(&today, piece)));

    // While the enrolling may go on, the backup is left as it is…
    let later = chrono::Local::now();
    assert_eq!(make_daily_backup(&data, &folder, 2, later).unwrap(), None);
    assert!(linus.iter().all(|piece| !holds(&today, piece)));
    // …and once it is over, written again with the new student (and still without what
    // was erased); then left alone.
    let over = later + chrono::TimeDelta::minutes(10);
    assert_eq!(
        make_daily_backup(&data, &folder, 2, over).unwrap(),
        Some(today.clone())
    );
    assert!(linus.iter().all(|piece| holds(&today, piece)));
    assert!(ada.iter().all(|piece| !holds(&today, piece)));
    assert_eq!(make_daily_backup(&data, &folder, 2, over).unwrap(), None);
    assert_eq!(files_named(&folder, "rollcall-daily-").len(), 1);
    let r = rollcall(dir.path(), &["restore", today.to_str().unwrap()]);
    assert!(r.status.success(), "{}", text(&r));
    let restored = face_data(dir.path());
    assert!(restored.contains(&("R3".to_string(), 3, 6)), "{restored:?}");
}

/// The attendance a backup file holds: roll number and present or not, by roll number.
fn marks_in(backup: &Path) -> Vec<(String, bool)> {
    let conn =
        rusqlite::Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT s.roll_no, a.present FROM attendance a JOIN students s ON s.id = a.student_id
             ORDER BY s.roll_no",
        )
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn the_days_marks_are_written_into_its_backup_once_the_arrivals_are_over() {
    use rollcall::store::make_daily_backup;
    // The morning is told by the times given (the marks', the correction's and the backup
    // looks'), not by the clock: the test holds at any hour, even late in the evening, when
    // half an hour after the last arrival would be the next day.
    let day = chrono::Local::now().date_naive();
    let at = |hour, minute| {
        use chrono::TimeZone;
        let time = day.and_hms_opt(hour, minute, 0).unwrap();
        chrono::Local.from_local_datetime(&time).earliest().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let (data, folder, today) = class_backed_up_today(dir.path(), at(8, 30));
    let early = vec![("R1".to_string(), true)];
    assert_eq!(marks_in(&today), early, "Ada came before the backup");
    // Then Grace walks in, and an admin corrects Ada's mark: she had gone home.
    let mut store = rollcall::store::Store::open(&data.database()).unwrap();
    let id = |store: &rollcall::store::Store, roll_no| {
        store.student_by_roll_no(roll_no).unwrap().unwrap().0
    };
    let (ada, grace) = (id(&store, "R1"), id(&store, "R2"));
    store
        .mark(grace, at(8, 40), Some(7.0), "kiosk", None)
        .unwrap();
    assert!(
        store
            .correct(ada, day, false, "went home", "admin", at(8, 45))
            .unwrap()
            .changed
    );
    drop(store);

    // While students may still be coming in, the backup is left as it is…
    assert_eq!(
        make_daily_backup(&data, &folder, 2, at(9, 5)).unwrap(),
        None
    );
    assert_eq!(marks_in(&today), early);
    // …and half an hour after the last, written again with the day's marks; then left alone.
    assert_eq!(
        make_daily_backup(&data, &folder, 2, at(9, 15)).unwrap(),
        Some(today.clone())
    );
    let marked = vec![("R1".to_string(), false), ("R2".to_string(), true)];
    assert_eq!(marks_in(&today), marked);
    assert_eq!(
        make_daily_backup(&data, &folder, 2, at(9, 30)).unwrap(),
        None
    );
    assert_eq!(files_named(&folder, "rollcall-daily-").len(), 1);
}

#[test]
fn daily_backups_left_in_a_folder_no_longer_used_are_erased_in_and_then_deleted() {
    use chrono::NaiveDate;
    use rollcall::store::make_daily_backup;
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let grace = photo_pieces(dir.path(), "R2");
    let data = rollcall::data_dir::DataDir::resolve(Some(dir.path()));
    let day = |d: u32| noon(NaiveDate::from_ymd_opt(2026, 3, d).unwrap());
    let (local, share) = (dir.path().join("backups"), dir.path().join("share"));
    for d in [2, 3] {
        make_daily_backup(&data, &local, 2, day(d)).unwrap();
    }
    // The school moves the daily backups to another folder.
    make_daily_backup(&data, &share, 2, day(4)).unwrap();
    let in_local = || files_named(&local, "rollcall-daily-").len();
    assert_eq!(in_local(), 2, "kept for a while, in case they are needed");
    // An erasure still reaches the backups left behind.
    let e = rollcall(dir.path(), &["delete", "R2", "--face-data", "--yes"]);
    assert!(e.status.success(), "{}", text(&e));
    for file in files_named(&local, "rollcall-daily-") {
        assert!(
            grace.iter().all(|piece| !holds(&local.join(&file), piece)),
            "{file}"
        );
    }
    // They go as they age past `keep` days.
    make_daily_backup(&data, &share, 2, day(5)).unwrap();
    assert_eq!(in_local(), 1);
    make_daily_backup(&data, &share, 2, day(6)).unwrap();
    assert_eq!(in_local(), 0);
    assert_eq!(files_named(&share, "rollcall-daily-").len(), 2);
}

#[test]
fn turning_daily_backups_off_deletes_those_made_before() {
    use chrono::NaiveDate;
    use rollcall::store::{make_daily_backup, remove_daily_backups};
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let data = rollcall::data_dir::DataDir::resolve(Some(dir.path()));
    let day = |d: u32| noon(NaiveDate::from_ymd_opt(2026, 3, d).unwrap());
    let (local, share) = (dir.path().join("backups"), dir.path().join("share"));
    make_daily_backup(&data, &local, 7, day(2)).unwrap();
    make_daily_backup(&data, &share, 7, day(3)).unwrap();
    make_daily_backup(&data, &share, 7, day(4)).unwrap();
    // Something else in the folder is not the school's daily backup: it stays.
    std::fs::write(share.join("notes.txt"), b"mine").unwrap();

    // `[backup] keep = 0`, as the kiosk, a door or the server starts.
    let mut settings = rollcall::settings::Settings::default().backup;
    settings.keep = 0;
    settings.folder = share.display().to_string();
    assert!(rollcall::store::DailyBackups::start(&data, &settings).is_none());
    assert!(files_named(&local, "rollcall-daily-").is_empty());
    assert!(files_named(&share, "rollcall-daily-").is_empty());
    assert!(share.join("notes.txt").is_file());
    assert_eq!(
        remove_daily_backups(&data, &share).unwrap(),
        0,
        "nothing left"
    );
}
