//! Rollcall's evaluations and benchmarks, apart from the kiosk: they measure the product
//! and are run by people and CI, never by a school.

pub mod bench;
pub mod chips;
pub mod cue_study;
pub mod eval;
pub mod live_eval;
pub mod liveness_eval;
pub mod school_bench;
pub mod synthetic;

use std::path::{Path, PathBuf};

/// The shared data sets: `$ROLLCALL_DATASETS`, else `../shared/datasets` beside the
/// repository.
pub fn datasets_dir() -> PathBuf {
    std::env::var_os("ROLLCALL_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets"))
}
