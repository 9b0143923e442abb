//! The scene head end to end with the real backbone and the bundled
//! negatives: enrollment from the owner's frames, the saved head file, the
//! classifier in the pipeline's place, and every bad input the issue names.

use std::path::{Path, PathBuf};

use image::RgbImage;
use sha2::{Digest, Sha256};
use vigil::app::commands::eval::scene::FacesCache;
use vigil::capture::{list_images, load_rgb};
use vigil::core::face::Detection;
use vigil::scene::enroll::{enroll_scene, OwnerFrame, SceneEnroller};
use vigil::scene::{
    BackboneVariant, Features, Head, NegativeSet, SceneClassifier, SceneConfig, SceneError,
};

use crate::support::store;

fn fixture(p: &str) -> PathBuf {
    crate::support::fixture("scene").join(p)
}

/// The config the bundled negatives were made for (its crop rule).
fn config() -> SceneConfig {
    let mut c = SceneConfig::default();
    let negatives = NegativeSet::load(&store().path_of(c.backbone.negatives_file())).unwrap();
    c.crop = negatives.crop.mode;
    c.face_margin = negatives.crop.margin;
    c.grey = negatives.crop.grey;
    c
}

/// The fixture images with the faces the MTCNN detector found in them
/// (recorded in `faces.jsonl`: the scene stage's input is a frame and its faces).
fn frames(dir: &str) -> Vec<(RgbImage, Vec<Detection>)> {
    let cache = FacesCache::load(&fixture("faces.jsonl")).unwrap();
    list_images(&fixture(dir))
        .unwrap()
        .iter()
        .map(|p| (load_rgb(p).unwrap(), cache.get(p).unwrap().to_vec()))
        .collect()
}

fn enroll(
    config: &SceneConfig,
    frames: &[(RgbImage, Vec<Detection>)],
    head: &Path,
) -> Result<Head, SceneError> {
    let owner: Vec<OwnerFrame<'_>> = frames
        .iter()
        .map(|(image, faces)| OwnerFrame { image, faces })
        .collect();
    enroll_scene(&store(), config, &owner, head).map(|(h, _)| h)
}

fn best(classifier: &mut SceneClassifier, frame: &(RgbImage, Vec<Detection>)) -> String {
    let v = classifier.classify(&frame.0, &frame.1).unwrap();
    v.best().unwrap().label.clone()
}

#[test]
fn enrollment_trains_a_head_that_tells_owner_others_and_objects_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/scene_head.bin");
    let config = config();
    let head = enroll(&config, &frames("enroll"), &path).unwrap();
    assert_eq!(head.counts.get(vigil::scene::SceneClass::Owner), 22);

    // The saved file is private and loads back identical.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut classifier = SceneClassifier::new(&store(), &config, Some(&path)).unwrap();
    assert_eq!(classifier.head(), Some(&head));

    // Later frames of the owner (not enrolled), other people, objects.
    for f in frames("test/owner") {
        assert_eq!(best(&mut classifier, &f), "owner");
    }
    for f in frames("test/others") {
        assert_eq!(best(&mut classifier, &f), "others");
    }
    for f in frames("test/objects") {
        assert_eq!(best(&mut classifier, &f), "objects");
    }
    // The verdict carries all three classes with probabilities summing to one.
    let (img, faces) = &frames("test/owner")[0];
    let v = classifier.classify(img, faces).unwrap();
    assert_eq!(v.top.len(), 3);
    let sum: f32 = v.top.iter().map(|s| s.score).sum();
    assert!((sum - 1.0).abs() < 1e-4, "{v:?}");
}

#[test]
fn without_a_head_the_stage_reports_imagenet_classes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("scene_head.bin");
    let mut classifier = SceneClassifier::new(&store(), &config(), Some(&missing)).unwrap();
    assert!(classifier.head().is_none());
    let (cat, _) = &frames("test/objects")[1];
    let v = classifier.classify(cat, &[]).unwrap();
    assert_eq!(v.top.len(), SceneConfig::default().top_k);
    assert!(!["owner", "others", "objects"].contains(&v.top[0].label.as_str()));
}

#[test]
fn too_few_owner_frames_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene_head.bin");
    let frames = frames("enroll");
    let err = enroll(&config(), &frames[..3], &path).unwrap_err();
    assert!(
        matches!(err, SceneError::TooFewOwnerFrames { got: 3, need: 20 }),
        "{err}"
    );
    assert!(err.to_string().contains("scene.min_owner_frames"), "{err}");
    assert!(!path.exists());
}

#[test]
fn frames_without_a_face_do_not_count_as_the_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene_head.bin");
    let frames = frames("enroll");
    let mut enroller = SceneEnroller::new(&store(), &config()).unwrap();
    for (i, (img, faces)) in frames.iter().enumerate() {
        let faces: &[Detection] = if i % 2 == 0 { faces } else { &[] };
        enroller.offer(img, faces).unwrap();
    }
    assert_eq!(enroller.owner_frames(), 11);
    let err = enroller.finish(&path).unwrap_err();
    assert!(
        matches!(err, SceneError::TooFewOwnerFrames { got: 11, need: 20 }),
        "{err}"
    );
    assert!(!path.exists());
}

#[test]
fn a_head_trained_with_another_backbone_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene_head.bin");
    let config = config();
    enroll(&config, &frames("enroll"), &path).unwrap();
    let other = SceneConfig {
        backbone: BackboneVariant::Int8,
        ..config
    };
    let err = SceneClassifier::new(&store(), &other, Some(&path))
        .err()
        .expect("a head of the fp32 backbone must not load with int8");
    assert!(matches!(err, SceneError::BackboneMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("mobilenet_v2_torchvision.onnx") && msg.contains("mobilenet_v2_int8.onnx"),
        "{msg}"
    );
}

#[test]
fn nan_features_are_refused() {
    let mut v = vec![0.5f32; 1280];
    v[17] = f32::NAN;
    let err = Features::new(v).unwrap_err().to_string();
    assert!(err.contains("feature 17"), "{err}");
    assert!(Features::new(vec![0.0; 1000]).is_err());
}

/// Replaces the SHA-256 trailer after an edit, so only the content check can fail.
fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = bytes.len() - 32;
    let digest = Sha256::digest(&bytes[..n]);
    bytes[n..].copy_from_slice(&digest);
    bytes
}

#[test]
fn a_nan_in_the_negatives_file_is_refused() {
    let path = store().path_of(BackboneVariant::Fp32.negatives_file());
    let bytes = std::fs::read(&path).unwrap();
    NegativeSet::from_bytes(&path, &bytes).unwrap();
    // The last vector's last value (just before the trailer) becomes an f16 NaN.
    let mut bad = bytes.clone();
    let at = bad.len() - 32 - 2;
    bad[at..at + 2].copy_from_slice(&0x7e00u16.to_le_bytes());
    let err = NegativeSet::from_bytes(&path, &reseal(bad))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a finite number"), "{err}");
    // Without resealing, the checksum catches it first.
    let mut flipped = bytes;
    flipped[100] ^= 0x40;
    let err = NegativeSet::from_bytes(&path, &flipped)
        .unwrap_err()
        .to_string();
    assert!(err.contains("checksum"), "{err}");
}

#[test]
fn corrupt_or_poisoned_head_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene_head.bin");
    let config = config();
    let head = enroll(&config, &frames("enroll"), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let mut flipped = bytes.clone();
    flipped[200] ^= 1;
    let err = Head::from_bytes(&path, &flipped).unwrap_err().to_string();
    assert!(err.contains("checksum"), "{err}");
    let err = Head::from_bytes(&path, &bytes[..bytes.len() / 2])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("checksum") || err.contains("truncated"),
        "{err}"
    );
    let err = Head::from_bytes(&path, b"not a head")
        .unwrap_err()
        .to_string();
    assert!(err.contains("magic"), "{err}");

    // A NaN weight with a valid checksum: the first bias (last 3 f32 before the trailer).
    let mut poisoned = bytes.clone();
    let at = poisoned.len() - 32 - 12;
    poisoned[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let err = Head::from_bytes(&path, &reseal(poisoned))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a finite number"), "{err}");

    // A missing file through the stage: no head, no panic.
    assert_eq!(Head::from_bytes(&path, &bytes).unwrap(), head);
    let err = Head::load(&dir.path().join("nope.bin"), &head.backbone)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope.bin"), "{err}");
}
