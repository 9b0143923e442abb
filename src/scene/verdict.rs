//! The scene stage's verdict on a frame.

use serde::Serialize;

/// One label with its probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Class name (`owner`, `others`, `objects`, or an ImageNet class).
    pub label: String,
    /// Its probability.
    pub score: f32,
}

/// The scene consumer's verdict on a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SceneVerdict {
    /// Best label first.
    pub top: Vec<Scored>,
}

impl SceneVerdict {
    /// The best label, if any.
    pub fn best(&self) -> Option<&Scored> {
        self.top.first()
    }
}
