//! The attendance service keeps the old system's contract: real photos, real models, a real
//! SQLite file in a temporary data folder.

use crate::common;

use common::{faceless_jpeg, open_service, people_with_at_least, photos, truncated_jpeg};
use rollcall::attendance::{EnrollError, MarkError, Outcome, PhotoInput};
use rollcall::store::Store;
use std::path::{Path, PathBuf};

fn input(path: &Path) -> PhotoInput {
    PhotoInput::read(path).unwrap()
}

fn inputs(paths: &[PathBuf]) -> Vec<PhotoInput> {
    paths.iter().map(|p| input(p)).collect()
}

/// Someone with many LFW photos: (enrolment photos, a later photo).
fn lfw_person(index: usize) -> (Vec<PathBuf>, PathBuf) {
    let person = &people_with_at_least("lfw-dev", 8)[index];
    let all = photos("lfw-dev", person);
    (all[..5].to_vec(), all[6].clone())
}

/// Five frames of one webcam-dev person to enrol from and a later frame to mark with: a
/// single student is judged strictly (nobody else to compare with), and frames from one
/// camera pass where web photos of the same person might not.
fn webcam_person(person: &str) -> (Vec<PathBuf>, PathBuf) {
    let all = photos("webcam-dev", person);
    (
        all[..10].iter().step_by(2).cloned().collect(),
        all[25].clone(),
    )
}

#[test]
fn enrol_then_mark_gives_every_contract_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_service(dir.path());
    let (enrol, probe) = lfw_person(3);

    let done = s
        .enroll(
            "R001",
            "Ada Lovelace",
            "ada@example.org",
            &inputs(&enrol),
            "test",
        )
        .unwrap();
    assert_eq!(
        done.outcome().message(),
        "User added successfully & training started"
    );
    assert!(
        done.used.len() >= 3,
        "only {} photos usable",
        done.used.len()
    );

    let first = s
        .mark_photo(&std::fs::read(&probe).unwrap(), "test")
        .unwrap();
    assert_eq!(first.outcome().message(), "Attendance marked successfully");
    assert_eq!(first.roll_no, "R001");
    assert_eq!(first.name, "Ada Lovelace");

    let again = s
        .mark_photo(&std::fs::read(&probe).unwrap(), "test")
        .unwrap();
    assert_eq!(again.outcome().message(), "Student attendance is marked");
    assert_eq!(
        again.at(),
        first.at(),
        "the second answer reports the first mark's time"
    );

    // Exactly one row for the day.
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    assert_eq!(common::marks_made(&store), 1);
}

#[test]
fn a_stranger_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_service(dir.path());
    for i in 0..3 {
        let (enrol, _) = lfw_person(i * 7);
        s.enroll(
            &format!("R{i}"),
            &format!("Student {i}"),
            &format!("s{i}@example.org"),
            &inputs(&enrol),
            "test",
        )
        .unwrap();
    }
    // People with a single LFW photo were never enrolled anywhere.
    let strangers: Vec<String> = std::fs::read_dir(common::dataset("lfw-dev"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::read_dir(p).unwrap().count() == 1)
        .take(10)
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for stranger in strangers {
        let photo = &photos("lfw-dev", &stranger)[0];
        let err = s
            .mark_photo(&std::fs::read(photo).unwrap(), "test")
            .unwrap_err();
        assert!(
            matches!(err, MarkError::UserNotFound | MarkError::NoFace),
            "{stranger}: {err:?}"
        );
        if matches!(err, MarkError::UserNotFound) {
            assert_eq!(err.outcome().message(), "User not found");
        }
    }
    assert_eq!(common::marks_made(s.records().store()), 0);
}

#[test]
fn enrolment_checks_count_fields_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_service(dir.path());
    let (enrol, _) = lfw_person(5);
    let photos = inputs(&enrol);

    let none = s
        .enroll("R1", "A", "a@example.org", &[], "test")
        .unwrap_err();
    assert_eq!(none.outcome().message(), "No images found");

    let eleven: Vec<PhotoInput> = (0..11).map(|i| photos[i % photos.len()].clone()).collect();
    let too_many = s
        .enroll("R1", "A", "a@example.org", &eleven, "test")
        .unwrap_err();
    assert_eq!(
        too_many.outcome().message(),
        "Maximum 10 images are allowed"
    );

    for (roll, name, email) in [
        ("", "A", "a@example.org"),
        ("R1", "  ", "a@example.org"),
        ("R1", "A", ""),
        ("R1", "A", "nonsense"),
    ] {
        let e = s.enroll(roll, name, email, &photos, "test").unwrap_err();
        assert_eq!(
            e.outcome().message(),
            "Invalid data",
            "{roll:?} {name:?} {email:?}"
        );
    }

    s.enroll("R1", "A", "a@example.org", &photos, "test")
        .unwrap();
    let same_roll = s
        .enroll("R1", "B", "b@example.org", &photos, "test")
        .unwrap_err();
    assert_eq!(same_roll.outcome().message(), "User already exists");
    let same_email = s
        .enroll("R2", "B", "A@Example.org", &photos, "test")
        .unwrap_err();
    assert_eq!(same_email.outcome(), Outcome::UserExists);
    assert_eq!(s.records().store().students().unwrap().len(), 1);
}

#[test]
fn unusable_photos_are_refused_with_a_reason_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_service(dir.path());
    let (enrol, _) = lfw_person(9);
    let mut photos = inputs(&enrol[..2]);
    photos.push(PhotoInput {
        label: "broken.jpg".into(),
        bytes: truncated_jpeg(&enrol[2]),
    });
    photos.push(PhotoInput {
        label: "wall.jpg".into(),
        bytes: faceless_jpeg(),
    });
    photos.push(PhotoInput {
        label: "notes.jpg".into(),
        bytes: b"this is not a picture".to_vec(),
    });
    let done = s
        .enroll("R9", "Nine", "nine@example.org", &photos, "test")
        .unwrap();
    assert_eq!(done.used.len(), 2);
    let reasons: Vec<String> = done.refused.iter().map(|p| p.to_string()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("wall.jpg: no face found")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("notes.jpg: This file is not a photo")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("broken.jpg")),
        "{reasons:?}"
    );
    // Only the used photos are on disk.
    assert_eq!(
        std::fs::read_dir(dir.path().join("photos"))
            .unwrap()
            .count(),
        2
    );

    // A student whose every photo is unusable is not enrolled at all.
    let e = s
        .enroll(
            "R10",
            "Ten",
            "ten@example.org",
            &[PhotoInput {
                label: "wall.jpg".into(),
                bytes: faceless_jpeg(),
            }],
            "test",
        )
        .unwrap_err();
    assert!(matches!(e, EnrollError::NoUsablePhoto(_)));
    assert!(e.to_string().contains("wall.jpg: no face found"), "{e}");
    assert_eq!(s.records().store().students().unwrap().len(), 1);
}

#[test]
fn marking_a_faceless_or_broken_photo_explains_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_service(dir.path());
    let no_face = s.mark_photo(&faceless_jpeg(), "test").unwrap_err();
    assert_eq!(no_face.outcome().message(), "No face found");
    let (enrol, _) = lfw_person(2);
    let broken = s
        .mark_photo(&truncated_jpeg(&enrol[0])[..100], "test")
        .unwrap_err();
    assert_eq!(broken.outcome(), Outcome::InvalidData);
    let empty = s.mark_photo(b"", "test").unwrap_err();
    assert_eq!(empty.to_string(), "The file is empty.");
}

#[test]
fn the_gallery_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (enrol, probe) = webcam_person("0003");
    open_service(dir.path())
        .enroll("R11", "Eleven", "e@example.org", &inputs(&enrol), "test")
        .unwrap();
    let mut reopened = open_service(dir.path());
    let marked = reopened
        .mark_photo(&std::fs::read(probe).unwrap(), "test")
        .unwrap();
    assert_eq!(marked.roll_no, "R11");
}

#[test]
fn a_model_change_re_enrols_from_the_stored_photos() {
    let dir = tempfile::tempdir().unwrap();
    let (enrol, probe) = webcam_person("0005");
    let done = open_service(dir.path())
        .enroll("R13", "Thirteen", "t@example.org", &inputs(&enrol), "test")
        .unwrap();
    // Pretend the FaceNet templates were made by a model that is no longer shipped.
    let db = rusqlite::Connection::open(dir.path().join("rollcall.db")).unwrap();
    db.execute(
        "UPDATE face_templates SET model_id = 'retired-model' WHERE model_id = 'facenet-20180408'",
        [],
    )
    .unwrap();
    drop(db);

    let mut reopened = open_service(dir.path());
    let templates = reopened
        .records()
        .store()
        .templates_of(done.student_id)
        .unwrap();
    assert!(
        templates.iter().all(|t| t.model_id != "retired-model"),
        "old templates are dropped"
    );
    let facenet = templates
        .iter()
        .filter(|t| t.model_id == "facenet-20180408")
        .count();
    assert_eq!(
        facenet,
        done.used.len(),
        "every stored photo is embedded again"
    );
    let marked = reopened
        .mark_photo(&std::fs::read(probe).unwrap(), "test")
        .unwrap();
    assert_eq!(marked.roll_no, "R13");
}

#[test]
fn enrolling_a_student_twice_names_the_first_enrolment() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open_service(dir.path());
    let frames = photos("webcam-dev", "0002");
    let batch = |from: usize| inputs(&frames[from..from + 5]);
    for person in ["0001", "0003", "0004"] {
        let (enrol, _) = webcam_person(person);
        let done = s
            .enroll(
                &format!("R{person}"),
                person,
                &format!("{person}@example.org"),
                &inputs(&enrol),
                "test",
            )
            .unwrap();
        assert!(
            done.look_alikes.is_empty(),
            "{person} looks like nobody yet"
        );
    }
    // Enrols person 0002 under `roll` from five frames starting at `from`: the roll
    // numbers of the students named as look-alikes.
    let mut enrol_two = |roll: &str, from: usize| -> Vec<String> {
        let email = format!("{roll}@example.org");
        let done = s.enroll(roll, "Two", &email, &batch(from), "test").unwrap();
        done.look_alikes.into_iter().map(|l| l.roll_no).collect()
    };
    assert_eq!(enrol_two("R2", 0), Vec::<String>::new());
    // The same student again under another roll number (other frames of them).
    assert_eq!(enrol_two("R2b", 15), ["R2"]);
    // A third time: the two earlier enrolments tie (neither could be marked), and both
    // are named.
    assert_eq!(enrol_two("R2c", 25), ["R2", "R2b"]);

    // A roll number taken in other letters' case is taken.
    let case = s.enroll("r2", "Other", "other@example.org", &batch(35), "test");
    assert!(matches!(case, Err(EnrollError::UserExists)), "{case:?}");
}
