//! Bad input, through the service and the command line (the HTTP API: tests/api.rs): damaged, huge and
//! odd photos; odd roll numbers, names and emails. Each gets a clear message, nothing
//! panics and nothing is half-written.

use crate::common;

use common::bad_files::{bad_photos, converted, sideways_with_exif, BadPhoto, Expect};
use common::{open_service, photos, rollcall};
use opencv::prelude::*;
use rollcall::attendance::{AttendanceService, EnrollError, Outcome, PhotoInput};
use rollcall::store::Store;
use rollcall::vision::decode_image;
use std::path::{Path, PathBuf};

const CONTRACT: [&str; 9] = [
    "User added successfully & training started",
    "No images found",
    "Maximum 10 images are allowed",
    "Invalid data",
    "User already exists",
    "Attendance marked successfully",
    "Student attendance is marked",
    "No face found",
    "User not found",
];

fn frames(person: &str) -> Vec<PathBuf> {
    photos("webcam-dev", person)
}

fn input(label: &str, bytes: Vec<u8>) -> PhotoInput {
    PhotoInput {
        label: label.into(),
        bytes,
    }
}

fn file_input(p: &Path) -> PhotoInput {
    PhotoInput::read(p).unwrap()
}

/// Photo files in the data folder.
fn photo_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("photos"))
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn student_count(dir: &Path) -> usize {
    Store::open(&dir.join("rollcall.db"))
        .unwrap()
        .students()
        .unwrap()
        .len()
}

/// The subject of every generated photo: a webcam frame of person 0001, who is enrolled
/// from three other frames.
fn subject() -> PathBuf {
    frames("0001")[30].clone()
}

fn enrolled(dir: &Path) -> AttendanceService {
    let mut s = open_service(dir);
    let enrol: Vec<PhotoInput> = frames("0001")[..3].iter().map(|p| file_input(p)).collect();
    s.enroll("R1", "Student One", "one@example.org", &enrol, "test")
        .unwrap();
    s
}

#[test]
fn the_service_explains_every_bad_photo_and_writes_nothing_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = enrolled(dir.path());
    let before_files = photo_files(dir.path());
    for (
        i,
        BadPhoto {
            name,
            bytes,
            expect,
        },
    ) in bad_photos(&subject()).into_iter().enumerate()
    {
        // Enrolling a new student with only this photo.
        let roll = format!("B{i}");
        let email = format!("b{i}@example.org");
        let enrol = s.enroll(
            &roll,
            "Bad Photo",
            &email,
            &[input(name, bytes.clone())],
            "test",
        );
        match (expect, &enrol) {
            (Expect::Usable, Ok(e)) => assert_eq!(e.used.len(), 1, "{name}"),
            (Expect::Either, _) => {}
            (Expect::Unreadable(why), Err(e @ EnrollError::NoUsablePhoto(_))) => {
                let text = e.to_string().to_lowercase();
                assert!(text.contains(why), "{name}: {text}");
                assert!(
                    text.contains(name),
                    "{name}: the message names the photo: {text}"
                );
            }
            (Expect::NoFace | Expect::Crowd, Err(e @ EnrollError::NoUsablePhoto(_))) => {
                assert_eq!(e.outcome(), Outcome::InvalidData, "{name}")
            }
            _ => panic!("{name}: expected {expect:?}, enrolment gave {enrol:?}"),
        }
        if enrol.is_err() {
            assert_eq!(
                photo_files(dir.path()),
                before_files,
                "{name}: no photo file is left behind"
            );
            assert!(
                !s.records().store().student_exists(&roll, &email).unwrap(),
                "{name}: no student is half-enrolled"
            );
        } else {
            let id = s
                .records()
                .store()
                .students()
                .unwrap()
                .into_iter()
                .find(|st| st.roll_no == roll)
                .unwrap()
                .id;
            records(dir.path()).delete_student(id, "test").unwrap();
        }

        // Marking attendance with it.
        let mark = s.mark_photo(&bytes, "test");
        match (expect, &mark) {
            (Expect::Usable, Ok(m)) => assert_eq!(m.name, "Student One", "{name}"),
            (Expect::Unreadable(why), Err(e)) => {
                assert_eq!(e.outcome(), Outcome::InvalidData, "{name}");
                assert!(e.to_string().to_lowercase().contains(why), "{name}: {e}");
            }
            (Expect::NoFace, Err(e)) => {
                assert_eq!(e.outcome().message(), "No face found", "{name}")
            }
            (Expect::Crowd | Expect::Either, Ok(_)) => {}
            (Expect::Crowd | Expect::Either, Err(e)) => {
                assert!(CONTRACT.contains(&e.outcome().message()), "{name}: {e}")
            }
            _ => panic!("{name}: expected {expect:?}, marking gave {mark:?}"),
        }
    }
    assert_eq!(
        common::marks_made(s.records().store()),
        1,
        "only Student One was ever marked"
    );
}

#[test]
fn an_exif_rotated_photo_is_turned_upright() {
    let (bytes, (w, h)) = sideways_with_exif(&subject());
    let img = decode_image(&bytes).unwrap();
    assert_eq!(
        (img.cols(), img.rows()),
        (w, h),
        "shown as the camera meant"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut s = enrolled(dir.path());
    let m = s.mark_photo(&bytes, "test").unwrap();
    assert_eq!(m.name, "Student One");
}

/// A camera's 10-bit (HDR) HEIC reads as the picture it holds: same size, same colours
/// (within the encoder's loss), channels in order, not darkened or shifted. (A 10-bit AVIF
/// cannot be written here: libaom 3.6's encoder aborts on it.)
#[test]
fn a_ten_bit_heic_photo_reads_like_the_picture_it_holds() {
    let original =
        opencv::imgcodecs::imread(subject().to_str().unwrap(), opencv::imgcodecs::IMREAD_COLOR)
            .unwrap();
    let read = decode_image(&common::bad_files::ten_bit_heic(&original)).unwrap();
    assert_eq!(read.size().unwrap(), original.size().unwrap());
    let mut diff = opencv::core::Mat::default();
    opencv::core::absdiff(&read, &original, &mut diff).unwrap();
    let per_channel = opencv::core::mean_def(&diff).unwrap();
    for c in 0..3 {
        assert!(
            per_channel[c] < 4.0,
            "channel {c} differs by {:.1} on average",
            per_channel[c]
        );
    }
}

#[test]
fn damaged_heic_and_avif_photos_are_refused_and_nothing_crashes() {
    // The photos go to the system's libheif, a C library: bytes changed, cut out or cut
    // short anywhere in the file must give a picture or a refusal, never a crash (which
    // would take the HTTP server down with it).
    let mutations: usize = std::env::var("ROLLCALL_HEIF_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for ext in ["heic", "avif"] {
        let good = converted(&subject(), ext);
        let (mut decoded, mut refused) = (0, 0);
        for _ in 0..mutations {
            let mut bytes = good.clone();
            match next(4) {
                0 => bytes.truncate(next(bytes.len())),
                1 => {
                    let at = next(bytes.len());
                    let end = (at + 1 + next(64)).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => {
                    for _ in 0..1 + next(8) {
                        let at = next(bytes.len());
                        bytes[at] = next(256) as u8;
                    }
                }
            }
            match decode_image(&bytes) {
                Ok(img) => {
                    assert!(!img.empty());
                    decoded += 1;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    refused += 1;
                }
            }
        }
        assert!(
            refused > 0,
            "{ext}: some damage is noticed ({decoded} decoded)"
        );
    }
}

#[test]
fn odd_roll_numbers_names_and_emails_are_stored_verbatim_or_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_service(dir.path());
    let people = ["0001", "0002", "0003", "0004", "0005", "0006"];
    let photo = |i: usize| vec![file_input(&frames(people[i])[0])];
    let accepted = [
        ("../../etc/passwd", "Path Person", "path@example.org"),
        (
            "1; DROP TABLE students",
            "Bobby Tables",
            "bobby@example.org",
        ),
        ("R-ü-1", "Ünïcödé Ñame", "unicode@example.org"),
        ("R-2", "李小龙", "li@example.org"),
        ("R-3", "Zoë 😀 O'Brien-Smith", "zoe+class@example.org"),
    ];
    for (i, (roll, name, email)) in accepted.iter().enumerate() {
        let r = s.enroll(roll, name, email, &photo(i), "test");
        assert!(r.is_ok(), "{roll}: {r:?}");
    }
    let students = s.records().store().students().unwrap();
    for (roll, name, email) in accepted {
        assert!(
            students
                .iter()
                .any(|st| st.roll_no == roll && st.name == name && st.email == email),
            "{roll} round-trips"
        );
    }
    // Photo files are named by the program: hex digests in the photos folder only.
    for f in photo_files(dir.path()) {
        assert!(
            f.trim_end_matches(".jpg")
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '-'),
            "{f}"
        );
    }
    assert!(!dir.path().join("etc").exists());

    let huge = "x".repeat(1 << 20);
    let refused: [(&str, &str, &str, &str); 8] = [
        (&huge, "Huge Roll", "huge@example.org", "longer than"),
        ("R-9", &huge, "huge2@example.org", "longer than"),
        ("", "No Roll", "noroll@example.org", "missing"),
        ("   ", "Blank Roll", "blank@example.org", "missing"),
        ("R-10", " \t ", "blankname@example.org", "missing"),
        ("R-11", "No At", "not-an-email", "not valid"),
        ("R-12", "Spaced", "a b@example.org", "not valid"),
        ("R-13", "No Domain", "someone@localhost", "not valid"),
    ];
    for (roll, name, email, why) in refused {
        let e = s.enroll(roll, name, email, &photo(5), "test").unwrap_err();
        assert_eq!(e.outcome().message(), "Invalid data");
        assert!(e.to_string().contains(why), "{e}");
    }
    assert_eq!(
        student_count(dir.path()),
        accepted.len(),
        "nothing half-written"
    );
}

#[test]
fn the_command_line_answers_every_bad_photo_and_field() {
    let dir = tempfile::tempdir().unwrap();
    drop(enrolled(dir.path()));
    let files = tempfile::tempdir().unwrap();
    for BadPhoto {
        name,
        bytes,
        expect,
    } in bad_photos(&subject())
    {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = rollcall(dir.path(), &["mark", path.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            CONTRACT.contains(&stdout.trim()),
            "{name}: {stdout} / {stderr}"
        );
        match expect {
            Expect::Unreadable(why) => {
                assert_eq!(out.status.code(), Some(1), "{name}");
                assert!(stderr.to_lowercase().contains(why), "{name}: {stderr}");
            }
            Expect::NoFace => assert_eq!(stdout.trim(), "No face found", "{name}"),
            Expect::Usable => assert!(out.status.success(), "{name}: {stderr}"),
            Expect::Crowd | Expect::Either => {
                assert!(matches!(out.status.code(), Some(0 | 1)), "{name}")
            }
        }
    }
    let photo = frames("0002")[0].display().to_string();
    let long = "r".repeat(100_000);
    for (roll, name, email, ok) in [
        ("../../etc/passwd", "李小龙", "li@example.org", true),
        (long.as_str(), "Long Roll", "long@example.org", false),
        ("  ", "Blank", "blank@example.org", false),
        ("R-5", "Bad Email", "bad@", false),
    ] {
        let out = rollcall(
            dir.path(),
            &[
                "enroll",
                "--roll-no",
                roll,
                "--name",
                name,
                "--email",
                email,
                &photo,
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        if ok {
            assert!(out.status.success(), "{stdout}");
        } else {
            assert_eq!(out.status.code(), Some(1));
            assert_eq!(stdout.trim(), "Invalid data");
        }
    }
    let listed = rollcall(dir.path(), &["students"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("李小龙"));
    assert_eq!(student_count(dir.path()), 2);
}

/// The records of a test's data folder, opened apart from the service (as the admin
/// worker does).
fn records(dir: &std::path::Path) -> rollcall::attendance::Records {
    let data = rollcall::data_dir::DataDir::resolve(Some(dir));
    rollcall::attendance::Records::open(&data, &rollcall::settings::Settings::default()).unwrap()
}
