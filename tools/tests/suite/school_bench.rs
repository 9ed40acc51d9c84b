//! The school server's benchmarks, each on a real PostgreSQL server of its own.

use crate::bench::{last_json_line, tools};
use crate::school_server::Postgres;

/// `rollcall-tools bench school`: the doors' backlogs all reach the server and every door
/// gets each enrolment (the benchmark fails otherwise); one row per number of doors.
#[test]
fn the_school_benchmark_delivers_every_mark_and_enrolment() {
    let pg = Postgres::start();
    let v = last_json_line(tools().args([
        "bench",
        "school",
        "--database",
        &pg.url(),
        "--doors",
        "1,2",
        "--marks",
        "20",
        "--json",
    ]));
    let rows = v.as_array().expect("a list of rows");
    let doors: Vec<u64> = rows.iter().map(|r| r["doors"].as_u64().unwrap()).collect();
    assert_eq!(doors, [1, 2]);
    for r in rows {
        assert_eq!(r["marks"].as_u64(), Some(20 * r["doors"].as_u64().unwrap()));
        assert!(r["marks_per_s"].as_f64().unwrap() > 0.0, "{r}");
        let (p50, p95) = (
            r["enrol_to_door_ms_p50"].as_f64().unwrap(),
            r["enrol_to_door_ms_p95"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p95, "{r}");
    }
}

/// `rollcall-tools bench school-join`: a new door fetches the whole school, and the same
/// folder, having left the school, joins it again with nothing left unsent (the benchmark
/// fails otherwise); the figures themselves are for the README.
#[test]
fn the_joining_benchmark_fetches_the_whole_school_and_joins_it_again() {
    let pg = Postgres::start();
    let v = last_json_line(tools().args([
        "bench",
        "school-join",
        "--database",
        &pg.url(),
        "--students",
        "300",
        "--days",
        "12",
        "--json",
    ]));
    assert_eq!(v["students"].as_u64(), Some(300));
    assert_eq!(v["templates"].as_u64(), Some(3_000));
    assert_eq!(v["marks"].as_u64(), Some(3_600));
    for key in [
        "seconds",
        "peak_memory_mb",
        "longest_write_wait_s",
        "join_again_seconds",
    ] {
        assert!(v[key].as_f64().unwrap() > 0.0, "{key}: {v}");
    }
    assert!(v["writes_refused"].as_u64().is_some(), "{v}");
}
