//! Several doors on one school server: how fast marks reach PostgreSQL from N doors, and how
//! long an enrolment at the office takes to reach a door. Each door is a real data folder
//! with its real link thread; the marks and students are synthetic (no faces involved).

use anyhow::Context;
use rollcall::store::school::{sync_once, SchoolLink, SchoolServer};
use rollcall::store::{NewPhoto, NewStudent, Store};
use serde::Serialize;
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

/// One row of the table.
#[derive(Serialize, Debug)]
pub struct SchoolRow {
    pub doors: usize,
    /// Marks made at the doors while the server was down, then delivered.
    pub marks: usize,
    /// Marks per second into the server while the doors deliver their backlog.
    pub marks_per_s: f64,
    /// From an enrolment saved at the office to the student in every door's gallery.
    pub enrol_to_door_ms_p50: f64,
    pub enrol_to_door_ms_p95: f64,
}

/// A template of the size dlib's model makes, different per student.
fn template(i: usize) -> Vec<f32> {
    (0..128)
        .map(|k| ((i * 131 + k) % 97) as f32 / 97.0)
        .collect()
}

fn student(i: usize, tag: &str) -> NewStudent {
    NewStudent {
        roll_no: format!("{tag}{i:05}"),
        name: format!("Bench Student {i}"),
        email: format!("{tag}{i}@bench.invalid"),
    }
}

fn photo(i: usize) -> NewPhoto {
    NewPhoto {
        file_name: format!("bench-{i}.jpg"),
        origin: "upload".into(),
        templates: vec![("bench-model".into(), template(i))],
    }
}

fn server(url: &str, door: &str) -> SchoolServer {
    SchoolServer {
        url: url.into(),
        door: door.into(),
        ca_file: None,
    }
}

fn folder(root: &Path, name: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("photos"))?;
    Ok((dir.join("rollcall.db"), dir.join("photos")))
}

/// Runs the benchmark for each number of doors, each on a fresh set of data folders; the
/// server at `url` should be a scratch database (students named "Bench Student" are added).
pub fn school(url: &str, doors: &[usize], marks_per_door: usize) -> anyhow::Result<Vec<SchoolRow>> {
    let mut rows = Vec::new();
    for (run, &n) in doors.iter().enumerate() {
        let root = tempfile_dir()?;
        let tag = format!("B{run}x{}", std::process::id());
        // The office enrols the class and sends it.
        let (office_db, office_photos) = folder(&root, "office")?;
        let mut office = Store::open(&office_db)?;
        let class = n * marks_per_door;
        for i in 0..class {
            office.insert_student(&student(i, &tag), &[photo(i)], "bench")?;
        }
        let office_server = server(url, "Office");
        sync_once(&office_db, &office_photos, &office_server)?;
        // Each door gets the class, then marks its share while the server is out of reach.
        let mut folders = Vec::new();
        for d in 0..n {
            let (db, photos) = folder(&root, &format!("door{d}"))?;
            sync_once(&db, &photos, &server(url, &format!("Door {d}")))?;
            let mut store = Store::open(&db)?;
            let ids: Vec<i64> = store
                .students()?
                .iter()
                .filter(|s| s.roll_no.starts_with(&tag))
                .map(|s| s.id)
                .collect();
            anyhow::ensure!(ids.len() == class, "a door did not get the whole class");
            let now = chrono::Local::now();
            for id in ids.iter().skip(d * marks_per_door).take(marks_per_door) {
                store.mark(*id, now, Some(0.9), "kiosk", None)?;
            }
            folders.push((db, photos, d));
        }
        let mut school = postgres::Client::connect(url, postgres::NoTls)?;
        let before = count_marks(&mut school)?;
        let started = Instant::now();
        let links: Vec<SchoolLink> = folders
            .iter()
            .map(|(db, photos, d)| {
                SchoolLink::start(db, photos, &server(url, &format!("Door {d}")))
            })
            .collect::<Result<_, _>>()?;
        let total = n * marks_per_door;
        while count_marks(&mut school)? < before + total as i64 {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(300),
                "the marks did not all reach the school server within 5 minutes"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let drained = started.elapsed().as_secs_f64();
        // Enrolments at the office, one at a time, until every door has the student.
        let mut waits = Vec::new();
        let office_link = SchoolLink::start(&office_db, &office_photos, &office_server)?;
        let door_stores: Vec<Store> = folders
            .iter()
            .map(|(db, _, _)| Store::open(db))
            .collect::<Result<_, _>>()?;
        for k in 0..20 {
            let i = class + k;
            let s = student(i, &tag);
            let t = Instant::now();
            office.insert_student(&s, &[photo(i)], "bench")?;
            for store in &door_stores {
                while !store.student_exists(&s.roll_no, &s.email)? {
                    anyhow::ensure!(
                        t.elapsed() < Duration::from_secs(60),
                        "an enrolment did not reach a door within a minute"
                    );
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            waits.push(t.elapsed().as_secs_f64() * 1e3);
            std::thread::sleep(Duration::from_millis(200));
        }
        drop(office_link);
        drop(links);
        rows.push(SchoolRow {
            doors: n,
            marks: total,
            marks_per_s: total as f64 / drained,
            enrol_to_door_ms_p50: crate::bench::percentile(&waits, 50.0),
            enrol_to_door_ms_p95: crate::bench::percentile(&waits, 95.0),
        });
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(rows)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "rollcall-bench-school-{}-{}",
        std::process::id(),
        chrono::Local::now()
            .timestamp_nanos_opt()
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn count_marks(school: &mut postgres::Client) -> anyhow::Result<i64> {
    Ok(school
        .query_one("SELECT count(*) FROM attendance", &[])?
        .get(0))
}

/// One row of the joining table.
#[derive(Serialize, Debug)]
pub struct JoinRow {
    pub students: usize,
    /// Face templates fetched (five dlib and five FaceNet templates a student).
    pub templates: usize,
    /// Marks fetched (every student on each of `days` days, the last ten with a snapshot).
    pub marks: usize,
    /// From the door's first round to the whole school written in its database.
    pub seconds: f64,
    /// The benchmark process's peak resident memory (VmHWM), MB.
    pub peak_memory_mb: f64,
    /// The longest another writer of the door's database (as the kiosk marking) waited for
    /// it meanwhile.
    pub longest_write_wait_s: f64,
    /// Writes the other writer gave up after 5 s (Rollcall's own wait): marks a kiosk
    /// would have failed to record.
    pub writes_refused: usize,
    /// The same folder leaving the school and joining it again: everything it holds
    /// offered back (the school's copy fetched first, and winning), as a machine taken
    /// off the school for a while does.
    pub join_again_seconds: f64,
}

/// A door joining a large school: `students` synthetic students (ten templates each) with
/// `days` days of marks put straight into the scratch database at `url`, then fetched by
/// a new door's first round while another connection writes to the door's database every
/// 50 ms, as its kiosk would; then the door's round after it left the school and joined
/// it again.
pub fn join(url: &str, students: usize, days: usize) -> anyhow::Result<JoinRow> {
    let tag = format!(
        "J{}x{}",
        std::process::id(),
        chrono::Local::now().timestamp()
    );
    let mut school = postgres::Client::connect(url, postgres::NoTls)?;
    // A first round creates the tables on an empty scratch database.
    let root = tempfile_dir()?;
    let (office_db, office_photos) = folder(&root, "office")?;
    sync_once(&office_db, &office_photos, &server(url, "Office"))?;
    let n = students as i64;
    school.execute(
        "INSERT INTO students (uid, roll_no, name, email, enrolled_at)
         SELECT $1 || i, $1 || i, 'Bench Student ' || i, $1 || i || '@bench.invalid',
                '2026-09-01T08:00:00+00:00'
         FROM generate_series(1, $2::bigint) i",
        &[&tag, &n],
    )?;
    school.execute(
        "INSERT INTO face_templates (uid, student_uid, model_id, vector, origin)
         SELECT $1 || i || '-' || k, $1 || i,
                CASE WHEN k <= 5 THEN 'bench-dlib' ELSE 'bench-facenet' END,
                decode(repeat('0000803e', CASE WHEN k <= 5 THEN 128 ELSE 512 END), 'hex'),
                'upload'
         FROM generate_series(1, $2::bigint) i, generate_series(1, 10) k",
        &[&tag, &n],
    )?;
    let d = days as i32;
    school.execute(
        "INSERT INTO attendance (uid, student_uid, day, marked_at, score, source, door, snapshot)
         SELECT $1 || i || '-' || d, $1 || i, to_char(date '2000-01-01' + d, 'YYYY-MM-DD'),
                to_char(date '2000-01-01' + d, 'YYYY-MM-DD') || 'T08:10:00+00:00', 4.2,
                'kiosk', 'North door',
                CASE WHEN d >= $3 - 10 THEN decode(repeat('ab', 4000), 'hex') END
         FROM generate_series(1, $2::bigint) i, generate_series(0, $3 - 1) d",
        &[&tag, &n, &d],
    )?;

    let (door_db, door_photos) = folder(&root, "door")?;
    drop(Store::open(&door_db)?);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let kiosk = {
        let stop = stop.clone();
        let db = door_db.clone();
        std::thread::spawn(move || -> anyhow::Result<(f64, usize)> {
            // Rollcall's own connection (its way of waiting for another writer), writing a
            // row as small as a mark.
            let mut store = Store::open(&db).context("the kiosk's connection")?;
            let (mut longest, mut refused) = (0.0f64, 0);
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let t = Instant::now();
                match store.audit("benchmark", "kiosk write", "") {
                    Ok(()) => {}
                    Err(_) => refused += 1,
                }
                longest = longest.max(t.elapsed().as_secs_f64());
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok((longest, refused))
        })
    };
    let started = Instant::now();
    sync_once(&door_db, &door_photos, &server(url, "North door")).context("the first round")?;
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (longest, refused) = kiosk
        .join()
        .map_err(|_| anyhow::anyhow!("the writing thread failed"))??;
    let at_door = Store::open(&door_db)?
        .students()?
        .iter()
        .filter(|s| s.roll_no.starts_with(&tag))
        .count();
    anyhow::ensure!(at_door == students, "the door did not get the whole school");
    Store::open(&door_db)?.leave_school("benchmark")?;
    let started = Instant::now();
    sync_once(&door_db, &door_photos, &server(url, "North door"))?;
    let join_again_seconds = started.elapsed().as_secs_f64();
    let waiting = Store::open(&door_db)?.unsent_to_school()?;
    anyhow::ensure!(
        waiting.as_ref().is_some_and(|w| w.marks + w.changes == 0),
        "the door joining again did not send everything: {waiting:?}"
    );
    let _ = std::fs::remove_dir_all(&root);
    Ok(JoinRow {
        students,
        templates: students * 10,
        marks: students * days,
        seconds,
        peak_memory_mb: crate::bench::resident_mb("VmHWM"),
        longest_write_wait_s: longest,
        writes_refused: refused,
        join_again_seconds,
    })
}
