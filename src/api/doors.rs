//! Who may post `/attendance`: open to all (the old contract) until a door token or a door
//! address is configured. The credentials follow the settings file while the server runs,
//! so a lost door token is revoked by deleting it from `[api] door_tokens`, without a
//! restart.

use crate::settings::{ApiSettings, Settings};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How often the settings file is looked at (a `stat`, read again only when it changed).
const RECHECK: Duration = Duration::from_millis(500);

/// The door credentials in force.
#[derive(Debug, Default)]
pub(super) struct DoorAccess {
    tokens: Vec<String>,
    addresses: Vec<IpAddr>,
}

impl DoorAccess {
    fn of(settings: &ApiSettings) -> DoorAccess {
        let addresses = settings
            .door_addresses
            .iter()
            .filter_map(|a| match a.trim().parse() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    tracing::warn!("[api] door_addresses: {a:?} is not an IP address; ignored");
                    None
                }
            })
            .collect();
        DoorAccess {
            tokens: settings
                .door_tokens
                .iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            addresses,
        }
    }

    /// No door credential configured: anyone may mark (the old contract).
    pub fn is_open(&self) -> bool {
        self.tokens.is_empty() && self.addresses.is_empty()
    }

    /// Whether a request from `from`, carrying the bearer token `given`, is from a door.
    pub fn admits(&self, from: Option<IpAddr>, given: Option<&str>) -> bool {
        from.is_some_and(|ip| self.addresses.contains(&ip))
            || given.is_some_and(|g| self.tokens.iter().any(|t| t == g))
    }
}

/// The door credentials, kept in step with the settings file.
#[derive(Debug)]
pub(super) struct Doors {
    file: PathBuf,
    /// Tokens given on the command line (not in the file): they last until the server stops.
    fixed: Vec<String>,
    now: Mutex<Current>,
}

#[derive(Debug)]
struct Current {
    access: Arc<DoorAccess>,
    /// The file's modification time and length when it was last read.
    seen: Option<(SystemTime, u64)>,
    checked: Instant,
}

fn stamp(file: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(file).ok()?;
    Some((m.modified().ok()?, m.len()))
}

impl Doors {
    /// The credentials in `settings` (the file's, plus any from the command line), then
    /// those of `file` whenever it changes.
    pub fn new(file: PathBuf, settings: &ApiSettings) -> Doors {
        // Read once already by whoever started the server, which told of any unknown key.
        let in_file = Settings::load_quietly(&file)
            .map(|s| s.api.door_tokens)
            .unwrap_or_default();
        let fixed = settings
            .door_tokens
            .iter()
            .filter(|t| !in_file.contains(t))
            .cloned()
            .collect();
        Doors {
            now: Mutex::new(Current {
                access: Arc::new(DoorAccess::of(settings)),
                seen: stamp(&file),
                checked: Instant::now(),
            }),
            file,
            fixed,
        }
    }

    /// The credentials in force now.
    pub fn current(&self) -> Arc<DoorAccess> {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if now.checked.elapsed() >= RECHECK {
            now.checked = Instant::now();
            let seen = stamp(&self.file);
            if seen != now.seen {
                now.seen = seen;
                // A settings file that disappears does not open the doors (loading a
                // missing file would give the defaults: no door credentials).
                let reloaded = seen.and_then(|_| Settings::load(&self.file).ok());
                match reloaded {
                    Some(s) => {
                        let mut api = s.api;
                        api.door_tokens.extend(self.fixed.iter().cloned());
                        now.access = Arc::new(DoorAccess::of(&api));
                        tracing::info!("door credentials read again from {}", self.file.display());
                    }
                    None => tracing::warn!(
                        "{} is missing or unreadable; the door credentials stay as they were",
                        self.file.display()
                    ),
                }
            }
        }
        now.access.clone()
    }
}
