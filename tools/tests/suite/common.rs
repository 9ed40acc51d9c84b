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

/// Runs `rollcall-tools` (with `--json` among `args`) in a scratch data folder; fails the
/// test with its error output unless it succeeds, and returns the one JSON object it prints.
pub fn tools_json(args: &[&str]) -> serde_json::Value {
    let data = tempfile::tempdir().unwrap();
    let out = tools(data.path(), args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}
