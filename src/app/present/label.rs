//! The overlay label of a verified face.

use super::canvas::{Colour, GREEN, RED, YELLOW};
use crate::verify::decision::Identity;
use crate::verify::liveness::Liveness;
use crate::verify::report::FaceVerdict;

/// The overlay text and colour of a face: name (or unknown), distance, and
/// for the owner the liveness the verifier shows (never `SPOOF` while the
/// device is unlocked: see [`FaceVerdict::liveness`]).
pub fn face_label(v: &FaceVerdict) -> (String, Colour) {
    let mut text = v.identity.label().to_string();
    if let Some(d) = v.distance {
        text.push_str(&format!(" {d:.2}"));
    }
    if matches!(v.identity, Identity::Owner { .. }) {
        let live = match &v.liveness {
            Liveness::Live => " live",
            Liveness::Pending => " live?",
            Liveness::Spoof { .. } => " SPOOF",
        };
        text.push_str(live);
    }
    let colour = match (&v.identity, &v.liveness) {
        (Identity::Owner { .. }, Liveness::Live) => GREEN,
        (Identity::Unknown, _) | (_, Liveness::Spoof { .. }) => RED,
        _ => YELLOW,
    };
    (text, colour)
}
