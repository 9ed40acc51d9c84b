//! `rollcall-tools eval` on the LFW development set at default settings meets the accuracy bar:
//! at least 90 % of enrolled students' photos accepted as the right person, at most 1 % of
//! strangers' photos accepted and at most 0.5 % of photos given to the wrong student.

use crate::common;

#[test]
fn default_settings_meet_the_accuracy_bar_on_lfw() {
    let data = tempfile::tempdir().unwrap();
    let lfw = common::dataset("lfw-dev");
    let out = common::tools(data.path(), &["eval", lfw.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
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
    let sum = get("correct_accept") + get("wrong_person") + get("false_reject");
    assert!(
        (sum - 1.0).abs() < 1e-9,
        "genuine outcomes must add up: {m}"
    );
}
