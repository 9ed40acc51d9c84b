//! `rollcall-tools eval live`: recorded door sequences played through the kiosk's own door
//! logic (`kiosk::door::DoorSession`: tracking, N-frame confirmation, the photo-attack
//! check, cooldowns), frame by frame in time order, with a clock that follows the
//! recording. It counts, per appearance at the door, what the kiosk did: marked the right
//! student, marked someone else, marked a stranger, marked a printed photo, or missed an
//! enrolled student.
//!
//! Each session of a person (NUAA names: `ID_glasses_position_session_frame`) is one
//! appearance. Enrolled people are enrolled from five frames of their first live session
//! (as at the kiosk's camera); their live sessions are appearances that should be marked,
//! without those frames. Everyone else's live sessions are strangers; every printed-photo
//! session is an attack. By default two folds swap who is enrolled (the first half of the
//! people, then the others), so everyone is both a student and a stranger.
//!
//! With held-out liveness frames, each person's appearances are judged by a photo-attack
//! model trained without that person (on everyone else's frames), so the attack figures
//! are for people the check has never seen.

use crate::eval::classroom::session_of;
use crate::eval::photos_of;
use rollcall::attendance::{Recognizer, Records};
use rollcall::data_dir::DataDir;
use rollcall::kiosk::door::verdict::VerdictKind;
use rollcall::kiosk::door::DoorSession;
use rollcall::recognition::Origin;
use rollcall::settings::Settings;
use rollcall::store::NewStudent;
use rollcall::vision::image_io::{file_name_of, folders_in, read_image_file};
use rollcall::vision::liveness::training::Samples;
use rollcall::vision::liveness::{LivenessModel, TrainingRecord};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Frames each enrolled person is enrolled from.
const ENROL_FRAMES: usize = 5;
/// Time between two appearances (the door is empty), unless people queue.
const GAP: Duration = Duration::from_secs(3);

/// What walks up to the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An enrolled student in person.
    Student,
    /// Someone never enrolled.
    Stranger,
    /// A printed photo of someone (enrolled or not) held up to the camera.
    Attack,
}

/// One appearance: whose frames, in time order.
#[derive(Clone, Debug)]
pub struct Appearance {
    pub person: String,
    pub kind: Kind,
    pub frames: Vec<PathBuf>,
}

/// What the kiosk did with one appearance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The student was marked (or told they already were).
    Correct,
    /// Someone else was marked.
    WrongPerson,
    /// A stranger or a photo marked somebody.
    Marked,
    /// Nobody was marked.
    NotMarked,
}

/// Per person: appearances and how they ended.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PersonFigures {
    pub student_appearances: usize,
    pub student_marked: usize,
    pub stranger_appearances: usize,
    pub stranger_marked: usize,
    pub attack_appearances: usize,
    pub attack_marked: usize,
}

/// The figures of `eval live`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiveFigures {
    /// Which photo-attack model judged the appearances.
    pub liveness_model: String,
    /// Where students were enrolled from: "camera" or "upload".
    pub enrolled_from: String,
    /// Whether people queued (each appearance straight after the last, people in turns).
    pub queue: bool,
    /// Whether students appeared only in sessions other than their enrolment session.
    pub other_sessions_only: bool,
    pub appearances: usize,
    /// Enrolled students marked as themselves.
    pub correct: usize,
    /// Appearances (of anyone) that marked another enrolled student.
    pub wrong_person: usize,
    /// Strangers' appearances that marked somebody.
    pub stranger_marked: usize,
    /// Printed-photo appearances that marked somebody.
    pub attack_marked: usize,
    /// Enrolled students' appearances that marked nobody.
    pub missed: usize,
    /// Of those, appearances the photo-attack check refused at least once.
    pub missed_refused_as_photo: usize,
    pub student_appearances: usize,
    pub stranger_appearances: usize,
    pub attack_appearances: usize,
    pub per_person: BTreeMap<String, PersonFigures>,
    /// Frames processed per second of processing time (every frame is processed).
    pub fps: f64,
    pub detect_ms_p50: f64,
    pub detect_ms_p95: f64,
    /// From an appearance's first frame to its verdict, at the recording's frame rate.
    pub verdict_ms_p50: f64,
    pub verdict_ms_p95: f64,
    pub frames_played: usize,
    pub verdicts: usize,
    /// Faces the door found to be someone else than their track's person (someone
    /// stepping in where another stood; without a queue, every one is a person's own face
    /// taken for someone else's).
    pub tracks_split: usize,
}

/// One person's frames: live sessions and attack sessions, each in time order.
struct Person {
    name: String,
    live: Vec<Vec<PathBuf>>,
    attacks: Vec<Vec<PathBuf>>,
}

fn sessions(frames: Vec<PathBuf>) -> Vec<Vec<PathBuf>> {
    let mut out: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for f in frames {
        let s = session_of(&f);
        match out.iter_mut().find(|(k, _)| *k == s) {
            Some((_, v)) => v.push(f),
            None => out.push((s, vec![f])),
        }
    }
    out.into_iter().map(|(_, v)| v).collect()
}

fn people(live: &Path, spoof: &Path) -> std::io::Result<Vec<Person>> {
    let mut out = Vec::new();
    for folder in folders_in(live)? {
        let name = file_name_of(&folder);
        let attacks = match spoof.join(&name) {
            d if d.is_dir() => sessions(photos_of(&d)?),
            _ => Vec::new(),
        };
        out.push(Person {
            live: sessions(photos_of(&folder)?),
            attacks,
            name,
        });
    }
    Ok(out)
}

/// The frames a student is enrolled from, and their live appearances without them: the
/// rest of the enrolment session first (unless `other_sessions_only`), then their other
/// sessions.
fn enrolment_split(p: &Person, other_sessions_only: bool) -> (Vec<PathBuf>, Vec<Vec<PathBuf>>) {
    let first = &p.live[0];
    let step = if first.len() > 4 * ENROL_FRAMES { 2 } else { 1 };
    let used = (ENROL_FRAMES * step).min(first.len().saturating_sub(1));
    let enrol: Vec<PathBuf> = first[..used].iter().step_by(step).cloned().collect();
    let mut appearances = Vec::new();
    if !other_sessions_only {
        appearances.push(first[used..].to_vec());
    }
    appearances.extend(p.live[1..].iter().cloned());
    appearances.retain(|a| !a.is_empty());
    (enrol, appearances)
}

fn percentile(v: &[f64], p: f64) -> f64 {
    crate::bench::percentile(v, p)
}

/// How the recordings are played.
#[derive(Clone, Copy, Debug)]
pub struct Playback {
    /// Frame rate of the recordings.
    pub fps: f64,
    /// Where students' enrolment photos come from: the kiosk's camera (their texture
    /// becomes the photo-attack check's reference) or uploaded photos (no reference: the
    /// check's generic model judges them).
    pub enrolled_from: Origin,
    /// People queue at the door: each appearance starts on the frame after the last one
    /// ended (no empty door between them), and people take turns, so that one person
    /// steps in where another just stood.
    pub queue: bool,
    /// Students appear only in sessions other than the one they were enrolled from
    /// (another day, often another place or light), as at a school that enrolled them
    /// from photos it already had: no same-day frames calibrate the camera first.
    pub other_sessions_only: bool,
}

/// The appearances in turns: one of each person's in turn, until all are played.
fn in_turns(appearances: Vec<Appearance>) -> Vec<Appearance> {
    let mut by_person: Vec<std::collections::VecDeque<Appearance>> = Vec::new();
    for a in appearances {
        match by_person.iter_mut().find(|q| q[0].person == a.person) {
            Some(q) => q.push_back(a),
            None => by_person.push([a].into()),
        }
    }
    let mut out = Vec::new();
    while by_person.iter().any(|q| !q.is_empty()) {
        out.extend(by_person.iter_mut().filter_map(|q| q.pop_front()));
    }
    out
}

/// Plays one fold: `enrolled` people enrolled, everyone's sessions played.
fn fold(
    people: &[Person],
    enrolled: &[String],
    playback: Playback,
    settings: &Settings,
    held_out: &mut BTreeMap<String, LivenessModel>,
    figures: &mut LiveFigures,
    timing: &mut (Vec<f64>, Vec<f64>, f64),
) -> anyhow::Result<()> {
    let scratch = tempfile_dir("live-eval")?;
    let data = DataDir::resolve(Some(&scratch)).create()?;
    let mut settings = settings.clone();
    settings.kiosk.sound = false;
    settings.detector.min_face_px = settings.kiosk.min_face_px;
    let mut records = Records::open(&data, &settings)?;
    let mut recognizer = Recognizer::load(&settings, records.store())?;
    let mut ids: BTreeMap<i64, String> = BTreeMap::new();
    let mut appearances: Vec<Appearance> = Vec::new();
    for p in people {
        if p.live.is_empty() {
            continue;
        }
        if enrolled.contains(&p.name) {
            let (enrol, live) = enrolment_split(p, playback.other_sessions_only);
            let mut prepared = Vec::new();
            for f in &enrol {
                let image = read_image_file(f)?;
                if let Ok(photo) =
                    recognizer.check_image(&file_name_of(f), image, playback.enrolled_from)?
                {
                    prepared.push(photo);
                }
            }
            let student = NewStudent {
                roll_no: p.name.clone(),
                name: p.name.clone(),
                email: format!("{}@eval.invalid", p.name),
            };
            match recognizer.enrol(&mut records, &student, &prepared, "eval") {
                Ok(id) => {
                    ids.insert(id, p.name.clone());
                }
                Err(e) => anyhow::bail!("{} could not be enrolled: {e}", p.name),
            }
            appearances.extend(live.into_iter().map(|frames| Appearance {
                person: p.name.clone(),
                kind: Kind::Student,
                frames,
            }));
        } else {
            appearances.extend(p.live.iter().map(|frames| Appearance {
                person: p.name.clone(),
                kind: Kind::Stranger,
                frames: frames.clone(),
            }));
        }
        appearances.extend(p.attacks.iter().map(|frames| Appearance {
            person: p.name.clone(),
            kind: Kind::Attack,
            frames: frames.clone(),
        }));
    }
    let (appearances, gap) = if playback.queue {
        (in_turns(appearances), Duration::ZERO)
    } else {
        (appearances, GAP)
    };
    let mut door = DoorSession::new(recognizer, records, &settings);
    let interval = Duration::from_secs_f64(1.0 / playback.fps.max(0.1));
    let mut clock = Instant::now();
    for a in &appearances {
        clock += gap;
        let start = clock;
        let mut marked: Vec<i64> = Vec::new();
        let mut refused_as_photo = false;
        let shipped = held_out
            .remove(&a.person)
            .map(|m| door.replace_liveness(Some(m)));
        for f in &a.frames {
            clock += interval;
            let image = read_image_file(f)?;
            let t = Instant::now();
            let result = door.process(&image, clock)?;
            timing.2 += t.elapsed().as_secs_f64();
            timing.0.push(result.detect_ms);
            figures.frames_played += 1;
            figures.tracks_split += result.replaced.len();
            for v in result.verdicts {
                if std::env::var_os("ROLLCALL_EVAL_DEBUG").is_some() {
                    eprintln!(
                        "{} {:?} {} -> {:?} {:?}",
                        a.person,
                        a.kind,
                        file_name_of(f),
                        v.verdict.kind,
                        v.verdict.name
                    );
                }
                figures.verdicts += 1;
                timing
                    .1
                    .push(clock.saturating_duration_since(start).as_secs_f64() * 1e3);
                if matches!(
                    v.verdict.kind,
                    VerdictKind::Welcome | VerdictKind::AlreadyMarked
                ) {
                    marked.extend(v.verdict.student_id);
                }
                refused_as_photo |= v.verdict.kind == VerdictKind::NotVerified;
            }
        }
        if let Some(shipped) = shipped {
            if let Some(m) = door.replace_liveness(shipped) {
                held_out.insert(a.person.clone(), m);
            }
        }
        let own = ids.iter().find(|(_, n)| **n == a.person).map(|(id, _)| *id);
        let outcome = match (a.kind, marked.is_empty()) {
            (Kind::Student, _) if marked.iter().any(|m| Some(*m) != own) => Outcome::WrongPerson,
            (Kind::Student, false) => Outcome::Correct,
            (_, true) => Outcome::NotMarked,
            (_, false) => Outcome::Marked,
        };
        let pf = figures.per_person.entry(a.person.clone()).or_default();
        figures.appearances += 1;
        match a.kind {
            Kind::Student => {
                figures.student_appearances += 1;
                pf.student_appearances += 1;
                match outcome {
                    Outcome::Correct => {
                        figures.correct += 1;
                        pf.student_marked += 1;
                    }
                    Outcome::WrongPerson => figures.wrong_person += 1,
                    _ => {
                        figures.missed += 1;
                        figures.missed_refused_as_photo += usize::from(refused_as_photo);
                    }
                }
            }
            Kind::Stranger => {
                figures.stranger_appearances += 1;
                pf.stranger_appearances += 1;
                if outcome == Outcome::Marked {
                    figures.stranger_marked += 1;
                    pf.stranger_marked += 1;
                }
            }
            Kind::Attack => {
                figures.attack_appearances += 1;
                pf.attack_appearances += 1;
                if outcome == Outcome::Marked {
                    figures.attack_marked += 1;
                    pf.attack_marked += 1;
                    // A photo of one student that marks another is also the wrong person.
                    if marked.iter().any(|m| Some(*m) != own) {
                        figures.wrong_person += 1;
                    }
                }
            }
        }
    }
    drop(door);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn tempfile_dir(tag: &str) -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("rollcall-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Photo-attack models for each person, trained on everyone else's samples.
pub fn held_out_models(
    samples: &Samples,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<BTreeMap<String, LivenessModel>> {
    let mut out = BTreeMap::new();
    for person in samples.people() {
        progress(person);
        let model = samples.without(person).train(TrainingRecord::default())?;
        out.insert(person.to_string(), model);
    }
    Ok(out)
}

/// Runs the evaluation: the given people enrolled, or two folds when `enrolled` is empty.
/// `held_out` holds a photo-attack model per person trained without them (see
/// [`held_out_models`]); people without one are judged by the configured model.
pub fn run(
    live: &Path,
    spoof: &Path,
    enrolled: &[String],
    playback: Playback,
    settings: &Settings,
    mut held_out: BTreeMap<String, LivenessModel>,
) -> anyhow::Result<LiveFigures> {
    let people = people(live, spoof)?;
    anyhow::ensure!(
        people.len() >= 2,
        "{} needs at least two people (one folder each)",
        live.display()
    );
    let folds: Vec<Vec<String>> = if enrolled.is_empty() {
        let names: Vec<String> = people.iter().map(|p| p.name.clone()).collect();
        let half = names.len().div_ceil(2);
        vec![names[..half].to_vec(), names[half..].to_vec()]
    } else {
        vec![enrolled.to_vec()]
    };
    let mut figures = LiveFigures {
        liveness_model: if held_out.is_empty() {
            "the configured model".into()
        } else {
            format!(
                "each person judged by a model trained without them ({} people held out)",
                held_out.len()
            )
        },
        enrolled_from: playback.enrolled_from.as_str().into(),
        queue: playback.queue,
        other_sessions_only: playback.other_sessions_only,
        ..LiveFigures::default()
    };
    let mut timing = (Vec::new(), Vec::new(), 0.0);
    for f in &folds {
        fold(
            &people,
            f,
            playback,
            settings,
            &mut held_out,
            &mut figures,
            &mut timing,
        )?;
    }
    figures.fps = figures.frames_played as f64 / timing.2.max(1e-9);
    figures.detect_ms_p50 = percentile(&timing.0, 50.0);
    figures.detect_ms_p95 = percentile(&timing.0, 95.0);
    figures.verdict_ms_p50 = percentile(&timing.1, 50.0);
    figures.verdict_ms_p95 = percentile(&timing.1, 95.0);
    Ok(figures)
}

/// Prints the figures as Markdown tables.
pub fn print(f: &LiveFigures) {
    println!("Photo-attack check: {}.", f.liveness_model);
    println!(
        "Students enrolled from {}.",
        if f.enrolled_from == Origin::Upload.as_str() {
            "uploaded photos (no live reference: the check's generic model judges them)"
        } else {
            "the kiosk's camera"
        }
    );
    if f.other_sessions_only {
        println!(
            "Students appear only on other days than their enrolment (no same-day frames first)."
        );
    }
    if f.queue {
        println!("People queue: each steps in as the last one leaves, people in turns.");
    }
    println!();
    println!("| appearances | students marked | wrong person | strangers marked | photo attacks marked | students missed |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {} of {} | {} | {} of {} | {} of {} | {} |",
        f.appearances,
        f.correct,
        f.student_appearances,
        f.wrong_person,
        f.stranger_marked,
        f.stranger_appearances,
        f.attack_marked,
        f.attack_appearances,
        f.missed
    );
    if f.missed > 0 {
        println!();
        println!(
            "Students missed: {} refused by the photo-attack check, {} not recognised.",
            f.missed_refused_as_photo,
            f.missed - f.missed_refused_as_photo
        );
    }
    println!();
    println!("| person | as a student: marked | as a stranger: marked | photo attacks: marked |");
    println!("|---|---|---|---|");
    for (p, c) in &f.per_person {
        println!(
            "| {p} | {} of {} | {} of {} | {} of {} |",
            c.student_marked,
            c.student_appearances,
            c.stranger_marked,
            c.stranger_appearances,
            c.attack_marked,
            c.attack_appearances
        );
    }
    println!();
    println!(
        "Processing: {:.1} frames per second; detection {:.1} / {:.1} ms (p50 / p95); verdict {:.0} / {:.0} ms after an appearance starts; {} frames, {} verdicts.",
        f.fps, f.detect_ms_p50, f.detect_ms_p95, f.verdict_ms_p50, f.verdict_ms_p95, f.frames_played, f.verdicts
    );
    println!(
        "Faces found to be someone else than their track's person: {}{}.",
        f.tracks_split,
        if f.queue {
            ""
        } else {
            " (nobody queued: each was a person's own face taken for someone else's)"
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(session: &str, n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| PathBuf::from(format!("0001_00_00_{session}_{i}.jpg")))
            .collect()
    }

    #[test]
    fn other_sessions_only_leaves_out_the_rest_of_the_enrolment_session() {
        let p = Person {
            name: "0001".into(),
            live: vec![frames("01", 12), frames("02", 8)],
            attacks: Vec::new(),
        };
        let (enrol, same_day_first) = enrolment_split(&p, false);
        assert_eq!(enrol, frames("01", 5));
        assert_eq!(
            same_day_first,
            vec![frames("01", 12)[5..].to_vec(), frames("02", 8)]
        );
        let (enrol, other_days) = enrolment_split(&p, true);
        assert_eq!(enrol, frames("01", 5));
        assert_eq!(other_days, vec![frames("02", 8)]);
    }
}
