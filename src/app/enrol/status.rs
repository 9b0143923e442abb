//! The progress of an enrolment as the API, the socket, the page and the
//! `enroll` events show it. No biometric data: counts and names only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::verify::enroll::EnrollSummary;

/// Where an enrolment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrolState {
    /// None has run since the start.
    Idle,
    /// Frames are being examined.
    Running,
    /// The person is enrolled.
    Done,
    /// It ended without enrolling (the gallery is unchanged) or the scene
    /// head could not be trained (then the templates are saved: see
    /// `message`).
    Failed,
}

/// An enrolment's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolStatus {
    /// Where it is.
    pub state: EnrolState,
    /// Who is (or was) being enrolled; empty when idle.
    pub name: String,
    /// Frames examined so far.
    pub examined: usize,
    /// Frames it examines at most.
    pub frames: usize,
    /// Templates kept so far.
    pub kept: usize,
    /// Templates wanted (`verify.enroll_templates`).
    pub wanted: usize,
    /// Frames turned away, per reason.
    pub rejected: BTreeMap<String, usize>,
    /// The outcome or the error, when it ended.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl EnrolStatus {
    /// Nothing has run.
    pub fn idle() -> Self {
        Self {
            state: EnrolState::Idle,
            name: String::new(),
            examined: 0,
            frames: 0,
            kept: 0,
            wanted: 0,
            rejected: BTreeMap::new(),
            message: String::new(),
        }
    }

    /// A running enrolment of `name` after `summary`.
    pub fn running(name: &str, frames: usize, wanted: usize, summary: &EnrollSummary) -> Self {
        Self {
            state: EnrolState::Running,
            name: name.to_string(),
            examined: summary.examined,
            frames,
            kept: summary.kept.len(),
            wanted,
            rejected: summary
                .rejected
                .iter()
                .map(|(r, n)| (r.to_string(), *n))
                .collect(),
            message: String::new(),
        }
    }

    /// This status, ended in `state` with `message`.
    pub fn ended(mut self, state: EnrolState, message: String) -> Self {
        self.state = state;
        self.message = message;
        self
    }

    /// True once it ended (done or failed).
    pub fn is_over(&self) -> bool {
        matches!(self.state, EnrolState::Done | EnrolState::Failed)
    }

    /// One line for a terminal.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}: {} of {} frames examined, {} of {} templates kept",
            self.name, self.examined, self.frames, self.kept, self.wanted
        );
        for (reason, n) in &self.rejected {
            s.push_str(&format!("; {n} rejected: {reason}"));
        }
        s
    }
}
