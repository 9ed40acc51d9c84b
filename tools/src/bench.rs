//! Benchmarks behind `rollcall bench` and `cargo bench`: figures are printed as tables with
//! the machine named, never asserted in tests.

use crate::synthetic::{Draw, SyntheticFaces};
use opencv::core::{Mat, Size};
use opencv::imgproc;
use rollcall::data_dir::DataDir;
use rollcall::recognition::Search;
use rollcall::settings::Settings;
use rollcall::vision::image_io::{file_name_of, folders_in, images_in, read_image_file};
use rollcall::vision::quality::picture_brightness;
use rollcall::vision::{FaceEngine, VisionError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The CPU model, for labelling figures.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {cores} cores")
}

/// Percentile (0–100) of a sample, by nearest rank.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Timing of one pipeline step, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct StepTiming {
    pub step: String,
    pub ms_p50: f64,
    pub ms_p95: f64,
    pub runs: usize,
}

fn timing(step: &str, samples: &[f64]) -> StepTiming {
    StepTiming {
        step: step.to_string(),
        ms_p50: percentile(samples, 50.0),
        ms_p95: percentile(samples, 95.0),
        runs: samples.len(),
    }
}

/// Frames (any size, resized to 640×480) from a folder of images, in name order.
pub fn frames_640x480(dir: &Path, limit: usize) -> Result<Vec<Mat>, VisionError> {
    let files =
        images_in(dir).map_err(|e| rollcall::vision::ImageError::Unreadable(e.to_string()))?;
    let mut out = Vec::new();
    for f in files.iter().take(limit) {
        let m = read_image_file(f)?;
        let mut r = Mat::default();
        imgproc::resize(
            &m,
            &mut r,
            Size::new(640, 480),
            0.0,
            0.0,
            imgproc::INTER_AREA,
        )?;
        out.push(r);
    }
    Ok(out)
}

/// Detection time per 640×480 frame (every face, and the largest only) and embedding time
/// per face for each model.
pub fn pipeline(frames: &[Mat], settings: &Settings) -> Result<Vec<StepTiming>, VisionError> {
    let mut engine = FaceEngine::load(settings)?;
    // Warm-up: the first forward pass of each net allocates.
    if let Some(f) = frames.first() {
        if let Some(face) = engine.detect(f)?.first() {
            engine.embed(f, face)?;
        }
    }
    let mut detect = Vec::new();
    let mut faces = Vec::new();
    for f in frames {
        let t = Instant::now();
        let found = engine.detect(f)?;
        detect.push(t.elapsed().as_secs_f64() * 1e3);
        if let Some(face) = found.into_iter().next() {
            faces.push((f, face));
        }
    }
    let mut largest = Vec::new();
    for f in frames {
        let t = Instant::now();
        engine.detect_largest(f)?;
        largest.push(t.elapsed().as_secs_f64() * 1e3);
    }
    // What the capture thread does to every frame besides handing it on.
    let mut brightness = Vec::new();
    for f in frames {
        let t = Instant::now();
        std::hint::black_box(picture_brightness(f));
        brightness.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut rows = vec![
        timing("detect (640×480 frame)", &detect),
        timing("detect the largest face only (a marking photo)", &largest),
        timing(
            "mean brightness of a frame (black-picture check)",
            &brightness,
        ),
    ];
    for e in &mut engine.embedders {
        let mut samples = Vec::new();
        for (f, face) in &faces {
            let t = Instant::now();
            e.embed(f, face)?;
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
        rows.push(timing(
            &format!("embed one face: {}", e.model_id()),
            &samples,
        ));
    }
    let mut both = Vec::new();
    for (f, face) in &faces {
        let t = Instant::now();
        engine.embed(f, face)?;
        both.push(t.elapsed().as_secs_f64() * 1e3);
    }
    rows.push(timing("embed one face: both models", &both));
    if engine.liveness.is_some() {
        let mut live = Vec::new();
        for (f, face) in &faces {
            let t = Instant::now();
            let features = engine.liveness_features(f, face)?;
            engine.liveness_score(&features, None)?;
            live.push(t.elapsed().as_secs_f64() * 1e3);
        }
        rows.push(timing("photo-attack check, one face", &live));
    }
    Ok(rows)
}

/// Prints step timings as a Markdown table.
pub fn print_steps(rows: &[StepTiming]) {
    println!("Machine: {}", machine());
    println!("| step | p50 ms | p95 ms | runs |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.1} | {:.1} | {} |",
            r.step, r.ms_p50, r.ms_p95, r.runs
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}

/// Figures from `rollcall bench live`.
#[derive(Clone, Debug, Serialize)]
pub struct LiveReport {
    /// Frames the vision thread processed per second.
    pub fps: f64,
    pub detect_ms_p50: f64,
    pub detect_ms_p95: f64,
    /// From a face's first processed frame to its verdict on screen.
    pub verdict_ms_p50: f64,
    pub verdict_ms_p95: f64,
    /// Time to build and tessellate one frame of the kiosk UI (CPU side).
    pub ui_frame_ms_p99: f64,
    pub frames_played: usize,
    pub verdicts: usize,
}

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    /// A new folder under the system's temporary folder, unique to this run.
    fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Scratch(std::env::temp_dir().join(format!(
            "rollcall-bench-{tag}-{}-{nanos}",
            std::process::id()
        )))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the real kiosk back end and a headless kiosk UI on recorded frames.
///
/// `dataset` is folder-per-person (like `webcam-dev`): each person is enrolled in a scratch
/// data folder from five of their first ten frames, then their later frames are played at
/// `fps`, person after person, three times over, with a second of empty frames between.
pub fn live(dataset: &Path, fps: f64, settings: &Settings) -> anyhow::Result<LiveReport> {
    use rollcall::attendance::{AttendanceService, PhotoInput};
    use rollcall::camera::SourceSpec;
    use rollcall::kiosk::{CameraStatus, KioskEvent};
    use rollcall::ui::{AppOptions, RollcallApp};

    let scratch = Scratch::new("live");
    let data = DataDir::resolve(Some(&scratch.0.join("data"))).create()?;
    // The playlist links to the frames: from the scratch folder a relative path would dangle.
    let dataset = &dataset.canonicalize()?;
    let playlist = scratch.0.join("frames");
    std::fs::create_dir_all(&playlist)?;
    let blank = scratch.0.join("blank.jpg");
    let black = Mat::new_rows_cols_with_default(
        480,
        640,
        opencv::core::CV_8UC3,
        opencv::core::Scalar::all(0.0),
    )?;
    std::fs::write(&blank, rollcall::vision::image_io::encode_jpeg(&black)?)?;

    let mut service = AttendanceService::open(data.clone(), settings.clone())?;
    let mut n = 0usize;
    let mut link = |target: &Path| -> std::io::Result<()> {
        n += 1;
        std::os::unix::fs::symlink(target, playlist.join(format!("{n:06}.jpg")))
    };
    let mut appearances: Vec<Vec<PathBuf>> = Vec::new();
    for person in folders_in(dataset)? {
        let frames = images_in(&person)?;
        if frames.len() < 25 {
            continue;
        }
        let photos: Vec<PhotoInput> = frames
            .iter()
            .take(10)
            .step_by(2)
            .map(|p| PhotoInput::read(p))
            .collect::<Result<_, _>>()?;
        let name = file_name_of(&person);
        if let Err(e) = service.enroll(
            &name,
            &name,
            &format!("{name}@bench.invalid"),
            &photos,
            "bench",
        ) {
            tracing::warn!("{name} not enrolled: {e}");
        }
        appearances.push(frames.into_iter().skip(20).take(40).collect());
    }
    if appearances.is_empty() {
        anyhow::bail!(
            "no one in {} has 25 or more frames: give a folder-per-person set of frames, such as webcam-dev",
            dataset.display()
        );
    }
    // Everyone passes the door three times, with a second of empty frames between people.
    for _ in 0..3 {
        for frames in &appearances {
            for f in frames {
                link(f)?;
            }
            for _ in 0..(fps.ceil() as usize) {
                link(&blank)?;
            }
        }
    }
    drop(service);
    let frames_played = n;

    let source = SourceSpec::Folder {
        path: playlist,
        fps,
        looping: false,
    };
    let ctx = egui::Context::default();
    let (observer, events) = crossbeam_channel::unbounded();
    let mut app = RollcallApp::new(
        &ctx,
        AppOptions {
            data,
            settings: settings.clone(),
            source: source.into(),
            observer: Some(observer),
        },
    );
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1024.0, 768.0),
        )),
        ..Default::default()
    };
    let (mut ui_ms, mut detect_ms) = (Vec::new(), Vec::new());
    let mut last_seq = 0;
    let mut processed: Vec<(Instant, u64)> = Vec::new();
    let deadline = Instant::now()
        + std::time::Duration::from_secs_f64(frames_played as f64 / fps * 3.0 + 60.0);
    while app.view.camera != CameraStatus::Ended && Instant::now() < deadline {
        let t = Instant::now();
        let out = ctx.run_ui(input(), |ui| app.frame(ui));
        let _meshes = ctx.tessellate(out.shapes, out.pixels_per_point);
        ui_ms.push(t.elapsed().as_secs_f64() * 1e3);
        if let Some(f) = app.view.faces.as_ref().filter(|f| f.seq != last_seq) {
            last_seq = f.seq;
            detect_ms.push(f.detect_ms);
            processed.push((Instant::now(), f.processed));
        }
        // A 60 Hz display.
        std::thread::sleep(std::time::Duration::from_millis(16).saturating_sub(t.elapsed()));
    }
    app.kiosk.shutdown();
    let fps_processed = match (processed.first(), processed.last()) {
        (Some((t0, p0)), Some((t1, p1))) if p1 > p0 => {
            (p1 - p0) as f64 / t1.duration_since(*t0).as_secs_f64()
        }
        _ => 0.0,
    };
    // The time from each face's first frame to its verdict, as the observer saw them.
    let verdict_ms: Vec<f64> = events
        .try_iter()
        .filter_map(|e| match e {
            KioskEvent::Verdict { first_seen, at, .. } => {
                Some(at.duration_since(first_seen).as_secs_f64() * 1e3)
            }
            _ => None,
        })
        .collect();
    Ok(LiveReport {
        fps: fps_processed,
        detect_ms_p50: percentile(&detect_ms, 50.0),
        detect_ms_p95: percentile(&detect_ms, 95.0),
        verdict_ms_p50: percentile(&verdict_ms, 50.0),
        verdict_ms_p95: percentile(&verdict_ms, 95.0),
        ui_frame_ms_p99: percentile(&ui_ms, 99.0),
        frames_played,
        verdicts: verdict_ms.len(),
    })
}

/// One row of `rollcall bench enroll`.
#[derive(Clone, Debug, Serialize)]
pub struct EnrollTiming {
    pub students_already_enrolled: usize,
    pub photos: usize,
    pub seconds_p50: f64,
    pub seconds_max: f64,
    pub runs: usize,
}

/// Fills the database with `n` synthetic students, 5 photos each with one template per
/// model, shaped like one camera's faces ([`SyntheticFaces`]).
fn synthetic_class(database: &Path, n: usize) -> anyhow::Result<()> {
    use rollcall::store::{NewPhoto, NewStudent, Store};
    let mut store = Store::open(database)?;
    let faces = SyntheticFaces::default();
    for i in 0..n {
        let student = NewStudent {
            roll_no: format!("S{i:06}"),
            name: format!("Synthetic {i}"),
            email: format!("s{i}@bench.invalid"),
        };
        let photos: Vec<NewPhoto> = (0..5)
            .map(|k| NewPhoto {
                file_name: format!("synthetic-{i}-{k}.jpg"),
                origin: "upload".into(),
                templates: (faces.face(i as u64, k).0.into_iter())
                    .map(|(model, v)| (model.to_string(), v))
                    .collect(),
            })
            .collect();
        store.insert_student(&student, &photos, "bench")?;
    }
    Ok(())
}

/// One row of `rollcall bench backup`.
#[derive(Clone, Debug, Serialize)]
pub struct BackupRow {
    pub students: usize,
    pub photos: usize,
    /// The photo files' size.
    pub photos_mb: f64,
    /// Writing a backup (`rollcall backup`, and each daily backup or its rewrite).
    pub backup_s: f64,
    pub backup_mb: f64,
    /// The daily backup's quarter-hourly look when today's holds every enrolment and mark.
    pub look_ms: f64,
    /// One student deleted (median of five), with a week of daily backups for the erasure
    /// to reach.
    pub erase_s: f64,
}

/// Daily backups kept in `bench backup` (the default `keep`): each erasure reaches them all.
const WEEK_OF_BACKUPS: i64 = 7;

/// Backups of a school of each of `sizes` students (synthetic templates, five photos each:
/// a frame of `source` stored as the kiosk stores photos; everyone marked today): the time
/// a backup takes to write, its size, and the daily backup's look that finds nothing to do.
pub fn backup(sizes: &[usize], source: &Path) -> anyhow::Result<Vec<BackupRow>> {
    use rollcall::store::{make_daily_backup, Store};
    let frame = images_in(source)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no image in {}", source.display()))?;
    let photo = rollcall::vision::image_io::encode_jpeg(&read_image_file(&frame)?)?;
    let mut rows = Vec::new();
    for &n in sizes {
        let scratch = Scratch::new("backup");
        let data = DataDir::resolve(Some(&scratch.0)).create()?;
        synthetic_class(&data.database(), n)?;
        let mut store = Store::open(&data.database())?;
        let now = chrono::Local::now();
        let mut photos = 0;
        for student in store.students()? {
            for p in store.photos_of(student.id)? {
                std::fs::write(data.photos().join(&p.file_name), &photo)?;
                photos += 1;
            }
            store.mark(student.id, now, Some(7.5), "kiosk", None)?;
        }
        let file = scratch.0.join("school.rollcall");
        let t = Instant::now();
        store.backup_to(&file, &data)?;
        let backup_s = t.elapsed().as_secs_f64();
        let backup_mb = std::fs::metadata(&file)?.len() as f64 / 1e6;
        // Today's daily backup, then the looks that find it complete.
        let folder = scratch.0.join("daily");
        make_daily_backup(&data, &folder, 1, now)?;
        let mut looks = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            if make_daily_backup(&data, &folder, 1, now)?.is_some() {
                anyhow::bail!("the daily backup was written again with nothing new");
            }
            looks.push(t.elapsed().as_secs_f64() * 1e3);
        }
        // A week of daily backups in the data folder's own backups/, then leavers deleted
        // one at a time, as the Students screen does.
        let daily = data.root().join("backups");
        for days_ago in (0..WEEK_OF_BACKUPS).rev() {
            make_daily_backup(
                &data,
                &daily,
                WEEK_OF_BACKUPS as usize,
                now - chrono::Duration::days(days_ago),
            )?;
        }
        let mut records = rollcall::attendance::Records::open(&data, &Settings::default())?;
        let mut erasing = Vec::new();
        let leavers: Vec<_> = store.students()?.into_iter().take(5).collect();
        for student in &leavers {
            let t = Instant::now();
            records.delete_student(student.id, "bench")?;
            erasing.push(t.elapsed().as_secs_f64());
        }
        // The figure means nothing unless the erasure reached every daily backup.
        let copies = rollcall::store::daily_backups(&daily);
        if copies.len() != WEEK_OF_BACKUPS as usize {
            anyhow::bail!("{} daily backups, not {WEEK_OF_BACKUPS}", copies.len());
        }
        for (copy, _) in copies {
            let held = Store::open(&copy)?.students()?;
            if held
                .iter()
                .any(|s| leavers.iter().any(|l| l.roll_no == s.roll_no))
            {
                anyhow::bail!("a deleted student is still in {}", copy.display());
            }
        }
        rows.push(BackupRow {
            students: n,
            photos,
            photos_mb: (photos * photo.len()) as f64 / 1e6,
            backup_s,
            backup_mb,
            look_ms: percentile(&looks, 50.0),
            erase_s: percentile(&erasing, 50.0),
        });
    }
    Ok(rows)
}

/// One row of `rollcall bench identify`.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct IdentifyRow {
    pub students: usize,
    /// One face's identification against the whole gallery (both models, calibrated
    /// decision), after its embeddings are known.
    pub identify_ms_p50: f64,
    pub identify_ms_p95: f64,
    /// Opening the database and loading the models and the gallery.
    pub startup_s: f64,
    /// Resident memory once loaded.
    pub rss_mb: f64,
    /// The most resident memory while loading.
    pub peak_rss_mb: f64,
    /// Share of the probes (half new photos of enrolled students, half strangers) whose
    /// decision is the one comparing every template gives ([`Search`]).
    pub same_decision: f64,
    /// Share of the probes that comparing every template matches to a student.
    pub matched: f64,
}

/// `bench identify` for each class size: each measured in a fresh process (so start-up
/// and memory are those of a new `rollcall`), on a synthetic class, with the settings of
/// the data folder `settings_from` (its `settings.toml`, when it has one).
pub fn identify(sizes: &[usize], settings_from: &DataDir) -> anyhow::Result<Vec<IdentifyRow>> {
    let mut rows = Vec::new();
    for &n in sizes {
        let scratch = Scratch::new("identify");
        let data = rollcall::data_dir::DataDir::resolve(Some(&scratch.0)).create()?;
        if settings_from.settings().is_file() {
            std::fs::copy(settings_from.settings(), data.settings())?;
        }
        synthetic_class(&data.database(), n)?;
        let out = std::process::Command::new(std::env::current_exe()?)
            .arg("--data-dir")
            .arg(&scratch.0)
            .args(["bench", "identify-here"])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "measuring {n} students failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        rows.push(serde_json::from_slice(&out.stdout)?);
    }
    Ok(rows)
}

/// Measures this process: opens the data folder as `rollcall mark` does (records, models,
/// gallery), then identifies 300 faces (new
/// photos of enrolled students and strangers), and checks each decision against comparing
/// every template.
pub fn identify_here(data: &DataDir, settings: &Settings) -> anyhow::Result<IdentifyRow> {
    use rollcall::recognition::{Rule, Source};
    let t = Instant::now();
    let service = rollcall::attendance::AttendanceService::open(data.clone(), settings.clone())?;
    let startup_s = t.elapsed().as_secs_f64();
    let (rss_mb, peak_rss_mb) = (resident_mb("VmRSS"), resident_mb("VmHWM"));
    let matcher = service.recognizer().matcher();
    let students = matcher.gallery().len();
    let rule = Rule::full(&settings.recognition);
    let faces = SyntheticFaces::default();
    let probes: Vec<_> = (0..300u64)
        .map(|j| match j % 2 {
            0 => faces.face((j * 7919) % students.max(1) as u64, 100 + j),
            _ => faces.face(1 << 40 | j, 0),
        })
        .collect();
    let mut ms = Vec::new();
    let mut decisions = Vec::new();
    for probe in &probes {
        let t = Instant::now();
        let d = std::hint::black_box(matcher.identify(probe, Source::Photo, &rule));
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        decisions.push(d);
    }
    let exact = matcher.clone().with_search(Search::exact());
    let (mut same, mut matched) = (0, 0);
    for (p, d) in probes.iter().zip(&decisions) {
        let e = exact.identify(p, Source::Photo, &rule).student();
        same += usize::from(d.student() == e);
        matched += usize::from(e.is_some());
    }
    Ok(IdentifyRow {
        students,
        identify_ms_p50: percentile(&ms, 50.0),
        identify_ms_p95: percentile(&ms, 95.0),
        startup_s,
        rss_mb,
        peak_rss_mb,
        same_decision: same as f64 / probes.len() as f64,
        matched: matched as f64 / probes.len() as f64,
    })
}

/// This process's resident memory, in MB (0 where /proc is not there): now (`VmRSS`) or
/// its peak so far (`VmHWM`).
pub(crate) fn resident_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.split(':').next() == Some(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Time to enrol one student from real photos as the enrolment dialog does (check every
/// photo, search the gallery for a look-alike, save, update the gallery) with `sizes`
/// students already enrolled (synthetic templates, 5 photos each).
pub fn enroll(
    photos: &[PathBuf],
    sizes: &[usize],
    settings: &Settings,
) -> anyhow::Result<Vec<EnrollTiming>> {
    use rollcall::attendance::PhotoInput;

    let inputs: Vec<PhotoInput> = photos
        .iter()
        .map(|p| PhotoInput::read(p))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for &size in sizes {
        let scratch = Scratch::new("enrol");
        let data = DataDir::resolve(Some(&scratch.0)).create()?;
        synthetic_class(&data.database(), size)?;
        let mut records = rollcall::attendance::Records::open(&data, settings)?;
        let mut recognizer = rollcall::attendance::Recognizer::load(settings, records.store())?;
        let mut secs = Vec::new();
        for run in 0..3 {
            // What the enrolment dialog does: check each photo (with the look-alike search
            // over the whole gallery), then save them all.
            let t = Instant::now();
            let mut checked = Vec::new();
            for p in &inputs {
                if let Ok(photo) = recognizer.check_photo(p)? {
                    recognizer.look_alikes(&photo, None);
                    checked.push(photo);
                }
            }
            let student = rollcall::attendance::validate_student(
                &format!("NEW{run}"),
                "New Student",
                &format!("new{run}@bench.invalid"),
            )
            .map_err(anyhow::Error::msg)?;
            recognizer.enrol(&mut records, &student, &checked, "bench")?;
            secs.push(t.elapsed().as_secs_f64());
        }
        rows.push(EnrollTiming {
            students_already_enrolled: size,
            photos: inputs.len(),
            seconds_p50: percentile(&secs, 50.0),
            seconds_max: secs.iter().cloned().fold(0.0, f64::max),
            runs: secs.len(),
        });
    }
    Ok(rows)
}

/// Figures from `rollcall bench review`.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewReport {
    pub students: usize,
    pub days: usize,
    pub frames: usize,
    pub frame_ms_p50: f64,
    pub frame_ms_p99: f64,
}

/// Renders the review screen headless with a synthetic sheet of `students` × `days`,
/// scrolling down and across, and times each frame (build and tessellate, CPU side).
pub fn review(students: usize, days: usize, frames: usize) -> ReviewReport {
    use rollcall::reports::{Sheet, SheetRow};
    use rollcall::ui::review::ReviewView;

    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default();
    let day_list: Vec<chrono::NaiveDate> = (0..days as u64)
        .filter_map(|d| start.checked_add_days(chrono::Days::new(d)))
        .collect();
    let mut rng = Draw(0x2545_f491_4f6c_dd1d);
    let rows: Vec<SheetRow> = (0..students)
        .map(|i| {
            let present: Vec<bool> = (0..days).map(|_| rng.uniform() < 0.4).collect();
            let p = present.iter().filter(|x| **x).count();
            SheetRow {
                student_id: i as i64,
                roll_no: format!("R{i:05}"),
                name: format!("Student number {i}"),
                email: format!("s{i}@bench.invalid"),
                present,
                by_hand: vec![false; days],
                counted: vec![true; days],
                enrolled_on: None,
                last_day: None,
                away_days: 0,
                present_days: p,
                absent_days: days - p,
            }
        })
        .collect();
    let per_day = (0..days)
        .map(|c| rows.iter().filter(|r| r.present[c]).count())
        .collect();
    let sheet = Sheet {
        from: start,
        to: day_list.last().copied().unwrap_or(start),
        days: day_list,
        rows,
        per_day,
        doors: Vec::new(),
        door: None,
        by_hand_off_class_days: Vec::new(),
    };
    let admin = rollcall::kiosk::admin::AdminClient::offline();
    let mut view = ReviewView::new(85.0);
    view.sheet = Some(std::sync::Arc::new(sheet));
    let times = scrolling_frames(frames, |ui| view.show(ui, &admin, None));
    ReviewReport {
        students,
        days,
        frames: times.len(),
        frame_ms_p50: percentile(&times, 50.0),
        frame_ms_p99: percentile(&times, 99.0),
    }
}

/// Times `frames` headless frames of `draw` in a 1280×800 window, scrolling down most
/// frames and across every fifth (build and tessellate, CPU side); the first few, which lay
/// out fonts and are not what scrolling feels like, are left out.
fn scrolling_frames(frames: usize, mut draw: impl FnMut(&mut egui::Ui)) -> Vec<f64> {
    let ctx = egui::Context::default();
    let mut times = Vec::new();
    for f in 0..frames {
        let delta = if f % 5 == 0 {
            egui::vec2(-120.0, 0.0)
        } else {
            egui::vec2(0.0, -90.0)
        };
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 800.0),
            )),
            events: vec![
                egui::Event::PointerMoved(egui::pos2(640.0, 400.0)),
                egui::Event::MouseWheel {
                    unit: egui::MouseWheelUnit::Point,
                    delta,
                    modifiers: egui::Modifiers::NONE,
                    phase: egui::TouchPhase::Move,
                    source: egui::MouseWheelSource::Wheel,
                },
            ],
            ..Default::default()
        };
        let t = Instant::now();
        let out = ctx.run_ui(input, |ui| {
            egui::CentralPanel::default_margins().show(ui, &mut draw);
        });
        let _meshes = ctx.tessellate(out.shapes, out.pixels_per_point);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.split_off(times.len().min(5))
}

/// Figures from `rollcall bench students`.
#[derive(Clone, Debug, Serialize)]
pub struct StudentsReport {
    pub students: usize,
    pub frames: usize,
    pub frame_ms_p50: f64,
    pub frame_ms_p99: f64,
}

/// Renders the Students screen's list headless with `students` synthetic students,
/// scrolling down while a search is typed and cleared, and times each frame (build and
/// tessellate, CPU side).
pub fn students(students: usize, frames: usize) -> StudentsReport {
    use rollcall::store::Student;
    use rollcall::ui::student_list::StudentList;

    let list: Vec<Student> = (0..students)
        .map(|i| Student {
            id: i as i64,
            roll_no: format!("R{i:05}"),
            name: format!("Student number {i}"),
            email: format!("s{i}@bench.invalid"),
            enrolled_at: "2026-09-01T08:00:00".into(),
            photo_count: 5,
            camera_enrolled: i % 2 == 0,
            has_face: true,
            last_seen: (i % 3 != 0).then(|| "2026-11-30T08:41:12".into()),
            last_day: None,
            away: Vec::new(),
            never_taken: false,
        })
        .collect();
    let mut view = StudentList::default();
    // Every 25th frame the search changes, as an admin types a roll number and clears it.
    let searches = [
        "", "r", "r0", "r00", "r001", "r0012", "r001", "r00", "r0", "r",
    ];
    let mut frame = 0;
    let times = scrolling_frames(frames, |ui| {
        let search = searches[frame / 25 % searches.len()];
        frame += 1;
        view.show(ui, &list, search, None);
    });
    StudentsReport {
        students,
        frames: times.len(),
        frame_ms_p50: percentile(&times, 50.0),
        frame_ms_p99: percentile(&times, 99.0),
    }
}

/// Figures from `rollcall bench api`.
#[derive(Clone, Debug, Serialize)]
pub struct ApiReport {
    /// `/attendance` requests answered per second (each a full recognition).
    pub marks_per_s: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p95: f64,
    pub requests: usize,
    pub concurrency: usize,
    /// After the steady run: this many `/attendance` requests sent at once.
    pub burst: Option<BurstReport>,
}

/// A burst of simultaneous marks, with the dashboard reading all along.
#[derive(Clone, Debug, Serialize)]
pub struct BurstReport {
    pub requests: usize,
    /// Answers by status code.
    pub answers: std::collections::BTreeMap<u16, usize>,
    /// The slowest answer.
    pub slowest_s: f64,
    /// `GET /getdata` sent every 50 ms during the burst.
    pub getdata_requests: usize,
    pub getdata_ms_p50: f64,
    pub getdata_ms_p99: f64,
}

/// `GET /getdata` over a fresh connection; returns the status code.
async fn get_data(addr: std::net::SocketAddr) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let head = format!("GET /getdata HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).await?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await?;
    Ok(status_of(&reply))
}

/// The status code of a raw HTTP answer (0 when there is none).
fn status_of(reply: &[u8]) -> u16 {
    String::from_utf8_lossy(reply)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Sends `n` marks at once while reading `/getdata` every 50 ms until they are answered.
async fn burst(
    addr: std::net::SocketAddr,
    probes: std::sync::Arc<Vec<Vec<u8>>>,
    n: usize,
) -> anyhow::Result<BurstReport> {
    let start = Instant::now();
    let marks: Vec<_> = (0..n)
        .map(|i| {
            let probes = probes.clone();
            tokio::spawn(async move {
                let code = post_photo(addr, &probes[i % probes.len()])
                    .await
                    .unwrap_or(0);
                (code, start.elapsed().as_secs_f64())
            })
        })
        .collect();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The dashboard is another client: a thread of its own, not one more task among the
    // burst's thousand.
    let reader = {
        let done = done.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let mut times = Vec::new();
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    let t = Instant::now();
                    let code = get_data(addr).await.unwrap_or(0);
                    anyhow::ensure!(code == 200, "/getdata answered {code} during the burst");
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                anyhow::Ok(times)
            })
        })
    };
    let mut answers = std::collections::BTreeMap::new();
    let mut slowest: f64 = 0.0;
    for m in marks {
        let (code, secs) = m.await?;
        *answers.entry(code).or_insert(0) += 1;
        slowest = slowest.max(secs);
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let reads = tokio::task::spawn_blocking(move || reader.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the /getdata reader stopped"))??;
    Ok(BurstReport {
        requests: n,
        answers,
        slowest_s: slowest,
        getdata_requests: reads.len(),
        getdata_ms_p50: percentile(&reads, 50.0),
        getdata_ms_p99: percentile(&reads, 99.0),
    })
}

/// One multipart POST of a photo as the field `file`, over a fresh connection; returns the
/// status code.
async fn post_photo(addr: std::net::SocketAddr, photo: &[u8]) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let boundary = "rollcall-bench-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"door.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(photo);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST /attendance HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(head.as_bytes()).await?;
    s.write_all(&body).await?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await?;
    Ok(status_of(&reply))
}

/// Serves the API on loopback with people from a folder-per-person set enrolled (5 photos
/// each), then sends `/attendance` requests with their other photos, `concurrency` at a time.
pub fn api(
    dataset: &Path,
    people: usize,
    requests: usize,
    concurrency: usize,
    burst_of: Option<usize>,
    settings: &Settings,
) -> anyhow::Result<ApiReport> {
    use rollcall::attendance::{AttendanceService, PhotoInput};

    let scratch = Scratch::new("api");
    let data = DataDir::resolve(Some(&scratch.0)).create()?;
    let mut service = AttendanceService::open(data.clone(), settings.clone())?;
    let mut probes: Vec<Vec<u8>> = Vec::new();
    for person in folders_in(dataset)? {
        if probes.len() >= requests && service.students() >= people {
            break;
        }
        let photos = images_in(&person)?;
        if photos.len() < 7 || service.students() >= people {
            continue;
        }
        let inputs: Vec<PhotoInput> = photos[..5]
            .iter()
            .map(|p| PhotoInput::read(p))
            .collect::<Result<_, _>>()?;
        let name = file_name_of(&person);
        if service
            .enroll(
                &name,
                &name,
                &format!("{}@bench.invalid", probes.len()),
                &inputs,
                "bench",
            )
            .is_ok()
        {
            for p in &photos[5..] {
                probes.push(std::fs::read(p)?);
            }
        }
    }
    anyhow::ensure!(
        !probes.is_empty(),
        "no one in {} has 7 or more photos",
        dataset.display()
    );
    drop(service);
    let state = rollcall::api::ApiState::open(data, settings.clone(), None)?;
    // The server has a runtime of its own, as `rollcall serve` has in its own process: its
    // tasks never queue behind the benchmark's clients (the cores are shared all the same).
    let server = tokio::runtime::Runtime::new()?;
    let listener = server.block_on(rollcall::api::listen("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    server.spawn(rollcall::api::serve(listener, state));
    let clients = tokio::runtime::Runtime::new()?;
    clients.block_on(async move {
        let probes = std::sync::Arc::new(probes);
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let start = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..concurrency.max(1) {
            let (probes, next) = (probes.clone(), next.clone());
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= requests {
                        break;
                    }
                    let t = Instant::now();
                    let code = post_photo(addr, &probes[i % probes.len()]).await?;
                    anyhow::ensure!(code != 500 && code != 0, "the server answered {code}");
                    latencies.push(t.elapsed().as_secs_f64() * 1e3);
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await??);
        }
        let secs = start.elapsed().as_secs_f64();
        let burst = match burst_of {
            Some(n) => Some(burst(addr, probes, n).await?),
            None => None,
        };
        Ok(ApiReport {
            marks_per_s: all.len() as f64 / secs,
            latency_ms_p50: percentile(&all, 50.0),
            latency_ms_p95: percentile(&all, 95.0),
            requests: all.len(),
            concurrency,
            burst,
        })
    })
}
