//! Short sound cues for verdicts, played on their own thread. Where there is no audio
//! device the cues are silently skipped.

use super::door::verdict::VerdictKind;
use crossbeam_channel::{unbounded, Sender};
use rodio::source::{SineWave, Source};
use std::time::Duration;

/// Plays cues without blocking the caller.
#[derive(Clone)]
pub struct SoundCues {
    tx: Option<Sender<VerdictKind>>,
}

/// (frequency Hz, milliseconds) notes of each cue.
fn notes(kind: VerdictKind) -> &'static [(f32, u64)] {
    match kind {
        VerdictKind::Welcome | VerdictKind::TryOut => &[(660.0, 110), (880.0, 160)],
        VerdictKind::AlreadyMarked | VerdictKind::AbsentByHand => &[(660.0, 150)],
        VerdictKind::NotRecognised | VerdictKind::NotVerified => &[(330.0, 180), (262.0, 260)],
    }
}

/// Whether the machine has a sound card (asked before ALSA, which complains loudly when
/// there is none).
fn sound_card_present() -> bool {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string("/proc/asound/cards")
            .map(|s| !s.trim().is_empty() && !s.contains("no soundcards"))
            .unwrap_or(false)
    } else {
        true
    }
}

impl SoundCues {
    /// Cues that never sound.
    pub fn silent() -> SoundCues {
        SoundCues { tx: None }
    }

    /// Starts the sound thread (silent when the machine has no sound card).
    pub fn start() -> SoundCues {
        if !sound_card_present() {
            tracing::info!("no sound card: verdicts will be silent");
            return SoundCues::silent();
        }
        let (tx, rx) = unbounded::<VerdictKind>();
        let spawned = std::thread::Builder::new()
            .name("rollcall-sound".into())
            .spawn(move || {
                // The output stream must live on this thread.
                let Ok((_stream, handle)) = rodio::OutputStream::try_default() else {
                    tracing::info!("no audio device: verdicts will be silent");
                    for _ in rx.iter() {}
                    return;
                };
                for kind in rx.iter() {
                    for (hz, ms) in notes(kind) {
                        let tone = SineWave::new(*hz)
                            .take_duration(Duration::from_millis(*ms))
                            .amplify(0.25);
                        if let Ok(sink) = rodio::Sink::try_new(&handle) {
                            sink.append(tone);
                            sink.sleep_until_end();
                        }
                    }
                }
            });
        match spawned {
            Ok(_) => SoundCues { tx: Some(tx) },
            Err(_) => SoundCues::silent(),
        }
    }

    /// Plays the cue for a verdict.
    pub fn play(&self, kind: VerdictKind) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(kind);
        }
    }
}
