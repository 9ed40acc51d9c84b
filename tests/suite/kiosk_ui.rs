//! The kiosk window, driven through egui_kittest with recorded webcam frames of real people
//! (../shared/datasets/webcam-dev) played from a folder, the real models and a real SQLite
//! file. Widgets are found by their visible text, as a person would find them.

use crate::common;

use common::ui::{shows, step_until};
use common::{app_harness, dataset, faceless_jpeg, photos};
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use opencv::core::{Mat, Vector};
use opencv::prelude::*;
use rollcall::attendance::{AttendanceService, PhotoInput, Recognizer, Records};
use rollcall::camera::SourceSpec;
use rollcall::data_dir::DataDir;
use rollcall::kiosk::admin::DoorForm;
use rollcall::kiosk::{CameraStatus, CaptureCommand, DoorSource, KioskEvent};
use rollcall::recognition::Origin;
use rollcall::settings::Settings;
use rollcall::store::{NewStudent, Store};
use rollcall::ui::kiosk::KioskView;
use rollcall::ui::{AppOptions, RollcallApp};
use rollcall::vision::image_io::read_image_file;
use rollcall::vision::liveness::training::{labelled_frames, Samples};
use rollcall::vision::liveness::TrainingRecord;
use rollcall::vision::FaceEngine;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Names used for the NUAA people in these tests.
const NAMES: [(&str, &str); 4] = [
    ("0001", "Student One"),
    ("0002", "Student Two"),
    ("0003", "Student Three"),
    ("0004", "Student Four"),
];

fn settings() -> Settings {
    let mut s = Settings::default();
    s.kiosk.cooldown_secs = 0;
    s.kiosk.mirror = false;
    s.kiosk.sound = false;
    s
}

/// Enrols people 0001–0004 from five frames each of their first ten.
fn enrolled_data_dir(dir: &Path) -> DataDir {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    let settings = settings();
    let mut service = AttendanceService::open(data.clone(), settings.clone()).unwrap();
    for (id, name) in NAMES {
        let frames: Vec<PhotoInput> = photos("webcam-dev", id)
            .iter()
            .take(10)
            .step_by(2)
            .map(|p| PhotoInput::read(p).unwrap())
            .collect();
        service
            .enroll(
                &format!("R{id}"),
                name,
                &format!("s{id}@example.org"),
                &frames,
                "test",
            )
            .unwrap();
    }
    data
}

/// A folder of symlinks to later frames (not used for enrolment) of one person.
fn frames_of(person: &str, dir: &Path) -> PathBuf {
    frames_from("webcam-dev", person, dir)
}

/// A folder of symlinks to twenty frames (after the first twenty) of one person in a set.
fn frames_from(set: &str, person: &str, dir: &Path) -> PathBuf {
    let frames = photos(set, person).into_iter().skip(20).take(20);
    common::frame_folder(dir.join(format!("{set}-{person}")), frames)
}

fn harness(data: DataDir, source: SourceSpec) -> Harness<'static, RollcallApp> {
    harness_with(data, settings(), source)
}

/// A kiosk window whose back-end events are also copied to the returned receiver.
fn observed_harness(
    data: DataDir,
    source: SourceSpec,
) -> (
    Harness<'static, RollcallApp>,
    crossbeam_channel::Receiver<KioskEvent>,
) {
    let (observer, events) = crossbeam_channel::unbounded();
    let h = app_harness(
        (1024.0, 768.0),
        AppOptions {
            data,
            settings: settings(),
            source: source.into(),
            observer: Some(observer),
        },
    );
    (h, events)
}

fn harness_with(
    data: DataDir,
    settings: Settings,
    source: SourceSpec,
) -> Harness<'static, RollcallApp> {
    app_harness(
        (1024.0, 768.0),
        AppOptions {
            data,
            settings,
            source: source.into(),
            observer: None,
        },
    )
}

/// A folder of one picture of nobody: a door with no one at it.
fn nobody_there(folder: &Path) -> PathBuf {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::write(folder.join("0.jpg"), faceless_jpeg()).unwrap();
    folder.to_path_buf()
}

fn rows_today(dir: &Path) -> usize {
    rows_today_in(&dir.join("rollcall.db"))
}

fn rows_today_in(db: &Path) -> usize {
    common::marks_made(&Store::open(db).unwrap())
}

fn data_db(dir: &Path) -> PathBuf {
    dir.join("data").join("rollcall.db")
}

fn folder(path: PathBuf) -> SourceSpec {
    SourceSpec::Folder {
        path,
        fps: 10.0,
        looping: false,
    }
}

/// The same, played over and over (the person stays at the door).
fn looping(path: PathBuf) -> SourceSpec {
    SourceSpec::Folder {
        path,
        fps: 10.0,
        looping: true,
    }
}

#[test]
fn an_enrolled_student_is_welcomed_once_then_told_they_are_already_marked() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut h = harness(data, folder(frames_of("0002", dir.path())));

    step_until(&mut h, "the green verdict", 120, |h| {
        shows(h, "Welcome, Student Two — marked at ")
    });
    assert!(shows(&h, "Camera view"), "the video is on screen");
    assert!(
        shows(
            &h,
            "A recording, not the camera: the students in it are marked present"
        ),
        "the door says it plays a recording"
    );
    assert_eq!(rows_today(dir.path()), 1);
    step_until(&mut h, "today's count", 10, |h| shows(h, "Marked today: 1"));

    // The recording ends; the student passes the door again a little later.
    passes_again_and_is_told_already_marked(&mut h);
    assert_eq!(rows_today(dir.path()), 1, "passing again adds no row");
    assert!(!shows(&h, "Not recognised"));
}

/// A recording played as a try-out names the student it recognises and marks nobody
/// (nor keeps or learns anything from her face); the same recording played at work
/// afterwards welcomes and marks her.
#[test]
fn a_try_out_names_the_student_and_marks_nobody_until_the_door_is_at_work() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let store = || Store::open(&dir.path().join("rollcall.db")).unwrap();
    let learnt = store().templates_version().unwrap();
    let frames = frames_of("0002", dir.path());
    let mut h = app_harness(
        (1024.0, 768.0),
        AppOptions {
            data,
            settings: settings(),
            source: DoorSource::try_out(looping(frames.clone())),
            observer: None,
        },
    );
    step_until(&mut h, "the try-out's verdict", 120, |h| {
        shows(h, "Recognised: Student Two — a try-out, so not marked")
    });
    assert!(shows(
        &h,
        "A recording played as a try-out: nobody is marked"
    ));
    assert!(!shows(&h, "Welcome"));
    assert_eq!(rows_today(dir.path()), 0, "nobody marked");
    assert_eq!(
        store().templates_version().unwrap(),
        learnt,
        "nothing learnt from a try-out"
    );
    // The same recording, the door at work.
    h.state()
        .kiosk
        .command(CaptureCommand::Switch(folder(frames).into()));
    step_until(&mut h, "the welcome", 120, |h| {
        shows(h, "Welcome, Student Two — marked at ")
    });
    assert_eq!(rows_today(dir.path()), 1);
    assert!(!shows(&h, "nobody is marked"));
}

#[test]
fn a_quiet_repeat_shortened_in_door_settings_applies_to_the_next_pass() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    // A minute's quiet repeat: passing again within it shows the welcome again.
    let mut settings = settings();
    settings.kiosk.cooldown_secs = 60;
    let mut h = harness_with(data, settings, folder(frames_of("0002", dir.path())));
    step_until(&mut h, "the green verdict", 120, |h| {
        shows(h, "Welcome, Student Two — marked at ")
    });
    // The admin turns the quiet repeat off (Admin → Door settings).
    let loaded = DoorForm::of(&h.state().view.settings);
    let mut form = loaded.clone();
    form.cooldown_secs = 0;
    let saved = h.state().kiosk.admin.save_door_settings(loaded, form);
    let deadline = Instant::now() + Duration::from_secs(30);
    while saved.poll().is_none() {
        assert!(Instant::now() < deadline, "the settings were not saved");
        std::thread::sleep(Duration::from_millis(20));
    }
    passes_again_and_is_told_already_marked(&mut h);
    assert_eq!(rows_today(dir.path()), 1);
}

/// Once the recording of Student Two has ended, plays it again a little later (they pass
/// the door again) until they are told they are already marked.
fn passes_again_and_is_told_already_marked(h: &mut Harness<'static, RollcallApp>) {
    step_until(h, "the end of the recording", 60, |h| {
        shows(h, "The recording has ended.")
    });
    std::thread::sleep(Duration::from_millis(1200));
    h.state().kiosk.command(CaptureCommand::Retry);
    step_until(h, "the amber verdict", 120, |h| {
        shows(h, "Student Two, you're already marked (")
    });
}

/// The kiosk (default cooldown) playing `source` of Student Two until they are welcomed;
/// then the teacher records them absent today (at the office, say). Returns the window,
/// the store and the student.
fn welcomed_then_recorded_absent(
    dir: &Path,
    source: SourceSpec,
) -> (Harness<'static, RollcallApp>, Store, i64) {
    let data = enrolled_data_dir(dir);
    // The default cooldown: the kiosk would otherwise repeat its welcome for a minute.
    let mut settings = settings();
    settings.kiosk.cooldown_secs = 60;
    let mut h = harness_with(data, settings, source);
    step_until(&mut h, "the green verdict", 120, |h| {
        shows(h, "Welcome, Student Two — marked at ")
    });
    step_until(&mut h, "today's count", 10, |h| shows(h, "Marked today: 1"));
    let mut store = Store::open(&dir.join("rollcall.db")).unwrap();
    let id = common::student_named(&store, "R0002").unwrap().id;
    let today = chrono::Local::now().date_naive();
    assert!(
        store
            .correct(
                id,
                today,
                false,
                "went home ill",
                "admin",
                chrono::Local::now()
            )
            .unwrap()
            .changed
    );
    (h, store, id)
}

/// Waits for the verdict that sends Student Two to the teacher, with today's count down.
fn sent_to_the_teacher(h: &mut Harness<'static, RollcallApp>) {
    step_until(h, "the verdict that sends them to the teacher", 60, |h| {
        shows(
            h,
            "Student Two, please see your teacher — today's attendance was taken by hand",
        ) && shows(h, "Marked today: 0")
    });
    assert!(!shows(h, "Welcome, Student Two"));
}

#[test]
fn a_student_the_teacher_records_absent_is_not_marked_when_they_pass_the_door_again() {
    let dir = tempfile::tempdir().unwrap();
    let recording = folder(frames_of("0002", dir.path()));
    let (mut h, store, id) = welcomed_then_recorded_absent(dir.path(), recording);
    // They went home ill; on their way out, within the minute the kiosk would repeat its
    // welcome, they pass the door again.
    step_until(&mut h, "the end of the recording", 60, |h| {
        shows(h, "The recording has ended.")
    });
    std::thread::sleep(Duration::from_millis(1200));
    h.state().kiosk.command(CaptureCommand::Retry);
    sent_to_the_teacher(&mut h);
    step_until(&mut h, "the end of the recording", 60, |h| {
        shows(h, "The recording has ended.")
    });
    assert_eq!(rows_today(dir.path()), 0, "never marked again");
    let today = chrono::Local::now().date_naive();
    assert_eq!(store.absent_by_hand(today).unwrap(), [id]);
}

/// Still in front of the camera when the teacher records them absent: the welcome does
/// not stay over them.
#[test]
fn a_student_recorded_absent_while_at_the_kiosk_sees_the_welcome_taken_back() {
    let dir = tempfile::tempdir().unwrap();
    let recording = looping(frames_of("0002", dir.path()));
    let (mut h, _store, _) = welcomed_then_recorded_absent(dir.path(), recording);
    sent_to_the_teacher(&mut h);
    assert_eq!(rows_today(dir.path()), 0);
}

#[test]
fn after_a_face_model_changes_the_kiosk_embeds_its_photos_again_and_greets_the_student() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    // As after a release with another FaceNet: the templates here are of a retired model.
    let db = rusqlite::Connection::open(data.database()).unwrap();
    let facenet = "facenet-20180408";
    let count = |db: &rusqlite::Connection, model: &str| -> i64 {
        db.query_row(
            "SELECT COUNT(*) FROM face_templates WHERE model_id = ?1",
            [model],
            |r| r.get(0),
        )
        .unwrap()
    };
    let enrolled = count(&db, facenet);
    db.execute(
        "UPDATE face_templates SET model_id = 'retired-model' WHERE model_id = ?1",
        [facenet],
    )
    .unwrap();

    // The student stays at the door while the kiosk embeds the photos.
    let (mut h, events) = observed_harness(data, looping(frames_of("0002", dir.path())));
    step_until(&mut h, "the green verdict", 120, |h| {
        shows(h, "Welcome, Student Two — marked at ")
    });
    assert_eq!(count(&db, facenet), enrolled, "every photo embedded again");
    assert_eq!(
        count(&db, "retired-model"),
        0,
        "the retired model's templates dropped"
    );
    // The kiosk said how far it was, photo by photo, before it was ready.
    let progress: Vec<(usize, usize)> = events
        .try_iter()
        .take_while(|e| !matches!(e, KioskEvent::Ready { .. }))
        .filter_map(|e| match e {
            KioskEvent::Preparing { done, total } => Some((done, total)),
            _ => None,
        })
        .collect();
    let total = enrolled as usize;
    assert_eq!(progress, (0..total).map(|d| (d, total)).collect::<Vec<_>>());
}

#[test]
fn a_stranger_is_not_recognised_and_not_marked() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut h = harness(data, looping(frames_of("0007", dir.path())));
    step_until(&mut h, "the red verdict", 120, |h| {
        shows(h, "Not recognised — please see your teacher")
    });
    assert!(!shows(&h, "Welcome,"));
    assert_eq!(rows_today(dir.path()), 0);
}

#[test]
fn marks_made_elsewhere_reach_the_count_on_the_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut h = harness(data, looping(frames_of("0007", dir.path())));
    step_until(&mut h, "the kiosk judging faces", 120, |h| {
        shows(h, "Not recognised — please see your teacher")
    });
    assert!(shows(&h, "Marked today: 0"));
    // Another door, the API or an admin's correction marks a student today.
    let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let id = store.students().unwrap()[0].id;
    store
        .mark(id, chrono::Local::now(), None, "admin", None)
        .unwrap();
    step_until(&mut h, "the new count", 10, |h| shows(h, "Marked today: 1"));
}

/// A photo-attack model trained on the NUAA dev frames of everyone but `person`, so the
/// check judges that person's face and photos as it would a student it has never seen.
fn liveness_model_without(person: &str, dir: &Path) -> PathBuf {
    let mut settings = settings();
    settings.liveness.enabled = false;
    let mut engine = FaceEngine::load(&settings).unwrap();
    let others: Vec<String> = ["0001", "0002", "0003", "0004", "0005", "0006", "0007"]
        .into_iter()
        .filter(|p| *p != person)
        .map(String::from)
        .collect();
    let frames = labelled_frames(&dataset("webcam-dev"), &dataset("spoof-dev"), &others).unwrap();
    let samples = Samples::collect(&mut engine, &frames, || {}).unwrap();
    assert!(!samples.people().contains(&person));
    let mut model = samples.train(TrainingRecord::default()).unwrap();
    let out = dir.join(format!("liveness-without-{person}"));
    model.save(&out).unwrap();
    out
}

/// Student Two enrolled at the kiosk's camera from five live frames, as an admin would, with
/// a photo-attack check that has never seen them.
fn enrolled_at_the_camera_unseen_by_the_check(dir: &Path) -> (DataDir, Settings) {
    let mut settings = settings();
    settings.liveness.model_dir = liveness_model_without("0002", dir)
        .to_string_lossy()
        .into_owned();
    let data = DataDir::resolve(Some(&dir.join("data"))).create().unwrap();
    let mut records = Records::open(&data, &settings).unwrap();
    let mut recognizer = Recognizer::load(&settings, records.store()).unwrap();
    let mut prepared = Vec::new();
    for p in photos("webcam-dev", "0002").iter().take(10).step_by(2) {
        let image = read_image_file(p).unwrap();
        let photo = recognizer
            .check_image("camera", image, Origin::Camera)
            .unwrap()
            .unwrap();
        assert!(
            photo.liveness_reference.is_some(),
            "kept as their reference"
        );
        prepared.push(photo);
    }
    let student = NewStudent {
        roll_no: "R0002".into(),
        name: "Student Two".into(),
        email: "s0002@example.org".into(),
    };
    records.enrol(&student, &prepared, "test").unwrap();
    (data, settings)
}

#[test]
fn a_printed_photo_of_an_enrolled_student_who_never_comes_marks_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let (data, settings) = enrolled_at_the_camera_unseen_by_the_check(dir.path());
    // Only a printed photo of Student Two is held up to the camera, over and over.
    let mut h = harness_with(
        data,
        settings,
        looping(frames_from("spoof-dev", "0002", dir.path())),
    );
    step_until(&mut h, "the photo-attack verdict", 120, |h| {
        shows(h, "We couldn't verify it's you — please see your teacher")
    });
    // The photo keeps being shown for a while longer: still nobody is marked.
    let until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < until {
        h.step();
        assert!(!shows(&h, "Welcome,"));
        std::thread::sleep(Duration::from_millis(30));
    }
    let db = data_db(dir.path());
    assert_eq!(rows_today_in(&db), 0, "a photo marks nobody");
    let refusals = Store::open(&db).unwrap().refusals(10).unwrap();
    assert!(!refusals.is_empty(), "the admin can see the attempt");
    assert!(refusals[0].snapshot.is_some(), "with the face it showed");
    assert!(refusals[0].score <= 0.0);
}

#[test]
fn the_same_student_in_person_is_marked_by_a_check_that_never_saw_them() {
    let dir = tempfile::tempdir().unwrap();
    let (data, settings) = enrolled_at_the_camera_unseen_by_the_check(dir.path());
    // The student stays at the door until greeted (two seconds of frames can be mostly
    // skipped when the machine is busy).
    let mut h = harness_with(data, settings, looping(frames_of("0002", dir.path())));
    step_until(&mut h, "the green verdict", 120, |h| {
        shows(h, "Welcome, Student Two — marked at ")
    });
    assert!(!shows(&h, "We couldn't verify it's you"));
    assert_eq!(rows_today_in(&data_db(dir.path())), 1);
}

/// A strictness of the photo-attack check saved in the data folder's settings by another
/// program (the admin of a second kiosk on the same folder, or a person editing the file)
/// reaches a kiosk that is running, without a restart: the door used to keep the strictness
/// it started with.
#[test]
fn a_strictness_saved_by_another_kiosk_reaches_the_door_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut settings) = enrolled_at_the_camera_unseen_by_the_check(dir.path());
    let file = data.settings();
    let model = toml::Value::String(settings.liveness.model_dir.clone());
    Settings::set_in_file(&file, "liveness", "model_dir", model).unwrap();
    // So strict that nobody passes.
    let strict = Settings::set_in_file(&file, "liveness", "threshold", toml::Value::Float(50.0));
    settings.liveness = strict.unwrap().liveness;
    let normal = Settings::default().liveness.threshold;
    // Student Two comes, leaves, and comes again, over and over.
    let mut h = harness_with(data, settings, looping(doorway_then("0002", dir.path())));
    step_until(&mut h, "the too-strict check's verdict", 120, |h| {
        shows(h, "We couldn't verify it's you — please see your teacher")
    });
    assert!(!shows(&h, "Welcome,"));
    assert_eq!(rows_today_in(&data_db(dir.path())), 0);
    Settings::set_in_file(
        &file,
        "liveness",
        "threshold",
        toml::Value::Float(normal.into()),
    )
    .unwrap();
    // The student's next appearance (within a few seconds) meets the usual strictness.
    step_until(&mut h, "the green verdict", 60, |h| {
        shows(h, "Welcome, Student Two — marked at ")
    });
    assert_eq!(rows_today_in(&data_db(dir.path())), 1);
}

fn read_frame(path: &Path) -> Mat {
    opencv::imgcodecs::imread(path.to_str().unwrap(), opencv::imgcodecs::IMREAD_COLOR).unwrap()
}

/// Frames made of two pictures side by side.
fn side_by_side(out: PathBuf, pairs: impl IntoIterator<Item = (Mat, Mat)>) -> PathBuf {
    std::fs::create_dir_all(&out).unwrap();
    for (i, (l, r)) in pairs.into_iter().enumerate() {
        let mut both = Mat::default();
        opencv::core::hconcat2(&l, &r, &mut both).unwrap();
        assert_eq!(both.cols(), l.cols() + r.cols());
        opencv::imgcodecs::imwrite(
            out.join(format!("{i:03}.jpg")).to_str().unwrap(),
            &both,
            &Vector::new(),
        )
        .unwrap();
    }
    out
}

/// Frames showing two people side by side (two webcam frames joined).
fn two_people_frames(a: &str, b: &str, dir: &Path) -> PathBuf {
    let left = photos("webcam-dev", a);
    let right = photos("webcam-dev", b);
    let pairs = (20..40).map(|i| (read_frame(&left[i]), read_frame(&right[i])));
    side_by_side(dir.join(format!("frames-{a}-{b}")), pairs)
}

/// A grey picture of `frame`'s size: nobody there.
fn grey_wall(frame: &Mat) -> Mat {
    let grey = opencv::core::Scalar::all(128.0);
    Mat::new_rows_cols_with_default(frame.rows(), frame.cols(), frame.typ(), grey).unwrap()
}

/// A frame shrunk to `scale` in the middle of a grey wall of its size: its person further
/// back.
fn further_back(frame: &Mat, scale: f64) -> Mat {
    let mut small = Mat::default();
    let (keep, area) = (opencv::core::Size::default(), opencv::imgproc::INTER_AREA);
    opencv::imgproc::resize(frame, &mut small, keep, scale, scale, area).unwrap();
    let mut wall = grey_wall(frame);
    let at = opencv::core::Rect::new(
        (frame.cols() - small.cols()) / 2,
        (frame.rows() - small.rows()) / 2,
        small.cols(),
        small.rows(),
    );
    small.copy_to(&mut wall.roi_mut(at).unwrap()).unwrap();
    wall
}

/// Only the person coming to the kiosk is told what to do: someone further back while a
/// student stands at the kiosk is left alone (until 2026-12-03 every face in the
/// background got its own "Step closer"), and asked to step closer once nobody is nearer.
#[test]
fn people_further_back_are_not_asked_to_step_closer_while_someone_is_at_the_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut settings = settings();
    // Judged from 45 px between the eyes; the small faces (about 25) are found.
    settings.kiosk.min_eye_distance_px = 45.0;
    settings.kiosk.min_face_px = 30.0;
    let student = photos("webcam-dev", "0002");
    let stranger = photos("webcam-dev", "0006");
    let wall = grey_wall(&read_frame(&student[0]));
    let with_student = (0..25).map(|i| {
        let far = further_back(&read_frame(&stranger[i]), 0.4);
        (read_frame(&student[10 + i]), far)
    });
    let alone = (25..40).map(|i| (wall.clone(), further_back(&read_frame(&stranger[i]), 0.4)));
    let frames = side_by_side(dir.path().join("hallway"), with_student.chain(alone));
    let mut h = harness_with(data, settings, folder(frames));
    let (mut both_seen, mut told_alone) = (0, false);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !told_alone && Instant::now() < deadline {
        h.step();
        if let Some(f) = &h.state().view.faces {
            let hints = f.faces.iter().filter(|o| o.label == "Step closer").count();
            if f.faces.len() == 2 {
                both_seen += 1;
                assert_eq!(
                    hints, 0,
                    "someone was asked to step closer beside the student"
                );
            }
            told_alone |= f.faces.len() == 1 && hints == 1 && both_seen > 0;
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(both_seen > 5, "both faces were found on {both_seen} frames");
    assert!(
        told_alone,
        "the one further back, alone, was asked to step closer"
    );
    assert_eq!(
        rows_today(dir.path()),
        1,
        "the student at the kiosk was marked"
    );
}

#[test]
fn two_enrolled_students_in_one_frame_are_both_marked() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut h = harness(data, looping(two_people_frames("0002", "0004", dir.path())));
    step_until(&mut h, "both green verdicts", 150, |h| {
        shows(h, "Welcome, Student Two") && shows(h, "Welcome, Student Four")
    });
    assert_eq!(rows_today(dir.path()), 2);
}

/// A queue at the door: a student is welcomed and, as they leave, a stranger steps in
/// where they stood. The stranger is judged for themselves, and the student's card goes
/// at once rather than staying over the stranger's face. (Until 2026-12-03 the newcomer
/// took over the student's face track: "Welcome, Student Four" stayed over them, and
/// nobody who stepped in that way was ever judged — or marked.)
#[test]
fn the_next_person_in_a_queue_is_judged_for_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let student = photos("webcam-dev", "0004").into_iter().skip(20).take(20);
    let stranger = photos("webcam-dev", "0006").into_iter().take(40);
    let queue = common::frame_folder(dir.path().join("queue"), student.chain(stranger));
    let mut h = harness(data, folder(queue));
    step_until(&mut h, "the student's welcome", 120, |h| {
        shows(h, "Welcome, Student Four — marked at ")
    });
    step_until(&mut h, "the student's card to go", 30, |h| {
        !shows(h, "Welcome, Student Four")
    });
    assert!(
        !shows(&h, "Not recognised"),
        "the card went when the stranger stepped in, before their own verdict"
    );
    step_until(&mut h, "the stranger's own verdict", 30, |h| {
        shows(h, "Not recognised — please see your teacher")
    });
    assert_eq!(rows_today(dir.path()), 1, "only the student is marked");
}

#[test]
fn a_missing_camera_shows_the_no_camera_screen() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    // No camera exists on a test machine; a name no camera has makes sure of it.
    let source = SourceSpec::Webcam {
        camera: "no-such-camera-anywhere".into(),
        width: 640,
        height: 480,
        fps: 30,
    };
    let mut h = harness(data, source);
    step_until(&mut h, "the no-camera screen", 60, |h| {
        shows(h, "No camera found")
    });
    assert!(
        !shows(&h, "No camera was found"),
        "the camera's own words, repeating the heading, are not shown"
    );
    assert!(h.query_by_label("Retry").is_some());
    // Whoever stands at the door does not choose what the door sees: another camera or a
    // recording is chosen behind the admin PIN.
    assert!(shows(&h, "in Admin → Door settings"));
    assert!(h.query_by_label("Open a video file…").is_none());
    assert!(h.query_by_label("Open a folder of images…").is_none());
    assert!(h.query_by_label("Look for cameras").is_none());

    // Choosing a recording instead brings the picture back.
    let frames = frames_of("0003", dir.path());
    h.state()
        .kiosk
        .command(CaptureCommand::Switch(folder(frames).into()));
    step_until(&mut h, "the video", 60, |h| shows(h, "Camera view"));
}

/// A camera whose privacy shutter is closed sends black pictures: the people at the door
/// are asked to tell the teacher, who is told what to do; the picture coming back ends it.
#[test]
fn a_camera_whose_picture_stays_black_says_so_until_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let mut h = harness(
        data,
        looping(common::black_frames(dir.path().join("shut"), 5)),
    );
    step_until(&mut h, "the black picture's notice", 60, |h| {
        shows(
            h,
            "The camera's picture is black — please tell your teacher.",
        )
    });
    assert!(shows(
        &h,
        "Open the camera's privacy shutter or uncover its lens"
    ));
    assert!(
        shows(&h, "(picture almost black)"),
        "the status line says it too"
    );
    let scene = nobody_there(&dir.path().join("open"));
    h.state()
        .kiosk
        .command(CaptureCommand::Switch(looping(scene).into()));
    step_until(&mut h, "the notice to go", 30, |h| {
        !shows(h, "The camera's picture is black")
    });
    assert!(!shows(&h, "(picture almost black)"));
}

/// A camera stuck in its read (its driver, its cable) sends no picture and says nothing:
/// after five seconds the door says the camera has stopped, until pictures come again.
/// (Played here by a recording that sends one picture every ten seconds.)
#[test]
fn a_camera_that_stops_sending_pictures_is_said_to_have_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let scene = nobody_there(&dir.path().join("scene"));
    let stuck = SourceSpec::Folder {
        path: scene.clone(),
        fps: 0.1,
        looping: true,
    };
    let mut h = harness(data, stuck);
    step_until(&mut h, "the picture", 60, |h| shows(h, "Camera view"));
    assert!(
        !shows(&h, "stopped sending pictures"),
        "a picture has just come"
    );
    step_until(&mut h, "the stopped camera's notice", 30, |h| {
        shows(
            h,
            "The camera has stopped sending pictures — please tell your teacher.",
        )
    });
    assert!(shows(&h, "Unplug the camera and plug it in again"));
    assert!(shows(&h, "(no picture for seconds)"));
    assert!(shows(&h, " 0 fps"), "no frame in the last two seconds");
    // The next picture, ten seconds after the first: the camera sends again.
    step_until(&mut h, "the notice to go", 30, |h| {
        !shows(h, "stopped sending pictures")
    });
    assert!(!shows(&h, "(no picture for seconds)"));
}

#[test]
fn a_recording_that_cannot_be_played_says_so_and_which_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let file = dir.path().join("door.mp4");
    std::fs::write(&file, b"this is a note, not a video").unwrap();
    let source = SourceSpec::Video {
        path: file.clone(),
        fps: None,
        looping: false,
    };
    let mut h = harness(data, source);
    step_until(&mut h, "the no-picture screen", 60, |h| {
        shows(h, "The recording could not be played")
    });
    assert!(shows(
        &h,
        "Check that the recording is still there and plays"
    ));
    assert!(shows(&h, &format!("cannot play {}", file.display())));
    assert!(!shows(&h, "No camera found"));
    assert!(shows(&h, "in Admin → Door settings"));
    assert!(h.query_by_label("Open a folder of images…").is_none());
}

/// An empty doorway for three seconds, then a student for two, over and over.
fn doorway_then(person: &str, dir: &Path) -> PathBuf {
    let out = dir.join(format!("doorway-{person}"));
    std::fs::create_dir_all(&out).unwrap();
    let empty = faceless_jpeg();
    for i in 0..30 {
        std::fs::write(out.join(format!("{i:03}.jpg")), &empty).unwrap();
    }
    for (i, p) in photos("webcam-dev", person)
        .iter()
        .skip(20)
        .take(20)
        .enumerate()
    {
        std::os::unix::fs::symlink(p, out.join(format!("{:03}.jpg", 30 + i))).unwrap();
    }
    out
}

/// A student whose last day in class is over while this machine still knows their face
/// (a door before the office's erasure reaches it; any machine until its day's
/// housekeeping) is not marked: "Not recognised", as anyone not in the class.
#[test]
fn a_student_whose_last_day_is_over_is_not_marked_while_their_face_is_still_known() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let db = rusqlite::Connection::open(data.database()).unwrap();
    let yesterday = (chrono::Local::now().date_naive() - chrono::Days::new(1)).to_string();
    let last_day_of = |roll_no: &str| {
        db.execute(
            "UPDATE students SET last_day = ?1 WHERE roll_no = ?2",
            [yesterday.as_str(), roll_no],
        )
        .unwrap()
    };
    let templates_of = |roll_no: &str| -> i64 {
        db.query_row(
            "SELECT COUNT(*) FROM face_templates t JOIN students s ON s.id = t.student_id
              WHERE s.roll_no = ?1",
            [roll_no],
            |r| r.get(0),
        )
        .unwrap()
    };
    // Student Four's last day was yesterday: the kiosk's housekeeping erases their face.
    last_day_of("R0004");
    // Fifteen seconds of an empty doorway before Student Three comes, over and over.
    let frames = dir.path().join("doorway");
    std::fs::create_dir_all(&frames).unwrap();
    for i in 0..150 {
        std::fs::write(frames.join(format!("{i:03}.jpg")), faceless_jpeg()).unwrap();
    }
    for (i, p) in photos("webcam-dev", "0003")
        .iter()
        .skip(20)
        .take(20)
        .enumerate()
    {
        std::os::unix::fs::symlink(p, frames.join(format!("{:03}.jpg", 150 + i))).unwrap();
    }
    let mut h = harness(data, looping(frames));
    step_until(&mut h, "the housekeeping", 60, |h| {
        shows(h, "3 students with face data")
    });
    assert_eq!(templates_of("R0004"), 0);
    assert_eq!(rows_today(dir.path()), 0, "Student Three not come yet");
    // The office records Student Three's leave, last day yesterday, after this machine's
    // housekeeping of the day: it still knows the face.
    last_day_of("R0003");
    step_until(&mut h, "the red verdict", 120, |h| {
        shows(h, "Not recognised — please see your teacher")
    });
    assert!(!shows(&h, "Welcome,"));
    assert!(!shows(&h, "already marked"));
    assert_eq!(rows_today(dir.path()), 0);
    assert!(templates_of("R0003") > 0, "the face was still known");
}

#[test]
fn a_locked_database_is_reported_and_the_student_is_marked_once_it_frees() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut h = harness(data, looping(doorway_then("0003", dir.path())));
    step_until(&mut h, "the kiosk to be ready", 60, |h| {
        shows(h, "4 students with face data")
    });
    // Another program holds the database for longer than the busy timeout.
    let other = rusqlite::Connection::open(dir.path().join("rollcall.db")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    step_until(&mut h, "the busy message", 60, |h| {
        shows(h, "The attendance database is busy")
    });
    assert!(shows(&h, "Camera view"), "the picture stays on screen");
    assert!(!shows(&h, "Welcome,"));
    other.execute_batch("ROLLBACK").unwrap();
    step_until(&mut h, "the green verdict", 60, |h| {
        shows(h, "Welcome, Student Three — marked at ")
    });
    assert_eq!(rows_today(dir.path()), 1);
}

#[test]
fn a_kiosk_whose_clock_went_back_marks_nobody_until_the_marks_ahead_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    // Student One was marked by this kiosk a week ahead of today's date: the clock has
    // gone back since (or was ahead then).
    let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let one = store.student_by_roll_no("R0001").unwrap().unwrap().0;
    let ahead = chrono::Local::now() + chrono::Duration::days(7);
    store.mark(one, ahead, Some(7.0), "kiosk", None).unwrap();
    let mut h = harness(data, looping(frames_of("0003", dir.path())));
    step_until(&mut h, "the kiosk to ask for the teacher", 60, |h| {
        shows(h, "4 students with face data")
            && shows(h, "please tell your teacher")
            && shows(h, "its clock is wrong")
    });
    assert!(shows(&h, "Camera view"), "the picture stays on screen");
    // Student Three stands at the door a while (a verdict takes about a second).
    let until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < until {
        h.step();
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(!shows(&h, "Welcome,"));
    assert_eq!(rows_today(dir.path()), 0);

    let today = chrono::Local::now().date_naive();
    assert_eq!(store.remove_future_marks(today, "admin").unwrap(), 1);
    step_until(&mut h, "the green verdict", 60, |h| {
        shows(h, "Welcome, Student Three — marked at ")
    });
    assert!(!shows(&h, "please tell your teacher"));
    assert_eq!(rows_today(dir.path()), 1);
    assert!(
        h.state().view.faces.is_some(),
        "Student Three's box is drawn"
    );

    // Then the link to the school server finds this clock three days ahead of the school's.
    rusqlite::Connection::open(dir.path().join("rollcall.db"))
        .unwrap()
        .execute(
            "UPDATE school_link SET linked = 1, clock_ahead_ms = ?1, clock_checked_ms = ?2",
            rusqlite::params![
                3 * 24 * 3_600_000_i64,
                chrono::Local::now().timestamp_millis()
            ],
        )
        .unwrap();
    step_until(&mut h, "the kiosk to ask for the teacher again", 30, |h| {
        shows(h, "please tell your teacher")
            && shows(
                h,
                "This computer's clock is 3 days ahead of the school server's",
            )
    });
    // No face is judged, so no box is left standing on the picture.
    assert!(h.state().view.faces.is_none());
}

#[test]
fn a_read_only_data_folder_leaves_the_camera_on_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let locked = std::process::Command::new("chattr")
        .arg("+i")
        .arg(dir.path())
        .status()
        .is_ok_and(|s| s.success());
    if !locked {
        eprintln!("chattr is not available here: the read-only case cannot be set up");
        return;
    }
    let frames = tempfile::tempdir().unwrap();
    let mut h = harness(data, looping(frames_of("0002", frames.path())));
    let seen = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        step_until(&mut h, "the read-only message", 60, |h| {
            shows(h, "is read-only") && shows(h, "Camera view")
        })
    }));
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(dir.path())
        .status();
    assert!(seen.is_ok(), "the camera stays on and the message says why");
}

/// A folder of `n` students for a bulk import (`ROLLNO_Name`, two LFW photos each).
fn import_folder(dir: &Path, n: usize) -> PathBuf {
    let out = dir.join("import");
    let people = common::people_with_at_least("lfw-dev", 2);
    assert!(people.len() >= n, "lfw-dev has {} people", people.len());
    for (i, person) in people.iter().take(n).enumerate() {
        let folder = out.join(format!("IMP{i:03}_{}", person.replace('_', " ")));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("email.txt"), format!("imp{i}@example.org")).unwrap();
        for (k, p) in photos("lfw-dev", person).iter().take(2).enumerate() {
            std::os::unix::fs::symlink(p, folder.join(format!("{k}.jpg"))).unwrap();
        }
    }
    out
}

/// The door keeps recognising while an admin imports 50 students: a mark lands while the
/// import is still running.
#[test]
fn the_kiosk_keeps_marking_during_a_bulk_import() {
    use rollcall::kiosk::door::verdict::VerdictKind;
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let quiet = nobody_there(&dir.path().join("quiet"));
    let (mut h, events) = observed_harness(data, looping(quiet));
    step_until(&mut h, "the models", 120, |h| shows(h, "with face data"));
    common::ui::set_pin(&mut h, "2468");
    common::ui::click(&mut h, egui::accesskit::Role::Button, "Students");
    let folder = import_folder(dir.path(), 50);
    {
        // What "Import…" does once the dialog returns the folder.
        let app = h.state_mut();
        app.admin.start_import(&app.kiosk, folder);
    }
    // Once the import is under way, Student Two walks in.
    let db = dir.path().join("rollcall.db");
    let enrolled = |db: &Path| Store::open(db).unwrap().students().unwrap().len();
    step_until(&mut h, "the import to start", 120, |_| enrolled(&db) > 5);
    let started = Instant::now();
    h.state().kiosk.command(CaptureCommand::Switch(
        SourceSpec::Folder {
            path: frames_of("0002", dir.path()),
            fps: 10.0,
            looping: true,
        }
        .into(),
    ));
    let mut welcomed = None;
    let mut imported = None;
    let deadline = Instant::now() + Duration::from_secs(300);
    while (welcomed.is_none() || imported.is_none()) && Instant::now() < deadline {
        h.step();
        for e in events.try_iter() {
            if let KioskEvent::Verdict { verdict, at, .. } = e {
                if verdict.kind == VerdictKind::Welcome && welcomed.is_none() {
                    welcomed = Some(at);
                }
            }
        }
        if imported.is_none() && shows(&h, "Imported ") {
            imported = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    let (welcomed, imported) = (
        welcomed.expect("Student Two is welcomed"),
        imported.expect("the import finishes"),
    );
    assert!(
        welcomed < imported,
        "the mark ({:?} after the switch) lands before the import ends ({:?})",
        welcomed - started,
        imported - started
    );
    assert_eq!(rows_today(dir.path()), 1);
    let students = enrolled(&db);
    assert!(students > 4 + 40, "most of the 50 are imported: {students}");
}

/// A stranger turned away at the kiosk steps aside, and a student steps up at the other
/// side of the picture (a new face, not the stranger's track taken over): the stranger's
/// "Not recognised" goes as soon as the student is being judged, not when the student's
/// own verdict comes (until 2026-12-03 the student read it, for a second or more, as
/// theirs). A named card would stay its few seconds.
#[test]
fn a_red_card_of_someone_who_left_goes_when_the_next_person_steps_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut settings = settings();
    // Long enough that only the newcomer takes the stranger's card down.
    settings.kiosk.verdict_secs = 60;
    let stranger = photos("webcam-dev", "0006");
    let student = photos("webcam-dev", "0004");
    let wall = grey_wall(&read_frame(&stranger[0]));
    let stranger_left = (0..40).map(|i| (read_frame(&stranger[i]), wall.clone()));
    let student_right = (20..40).map(|i| (wall.clone(), read_frame(&student[i])));
    let frames = side_by_side(dir.path().join("turns"), stranger_left.chain(student_right));
    let mut h = harness_with(data, settings, folder(frames));
    let red = "Not recognised — please see your teacher";
    step_until(&mut h, "the stranger's verdict", 120, |h| shows(h, red));
    step_until(&mut h, "the stranger's card to go", 60, |h| !shows(h, red));
    assert!(
        !shows(&h, "Welcome, Student Four"),
        "the card went when the student stepped up, before their own verdict"
    );
    step_until(&mut h, "the student's own verdict", 60, |h| {
        shows(h, "Welcome, Student Four — marked at ")
    });
    assert!(!shows(&h, red));
}

/// Labels on screen exactly equal to `text`.
fn count_exact(h: &Harness<'_, RollcallApp>, text: &str) -> usize {
    h.query_all_by_label(text).count()
}

#[test]
fn one_person_has_one_card_over_a_video_that_keeps_its_size_while_they_stay() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut settings = settings();
    // Cards of faces that left go after one second; this face never leaves.
    settings.kiosk.verdict_secs = 1;
    let mut h = app_harness(
        (800.0, 600.0),
        AppOptions {
            data,
            settings,
            source: looping(frames_of("0007", dir.path())).into(),
            observer: None,
        },
    );
    step_until(&mut h, "the video", 60, |h| shows(h, "Camera view"));
    let video = h.get_by_label("Camera view").rect();
    let red = "Not recognised — please see your teacher";
    step_until(&mut h, "the red verdict", 120, |h| shows(h, red));
    // Twelve seconds of the stranger standing there: judged again every few seconds, the
    // recording looping (the face may be found afresh), never two cards, never gone.
    let until = Instant::now() + Duration::from_secs(12);
    while Instant::now() < until {
        h.step();
        assert_eq!(count_exact(&h, red), 1, "one card for one person");
        assert_eq!(
            h.get_by_label("Camera view").rect(),
            video,
            "the card is drawn over the video, which keeps its size"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(rows_today(dir.path()), 0);
}

#[test]
fn a_student_enrolled_while_standing_at_the_kiosk_is_greeted_at_once() {
    use common::ui::{click, set_pin, type_into};
    use egui::accesskit::Role;
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    // The walk-through's smallest window.
    let mut h = app_harness(
        (800.0, 600.0),
        AppOptions {
            data,
            settings: settings(),
            source: looping(frames_of("0005", dir.path())).into(),
            observer: None,
        },
    );
    step_until(&mut h, "the red verdict", 120, |h| {
        shows(h, "Not recognised — please see your teacher")
    });

    // The teacher enrols them from the camera while they stand there.
    set_pin(&mut h, "2468");
    type_into(&mut h, "Roll no", "R0005");
    type_into(&mut h, "Name", "Student Five");
    type_into(&mut h, "Email", "s0005@example.org");
    for n in 1..=4 {
        click(&mut h, Role::Button, "Capture");
        step_until(&mut h, "a captured photo", 60, |h| {
            shows(h, &format!("Photos: {n} / 10"))
        });
    }
    for n in 1..=4 {
        let label = format!("Remove photo {n}");
        let rect = h.get_by_role_and_label(Role::Button, &label).rect();
        assert!(
            rect.right() <= 800.0,
            "photo {n}'s thumbnail runs off the window: {rect:?}"
        );
    }
    click(&mut h, Role::Button, "Save");
    step_until(&mut h, "the enrolment", 60, |h| {
        shows(h, "Enrolled Student Five (R0005) with 4 photos.")
    });
    let saved = Instant::now();
    step_until(&mut h, "the mark", 30, |_| rows_today(dir.path()) == 1);
    let greeted = saved.elapsed();
    click(&mut h, Role::Button, "Lock");
    step_until(&mut h, "the green verdict", 10, |h| {
        shows(h, "Welcome, Student Five — marked at ")
    });
    assert!(
        !shows(&h, "Not recognised"),
        "the new verdict replaced the old one"
    );
    assert!(
        greeted <= Duration::from_secs(2),
        "greeted {greeted:?} after the enrolment was saved"
    );
}

/// A student recorded as gone from the school while standing at the kiosk is greeted no
/// more: their face data went with it (until 2026-12-06 the welcome stayed over them, by
/// name, for as long as they stood there).
#[test]
fn a_student_who_left_is_not_greeted_by_name_while_still_standing_there() {
    use common::ui::{click, set_pin};
    use egui::accesskit::Role;
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let mut h = harness(data, looping(frames_of("0002", dir.path())));
    step_until(&mut h, "the welcome", 120, |h| {
        shows(h, "Welcome, Student Two — marked at ")
    });
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open R0002"));
    click(&mut h, Role::Button, "Open R0002");
    click(&mut h, Role::Button, "Left the school…");
    click(&mut h, Role::Button, "Record that they left");
    step_until(&mut h, "the record", 30, |h| shows(h, "Back in the class…"));
    click(&mut h, Role::Button, "Lock");
    step_until(&mut h, "the red verdict", 60, |h| {
        shows(h, "Not recognised — please see your teacher")
    });
    assert!(!shows(&h, "Student Two"), "nobody is greeted by their name");
    assert_eq!(rows_today(dir.path()), 1, "their mark of today stays");
}

#[test]
fn before_anyone_is_enrolled_the_door_says_so_instead_of_turning_students_away() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let mut h = harness(data.clone(), looping(frames_of("0005", dir.path())));
    step_until(&mut h, "the notice", 120, |h| {
        shows(h, KioskView::NOBODY_ENROLLED)
    });
    assert!(
        !shows(&h, "please see your teacher"),
        "nobody is turned away from an empty class"
    );

    // The first student is enrolled (here by the command line's service, another program
    // on the same data folder) and is greeted.
    let frames: Vec<PhotoInput> = photos("webcam-dev", "0005")
        .iter()
        .take(10)
        .step_by(2)
        .map(|p| PhotoInput::read(p).unwrap())
        .collect();
    let enrolled = AttendanceService::open(data.clone(), settings())
        .unwrap()
        .enroll(
            "R0005",
            "Student Five",
            "s0005@example.org",
            &frames,
            "test",
        )
        .unwrap();
    step_until(&mut h, "the green verdict", 60, |h| {
        shows(h, "Welcome, Student Five — marked at ")
    });
    assert!(!shows(&h, KioskView::NOBODY_ENROLLED));

    // The student's face data is erased (the student and their attendance stay): the
    // door has nobody to recognise again, and says so rather than turning them away.
    Records::open(&data, &settings())
        .unwrap()
        .erase_face_data(enrolled.student_id, "test")
        .unwrap();
    step_until(&mut h, "the notice again", 60, |h| {
        shows(h, KioskView::NOBODY_ENROLLED) && shows(h, "0 students with face data")
    });
    assert!(!shows(&h, "please see your teacher"));
}

/// Wakes counted, events observed, and the newest frame and processed-frame numbers the
/// back end offered, over `secs` of a running kiosk.
fn watch_kiosk(
    kiosk: &rollcall::kiosk::Kiosk,
    wakes: &std::sync::atomic::AtomicUsize,
    events: &crossbeam_channel::Receiver<KioskEvent>,
    secs: f64,
) -> (usize, usize, u64, u64) {
    use std::sync::atomic::Ordering;
    while events.try_recv().is_ok() {}
    // Where the camera and the door are now.
    let wait = Duration::from_secs(10);
    let seq0 = kiosk.frames.recv_timeout(wait).expect("a frame").seq;
    let processed0 = kiosk.faces.recv_timeout(wait).expect("faces").processed;
    let (mut seq, mut processed) = (seq0, processed0);
    let take_newest = |seq: &mut u64, processed: &mut u64| {
        if let Ok(f) = kiosk.frames.try_recv() {
            *seq = f.seq;
        }
        if let Ok(f) = kiosk.faces.try_recv() {
            *processed = f.processed;
        }
    };
    wakes.store(0, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        take_newest(&mut seq, &mut processed);
    }
    (
        wakes.load(Ordering::SeqCst),
        events.try_iter().count(),
        seq - seq0,
        processed - processed0,
    )
}

/// A recording (a video file, a folder of frames) is played from its first frame once the
/// door can judge it: until 2026-12-04 it played while the models loaded, and a short
/// recording could end before the door saw anyone (on a busy computer, always).
#[test]
fn a_recording_is_judged_from_its_first_frame() {
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let (observer, events) = crossbeam_channel::unbounded();
    let recording = SourceSpec::Folder {
        path: frames_of("0002", dir.path()),
        fps: 2.0,
        looping: false,
    };
    let kiosk =
        rollcall::kiosk::Kiosk::start(recording, data, settings(), Arc::new(|| {}), Some(observer));
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut heard = Vec::new();
    let first = loop {
        assert!(
            Instant::now() < deadline,
            "no frame was judged; heard {heard:?}"
        );
        heard.extend(events.try_iter().filter_map(|e| match e {
            KioskEvent::Ready { .. } => Some("ready"),
            KioskEvent::Camera(CameraStatus::Live(_)) => Some("playing"),
            _ => None,
        }));
        if let Some(faces) = kiosk.faces.try_iter().last() {
            break faces;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        first.seq, 1,
        "the first frame judged is the recording's first"
    );
    assert_eq!(heard, ["ready", "playing"]);
}

#[test]
fn frames_wake_the_window_only_while_it_shows_the_video() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let data = enrolled_data_dir(dir.path());
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = wakes.clone();
    let (observer, events) = crossbeam_channel::unbounded();
    let mut kiosk = rollcall::kiosk::Kiosk::start(
        looping(frames_of("0002", dir.path())),
        data,
        settings(),
        Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }),
        Some(observer),
    );
    // Until the models are loaded and the door judges frames.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !events
        .try_iter()
        .any(|e| matches!(e, KioskEvent::Ready { .. }))
    {
        assert!(Instant::now() < deadline, "the door never got ready");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The kiosk screen: each frame wakes the window, as do the faces found on it.
    let (shown_wakes, shown_events, shown_frames, _) = watch_kiosk(&kiosk, &wakes, &events, 2.0);
    assert!(
        shown_frames >= 5,
        "the camera delivers ({shown_frames} frames)"
    );
    assert!(
        shown_wakes >= shown_frames as usize,
        "{shown_wakes} wakes for {shown_frames} frames and {shown_events} events"
    );

    // A screen without the video: frames and faces keep coming (the door keeps judging),
    // and only events wake the window (one more for an event on the edge of the count).
    kiosk.show_video(false);
    std::thread::sleep(Duration::from_millis(300));
    let (hidden_wakes, hidden_events, hidden_frames, processed) =
        watch_kiosk(&kiosk, &wakes, &events, 2.0);
    assert!(
        hidden_frames >= 5,
        "the camera still delivers ({hidden_frames} frames)"
    );
    assert!(processed >= 2, "the door still judges frames ({processed})");
    assert!(
        hidden_wakes <= hidden_events + 1,
        "{hidden_wakes} wakes for {hidden_events} events and {hidden_frames} frames"
    );

    // Back to the video: frames wake the window again.
    kiosk.show_video(true);
    let (wakes_again, _, frames_again, _) = watch_kiosk(&kiosk, &wakes, &events, 2.0);
    assert!(
        wakes_again >= frames_again as usize && frames_again >= 5,
        "{wakes_again} wakes for {frames_again} frames"
    );
    kiosk.shutdown();
}

#[test]
fn a_long_room_name_is_cut_short_and_leaves_the_date_clock_and_count_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let scene = nobody_there(&dir.path().join("scene"));
    let mut settings = settings();
    // Forty letters, the longest Door settings takes.
    settings.kiosk.room_name = "Science Laboratory 2B, North Building We".into();
    let mut h = harness_with(data, settings, looping(scene));
    step_until(&mut h, "the header", 30, |h| shows(h, "Marked today: 0"));
    let edges = |found: &dyn Fn(&str) -> bool, what: &str| {
        let node = h
            .query_all_by(|n| n.role() == egui::accesskit::Role::Label)
            .find(|n| {
                let n = n.accesskit_node();
                n.label().or_else(|| n.value()).is_some_and(|l| found(&l))
            })
            .unwrap_or_else(|| panic!("no label of {what}"));
        let b = node.accesskit_node().bounding_box().unwrap();
        (b.x0, b.x1, (b.y0 + b.y1) / 2.0)
    };
    let weekday = chrono::Local::now().format("%A").to_string();
    let room = edges(&|l| l.contains("Science Laboratory"), "the room");
    let date = edges(&|l| l.contains(&weekday), "the date");
    let clock = edges(
        &|l| l.len() == 8 && l.chars().filter(|c| *c == ':').count() == 2,
        "the clock",
    );
    let count = edges(&|l| l.contains("Marked today: 0"), "the count");
    // Side by side, none over another, all in the window.
    let mut order = [room, date, clock, count];
    order.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in order.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "{order:?}: one runs over the next");
    }
    assert!(order[3].1 <= 1024.0, "{order:?}: off the window");
    // On one line: the count sat higher than the date (laid out before the taller clock).
    for (what, other) in [
        ("the room", room),
        ("the clock", clock),
        ("the count", count),
    ] {
        assert!(
            (other.2 - date.2).abs() < 1.0,
            "{what} off the date's line: {order:?}"
        );
    }
}

/// The room's name, the mirror and the verdict's time changed in the settings file (by
/// hand, or by a second kiosk's admin on the same data folder) reach the door's screen
/// within a second or two, as the sound and the photo-attack choices do.
#[test]
fn a_room_renamed_in_the_settings_file_is_shown_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let scene = nobody_there(&dir.path().join("scene"));
    let file = data.settings();
    let room = |name: &str| toml::Value::String(name.into());
    Settings::set_in_file(&file, "kiosk", "room_name", room("Room 12")).unwrap();
    let mut settings = settings();
    settings.kiosk = Settings::load(&file).unwrap().kiosk;
    settings.kiosk.cooldown_secs = 0;
    let mut h = harness_with(data, settings, looping(scene));
    step_until(&mut h, "the models", 120, |h| shows(h, "with face data"));
    assert!(shows(&h, "Room 12"));
    assert!(h.state().view.settings.mirror, "mirrored as by default");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace(
        "room_name = \"Room 12\"",
        "room_name = \"Science lab\"\nmirror = false\nverdict_secs = 9",
    );
    assert_ne!(edited, text);
    std::fs::write(&file, edited).unwrap();
    step_until(&mut h, "the new name", 30, |h| shows(h, "Science lab"));
    assert!(!shows(&h, "Room 12"));
    let shown = &h.state().view.settings;
    assert!(!shown.mirror);
    assert_eq!(shown.verdict_secs, 9);
}
