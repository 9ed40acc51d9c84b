//! `cargo bench`: detection time per 640×480 frame and embedding time per face, on real
//! webcam frames from ../shared/datasets/webcam-dev.

use rollcall::settings::Settings;
use rollcall_tools::bench::{frames_640x480, pipeline, print_steps};

fn main() {
    let dir = rollcall_tools::datasets_dir().join("webcam-dev/0001");
    if !dir.is_dir() {
        eprintln!("benchmark skipped: {} is missing", dir.display());
        return;
    }
    let frames = frames_640x480(&dir, 60).expect("read frames");
    let rows = pipeline(&frames, &Settings::default()).expect("run pipeline");
    print_steps(&rows);
}
