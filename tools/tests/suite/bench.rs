//! The benchmarks run on real data and report what they measured.

use crate::common;

/// `rollcall-tools bench live` given a relative folder: the people passing the door get verdicts
/// (the figures themselves are for the README, not asserted here).
#[test]
fn the_live_benchmark_sees_the_people_pass() {
    let set = common::dataset("webcam-dev");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-tools"))
        .current_dir(set.parent().unwrap())
        .args(["bench", "live", "--source", "webcam-dev", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(json).expect(json);
    let people = std::fs::read_dir(&set).unwrap().count() as u64;
    assert!(v["frames_played"].as_u64().unwrap() > 0);
    assert!(
        v["verdicts"].as_u64().unwrap() >= people,
        "every person gets a verdict: {v}"
    );
}
