//! The photo-attack check on the NUAA frames (../shared/datasets/nuaa-train-dev: live
//! people and their printed photos held up to the same webcam, in all lights), with the
//! real detector. Every figure is for people the check was not trained on.

use crate::common;

use common::{dataset, tools, tools_json};
use rollcall::settings::Settings;
use rollcall::vision::liveness::training::{labelled_frames, Samples};
use rollcall::vision::liveness::{
    default_liveness_dir, LivenessModel, TrainingRecord, MODEL_LAYOUT,
};
use rollcall::vision::FaceEngine;

fn samples_of(people: &[&str]) -> Samples {
    let mut settings = Settings::default();
    settings.liveness.enabled = false;
    let mut engine = FaceEngine::load(&settings).unwrap();
    let people: Vec<String> = people.iter().map(|p| p.to_string()).collect();
    let frames = labelled_frames(&dataset("webcam-dev"), &dataset("spoof-dev"), &people).unwrap();
    Samples::collect(&mut engine, &frames, || {}).unwrap()
}

/// The bars, leaving each of the 7 people out in turn (trained on the other 6):
/// attacks accepted, worst person ≤ 2 % and mean ≤ 1 %; live frames refused, mean ≤ 5 %
/// and worst person ≤ 10 %, for students enrolled at the kiosk and for students enrolled
/// from uploaded photos (no reference of their own: the generic check at the operating
/// point it learnt from the six training people).
#[test]
fn leaving_each_person_out_few_attacks_pass_and_few_students_are_refused() {
    let train = dataset("nuaa-train-dev");
    let v = tools_json(&[
        "eval-liveness",
        train.join("webcam").to_str().unwrap(),
        train.join("spoof").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["method"], "leave one person out", "{v}");
    let client = &v["client"];
    let people = client["per_person"].as_object().unwrap();
    assert_eq!(people.len(), 7, "{v}");
    for (person, c) in people {
        assert!(c["attacks"].as_u64().unwrap() > 100, "{person}: {c}");
        assert!(c["live"].as_u64().unwrap() > 10, "{person}: {c}");
    }
    let f = |m: &serde_json::Value, k: &str| m[k].as_f64().unwrap();
    assert!(f(client, "worst_apcer") <= 0.02, "{client}");
    assert!(f(client, "mean_apcer") <= 0.01, "{client}");
    assert!(f(client, "worst_bpcer") <= 0.10, "{client}");
    assert!(f(client, "mean_bpcer") <= 0.05, "{client}");
    let generic = &v["generic"];
    assert!(f(generic, "worst_apcer") <= 0.02, "{generic}");
    assert!(f(generic, "mean_apcer") <= 0.01, "{generic}");
    assert!(f(generic, "worst_bpcer") <= 0.10, "{generic}");
    assert!(f(generic, "mean_bpcer") <= 0.05, "{generic}");
}

#[test]
fn a_model_saved_and_loaded_scores_the_same_and_a_damaged_one_is_refused() {
    let samples = samples_of(&["0002", "0003"]);
    let mut model = samples.train(TrainingRecord::default()).unwrap();
    assert_eq!(model.record.layout, MODEL_LAYOUT);
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let loaded = LivenessModel::load(dir.path()).unwrap();
    assert_eq!(loaded.record, model.record);
    for s in samples.samples.iter().step_by(17) {
        for reference in [None, samples.reference_of(s)] {
            let (a, b) = (
                model.score_features(&s.features, reference).unwrap(),
                loaded.score_features(&s.features, reference).unwrap(),
            );
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
            assert_eq!(a > 0.0, s.live, "training frames are classified right");
        }
    }

    for file in ["client.yml.gz", "generic.yml.gz"] {
        let copy = tempfile::tempdir().unwrap();
        model.save(copy.path()).unwrap();
        let svm = copy.path().join(file);
        let mut bytes = std::fs::read(&svm).unwrap();
        let n = bytes.len();
        bytes[n / 2] ^= 0xff;
        std::fs::write(&svm, bytes).unwrap();
        let err = LivenessModel::load(copy.path()).err().expect("refused");
        assert!(err.to_string().contains("damaged"), "{file}: {err}");
        assert!(
            err.to_string().contains("[liveness] enabled = false"),
            "{err}"
        );
    }

    let empty = tempfile::tempdir().unwrap();
    let err = LivenessModel::load(empty.path()).err().expect("refused");
    assert!(err.to_string().contains("missing"), "{err}");
}

/// The committed model loads, says what it was trained on and its measured trade-off, and
/// `eval-liveness --model` scores a given model.
#[test]
fn the_shipped_model_is_recorded_with_its_trade_off() {
    let model = LivenessModel::load(&default_liveness_dir()).unwrap();
    assert_eq!(model.record.layout, MODEL_LAYOUT);
    assert_eq!(model.record.people.len(), 7);
    assert!(model.record.live_frames > 500 && model.record.spoof_frames > 1000);
    let at_zero = model
        .record
        .tradeoff
        .iter()
        .find(|t| t.threshold.abs() < 1e-6)
        .expect("the default threshold is measured");
    assert!(
        at_zero.apcer <= 0.01 && at_zero.bpcer <= 0.05,
        "{at_zero:?}"
    );
    // Stricter thresholds refuse more photos and more live faces.
    for w in model.record.tradeoff.windows(2) {
        assert!(w[0].threshold < w[1].threshold);
        assert!(
            w[0].apcer >= w[1].apcer && w[0].bpcer <= w[1].bpcer,
            "{w:?}"
        );
    }

    let (live, spoof) = (dataset("webcam-dev"), dataset("spoof-dev"));
    let v = tools_json(&[
        "eval-liveness",
        live.to_str().unwrap(),
        spoof.to_str().unwrap(),
        "--people",
        "0003,0006",
        "--model",
        default_liveness_dir().to_str().unwrap(),
        "--json",
    ]);
    assert!(
        v["method"]
            .as_str()
            .unwrap()
            .starts_with("model trained on"),
        "{v}"
    );
    let people: Vec<&String> = v["client"]["per_person"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(people, ["0003", "0006"]);

    let data = tempfile::tempdir().unwrap();
    let missing = tools(
        data.path(),
        &[
            "eval-liveness",
            "/no/such/live",
            "/no/such/spoof",
            "--model",
            data.path().to_str().unwrap(),
        ],
    );
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("photo-attack check"), "{err}");
}

/// `eval-liveness --site`: every rotation of three site students (one printed photo
/// recorded) is judged by the base check and the adapted one, on frames neither saw.
#[test]
fn site_adaptation_is_measured_on_frames_neither_check_saw() {
    let samples = samples_of(&["0001", "0002", "0003", "0004"]);
    let r = rollcall_tools::liveness_eval::site_adaptation(&samples, 0.0, 4, || {}).unwrap();
    assert_eq!(r.rotations.len(), 4);
    for x in &r.rotations {
        assert_eq!(x.students.len(), 3, "{x:?}");
        assert_eq!(x.recorded, x.students[0]);
        for c in [&x.before_recorded, &x.after_recorded] {
            assert!(c.live > 0 && c.attacks > 0, "{x:?}");
        }
        assert_eq!(x.before_recorded.attacks, x.after_recorded.attacks);
        assert!(
            x.before_others.attacks > 0,
            "the others' photos are judged too"
        );
        let used = r.enrolment_frames * 3;
        let live_total = samples
            .samples
            .iter()
            .filter(|s| s.live && x.students.contains(&s.person));
        assert_eq!(
            x.before_recorded.live + used,
            live_total.count(),
            "every live frame but the enrolment ones is judged"
        );
    }
}

/// `eval-cues` measures the context, frequency and motion cues on held-out people.
#[test]
fn other_cues_are_measured_leaving_each_person_out() {
    let mut settings = Settings::default();
    settings.liveness.enabled = false;
    let mut engine = FaceEngine::load(&settings).unwrap();
    let people: Vec<String> = ["0006", "0007"].iter().map(|p| p.to_string()).collect();
    let frames = labelled_frames(
        &dataset("nuaa-train-dev").join("webcam"),
        &dataset("nuaa-train-dev").join("spoof"),
        &people,
    )
    .unwrap();
    let r = rollcall_tools::cue_study::study(&mut engine, &frames, || {}).unwrap();
    let names: Vec<&str> = r.texture.iter().map(|c| c.features.as_str()).collect();
    assert_eq!(
        names,
        [
            "face crop only",
            "face + wider crop (shipped)",
            "face + wider crop + frequency bands",
            "scene light only",
            "face + wider crop + scene light"
        ]
    );
    for c in &r.texture {
        assert!((0.0..=1.0).contains(&c.worst_apcer) && c.mean_apcer <= c.worst_apcer);
        assert!((0.0..=1.0).contains(&c.worst_bpcer) && c.mean_bpcer <= c.worst_bpcer);
    }
    assert_eq!(r.motion.len(), 3);
    let m = &r.motion[1];
    assert!(m.live_pairs > 20 && m.attack_pairs > 10, "{m:?}");
    // A looser rule calls more pairs a plane, of both kinds.
    assert!(r.motion[2].attack_flagged >= r.motion[0].attack_flagged);
    assert!(r.motion[2].live_flagged >= r.motion[0].live_flagged);
    assert!(m.attack_flagged > 0, "held photos do move as planes: {m:?}");
}
