//! The kiosk without its face models or with a damaged database: the camera picture stays
//! on screen with a message that says what to do.

use crate::common;

use common::{app_harness, photos};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use rollcall::camera::SourceSpec;
use rollcall::data_dir::DataDir;
use rollcall::settings::Settings;
use rollcall::ui::{AppOptions, RollcallApp};
use std::time::{Duration, Instant};

/// The kiosk window on a looping recording of one student (in `dir`), without sound.
fn kiosk_on_frames(
    dir: &std::path::Path,
    data: DataDir,
    mut settings: Settings,
) -> Harness<'static, RollcallApp> {
    let frames = dir.join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    for (i, p) in photos("webcam-dev", "0001").iter().take(10).enumerate() {
        std::os::unix::fs::symlink(p, frames.join(format!("{i:03}.jpg"))).unwrap();
    }
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
            },
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
    let mut h = kiosk_on_frames(dir.path(), data, settings);
    let deadline = Instant::now() + Duration::from_secs(60);
    let shows = |h: &Harness<'_, RollcallApp>, t: &str| h.query_by_label_contains(t).is_some();
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
    let today = chrono::Local::now().date_naive();
    let daily = rollcall::store::make_daily_backup(&data, &folder, 7, today)
        .unwrap()
        .unwrap();
    // The disk damages the database.
    std::fs::write(data.database(), vec![0x5a; 8192]).unwrap();
    let mut h = kiosk_on_frames(dir.path(), data, Settings::default());
    let advice = format!(
        "Restore the newest daily backup on this computer: `rollcall restore {}`",
        daily.display()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let shows = |h: &Harness<'_, RollcallApp>, t: &str| h.query_by_label_contains(t).is_some();
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
