//! `rollcall serve` over real HTTP on 127.0.0.1: every status and message of the old
//! contract, with real photos through the real models.

use crate::common;

use common::bad_files::{bad_photos, BadPhoto, Expect};
use common::smtp::{mail_settings, smtp_server};
use common::{faceless_jpeg, open_service, people_with_at_least, photos, truncated_jpeg};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use rollcall::api::ApiState;
use rollcall::data_dir::DataDir;
use rollcall::settings::Settings;
use rollcall::store::Store;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Starts the server on a free loopback port; returns its base URL.
async fn start(dir: &Path, token: Option<&str>) -> String {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    let settings = Settings::load(&data.settings()).unwrap();
    start_with(dir, settings, token).await
}

/// Starts the server with these settings on a free loopback port; returns its base URL.
async fn start_with(dir: &Path, settings: Settings, token: Option<&str>) -> String {
    let data = DataDir::resolve(Some(dir)).create().unwrap();
    let token = token.map(String::from);
    let state = tokio::task::spawn_blocking(move || ApiState::open(data, settings, token).unwrap())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { rollcall::api::serve(listener, state).await });
    url
}

fn image(path: &Path) -> Part {
    Part::bytes(std::fs::read(path).unwrap())
        .file_name(path.file_name().unwrap().to_string_lossy().into_owned())
}

fn upload_form(roll: &str, name: &str, email: &str, files: &[PathBuf]) -> Form {
    let mut form = Form::new()
        .text("rollno", roll.to_string())
        .text("name", name.to_string())
        .text("email", email.to_string());
    for f in files {
        form = form.part("images", image(f));
    }
    form
}

async fn post(url: &str, path: &str, form: Form) -> (StatusCode, String) {
    let (status, v) = post_json(url, path, form).await;
    (
        status,
        v["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// Posts a form; the status and the whole JSON answer.
async fn post_json(url: &str, path: &str, form: Form) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn mark(url: &str, file: Part) -> (StatusCode, String) {
    post(url, "/attendance", Form::new().part("file", file)).await
}

/// The server with Ada enrolled from five photos; returns its URL and all her photos.
async fn start_with_ada(dir: &Path) -> (String, Vec<PathBuf>) {
    let url = start(dir, None).await;
    let ada = person(3);
    post(
        &url,
        "/upload",
        upload_form("R1", "Ada", "ada@example.org", &ada[..5]),
    )
    .await;
    (url, ada)
}

fn person(i: usize) -> Vec<PathBuf> {
    photos("lfw-dev", &people_with_at_least("lfw-dev", 8)[i])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_answers_with_the_old_messages_and_codes() {
    let dir = tempfile::tempdir().unwrap();
    let url = start(dir.path(), None).await;
    let ada = person(3);

    let ok = post(
        &url,
        "/upload",
        upload_form("R1", "Ada", "ada@example.org", &ada[..5]),
    )
    .await;
    assert_eq!(
        ok,
        (
            StatusCode::OK,
            "User added successfully & training started".into()
        )
    );

    let none = post(
        &url,
        "/upload",
        upload_form("R2", "Bo", "bo@example.org", &[]),
    )
    .await;
    assert_eq!(none, (StatusCode::BAD_REQUEST, "No images found".into()));

    let eleven: Vec<PathBuf> = (0..11).map(|i| ada[i % ada.len()].clone()).collect();
    let many = post(
        &url,
        "/upload",
        upload_form("R2", "Bo", "bo@example.org", &eleven),
    )
    .await;
    assert_eq!(
        many,
        (
            StatusCode::BAD_REQUEST,
            "Maximum 10 images are allowed".into()
        )
    );

    let blank = post(
        &url,
        "/upload",
        upload_form("R2", " ", "bo@example.org", &ada[..2]),
    )
    .await;
    assert_eq!(blank, (StatusCode::BAD_REQUEST, "Invalid data".into()));
    let no_fields = post(&url, "/upload", Form::new().part("images", image(&ada[0]))).await;
    assert_eq!(no_fields, (StatusCode::BAD_REQUEST, "Invalid data".into()));

    let again = post(
        &url,
        "/upload",
        upload_form("R1", "Ada", "other@example.org", &ada[..2]),
    )
    .await;
    assert_eq!(
        again,
        (StatusCode::BAD_REQUEST, "User already exists".into())
    );

    // Not multipart at all: a malformed request is "Invalid data", never a 500.
    let r = reqwest::Client::new()
        .post(format!("{url}/upload"))
        .body("rollno=R9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "Invalid data");

    // The photos folder has become a file: the enrolment cannot be saved.
    std::fs::remove_dir_all(dir.path().join("photos")).unwrap();
    std::fs::write(dir.path().join("photos"), b"not a folder").unwrap();
    let broken = post(
        &url,
        "/upload",
        upload_form("R3", "Cy", "cy@example.org", &person(5)[..2]),
    )
    .await;
    assert_eq!(
        broken,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error".into()
        )
    );
    let store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    assert_eq!(store.students().unwrap().len(), 1, "nothing half-written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendance_answers_with_the_old_messages_and_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (url, ada) = start_with_ada(dir.path()).await;

    assert_eq!(
        mark(&url, image(&ada[6])).await,
        (StatusCode::OK, "Attendance marked successfully".into())
    );
    assert_eq!(
        mark(&url, image(&ada[6])).await,
        (StatusCode::NOT_FOUND, "Student attendance is marked".into())
    );
    let wall = Part::bytes(faceless_jpeg()).file_name("wall.jpg");
    assert_eq!(
        mark(&url, wall).await,
        (StatusCode::NOT_FOUND, "No face found".into())
    );
    let stranger = photos("lfw-dev", &people_with_at_least("lfw-dev", 8)[40])[0].clone();
    assert_eq!(
        mark(&url, image(&stranger)).await,
        (StatusCode::NOT_FOUND, "User not found".into())
    );
    let broken = Part::bytes(truncated_jpeg(&ada[0])).file_name("broken.jpg");
    assert_eq!(
        mark(&url, broken).await,
        (StatusCode::BAD_REQUEST, "Invalid data".into())
    );
    let missing = post(&url, "/attendance", Form::new().text("something", "else")).await;
    assert_eq!(missing, (StatusCode::BAD_REQUEST, "Invalid data".into()));

    // An admin records Ada absent (she went home): her photo no longer marks her today.
    let (store, _) = common::only_student_sent_home(dir.path());
    let today = chrono::Local::now().date_naive();
    assert_eq!(
        mark(&url, image(&ada[6])).await,
        (
            StatusCode::NOT_FOUND,
            "Today's attendance was recorded by the teacher".into()
        )
    );
    assert!(store.attendance(today, today).unwrap().is_empty());

    // A database that lost its attendance table cannot record: 500, with no internals.
    let db = rusqlite::Connection::open(dir.path().join("rollcall.db")).unwrap();
    db.execute_batch("DROP TABLE attendance").unwrap();
    let ben = person(5);
    post(
        &url,
        "/upload",
        upload_form("R2", "Ben", "ben@example.org", &ben[..5]),
    )
    .await;
    assert_eq!(
        mark(&url, image(&ben[6])).await,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_clock_went_back_marks_nobody_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (url, ada) = start_with_ada(dir.path()).await;
    // Ada was marked here a week ahead of today's date: the clock has gone back since (or
    // was ahead then).
    let mut store = Store::open(&dir.path().join("rollcall.db")).unwrap();
    let id = store.students().unwrap()[0].id;
    let ahead = chrono::Local::now() + chrono::Duration::days(7);
    store.mark(id, ahead, Some(7.0), "api", None).unwrap();
    let (status, answer) = post_json(
        &url,
        "/attendance",
        Form::new().part("file", image(&ada[6])),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer["message"], "Internal server error");
    let reason = answer["reason"].as_str().unwrap_or_default();
    let today = chrono::Local::now().date_naive();
    assert!(
        reason.contains(&format!("This computer's date is {today}"))
            && reason.contains(&ahead.date_naive().to_string())
            && reason.contains("clock is wrong"),
        "{answer}"
    );
    assert!(
        store.attendance(today, today).unwrap().is_empty(),
        "nobody marked today"
    );

    // The mark made while the clock was ahead is removed: the photo marks Ada today.
    assert_eq!(store.remove_future_marks(today, "admin").unwrap(), 1);
    assert_eq!(
        mark(&url, image(&ada[6])).await,
        (StatusCode::OK, "Attendance marked successfully".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_locked_by_another_program_is_said_to_the_client_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (url, ada) = start_with_ada(dir.path()).await;
    let other = rusqlite::Connection::open(dir.path().join("rollcall.db")).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // Held for longer than the busy timeout: the old message, and what to do.
    let busy = |answer: &(StatusCode, Value)| {
        answer.0 == StatusCode::INTERNAL_SERVER_ERROR
            && answer.1["message"] == "Internal server error"
            && answer.1["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("The attendance database is busy"))
    };
    let marking = post_json(
        &url,
        "/attendance",
        Form::new().part("file", image(&ada[6])),
    )
    .await;
    assert!(busy(&marking), "{marking:?}");
    let bob = person(4);
    let enrolling = post_json(
        &url,
        "/upload",
        upload_form("R2", "Bob", "bob@example.org", &bob[..5]),
    )
    .await;
    assert!(busy(&enrolling), "{enrolling:?}");
    other.execute_batch("ROLLBACK").unwrap();
    // Freed, both go through.
    assert_eq!(
        mark(&url, image(&ada[6])).await,
        (StatusCode::OK, "Attendance marked successfully".into())
    );
    let (status, _) = post(
        &url,
        "/upload",
        upload_form("R2", "Bob", "bob@example.org", &bob[..5]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// An answer to `/attendance`: status, message and `Retry-After`.
type Answer = (StatusCode, String, Option<String>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_marks_make_one_row_and_the_overflow_is_told_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let (url, ada) = start_with_ada(dir.path()).await;
    let probe = std::fs::read(&ada[6]).unwrap();
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (url, probe, client) = (url.clone(), probe.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(format!("{url}/attendance"))
                .multipart(Form::new().part("file", Part::bytes(probe).file_name("door.jpg")))
                .send()
                .await
                .unwrap();
            let status = r.status();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let v: Value = r.json().await.unwrap();
            (
                status,
                v["message"].as_str().unwrap_or_default().to_string(),
                retry,
            )
        }));
    }
    // Meanwhile the dashboard still reads.
    let r = client.get(format!("{url}/getdata")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let count = |f: &dyn Fn(&Answer) -> bool| answers.iter().filter(|a| f(a)).count();
    let marked = count(&|a| a.1 == "Attendance marked successfully");
    let already = count(&|a| a.0 == StatusCode::NOT_FOUND && a.1 == "Student attendance is marked");
    let busy = count(&|a| a.0 == StatusCode::SERVICE_UNAVAILABLE && a.2.as_deref() == Some("1"));
    assert_eq!(marked, 1, "{answers:?}");
    assert_eq!(
        marked + already + busy,
        200,
        "only these answers: {answers:?}"
    );
    assert!(
        busy > 0,
        "200 at once overflow a queue of 32: some are told to retry"
    );
    assert_eq!(
        common::marks_made(&Store::open(&dir.path().join("rollcall.db")).unwrap()),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getdata_mail_cors_token_and_openapi() {
    let dir = tempfile::tempdir().unwrap();
    let (port, received) = smtp_server();
    mail_settings(dir.path(), port);
    let url = start(dir.path(), Some("s3cret")).await;
    let client = reqwest::Client::new();
    let auth = |r: reqwest::RequestBuilder| r.header("Authorization", "Bearer s3cret");

    // Without the token the protected endpoints refuse; /attendance stays open.
    let r = client.get(format!("{url}/getdata")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let ada = person(3);
    let r = auth(client.post(format!("{url}/upload")))
        .multipart(upload_form("R1", "Ada", "ada@example.org", &ada[..5]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(mark(&url, image(&ada[6])).await.0, StatusCode::OK);

    let v: Value = auth(client.get(format!("{url}/getdata")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let today = chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(v["ids"], serde_json::json!(["R1"]));
    assert_eq!(v["unique_dates"], serde_json::json!([today]));
    assert_eq!(v["data"], serde_json::json!([{ "id": "R1", "dates": [1] }]));

    // Today's classes may not be over: it is not counted, and nothing is sent.
    let send_all = || async {
        let r = auth(client.post(format!("{url}/sendmailall")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["message"].clone()
    };
    assert_eq!(
        send_all().await,
        "Nobody was mailed: no class day is over yet (today counts once its classes are over)."
    );
    assert!(received.lock().unwrap().is_empty());
    // Ada also came yesterday: a day over, reported.
    came_yesterday(dir.path(), "R1");
    assert_eq!(send_all().await, "Mail sent successfully");
    let r = auth(client.post(format!("{url}/sendmaillees")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got = received.lock().unwrap().clone();
    assert_eq!(
        got.len(),
        1,
        "Ada (100 %) gets the report for everyone, not the one for those under 85 %"
    );
    assert!(
        got[0]
            .1
            .contains("you were present on 1 of 1 class day: 100 % attendance"),
        "yesterday only: {}",
        got[0].1
    );

    // The old React client runs on another port.
    let r = client
        .request(reqwest::Method::OPTIONS, format!("{url}/attendance"))
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );

    let doc: Value = client
        .get(format!("{url}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/upload",
        "/attendance",
        "/getdata",
        "/sendmailall",
        "/sendmaillees",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is described");
    }
    assert_eq!(
        doc["paths"]["/attendance"]["post"]["responses"]["404"]["description"],
        "No face found | User not found | Student attendance is marked | Today's attendance was recorded by the teacher"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_with_no_reachable_server_is_an_internal_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    mail_settings(dir.path(), port);
    // Somebody to mail, so the server is needed.
    common::class_of_four(&dir.path().join("rollcall.db"));
    let url = start(dir.path(), None).await;
    let r = reqwest::Client::new()
        .post(format!("{url}/sendmailall"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "Internal server error"
    );
}

/// Damaged, huge and odd photos and odd fields (generated as in tests/bad_input.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_photo_and_field_gets_a_clear_answer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let frames: Vec<rollcall::attendance::PhotoInput> = photos("webcam-dev", "0001")[..3]
            .iter()
            .map(|p| rollcall::attendance::PhotoInput::read(p).unwrap())
            .collect();
        open_service(&d)
            .enroll("R1", "Student One", "one@example.org", &frames, "test")
            .unwrap();
    })
    .await
    .unwrap();
    let url = start(dir.path(), None).await;
    for BadPhoto {
        name,
        bytes,
        expect,
    } in bad_photos(&photos("webcam-dev", "0001")[30])
    {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name));
        let (status, message) = post(&url, "/attendance", form).await;
        let status = status.as_u16();
        assert!(status < 500, "{name}: {status} {message}");
        assert!(!message.is_empty(), "{name}: a message");
        match expect {
            Expect::Unreadable(_) => assert_eq!(status, 400, "{name}: {message}"),
            Expect::NoFace => assert_eq!(message, "No face found", "{name}"),
            Expect::Usable => assert!(
                message == "Attendance marked successfully"
                    || message == "Student attendance is marked",
                "{name}: {message}"
            ),
            Expect::Crowd | Expect::Either => {}
        }
    }
    let photo = std::fs::read(&photos("webcam-dev", "0003")[0]).unwrap();
    let huge = "x".repeat(1 << 20);
    for (roll, name, email, expected) in [
        (
            "1; DROP TABLE students",
            "Zoë 😀",
            "zoe@example.org",
            "User added successfully & training started",
        ),
        (huge.as_str(), "Huge", "huge@example.org", "Invalid data"),
        ("", "Empty", "empty@example.org", "Invalid data"),
        ("R-7", "Bad Email", "no-at-sign", "Invalid data"),
    ] {
        let form = Form::new()
            .text("rollno", roll.to_string())
            .text("name", name.to_string())
            .text("email", email.to_string())
            .part("images", Part::bytes(photo.clone()).file_name("a.jpg"));
        let (_, message) = post(&url, "/upload", form).await;
        assert_eq!(message, expected, "{}", &roll[..roll.len().min(30)]);
    }
    assert_eq!(
        Store::open(&dir.path().join("rollcall.db"))
            .unwrap()
            .students()
            .unwrap()
            .len(),
        2
    );
}

/// `POST /attendance` with a faceless photo and this `Authorization` header: the status.
async fn knock(url: &str, bearer: Option<&str>) -> StatusCode {
    let mut r = reqwest::Client::new().post(format!("{url}/attendance"));
    if let Some(t) = bearer {
        r = r.header("Authorization", format!("Bearer {t}"));
    }
    let form = Form::new().part("file", Part::bytes(faceless_jpeg()).file_name("door.jpg"));
    r.multipart(form).send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendance_needs_a_door_credential_once_doors_are_configured() {
    // Open by default, as the old door clients expect.
    let dir = tempfile::tempdir().unwrap();
    let url = start(dir.path(), None).await;
    assert_eq!(
        knock(&url, None).await,
        StatusCode::NOT_FOUND,
        "No face found"
    );

    // With door tokens: none, a wrong one, or a revoked one is refused before any work.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.api.door_tokens = vec!["north-door-7f3a".into(), "south-door-91c2".into()];
    let url = start_with(dir.path(), settings, Some("admin-s3cret")).await;
    assert_eq!(knock(&url, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        knock(&url, Some("east-door-old")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        knock(&url, Some("north-door-7f3a")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        knock(&url, Some("south-door-91c2")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        knock(&url, Some("admin-s3cret")).await,
        StatusCode::NOT_FOUND
    );
    // A door token is not an admin token.
    let r = reqwest::Client::new()
        .get(format!("{url}/getdata"))
        .header("Authorization", "Bearer north-door-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // A door client that cannot send a header is let in by its address, others are not.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.api.door_addresses = vec!["127.0.0.1".into()];
    let url = start_with(dir.path(), settings, None).await;
    assert_eq!(knock(&url, None).await, StatusCode::NOT_FOUND);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.api.door_addresses = vec!["10.0.0.9".into()];
    let url = start_with(dir.path(), settings, None).await;
    assert_eq!(knock(&url, None).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_token_deleted_from_the_settings_file_is_refused_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    let with_tokens = |tokens: &[&str]| {
        let mut settings = Settings::default();
        settings.api.door_tokens = tokens.iter().map(|t| t.to_string()).collect();
        std::fs::write(data.settings(), toml::to_string(&settings).unwrap()).unwrap();
    };
    with_tokens(&["north-door-7f3a", "south-door-91c2"]);
    let url = start(dir.path(), None).await;
    assert_eq!(
        knock(&url, Some("south-door-91c2")).await,
        StatusCode::NOT_FOUND
    );
    // The south door's token is lost: the admin deletes it and adds a new one.
    with_tokens(&["north-door-7f3a", "south-door-new-5d0e"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while knock(&url, Some("south-door-91c2")).await != StatusCode::UNAUTHORIZED {
        assert!(
            std::time::Instant::now() < deadline,
            "the deleted token still marks 5 s later"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        knock(&url, Some("south-door-new-5d0e")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        knock(&url, Some("north-door-7f3a")).await,
        StatusCode::NOT_FOUND
    );
    // A settings file that cannot be read keeps the doors as they were, never open.
    std::fs::write(data.settings(), "[api\nthis is not toml").unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(knock(&url, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        knock(&url, Some("north-door-7f3a")).await,
        StatusCode::NOT_FOUND
    );
    std::fs::remove_file(data.settings()).unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(knock(&url, None).await, StatusCode::UNAUTHORIZED);
}

/// Makes the student `roll_no` (enrolled today over the API) enrolled two days ago and
/// marked yesterday: a class day that is over, which reports count (today's is not).
fn came_yesterday(dir: &Path, roll_no: &str) {
    let db = dir.join("rollcall.db");
    let yesterday = chrono::Local::now() - chrono::Duration::days(1);
    let two_days_ago = (yesterday - chrono::Duration::days(1)).to_rfc3339();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE students SET enrolled_at = ?1 WHERE roll_no = ?2",
            [two_days_ago.as_str(), roll_no],
        )
        .unwrap();
    let mut store = Store::open(&db).unwrap();
    let id = common::student_named(&store, roll_no).unwrap().id;
    store.mark(id, yesterday, Some(7.5), "kiosk", None).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_needs_no_server_when_nobody_is_to_be_mailed_and_names_the_missing_setting() {
    // Everyone is at 100 %: nobody under 85 %, and the (unreachable) mail server is not
    // contacted.
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    mail_settings(dir.path(), port);
    let (url, _) = start_with_ada(dir.path()).await;
    came_yesterday(dir.path(), "R1");
    let r = reqwest::Client::new()
        .post(format!("{url}/sendmaillees"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message"], "Nobody was mailed: no student is under 85 %.");
    assert_eq!(v["sent"], 0);

    // Mail not set up, somebody to mail: the answer names the setting.
    let dir = tempfile::tempdir().unwrap();
    common::class_of_four(&dir.path().join("rollcall.db"));
    let url = start(dir.path(), None).await;
    let r = reqwest::Client::new()
        .post(format!("{url}/sendmailall"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message"], "Mail is not set up");
    assert_eq!(v["setting"], "email.host");
    assert!(v["reason"].as_str().unwrap().contains("[email]"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_answers_say_which_photos_were_not_used_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let url = start(dir.path(), None).await;
    let frames = photos("webcam-dev", "0001");
    let part = |name: &str, bytes: Vec<u8>| Part::bytes(bytes).file_name(name.to_string());
    let form = Form::new()
        .text("rollno", "R1")
        .text("name", "Ada")
        .text("email", "ada@example.org")
        .part("images", image(&frames[0]))
        .part("images", part("empty-wall.jpg", faceless_jpeg()))
        .part("images", image(&frames[40]))
        .part("images", part("broken.jpg", b"not a photo at all".to_vec()));
    let (status, v) = post_json(&url, "/upload", form).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["message"], "User added successfully & training started");
    assert_eq!(v["photos_used"], 2, "{v}");
    assert_eq!(
        v["looks_like"],
        json!([]),
        "the first student looks like nobody"
    );
    let unused = v["photos_not_used"].as_array().unwrap();
    let names: Vec<&str> = unused
        .iter()
        .map(|p| p["photo"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["empty-wall.jpg", "broken.jpg"]);
    assert!(
        unused
            .iter()
            .all(|p| !p["reason"].as_str().unwrap().is_empty()),
        "{v}"
    );

    // No usable photo: 400 with the reasons, and nothing stored.
    let form = Form::new()
        .text("rollno", "R2")
        .text("name", "Bo")
        .text("email", "bo@example.org")
        .part("images", part("empty-wall.jpg", faceless_jpeg()));
    let (status, v) = post_json(&url, "/upload", form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["message"], "Invalid data");
    assert_eq!(v["photos_not_used"][0]["photo"], "empty-wall.jpg");
    assert!(
        v["reason"].as_str().unwrap().contains("nothing was stored"),
        "{v}"
    );
    let students = Store::open(&dir.path().join("rollcall.db"))
        .unwrap()
        .students()
        .unwrap();
    assert_eq!(students.len(), 1, "only Ada");

    // Ada again under another roll number: enrolled (as the old system did), with the
    // student she looks like named.
    let again = upload_form(
        "R3",
        "Ada again",
        "ada.again@example.org",
        &[frames[20].clone(), frames[30].clone()],
    );
    let (status, v) = post_json(&url, "/upload", again).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v["looks_like"],
        json!([{ "rollno": "R1", "name": "Ada" }]),
        "{v}"
    );
}

/// A folder linked to a school server that it has not reached yet does not know whether
/// its login may enrol: `/upload` answers 503 (come back later) with the reason as its
/// message, and stores nothing, instead of "Internal server error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_at_a_linked_folder_not_yet_connected_is_told_to_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::resolve(Some(dir.path())).create().unwrap();
    Store::open(&data.database()).unwrap();
    rusqlite::Connection::open(data.database())
        .unwrap()
        .execute(
            "UPDATE school_link SET linked = 1, door = 'North door', login = 'north', \
             office = NULL",
            [],
        )
        .unwrap();
    let url = start(dir.path(), None).await;
    let (status, answer) = post_json(
        &url,
        "/upload",
        upload_form("R1", "Ada", "ada@example.org", &person(3)[..3]),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    for key in ["message", "reason"] {
        assert!(
            answer[key].as_str().is_some_and(|r| r.starts_with(
                "Enrolling a student waits until this computer has reached the school server"
            )),
            "{answer}"
        );
    }
    let store = Store::open(&data.database()).unwrap();
    assert!(store.students().unwrap().is_empty());
}
