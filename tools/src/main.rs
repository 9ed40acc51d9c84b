//! `rollcall-tools`: measures Rollcall — recognition accuracy, the photo-attack check and
//! speed — on folder-per-person data sets. Every figure in the README comes from here.

use anyhow::bail;
use clap::{Parser, Subcommand};
use rollcall::cli::{progress_bar, settings_for, LivenessFrames};
use rollcall::data_dir::DataDir;
use rollcall::settings::Settings;
use rollcall::vision::FaceEngine;
use rollcall::wording::count;
use rollcall_tools::eval::{self, classroom, FaceSet, Protocol};
use rollcall_tools::{bench, liveness_eval, school_bench};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "rollcall-tools", version, about)]
struct Cli {
    /// Data folder whose settings.toml is used (default: $ROLLCALL_DATA_DIR or ./data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
        /// The classroom protocol: enrol some people, the others' photos are strangers
        /// from the same camera, rotating who is enrolled.
        #[arg(long)]
        classroom: bool,
        /// Classroom: class sizes to try (default: 1, 3, 10 and everyone but one).
        #[arg(long, value_delimiter = ',', value_name = "N")]
        sizes: Vec<usize>,
        /// Classroom: the photos are frames of the kiosk's camera (enrolled from the
        /// camera, marked at the kiosk), not uploaded photos.
        #[arg(long)]
        camera: bool,
        /// Search as a large school does, whatever the number enrolled: look exactly only
        /// at the N closest people per model by their summaries (see `bench identify`).
        #[arg(long, value_name = "N")]
        shortlist: Option<usize>,
    },
    /// Measure the photo-attack check: attacks accepted (APCER) and live faces refused
    /// (BPCER), overall and per person.
    EvalLiveness {
        #[command(flatten)]
        frames: LivenessFrames,
        /// Measure this trained model on every frame, instead of leaving each person out
        /// in turn and training on the others.
        #[arg(long, value_name = "DIR")]
        model: Option<PathBuf>,
        /// Simulate adapting the check at a site instead: three people are the site's
        /// students, the others train the base check, one printed photo is recorded; the
        /// base and the adapted check judge the students' other frames.
        #[arg(long, conflicts_with = "model")]
        site: bool,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Photo-attack cues besides the shipped texture (context, frequency, motion), each
    /// person left out in turn: how the shipped cue was chosen.
    EvalCues {
        #[command(flatten)]
        frames: LivenessFrames,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Recorded door sequences through the kiosk's door logic: enrolled students,
    /// strangers and printed photos, and what the kiosk marked.
    EvalLive {
        /// Live people, one folder of frames per person (NUAA names give sessions).
        #[arg(value_name = "LIVE_DIR")]
        live: PathBuf,
        /// Printed-photo attacks of the same people, one folder per person.
        #[arg(value_name = "SPOOF_DIR")]
        spoof: PathBuf,
        /// Enrol these people (folder names); default: two folds, half the people each.
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        enrolled: Vec<String>,
        /// Frame rate of the recordings.
        #[arg(long, default_value_t = 10.0)]
        fps: f64,
        /// Photo-attack training frames (LIVE_DIR SPOOF_DIR, one folder per person): judge
        /// each person with a model trained on everyone else's frames instead of the
        /// configured model.
        #[arg(long, num_args = 2, value_names = ["TRAIN_LIVE", "TRAIN_SPOOF"])]
        held_out_liveness: Vec<PathBuf>,
        /// Enrol the students as from uploaded photos instead of the kiosk's camera: no
        /// live reference, so the photo-attack check judges them with its generic model.
        #[arg(long)]
        from_uploads: bool,
        /// People queue at the door: each appearance straight after the last (no empty
        /// door between), people in turns, so one steps in where another just stood.
        #[arg(long)]
        queue: bool,
        /// Students appear only in sessions other than the one they were enrolled from
        /// (with --from-uploads: a school's first days after enrolling from its photos).
        #[arg(long)]
        other_sessions_only: bool,
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks; each prints a table (or JSON) with the machine named.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Write FaceNet's aligned chip of the largest face of every photo of a
    /// folder-per-person set (raw 160×160 RGB), for `scripts/facenet_int8.py statistics`.
    FacenetChips {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        #[arg(value_name = "OUT")]
        out: PathBuf,
    },
    /// Pixelate every face found in these pictures, in place (for screenshots of data-set
    /// faces that may not be shown).
    PixelateFaces {
        /// Instead, pixelate everything but the largest face and the head around it
        /// (frames played to the kiosk: bystanders in the background become unrecognisable,
        /// the student stays recognisable to the kiosk).
        #[arg(long)]
        background: bool,
        #[arg(value_name = "PICTURE", required = true)]
        pictures: Vec<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
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
        #[arg(long, value_name = "DIR")]
        source: Option<PathBuf>,
        #[arg(long, default_value_t = 200)]
        requests: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Then send this many marks at once, reading /getdata meanwhile.
        #[arg(long, value_name = "N")]
        burst: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Identification time per face, start-up time and memory with 1,000 to 100,000
    /// synthetic students (5 templates per model each), each size in a fresh process.
    Identify {
        /// Class sizes.
        #[arg(long, value_delimiter = ',', default_values_t = [1, 1000, 10000])]
        students: Vec<usize>,
        #[arg(long)]
        json: bool,
    },
    /// (Used by `bench identify`: measures this process on the --data-dir's students.)
    #[command(hide = true)]
    IdentifyHere,
    /// Frame time of the review table with 2,000 students × 200 days (synthetic).
    Review {
        #[arg(long, default_value_t = 2000)]
        students: usize,
        #[arg(long, default_value_t = 200)]
        days: usize,
        #[arg(long)]
        json: bool,
    },
    /// Frame time of the Students screen's list with 2,000 students (synthetic).
    Students {
        #[arg(long, default_value_t = 2000)]
        students: usize,
        #[arg(long)]
        json: bool,
    },
    /// Backups of 300 and 3,000 students (synthetic, five photos each): time to write, size,
    /// and the daily backup's quarter-hourly look.
    Backup {
        /// A folder of frames: its first, stored as the kiosk stores photos, is every photo.
        #[arg(long, value_name = "DIR")]
        source: PathBuf,
        #[arg(long, value_delimiter = ',', default_values_t = [300, 3000])]
        students: Vec<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Several doors on one PostgreSQL school server: marks per second from N doors
    /// delivering a backlog, and the time from an enrolment at the office to every door.
    School {
        /// A scratch database on the school server (the benchmark adds synthetic students).
        #[arg(long, value_name = "URL")]
        database: String,
        #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 4, 8])]
        doors: Vec<usize>,
        /// Marks each door makes while the server is out of reach.
        #[arg(long, default_value_t = 500)]
        marks: usize,
        #[arg(long)]
        json: bool,
    },
    /// A new door joining a large school: how long its first fetch takes, its memory, and
    /// how long its kiosk waits meanwhile to write a mark; then how long the door takes to
    /// join again after leaving the school.
    SchoolJoin {
        /// A scratch database on the school server (the benchmark adds synthetic students).
        #[arg(long, value_name = "URL")]
        database: String,
        #[arg(long, default_value_t = 10_000)]
        students: usize,
        /// Days of marks of every student.
        #[arg(long, default_value_t = 40)]
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

fn main() -> ExitCode {
    rollcall::cli::init_logging();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rollcall-tools: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let data_dir = cli.data_dir.as_deref();
    let settings = settings_for(&DataDir::resolve(data_dir))?;
    match cli.command {
        Command::Eval {
            dir,
            enroll,
            json,
            classroom: true,
            sizes,
            camera,
            shortlist,
            ..
        } => run_classroom(&dir, enroll, &sizes, camera, shortlist, json, &settings),
        Command::Eval {
            dir,
            enroll,
            json,
            baseline,
            shortlist,
            ..
        } => run_eval(&dir, enroll, json, baseline, shortlist, &settings),
        Command::EvalCues { frames, json } => eval_cues(&frames, json, data_dir),
        Command::FacenetChips { dir, out } => {
            let mut engine = FaceEngine::load(&settings)?;
            let n = rollcall_tools::chips::write_chips(&mut engine, &dir, &out)?;
            println!("{n} chips written to {}", out.display());
            Ok(())
        }
        Command::EvalLiveness {
            frames, site, json, ..
        } if site => eval_site_adaptation(&frames, json, data_dir, &settings),
        Command::EvalLiveness {
            frames,
            model,
            json,
            ..
        } => eval_liveness(&frames, model, json, data_dir, &settings),
        Command::EvalLive {
            live,
            spoof,
            enrolled,
            fps,
            held_out_liveness,
            from_uploads,
            queue,
            other_sessions_only,
            json,
        } => {
            let held_out = match held_out_liveness.as_slice() {
                [train_live, train_spoof] => {
                    let frames = LivenessFrames {
                        live: train_live.clone(),
                        spoof: train_spoof.clone(),
                        people: Vec::new(),
                    };
                    let samples = rollcall::cli::liveness::samples(&frames, data_dir)?;
                    let bar = progress_bar(samples.people().len(), "training", "people left out");
                    let models =
                        rollcall_tools::live_eval::held_out_models(&samples, |_| bar.inc(1))?;
                    bar.finish_and_clear();
                    models
                }
                _ => Default::default(),
            };
            let playback = rollcall_tools::live_eval::Playback {
                fps,
                enrolled_from: if from_uploads {
                    rollcall::recognition::Origin::Upload
                } else {
                    rollcall::recognition::Origin::Camera
                },
                queue,
                other_sessions_only,
            };
            let f = rollcall_tools::live_eval::run(
                &live, &spoof, &enrolled, playback, &settings, held_out,
            )?;
            if json {
                println!("{}", serde_json::to_string(&f)?);
            } else {
                println!("Machine: {}", bench::machine());
                rollcall_tools::live_eval::print(&f);
            }
            Ok(())
        }
        Command::PixelateFaces {
            background,
            pictures,
        } => pixelate_faces(&pictures, background, &settings),
        Command::Bench(b) => run_bench(b, data_dir, &settings),
    }
}

fn run_bench(b: BenchCommand, data_dir: Option<&Path>, settings: &Settings) -> anyhow::Result<()> {
    let print_json = |v: serde_json::Value| println!("{v}");
    match b {
        BenchCommand::Pipeline { source, json } => {
            let frames = bench::frames_640x480(&source, 60)?;
            if frames.is_empty() {
                bail!(
                    "{} holds no photos: give a folder of frames, such as webcam-dev/0001",
                    source.display()
                );
            }
            let rows = bench::pipeline(&frames, settings)?;
            if json {
                print_json(serde_json::to_value(&rows)?);
            } else {
                bench::print_steps(&rows);
            }
        }
        BenchCommand::Api {
            source,
            requests,
            concurrency,
            burst,
            json,
        } => {
            let source = source.unwrap_or_else(|| rollcall_tools::datasets_dir().join("lfw-dev"));
            let r = bench::api(&source, 20, requests, concurrency, burst, settings)?;
            if json {
                print_json(serde_json::to_value(&r)?);
            } else {
                println!("Machine: {}", bench::machine());
                println!("| requests | concurrency | marks per second | latency ms p50 | latency ms p95 |");
                println!("|---|---|---|---|---|");
                println!(
                    "| {} | {} | {:.1} | {:.0} | {:.0} |",
                    r.requests, r.concurrency, r.marks_per_s, r.latency_ms_p50, r.latency_ms_p95
                );
                if let Some(b) = &r.burst {
                    println!();
                    println!("| burst | answers (status: count) | slowest answer s | /getdata during it: requests, ms p50, ms p99 |");
                    println!("|---|---|---|---|");
                    let answers: Vec<String> =
                        b.answers.iter().map(|(c, n)| format!("{c}: {n}")).collect();
                    println!(
                        "| {} | {} | {:.1} | {}, {:.0}, {:.0} |",
                        b.requests,
                        answers.join(", "),
                        b.slowest_s,
                        b.getdata_requests,
                        b.getdata_ms_p50,
                        b.getdata_ms_p99
                    );
                }
            }
        }
        BenchCommand::Review {
            students,
            days,
            json,
        } => {
            let r = bench::review(students, days, 300);
            if json {
                print_json(serde_json::to_value(&r)?);
            } else {
                println!("Machine: {}", bench::machine());
                println!("| students × days | frames | frame ms p50 | frame ms p99 |");
                println!("|---|---|---|---|");
                println!(
                    "| {} × {} | {} | {:.2} | {:.2} |",
                    r.students, r.days, r.frames, r.frame_ms_p50, r.frame_ms_p99
                );
            }
        }
        BenchCommand::Students { students, json } => {
            let r = bench::students(students, 300);
            if json {
                print_json(serde_json::to_value(&r)?);
            } else {
                println!("Machine: {}", bench::machine());
                println!("| students | frames | frame ms p50 | frame ms p99 |");
                println!("|---|---|---|---|");
                println!(
                    "| {} | {} | {:.2} | {:.2} |",
                    r.students, r.frames, r.frame_ms_p50, r.frame_ms_p99
                );
            }
        }
        BenchCommand::Identify { students, json } => {
            let rows = bench::identify(&students, &DataDir::resolve(data_dir))?;
            if json {
                print_json(serde_json::to_value(&rows)?);
            } else {
                println!("Machine: {}", bench::machine());
                println!(
                    "| students | identify ms p50 | identify ms p95 | start-up s | RSS MB \
                     | peak RSS MB | same decision as every template | matched |"
                );
                println!("|---|---|---|---|---|---|---|---|");
                for r in rows {
                    println!(
                        "| {} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.1} % | {:.1} % |",
                        r.students,
                        r.identify_ms_p50,
                        r.identify_ms_p95,
                        r.startup_s,
                        r.rss_mb,
                        r.peak_rss_mb,
                        100.0 * r.same_decision,
                        100.0 * r.matched
                    );
                }
            }
        }
        BenchCommand::Backup {
            source,
            students,
            json,
        } => {
            let rows = bench::backup(&students, &source)?;
            if json {
                print_json(serde_json::to_value(&rows)?);
            } else {
                println!("Machine: {}", bench::machine());
                println!(
                    "| students | photos | photos MB | backup s | backup MB | daily look ms | delete one s |"
                );
                println!("|---|---|---|---|---|---|---|");
                for r in rows {
                    println!(
                        "| {} | {} | {:.0} | {:.2} | {:.0} | {:.1} | {:.2} |",
                        r.students,
                        r.photos,
                        r.photos_mb,
                        r.backup_s,
                        r.backup_mb,
                        r.look_ms,
                        r.erase_s
                    );
                }
            }
        }
        BenchCommand::School {
            database,
            doors,
            marks,
            json,
        } => {
            let rows = school_bench::school(&database, &doors, marks)?;
            if json {
                print_json(serde_json::to_value(&rows)?);
            } else {
                println!("Machine: {}", bench::machine());
                println!("| doors | marks | marks/s into the server | enrolment → every door p50 ms | p95 ms |");
                println!("|---|---|---|---|---|");
                for r in rows {
                    println!(
                        "| {} | {} | {:.0} | {:.0} | {:.0} |",
                        r.doors,
                        r.marks,
                        r.marks_per_s,
                        r.enrol_to_door_ms_p50,
                        r.enrol_to_door_ms_p95
                    );
                }
            }
        }
        BenchCommand::SchoolJoin {
            database,
            students,
            days,
            json,
        } => {
            let r = school_bench::join(&database, students, days)?;
            if json {
                print_json(serde_json::to_value(&r)?);
            } else {
                println!("Machine: {}", bench::machine());
                println!("| students | templates | marks | first fetch s | peak memory MB | longest wait to write s | writes refused | joining again s |");
                println!("|---|---|---|---|---|---|---|---|");
                println!(
                    "| {} | {} | {} | {:.1} | {:.0} | {:.2} | {} | {:.1} |",
                    r.students,
                    r.templates,
                    r.marks,
                    r.seconds,
                    r.peak_memory_mb,
                    r.longest_write_wait_s,
                    r.writes_refused,
                    r.join_again_seconds
                );
            }
        }
        BenchCommand::IdentifyHere => {
            let dir = DataDir::resolve(data_dir);
            print_json(serde_json::to_value(bench::identify_here(&dir, settings)?)?);
        }
        BenchCommand::Enroll { source, json } => {
            let mut photos = rollcall::vision::image_io::images_in(&source)?;
            photos.truncate(10);
            let rows = bench::enroll(&photos, &[1, 5000], settings)?;
            if json {
                print_json(serde_json::to_value(&rows)?);
            } else {
                println!("Machine: {}", bench::machine());
                println!(
                    "| students already enrolled | photos | seconds p50 | seconds max | runs |"
                );
                println!("|---|---|---|---|---|");
                for r in rows {
                    println!(
                        "| {} | {} | {:.2} | {:.2} | {} |",
                        r.students_already_enrolled, r.photos, r.seconds_p50, r.seconds_max, r.runs
                    );
                }
            }
        }
        BenchCommand::Live { source, fps, json } => {
            let r = bench::live(&source, fps, settings)?;
            if json {
                print_json(serde_json::to_value(&r)?);
            } else {
                println!("Machine: {}", bench::machine());
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
    Ok(())
}

fn eval_liveness(
    frames: &LivenessFrames,
    model_dir: Option<PathBuf>,
    json: bool,
    data_dir: Option<&Path>,
    settings: &Settings,
) -> anyhow::Result<()> {
    // A given model is loaded first: a missing one is reported before any frame is read.
    let model = model_dir
        .map(|dir| rollcall::vision::liveness::LivenessModel::load(&dir))
        .transpose()?;
    let samples = rollcall::cli::liveness::samples(frames, data_dir)?;
    let threshold = settings.liveness.threshold;
    let report = match model {
        Some(model) => liveness_eval::evaluate(&samples, &model, threshold)?,
        None => {
            let people = samples.people().len();
            let bar = progress_bar(people, "training", "people left out");
            let r = liveness_eval::leave_one_person_out(&samples, threshold, |_| bar.inc(1))?;
            bar.finish_and_clear();
            r
        }
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        liveness_eval::print_report(&report);
    }
    Ok(())
}

fn eval_cues(frames: &LivenessFrames, json: bool, data_dir: Option<&Path>) -> anyhow::Result<()> {
    let (list, mut engine) = rollcall::cli::liveness::frames_and_engine(frames, data_dir)?;
    let bar = progress_bar(list.len(), "cues", "frames");
    let report = rollcall_tools::cue_study::study(&mut engine, &list, || bar.inc(1))?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        rollcall_tools::cue_study::print_report(&report);
    }
    Ok(())
}

fn eval_site_adaptation(
    frames: &LivenessFrames,
    json: bool,
    data_dir: Option<&Path>,
    settings: &Settings,
) -> anyhow::Result<()> {
    let samples = rollcall::cli::liveness::samples(frames, data_dir)?;
    let bar = progress_bar(samples.people().len(), "adapting", "sites");
    let report = liveness_eval::site_adaptation(
        &samples,
        settings.liveness.threshold,
        settings.liveness.min_frames,
        || bar.inc(1),
    )?;
    bar.finish_and_clear();
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        liveness_eval::print_site_report(&report);
    }
    Ok(())
}

fn run_eval(
    dir: &Path,
    k: usize,
    json: bool,
    with_baseline: bool,
    shortlist: Option<usize>,
    settings: &Settings,
) -> anyhow::Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a folder of people's photos", dir.display());
    }
    let protocol = Protocol::from_dir(dir, k)?;
    if protocol.enrolled.is_empty() {
        bail!(
            "nobody in {} has more than {k} photos, so nobody can be enrolled",
            dir.display()
        );
    }
    let mut engine = FaceEngine::load(settings)?;
    let paths = protocol.paths();
    // The progress bar goes to stderr and hides itself when stderr is not a terminal.
    let bar = progress_bar(paths.len(), "embedding", "photos");
    let enrolment: std::collections::HashSet<&Path> = protocol
        .enrolled
        .iter()
        .flat_map(|(_, e, _)| e.iter().map(|p| p.as_path()))
        .collect();
    let mut set = FaceSet::embed(
        &mut engine,
        &paths,
        |p| enrolment.contains(p),
        || bar.inc(1),
    )?;
    bar.finish_and_clear();
    set.search = search_for(shortlist);
    let r = &settings.recognition;
    let (fused, mistakes) = protocol.evaluate_fused(&set, r);
    // Single models have no threshold of their own: only their threshold-free figures
    // (rank-1 and the sweep) are shown.
    let mut rows = vec![("Rollcall (fused, default)".to_string(), fused.clone(), true)];
    for id in engine.model_ids() {
        rows.push((
            format!("{id} alone"),
            protocol.evaluate(&set, r, &[id.to_string()]),
            false,
        ));
    }
    let baseline = if with_baseline {
        let bar = progress_bar(protocol.photo_count(), "baseline", "photos");
        let m = eval::baseline::baseline(&protocol, || bar.inc(1))?;
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
    if json {
        let mut v = serde_json::to_value(&fused)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("mistakes".into(), serde_json::to_value(&mistakes)?);
            if let Some(b) = baseline {
                obj.insert("baseline".into(), serde_json::to_value(b)?);
            }
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
        print_mistakes("Rollcall's mistakes", &mistakes);
    }
    Ok(())
}

/// Who was taken for whom, most frequent first.
fn print_mistakes(title: &str, mistakes: &[eval::Mistake]) {
    if mistakes.is_empty() {
        return;
    }
    println!("\n{title} (photo of → marked as: times, different photos, one of them):");
    for m in mistakes {
        println!(
            "- {} {} → {}: {}, {}, e.g. {}",
            m.kind,
            m.person,
            m.marked_as,
            count(m.times, "time"),
            count(m.photos, "photo"),
            m.example
        );
    }
}

/// The search `--shortlist` asks for: the default one, or a shortlist whatever the size.
fn search_for(shortlist: Option<usize>) -> rollcall::recognition::Search {
    match shortlist {
        Some(n) => rollcall::recognition::Search {
            exact_up_to: 0,
            shortlist: n,
        },
        None => rollcall::recognition::Search::default(),
    }
}

/// The classroom protocol (strangers from the same camera), class size by class size.
fn run_classroom(
    dir: &Path,
    k: usize,
    sizes: &[usize],
    camera: bool,
    shortlist: Option<usize>,
    json: bool,
    settings: &Settings,
) -> anyhow::Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a folder of people's photos", dir.display());
    }
    let people = classroom::people(dir, k)?;
    if people.len() < 2 {
        bail!("the classroom protocol needs at least two people with two photos each");
    }
    let sizes = if sizes.is_empty() {
        classroom::default_sizes(people.len())
    } else {
        sizes.to_vec()
    };
    let mut engine = FaceEngine::load(settings)?;
    let paths = classroom::paths(&people);
    let bar = progress_bar(paths.len(), "embedding", "photos");
    let mut set = FaceSet::embed(&mut engine, &paths, |_| true, || bar.inc(1))?;
    bar.finish_and_clear();
    set.search = search_for(shortlist);
    let source = if camera {
        rollcall::recognition::Source::Camera
    } else {
        rollcall::recognition::Source::Photo
    };
    let figures = classroom::evaluate(&people, &set, &sizes, source, settings);
    if json {
        println!(
            "{}",
            serde_json::json!({ "people": people.len(), "classroom": figures })
        );
        return Ok(());
    }
    println!(
        "{} people; enrolled with up to {k} photos of their first session; probes from their other sessions",
        people.len()
    );
    println!("| enrolled | rotations | genuine probes | correct accept (worst rotation) | wrong person (worst) | stranger probes | strangers accepted (worst rotation) | no face | fast model alone | correct @1 % strangers, per rotation (worst) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {} | {} | {} ({}) | {} ({}) | {} | {} ({}) | {} | {} | {} ({}) |",
            f.gallery_size,
            f.rotations,
            f.genuine_probes,
            pct(f.correct_accept),
            pct(f.correct_accept_worst),
            pct(f.wrong_person),
            pct(f.wrong_person_worst),
            f.stranger_probes,
            pct(f.stranger_accept),
            pct(f.stranger_accept_worst),
            pct(f.no_face),
            pct(f.fast_answers),
            pct(f.correct_at_1pct_mean),
            pct(f.correct_at_1pct_worst)
        );
    }
    // The kiosk judges only clear faces near enough; the others are asked to adjust.
    if figures.iter().any(|f| f.kiosk_judged.is_some()) {
        println!();
        println!("Frames the kiosk judges (a face clear and near enough; it asks the others to adjust, and judges a later frame):");
        println!("| enrolled | share of faces found | correct accept (worst rotation) | strangers accepted (worst rotation) |");
        println!("|---|---|---|---|");
        for f in &figures {
            if let Some(k) = &f.kiosk_judged {
                println!(
                    "| {} | {} | {} ({}) | {} ({}) |",
                    f.gallery_size,
                    pct(k.judged),
                    pct(k.correct_accept),
                    pct(k.correct_accept_worst),
                    pct(k.stranger_accept),
                    pct(k.stranger_accept_worst)
                );
            }
        }
    }
    // Who is taken for whom: what to look at before trusting the figures (twins, a
    // mislabelled photo, a student whose photos are poor).
    for f in &figures {
        print_mistakes(
            &format!(
                "Most frequent mistakes with {} enrolled, over the rotations",
                f.gallery_size
            ),
            &f.mistakes,
        );
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

/// Pixelates each face (and the hair around it) in each picture, or with `background`
/// everything but the largest face's head; says how many faces it found.
fn pixelate_faces(
    pictures: &[PathBuf],
    background: bool,
    settings: &Settings,
) -> anyhow::Result<()> {
    use opencv::core::Rect;
    use opencv::prelude::*;
    let mut settings = settings.clone();
    settings.detector.min_face_px = 20.0;
    settings.detector.thresholds = [0.5, 0.6, 0.6];
    let mut engine = FaceEngine::load(&settings)?;
    for path in pictures {
        let name = path.to_string_lossy();
        let mut picture = opencv::imgcodecs::imread(&*name, opencv::imgcodecs::IMREAD_COLOR)?;
        if picture.empty() {
            bail!("cannot read {name}");
        }
        let whole = Rect::new(0, 0, picture.cols(), picture.rows());
        let faces = engine.detect(&picture)?;
        // The face with a margin: with `background`, the head and shoulders kept sharp.
        let around = |f: &rollcall::vision::Face, wider: f32| {
            let (w, h) = (f.width(), f.y2 - f.y1);
            Rect::new(
                (f.x1 - wider * w) as i32,
                (f.y1 - wider * h) as i32,
                ((1.0 + 2.0 * wider) * w) as i32,
                ((1.0 + 2.0 * wider) * h) as i32,
            ) & whole
        };
        if background {
            let head = faces.first().map(|f| around(f, 0.2));
            let kept = match head {
                Some(r) => Some(Mat::roi(&picture, r)?.try_clone()?),
                None => None,
            };
            pixelate(&mut picture, whole, 12)?;
            if let (Some(r), Some(kept)) = (head, kept) {
                kept.copy_to(&mut Mat::roi_mut(&mut picture, r)?)?;
            }
        } else {
            for f in &faces {
                // Inside the box the kiosk draws round the face, so the box and its tag stay.
                let area = around(f, -0.05);
                pixelate(&mut picture, area, (area.width / 8).max(4))?;
            }
        }
        opencv::imgcodecs::imwrite(&*name, &picture, &opencv::core::Vector::new())?;
        println!("{name}: {} found", count(faces.len(), "face"));
    }
    Ok(())
}

/// Replaces `area` of `picture` by blocks of `block` pixels.
fn pixelate(
    picture: &mut opencv::core::Mat,
    area: opencv::core::Rect,
    block: i32,
) -> anyhow::Result<()> {
    use opencv::core::{Mat, Size};
    use opencv::imgproc::{resize, INTER_AREA, INTER_NEAREST};
    use opencv::prelude::*;
    let mut roi = Mat::roi_mut(picture, area)?;
    let (mut small, mut big) = (Mat::default(), Mat::default());
    let cells = Size::new((area.width / block).max(1), (area.height / block).max(1));
    resize(&roi, &mut small, cells, 0.0, 0.0, INTER_AREA)?;
    resize(&small, &mut big, area.size(), 0.0, 0.0, INTER_NEAREST)?;
    big.copy_to(&mut roi)?;
    Ok(())
}
