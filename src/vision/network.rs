//! Which inference runtime runs the face models: OpenVINO when it is installed (about three
//! times faster on these CPUs, same results), else OpenCV's dnn module.

use super::models::{asset_dir, ModelError};
use super::openvino::{self, Runtime};
use super::VisionError;
use crate::settings::Inference;
use opencv::core::{Mat, Vector};
use opencv::dnn;
use opencv::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The folder OpenVINO's libraries are taken from: `$ROLLCALL_OPENVINO_DIR`, else
/// `assets/openvino` (filled by `scripts/setup`).
pub fn openvino_dir() -> PathBuf {
    asset_dir("ROLLCALL_OPENVINO_DIR", "assets/openvino")
}

/// The runtime that runs the networks.
#[derive(Clone)]
pub enum Backend {
    OpenCv,
    OpenVino(Arc<Runtime>),
}

/// OpenVINO, loaded once per process (or why it could not be).
fn shared_openvino() -> Result<Arc<Runtime>, String> {
    static RUNTIME: OnceLock<Result<Arc<Runtime>, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Runtime::load(&openvino_dir()))
        .clone()
}

impl Backend {
    /// The runtime the setting asks for. `auto` takes OpenVINO when it loads and says in
    /// the log why not otherwise; `openvino` insists on it.
    pub fn choose(inference: Inference) -> Result<Backend, VisionError> {
        match inference {
            Inference::OpenCv => Ok(Backend::OpenCv),
            Inference::OpenVino => shared_openvino()
                .map(Backend::OpenVino)
                .map_err(VisionError::Runtime),
            Inference::Auto => Ok(shared_openvino().map_or_else(
                |reason| {
                    static SAID: OnceLock<()> = OnceLock::new();
                    SAID.get_or_init(|| {
                        tracing::info!(
                            "face models run on OpenCV's dnn module ({reason}; \
                             `{}` installs the faster runtime)",
                            super::SETUP_COMMAND
                        )
                    });
                    Backend::OpenCv
                },
                Backend::OpenVino,
            )),
        }
    }

    /// The runtime's name, for people.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::OpenCv => "OpenCV dnn",
            Backend::OpenVino(_) => "OpenVINO",
        }
    }

    /// Whether one loaded network takes inputs of every size (OpenCV's re-allocates its
    /// layers whenever the input shape changes, so a copy is kept per size).
    pub fn any_input_size(&self) -> bool {
        matches!(self, Backend::OpenVino(_))
    }

    /// Loads an ONNX model held in memory; `path` names the file it came from.
    pub fn onnx(&self, onnx: &[u8], path: &Path) -> Result<Network, VisionError> {
        match self {
            Backend::OpenCv => dnn::read_net_from_onnx_buffer(&Vector::<u8>::from_slice(onnx))
                .map(Network::OpenCv)
                .map_err(|e| unloadable(path, e.message)),
            Backend::OpenVino(rt) => rt
                .read_onnx(onnx)
                .map(Network::OpenVino)
                .map_err(|e| unloadable(path, e)),
        }
    }

    /// Loads a TensorFlow graph file.
    pub fn tensorflow(&self, path: &Path) -> Result<Network, VisionError> {
        // A missing file gets the friendly message (the runtimes read the file themselves).
        if !path.is_file() {
            return Err(ModelError::Missing(path.to_path_buf()).into());
        }
        match self {
            Backend::OpenCv => {
                let name = path
                    .to_str()
                    .ok_or_else(|| unloadable(path, "path is not valid UTF-8"))?;
                dnn::read_net_from_tensorflow(name, "")
                    .map(Network::OpenCv)
                    .map_err(|e| unloadable(path, e.message))
            }
            Backend::OpenVino(_) => self.openvino_file(path),
        }
    }

    /// Loads a model file OpenVINO reads itself (its own format, with the `.bin` beside
    /// it, or a TensorFlow graph); OpenVINO only.
    pub fn openvino_file(&self, path: &Path) -> Result<Network, VisionError> {
        match self {
            Backend::OpenCv => Err(unloadable(path, "only OpenVINO runs it")),
            Backend::OpenVino(rt) => rt
                .read_file(path)
                .map(Network::OpenVino)
                .map_err(|e| unloadable(path, e)),
        }
    }
}

/// A model file a runtime could not load, and why.
pub(super) fn unloadable(path: &Path, reason: impl ToString) -> VisionError {
    VisionError::Model(ModelError::Unloadable {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    })
}

/// A loaded network on one of the runtimes.
pub enum Network {
    OpenCv(dnn::Net),
    OpenVino(openvino::Network),
}

impl Network {
    /// Runs the network on a continuous 32-bit blob (its dims are the input's shape) and
    /// returns the named outputs in order, or the first output when `outputs` is empty.
    pub fn run(
        &mut self,
        blob: &(impl MatTraitConst + opencv::core::ToInputArray),
        outputs: &[&str],
    ) -> Result<Vec<openvino::Output>, VisionError> {
        match self {
            Network::OpenCv(net) => {
                net.set_input_def(blob)?;
                let mats = if outputs.is_empty() {
                    Vector::<Mat>::from_iter([net.forward_single_def()?])
                } else {
                    let names = Vector::<String>::from_iter(outputs.iter().copied());
                    let mut mats = Vector::<Mat>::new();
                    net.forward(&mut mats, &names)?;
                    mats
                };
                mats.iter()
                    .map(|m| {
                        Ok(openvino::Output {
                            dims: m.mat_size().iter().map(|&d| d as usize).collect(),
                            values: m.data_typed::<f32>()?.to_vec(),
                        })
                    })
                    .collect()
            }
            Network::OpenVino(net) => {
                let dims: Vec<usize> = blob.mat_size().iter().map(|&d| d as usize).collect();
                net.run(blob.data_typed::<f32>()?, &dims, outputs)
                    .map_err(VisionError::Runtime)
            }
        }
    }
}
