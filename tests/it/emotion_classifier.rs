//! The emotion classifier on real FER2013 crops (tests/fixtures/emotion) with
//! the real models of models/.

use std::path::{Path, PathBuf};

use image::GrayImage;
use vigil::emotion::crop::grey_of;
use vigil::emotion::{ClassifierOptions, Emotion, EmotionClassifier, EnsembleWeights, TtaMode};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emotion")
}

use crate::support::store;

fn load(e: Emotion) -> Vec<GrayImage> {
    vigil::capture::list_images(&fixtures().join(e.name()))
        .unwrap()
        .iter()
        .map(|p| grey_of(&vigil::capture::load_rgb(p).unwrap()))
        .collect()
}

/// mini-Xception alone, the net the fixture crops were chosen with.
const MINI: EnsembleWeights = EnsembleWeights::MINI_XCEPTION_ONLY;
/// Every net: the one trained here, mini-Xception and face-api.
const ALL3: EnsembleWeights = EnsembleWeights {
    fer: 1.0,
    mini_xception: 0.5,
    faceapi: 0.4,
};
/// The shipped default.
const FER: EnsembleWeights = EnsembleWeights::FER_ONLY;

fn classifier(tta: TtaMode, weights: EnsembleWeights) -> EmotionClassifier {
    EmotionClassifier::new(&store(), ClassifierOptions { tta, weights }).unwrap()
}

#[test]
fn stock_model_recognises_clear_expressions_of_every_class() {
    let mut c = classifier(TtaMode::None, MINI);
    for e in Emotion::ALL {
        for (i, s) in c.classify(&load(e)).unwrap().iter().enumerate() {
            let sum: f32 = s.0.iter().sum();
            assert!((sum - 1.0).abs() < 1e-3, "{e} #{i}: {s:?}");
            assert_eq!(s.dominant().0, e, "{e} #{i}: {s:?}");
        }
    }
}

#[test]
fn batched_results_equal_one_at_a_time() {
    let mut c = classifier(TtaMode::Flip, ALL3);
    let mut crops = load(Emotion::Happy);
    crops.extend(load(Emotion::Sad));
    crops.extend(load(Emotion::Fear));
    let batch = c.classify(&crops).unwrap();
    for (crop, b) in crops.iter().zip(&batch) {
        let single = c.classify(std::slice::from_ref(crop)).unwrap();
        for (x, y) in single[0].0.iter().zip(b.0.iter()) {
            assert!((x - y).abs() < 1e-4, "{single:?} vs {b:?}");
        }
    }
}

#[test]
fn flip_averaging_is_mirror_symmetric() {
    let mut c = classifier(TtaMode::Flip, ALL3);
    let crop = load(Emotion::Surprise).remove(0);
    let mirrored = image::imageops::flip_horizontal(&crop);
    let r = c.classify(&[crop, mirrored]).unwrap();
    for (x, y) in r[0].0.iter().zip(r[1].0.iter()) {
        assert!((x - y).abs() < 1e-4, "{r:?}");
    }
}

#[test]
fn ensemble_and_shift_views_still_get_clear_faces_right() {
    let mut c = classifier(TtaMode::Shifts, ALL3);
    assert_eq!(c.nets(), 3);
    assert_eq!(c.views_per_face(), 10);
    let r = c.classify(&load(Emotion::Happy)).unwrap();
    assert!(r.iter().all(|s| s.dominant().0 == Emotion::Happy), "{r:?}");
}

#[test]
fn degenerate_crops_are_errors_or_results_never_panics() {
    let mut c = classifier(TtaMode::Flip, ALL3);
    let r = c
        .classify(&[
            GrayImage::new(1, 1),
            GrayImage::new(3, 50),
            GrayImage::new(400, 300),
        ])
        .unwrap();
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|s| s.0.iter().all(|p| p.is_finite())));
    assert!(c.classify(&[GrayImage::new(0, 10)]).is_err());
    assert!(c.classify(&[]).unwrap().is_empty());
}

#[test]
fn more_faces_than_one_batch_are_split() {
    let mut c = classifier(TtaMode::Shifts, FER);
    // 3 crops x 10 views = 30 > MAX_BATCH.
    let mut crops = load(Emotion::Angry);
    crops.push(load(Emotion::Neutral).remove(0));
    let r = c.classify(&crops).unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].dominant().0, Emotion::Angry);
    assert_eq!(r[2].dominant().0, Emotion::Neutral);
}
