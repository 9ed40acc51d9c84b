//! The kiosk without its face models or with a damaged database: the camera picture stays
//! on screen with a message that says what to do.

use crate::common;

use common::app_harness;
use common::ui::{click, shows, step_until, type_into};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use rollcall::attendance::pin::AdminPin;
use rollcall::camera::SourceSpec;
use rollcall::data_dir::DataDir;
use rollcall::settings::Settings;
use rollcall::ui::{AppOptions, RollcallApp};
use std::time::{Duration, Instant};

/// The kiosk window on a looping recording of webcam-dev's `person` (in `dir`), without
/// sound.
fn kiosk_on_frames(
    dir: &std::path::Path,
    person: &str,
    data: DataDir,
    mut settings: Settings,
) -> Harness<'static, RollcallApp> {
    let frames = common::recording(dir, person, 10, 10);
    settings.kiosk.sound = false;
    app_harness(
        (1024.0, 768.0),
        AppOptions {
            data,
            settings,
            source: SourceSpec::Folder {
                path: frames,
                fps: 10.0,
                looping: true,
            }
            .into(),
            observer: None,
        },
    )
}

#[test]
fn missing_models_leave_the_camera_on_with_a_clear_message() {
    let models = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let settings = Settings {
        models_dir: models.path().display().to_string(),
        ..Settings::default()
    };
    let mut h = kiosk_on_frames(dir.path(), "0001", data, settings);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline
        && !(shows(&h, "please tell your teacher") && shows(&h, "Camera view"))
    {
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }

    assert!(shows(&h, "Camera view"), "the picture stays on screen");
    let visible: Vec<String> = h
        .query_all_by(|_| true)
        .filter_map(|n| egui_kittest::kittest::NodeT::accesskit_node(&n).label())
        .collect();
    assert!(
        shows(
            &h,
            "Attendance cannot be taken here right now — please tell your teacher."
        ),
        "the people at the door are told what to do; the screen shows {visible:?}"
    );
    assert!(
        shows(&h, "For the teacher: ") && shows(&h, "is missing. Run `scripts/setup`"),
        "and the teacher what to do; the screen shows {visible:?}"
    );
}

#[test]
fn a_damaged_database_names_the_daily_backup_that_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    drop(rollcall::store::Store::open(&data.database()).unwrap());
    let folder = dir.path().join("backups");
    let daily = rollcall::store::make_daily_backup(&data, &folder, 7, chrono::Local::now())
        .unwrap()
        .unwrap();
    // The disk damages the database.
    std::fs::write(data.database(), vec![0x5a; 8192]).unwrap();
    let mut h = kiosk_on_frames(dir.path(), "0001", data, Settings::default());
    let advice = format!(
        "An admin can put back the newest daily backup here: press Admin (or, on this \
         computer, run `rollcall restore {}`; the damaged file is kept aside).",
        daily.display()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && !shows(&h, &advice) {
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    let visible: Vec<String> = h
        .query_all_by(|_| true)
        .filter_map(|n| egui_kittest::kittest::NodeT::accesskit_node(&n).label())
        .collect();
    assert!(
        shows(&h, "please tell your teacher") && shows(&h, &advice),
        "the teacher is told which file restores the data; the screen shows {visible:?}"
    );
}

/// Student Two enrolled in `dir`, a daily backup made (holding `pin`, if any), then the
/// database damaged; the kiosk on Student Two's frames, showing the Admin window. Returns
/// the harness, the data folder and the restore button's label.
fn damaged_kiosk_at_admin(
    dir: &std::path::Path,
    pin: Option<&str>,
) -> (Harness<'static, RollcallApp>, DataDir, String) {
    common::enrol_student_two(&mut common::open_service(dir));
    let data = DataDir::resolve(Some(dir));
    if let Some(pin) = pin {
        let mut store = rollcall::store::Store::open(&data.database()).unwrap();
        AdminPin::set(&mut store, pin, pin).unwrap();
    }
    let settings = Settings::default();
    let now = chrono::Local::now();
    let today = now.date_naive();
    rollcall::store::make_daily_backup(&data, &settings.backup.folder_in(&data), 7, now)
        .unwrap()
        .unwrap();
    // The disk damages the database.
    std::fs::write(data.database(), vec![0x5a; 8192]).unwrap();
    let mut h = kiosk_on_frames(dir, "0002", data.clone(), settings);
    step_until(&mut h, "the damaged-database advice", 60, |h| {
        shows(
            h,
            "An admin can put back the newest daily backup here: press Admin",
        )
    });
    click(&mut h, Role::Button, "Admin");
    step_until(&mut h, "the restore form", 30, |h| {
        shows(h, "The attendance records cannot be read")
    });
    let restore = format!("Restore the backup of {}", today.format("%A %-d %B %Y"));
    (h, data, restore)
}

#[test]
fn an_admin_puts_back_the_daily_backup_of_a_damaged_database_with_its_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, data, restore) = damaged_kiosk_at_admin(dir.path(), Some("2468"));
    type_into(&mut h, "PIN", "1111");
    click(&mut h, Role::Button, &restore);
    step_until(&mut h, "the wrong PIN refused", 30, |h| {
        shows(h, "Wrong PIN. 4 tries left")
    });
    assert_eq!(
        std::fs::read(data.database()).unwrap(),
        vec![0x5a; 8192],
        "a wrong PIN restores nothing"
    );

    type_into(&mut h, "PIN", "2468");
    click(&mut h, Role::Button, &restore);
    step_until(&mut h, "the restore", 60, |h| {
        shows(h, "Restored 1 student") && shows(h, "Enrol a student")
    });
    let kept_aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("rollcall-damaged-")
        });
    assert!(kept_aside, "the damaged file is kept aside");

    // The door opens the restored records without a restart and knows the student again.
    click(&mut h, Role::Button, "Lock");
    step_until(&mut h, "the student recognised", 90, |h| {
        shows(h, "Welcome, Student Two")
    });
    assert!(shows(&h, "1 student with face data"));
    assert!(!shows(&h, "please tell your teacher"));
}

#[test]
fn a_backup_without_a_pin_is_put_back_and_a_pin_chosen_after() {
    let dir = tempfile::tempdir().unwrap();
    let (mut h, _data, restore) = damaged_kiosk_at_admin(dir.path(), None);
    assert!(
        h.query_all_by_role(Role::PasswordInput).next().is_none(),
        "no PIN is asked for: the backup holds none"
    );
    click(&mut h, Role::Button, &restore);
    step_until(&mut h, "the restore", 60, |h| {
        shows(h, "The backup is restored. Choose an admin PIN") && shows(h, "Set an admin PIN")
    });
    type_into(&mut h, "New PIN", "1357");
    type_into(&mut h, "PIN again", "1357");
    click(&mut h, Role::Button, "Set PIN");
    step_until(&mut h, "the restore's report", 30, |h| {
        shows(h, "Restored 1 student")
    });
}
