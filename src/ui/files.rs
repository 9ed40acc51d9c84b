//! Choosing files: the desktop's own dialog where there is one, else an in-app picker (a
//! bare kiosk PC or a virtual screen has no desktop portal and no zenity, and the native
//! dialog would do nothing and say nothing).

use crate::vision::image_io::{is_image, PHOTO_EXTENSIONS};
use crossbeam_channel::{bounded, Receiver, TryRecvError};
use egui_file::{FileDialog, State};
use std::path::{Path, PathBuf};

/// What a file dialog asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Ask {
    /// Photos to check (several at once).
    Photos,
    /// A folder of student folders, or a CSV file.
    Import,
    /// Where to save an export, with the suggested file name.
    Save {
        file_name: String,
        extension: String,
    },
    /// A video file to play instead of the camera.
    Video,
    /// A folder of images to play instead of the camera.
    Folder,
    /// A backup file to restore, looked for first in `start` (the daily backups' folder).
    Backup { start: Option<PathBuf> },
    /// A certificate authority's file (PEM), for the mail server.
    Certificate,
}

const VIDEO_EXTENSIONS: [&str; 5] = ["mp4", "avi", "mkv", "mov", "webm"];
/// How the school's IT names a certificate authority's PEM file.
const CERTIFICATE_EXTENSIONS: [&str; 3] = ["pem", "crt", "cer"];

fn has_extension(p: &Path, allowed: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| allowed.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

/// Whether the desktop can show its own file dialog: zenity is installed, or a desktop
/// portal answers on the session bus. Checked once.
pub fn native_dialogs_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if std::env::var_os("ROLLCALL_IN_APP_FILE_DIALOG").is_some() {
            return false;
        }
        let on_path = |name: &str| {
            std::env::var_os("PATH")
                .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        };
        let portal = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
            && std::process::Command::new("busctl")
                .args(["--user", "--no-pager", "--no-legend", "list"])
                .output()
                .is_ok_and(|o| {
                    String::from_utf8_lossy(&o.stdout).contains("org.freedesktop.portal.Desktop")
                });
        on_path("zenity") || portal
    })
}

/// A file dialog for one screen: native when possible, in-app otherwise. Ask with
/// `open`, then call `show` every frame; it returns the choice once made.
#[derive(Default)]
pub struct FileChooser {
    in_app: Option<(Ask, FileDialog)>,
    /// The desktop's dialog, open on a thread of its own (the window keeps drawing the
    /// door meanwhile); `None` comes back when it was closed without a choice.
    native: Option<(Ask, Receiver<Option<Vec<PathBuf>>>)>,
    /// Why the last choice failed, for the screen to show.
    pub problem: Option<String>,
}

/// How often a screen waiting for the desktop's dialog looks for its answer.
const NATIVE_POLL: std::time::Duration = std::time::Duration::from_millis(100);

impl FileChooser {
    /// Opens a dialog for `ask` (nothing more while one is open).
    pub fn open(&mut self, ask: Ask) {
        if self.in_app.is_some() || self.native.is_some() {
            return;
        }
        self.problem = None;
        if native_dialogs_available() {
            self.native = open_native(ask);
            if self.native.is_none() {
                self.problem = Some(
                    "The file dialog could not be opened. Try again, or restart Rollcall.".into(),
                );
            }
            return;
        }
        let home = || {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| std::env::current_dir().unwrap_or_default())
        };
        let start = match &ask {
            Ask::Backup {
                start: Some(folder),
            } if folder.is_dir() => folder.clone(),
            _ => home(),
        };
        let mut dialog = match &ask {
            Ask::Photos => FileDialog::open_file()
                .multi_select(true)
                .title("Choose photos")
                .show_files_filter(Box::new(|p: &Path| is_image(p))),
            Ask::Import => FileDialog::open_file()
                .title("Choose a CSV file, or open a folder of student folders")
                .show_files_filter(Box::new(|p: &Path| has_extension(p, &["csv"]))),
            Ask::Save { file_name, .. } => FileDialog::save_file()
                .title("Save as")
                .default_filename(file_name.clone()),
            Ask::Video => FileDialog::open_file()
                .title("Choose a video file")
                .show_files_filter(Box::new(|p: &Path| has_extension(p, &VIDEO_EXTENSIONS))),
            Ask::Folder => FileDialog::select_folder().title("Choose a folder of images"),
            Ask::Backup { .. } => FileDialog::open_file().title("Choose a backup file"),
            Ask::Certificate => FileDialog::open_file()
                .title("Choose the certificate authority's file")
                .show_files_filter(Box::new(|p: &Path| {
                    has_extension(p, &CERTIFICATE_EXTENSIONS)
                })),
        }
        .initial_path(start)
        .show_rename(false)
        .show_new_folder(false)
        .id(egui::Id::unique("rollcall-file-chooser"));
        dialog.open();
        self.in_app = Some((ask, dialog));
    }

    /// Closes the in-app picker and forgets the answer of a desktop dialog still open: the
    /// admin screens were locked, and whatever someone chooses in a dialog left on the
    /// screen is not to be used when they are unlocked again.
    pub fn forget(&mut self) {
        *self = FileChooser::default();
    }

    /// Draws the in-app picker while it is open; returns what was chosen, once.
    pub fn show(&mut self, ctx: &egui::Context) -> Option<(Ask, Vec<PathBuf>)> {
        if let Some((ask, answer)) = &self.native {
            return match answer.try_recv() {
                Err(TryRecvError::Empty) => {
                    ctx.request_repaint_after(NATIVE_POLL);
                    None
                }
                Ok(chosen) => {
                    let ask = ask.clone();
                    self.native = None;
                    chosen.map(|paths| (ask, paths))
                }
                Err(TryRecvError::Disconnected) => {
                    self.native = None;
                    self.problem = Some(
                        "The file dialog closed without an answer. Try again, or restart \
                         Rollcall."
                            .into(),
                    );
                    None
                }
            };
        }
        let (ask, dialog) = self.in_app.as_mut()?;
        dialog.show(ctx);
        match dialog.state() {
            State::Open => None,
            State::Selected => {
                let mut paths: Vec<PathBuf> = if dialog.has_multi_select() {
                    dialog
                        .selection()
                        .into_iter()
                        .map(Path::to_path_buf)
                        .collect()
                } else {
                    dialog.path().map(Path::to_path_buf).into_iter().collect()
                };
                // Import takes a folder too: "Open" on a folder with nothing picked.
                if paths.is_empty() && *ask == Ask::Import {
                    paths.push(dialog.directory().to_path_buf());
                }
                if let Ask::Save { extension, .. } = &ask {
                    for p in &mut paths {
                        if p.extension().is_none() {
                            p.set_extension(extension);
                        }
                    }
                }
                let ask = ask.clone();
                self.in_app = None;
                if paths.is_empty() {
                    self.problem = Some("Nothing was chosen.".into());
                    return None;
                }
                Some((ask, paths))
            }
            State::Cancelled | State::Closed => {
                self.in_app = None;
                None
            }
        }
    }
}

/// A filter's extensions in lower and upper case: the desktop dialog's patterns are
/// case-sensitive on Linux, and cameras and phones name their files `IMG_0001.JPG` or
/// `IMG_0001.HEIC` (until 2026-12-05 such photos did not show in the dialog).
fn in_both_cases(extensions: &[&str]) -> Vec<String> {
    extensions
        .iter()
        .flat_map(|e| [e.to_ascii_lowercase(), e.to_ascii_uppercase()])
        .collect()
}

/// The desktop's own dialog for `ask`, on a thread of its own: its answer comes on the
/// receiver (`None` if the thread could not start). On macOS, where the desktop's dialogs
/// belong to the main thread, it is asked there and answered at once.
fn open_native(ask: Ask) -> Option<(Ask, Receiver<Option<Vec<PathBuf>>>)> {
    let (tx, rx) = bounded(1);
    if cfg!(target_os = "macos") {
        let _ = tx.send(native(&ask));
        return Some((ask, rx));
    }
    let asked = ask.clone();
    let started = std::thread::Builder::new()
        .name("file-dialog".into())
        .spawn(move || {
            let _ = tx.send(native(&asked));
        });
    match started {
        Ok(_) => Some((ask, rx)),
        Err(e) => {
            tracing::warn!("could not open the file dialog: {e}");
            None
        }
    }
}

/// The desktop's own dialog.
fn native(ask: &Ask) -> Option<Vec<PathBuf>> {
    let d = rfd::FileDialog::new();
    match ask {
        Ask::Photos => d
            .add_filter("Photos", &in_both_cases(&PHOTO_EXTENSIONS))
            .pick_files(),
        Ask::Import => d
            .pick_folder()
            .or_else(|| {
                rfd::FileDialog::new()
                    .add_filter("CSV", &in_both_cases(&["csv"]))
                    .pick_file()
            })
            .map(|p| vec![p]),
        Ask::Save {
            file_name,
            extension,
        } => d
            .set_file_name(file_name)
            .add_filter(extension, &[extension.as_str()])
            .save_file()
            .map(|p| vec![p]),
        Ask::Video => d
            .add_filter("Video", &in_both_cases(&VIDEO_EXTENSIONS))
            .pick_file()
            .map(|p| vec![p]),
        Ask::Backup { start } => match start.as_ref().filter(|f| f.is_dir()) {
            Some(folder) => d.set_directory(folder),
            None => d,
        }
        .pick_file()
        .map(|p| vec![p]),
        Ask::Folder => d.pick_folder().map(|p| vec![p]),
        Ask::Certificate => d
            .add_filter("Certificate", &in_both_cases(&CERTIFICATE_EXTENSIONS))
            .pick_file()
            .map(|p| vec![p]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The desktop's dialog (here zenity, which rfd runs where no desktop portal answers:
    /// a stand-in that answers after a second, as a person choosing would) is open on a
    /// thread of its own: the window is not held while it is, and its choice comes after.
    /// Run in a process of its own, whose `PATH` finds the stand-in first (changing this
    /// process's environment would race the other tests' programs).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_desktop_dialog_holds_no_frame_and_its_choice_comes_after() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let zenity = dir.path().join("zenity");
        std::fs::write(&zenity, "#!/bin/sh\nsleep 1\necho /videos/door.mp4\n").unwrap();
        std::fs::set_permissions(&zenity, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(dir.path().to_path_buf()).chain(std::env::split_paths(&path));
        let test = "ui::files::tests::the_desktop_dialog_answers_after_open_returns";
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", test, "--test-threads", "1"])
            .env("PATH", std::env::join_paths(paths).unwrap())
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && said.contains("1 passed"), "{said}");
    }

    /// See the test above, which runs this one.
    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "run by the_desktop_dialog_holds_no_frame_and_its_choice_comes_after"]
    fn the_desktop_dialog_answers_after_open_returns() {
        let (ask, answer) = open_native(Ask::Video).expect("the dialog's thread");
        assert_eq!(ask, Ask::Video);
        assert!(
            answer.try_recv().is_err(),
            "returned before the choice was made"
        );
        let chosen = answer
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap();
        assert_eq!(chosen, Some(vec![PathBuf::from("/videos/door.mp4")]));
    }

    #[test]
    fn a_choice_made_after_the_screens_were_locked_is_not_used() {
        let ctx = egui::Context::default();
        let (tx, rx) = bounded(1);
        let mut chooser = FileChooser {
            native: Some((Ask::Folder, rx)),
            ..FileChooser::default()
        };
        chooser.forget();
        // The dialog left open answers after the lock.
        let _ = tx.send(Some(vec![PathBuf::from("/media/usb/photos")]));
        assert_eq!(chooser.show(&ctx), None);
        // A chooser not told to forget takes it.
        let (tx, rx) = bounded(1);
        let mut kept = FileChooser {
            native: Some((Ask::Folder, rx)),
            ..FileChooser::default()
        };
        tx.send(Some(vec![PathBuf::from("/media/usb/photos")]))
            .unwrap();
        assert_eq!(
            kept.show(&ctx),
            Some((Ask::Folder, vec![PathBuf::from("/media/usb/photos")]))
        );
    }

    #[test]
    fn the_desktop_dialog_shows_photos_and_videos_named_in_capitals() {
        let photos = in_both_cases(&PHOTO_EXTENSIONS);
        let videos = in_both_cases(&VIDEO_EXTENSIONS);
        for (list, e) in [
            (&photos, "jpg"),
            (&photos, "JPG"),
            (&photos, "HEIC"),
            (&photos, "PNG"),
            (&videos, "MOV"),
            (&videos, "mp4"),
        ] {
            assert!(list.iter().any(|p| p == e), "{e} in {list:?}");
        }
    }
}
