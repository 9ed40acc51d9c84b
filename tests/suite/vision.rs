//! The vision layer on real photos through the real models.

use crate::common;

use common::{faceless_jpeg, models_with, models_with_facenet, people_with_at_least, photos};
use opencv::prelude::*;
use rollcall::settings::{Inference, Precision, Settings};
use rollcall::vision::image_io::read_image_file;
use rollcall::vision::network::Backend;
use rollcall::vision::{
    align, decode_image, DlibResnetEmbedder, FaceEmbedder, FaceEngine, ModelFiles,
};
use std::path::{Path, PathBuf};

fn engine() -> FaceEngine {
    FaceEngine::load(&Settings::default()).expect("models installed by scripts/setup")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A webcam frame of each of the 7 `webcam-dev` people, and an LFW photo of every `step`th
/// person with at least 6.
fn webcam_and_lfw_photos(step: usize) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (1..=7)
        .map(|i| photos("webcam-dev", &format!("{i:04}"))[3].clone())
        .collect();
    for person in people_with_at_least("lfw-dev", 6).iter().step_by(step) {
        files.push(photos("lfw-dev", person)[1].clone());
    }
    files
}

#[test]
fn a_face_is_found_in_every_single_face_photo() {
    let mut engine = engine();
    let mut checked = 0;
    // The first frame of every webcam session of every person, and a spread of LFW photos.
    let mut files: Vec<PathBuf> = (1..=7)
        .map(|i| photos("webcam-dev", &format!("{i:04}"))[0].clone())
        .collect();
    for person in people_with_at_least("lfw-dev", 6).iter().step_by(8) {
        files.push(photos("lfw-dev", person)[0].clone());
    }
    for path in &files {
        let image = read_image_file(path).unwrap();
        let faces = engine.detect(&image).unwrap();
        let face = faces
            .first()
            .unwrap_or_else(|| panic!("no face found in {}", path.display()));
        // The subject is roughly centred in these photos: the face must cover the centre column.
        let cx = image.cols() as f32 / 2.0;
        assert!(
            face.x1 < cx && face.x2 > cx,
            "{}: face at {:?}",
            path.display(),
            face
        );
        assert!(face.score > 0.9);
        // Landmarks lie inside the box, eyes above the mouth.
        for l in face.landmarks {
            assert!(l[0] > face.x1 - 5.0 && l[0] < face.x2 + 5.0);
        }
        assert!(face.landmarks[0][1] < face.landmarks[3][1]);
        checked += 1;
    }
    assert!(checked >= 20);
}

#[test]
fn a_photo_without_a_face_gives_no_face() {
    let mut engine = engine();
    let image = decode_image(&faceless_jpeg()).unwrap();
    assert!(engine.detect(&image).unwrap().is_empty());
}

#[test]
fn same_person_scores_beat_different_person_scores() {
    let mut engine = engine();
    // Three photos each of twelve people.
    let people: Vec<String> = people_with_at_least("lfw-dev", 8)
        .into_iter()
        .step_by(10)
        .take(12)
        .collect();
    let mut faces = Vec::new();
    for (p, person) in people.iter().enumerate() {
        for path in photos("lfw-dev", person).iter().take(3) {
            let image = read_image_file(path).unwrap();
            let detected = engine.detect(&image).unwrap();
            faces.push((p, engine.embed(&image, &detected[0]).unwrap()));
        }
    }
    for model in engine.model_ids() {
        let (mut same, mut different) = (Vec::new(), Vec::new());
        for (i, (pa, a)) in faces.iter().enumerate() {
            for (pb, b) in faces.iter().skip(i + 1) {
                let s = cosine(a.get(model).unwrap(), b.get(model).unwrap());
                if pa == pb {
                    same.push(s)
                } else {
                    different.push(s)
                }
            }
        }
        let wins = same
            .iter()
            .map(|s| different.iter().filter(|d| s > *d).count())
            .sum::<usize>() as f64
            / (same.len() * different.len()) as f64;
        assert!(
            wins > 0.97,
            "{model}: same-person pairs outscore different-person pairs only {wins:.3} of the time"
        );
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean(&same) > mean(&different), "{model}");
    }
}

/// Runs dlib itself (PyPI `dlib-bin`, installed by scripts/setup) on chips and returns its
/// 128-D descriptors.
fn dlib_reference(chips: &[PathBuf]) -> Vec<Vec<f32>> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/python-ref/bin/python");
    assert!(
        python.exists(),
        "the dlib reference is missing: run scripts/setup"
    );
    let models = rollcall::vision::models_dir();
    let script = r#"
import sys, json, dlib
net = dlib.face_recognition_model_v1(sys.argv[1])
print(json.dumps([list(net.compute_face_descriptor(dlib.load_rgb_image(p))) for p in sys.argv[2:]]))
"#;
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(models.join("face_recognition_models/dlib_face_recognition_resnet_model_v1.dat"))
        .args(chips)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_converted_dlib_network_agrees_with_dlib() {
    let mut engine = engine();
    let files = ModelFiles::verified(&rollcall::vision::models_dir()).unwrap();
    // Both runtimes run the converted network (OpenVINO is installed by scripts/setup).
    let mut runtimes: Vec<DlibResnetEmbedder> = [Inference::OpenCv, Inference::OpenVino]
        .into_iter()
        .map(|i| DlibResnetEmbedder::new(&files, &Backend::choose(i).unwrap()).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut chips = Vec::new();
    let mut vectors = Vec::new();
    let sources = [
        photos("lfw-dev", &people_with_at_least("lfw-dev", 6)[0])[0].clone(),
        photos("webcam-dev", "0003")[0].clone(),
        photos("webcam-dev", "0006")[5].clone(),
        photos("webcam-dev", "0006")[100].clone(),
    ];
    for (i, path) in sources.iter().enumerate() {
        let image = read_image_file(path).unwrap();
        let face = engine.detect(&image).unwrap().remove(0);
        let chip = align::chip(&image, &face, runtimes[0].template()).unwrap();
        let file = dir.path().join(format!("chip{i}.png"));
        opencv::imgcodecs::imwrite(file.to_str().unwrap(), &chip, &opencv::core::Vector::new())
            .unwrap();
        for ours in &mut runtimes {
            vectors.push(ours.embed_chip(&chip).unwrap());
        }
        chips.push(file);
    }
    let reference = dlib_reference(&chips);
    let expected = reference.iter().flat_map(|r| [r, r]);
    for (mine, theirs) in vectors.iter().zip(expected) {
        let norm = theirs.iter().map(|x| x * x).sum::<f32>().sqrt();
        let max_diff = mine
            .iter()
            .zip(theirs)
            .map(|(a, b)| (a - b / norm).abs())
            .fold(0f32, f32::max);
        assert!(
            max_diff < 1e-4,
            "converted network differs from dlib by {max_diff}"
        );
    }
    // And dlib's published rule holds: the same person (two sessions) is closer than 0.6,
    // different people are further apart.
    let d = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f32>()
            .sqrt()
    };
    assert!(
        d(&reference[2], &reference[3]) < 0.6,
        "same person: {}",
        d(&reference[2], &reference[3])
    );
    assert!(
        d(&reference[1], &reference[2]) > 0.6,
        "different people: {}",
        d(&reference[1], &reference[2])
    );
    assert!(d(&reference[0], &reference[3]) > 0.6);
}

#[test]
fn openvino_and_opencv_find_and_embed_the_same_faces() {
    // FaceNet in 32 bits on both (in 8 bits, see the next test).
    let with = |inference| {
        FaceEngine::load(&Settings {
            inference,
            facenet_precision: Precision::F32,
            ..Settings::default()
        })
        .expect("models and OpenVINO installed by scripts/setup")
    };
    let (mut opencv, mut openvino) = (with(Inference::OpenCv), with(Inference::OpenVino));
    assert_eq!(
        (opencv.runtime(), openvino.runtime()),
        ("OpenCV dnn", "OpenVINO")
    );
    let files = webcam_and_lfw_photos(20);
    for path in &files {
        let image = read_image_file(path).unwrap();
        let (a, b) = (
            opencv.detect(&image).unwrap(),
            openvino.detect(&image).unwrap(),
        );
        assert_eq!(a.len(), b.len(), "{}: {a:?} / {b:?}", path.display());
        for (fa, fb) in a.iter().zip(&b) {
            let corners = [fa.x1 - fb.x1, fa.y1 - fb.y1, fa.x2 - fb.x2, fa.y2 - fb.y2];
            let landmarks = fa.landmarks.iter().zip(&fb.landmarks);
            let worst = corners
                .iter()
                .map(|d| d.abs())
                .chain(landmarks.map(|(p, q)| (p[0] - q[0]).abs().max((p[1] - q[1]).abs())))
                .fold(0f32, f32::max);
            assert!(
                worst < 0.5,
                "{}: faces differ by {worst} px",
                path.display()
            );
        }
        if let Some(face) = a.first() {
            let (ea, eb) = (
                opencv.embed(&image, face).unwrap(),
                openvino.embed(&image, face).unwrap(),
            );
            for model in opencv.model_ids() {
                let c = cosine(ea.get(model).unwrap(), eb.get(model).unwrap());
                assert!(c > 0.9999, "{}: {model} cosine {c}", path.display());
            }
        }
    }
    let faceless = decode_image(&faceless_jpeg()).unwrap();
    assert!(openvino.detect(&faceless).unwrap().is_empty());
}

#[test]
fn facenet_in_8_bits_is_the_default_and_agrees_with_32_bits() {
    let with = |facenet_precision| {
        FaceEngine::load(&Settings {
            inference: Inference::OpenVino,
            facenet_precision,
            ..Settings::default()
        })
        .expect("models, OpenVINO and FaceNet in 8 bits installed by scripts/setup")
    };
    let (mut eight, mut full) = (with(Precision::default()), with(Precision::F32));
    assert_eq!(
        (eight.runtime(), full.runtime()),
        ("OpenVINO, FaceNet in 8 bits", "OpenVINO")
    );
    let files = webcam_and_lfw_photos(10);
    let mut facenet = Vec::new();
    for path in &files {
        let image = read_image_file(path).unwrap();
        let Some(face) = full.detect(&image).unwrap().into_iter().next() else {
            continue;
        };
        let (a, b) = (
            eight.embed(&image, &face).unwrap(),
            full.embed(&image, &face).unwrap(),
        );
        let c = |m: &str| cosine(a.get(m).unwrap(), b.get(m).unwrap());
        assert!(c("dlib-resnet-v1") > 0.9999, "{}", path.display());
        // The same network at a lower precision: close, not equal (lowest 0.988 over
        // 2,578 LFW-dev faces when it was built).
        let f = c("facenet-20180408");
        assert!((0.98..0.99999).contains(&f), "{}: {f}", path.display());
        facenet.push(f);
    }
    assert!(facenet.len() >= 15, "{} faces", facenet.len());
    facenet.sort_by(f32::total_cmp);
    assert!(facenet[facenet.len() / 2] > 0.995, "{facenet:?}");
}

/// Without its 8-bit build (not built, or damaged since), FaceNet runs in 32 bits: slower,
/// never refused.
#[test]
fn without_its_8_bit_build_facenet_runs_in_32_bits() {
    let dir = tempfile::tempdir().unwrap();
    let bin = rollcall::vision::FACENET_INT8_FILE.replace(".xml", ".bin");
    let damaged: &[u8] = b"not weights";
    for (case, replaced) in [
        (
            "missing",
            vec![
                (rollcall::vision::FACENET_INT8_FILE, None),
                (bin.as_str(), None),
            ],
        ),
        ("damaged", vec![(bin.as_str(), Some(damaged))]),
    ] {
        let models = models_with(&dir.path().join(case), &replaced);
        let mut engine = FaceEngine::load(&Settings {
            inference: Inference::OpenVino,
            models_dir: models.to_string_lossy().into_owned(),
            ..Settings::default()
        })
        .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(engine.runtime(), "OpenVINO", "{case}");
        let image = read_image_file(&photos("webcam-dev", "0001")[0]).unwrap();
        let face = engine.detect(&image).unwrap().remove(0);
        let e = engine.embed(&image, &face).unwrap();
        assert_eq!(e.get("facenet-20180408").unwrap().len(), 512, "{case}");
    }
}

#[test]
fn the_largest_face_alone_is_the_one_a_full_search_finds_first() {
    use opencv::core::{copy_make_border, Scalar, BORDER_CONSTANT};
    let mut engine = engine();
    // Door photos (large faces: the coarse levels alone) and one whose face is small for
    // its size (a frame halved to 320×240 and framed in black to 1280×960: a face of about
    // 75 px that only the fine levels find).
    let mut images: Vec<(String, opencv::core::Mat)> = (1..=7)
        .flat_map(|i| photos("webcam-dev", &format!("{i:04}"))[..3].to_vec())
        .map(|p| (p.display().to_string(), read_image_file(&p).unwrap()))
        .collect();
    let (mut half, mut framed) = (opencv::core::Mat::default(), opencv::core::Mat::default());
    let size = opencv::core::Size::new(320, 240);
    opencv::imgproc::resize(
        &images[0].1,
        &mut half,
        size,
        0.0,
        0.0,
        opencv::imgproc::INTER_AREA,
    )
    .unwrap();
    copy_make_border(
        &half,
        &mut framed,
        360,
        360,
        480,
        480,
        BORDER_CONSTANT,
        Scalar::all(0.0),
    )
    .unwrap();
    images.push(("a framed webcam photo".into(), framed));
    images.push(("no face".into(), decode_image(&faceless_jpeg()).unwrap()));
    for (name, image) in &images {
        let full = engine.detect(image).unwrap();
        let largest = engine.detect_largest(image).unwrap();
        assert_eq!(full.first(), largest.as_ref(), "{name}");
        assert_eq!(largest.is_some(), name != "no face", "{name}");
    }
}

/// A 160×200 ID-style photo made from a webcam frame: the face scaled to `face_px` wide,
/// the frame's edges stretched where the photo reaches past them.
fn small_photo(path: &Path, face_px: f32, engine: &mut FaceEngine) -> opencv::core::Mat {
    use opencv::core::{copy_make_border, Rect, Scalar, Size, BORDER_REPLICATE};
    let frame = read_image_file(path).unwrap();
    let face = engine.detect(&frame).unwrap()[0].clone();
    let s = face_px / face.width();
    // The photo's area in the frame, around the face, then shrunk to 160×200.
    let (w, h) = ((160.0 / s) as i32, (200.0 / s) as i32);
    let x = ((face.x1 + face.x2) / 2.0) as i32 - w / 2;
    let y = ((face.y1 + face.y2) / 2.0) as i32 - h * 2 / 5;
    let pad = w.max(h);
    let mut padded = opencv::core::Mat::default();
    copy_make_border(
        &frame,
        &mut padded,
        pad,
        pad,
        pad,
        pad,
        BORDER_REPLICATE,
        Scalar::default(),
    )
    .unwrap();
    let area = opencv::core::Mat::roi(&padded, Rect::new(x + pad, y + pad, w, h)).unwrap();
    let mut photo = opencv::core::Mat::default();
    opencv::imgproc::resize(
        &area,
        &mut photo,
        Size::new(160, 200),
        0.0,
        0.0,
        opencv::imgproc::INTER_AREA,
    )
    .unwrap();
    photo
}

#[test]
fn a_40_px_face_in_a_160_by_200_photo_is_found() {
    let mut engine = engine();
    for i in 1..=7 {
        let path = &photos("webcam-dev", &format!("{i:04}"))[0];
        let photo = small_photo(path, 40.0, &mut engine);
        assert_eq!((photo.cols(), photo.rows()), (160, 200));
        let faces = engine.detect(&photo).unwrap();
        let face = faces
            .first()
            .unwrap_or_else(|| panic!("no face in the small photo from {}", path.display()));
        assert!(
            (30.0..=52.0).contains(&face.width()),
            "{}: a face of {} px",
            path.display(),
            face.width()
        );
    }
}

/// The models load side by side with their checks: a damaged file is still reported as
/// damaged (not as whatever its loader made of it), and a missing one as missing.
#[test]
fn a_damaged_or_missing_model_is_named_even_while_the_others_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        models_dir: models_with_facenet(&dir.path().join("damaged"), Some(b"not a graph"))
            .to_string_lossy()
            .into_owned(),
        ..Settings::default()
    };
    let err = FaceEngine::load(&settings)
        .err()
        .expect("a damaged model is refused");
    let text = err.to_string();
    assert!(
        text.contains("graph_final.pb") && text.contains("damaged"),
        "{text}"
    );

    settings.models_dir = models_with_facenet(&dir.path().join("missing"), None)
        .to_string_lossy()
        .into_owned();
    let text = FaceEngine::load(&settings)
        .err()
        .expect("a missing model is refused")
        .to_string();
    assert!(
        text.contains("graph_final.pb") && text.contains("missing"),
        "{text}"
    );
}
