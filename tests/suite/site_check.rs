//! Teaching the photo-attack check the kiosk's own camera, from the admin screen: a student
//! enrolled at the camera, their printed photo recorded, the adapted check measured against
//! the current one, used, and returned from.

use crate::common;

use common::photos;
use common::ui::{click, set_pin, shows, step_until, H};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use rollcall::attendance::{Recognizer, Records};
use rollcall::camera::SourceSpec;
use rollcall::data_dir::DataDir;
use rollcall::recognition::Origin;
use rollcall::settings::Settings;
use rollcall::store::{NewStudent, Store};
use rollcall::ui::AppOptions;
use rollcall::vision::image_io::read_image_file;
use rollcall::vision::liveness::{LivenessModel, TrainingRecord};
use std::path::{Path, PathBuf};

fn settings() -> Settings {
    let mut s = Settings::default();
    s.kiosk.sound = false;
    s
}

/// Student Two (NUAA 0002) enrolled at the kiosk's camera from five live frames.
fn enrolled_at_the_camera(dir: &Path) -> (DataDir, i64) {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    let mut records = Records::open(&data, &settings()).unwrap();
    let mut recognizer = Recognizer::load(&settings(), records.store()).unwrap();
    let prepared: Vec<_> = photos("webcam-dev", "0002")
        .iter()
        .take(10)
        .step_by(2)
        .map(|p| {
            recognizer
                .check_image("camera", read_image_file(p).unwrap(), Origin::Camera)
                .unwrap()
                .unwrap()
        })
        .collect();
    let student = NewStudent {
        roll_no: "R0002".into(),
        name: "Student Two".into(),
        email: "s0002@example.org".into(),
    };
    let id = records.enrol(&student, &prepared, "test").unwrap();
    (data, id)
}

/// The camera shows Student Two's printed photo, over and over.
fn printed_photo(dir: &Path) -> PathBuf {
    let out = dir.join("printed-0002");
    std::fs::create_dir_all(&out).unwrap();
    for (i, p) in photos("spoof-dev", "0002").iter().take(30).enumerate() {
        std::os::unix::fs::symlink(p, out.join(format!("{i:03}.jpg"))).unwrap();
    }
    out
}

fn harness(data: DataDir, camera: PathBuf) -> H {
    common::app_harness(
        (1280.0, 1000.0),
        AppOptions {
            data,
            settings: settings(),
            source: SourceSpec::Folder {
                path: camera,
                fps: 10.0,
                looping: true,
            }
            .into(),
            observer: None,
        },
    )
}

#[test]
fn an_admin_records_a_printed_photo_and_adapts_the_check_to_the_camera() {
    let dir = tempfile::tempdir().unwrap();
    let (data, id) = enrolled_at_the_camera(&dir.path().join("data"));
    let mut h = harness(data.clone(), printed_photo(dir.path()));
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list and the photo check", 60, |h| {
        shows(h, "Open R0002") && shows(h, "Teach the check this camera")
    });
    h.get_by_label("Teach the check this camera")
        .click_accesskit();
    h.step();
    step_until(&mut h, "the teaching section", 30, |h| {
        shows(h, "No printed photo recorded yet.")
    });
    assert!(
        shows(&h, "Record a printed photo (open a student first)"),
        "nothing to record before a student is chosen"
    );
    assert!(
        h.query_by_label("own face").is_some(),
        "the photo check compares them with their own live face"
    );
    click(&mut h, Role::Button, "Open R0002");
    assert!(!shows(&h, "Enrolled from uploaded photos only"));
    click(
        &mut h,
        Role::Button,
        "Record a printed photo of Student Two",
    );
    step_until(&mut h, "the recording", 60, |h| {
        shows(h, "frames of Student Two's printed photo.")
    });
    let recordings = Store::open(&data.database())
        .unwrap()
        .attack_recordings()
        .unwrap();
    assert_eq!(recordings.len(), 1);
    assert_eq!(recordings[0].student_id, id);
    assert!(recordings[0].frames >= 8, "{recordings:?}");
    step_until(&mut h, "the recording in the list", 10, |h| {
        shows(h, "Recorded: Student Two (")
    });

    click(&mut h, Role::Button, "Try a check adapted to this camera");
    step_until(&mut h, "the measured proposal", 120, |h| {
        shows(
            h,
            "Adapted check (each frame judged by a check that did not learn from it)",
        )
    });
    assert!(shows(&h, "Current check: photos let in"));
    assert!(shows(&h, "live frames of 1 student"));
    let untouched = Settings::load(&data.settings()).unwrap();
    assert!(
        untouched.liveness.model_dir.is_empty(),
        "trying changes nothing"
    );

    click(&mut h, Role::Button, "Use the adapted check");
    step_until(&mut h, "the adapted check in use", 60, |h| {
        shows(h, "Adapted to this camera on") && shows(h, "The door now uses the adapted check.")
    });
    let saved = Settings::load(&data.settings()).unwrap();
    let site_dir = data.root().join("liveness");
    assert_eq!(Path::new(&saved.liveness.model_dir), site_dir);
    let file = std::fs::read_to_string(data.settings()).unwrap();
    assert!(
        file.contains("model_dir = \"liveness\""),
        "saved relative to the data folder, so the folder can move: {file}"
    );
    let model = LivenessModel::load(&site_dir).expect("the adapted check loads");
    let site = model.record.site.as_ref().expect("its record says how");
    assert_eq!((site.students, site.recordings), (1, 1));
    assert_eq!(site.live_frames, 5);
    assert_eq!(site.attack_frames, recordings[0].frames);

    // Trying again starts from the shipped check and compares with the one in use.
    click(&mut h, Role::Button, "Try a check adapted to this camera");
    step_until(&mut h, "a second proposal", 120, |h| {
        shows(h, "Current check: photos let in") && shows(h, "Keep the current check")
    });
    click(&mut h, Role::Button, "Keep the current check");
    assert!(!shows(&h, "Current check: photos let in"));

    click(
        &mut h,
        Role::Button,
        "Return to the check Rollcall came with",
    );
    step_until(&mut h, "the shipped check again", 60, |h| {
        shows(h, "Its model learnt from 7 people")
    });
    let back = Settings::load(&data.settings()).unwrap();
    assert!(back.liveness.model_dir.is_empty(), "{:?}", back.liveness);
    assert!(
        TrainingRecord::read(&rollcall::vision::liveness::model_dir(&back.liveness))
            .unwrap()
            .site
            .is_none()
    );
}

#[test]
fn a_recorded_photo_goes_with_the_students_face_data() {
    let dir = tempfile::tempdir().unwrap();
    let (data, id) = enrolled_at_the_camera(dir.path());
    let mut store = Store::open(&data.database()).unwrap();
    store
        .add_attack_recording(id, &vec![vec![0.5; 4]; 10], "test")
        .unwrap();
    assert_eq!(store.attack_frames(1).unwrap().len(), 10);
    let (_, erased) = store.erase_face_data(id, "test").unwrap();
    assert_eq!(erased.attack_recordings, 1);
    assert!(store.attack_recordings().unwrap().is_empty());
    assert!(store.attack_frames(1).unwrap().is_empty(), "frames too");
}
