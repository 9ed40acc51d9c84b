//! Command-line front: the same service the kiosk and the HTTP API call.

use crate::attendance::{AttendanceService, EnrollError, MarkError, PhotoInput};
use crate::camera::{list_cameras, SourceSpec};
use crate::data_dir::DataDir;
use crate::eval::{self, Protocol};
use crate::settings::Settings;
use crate::store::Store;
use crate::vision::FaceEngine;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

mod liveness;

/// Rollcall: a face-recognition attendance kiosk.
#[derive(Parser, Debug)]
#[command(name = "rollcall", version, about)]
pub struct Cli {
    /// Data folder (database, photos, settings). Default: $ROLLCALL_DATA_DIR or ./data
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Kiosk: play this video file or folder of images instead of the camera.
    #[arg(long, value_name = "PATH")]
    pub source: Option<PathBuf>,
    /// Kiosk: frames per second for --source (a folder defaults to 15).
    #[arg(long, value_name = "N")]
    pub fps: Option<f64>,
    /// Kiosk: start the --source again when it ends.
    #[arg(long = "loop")]
    pub looping: bool,
    /// Kiosk: camera index or part of its name (overrides the settings).
    #[arg(long, value_name = "CAMERA")]
    pub camera: Option<String>,
    /// Kiosk: fill the screen (for the door).
    #[arg(long)]
    pub fullscreen: bool,
    /// Without a command, Rollcall opens the kiosk window.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Enrol a student from 1 to 10 photos.
    Enroll {
        #[arg(long)]
        roll_no: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// Photos of the student (JPEG, PNG, BMP or WebP).
        #[arg(value_name = "PHOTO")]
        photos: Vec<PathBuf>,
    },
    /// Mark attendance from one photo.
    Mark {
        #[arg(value_name = "PHOTO")]
        photo: PathBuf,
    },
    /// List enrolled students.
    Students,
    /// Enrol many students: a folder of `ROLLNO_Name` folders, or a CSV of roll no, name,
    /// email, photo paths.
    Import {
        #[arg(value_name = "DIR_OR_CSV")]
        path: PathBuf,
        /// For folders without an email.txt: use ROLLNO@DOMAIN.
        #[arg(long, value_name = "DOMAIN")]
        email_domain: Option<String>,
    },
    /// List the cameras on this machine.
    Cameras,
    /// Export the attendance sheet (like the old dashboard) to Excel or CSV.
    Export {
        /// First day (YYYY-MM-DD); default: the first of this month.
        #[arg(long, value_name = "DATE")]
        from: Option<chrono::NaiveDate>,
        /// Last day (YYYY-MM-DD); default: today.
        #[arg(long, value_name = "DATE")]
        to: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Xlsx)]
        format: ExportFormat,
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
    },
    /// Reports for students.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Serve the old system's HTTP API on the same database.
    Serve {
        /// Address to listen on (default from settings: 127.0.0.1:5000).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Require `Authorization: Bearer TOKEN` on /upload, /getdata and the mail endpoints.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
    },
    /// Benchmarks; each prints a table (or JSON) with the machine named.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Save the database and the enrolment photos in one new file (Rollcall may keep
    /// running meanwhile).
    Backup {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Replace the database and photos with a backup's; the current database is saved in
    /// the data folder first.
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Train the photo-attack check on frames of live people and of photos held up to the
    /// camera (each folder: one folder of frames per person).
    TrainLiveness {
        #[command(flatten)]
        frames: LivenessFrames,
        /// Where to write the model (default: the one Rollcall uses, assets/liveness).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Measure the photo-attack check: attacks accepted (APCER) and live faces refused
    /// (BPCER), overall and per person.
    EvalLiveness {
        #[command(flatten)]
        frames: LivenessFrames,
        /// The model to measure (default: the one in the settings).
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Measure recognition accuracy on a folder-per-person data set.
    Eval {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Enrolment photos per person.
        #[arg(long = "enroll", default_value_t = 5, value_name = "K")]
        enroll: usize,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Also run the old system's Haar cascade + LBPH recogniser.
        #[arg(long)]
        baseline: bool,
    },
}

/// Frames for the photo-attack check: live people and photo attacks, one folder per person.
#[derive(clap::Args, Debug)]
pub struct LivenessFrames {
    #[arg(value_name = "LIVE_DIR")]
    pub live: PathBuf,
    #[arg(value_name = "SPOOF_DIR")]
    pub spoof: PathBuf,
    /// Only these people (folder names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub people: Vec<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Email every student their attendance (or only those under a threshold).
    Email {
        /// Only students under this attendance, in percent.
        #[arg(long, value_name = "PERCENT")]
        under: Option<f64>,
        #[arg(long, value_name = "DATE")]
        from: Option<chrono::NaiveDate>,
        #[arg(long, value_name = "DATE")]
        to: Option<chrono::NaiveDate>,
        /// Show who would get what, and send nothing.
        #[arg(long)]
        preview: bool,
    },
}

/// The range a command covers: given days, else this month up to today.
fn range(
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let today = chrono::Local::now().date_naive();
    let (month_start, _) = crate::attendance::report::Range::ThisMonth.bounds(today);
    (from.unwrap_or(month_start), to.unwrap_or(today))
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Detection time per 640×480 frame and embedding time per face.
    Pipeline {
        /// A folder of frames.
        #[arg(long, value_name = "DIR")]
        source: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The live kiosk on recorded frames: processing rate, detection time, time to verdict,
    /// UI frame time.
    Live {
        /// A folder-per-person set of frames (like webcam-dev).
        #[arg(long, value_name = "DIR")]
        source: PathBuf,
        /// Frames per second to play.
        #[arg(long, default_value_t = 30.0)]
        fps: f64,
        #[arg(long)]
        json: bool,
    },
    /// `/attendance` over loopback HTTP: marks per second and latency, on real photos.
    Api {
        /// A folder-per-person set (people with 7+ photos are enrolled with 5).
        #[arg(long, value_name = "DIR", default_value = "../shared/datasets/lfw-dev")]
        source: PathBuf,
        #[arg(long, default_value_t = 200)]
        requests: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[arg(long)]
        json: bool,
    },
    /// Frame time of the review table with 2,000 students × 200 days (synthetic).
    Review {
        #[arg(long, default_value_t = 2000)]
        students: usize,
        #[arg(long, default_value_t = 200)]
        days: usize,
        #[arg(long)]
        json: bool,
    },
    /// Time to enrol one student from 10 photos, with 1 and with 5,000 students enrolled.
    Enroll {
        /// A folder of photos of one person (the first 10 are used).
        #[arg(long, value_name = "DIR")]
        source: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

/// How a command ended, for the process exit code.
pub enum Exit {
    Ok,
    /// The request was understood but refused (e.g. "User not found").
    Refused,
}

fn settings_for(data: &DataDir) -> anyhow::Result<Settings> {
    Ok(Settings::load(&data.settings())?)
}

fn service(data_dir: Option<&Path>) -> anyhow::Result<AttendanceService> {
    let data = DataDir::resolve(data_dir).create()?;
    let settings = settings_for(&data)?;
    let engine = FaceEngine::load(&settings)?;
    Ok(AttendanceService::open(data, settings, engine)?)
}

fn read_photo(path: &Path) -> anyhow::Result<PhotoInput> {
    PhotoInput::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let data_dir = cli.data_dir.as_deref();
    match cli.command {
        None => {
            let data = DataDir::resolve(data_dir).create()?;
            let mut settings = Settings::load_or_create(&data.settings())?;
            if let Some(c) = cli.camera {
                settings.kiosk.camera = c;
            }
            let source = match cli.source {
                Some(path) => SourceSpec::from_path(path, cli.fps, cli.looping),
                None => SourceSpec::Webcam {
                    camera: settings.kiosk.camera.clone(),
                    width: settings.kiosk.width,
                    height: settings.kiosk.height,
                    fps: settings.kiosk.fps,
                },
            };
            crate::ui::run(
                crate::ui::AppOptions {
                    data,
                    settings,
                    source,
                },
                cli.fullscreen,
            )?;
            Ok(Exit::Ok)
        }
        Some(Command::Import { path, email_domain }) => {
            let entries = crate::attendance::import::read_entries(&path, email_domain.as_deref())?;
            let mut service = service(data_dir)?;
            let bar = progress_bar(entries.len(), "importing", false);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>10} [{bar:40}] {pos}/{len} students",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let summary = service.import(&entries, "cli", |done, _| bar.set_position(done as u64));
            bar.finish_and_clear();
            println!(
                "Enrolled {} of {} student(s).",
                summary.enrolled.len(),
                entries.len()
            );
            for (who, why) in &summary.refused {
                println!("Not enrolled: {who}: {why}");
            }
            for (who, note) in &summary.photo_notes {
                println!("Photo not used: {who}: {note}");
            }
            Ok(if summary.refused.is_empty() {
                Exit::Ok
            } else {
                Exit::Refused
            })
        }
        Some(Command::Export {
            from,
            to,
            format,
            output,
        }) => {
            let data = DataDir::resolve(data_dir).create()?;
            let store = Store::open(&data.database())?;
            let (from, to) = range(from, to);
            let sheet = crate::attendance::report::Sheet::build(&store, from, to)?;
            match format {
                ExportFormat::Xlsx => {
                    crate::attendance::export::write_xlsx(&sheet, &store.marks(from, to)?, &output)?
                }
                ExportFormat::Csv => crate::attendance::export::write_csv(&sheet, &output)?,
            }
            println!(
                "Wrote {} student(s) × {} class day(s), {from} to {to}, to {}.",
                sheet.rows.len(),
                sheet.days.len(),
                output.display()
            );
            Ok(Exit::Ok)
        }
        Some(Command::Report(ReportCommand::Email {
            under,
            from,
            to,
            preview,
        })) => {
            let data = DataDir::resolve(data_dir).create()?;
            let settings = settings_for(&data)?;
            let mut store = Store::open(&data.database())?;
            let (from, to) = range(from, to);
            let sheet = crate::attendance::report::Sheet::build(&store, from, to)?;
            let reports = crate::attendance::email::reports(&sheet, under, &settings.email.subject);
            if preview {
                for r in &reports {
                    println!(
                        "{} <{}>: {}",
                        r.name,
                        r.email,
                        crate::attendance::report::percent_text(r.percent)
                    );
                }
                println!("{} message(s) would be sent.", reports.len());
                return Ok(Exit::Ok);
            }
            let bar = progress_bar(reports.len(), "sending", false);
            let summary = crate::attendance::email::send(
                &settings.email,
                &reports,
                &mut store,
                |done, _| bar.set_position(done as u64),
            )?;
            bar.finish_and_clear();
            println!(
                "Sent {} of {} message(s).",
                summary.sent.len(),
                reports.len()
            );
            for (to, why) in &summary.failed {
                println!("Not sent to {to}: {why}");
            }
            Ok(if summary.failed.is_empty() {
                Exit::Ok
            } else {
                Exit::Refused
            })
        }
        Some(Command::Serve { listen, token }) => {
            let service = service(data_dir)?;
            let settings = service.settings().clone();
            let listen = listen.unwrap_or_else(|| settings.api.listen.clone());
            let token = token.or_else(|| Some(settings.api.token.clone()));
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                eprintln!(
                    "Rollcall API on http://{} (Ctrl-C to stop)",
                    listener.local_addr()?
                );
                crate::api::serve(listener, crate::api::ApiState::new(service, token)).await?;
                anyhow::Ok(())
            })?;
            Ok(Exit::Ok)
        }
        Some(Command::Cameras) => {
            let cameras = list_cameras();
            if cameras.is_empty() {
                println!("No cameras found.");
            }
            for c in cameras {
                println!("{}\t{}", c.index, c.name);
            }
            Ok(Exit::Ok)
        }
        Some(Command::Enroll {
            roll_no,
            name,
            email,
            photos,
        }) => {
            let photos = photos
                .iter()
                .map(|p| read_photo(p))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut service = service(data_dir)?;
            match service.enroll(&roll_no, &name, &email, &photos, "cli") {
                Ok(done) => {
                    println!("{}", done.outcome());
                    for p in &done.refused {
                        eprintln!("Not used: {p}");
                    }
                    Ok(Exit::Ok)
                }
                Err(e @ (EnrollError::Store(_) | EnrollError::Io(_) | EnrollError::Vision(_))) => {
                    Err(e.into())
                }
                Err(e) => {
                    println!("{}", e.outcome());
                    match &e {
                        EnrollError::InvalidData(why) => eprintln!("Because {why}."),
                        EnrollError::NoUsablePhoto(problems) => {
                            for p in problems {
                                eprintln!("Not used: {p}");
                            }
                        }
                        _ => {}
                    }
                    Ok(Exit::Refused)
                }
            }
        }
        Some(Command::Mark { photo }) => {
            let photo = read_photo(&photo)?;
            let mut service = service(data_dir)?;
            match service.mark_photo(&photo.bytes, "cli") {
                Ok(m) => {
                    println!("{}", m.outcome);
                    eprintln!("{} ({}) at {}", m.name, m.roll_no, m.at);
                    Ok(Exit::Ok)
                }
                Err(e @ (MarkError::Store(_) | MarkError::Vision(_))) => Err(e.into()),
                Err(e) => {
                    println!("{}", e.outcome());
                    if let MarkError::Image(why) = &e {
                        eprintln!("{why}");
                    }
                    Ok(Exit::Refused)
                }
            }
        }
        Some(Command::Backup { file }) => {
            let data = DataDir::resolve(data_dir).create()?;
            let store = Store::open(&data.database())?;
            let b = store.backup_to(&file, &data.photos())?;
            println!(
                "Backed up {} students, {} marks and {} photos to {}.",
                b.students,
                b.marks,
                b.photos,
                file.display()
            );
            if b.missing_photos > 0 {
                eprintln!(
                    "{} photo file(s) the database names were missing and are not in the backup.",
                    b.missing_photos
                );
            }
            Ok(Exit::Ok)
        }
        Some(Command::Restore { file }) => {
            let data = DataDir::resolve(data_dir).create()?;
            let (b, saved) = crate::store::restore(&data, &file)?;
            println!(
                "Restored {} students, {} marks and {} photos from {}.",
                b.students,
                b.marks,
                b.photos,
                file.display()
            );
            if let Some(saved) = saved {
                println!("The database it replaced is saved as {}.", saved.display());
            }
            Ok(Exit::Ok)
        }
        Some(Command::Students) => {
            let data = DataDir::resolve(data_dir).create()?;
            let store = Store::open(&data.database())?;
            let students = store.students()?;
            println!(
                "{:<12} {:<28} {:<32} {:>6}  {:<25}  last seen",
                "roll no", "name", "email", "photos", "enrolled"
            );
            for s in &students {
                println!(
                    "{:<12} {:<28} {:<32} {:>6}  {:<25}  {}",
                    s.roll_no,
                    s.name,
                    s.email,
                    s.photo_count,
                    s.enrolled_at,
                    s.last_seen.as_deref().unwrap_or("never")
                );
            }
            eprintln!("{} student(s)", students.len());
            Ok(Exit::Ok)
        }
        Some(Command::Bench(b)) => {
            let settings = settings_for(&DataDir::resolve(data_dir))?;
            match b {
                BenchCommand::Pipeline { source, json } => {
                    let frames = crate::bench::frames_640x480(&source, 60)?;
                    let rows = crate::bench::pipeline(&frames, &settings)?;
                    if json {
                        println!("{}", serde_json::to_string(&rows)?);
                    } else {
                        crate::bench::print_steps(&rows);
                    }
                }
                BenchCommand::Api {
                    source,
                    requests,
                    concurrency,
                    json,
                } => {
                    let r = crate::bench::api(&source, 20, requests, concurrency, &settings)?;
                    if json {
                        println!("{}", serde_json::to_string(&r)?);
                    } else {
                        println!("Machine: {}", crate::bench::machine());
                        println!("| requests | concurrency | marks per second | latency ms p50 | latency ms p95 |");
                        println!("|---|---|---|---|---|");
                        println!(
                            "| {} | {} | {:.1} | {:.0} | {:.0} |",
                            r.requests,
                            r.concurrency,
                            r.marks_per_s,
                            r.latency_ms_p50,
                            r.latency_ms_p95
                        );
                    }
                }
                BenchCommand::Review {
                    students,
                    days,
                    json,
                } => {
                    let r = crate::bench::review(students, days, 300);
                    if json {
                        println!("{}", serde_json::to_string(&r)?);
                    } else {
                        println!("Machine: {}", crate::bench::machine());
                        println!("| students × days | frames | frame ms p50 | frame ms p99 |");
                        println!("|---|---|---|---|");
                        println!(
                            "| {} × {} | {} | {:.2} | {:.2} |",
                            r.students, r.days, r.frames, r.frame_ms_p50, r.frame_ms_p99
                        );
                    }
                }
                BenchCommand::Enroll { source, json } => {
                    let mut photos = crate::vision::image_io::images_in(&source)?;
                    photos.truncate(10);
                    let rows = crate::bench::enroll(&photos, &[1, 5000], &settings)?;
                    if json {
                        println!("{}", serde_json::to_string(&rows)?);
                    } else {
                        println!("Machine: {}", crate::bench::machine());
                        println!("| students already enrolled | photos | seconds p50 | seconds max | runs |");
                        println!("|---|---|---|---|---|");
                        for r in rows {
                            println!(
                                "| {} | {} | {:.2} | {:.2} | {} |",
                                r.students_already_enrolled,
                                r.photos,
                                r.seconds_p50,
                                r.seconds_max,
                                r.runs
                            );
                        }
                    }
                }
                BenchCommand::Live { source, fps, json } => {
                    let r = crate::bench::live(&source, fps, &settings)?;
                    if json {
                        println!("{}", serde_json::to_string(&r)?);
                    } else {
                        println!("Machine: {}", crate::bench::machine());
                        println!("| frames processed per second | detection ms p50 / p95 | first frame to verdict ms p50 / p95 | UI frame ms p99 | frames played | verdicts |");
                        println!("|---|---|---|---|---|---|");
                        println!(
                            "| {:.1} | {:.1} / {:.1} | {:.0} / {:.0} | {:.2} | {} | {} |",
                            r.fps,
                            r.detect_ms_p50,
                            r.detect_ms_p95,
                            r.verdict_ms_p50,
                            r.verdict_ms_p95,
                            r.ui_frame_ms_p99,
                            r.frames_played,
                            r.verdicts
                        );
                    }
                }
            }
            Ok(Exit::Ok)
        }
        Some(Command::TrainLiveness { frames, out }) => {
            let out = out.unwrap_or_else(crate::vision::liveness::default_liveness_dir);
            liveness::train(&frames, &out, data_dir)?;
            Ok(Exit::Ok)
        }
        Some(Command::EvalLiveness {
            frames,
            model,
            json,
        }) => {
            liveness::eval(&frames, model, json, data_dir)?;
            Ok(Exit::Ok)
        }
        Some(Command::Eval {
            dir,
            enroll,
            json,
            baseline,
        }) => {
            run_eval(&dir, enroll, json, baseline, data_dir)?;
            Ok(Exit::Ok)
        }
    }
}

fn progress_bar(len: usize, what: &str, hidden: bool) -> indicatif::ProgressBar {
    let bar = if hidden {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(len as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>10} [{bar:40}] {pos}/{len} photos, {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn run_eval(
    dir: &Path,
    k: usize,
    json: bool,
    with_baseline: bool,
    data_dir: Option<&Path>,
) -> anyhow::Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a folder of people's photos", dir.display());
    }
    let settings = settings_for(&DataDir::resolve(data_dir))?;
    let protocol = Protocol::from_dir(dir, k)?;
    if protocol.enrolled.is_empty() {
        bail!(
            "nobody in {} has more than {k} photos, so nobody can be enrolled",
            dir.display()
        );
    }
    let mut engine = FaceEngine::load(&settings)?;
    // The progress bar goes to stderr and hides itself when stderr is not a terminal.
    let bar = progress_bar(protocol.photo_count(), "embedding", false);
    let set = eval::embed_all(&mut engine, &protocol, || bar.inc(1))?;
    bar.finish_and_clear();
    let fused = set.evaluate(&settings.recognition);
    // Single models have no calibrated threshold of their own: only their threshold-free
    // figures (rank-1 and the sweep) are shown.
    let mut rows = vec![("Rollcall (fused, default)".to_string(), fused.clone(), true)];
    for id in engine.model_ids() {
        rows.push((
            format!("{id} alone"),
            set.evaluate(&eval::single_model(&settings, id)),
            false,
        ));
    }
    let baseline = if with_baseline {
        let bar = progress_bar(protocol.photo_count(), "baseline", false);
        let m = eval::baseline(&protocol, || bar.inc(1))?;
        bar.finish_and_clear();
        rows.push((
            "Old system (Haar + LBPH, distance < 80)".to_string(),
            m.clone(),
            true,
        ));
        Some(m)
    } else {
        None
    };
    for id in engine.model_ids() {
        let s = set.stranger_similarities(id);
        let mean = s.iter().sum::<f32>() / s.len().max(1) as f32;
        let std =
            (s.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / s.len().max(1) as f32).sqrt();
        tracing::info!(
            model = id,
            mean,
            std,
            pairs = s.len(),
            "stranger similarity"
        );
    }
    if json {
        let mut v = serde_json::to_value(&fused)?;
        if let (Some(obj), Some(b)) = (v.as_object_mut(), baseline) {
            obj.insert("baseline".into(), serde_json::to_value(b)?);
        }
        println!("{v}");
    } else {
        println!(
            "{} enrolled people ({} photos each), {} genuine probes, {} impostor probes",
            protocol.enrolled.len(),
            k,
            protocol
                .enrolled
                .iter()
                .map(|(_, _, p)| p.len())
                .sum::<usize>(),
            protocol
                .impostors
                .iter()
                .map(|(_, p)| p.len())
                .sum::<usize>()
        );
        print_table(&rows);
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn print_table(rows: &[(String, eval::Metrics, bool)]) {
    println!(
        "| method | correct accept | wrong person | false reject | stranger accepted | no face found | rank-1 | correct @1 % strangers | correct @0.1 % strangers | s/photo |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, m, operating) in rows {
        let at_threshold = |x: f64| if *operating { pct(x) } else { "—".into() };
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {:.3} |",
            at_threshold(m.correct_accept),
            at_threshold(m.wrong_person),
            at_threshold(m.false_reject),
            at_threshold(m.stranger_accept),
            pct(m.no_face),
            pct(m.rank1),
            pct(m.correct_at_1pct),
            pct(m.correct_at_0_1pct),
            m.sec_per_photo
        );
    }
}
