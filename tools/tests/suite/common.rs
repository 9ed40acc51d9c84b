//! Where the shared data sets are, and how to run the tools.

use std::path::PathBuf;

/// A data set under the shared data sets folder (`ROLLCALL_DATASETS` overrides it).
pub fn dataset(name: &str) -> PathBuf {
    let dir = rollcall_tools::datasets_dir().join(name);
    assert!(
        dir.is_dir(),
        "the test data set {} is missing: the tests need ../shared/datasets beside the checkout \
         (or ROLLCALL_DATASETS pointing at it)",
        dir.display()
    );
    dir
}

/// Runs `rollcall-tools` with a data folder of its own.
pub fn tools(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-tools"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run rollcall-tools")
}
