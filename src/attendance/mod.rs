//! The attendance service layer: what every front (the kiosk, the admin screens, the
//! command line, the HTTP API) calls. It wires vision, recognition and the store together
//! and keeps the old system's contract.
//!
//! - [`Recognizer`]: the face models and the gallery; one per recognising thread.
//! - [`SharedGallery`]: the gallery, one copy for a process's recognisers.
//! - [`Records`]: the database and the photo files; cheap to open per thread.
//! - [`AttendanceService`]: both together, for one-shot callers.

pub mod import;
mod outcome;
mod photos;
pub mod pin;
mod recognizer;
mod records;
mod service;
mod shared_gallery;

pub use outcome::Outcome;
pub use photos::{
    is_email, main_face, validate_student, PhotoInput, PhotoProblem, MAX_FIELD_CHARS, MAX_PHOTOS,
};
pub use recognizer::{Pass, PreparedPhoto, Recognizer};
pub use records::{
    back_in_class, first_day_back_by_default, leave_recorded, AdminError, Marked, Records, Swapped,
};
pub use service::{
    check_request, reembed_for_current_models, AttendanceService, EnrollError, Enrolled, LookAlike,
    MarkError,
};
pub use shared_gallery::{MatcherView, SharedGallery};

use crate::data_dir::DataDirError;
use crate::store::StoreError;
use crate::vision::VisionError;

/// Why the service (or one of its parts) could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Vision(#[from] VisionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
}
