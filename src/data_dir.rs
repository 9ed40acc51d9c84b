//! The data folder: database, enrolment photos and settings. Private to the user running
//! Rollcall (mode 0700), because it holds students' faces.

use std::path::{Path, PathBuf};

/// Environment variable that overrides the default data folder.
pub const DATA_DIR_ENV: &str = "ROLLCALL_DATA_DIR";

/// The file name of the mail server's authority kept in the data folder (see
/// [`DataDir::mail_authority`]).
pub const MAIL_AUTHORITY: &str = "mail-authority.pem";
/// The folder, in the data folder, of the photo-attack check adapted to its camera.
pub const SITE_CHECK: &str = "liveness";

/// Locations inside the data folder.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

/// The data folder could not be prepared.
#[derive(Debug, thiserror::Error)]
#[error("The data folder {path} cannot be used: {reason}")]
pub struct DataDirError {
    pub path: String,
    pub reason: String,
}

impl DataDir {
    /// `explicit`, else `$ROLLCALL_DATA_DIR`, else `data/` in the current directory; made
    /// absolute, so that what the screens say of its files (the last backup, a restore's
    /// copy) can be found from anywhere (until 2026-12-05 Review said "to
    /// data/backups/…", relative to wherever Rollcall had been started).
    pub fn resolve(explicit: Option<&Path>) -> DataDir {
        let root = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(DATA_DIR_ENV).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("data"));
        DataDir {
            root: std::path::absolute(&root).unwrap_or(root),
        }
    }

    /// Refuses a folder that is not there, for the commands that read or change what a
    /// folder holds: a mistyped --data-dir would otherwise be made, empty, and the command
    /// would say that nobody is enrolled or nothing was ever sent.
    pub fn existing(self) -> Result<DataDir, DataDirError> {
        if self.root.is_dir() {
            return Ok(self);
        }
        Err(DataDirError {
            path: self.root.display().to_string(),
            reason: format!(
                "there is no such folder. Check --data-dir (or {DATA_DIR_ENV}); Rollcall makes \
                 its folder when the kiosk first starts or a student is first enrolled"
            ),
        })
    }

    /// Creates the folder and its photos folder (private to this user) if needed.
    pub fn create(self) -> Result<DataDir, DataDirError> {
        let fail = |e: std::io::Error| DataDirError {
            path: self.root.display().to_string(),
            reason: e.to_string(),
        };
        for dir in [self.root.clone(), self.photos()] {
            std::fs::create_dir_all(&dir).map_err(fail)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&dir).map_err(fail)?.permissions().mode();
                if mode & 0o777 != 0o700 {
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                        .map_err(fail)?;
                }
            }
        }
        // Find out now, not in the middle of marking someone.
        let probe = self.root.join(".write-test");
        std::fs::write(&probe, b"").map_err(|_| DataDirError {
            path: self.root.display().to_string(),
            reason: "it is read-only. Rollcall must be able to write attendance there: \
                     check the folder's permissions, or choose another with --data-dir"
                .into(),
        })?;
        let _ = std::fs::remove_file(&probe);
        Ok(self)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn database(&self) -> PathBuf {
        self.root.join("rollcall.db")
    }
    pub fn photos(&self) -> PathBuf {
        self.root.join("photos")
    }
    pub fn settings(&self) -> PathBuf {
        self.root.join("settings.toml")
    }
    /// The copy of the school's certificate authority for its mail server, kept here when
    /// chosen in Admin → Email settings (a file on a USB stick would be gone by the next
    /// report).
    pub fn mail_authority(&self) -> PathBuf {
        self.root.join(MAIL_AUTHORITY)
    }
    /// The photo-attack check adapted to this camera (Admin → Students → Photo-attack
    /// check), once the admin chose to use one; `[liveness] model_dir` then names it.
    pub fn site_check(&self) -> PathBuf {
        self.root.join(SITE_CHECK)
    }

    /// Takes the photos folder for this process until the guard is dropped (other Rollcall
    /// processes wait). Held from writing photo files until their rows are committed, and
    /// while sweeping stray files, so a sweep never takes another process's new photos. The
    /// operating system releases it if the process dies.
    pub fn lock_photos(&self) -> std::io::Result<std::fs::File> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(self.root.join("photos.lock"))?;
        file.lock()?;
        Ok(file)
    }
}

/// Writes a new file readable only by this user, flushed to disk before returning.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_folder_given_relative_is_named_from_the_root() {
        let d = DataDir::resolve(Some(Path::new("school-data")));
        assert!(d.root().is_absolute(), "{}", d.root().display());
        assert!(d.root().ends_with("school-data"));
        assert_eq!(
            d.root().parent(),
            Some(std::env::current_dir().unwrap().as_path())
        );
    }
}
