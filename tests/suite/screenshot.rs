//! The real `rollcall` binary in a real window under `xvfb-run`, playing recorded webcam
//! frames of an enrolled student: screenshots must show the video and a green verdict.

use crate::common;

use opencv::core::{Mat, Rect, Vec3b};
use opencv::prelude::*;
use rollcall::data_dir::DataDir;
use std::path::Path;
use std::process::Command;

/// The verdict card's green (see src/ui/kiosk.rs).
const GREEN: [u8; 3] = [0x1b, 0x7f, 0x3b];

fn enrol(dir: &Path) -> DataDir {
    common::enrol_student_two(&mut common::open_service(dir));
    DataDir::resolve(Some(dir))
}

/// Pixels within a small distance of an RGB colour, inside `area`.
fn count_colour(bgr: &Mat, area: Rect, rgb: [u8; 3]) -> usize {
    let mut n = 0;
    for y in area.y..area.y + area.height {
        for x in area.x..area.x + area.width {
            let p: &Vec3b = bgr.at_2d(y, x).unwrap();
            let close = (p[2] as i32 - rgb[0] as i32).abs() < 12
                && (p[1] as i32 - rgb[1] as i32).abs() < 12
                && (p[0] as i32 - rgb[2] as i32).abs() < 12;
            n += close as usize;
        }
    }
    n
}

fn spread(bgr: &Mat, area: Rect) -> f64 {
    let roi = Mat::roi(bgr, area).unwrap();
    let mut mean = Mat::default();
    let mut std = Mat::default();
    opencv::core::mean_std_dev(&roi, &mut mean, &mut std, &opencv::core::no_array()).unwrap();
    *std.at::<f64>(0).unwrap()
}

#[test]
fn the_window_shows_the_video_and_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    enrol(dir.path());
    let frames = common::recording(dir.path(), "0002", 20, 20);
    let shots = dir.path().join("shots");
    std::fs::create_dir(&shots).unwrap();
    // Start the kiosk and take a screenshot every half second (for at most 60 s) until
    // this test has seen what it needs and asks the script to stop.
    let script = r#"
        "$0" --data-dir "$1" --source "$2" --fps 10 --loop 2>"$3/app.log" &
        app=$!
        for i in $(seq -w 1 120); do
            [ -e "$3/stop" ] && break
            sleep 0.5
            import -window root "$3/shot.tmp.png" 2>/dev/null && mv "$3/shot.tmp.png" "$3/shot_$i.png"
        done
        kill $app; wait $app 2>/dev/null
        true
    "#;
    let mut child = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1024x768x24", "sh", "-c", script])
        .arg(env!("CARGO_BIN_EXE_rollcall"))
        .arg(dir.path())
        .arg(&frames)
        .arg(&shots)
        .spawn()
        .expect("xvfb-run is installed by scripts/setup");
    let shows_video_and_verdict = |p: &Path| {
        let shot = opencv::imgcodecs::imread(p.to_str().unwrap(), opencv::imgcodecs::IMREAD_COLOR)
            .unwrap();
        if shot.cols() < 1024 || shot.rows() < 768 {
            return false;
        }
        // The video fills the middle with a real picture; the card is a wide green band over
        // its lower part.
        let video = spread(&shot, Rect::new(200, 100, 600, 400)) > 25.0;
        let verdict = count_colour(&shot, Rect::new(0, 560, 1024, 200), GREEN) > 20_000;
        video && verdict
    };
    let mut seen = std::collections::HashSet::new();
    let mut good = None;
    while good.is_none() && child.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let mut names: Vec<_> = std::fs::read_dir(&shots)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("shot_")
            })
            .collect();
        names.sort();
        for p in names {
            if seen.insert(p.clone()) && shows_video_and_verdict(&p) {
                good = Some(p);
                break;
            }
        }
    }
    std::fs::write(shots.join("stop"), b"").unwrap();
    assert!(child.wait().unwrap().success());
    let Some(good) = good else {
        panic!(
            "no screenshot shows both the video and a green verdict; log: {}",
            std::fs::read_to_string(shots.join("app.log")).unwrap_or_default()
        );
    };
    // Keep it for people to look at.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kiosk-screenshot.png");
    std::fs::copy(good, &keep).unwrap();
}
