//! The admin screens, driven through egui_kittest: the PIN, enrolment from files with real
//! photos, refused photos, the look-alike warning, editing, erasing face data, deleting.

use crate::common;

use common::{app_harness, faceless_jpeg, photos};
use egui::accesskit::{Role, Toggled};
use egui_kittest::kittest::{NodeT, Queryable};
use opencv::core::{Mat, Vector};
use rollcall::camera::{CameraDescription, SourceSpec};
use rollcall::data_dir::DataDir;
use rollcall::settings::Settings;
use rollcall::store::Store;
use rollcall::ui::AppOptions;
use std::path::{Path, PathBuf};

use common::ui::{
    bottom_of, click, field_value, keep_drawing, set_pin, shows, step_until, text_field, top_of,
    type_into, unlock, H,
};

fn settings() -> Settings {
    let mut s = Settings::default();
    s.kiosk.sound = false;
    s
}

/// A data folder with Student Two (webcam-dev 0002) enrolled, marked present today.
fn with_student_two(dir: &Path) -> DataDir {
    let id = common::enrol_student_two(&mut common::open_service(dir));
    let data = DataDir::resolve(Some(dir));
    Store::open(&data.database())
        .unwrap()
        .mark(id, chrono::Local::now(), None, "test", None)
        .unwrap();
    data
}

fn harness(data: DataDir, dir: &Path) -> H {
    harness_sized(data, dir, (1280.0, 900.0))
}

fn harness_sized(data: DataDir, dir: &Path, size: (f32, f32)) -> H {
    harness_with(data, dir, size, settings())
}

fn harness_with(data: DataDir, dir: &Path, size: (f32, f32), settings: Settings) -> H {
    // A quiet camera: a folder with one frame of an empty scene, played over and over.
    let scene = dir.join("scene");
    std::fs::create_dir_all(&scene).unwrap();
    std::fs::write(scene.join("0.jpg"), faceless_jpeg()).unwrap();
    let source = SourceSpec::Folder {
        path: scene,
        fps: 5.0,
        looping: true,
    };
    app_harness(
        size,
        AppOptions {
            data,
            settings,
            source: source.into(),
            observer: None,
        },
    )
}

fn harness_watching(data: DataDir, source: SourceSpec, size: (f32, f32)) -> H {
    app_harness(
        size,
        AppOptions {
            data,
            settings: settings(),
            source: source.into(),
            observer: None,
        },
    )
}

/// The admin screens of a school with nobody enrolled yet, the PIN 2468 just chosen.
fn unlocked_empty_school(dir: &Path) -> H {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    let mut h = harness(data, dir);
    set_pin(&mut h, "2468");
    h
}

#[test]
fn marks_made_while_the_clock_was_ahead_are_shown_to_the_admin_who_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    // This kiosk marked Student Two next week too: its clock was ahead then.
    let mut store = Store::open(&data.database()).unwrap();
    let id = store.students().unwrap()[0].id;
    let ahead = chrono::Local::now() + chrono::Duration::days(7);
    store.mark(id, ahead, None, "kiosk", None).unwrap();
    let mut h = harness(data, dir.path());
    step_until(&mut h, "the kiosk to ask for the teacher", 60, |h| {
        shows(h, "please tell your teacher")
    });
    set_pin(&mut h, "2468");
    let today = chrono::Local::now().date_naive();
    let remove = format!("Today is {today}: remove the mark made while the clock was ahead");
    step_until(&mut h, "the clock notice", 30, |h| shows(h, &remove));
    // Said above the admin screens (the camera's picture says it for the teacher too).
    assert!(h
        .query_all_by_label_contains("its clock is wrong")
        .any(|n| n
            .accesskit_node()
            .value()
            .is_some_and(|v| v.starts_with("This computer's date"))));
    // The enrolment screen's camera view says only a line, for the admin who reads it (not
    // to tell the teacher), and its buttons stay below the picture.
    assert!(top_of(&h.get_by_label("Capture")) >= bottom_of(&h.get_by_label("Camera view")));
    assert!(!shows(&h, "For the teacher"));
    assert!(shows(&h, "Attendance cannot be taken here right now."));
    assert!(!shows(&h, "please tell your teacher"));
    click(&mut h, Role::Button, &remove);
    step_until(&mut h, "the removal said", 30, |h| {
        shows(
            h,
            &format!("1 mark made while the clock was ahead removed (today is {today})"),
        )
    });
    step_until(&mut h, "the notice gone", 30, |h| !shows(h, &remove));
    assert_eq!(store.future_marks(today).unwrap(), None);
    assert_eq!(store.marked_count(today).unwrap(), 1, "today's mark stays");
    assert_eq!(
        store.audit_log(1).unwrap()[0].action,
        "remove marks made while the clock was ahead"
    );
}

#[test]
fn a_door_whose_clock_is_days_off_the_school_servers_says_so_until_it_is_set_right() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    // A linked door whose link found its clock three days ahead of the school server's.
    let conn = rusqlite::Connection::open(data.database()).unwrap();
    let measured = |ahead_ms: i64| {
        conn.execute(
            "UPDATE school_link SET linked = 1, door = 'North door',
                    clock_ahead_ms = ?1, clock_checked_ms = ?2",
            rusqlite::params![ahead_ms, chrono::Local::now().timestamp_millis()],
        )
        .unwrap();
    };
    measured(3 * 24 * 3_600_000);
    let mut h = harness(data, dir.path());
    step_until(&mut h, "the kiosk to ask for the teacher", 60, |h| {
        shows(h, "please tell your teacher")
    });
    set_pin(&mut h, "2468");
    let said = "This computer's clock is 3 days ahead of the school server's";
    step_until(&mut h, "the clock notice", 30, |h| shows(h, said));
    // Nothing to remove: the clock is to be set, and nothing else.
    assert!(!shows(&h, "remove the mark"));
    // The clock set right (the link measures again): the notice goes by itself.
    measured(0);
    step_until(&mut h, "the notice gone", 30, |h| !shows(h, said));
}

#[test]
fn a_door_whose_login_may_only_add_marks_sends_the_admin_to_the_office() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    // A linked door whose link has not reached the server yet: what its login may do is
    // not known, so nothing that might be refused is made here meanwhile.
    let conn = rusqlite::Connection::open(data.database()).unwrap();
    let learnt = |office: Option<bool>| {
        conn.execute(
            "UPDATE school_link SET linked = 1, door = 'North door', login = 'north',
                    office = ?1",
            [office],
        )
        .unwrap();
    };
    learnt(None);
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    let not_yet = "This computer has not reached the school server since it was linked";
    step_until(&mut h, "the first notice", 30, |h| shows(h, not_yet));
    assert!(h
        .get_by_role_and_label(Role::Button, "Capture")
        .accesskit_node()
        .is_disabled());
    // Then its link found, on connecting, that its login is a door's.
    learnt(Some(false));
    let said = "This door's login to the school server may only add marks.";
    step_until(&mut h, "the notice", 30, |h| shows(h, said));
    assert!(!shows(&h, not_yet));
    // Nothing is photographed for an enrolment the school would never take.
    for button in ["Capture", "Add from files…", "Save"] {
        let node = h.get_by_role_and_label(Role::Button, button);
        assert!(node.accesskit_node().is_disabled(), "{button}");
    }
    // Review says where attendance is corrected, and a row opens no correction.
    click(&mut h, Role::Button, "Review");
    step_until(&mut h, "the table", 30, |h| {
        shows(h, "1 class day. Corrections are made at the office.")
    });
    h.get_by_label_contains("R0002 Student Two:")
        .click_accesskit();
    for _ in 0..5 {
        h.step();
    }
    assert!(!shows(&h, "Correct attendance"));
    // Nor can a student be changed, erased or deleted here (the store refuses too: the
    // school suite's door login test); the photo advice leaves out what cannot be done.
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open R0002"));
    assert!(h
        .get_by_role_and_label(Role::Button, "Import…")
        .accesskit_node()
        .is_disabled());
    step_until(&mut h, "the calibration note", 30, |h| {
        shows(h, "(photos are added at the office)")
    });
    click(&mut h, Role::Button, "Open R0002");
    step_until(&mut h, "the student", 30, |h| shows(h, "Erase face data"));
    for button in [
        "Save changes",
        "Add a camera photo",
        "Add photos from files…",
        "Erase face data",
        "Delete student",
    ] {
        let node = h.get_by_role_and_label(Role::Button, button);
        assert!(node.accesskit_node().is_disabled(), "{button}");
    }
    assert!(!shows(&h, "Add photos taken at the kiosk's camera"));
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let id = store.students().unwrap()[0].id;
    assert!(!store.templates_of(id).unwrap().is_empty());
    assert!(!store.photos_of(id).unwrap().is_empty());
    // The office's login (the same folder linked with the administrator's): all of it
    // is made here again.
    learnt(Some(true));
    step_until(&mut h, "the notice gone", 30, |h| !shows(h, said));
    assert!(!h
        .get_by_role_and_label(Role::Button, "Erase face data")
        .accesskit_node()
        .is_disabled());
}

/// A kiosk with a student of its own joined a school with a door's login: the school
/// never took that student, and the door's screens may delete them (the school's student
/// of the same roll number or email comes once they are gone; until 2026-12-06 the
/// advice to delete them at the kiosk could not be followed there).
#[test]
fn a_door_deletes_its_own_student_whom_the_school_never_took() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    let conn = rusqlite::Connection::open(data.database()).unwrap();
    conn.execute_batch(
        "UPDATE school_link SET linked = 1, door = 'North door', login = 'north', office = 0;
         INSERT INTO school_outbox (tbl, uid, refused) SELECT 'students', uid, 1 FROM students;",
    )
    .unwrap();
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    step_until(&mut h, "the notice", 30, |h| {
        shows(
            h,
            "This door's login to the school server may only add marks.",
        )
    });
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open R0002"));
    click(&mut h, Role::Button, "Open R0002");
    step_until(&mut h, "the student", 30, |h| shows(h, "Erase face data"));
    let disabled = |h: &H, button: &str| {
        h.get_by_role_and_label(Role::Button, button)
            .accesskit_node()
            .is_disabled()
    };
    assert!(disabled(&h, "Erase face data"), "erased at the office");
    assert!(!disabled(&h, "Delete student"));
    click(&mut h, Role::Button, "Delete student");
    click(&mut h, Role::Button, "Delete");
    // The list's own count, not the status line's "0 students with face data".
    step_until(&mut h, "the list without them", 30, |h| {
        h.query_by_label("0 students").is_some()
    });
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    assert!(store.students().unwrap().is_empty());
    let unsent: i64 = conn
        .query_row("SELECT COUNT(*) FROM school_outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(unsent, 0, "nothing of theirs goes to the school");
}

#[test]
fn a_kiosk_on_a_folder_linked_to_a_school_server_not_set_for_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    // Linked once (its link last found the server), then started with no server set.
    rusqlite::Connection::open(data.database())
        .unwrap()
        .execute(
            "UPDATE school_link SET linked = 1, door = 'North door', online = 1",
            [],
        )
        .unwrap();
    let mut alone = settings();
    alone.school.no_server_here = true;
    let mut h = harness_with(data, dir.path(), (1280.0, 900.0), alone);
    step_until(&mut h, "the status line", 60, |h| {
        shows(h, "No school server is set for this computer")
    });
    assert!(!shows(&h, "School server: connected"));
    set_pin(&mut h, "2468");
    step_until(&mut h, "the notice", 30, |h| {
        shows(
            h,
            "This data folder is linked to a school server, but none is set",
        )
    });
    assert!(shows(&h, "run `rollcall leave-school`"));
    assert!(h
        .get_by_role_and_label(Role::Button, "Capture")
        .accesskit_node()
        .is_disabled());
}

/// What "Add from files…" does once the file dialog returns these files.
fn add_files(h: &mut H, files: &[PathBuf]) {
    let app = h.state_mut();
    app.admin.add_files(&app.kiosk, files);
}

/// Admin → Door settings, unlocked with the PIN 2468, on a folder whose settings name
/// the room "Lab 4" and hold a comment of the school's IT.
fn door_settings_screen(dir: &Path) -> (DataDir, H) {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    std::fs::write(
        data.settings(),
        "# Set up by the school's IT.\n[kiosk]\nroom_name = \"Lab 4\"\nsound = false\n",
    )
    .unwrap();
    let mut settings = settings();
    settings.kiosk.room_name = "Lab 4".into();
    let mut h = harness_with(data.clone(), dir, (1024.0, 768.0), settings);
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Door settings");
    step_until(&mut h, "the door settings", 30, |h| shows(h, "Room name"));
    (data, h)
}

#[test]
fn the_door_is_renamed_and_set_from_the_admin_screen_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut h) = door_settings_screen(dir.path());
    assert_eq!(field_value(&h, "Room name"), "Lab 4");

    // Words where a number goes, and an empty name, are refused with what to do.
    replace_text(&mut h, "Verdict shown", "five");
    click(&mut h, Role::Button, "Save door settings");
    assert!(shows(&h, "is a number of seconds, such as 5."));
    replace_text(&mut h, "Verdict shown", "8");
    replace_text(&mut h, "Room name", " ");
    click(&mut h, Role::Button, "Save door settings");
    assert!(shows(&h, "Give the room a name"));

    replace_text(&mut h, "Room name", "Science lab");
    replace_text(&mut h, "Quiet repeat", "120");
    click(&mut h, Role::CheckBox, "Show the picture as a mirror");
    click(&mut h, Role::Button, "Save door settings");
    step_until(&mut h, "the settings saved", 30, |h| {
        shows(h, "Door settings saved: the door uses them now.")
    });
    // The door's header says the new name at once.
    h.step();
    let view = &h.state().view.settings;
    assert_eq!(view.room_name, "Science lab");
    assert!(!view.mirror);
    assert_eq!(view.verdict_secs, 8);
    assert!(h
        .query_all_by_label("Science lab")
        .any(|n| n.accesskit_node().role() == Role::Label));

    let text = std::fs::read_to_string(data.settings()).unwrap();
    assert!(text.contains("# Set up by the school's IT."), "{text}");
    let saved = Settings::load(&data.settings()).unwrap().kiosk;
    assert_eq!(saved.room_name, "Science lab");
    assert_eq!(saved.verdict_secs, 8);
    assert_eq!(saved.cooldown_secs, 120);
    assert!(!saved.mirror);
    assert!(!saved.sound, "left as it was");
    assert_eq!(saved.camera, "0", "the camera is not touched by Save");
}

/// Door settings changed in the file while the screen is open (by hand, or by a second
/// kiosk's admin on the same data folder) show on the untouched form, and a Save writes
/// only what this admin changed: it does not put back what the form showed of the rest.
#[test]
fn door_settings_saved_elsewhere_show_and_are_not_saved_over() {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut h) = door_settings_screen(dir.path());
    let room = |h: &H| field_value(h, "Room name");
    assert_eq!(room(&h), "Lab 4");
    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(data.settings()).unwrap();
        assert!(text.contains(from), "{text}");
        std::fs::write(data.settings(), text.replace(from, to)).unwrap();
    };
    edit("\"Lab 4\"", "\"Hall 2\"");
    step_until(&mut h, "the room renamed in the file", 30, |h| {
        room(h) == "Hall 2"
    });

    // The admin starts changing the form; meanwhile the sound is turned on in the file.
    click(&mut h, Role::CheckBox, "Show the picture as a mirror");
    edit("sound = false", "sound = true");
    keep_drawing(&mut h, 3);
    assert_eq!(
        room(&h),
        "Hall 2",
        "what the admin is changing stays on screen"
    );
    click(&mut h, Role::Button, "Save door settings");
    step_until(&mut h, "the settings saved", 30, |h| {
        shows(h, "Door settings saved: the door uses them now.")
    });
    let saved = Settings::load(&data.settings()).unwrap().kiosk;
    assert!(!saved.mirror, "the admin's change");
    assert!(saved.sound, "the file's change, not the form's old tick");
    assert_eq!(saved.room_name, "Hall 2");
    h.step();
    let sound = h.get_by_role_and_label(Role::CheckBox, "Play a sound with each verdict");
    assert_eq!(
        sound.accesskit_node().toggled(),
        Some(Toggled::True),
        "the saved settings shown"
    );
}

#[test]
fn a_camera_chosen_in_door_settings_is_used_and_kept_for_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut h) = door_settings_screen(dir.path());
    // The camera driver is asked on a thread of its own; what it lists here is this
    // machine's (none on a machine without a camera, as the tests' usually is).
    click(&mut h, Role::Button, "Look for cameras");
    step_until(&mut h, "the driver's answer", 30, |h| {
        !shows(h, "Looking for cameras…")
            && (shows(h, "No cameras are connected.")
                || h.query_by_role_and_label(Role::ComboBox, "Camera")
                    .is_some())
    });
    // The cameras this machine would list (it has none): two, the second the door's.
    let kiosk = h.state().view.settings.clone();
    h.state_mut().admin.door.camera.found(
        vec![
            CameraDescription {
                index: "0".into(),
                name: "Integrated Camera".into(),
            },
            CameraDescription {
                index: "2".into(),
                name: "USB Camera".into(),
            },
        ],
        &kiosk,
    );
    h.step();
    assert!(
        says(&h, "Integrated Camera"),
        "the camera set is chosen first"
    );
    click(&mut h, Role::ComboBox, "Camera");
    h.query_all_by(|n| n.label().is_some_and(|l| l == "USB Camera (2)"))
        .next()
        .expect("the USB camera listed")
        .click_accesskit();
    h.step();
    h.step();
    click(&mut h, Role::Button, "Use this camera");
    step_until(&mut h, "the camera kept", 30, |h| {
        shows(
            h,
            "This camera is used from now on, also when Rollcall starts again.",
        )
    });
    // The door switched to it at once: there is no such camera here, and the screen says
    // so where the folder of pictures played before.
    step_until(&mut h, "the camera switched", 30, |h| {
        shows(h, "In use: none: the camera could not be opened")
    });
    let settings = Settings::load(&data.settings()).unwrap();
    assert_eq!(settings.kiosk.camera, "USB Camera", "kept by its name");
    assert_eq!(settings.kiosk.room_name, "Lab 4", "the other settings stay");
}

/// A recording is played at the door from Door settings, behind the PIN (the door's
/// no-picture screen no longer offers it to whoever stands there).
#[test]
fn a_folder_of_images_is_played_at_the_door_from_door_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (_data, mut h) = door_settings_screen(dir.path());
    let folder = photos("webcam-dev", "0003")[0]
        .parent()
        .unwrap()
        .to_path_buf();
    let in_use = |h: &H| {
        h.query_all_by(|_| true)
            .filter_map(|n| {
                let n = n.accesskit_node();
                n.label().or_else(|| n.value())
            })
            .filter(|l| l.starts_with("In use: "))
            .collect::<String>()
    };
    let before = in_use(&h);
    assert!(
        before.starts_with("In use: ") && !before.contains("0003"),
        "{before}"
    );
    // A file dialog left open when the screens lock (or lock themselves after two idle
    // minutes) is closed: nobody at the door chooses in it for the next admin.
    click(&mut h, Role::Button, "Open a folder of images…");
    step_until(&mut h, "the picker", 10, |h| {
        shows(h, "Choose a folder of images")
    });
    click(&mut h, Role::Button, "Lock");
    unlock(&mut h, "2468");
    step_until(&mut h, "the admin screens", 30, |h| {
        shows(h, "Email settings")
    });
    click(&mut h, Role::Button, "Door settings");
    step_until(&mut h, "the door settings", 30, |h| shows(h, "Room name"));
    assert!(!shows(&h, "Choose a folder of images"), "left open");
    open_in_the_picker(&mut h, &folder);
    step_until(&mut h, "the folder played", 30, |h| {
        in_use(h).contains(&folder.display().to_string())
    });
    assert!(!shows(&h, "Choose a folder of images"), "the picker closed");
    // Unless the admin says otherwise, a recording is a try-out: nobody in it is marked.
    assert!(
        in_use(&h).ends_with("(a try-out: nobody is marked)"),
        "{}",
        in_use(&h)
    );
    // Ticked, the same recording marks whoever it shows, as the camera would.
    click(
        &mut h,
        Role::CheckBox,
        "Mark the students in it present, as at the camera",
    );
    open_in_the_picker(&mut h, &folder);
    step_until(&mut h, "the recording at work", 30, |h| {
        !in_use(h).contains("try-out") && in_use(h).contains(&folder.display().to_string())
    });
    // And back to the door's camera (none on this machine), without a restart.
    click(&mut h, Role::Button, "Use the door's camera again");
    step_until(&mut h, "the camera", 30, |h| {
        !in_use(h).contains(&folder.display().to_string()) && !in_use(h).contains("starting")
    });
    assert!(
        h.query_by_label("Use the door's camera again").is_none(),
        "{}",
        in_use(&h)
    );
    // The tick is not left for the next admin: after the lock a recording is a try-out.
    click(&mut h, Role::Button, "Lock");
    unlock(&mut h, "2468");
    step_until(&mut h, "the admin screens", 30, |h| {
        shows(h, "Email settings")
    });
    click(&mut h, Role::Button, "Door settings");
    step_until(&mut h, "the door settings", 30, |h| shows(h, "Room name"));
    let tick = h.get_by_role_and_label(
        Role::CheckBox,
        "Mark the students in it present, as at the camera",
    );
    assert_eq!(tick.accesskit_node().toggled(), Some(Toggled::False));
}

/// Door settings' "Open a folder of images…", and `folder` chosen in the in-app picker.
fn open_in_the_picker(h: &mut H, folder: &Path) {
    click(h, Role::Button, "Open a folder of images…");
    step_until(h, "the picker", 10, |h| {
        shows(h, "Choose a folder of images")
    });
    picker_go_to(h, &folder.parent().unwrap().display().to_string());
    let name = folder.file_name().unwrap().to_string_lossy().to_string();
    // The picker's entry, not the status line or "In use: …" naming a folder played.
    let entry = |h: &H| {
        h.query_all_by_label_contains(&name)
            .any(|n| n.accesskit_node().role() == Role::Button)
    };
    step_until(h, "the folder in the picker", 10, entry);
    h.query_all_by_label_contains(&name)
        .find(|n| n.accesskit_node().role() == Role::Button)
        .unwrap()
        .click();
    h.step();
    click(h, Role::Button, "Open");
}

#[test]
fn the_pin_is_set_once_unlocks_and_five_wrong_tries_lock_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let mut h = harness(data, dir.path());
    // The first time, the new PIN is typed straight away: its field has the keyboard.
    click(&mut h, Role::Button, "Admin");
    step_until(&mut h, "the set-PIN window", 60, |h| {
        shows(h, "Set an admin PIN")
    });
    h.input_mut().events.push(egui::Event::Text("2468".into()));
    h.step();
    type_into(&mut h, "PIN again", "2468");
    click(&mut h, Role::Button, "Set PIN");
    step_until(&mut h, "the admin screens", 30, |h| {
        shows(h, "Enrol a student")
    });
    click(&mut h, Role::Button, "Lock");
    assert!(
        !shows(&h, "Enrol a student"),
        "locking hides the admin screens"
    );

    // The PIN window has the keyboard, and Enter unlocks.
    click(&mut h, Role::Button, "Admin");
    step_until(&mut h, "the PIN window", 30, |h| {
        shows(h, "Enter the admin PIN")
    });
    h.input_mut().events.push(egui::Event::Text("2468".into()));
    h.step();
    h.key_press(egui::Key::Enter);
    step_until(&mut h, "the admin screens", 30, |h| {
        shows(h, "Enrol a student")
    });
    click(&mut h, Role::Button, "Lock");

    unlock(&mut h, "1111");
    for tries_left in (1..5).rev() {
        step_until(&mut h, "the wrong-PIN message", 30, |h| {
            shows(h, &format!("Wrong PIN. {tries_left} tries left"))
        });
        // The field has the keyboard again for the next try.
        h.input_mut().events.push(egui::Event::Text("1111".into()));
        h.step();
        h.key_press(egui::Key::Enter);
        h.step();
    }
    step_until(&mut h, "the lock-out", 30, |h| {
        shows(h, "Too many wrong PINs")
    });
    // During the lock-out even the right PIN is refused.
    type_into(&mut h, "PIN", "2468");
    click(&mut h, Role::Button, "Unlock");
    step_until(&mut h, "the lock-out again", 30, |h| {
        shows(h, "Too many wrong PINs")
    });
    assert!(!shows(&h, "Enrol a student"));
}

#[test]
fn the_pin_is_changed_from_the_admin_screens_with_the_current_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    click(&mut h, Role::Button, "Change PIN…");
    step_until(&mut h, "the window", 10, |h| {
        shows(h, "Change the admin PIN")
    });
    // A wrong current PIN counts as a wrong try. (Typed straight away: the field has the
    // keyboard.)
    h.input_mut().events.push(egui::Event::Text("1111".into()));
    h.step();
    type_into(&mut h, "New PIN", "1357");
    type_into(&mut h, "New PIN again", "1357");
    click(&mut h, Role::Button, "Change PIN");
    step_until(&mut h, "the refusal", 30, |h| {
        shows(h, "Wrong PIN. 4 tries left before a one-minute lock.")
    });
    type_into(&mut h, "Current PIN", "2468");
    // Enter in the last field changes it, as the button does.
    text_field(&h, "New PIN again").focus();
    h.step();
    h.key_press(egui::Key::Enter);
    step_until(&mut h, "the change", 30, |h| {
        shows(h, "The admin PIN is changed.")
    });
    assert!(!shows(&h, "Change the admin PIN"), "the window closed");

    // PINs typed into the window and left there are gone once the admin mode locks.
    click(&mut h, Role::Button, "Change PIN…");
    type_into(&mut h, "Current PIN", "1357");
    type_into(&mut h, "New PIN", "9999");
    type_into(&mut h, "New PIN again", "9999");
    // Locked: the old PIN is refused, the new one unlocks; the forgotten-PIN way is said.
    click(&mut h, Role::Button, "Lock");
    unlock(&mut h, "2468");
    step_until(&mut h, "the wrong-PIN message", 30, |h| {
        shows(h, "Wrong PIN.")
    });
    assert!(shows(
        &h,
        "Forgotten? On this computer, run: rollcall forget-pin"
    ));
    type_into(&mut h, "PIN", "1357");
    click(&mut h, Role::Button, "Unlock");
    step_until(&mut h, "the admin screens", 30, |h| {
        shows(h, "Enrol a student")
    });
    assert!(
        !shows(&h, "Change the admin PIN"),
        "the window left open is closed"
    );
}

/// What a quick typist's keys do when they reach the window in one frame, as they do when
/// the kiosk is busy: passed through the window's own pacing (as eframe's input hook does)
/// and drawn, frame after frame, until none wait.
fn type_in_one_frame(h: &mut H, events: Vec<egui::Event>) {
    let mut input = egui::RawInput {
        events,
        ..Default::default()
    };
    loop {
        let more = h.state_mut().typing.pace(&mut input);
        h.input_mut().events.append(&mut input.events);
        h.step();
        if !more {
            break;
        }
    }
    h.step();
}

#[test]
fn text_typed_right_after_tab_goes_into_the_next_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    text_field(&h, "Roll no").focus();
    h.step();
    let tab = |pressed| egui::Event::Key {
        key: egui::Key::Tab,
        physical_key: None,
        pressed,
        repeat: false,
        modifiers: egui::Modifiers::NONE,
    };
    let text = |s: &str| egui::Event::Text(s.into());
    type_in_one_frame(
        &mut h,
        vec![
            text("R-102"),
            tab(true),
            tab(false),
            text("Wang Lei"),
            tab(true),
            tab(false),
            text("wang.lei@school.example"),
        ],
    );
    let value = |label| text_field(&h, label).value();
    assert_eq!(value("Roll no").as_deref(), Some("R-102"));
    assert_eq!(value("Name").as_deref(), Some("Wang Lei"));
    assert_eq!(value("Email").as_deref(), Some("wang.lei@school.example"));
}

/// Two webcam frames side by side: a photo with two people.
fn two_people(dir: &Path) -> PathBuf {
    let a =
        opencv::imgcodecs::imread(photos("webcam-dev", "0005")[0].to_str().unwrap(), 1).unwrap();
    let b =
        opencv::imgcodecs::imread(photos("webcam-dev", "0006")[0].to_str().unwrap(), 1).unwrap();
    let mut both = Mat::default();
    opencv::core::hconcat2(&a, &b, &mut both).unwrap();
    let path = dir.join("pair.jpg");
    opencv::imgcodecs::imwrite(path.to_str().unwrap(), &both, &Vector::new()).unwrap();
    path
}

/// The admin screens unlocked over a class with Student Two, the enrolment form filled
/// for Student Four (R0004), no photo yet.
fn enrolling_student_four(dir: &Path) -> H {
    let mut h = harness(with_student_two(dir), dir);
    set_pin(&mut h, "2468");
    type_into(&mut h, "Roll no", "R0004");
    type_into(&mut h, "Name", "Student Four");
    type_into(&mut h, "Email", "four@example.org");
    h
}

#[test]
fn enrolling_from_files_refuses_bad_photos_and_warns_about_a_known_face() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = enrolling_student_four(dir.path());
    let wall = dir.path().join("wall.jpg");
    std::fs::write(&wall, faceless_jpeg()).unwrap();
    let mut files: Vec<PathBuf> = photos("webcam-dev", "0004")
        .into_iter()
        .take(9)
        .step_by(3)
        .collect();
    files.push(wall);
    files.push(two_people(dir.path()));
    add_files(&mut h, &files);
    step_until(&mut h, "the photo checks", 120, |h| {
        shows(h, "Photos: 3 / 10") && shows(h, "pair.jpg")
    });
    assert!(shows(&h, "Not used: wall.jpg: no face found in this photo"));
    assert!(shows(
        &h,
        "Not used: pair.jpg: 2 faces in this photo; use a photo of the student alone"
    ));
    assert!(!shows(&h, "look like"), "a new face raises no warning");
    click(&mut h, Role::Button, "Save");
    step_until(&mut h, "the enrolment", 60, |h| {
        shows(h, "Enrolled Student Four (R0004) with 3 photos.")
    });

    // Student Two's face under a new roll number: warned, named, before saving.
    type_into(&mut h, "Roll no", "R0099");
    type_into(&mut h, "Name", "Someone Else");
    type_into(&mut h, "Email", "else@example.org");
    let known: Vec<PathBuf> = photos("webcam-dev", "0002")
        .into_iter()
        .skip(20)
        .take(2)
        .collect();
    add_files(&mut h, &known);
    step_until(&mut h, "the look-alike warning", 120, |h| {
        shows(h, "these photos look like Student Two (R0002)")
    });
    assert!(shows(&h, "open that student in Students to add photos"));
    assert!(h
        .query_by_role_and_label(Role::Button, "Save anyway")
        .is_some());

    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let four = common::student_named(&store, "R0004").unwrap();
    assert_eq!(four.photo_count, 3);
    assert!(
        store
            .students()
            .unwrap()
            .iter()
            .all(|s| s.roll_no != "R0099"),
        "nothing saved yet"
    );
}

#[test]
fn photos_of_two_people_are_not_saved_as_one_student() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = enrolling_student_four(dir.path());
    // Two photos of the student, then one of a classmate.
    let mut files: Vec<PathBuf> = photos("webcam-dev", "0004")
        .into_iter()
        .take(6)
        .step_by(3)
        .collect();
    files.push(photos("webcam-dev", "0001")[0].clone());
    add_files(&mut h, &files);
    step_until(&mut h, "the photo checks", 120, |h| {
        shows(h, "Photos: 3 / 10")
    });
    click(&mut h, Role::Button, "Save");
    step_until(&mut h, "the refusal", 60, |h| {
        shows(
            h,
            "Photo 3 seems to show someone else than the other photos: remove it, or take \
             the photos again with only the student in front of the camera.",
        )
    });
    let students = |dir: &Path| {
        Store::open(&dir.join("rollcall.db"))
            .unwrap()
            .students()
            .unwrap()
    };
    assert!(students(dir.path()).iter().all(|s| s.roll_no != "R0004"));
    // The photos are kept: the classmate's removed, the student is saved.
    assert!(shows(&h, "Photos: 3 / 10"));
    click(&mut h, Role::Button, "Remove photo 3");
    step_until(&mut h, "the removal", 10, |h| shows(h, "Photos: 2 / 10"));
    click(&mut h, Role::Button, "Save");
    step_until(&mut h, "the enrolment", 60, |h| {
        shows(h, "Enrolled Student Four (R0004) with 2 photos.")
    });
    let four = students(dir.path())
        .into_iter()
        .find(|s| s.roll_no == "R0004")
        .unwrap();
    assert_eq!(four.photo_count, 2);
}

/// Photos whose files are not on this computer (a student enrolled at another of the
/// school's machines shares only their face templates) are accounted for, not silently
/// missing from the count.
#[test]
fn photos_kept_on_another_machine_are_said_to_be_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.photos())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 5, "{files:?}");
    for f in &files[..2] {
        std::fs::remove_file(f).unwrap();
    }
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open R0002"));
    click(&mut h, Role::Button, "Open R0002");
    step_until(&mut h, "the photos", 30, |h| shows(h, "Photos (3)"));
    assert!(shows(&h, "2 of 5 photos are not on this computer"));
}

#[test]
fn a_student_is_edited_erased_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open R0002"));
    assert!(shows(&h, "general only"), "uploaded photos only");
    let enrolled = Store::open(&dir.path().join("rollcall.db"))
        .unwrap()
        .students()
        .unwrap()[0]
        .enrolled_at
        .clone();
    let minute = rollcall::store::to_the_minute(&enrolled);
    assert!(
        h.query_all_by_label(&minute).next().is_some() && h.query_by_label(&minute[..10]).is_none(),
        "enrolled when, to the minute, as `rollcall students` says, not the day alone"
    );
    click(&mut h, Role::Button, "Open R0002");
    step_until(&mut h, "the photos", 30, |h| shows(h, "Photos (5)"));
    assert!(shows(
        &h,
        "Add photos taken at the kiosk's camera for the stronger check."
    ));

    // Replace the name: select all, then type.
    text_field(&h, "Name").focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    text_field(&h, "Name").type_text("Student Deux");
    h.step();
    click(&mut h, Role::Button, "Save changes");
    step_until(&mut h, "the new name", 30, |h| {
        shows(h, "Saved the changes to Student Deux.")
    });

    let db = dir.path().join("rollcall.db");
    let id = Store::open(&db).unwrap().students().unwrap()[0].id;
    assert_eq!(
        Store::open(&db).unwrap().students().unwrap()[0].name,
        "Student Deux"
    );

    click(&mut h, Role::Button, "Erase face data");
    step_until(&mut h, "the confirmation", 10, |h| {
        shows(h, "their attendance is kept")
    });
    click(&mut h, Role::Button, "Erase");
    step_until(&mut h, "the erasure", 30, |h| shows(h, "Erased 5 photos"));
    // The screen says the kiosk cannot recognise them now (it used to go on describing
    // their photo-attack check, as if they had a face to check).
    step_until(&mut h, "the student without a face", 30, |h| {
        shows(h, "No face data is stored for this student")
    });
    // The list, with every column once the student is closed, says so too.
    click(&mut h, Role::Button, "Close");
    step_until(&mut h, "the list's photo check", 10, |h| {
        shows(h, "no face data")
    });
    click(&mut h, Role::Button, "Open R0002");
    step_until(&mut h, "the student again", 10, |h| {
        shows(h, "Erase face data")
    });
    assert!(h
        .get_by_role_and_label(Role::Button, "Erase face data")
        .accesskit_node()
        .is_disabled());
    let store = Store::open(&db).unwrap();
    assert!(
        store.templates_of(id).unwrap().is_empty(),
        "templates are gone"
    );
    assert!(
        store.photos_of(id).unwrap().is_empty(),
        "photo rows are gone"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("photos"))
            .unwrap()
            .count(),
        0,
        "photo files are gone"
    );
    assert_eq!(common::marks_made(&store), 1, "attendance stays");

    // With no photos left to compare with, new photos must show one person, as at
    // enrolment.
    let two = [
        photos("webcam-dev", "0002")[0].clone(),
        photos("webcam-dev", "0004")[0].clone(),
    ];
    add_files(&mut h, &two);
    step_until(&mut h, "the photo checks", 120, |h| {
        shows(h, "Save 2 new photos")
    });
    click(&mut h, Role::Button, "Save 2 new photos");
    step_until(&mut h, "the refusal", 60, |h| {
        shows(h, "These photos seem to show different people")
    });
    assert!(store.photos_of(id).unwrap().is_empty(), "nothing added");

    // A classmate enrolled today, who did not come: today, when only this student was
    // marked, stays a class day for them.
    let classmate = rollcall::store::NewStudent {
        roll_no: "R0009".into(),
        name: "Classmate".into(),
        email: "classmate@example.org".into(),
    };
    Store::open(&db)
        .unwrap()
        .insert_student(&classmate, &[], "test")
        .unwrap();
    click(&mut h, Role::Button, "Delete student");
    step_until(&mut h, "the confirmation", 10, |h| {
        shows(h, "removed for good")
    });
    click(&mut h, Role::Button, "Delete");
    step_until(&mut h, "the deletion", 30, |h| {
        shows(
            h,
            "Deleted the student. 1 day on which only they were marked stays a class day",
        )
    });
    let store = Store::open(&db).unwrap();
    assert_eq!(store.students().unwrap().len(), 1);
    let today = chrono::Local::now().date_naive();
    assert!(store.class_day_declaration(today).unwrap().is_some());
}

/// The number of photos a student has in the database.
fn photo_count(dir: &Path, roll_no: &str) -> i64 {
    let store = Store::open(&dir.join("rollcall.db")).unwrap();
    common::student_named(&store, roll_no).map_or(0, |s| s.photo_count)
}

#[test]
fn a_photo_unlike_the_student_is_added_only_when_the_admin_confirms() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(with_student_two(dir.path()), dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open R0002"));
    click(&mut h, Role::Button, "Open R0002");
    step_until(&mut h, "the photos", 30, |h| shows(h, "Photos (5)"));
    let own = photos("webcam-dev", "0002");
    let classmate = photos("webcam-dev", "0004")[0].clone();
    const UNLIKE: &str = "Warning: new photo 1 looks like none of Student Two's photos so far. \
                          Keep it only if it shows Student Two (with a new look: glasses, a \
                          haircut, …).";

    // A classmate's photo among the student's: warned as soon as it is checked.
    add_files(&mut h, &[classmate.clone(), own[20].clone()]);
    step_until(&mut h, "the photo checks", 120, |h| {
        shows(h, "Remove new photo 2")
    });
    assert!(shows(&h, UNLIKE));
    click(&mut h, Role::Button, "Save 2 new photos");
    step_until(&mut h, "the question", 10, |h| {
        shows(h, "would make the kiosk mark that person as Student Two")
    });
    click(&mut h, Role::Button, "Cancel");
    step_until(&mut h, "the question closed", 10, |h| {
        !shows(h, "Add anyway")
    });
    assert_eq!(photo_count(dir.path(), "R0002"), 5, "nothing added");
    assert!(
        shows(&h, "Save 2 new photos"),
        "the photos stay to be fixed"
    );

    // Removed, the rest is saved without a question.
    click(&mut h, Role::Button, "Remove new photo 1");
    step_until(&mut h, "the warning gone", 10, |h| {
        !shows(h, "looks like none")
    });
    click(&mut h, Role::Button, "Save 1 new photo");
    step_until(&mut h, "the addition", 60, |h| shows(h, "Added 1 photo."));
    assert_eq!(photo_count(dir.path(), "R0002"), 6);

    // The admin may know better (a new look): added when confirmed.
    add_files(&mut h, &[classmate]);
    step_until(&mut h, "the photo check", 120, |h| shows(h, UNLIKE));
    click(&mut h, Role::Button, "Save 1 new photo");
    step_until(&mut h, "the question", 10, |h| shows(h, "Add anyway"));
    click(&mut h, Role::Button, "Add anyway");
    step_until(&mut h, "the addition", 60, |h| {
        !shows(h, "Save 1 new photo") && shows(h, "Added 1 photo.")
    });
    assert_eq!(photo_count(dir.path(), "R0002"), 7);

    // Photos that cannot be saved (more than ten in all) stay on the screen.
    add_files(&mut h, &own[24..28]);
    step_until(&mut h, "the photo checks", 120, |h| {
        shows(h, "Remove new photo 4")
    });
    click(&mut h, Role::Button, "Save 4 new photos");
    step_until(&mut h, "the refusal", 60, |h| {
        shows(h, "A student can have at most 10 photos.")
    });
    assert_eq!(photo_count(dir.path(), "R0002"), 7);
    click(&mut h, Role::Button, "Remove new photo 4");
    step_until(&mut h, "the removal", 10, |h| shows(h, "Save 3 new photos"));
    click(&mut h, Role::Button, "Save 3 new photos");
    step_until(&mut h, "the addition", 60, |h| shows(h, "Added 3 photos."));
    assert_eq!(photo_count(dir.path(), "R0002"), 10);
}

/// A camera playing `frames` in order (copied into `dir/camera`) at `fps`.
fn camera_playing(
    dir: &Path,
    frames: impl IntoIterator<Item = PathBuf>,
    fps: f64,
    looping: bool,
) -> SourceSpec {
    let camera = dir.join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    for (i, f) in frames.into_iter().enumerate() {
        std::fs::copy(f, camera.join(format!("{i:02}.jpg"))).unwrap();
    }
    SourceSpec::Folder {
        path: camera,
        fps,
        looping,
    }
}

#[test]
fn auto_capture_takes_no_one_but_the_student_whose_shots_it_has() {
    // The camera sees student 0004 for a moment, then a classmate (0006) steps in.
    let dir = tempfile::tempdir().unwrap();
    let student = photos("webcam-dev", "0004").into_iter().step_by(5).take(8);
    let classmate = photos("webcam-dev", "0006").into_iter().step_by(5).take(10);
    let source = camera_playing(dir.path(), student.chain(classmate), 1.0, false);
    let mut h = harness_watching(with_student_two(dir.path()), source, (1280.0, 900.0));
    set_pin(&mut h, "2468");
    type_into(&mut h, "Roll no", "R0004");
    type_into(&mut h, "Name", "Student Four");
    type_into(&mut h, "Email", "four@example.org");
    click(&mut h, Role::CheckBox, "Auto-capture");
    // The recording lasts 18 s; the classmate stays in front of the camera at its end.
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(22) {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        (1..=8).any(|n| shows(&h, &format!("Photos: {n} / 10"))),
        "only the student's eight frames can be taken"
    );
    assert!(
        shows(
            &h,
            "Auto-capture is waiting: the face in front of the camera is not the person"
        ),
        "the admin is told why no more photos come"
    );
    click(&mut h, Role::CheckBox, "Auto-capture");
    assert!(!shows(&h, "Auto-capture is waiting"));
    click(&mut h, Role::Button, "Save");
    step_until(&mut h, "the enrolment", 60, |h| {
        shows(h, "Enrolled Student Four (R0004)")
    });
    // The news belongs to the Enrol screen: it does not follow the admin to Students.
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open R0004"));
    assert!(!shows(&h, "Enrolled Student Four (R0004)"));
}

#[test]
fn auto_capture_asks_for_a_new_look_when_the_student_keeps_still() {
    // The same picture, again and again: a student sitting perfectly still.
    let dir = tempfile::tempdir().unwrap();
    let still = photos("webcam-dev", "0004").swap_remove(0);
    let source = camera_playing(dir.path(), std::iter::repeat_n(still, 4), 2.0, true);
    let mut h = harness_watching(with_student_two(dir.path()), source, (1280.0, 900.0));
    set_pin(&mut h, "2468");
    click(&mut h, Role::CheckBox, "Auto-capture");
    step_until(&mut h, "the request for a new look", 60, |h| {
        shows(
            h,
            "Auto-capture is waiting for a new look: ask the student to turn their head",
        )
    });
    assert!(
        shows(&h, "Photos: 1 / 10"),
        "one photo of the still picture"
    );
}

fn replace_text(h: &mut H, label: &str, text: &str) {
    text_field(h, label).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    text_field(h, label).type_text(text);
    h.step();
    h.step();
}

/// Students A–D over five school days in March 2026: A every day, B on 4, C on 2, D never.
fn class(dir: &Path) -> DataDir {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    drop(common::class_of_four(&data.database()));
    data
}

/// Unlocks the admin screens and shows Review for March 2026.
fn review_march(h: &mut H) {
    set_pin(h, "2468");
    show_march(h);
}

/// Shows Review for March 2026 (the admin screens unlocked).
fn show_march(h: &mut H) {
    click(h, Role::Button, "Review");
    click(h, Role::RadioButton, "Custom");
    replace_text(h, "From", "2026-03-01");
    replace_text(h, "To", "2026-03-31");
    click(h, Role::Button, "Show");
}

#[test]
fn the_review_table_shows_totals_and_a_correction_reaches_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    let mut h = harness(data, dir.path());
    review_march(&mut h);
    step_until(&mut h, "the table", 30, |h| {
        shows(h, "A Student A: 5 present, 0 absent, 100 %") && shows(h, "5 class days")
    });
    assert!(shows(
        &h,
        "B Student B: 4 present, 1 absent, 80 % (under the threshold)"
    ));
    assert!(shows(
        &h,
        "D Student D: 0 present, 5 absent, 0 % (under the threshold)"
    ));
    assert!(!shows(&h, "A Student A: 5 present, 0 absent, 100 % (under"));

    // B was on a school trip on the 6th: mark them present by hand.
    h.get_by_label_contains("B Student B:").click_accesskit();
    step_until(&mut h, "the correction window", 10, |h| {
        shows(h, "Correct attendance")
    });
    // Not clicked on a day: the correction starts on the month's last class day, not on
    // today (which is outside the month shown).
    assert_eq!(
        text_field(&h, "Date").value().as_deref(),
        Some("2026-03-06")
    );
    // What the records say of that day, before anything is changed.
    assert!(shows(&h, "Now: absent (not marked that day)."));
    assert!(!says(&h, "P* and A*"), "no day decided by hand yet");
    replace_text(&mut h, "Date", "2026-03-05");
    assert!(shows(&h, "Now: present, recognised by Rollcall."));
    replace_text(&mut h, "Date", "2026-03-06");
    click(&mut h, Role::RadioButton, "Present");
    type_into(&mut h, "Reason", "On a school trip");
    click(&mut h, Role::Button, "Save correction");
    step_until(&mut h, "the corrected row", 30, |h| {
        shows(h, "B Student B: 5 present, 0 absent, 100 %")
    });
    // The table tells the day decided by hand from the kiosk's (as "P*"), and says so.
    assert!(shows(
        &h,
        "B Student B: 5 present, 0 absent, 100 %; 1 day decided by hand"
    ));
    assert!(says(&h, "P* and A*: decided by hand in a correction"));

    click(&mut h, Role::Button, "Audit log");
    step_until(&mut h, "the audit entry", 30, |h| {
        shows(h, "B (Student B) on 2026-03-06: On a school trip")
    });
    // It opens under Review's controls (until 2026-12-04 over the date range and search,
    // as did the email reports, which cover that range).
    let controls_end = bottom_of(&h.get_by_role_and_label(Role::Button, "Restore from a backup…"));
    let entry = top_of(&h.get_by_label_contains("B (Student B) on 2026-03-06: On a school trip"));
    assert!(
        entry > controls_end,
        "{entry} over the controls ({controls_end})"
    );

    // A correction begun and left when the admin locks is not there for whoever unlocks
    // next, nor is the audit log.
    h.get_by_label_contains("A Student A:").click_accesskit();
    step_until(&mut h, "the correction window", 10, |h| {
        shows(h, "Correct attendance")
    });
    type_into(&mut h, "Reason", "Left half typed");
    click(&mut h, Role::Button, "Lock");
    unlock(&mut h, "2468");
    step_until(&mut h, "the admin screens", 30, |h| shows(h, "Review"));
    for _ in 0..3 {
        h.step();
    }
    assert!(!shows(&h, "Correct attendance"));
    assert!(!shows(&h, "B (Student B) on 2026-03-06: On a school trip"));

    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let log = store.audit_log(10).unwrap();
    assert!(log.iter().any(|a| a.action == "mark present"
        && a.actor == "admin"
        && a.details.contains("On a school trip")));
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 6).unwrap();
    let marks = store.marks(day, day).unwrap();
    assert!(marks
        .iter()
        .any(|m| m.roll_no == "B" && m.source == "admin"));
}

/// Review of March for the class of four (`class`), its table shown.
fn march_of_the_class(dir: &Path) -> H {
    let mut h = harness(class(dir), dir);
    review_march(&mut h);
    step_until(&mut h, "the table", 30, |h| shows(h, "5 class days"));
    h
}

/// Opens the correction window of the row starting with `row`, on `date`.
fn correction_on(h: &mut H, row: &str, date: &str) {
    h.get_by_label_contains(row).click_accesskit();
    step_until(h, "the correction window", 10, |h| {
        shows(h, "Correct attendance")
    });
    replace_text(h, "Date", date);
}

/// Corrects the row starting with `row` on `date` to `state` ("Present" or "Absent").
fn correct(h: &mut H, row: &str, date: &str, state: &str, reason: &str) {
    correction_on(h, row, date);
    click(h, Role::RadioButton, state);
    type_into(h, "Reason", reason);
    click(h, Role::Button, "Save correction");
}

/// Friday the 6th only A came; their mark was a mistake. Taken away, the day stays a class
/// day and A's absence counts (until 2026-12-03 the Friday vanished from the table, and with
/// it B's, C's and D's absences).
#[test]
fn taking_away_the_only_mark_of_a_day_leaves_the_day_and_counts_the_absence() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = march_of_the_class(dir.path());
    correct(
        &mut h,
        "A Student A:",
        "2026-03-06",
        "Absent",
        "Marked in place of someone else",
    );
    step_until(&mut h, "the corrected row", 30, |h| {
        shows(h, "A Student A: 4 present, 1 absent, 80 %")
    });
    assert!(says(
        &h,
        "2026-03-06 stays a class day, as the kiosk marked someone that day"
    ));
    assert!(shows(&h, "5 class days"));
    assert!(shows(&h, "B Student B: 4 present, 1 absent, 80 %"));
    assert!(!shows(
        &h,
        "B Student B: 4 present, 1 absent, 80 % (under the threshold);"
    ));
    assert!(shows(
        &h,
        "A Student A: 4 present, 1 absent, 80 % (under the threshold); 1 day decided by hand"
    ));
    // Asked again about that day, the correction window says what the teacher recorded.
    correction_on(&mut h, "A Student A:", "2026-03-06");
    assert!(shows(
        &h,
        "Now: absent, recorded by hand (the kiosk does not mark them that day)."
    ));

    // The day view lists A as absent by hand, not as a mark.
    h.get_by_label("Day view").click_accesskit();
    h.step();
    replace_text(&mut h, "Day", "2026-03-06");
    click(&mut h, Role::Button, "Show day");
    step_until(&mut h, "the day", 30, |h| {
        shows(h, "Student A (A, absent by hand)")
    });
    assert!(shows(&h, "0 marks on 2026-03-06"));
    assert!(shows(&h, "Student B (B)"));
}

/// Typing another date in the correction window proposes the change for that date, the
/// opposite of what it holds (until 2026-12-04 the choice made for the cell clicked stayed,
/// and saving recorded what the day already held).
#[test]
fn the_correction_window_proposes_the_opposite_of_what_the_date_typed_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = march_of_the_class(dir.path());
    let chosen = |h: &H, label: &str| {
        h.get_by_role_and_label(Role::RadioButton, label)
            .accesskit_node()
            .toggled()
    };
    // C came on the 2nd and the 3rd only.
    correction_on(&mut h, "C Student C:", "2026-03-03");
    assert!(shows(&h, "Now: present, recognised by Rollcall."));
    assert_eq!(chosen(&h, "Absent"), Some(Toggled::True));
    replace_text(&mut h, "Date", "2026-03-05");
    assert!(shows(&h, "Now: absent (not marked that day)."));
    assert_eq!(chosen(&h, "Present"), Some(Toggled::True));
    assert_eq!(chosen(&h, "Absent"), Some(Toggled::False));
    // The admin's own choice stays while the date does.
    click(&mut h, Role::RadioButton, "Absent");
    type_into(&mut h, "Reason", "Asked to check");
    assert_eq!(chosen(&h, "Absent"), Some(Toggled::True));
}

/// With no mail server set up, the email preview says so where Send would be (until
/// 2026-12-03 it offered "Send 3 messages" and told the admin only after it was pressed).
#[test]
fn emailing_without_a_mail_server_says_so_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = march_of_the_class(dir.path());
    click(&mut h, Role::Button, "Email students under 85 %…");
    step_until(&mut h, "the preview", 30, |h| {
        shows(h, "3 messages will be sent:")
    });
    assert!(says(
        &h,
        "Email is not set up yet: enter the mail server in Admin → Email settings"
    ));
    assert!(h
        .query_by_role_and_label(Role::Button, "Send 3 messages")
        .is_none());
}

/// A report the mail server refuses is listed with the student's name and what to do, and
/// once the address is put right it goes to that student alone: the others, sent theirs,
/// are not mailed twice.
#[test]
fn a_report_not_sent_is_sent_again_to_that_student_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (port, received) = common::smtp::smtp_server_refusing(
        true,
        &[("b@example.org", "550 5.1.1 <b@example.org>: User unknown")],
    );
    let mut s = settings();
    s.email.host = "127.0.0.1".into();
    s.email.port = port;
    s.email.security = rollcall::settings::MailSecurity::None;
    s.email.from = "Rollcall <attendance@school.example>".into();
    let data = class(dir.path());
    let database = data.database();
    let mut h = harness_with(data, dir.path(), (1280.0, 900.0), s);
    review_march(&mut h);
    step_until(&mut h, "the table", 30, |h| shows(h, "5 class days"));
    click(
        &mut h,
        Role::Button,
        "Email every student their attendance…",
    );
    step_until(&mut h, "the preview", 30, |h| {
        shows(h, "4 messages will be sent:")
    });
    click(&mut h, Role::Button, "Send 4 messages");
    step_until(&mut h, "the messages sent", 60, |h| {
        shows(h, "Sent 3 of 4 messages.")
    });
    assert!(shows(
        &h,
        "Not sent to Student B (B) at b@example.org: the mail server does not take mail for \
         this address (\"550 5.1.1 <b@example.org>: User unknown\"): check the student's \
         email in Admin → Students."
    ));
    assert_eq!(received.lock().unwrap().len(), 3);

    // The address put right (as Admin → Students would), B's report goes again, alone.
    let mut store = Store::open(&database).unwrap();
    let b = common::student_named(&store, "B").unwrap().id;
    store
        .update_student(b, "B", "Student B", "student.b@example.org", "test")
        .unwrap();
    drop(store);
    click(
        &mut h,
        Role::Button,
        "Send again to the 1 student not sent…",
    );
    step_until(&mut h, "the preview of B's", 30, |h| {
        shows(h, "1 message will be sent:")
    });
    assert!(shows(&h, "Student B <student.b@example.org>: 80 %"));
    assert!(!says(&h, "Student A <a@example.org>"));
    click(&mut h, Role::Button, "Send 1 message");
    step_until(&mut h, "B's message sent", 60, |h| {
        shows(h, "Sent 1 message.")
    });
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "nobody mailed twice");
    assert_eq!(got[3].0, ["student.b@example.org"]);
    assert!(got[3].1.contains("Dear Student B"));

    // The email log keeps what went to whom, and why one did not.
    click(&mut h, Role::Button, "Email log");
    step_until(&mut h, "the email log", 30, |h| {
        h.query_by_label("student.b@example.org").is_some()
    });
    assert!(
        h.query_by_label("Student B (B)").is_some(),
        "by the address it has now"
    );
    assert!(h
        .query_by_label(
            "not sent: the mail server does not take mail for this address (\"550 5.1.1 \
             <b@example.org>: User unknown\"): check the student's email in Admin → Students"
        )
        .is_some());
    assert_eq!(h.query_all_by_label("sent").count(), 4);
}

/// The class of four in `dir`, the admin screens unlocked, with Student D's "Left the
/// school…" window open.
fn leaving_window_of_d(dir: &Path) -> H {
    let mut h = harness(class(dir), dir);
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open D"));
    click(&mut h, Role::Button, "Open D");
    click(&mut h, Role::Button, "Left the school…");
    step_until(&mut h, "the question", 10, |h| {
        says(h, "Their photos and face data are erased now")
    });
    h
}

/// Student D moved away after Tuesday 3 March: recorded as left, their absences after it
/// no longer count, they are mailed no report and not flagged, and their face data goes.
#[test]
fn a_student_who_left_keeps_their_days_in_class_and_nothing_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = leaving_window_of_d(dir.path());
    // A day written wrongly cannot be recorded.
    replace_text(&mut h, "Last day in class", "3 March");
    assert!(says(&h, "Write the day as year-month-day"));
    // A day before their enrolment is refused in the window, to be written again there.
    replace_text(&mut h, "Last day in class", "2026-02-27");
    click(&mut h, Role::Button, "Record that they left");
    step_until(&mut h, "the refusal", 30, |h| {
        says(
            h,
            "The last day cannot be before Student D was enrolled (1 March 2026).",
        )
    });
    assert!(says(&h, "Their photos and face data are erased now"));
    replace_text(&mut h, "Last day in class", "2026-03-03");
    assert!(!says(&h, "The last day cannot be before"));
    click(&mut h, Role::Button, "Record that they left");
    step_until(&mut h, "the record", 30, |h| {
        says(h, "Recorded: their last day in class was 3 March 2026.")
    });
    step_until(&mut h, "the student's note", 30, |h| {
        says(
            h,
            "Left the school: their last day in class was 3 March 2026.",
        )
    });
    // Nothing to add, nothing left to erase (until 2026-12-06 "Erase face data" stayed
    // on offer for a student whose face data went as they left).
    for button in ["Add a camera photo", "Erase face data"] {
        assert!(
            h.query_by_role_and_label(Role::Button, button)
                .is_some_and(|b| b.accesskit_node().is_disabled()),
            "{button}"
        );
    }
    click(&mut h, Role::Button, "Close");
    step_until(&mut h, "the list", 10, |h| shows(h, "left, last day"));

    show_march(&mut h);
    step_until(&mut h, "the table", 30, |h| {
        shows(
            h,
            "D Student D: 0 present, 2 absent, 0 %; left the school, last day 3 March 2026",
        )
    });
    assert!(says(&h, "(left): the student left the school"));
    click(&mut h, Role::Button, "Email students under 85 %…");
    step_until(&mut h, "the preview", 30, |h| {
        shows(h, "2 messages will be sent:")
    });
    assert!(says(&h, "No message for 1 student who left the school."));

    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let d = common::student_named(&store, "D").unwrap();
    assert_eq!(
        d.last_day.map(|d| d.to_string()).as_deref(),
        Some("2026-03-03")
    );
    assert!(store
        .audit_log(5)
        .unwrap()
        .iter()
        .any(|a| a.action == "student left" && a.details.contains("2026-03-03")));
    drop(store);

    // Back in the class on the 5th: the 4th, away, counts for nobody; the days from the
    // 5th count again (until 2026-12-06 every day since the last one counted again, absent).
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open D"));
    click(&mut h, Role::Button, "Open D");
    click(&mut h, Role::Button, "Back in the class…");
    step_until(&mut h, "the question", 10, |h| {
        says(h, "The days between their last day in class (3 March 2026) and their first day back do not count for them")
    });
    let today = chrono::Local::now().date_naive().to_string();
    assert_eq!(
        text_field(&h, "First day back").value().as_deref(),
        Some(today.as_str())
    );
    // Not on or before the last day.
    replace_text(&mut h, "First day back", "2026-03-03");
    click(&mut h, Role::Button, "Back in the class");
    step_until(&mut h, "the refusal", 30, |h| {
        says(
            h,
            "The first day back must be after Student D's last day in class (3 March 2026).",
        )
    });
    replace_text(&mut h, "First day back", "2026-03-05");
    click(&mut h, Role::Button, "Back in the class");
    step_until(&mut h, "the record", 30, |h| {
        says(
            h,
            "Recorded: the student is in the class again from 5 March 2026: the days away \
             (4 March 2026) do not count for them.",
        )
    });
    // The student's page lists the days away, as Review's row counts them.
    step_until(&mut h, "the days away", 30, |h| {
        says(
            h,
            "Away from the school before coming back: 4 March 2026. Those days do not \
             count for them.",
        )
    });
    show_march(&mut h);
    step_until(&mut h, "the table", 30, |h| {
        shows(
            h,
            "D Student D: 0 present, 4 absent, 0 % (under the threshold); away 1 class day",
        )
    });
    assert!(says(&h, "Away: the student left the school and came back"));
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let d = common::student_named(&store, "D").unwrap();
    assert_eq!(d.last_day, None);
    let march = |n| chrono::NaiveDate::from_ymd_opt(2026, 3, n).unwrap();
    assert_eq!(d.away, [(march(4), march(4))]);
}

/// A leave recorded ahead of the student's last day (until 2026-12-06 refused: the face
/// data went at once, so it could only be recorded once the student had gone), then
/// undone: not leaving after all.
#[test]
fn a_leave_recorded_ahead_says_when_the_face_goes_and_can_be_undone() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = leaving_window_of_d(dir.path());
    let today = chrono::Local::now().date_naive();
    let friday = today + chrono::Days::new(4);
    let long = |d: chrono::NaiveDate| d.format("%-d %B %Y").to_string();
    replace_text(&mut h, "Last day in class", &friday.to_string());
    assert!(says(
        &h,
        "Their photos and face data are erased once that day is over: the kiosk marks them \
         until then."
    ));
    click(&mut h, Role::Button, "Record that they left");
    step_until(&mut h, "the record", 30, |h| {
        says(
            h,
            &format!(
                "Recorded: their last day in class is {}. The kiosk marks them up to that day",
                long(friday)
            ),
        )
    });
    step_until(&mut h, "the student's note", 30, |h| {
        says(
            h,
            &format!(
                "Leaves the school: their last day in class is {}.",
                long(friday)
            ),
        )
    });
    // Still in the class: photos may be added (until 2026-12-06 refused, as a leaver's).
    assert!(
        h.query_by_role_and_label(Role::Button, "Add a camera photo")
            .is_some_and(|b| !b.accesskit_node().is_disabled()),
        "photos may be added while the leave is ahead"
    );
    click(&mut h, Role::Button, "Close");
    step_until(&mut h, "the list", 10, |h| {
        shows(h, &format!("leaving, last day {}", long(friday)))
    });
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    assert_eq!(
        common::student_named(&store, "D").unwrap().last_day,
        Some(friday)
    );
    drop(store);

    click(&mut h, Role::Button, "Open D");
    click(&mut h, Role::Button, "Not leaving after all…");
    step_until(&mut h, "the question", 10, |h| {
        says(
            h,
            &format!(
                "Record that Student D is not leaving the school after all? Every day after \
                 {} counts for them again",
                long(friday)
            ),
        )
    });
    assert!(
        h.query_by_label("First day back").is_none(),
        "no day to give"
    );
    click(&mut h, Role::Button, "Not leaving after all");
    step_until(&mut h, "the record", 30, |h| {
        says(
            h,
            &format!(
                "Recorded: the student is not leaving the school after all: every day after \
                 {} counts for them.",
                long(friday)
            ),
        )
    });
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let d = common::student_named(&store, "D").unwrap();
    assert_eq!((d.last_day, d.away.len()), (None, 0));
}

/// Two students enrolled under each other's roll numbers are swapped on the Students screen
/// in one step; each keeps their marks (until 2026-12-07 the admin had to give one of them
/// a third number first, and the school's server could refuse the two changes).
#[test]
fn two_roll_numbers_typed_the_wrong_way_round_are_swapped_and_the_marks_stay() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = student_b_opened(dir.path());
    replace_text(&mut h, "Roll number", "a");
    assert!(says(
        &h,
        "Roll number A is already Student A's. Swapping gives Student B the roll number A and \
         Student A the roll number B: their attendance, photos and face data stay theirs."
    ));
    assert!(h
        .get_by_role_and_label(Role::Button, "Save changes")
        .accesskit_node()
        .is_disabled());
    click(&mut h, Role::Button, "Swap roll numbers");
    step_until(&mut h, "the swap", 30, |h| {
        says(
            h,
            "Swapped the roll numbers: Student B is now A (was B), Student A is now B.",
        )
    });
    // An email address the wrong way round is offered to be swapped the same way.
    replace_text(&mut h, "Email", "A@example.org");
    step_until(&mut h, "the offer", 10, |h| {
        says(
            h,
            "The email address a@example.org is already Student A's. Swapping gives Student B \
             that address and Student A b@example.org.",
        )
    });
    assert!(h
        .query_by_role_and_label(Role::Button, "Swap email addresses")
        .is_some());
    replace_text(&mut h, "Email", "b@example.org");
    click(&mut h, Role::Button, "Close");
    show_march(&mut h);
    step_until(&mut h, "the table", 30, |h| {
        shows(
            h,
            "A Student B: 4 present, 1 absent, 80 % (under the threshold)",
        ) && shows(h, "B Student A: 5 present, 0 absent, 100 %")
    });
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    assert!(store.audit_log(10).unwrap().iter().any(|a| {
        a.action == "swap with student" && a.details.contains(r#"roll number "A" to "B""#)
    }));
}

/// The student list comes again after any change (a save, photos added, another
/// program's edit seen on the way back to the screen): a field the admin is typing in keeps
/// what they typed, and the others show the records as they are now. Until 2026-12-08
/// every field was filled again from the records, so typing that fell between a swap and
/// the list that followed it was lost (the clean-clone CI's failure of the swap test).
#[test]
fn what_an_admin_types_for_a_student_stays_when_the_list_comes_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = student_b_opened(dir.path());
    replace_text(&mut h, "Name", "Student Bee");
    // Meanwhile another program on the same records corrects B's email.
    let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let b = store
        .students()
        .unwrap()
        .into_iter()
        .find(|s| s.roll_no == "B")
        .unwrap();
    store
        .update_student(b.id, "B", "Student B", "bee@example.org", "office")
        .unwrap();
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the list again, with the new email", 30, |h| {
        field_value(h, "Email") == "bee@example.org"
    });
    assert_eq!(
        field_value(&h, "Name"),
        "Student Bee",
        "what the admin typed"
    );
    click(&mut h, Role::Button, "Save changes");
    step_until(&mut h, "the name saved", 30, |h| {
        shows(h, "Student Bee (B)")
    });
    let saved = store.students().unwrap();
    let b = saved.iter().find(|s| s.id == b.id).unwrap();
    assert_eq!(
        (b.name.as_str(), b.email.as_str()),
        ("Student Bee", "bee@example.org")
    );
}

/// The class of four in `dir`, Student B opened on the Students screen (PIN 2468).
fn student_b_opened(dir: &Path) -> H {
    let mut h = harness(class(dir), dir);
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open B"));
    click(&mut h, Role::Button, "Open B");
    step_until(&mut h, "the student", 10, |h| shows(h, "Student B (B)"));
    h
}

/// A roll number typed wrong at enrolment is corrected on the Students screen; the
/// student's marks stay theirs (until 2026-12-06 only the name and email could be changed:
/// a typo needed the student deleted, with their attendance, and enrolled again).
#[test]
fn a_roll_number_typed_wrong_is_corrected_and_the_marks_stay() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = student_b_opened(dir.path());
    // Another student's number, in any case, cannot be saved (only swapped: below).
    replace_text(&mut h, "Roll number", "a");
    assert!(says(&h, "Roll number A is already Student A's."));
    assert!(h
        .get_by_role_and_label(Role::Button, "Save changes")
        .accesskit_node()
        .is_disabled());
    replace_text(&mut h, "Roll number", "B7");
    assert!(says(&h, "Saving corrects the roll number B to B7"));
    click(&mut h, Role::Button, "Save changes");
    step_until(&mut h, "the correction", 30, |h| {
        says(h, "Saved the changes to Student B: roll number B7 (was B).")
    });
    click(&mut h, Role::Button, "Close");
    step_until(&mut h, "the list", 10, |h| shows(h, "Open B7"));
    assert!(h.query_by_label("Open B").is_none());

    show_march(&mut h);
    step_until(&mut h, "the table", 30, |h| {
        shows(
            h,
            "B7 Student B: 4 present, 1 absent, 80 % (under the threshold)",
        )
    });
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    assert!(store
        .audit_log(5)
        .unwrap()
        .iter()
        .any(|a| a.action == "correct roll number" && a.details.contains(r#""B" to "B7""#)));
}

/// A range that takes in today counts it only once the admin says its classes are over:
/// a student who has not come in yet is not told they were absent today.
#[test]
fn emailing_counts_today_only_once_the_admin_says_its_classes_are_over() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    let mut store = Store::open(&data.database()).unwrap();
    let a = common::student_named(&store, "A").unwrap().id;
    store
        .mark(a, chrono::Local::now(), None, "kiosk", None)
        .unwrap();
    drop(store);
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Review");
    click(&mut h, Role::RadioButton, "Custom");
    replace_text(&mut h, "From", "2026-03-01");
    let today = chrono::Local::now().date_naive();
    replace_text(&mut h, "To", &today.to_string());
    click(&mut h, Role::Button, "Show");
    step_until(&mut h, "the table", 30, |h| shows(h, "6 class days"));
    assert!(says(&h, "Today is shown as it stands"));
    click(&mut h, Role::Button, "Email students under 85 %…");
    step_until(&mut h, "the preview", 30, |h| {
        shows(h, "3 messages will be sent:")
    });
    assert!(says(
        &h,
        "Today is not counted: its classes may not be over"
    ));
    let yesterday = (today - chrono::Duration::days(1)).format("%-d %B %Y");
    assert!(
        says(
            &h,
            &format!("to {yesterday} you were present on 4 of 5 class days")
        ),
        "B's report ends yesterday"
    );
    click(&mut h, Role::CheckBox, "Count today: its classes are over");
    step_until(&mut h, "the preview with today", 30, |h| {
        says(h, "you were present on 4 of 6 class days")
    });
    assert!(says(
        &h,
        &format!("to {} you were", today.format("%-d %B %Y"))
    ));
    assert!(!says(&h, "Today is not counted"));
}

#[test]
fn a_correction_on_a_day_without_class_changes_nobody_elses_percentage() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = march_of_the_class(dir.path());
    assert!(says(
        &h,
        "A class day is a day on which the kiosk marked anyone"
    ));
    assert!(!says(&h, "Today is shown as it stands"), "March is over");

    // D is marked present by hand on Monday the 9th, a day nobody came to the kiosk.
    correct(
        &mut h,
        "D Student D:",
        "2026-03-09",
        "Present",
        "Came to the library instead",
    );
    step_until(&mut h, "the explanation", 30, |h| {
        says(h, "2026-03-09 is not a class day")
    });
    assert!(shows(&h, "A Student A: 5 present, 0 absent, 100 %"));
    assert!(shows(&h, "5 class days"), "no class day was made");
    // The correction window, still open, says what is recorded on a day that is not a
    // class day (the table has no column to show it in): nothing yet.
    assert!(shows(&h, "Now: no record (not a class day)."));

    // Declared on purpose, the day counts for everyone.
    click(
        &mut h,
        Role::CheckBox,
        "Declare it a class day (it then counts for every student)",
    );
    click(&mut h, Role::Button, "Save correction");
    step_until(&mut h, "the declared day", 30, |h| {
        shows(h, "6 class days") && shows(h, "D Student D: 1 present, 5 absent")
    });
    assert!(shows(&h, "A Student A: 5 present, 1 absent, 83 %"));
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
    let marks = store.marks(day, day).unwrap();
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].source, "admin");

    // Declared by mistake: the day view withdraws it, after asking.
    h.get_by_label("Day view").click_accesskit();
    h.step();
    replace_text(&mut h, "Day", "2026-03-09");
    click(&mut h, Role::Button, "Show day");
    step_until(&mut h, "the declaration", 30, |h| {
        shows(h, "Declared a class day on 2026-")
    });
    click(&mut h, Role::Button, "Withdraw the declaration");
    step_until(&mut h, "the question", 10, |h| {
        shows(h, "the day stops counting for every student")
    });
    assert!(
        shows(&h, "6 class days"),
        "nothing changed before the answer"
    );
    click(&mut h, Role::Button, "Withdraw");
    // The table and the day view are asked for again separately: each arrives in its own
    // frame.
    step_until(&mut h, "the withdrawn day", 30, |h| {
        shows(h, "5 class days")
            && shows(h, "A Student A: 5 present, 0 absent, 100 %")
            && !shows(h, "Declared a class day on")
    });
    assert!(shows(&h, "2026-03-09 is no longer a class day"));
    let log = store.audit_log(5).unwrap();
    assert!(
        log.iter()
            .any(|a| a.action == "withdraw class day" && a.details == "2026-03-09"),
        "{log:?}"
    );
    // D's mark by hand is still recorded, on a day that counts for nobody: the correction
    // window says so.
    correction_on(&mut h, "D Student D:", "2026-03-09");
    assert!(shows(
        &h,
        "Now: present, marked by hand (not a class day: it counts for nobody)."
    ));
}

#[test]
fn faces_refused_as_photos_are_listed_for_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    {
        let mut s = Store::open(&data.database()).unwrap();
        let a = s.students().unwrap()[0].id;
        s.log_refusal(Some(a), -1.25, Some(&faceless_jpeg()))
            .unwrap();
        s.log_refusal(None, -0.5, None).unwrap();
    }
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Review");
    click(&mut h, Role::Button, "Refused faces");
    step_until(&mut h, "the refused faces", 30, |h| {
        shows(h, "Refused at the kiosk") && shows(h, "-1.25")
    });
    assert!(
        h.query_by_label("Student A").is_some(),
        "whom the photo resembled"
    );
    assert!(shows(&h, "nobody enrolled"));
    assert!(shows(&h, "Refused face at "), "the snapshot is shown");
}

/// Whether any widget's label or value (a label's text, a combo box's choice) has `text`.
fn says(h: &H, text: &str) -> bool {
    h.query_all_by(|_| true).any(|n| {
        let n = n.accesskit_node();
        n.label().is_some_and(|l| l.contains(text)) || n.value().is_some_and(|v| v.contains(text))
    })
}

#[test]
fn the_photo_check_strictness_is_chosen_with_its_measured_cost_and_saved() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    let mut h = harness(data.clone(), dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the photo-check strictness", 60, |h| {
        says(h, "+0.0 (standard): photos let in")
    });
    assert!(says(&h, "Its model learnt from 7 people"));
    // The list's "Photo check" column says what its words mean.
    h.get_by_label("Photo check").hover();
    step_until(&mut h, "the column's explanation", 10, |h| {
        shows(
            h,
            "general only (uploaded photos only: open the student and add a camera photo",
        )
    });

    click(&mut h, Role::ComboBox, "Photo-attack check strictness");
    step_until(&mut h, "the choices", 10, |h| {
        says(h, "+0.3 (strict): photos let in")
    });
    let strict = h
        .query_all_by(|n| {
            n.label().is_some_and(|l| l.contains("+0.3 (strict)"))
                || n.value().is_some_and(|v| v.contains("+0.3 (strict)"))
        })
        .next()
        .expect("the stricter choice is listed");
    strict.click_accesskit();
    step_until(&mut h, "the stricter choice", 30, |h| {
        h.query_all_by_role(Role::ComboBox).any(|n| {
            n.accesskit_node()
                .value()
                .is_some_and(|v| v.contains("+0.3 (strict)"))
        })
    });
    let saved = Settings::load(&data.settings()).unwrap();
    assert!((saved.liveness.threshold - 0.3).abs() < 1e-6, "{saved:?}");
    let text = std::fs::read_to_string(data.settings()).unwrap();
    assert!(text.contains("threshold = 0.3"), "{text}");

    // A second kiosk on the same data folder goes back to the standard strictness: this
    // screen shows it when the Students screen is opened again.
    let standard = toml::Value::Float(0.0);
    Settings::set_in_file(&data.settings(), "liveness", "threshold", standard).unwrap();
    click(&mut h, Role::Button, "Enrol a student");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the strictness saved elsewhere", 30, |h| {
        h.query_all_by_role(Role::ComboBox).any(|n| {
            n.accesskit_node()
                .value()
                .is_some_and(|v| v.contains("+0.0 (standard)"))
        })
    });
}

/// Students with no photos (enough for the Students screen), inserted in this order.
fn students_named(dir: &Path, people: &[(&str, &str)]) -> DataDir {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    let mut store = Store::open(&data.database()).unwrap();
    for (roll, name) in people {
        store
            .insert_student(
                &rollcall::store::NewStudent {
                    roll_no: roll.to_string(),
                    name: name.to_string(),
                    email: format!("{roll}@example.org"),
                },
                &[],
                "test",
            )
            .unwrap();
    }
    data
}

#[test]
fn names_in_other_scripts_are_drawn_with_real_glyphs() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        ("7", "李小龙"),
        ("8", "Zoë Ångström"),
        ("9", "محمد الأمين"),
        ("10", "Գոռ Սարգսյան"),
    ];
    let data = students_named(dir.path(), &names);
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the students", 30, |h| says(h, "李小龙"));
    // Names, and the symbols the in-app file picker draws.
    for text in names.iter().map(|(_, n)| *n).chain(["📂 🗀 🗋 ⬆ ⟲"]) {
        let drawn = h
            .ctx
            .fonts_mut(|f| f.has_glyphs(&egui::FontId::proportional(14.0), text));
        assert!(drawn, "the window's fonts have every glyph of {text}");
    }
}

#[test]
fn roll_numbers_are_listed_in_number_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = students_named(
        dir.path(),
        &[
            ("10", "Ten"),
            ("9", "Nine"),
            ("8", "Eight"),
            ("CS-10", "C"),
            ("CS-9", "B"),
        ],
    );
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the students", 30, |h| shows(h, "Open 10"));
    let order: Vec<String> = h
        .query_all_by(|n| n.label().is_some_and(|l| l.starts_with("Open ")))
        .filter_map(|n| n.accesskit_node().label())
        .collect();
    assert_eq!(
        order,
        ["Open 8", "Open 9", "Open 10", "Open CS-9", "Open CS-10"]
    );
}

/// Everything Rollcall keeps on disk about a database: the file and its write-ahead log.
fn database_bytes(dir: &Path) -> Vec<u8> {
    ["rollcall.db", "rollcall.db-wal"]
        .iter()
        .filter_map(|f| std::fs::read(dir.join(f)).ok())
        .flatten()
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn erasing_face_data_takes_the_snapshots_off_the_day_view_and_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let id = common::enrol_student_two(&mut common::open_service(dir.path()));
    // The kiosk kept a face snapshot with today's mark.
    let snapshot = std::fs::read(&photos("webcam-dev", "0002")[30]).unwrap();
    let piece = &snapshot[snapshot.len() / 2..snapshot.len() / 2 + 64];
    Store::open(&dir.path().join("rollcall.db"))
        .unwrap()
        .mark(
            id,
            chrono::Local::now(),
            Some(3.9),
            "kiosk",
            Some(&snapshot),
        )
        .unwrap();
    assert!(contains(&database_bytes(dir.path()), piece));

    let mut h = harness(DataDir::resolve(Some(dir.path())), dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Review");
    step_until(&mut h, "the review", 30, |h| shows(h, "Day view"));
    h.get_by_label("Day view").click_accesskit();
    h.step();
    click(&mut h, Role::Button, "Show day");
    step_until(&mut h, "the snapshot", 30, |h| {
        shows(h, "Snapshot of Student Two")
    });
    assert!(shows(&h, "kiosk camera"), "how the mark was made, in words");

    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open R0002"));
    click(&mut h, Role::Button, "Open R0002");
    click(&mut h, Role::Button, "Erase face data");
    step_until(&mut h, "the confirmation", 10, |h| {
        shows(h, "their attendance is kept")
    });
    click(&mut h, Role::Button, "Erase");
    step_until(&mut h, "the erasure", 30, |h| shows(h, "Erased 5 photos"));
    assert!(
        shows(&h, "1 face snapshot"),
        "the message says the snapshot went too"
    );

    click(&mut h, Role::Button, "Review");
    step_until(&mut h, "the day without its snapshot", 30, |h| {
        shows(h, "1 mark on") && !shows(h, "Snapshot of Student Two")
    });
    assert!(
        !contains(&database_bytes(dir.path()), piece),
        "no copy of the snapshot is left in the database files"
    );
}

#[test]
fn a_failed_capture_leaves_the_form_ready_to_save() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    // No picture at all: the recording does not exist.
    let source = SourceSpec::Folder {
        path: dir.path().join("no-such-recording"),
        fps: 5.0,
        looping: true,
    };
    let mut h = app_harness(
        (1280.0, 900.0),
        AppOptions {
            data,
            settings: settings(),
            source: source.into(),
            observer: None,
        },
    );
    set_pin(&mut h, "2468");
    type_into(&mut h, "Roll no", "R0002");
    type_into(&mut h, "Name", "Student Two");
    type_into(&mut h, "Email", "s0002@example.org");
    add_files(&mut h, &photos("webcam-dev", "0002")[..1]);
    step_until(&mut h, "the photo", 60, |h| shows(h, "Photos: 1 / 10"));

    click(&mut h, Role::Button, "Capture");
    step_until(&mut h, "the failed capture", 30, |h| {
        shows(h, "there is no camera picture to capture")
    });
    for _ in 0..5 {
        h.step();
    }
    assert!(!shows(&h, "Checking"), "no check is left waiting");
    let save = h.get_by_role_and_label(Role::Button, "Save");
    assert!(!save.accesskit_node().is_disabled(), "Save can be pressed");
    click(&mut h, Role::Button, "Save");
    step_until(&mut h, "the enrolment", 60, |h| {
        shows(h, "Enrolled Student Two (R0002) with 1 photo.")
    });
}

/// A camera that stops sending leaves its last picture on screen, perhaps of whoever
/// stood there before: Capture does not take it (until 2026-12-06 it did, and the photo
/// would have enrolled that face as the student being enrolled).
#[test]
fn capture_takes_no_picture_from_a_source_that_stopped_sending() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    // A student in front of the camera for a second, then the recording ends.
    let frames = photos("webcam-dev", "0002").into_iter().skip(20).take(5);
    let source = SourceSpec::Folder {
        path: common::frame_folder(dir.path().join("door"), frames),
        fps: 5.0,
        looping: false,
    };
    let mut h = harness_watching(data, source, (1280.0, 900.0));
    set_pin(&mut h, "2468");
    step_until(&mut h, "the end of the recording", 60, |h| {
        shows(h, "The recording has ended.")
    });
    click(&mut h, Role::Button, "Capture");
    step_until(&mut h, "the capture's answer", 30, |h| {
        shows(h, "there is no camera picture to capture")
    });
    assert!(!shows(&h, "Photos: 1 / 10"), "no photo was taken");
}

/// The enrolment screen's camera view, read by the admin, says what to do about a picture
/// that stays black, not to tell the teacher (as the door does).
#[test]
fn the_enrolment_camera_view_tells_the_admin_what_to_do_about_a_black_picture() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let shut = common::black_frames(dir.path().join("shut"), 5);
    let source = SourceSpec::Folder {
        path: shut,
        fps: 15.0,
        looping: true,
    };
    let mut h = harness_watching(data, source, (1280.0, 900.0));
    set_pin(&mut h, "2468");
    step_until(&mut h, "the black picture's notice", 60, |h| {
        shows(
            h,
            "The camera's picture is black: open its privacy shutter, or turn the lights on.",
        )
    });
    assert!(!shows(&h, "please tell your teacher"));
}

/// In the in-app file picker: types `folder` into its path field and opens it.
fn picker_go_to(h: &mut H, folder: &str) {
    let path_field = h
        .query_all_by_role(Role::TextInput)
        .find(|n| n.value().is_some_and(|v| v.starts_with('/')))
        .expect("the picker's path field");
    path_field.focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.query_all_by_role(Role::TextInput)
        .find(|n| n.is_focused())
        .unwrap()
        .type_text(folder);
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
}

#[test]
fn photos_are_chosen_with_the_in_app_picker_when_the_desktop_has_no_file_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    click(&mut h, Role::Button, "Add from files…");
    step_until(&mut h, "the picker", 10, |h| shows(h, "Choose photos"));

    // Go to the folder holding the photo: type it in the picker's path field.
    let photo = photos("webcam-dev", "0002")[3].clone();
    let folder = photo.parent().unwrap().display().to_string();
    picker_go_to(&mut h, &folder);
    let name = photo.file_name().unwrap().to_string_lossy().into_owned();
    step_until(&mut h, "the folder's photos", 10, |h| shows(h, &name));
    h.get_by_label_contains(&name).click();
    h.step();
    click(&mut h, Role::Button, "Open");
    step_until(&mut h, "the chosen photo", 60, |h| {
        shows(h, "Photos: 1 / 10")
    });
    assert!(!shows(&h, "Choose photos"), "the picker closed");
}

#[test]
fn an_iphone_photo_is_listed_chosen_and_checked_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    let folder = tempfile::tempdir().unwrap();
    let heic = crate::common::bad_files::converted(&photos("webcam-dev", "0002")[3], "heic");
    std::fs::write(folder.path().join("IMG_0003.HEIC"), heic).unwrap();
    click(&mut h, Role::Button, "Add from files…");
    step_until(&mut h, "the picker", 10, |h| shows(h, "Choose photos"));
    picker_go_to(&mut h, &folder.path().display().to_string());
    step_until(&mut h, "the iPhone's photo", 10, |h| {
        shows(h, "IMG_0003.HEIC")
    });
    h.get_by_label_contains("IMG_0003.HEIC").click();
    h.step();
    click(&mut h, Role::Button, "Open");
    step_until(&mut h, "the chosen photo", 60, |h| {
        shows(h, "Photos: 1 / 10")
    });
    assert!(!shows(&h, "cannot be opened") && !shows(&h, "not a photo"));
}

#[test]
fn all_data_is_backed_up_and_restored_from_review() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    let mut h = harness(data, dir.path());
    review_march(&mut h);
    step_until(&mut h, "the table", 30, |h| shows(h, "5 class days"));
    assert!(shows(&h, "No backup has been made here yet."));
    click(&mut h, Role::Button, "Back up all data…");
    step_until(&mut h, "the picker", 10, |h| shows(h, "Save as"));

    // Into another folder: type it in the picker's path field; keep the suggested name.
    let out = tempfile::tempdir().unwrap();
    picker_go_to(&mut h, &out.path().display().to_string());
    click(&mut h, Role::Button, "Save");
    let name = format!(
        "rollcall-{}.rollcall",
        chrono::Local::now().format("%Y-%m-%d")
    );
    let file = out.path().join(&name);
    step_until(&mut h, "the backup", 60, |h| {
        shows(h, "Backed up 4 students, 11 marks and 0 photos to")
    });
    assert!(
        file.is_file(),
        "{name} in {:?}",
        std::fs::read_dir(out.path()).unwrap().collect::<Vec<_>>()
    );
    // The reminder gives way to when it was made; the audit log says who made it, where.
    let made = chrono::Local::now().format("%Y-%m-%d").to_string();
    step_until(&mut h, "the last backup", 10, |h| {
        shows(h, &format!("Last backup: {made} "))
    });
    assert!(shows(&h, &format!(", to {}.", file.display())));
    assert!(!shows(&h, "No backup has been made here yet."));
    let log = rollcall::store::Store::open(&dir.path().join("rollcall.db"))
        .unwrap()
        .audit_log(1)
        .unwrap();
    assert_eq!(
        (
            log[0].actor.as_str(),
            log[0].action.as_str(),
            log[0].details.clone()
        ),
        (
            "admin",
            "backup",
            format!(
                "every student, mark and photo backed up to {}",
                file.display()
            )
        )
    );

    // The file restores on another machine.
    let fresh = tempfile::tempdir().unwrap();
    let r = common::rollcall(fresh.path(), &["restore", file.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("Restored 4 students, 11 marks"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );

    // A student added after the backup; then the backup is restored here, from Review.
    let students = || {
        let store = rollcall::store::Store::open(&dir.path().join("rollcall.db")).unwrap();
        let mut rolls: Vec<String> = store
            .students()
            .unwrap()
            .into_iter()
            .map(|s| s.roll_no)
            .collect();
        rolls.sort();
        rolls
    };
    rollcall::store::Store::open(&dir.path().join("rollcall.db"))
        .unwrap()
        .insert_student(
            &rollcall::store::NewStudent {
                roll_no: "E".into(),
                name: "Student E".into(),
                email: "e@example.org".into(),
            },
            &[],
            "test",
        )
        .unwrap();
    assert_eq!(students(), ["A", "B", "C", "D", "E"]);
    click(&mut h, Role::Button, "Restore from a backup…");
    step_until(&mut h, "the picker", 10, |h| {
        shows(h, "Choose a backup file")
    });
    picker_go_to(&mut h, &out.path().display().to_string());
    let entry = format!("🗋 {name}");
    step_until(&mut h, "the backup in the folder", 10, |h| {
        h.query_by_label(&entry).is_some()
    });
    h.get_by_label(&entry).click();
    h.step();
    click(&mut h, Role::Button, "Open");
    step_until(&mut h, "the question", 10, |h| {
        shows(h, "Replace all the data here with the backup")
    });
    assert_eq!(
        students().len(),
        5,
        "nothing restored before the admin confirms"
    );
    click(&mut h, Role::Button, "Restore");
    step_until(&mut h, "the restore", 60, |h| {
        shows(h, "Restored 4 students, 11 marks and 0 photos from")
    });
    assert_eq!(students(), ["A", "B", "C", "D"]);
    assert!(shows(&h, "The database it replaced is saved as"));
    step_until(&mut h, "when the restored data was backed up", 10, |h| {
        shows(h, &format!("Last backup: {made} "))
    });
}

#[test]
fn after_a_restore_the_door_knows_the_restored_students_without_a_restart() {
    // A kiosk with nobody enrolled (a new computer) gets another's backup, which holds
    // Student Two.
    let other = tempfile::tempdir().unwrap();
    common::enrol_student_two(&mut common::open_service(other.path()));
    let out = tempfile::tempdir().unwrap();
    let from = DataDir::resolve(Some(other.path()));
    Store::open(&from.database())
        .unwrap()
        .backup_to(&out.path().join("before.rollcall"), &from)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let frames = common::recording(dir.path(), "0002", 10, 10);
    let source = SourceSpec::Folder {
        path: frames,
        fps: 10.0,
        looping: true,
    };
    let mut h = harness_watching(data, source, (1280.0, 900.0));
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Review");
    click(&mut h, Role::Button, "Restore from a backup…");
    step_until(&mut h, "the picker", 10, |h| {
        shows(h, "Choose a backup file")
    });
    picker_go_to(&mut h, &out.path().display().to_string());
    step_until(&mut h, "the backup in the folder", 10, |h| {
        h.query_by_label("🗋 before.rollcall").is_some()
    });
    h.get_by_label("🗋 before.rollcall").click();
    h.step();
    click(&mut h, Role::Button, "Open");
    click(&mut h, Role::Button, "Restore");
    step_until(&mut h, "the restore", 60, |h| {
        shows(h, "Restored 1 student, 0 marks and 5 photos from")
    });
    assert!(!shows(&h, "start it again"), "no restart is asked for");

    click(&mut h, Role::Button, "Lock");
    step_until(&mut h, "the restored student recognised", 90, |h| {
        shows(h, "Welcome, Student Two")
    });
}

#[test]
fn every_part_of_review_is_reached_with_the_mouse_wheel_in_a_small_window() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    let mut h = harness_sized(data, dir.path(), (800.0, 600.0));
    review_march(&mut h);
    step_until(&mut h, "the table", 30, |h| shows(h, "5 class days"));
    h.get_by_label("Charts").click_accesskit();
    h.get_by_label("Day view").click_accesskit();
    h.step();
    h.step();
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(800.0, 600.0));
    let in_view = |h: &H| {
        h.query_by_role_and_label(Role::Button, "Show day")
            .is_some_and(|b| window.contains_rect(b.rect()))
    };
    assert!(!in_view(&h), "Show day starts below the window");
    // Wheel down over the page (over the charts, too) until Show day is in view.
    assert!(
        wheel_until(
            &mut h,
            egui::pos2(400.0, 450.0),
            egui::vec2(0.0, -120.0),
            in_view
        ),
        "the wheel brought Show day into the window"
    );
    replace_text(&mut h, "Day", "2026-03-04");
    h.get_by_role_and_label(Role::Button, "Show day").click();
    h.step();
    step_until(&mut h, "the day's marks", 30, |h| {
        shows(h, "2 marks on 2026-03-04")
    });
    // Who is missing that day, as a teacher asks first.
    assert!(shows(&h, "Not marked (2): Student C (C), Student D (D)"));
    // A Saturday is no class day: nobody is listed as missing.
    replace_text(&mut h, "Day", "2026-03-07");
    h.get_by_role_and_label(Role::Button, "Show day").click();
    h.step();
    step_until(&mut h, "the Saturday", 30, |h| {
        shows(h, "0 marks on 2026-03-07")
    });
    assert!(!shows(&h, "Not marked"));
}

/// A student without photos.
fn add_student(store: &mut Store, roll_no: &str, name: &str) {
    store
        .insert_student(
            &rollcall::store::NewStudent {
                roll_no: roll_no.into(),
                name: name.into(),
                email: format!("{}@example.org", roll_no.to_lowercase()),
            },
            &[],
            "test",
        )
        .unwrap();
}

/// The admin screens unlocked in an 800×600 window, and the window's rectangle.
fn unlocked_in_a_small_window(data: DataDir, dir: &Path) -> (H, egui::Rect) {
    let size = (800.0, 600.0);
    let mut h = harness_sized(data, dir, size);
    set_pin(&mut h, "2468");
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(size.0, size.1));
    (h, window)
}

/// An opened student's details come in a panel beside the list, which stays where it was
/// scrolled, with the roll numbers and names still in view (until 2026-12-03 they came below
/// the whole list: at a school's 2,000 students, 40,000 points below its top and the search
/// field; then in a window over the rows' Open buttons).
#[test]
fn an_opened_student_is_shown_beside_the_list_which_stays_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    let mut store = Store::open(&data.database()).unwrap();
    for n in 10..40 {
        add_student(&mut store, &format!("S{n}"), &format!("Student {n}"));
    }
    drop(store);
    let (mut h, window) = unlocked_in_a_small_window(data, dir.path());
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open S10"));
    let in_view = |h: &H, label: &str| {
        h.query_by_label(label)
            .is_some_and(|n| window.contains_rect(n.rect()))
    };
    assert!(
        wheel_until(
            &mut h,
            egui::pos2(200.0, 400.0),
            egui::vec2(0.0, -120.0),
            |h| { in_view(h, "Open S39") }
        ),
        "the wheel reaches the last student"
    );
    for _ in 0..20 {
        h.step(); // The wheel's smooth scrolling comes to rest.
    }
    let row = h.get_by_label("Open S39").rect();
    click(&mut h, Role::Button, "Open S39");
    step_until(&mut h, "the student's details", 10, |h| {
        in_view(h, "Student 39 (S39)")
    });
    // The list stays where it was, beside the details and not under them.
    let details = h.get_by_label("Student 39 (S39)").rect();
    for (label, name) in [("Open S39", "Student 39"), ("Open S38", "Student 38")] {
        assert!(in_view(&h, label), "{label} still in view");
        assert!(
            h.get_by_label(label).rect().right() <= details.left(),
            "{label} is not under the details"
        );
        assert!(in_view(&h, name), "{name}'s name in view");
    }
    assert_eq!(
        h.get_by_label("Open S39").rect().top(),
        row.top(),
        "the row did not move up or down"
    );
    // The details scroll by themselves down to their last button.
    assert!(
        wheel_until(
            &mut h,
            details.center_bottom() + egui::vec2(0.0, 60.0),
            egui::vec2(0.0, -120.0),
            |h| in_view(h, "Delete student")
        ),
        "the wheel reaches Delete student"
    );
    assert_eq!(h.get_by_label("Open S39").rect().top(), row.top());
    assert!(
        window.contains_rect(text_field(&h, "Search").rect()),
        "the search stays at the top"
    );
    click(&mut h, Role::Button, "Open S38");
    step_until(&mut h, "the next student's details", 10, |h| {
        in_view(h, "Student 38 (S38)")
    });
    assert!(!shows(&h, "Student 39 (S39)"));
    // Which student is open is said, not only coloured: their Open button is pressed.
    let pressed = |h: &H, label: &str| h.get_by_label(label).accesskit_node().toggled();
    assert_eq!(pressed(&h, "Open S38"), Some(Toggled::True));
    assert_eq!(pressed(&h, "Open S39"), Some(Toggled::False));
    click(&mut h, Role::Button, "Close");
    assert!(!shows(&h, "Student 38 (S38)"), "closed");
    assert!(in_view(&h, "Open S38"));
    assert!(in_view(&h, "s38@example.org"), "every column back");
    assert_eq!(pressed(&h, "Open S38"), Some(Toggled::False));
    // Pressing an open student's button again closes them too.
    click(&mut h, Role::Button, "Open S38");
    step_until(&mut h, "the student's details", 10, |h| {
        in_view(h, "Student 38 (S38)")
    });
    click(&mut h, Role::Button, "Open S38");
    assert!(!shows(&h, "Student 38 (S38)"), "closed by its own button");
    assert!(in_view(&h, "s38@example.org"));
}

/// Turns the mouse wheel over `at`, `delta` a notch, until `done` holds (at most 60
/// notches); whether it holds.
fn wheel_until(h: &mut H, at: egui::Pos2, delta: egui::Vec2, done: impl Fn(&H) -> bool) -> bool {
    for _ in 0..60 {
        if done(h) {
            return true;
        }
        h.event(egui::Event::PointerMoved(at));
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
        h.step();
    }
    done(h)
}

/// A school's list: only the rows in view are laid out (a frame took 27 ms at 2,000
/// students with every row, see `rollcall-tools bench students`), yet the wheel reaches the
/// last student, a search finds anyone, and a long name is cut to its column.
#[test]
fn a_long_student_list_lays_out_only_what_is_in_view_and_reaches_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    let mut store = Store::open(&data.database()).unwrap();
    for n in 100..400 {
        add_student(&mut store, &format!("S{n}"), &format!("Student {n}"));
    }
    let long = "Maximilian Alexander von und zu Hohenzollern-Sigmaringen Fitzwilliam";
    add_student(&mut store, "S400", long);
    drop(store);
    let (mut h, window) = unlocked_in_a_small_window(data, dir.path());
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the student list", 30, |h| shows(h, "Open S100"));
    let rows = |h: &H| h.query_all_by_label_contains("Open S").count();
    assert!(
        rows(&h) < 40,
        "{} of 305 rows laid out in a 600-point window",
        rows(&h)
    );
    let last_in_view = |h: &H| {
        h.query_by_role_and_label(Role::Button, "Open S400")
            .is_some_and(|b| window.contains_rect(b.rect()))
    };
    assert!(
        wheel_until(
            &mut h,
            egui::pos2(400.0, 400.0),
            egui::vec2(0.0, -2000.0),
            last_in_view
        ),
        "the wheel reaches the last student"
    );
    assert!(!shows(&h, "Open S100"), "the first rows went out of view");
    let name = h.get_by_label(long).rect();
    let email = h.get_by_label("s400@example.org").rect();
    assert!(
        name.right() < email.left(),
        "the long name is cut short before the email ({name:?}, {email:?})"
    );
    type_into(&mut h, "Search", "s250");
    step_until(&mut h, "the one student found", 10, |h| {
        shows(h, "1 of 305 students") && shows(h, "Open S250")
    });
    assert_eq!(rows(&h), 1);
    click(&mut h, Role::Button, "Open S250");
    step_until(&mut h, "the student opened", 10, |h| {
        shows(h, "Student 250 (S250)")
    });
}

/// Text the last frame painted, each with the part of it in view (clipped by its scroll
/// area and the window).
fn painted_text(h: &H, window: egui::Rect) -> Vec<(String, egui::Rect)> {
    fn walk(shape: &egui::Shape, clip: egui::Rect, out: &mut Vec<(String, egui::Rect)>) {
        match shape {
            egui::Shape::Text(t) => {
                let seen = t.visual_bounding_rect().intersect(clip);
                if seen.is_positive() {
                    out.push((t.galley.text().to_owned(), seen));
                }
            }
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, clip, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in &h.output().shapes {
        walk(&c.shape, c.clip_rect.intersect(window), &mut out);
    }
    out
}

#[test]
fn names_and_totals_stay_in_view_while_a_long_range_is_scrolled_sideways() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    // Student A also comes every weekday of April: 27 class days in all.
    let mut store = Store::open(&data.database()).unwrap();
    let a = store.student_by_roll_no("A").unwrap().unwrap().0;
    for day in 1..=30 {
        use chrono::{Datelike, TimeZone};
        let at = chrono::Local
            .with_ymd_and_hms(2026, 4, day, 8, 30, 0)
            .unwrap();
        if at.weekday().number_from_monday() <= 5 {
            store.mark(a, at, Some(7.5), "kiosk", None).unwrap();
        }
    }
    // A long name is cut short rather than painted over the days.
    let long = "Maximilian Alexander Oyelaran-Whitfield";
    add_student(&mut store, "E", long);
    drop(store);
    let (mut h, window) = unlocked_in_a_small_window(data, dir.path());
    click(&mut h, Role::Button, "Review");
    click(&mut h, Role::RadioButton, "Custom");
    replace_text(&mut h, "From", "2026-03-01");
    replace_text(&mut h, "To", "2026-04-30");
    click(&mut h, Role::Button, "Show");
    step_until(&mut h, "the table", 30, |h| shows(h, "27 class days"));
    h.step();
    let seen = |h: &H, text: &str| {
        painted_text(h, window)
            .into_iter()
            .find(|(t, _)| t == text)
            .map(|(_, r)| r)
    };
    assert!(seen(&h, "Student A").is_some() && seen(&h, "100 %").is_some());
    assert!(
        seen(&h, "30/04").is_none(),
        "the last days start out of view"
    );
    // Sideways over the table until the last day is in view.
    let row = h.get_by_label_contains("A Student A:").rect();
    wheel_until(&mut h, row.center(), egui::vec2(-120.0, 0.0), |h| {
        seen(h, "30/04").is_some()
    });
    let last = seen(&h, "30/04").expect("the wheel brought the last day into view");
    assert!(
        seen(&h, "02/03").is_none(),
        "the first days went out of view"
    );
    let name = seen(&h, "Student A").expect("the name stays in view");
    for total in ["Present", "Absent", "100 %"] {
        assert!(seen(&h, total).is_some(), "{total} stays in view");
    }
    // No day is painted over the names, and the long one is cut short.
    let cut = painted_text(&h, window)
        .into_iter()
        .find(|(t, _)| t.starts_with("Maximilian"))
        .expect("the long name");
    assert!(cut.1.width() < 170.0, "cut to the name column: {:?}", cut.1);
    for (text, r) in painted_text(&h, window) {
        if text.len() == 5 && text.as_bytes()[2] == b'/' {
            assert!(
                r.left() >= name.right().max(cut.1.right()),
                "{text} over the names"
            );
        }
    }
    // A click in the last day's column corrects that day, as it reads on the screen.
    let cell = egui::pos2(
        last.center().x,
        h.get_by_label_contains("B Student B:").rect().center().y,
    );
    h.event(egui::Event::PointerMoved(cell));
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: cell,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    step_until(&mut h, "the correction window", 10, |h| {
        shows(h, "Correct attendance")
    });
    assert_eq!(
        text_field(&h, "Date").value().as_deref(),
        Some("2026-04-30")
    );
    assert!(shows(&h, "Student B (B)"));
}

#[test]
fn the_enrolled_count_follows_students_enrolled_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let mut h = harness(data, dir.path());
    step_until(&mut h, "the models", 120, |h| {
        shows(h, "0 students with face data")
    });
    let enrol = |roll: &str, person: &str| {
        let files: Vec<String> = photos("webcam-dev", person)[..6]
            .iter()
            .step_by(2)
            .map(|p| p.display().to_string())
            .collect();
        let mut args = vec![
            "enroll".to_string(),
            "--roll-no".into(),
            roll.into(),
            "--name".into(),
            format!("Student {person}"),
            "--email".into(),
            format!("{roll}@example.org"),
        ];
        args.extend(files);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = common::rollcall(dir.path(), &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    enrol("R1", "0002");
    step_until(&mut h, "one student", 30, |h| {
        shows(h, "1 student with face data")
    });
    enrol("R2", "0003");
    enrol("R3", "0004");
    step_until(&mut h, "three students", 30, |h| {
        shows(h, "3 students with face data")
    });
}

/// A new data folder in `dir`, and Admin → Email settings open on it (PIN 2468).
fn email_settings_screen(dir: &Path) -> (DataDir, H) {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    let mut h = harness(data.clone(), dir);
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Email settings");
    step_until(&mut h, "the email settings", 30, |h| {
        shows(h, "Mail server")
    });
    (data, h)
}

/// Chooses `choice` (the start of its words) under Security in Admin → Email settings.
fn choose_security(h: &mut H, choice: &str) {
    click(h, Role::ComboBox, "Security");
    step_until(h, "the security choices", 10, |h| says(h, choice));
    h.query_all_by(|n| n.label().is_some_and(|l| l.starts_with(choice)))
        .next()
        .expect("a security choice")
        .click_accesskit();
    h.step();
    h.key_press(egui::Key::Escape);
    h.step();
    h.step();
}

#[test]
fn email_is_set_up_in_admin_the_password_never_shown_back_and_a_test_message_sent() {
    use std::os::unix::fs::PermissionsExt;
    let (port, received) = common::smtp::smtp_server();
    let dir = tempfile::tempdir().unwrap();
    let (data, mut h) = email_settings_screen(dir.path());
    assert!(!shows(&h, "A password is saved"), "no password yet");

    replace_text(&mut h, "Mail server", "127.0.0.1");
    replace_text(&mut h, "Port", &port.to_string());
    choose_security(&mut h, "None (plain");
    replace_text(&mut h, "User name", "attendance");
    replace_text(&mut h, "Password", "s3cret-mail");
    replace_text(&mut h, "Sender", "Rollcall <attendance@school.example>");
    click(&mut h, Role::Button, "Save email settings");
    step_until(&mut h, "the settings saved", 30, |h| {
        shows(h, "Email settings saved.")
    });

    let file = data.settings();
    let saved = Settings::load(&file).unwrap().email;
    assert_eq!(saved.host, "127.0.0.1");
    assert_eq!(saved.port, port);
    assert_eq!(saved.password, "s3cret-mail");
    assert_eq!(saved.user, "attendance");
    assert_eq!(saved.security, rollcall::settings::MailSecurity::None);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only the owner may read the mail password");
    assert!(shows(
        &h,
        "A password is saved. Leave the field empty to keep it."
    ));
    assert_eq!(
        field_value(&h, "Password"),
        "",
        "the saved password is not put back on the screen"
    );
    assert!(!says(&h, "s3cret-mail"));

    type_into(&mut h, "Send a test to", "head@school.example");
    click(&mut h, Role::Button, "Send test email");
    step_until(&mut h, "the test message", 30, |h| {
        shows(h, "A test email was sent to head@school.example.")
    });
    let got = received.lock().unwrap();
    assert_eq!(got.len(), 1, "one test message");
    assert_eq!(got[0].0, vec!["head@school.example".to_string()]);

    // The saved password is kept when the form is saved again with the field empty.
    drop(got);
    click(&mut h, Role::Button, "Save email settings");
    step_until(&mut h, "the settings saved again", 30, |h| {
        shows(h, "Email settings saved.")
    });
    assert_eq!(Settings::load(&file).unwrap().email.password, "s3cret-mail");
}

/// A mail server set in settings.toml by hand while Rollcall runs (the school's IT) is
/// the one the Email settings screen shows and sends its test message through.
#[test]
fn a_mail_server_set_in_the_file_while_rollcall_runs_is_the_one_used() {
    let (port, received) = common::smtp::smtp_server();
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let mut h = harness(data.clone(), dir.path());
    set_pin(&mut h, "2468");
    std::fs::write(
        data.settings(),
        format!(
            "[email]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
             from = \"Rollcall <it@school.example>\"\n"
        ),
    )
    .unwrap();
    click(&mut h, Role::Button, "Email settings");
    step_until(&mut h, "the email settings", 30, |h| {
        shows(h, "Mail server")
    });
    step_until(&mut h, "the file's mail server", 10, |h| {
        field_value(h, "Mail server") == "127.0.0.1"
    });
    type_into(&mut h, "Send a test to", "head@school.example");
    click(&mut h, Role::Button, "Send test email");
    step_until(&mut h, "the test message", 30, |h| {
        shows(h, "A test email was sent to head@school.example.")
    });
    assert_eq!(received.lock().unwrap().len(), 1);
}

/// Email settings changed in the file while the screen is open (by hand, or by a second
/// kiosk's admin) show on the untouched form, and a Save writes only what this admin
/// changed: a sender set in the file meanwhile stays, and so does the saved password.
#[test]
fn email_settings_saved_elsewhere_show_and_are_not_saved_over() {
    let dir = tempfile::tempdir().unwrap();
    let (data, mut h) = email_settings_screen(dir.path());
    let set = |key: &str, value: &str| {
        let value = toml::Value::String(value.into());
        Settings::set_in_file(&data.settings(), "email", key, value).unwrap();
    };
    set("host", "smtp.school.example");
    set("password", "kept secret");
    step_until(&mut h, "the mail server set in the file", 30, |h| {
        field_value(h, "Mail server") == "smtp.school.example"
    });

    // The admin starts changing the subject; meanwhile the sender is set in the file.
    replace_text(&mut h, "Subject", "Your attendance this term");
    set("from", "Rollcall <it@school.example>");
    keep_drawing(&mut h, 3);
    assert_eq!(
        field_value(&h, "Subject"),
        "Your attendance this term",
        "what the admin is changing stays on screen"
    );
    click(&mut h, Role::Button, "Save email settings");
    step_until(&mut h, "the settings saved", 30, |h| {
        shows(h, "Email settings saved.")
    });
    let saved = Settings::load(&data.settings()).unwrap().email;
    assert_eq!(
        saved.subject, "Your attendance this term",
        "the admin's change"
    );
    assert_eq!(
        saved.from, "Rollcall <it@school.example>",
        "the file's change, not the form's empty sender"
    );
    assert_eq!(saved.host, "smtp.school.example");
    assert_eq!(saved.password, "kept secret");
    h.step();
    assert_eq!(
        field_value(&h, "Sender"),
        "Rollcall <it@school.example>",
        "the saved settings shown"
    );
}

#[test]
fn a_mail_server_signed_by_the_schools_own_authority_is_set_up_in_admin() {
    let server = tempfile::tempdir().unwrap();
    let (port, received, authority) = common::smtp::tls_smtp_server(server.path());
    let dir = tempfile::tempdir().unwrap();
    let (data, mut h) = email_settings_screen(dir.path());
    replace_text(&mut h, "Mail server", "127.0.0.1");
    replace_text(&mut h, "Port", &port.to_string());
    choose_security(&mut h, "TLS (usually");
    replace_text(&mut h, "Sender", "Rollcall <attendance@school.example>");
    type_into(&mut h, "Send a test to", "head@school.example");
    click(&mut h, Role::Button, "Send test email");
    step_until(&mut h, "the certificate not trusted", 30, |h| {
        says(
            h,
            "If the school signs its mail server's certificate itself",
        )
    });

    // A file that is not there is refused at saving, and nothing is saved.
    let gone = server.path().join("school-ca.pem");
    replace_text(&mut h, "CA certificate", &gone.display().to_string());
    click(&mut h, Role::Button, "Save email settings");
    step_until(&mut h, "the file refused", 30, |h| {
        says(h, "cannot be used: there is no such file")
    });
    assert_eq!(Settings::load(&data.settings()).unwrap().email.ca_file, "");

    replace_text(&mut h, "CA certificate", &authority.display().to_string());
    click(&mut h, Role::Button, "Save email settings");
    step_until(&mut h, "the settings saved", 30, |h| {
        shows(h, "Email settings saved.")
    });
    let saved = Settings::load(&data.settings()).unwrap().email;
    assert_eq!(saved.security, rollcall::settings::MailSecurity::Tls);
    // A copy is kept in the data folder: the file chosen (a USB stick's) may go.
    assert!(shows(
        &h,
        "A copy of the CA certificate is kept in Rollcall's folder"
    ));
    assert_eq!(saved.ca_file, data.mail_authority().display().to_string());
    assert_eq!(
        std::fs::read(data.mail_authority()).unwrap(),
        std::fs::read(&authority).unwrap()
    );
    std::fs::remove_file(&authority).unwrap();
    click(&mut h, Role::Button, "Send test email");
    step_until(&mut h, "the test message", 30, |h| {
        shows(h, "A test email was sent to head@school.example.")
    });
    assert_eq!(received.lock().unwrap().len(), 1, "one test message");

    // A plain connection has no certificate: the file stays in view, said to be unused.
    choose_security(&mut h, "None (plain");
    step_until(&mut h, "the authority said unused", 10, |h| {
        says(h, "Not used with Security None")
    });
    assert!(
        !says(&h, "Only if the school signs"),
        "the advice for TLS is gone"
    );
}

#[test]
fn with_several_doors_the_review_counts_one_door_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    // A came in by the north door, B and C by the south door (as a school server records).
    let conn = rusqlite::Connection::open(data.database()).unwrap();
    conn.execute_batch(
        "UPDATE attendance SET door = CASE
             (SELECT roll_no FROM students s WHERE s.id = student_id)
             WHEN 'A' THEN 'North door' ELSE 'South door' END",
    )
    .unwrap();
    drop(conn);
    let mut h = harness(data, dir.path());
    review_march(&mut h);
    step_until(&mut h, "the whole school's table", 30, |h| {
        shows(h, "A Student A: 5 present, 0 absent, 100 %")
            && shows(h, "B Student B: 4 present, 1 absent, 80 %")
    });
    h.get_by_label("Door").click();
    step_until(&mut h, "the list of doors", 10, |h| {
        h.query_by_label("North door").is_some()
    });
    h.get_by_label("North door").click();
    h.step();
    step_until(&mut h, "the north door's table", 30, |h| {
        shows(h, "A Student A: 5 present, 0 absent, 100 %")
            && shows(h, "B Student B: 0 present, 5 absent, 0 %")
            && shows(h, "5 class days")
    });
}

#[test]
fn a_typo_in_the_settings_file_is_shown_to_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let data = students_named(dir.path(), &[("1", "One")]);
    std::fs::write(
        data.settings(),
        "[kiosk]\nroom_name = \"Lab 4\"\ncooldwn_secs = 10\n",
    )
    .unwrap();
    let mut h = harness(data, dir.path());
    set_pin(&mut h, "2468");
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the note", 60, |h| {
        shows(
            h,
            "settings.toml: `kiosk.cooldwn_secs` is not a setting (ignored); did you mean \
             `kiosk.cooldown_secs`?",
        )
    });
}

#[test]
fn restoring_from_review_opens_the_daily_backups_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = class(dir.path());
    let folder = dir.path().join("backups");
    let now = chrono::Local::now();
    let today = now.date_naive();
    rollcall::store::make_daily_backup(&data, &folder, 7, now)
        .unwrap()
        .unwrap();
    let mut h = harness(data, dir.path());
    review_march(&mut h);
    step_until(&mut h, "the last backup", 30, |h| {
        shows(h, "rollcall-daily-")
    });
    click(&mut h, Role::Button, "Restore from a backup…");
    step_until(&mut h, "the picker", 10, |h| {
        shows(h, "Choose a backup file")
    });
    // Today's daily backup is there to choose, without looking for the folder.
    let entry = format!("🗋 rollcall-daily-{today}.rollcall");
    step_until(&mut h, "the daily backup in the picker", 10, |h| {
        h.query_by_label(&entry).is_some()
    });
}

#[test]
fn new_camera_frames_repaint_only_the_screens_that_show_the_camera() {
    let dir = tempfile::tempdir().unwrap();
    let data = with_student_two(dir.path());
    let mut h = harness(data, dir.path());
    step_until(&mut h, "the video", 60, |h| shows(h, "Camera view"));
    assert!(
        h.state().kiosk.video_shown(),
        "the kiosk screen shows the video"
    );
    set_pin(&mut h, "2468");
    // Enrolment has a camera view for its captures.
    assert!(shows(&h, "Camera view"));
    assert!(h.state().kiosk.video_shown());
    click(&mut h, Role::Button, "Students");
    step_until(&mut h, "the list", 30, |h| shows(h, "Student Two"));
    assert!(
        !h.state().kiosk.video_shown(),
        "the list has no video: frames wait for its own repaints"
    );
    // An opened student has a camera view (for "Add a camera photo").
    h.get_by_role_and_label(Role::Button, "Open R0002")
        .click_accesskit();
    step_until(&mut h, "the student's details", 30, |h| {
        shows(h, "Add a camera photo")
    });
    assert!(h.state().kiosk.video_shown());
    // Its pictures are a recording's, and the view says so in its short words.
    step_until(&mut h, "the recording's tag", 30, |h| {
        h.query_all_by_label("A recording, not the camera")
            .next()
            .is_some()
    });
    click(&mut h, Role::Button, "Review");
    assert!(!h.state().kiosk.video_shown(), "Review has no video");
    click(&mut h, Role::Button, "Lock");
    assert!(h.state().kiosk.video_shown(), "back at the door, the video");
}

/// A class list `class/class.csv` of `lines`, beside webcam frames copied below `class/`
/// as (person, frame, where); the admin screens turned to Students.
fn class_list(h: &mut H, dir: &Path, photos_at: &[(&str, usize, &str)], lines: &str) -> PathBuf {
    click(h, Role::Button, "Students");
    let list = dir.join("class");
    for (person, frame, at) in photos_at {
        let to = list.join(at);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&photos("webcam-dev", person)[*frame], to).unwrap();
    }
    let csv = list.join("class.csv");
    std::fs::write(&csv, lines).unwrap();
    csv
}

/// Imports `csv` as "Import…" does once its dialog returns the file, up to the question
/// about photos found by file name.
fn import_until_asked(h: &mut H, csv: &Path) {
    let app = h.state_mut();
    app.admin.start_import(&app.kiosk, csv.to_path_buf());
    step_until(h, "the question", 60, |h| shows(h, "Nothing imported yet"));
}

/// A class list naming photos without their folder: the admin is asked first whether the
/// photos found below it by file name are to be used, a folder that holds a single one
/// (perhaps an old class's, of another student of that name) first; once they are, told
/// where each came from.
#[test]
fn an_import_asks_before_using_photos_not_where_the_list_says_and_says_where_they_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    let csv = class_list(
        &mut h,
        dir.path(),
        &[
            ("0004", 0, "photos/ana-1.jpg"),
            ("0004", 8, "photos/ana-2.jpg"),
            ("0006", 44, "2023/3b/zoe.jpg"),
        ],
        "R1,Ana,ana@example.org,ana-1.jpg,ana-2.jpg\nR2,Zoe,zoe@example.org,zoe.jpg\n",
    );
    let notes = |h: &H| -> Vec<String> {
        h.query_all_by_label_contains("not where the list says")
            .filter_map(|n| n.accesskit_node().value())
            .collect()
    };
    for answer in ["Cancel the import", "Import with these photos"] {
        import_until_asked(&mut h, &csv);
        let asked = notes(&h);
        assert!(asked[0].starts_with("Nothing imported yet: some photos are not where"));
        assert_eq!(
            asked[1..],
            [
                "1 photo not where the list says is in 2023/3b/: line 2 (R2) zoe.jpg.",
                "2 photos not where the list says are in photos/: line 1 (R1) ana-1.jpg, \
                 line 1 (R1) ana-2.jpg."
            ]
        );
        let db = dir.path().join("rollcall.db");
        assert!(
            Store::open(&db).unwrap().students().unwrap().is_empty(),
            "nothing imported yet"
        );
        click(&mut h, Role::Button, answer);
        if answer == "Cancel the import" {
            assert!(shows(&h, "Import cancelled: nothing was imported."));
        }
    }
    step_until(&mut h, "the import", 120, |h| shows(h, "Imported "));
    assert!(shows(&h, "Imported 2 students."));
    assert!(!shows(&h, "Nothing imported yet"));
    assert_eq!(
        notes(&h),
        [
            "1 photo not where the list says was taken from 2023/3b/ by file name: line 2 \
             (R2) zoe.jpg. Check it is this student's photo, not another's of that name.",
            "2 photos not where the list says were taken from photos/ by file name: line 1 \
             (R1) ana-1.jpg, line 1 (R1) ana-2.jpg. Check they are these students' photos."
        ]
    );
}

/// The buttons under a screen's camera view keep their identity as the view's notices
/// come and go (a recording's tag, "Getting ready…", "The recording has ended."): a click
/// through the accessibility tree, as a screen reader's, aims at the identity it found,
/// and one that changed the next frame was lost (a CI run's "Add from files…" did nothing
/// when the tag came with the first picture).
#[test]
fn the_buttons_under_a_camera_view_keep_their_identity_as_its_notices_come_and_go() {
    use rollcall::kiosk::CameraStatus;
    use rollcall::ui::kiosk::Recognition;
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    step_until(&mut h, "the recording's picture", 60, |h| {
        h.query_all_by_label("A recording, not the camera")
            .next()
            .is_some()
            && h.state().view.recognition != Recognition::Loading
    });
    let id = |h: &H| {
        h.get_by_role_and_label(Role::Button, "Add from files…")
            .accesskit_node()
            .id()
    };
    let playing = id(&h);
    let live = h.state().view.camera.clone();
    for camera in [CameraStatus::Starting, CameraStatus::Ended, live] {
        h.state_mut().view.camera = camera.clone();
        h.step();
        assert_eq!(id(&h), playing, "{camera:?}");
    }
    h.state_mut().view.recognition = Recognition::Loading;
    h.step();
    assert!(shows(&h, "Getting ready…"));
    assert_eq!(id(&h), playing, "getting ready");
}

/// A class list without emails takes the email domain typed beside Import… (roll number
/// at the domain), and the field says, when hovered, what it is for.
#[test]
fn a_list_without_emails_is_imported_with_the_domain_typed_beside_import() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    let csv = class_list(
        &mut h,
        dir.path(),
        &[("0004", 0, "ana.jpg")],
        "R1,Ana,,ana.jpg\n",
    );
    text_field(&h, "Email domain").hover();
    step_until(&mut h, "what the field is for", 10, |h| {
        shows(
            h,
            "For Import…: a student of the list without an email is given",
        )
    });
    type_into(&mut h, "Email domain", "school.example");
    let app = h.state_mut();
    app.admin.start_import(&app.kiosk, csv);
    step_until(&mut h, "the import", 120, |h| shows(h, "Imported "));
    assert!(shows(&h, "Imported 1 student."));
    let db = dir.path().join("rollcall.db");
    let students = Store::open(&db).unwrap().students().unwrap();
    assert_eq!(students[0].email, "R1@school.example");
}

/// The list is read again when the admin answers: one edited meanwhile, so that it finds
/// photos the admin was not shown, is asked about again before anything is imported.
#[test]
fn a_list_edited_after_the_question_is_asked_about_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    let csv = class_list(
        &mut h,
        dir.path(),
        &[
            ("0004", 0, "photos/ana.jpg"),
            ("0006", 44, "2023/3b/zoe.jpg"),
        ],
        "R1,Ana,ana@example.org,ana.jpg\n",
    );
    import_until_asked(&mut h, &csv);
    assert!(shows(&h, "is in photos/: line 1 (R1) ana.jpg."));
    // Meanwhile someone adds Zoe, whose photo is found in an old class's folder.
    std::fs::write(
        &csv,
        "R1,Ana,ana@example.org,ana.jpg\nR2,Zoe,zoe@example.org,zoe.jpg\n",
    )
    .unwrap();
    click(&mut h, Role::Button, "Import with these photos");
    step_until(&mut h, "the question again", 60, |h| {
        shows(h, "is in 2023/3b/: line 2 (R2) zoe.jpg.")
    });
    assert!(shows(&h, "Nothing imported yet"));
    let db = dir.path().join("rollcall.db");
    assert!(Store::open(&db).unwrap().students().unwrap().is_empty());
    click(&mut h, Role::Button, "Import with these photos");
    step_until(&mut h, "the import", 120, |h| shows(h, "Imported "));
    assert!(shows(&h, "Imported 2 students."));
}

/// Asked about photos found by file name, the admin may import without them: each student
/// is enrolled from the photos that are where the list says, and told which were left out;
/// a student left with none is not imported, saying why.
#[test]
fn an_import_without_the_photos_found_by_name_enrols_from_the_others_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = unlocked_empty_school(dir.path());
    let csv = class_list(
        &mut h,
        dir.path(),
        &[
            ("0004", 0, "photos/ana.jpg"),
            ("0004", 8, "2023/3b/ana-old.jpg"),
            ("0006", 44, "2023/3b/zoe.jpg"),
        ],
        "R1,Ana,ana@example.org,photos/ana.jpg,ana-old.jpg\nR2,Zoe,zoe@example.org,zoe.jpg\n",
    );
    import_until_asked(&mut h, &csv);
    click(&mut h, Role::Button, "Import without these photos");
    step_until(&mut h, "the import", 120, |h| shows(h, "Imported "));
    assert!(shows(&h, "Imported 1 student."));
    assert!(shows(
        &h,
        "Not used: line 1 (R1): ana-old.jpg: not where the list says; the photo of that \
         name in 2023/3b/ was left out, as chosen"
    ));
    assert!(shows(
        &h,
        "Not imported: line 2 (R2): No images found. zoe.jpg: not where the list says; the \
         photo of that name in 2023/3b/ was left out, as chosen"
    ));
    assert!(
        !shows(&h, "taken from 2023/3b/"),
        "nothing was taken by name"
    );
    assert_eq!(photo_count(dir.path(), "R1"), 1, "Ana from her one photo");
    assert_eq!(photo_count(dir.path(), "R2"), 0, "Zoe not imported");
}
