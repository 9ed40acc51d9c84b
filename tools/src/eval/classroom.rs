//! The classroom protocol: strangers from the same camera.
//!
//! At a school door every stranger stands in the same light in front of the same camera as
//! the class. From one same-camera set, some people are enrolled and every photo of the
//! others is a stranger probe; which people are enrolled rotates, for several class sizes.
//!
//! - Enrolment: a person's first session (NUAA file names carry one; other sets have one
//!   session), in frame order, at most K photos and at most half of the person's; from a
//!   long session (video frames) every other frame.
//! - Genuine probes: the person's other sessions (another day, another light) when there
//!   are any, else the rest of their photos; at most 40, evenly spread.
//! - Stranger probes: every photo of everyone not enrolled; at most 40 per person.
//! - Rotations: every choice of enrolled people when there are at most 40, else as many
//!   windows of consecutive people as there are people.

use super::{metrics, photos_of, ratio, FaceSet, Mistake, Mistakes, ProbeResult};
use rollcall::recognition::{Candidate, Decision, Matcher, Origin, Rule, Source};
use rollcall::settings::Settings;
use rollcall::vision::image_io::{file_name_of, folders_in};
use rollcall::vision::Embeddings;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Most probes taken from one person.
const MAX_PROBES: usize = 40;
/// Most rotations per class size.
const MAX_ROTATIONS: usize = 40;

/// One person of the set, split for the protocol.
#[derive(Clone, Debug)]
pub struct Person {
    pub name: String,
    pub enrol: Vec<PathBuf>,
    pub genuine: Vec<PathBuf>,
    /// Every photo (at most 40), for when the person is a stranger.
    pub all: Vec<PathBuf>,
}

/// The session of a photo (NUAA names carry one), as the photo-attack training reads it.
pub use rollcall::vision::liveness::training::session_of;

/// At most `n` items, evenly spread.
fn spread(v: &[PathBuf], n: usize) -> Vec<PathBuf> {
    if v.len() <= n {
        return v.to_vec();
    }
    (0..n).map(|i| v[i * v.len() / n].clone()).collect()
}

/// Splits one person's photos.
pub fn split(name: String, photos: Vec<PathBuf>, k: usize) -> Option<Person> {
    if photos.len() < 2 {
        return None;
    }
    let first = session_of(&photos[0]);
    let session: Vec<PathBuf> = photos
        .iter()
        .filter(|p| session_of(p) == first)
        .cloned()
        .collect();
    let others: Vec<PathBuf> = photos
        .iter()
        .filter(|p| session_of(p) != first)
        .cloned()
        .collect();
    let k = k.min(photos.len() / 2).max(1);
    // Frames of a video session are taken every other one (neighbours are near copies).
    let step = if session.len() > 4 * k { 2 } else { 1 };
    let enrol: Vec<PathBuf> = session.iter().step_by(step).take(k).cloned().collect();
    let genuine = if others.is_empty() {
        // The rest of the one session, after the enrolment photos.
        let last = session
            .iter()
            .position(|p| Some(p) == enrol.last())
            .unwrap_or(0);
        session[last + 1..]
            .iter()
            .filter(|p| !enrol.contains(p))
            .cloned()
            .collect()
    } else {
        others
    };
    Some(Person {
        name,
        enrol,
        genuine: spread(&genuine, MAX_PROBES),
        all: spread(&photos, MAX_PROBES),
    })
}

/// The people of a folder-per-person set.
pub fn people(dir: &Path, k: usize) -> std::io::Result<Vec<Person>> {
    let mut out = Vec::new();
    for folder in folders_in(dir)? {
        if let Some(p) = split(file_name_of(&folder), photos_of(&folder)?, k) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Every photo the protocol uses.
pub fn paths(people: &[Person]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = people
        .iter()
        .flat_map(|p| p.enrol.iter().chain(&p.genuine).chain(&p.all).cloned())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Which people are enrolled in each rotation of a class of `size` among `n` people.
pub fn rotations(n: usize, size: usize) -> Vec<Vec<usize>> {
    fn choose(n: usize, k: usize) -> usize {
        (0..k).fold(1usize, |acc, i| acc.saturating_mul(n - i) / (i + 1))
    }
    if size == 0 || size >= n {
        return Vec::new();
    }
    if choose(n, size) <= MAX_ROTATIONS {
        // Every combination, in order.
        let mut out = Vec::new();
        let mut c: Vec<usize> = (0..size).collect();
        loop {
            out.push(c.clone());
            let Some(i) = (0..size).rev().find(|&i| c[i] < n - size + i) else {
                break;
            };
            c[i] += 1;
            for j in i + 1..size {
                c[j] = c[j - 1] + 1;
            }
        }
        out
    } else {
        (0..n)
            .map(|start| (0..size).map(|j| (start + j) % n).collect())
            .collect()
    }
}

/// Figures for one class size, as fractions.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClassFigures {
    pub gallery_size: usize,
    pub rotations: usize,
    pub genuine_probes: usize,
    pub stranger_probes: usize,
    /// Genuine probes (face found) marked as the right person: pooled, and the worst
    /// rotation. The worst figures of genuine probes (here, `wrong_person_worst` and
    /// `correct_at_1pct_*`) leave out rotations in which no genuine probe had a face.
    pub correct_accept: f64,
    pub correct_accept_worst: f64,
    /// Genuine probes marked as someone else.
    pub wrong_person: f64,
    pub wrong_person_worst: f64,
    /// Stranger probes (face found) marked as anyone.
    pub stranger_accept: f64,
    pub stranger_accept_worst: f64,
    /// Probes in which no face was found (not counted above).
    pub no_face: f64,
    /// Probes (face found) answered by the fast model alone (`Rule::decisive`).
    pub fast_answers: f64,
    /// Threshold-free: genuine probes (face found) that would be accepted at the score
    /// letting in 1 % of that rotation's strangers, chosen knowing them (mean over
    /// rotations, and the worst). What the models separate; the gap to `correct_accept`
    /// is what a threshold fixed in advance gives away.
    pub correct_at_1pct_mean: f64,
    pub correct_at_1pct_worst: f64,
    /// The most recurring mistakes (wrong person, strangers accepted), most frequent
    /// first.
    pub mistakes: Vec<Mistake>,
    /// The kiosk's camera only (`--camera`): the frames the kiosk would judge.
    pub kiosk_judged: Option<KioskJudged>,
}

/// What the kiosk makes of single frames: it judges a face only when it is clear and near
/// enough, and asks the person to adjust otherwise (a later frame is judged), so these
/// are the figures of the frames it judges.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KioskJudged {
    /// Share of the probes with a face found that the kiosk would judge.
    pub judged: f64,
    pub correct_accept: f64,
    pub correct_accept_worst: f64,
    pub stranger_accept: f64,
    pub stranger_accept_worst: f64,
}

/// Counts for one side (genuine or stranger probes) and for the frames the kiosk judges.
#[derive(Clone, Copy, Default)]
struct Tally {
    probes: usize,
    hits: usize,
}

impl Tally {
    fn add(&mut self, hit: bool) {
        self.probes += 1;
        self.hits += usize::from(hit);
    }

    fn share(&self) -> f64 {
        ratio(self.hits, self.probes)
    }
}

/// Runs every rotation of every class size.
pub fn evaluate(
    people: &[Person],
    set: &FaceSet,
    sizes: &[usize],
    source: Source,
    all_settings: &Settings,
) -> Vec<ClassFigures> {
    let settings = &all_settings.recognition;
    let min_eye_distance_px = all_settings.kiosk.min_eye_distance_px;
    let at_kiosk = source == Source::Camera;
    let origin = match source {
        Source::Camera => Origin::Camera,
        Source::Photo => Origin::Upload,
    };
    let (rule, early) = (Rule::full(settings), Rule::decisive(settings));
    let early_answers = std::cell::Cell::new(0usize);
    // As a photo is marked: the fast model alone when decisive, else every model (whose
    // best candidate `best` is, worked out once for the threshold-free figure too).
    let decide = |matcher: &Matcher, e: &Embeddings, best: Option<Candidate>| match matcher
        .identify(e, source, &early)
    {
        m @ Decision::Match(_) => {
            early_answers.set(early_answers.get() + 1);
            m
        }
        _ => rule.judge(best),
    };
    let mut out = Vec::new();
    for &size in sizes {
        let rots = rotations(people.len(), size);
        if rots.is_empty() {
            continue;
        }
        let (mut g_found, mut g_correct, mut g_wrong, mut s_found, mut s_accepted) =
            (0, 0, 0, 0, 0);
        let (mut no_face, mut probes) = (0, 0);
        early_answers.set(0);
        let (mut ca_worst, mut wp_worst, mut sa_worst) = (1.0f64, 0.0f64, 0.0f64);
        let (mut at_1pct_sum, mut at_1pct_worst) = (0.0f64, 1.0f64);
        let mut judged = 0usize;
        let mut mistakes = Mistakes::default();
        // Frames the kiosk judges: genuine and strangers, pooled and the worst rotation.
        let (mut k_genuine, mut k_strangers) = (Tally::default(), Tally::default());
        let (mut k_ca_worst, mut k_sa_worst, mut k_found) = (1.0f64, 0.0f64, 0usize);
        for rot in &rots {
            let enrolled: Vec<(usize, &[PathBuf])> = rot
                .iter()
                .map(|&i| (i, people[i].enrol.as_slice()))
                .collect();
            let matcher = set.matcher(&enrolled, origin, settings);
            let (mut found, mut correct, mut wrong) = (0, 0, 0);
            let (mut k_here, mut k_s_here) = (Tally::default(), Tally::default());
            let kiosk_judges = |p: &Path| {
                at_kiosk
                    && set
                        .get(p)
                        .is_some_and(|f| f.kiosk_judges(min_eye_distance_px))
            };
            // Every probe's best candidate by every model, kept for the threshold-free
            // figure, then its verdict.
            let mut scored = Vec::new();
            let mut judge = |e: &Embeddings, truth: Option<usize>| {
                let best = matcher.best(e, source, &rule.models);
                scored.push(ProbeResult {
                    truth,
                    best: best
                        .as_ref()
                        .map(|c| (c.student_id as usize, c.score, c.margin)),
                    face_found: true,
                });
                decide(&matcher, e, best)
            };
            for &i in rot {
                for p in &people[i].genuine {
                    probes += 1;
                    let Some(e) = set.get(p).and_then(|f| f.probe.as_ref()) else {
                        no_face += 1;
                        continue;
                    };
                    found += 1;
                    let verdict = judge(e, Some(i));
                    if kiosk_judges(p) {
                        k_here.add(
                            matches!(&verdict, Decision::Match(c) if c.student_id as usize == i),
                        );
                    }
                    match verdict {
                        Decision::Match(c) if c.student_id as usize == i => correct += 1,
                        Decision::Match(c) => {
                            wrong += 1;
                            mistakes.add(
                                false,
                                &people[i].name,
                                &people[c.student_id as usize].name,
                                p,
                            );
                        }
                        Decision::Unknown(_) => {}
                    }
                }
            }
            let (mut s_here, mut accepted) = (0, 0);
            for (j, person) in people.iter().enumerate() {
                if rot.contains(&j) {
                    continue;
                }
                for p in &person.all {
                    probes += 1;
                    let Some(e) = set.get(p).and_then(|f| f.probe.as_ref()) else {
                        no_face += 1;
                        continue;
                    };
                    s_here += 1;
                    let verdict = judge(e, None);
                    if kiosk_judges(p) {
                        k_s_here.add(matches!(verdict, Decision::Match(_)));
                    }
                    if let Decision::Match(c) = verdict {
                        accepted += 1;
                        mistakes.add(true, &person.name, &people[c.student_id as usize].name, p);
                    }
                }
            }
            // A rotation in which no genuine probe had a face (its students' photos hold no
            // usable face, so none could be enrolled) says nothing about the students.
            if found > 0 {
                let at_1pct = metrics(&scored, rule.accept, rule.margin, 0.0).correct_at_1pct;
                judged += 1;
                at_1pct_sum += at_1pct;
                at_1pct_worst = at_1pct_worst.min(at_1pct);
                ca_worst = ca_worst.min(ratio(correct, found));
                if k_here.probes > 0 {
                    k_ca_worst = k_ca_worst.min(k_here.share());
                }
                wp_worst = wp_worst.max(ratio(wrong, found));
            }
            sa_worst = sa_worst.max(ratio(accepted, s_here));
            k_sa_worst = k_sa_worst.max(k_s_here.share());
            k_found += found + s_here;
            for (all, here) in [(&mut k_genuine, k_here), (&mut k_strangers, k_s_here)] {
                all.probes += here.probes;
                all.hits += here.hits;
            }
            g_found += found;
            g_correct += correct;
            g_wrong += wrong;
            s_found += s_here;
            s_accepted += accepted;
        }
        out.push(ClassFigures {
            gallery_size: size,
            rotations: rots.len(),
            genuine_probes: g_found,
            stranger_probes: s_found,
            correct_accept: ratio(g_correct, g_found),
            correct_accept_worst: if judged > 0 { ca_worst } else { 0.0 },
            wrong_person: ratio(g_wrong, g_found),
            wrong_person_worst: wp_worst,
            stranger_accept: ratio(s_accepted, s_found),
            stranger_accept_worst: sa_worst,
            no_face: ratio(no_face, probes),
            fast_answers: ratio(early_answers.get(), g_found + s_found),
            correct_at_1pct_mean: at_1pct_sum / judged.max(1) as f64,
            correct_at_1pct_worst: if judged > 0 { at_1pct_worst } else { 0.0 },
            mistakes: mistakes.most_frequent(),
            kiosk_judged: at_kiosk.then(|| KioskJudged {
                judged: ratio(k_genuine.probes + k_strangers.probes, k_found),
                correct_accept: k_genuine.share(),
                correct_accept_worst: if k_genuine.probes > 0 {
                    k_ca_worst
                } else {
                    0.0
                },
                stranger_accept: k_strangers.share(),
                stranger_accept_worst: k_sa_worst,
            }),
        });
    }
    out
}

/// The default class sizes for `n` people: 1, 3, 10 and everyone but one, where possible.
pub fn default_sizes(n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = [1, 3, 10, n.saturating_sub(1)]
        .into_iter()
        .filter(|s| *s >= 1 && *s < n)
        .collect();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::super::PhotoFaces;
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn nuaa_names_give_sessions_and_others_one() {
        assert_eq!(session_of(Path::new("0001_00_00_01_109.jpg")), "00_00_01");
        assert_eq!(session_of(Path::new("000_3.bmp")), "");
        assert_eq!(session_of(Path::new("Ada_Lovelace_0001.jpg")), "");
    }

    #[test]
    fn another_session_is_the_genuine_probe() {
        let photos: Vec<PathBuf> = [
            "1_0_0_01_1.jpg",
            "1_0_0_01_2.jpg",
            "1_0_0_01_3.jpg",
            "1_0_0_02_1.jpg",
            "1_0_0_02_2.jpg",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let p = split("1".into(), photos, 5).unwrap();
        assert_eq!(p.enrol.len(), 2, "at most half the photos");
        assert!(p.genuine.iter().all(|g| session_of(g) == "0_0_02"));
        let photos = |n: usize| -> Vec<PathBuf> {
            (0..n).map(|i| PathBuf::from(format!("{i}.bmp"))).collect()
        };
        let p = split("2".into(), photos(5), 2).unwrap();
        assert_eq!(p.enrol, photos(2));
        assert_eq!(p.genuine, photos(5)[2..].to_vec());
        // A long session: every other frame.
        let p = split("3".into(), photos(30), 5).unwrap();
        assert_eq!(p.enrol[1], PathBuf::from("2.bmp"));
        assert_eq!(
            p.genuine.len(),
            30 - 9,
            "the frames after the last enrolment frame"
        );
    }

    /// A photo of person `who` (an axis of its own in each model's space, slightly moved
    /// by `k`), usable as a probe and a template.
    fn photo_of(who: usize, k: usize) -> PhotoFaces {
        let face = Embeddings(
            ["dlib-resnet-v1", "facenet-20180408"]
                .into_iter()
                .map(|m| {
                    let mut v = [0.0f32; 8];
                    v[who] = 1.0;
                    v[7] = 0.05 * k as f32;
                    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    (m, v.iter().map(|x| x / n).collect())
                })
                .collect(),
        );
        PhotoFaces {
            probe: Some(face.clone()),
            template: Some(face),
            clear: true,
            eye_distance_px: 40.0,
        }
    }

    /// People of three photos each (`faces(who, k)`), each enrolled with their first.
    fn class(names: &[&str], faces: impl Fn(usize, usize) -> PhotoFaces) -> (Vec<Person>, FaceSet) {
        let mut photos = HashMap::new();
        let people = names
            .iter()
            .enumerate()
            .map(|(who, name)| {
                let paths: Vec<PathBuf> = (0..3)
                    .map(|k| PathBuf::from(format!("{name}/{k}.jpg")))
                    .collect();
                for (k, p) in paths.iter().enumerate() {
                    photos.insert(p.clone(), faces(who, k));
                }
                split(name.to_string(), paths, 1).unwrap()
            })
            .collect();
        let set = FaceSet {
            photos,
            sec_per_photo: 0.0,
            search: Default::default(),
        };
        (people, set)
    }

    #[test]
    fn a_rotation_without_a_face_to_enrol_is_not_counted_as_the_worst() {
        // Three people of three photos each; nobody's face is found in Cleo's photos.
        let (people, set) = class(&["Ada", "Ben", "Cleo"], |who, k| {
            if who == 2 {
                PhotoFaces::default()
            } else {
                photo_of(who, k)
            }
        });
        let figures = evaluate(&people, &set, &[1], Source::Photo, &Settings::default());
        let one = &figures[0];
        assert_eq!(one.rotations, 3);
        assert_eq!(one.genuine_probes, 4, "Ada's and Ben's two other photos");
        assert_eq!(one.correct_accept, 1.0, "{one:?}");
        assert_eq!(
            one.correct_accept_worst, 1.0,
            "Cleo's rotation has no genuine probe: {one:?}"
        );
        assert_eq!(one.correct_at_1pct_worst, 1.0, "{one:?}");
        assert_eq!(one.correct_at_1pct_mean, 1.0, "{one:?}");
        assert_eq!(one.stranger_accept, 0.0, "{one:?}");
        assert_eq!(one.kiosk_judged, None, "photos are not the kiosk's frames");
    }

    #[test]
    fn the_kiosk_figures_leave_out_the_frames_it_asks_to_take_again() {
        // Ada and Ben, three frames each; Ada's last frame is of someone far behind her
        // (eyes 10 px apart, and not her face), which the kiosk would not judge.
        let (people, set) = class(&["Ada", "Ben"], |who, k| {
            if who == 0 && k == 2 {
                PhotoFaces {
                    eye_distance_px: 10.0,
                    ..photo_of(5, 0)
                }
            } else {
                photo_of(who, k)
            }
        });
        let figures = evaluate(&people, &set, &[1], Source::Camera, &Settings::default());
        let one = &figures[0];
        assert_eq!(
            one.correct_accept_worst, 0.5,
            "Ada: one of two frames: {one:?}"
        );
        let kiosk = one.kiosk_judged.as_ref().unwrap();
        assert_eq!(kiosk.correct_accept_worst, 1.0, "{kiosk:?}");
        assert_eq!(kiosk.correct_accept, 1.0, "{kiosk:?}");
        // Judged: Ada's 1 of 2 and Ben's 2 genuine frames; Ben's 3 and Ada's 2 of 3 as
        // strangers: 8 of 10 frames.
        assert_eq!(kiosk.judged, 0.8, "{kiosk:?}");
        assert_eq!(kiosk.stranger_accept, 0.0, "{kiosk:?}");
    }

    #[test]
    fn small_classes_try_every_combination_and_large_ones_windows() {
        assert_eq!(rotations(7, 3).len(), 35);
        assert_eq!(rotations(7, 3)[0], vec![0, 1, 2]);
        assert_eq!(rotations(7, 3)[34], vec![4, 5, 6]);
        assert_eq!(rotations(20, 10).len(), 20);
        assert_eq!(
            rotations(20, 10)[15],
            vec![15, 16, 17, 18, 19, 0, 1, 2, 3, 4]
        );
        assert!(rotations(3, 3).is_empty());
        assert_eq!(default_sizes(7), vec![1, 3, 6]);
        assert_eq!(default_sizes(20), vec![1, 3, 10, 19]);
    }
}
