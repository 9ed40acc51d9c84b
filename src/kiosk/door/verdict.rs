//! What the kiosk tells a student, in one place.

/// The kind of verdict, which also picks its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictKind {
    /// Newly marked present (green).
    Welcome,
    /// Already marked earlier today (amber).
    AlreadyMarked,
    /// Recorded absent today by an admin, so not marked (amber): see the teacher.
    AbsentByHand,
    /// Not recognised (red).
    NotRecognised,
    /// The face did not look live, e.g. a photo held up to the camera (red).
    NotVerified,
    /// Recognised in a try-out, where nobody is marked (green: what a welcome would be).
    TryOut,
}

/// A verdict for one face track.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub track_id: u64,
    pub student_id: Option<i64>,
    pub name: Option<String>,
    /// Local time of the mark, "HH:MM".
    pub time: Option<String>,
    /// For a repeat: the school's other door that marked the student first.
    pub door: Option<String>,
}

impl Verdict {
    /// A verdict that names no student (not recognised, or not taken for a live face).
    pub fn about_nobody(kind: VerdictKind, track_id: u64) -> Verdict {
        Verdict {
            kind,
            track_id,
            student_id: None,
            name: None,
            time: None,
            door: None,
        }
    }

    /// The sentence shown in large type.
    pub fn message(&self) -> String {
        let name = self.name.as_deref().unwrap_or("Student");
        let time = self.time.as_deref().unwrap_or("");
        match self.kind {
            VerdictKind::Welcome => format!("Welcome, {name} — marked at {time}"),
            VerdictKind::AlreadyMarked => match &self.door {
                Some(door) => format!("{name}, you're already marked ({time}, {door})"),
                None => format!("{name}, you're already marked ({time})"),
            },
            // Said without "absent": classmates read the screen too.
            VerdictKind::AbsentByHand => {
                format!("{name}, please see your teacher — today's attendance was taken by hand")
            }
            VerdictKind::NotRecognised => "Not recognised — please see your teacher".into(),
            VerdictKind::NotVerified => {
                "We couldn't verify it's you — please see your teacher".into()
            }
            VerdictKind::TryOut => format!("Recognised: {name} — a try-out, so not marked"),
        }
    }

    /// The short label drawn next to the face.
    pub fn face_label(&self) -> String {
        match self.kind {
            VerdictKind::NotRecognised => "Not recognised".into(),
            VerdictKind::NotVerified => "Not verified".into(),
            _ => self.name.clone().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_naturally() {
        let v = Verdict {
            kind: VerdictKind::Welcome,
            track_id: 1,
            student_id: Some(3),
            name: Some("Ada".into()),
            time: Some(crate::store::clock_time("2026-03-02T08:52:10+01:00")),
            door: None,
        };
        assert_eq!(v.message(), "Welcome, Ada — marked at 08:52");
        let amber = Verdict {
            kind: VerdictKind::AlreadyMarked,
            time: Some("08:41".into()),
            ..v.clone()
        };
        assert_eq!(amber.message(), "Ada, you're already marked (08:41)");
        let elsewhere = Verdict {
            door: Some("North door".into()),
            ..amber.clone()
        };
        assert_eq!(
            elsewhere.message(),
            "Ada, you're already marked (08:41, North door)"
        );
        let red = Verdict {
            kind: VerdictKind::NotRecognised,
            name: None,
            ..v
        };
        assert_eq!(red.message(), "Not recognised — please see your teacher");
        let by_hand = Verdict {
            kind: VerdictKind::AbsentByHand,
            ..amber
        };
        assert_eq!(
            by_hand.message(),
            "Ada, please see your teacher — today's attendance was taken by hand"
        );
        assert_eq!(by_hand.face_label(), "Ada");
        let try_out = Verdict {
            kind: VerdictKind::TryOut,
            time: None,
            ..by_hand
        };
        assert_eq!(
            try_out.message(),
            "Recognised: Ada — a try-out, so not marked"
        );
        assert_eq!(try_out.face_label(), "Ada");
    }
}
