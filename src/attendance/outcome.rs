//! The old system's messages: one home for the contract, so the CLI, the kiosk and the
//! HTTP API say exactly the same thing.

/// Every message of the old Flask API, verbatim, and the one Rollcall added (an absence
/// recorded by hand, which the old system could not record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    UserAdded,
    NoImages,
    TooManyImages,
    InvalidData,
    UserExists,
    AttendanceMarked,
    AlreadyMarked,
    /// An admin recorded the student absent today by hand: not marked.
    AbsentByHand,
    NoFace,
    UserNotFound,
    InternalError,
}

impl Outcome {
    /// The exact text the old clients expect.
    pub fn message(&self) -> &'static str {
        match self {
            Outcome::UserAdded => "User added successfully & training started",
            Outcome::NoImages => "No images found",
            Outcome::TooManyImages => "Maximum 10 images are allowed",
            Outcome::InvalidData => "Invalid data",
            Outcome::UserExists => "User already exists",
            Outcome::AttendanceMarked => "Attendance marked successfully",
            Outcome::AlreadyMarked => "Student attendance is marked",
            Outcome::AbsentByHand => "Today's attendance was recorded by the teacher",
            Outcome::NoFace => "No face found",
            Outcome::UserNotFound => "User not found",
            Outcome::InternalError => "Internal server error",
        }
    }

    /// Whether the request did what was asked.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::UserAdded | Outcome::AttendanceMarked)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}
