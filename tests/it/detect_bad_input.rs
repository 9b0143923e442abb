//! Bad and odd inputs: an empty result or an error, never a panic.

use std::path::Path;

use image::{DynamicImage, GrayImage, RgbImage};
use vigil::detect::{DetectConfig, Detector};
use vigil::models::ModelStore;

fn detector() -> Detector {
    let store = ModelStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models"));
    Detector::new(&store, &DetectConfig::default()).unwrap()
}

#[test]
fn empty_and_tiny_images_have_no_faces() {
    let mut d = detector();
    for (w, h) in [
        (0, 0),
        (0, 10),
        (10, 0),
        (1, 1),
        (11, 11),
        (12, 12),
        (39, 39),
        (40, 40),
    ] {
        let faces = d.detect(&RgbImage::new(w, h)).unwrap();
        assert!(faces.is_empty(), "{w}x{h}: {faces:?}");
    }
}

#[test]
fn odd_sizes_and_extreme_aspect_ratios_work() {
    let mut d = detector();
    for (w, h) in [
        (641, 479),
        (333, 97),
        (1000, 13),
        (13, 1000),
        (41, 600),
        (97, 41),
    ] {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 13) as u8, 90]));
        d.detect(&img).unwrap();
    }
}

#[test]
fn greyscale_images_are_converted() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/detect/astronaut_face_256.jpg");
    let grey: GrayImage = image::open(path).unwrap().into_luma8();
    let faces = detector()
        .detect_dynamic(&DynamicImage::ImageLuma8(grey))
        .unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
}

#[test]
fn an_8k_frame_is_searched_with_a_capped_pyramid() {
    let config = DetectConfig::default();
    let levels = vigil::detect::pyramid::levels(7680, 4320, &config);
    assert!(levels[0].width <= config.max_level_side + 1);
    // Uniform grey with a gradient: real work at every level, no faces.
    let img = RgbImage::from_fn(7680, 4320, |x, y| {
        image::Rgb([(x / 30) as u8, (y / 17) as u8, 128])
    });
    let faces = detector().detect(&img).unwrap();
    assert!(faces.is_empty());
}
