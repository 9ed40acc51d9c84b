//! `rollcall-tools eval` at default settings: on the LFW development set (web photos) at
//! least 90 % of enrolled students' photos accepted as the right person, at most 1 % of
//! strangers' photos accepted, at most 0.5 % given to the wrong student and at least 93 %
//! accepted when the threshold lets 1 % of strangers in; on same-camera sets (the classroom
//! protocol) strangers stay strangers whatever the class size, and the door logic marks
//! every enrolled student in recorded sequences and no stranger and no printed photo.

use crate::common;

#[test]
fn default_settings_meet_the_accuracy_bar_on_lfw() {
    let lfw = common::dataset("lfw-dev");
    let m = common::tools_json(&["eval", lfw.to_str().unwrap(), "--json"]);
    let get = |k: &str| {
        m[k].as_f64()
            .unwrap_or_else(|| panic!("missing key {k} in {m}"))
    };
    for key in [
        "correct_accept",
        "wrong_person",
        "false_reject",
        "stranger_accept",
        "no_face",
        "rank1",
        "correct_at_1pct",
        "correct_at_0_1pct",
        "sec_per_photo",
    ] {
        let v = get(key);
        assert!(
            v >= 0.0 && (key == "sec_per_photo" || v <= 1.0),
            "{key} = {v} is not a fraction"
        );
    }
    assert!(get("correct_accept") >= 0.90, "{m}");
    assert!(get("stranger_accept") <= 0.01, "{m}");
    assert!(get("wrong_person") <= 0.005, "{m}");
    assert!(get("correct_at_1pct") >= 0.93, "{m}");
    let sum = get("correct_accept") + get("wrong_person") + get("false_reject");
    assert!(
        (sum - 1.0).abs() < 1e-9,
        "genuine outcomes must add up: {m}"
    );
    // Each kind of mistake made is listed, by who was taken for whom.
    let mistakes = m["mistakes"].as_array().expect("the mistakes list");
    for (kind, key) in [
        ("wrong person", "wrong_person"),
        ("stranger", "stranger_accept"),
    ] {
        let listed = mistakes.iter().filter(|x| x["kind"] == kind).count();
        assert_eq!(listed > 0, get(key) > 0.0, "{kind}: {m}");
    }
    for x in mistakes {
        let (times, photos) = (x["times"].as_u64().unwrap(), x["photos"].as_u64().unwrap());
        assert!(times >= photos && photos >= 1, "{x}");
        assert_ne!(x["person"], x["marked_as"], "{x}");
    }
}

/// Runs the classroom protocol on a set; returns the figures per class size.
fn classroom(set: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = common::dataset(set);
    let mut args = vec!["eval", dir.to_str().unwrap(), "--classroom", "--json"];
    args.extend_from_slice(extra);
    let v = common::tools_json(&args);
    v["classroom"]
        .as_array()
        .expect("classroom figures")
        .clone()
}

#[test]
fn same_camera_strangers_stay_strangers_at_every_class_size() {
    let figures = classroom("casia-dev", &[]);
    let sizes: Vec<u64> = figures
        .iter()
        .map(|f| f["gallery_size"].as_u64().unwrap())
        .collect();
    assert_eq!(
        sizes,
        [1, 3, 10, 19],
        "class sizes 1, 3, 10 and all but one"
    );
    for f in &figures {
        let get = |k: &str| f[k].as_f64().unwrap_or_else(|| panic!("no {k} in {f}"));
        assert_eq!(f["rotations"], 20, "{f}");
        assert_eq!(
            get("wrong_person_worst"),
            0.0,
            "nobody marked as someone else: {f}"
        );
        // Issue 12's bar for strangers, in every rotation (a look-alike of one of three
        // students let 7.6 % of a rotation's strangers in while single photos leaned on
        // three students' figures).
        let limit = if f["gallery_size"] == 1 { 0.02 } else { 0.01 };
        assert!(
            get("stranger_accept_worst") <= limit,
            "strangers accepted: {f}"
        );
        assert!(get("correct_accept") >= 0.85, "students accepted: {f}");
        // Whatever the threshold costs, the models keep these people apart (the
        // rotation enrolling only 019, in none of whose photos a face is found, is not
        // counted as a rotation where they do not).
        assert!(get("correct_at_1pct_worst") >= 0.95, "separation: {f}");
        // Every stranger accepted is listed, by who was taken for whom.
        let mistakes = f["mistakes"].as_array().expect("the mistakes list");
        let times = |kind: &str| -> f64 {
            mistakes
                .iter()
                .filter(|m| m["kind"] == kind)
                .map(|m| m["times"].as_f64().unwrap())
                .sum()
        };
        if mistakes.len() < 10 {
            let accepted = get("stranger_accept") * get("stranger_probes");
            assert!((times("stranger") - accepted).abs() < 0.5, "{f}");
            assert_eq!(times("wrong person"), 0.0, "{f}");
        }
    }
    // The old settings (web-photo statistics, one fixed threshold) let about a fifth of
    // these strangers in with ten students enrolled.
    let ten = &figures[2];
    assert!(ten["stranger_accept"].as_f64().unwrap() < 0.005, "{ten}");
}

#[test]
fn webcam_frames_of_strangers_are_never_accepted() {
    for f in classroom("webcam-dev", &["--camera"]) {
        assert_eq!(f["stranger_accept_worst"], 0.0, "{f}");
        assert_eq!(f["wrong_person_worst"], 0.0, "{f}");
        // The threshold-free figure: with the threshold each rotation's strangers would
        // call for, the models separate these people's frames (so what the decision
        // misses is calibration, not separation); here it is above the decision's.
        let get = |k: &str| f[k].as_f64().unwrap_or_else(|| panic!("no {k} in {f}"));
        let (mean, worst) = (get("correct_at_1pct_mean"), get("correct_at_1pct_worst"));
        assert!(worst <= mean && mean <= 1.0, "{f}");
        assert!(mean >= get("correct_accept"), "{f}");
        assert!(worst >= 0.95, "{f}");
        // The frames the kiosk would judge (clear, near enough): most of them, and no
        // stranger's among them either.
        let kiosk = &f["kiosk_judged"];
        let judged = kiosk["judged"].as_f64().unwrap_or_else(|| panic!("{f}"));
        assert!((0.5..1.0).contains(&judged), "{f}");
        assert_eq!(kiosk["stranger_accept_worst"], 0.0, "{f}");
    }
}

/// `eval-live` on the dev NUAA people, each person's photos and face judged by a
/// photo-attack model trained without them: the kiosk-level figure for people the check
/// has never seen.
fn door_with_held_out_checks(extra: &[&str]) -> serde_json::Value {
    let (live, spoof) = (common::dataset("webcam-dev"), common::dataset("spoof-dev"));
    let train = common::dataset("nuaa-train-dev");
    let (live, spoof) = (live.to_str().unwrap(), spoof.to_str().unwrap());
    let (train_live, train_spoof) = (train.join("webcam"), train.join("spoof"));
    let mut args = vec![
        "eval-live",
        live,
        spoof,
        "--held-out-liveness",
        train_live.to_str().unwrap(),
        train_spoof.to_str().unwrap(),
        "--json",
    ];
    args.extend(extra);
    common::tools_json(&args)
}

#[test]
fn at_the_door_every_student_is_marked_and_no_stranger_or_photo_is() {
    let v = door_with_held_out_checks(&[]);
    for key in [
        "appearances",
        "correct",
        "wrong_person",
        "stranger_marked",
        "attack_marked",
        "missed",
        "fps",
        "detect_ms_p50",
        "detect_ms_p95",
        "verdict_ms_p50",
        "verdict_ms_p95",
        "frames_played",
        "verdicts",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert!(v["student_appearances"].as_u64().unwrap() >= 7, "{v}");
    assert!(v["stranger_appearances"].as_u64().unwrap() >= 7, "{v}");
    assert!(v["attack_appearances"].as_u64().unwrap() >= 50, "{v}");
    assert!(
        v["liveness_model"]
            .as_str()
            .unwrap()
            .contains("trained without them (7 people"),
        "{v}"
    );
    assert_eq!(
        v["attack_marked"], 0,
        "no printed photo ends in a mark: {v}"
    );
    for (person, f) in v["per_person"].as_object().unwrap() {
        assert!(
            f["attack_appearances"].as_u64().unwrap() >= 10,
            "{person}: {f}"
        );
    }
    assert_eq!(v["wrong_person"], 0, "{v}");
    assert_eq!(v["stranger_marked"], 0, "{v}");
    assert_eq!(v["missed"], 0, "every student who walks in is marked: {v}");
    assert_eq!(v["correct"], v["student_appearances"], "{v}");
    // Nobody queues here, so a face taken for someone else's is a person's own (2 of
    // 2,810 frames, both of a printed photo, when this was written).
    assert!(v["tracks_split"].as_u64().unwrap() <= 10, "{v}");
}

/// People queueing at the door: each steps in as the one before leaves, often where they
/// stood. Each is judged for themselves: until 2026-12-03 the newcomer inherited the
/// face track — and the verdict — of the one who left, and 10 of these 16 student
/// appearances went unmarked.
#[test]
fn in_a_queue_everyone_is_judged_for_themselves() {
    let v = door_with_held_out_checks(&["--queue"]);
    assert_eq!(v["queue"], true, "{v}");
    assert!(v["student_appearances"].as_u64().unwrap() >= 7, "{v}");
    assert!(v["attack_appearances"].as_u64().unwrap() >= 50, "{v}");
    assert!(
        v["tracks_split"].as_u64().unwrap() > 0,
        "people stepped in where others stood: {v}"
    );
    assert_eq!(v["missed"], 0, "every student in the queue is marked: {v}");
    assert_eq!(v["wrong_person"], 0, "{v}");
    assert_eq!(v["stranger_marked"], 0, "{v}");
    assert_eq!(v["attack_marked"], 0, "{v}");
}

/// Students enrolled from uploaded photos have no live reference of their own: the check's
/// generic model judges them, each person with a model trained without them. No printed
/// photo, stranger or wrong person may be marked; students may be refused a little more
/// often than when enrolled at the camera, within the bar for live faces refused
/// (10 % for the worst person), here per appearance.
#[test]
fn at_the_door_students_enrolled_from_uploads_are_marked_and_their_photos_are_not() {
    let v = door_with_held_out_checks(&["--from-uploads"]);
    assert!(v["attack_appearances"].as_u64().unwrap() >= 50, "{v}");
    assert!(v["student_appearances"].as_u64().unwrap() >= 7, "{v}");
    assert_uploaded_students_recognised_and_nobody_else(&v);
}

/// A school that enrolled its students from the photos it had (as every school coming
/// from the old system does) meets them at the door on other days only: no same-day frame
/// of theirs calibrates the camera first, and the decision starts from its strict prior.
/// The same bars as above. Until 2026-12-05 one of the nine appearances (0004's third
/// session, another position and light) was not recognised: its first frame matched with
/// both models, and the next frames, judged by the fast model alone, stayed under that
/// model's own bar.
#[test]
fn on_the_first_days_of_a_school_enrolled_from_photos_every_student_is_recognised() {
    let v = door_with_held_out_checks(&["--from-uploads", "--other-sessions-only"]);
    assert_eq!(v["other_sessions_only"], true, "{v}");
    assert!(v["student_appearances"].as_u64().unwrap() >= 5, "{v}");
    assert_uploaded_students_recognised_and_nobody_else(&v);
}

/// `eval-live --from-uploads` figures: no printed photo, stranger or wrong person
/// marked; every student recognised (only the photo check may refuse one), at most 10 %
/// of their appearances refused.
fn assert_uploaded_students_recognised_and_nobody_else(v: &serde_json::Value) {
    assert_eq!(v["enrolled_from"], "upload", "{v}");
    assert_eq!(v["attack_marked"], 0, "{v}");
    assert_eq!(v["stranger_marked"], 0, "{v}");
    assert_eq!(v["wrong_person"], 0, "{v}");
    let (correct, students) = (
        v["correct"].as_u64().unwrap(),
        v["student_appearances"].as_u64().unwrap(),
    );
    assert!(
        correct * 10 >= students * 9,
        "at most 10 % of students refused: {v}"
    );
    assert_eq!(
        v["missed"], v["missed_refused_as_photo"],
        "every student is recognised; only the photo check may refuse: {v}"
    );
}
