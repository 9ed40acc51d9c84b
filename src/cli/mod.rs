//! The command line: the same services the kiosk and the HTTP API call. Each command has
//! its own small function; `run` only dispatches.

pub mod liveness;
mod records;
mod reports;
mod school;

use crate::camera::{list_cameras, SourceSpec};
use crate::data_dir::DataDir;
use crate::kiosk::autostart::{Autostart, StartedWith};
use crate::kiosk::DoorSource;
use crate::settings::Settings;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Rollcall: a face-recognition attendance kiosk.
#[derive(Parser, Debug)]
#[command(name = "rollcall", version, about)]
pub struct Cli {
    /// Data folder (database, photos, settings). Default: $ROLLCALL_DATA_DIR or ./data
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The school's PostgreSQL server (postgres://user:password@host/rollcall), for several
    /// doors; default: $ROLLCALL_DATABASE, else `[school] database` in the settings, else
    /// none (this data folder is the whole school).
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// This door's name with the school server (default: `[school] door`, else the room).
    #[arg(long, global = true, value_name = "NAME")]
    pub door: Option<String>,
    /// Kiosk: play this video file or folder of images instead of the camera.
    #[arg(long, value_name = "PATH")]
    pub source: Option<PathBuf>,
    /// Kiosk: frames per second for --source (a folder defaults to 15).
    #[arg(long, value_name = "N")]
    pub fps: Option<f64>,
    /// Kiosk: start the --source again when it ends.
    #[arg(long = "loop")]
    pub looping: bool,
    /// Kiosk: a try-out: show whom the door recognises and mark nobody.
    #[arg(long = "try-out")]
    pub try_out: bool,
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
        /// Photos of the student (JPEG, PNG, HEIC, AVIF, BMP or WebP).
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
    /// Correct a student's roll number (one typed wrong), name or email; what is not given
    /// stays. Their attendance, photos and face data stay theirs.
    Edit {
        /// The student's roll number as it is now.
        #[arg(value_name = "ROLL_NO")]
        roll_no: String,
        /// The corrected roll number.
        #[arg(long = "roll-no", value_name = "NEW_ROLL_NO")]
        new_roll_no: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// The corrected roll number or email address is another student's (typed the
        /// wrong way round): swap them, that student gets this one's.
        #[arg(long)]
        swap: bool,
    },
    /// Delete students (a class that has left) with everything about them, or with
    /// --face-data only their photos and face templates (their attendance stays). Without
    /// --yes it only lists whom it would delete.
    Delete {
        /// Roll numbers of the students.
        #[arg(value_name = "ROLL_NO", required = true)]
        roll_nos: Vec<String>,
        /// Erase only the face data: photos, templates, snapshots; keep the student and
        /// their attendance.
        #[arg(long)]
        face_data: bool,
        /// Do it (without it, nothing is deleted: the students are listed).
        #[arg(long)]
        yes: bool,
    },
    /// Record that a student left the school (moved away, changed school): their
    /// attendance up to their last day in class stays, the days after it do not count for
    /// them, they get no more email reports, and their face data is erased once that day
    /// is over (it may be up to a year ahead). With --back, that a student who left is in
    /// the class again (the days between their last day and their first day back count for
    /// nobody), or not leaving after all. Without --yes it only says what it would do.
    Left {
        /// The student's roll number.
        #[arg(value_name = "ROLL_NO")]
        roll_no: String,
        /// Their last day in class, YYYY-MM-DD (today when not given; a day ahead keeps
        /// their face until it is over).
        #[arg(long, conflicts_with = "back")]
        last_day: Option<chrono::NaiveDate>,
        /// The student is in the class again.
        #[arg(long)]
        back: bool,
        /// With --back: their first day back, YYYY-MM-DD (today when not given, or the day
        /// after their last day if that is later: a leave recorded by mistake, undone).
        #[arg(long, requires = "back")]
        first_day_back: Option<chrono::NaiveDate>,
        /// Do it (without it, nothing is changed).
        #[arg(long)]
        yes: bool,
    },
    /// Make this data folder a door of its own again, no longer linked to a school server
    /// (remove the server from its settings first). Without --yes it only says what it
    /// would leave unsent.
    LeaveSchool {
        /// Do it (without it, nothing is changed).
        #[arg(long)]
        yes: bool,
    },
    /// Marks made on this machine while its clock was ahead (dated after today, or refused
    /// by the school server as dated ahead; no attendance is taken while there are some).
    /// Without --yes it only says what it would remove.
    FutureMarks {
        /// Remove them (today's date is the right one).
        #[arg(long)]
        yes: bool,
    },
    /// Enrol many students: a folder of `ROLLNO_Name` folders, or a CSV of roll no, name,
    /// email, photo paths.
    Import {
        #[arg(value_name = "DIR_OR_CSV")]
        path: PathBuf,
        /// For students without an email (no email.txt in their folder, an empty third
        /// column in the CSV): use ROLLNO@DOMAIN.
        #[arg(long, value_name = "DOMAIN")]
        email_domain: Option<String>,
    },
    /// List the cameras on this machine.
    Cameras,
    /// Start the kiosk full screen when this computer's account logs in (on), or no
    /// longer (off); without either, say whether it does. With --camera, --database or
    /// --door, the kiosk is started with them too.
    Autostart {
        #[arg(value_enum)]
        turn: Option<OnOff>,
    },
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
        /// A door's token (repeat for each door; added to `[api] door_tokens`): then
        /// `POST /attendance` needs `Authorization: Bearer` with one of them.
        #[arg(long = "door-token", value_name = "TOKEN")]
        door_tokens: Vec<String>,
    },
    /// A door without a window: the kiosk's recognition on a camera or a recording, each
    /// verdict printed as a JSON line (for a second door, a test or a benchmark).
    Door {
        /// Play this video file or folder of images instead of the camera.
        #[arg(long, value_name = "PATH")]
        source: Option<PathBuf>,
        /// Frames per second for --source (a folder defaults to 15).
        #[arg(long, value_name = "N")]
        fps: Option<f64>,
        /// Start the --source again when it ends.
        #[arg(long = "loop")]
        looping: bool,
        /// A try-out: print whom the door recognises and mark nobody.
        #[arg(long = "try-out")]
        try_out: bool,
        /// Camera index or part of its name (overrides the settings).
        #[arg(long, value_name = "CAMERA")]
        camera: Option<String>,
    },
    /// Save the database and the enrolment photos in one new file (Rollcall may keep
    /// running meanwhile).
    Backup {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Remove a forgotten admin PIN: the next person to open Admin at the kiosk chooses a
    /// new one.
    ForgetPin,
    /// The audit log: the last changes made (enrolments, corrections, deletions, backups,
    /// restores…), newest first, who made them and how.
    Audit {
        /// How many of the last entries.
        #[arg(long, value_name = "N", default_value_t = 50)]
        last: usize,
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
}

/// Frames for the photo-attack check: live people and photo attacks, one folder per person.
#[derive(clap::Args, Debug, Clone)]
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
        /// Count today too, once its classes are over (by default the reports count up to
        /// yesterday: a student not yet come in is not told they were absent today).
        #[arg(long)]
        with_today: bool,
        /// Show who would get what, and send nothing.
        #[arg(long)]
        preview: bool,
        /// Only this student (roll number; give it once per student): e.g. those whose
        /// message the mail server did not take, sent again once put right.
        #[arg(long, value_name = "ROLLNO")]
        only: Vec<String>,
    },
    /// The email log: the last messages sent or not sent, newest first, and why one was
    /// not sent.
    Log {
        /// How many of the last messages.
        #[arg(long, value_name = "N", default_value_t = 50)]
        last: usize,
        /// Only those not sent (of the last N).
        #[arg(long)]
        not_sent: bool,
    },
}

/// How a command ended, for the process exit code.
pub enum Exit {
    Ok,
    /// The request was understood but refused (e.g. "User not found").
    Refused,
}

/// The data folder's settings (defaults when there is no settings file).
pub fn settings_for(data: &DataDir) -> anyhow::Result<Settings> {
    Ok(Settings::load(&data.settings())?)
}

/// The kiosk's options given with a command that has no use for them (they would be
/// silently ignored): what to tell whoever typed them.
fn unused_kiosk_options(cli: &Cli) -> Option<String> {
    let command = cli.command.as_ref()?;
    let door = matches!(command, Command::Door { .. });
    let unused: Vec<&str> = [
        ("--source", cli.source.is_some() && !door),
        ("--fps", cli.fps.is_some() && !door),
        ("--loop", cli.looping && !door),
        ("--try-out", cli.try_out && !door),
        (
            "--camera",
            cli.camera.is_some() && !door && !matches!(command, Command::Autostart { .. }),
        ),
        ("--fullscreen", cli.fullscreen),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    let (is, it) = match unused.len() {
        0 => return None,
        1 => ("is an option", "it"),
        _ => ("are options", "them"),
    };
    let of = if unused == ["--fullscreen"] {
        "the kiosk window (`rollcall` without a command)"
    } else {
        "the kiosk (`rollcall` without a command, or `rollcall door`)"
    };
    Some(format!(
        "{} {is} of {of}, not of this command: leave {it} out.",
        unused.join(" and ")
    ))
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    if let Some(problem) = unused_kiosk_options(&cli) {
        anyhow::bail!(problem);
    }
    let data_dir = cli.data_dir.as_deref();
    let settings = settings_for(&DataDir::resolve(data_dir))?;
    // What the kiosk started at login is to be given again (not the settings' own).
    let started_with = StartedWith {
        data_dir: DataDir::resolve(data_dir).root().to_path_buf(),
        database: cli
            .database
            .clone()
            .or_else(|| std::env::var("ROLLCALL_DATABASE").ok()),
        door: cli.door.clone(),
        camera: cli.camera.clone(),
    };
    let server = school::server_for(cli.database, cli.door, &settings)?;
    let server = server.as_ref();
    let around =
        |command: &dyn Fn() -> anyhow::Result<Exit>| school::around(server, data_dir, command);
    let result = match cli.command {
        None => kiosk(
            data_dir,
            SourceOptions {
                source: cli.source,
                fps: cli.fps,
                looping: cli.looping,
                try_out: cli.try_out,
                camera: cli.camera,
            },
            cli.fullscreen,
            server,
        ),
        Some(Command::Enroll {
            roll_no,
            name,
            email,
            photos,
        }) => around(&|| records::enroll(data_dir, &roll_no, &name, &email, &photos)),
        Some(Command::Mark { photo }) => around(&|| records::mark(data_dir, &photo)),
        Some(Command::Students) => around(&|| records::students(data_dir)),
        Some(Command::Edit {
            roll_no,
            new_roll_no,
            name,
            email,
            swap,
        }) => around(&|| {
            let change = records::StudentChange {
                roll_no: new_roll_no.as_deref(),
                name: name.as_deref(),
                email: email.as_deref(),
                swap,
            };
            records::edit(data_dir, &roll_no, &change)
        }),
        Some(Command::Delete {
            roll_nos,
            face_data,
            yes,
        }) => around(&|| records::delete(data_dir, &roll_nos, face_data, yes)),
        Some(Command::Left {
            roll_no,
            last_day,
            back,
            first_day_back,
            yes,
        }) => around(&|| {
            let day = if back {
                records::LeaveDay::FirstBack(first_day_back)
            } else {
                records::LeaveDay::Last(last_day)
            };
            records::left(data_dir, &roll_no, day, yes)
        }),
        Some(Command::Import { path, email_domain }) => {
            around(&|| records::import(data_dir, &path, email_domain.as_deref()))
        }
        Some(Command::LeaveSchool { yes }) => school::leave(server, data_dir, yes),
        Some(Command::Backup { file }) => records::backup(data_dir, &file),
        Some(Command::Restore { file }) => records::restore(data_dir, &file),
        Some(Command::ForgetPin) => records::forget_pin(data_dir),
        Some(Command::Audit { last }) => records::audit_log(data_dir, last),
        Some(Command::FutureMarks { yes }) => around(&|| records::future_marks(data_dir, yes)),
        Some(Command::Cameras) => cameras(),
        Some(Command::Autostart { turn }) => autostart(turn, &started_with),
        Some(Command::Export {
            from,
            to,
            format,
            output,
        }) => around(&|| reports::export(data_dir, from, to, format, &output)),
        Some(Command::Report(ReportCommand::Email {
            under,
            from,
            to,
            with_today,
            preview,
            only,
        })) => around(&|| {
            let run = reports::EmailRun {
                under,
                from,
                to,
                with_today,
                only: &only,
            };
            reports::email(data_dir, run, preview)
        }),
        Some(Command::Report(ReportCommand::Log { last, not_sent })) => {
            reports::email_log(data_dir, last, not_sent)
        }
        Some(Command::Serve {
            listen,
            token,
            door_tokens,
        }) => serve(data_dir, listen, token, door_tokens, server),
        Some(Command::Door {
            source,
            fps,
            looping,
            try_out,
            camera,
        }) => school::door(
            data_dir,
            // `rollcall --source rec.mp4 door` means the same as `rollcall door --source
            // rec.mp4`: the kiosk's options before the command are not dropped.
            SourceOptions {
                source: source.or(cli.source),
                fps: fps.or(cli.fps),
                looping: looping || cli.looping,
                try_out: try_out || cli.try_out,
                camera: camera.or(cli.camera),
            },
            server,
        ),
        Some(Command::TrainLiveness { frames, out }) => {
            let out = out.unwrap_or_else(crate::vision::liveness::default_liveness_dir);
            liveness::train(&frames, &out, data_dir)?;
            Ok(Exit::Ok)
        }
    };
    // A damaged database: the command that restores the newest daily backup, by name.
    result.map_err(|e| match e.downcast_ref::<crate::store::StoreError>() {
        Some(crate::store::StoreError::Corrupt) => anyhow::anyhow!(crate::store::damaged_advice(
            &settings.backup.folder_in(&DataDir::resolve(data_dir)),
            crate::store::AdviceFor::Commands,
        )),
        _ => e,
    })
}

/// Where a kiosk's frames come from, as the command line says.
struct SourceOptions {
    source: Option<PathBuf>,
    fps: Option<f64>,
    looping: bool,
    try_out: bool,
    camera: Option<String>,
}

impl SourceOptions {
    /// The recording given, else the camera (`--camera` over the settings' choice, which
    /// it also sets); a try-out with `--try-out`.
    fn frame_source(self, settings: &mut Settings) -> DoorSource {
        if let Some(c) = self.camera {
            settings.kiosk.camera = c;
        }
        let spec = match self.source {
            Some(path) => SourceSpec::from_path(path, self.fps, self.looping),
            None => SourceSpec::webcam(&settings.kiosk.camera, &settings.kiosk),
        };
        DoorSource {
            spec,
            try_out: self.try_out,
        }
    }
}

/// Opens the kiosk window.
fn kiosk(
    data_dir: Option<&Path>,
    options: SourceOptions,
    fullscreen: bool,
    server: Option<&crate::store::school::SchoolServer>,
) -> anyhow::Result<Exit> {
    let data = DataDir::resolve(data_dir).create()?;
    let mut settings = Settings::load_or_create(&data.settings())?;
    let source = options.frame_source(&mut settings);
    settings.school.no_server_here = server.is_none();
    // The kiosk's door thread shows the link's state; the link needs no window.
    let _link = school::start_link(server, &data)?;
    let _backups = crate::store::DailyBackups::start(&data, &settings.backup);
    crate::ui::run(
        crate::ui::AppOptions {
            data,
            settings,
            source,
            observer: None,
        },
        fullscreen,
    )?;
    Ok(Exit::Ok)
}

/// On or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

/// `rollcall autostart [on|off]`.
fn autostart(turn: Option<OnOff>, how: &StartedWith) -> anyhow::Result<Exit> {
    let entry = Autostart::for_this_account()
        .map_err(|why| anyhow::anyhow!("Rollcall cannot be started at login: {why}."))?;
    let path = entry.path().display().to_string();
    let problem = |e: std::io::Error| {
        anyhow::anyhow!(
            "The login entry {path} could not be changed: {}.",
            crate::wording::file_problem(&e)
        )
    };
    match turn {
        None if entry.is_on() => println!(
            "Rollcall starts full screen when this account logs in ({path}). `rollcall \
             autostart off` stops it."
        ),
        None => println!(
            "Rollcall does not start by itself. `rollcall autostart on` starts it full \
             screen when this account logs in."
        ),
        Some(OnOff::On) => {
            let data = DataDir::resolve(Some(&how.data_dir)).existing()?;
            entry.turn_on(how).map_err(problem)?;
            println!(
                "Rollcall will start full screen, with the data folder {}, when this \
                 account logs in ({path}). Set this computer to log the account in by \
                 itself, and the door comes back after a power cut or a restart. \
                 `rollcall autostart off` undoes it.",
                data.root().display()
            );
        }
        Some(OnOff::Off) => {
            entry.turn_off().map_err(problem)?;
            println!("Rollcall no longer starts by itself when this account logs in.");
        }
    }
    Ok(Exit::Ok)
}

fn cameras() -> anyhow::Result<Exit> {
    let cameras = list_cameras();
    if cameras.is_empty() {
        println!("No cameras found.");
    }
    for c in cameras {
        println!("{}\t{}", c.index, c.name);
    }
    Ok(Exit::Ok)
}

/// Why the server cannot listen where it was asked to, worded for whoever starts it.
fn listen_problem(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::AddrInUse => "another program already listens there (perhaps another \
            `rollcall serve`); stop it, or choose another port with --listen"
            .into(),
        ErrorKind::AddrNotAvailable => "this machine has no such address".into(),
        ErrorKind::NotFound => {
            "no machine is known by that name; give an address and port such as \
             0.0.0.0:5000"
                .into()
        }
        ErrorKind::InvalidInput => "give an address and port such as 0.0.0.0:5000".into(),
        ErrorKind::PermissionDenied => {
            "ports below 1024 need administrator rights; choose a port above 1024".into()
        }
        _ => crate::wording::file_problem(e),
    }
}

/// Serves the old HTTP contract until Ctrl-C.
fn serve(
    data_dir: Option<&Path>,
    listen: Option<String>,
    token: Option<String>,
    door_tokens: Vec<String>,
    server: Option<&crate::store::school::SchoolServer>,
) -> anyhow::Result<Exit> {
    let data = DataDir::resolve(data_dir).create()?;
    let mut settings = settings_for(&data)?;
    let _link = school::start_link(server, &data)?;
    let _backups = crate::store::DailyBackups::start(&data, &settings.backup);
    settings.api.door_tokens.extend(door_tokens);
    let listen = listen.unwrap_or_else(|| settings.api.listen.clone());
    let token = token.or_else(|| Some(settings.api.token.clone()));
    let state = crate::api::ApiState::open(data, settings, token)?;
    let engines = state.engines();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = crate::api::listen(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {}", listen_problem(&e)))?;
        eprintln!(
            "Rollcall API on http://{} ({}; Ctrl-C to stop)",
            listener.local_addr()?,
            crate::wording::count(engines, "recognition engine")
        );
        crate::api::serve(listener, state).await?;
        anyhow::Ok(())
    })?;
    Ok(Exit::Ok)
}

/// Logs warnings (or what `ROLLCALL_LOG` asks for, e.g. `debug`) to stderr.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROLLCALL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(len: usize, what: &str, unit: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{msg:>10}} [{{bar:40}}] {{pos}}/{{len}} {unit}, {{eta}} left"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
