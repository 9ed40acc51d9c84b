//! Exports read back and compared with the database; email reports through a real SMTP
//! server on 127.0.0.1 run by this test.

use crate::common;

use chrono::NaiveDate;
use common::rollcall;
use common::smtp::{mail_settings, smtp_server};
use rollcall::settings::{EmailSettings, MailSecurity};
use rollcall::store::Store;
use std::net::TcpListener;
use std::path::Path;

fn class(dir: &Path) -> Store {
    common::class_of_four(&dir.join("rollcall.db"))
}

const FROM: &str = "2026-03-01";
const TO: &str = "2026-03-31";

/// `rollcall export` of March in `format` to `file`; it must succeed.
fn export(dir: &Path, format: &str, file: &Path) {
    let out = rollcall(
        dir,
        &[
            "export",
            "--from",
            FROM,
            "--to",
            TO,
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_excel_export_matches_the_database() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let store = class(dir.path());
    let file = dir.path().join("attendance.xlsx");
    export(dir.path(), "xlsx", &file);

    let mut book: Xlsx<_> = open_workbook(&file).unwrap();
    let sheet = book.worksheet_range("Attendance").unwrap();
    let cell = |r: usize, c: usize| match sheet.get((r, c)) {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(f)) => format!("{f}"),
        Some(Data::Int(i)) => format!("{i}"),
        _ => String::new(),
    };
    assert_eq!(cell(0, 0), "ID\\Date");
    let days: Vec<String> = (2..7).map(|c| cell(0, c)).collect();
    assert_eq!(
        days,
        [
            "2026-03-02",
            "2026-03-03",
            "2026-03-04",
            "2026-03-05",
            "2026-03-06"
        ]
    );
    let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    let marks = store.attendance(from, to).unwrap();
    for (r, s) in store.students().unwrap().iter().enumerate() {
        let r = r + 1;
        assert_eq!(cell(r, 0), s.roll_no);
        for (c, day) in days.iter().enumerate() {
            let present = marks.iter().any(|m| m.student_id == s.id && &m.day == day);
            assert_eq!(
                cell(r, 2 + c),
                if present { "P" } else { "A" },
                "{} on {day}",
                s.roll_no
            );
        }
        let n = marks.iter().filter(|m| m.student_id == s.id).count();
        assert_eq!(cell(r, 7), n.to_string());
        assert_eq!(cell(r, 8), (5 - n).to_string());
        assert_eq!(cell(r, 9), format!("{}", 100.0 * n as f64 / 5.0));
    }
    // The per-day count line, and one line per mark on the second sheet.
    assert_eq!(cell(5, 0), "Present");
    assert_eq!(
        (2..7).map(|c| cell(5, c)).collect::<Vec<_>>(),
        ["3", "3", "2", "2", "1"]
    );
    let marks_sheet = book.worksheet_range("Marks").unwrap();
    assert_eq!(marks_sheet.height(), 1 + marks.len());
    // How each was made, in words: every mark here is the kiosk's.
    assert_eq!(
        marks_sheet.get((0, 5)),
        Some(&Data::String("Source".into()))
    );
    assert!((1..=marks.len())
        .all(|r| marks_sheet.get((r, 5)) == Some(&Data::String("kiosk camera".into()))));
    // Last, a note on why a student's days show "-": none here.
    assert_eq!(cell(0, 10), "Note");
    assert!((1..5).all(|r| cell(r, 10).is_empty()));

    // Student D left after the 3rd: the days after show "-", and the note says why.
    let out = rollcall(
        dir.path(),
        &["left", "D", "--last-day", "2026-03-03", "--yes"],
    );
    assert!(out.status.success(), "{out:?}");
    export(dir.path(), "xlsx", &file);
    let mut book: Xlsx<_> = open_workbook(&file).unwrap();
    let sheet = book.worksheet_range("Attendance").unwrap();
    let cell = |r: usize, c: usize| match sheet.get((r, c)) {
        Some(Data::String(s)) => s.clone(),
        _ => String::new(),
    };
    assert_eq!(cell(4, 0), "D");
    assert_eq!(
        (2..7).map(|c| cell(4, c)).collect::<Vec<_>>(),
        ["A", "A", "-", "-", "-"]
    );
    assert_eq!(cell(4, 10), "left the school, last day 3 March 2026");
}

#[test]
fn the_csv_export_matches_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = class(dir.path());
    // A name with an accent, and one a spreadsheet would run as a formula.
    let names = ["Zoë Åström", "=HYPERLINK(\"http://example.org\",\"Open\")"];
    let db = rusqlite::Connection::open(dir.path().join("rollcall.db")).unwrap();
    for (roll, name) in ["A", "D"].iter().zip(names) {
        db.execute(
            "UPDATE students SET name = ?1 WHERE roll_no = ?2",
            (name, roll),
        )
        .unwrap();
    }
    let file = dir.path().join("attendance.csv");
    export(dir.path(), "csv", &file);
    // UTF-8 with a byte-order mark, so Excel shows "Zoë" rather than "ZoÃ«".
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFID\\Date,Name,"));
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header.len(), 2 + 5 + 4);
    assert_eq!(header[7..], ["Present", "Absent", "%", "Note"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let students = store.students().unwrap();
    assert_eq!(rows.len(), students.len());
    let expected = [
        ("A", "5", "100.0"),
        ("B", "4", "80.0"),
        ("C", "2", "40.0"),
        ("D", "0", "0.0"),
    ];
    assert_eq!(&rows[0][1], "Zoë Åström");
    assert_eq!(
        &rows[3][1], "'=HYPERLINK(\"http://example.org\",\"Open\")",
        "kept as text, not run as a formula"
    );
    for (row, (roll, present, pct)) in rows.iter().zip(expected) {
        assert_eq!(&row[0], roll);
        assert_eq!(&row[7], present);
        assert_eq!(&row[9], pct);
        assert_eq!(
            row.iter()
                .skip(2)
                .take(5)
                .filter(|c| *c == "P")
                .count()
                .to_string(),
            present
        );
    }
}

#[test]
fn students_under_the_threshold_get_their_own_percentage() {
    let dir = tempfile::tempdir().unwrap();
    let store = class(dir.path());
    let (port, received) = smtp_server();
    mail_settings(dir.path(), port);
    let out = rollcall(
        dir.path(),
        &[
            "report", "email", "--under", "85", "--from", FROM, "--to", TO,
        ],
    );
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = received.lock().unwrap().clone();
    let mut to: Vec<String> = got.iter().flat_map(|(r, _)| r.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        ["b@example.org", "c@example.org", "d@example.org"],
        "A (100 %) gets nothing"
    );
    for (rcpt, text) in &got {
        let expected = match rcpt[0].as_str() {
            "b@example.org" => "present on 4 of 5 class days: 80 % attendance",
            "c@example.org" => "present on 2 of 5 class days: 40 % attendance",
            _ => "present on 0 of 5 class days: 0 % attendance",
        };
        assert!(text.contains(expected), "{rcpt:?}: {text}");
        assert!(text.contains("below the required 85 %"), "{text}");
    }
    assert_eq!(
        store.email_log(10).unwrap().len(),
        3,
        "every message is logged"
    );
}

/// The rows of a CSV export of March, by roll number: the five days' cells, then present,
/// absent and percentage.
fn march_csv(dir: &Path) -> Vec<Vec<String>> {
    let file = dir.join("attendance.csv");
    export(dir, "csv", &file);
    csv::Reader::from_path(&file)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().skip(2).map(String::from).collect())
        .collect()
}

/// A roll number typed wrong is corrected from the command line: the student's days stay
/// theirs, under the new number.
#[test]
fn a_roll_number_typed_wrong_is_corrected_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let edit = |args: &[&str]| {
        let mut all = vec!["edit"];
        all.extend_from_slice(args);
        let out = rollcall(dir.path(), &all);
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), said)
    };
    let rows = || {
        let file = dir.path().join("attendance.csv");
        export(dir.path(), "csv", &file);
        csv::Reader::from_path(&file)
            .unwrap()
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let before = rows();
    assert_eq!(before[1][..2], ["B", "Student B"]);
    let refused = [
        (
            &["B"][..],
            "Nothing to change: give --roll-no, --name or --email.",
        ),
        (
            &["B", "--roll-no", "c"],
            "Roll number C is already Student C's. Nothing was changed. To swap the two \
             students' roll numbers, add --swap.",
        ),
        (
            &["B", "--roll-no", "B9", "--swap"],
            "No other student has that roll number or email address: there is no one to swap \
             with. Nothing was changed.",
        ),
        (
            &["B", "--roll-no", " "],
            "The changes cannot be saved: the roll number is missing. Nothing was changed.",
        ),
        (
            &["Z", "--roll-no", "Z1"],
            "No student has the roll number Z. Nothing was changed.",
        ),
    ];
    for (args, words) in refused {
        let (done, said) = edit(args);
        assert!(!done && said.contains(words), "{args:?}: {said}");
    }
    assert_eq!(rows(), before);
    let (done, said) = edit(&["b", "--roll-no", "B7", "--name", "Student Bea"]);
    assert!(
        done && said.contains("Saved the changes to Student Bea: roll number B7 (was B)."),
        "{said}"
    );
    let after = rows();
    let b7 = after.iter().find(|r| r[0] == "B7").expect("B7 exported");
    assert_eq!(b7[1], "Student Bea");
    assert_eq!(b7[2..], before[1][2..], "B's days stay theirs");
    assert!(after.iter().all(|r| r[0] != "B"));
    // Two numbers typed the wrong way round, swapped in one step.
    let (done, said) = edit(&["B7", "--roll-no", "c", "--swap"]);
    assert!(
        done && said.contains(
            "Swapped the roll numbers: Student Bea is now C (was B7), Student C is now B7."
        ),
        "{said}"
    );
    let swapped = rows();
    let days_of = |rows: &[Vec<String>], roll_no: &str| {
        let row = rows.iter().find(|r| r[0] == roll_no).unwrap();
        (row[1].clone(), row[2..].to_vec())
    };
    assert_eq!(
        days_of(&swapped, "C"),
        ("Student Bea".into(), b7[2..].to_vec())
    );
    assert_eq!(
        days_of(&swapped, "B7"),
        ("Student C".into(), days_of(&after, "C").1)
    );
    // Their email addresses, left as they were, are swapped too.
    let (done, said) = edit(&["C", "--email", "c@example.org"]);
    assert!(
        !done
            && said.contains(
                "That email address is already used by another student. Nothing was changed. \
                 To swap the two students' email addresses, add --swap."
            ),
        "{said}"
    );
    let (done, said) = edit(&["C", "--email", "c@example.org", "--swap"]);
    assert!(
        done && said.contains(
            "Swapped the email addresses: Student Bea's is now c@example.org (was \
             b@example.org), Student C's is now b@example.org."
        ),
        "{said}"
    );
}

/// Student D moved away after Tuesday 3 March: recorded from the command line, their days
/// after it count for nobody, and they are mailed no report.
#[test]
fn a_student_who_left_counts_up_to_their_last_day_and_is_mailed_nothing() {
    let dir = tempfile::tempdir().unwrap();
    drop(class(dir.path()));
    let left = |args: &[&str]| {
        let mut all = vec!["left"];
        all.extend_from_slice(args);
        let out = rollcall(dir.path(), &all);
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), said)
    };
    // A day Rollcall would refuse is said at once, not only once run again with --yes.
    let (done, said) = left(&["D", "--last-day", "2026-02-27"]);
    assert!(
        !done && said.contains("The last day cannot be before Student D was enrolled"),
        "{said}"
    );
    let (done, said) = left(&["D", "--last-day", "2026-03-03"]);
    assert!(
        !done && said.contains("Nothing was changed: run it again with --yes"),
        "{said}"
    );
    assert_eq!(march_csv(dir.path())[3][..5], ["A", "A", "A", "A", "A"]);
    let (done, said) = left(&["D", "--last-day", "2026-03-03", "--yes"]);
    assert!(done, "{said}");
    assert!(
        said.contains("their last day in class was 3 March 2026"),
        "{said}"
    );
    for again in [&["D"][..], &["D", "--yes"]] {
        let (done, said) = left(again);
        assert!(
            !done && said.contains("left the school already (last day 3 March 2026)"),
            "{said}"
        );
    }
    let (done, said) = left(&["Z", "--yes"]);
    assert!(
        !done && said.contains("No student has the roll number Z"),
        "{said}"
    );

    let listed = String::from_utf8_lossy(&rollcall(dir.path(), &["students"]).stdout).into_owned();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("D ") && l.contains("left, last day")),
        "{listed}"
    );
    let d = &march_csv(dir.path())[3];
    assert_eq!(d[..5], ["A", "A", "-", "-", "-"]);
    // The days after the last one are "-", and the row says why.
    assert_eq!(
        d[5..],
        ["0", "2", "0.0", "left the school, last day 3 March 2026"]
    );

    let (port, received) = smtp_server();
    mail_settings(dir.path(), port);
    let out = rollcall(
        dir.path(),
        &[
            "report",
            "email",
            "--preview",
            "--under",
            "85",
            "--from",
            FROM,
            "--to",
            TO,
        ],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("2 messages would be sent.\nNo message for 1 student who left the school."),
        "{said}"
    );
    let out = rollcall(
        dir.path(),
        &[
            "report", "email", "--under", "85", "--from", FROM, "--to", TO,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let mut to: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(r, _)| r.clone())
        .collect();
    to.sort();
    assert_eq!(to, ["b@example.org", "c@example.org"]);

    // Back in the class: from today unless told otherwise, the days away counting for
    // nobody; not on or before their last day.
    let (done, said) = left(&["D", "--back"]);
    let today = chrono::Local::now().date_naive();
    let long = |d: chrono::NaiveDate| d.format("%-d %B %Y").to_string();
    let away = format!(
        "is in the class again from {}: the days away (4 March 2026 to {}) do not count for them.",
        long(today),
        long(today.pred_opt().unwrap())
    );
    assert!(!done && said.contains(&away), "{said}");
    let (done, said) = left(&["D", "--back", "--first-day-back", "2026-03-03", "--yes"]);
    assert!(
        !done && said.contains("The first day back must be after Student D's last day in class"),
        "{said}"
    );
    assert_eq!(march_csv(dir.path())[3][5..8], ["0", "2", "0.0"]);
    // Recorded by mistake: back the day after their last day, every day counts again.
    let (done, said) = left(&["D", "--back", "--first-day-back", "2026-03-04", "--yes"]);
    assert!(
        done && said
            .contains("every day after their last day (3 March 2026) counts for them again"),
        "{said}"
    );
    assert_eq!(march_csv(dir.path())[3][5..], ["0", "5", "0.0", ""]);
    // Left again and back on the 5th: the 4th is "-", and the row says why.
    assert!(left(&["D", "--last-day", "2026-03-03", "--yes"]).0);
    assert!(left(&["D", "--back", "--first-day-back", "2026-03-05", "--yes"]).0);
    let d = &march_csv(dir.path())[3];
    assert_eq!(d[..5], ["A", "A", "-", "A", "A"]);
    assert_eq!(d[5..], ["0", "4", "0.0", "away 1 class day"]);

    // Leaving on a day ahead: said, recorded, and the face kept until it is over.
    let ahead = (today + chrono::Days::new(4)).to_string();
    let (done, said) = left(&["D", "--last-day", &ahead]);
    assert!(
        !done
            && said.contains("leaves the school")
            && said.contains("erased after it (the kiosk marks them until then)"),
        "{said}"
    );
    let (done, said) = left(&["D", "--last-day", &ahead, "--yes"]);
    assert!(
        done && said.contains(&format!(
            "Recorded for Student D (D): their last day in class is {}. The kiosk marks them \
             up to that day",
            long(today + chrono::Days::new(4))
        )),
        "{said}"
    );
    let listed = String::from_utf8_lossy(&rollcall(dir.path(), &["students"]).stdout).into_owned();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("D ") && l.contains("leaving, last day")),
        "{listed}"
    );
}

#[test]
fn the_email_preview_says_when_no_mail_server_is_set_up() {
    let dir = tempfile::tempdir().unwrap();
    class(dir.path());
    let out = rollcall(
        dir.path(),
        &["report", "email", "--preview", "--from", FROM, "--to", TO],
    );
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Student D <d@example.org>: 0 %")
            && said.contains("4 messages would be sent.\nEmail is not set up yet"),
        "{said}"
    );
}

/// By default the reports count up to yesterday, and say so when the range takes in today
/// (this month's, the default); `--with-today` counts today too.
#[test]
fn the_email_reports_count_today_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    // A came today; B, C and D have not (yet).
    let mut store = class(dir.path());
    let a = common::student_named(&store, "A").unwrap().id;
    store
        .mark(a, chrono::Local::now(), None, "kiosk", None)
        .unwrap();
    drop(store);
    let preview = |with_today: bool| {
        let mut args = vec!["report", "email", "--preview", "--under", "85"];
        args.extend(with_today.then_some("--with-today"));
        let out = rollcall(dir.path(), &args);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Before today, nobody was marked this month: nobody is told they were absent.
    let said = preview(false);
    assert!(said.starts_with("Today is not counted"), "{said}");
    assert!(!said.contains("would be sent"), "{said}");
    // Nor since April, and the preview says why (not that nobody is under 85 %).
    let since_april = rollcall(
        dir.path(),
        &[
            "report",
            "email",
            "--preview",
            "--under",
            "85",
            "--from",
            "2026-04-01",
        ],
    );
    let said = String::from_utf8_lossy(&since_april.stdout);
    assert!(
        said.trim_end()
            .ends_with("There was no class day in the days counted: there is no one to email."),
        "{said}"
    );
    // Today's classes over, the three who did not come are under 85 %.
    let said = preview(true);
    assert!(!said.contains("Today is not counted"), "{said}");
    assert!(
        said.contains("Student B <b@example.org>: 0 %")
            && said.contains("3 messages would be sent"),
        "{said}"
    );
}

/// Dates given the wrong way round are refused with what to do, not reported on as an
/// empty range (an export wrote "0 class days, 2026-03-31 to 2026-03-01" until 2026-12-06).
#[test]
fn a_range_given_backwards_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    class(dir.path());
    let sheet = dir.path().join("march.csv");
    let backwards = ["--from", TO, "--to", FROM];
    let export = [
        &["export", "--format", "csv", "-o", sheet.to_str().unwrap()],
        &backwards[..],
    ];
    let email = [&["report", "email", "--preview"][..], &backwards[..]];
    for args in [export.concat(), email.concat()] {
        let out = rollcall(dir.path(), &args);
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains(
                "The range starts after it ends (2026-03-31 to 2026-03-01): give --from the \
                 first day and --to the last."
            ),
            "{said}"
        );
    }
    assert!(!sheet.exists());
}

/// A student enrolled after the range's class days has nothing to be told ("present on 0
/// of 0 class days"): no message, and the preview says so.
#[test]
fn a_student_enrolled_after_the_range_gets_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = class(dir.path());
    let newcomer = rollcall::store::NewStudent {
        roll_no: "E".into(),
        name: "Student E".into(),
        email: "e@example.org".into(),
    };
    store.insert_student(&newcomer, &[], "test").unwrap();
    drop(store);
    let out = rollcall(
        dir.path(),
        &["report", "email", "--preview", "--from", FROM, "--to", TO],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(
            "4 messages would be sent.\nNo message for 1 student: no class day in \
                       this range since they were enrolled."
        ) && !said.contains("e@example.org"),
        "{said}"
    );
}

#[test]
fn every_student_can_be_emailed() {
    let dir = tempfile::tempdir().unwrap();
    class(dir.path());
    let (port, received) = smtp_server();
    mail_settings(dir.path(), port);
    let out = rollcall(dir.path(), &["report", "email", "--from", FROM, "--to", TO]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 4);
    let a = got.iter().find(|(r, _)| r[0] == "a@example.org").unwrap();
    assert!(
        a.1.contains("Dear Student A")
            && a.1.contains("100 % attendance")
            && !a.1.contains("below")
    );
}

#[test]
fn an_unreachable_mail_server_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    class(dir.path());
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    mail_settings(dir.path(), port);
    let out = rollcall(dir.path(), &["report", "email", "--from", FROM, "--to", TO]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "The mail server 127.0.0.1:{port} refused the connection: nothing takes mail on \
             that port. Check the port in Admin → Email settings (usually 587 with STARTTLS, \
             465 with TLS, 25 with None)."
        )),
        "{err}"
    );
    assert!(!err.contains("os error"), "{err}");
}

/// Settings for the mail server at `host`:`port` with `security`, no login, and a short wait.
fn mail_server_at(host: &str, port: u16, security: MailSecurity) -> EmailSettings {
    EmailSettings {
        host: host.into(),
        port,
        security,
        from: "Rollcall <attendance@school.example>".into(),
        timeout_secs: 2,
        ..Default::default()
    }
}

/// What Admin → Email settings says when its test message fails with `settings`.
fn test_message_error(settings: &EmailSettings) -> String {
    rollcall::reports::email::send_test(settings, "head@school.example", "Room 4")
        .unwrap_err()
        .to_string()
}

#[test]
fn a_wrong_security_setting_is_named_with_the_one_to_choose() {
    let (plain, received) = smtp_server();
    let server = format!("The mail server 127.0.0.1:{plain}");
    let err = test_message_error(&mail_server_at("127.0.0.1", plain, MailSecurity::Starttls));
    assert!(
        err.starts_with(&format!("{server} does not offer STARTTLS."))
            && err.contains("choose TLS if the school's IT gave a port for it")
            && err.contains("or None if the server takes mail without encryption"),
        "{err}"
    );
    let err = test_message_error(&mail_server_at("127.0.0.1", plain, MailSecurity::Tls));
    assert!(
        err.starts_with(&format!(
            "{server} does not use TLS on this port: it answered without encryption."
        )) && err.contains("choose STARTTLS (often port 587) or None"),
        "{err}"
    );
    assert!(received.lock().unwrap().is_empty());

    // A server that waits for TLS, spoken to in plain text, says nothing.
    let waits_for_tls = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = waits_for_tls.local_addr().unwrap().port();
    let err = test_message_error(&mail_server_at("127.0.0.1", port, MailSecurity::None));
    assert!(
        err.starts_with(&format!(
            "The mail server 127.0.0.1:{port} took the connection but said nothing within 2 \
             seconds. A server that waits for TLS (often on port 465) does that"
        )) && err.contains("choose TLS under Security"),
        "{err}"
    );
    let err = test_message_error(&mail_server_at("127.0.0.1", port, MailSecurity::Tls));
    assert!(!err.contains("choose TLS"), "already TLS: {err}");
}

#[test]
fn a_test_message_the_server_refuses_says_to_check_its_address() {
    let (port, received) = common::smtp::smtp_server_refusing(
        true,
        &[(
            "head@school.example",
            "550 5.1.1 <head@school.example>: User unknown",
        )],
    );
    let err = test_message_error(&mail_server_at("127.0.0.1", port, MailSecurity::None));
    assert_eq!(
        err,
        "The test message was not sent: the mail server does not take mail for this address \
         (\"550 5.1.1 <head@school.example>: User unknown\"): check the address the test was \
         sent to."
    );
    assert!(received.lock().unwrap().is_empty());
}

#[test]
fn a_mail_server_this_computer_cannot_find_is_told_as_such() {
    let err = test_message_error(&mail_server_at(
        "mail.no-such-school.invalid",
        587,
        MailSecurity::Starttls,
    ));
    assert!(
        err.starts_with(
            "The mail server \"mail.no-such-school.invalid\" could not be found. Check its \
             name in Admin → Email settings"
        ),
        "{err}"
    );
}

#[test]
fn a_mail_server_with_the_schools_own_certificate_is_trusted_with_the_schools_authority() {
    let dir = tempfile::tempdir().unwrap();
    let (port, received, authority) = common::smtp::tls_smtp_server(dir.path());
    let mut settings = mail_server_at("127.0.0.1", port, MailSecurity::Tls);
    assert_eq!(
        test_message_error(&settings),
        format!(
            "This computer does not trust the mail server 127.0.0.1:{port}: its certificate \
             is not signed by an authority this computer knows (it may be self-signed). If \
             the school signs its mail server's certificate itself, ask its IT for their \
             certificate authority's file (PEM) and choose it under CA certificate in \
             Admin → Email settings."
        )
    );
    assert!(received.lock().unwrap().is_empty());

    settings.ca_file = authority.display().to_string();
    rollcall::reports::email::send_test(&settings, "head@school.example", "Room 4").unwrap();
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "the test message went, encrypted");
    assert_eq!(got[0].0, vec!["head@school.example".to_string()]);

    // Another authority (another school's, or an old one) is named as not the signer.
    let other = tempfile::tempdir().unwrap();
    let other_authority = common::certificates::school_certificates(other.path(), "k.key", "k.crt");
    settings.ca_file = other_authority.display().to_string();
    let err = test_message_error(&settings);
    assert_eq!(
        err,
        format!(
            "This computer does not trust the mail server 127.0.0.1:{port}: its certificate \
             is signed neither by an authority this computer knows nor by the one in {}. Ask \
             the school's IT which certificate authority signed it, and choose that \
             authority's file under CA certificate in Admin → Email settings.",
            other_authority.display()
        )
    );

    // A file that is not an authority's, or not there, is told before anything is sent.
    let key = dir.path().join("mail.key");
    for (file, reason) in [
        (
            key.clone(),
            "it holds no certificate (a certificate authority's file has a line \
             \"-----BEGIN CERTIFICATE-----\")",
        ),
        (dir.path().join("gone.pem"), "there is no such file"),
        (dir.path().to_path_buf(), "it is a folder, not a file"),
    ] {
        settings.ca_file = file.display().to_string();
        assert_eq!(
            test_message_error(&settings),
            format!(
                "The certificate authority file {} (Admin → Email settings) cannot be used: \
                 {reason}. Ask the school's IT for their certificate authority's file (PEM), or \
                 empty the field if the mail server's certificate is from a public authority.",
                file.display()
            )
        );
    }
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[test]
fn a_report_the_mail_server_refuses_names_the_student_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    class(dir.path());
    let (port, received) = common::smtp::smtp_server_refusing(
        true,
        &[
            (
                "b@example.org",
                "550 5.1.1 <b@example.org>: Recipient address rejected: User unknown",
            ),
            ("c@example.org", "452 4.2.2 Mailbox full"),
            (
                "d@example.org",
                "554 5.7.1 <d@example.org>: Relay access denied",
            ),
        ],
    );
    mail_settings(dir.path(), port);
    let out = rollcall(dir.path(), &["report", "email", "--from", FROM, "--to", TO]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("Sent 1 of 4 messages."), "{said}");
    for line in [
        "Not sent to Student B (B) at b@example.org: the mail server does not take mail for \
         this address (\"550 5.1.1 <b@example.org>: Recipient address rejected: User \
         unknown\"): check the student's email in Admin → Students.",
        "Not sent to Student C (C) at c@example.org: the mail server could not take it just \
         now (\"452 4.2.2 Mailbox full\"): send it again later.",
        "Not sent to Student D (D) at d@example.org: the mail server would not send it on \
         (\"554 5.7.1 <d@example.org>: Relay access denied\"): it may need a user name and \
         password",
    ] {
        assert!(said.contains(line), "{line}\n--- in ---\n{said}");
    }
    let again = format!(
        "Once put right, send these again with: rollcall report email --from {FROM} --to {TO} \
         --only B --only C --only D"
    );
    assert!(said.contains(&again), "{said}");
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, ["a@example.org"]);
    // Sent again as told, to those only (C's mailbox is still full).
    let args: Vec<&str> = again
        .split_once(": rollcall ")
        .unwrap()
        .1
        .split(' ')
        .collect();
    let out = rollcall(dir.path(), &args);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Sent 0 of 3 messages."), "{said}");
    assert!(said.contains("--only B --only C --only D"), "{said}");
    assert_eq!(received.lock().unwrap().len(), 1, "A is not mailed twice");
    let out = rollcall(dir.path(), &["report", "email", "--only", "Z"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("No student has the roll number \"Z\"."),
        "{err}"
    );
    // The email log keeps the same reason.
    let log = Store::open(&dir.path().join("rollcall.db"))
        .unwrap()
        .email_log(10)
        .unwrap();
    let c = log.iter().find(|l| l.recipient == "c@example.org").unwrap();
    assert_eq!(c.status, "failed");
    assert!(c
        .error
        .as_deref()
        .unwrap_or("")
        .contains("send it again later"));
    // And the command line reads it: the last run's three, then the first run's four.
    let out = rollcall(dir.path(), &["report", "log", "--last", "7"]);
    let said = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 7, "{said}");
    let (when, rest) = lines[0].split_once("  ").unwrap();
    assert_eq!(when.len(), "2026-12-07 07:25".len(), "{said}");
    assert!(
        rest.starts_with(
            "Student D (D) <d@example.org>: not sent: the mail server would not send it on"
        ),
        "{said}"
    );
    assert!(
        said.contains("Student A (A) <a@example.org>: sent\n"),
        "{said}"
    );
    let out = rollcall(dir.path(), &["report", "log", "--not-sent", "--last", "7"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(said.lines().count(), 6, "{said}");
    assert!(!said.contains(": sent"), "{said}");
}

#[test]
fn a_wrong_mail_password_is_told_apart_from_an_unreachable_server() {
    let (port, received) = common::smtp::smtp_server_with(false);
    let settings = rollcall::settings::EmailSettings {
        host: "127.0.0.1".into(),
        port,
        security: rollcall::settings::MailSecurity::None,
        user: "attendance".into(),
        password: "wrong".into(),
        from: "Rollcall <attendance@school.example>".into(),
        ..Default::default()
    };
    let err = rollcall::reports::email::send_test(&settings, "head@school.example", "Room 4")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("did not accept the user name and password"),
        "{err}"
    );
    assert!(received.lock().unwrap().is_empty());
}
