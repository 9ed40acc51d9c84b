//! What people hand in: photos with a label, and a student's roll number, name and email,
//! checked the same way for every front.

use crate::store::NewStudent;
use crate::vision::Face;
use sha2::{Digest, Sha256};

/// Most photos one student may be enrolled with.
pub const MAX_PHOTOS: usize = 10;
/// Longest accepted roll number, name or email, in characters.
pub const MAX_FIELD_CHARS: usize = 200;

/// A photo handed in by a person, with a label (usually its file name) for messages.
#[derive(Clone, Debug)]
pub struct PhotoInput {
    pub label: String,
    pub bytes: Vec<u8>,
}

impl PhotoInput {
    /// Reads a photo file, labelled with its file name.
    pub fn read(path: &std::path::Path) -> std::io::Result<PhotoInput> {
        Ok(PhotoInput {
            label: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            bytes: std::fs::read(path)?,
        })
    }
}

/// Why one photo was not used.
#[derive(Clone, Debug, PartialEq)]
pub struct PhotoProblem {
    pub label: String,
    pub reason: String,
}

impl std::fmt::Display for PhotoProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.label, self.reason)
    }
}

/// Checks and tidies a roll number, name and email.
pub fn validate_student(roll_no: &str, name: &str, email: &str) -> Result<NewStudent, String> {
    let clean = |label: &str, v: &str| -> Result<String, String> {
        let v = v.trim();
        if v.is_empty() {
            return Err(format!("the {label} is missing"));
        }
        if v.chars().count() > MAX_FIELD_CHARS {
            return Err(format!(
                "the {label} is longer than {MAX_FIELD_CHARS} characters"
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(format!("the {label} contains control characters"));
        }
        Ok(v.to_string())
    };
    let roll_no = clean("roll number", roll_no)?;
    let name = clean("name", name)?;
    let email = clean("email", email)?;
    if !is_email(&email) {
        return Err("the email address is not valid".into());
    }
    Ok(NewStudent {
        roll_no,
        name,
        email,
    })
}

/// Whether `email` looks like an address (something@domain.tld, no spaces).
pub fn is_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Picks the face a single-person photo is about: the only one, or one at least twice as
/// wide as any other. `None` when the photo shows several people of similar size.
pub fn main_face(faces: &[Face]) -> Option<&Face> {
    match faces {
        [] => None,
        [only] => Some(only),
        [first, second, ..] => (first.width() >= 2.0 * second.width()).then_some(first),
    }
}

/// Bytes of a hash a stored photo's file name is written from, two hex digits each.
const NAME_BYTES: usize = 12;

/// A file name the program makes: a digest of the content and the time, never user text.
pub(crate) fn photo_file_name(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(bytes);
    h.update(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_le_bytes(),
    );
    let hex: String = h.finalize()[..NAME_BYTES]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{hex}.jpg")
}

/// Whether a file in the photos folder has a name [`photo_file_name`] makes: files named
/// otherwise were put there by someone else, and are not Rollcall's to remove.
pub(crate) fn is_photo_file_name(name: &str) -> bool {
    name.strip_suffix(".jpg").is_some_and(|stem| {
        stem.len() == 2 * NAME_BYTES && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_or_malformed_fields_are_invalid() {
        assert!(validate_student(" ", "A", "a@b.org").is_err());
        assert!(validate_student("R1", "", "a@b.org").is_err());
        assert!(validate_student("R1", "A", "   ").is_err());
        assert!(validate_student("R1", "A", "not-an-email").is_err());
        assert!(validate_student("R1", "A", "a@b").is_err());
        assert!(validate_student("R1", "A", "a b@c.org").is_err());
        assert!(validate_student(&"x".repeat(1_000_000), "A", "a@b.org").is_err());
    }

    #[test]
    fn fields_are_trimmed_and_unicode_names_are_kept() {
        let s = validate_student(" R1 ", " 李小龙 ", " li@example.org ").unwrap();
        assert_eq!(
            (s.roll_no.as_str(), s.name.as_str(), s.email.as_str()),
            ("R1", "李小龙", "li@example.org")
        );
    }

    #[test]
    fn photo_names_never_contain_user_text() {
        let n = photo_file_name(b"../../etc/passwd");
        assert!(n.ends_with(".jpg"));
        assert!(n
            .trim_end_matches(".jpg")
            .chars()
            .all(|c| c.is_ascii_hexdigit()));
        assert!(is_photo_file_name(&n), "{n}");
        for theirs in [
            "ana.jpg",
            "class.csv",
            "0123456789abcdef0123456.jpg",
            &n.to_uppercase(),
        ] {
            assert!(!is_photo_file_name(theirs), "{theirs}");
        }
    }

    fn face(width: f32) -> Face {
        Face {
            x1: 0.0,
            y1: 0.0,
            x2: width,
            y2: width,
            score: 1.0,
            landmarks: [[0.0; 2]; 5],
        }
    }

    #[test]
    fn a_dominant_face_is_chosen_but_two_similar_faces_are_not() {
        assert!(main_face(&[]).is_none());
        assert!(main_face(&[face(100.0)]).is_some());
        assert!(main_face(&[face(100.0), face(30.0)]).is_some());
        assert!(main_face(&[face(100.0), face(80.0)]).is_none());
    }
}
