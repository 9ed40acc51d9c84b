//! The photo-attack check on the NUAA frames (../shared/datasets/webcam-dev: live people,
//! spoof-dev: their printed photos held up to the same webcam), with the real detector.

use crate::common;

use common::{dataset, tools};
use rollcall::settings::Settings;
use rollcall::vision::liveness::training::{labelled_frames, Samples};
use rollcall::vision::liveness::{default_liveness_dir, LivenessModel, TrainingRecord};
use rollcall::vision::FaceEngine;
use rollcall_tools::liveness_eval::evaluate;

fn all_samples() -> Samples {
    let mut settings = Settings::default();
    settings.liveness.enabled = false;
    let mut engine = FaceEngine::load(&settings).unwrap();
    let frames = labelled_frames(&dataset("webcam-dev"), &dataset("spoof-dev"), &[]).unwrap();
    Samples::collect(&mut engine, &frames, || {}).unwrap()
}

/// Trained on some people, tested on the others: the check must work for faces it has
/// never seen (the bar: attacks accepted ≤ 1 %, live faces refused ≤ 5 %).
#[test]
fn leaving_people_out_few_attacks_pass_and_few_students_are_refused() {
    let samples = all_samples();
    assert_eq!(samples.skipped, 0, "every frame has a face");
    let first = ["0001", "0002", "0003", "0004"];
    let second = ["0005", "0006", "0007"];
    for (train, test) in [(&first[..], &second[..]), (&second[..], &first[..])] {
        let model = samples
            .of_people(train)
            .train(TrainingRecord::default())
            .unwrap();
        let report = evaluate(&samples.of_people(test), &model, 0.0).unwrap();
        assert_eq!(report.per_person.len(), test.len());
        assert!(report.overall.attacks > 300 && report.overall.live > 250);
        assert!(
            report.apcer <= 0.01 && report.bpcer <= 0.05,
            "trained on {train:?}, tested on {test:?}: APCER {:.3}, BPCER {:.3}",
            report.apcer,
            report.bpcer
        );
    }
}

#[test]
fn a_model_saved_and_loaded_scores_the_same_and_a_damaged_one_is_refused() {
    let samples = all_samples().of_people(&["0002", "0003"]);
    let mut model = samples.train(TrainingRecord::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    let loaded = LivenessModel::load(dir.path()).unwrap();
    assert_eq!(loaded.record, model.record);
    for s in samples.samples.iter().step_by(17) {
        let (a, b) = (
            model.score_features(&s.features).unwrap(),
            loaded.score_features(&s.features).unwrap(),
        );
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        assert_eq!(a > 0.0, s.live, "training frames are classified right");
    }

    let svm = dir.path().join("svm.yml.gz");
    let mut bytes = std::fs::read(&svm).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&svm, bytes).unwrap();
    let err = LivenessModel::load(dir.path()).err().expect("refused");
    assert!(err.to_string().contains("damaged"), "{err}");
    assert!(
        err.to_string().contains("[liveness] enabled = false"),
        "{err}"
    );

    let empty = tempfile::tempdir().unwrap();
    let err = LivenessModel::load(empty.path()).err().expect("refused");
    assert!(err.to_string().contains("missing"), "{err}");
}

/// The committed model loads, says what it was trained on, and separates the frames.
#[test]
fn the_shipped_model_is_recorded_and_eval_liveness_reports_per_person() {
    let model = LivenessModel::load(&default_liveness_dir()).unwrap();
    assert_eq!(model.record.people.len(), 7);
    assert!(model.record.live_frames > 0 && model.record.spoof_frames > 0);

    let data = tempfile::tempdir().unwrap();
    let (live, spoof) = (dataset("webcam-dev"), dataset("spoof-dev"));
    let out = tools(
        data.path(),
        &[
            "eval-liveness",
            live.to_str().unwrap(),
            spoof.to_str().unwrap(),
            "--people",
            "0003,0006",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (apcer, bpcer) = (v["apcer"].as_f64().unwrap(), v["bpcer"].as_f64().unwrap());
    assert!((0.0..=0.01).contains(&apcer), "{v}");
    assert!((0.0..=0.05).contains(&bpcer), "{v}");
    let people: Vec<&String> = v["per_person"].as_object().unwrap().keys().collect();
    assert_eq!(people, ["0003", "0006"]);
    assert_eq!(v["per_person"]["0003"]["attacks"], 120);

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
