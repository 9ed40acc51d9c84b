//! Crash safety: `rollcall enroll` and `rollcall mark` are killed with SIGKILL at random
//! moments, twenty times. After each kill the database passes its integrity check, nobody
//! is enrolled without face templates, no stray photo file survives the next start, and
//! every mark the program acknowledged is in the book.

use crate::common;

use common::{open_service, photos};
use rollcall::attendance::PhotoInput;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// A small deterministic generator; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn conn(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("rollcall.db")).unwrap()
}

/// Checks the invariants; `acknowledged` are roll numbers whose mark was reported.
fn check(dir: &Path, acknowledged: &BTreeSet<String>, enrolled: &BTreeSet<String>, round: usize) {
    // Opening the service is what the next start does (it sweeps stray photo files).
    drop(open_service(dir));
    let c = conn(dir);
    let integrity: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "round {round}");
    let without_templates: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM students s WHERE NOT EXISTS
               (SELECT 1 FROM face_templates t WHERE t.student_id = s.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        without_templates, 0,
        "round {round}: a half-enrolled student"
    );
    let stored: BTreeSet<String> = c
        .prepare("SELECT file_name FROM photos")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir.join("photos"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        stored, on_disk,
        "round {round}: photo files match the database"
    );
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    for roll in acknowledged {
        let n: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM attendance a JOIN students s ON s.id = a.student_id
                 WHERE s.roll_no = ?1 AND a.day = ?2",
                [roll, &today],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            n, 1,
            "round {round}: the acknowledged mark of {roll} is kept"
        );
    }
    for roll in enrolled {
        let n: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM students WHERE roll_no = ?1",
                [roll],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            n, 1,
            "round {round}: acknowledged enrolment of {roll} is kept"
        );
    }
}

#[test]
fn killing_the_program_at_random_moments_loses_and_corrupts_nothing() {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let people = ["0001", "0002", "0003", "0004", "0005", "0006", "0007"];
    // Four students to mark; the others are enrolled (or not) under fire.
    {
        let mut s = open_service(dir.path());
        for p in &people[..4] {
            let frames: Vec<PhotoInput> = photos("webcam-dev", p)[..3]
                .iter()
                .map(|f| PhotoInput::read(f).unwrap())
                .collect();
            s.enroll(
                &format!("R{p}"),
                p,
                &format!("{p}@example.org"),
                &frames,
                "test",
            )
            .unwrap();
        }
    }
    let mut acknowledged = BTreeSet::new();
    let mut enrolled: BTreeSet<String> = people[..4].iter().map(|p| format!("R{p}")).collect();
    let bin = env!("CARGO_BIN_EXE_rollcall");
    for round in 0..20 {
        let mut cmd = Command::new(bin);
        cmd.arg("--data-dir").arg(dir.path());
        let enrolling = rng.below(2) == 0;
        let (roll, person) = if enrolling {
            let p = people[4 + rng.below(3) as usize];
            let roll = format!("N{round}-{p}");
            cmd.args(["enroll", "--roll-no", &roll, "--name", p, "--email"])
                .arg(format!("{roll}@example.org"));
            for f in &photos("webcam-dev", p)[..5] {
                cmd.arg(f);
            }
            (roll, p)
        } else {
            let p = people[rng.below(4) as usize];
            cmd.arg("mark").arg(&photos("webcam-dev", p)[30]);
            (format!("R{p}"), p)
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(3000)));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let out = out.trim();
        eprintln!(
            "round {round}: {} {person}: {out:?}",
            if enrolling { "enrol" } else { "mark" }
        );
        match out {
            "Attendance marked successfully" | "Student attendance is marked" => {
                acknowledged.insert(roll);
            }
            "User added successfully & training started" => {
                enrolled.insert(roll);
            }
            _ => {}
        }
        check(dir.path(), &acknowledged, &enrolled, round);
    }
}
