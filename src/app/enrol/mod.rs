//! Enrolment: one person's frames through the gates into the gallery
//! ([`session`]), while the service runs ([`service`]: fed by the presenter
//! with the analysed live frames, asked through HTTP or the control socket
//! [`socket`]), and the people in the gallery ([`people`]).
//!
//! The verify stage never takes part: it notices the rewritten gallery file
//! and reloads it ([`crate::verify::watch`]).

pub mod people;
pub mod service;
pub mod session;
pub mod socket;
pub mod status;

pub use service::EnrolService;
pub use session::{EnrolOutcome, EnrolSession};
pub use status::{EnrolState, EnrolStatus};

/// Why an enrolment, a listing or a removal failed.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// The gallery could not be read or written, or the name is invalid.
    #[error(transparent)]
    Gallery(#[from] crate::verify::gallery::GalleryError),
    /// The embedding failed.
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    /// A model could not be loaded.
    #[error(transparent)]
    Model(#[from] crate::models::ModelError),
    /// The scene backbone or its negatives could not be loaded, or a frame
    /// could not be classified.
    #[error(transparent)]
    Scene(#[from] crate::scene::SceneError),
    /// The templates were saved but the scene head could not be trained.
    #[error("{name} is enrolled for verification, but the scene head was not trained: {why}")]
    SceneHead {
        /// The person.
        name: String,
        /// Why.
        why: crate::scene::SceneError,
    },
    /// No frame passed the gates.
    #[error("no usable frame for {name} ({summary}): nothing enrolled, the gallery is unchanged")]
    NothingKept {
        /// The person.
        name: String,
        /// What was examined and rejected.
        summary: String,
    },
    /// The frame count asked for is out of range.
    #[error("frames must be 1..={max}, not {given}")]
    Frames {
        /// What was asked.
        given: usize,
        /// The limit ([`session::MAX_ENROL_FRAMES`]).
        max: usize,
    },
    /// Another enrolment is running.
    #[error("an enrolment of {name} is running; wait for it to end")]
    Busy {
        /// Who is being enrolled.
        name: String,
    },
    /// No frame came for too long (the source is lost).
    #[error("no frame for {seconds} s: enrolment of {name} abandoned, the gallery is unchanged")]
    NoFrames {
        /// The person.
        name: String,
        /// How long nothing came.
        seconds: u64,
    },
    /// The running instance has verification off.
    #[error("verification is off in the running instance (verify.enabled = false): nothing to enrol into")]
    VerifyOff,
    /// The enrolment worker is gone (the run is ending).
    #[error("the run is ending: enrolment unavailable")]
    Stopped,
}
