//! Starting the kiosk when this computer's account logs in (an XDG autostart entry, which
//! the usual Linux desktops read): a door that comes back by itself, full screen, after a
//! power cut or a restart.

use std::path::{Path, PathBuf};

/// The entry's file name in the autostart folder.
const ENTRY: &str = "rollcall.desktop";

/// How the kiosk is to be started at login, besides `--fullscreen`: the options that choose
/// what it opens.
#[derive(Clone, Debug, Default)]
pub struct StartedWith {
    pub data_dir: PathBuf,
    pub database: Option<String>,
    pub door: Option<String>,
    pub camera: Option<String>,
}

/// This account's autostart entry for the kiosk.
pub struct Autostart {
    path: PathBuf,
}

impl Autostart {
    /// The entry of the account Rollcall runs as: `autostart/rollcall.desktop` in
    /// `$XDG_CONFIG_HOME`, else in `~/.config`.
    pub fn for_this_account() -> Result<Autostart, String> {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .ok_or("this account has no home folder to start programs from at login")?;
        Ok(Autostart {
            path: config.join("autostart").join(ENTRY),
        })
    }

    /// Where the entry is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the kiosk starts at login.
    pub fn is_on(&self) -> bool {
        self.path.is_file()
    }

    /// Makes the kiosk start at login, full screen, with `how` (this program, as it is
    /// installed now). The entry is readable by this account only: a school server's
    /// address may hold its password.
    pub fn turn_on(&self, how: &StartedWith) -> std::io::Result<()> {
        let exe = std::env::current_exe()?;
        let data_dir = std::path::absolute(&how.data_dir)?;
        let mut args = vec![
            exe.to_string_lossy().into_owned(),
            "--fullscreen".into(),
            "--data-dir".into(),
            data_dir.to_string_lossy().into_owned(),
        ];
        for (flag, value) in [
            ("--database", &how.database),
            ("--door", &how.door),
            ("--camera", &how.camera),
        ] {
            if let Some(v) = value {
                args.extend([flag.to_string(), v.clone()]);
            }
        }
        if let Some(folder) = self.path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        crate::data_dir::write_private_file(&self.path, entry(&args).as_bytes())
    }

    /// Stops the kiosk starting at login (nothing to do when it does not).
    pub fn turn_off(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// The desktop entry that runs `args` (the program first).
fn entry(args: &[String]) -> String {
    let exec: Vec<String> = args.iter().map(|a| exec_argument(a)).collect();
    format!(
        "[Desktop Entry]\nType=Application\nName=Rollcall\nComment=The attendance kiosk at \
         the door, full screen\nExec={}\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        exec.join(" ")
    )
}

/// One argument of an entry's `Exec` line: quoted, with the characters the desktop entry
/// specification reserves escaped inside the quotes, then backslashes doubled (the
/// string-value escape, applied before the quoting is read) and `%` doubled (field codes).
fn exec_argument(arg: &str) -> String {
    let mut quoted = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted.replace('\\', "\\\\").replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::{entry, exec_argument};

    #[test]
    fn arguments_with_spaces_quotes_and_percent_signs_survive_the_exec_line() {
        assert_eq!(exec_argument("/opt/rollcall"), "\"/opt/rollcall\"");
        assert_eq!(
            exec_argument("/home/Lab 4/data"),
            "\"/home/Lab 4/data\"",
            "a space stays inside the quotes"
        );
        // A quote inside becomes \" and then, the string escape, \\".
        assert_eq!(exec_argument("North \"A\""), "\"North \\\\\"A\\\\\"\"");
        assert_eq!(exec_argument("100%"), "\"100%%\"");
        assert_eq!(exec_argument("a$b"), "\"a\\\\$b\"");
        let text = entry(&["/opt/rollcall".into(), "--fullscreen".into()]);
        assert!(text.starts_with("[Desktop Entry]\n"));
        assert!(text.contains("\nExec=\"/opt/rollcall\" \"--fullscreen\"\n"));
    }
}
