//! Pictures of unknown faces for the outlets that ask for them
//! ([`crate::app::outlets::Outlet::wants_unknown_faces`]): when the verifier
//! decides a track is unknown, the presenter crops the latest analysed frame
//! around that track's face box and hands the crop to those outlets.

use image::RgbImage;

use super::events::Event;
use super::state::PresentState;
use crate::core::face::TrackId;
use crate::core::geometry::BoundingBox;
use crate::verify::decision::Identity;
use crate::verify::report::VerifyNotice;

/// Margin added around the face box on every side, as a fraction of its size.
pub const SNAPSHOT_MARGIN: f32 = 0.25;

/// The tracks that `events` newly decide are unknown (verify `identity`
/// notices with [`Identity::Unknown`]).
pub fn unknown_tracks(events: &[Event]) -> Vec<TrackId> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Verify {
                notice:
                    VerifyNotice::Identity {
                        track,
                        identity: Identity::Unknown,
                        ..
                    },
                ..
            } => Some(*track),
            _ => None,
        })
        .collect()
}

/// The crop of `image` around `bbox` grown by [`SNAPSHOT_MARGIN`], clamped
/// to the image; `None` when nothing of the box is inside.
pub fn crop_face(image: &RgbImage, bbox: &BoundingBox) -> Option<RgbImage> {
    let b = bbox
        .expand(SNAPSHOT_MARGIN)
        .clamp_to(image.width(), image.height());
    let (x, y) = (b.x.floor() as u32, b.y.floor() as u32);
    let (x2, y2) = (b.x2().ceil() as u32, b.y2().ceil() as u32);
    let (w, h) = (
        x2.min(image.width()).saturating_sub(x),
        y2.min(image.height()).saturating_sub(y),
    );
    if w == 0 || h == 0 {
        return None;
    }
    Some(image::imageops::crop_imm(image, x, y, w, h).to_image())
}

/// The crop of `track`'s face in the state's latest analysed frame, if the
/// track is in it.
pub fn track_crop(state: &PresentState, track: TrackId) -> Option<RgbImage> {
    let analysis = state.analysis.as_ref()?;
    let face = analysis.faces.iter().find(|f| f.track == track)?;
    crop_face(&analysis.frame.image, &face.detection.bbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_with_a_margin_inside_the_image() {
        let img = RgbImage::new(100, 80);
        let c = crop_face(&img, &BoundingBox::new(20.0, 20.0, 40.0, 40.0)).unwrap();
        assert_eq!(c.dimensions(), (60, 60));
        // Crossing the border: clamped.
        let c = crop_face(&img, &BoundingBox::new(80.0, 60.0, 40.0, 40.0)).unwrap();
        assert_eq!(c.dimensions(), (30, 30));
        assert!(crop_face(&img, &BoundingBox::new(200.0, 200.0, 10.0, 10.0)).is_none());
    }
}
