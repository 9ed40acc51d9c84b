//! The benchmarks run on real data and report what they measured.

use crate::common;
use std::process::Command;

pub fn tools() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rollcall-tools"))
}

/// Runs a command that must succeed; its last line of output, as JSON.
pub fn last_json_line(command: &mut Command) -> serde_json::Value {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).expect(&text)
}

/// `rollcall-tools bench live` given a relative folder: the people passing the door get verdicts
/// (the figures themselves are for the README, not asserted here).
#[test]
fn the_live_benchmark_sees_the_people_pass() {
    let set = common::dataset("webcam-dev");
    let v = last_json_line(tools().current_dir(set.parent().unwrap()).args([
        "bench",
        "live",
        "--source",
        "webcam-dev",
        "--json",
    ]));
    let people = std::fs::read_dir(&set).unwrap().count() as u64;
    assert!(v["frames_played"].as_u64().unwrap() > 0);
    assert!(
        v["verdicts"].as_u64().unwrap() >= people,
        "every person gets a verdict: {v}"
    );
}

/// `rollcall-tools bench identify --json`: one row per class size with the keys the issue
/// names, each measured on that many students in its own process; a school past the
/// exact search's limit (2,000) decides as comparing every template would.
#[test]
fn the_identify_benchmark_reports_each_class_size() {
    let dir = tempfile::tempdir().unwrap();
    let v = last_json_line(tools().arg("--data-dir").arg(dir.path()).args([
        "bench",
        "identify",
        "--students",
        "1,300,2500",
        "--json",
    ]));
    let rows = v.as_array().expect("a list of rows");
    let students: Vec<u64> = rows
        .iter()
        .map(|r| r["students"].as_u64().unwrap())
        .collect();
    assert_eq!(students, [1, 300, 2500], "the gallery held what was stored");
    for r in rows {
        for key in ["identify_ms_p50", "identify_ms_p95", "startup_s", "rss_mb"] {
            assert!(r[key].as_f64().unwrap() >= 0.0, "{key} in {r}");
        }
        assert!(r["rss_mb"].as_f64().unwrap() > 1.0, "memory was read: {r}");
        assert!(
            r["peak_rss_mb"].as_f64().unwrap() >= r["rss_mb"].as_f64().unwrap(),
            "the peak is at least what is held: {r}"
        );
    }
    assert!(
        rows[1]["identify_ms_p50"].as_f64().unwrap() > 0.0,
        "300 students take some time to search: {rows:?}"
    );
    // Searched exactly: the same decisions by construction.
    assert_eq!(rows[1]["same_decision"].as_f64(), Some(1.0), "{rows:?}");
    // Half the probes are new photos of enrolled students: the comparison is not
    // between two searches that both refuse everyone.
    for r in &rows[1..] {
        let matched = r["matched"].as_f64().unwrap();
        assert!((0.4..=0.6).contains(&matched), "{r}");
    }
    assert!(
        rows[2]["same_decision"].as_f64().unwrap() >= 0.99,
        "the shortlist changed decisions: {rows:?}"
    );
}

#[test]
fn the_timing_benchmarks_refuse_a_folder_without_frames() {
    // Nothing to time is said, not timed as NaN over zero runs.
    let set = tempfile::tempdir().unwrap();
    std::fs::create_dir(set.path().join("0001")).unwrap();
    for (bench, says) in [("pipeline", "holds no photos"), ("live", "no one in")] {
        let out = tools()
            .args(["bench", bench, "--source"])
            .arg(set.path())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{bench}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{bench}: {err}");
    }
}

/// `rollcall-tools bench backup --json`: one row per school size, every photo in the
/// backup, and the daily backup's look finds nothing to write again, and a deleted student
/// is erased from a week of daily backups (the benchmark fails if not).
#[test]
fn the_backup_benchmark_writes_every_photo_and_the_daily_look_leaves_it() {
    let frames = common::dataset("webcam-dev").join("0001");
    let v = last_json_line(tools().args([
        "bench",
        "backup",
        "--source",
        frames.to_str().unwrap(),
        "--students",
        "2,20",
        "--json",
    ]));
    let rows = v.as_array().expect("a list of rows");
    let sizes: Vec<(u64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["students"].as_u64().unwrap(),
                r["photos"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(sizes, [(2, 10), (20, 100)], "five photo files a student");
    for r in rows {
        let (photos, backup) = (
            r["photos_mb"].as_f64().unwrap(),
            r["backup_mb"].as_f64().unwrap(),
        );
        assert!(
            photos > 0.0 && backup >= photos,
            "the photos are inside: {r}"
        );
        assert!(r["erase_s"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["backup_s"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["look_ms"].as_f64().unwrap() >= 0.0, "{r}");
    }
}
