//! Every tunable in one place: thresholds, quality limits, kiosk behaviour. Stored as TOML
//! (`settings.toml` in the data folder); `Default` gives the shipped values.

use crate::data_dir::DataDir;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// All of Rollcall's settings.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    /// Folder with the face models (empty: `$ROLLCALL_MODELS_DIR`, else `assets/models`).
    pub models_dir: String,
    /// Which runtime runs the face models.
    pub inference: Inference,
    /// FaceNet's precision when OpenVINO runs it.
    pub facenet_precision: Precision,
    pub detector: DetectorSettings,
    pub quality: QualitySettings,
    pub recognition: RecognitionSettings,
    pub kiosk: KioskSettings,
    pub liveness: LivenessSettings,
    pub review: ReviewSettings,
    pub email: EmailSettings,
    pub api: ApiSettings,
    pub school: SchoolSettings,
    pub backup: BackupSettings,
}

/// The daily backup made while the kiosk, a door or the server runs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct BackupSettings {
    /// Where the daily backups go (empty: `backups` in the data folder). Another disk or a
    /// network folder keeps them when the kiosk's own disk fails.
    pub folder: String,
    /// How many daily backups are kept, newest first (0: no daily backup, and those made
    /// before are deleted).
    pub keep: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            folder: String::new(),
            keep: 7,
        }
    }
}

impl BackupSettings {
    /// The folder the daily backups go to, for the data folder `data`: `backups` in it, or
    /// this computer's own folder inside the one set (several kiosks may share a network
    /// folder; each keeps, and prunes, its own backups).
    pub fn folder_in(&self, data: &crate::data_dir::DataDir) -> PathBuf {
        match self.folder.trim() {
            "" => data.root().join("backups"),
            folder => PathBuf::from(folder).join(computer_name()),
        }
    }
}

/// This computer's network name, as a folder name ("this-computer" when it has none).
fn computer_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let name: String = if ok {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end])
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    } else {
        String::new()
    };
    match name.trim_matches('-') {
        "" => "this-computer".into(),
        name => name.to_string(),
    }
}

/// Several doors on one school server (PostgreSQL).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SchoolSettings {
    /// The school server, `postgres://user:password@host:5432/rollcall` (empty: this data
    /// folder is the whole school). Keep the settings file private (Rollcall writes it 0600).
    pub database: String,
    /// This door's name, shown at the other doors and in Review (empty: the room name).
    pub door: String,
    /// The school's own certificate authority (a PEM file), when the server's certificate
    /// is not from a public one; used with `?sslmode=require` in the address.
    pub ca_file: String,
    /// This program runs no link to a school server: none is set for it (here, in
    /// `$ROLLCALL_DATABASE` or with `--database`). A kiosk on a folder linked before then
    /// says so instead of "offline". Not saved.
    #[serde(skip)]
    pub no_server_here: bool,
}

/// `rollcall serve`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ApiSettings {
    /// Address to listen on; loopback unless you mean to expose it.
    pub listen: String,
    /// When set, /upload, /getdata and the mail endpoints need `Authorization: Bearer …`.
    /// The old clients do not send it, so it is off by default.
    pub token: String,
    /// Door credentials: when any is set, `POST /attendance` needs
    /// `Authorization: Bearer <one of them>` (or the admin token). One per door; remove a
    /// door's token to revoke it.
    pub door_tokens: Vec<String>,
    /// Door addresses (IP) allowed to post `/attendance` without a token, for door clients
    /// that cannot send a header. When any is set, other addresses need a door token.
    pub door_addresses: Vec<String>,
    /// Web pages allowed to call the API from a browser (the old React client ran on
    /// another port).
    pub cors_origins: Vec<String>,
    /// Seconds before a request is abandoned.
    pub timeout_secs: u64,
    /// Recognition engines serving requests in parallel (0: one per core, at most 4).
    pub engines: usize,
    /// Marks that may wait for an engine; more are answered 503 with Retry-After.
    pub queue: usize,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            listen: "127.0.0.1:5000".into(),
            token: String::new(),
            door_tokens: Vec::new(),
            door_addresses: Vec::new(),
            cors_origins: vec![
                "http://localhost:3000".into(),
                "http://127.0.0.1:3000".into(),
            ],
            timeout_secs: 60,
            engines: 0,
            queue: 32,
        }
    }
}

/// Attendance review.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ReviewSettings {
    /// Students under this attendance (percent) are highlighted and can be emailed.
    pub threshold_percent: f64,
    /// Days a face snapshot is kept with each mark (0: none are kept).
    pub snapshot_days: u32,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            threshold_percent: 85.0,
            snapshot_days: 30,
        }
    }
}

/// How the mail server is reached.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// Plain SMTP (a relay on the school's own network).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the start (usually port 465).
    Tls,
}

/// The mail server for attendance reports.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct EmailSettings {
    /// The mail server; empty until an admin sets email up.
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub user: String,
    pub password: String,
    /// The sender, e.g. "Attendance <attendance@school.example>".
    pub from: String,
    pub subject: String,
    /// Seconds to wait for the server.
    pub timeout_secs: u64,
    /// The school's own certificate authority (a PEM file), when the mail server's
    /// certificate is not from a public one (empty: the public authorities only).
    pub ca_file: String,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            // Empty: not set up yet (an admin fills it in).
            host: String::new(),
            port: 587,
            security: MailSecurity::Starttls,
            user: String::new(),
            password: String::new(),
            from: "Rollcall <attendance@localhost>".into(),
            subject: "Your attendance".into(),
            timeout_secs: 10,
            ca_file: String::new(),
        }
    }
}

/// The photo-attack check at the kiosk.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LivenessSettings {
    /// Check that a face is a live person, not a photo, before marking.
    pub enabled: bool,
    /// A track's mean liveness score must be above this; higher refuses more photos and
    /// more live students.
    pub threshold: f32,
    /// Folder with the trained model (empty: the one shipped in `assets/liveness`; a relative
    /// path is relative to the data folder).
    pub model_dir: String,
    /// Usable frames of a face the check needs before the kiosk marks anyone ("Hold still
    /// a moment" until then).
    pub min_frames: usize,
}

impl Default for LivenessSettings {
    fn default() -> Self {
        LivenessSettings {
            enabled: true,
            threshold: 0.0,
            model_dir: String::new(),
            min_frames: 4,
        }
    }
}

/// The kiosk at the door.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct KioskSettings {
    /// Room name shown in the header.
    pub room_name: String,
    /// Camera index ("0") or part of its name.
    pub camera: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Frames on which one student must be recognised before being marked.
    pub confirm_frames: u32,
    /// Usable frames after which an unmatched face is "not recognised".
    pub max_attempts: u32,
    /// Seconds during which a student already greeted is not greeted again.
    pub cooldown_secs: u64,
    /// Seconds a verdict stays on screen.
    pub verdict_secs: u64,
    /// Show the picture mirrored, like a mirror (boxes follow).
    pub mirror: bool,
    /// Play a short sound for each verdict (silent where there is no audio device).
    pub sound: bool,
    /// Smallest face the kiosk looks for, in pixels (larger is faster).
    pub min_face_px: f32,
    /// Faces with eyes closer than this (pixels) are asked to step closer rather than
    /// identified: people far behind the one at the kiosk are left alone.
    pub min_eye_distance_px: f32,
}

impl Default for KioskSettings {
    fn default() -> Self {
        KioskSettings {
            room_name: "Classroom".into(),
            camera: "0".into(),
            width: 640,
            height: 480,
            fps: 30,
            confirm_frames: 3,
            max_attempts: 8,
            cooldown_secs: 60,
            verdict_secs: 5,
            mirror: true,
            sound: true,
            min_face_px: 60.0,
            min_eye_distance_px: 30.0,
        }
    }
}

/// Which runtime runs the face models (the results are the same; the speed is not).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Inference {
    /// OpenVINO when `scripts/setup` installed it, else OpenCV's dnn module.
    #[default]
    Auto,
    /// Always OpenCV's dnn module.
    OpenCv,
    /// Always OpenVINO; starting fails when it is not installed.
    OpenVino,
}

/// How FaceNet's arithmetic is done on OpenVINO (OpenCV's dnn always uses 32 bits).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 8-bit integers, as `scripts/setup` builds it: FaceNet about three times as fast,
    /// the same accuracy measured; 32 bits when it is not built.
    #[default]
    Int8,
    /// 32-bit floats, the scores OpenCV's dnn gives to the last digits.
    F32,
}

/// Face detector (MTCNN) settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DetectorSettings {
    /// Smallest face searched for, in pixels; larger is faster.
    pub min_face_px: f32,
    /// Score thresholds of the three stages.
    pub thresholds: [f32; 3],
    /// Ratio between pyramid levels.
    pub scale_factor: f32,
    /// Photos larger than this (longest side) are detected on a shrunk copy.
    pub max_side: u32,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            min_face_px: 40.0,
            thresholds: [0.6, 0.7, 0.7],
            scale_factor: 0.709,
            max_side: 1280,
        }
    }
}

/// Limits a face must meet to be enrolled (and, at the kiosk, to be recognised).
///
/// Deliberately lenient on sharpness and light: cheap webcams give soft, dim pictures that
/// the recognisers still handle; only faces too small, turned away, very dark or smeared by
/// motion are refused.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct QualitySettings {
    /// Largest share of the face box that may lie outside the photo.
    pub max_cut_off: f32,
    pub min_eye_distance_px: f32,
    pub min_sharpness: f32,
    pub min_brightness: f32,
    pub max_brightness: f32,
    pub max_yaw: f32,
    pub min_pitch: f32,
    pub max_pitch: f32,
    pub max_roll_deg: f32,
}

impl Default for QualitySettings {
    fn default() -> Self {
        QualitySettings {
            max_cut_off: 0.15,
            min_eye_distance_px: 20.0,
            min_sharpness: 1.0,
            min_brightness: 30.0,
            max_brightness: 225.0,
            max_yaw: 0.45,
            min_pitch: 0.2,
            max_pitch: 0.85,
            max_roll_deg: 30.0,
        }
    }
}

/// What strangers' similarity looks like for one model before the site has its own
/// figures: the mean and spread of a student's best template similarity to someone else's
/// photo, in a classroom where everyone shares one camera and one light (the hard case;
/// web photos of strangers score lower).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelPrior {
    pub model_id: String,
    pub stranger_mean: f32,
    pub stranger_std: f32,
}

/// How the site's own stranger statistics are estimated.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CalibrationSettings {
    /// The prior, per model.
    pub prior: Vec<ModelPrior>,
    /// How many pairs of students the prior counts as for faces of the kiosk's camera: with
    /// fewer enrolled, the decision stays close to the prior (conservative); with many,
    /// the site's own figures rule. The kiosk needs several frames to agree on top.
    pub prior_pairs: f32,
    /// The same for single photos (the HTTP API, the command line, the enrolment look-alike
    /// warning), which have no second frame to protect them: a few students' figures
    /// scatter too much to lower the bar on (see README, "How the decision adapts").
    pub photo_prior_pairs: f32,
    /// How much a probe's likeness to the other students (the closest `probe_cohort` of
    /// them) raises the bar for it (0: not at all, 1: fully).
    pub probe_weight: f32,
    pub probe_cohort: usize,
    /// Most pairs of students compared to estimate the statistics (large schools are
    /// sampled).
    pub max_pairs: usize,
}

impl Default for CalibrationSettings {
    fn default() -> Self {
        CalibrationSettings {
            prior: vec![
                ModelPrior {
                    model_id: "dlib-resnet-v1".into(),
                    stranger_mean: 0.93,
                    stranger_std: 0.02,
                },
                ModelPrior {
                    model_id: "facenet-20180408".into(),
                    stranger_mean: 0.52,
                    stranger_std: 0.12,
                },
            ],
            prior_pairs: 3.0,
            photo_prior_pairs: 10.0,
            probe_weight: 0.5,
            probe_cohort: 15,
            max_pairs: 4000,
        }
    }
}

/// Recognition decision settings. Scores are in the site's stranger standard deviations:
/// how far above what strangers at this site score a face is (see
/// `recognition::calibration`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RecognitionSettings {
    /// Minimum fused score (site-normalised, both models) to accept a match from one photo
    /// (the HTTP API, the command line, the enrolment look-alike warning).
    pub accept: f32,
    /// At the kiosk, the first match of a face track; the track must then confirm it on
    /// more frames (`kiosk.confirm_frames`) before anyone is marked.
    pub kiosk_accept: f32,
    /// Minimum lead of the best student over the runner-up.
    pub margin: f32,
    /// The models whose scores are fused, in order.
    #[serde(deserialize_with = "model_ids")]
    pub models: Vec<String>,
    pub calibration: CalibrationSettings,
    /// At the kiosk, frames after a track's first match are confirmed with one fast model
    /// (every model, at `kiosk_accept`, where it is unsure).
    pub confirm: ConfirmSettings,
}

/// The model ids of `recognition.models`: names, or — as releases before the decision was
/// calibrated to the site wrote them on first use — tables of each model's fixed score
/// normalisation, whose `model_id` alone is still meaningful (a school upgrading keeps
/// its settings file).
fn model_ids<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Id(String),
        Normalised { model_id: String },
    }
    Ok(Vec::<Entry>::deserialize(d)?
        .into_iter()
        .map(|e| match e {
            Entry::Id(id) | Entry::Normalised { model_id: id } => id,
        })
        .collect())
}

/// The fast confirmation the kiosk uses once a track has a candidate: one model, with its
/// own threshold and margin (site-normalised).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ConfirmSettings {
    pub model_id: String,
    pub accept: f32,
    pub margin: f32,
}

impl Default for ConfirmSettings {
    fn default() -> Self {
        ConfirmSettings {
            model_id: "dlib-resnet-v1".into(),
            accept: 2.2,
            margin: 0.5,
        }
    }
}

impl Default for RecognitionSettings {
    fn default() -> Self {
        RecognitionSettings {
            accept: 3.35,
            kiosk_accept: 3.0,
            margin: 0.5,
            models: vec!["dlib-resnet-v1".into(), "facenet-20180408".into()],
            calibration: CalibrationSettings::default(),
            confirm: ConfirmSettings::default(),
        }
    }
}

/// Writes `text` to `path`, readable and writable by its owner only.
fn write_private(path: &Path, text: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An older file keeps its mode when opened: narrow it too.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_ref())
}

/// Settings could not be read.
#[derive(Debug, thiserror::Error)]
#[error("The settings file {path} could not be read: {reason}")]
pub struct SettingsError {
    pub path: String,
    pub reason: String,
}

impl Settings {
    /// Reads `path`, or the defaults when it does not exist. Settings the file has but
    /// Rollcall does not know (a typo, a retired setting) are logged, each with the known
    /// one it most resembles.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        Settings::read(path, true)
    }

    /// `load` without logging unknown settings, for a second reader of the same file.
    pub fn load_quietly(path: &Path) -> Result<Settings, SettingsError> {
        Settings::read(path, false)
    }

    fn read(path: &Path, tell_unknown: bool) -> Result<Settings, SettingsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let settings: Settings = toml::from_str(&text).map_err(|e| SettingsError {
                    path: path.display().to_string(),
                    reason: where_in(&text, &e),
                })?;
                if tell_unknown {
                    for unknown in unknown_settings(&text) {
                        tracing::warn!("{}: {unknown}", path.display());
                    }
                }
                Ok(settings.relative_to(path))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(SettingsError {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }

    /// Resolves the folders the file names relative to its own folder (the data folder).
    fn relative_to(mut self, file: &Path) -> Settings {
        // The mail server's authority too: the copy Admin → Email settings keeps is named
        // by its file name alone, so it goes wherever the folder goes (a backup restored
        // on a new computer, a folder moved).
        for path in [&mut self.liveness.model_dir, &mut self.email.ca_file] {
            if !path.trim().is_empty() && Path::new(path.as_str()).is_relative() {
                if let Some(folder) = file.parent() {
                    *path = folder.join(&*path).to_string_lossy().into_owned();
                }
            }
        }
        self
    }
}

/// What a restore did with the settings a backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingsPutBack {
    /// The backup holds none (made before 2026-12-07).
    NoneHeld,
    /// The folder's settings were the backup's already, or the backup's are Rollcall's
    /// defaults (nothing to put back).
    Same,
    /// The folder's settings were Rollcall's defaults (a new computer): the backup's were
    /// put back, with the mail server's authority they name.
    PutBack,
    /// The folder has settings of its own, kept.
    KeptOwn,
    /// They could not be written.
    Failed(String),
}

/// After a restore, puts back the settings file and the mail server's authority a backup
/// held (`files`, by file name) where the data folder's settings were never changed from
/// Rollcall's defaults, as on a new computer; a folder set up its own way keeps them (an
/// undone mistake should not undo a changed mail password).
pub fn put_back(data: &DataDir, files: &[(String, Vec<u8>)]) -> SettingsPutBack {
    let held = |path: PathBuf| {
        let name = path.file_name()?.to_string_lossy().into_owned();
        files.iter().find(|(n, _)| *n == name).map(|(_, b)| b)
    };
    let Some(text) = held(data.settings()) else {
        return SettingsPutBack::NoneHeld;
    };
    let current = std::fs::read(data.settings()).ok();
    let defaults = std::str::from_utf8(text)
        .ok()
        .and_then(|t| toml::from_str::<Settings>(t).ok())
        .is_some_and(|s| s == Settings::default());
    if defaults || current.as_ref() == Some(text) {
        return SettingsPutBack::Same;
    }
    let untouched = current.is_none()
        || Settings::load_quietly(&data.settings()).is_ok_and(|s| s == Settings::default());
    if !untouched {
        return SettingsPutBack::KeptOwn;
    }
    let written = held(data.mail_authority())
        .map_or(Ok(()), |pem| write_private(&data.mail_authority(), pem))
        .and_then(|()| write_private(&data.settings(), text));
    match written {
        Ok(()) => SettingsPutBack::PutBack,
        Err(e) => SettingsPutBack::Failed(crate::wording::file_problem(&e)),
    }
}

/// A parse error as a person editing the file needs it: the line, and what was expected
/// there in words ("a whole number" rather than "u64").
fn where_in(text: &str, e: &toml::de::Error) -> String {
    let mut reason = e.message().trim().to_string();
    for (rust, words) in [
        ("u8", "a whole number"),
        ("u16", "a whole number"),
        ("u32", "a whole number"),
        ("u64", "a whole number"),
        ("usize", "a whole number"),
        ("i64", "a whole number"),
        ("f32", "a number"),
        ("f64", "a number"),
    ] {
        if let Some(head) = reason.strip_suffix(&format!("expected {rust}")) {
            reason = format!("{head}expected {words}");
        }
    }
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let shown = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line} ({shown}): {reason}")
        }
        None => reason,
    }
}

/// Settings retired since an older release, and what replaced them.
const RETIRED: [(&str, &str); 2] = [
    (
        "recognition.threshold",
        "no longer used: the decision is `accept` and `kiosk_accept` under [recognition], \
         on another scale (see the README, \"How the decision adapts\")",
    ),
    (
        "recognition.confirm.threshold",
        "no longer used: it is `accept` under [recognition.confirm], on another scale",
    ),
];

/// Lists an older release wrote as tables, and what is still read of them.
const OLDER_FORMS: [(&str, &str); 1] = [(
    "recognition.models",
    "written as an older release did (each model with a fixed score normalisation): only \
     the model ids are read; the scores are now calibrated to the site",
)];

/// What the settings file holds that Rollcall does not read, one line each: a key no
/// setting has (with the known setting it most resembles), or a retired one.
pub fn unknown_settings(text: &str) -> Vec<String> {
    let (Ok(file), Ok(toml::Value::Table(known))) = (
        text.parse::<toml::Table>(),
        toml::Value::try_from(Settings::default()),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    unknown_in(&file, &known, "", &mut out);
    out
}

fn unknown_in(file: &toml::Table, known: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in file {
        let path = format!("{prefix}{key}");
        match known.get(key) {
            None => {
                if let Some((_, why)) = RETIRED.iter().find(|(k, _)| *k == path) {
                    out.push(format!("`{path}` is {why}"));
                    continue;
                }
                let closest = known
                    .keys()
                    .map(|k| (strsim::levenshtein(k, key), k))
                    .filter(|(d, k)| *d <= 2.max(k.len() / 3))
                    .min();
                out.push(match closest {
                    Some((_, k)) => {
                        format!("`{path}` is not a setting (ignored); did you mean `{prefix}{k}`?")
                    }
                    None => format!("`{path}` is not a setting (ignored)"),
                });
            }
            Some(toml::Value::Table(inner)) => {
                if let toml::Value::Table(t) = value {
                    unknown_in(t, inner, &format!("{path}."), out);
                }
            }
            Some(toml::Value::Array(items)) => {
                let toml::Value::Array(mine) = value else {
                    continue;
                };
                match items.first() {
                    // A list of tables (`[[recognition.calibration.prior]]`): each like the
                    // first.
                    Some(toml::Value::Table(first)) => {
                        for item in mine {
                            if let toml::Value::Table(t) = item {
                                unknown_in(t, first, &format!("{path}."), out);
                            }
                        }
                    }
                    _ if mine.iter().any(toml::Value::is_table) => {
                        if let Some((_, why)) = OLDER_FORMS.iter().find(|(k, _)| *k == path) {
                            out.push(format!("`{path}` is {why}"));
                        }
                    }
                    _ => {}
                }
            }
            Some(_) => {}
        }
    }
}

/// A settings file looked at for changes made by another program (a second kiosk on the
/// same data folder, a hand edit).
pub struct SettingsWatch {
    path: PathBuf,
    /// When it was last changed, and its length, as last seen.
    seen: Option<(std::time::SystemTime, u64)>,
    /// What it held then (the defaults when it could not be read).
    held: Settings,
}

impl SettingsWatch {
    /// Watches `path` from what it holds now.
    pub fn new(path: PathBuf) -> SettingsWatch {
        let seen = SettingsWatch::stamp(&path);
        let held = Settings::load_quietly(&path).unwrap_or_default();
        SettingsWatch { path, seen, held }
    }

    /// Takes the file as it is now as known: what this process saved in it itself is no
    /// change of another program's.
    pub fn known(&mut self) {
        *self = SettingsWatch::new(std::mem::take(&mut self.path));
    }

    fn stamp(path: &Path) -> Option<(std::time::SystemTime, u64)> {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    /// What the file held before and holds now, when it changed since it was last seen
    /// and can be read. Only what changed in the file is another program's choice: a
    /// setting the process was given otherwise stays unless the file changes it.
    pub fn changed(&mut self) -> Option<(Settings, &Settings)> {
        let now = SettingsWatch::stamp(&self.path);
        if now == self.seen {
            return None;
        }
        self.seen = now;
        match Settings::load_quietly(&self.path) {
            Ok(settings) => Some((std::mem::replace(&mut self.held, settings), &self.held)),
            Err(e) => {
                tracing::warn!("kept the settings in use: {e}");
                None
            }
        }
    }
}

impl Settings {
    /// Changes one setting (`[section] key = value`) in the file at `path`, keeping every
    /// other line's setting as it is, and returns the settings it now holds.
    pub fn set_in_file(
        path: &Path,
        section: &str,
        key: &str,
        value: toml::Value,
    ) -> Result<Settings, SettingsError> {
        Settings::set_many_in_file(path, section, vec![(key.to_string(), value)])
    }

    /// Changes several settings of one section at once (all or none). The file is readable
    /// by its owner only: it may hold the mail server's password.
    pub fn set_many_in_file(
        path: &Path,
        section: &str,
        values: Vec<(String, toml::Value)>,
    ) -> Result<Settings, SettingsError> {
        let fail = |reason: String| SettingsError {
            path: path.display().to_string(),
            reason,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(fail(e.to_string())),
        };
        // Edited in place: the file's comments and layout stay (a replaced value keeps
        // the comment beside it).
        let mut doc: toml_edit::DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| fail(e.message().to_string()))?;
        let part = doc
            .as_table_mut()
            .entry(section)
            .or_insert(toml_edit::table());
        let Some(part) = part.as_table_like_mut() else {
            return Err(fail(format!("[{section}] is not a section")));
        };
        for (key, value) in values {
            let mut value: toml_edit::Value = value
                .to_string()
                .parse()
                .map_err(|e: toml_edit::TomlError| fail(e.message().to_string()))?;
            if let Some(old) = part.get(&key).and_then(toml_edit::Item::as_value) {
                *value.decor_mut() = old.decor().clone();
            }
            part.insert(&key, toml_edit::Item::Value(value));
        }
        let text = doc.to_string();
        let settings = toml::from_str::<Settings>(&text)
            .map_err(|e| fail(e.message().to_string()))?
            .relative_to(path);
        write_private(path, &text).map_err(|e| fail(e.to_string()))?;
        Ok(settings)
    }

    /// Reads `path`; when it does not exist yet, writes the defaults there so an admin can
    /// find and edit them.
    pub fn load_or_create(path: &Path) -> Result<Settings, SettingsError> {
        if !path.exists() {
            let text = toml::to_string_pretty(&Settings::default()).map_err(|e| SettingsError {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            if let Err(e) = std::fs::write(path, text) {
                tracing::warn!(
                    "could not write default settings to {}: {e}",
                    path.display()
                );
            }
        }
        Settings::load(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_backups_in_a_shared_folder_go_into_this_computers_own_folder() {
        let data = crate::data_dir::DataDir::resolve(Some(std::path::Path::new("/srv/kiosk")));
        let mut b = BackupSettings::default();
        assert_eq!(
            b.folder_in(&data),
            std::path::Path::new("/srv/kiosk/backups")
        );
        b.folder = "/mnt/school-share/rollcall".into();
        let own = b.folder_in(&data);
        assert_eq!(
            own.parent().unwrap(),
            std::path::Path::new("/mnt/school-share/rollcall")
        );
        let name = own.file_name().unwrap().to_str().unwrap();
        assert!(!name.is_empty() && !name.contains('/') && name != "." && name != "..");
    }

    #[test]
    fn first_use_writes_the_defaults_for_editing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        assert_eq!(
            Settings::load_or_create(&path).unwrap(),
            Settings::default()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("room_name"), "{text}");
    }

    #[test]
    fn settings_the_file_has_but_rollcall_does_not_read_are_named() {
        let text = "[kiosk]\ncooldwn_secs = 10\nroom_name = \"Lab\"\n[recogniton]\naccept = 3\n\
                    [recognition]\nthreshold = 0.5\n\
                    [[recognition.calibration.prior]]\nmodel_id = \"m\"\nstranger_mean = 0.9\n\
                    stranger_sd = 0.1\nzebra = 1\n";
        // In the order of the keys' names.
        assert_eq!(
            unknown_settings(text),
            [
                "`kiosk.cooldwn_secs` is not a setting (ignored); did you mean \
                 `kiosk.cooldown_secs`?",
                "`recognition.calibration.prior.stranger_sd` is not a setting (ignored); did \
                 you mean `recognition.calibration.prior.stranger_std`?",
                "`recognition.calibration.prior.zebra` is not a setting (ignored)",
                "`recognition.threshold` is no longer used: the decision is `accept` and \
                 `kiosk_accept` under [recognition], on another scale (see the README, \
                 \"How the decision adapts\")",
                "`recogniton` is not a setting (ignored); did you mean `recognition`?",
            ]
        );
        // The file Rollcall writes on first use holds every setting and nothing else.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        Settings::load_or_create(&path).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(unknown_settings(&written), Vec::<String>::new());
    }

    #[test]
    fn a_settings_file_written_before_the_site_calibration_still_loads() {
        // What a data folder's settings.toml held when the kiosk first wrote it before
        // the decision was calibrated to the site (its [recognition] part).
        let old = "[recognition]\nthreshold = 4.9\nmargin = 0.5\n\n\
                   [[recognition.models]]\nmodel_id = \"dlib-resnet-v1\"\n\
                   stranger_mean = 0.835\nstranger_std = 0.035\n\n\
                   [[recognition.models]]\nmodel_id = \"facenet-20180408\"\n\
                   stranger_mean = 0.134\nstranger_std = 0.135\n\n\
                   [recognition.confirm]\nmodel_id = \"dlib-resnet-v1\"\nthreshold = 3.1\n\
                   margin = 0.5\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, old).unwrap();
        let s = Settings::load(&path).unwrap();
        assert_eq!(s.recognition, RecognitionSettings::default());
        let notes = unknown_settings(old);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].starts_with("`recognition.confirm.threshold` is no longer used"));
        assert!(notes[1].starts_with("`recognition.models` is written as an older release"));
        assert!(notes[2].starts_with("`recognition.threshold` is no longer used"));
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_reported_with_its_line_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::write(
            &path,
            "[kiosk]\nroom_name = \"Lab\"\ncooldown_secs = \"ten\"\n",
        )
        .unwrap();
        let e = Settings::load(&path).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "line 3 (cooldown_secs = \"ten\"): invalid type: string \"ten\", expected a \
                 whole number"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_watch_reports_what_another_program_changed_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let mut watch = SettingsWatch::new(path.clone());
        assert!(watch.changed().is_none(), "no file, nothing changed");
        let threshold = toml::Value::Float(0.3);
        Settings::set_in_file(&path, "liveness", "threshold", threshold).unwrap();
        let (before, now) = watch.changed().expect("the new file");
        assert_eq!(before.liveness.threshold, 0.0);
        assert_eq!(now.liveness.threshold, 0.3);
        assert!(watch.changed().is_none(), "each change is reported once");
        std::fs::write(&path, "[liveness]\nthreshold = \"high\"\n").unwrap();
        assert!(
            watch.changed().is_none(),
            "a file that cannot be read changes nothing"
        );
        Settings::set_in_file(&path, "liveness", "threshold", toml::Value::Float(0.5)).unwrap();
        let (before, now) = watch.changed().expect("mended");
        assert_eq!(
            (before.liveness.threshold, now.liveness.threshold),
            (0.3, 0.5)
        );
        // This process's own save is no other program's change.
        Settings::set_in_file(&path, "liveness", "threshold", toml::Value::Float(0.25)).unwrap();
        watch.known();
        assert!(watch.changed().is_none());
    }

    #[test]
    fn one_setting_changed_in_the_file_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, "[kiosk]\nroom_name = \"Lab 4\"\n").unwrap();
        let s =
            Settings::set_in_file(&path, "liveness", "threshold", toml::Value::Float(0.3)).unwrap();
        assert_eq!(s.liveness.threshold, 0.3);
        assert_eq!(s.kiosk.room_name, "Lab 4");
        assert_eq!(Settings::load(&path).unwrap(), s);
        let wrong = Settings::set_in_file(
            &path,
            "liveness",
            "threshold",
            toml::Value::String("high".into()),
        );
        assert!(wrong.is_err(), "a value of the wrong kind is refused");
        assert_eq!(
            Settings::load(&path).unwrap(),
            s,
            "and the file is left as it was"
        );
    }

    #[test]
    fn several_settings_are_saved_at_once_in_a_file_only_its_owner_reads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, "[kiosk]\nroom_name = \"Lab 4\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = Settings::set_many_in_file(
            &path,
            "email",
            vec![
                (
                    "host".into(),
                    toml::Value::String("mail.school.example".into()),
                ),
                ("password".into(), toml::Value::String("s3cret".into())),
            ],
        )
        .unwrap();
        assert_eq!(s.email.host, "mail.school.example");
        assert_eq!(s.email.password, "s3cret");
        assert_eq!(s.kiosk.room_name, "Lab 4");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the password is not readable by others"
        );
    }

    #[test]
    fn a_change_keeps_the_files_comments_and_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let text = "# Lab 4's kiosk\n[liveness]\nthreshold = 0.0  # stricter: higher\nenabled = true\n\n[kiosk]\n# shown on screen\nroom_name = \"Lab 4\"\n";
        std::fs::write(&path, text).unwrap();
        Settings::set_in_file(&path, "liveness", "threshold", toml::Value::Float(0.3)).unwrap();
        Settings::set_in_file(&path, "email", "port", toml::Value::Integer(465)).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(
            after.starts_with(&text.replace("0.0  #", "0.3  #")),
            "only the value changed:\n{after}"
        );
        assert!(after.contains("[email]\nport = 465"), "{after}");
    }

    #[test]
    fn a_relative_model_folder_is_in_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        let s = Settings::set_in_file(
            &path,
            "liveness",
            "model_dir",
            toml::Value::String("liveness".into()),
        )
        .unwrap();
        let expected = dir.path().join("liveness").to_string_lossy().into_owned();
        assert_eq!(s.liveness.model_dir, expected);
        assert_eq!(Settings::load(&path).unwrap().liveness.model_dir, expected);
        let absolute = Settings::set_in_file(
            &path,
            "liveness",
            "model_dir",
            toml::Value::String("/srv/check".into()),
        )
        .unwrap();
        assert_eq!(absolute.liveness.model_dir, "/srv/check");
    }

    #[test]
    fn defaults_survive_a_toml_round_trip() {
        let s = Settings::default();
        let text = toml::to_string(&s).unwrap();
        assert_eq!(toml::from_str::<Settings>(&text).unwrap(), s);
    }

    #[test]
    fn a_partial_file_keeps_the_other_defaults() {
        let s: Settings = toml::from_str("[recognition]\naccept = 5.5\n").unwrap();
        assert_eq!(s.recognition.accept, 5.5);
        assert_eq!(s.detector, DetectorSettings::default());
    }

    #[test]
    fn a_missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load(&dir.path().join("settings.toml")).unwrap();
        assert_eq!(s, Settings::default());
    }
}
