//! Whether the photos of one enrolment show one person.
//!
//! A photo of someone else among a student's photos (a classmate who stepped in front of
//! the camera while it captured, a file from the wrong folder) makes the kiosk mark that
//! other person as the student. Each pair of photos is scored as a probe against a
//! template is, in the prior's same-camera stranger deviations (see
//! [`super::calibration`]); pairs that score as the same person join the photos into
//! groups, and the photos outside the largest group show someone else. A photo added
//! later to an enrolled student is held against the student's photos so far the same way.

use super::gallery::Origin;
use crate::settings::ModelPrior;
use crate::vision::Embeddings;

/// Two photos the kiosk's camera took in one sitting are the same person from this fused
/// score. On the development sets the same person's photos of one sitting scored 2.85 or
/// more, another person's photo from the same camera at most 1.8. A frame of another day
/// against a student's five frames of the first sitting: 1–2 % of them under 2.0 (webcam-dev,
/// nuaa-train-dev), which is why a photo added later is only warned about.
const CAMERA_LINE: f32 = 2.0;
/// Photos handed in (which may be years apart) are the same person from this score: one
/// deviation above an ordinary stranger from one camera. Web photos of one person vary far
/// more than the kiosk's frames: on LFW, 15 of 156 people's five photos did not all
/// join one group (one photo is then left out, and said), while every other person's
/// photo put among them was caught (83–92 % of the same camera's people among ID crops
/// or webcam frames handed in).
const PHOTO_LINE: f32 = 1.0;

/// What the photos of one enrolment show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhotoPeople {
    /// One person (or a single photo).
    OnePerson,
    /// Most photos show one person; these (indices) show someone else.
    SomeoneElse(Vec<usize>),
    /// No group of photos is larger than the others (two photos unlike each other, two
    /// and two, …): which is the student cannot be told.
    Undecided,
}

/// A face's vectors by model: a photo being checked, or one already enrolled.
pub trait FaceVectors {
    fn vector(&self, model_id: &str) -> Option<&[f32]>;
}

impl FaceVectors for Embeddings {
    fn vector(&self, model_id: &str) -> Option<&[f32]> {
        self.get(model_id)
    }
}

/// A face with where its photo came from.
pub type Photo<'a> = (&'a dyn FaceVectors, Origin);

/// The fused score of two photos' faces, in the prior's stranger deviations (`None`
/// when they share no model).
fn pair_score(a: &dyn FaceVectors, b: &dyn FaceVectors, priors: &[ModelPrior]) -> Option<f32> {
    let (mut sum, mut n) = (0.0, 0);
    for p in priors {
        if let (Some(x), Some(y)) = (a.vector(&p.model_id), b.vector(&p.model_id)) {
            if x.len() == y.len() && p.stranger_std > 0.0 {
                let cos: f32 = x.iter().zip(y).map(|(u, v)| u * v).sum();
                sum += (cos - p.stranger_mean) / p.stranger_std;
                n += 1;
            }
        }
    }
    (n > 0).then(|| sum / (n as f32).sqrt())
}

/// Whether two photos score as one person: two of the kiosk's shots from
/// [`CAMERA_LINE`], any other pair from [`PHOTO_LINE`]. Photos no model can compare are
/// not told apart.
pub fn same_person(a: Photo, b: Photo, priors: &[ModelPrior]) -> bool {
    let line = if a.1 == Origin::Camera && b.1 == Origin::Camera {
        CAMERA_LINE
    } else {
        PHOTO_LINE
    };
    pair_score(a.0, b.0, priors).is_none_or(|s| s >= line)
}

/// On one face track at the kiosk (frames a fraction of a second apart), a frame shows the
/// track's person when the fast model scores it this many prior stranger deviations above
/// an ordinary stranger against one of the track's recent frames (dlib's model: cosine
/// 0.96). Measured on the development sets' webcam frames (`webcam-dev`,
/// `nuaa-train-dev`: 16 sessions each, frames about a third of a second apart), every
/// frame checked against the four before it that passed, two frames in a row asked for
/// (`TrackerSettings::doubts_to_split`): from 0.96 to 0.965 no session of one person was
/// split (1,341 checks) and every one of 424 swaps (one person's last four frames, then
/// another's first frames) was told apart within two or three frames; at 0.955 one swap
/// was missed, from 0.97 sessions were split. A split costs the person a second look (a
/// student just greeted is greeted again, silently); a missed swap leaves the newcomer
/// unjudged under the name of the one who left.
const TRACK_LINE: f32 = 1.5;

/// Whether a frame of a face track (`frame`, one model's vector) shows the person of its
/// recent frames (`track`, the same model's), in that model's prior (yes when there are
/// none yet).
pub fn same_face_on_track(track: &[Vec<f32>], frame: &[f32], prior: &ModelPrior) -> bool {
    let line = prior.stranger_mean + TRACK_LINE * prior.stranger_std;
    track.is_empty()
        || track.iter().any(|t| {
            t.len() == frame.len() && t.iter().zip(frame).map(|(u, v)| u * v).sum::<f32>() >= line
        })
}

/// Whether a photo being added to an enrolled student scores as the same person as at
/// least one of the student's photos so far (yes when there are none to compare with).
pub fn looks_like_student(enrolled: &[Photo], photo: Photo, priors: &[ModelPrior]) -> bool {
    enrolled.is_empty() || enrolled.iter().any(|e| same_person(*e, photo, priors))
}

/// Groups the photos of one enrolment by person.
pub fn photo_people(photos: &[Photo], priors: &[ModelPrior]) -> PhotoPeople {
    let n = photos.len();
    let mut group: Vec<usize> = (0..n).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            if same_person(photos[i], photos[j], priors) {
                let (a, b) = (root(&mut group, i), root(&mut group, j));
                group[a] = b;
            }
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| root(&mut group, i)).collect();
    let size = |r: usize| roots.iter().filter(|x| **x == r).count();
    let Some(largest) = roots.iter().copied().max_by_key(|r| size(*r)) else {
        return PhotoPeople::OnePerson;
    };
    let others: Vec<usize> = (0..n).filter(|i| roots[*i] != largest).collect();
    if others.is_empty() {
        PhotoPeople::OnePerson
    } else if roots
        .iter()
        .any(|r| *r != largest && size(*r) == size(largest))
    {
        PhotoPeople::Undecided
    } else {
        PhotoPeople::SomeoneElse(others)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priors() -> Vec<ModelPrior> {
        vec![ModelPrior {
            model_id: "m".into(),
            stranger_mean: 0.5,
            stranger_std: 0.1,
        }]
    }

    /// A face of person `who` (an axis of its own), moved a little by `k`.
    fn face(who: usize, k: f32) -> Embeddings {
        let mut v = vec![0.0f32; 6];
        v[who] = 1.0;
        v[5] = k;
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        Embeddings(vec![("m", v.into_iter().map(|x| x / n).collect())])
    }

    fn people(faces: &[Embeddings], origin: Origin) -> PhotoPeople {
        let photos: Vec<Photo> = faces
            .iter()
            .map(|f| (f as &dyn FaceVectors, origin))
            .collect();
        photo_people(&photos, &priors())
    }

    #[test]
    fn a_track_follows_its_person_by_any_of_their_recent_frames() {
        // Line: 0.5 + 1.5 × 0.1 = 0.65.
        let prior = &priors()[0];
        let unit = |a: f32| vec![a.cos(), a.sin()];
        assert!(
            same_face_on_track(&[], &unit(0.0), prior),
            "nothing to compare with"
        );
        // cos 0.7 → 0.795 rad; cos 0.6 → 0.927 rad.
        assert!(same_face_on_track(&[unit(0.0)], &unit(0.79), prior));
        assert!(!same_face_on_track(&[unit(0.0)], &unit(0.93), prior));
        assert!(
            same_face_on_track(&[unit(0.0), unit(0.5)], &unit(0.93), prior),
            "like one of the recent frames is enough"
        );
        assert!(
            !same_face_on_track(&[unit(0.0)], &[1.0, 0.0, 0.0], prior),
            "another model's vector is nobody's"
        );
    }

    #[test]
    fn one_persons_photos_are_one_person() {
        assert_eq!(people(&[], Origin::Camera), PhotoPeople::OnePerson);
        assert_eq!(
            people(&[face(0, 0.0)], Origin::Camera),
            PhotoPeople::OnePerson
        );
        let same = [face(0, 0.0), face(0, 0.3), face(0, 0.6)];
        assert_eq!(people(&same, Origin::Camera), PhotoPeople::OnePerson);
    }

    #[test]
    fn a_classmate_among_the_photos_is_named() {
        let faces = [face(0, 0.0), face(1, 0.0), face(0, 0.2), face(0, 0.4)];
        assert_eq!(
            people(&faces, Origin::Camera),
            PhotoPeople::SomeoneElse(vec![1])
        );
        // Two people, two photos each: which one is the student is not guessed.
        let faces = [face(0, 0.0), face(1, 0.0), face(0, 0.2), face(1, 0.2)];
        assert_eq!(people(&faces, Origin::Camera), PhotoPeople::Undecided);
        assert_eq!(
            people(&[face(0, 0.0), face(1, 0.0)], Origin::Upload),
            PhotoPeople::Undecided
        );
    }

    #[test]
    fn photos_handed_in_may_differ_more_than_the_cameras() {
        // Cosine 0.69 (1.9 at this prior's 0.5 ± 0.1) is below the camera's line for
        // two frames of one sitting, above the line for two photos handed in.
        let a = Embeddings(vec![("m", vec![1.0, 0.0])]);
        let b = Embeddings(vec![("m", vec![0.69, (1.0f32 - 0.69 * 0.69).sqrt()])]);
        let pair = [a, b];
        assert_eq!(people(&pair, Origin::Camera), PhotoPeople::Undecided);
        assert_eq!(people(&pair, Origin::Upload), PhotoPeople::OnePerson);
    }

    #[test]
    fn a_photo_added_later_must_look_like_the_students_photos() {
        let (first, second) = (face(0, 0.0), face(0, 0.3));
        let student: [Photo; 2] = [(&first, Origin::Camera), (&second, Origin::Camera)];
        let own = face(0, 0.5);
        let classmate = face(1, 0.0);
        let check = |f: &Embeddings, o| looks_like_student(&student, (f, o), &priors());
        assert!(check(&own, Origin::Camera));
        assert!(check(&own, Origin::Upload));
        assert!(!check(&classmate, Origin::Camera));
        assert!(!check(&classmate, Origin::Upload));
        // A student whose face data was erased has nothing to compare with.
        assert!(looks_like_student(
            &[],
            (&classmate, Origin::Camera),
            &priors()
        ));
        // Cosine 0.69 (1.9 deviations): not one sitting of the camera, but a photo handed
        // in may be years apart.
        let b = Embeddings(vec![("m", vec![0.69, (1.0f32 - 0.69 * 0.69).sqrt()])]);
        let one = Embeddings(vec![("m", vec![1.0, 0.0])]);
        let a: [Photo; 1] = [(&one, Origin::Camera)];
        assert!(!looks_like_student(&a, (&b, Origin::Camera), &priors()));
        assert!(looks_like_student(&a, (&b, Origin::Upload), &priors()));
    }
}
