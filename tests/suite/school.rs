//! Several doors, one school: real `rollcall door` and `rollcall serve` processes on one real
//! PostgreSQL server (started in a temporary folder), with the server stopped and killed in
//! the middle of a recorded morning, and a door killed with marks still in its outbox.

use crate::common::{self, postgres::Postgres, student_named};
use opencv::core::{Mat, Scalar, Vector, CV_8UC3};
use opencv::prelude::*;
use rollcall::store::StoreError;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A `rollcall door` process and the JSON lines it prints.
struct DoorProcess {
    name: String,
    data: PathBuf,
    child: Child,
    lines: Receiver<Value>,
    seen: Vec<Value>,
}

impl DoorProcess {
    fn start(data: &Path, name: &str, url: &str, source: &Path, looping: bool) -> DoorProcess {
        Self::spawn(Self::command(data, name, url, source, looping), name, data)
    }

    /// The same door on a computer whose clock is off by `offset` (libfaketime's notation:
    /// "+3d" is three days ahead).
    fn start_with_clock(
        data: &Path,
        name: &str,
        url: &str,
        source: &Path,
        offset: &str,
    ) -> DoorProcess {
        let faketime = libfaketime();
        let env = [
            ("LD_PRELOAD", faketime.as_os_str()),
            ("FAKETIME", offset.as_ref()),
            // Timeouts and frame pacing keep real time: only the calendar is wrong.
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".as_ref()),
        ];
        Self::start_with_env(data, name, url, source, &env)
    }

    /// The same door on a computer set to time zone `zone` (the `TZ` variable's notation).
    fn start_in_zone(data: &Path, name: &str, url: &str, source: &Path, zone: &str) -> DoorProcess {
        Self::start_with_env(data, name, url, source, &[("TZ", zone.as_ref())])
    }

    /// The door, looping its recording, with these environment variables set.
    fn start_with_env(
        data: &Path,
        name: &str,
        url: &str,
        source: &Path,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> DoorProcess {
        let mut cmd = Self::command(data, name, url, source, true);
        cmd.envs(env.iter().copied());
        Self::spawn(cmd, name, data)
    }

    fn command(data: &Path, name: &str, url: &str, source: &Path, looping: bool) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollcall"));
        cmd.arg("--data-dir")
            .arg(data)
            .args([
                "--database",
                url,
                "--door",
                name,
                "door",
                "--fps",
                "8",
                "--source",
            ])
            .arg(source)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if looping {
            cmd.arg("--loop");
        }
        cmd
    }

    fn spawn(mut cmd: Command, name: &str, data: &Path) -> DoorProcess {
        let mut child = cmd.spawn().expect("start rollcall door");
        let (tx, lines) = channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        DoorProcess {
            name: name.into(),
            data: data.to_path_buf(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for an event the door printed (or prints from now on) that `wanted` accepts.
    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(v) = self.seen.iter().find(|v| wanted(v)) {
            return v.clone();
        }
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if wanted(&v) {
                        return v;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "door {} never showed {what} within {timeout:?}; it printed: {:#?}",
            self.name, self.seen
        );
    }

    fn greeted(&mut self, student: &str, timeout: Duration) -> Value {
        let s = student.to_string();
        self.wait_for(&format!("a greeting for {student}"), timeout, move |v| {
            v["event"] == "verdict" && v["name"] == s.as_str()
        })
    }

    /// Marks of this door that the school server does not have yet.
    fn waiting_marks(&self) -> usize {
        let store = rollcall::store::Store::open(&self.data.join("rollcall.db")).unwrap();
        store
            .school_status()
            .unwrap()
            .expect("linked")
            .waiting_marks
    }

    /// Waits until the door's outbox is empty and the server answered.
    fn settled(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let store = rollcall::store::Store::open(&self.data.join("rollcall.db")).unwrap();
            let s = store.school_status().unwrap().expect("linked");
            if s.online && s.waiting_marks == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "door {} still has {} marks waiting (online: {}, problem: {:?})",
                self.name,
                s.waiting_marks,
                s.online,
                s.problem
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DoorProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Debian's libfaketime (package `faketime`, installed by `scripts/setup`): a process started
/// with it preloaded reads a wrong clock.
fn libfaketime() -> PathBuf {
    let lib = PathBuf::from(format!(
        "/usr/lib/{}-linux-gnu/faketime/libfaketime.so.1",
        std::env::consts::ARCH
    ));
    assert!(
        lib.exists(),
        "{} is missing: install the Debian package faketime (scripts/setup does)",
        lib.display()
    );
    lib
}

/// Every mark at a door, whatever its day: (student roll no, day), sorted.
fn every_mark_at(data: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(data.join("rollcall.db")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT s.roll_no, a.day FROM attendance a JOIN students s ON s.id = a.student_id
             ORDER BY s.roll_no, a.day",
        )
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Student Two enrolled at the office of the school at `url`, and standing at the door
/// (played over and over) after two seconds of nobody: the folder holding it all, the
/// recording, and the north door's data folder, linked once (it knows the class: its
/// gallery has Student Two from the start).
fn student_two_at_the_door(url: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    enrol(&tmp.path().join("office"), url, "0002", "Student Two");
    let frames = recording(&tmp.path().join("rec"), &[&at_the_door("0002")], 16);
    let north = tmp.path().join("north");
    let out = common::rollcall(
        &north,
        &["--database", url, "--door", "North door", "students"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (tmp, frames, north)
}

/// Attendance rows on the school server, any day, marks and absences alike.
fn rows_at_school(pg: &Postgres) -> i64 {
    pg.client()
        .query_one("SELECT count(*) FROM attendance", &[])
        .unwrap()
        .get(0)
}

/// Today's marks at a door: (student roll no, mark uid), sorted.
fn marks_at(data: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(data.join("rollcall.db")).unwrap();
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let mut stmt = conn
        .prepare(
            "SELECT s.roll_no, a.uid FROM attendance a JOIN students s ON s.id = a.student_id
             WHERE a.day = ?1 ORDER BY s.roll_no",
        )
        .unwrap();
    let rows = stmt
        .query_map([today], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// Today's marks on the school server: (student roll no, mark uid, door), sorted.
fn marks_on_server(pg: &Postgres) -> Vec<(String, String, String)> {
    marks_on_server_in(pg, "postgres")
}

/// Today's marks in one database of the server (absences recorded by hand are not marks).
fn marks_on_server_in(pg: &Postgres, database: &str) -> Vec<(String, String, String)> {
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    pg.client_of(database)
        .query(
            "SELECT s.roll_no, a.uid, a.door FROM attendance a JOIN students s ON s.uid = a.student_uid
             WHERE a.day = $1 AND a.present ORDER BY s.roll_no",
            &[&today],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// How many times the machine of data folder `data` took the school server for one put
/// back from a backup: never, at a school whose server only stopped, crashed or went on (it
/// would tell the school everything again, and at the office delete what it does not hold).
fn times_taken_for_put_back(data: &Path) -> usize {
    rollcall::store::Store::open(&data.join("rollcall.db"))
        .unwrap()
        .audit_log(500)
        .unwrap()
        .iter()
        .filter(|e| e.action == "school server put back")
        .count()
}

/// A grey frame with nobody in it, the size of the webcam's.
fn empty_frame() -> Vec<u8> {
    let m = Mat::new_rows_cols_with_default(480, 640, CV_8UC3, Scalar::all(120.0)).unwrap();
    let mut buf = Vector::<u8>::new();
    opencv::imgcodecs::imencode(".jpg", &m, &mut buf, &Vector::new()).unwrap();
    buf.to_vec()
}

/// A recording in a folder: each group of frames after `gap` empty frames, then `gap` more.
fn recording(dir: &Path, groups: &[&[PathBuf]], gap: usize) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let empty = empty_frame();
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        std::fs::write(dir.join(format!("{n:05}.jpg")), bytes).unwrap();
        n += 1;
    };
    for group in groups {
        for _ in 0..gap {
            put(&empty);
        }
        for f in *group {
            put(&std::fs::read(f).unwrap());
        }
    }
    for _ in 0..gap {
        put(&empty);
    }
    dir.to_path_buf()
}

/// Enrols webcam-dev person `person` from five of their first ten frames at `data`.
fn enrol(data: &Path, url: &str, person: &str, name: &str) {
    let out = enrolling(data, Some(url), person, name);
    assert!(
        out.status.success(),
        "enrol {person}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `rollcall enroll` of webcam-dev person `person` at `data`, as the office of the school
/// at `url` (`None`: at a kiosk of its own); its output.
fn enrolling(data: &Path, url: Option<&str>, person: &str, name: &str) -> std::process::Output {
    let mut args: Vec<String> = match url {
        Some(url) => ["--database", url, "--door", "Office"]
            .map(String::from)
            .to_vec(),
        None => Vec::new(),
    };
    args.extend([
        "enroll".to_string(),
        "--roll-no".into(),
        format!("R{person}"),
        "--name".into(),
        name.into(),
        "--email".into(),
        format!("{person}@example.org"),
    ]);
    args.extend(
        common::photos("webcam-dev", person)
            .iter()
            .take(10)
            .step_by(2)
            .map(|p| p.display().to_string()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::rollcall(data, &args)
}

/// The README's school: a server with its roles (the administrator `rollcall_admin`, owner
/// of database `school`, and door `north` in role `rollcall_door`), and two data folders,
/// the office's and the north door's.
struct RoledSchool {
    pg: Postgres,
    tmp: tempfile::TempDir,
    office: PathBuf,
    door: PathBuf,
}

impl RoledSchool {
    fn start() -> RoledSchool {
        let pg = Postgres::start();
        let mut superuser = pg.client();
        superuser
            .batch_execute(
                "CREATE ROLE rollcall_admin LOGIN;
                 CREATE ROLE rollcall_door NOLOGIN;
                 CREATE ROLE north LOGIN IN ROLE rollcall_door;",
            )
            .unwrap();
        // Not with the roles: it may not run inside a transaction.
        superuser
            .batch_execute("CREATE DATABASE school OWNER rollcall_admin")
            .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let (office, door) = (tmp.path().join("office"), tmp.path().join("north"));
        RoledSchool {
            pg,
            tmp,
            office,
            door,
        }
    }

    /// The school's address for `login`.
    fn address(&self, login: &str) -> String {
        format!("postgres://{login}@127.0.0.1:{}/school", self.pg.port)
    }

    /// The school's address for the administrator.
    fn admin(&self) -> String {
        self.address("rollcall_admin")
    }

    /// A command at the north door, with the door's login.
    fn at_door(&self, args: &[&str]) -> std::process::Output {
        at_north_door(&self.door, &self.address("north"), args)
    }

    /// A command at the office, with the administrator's login; it must succeed.
    fn at_office(&self, args: &[&str]) -> std::process::Output {
        let admin = self.admin();
        let mut all = vec!["--database", admin.as_str(), "--door", "Office"];
        all.extend_from_slice(args);
        let out = common::rollcall(&self.office, &all);
        assert!(out.status.success(), "{out:?}");
        out
    }

    /// Enrols webcam-dev person `person` at the office.
    fn enrol(&self, person: &str, name: &str) {
        enrol(&self.office, &self.admin(), person, name);
    }

    /// The roll numbers of the students the school server holds, in order.
    fn students_at_school(&self) -> Vec<String> {
        self.pg
            .client_of("school")
            .query("SELECT roll_no FROM students ORDER BY roll_no", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// The school server's marks, by roll number: "R0002 at North door".
    fn marks_at_school(&self) -> Vec<String> {
        marks_on_server_in(&self.pg, "school")
            .into_iter()
            .map(|(roll_no, _, door)| format!("{roll_no} at {door}"))
            .collect()
    }

    /// Enrols Students Two, Five and Six at the office (the tests that delete Student Five,
    /// a leaver, and erase Student Six's face).
    fn enrol_two_five_and_six(&self) {
        for (person, name) in [
            ("0002", "Student Two"),
            ("0005", "Student Five"),
            ("0006", "Student Six"),
        ] {
            self.enrol(person, name);
        }
    }

    /// How many face templates the school server holds of the student `roll_no`.
    fn templates_at_school(&self, roll_no: &str) -> i64 {
        templates_on_server_of(&mut self.pg.client_of("school"), roll_no)
    }

    /// What the door lists of its students.
    fn listed_at_door(&self) -> String {
        String::from_utf8_lossy(&self.at_door(&["students"]).stdout).into_owned()
    }
}

/// A command at the machine of data folder `folder` while it is away from the school (no
/// server given); it must succeed.
fn alone(folder: &Path, args: &[&str]) -> std::process::Output {
    let out = common::rollcall(folder, args);
    assert!(out.status.success(), "{out:?}");
    out
}

/// How many face templates the data folder `folder` holds of its student `roll_no` (who
/// must be there).
fn templates_held(folder: &Path, roll_no: &str) -> usize {
    let store = rollcall::store::Store::open(&folder.join("rollcall.db")).unwrap();
    let student = student_named(&store, roll_no).expect(roll_no);
    store.templates_of(student.id).unwrap().len()
}

/// How many face templates the school server at `client` holds of the student `roll_no`.
fn templates_on_server_of(client: &mut postgres::Client, roll_no: &str) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM face_templates t JOIN students s ON s.uid = t.student_uid
             WHERE s.roll_no = $1",
            &[&roll_no],
        )
        .unwrap()
        .get(0)
}

/// Asserts that `rollcall mark` answered that it marked the student.
fn marked(out: &std::process::Output) {
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("Attendance marked successfully"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A command at the north door's data folder `door`, linked to the school at `url`.
fn at_north_door(door: &Path, url: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--database", url, "--door", "North door"];
    all.extend_from_slice(args);
    common::rollcall(door, &all)
}

/// Frames of a person the doors see (never used for enrolment).
fn at_the_door(person: &str) -> Vec<PathBuf> {
    common::photos("webcam-dev", person)[20..36].to_vec()
}

/// `rollcall serve` on a school server, listening on a free port of 127.0.0.1; returns the
/// process and the port once it answers.
fn serve(data: &Path, url: &str, door: &str) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .arg("--data-dir")
        .arg(data)
        .args(["--database", url, "--door", door, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let serve_err = BufReader::new(serve.stderr.take().unwrap());
    let (up_tx, up) = channel();
    std::thread::spawn(move || {
        for line in serve_err.lines().map_while(Result::ok) {
            if line.contains("Rollcall API on") {
                let _ = up_tx.send(());
            }
        }
    });
    up.recv_timeout(Duration::from_secs(60))
        .expect("serve started");
    (serve, port)
}

/// Enrols a student through the old API's `POST /upload`; returns the answer.
fn upload(port: u16, roll_no: &str, name: &str, photos: &[PathBuf]) -> String {
    upload_answered(port, roll_no, name, photos).1
}

/// Enrols a student through the old API's `POST /upload`; returns the status and answer.
fn upload_answered(port: u16, roll_no: &str, name: &str, photos: &[PathBuf]) -> (u16, String) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut form = reqwest::multipart::Form::new()
            .text("rollno", roll_no.to_owned())
            .text("name", name.to_owned())
            .text("email", format!("{roll_no}@example.org"));
        for p in photos {
            form = form.part(
                "images",
                reqwest::multipart::Part::bytes(std::fs::read(p).unwrap()).file_name("p.jpg"),
            );
        }
        let answer = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/upload"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    })
}

#[test]
fn a_student_enrolled_at_the_office_is_recognised_at_both_doors_and_marked_once() {
    let pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let url = pg.url();
    // The office: the old web client's server on the school's database.
    let (mut serve, port) = serve(&tmp.path().join("office"), &url, "Office");

    // Both doors see the student, who is not enrolled yet.
    let frames = recording(&tmp.path().join("rec"), &[&at_the_door("0002")], 4);
    let mut north =
        DoorProcess::start(&tmp.path().join("north"), "North door", &url, &frames, true);
    let mut south =
        DoorProcess::start(&tmp.path().join("south"), "South door", &url, &frames, true);
    for door in [&mut north, &mut south] {
        door.wait_for("models loaded", Duration::from_secs(60), |v| {
            v["event"] == "ready"
        });
        door.wait_for("the school server online", Duration::from_secs(20), |v| {
            v["event"] == "school" && v["online"] == true
        });
    }

    // Enrolled through the old API at the office.
    let photos: Vec<PathBuf> = common::photos("webcam-dev", "0002")
        .into_iter()
        .take(10)
        .step_by(2)
        .collect();
    let answer = upload(port, "R0002", "Student Two", &photos);
    let enrolled = Instant::now();
    assert!(answer.contains("User added successfully"), "{answer}");

    for door in [&mut north, &mut south] {
        door.greeted("Student Two", Duration::from_secs(5));
        let waited = enrolled.elapsed();
        eprintln!(
            "{}: recognised {:.1} s after the enrolment",
            door.name,
            waited.as_secs_f64()
        );
        assert!(
            waited <= Duration::from_secs(5),
            "{}: {waited:?}",
            door.name
        );
    }

    // Exactly one row for the day, on the server and at every door (the same row).
    for door in [&mut north, &mut south] {
        door.settled(Duration::from_secs(10));
    }
    std::thread::sleep(Duration::from_secs(2));
    let server = marks_on_server(&pg);
    assert_eq!(server.len(), 1, "{server:?}");
    let (roll, uid, door) = &server[0];
    assert_eq!(roll, "R0002");
    assert!(door == "North door" || door == "South door", "{door}");
    for data in ["north", "south", "office"] {
        assert_eq!(
            marks_at(&tmp.path().join(data)),
            vec![("R0002".to_string(), uid.clone())],
            "{data}"
        );
    }
    // Every machine that keeps running made its daily backup when it started.
    let today = chrono::Local::now().format("%Y-%m-%d");
    for data in ["north", "south", "office"] {
        let daily = tmp
            .path()
            .join(data)
            .join(format!("backups/rollcall-daily-{today}.rollcall"));
        assert!(daily.is_file(), "{}", daily.display());
    }
    let _ = serve.kill();
    let _ = serve.wait();
}

#[test]
fn a_morning_with_the_school_server_down_loses_nothing_and_doubles_nothing() {
    let pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let url = pg.url();
    let office = tmp.path().join("office");
    for (person, name) in [
        ("0001", "Student One"),
        ("0002", "Student Two"),
        ("0003", "Student Three"),
    ] {
        enrol(&office, &url, person, name);
    }
    let (one, two, three) = (
        at_the_door("0001"),
        at_the_door("0002"),
        at_the_door("0003"),
    );
    // Everyone passes both doors, a few seconds apart.
    let morning = recording(&tmp.path().join("morning"), &[&one, &two, &three], 24);
    let mut north = DoorProcess::start(
        &tmp.path().join("north"),
        "North door",
        &url,
        &morning,
        false,
    );
    let mut south = DoorProcess::start(
        &tmp.path().join("south"),
        "South door",
        &url,
        &morning,
        false,
    );

    // Student One arrives while the server is up; then it is stopped.
    north.greeted("Student One", Duration::from_secs(60));
    south.greeted("Student One", Duration::from_secs(60));
    pg.stop();

    // Student Two arrives while it is down: both doors still mark, and keep the marks.
    let at_north = north.greeted("Student Two", Duration::from_secs(30));
    let at_south = south.greeted("Student Two", Duration::from_secs(30));
    assert_eq!(at_north["kind"], "Welcome", "{at_north}");
    assert_eq!(at_south["kind"], "Welcome", "{at_south}");
    south.wait_for(
        "offline with a mark waiting",
        Duration::from_secs(10),
        |v| {
            v["event"] == "school" && v["online"] == false && v["waiting_marks"].as_u64() >= Some(1)
        },
    );
    assert!(north.waiting_marks() >= 1);
    // The north door is killed with its outbox full; the server comes back.
    north.kill();
    pg.start_again();

    // Student Three arrives at the south door; then the server crashes (SIGKILL).
    south.greeted("Student Three", Duration::from_secs(30));
    pg.kill();
    // The north door starts again while the server is down and sees Student Three too.
    let late = recording(&tmp.path().join("late"), &[&three], 24);
    let mut north = DoorProcess::start(&tmp.path().join("north"), "North door", &url, &late, false);
    north.greeted("Student Three", Duration::from_secs(60));
    pg.start_again();

    north.settled(Duration::from_secs(30));
    south.settled(Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    let server = marks_on_server(&pg);
    let rolls: Vec<&str> = server.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(rolls, ["R0001", "R0002", "R0003"], "{server:?}");
    let school: Vec<(String, String)> = server
        .iter()
        .map(|(r, u, _)| (r.clone(), u.clone()))
        .collect();
    for data in ["north", "south"] {
        assert_eq!(marks_at(&tmp.path().join(data)), school, "{data}");
    }
    // Stopped, killed and started again, the server went on: no machine took it for one
    // put back from a backup (one door's earlier mark of Student Two may have replaced the
    // other's row).
    for data in ["north", "south", "office"] {
        assert_eq!(
            times_taken_for_put_back(&tmp.path().join(data)),
            0,
            "{data}"
        );
    }
}

#[test]
fn a_door_whose_clock_is_days_off_the_school_servers_marks_nobody_until_it_is_set_right() {
    let pg = Postgres::start();
    let url = pg.url();
    let (_tmp, frames, north) = student_two_at_the_door(&url);

    // The door's computer thinks it is three days later (a date set by hand since it was
    // linked, say).
    let mut door = DoorProcess::start_with_clock(&north, "North door", &url, &frames, "+3d");
    let clock = door.wait_for("the clock found wrong", Duration::from_secs(60), |v| {
        v["event"] == "clock" && v["wrong"] == true
    });
    let reason = clock["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("This computer's clock is 3 days ahead of the school server's")
            && reason.contains("Set the computer's date and time"),
        "{reason}"
    );
    door.wait_for(
        "the clock on the status line",
        Duration::from_secs(10),
        |v| {
            v["event"] == "school"
                && v["status"].as_str().is_some_and(|s| {
                    s.starts_with("School server: connected")
                        && s.ends_with(" — this computer's clock is 3 days ahead of the server's")
                })
        },
    );
    // Once the door is ready, the student passes the whole recording (48 frames at 8 a
    // second, in 6 s, and again): nobody is greeted, nothing is marked on any day, here or
    // at the school.
    door.wait_for("the door ready", Duration::from_secs(60), |v| {
        v["event"] == "ready" && v["students"] == 1
    });
    std::thread::sleep(Duration::from_secs(8));
    while let Ok(v) = door.lines.try_recv() {
        door.seen.push(v);
    }
    assert!(
        !door.seen.iter().any(|v| v["event"] == "verdict"),
        "{:#?}",
        door.seen
    );
    assert_eq!(every_mark_at(&north), []);
    assert_eq!(rows_at_school(&pg), 0);
    door.kill();

    // The clock set right: the same door greets the student and marks today, once.
    let mut door = DoorProcess::start(&north, "North door", &url, &frames, true);
    let greeted = door.greeted("Student Two", Duration::from_secs(60));
    assert_eq!(greeted["kind"], "Welcome", "{greeted}");
    door.settled(Duration::from_secs(30));
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    assert_eq!(every_mark_at(&north), [("R0002".to_string(), today)]);
    assert_eq!(marks_on_server(&pg).len(), 1);
}

#[test]
fn a_mark_made_with_the_clock_ahead_while_the_server_was_down_is_not_taken_by_the_school() {
    let pg = Postgres::start();
    let url = pg.url();
    let (_tmp, frames, north) = student_two_at_the_door(&url);
    let day = |d: chrono::DateTime<chrono::Local>| d.format("%Y-%m-%d").to_string();

    // The door (linked yesterday, say) starts three days ahead while the school server is
    // down: nothing can tell it its clock is wrong, and it marks the student on the wrong
    // day.
    pg.stop();
    let mut door = DoorProcess::start_with_clock(&north, "North door", &url, &frames, "+3d");
    door.greeted("Student Two", Duration::from_secs(60));
    let ahead = day(chrono::Local::now() + chrono::Duration::days(3));
    assert_eq!(every_mark_at(&north), [("R0002".to_string(), ahead)]);

    // The server is back: the door stops marking, and the school does not take the mark.
    pg.start_again();
    door.wait_for("the clock found wrong", Duration::from_secs(30), |v| {
        v["event"] == "clock" && v["wrong"] == true
    });
    door.wait_for("the mark refused", Duration::from_secs(30), |v| {
        v["event"] == "school"
            && v["online"] == true
            && v["refused_marks"] == 1
            && v["status"]
                .as_str()
                .is_some_and(|s| s.contains("1 mark the school did not take"))
    });
    assert_eq!(rows_at_school(&pg), 0);
    door.kill();

    // With the door's clock set right, the mark is dated after today here too: the door
    // takes nobody and never offers the mark again (once its day came, the school would
    // take it). The next rounds refuse nothing, and it is still counted as not taken.
    let store = rollcall::store::Store::open(&north.join("rollcall.db")).unwrap();
    let mut door = DoorProcess::start(&north, "North door", &url, &frames, true);
    door.wait_for("the marks ahead found", Duration::from_secs(60), |v| {
        v["event"] == "clock" && v["wrong"] == true
    });
    let offered_again = (0..300).all(|_| {
        std::thread::sleep(Duration::from_millis(100));
        store.school_status().unwrap().unwrap().problem.is_some()
    });
    assert!(!offered_again, "the mark is offered in every round");
    assert_eq!(store.school_status().unwrap().unwrap().refused_marks, 1);
    assert_eq!(rows_at_school(&pg), 0);
    door.kill();

    // The mark made ahead is removed at the door (it asks for that before it marks
    // anyone); the removal leaves nothing waiting or refused.
    let out = common::rollcall(
        &north,
        &[
            "--database",
            &url,
            "--door",
            "North door",
            "future-marks",
            "--yes",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = store.school_status().unwrap().unwrap();
    assert_eq!(
        (status.waiting_marks, status.refused_marks),
        (0, 0),
        "{status:?}"
    );
    assert_eq!(every_mark_at(&north), []);

    // Today the student is marked, here and at the school.
    let mut door = DoorProcess::start(&north, "North door", &url, &frames, true);
    door.greeted("Student Two", Duration::from_secs(60));
    door.settled(Duration::from_secs(30));
    assert_eq!(
        every_mark_at(&north),
        [("R0002".to_string(), day(chrono::Local::now()))]
    );
    assert_eq!(marks_on_server(&pg).len(), 1);
    assert_eq!(rows_at_school(&pg), 1);
}

#[test]
fn a_door_whose_time_zone_is_not_another_doors_says_so() {
    let pg = Postgres::start();
    let url = pg.url();
    let (tmp, frames, north) = student_two_at_the_door(&url);

    // North door, in the school's zone (UTC+09:00, as a POSIX TZ string: no time zone
    // files needed), marks the student.
    let mut door = DoorProcess::start_in_zone(&north, "North door", &url, &frames, "JST-9");
    door.greeted("Student Two", Duration::from_secs(60));
    door.settled(Duration::from_secs(30));
    assert!(!door.seen.iter().any(|v| v["event"] == "school"
        && v["status"]
            .as_str()
            .is_some_and(|s| s.contains("time zone"))));
    door.kill();

    // South door, a new machine left on UTC: its clock agrees with the server's on the
    // instant, but it would date a morning's marks the day before. It says so.
    let south = tmp.path().join("south");
    let mut door = DoorProcess::start_in_zone(&south, "South door", &url, &frames, "UTC0");
    door.wait_for(
        "the time zone on the status line",
        Duration::from_secs(60),
        |v| {
            v["event"] == "school"
                && v["status"].as_str().is_some_and(|s| {
                    s.starts_with("School server: connected")
                        && s.ends_with(
                            " — this computer's time zone (UTC+00:00) is not North door's \
                             (UTC+09:00)",
                        )
                })
        },
    );
}

#[test]
fn the_link_is_encrypted_when_the_address_asks_and_refuses_a_server_it_cannot_trust() {
    // The server accepts only encrypted connections from the network.
    let (pg, ca) = Postgres::start_with_tls();
    let tmp = tempfile::tempdir().unwrap();
    let door = tmp.path().join("door");
    let students = |url: &str| common::rollcall(&door, &["--database", url, "students"]);
    let plain = pg.url();
    let tls = format!("{plain}?sslmode=require");

    // Not asked to encrypt: the server refuses, and the admin is told what to add. The
    // command still works on this door's data.
    let out = students(&plain);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("sslmode=require"), "{said}");
    assert!(
        !said.contains("rollcall@"),
        "the address's login is never shown: {said}"
    );

    // Asked, but the server's certificate is from the school's own authority, unknown here.
    let said = String::from_utf8_lossy(&students(&tls).stderr).into_owned();
    assert!(said.contains("certificate"), "{said}");

    // With the school's authority in the settings, the door links over TLS.
    std::fs::write(
        door.join("settings.toml"),
        format!("[school]\nca_file = \"{}\"\n", ca.display()),
    )
    .unwrap();
    let out = students(&tls);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !said.contains("school server"),
        "{said}"
    );
    let tables: i64 = pg
        .client()
        .query_one("SELECT count(*) FROM rollcall_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        tables as usize,
        server_schema_versions(),
        "the door set up the school's tables over TLS"
    );
}

#[test]
fn a_machine_that_has_never_reached_the_school_server_enrols_nobody_until_it_has() {
    let pg = Postgres::start();
    let url = pg.url();
    let tmp = tempfile::tempdir().unwrap();
    let office = tmp.path().join("office");
    // A new machine, linked while the server is down: it cannot tell whether its login
    // may enrol, so nothing is enrolled here that the school might never take.
    pg.stop();
    let out = enrolling(&office, Some(&url), "0001", "Student One");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(
            "Enrolling a student waits until this computer has reached the school server"
        ),
        "{said}"
    );
    let here = rollcall::store::Store::open(&office.join("rollcall.db")).unwrap();
    assert!(here.students().unwrap().is_empty());
    // Once it has, the same command enrols, here and at the school.
    pg.start_again();
    enrol(&office, &url, "0001", "Student One");
    assert_eq!(here.students().unwrap().len(), 1);
    let at_school: i64 = pg
        .client()
        .query_one("SELECT count(*) FROM students", &[])
        .unwrap()
        .get(0);
    assert_eq!(at_school, 1);
}

#[test]
fn a_door_login_reads_the_gallery_and_adds_marks_but_cannot_change_the_school() {
    let school = RoledSchool::start();

    // A door cannot set up the school's tables: the admin's login must come first.
    let out = school.at_door(&["students"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("administrator's login"), "{said}");

    school.enrol("0002", "Student Two");
    let listed = school.at_door(&["students"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("Student Two"));

    // It marks, and the school has the mark with its door.
    let photo = at_the_door("0002")[0].display().to_string();
    marked(&school.at_door(&["mark", &photo]));
    assert_eq!(school.marks_at_school(), ["R0002 at North door"]);
    // The office, asked again, hears where and when the student was marked.
    let again = at_the_door("0002")[3].display().to_string();
    let out = school.at_office(&["mark", &again]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("Student attendance is marked")
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("Student Two (R0002) at") && said.ends_with(", North door\n"),
        "{said}"
    );

    // Enrolling at the door is refused up front: the school would never take it, and the
    // student would be known at this door alone.
    let photos: Vec<String> = common::photos("webcam-dev", "0003")
        .iter()
        .take(5)
        .map(|p| p.display().to_string())
        .collect();
    let mut args = vec![
        "enroll",
        "--roll-no",
        "R0003",
        "--name",
        "Three",
        "--email",
        "3@example.org",
    ];
    args.extend(photos.iter().map(String::as_str));
    let out = school.at_door(&args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("Enrolling a student is done at the office: this door's login"),
        "{said}"
    );
    // The old API's clients at the door are told so too.
    let (mut served, port) = serve(&school.door, &school.address("north"), "North door");
    let photos: Vec<PathBuf> = photos.iter().map(PathBuf::from).collect();
    let (status, answer) = upload_answered(port, "R0003", "Three", &photos);
    let _ = served.kill();
    let _ = served.wait();
    let answer: Value = serde_json::from_str(&answer).unwrap();
    // Refused, not failed: the message a client shows says why (it said "Internal server
    // error", with the reason beside it, until 2026-12-07).
    assert_eq!(status, 403, "{answer}");
    for key in ["message", "reason"] {
        assert!(
            answer[key]
                .as_str()
                .is_some_and(|r| r.starts_with("Enrolling a student is done at the office")),
            "{answer}"
        );
    }
    let listed = school.listed_at_door();
    assert!(!listed.contains("R0003"), "{listed}");
    let students: i64 = school
        .pg
        .client_of("school")
        .query_one("SELECT count(*) FROM students", &[])
        .unwrap()
        .get(0);
    assert_eq!(students, 1);

    // So are a correction and an erasure of face data (which would otherwise have stayed
    // at the school and every other door), also while the server is out of reach.
    let mut store = rollcall::store::Store::open(&school.door.join("rollcall.db")).unwrap();
    let two = student_named(&store, "R0002").unwrap().id;
    let today = chrono::Local::now().date_naive();
    let refused = store.correct(
        two,
        today,
        false,
        "left early",
        "admin",
        chrono::Local::now(),
    );
    assert!(
        matches!(
            refused,
            Err(StoreError::OfficeOnly("Correcting attendance"))
        ),
        "{refused:?}"
    );
    school.pg.stop();
    let out = school.at_door(&["delete", "--face-data", "--yes", "R0002"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("Erasing a student's face data is done at the office"),
        "{said}"
    );
    assert!(!store.templates_of(two).unwrap().is_empty());
    let status = store.school_status().unwrap().unwrap();
    assert_eq!((status.waiting_marks, status.refused_marks), (0, 0));
}

#[test]
fn a_student_the_office_records_as_left_is_known_so_at_every_door_and_their_marks_stay() {
    let school = RoledSchool::start();
    school.enrol("0002", "Student Two");
    let frames = at_the_door("0002");
    marked(&school.at_door(&["mark", &frames[0].display().to_string()]));

    // Recorded at the office, not at a door (the school would never have it).
    let out = school.at_door(&["left", "R0002", "--yes"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("Recording that a student left is done at the office"),
        "{said}"
    );
    let out = school.at_office(&["left", "R0002", "--yes"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Recorded for Student Two (R0002): their last day in class was"),
        "{said}"
    );

    // The school has their last day, and none of their face.
    let today = chrono::Local::now().date_naive().to_string();
    let last_day = |school: &RoledSchool| -> Option<String> {
        school
            .pg
            .client_of("school")
            .query_one("SELECT last_day FROM students WHERE roll_no = 'R0002'", &[])
            .unwrap()
            .get(0)
    };
    assert_eq!(last_day(&school), Some(today.clone()));
    assert_eq!(school.templates_at_school("R0002"), 0);
    // The door lists them as gone, recognises them no more, and keeps their mark.
    let listed = school.listed_at_door();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("R0002") && l.contains("left, last day")),
        "{listed}"
    );
    let out = school.at_door(&["mark", &frames[3].display().to_string()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("User not found")
    );
    assert_eq!(school.marks_at_school(), ["R0002 at North door"]);
    let door = rollcall::store::Store::open(&school.door.join("rollcall.db")).unwrap();
    let two = student_named(&door, "R0002").unwrap();
    assert_eq!(two.last_day.map(|d| d.to_string()), Some(today));
    drop(door);

    // Back in the class, from the office: every door hears it.
    school.at_office(&["left", "--back", "R0002", "--yes"]);
    assert_eq!(last_day(&school), None);
    let listed = school.listed_at_door();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("R0002") && l.contains("in class")),
        "{listed}"
    );
}

#[test]
fn what_the_school_refuses_is_not_offered_every_round_and_holds_up_no_mark() {
    let school = RoledSchool::start();
    school.enrol("0002", "Student Two");
    // The door was a kiosk of its own before it joined the school: its own student, whom
    // the school will not take from a door's login (nor their face templates).
    let own = enrolling(&school.door, None, "0003", "Student Three");
    assert!(own.status.success(), "{own:?}");
    // The server logs every statement of the door's login: each offer asks what the login
    // may do.
    school
        .pg
        .client()
        .batch_execute("ALTER ROLE north SET log_statement = 'all'")
        .unwrap();

    let source = recording(&school.tmp.path().join("rec"), &[&at_the_door("0002")], 24);
    let mut north = DoorProcess::start(
        &school.door,
        "North door",
        &school.address("north"),
        &source,
        true,
    );
    north.greeted("Student Two", Duration::from_secs(60));
    // The mark reaches the school at once, refusals or not.
    let taken = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        school.marks_at_school().len() == 1
    });
    assert!(taken, "the mark did not reach the school");
    // Why the school refused the rest stays on the status line, round after round...
    let store = rollcall::store::Store::open(&school.door.join("rollcall.db")).unwrap();
    let said = (0..30).all(|_| {
        std::thread::sleep(Duration::from_millis(100));
        store
            .school_status()
            .unwrap()
            .and_then(|s| s.problem)
            .is_some_and(|p| p.contains("this door's login may not change it"))
    });
    assert!(said, "{:?}", store.school_status());
    // ... but the refused changes are not offered again every round (each offer holds the
    // school's write lock), and what the login may not do is not tried: no error in the
    // school server's log.
    let offers = || {
        school
            .pg
            .log()
            .matches("has_table_privilege($1::text")
            .count()
    };
    let before = offers();
    assert!(before > 0, "nothing offered");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(offers(), before, "offered again within 5 s");
    let log = school.pg.log();
    assert!(!log.contains("permission denied"), "{log}");
    north.kill();
    // Connected once with the administrator's login, the door brings its own student to
    // the school (as the reason on its status line says).
    let mut north = DoorProcess::start(&school.door, "North door", &school.admin(), &source, true);
    let own_at_school = (0..300).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        let n: i64 = school
            .pg
            .client_of("school")
            .query_one("SELECT count(*) FROM students WHERE roll_no = 'R0003'", &[])
            .unwrap()
            .get(0);
        n == 1
    });
    assert!(own_at_school, "{:?}", store.school_status());
    north.kill();
}

#[test]
fn a_doors_own_student_the_office_enrols_as_well_is_one_student_whose_marks_reach_the_school() {
    own_student_enrolled_at_the_office_too(false);
}

#[test]
fn a_door_that_fetched_the_offices_student_before_it_could_join_them_joins_them_now() {
    own_student_enrolled_at_the_office_too(true);
}

/// A kiosk of its own with a student joins the school with a door's login, and the office
/// enrols the same student; `fetched_before`: the door went past the school's student
/// without writing it (as Rollcall before 2026-12-05 did), so only asking the school for
/// the refused student's roll number finds them.
fn own_student_enrolled_at_the_office_too(fetched_before: bool) {
    let school = RoledSchool::start();
    school.enrol("0002", "Student Two");
    // A kiosk of its own with a student, joined with a door's login: the school takes
    // neither the student nor the mark made since.
    let own = enrolling(&school.door, None, "0003", "Student Three");
    assert!(own.status.success(), "{own:?}");
    let photo = at_the_door("0003")[0].display().to_string();
    marked(&school.at_door(&["mark", &photo]));
    assert!(school.marks_at_school().is_empty());

    // The office enrols the student itself, under the same roll number.
    school.enrol("0003", "Three, at the office");
    if fetched_before {
        let newest: i64 = school
            .pg
            .client_of("school")
            .query_one("SELECT last_value FROM school_changes", &[])
            .unwrap()
            .get(0);
        let conn = rusqlite::Connection::open(school.door.join("rollcall.db")).unwrap();
        conn.execute("UPDATE school_link SET pulled = ?1", [newest])
            .unwrap();
    }
    // The door's next rounds: one student, the school's, and the mark reaches the school.
    for _ in 0..2 {
        let out = school.at_door(&["students"]);
        assert!(out.status.success(), "{out:?}");
    }
    let store = rollcall::store::Store::open(&school.door.join("rollcall.db")).unwrap();
    let students = store.students().unwrap();
    let three: Vec<_> = students.iter().filter(|s| s.roll_no == "R0003").collect();
    assert_eq!(three.len(), 1, "{students:?}");
    assert_eq!(three[0].name, "Three, at the office");
    assert_eq!(school.marks_at_school(), ["R0003 at North door"]);
    let status = store.school_status().unwrap().unwrap();
    assert_eq!((status.waiting_marks, status.refused_marks), (0, 0));
    assert!(store
        .audit_log(20)
        .unwrap()
        .iter()
        .any(|e| e.action == "join student" && e.details.starts_with("R0003 (Student Three)")));
}

/// A kiosk of its own with a student joins the school with a door's login; the office then
/// corrects one of its students' roll numbers to the one the door's own student holds
/// (someone else). The door says what to do, and once its own student is deleted there,
/// the school's student, fetched again, has the corrected number at the door (until
/// 2026-12-06 the correction was passed for good, and the door's own student could not be
/// deleted there).
#[test]
fn a_correction_to_a_roll_number_a_doors_own_student_holds_reaches_the_door_once_that_one_goes() {
    let school = RoledSchool::start();
    school.enrol("0002", "Student Two");
    let own = enrolling(&school.door, None, "0003", "Student Three");
    assert!(own.status.success(), "{own:?}");
    assert!(school.at_door(&["students"]).status.success());
    school.at_office(&["edit", "R0002", "--roll-no", "R0003"]);
    assert!(school.at_door(&["students"]).status.success());
    let problem = || {
        rollcall::store::Store::open(&school.door.join("rollcall.db"))
            .unwrap()
            .school_status()
            .unwrap()
            .unwrap()
            .problem
            .unwrap_or_default()
    };
    assert!(
        problem().contains(
            "The school's student R0003 (Student Two) was not written here: this computer's \
             own student R0003 (Student Three), whom the school does not have, holds that roll \
             number."
        ),
        "{}",
        problem()
    );
    let listed = school.listed_at_door();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("R0002") && l.contains("Student Two")),
        "{listed}"
    );

    let deleted = school.at_door(&["delete", "R0003", "--yes"]);
    assert!(deleted.status.success(), "{deleted:?}");
    let listed = school.listed_at_door();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("R0003") && l.contains("Student Two")),
        "{listed}"
    );
    assert!(!listed.contains("Student Three"), "{listed}");
    assert!(!listed.lines().any(|l| l.starts_with("R0002")), "{listed}");
    assert_eq!(school.students_at_school(), ["R0003"]);
    assert!(!problem().contains("was not written here"), "{}", problem());
}

/// Students Two (R0002) and Three (R0003), enrolled at the office under each other's
/// numbers and fetched by the door, swapped at the office through a third number (as the
/// Students screen asked before 2026-12-07; its swap in one step is the same two rows to
/// send) while the server is out of reach: the three changes wait in the
/// office's outbox as two rows, each holding the other's old number. Three gets
/// `three_email` as well.
fn swapped_while_the_server_is_away(school: &RoledSchool, three_email: &str) {
    school.enrol("0002", "Student Two");
    school.enrol("0003", "Student Three");
    assert!(school.at_door(&["students"]).status.success());
    let mut office = rollcall::store::Store::open(&school.office.join("rollcall.db")).unwrap();
    let two = student_named(&office, "R0002").unwrap();
    let three = student_named(&office, "R0003").unwrap();
    for (student, roll_no, email) in [
        (&two, "R0009", two.email.as_str()),
        (&three, "R0002", three_email),
        (&two, "R0003", two.email.as_str()),
    ] {
        office
            .update_student(student.id, roll_no, &student.name, email, "admin")
            .unwrap();
    }
}

/// The link's state at `data` (`Store::school_status`).
fn school_status_at(data: &Path) -> rollcall::store::school::SchoolStatus {
    rollcall::store::Store::open(&data.join("rollcall.db"))
        .unwrap()
        .school_status()
        .unwrap()
        .unwrap()
}

/// The school server's students, "R0002 Student Three", in roll-number order.
fn students_and_names_at_school(school: &RoledSchool) -> Vec<String> {
    school
        .pg
        .client_of("school")
        .query(
            "SELECT roll_no || ' ' || name FROM students ORDER BY roll_no",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn two_roll_numbers_swapped_at_the_office_while_the_server_is_away_reach_the_school_and_the_door() {
    let school = RoledSchool::start();
    swapped_while_the_server_is_away(&school, "0003@example.org");
    // Until 2026-12-07 the school refused both (each number still the other's there),
    // and the office then wrote the school's copies over its own: the swap undone, unsaid.
    let listed = String::from_utf8_lossy(&school.at_office(&["students"]).stdout).into_owned();
    let status = school_status_at(&school.office);
    assert_eq!((status.refused_changes, status.problem), (0, None));
    let swapped = ["R0002 Student Three", "R0003 Student Two"];
    assert_eq!(students_and_names_at_school(&school), swapped);
    let at_door = school.listed_at_door();
    for place in [&listed, &at_door] {
        for student in swapped {
            let (roll_no, name) = student.split_once(' ').unwrap();
            assert!(
                place
                    .lines()
                    .any(|l| l.starts_with(roll_no) && l.contains(name)),
                "{place}"
            );
        }
    }
}

#[test]
fn a_swap_the_school_cannot_take_whole_leaves_it_as_it_was_and_the_office_keeps_it() {
    let school = RoledSchool::start();
    school.enrol("0006", "Student Six");
    swapped_while_the_server_is_away(&school, "three@example.org");
    // Meanwhile, by hand at the server, another student is given Three's new address.
    school
        .pg
        .client_of("school")
        .execute(
            "UPDATE students SET email = 'three@example.org' WHERE roll_no = 'R0006'",
            &[],
        )
        .unwrap();

    // The swap would free Two's new number only by parting the two for a moment; Three
    // is still refused (the address), so nothing of it is kept: no half-made swap, no
    // number of the moment ("R0002~…") at the school.
    let listed = String::from_utf8_lossy(&school.at_office(&["students"]).stdout).into_owned();
    assert_eq!(
        students_and_names_at_school(&school),
        [
            "R0002 Student Two",
            "R0003 Student Three",
            "R0006 Student Six"
        ]
    );
    // The office keeps its swap, and says why the school has not taken it.
    for (roll_no, name) in [("R0002", "Student Three"), ("R0003", "Student Two")] {
        assert!(
            listed
                .lines()
                .any(|l| l.starts_with(roll_no) && l.contains(name)),
            "{listed}"
        );
    }
    let status = school_status_at(&school.office);
    assert_eq!(status.refused_changes, 2);
    let problem = status.problem.unwrap_or_default();
    assert!(
        problem.contains("student R0002 (Student Three) was not taken by the school server"),
        "{problem}"
    );
    // Who holds what at the school, whoever gave it to them (here: by hand at the server).
    assert!(
        problem.contains("the email address three@example.org is already Student Six's"),
        "{problem}"
    );
    assert!(!problem.contains("another door"), "{problem}");
    // Two's row, refused with Three's, says so: the swap waits on Three's address.
    assert!(
        problem.contains(
            "student R0003 (Student Two) was not taken by the school server: there, roll \
             number R0003 is still Student Three's, whose own change sent with it was not \
             taken either"
        ),
        "{problem}"
    );
    // Six, whose new address Three holds here by the swap, is not written at the office
    // either: the school has Three, so the admin is not told to delete them.
    assert!(
        problem.contains(
            "this computer's student R0002 (Student Three) holds that email address here, \
             by a change of theirs the school has not taken"
        ),
        "{problem}"
    );
    assert!(
        !problem.contains("whom the school does not have"),
        "{problem}"
    );
    assert!(!problem.contains("delete"), "{problem}");
}

/// The school server's night backup (returned), then a morning: Student Two marked at the
/// north door, Student Three enrolled at the office.
fn backup_then_a_morning(school: &RoledSchool) -> PathBuf {
    let backup = school.tmp.path().join("school.dump");
    school.pg.dump("school", &backup);
    marked(&school.at_door(&["mark", &at_the_door("0002")[0].display().to_string()]));
    school.enrol("0003", "Student Three");
    backup
}

#[test]
fn a_school_server_put_back_from_last_nights_backup_gets_back_what_its_machines_hold() {
    let school = RoledSchool::start();
    school.enrol("0002", "Student Two");
    assert!(school.at_door(&["students"]).status.success());
    // The night's backup of the server; the next morning Student Two is marked at the
    // door and the office enrols Student Three, whom the door fetches.
    let backup = backup_then_a_morning(&school);
    let listed = school.at_door(&["students"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("Student Three"));

    // The server's disk fails, and the school puts back the night's backup: the mark and
    // Student Three are gone from it. The office then enrols Student Four.
    school.pg.restore("school", "rollcall_admin", &backup);
    assert_eq!(school.students_at_school(), ["R0002"]);
    assert!(school.marks_at_school().is_empty());
    school.enrol("0004", "Student Four");

    // The README's way back: each machine, the office first, leaves the school and joins
    // it again (with no server set, then with it).
    for (folder, login, name) in [
        (&school.office, "rollcall_admin", "Office"),
        (&school.door, "north", "North door"),
    ] {
        let left = common::rollcall(folder, &["leave-school", "--yes"]);
        assert!(left.status.success(), "{left:?}");
        let url = school.address(login);
        let joined = common::rollcall(folder, &["--database", &url, "--door", name, "students"]);
        assert!(joined.status.success(), "{joined:?}");
    }
    assert_eq!(school.students_at_school(), ["R0002", "R0003", "R0004"]);
    assert_eq!(school.marks_at_school(), ["R0002 at North door"]);
    let listed = school.listed_at_door();
    assert!(listed.contains("Student Four"), "{listed}");
    assert!(
        school.templates_at_school("R0003") > 0,
        "Student Three's templates are back at the school"
    );
}

#[test]
fn a_school_server_put_back_from_a_backup_is_told_everything_again_by_its_machines() {
    let school = RoledSchool::start();
    school.enrol_two_five_and_six();
    // A class day declared at the office (a Saturday's school trip).
    let today = chrono::Local::now().date_naive();
    let trip = today - chrono::Days::new(3);
    let office_store = || rollcall::store::Store::open(&school.office.join("rollcall.db")).unwrap();
    assert!(office_store().declare_class_day(trip, "admin").unwrap());
    school.at_office(&["students"]);
    assert!(school.at_door(&["students"]).status.success());
    // The night's backup; the next morning Student Two is marked at the door, the office
    // enrols Student Three, deletes Student Five (a leaver), erases Student Six's face
    // (their parents withdrew consent), withdraws the trip (it was cancelled) and records
    // that Student Two went home ill (the door has not heard of it yet).
    let backup = backup_then_a_morning(&school);
    school.at_office(&["delete", "R0005", "--yes"]);
    school.at_office(&["delete", "R0006", "--face-data", "--yes"]);
    assert!(office_store().withdraw_class_day(trip, "admin").unwrap());
    {
        let mut store = office_store();
        let two = student_named(&store, "R0002").unwrap().id;
        let went_home = store
            .correct(
                two,
                today,
                false,
                "went home ill",
                "admin",
                chrono::Local::now(),
            )
            .unwrap();
        assert!(went_home.changed);
    }
    school.at_office(&["students"]);

    // The school puts last night's backup back over the server's tables; nobody tells the
    // machines. The office, first to reach it, enrols Student Four.
    school.pg.restore_in_place("school", &backup);
    assert_eq!(school.students_at_school(), ["R0002", "R0005", "R0006"]);
    school.enrol("0004", "Student Four");
    // The door's next round.
    let listed = school.listed_at_door();

    // Each machine noticed and told the school everything again: the morning's
    // enrolment and the decision on Student Two are back (the door's own mark, offered
    // again, does not undo it), the leaver and the erased face stay gone…
    assert_eq!(
        school.students_at_school(),
        ["R0002", "R0003", "R0004", "R0006"]
    );
    let day = today.format("%Y-%m-%d").to_string();
    let two_today: Vec<(bool, String)> = school
        .pg
        .client_of("school")
        .query(
            "SELECT a.present, a.source FROM attendance a
             JOIN students s ON s.uid = a.student_uid
             WHERE s.roll_no = 'R0002' AND a.day = $1",
            &[&day],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(two_today, [(false, "admin".to_string())]);
    assert_eq!(
        school.templates_at_school("R0006"),
        0,
        "Student Six's face stays erased"
    );
    let trip_at_school: i64 = school
        .pg
        .client_of("school")
        .query_one(
            "SELECT count(*) FROM class_days WHERE day = $1",
            &[&trip.format("%Y-%m-%d").to_string()],
        )
        .unwrap()
        .get(0);
    assert_eq!(trip_at_school, 0, "the trip stays withdrawn");
    assert!(school.templates_at_school("R0003") > 0);
    // …and the door, though the office wrote to the school first, has the office's
    // enrolment made after the restore.
    assert!(listed.contains("Student Four"), "{listed}");
    assert!(listed.contains("Student Three"), "{listed}");
    assert!(!listed.contains("Student Five"), "{listed}");
    let door_db = rollcall::store::Store::open(&school.door.join("rollcall.db")).unwrap();
    let six = student_named(&door_db, "R0006").expect("Student Six stays a student");
    assert!(door_db.templates_of(six.id).unwrap().is_empty());
    let two = student_named(&door_db, "R0002").unwrap().id;
    let at_door_today = door_db.attendance(today, today).unwrap();
    assert!(
        !at_door_today.iter().any(|m| m.student_id == two),
        "Student Two is not marked present at the door: {at_door_today:?}"
    );
    let audit = door_db.audit_log(50).unwrap();
    assert!(
        audit.iter().any(|e| e.action == "school server put back"),
        "{audit:?}"
    );
    // The door offered only what its login may write: nothing was refused.
    let status = door_db.school_status().unwrap().expect("linked");
    assert_eq!((status.refused_marks, status.problem), (0, None));
}

#[test]
fn what_a_machine_erased_while_away_from_the_school_stays_erased_when_it_joins_again() {
    let school = RoledSchool::start();
    school.enrol_two_five_and_six();
    assert!(school.listed_at_door().contains("Student Six"));
    let open = |folder: &Path| rollcall::store::Store::open(&folder.join("rollcall.db")).unwrap();

    // The office's computer is taken off the school for a while (the server is being
    // moved). Alone, it deletes Student Five (a leaver) and erases Student Six's face
    // (their parents withdrew consent); then it joins the school again.
    alone(&school.office, &["leave-school", "--yes"]);
    alone(&school.office, &["delete", "R0005", "--yes"]);
    alone(&school.office, &["delete", "R0006", "--face-data", "--yes"]);
    school.at_office(&["students"]);
    // The school's older copies did not come back: both are made at the school, and at
    // the door.
    assert_eq!(school.students_at_school(), ["R0002", "R0006"]);
    assert_eq!(school.templates_at_school("R0006"), 0);
    assert!(school.templates_at_school("R0002") > 0);
    assert!(student_named(&open(&school.office), "R0005").is_none());
    assert_eq!(templates_held(&school.office, "R0006"), 0);
    let listed = school.listed_at_door();
    assert!(!listed.contains("Student Five"), "{listed}");
    assert_eq!(templates_held(&school.door, "R0006"), 0);
    assert!(templates_held(&school.door, "R0002") > 0);

    // The door, away too, erases Student Two's face. Its login may not erase at the
    // school: joined again, the face stays out of the door, and the door says what the
    // school did not take.
    alone(&school.door, &["leave-school", "--yes"]);
    alone(&school.door, &["delete", "R0002", "--face-data", "--yes"]);
    school.at_door(&["students"]);
    assert_eq!(templates_held(&school.door, "R0002"), 0);
    assert!(school.templates_at_school("R0002") > 0);
    let status = open(&school.door).school_status().unwrap().expect("linked");
    assert_eq!(status.refused_changes, 1, "one erasure, one change refused");
    assert!(
        status
            .line()
            .ends_with(" — 1 change the school did not take"),
        "{}",
        status.line()
    );
    assert!(
        status.problem.as_deref().is_some_and(|p| p.starts_with(
            "erasing a student's face data was not taken by the school server: this \
                 door's login may not delete anything there. Do it at the office as well"
        )),
        "{status:?}"
    );
    // Once the office erases it too, nothing is left waiting.
    school.at_office(&["delete", "R0002", "--face-data", "--yes"]);
    school.at_door(&["students"]);
    let status = open(&school.door).school_status().unwrap().expect("linked");
    assert_eq!((status.problem, status.refused_changes), (None, 0));
    assert_eq!(
        open(&school.door)
            .unsent_to_school()
            .unwrap()
            .unwrap()
            .changes,
        0
    );
    for data in [&school.office, &school.door] {
        assert_eq!(times_taken_for_put_back(data), 0, "{}", data.display());
    }
}

#[test]
fn what_a_machine_changed_while_away_from_the_school_reaches_it_when_it_joins_again() {
    let school = RoledSchool::start();
    for (person, name) in [("0002", "Student Two"), ("0006", "Student Six")] {
        school.enrol(person, name);
    }
    marked(&school.at_door(&["mark", &at_the_door("0002")[0].display().to_string()]));
    school.at_office(&["students"]);
    // Today's mark of Student Two as each place holds it: present, and by whom.
    let two_today_at = |data: &Path| -> (bool, String) {
        let conn = rusqlite::Connection::open(data.join("rollcall.db")).unwrap();
        conn.query_row(
            "SELECT a.present, a.source FROM attendance a JOIN students s ON s.id = a.student_id
             WHERE s.roll_no = 'R0002' AND a.day = date('now', 'localtime')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let name_of_six_at = |data: &Path| -> String {
        let store = rollcall::store::Store::open(&data.join("rollcall.db")).unwrap();
        student_named(&store, "R0006").expect("Student Six").name
    };
    assert_eq!(two_today_at(&school.office), (true, "cli".to_string()));

    // The admin corrects Student Six's name, as the Students screen does, while the
    // server is out of reach (the change waits in the office's outbox), and the office's
    // computer is then taken off the school for a while. Alone, the admin takes Student
    // Two's mark away (the door took someone else for them), as Review does.
    let mut office = rollcall::store::Store::open(&school.office.join("rollcall.db")).unwrap();
    let six = student_named(&office, "R0006").unwrap().id;
    office
        .update_student(six, "R0006", "Sixtine Moreau", "0006@example.org", "admin")
        .unwrap();
    let out = common::rollcall(&school.office, &["leave-school", "--yes"]);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("1 change made here was not sent: it waits here for a later link"),
        "{said}"
    );
    let two = student_named(&office, "R0002").unwrap().id;
    let now = chrono::Local::now();
    office
        .correct(two, now.date_naive(), false, "someone else", "admin", now)
        .unwrap();
    drop(office);

    // Joined again, both reach the school and the door; the school's older copies do not
    // come back over them.
    school.at_office(&["students"]);
    assert_eq!(two_today_at(&school.office), (false, "admin".to_string()));
    assert_eq!(name_of_six_at(&school.office), "Sixtine Moreau");
    let (present, source): (bool, String) = {
        let row = school
            .pg
            .client_of("school")
            .query_one(
                "SELECT a.present, a.source FROM attendance a
                 JOIN students s ON s.uid = a.student_uid WHERE s.roll_no = 'R0002'",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((present, source.as_str()), (false, "admin"));
    school.at_door(&["students"]);
    assert_eq!(two_today_at(&school.door), (false, "admin".to_string()));
    assert_eq!(name_of_six_at(&school.door), "Sixtine Moreau");
    for data in [&school.office, &school.door] {
        assert_eq!(times_taken_for_put_back(data), 0, "{}", data.display());
    }
}

#[test]
fn a_machine_away_from_the_school_that_restores_a_backup_still_tells_it_what_it_erased() {
    let school = RoledSchool::start();
    let alone = |args: &[&str]| alone(&school.office, args);
    let templates_at_office = |roll_no: &str| templates_held(&school.office, roll_no);
    // The office's computer enrolled two students before the school had a server, and
    // was backed up then; it joins the school, and the door learns both faces.
    for (person, name) in [("0002", "Student Two"), ("0006", "Student Six")] {
        let out = enrolling(&school.office, None, person, name);
        assert!(out.status.success(), "{out:?}");
    }
    let early = school.tmp.path().join("before-the-school.rollcall");
    alone(&["backup", early.to_str().unwrap()]);
    school.at_office(&["students"]);
    assert!(school.templates_at_school("R0006") > 0);
    assert!(school.listed_at_door().contains("Student Six"));

    // Taken off the school for a while, it erases Student Six's face (consent
    // withdrawn), then a mistake is undone by restoring that early backup.
    alone(&["leave-school", "--yes"]);
    alone(&["delete", "R0006", "--face-data", "--yes"]);
    let restored = alone(&["restore", early.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&restored.stdout);
    assert!(
        said.contains("This computer had left the school server: it stays a door of its own"),
        "{said}"
    );
    assert_eq!(templates_at_office("R0006"), 0);

    // Joined again, the erasure reaches the school and the door, and the school's older
    // copy of the face does not come back.
    school.at_office(&["students"]);
    assert_eq!(templates_at_office("R0006"), 0);
    assert_eq!(school.templates_at_school("R0006"), 0);
    assert!(school.templates_at_school("R0002") > 0);
    school.at_door(&["students"]);
    assert_eq!(templates_held(&school.door, "R0006"), 0);
}

#[test]
fn a_school_server_put_back_as_a_copy_of_its_data_folder_is_told_everything_again() {
    let school = RoledSchool::start();
    for (person, name) in [("0002", "Student Two"), ("0005", "Student Five")] {
        school.enrol(person, name);
    }
    assert!(school.listed_at_door().contains("Student Five"));
    // At night the server's virtual machine is snapshotted. The next morning Student Two
    // is marked at the door, and the office enrols Student Three and deletes Student Five
    // (a leaver); the door hears of both.
    let snapshot = school.pg.copy_data_folder();
    marked(&school.at_door(&["mark", &at_the_door("0002")[0].display().to_string()]));
    school.enrol("0003", "Student Three");
    school.at_office(&["delete", "R0005", "--yes"]);
    let listed = school.listed_at_door();
    assert!(
        listed.contains("Student Three") && !listed.contains("Student Five"),
        "{listed}"
    );

    // The school rolls the server back to the snapshot, which PostgreSQL cannot tell from
    // the server it was. The office, first to reach it, enrols Student Four.
    school.pg.put_back_data_folder(&snapshot);
    assert_eq!(school.students_at_school(), ["R0002", "R0005"]);
    school.enrol("0004", "Student Four");
    let listed = school.listed_at_door();

    // The office found the server without the change it had fetched last and told it
    // everything again; the door, whose last change the office had sent again by then,
    // noticed because the office gave the server a new life.
    for data in [&school.office, &school.door] {
        assert!(times_taken_for_put_back(data) > 0, "{}", data.display());
    }
    assert_eq!(school.students_at_school(), ["R0002", "R0003", "R0004"]);
    assert_eq!(school.marks_at_school(), ["R0002 at North door"]);
    for student in ["Student Two", "Student Three", "Student Four"] {
        assert!(listed.contains(student), "{student}: {listed}");
    }
    assert!(!listed.contains("Student Five"), "{listed}");
    let door_db = rollcall::store::Store::open(&school.door.join("rollcall.db")).unwrap();
    let status = door_db.school_status().unwrap().expect("linked");
    assert_eq!((status.refused_marks, status.problem), (0, None));
    // Once is enough: the next rounds find the server as they left it.
    school.at_door(&["students"]);
    school.enrol("0006", "Student Six");
    for data in [&school.office, &school.door] {
        assert_eq!(times_taken_for_put_back(data), 1, "{}", data.display());
    }
}

/// A school with Student Two enrolled and fetched by the door, whose server's tables are
/// then as a release with server schema 2 left them.
fn school_at_server_schema_2() -> RoledSchool {
    let school = RoledSchool::start();
    school.enrol("0002", "Student Two");
    assert!(school.at_door(&["students"]).status.success());
    school
        .pg
        .client_of("school")
        .batch_execute(
            "DROP TABLE server_life;
             DROP TRIGGER attendance_keep_decision_by_hand ON attendance;
             DROP FUNCTION attendance_keep_decision_by_hand;
             DROP FUNCTION record_deletion CASCADE;
             DROP FUNCTION number_change CASCADE;
             DROP FUNCTION record_truncation CASCADE;
             DELETE FROM rollcall_schema WHERE version > 2;",
        )
        .unwrap();
    school
}

/// How many versions of the school server's tables this release has.
fn server_schema_versions() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/db/postgres"))
        .unwrap()
        .count()
}

#[test]
fn a_school_server_put_back_in_place_from_a_backup_made_before_an_upgrade_is_upgraded_again() {
    // The night's backup of the server was made before an upgrade of its tables (a
    // release with server schema 2); the next morning the office's first round upgrades
    // them, Student Two is marked at the door and the office enrols Student Three.
    let school = school_at_server_schema_2();
    let backup = backup_then_a_morning(&school);
    // The school puts the night's backup back over the tables (`pg_restore --clean`): what
    // the upgrade added beside them (its functions, a table) stays as the upgraded server
    // had it.
    school.pg.restore_in_place("school", &backup);
    // The office upgrades the tables again, and each machine gives the server its morning
    // (no round fails: "The school server answered with an error: …").
    for _ in 0..2 {
        for out in [
            school.at_office(&["students"]),
            school.at_door(&["students"]),
        ] {
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && !said.contains("The school server"),
                "{said}"
            );
        }
    }
    assert_eq!(school.students_at_school(), ["R0002", "R0003"]);
    assert_eq!(school.marks_at_school(), ["R0002 at North door"]);
    let versions: i32 = school
        .pg
        .client_of("school")
        .query_one("SELECT max(version) FROM rollcall_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(versions as usize, server_schema_versions());
}

#[test]
fn a_door_upgraded_before_the_office_keeps_its_marks_until_the_office_upgrades_the_server() {
    // The school server and both folders as the release before this one left them: the
    // server's schema at version 2, and each folder with the server's ids but no life or
    // last change seen.
    let school = school_at_server_schema_2();
    for data in [&school.office, &school.door] {
        rusqlite::Connection::open(data.join("rollcall.db"))
            .unwrap()
            .execute_batch(
                "UPDATE school_link SET last_seen = NULL,
                        server_id = substr(server_id, 1, length(server_id) - 33)",
            )
            .unwrap();
    }

    // The door, upgraded first, cannot change the server's tables with its login: it says
    // so, and marks Student Two all the same.
    let frame = at_the_door("0002")[0].display().to_string();
    let out = school.at_door(&["mark", &frame]);
    marked(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("start Rollcall once with the school administrator's login first"),
        "{said}"
    );
    assert!(school.marks_at_school().is_empty());

    // The office starts and upgrades the server; the door's next round sends the mark.
    school.at_office(&["students"]);
    assert!(school.at_door(&["students"]).status.success());
    assert_eq!(school.marks_at_school(), ["R0002 at North door"]);
    for data in [&school.office, &school.door] {
        assert_eq!(times_taken_for_put_back(data), 0, "{}", data.display());
    }
}

#[test]
fn a_door_on_an_older_release_offering_its_mark_again_does_not_undo_a_decision_by_hand() {
    let school = RoledSchool::start();
    school.enrol("0002", "Student Two");
    let frame = at_the_door("0002")[0].display().to_string();
    marked(&school.at_door(&["mark", &frame]));
    // The office records that Student Two went home ill.
    school.at_office(&["students"]);
    {
        let mut store = rollcall::store::Store::open(&school.office.join("rollcall.db")).unwrap();
        let two = student_named(&store, "R0002").unwrap().id;
        let today = chrono::Local::now().date_naive();
        let now = chrono::Local::now();
        assert!(
            store
                .correct(two, today, false, "went home ill", "admin", now)
                .unwrap()
                .changed
        );
    }
    school.at_office(&["students"]);
    // The door, on a release before 2026-12-05, offers its own mark again (after a crash)
    // with that release's SQL, under its own login.
    let row_at_school = |client: &mut postgres::Client| -> (String, bool, String) {
        let r = client
            .query_one("SELECT uid, present, source FROM attendance", &[])
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    let (uid, present, source) = row_at_school(&mut school.pg.client_of("school"));
    assert_eq!((present, source.as_str()), (false, "admin"));
    let mut old_door =
        postgres::Client::connect(&school.address("north"), postgres::NoTls).unwrap();
    let updated = old_door
        .execute(
            "UPDATE attendance SET present = true, source = 'kiosk',
                 change = nextval('school_changes')
             WHERE uid = $1",
            &[&uid],
        )
        .unwrap();
    // The school server keeps the decision by hand.
    assert_eq!(updated, 0);
    assert_eq!(
        row_at_school(&mut school.pg.client_of("school")),
        (uid, false, "admin".to_string())
    );
}

#[test]
fn the_kiosk_says_when_the_school_server_is_offline_and_how_many_marks_wait() {
    let pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = rollcall::data_dir::DataDir::resolve(Some(&tmp.path().join("north")))
        .create()
        .unwrap();
    common::enrol_student_two(&mut common::open_service(data.root()));
    let server = rollcall::store::school::SchoolServer {
        url: pg.url(),
        door: "North door".into(),
        ca_file: None,
    };
    // As `rollcall` does for a linked data folder: the link runs beside the window.
    let _link =
        rollcall::store::school::SchoolLink::start(&data.database(), &data.photos(), &server)
            .unwrap();
    let linked = Instant::now();
    // (Until the link has set the server up, there is no table to count.)
    let students = || -> i64 {
        pg.client()
            .query_one("SELECT count(*) FROM students", &[])
            .map(|r| r.get(0))
            .unwrap_or(0)
    };
    while students() == 0 {
        assert!(
            linked.elapsed() < Duration::from_secs(10),
            "the class never reached the server"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    pg.stop();

    let mut settings = rollcall::settings::Settings::default();
    settings.kiosk.sound = false;
    let frames = recording(&tmp.path().join("rec"), &[&at_the_door("0002")], 0);
    let mut h = common::app_harness(
        (1024.0, 768.0),
        rollcall::ui::AppOptions {
            data: data.clone(),
            settings,
            // The student stays at the door (played over and over).
            source: rollcall::camera::SourceSpec::Folder {
                path: frames,
                fps: 10.0,
                looping: true,
            }
            .into(),
            observer: None,
        },
    );
    use common::ui::shows;
    // The student is marked at the door while the server is down, and the mark waits.
    common::ui::step_until(&mut h, "the mark and the offline status", 120, |h| {
        shows(h, "Marked today: 1") && shows(h, "School server offline — 1 mark waiting")
    });

    pg.start_again();
    common::ui::step_until(&mut h, "the connected status", 30, |h| {
        shows(h, "School server: connected") && !shows(h, "waiting")
    });
    assert_eq!(marks_on_server(&pg).len(), 1);
}

#[test]
fn an_office_that_erases_a_students_face_and_enrols_it_again_while_the_server_is_away_keeps_the_new_photos(
) {
    let school = OfficeAndDoor::start();
    let ada = OfficeAndDoor::enrol_with_photo(&school.office, "A1");
    school.sync(&school.office, "Office");
    let templates_at_school = || templates_on_server_of(&mut school.pg.client(), "A1");
    assert_eq!(templates_at_school(), 1);

    // The server is away; meanwhile the office erases Ada's face data (at her request, or
    // a wrong photo) and enrols her face again.
    school.erase_and_enrol_again_at_the_office(ada, "A1");

    // Back: the erasure reaches the school before the new photo's template, which the
    // school keeps; the office keeps the photo when its own erasure comes back to it.
    school.sync(&school.office, "Office");
    assert_eq!(school.photos_at_the_office(ada), ["new.jpg"]);
    assert_eq!(templates_at_school(), 1);
    // And a door knows her face by it.
    school.sync(&school.door, "North door");
    let door = OfficeAndDoor::store(&school.door);
    let at_door = student_named(&door, "A1").expect("the door has Ada");
    assert_eq!(door.templates_of(at_door.id).unwrap().len(), 1);
}

#[test]
fn a_row_deleted_by_hand_at_the_school_server_goes_at_every_machine_too() {
    let school = OfficeAndDoor::start();
    let bob = OfficeAndDoor::enrol_with_photo(&school.office, "B2");
    school.sync_all();
    school.sync(&school.door, "North door");
    // The school's IT deletes Bob's face template by hand, in psql: the newest change each
    // machine fetched. Each machine follows (and takes the server for no other: `sync`
    // asserts it).
    let deleted = school
        .pg
        .client()
        .execute("DELETE FROM face_templates", &[])
        .unwrap();
    assert_eq!(deleted, 1);
    school.sync_all();
    let door = OfficeAndDoor::store(&school.door);
    let at_door = student_named(&door, "B2").expect("the door has Bob");
    assert!(door.templates_of(at_door.id).unwrap().is_empty());
    let office = OfficeAndDoor::store(&school.office);
    assert!(office.templates_of(bob).unwrap().is_empty());
}

#[test]
fn marks_cleared_by_hand_at_the_school_server_go_at_every_machine_too() {
    let school = OfficeAndDoor::start();
    OfficeAndDoor::enrol_with_photo(&school.office, "B2");
    school.sync_all();
    {
        let mut door = OfficeAndDoor::store(&school.door);
        let bob = student_named(&door, "B2").expect("the door has Bob").id;
        door.mark(bob, chrono::Local::now(), Some(7.5), "kiosk", None)
            .unwrap();
    }
    school.sync_all();
    let marks = |dir: &Path| {
        let today = chrono::Local::now().date_naive();
        OfficeAndDoor::store(dir)
            .attendance(today, today)
            .unwrap()
            .len()
    };
    assert_eq!((marks(&school.office), marks(&school.door)), (1, 1));
    // The school's IT clears the marks by hand, in psql (a new school year): each machine
    // follows (and takes the server for no other: `sync` asserts it).
    school
        .pg
        .client()
        .batch_execute("TRUNCATE attendance")
        .unwrap();
    school.sync_all();
    school.sync(&school.door, "North door");
    assert_eq!((marks(&school.office), marks(&school.door)), (0, 0));
    let at_school: i64 = school
        .pg
        .client()
        .query_one("SELECT count(*) FROM attendance", &[])
        .unwrap()
        .get(0);
    assert_eq!(at_school, 0);
}

#[test]
fn a_row_changed_by_hand_at_the_school_server_reaches_every_machine_in_the_order_it_was_made() {
    let school = OfficeAndDoor::start();
    OfficeAndDoor::enrol_with_photo(&school.office, "B2");
    school.sync_all();
    // The school's IT corrects Bob's name by hand, in psql, and leaves the transaction open
    // a while; meanwhile the office enrols Cy.
    let mut by_hand = school.pg.client();
    let mut correction = by_hand.transaction().unwrap();
    let corrected = correction
        .execute(
            "UPDATE students SET name = 'Robert Hand' WHERE roll_no = 'B2'",
            &[],
        )
        .unwrap();
    assert_eq!(corrected, 1);
    OfficeAndDoor::enrol_with_photo(&school.office, "C3");
    std::thread::scope(|s| {
        let office_round = s.spawn(|| school.sync(&school.office, "Office"));
        // The office's change waits for the one made by hand (were it numbered after it
        // and visible first, a door fetching then would never ask for the correction).
        let mut watcher = school.pg.client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let waiting: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
                    &[],
                )
                .unwrap()
                .get(0);
            if waiting > 0 {
                break;
            }
            assert!(
                !office_round.is_finished() && Instant::now() < deadline,
                "the office's change did not wait for the one made by hand"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        correction.commit().unwrap();
        office_round.join().unwrap();
    });
    // Every machine has both: the correction made by hand, and Cy.
    school.sync(&school.door, "North door");
    for dir in [&school.office, &school.door] {
        let store = OfficeAndDoor::store(dir);
        let bob = student_named(&store, "B2").expect("Bob is there");
        assert_eq!(bob.name, "Robert Hand", "{}", dir.display());
        assert!(student_named(&store, "C3").is_some(), "{}", dir.display());
    }
}

#[test]
fn a_large_school_is_fetched_in_parts_and_a_face_enrolled_again_survives_its_old_erasure_in_another(
) {
    let school = OfficeAndDoor::start();
    // Ada's face erased at the office and enrolled again: the school holds the erasure and
    // the new photo's template.
    let ada = OfficeAndDoor::enrol_with_photo(&school.office, "A1");
    school.sync(&school.office, "Office");
    school.erase_and_enrol_again_at_the_office(ada, "A1");
    school.sync(&school.office, "Office");
    // And a large school: 2,100 more students and 3,000 days of Ada's marks (more rows
    // than a door writes in one transaction), put straight into the server.
    school
        .pg
        .client()
        .batch_execute(
            "INSERT INTO students (uid, roll_no, name, email, enrolled_at)
               SELECT 'many-' || i, 'M' || i, 'Student ' || i, 'm' || i || '@example.org',
                      '2026-09-01T08:00:00+00:00'
               FROM generate_series(1, 2100) i;
             INSERT INTO attendance (uid, student_uid, day, marked_at, score, source, door)
               SELECT 'old-' || d, s.uid, to_char(date '2010-01-01' + d, 'YYYY-MM-DD'),
                      to_char(date '2010-01-01' + d, 'YYYY-MM-DD') || 'T08:10:00+00:00',
                      4.0, 'kiosk', 'North door'
               FROM students s, generate_series(1, 3000) d WHERE s.roll_no = 'A1';",
        )
        .unwrap();

    // A door joining gets all of it.
    school.sync(&school.door, "North door");
    let door = OfficeAndDoor::store(&school.door);
    assert_eq!(door.students().unwrap().len(), 2101);
    let at_door = student_named(&door, "A1").expect("the door has Ada");
    assert_eq!(door.templates_of(at_door.id).unwrap().len(), 1);
    let day = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let marks = door
        .attendance(day("2010-01-01"), day("2019-01-01"))
        .unwrap();
    assert_eq!(marks.len(), 3000);

    // The office fetches the school again from its start (as after the server was put
    // back): the old erasure comes in the first part, the new photo's template in a later
    // one, and the new photo stays.
    rusqlite::Connection::open(school.office.join("rollcall.db"))
        .unwrap()
        .execute("UPDATE school_link SET pulled = 0", [])
        .unwrap();
    school.sync(&school.office, "Office");
    assert_eq!(school.photos_at_the_office(ada), ["new.jpg"]);
    let office = OfficeAndDoor::store(&school.office);
    assert_eq!(office.students().unwrap().len(), 2101);
}

#[test]
fn corrections_and_removals_reach_every_door() {
    use rollcall::store::school::{sync_once, SchoolServer};
    use rollcall::store::{ErasureKind, NewStudent, Store};
    let pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let place = |name: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(dir.join("photos")).unwrap();
        (dir.join("rollcall.db"), dir.join("photos"))
    };
    let (office_db, office_photos) = place("office");
    let (door_db, door_photos) = place("north");
    let office_server = SchoolServer {
        url: pg.url(),
        door: "Office".into(),
        ca_file: None,
    };
    let door_server = SchoolServer {
        door: "North door".into(),
        ..office_server.clone()
    };
    let sync = || {
        sync_once(&office_db, &office_photos, &office_server).unwrap();
        sync_once(&door_db, &door_photos, &door_server).unwrap();
        sync_once(&office_db, &office_photos, &office_server).unwrap();
        for dir in [&office_db, &door_db] {
            let dir = dir.parent().unwrap();
            assert_eq!(times_taken_for_put_back(dir), 0, "{}", dir.display());
        }
    };
    let mut office = Store::open(&office_db).unwrap();
    let enrol = |s: &mut Store, roll: &str| {
        s.insert_student(
            &NewStudent {
                roll_no: roll.into(),
                name: format!("Student {roll}"),
                email: format!("{roll}@example.org"),
            },
            &[],
            "admin",
        )
        .unwrap()
    };
    let (ada, bob) = (enrol(&mut office, "A1"), enrol(&mut office, "B2"));
    sync();
    let door = Store::open(&door_db).unwrap();
    let at_door = |roll: &str| student_named(&door, roll).map(|s| s.id);
    let today = chrono::Local::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let marks_at_door = |day| {
        let mut v: Vec<i64> = door
            .attendance(day, day)
            .unwrap()
            .iter()
            .map(|m| m.student_id)
            .collect();
        v.sort();
        v
    };

    // A correction at the office and a mark at the door each reach the other side.
    assert!(
        office
            .correct(
                ada,
                yesterday,
                true,
                "on a school trip",
                "admin",
                chrono::Local::now()
            )
            .unwrap()
            .changed
    );
    let mut door_w = Store::open(&door_db).unwrap();
    door_w
        .mark(
            at_door("B2").unwrap(),
            chrono::Local::now(),
            Some(0.9),
            "kiosk",
            None,
        )
        .unwrap();
    sync();
    assert_eq!(marks_at_door(yesterday), vec![at_door("A1").unwrap()]);
    let at_office = office.marks(today, today).unwrap();
    assert_eq!(at_office.len(), 1);
    assert_eq!(at_office[0].door.as_deref(), Some("North door"));

    // The office takes the correction back and removes a student: the door follows.
    assert!(
        office
            .correct(
                ada,
                yesterday,
                false,
                "entered by mistake",
                "admin",
                chrono::Local::now()
            )
            .unwrap()
            .changed
    );
    office.delete_student(bob, "admin").unwrap();
    sync();
    assert_eq!(marks_at_door(yesterday), Vec::<i64>::new());
    assert_eq!(marks_at_door(today), Vec::<i64>::new());
    assert_eq!(at_door("B2"), None);
    assert!(at_door("A1").is_some());
    // The door remembers the deletion as its own: restoring its older backup does not
    // bring the student back.
    let erased: Vec<(ErasureKind, String)> = door
        .erasures()
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.subject))
        .collect();
    assert_eq!(erased, [(ErasureKind::Student, "B2".to_string())]);
    let on_server: i64 = pg
        .client()
        .query_one("SELECT count(*) FROM attendance WHERE present", &[])
        .unwrap()
        .get(0);
    assert_eq!(on_server, 0);

    // A class day declared at the office counts at the door too; withdrawn by mistake,
    // it stops counting there as well.
    let holiday = today - chrono::Days::new(3);
    assert!(!door.is_class_day(holiday).unwrap());
    assert!(office.declare_class_day(holiday, "admin").unwrap());
    sync();
    assert!(door.is_class_day(holiday).unwrap());
    assert!(office.withdraw_class_day(holiday, "admin").unwrap());
    sync();
    assert!(!door.is_class_day(holiday).unwrap());
    assert!(!office.is_class_day(holiday).unwrap());

    // A roll number typed wrong, corrected at the office: the door knows the same student
    // by the new number, with the mark it made.
    let ada_here = at_door("A1").unwrap();
    door_w
        .mark(ada_here, chrono::Local::now(), Some(0.9), "kiosk", None)
        .unwrap();
    sync();
    office
        .update_student(ada, "A10", "Student A1", "A1@example.org", "admin")
        .unwrap();
    sync();
    assert_eq!(at_door("A10"), Some(ada_here));
    assert_eq!(at_door("A1"), None);
    assert_eq!(marks_at_door(today), vec![ada_here]);
    let at_school: Vec<String> = pg
        .client()
        .query("SELECT roll_no FROM students", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(at_school, ["A10"]);

    // Away from the school for a week and back: the door knows the days away.
    let (last_day, back) = (today - chrono::Days::new(10), today - chrono::Days::new(2));
    office.student_left(ada, last_day, today, "admin").unwrap();
    sync();
    assert_eq!(
        student_named(&door, "A10").unwrap().last_day,
        Some(last_day)
    );
    assert!(office.student_back(ada, back, "admin").unwrap());
    sync();
    let at_door = student_named(&door, "A10").unwrap();
    assert_eq!(at_door.last_day, None);
    let away = (last_day + chrono::Days::new(1), back - chrono::Days::new(1));
    assert_eq!(at_door.away, [away]);
}

/// An office and a door (data folders in a temporary folder) on one real PostgreSQL,
/// each changed through its store and brought in step by one link round at a time.
struct OfficeAndDoor {
    pg: Postgres,
    tmp: tempfile::TempDir,
    office: PathBuf,
    door: PathBuf,
}

impl OfficeAndDoor {
    fn start() -> OfficeAndDoor {
        let tmp = tempfile::tempdir().unwrap();
        let place = |name: &str| {
            let dir = tmp.path().join(name);
            std::fs::create_dir_all(dir.join("photos")).unwrap();
            dir
        };
        let (office, door) = (place("office"), place("north"));
        OfficeAndDoor {
            pg: Postgres::start(),
            tmp,
            office,
            door,
        }
    }

    /// One link round at the data folder `dir`, as door `name`; nothing may be refused.
    fn sync(&self, dir: &Path, name: &str) {
        let server = rollcall::store::school::SchoolServer {
            url: self.pg.url(),
            door: name.into(),
            ca_file: None,
        };
        let refused = rollcall::store::school::sync_once(
            &dir.join("rollcall.db"),
            &dir.join("photos"),
            &server,
        );
        assert_eq!(refused.unwrap(), Vec::<String>::new());
        assert_eq!(times_taken_for_put_back(dir), 0, "{name}");
    }

    /// The office, the door, then the office again: each holds the other's changes.
    fn sync_all(&self) {
        self.sync(&self.office, "Office");
        self.sync(&self.door, "North door");
        self.sync(&self.office, "Office");
    }

    /// The database of the data folder `dir`.
    fn store(dir: &Path) -> rollcall::store::Store {
        rollcall::store::Store::open(&dir.join("rollcall.db")).unwrap()
    }

    /// How many face templates the school server holds.
    fn templates_on_server(&self) -> i64 {
        self.pg
            .client()
            .query_one("SELECT count(*) FROM face_templates", &[])
            .unwrap()
            .get(0)
    }

    /// Enrols `roll` at the data folder `dir`, from a photo kept there (`photo`); the other
    /// machine gets only the template.
    fn enrol_with_photo(dir: &Path, roll: &str) -> i64 {
        let photo = Self::photo(dir, &format!("{roll}.jpg"));
        Self::store(dir)
            .insert_student(&new_student(roll), &[photo], "admin")
            .unwrap()
    }

    /// At the office: the face data of `id` (enrolled by `enrol_with_photo` as `roll`)
    /// erased, their photo file with it, and their face enrolled again from `new.jpg`.
    fn erase_and_enrol_again_at_the_office(&self, id: i64, roll: &str) {
        let mut office = Self::store(&self.office);
        let (files, _) = office.erase_face_data(id, "admin").unwrap();
        assert_eq!(files, [format!("{roll}.jpg")]);
        std::fs::remove_file(self.office.join("photos").join(&files[0])).unwrap();
        let again = Self::photo(&self.office, "new.jpg");
        office.add_photos(id, &[again], "admin").unwrap();
    }

    /// The office's photos of student `id` (file names), each asserted to be on disk,
    /// and asserted to have one template each.
    fn photos_at_the_office(&self, id: i64) -> Vec<String> {
        let office = Self::store(&self.office);
        let files: Vec<String> = office
            .photos_of(id)
            .unwrap()
            .into_iter()
            .map(|p| p.file_name)
            .collect();
        for f in &files {
            assert!(self.office.join("photos").join(f).exists(), "{f}");
        }
        assert_eq!(office.templates_of(id).unwrap().len(), files.len());
        files
    }

    /// A photo file `file` written in the data folder `dir`, with one template.
    fn photo(dir: &Path, file: &str) -> rollcall::store::NewPhoto {
        std::fs::write(dir.join("photos").join(file), empty_frame()).unwrap();
        rollcall::store::NewPhoto {
            file_name: file.into(),
            origin: "camera".into(),
            templates: vec![("dlib-resnet-v1".into(), vec![0.25; 128])],
        }
    }
}

fn new_student(roll: &str) -> rollcall::store::NewStudent {
    rollcall::store::NewStudent {
        roll_no: roll.into(),
        name: format!("Student {roll}"),
        email: format!("{roll}@example.org"),
    }
}

#[test]
fn an_absence_recorded_by_hand_keeps_every_door_from_marking_the_student_that_day() {
    use rollcall::store::MarkRecord;
    let school = OfficeAndDoor::start();
    let mut office = OfficeAndDoor::store(&school.office);
    let ada = office
        .insert_student(&new_student("A1"), &[], "admin")
        .unwrap();
    let bob = office
        .insert_student(&new_student("B2"), &[], "admin")
        .unwrap();
    school.sync_all();
    let mut door = OfficeAndDoor::store(&school.door);
    let at_door = |roll: &str| student_named(&door, roll).unwrap().id;
    let (ada_here, bob_here) = (at_door("A1"), at_door("B2"));
    let now = chrono::Local::now();
    let today = now.date_naive();
    let kiosk = |s: &mut rollcall::store::Store, id| {
        s.mark(id, chrono::Local::now(), Some(9.0), "kiosk", None)
            .unwrap()
    };
    let present_on_server = || -> i64 {
        school
            .pg
            .client()
            .query_one("SELECT count(*) FROM attendance WHERE present", &[])
            .unwrap()
            .get(0)
    };

    // The door marks Ada; she goes home ill and the office records her absent. The door
    // hears of it and does not mark her again as she walks out.
    assert!(matches!(kiosk(&mut door, ada_here), MarkRecord::New(_)));
    school.sync_all();
    assert!(
        office
            .correct(
                ada,
                today,
                false,
                "went home ill",
                "admin",
                chrono::Local::now()
            )
            .unwrap()
            .changed
    );
    school.sync_all();
    assert!(door.attendance(today, today).unwrap().is_empty());
    assert!(matches!(
        kiosk(&mut door, ada_here),
        MarkRecord::AbsentByHand(_)
    ));

    // Crossed: the office records Bob absent while the door, not told yet, marks him and
    // reaches the school first. The absence wins at the school and at the door.
    assert!(
        office
            .correct(bob, today, false, "on leave", "admin", chrono::Local::now())
            .unwrap()
            .changed
    );
    assert!(matches!(kiosk(&mut door, bob_here), MarkRecord::New(_)));
    school.sync(&school.door, "North door");
    assert_eq!(present_on_server(), 1);
    school.sync(&school.office, "Office");
    school.sync(&school.door, "North door");
    assert_eq!(present_on_server(), 0);
    assert!(door.attendance(today, today).unwrap().is_empty());
    let mut absent = door.absent_by_hand(today).unwrap();
    absent.sort();
    let mut expected = [ada_here, bob_here];
    expected.sort();
    assert_eq!(absent, expected);
    assert!(matches!(
        kiosk(&mut door, bob_here),
        MarkRecord::AbsentByHand(_)
    ));
    assert!(office.attendance(today, today).unwrap().is_empty());

    // Bob comes after all; the teacher corrects him to present at the door, and the
    // office has him present.
    assert!(
        door.correct(
            bob_here,
            today,
            true,
            "came after all",
            "admin",
            chrono::Local::now()
        )
        .unwrap()
        .changed
    );
    school.sync_all();
    let at_office: Vec<i64> = office
        .attendance(today, today)
        .unwrap()
        .iter()
        .map(|m| m.student_id)
        .collect();
    assert_eq!(at_office, [bob]);
    assert_eq!(office.absent_by_hand(today).unwrap(), [ada]);
}

#[test]
fn restoring_a_doors_backup_does_not_undo_what_the_school_changed_since() {
    use rollcall::data_dir::DataDir;
    let school = OfficeAndDoor::start();
    let on_server = |sql: &str| -> i64 { school.pg.client().query_one(sql, &[]).unwrap().get(0) };

    // The office enrols Ada; the door has her.
    let mut office = OfficeAndDoor::store(&school.office);
    let ada = office
        .insert_student(&new_student("A1"), &[], "admin")
        .unwrap();
    school.sync_all();

    // At the door, with the link not yet round: Ada's name corrected, Bob enrolled at the
    // kiosk's camera with his face, a mark for Ada. The door's backup holds all of it in
    // its outbox.
    let mut door = OfficeAndDoor::store(&school.door);
    let ada_here = student_named(&door, "A1").unwrap().id;
    door.update_student(ada_here, "A1", "Ada (door)", "A1@example.org", "admin")
        .unwrap();
    let bob_here = OfficeAndDoor::enrol_with_photo(&school.door, "B2");
    door.mark(ada_here, chrono::Local::now(), Some(0.9), "kiosk", None)
        .unwrap();
    let backup = school.tmp.path().join("north.rollcall");
    door.backup_to(
        &backup,
        &rollcall::data_dir::DataDir::resolve(Some(&school.door)),
    )
    .unwrap();
    school.sync_all();
    assert_eq!(school.templates_on_server(), 1);

    // Since the backup, the office renamed Ada and erased Bob's face data (his parents
    // withdrew consent).
    office
        .update_student(ada, "A1", "Ada Lovelace", "A1@example.org", "admin")
        .unwrap();
    let bob = student_named(&office, "B2").unwrap().id;
    office.erase_face_data(bob, "admin").unwrap();
    school.sync_all();
    assert_eq!(school.templates_on_server(), 0);
    assert!(door.templates_of(bob_here).unwrap().is_empty());
    drop(door);

    // The door's disk is replaced and its backup restored: it takes the school's changes
    // before sending its own, so neither comes undone — at the server or at any door.
    let restored =
        rollcall::store::restore(&DataDir::resolve(Some(&school.door)), &backup).unwrap();
    assert!(restored.linked);
    assert!(
        restored
            .report(&backup)
            .iter()
            .any(|l| l.contains("takes what the school changed since this backup")),
        "{:?}",
        restored.report(&backup)
    );
    school.sync_all();
    let name_on_server: String = school
        .pg
        .client()
        .query_one("SELECT name FROM students WHERE roll_no = 'A1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(name_on_server, "Ada Lovelace");
    assert_eq!(school.templates_on_server(), 0);
    let mut door = OfficeAndDoor::store(&school.door);
    assert_eq!(student_named(&door, "A1").unwrap().name, "Ada Lovelace");
    let bob_here = student_named(&door, "B2").unwrap().id;
    assert!(door.templates_of(bob_here).unwrap().is_empty());
    assert!(door.photos_of(bob_here).unwrap().is_empty());
    assert_eq!(student_named(&office, "A1").unwrap().name, "Ada Lovelace");
    // Ada's mark, which only the door had made, still counts everywhere.
    assert_eq!(on_server("SELECT count(*) FROM attendance"), 1);
    let today = chrono::Local::now().date_naive();
    assert_eq!(door.marks(today, today).unwrap().len(), 1);

    // What the door changes after the restore reaches the school as before.
    door.update_student(ada_here, "A1", "Ada King", "A1@example.org", "admin")
        .unwrap();
    school.sync_all();
    assert_eq!(student_named(&office, "A1").unwrap().name, "Ada King");
}

#[test]
fn a_students_face_data_erased_at_one_machine_is_erased_at_every_machine() {
    use rollcall::store::ErasureKind;
    let school = OfficeAndDoor::start();
    // Each machine enrols one student from a photo it keeps; the other has only the
    // template.
    OfficeAndDoor::enrol_with_photo(&school.door, "B2");
    OfficeAndDoor::enrol_with_photo(&school.office, "C3");
    school.sync_all();
    assert_eq!(school.templates_on_server(), 2);
    // What a machine holds of a student's face: photos, templates, the photo file, and
    // whether it recorded the erasure.
    let face_at = |dir: &Path, roll: &str| {
        let s = OfficeAndDoor::store(dir);
        let id = student_named(&s, roll).unwrap().id;
        let erased = s
            .erasures()
            .unwrap()
            .iter()
            .any(|e| e.kind == ErasureKind::FaceData && e.subject == roll);
        (
            s.photos_of(id).unwrap().len(),
            s.templates_of(id).unwrap().len(),
            dir.join("photos").join(format!("{roll}.jpg")).exists(),
            erased,
        )
    };
    assert_eq!(face_at(&school.door, "B2"), (1, 1, true, false));

    // The office erases Bob's face data (his parents withdrew consent). His photo was
    // taken at the door: it goes there too — otherwise the door would embed it again at
    // the next model change and send his face back to every machine.
    let mut office = OfficeAndDoor::store(&school.office);
    let bob = student_named(&office, "B2").unwrap().id;
    office.erase_face_data(bob, "admin").unwrap();
    school.sync_all();
    assert_eq!(face_at(&school.door, "B2"), (0, 0, false, true));
    assert_eq!(face_at(&school.office, "B2"), (0, 0, false, true));
    assert_eq!(school.templates_on_server(), 1);
    let log = OfficeAndDoor::store(&school.door).audit_log(1).unwrap();
    assert!(
        log[0]
            .details
            .contains("erased at another machine of the school"),
        "{:?}",
        log[0]
    );

    // The same the other way: erased at the door, Cy's photo at the office goes.
    let mut door = OfficeAndDoor::store(&school.door);
    let cy = student_named(&door, "C3").unwrap().id;
    door.erase_face_data(cy, "admin").unwrap();
    school.sync_all();
    assert_eq!(face_at(&school.office, "C3"), (0, 0, false, true));
    assert_eq!(school.templates_on_server(), 0);
}

/// A leave the office records ahead of the student's last day: every door knows the day
/// and the face until it is over, marks them up to it and not after, and the face goes
/// everywhere once it is over (until 2026-12-06 a leave could only be recorded once the
/// student had gone, as the face data went at once).
#[test]
fn a_leave_recorded_ahead_keeps_the_face_at_every_door_until_the_last_day_is_over() {
    use rollcall::store::MarkRecord;
    let school = OfficeAndDoor::start();
    OfficeAndDoor::enrol_with_photo(&school.office, "C3");
    school.sync_all();
    let today = chrono::Local::now().date_naive();
    let friday = today + chrono::Days::new(4);
    let mut office = OfficeAndDoor::store(&school.office);
    let cy = student_named(&office, "C3").unwrap().id;
    let (files, erased) = office.student_left(cy, friday, today, "admin").unwrap();
    assert_eq!((files.len(), erased), (0, Default::default()));
    school.sync_all();
    let mut door = OfficeAndDoor::store(&school.door);
    let at_door = student_named(&door, "C3").unwrap();
    assert_eq!(at_door.last_day, Some(friday));
    assert_eq!(templates_held(&school.door, "C3"), 1, "known until Friday");
    let at = |day: chrono::NaiveDate| {
        day.and_hms_opt(9, 0, 0)
            .unwrap()
            .and_local_timezone(chrono::Local)
            .unwrap()
    };
    let saturday = friday + chrono::Days::new(1);
    assert!(matches!(
        door.mark(at_door.id, at(today), Some(7.0), "kiosk", None)
            .unwrap(),
        MarkRecord::New(_)
    ));
    assert_eq!(
        door.mark(at_door.id, at(saturday), Some(7.0), "kiosk", None)
            .unwrap(),
        MarkRecord::Left(friday.to_string())
    );

    // Saturday at the office: the face goes there, and from there at every door.
    let (files, leavers) = office
        .erase_face_data_of_leavers(saturday, "rollcall")
        .unwrap();
    assert_eq!((files, leavers), (vec!["C3.jpg".to_string()], 1));
    school.sync_all();
    assert_eq!(templates_held(&school.door, "C3"), 0);
    assert_eq!(school.templates_on_server(), 0);
}
