//! Commands and the school server: which server (if any) a data folder is linked to, one
//! round of sending and fetching around a short command, and a door without a window.

use super::{settings_for, Exit, SourceOptions};
use crate::data_dir::DataDir;
use crate::kiosk::{CameraStatus, Kiosk, KioskEvent};
use crate::settings::Settings;
use crate::store::school::{self, SchoolLink, SchoolServer, Unsent};
use crate::wording::count;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The school server from `--database`, else `$ROLLCALL_DATABASE`, else the settings; and
/// this door's name from `--door`, else the settings, else the room's name.
pub fn server_for(
    database: Option<String>,
    door: Option<String>,
    settings: &Settings,
) -> anyhow::Result<Option<SchoolServer>> {
    let url = database
        .or_else(|| std::env::var("ROLLCALL_DATABASE").ok())
        .filter(|u| !u.trim().is_empty())
        .or_else(|| Some(settings.school.database.clone()).filter(|u| !u.trim().is_empty()));
    let Some(url) = url else {
        return Ok(None);
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        anyhow::bail!(
            "The school database must be a PostgreSQL address (postgres://user:password@host/rollcall); \
             a single door keeps its SQLite database in the data folder without one."
        );
    }
    let door = door
        .filter(|d| !d.trim().is_empty())
        .or_else(|| Some(settings.school.door.clone()).filter(|d| !d.trim().is_empty()))
        .unwrap_or_else(|| settings.kiosk.room_name.clone());
    let ca_file = Some(&settings.school.ca_file)
        .filter(|f| !f.trim().is_empty())
        .map(PathBuf::from);
    Ok(Some(SchoolServer { url, door, ca_file }))
}

/// Runs a short command between two rounds with the school server: the first brings the
/// school's students and marks here, the second sends what the command changed. When the
/// server cannot be reached the command still runs on this door's data, and says so.
pub fn around(
    server: Option<&SchoolServer>,
    data_dir: Option<&Path>,
    command: impl FnOnce() -> anyhow::Result<Exit>,
) -> anyhow::Result<Exit> {
    let Some(server) = server else {
        return command();
    };
    let data = DataDir::resolve(data_dir).create()?;
    let round = || school::sync_once(&data.database(), &data.photos(), server);
    let before = round();
    if let Err(e) = &before {
        eprintln!("{e} Working on this door's data; its changes wait here until the school server is back.");
    }
    let exit = command()?;
    if before.is_ok() {
        match round() {
            Ok(refused) => {
                for why in refused {
                    eprintln!("{why}");
                }
            }
            Err(e) => {
                eprintln!("{e} The change is kept at this door and sent when the server is back.")
            }
        }
    }
    Ok(exit)
}

/// `rollcall leave-school`: unlinks a data folder from its school server (refused while a
/// server is still set for it); without `yes`, only says what would stay unsent.
pub fn leave(
    server: Option<&SchoolServer>,
    data_dir: Option<&Path>,
    yes: bool,
) -> anyhow::Result<Exit> {
    if let Some(server) = server {
        anyhow::bail!(
            "This data folder is still set to use the school server at {} (the `database` \
             under [school] in its settings.toml, $ROLLCALL_DATABASE or --database): remove \
             it there first, then run `rollcall leave-school` again.",
            server.address()
        );
    }
    let (_, mut store) = super::records::store(data_dir)?;
    let Some(unsent) = store.unsent_to_school()? else {
        println!("This data folder is not linked to a school server: nothing to do.");
        return Ok(Exit::Ok);
    };
    if !yes {
        let waiting = match unsent_here(&unsent) {
            Some((what, 1)) => format!("{what} made here has not reached it"),
            Some((what, _)) => format!("{what} made here have not reached it"),
            None => "everything made here has reached it".into(),
        };
        println!(
            "This data folder is linked to a school server as door \"{}\"; {waiting}. \
             Leaving makes it a door of its own: its students and attendance stay here and \
             nothing is sent. Linking it again later sends the school first what it has not \
             had from here (what waits now, and what is changed here meanwhile: a student \
             deleted or a face erased here is erased at the school too), then offers \
             everything else it holds.\nNothing was changed: run it again with --yes to do \
             it.",
            unsent.door
        );
        return Ok(Exit::Refused);
    }
    store.leave_school("command line")?;
    let waiting = match unsent_here(&unsent) {
        Some((what, 1)) => {
            format!("; {what} made here was not sent: it waits here for a later link")
        }
        Some((what, _)) => {
            format!("; {what} made here were not sent: they wait here for a later link")
        }
        None => String::new(),
    };
    println!(
        "This data folder is a door of its own again (it was door \"{}\" of a school{waiting}).",
        unsent.door
    );
    Ok(Exit::Ok)
}

/// What a linked folder has not sent, worded for the admin ("2 marks and 1 other change"),
/// with how many they are; `None`: nothing.
fn unsent_here(unsent: &Unsent) -> Option<(String, usize)> {
    let what = match (unsent.marks, unsent.changes) {
        (0, 0) => return None,
        (marks, 0) => count(marks, "mark"),
        (0, changes) => count(changes, "change"),
        (marks, changes) => format!(
            "{} and {}",
            count(marks, "mark"),
            count(changes, "other change")
        ),
    };
    Some((what, unsent.marks + unsent.changes))
}

/// Starts the background link for a long-running kiosk or server.
pub fn start_link(
    server: Option<&SchoolServer>,
    data: &DataDir,
) -> anyhow::Result<Option<SchoolLink>> {
    let Some(server) = server else {
        return Ok(None);
    };
    eprintln!(
        "Linked to the school server at {} as door \"{}\".",
        server.address(),
        server.door
    );
    Ok(Some(SchoolLink::start(
        &data.database(),
        &data.photos(),
        server,
    )?))
}

/// A door without a window: the kiosk's recognition on a camera or a recording, each
/// verdict printed as one JSON line, until the process is stopped.
pub fn door(
    data_dir: Option<&Path>,
    options: SourceOptions,
    server: Option<&SchoolServer>,
) -> anyhow::Result<Exit> {
    let data = DataDir::resolve(data_dir).create()?;
    let mut settings = settings_for(&data)?;
    let source = options.frame_source(&mut settings);
    // A door without a window makes no sound.
    settings.kiosk.sound = false;
    settings.school.no_server_here = server.is_none();
    let _link = start_link(server, &data)?;
    let _backups = crate::store::DailyBackups::start(&data, &settings.backup);
    let (observer, events) = crossbeam_channel::unbounded();
    let kiosk = Kiosk::start(source, data, settings, Arc::new(|| {}), Some(observer));
    for event in events.iter() {
        let line = match event {
            KioskEvent::Ready { students } => {
                serde_json::json!({"event": "ready", "students": students})
            }
            KioskEvent::Verdict {
                verdict, silent, ..
            } if !silent => serde_json::json!({
                "event": "verdict",
                "kind": format!("{:?}", verdict.kind),
                "student_id": verdict.student_id,
                "name": verdict.name,
                "time": verdict.time,
                "door": verdict.door,
                "message": verdict.message(),
            }),
            KioskEvent::Camera(CameraStatus::Ended) => serde_json::json!({"event": "ended"}),
            // The picture is there (again), has stayed almost black, or has stopped coming.
            KioskEvent::Camera(
                ref status @ (CameraStatus::Live(ref source)
                | CameraStatus::Dark(ref source)
                | CameraStatus::Stuck(ref source)),
            ) => serde_json::json!({
                "event": "camera",
                "source": source.label,
                "recording": source.recording,
                "try_out": source.try_out,
                "dark": matches!(status, CameraStatus::Dark(_)),
                "stuck": matches!(status, CameraStatus::Stuck(_)),
            }),
            KioskEvent::Camera(CameraStatus::Unavailable { problem, .. }) => {
                serde_json::json!({"event": "no_picture", "reason": problem.to_string()})
            }
            KioskEvent::RecognitionUnavailable(reason) => {
                serde_json::json!({"event": "recognition_unavailable", "reason": reason})
            }
            // The clock cannot date marks: no attendance until it is right.
            KioskEvent::Clock(wrong) => serde_json::json!({
                "event": "clock",
                "wrong": wrong.is_some(),
                "reason": wrong.map(|w| w.to_string()),
            }),
            KioskEvent::School(s) => serde_json::json!({
                "event": "school",
                "online": s.online,
                "waiting_marks": s.waiting_marks,
                "refused_marks": s.refused_marks,
                "refused_changes": s.refused_changes,
                "status": s.line(),
            }),
            _ => continue,
        };
        // Whoever reads the verdicts has gone (`rollcall door | head`): the door stops.
        if writeln!(std::io::stdout(), "{line}").is_err() {
            break;
        }
    }
    drop(kiosk);
    Ok(Exit::Ok)
}
