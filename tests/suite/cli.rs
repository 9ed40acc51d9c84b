//! The `rollcall` binary: enrol, mark and list through the command line.

use crate::common;

use common::{
    faceless_jpeg, models_with_facenet, people_with_at_least, photos, rollcall, rollcall_with_env,
};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// `rollcall enroll`'s arguments for Grace Hopper (CS-042), from four of the first eight
/// frames of one webcam-dev person.
fn enrol_grace(frames: &[PathBuf]) -> Vec<String> {
    let mut args: Vec<String> = [
        "enroll",
        "--roll-no",
        "CS-042",
        "--name",
        "Grace Hopper",
        "--email",
        "grace@example.org",
    ]
    .map(String::from)
    .to_vec();
    args.extend(
        frames[..8]
            .iter()
            .step_by(2)
            .map(|p| p.display().to_string()),
    );
    args
}

#[test]
fn enrol_mark_and_list_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // Webcam frames of one person: with a single student enrolled the decision is strict.
    let all = photos("webcam-dev", "0006");
    let args = enrol_grace(&all);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let out = rollcall(dir.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out), "User added successfully & training started");

    let again = rollcall(dir.path(), &args);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(stdout(&again), "User already exists");

    let probe = all[30].display().to_string();
    let mark = rollcall(dir.path(), &["mark", &probe]);
    assert!(
        mark.status.success(),
        "{}",
        String::from_utf8_lossy(&mark.stderr)
    );
    assert_eq!(stdout(&mark), "Attendance marked successfully");
    // Who was marked and when, as people read a time: "08:01", not a stored timestamp.
    let said = String::from_utf8_lossy(&mark.stderr);
    assert!(said.contains("Grace Hopper"), "{said}");
    let today = chrono::Local::now().date_naive();
    assert!(!said.contains(&today.to_string()), "{said}");
    assert_eq!(
        stdout(&rollcall(dir.path(), &["mark", &probe])),
        "Student attendance is marked"
    );
    // Recorded absent by hand (she went home), she is not marked again today.
    let (mut store, id) = common::only_student_sent_home(dir.path());
    let absent = rollcall(dir.path(), &["mark", &probe]);
    assert_eq!(absent.status.code(), Some(1));
    assert_eq!(
        stdout(&absent),
        "Today's attendance was recorded by the teacher"
    );
    let said = String::from_utf8_lossy(&absent.stderr);
    assert!(said.contains("recorded absent today by hand"), "{said}");
    assert!(!said.contains(&today.to_string()), "{said}");
    assert_eq!(common::marks_made(&store), 0);
    assert!(
        store
            .correct(id, today, true, "came back", "admin", chrono::Local::now())
            .unwrap()
            .changed
    );

    let wall = dir.path().join("wall.jpg");
    std::fs::write(&wall, faceless_jpeg()).unwrap();
    let no_face = rollcall(dir.path(), &["mark", wall.to_str().unwrap()]);
    assert_eq!(no_face.status.code(), Some(1));
    assert_eq!(stdout(&no_face), "No face found");

    let list = rollcall(dir.path(), &["students"]);
    let text = stdout(&list);
    let line = text
        .lines()
        .find(|l| l.contains("CS-042"))
        .unwrap_or_else(|| panic!("{text}"));
    // Enrolled from files: the photo-attack check has no live face of theirs.
    assert!(
        line.contains("Grace Hopper")
            && line.contains("grace@example.org")
            && line.contains("general only")
            && line.contains("in class"),
        "{text}"
    );
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("photo check") && l.contains("status")),
        "{text}"
    );

    // Her face data erased (any letter case of the roll number): she is no longer
    // recognised, and her attendance stays.
    let asked = rollcall(dir.path(), &["delete", "--face-data", "cs-042"]);
    assert_eq!(asked.status.code(), Some(1));
    assert!(
        stdout(&asked)
            .contains("  Grace Hopper (CS-042)\nNothing was changed: run it again with --yes"),
        "{}",
        stdout(&asked)
    );
    assert_eq!(
        stdout(&rollcall(dir.path(), &["mark", &probe])),
        "Student attendance is marked"
    );
    let erase = rollcall(dir.path(), &["delete", "--face-data", "--yes", "cs-042"]);
    assert!(
        erase.status.success(),
        "{}",
        String::from_utf8_lossy(&erase.stderr)
    );
    assert!(
        // No face snapshot: the correction to absent above dropped the mark's.
        stdout(&erase).starts_with(
            "Erased the face data of Grace Hopper (CS-042): 4 photos and 8 face templates."
        ),
        "{}",
        stdout(&erase)
    );
    assert_eq!(
        stdout(&rollcall(dir.path(), &["mark", &probe])),
        "User not found"
    );
    let listed = stdout(&rollcall(dir.path(), &["students"]));
    assert!(
        listed
            .lines()
            .any(|l| l.contains("CS-042") && l.contains("no face data")),
        "{listed}"
    );

    // Deleted, with a roll number nobody has beside it: that one is reported, the other
    // is done.
    let delete = rollcall(
        dir.path(),
        &["delete", "--yes", "CS-042", "CS-999", "cs-042"],
    );
    assert_eq!(delete.status.code(), Some(1));
    assert_eq!(
        stdout(&delete),
        "Deleted Grace Hopper (CS-042) with their photos and attendance."
    );
    assert!(
        String::from_utf8_lossy(&delete.stderr).contains("No student has the roll number CS-999."),
        "{}",
        String::from_utf8_lossy(&delete.stderr)
    );
    assert!(!stdout(&rollcall(dir.path(), &["students"])).contains("CS-042"));
    // Only roll numbers nobody has: nothing to list, nothing to confirm.
    let nobody = rollcall(dir.path(), &["delete", "CS-999"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert_eq!(stdout(&nobody), "Nothing was changed.");
}

#[test]
fn marks_made_while_the_clock_was_ahead_stop_marking_until_removed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let all = photos("webcam-dev", "0006");
    let args = enrol_grace(&all);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(rollcall(dir.path(), &args).status.success());
    // Marked three days ahead: the computer's clock was ahead then.
    let mut store = rollcall::store::Store::open(&dir.path().join("rollcall.db")).unwrap();
    let id = store.students().unwrap()[0].id;
    let ahead = chrono::Local::now() + chrono::Duration::days(3);
    store.mark(id, ahead, Some(7.0), "cli", None).unwrap();
    let today = chrono::Local::now().date_naive();

    let probe = all[30].display().to_string();
    let refused = rollcall(dir.path(), &["mark", &probe]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(&format!("This computer's date is {today}")) && said.contains("clock"),
        "{said}"
    );
    assert_eq!(store.marked_count(today).unwrap(), 0);

    let asked = rollcall(dir.path(), &["future-marks"]);
    assert_eq!(asked.status.code(), Some(1));
    assert!(
        stdout(&asked).contains(&format!(
            "if today really is {today}, run it again with --yes"
        )),
        "{}",
        stdout(&asked)
    );
    assert!(
        store.future_marks(today).unwrap().is_some(),
        "nothing removed"
    );
    let removed = rollcall(dir.path(), &["future-marks", "--yes"]);
    assert!(removed.status.success());
    assert!(
        stdout(&removed).starts_with(&format!(
            "Removed 1 mark made while the clock was ahead (today is {today})"
        )),
        "{}",
        stdout(&removed)
    );
    assert_eq!(
        stdout(&rollcall(dir.path(), &["mark", &probe])),
        "Attendance marked successfully"
    );
    assert_eq!(
        stdout(&rollcall(dir.path(), &["future-marks"])),
        format!("No mark made here was dated while the clock was ahead (today is {today}).")
    );
}

#[test]
fn a_forgotten_admin_pin_is_removed_from_the_command_line() {
    use rollcall::attendance::pin::AdminPin;
    use rollcall::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    AdminPin::set(&mut Store::open(&db).unwrap(), "2468", "2468").unwrap();
    let out = rollcall(dir.path(), &["forget-pin"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "The admin PIN is removed. Open Admin at the kiosk now and choose a new one: \
         until then, anyone at the kiosk can."
    );
    let mut store = Store::open(&db).unwrap();
    assert!(!AdminPin::is_set(&store).unwrap());
    let last = &store.audit_log(1).unwrap()[0];
    assert_eq!(
        (last.actor.as_str(), last.action.as_str()),
        ("command line", "forget PIN")
    );
    // The command line reads the audit log too, newest first.
    let log = stdout(&rollcall(dir.path(), &["audit", "--last", "2"]));
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(
        lines[0].split_once("  ").map(|(_, rest)| rest),
        Some(format!("command line: forget PIN — {}", last.details).as_str()),
        "{log}"
    );
    assert!(lines[1].contains(": set PIN — "), "{log}");
    // A new PIN can be chosen; with none set, the command says so.
    AdminPin::set(&mut store, "1357", "1357").unwrap();
    AdminPin::forget(&mut store, "test").unwrap();
    let again = rollcall(dir.path(), &["forget-pin"]);
    assert!(again.status.success());
    assert_eq!(
        stdout(&again),
        "No admin PIN was set: the first person to open Admin chooses one."
    );
}

/// A leave recorded ahead of the last day: the student is marked up to it; once it has
/// gone by, the first start erases their face data, and they are not marked.
#[test]
fn a_leave_recorded_ahead_is_marked_up_to_the_last_day_and_then_forgotten() {
    use rollcall::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let all = photos("webcam-dev", "0006");
    let args = enrol_grace(&all);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(rollcall(dir.path(), &args).status.success());
    let probe = all[30].display().to_string();
    let today = chrono::Local::now().date_naive();
    let friday = (today + chrono::Days::new(4)).to_string();
    let out = rollcall(
        dir.path(),
        &["left", "CS-042", "--last-day", &friday, "--yes"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&rollcall(dir.path(), &["mark", &probe])),
        "Attendance marked successfully"
    );

    // The days go by: her last day was yesterday, her face still held.
    let db = dir.path().join("rollcall.db");
    let yesterday = (today - chrono::Days::new(1)).to_string();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE students SET last_day = ?1", [&yesterday])
        .unwrap();
    let store = Store::open(&db).unwrap();
    let id = common::student_named(&store, "CS-042").unwrap().id;
    assert!(!store.templates_of(id).unwrap().is_empty());
    drop(store);
    let mark = rollcall(dir.path(), &["mark", &probe]);
    assert_eq!(mark.status.code(), Some(1));
    assert_eq!(stdout(&mark), "User not found");
    let store = Store::open(&db).unwrap();
    assert!(store.templates_of(id).unwrap().is_empty());
    assert!(store
        .audit_log(5)
        .unwrap()
        .iter()
        .any(|a| a.action == "erase face data"
            && a.details
                .contains(&format!("left the school, last day {yesterday}"))));
}

#[test]
fn a_folder_linked_to_a_school_server_by_mistake_becomes_a_door_of_its_own_again() {
    use rollcall::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rollcall.db");
    let args = enrol_grace(&photos("webcam-dev", "0006"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // A school server's address typed once (nothing answers there): the folder is linked,
    // and cannot tell what its login to that server may do.
    let nowhere = "postgres://rollcall@127.0.0.1:9/school";
    let out = rollcall(dir.path(), &["--database", nowhere, "students"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Working on this door's data"));
    // Without the address, enrolling waits for that server, and says how to leave it.
    let out = rollcall(dir.path(), &args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("run `rollcall leave-school`"), "{said}");
    // A door started without the address says no server is set (not "offline").
    let frames = recording_of_0006(dir.path(), 1);
    let mut door = start_rollcall(
        dir.path(),
        &["door", "--loop", "--source", frames.to_str().unwrap()],
        Stdio::null(),
    );
    let school = BufReader::new(door.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains(r#""event":"school""#));
    door.kill().unwrap();
    door.wait().unwrap();
    let school = school.expect("the door's link status");
    assert!(
        school.contains(r#""status":"No school server is set for this computer"#),
        "{school}"
    );
    // Not while the address is still given; without --yes, only what would stay unsent.
    let out = rollcall(
        dir.path(),
        &["--database", nowhere, "leave-school", "--yes"],
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("remove it there first"), "{said}");
    let out = rollcall(dir.path(), &["leave-school"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("Nothing was changed"),
        "{}",
        stdout(&out)
    );
    assert!(Store::open(&db).unwrap().school_status().unwrap().is_some());
    let out = rollcall(dir.path(), &["leave-school", "--yes"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).starts_with("This data folder is a door of its own again"),
        "{}",
        stdout(&out)
    );
    // A door of its own: no school status, and it enrols.
    let store = Store::open(&db).unwrap();
    assert_eq!(store.school_status().unwrap(), None);
    let out = rollcall(dir.path(), &args);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(store.students().unwrap().len(), 1);
    let log = store.audit_log(10).unwrap();
    assert!(log.iter().any(|r| r.action == "leave the school server"));
    let again = rollcall(dir.path(), &["leave-school"]);
    assert_eq!(
        stdout(&again),
        "This data folder is not linked to a school server: nothing to do."
    );
}

#[test]
fn bad_requests_get_the_contract_message_and_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    // Requests that cannot succeed are answered before the face models are loaded: the
    // same answers with no model at all.
    let no_models = tempfile::tempdir().unwrap();
    let without_models = |args: &[&str]| {
        rollcall_with_env(
            dir.path(),
            &[("ROLLCALL_MODELS_DIR", no_models.path())],
            args,
        )
    };
    let photo = photos("lfw-dev", &people_with_at_least("lfw-dev", 8)[1])[0]
        .display()
        .to_string();
    let blank = without_models(&[
        "enroll",
        "--roll-no",
        " ",
        "--name",
        "X",
        "--email",
        "x@example.org",
        &photo,
    ]);
    assert_eq!(blank.status.code(), Some(1));
    assert_eq!(stdout(&blank), "Invalid data");
    assert!(String::from_utf8_lossy(&blank.stderr).contains("roll number is missing"));

    let none = without_models(&[
        "enroll",
        "--roll-no",
        "R",
        "--name",
        "X",
        "--email",
        "x@example.org",
    ]);
    assert_eq!(stdout(&none), "No images found");

    let missing = rollcall(dir.path(), &["mark", "/nonexistent/photo.jpg"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("cannot read /nonexistent/photo.jpg: there is no such file or folder"));
}

#[test]
fn a_mistyped_data_folder_is_told_and_not_made() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("dta");
    let photo = photos("lfw-dev", &people_with_at_least("lfw-dev", 8)[1])[0]
        .display()
        .to_string();
    let sheet = dir.path().join("sheet.xlsx").display().to_string();
    for args in [
        &["students"][..],
        &["audit"],
        &["report", "log"],
        &["export", "--output", &sheet],
        &["mark", &photo],
        &["edit", "R1", "--name", "X"],
    ] {
        let out = rollcall(&typo, args);
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(
            said.contains(&format!(
                "The data folder {} cannot be used: there is no such folder. Check --data-dir",
                typo.display()
            )),
            "{args:?}: {said}"
        );
        assert!(!typo.exists(), "{args:?} made the folder");
    }
    assert!(
        !Path::new(&sheet).exists(),
        "no sheet of a folder that is not there"
    );
    // Enrolling is how a folder begins: it is made.
    let enrolled = rollcall(
        &typo,
        &[
            "enroll",
            "--roll-no",
            "R1",
            "--name",
            "One",
            "--email",
            "one@example.org",
            &photo,
        ],
    );
    assert_eq!(
        enrolled.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    let listed = rollcall(&typo, &["students"]);
    assert!(stdout(&listed).contains("R1"), "{}", stdout(&listed));
}

#[test]
fn a_class_list_saved_by_excel_in_another_language_imports() {
    let dir = tempfile::tempdir().unwrap();
    // Excel's plain CSV where the decimal mark is a comma: semicolons, Windows-1252, a
    // header in that language, empty rows below the class; one photo path that is wrong.
    // One photo beside it, written as on Windows (a backslash, other letter case); one
    // written with the drive of the Windows computer the list was written on, copied
    // beside it; and one left on that computer.
    let all = photos("webcam-dev", "0006");
    let mut sheet = b"Matrikel;Name;E-Mail;Foto 1;Foto 2;Foto 3;Foto 4;Foto 5;Foto 6\r\n".to_vec();
    sheet.extend(b"R1;Zo\xeb M\xfcller;zoe@example.org");
    for p in all.iter().step_by(8).take(2) {
        sheet.extend(format!(";{}", p.display()).bytes());
    }
    std::fs::create_dir(dir.path().join("Fotos")).unwrap();
    std::fs::copy(&all[44], dir.path().join("Fotos").join("Zoe.JPG")).unwrap();
    std::fs::copy(&all[52], dir.path().join("Fotos").join("zoe-2.jpg")).unwrap();
    std::fs::write(
        dir.path().join("Fotos").join("wand.jpg"),
        common::faceless_jpeg(),
    )
    .unwrap();
    sheet.extend(
        b";fotos\\zoe.jpg;D:\\Klasse\\Fotos\\zoe-2.jpg;D:\\Klasse\\weg.jpg;fehlt.jpg;\
          D:\\Klasse\\Fotos\\wand.jpg\r\n;;;;;;\r\n",
    );
    let csv = dir.path().join("klasse.csv");
    std::fs::write(&csv, sheet).unwrap();

    // Imported as a teacher would type it, from the list's folder (until 2026-12-06 the
    // photos of a list named without its folder were looked for nowhere but as written).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .current_dir(dir.path())
        .args(["--data-dir", ".", "import", "klasse.csv"])
        .output()
        .unwrap();
    let said = stdout(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.starts_with("Enrolled 1 of 1 student."), "{said}");
    assert!(
        said.contains("fehlt.jpg: cannot be read: there is no such file or folder"),
        "{said}"
    );
    assert!(
        said.contains("D:\\Klasse\\weg.jpg: cannot be read: there is no such file or folder (a path on a Windows computer"),
        "{said}"
    );
    // The photos copied from the Windows computer were taken by their file names: the
    // admin is told where from for the one enrolled (the one with no face is told as not
    // used, and only so: until 2026-12-06 it was told both ways); the one written as on
    // Windows is where the list says.
    assert!(
        said.contains("wand.jpg: no face found in this photo"),
        "{said}"
    );
    assert!(
        said.contains(
            "1 photo not where the list says was taken from Fotos/ by file name: line 2 (R1) \
             D:\\Klasse\\Fotos\\zoe-2.jpg. Check it is this student's photo"
        ),
        "{said}"
    );
    assert!(!said.contains("zoe.jpg"), "{said}");
    let list = stdout(&rollcall(dir.path(), &["students"]));
    let line = list
        .lines()
        .find(|l| l.starts_with("R1"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        line.contains("Zoë Müller") && line.contains("zoe@example.org"),
        "{list}"
    );
    let photos_kept = line
        .split_whitespace()
        .skip_while(|w| *w != "zoe@example.org")
        .nth(1);
    assert_eq!(
        photos_kept,
        Some("4"),
        "the two photos, fotos\\zoe.jpg and zoe-2.jpg: {list}"
    );
}

/// `rollcall import` of the folder `class` in `dir`, emails at `domain`.
fn import_class(dir: &Path, domain: &str) -> Output {
    let class = dir.join("class");
    rollcall(
        dir,
        &["import", class.to_str().unwrap(), "--email-domain", domain],
    )
}

/// At a terminal, `rollcall import` asks before using photos found by file name elsewhere
/// than the list says, as the admin screen does (run under `script`, which gives it one).
#[test]
fn at_a_terminal_an_import_asks_before_using_photos_not_where_the_list_says() {
    let dir = tempfile::tempdir().unwrap();
    let class = dir.path().join("class");
    std::fs::create_dir_all(class.join("photos")).unwrap();
    std::fs::copy(
        &photos("webcam-dev", "0004")[0],
        class.join("photos/ana.jpg"),
    )
    .unwrap();
    let csv = class.join("class.csv");
    std::fs::write(&csv, "R1,Ana,ana@example.org,ana.jpg\n").unwrap();
    let command = format!(
        "'{}' --data-dir '{}' import '{}'",
        env!("CARGO_BIN_EXE_rollcall"),
        dir.path().display(),
        csv.display()
    );
    // Without the photo found by name, Ana has none left: refused, saying why.
    let left_out = "Not enrolled: line 1 (R1): No images found. ana.jpg: not where the list \
                    says; the photo of that name in photos/ was left out, as chosen";
    for (answer, said, code) in [
        ("n", "Nothing imported.", 1),
        ("w", left_out, 1),
        ("y", "Enrolled 1 of 1 student.", 0),
    ] {
        let mut at_a_terminal = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = at_a_terminal.stdin.take().unwrap();
        std::io::Write::write_all(&mut input, format!("{answer}\n").as_bytes()).unwrap();
        drop(input);
        let out = at_a_terminal.wait_with_output().unwrap();
        let text = stdout(&out);
        assert!(
            text.contains("1 photo not where the list says is in photos/: line 1 (R1) ana.jpg.")
                && text.contains("or nothing (n)? [y/w/N]")
                && text.contains(said),
            "{text}"
        );
        assert_eq!(out.status.code(), Some(code), "{text}");
        let list = stdout(&rollcall(dir.path(), &["students"]));
        assert_eq!(list.contains("ana@example.org"), answer == "y", "{list}");
    }
}

#[test]
fn a_student_folder_of_more_than_ten_photos_imports_with_ten() {
    // Fifteen photos in name order, of which ten are chosen spread across them (the 1st,
    // 2nd, 4th, 5th, 7th, …); the 1st has no face, the 4th is cut off and the 7th shows
    // someone else. Those left out stand in for them: until 2026-12-05 the student was
    // enrolled from seven, until 2026-12-06 from nine.
    let dir = tempfile::tempdir().unwrap();
    let student = dir.path().join("class").join("R8_Many Photos");
    std::fs::create_dir_all(&student).unwrap();
    let real = photos("webcam-dev", "0006");
    let someone_else = &photos("webcam-dev", "0004")[10];
    for (i, p) in real.iter().step_by(5).take(15).enumerate() {
        let to = student.join(format!("a{i:02}.jpg"));
        match i {
            0 => std::fs::write(to, common::faceless_jpeg()).unwrap(),
            6 => drop(std::fs::copy(someone_else, to).unwrap()),
            3 => {
                let bytes = std::fs::read(p).unwrap();
                std::fs::write(to, &bytes[..bytes.len() / 2]).unwrap()
            }
            _ => drop(std::fs::copy(p, to).unwrap()),
        }
    }
    let out = import_class(dir.path(), "s.example");
    let said = stdout(&out);
    assert!(said.starts_with("Enrolled 1 of 1 student."), "{said}");
    assert!(
        said.contains("a00.jpg"),
        "the photo with no face is named: {said}"
    );
    assert!(said.contains("a03.jpg: The photo is damaged"), "{said}");
    assert!(
        said.contains("a06.jpg: it seems to show someone else than the other photos"),
        "{said}"
    );
    assert!(said.contains("2 of its 15 photos"), "{said}");
    let list = stdout(&rollcall(dir.path(), &["students"]));
    let photos_kept = list
        .split_whitespace()
        .skip_while(|w| *w != "R8@s.example")
        .nth(1);
    assert_eq!(photos_kept, Some("10"), "{list}");
}

#[test]
fn a_folder_of_iphone_photos_imports_and_marks() {
    // An iPhone names its photos IMG_….HEIC; until 2026-12-05 such a folder said "No
    // images found".
    let dir = tempfile::tempdir().unwrap();
    let all = photos("webcam-dev", "0005");
    let student = dir.path().join("class").join("R7_Ines Duarte");
    std::fs::create_dir_all(&student).unwrap();
    for (i, p) in all.iter().step_by(8).take(3).enumerate() {
        let file = student.join(format!("IMG_000{i}.HEIC"));
        std::fs::write(file, common::bad_files::converted(p, "heic")).unwrap();
    }
    let out = import_class(dir.path(), "school.example");
    let said = stdout(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.starts_with("Enrolled 1 of 1 student."), "{said}");
    let probe = dir.path().join("at-the-door.avif");
    std::fs::write(&probe, common::bad_files::converted(&all[30], "avif")).unwrap();
    let marked = rollcall(dir.path(), &["mark", probe.to_str().unwrap()]);
    assert_eq!(stdout(&marked), "Attendance marked successfully");
    assert!(String::from_utf8_lossy(&marked.stderr).contains("Ines Duarte"));
}

/// `rollcall mark` of a real photo with the face models taken from `models`: it must stop
/// with exit code 2; returns what it printed on stderr.
fn mark_with_models(data: &Path, models: &Path) -> String {
    let photo = photos("lfw-dev", &people_with_at_least("lfw-dev", 8)[1])[0]
        .display()
        .to_string();
    let out = rollcall_with_env(data, &[("ROLLCALL_MODELS_DIR", models)], &["mark", &photo]);
    assert_eq!(out.status.code(), Some(2));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_missing_model_names_the_setup_command() {
    let dir = tempfile::tempdir().unwrap();
    let err = mark_with_models(dir.path(), &dir.path().join("no-models"));
    assert!(
        err.contains("is missing") && err.contains("scripts/setup"),
        "{err}"
    );
}

/// A FaceNet file cut short (a download that stopped half-way) is named as damaged, and
/// the admin reads only that: nothing from the model loader's own parser first.
#[test]
fn a_truncated_model_is_reported_alone_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let real = rollcall::vision::models_dir().join(rollcall::vision::FACENET_FILE);
    let bytes = std::fs::read(real).unwrap();
    let models = models_with_facenet(dir.path(), Some(&bytes[..bytes.len() / 2]));
    let err = mark_with_models(dir.path(), &models);
    assert!(
        err.contains("graph_final.pb is damaged") && err.contains("scripts/setup"),
        "{err}"
    );
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "only Rollcall's message: {err}");
}

#[test]
fn a_server_that_cannot_listen_says_why_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let out = rollcall(dir.path(), &["serve", "--listen", &listen]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!(
            "cannot listen on {listen}: another program already listens there"
        )),
        "{said}"
    );
    assert!(!said.contains("os error"), "{said}");

    // A port alone, as people often type it.
    let out = rollcall(dir.path(), &["serve", "--listen", "5000"]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cannot listen on 5000: give an address and port such as 0.0.0.0:5000"),
        "{said}"
    );
}

/// A folder of the first `frames` frames of webcam-dev's person 0006, in `dir`.
fn recording_of_0006(dir: &Path, frames: usize) -> PathBuf {
    let folder = dir.join("frames");
    std::fs::create_dir(&folder).unwrap();
    for (i, p) in photos("webcam-dev", "0006").iter().take(frames).enumerate() {
        std::fs::copy(p, folder.join(format!("{i}.jpg"))).unwrap();
    }
    folder
}

/// `rollcall` started on a data folder, its output piped to the test.
fn start_rollcall(data: &Path, args: &[&str], stderr: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// A door without a window says when its camera's picture stays black (and when it is
/// back), as the kiosk's window does.
#[test]
fn a_door_says_when_its_picture_stays_black() {
    let dir = tempfile::tempdir().unwrap();
    let shut = common::black_frames(dir.path().join("shut"), 50);
    let (dark, events) = camera_events(dir.path(), &shut, "10", r#""dark":true"#);
    assert_eq!(dark, [false, true], "{events:?}");
    let (recording, _) = camera_events(dir.path(), &shut, "10", r#""recording":true"#);
    assert_eq!(
        recording,
        [true, true],
        "a recording, not a camera: {events:?}"
    );
}

/// A door without a window says when its camera stops sending pictures, and when they
/// come again (played by a recording of two pictures ten seconds apart).
#[test]
fn a_door_says_when_its_camera_stops_sending_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let frames = recording_of_0006(dir.path(), 2);
    let (stuck, events) = camera_events(dir.path(), &frames, "0.1", r#""stuck":true"#);
    assert_eq!(stuck, [false, true, false], "{events:?}");
}

/// A door on a fresh data folder in `dir` playing `source` at `fps` to its end: whether
/// each of its `camera` events says `said`, and all its events.
fn camera_events(dir: &Path, source: &Path, fps: &str, said: &str) -> (Vec<bool>, Vec<String>) {
    let source = source.to_str().unwrap();
    let mut door = start_rollcall(
        &dir.join("data"),
        &["--source", source, "--fps", fps, "door"],
        Stdio::null(),
    );
    let events = door_events_to_the_end(&mut door);
    door.kill().unwrap();
    door.wait().unwrap();
    let camera = events
        .iter()
        .filter(|l| l.contains(r#""event":"camera""#))
        .map(|l| l.contains(said))
        .collect();
    (camera, events)
}

/// A door's JSON lines up to its recording's end, or the first sign of looking for a
/// camera instead (`no_picture`).
fn door_events_to_the_end(door: &mut Child) -> Vec<String> {
    let mut events = Vec::new();
    for line in BufReader::new(door.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        let last = line.contains(r#""event":"ended""#) || line.contains("no_picture");
        events.push(line);
        if last {
            break;
        }
    }
    events
}

/// `rollcall door --try-out` on a recording of an enrolled student names her and marks
/// nobody: a school checks Rollcall on a recording of its own door without touching the
/// register.
#[test]
fn a_door_tried_out_on_a_recording_names_the_student_and_marks_nobody() {
    use rollcall::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = enrol_grace(&photos("webcam-dev", "0006"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = rollcall(&data, &args);
    assert!(out.status.success(), "{out:?}");
    let frames = recording_of_0006(dir.path(), 20);
    let frames = frames.to_str().unwrap();
    let mut door = start_rollcall(
        &data,
        &["door", "--try-out", "--source", frames, "--fps", "10"],
        Stdio::null(),
    );
    let events = door_events_to_the_end(&mut door);
    door.kill().unwrap();
    door.wait().unwrap();
    let verdicts: Vec<&String> = events
        .iter()
        .filter(|l| l.contains(r#""event":"verdict""#))
        .collect();
    assert!(
        verdicts.iter().any(|v| v.contains(r#""kind":"TryOut""#)
            && v.contains(r#""name":"Grace Hopper""#)
            && v.contains("a try-out, so not marked")),
        "{events:?}"
    );
    assert!(
        !verdicts.iter().any(|v| v.contains("Welcome")),
        "{verdicts:?}"
    );
    assert!(
        events
            .iter()
            .any(|l| l.contains(r#""event":"camera""#) && l.contains(r#""try_out":true"#)),
        "{events:?}"
    );
    let store = Store::open(&data.join("rollcall.db")).unwrap();
    assert_eq!(common::marks_made(&store), 0, "nobody marked");
    // Without --try-out, the same recording marks her.
    let mut door = start_rollcall(
        &data,
        &["door", "--source", frames, "--fps", "10"],
        Stdio::null(),
    );
    let events = door_events_to_the_end(&mut door);
    door.kill().unwrap();
    door.wait().unwrap();
    assert!(
        events
            .iter()
            .any(|l| l.contains(r#""kind":"Welcome""#) && l.contains("Grace Hopper")),
        "{events:?}"
    );
    assert_eq!(common::marks_made(&store), 1);
}

#[test]
fn the_kiosk_options_reach_a_door_and_are_refused_where_nothing_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let frames = recording_of_0006(dir.path(), 3);
    let frames = frames.to_str().unwrap();
    let data = dir.path().join("data");
    // Given before the command, as for the kiosk window: the door plays the recording
    // (it used to ignore it and look for a camera). A door runs until it is stopped.
    let mut door = start_rollcall(
        &data,
        &["--source", frames, "--fps", "15", "door"],
        Stdio::null(),
    );
    let events = door_events_to_the_end(&mut door);
    let ended = door.try_wait().unwrap().is_none();
    door.kill().unwrap();
    door.wait().unwrap();
    assert!(
        ended,
        "the door stopped before its recording ended: {events:?}"
    );
    assert!(
        events
            .last()
            .is_some_and(|e| e.contains(r#""event":"ended""#)),
        "{events:?}"
    );
    // A command that watches no camera says so instead of ignoring them.
    let serve = rollcall(&data, &["--source", frames, "serve"]);
    assert_eq!(serve.status.code(), Some(2));
    let said = String::from_utf8_lossy(&serve.stderr);
    assert!(
        said.contains("--source is an option of the kiosk") && said.contains("leave it out"),
        "{said}"
    );
    let students = rollcall(&data, &["--fullscreen", "--loop", "students"]);
    let said = String::from_utf8_lossy(&students.stderr);
    assert!(
        said.contains("--loop and --fullscreen are options"),
        "{said}"
    );
    let students = rollcall(&data, &["--try-out", "students"]);
    let said = String::from_utf8_lossy(&students.stderr);
    assert!(said.contains("--try-out is an option"), "{said}");
}

#[test]
fn a_reader_that_stops_early_is_no_crash() {
    let dir = tempfile::tempdir().unwrap();
    let frames = recording_of_0006(dir.path(), 1);
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for args in [
        vec!["students"],
        vec!["door", "--loop", "--source", frames.to_str().unwrap()],
    ] {
        // `rollcall students | head -0`: the reading end is closed before anything is
        // written.
        let mut child = start_rollcall(&dir.path().join("data"), &args, Stdio::piped());
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {said}");
        assert!(!said.contains("panicked"), "{args:?}: {said}");
    }
}

#[test]
fn a_photo_of_someone_else_is_left_out_of_an_enrolment() {
    let dir = tempfile::tempdir().unwrap();
    let four = photos("webcam-dev", "0004");
    let one = photos("webcam-dev", "0001");
    let stranger = one[0].display().to_string();
    let mut args = vec![
        "enroll",
        "--roll-no",
        "R0004",
        "--name",
        "Student Four",
        "--email",
        "four@example.org",
    ];
    let own: Vec<String> = four[..9]
        .iter()
        .step_by(3)
        .map(|p| p.display().to_string())
        .collect();
    args.extend(own.iter().map(String::as_str));
    args.push(&stranger);
    let out = rollcall(dir.path(), &args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "Not used: {}: it seems to show someone else than the other photos",
            one[0].file_name().unwrap().to_string_lossy()
        )),
        "{said}"
    );
    let list = stdout(&rollcall(dir.path(), &["students"]));
    let line = list.lines().find(|l| l.contains("R0004")).unwrap();
    assert!(
        line.split_whitespace().any(|w| w == "3"),
        "three photos: {list}"
    );

    // One photo each of two people: which is the student cannot be told.
    let out = rollcall(
        dir.path(),
        &[
            "enroll",
            "--roll-no",
            "R0005",
            "--name",
            "Student Five",
            "--email",
            "five@example.org",
            &own[0],
            &stranger,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "Invalid data");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("Because the photos seem to show different people"),
        "{said}"
    );
    assert!(!stdout(&rollcall(dir.path(), &["students"])).contains("R0005"));
}

/// The arguments of a desktop entry's `Exec` line, read as the desktop entry specification
/// says a desktop reads them.
fn exec_arguments(line: &str) -> Vec<String> {
    let line = line.replace("\\\\", "\\").replace("%%", "%");
    let (mut args, mut arg, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars());
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => {
                args.push(std::mem::take(&mut arg));
                quoted = false;
            }
            '"' => quoted = true,
            '\\' if quoted => arg.extend(chars.next()),
            ' ' if !quoted => {}
            c => arg.push(c),
        }
    }
    args
}

#[test]
fn the_kiosk_is_set_to_start_full_screen_at_login_and_no_longer() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let data = dir.path().join("Lab 4 data");
    let env = [("XDG_CONFIG_HOME", config.as_path())];
    let said = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();

    let out = rollcall_with_env(&data, &env, &["autostart"]);
    assert!(said(&out).starts_with("Rollcall does not start by itself."));
    // A folder that is not there is refused, as by the commands that read one.
    let out = rollcall_with_env(&data, &env, &["autostart", "on"]);
    assert_eq!(out.status.code(), Some(2));
    let entry = config.join("autostart/rollcall.desktop");
    assert!(!entry.exists());

    std::fs::create_dir(&data).unwrap();
    let camera = "USB \"Cam\" 100% $HOME";
    let out = rollcall_with_env(&data, &env, &["--camera", camera, "autostart", "on"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said(&out).contains("when this account logs in"),
        "{}",
        said(&out)
    );
    let text = std::fs::read_to_string(&entry).unwrap();
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .expect("an Exec line");
    assert_eq!(
        exec_arguments(exec),
        [
            env!("CARGO_BIN_EXE_rollcall"),
            "--fullscreen",
            "--data-dir",
            &data.display().to_string(),
            "--camera",
            camera,
        ],
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&entry).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "a school server's address may hold its password"
    );
    let out = rollcall_with_env(&data, &env, &["autostart"]);
    assert!(said(&out).starts_with("Rollcall starts full screen when this account logs in"));

    let out = rollcall_with_env(&data, &env, &["autostart", "off"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!entry.exists());
    // Off again is no error.
    let out = rollcall_with_env(&data, &env, &["autostart", "off"]);
    assert_eq!(out.status.code(), Some(0));
}
