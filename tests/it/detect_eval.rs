//! `vigil eval detect` end to end on the fixtures.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn vigil() -> Command {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.current_dir(root)
        .env("VIGIL_MODELS", Path::new(root).join("models"))
        .env("VIGIL_CONFIG", Path::new(root).join("config/vigil.toml"))
        .env("RUST_LOG", "warn");
    c
}

fn last_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "vigil failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("last line is not JSON ({e}): {text}"))
}

#[test]
fn photos_with_boxes_give_recall_precision_and_ap() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("boxes.csv");
    // The reference detector's faces on the fixtures (corners -> x, y, w, h).
    std::fs::write(
        &csv,
        "image,x,y,w,h\n\
         astronaut_face_256.jpg,83.3,61.0,88.9,112.8\n\
         webcam_640x480.jpg,246.1,155.2,167.1,219.8\n\
         t1_640x480.jpg,466.7,36.4,54.2,70.8\n\
         t1_640x480.jpg,375.1,186.9,53.5,71.4\n\
         t1_640x480.jpg,4.4,141.7,61.8,72.4\n\
         t1_640x480.jpg,120.1,83.4,52.9,61.6\n\
         t1_640x480.jpg,586.1,148.3,50.7,67.6\n\
         t1_640x480.jpg,227.0,144.8,56.7,77.0\n",
    )
    .unwrap();
    let out = vigil()
        .args([
            "eval",
            "detect",
            "--images",
            "tests/fixtures/detect",
            "--boxes",
        ])
        .arg(&csv)
        .arg("--json")
        .output()
        .unwrap();
    let j = last_json(&out);
    for key in [
        "images",
        "faces",
        "detections",
        "true_positives",
        "recall",
        "precision",
        "ap",
    ] {
        assert!(j.get(key).is_some(), "missing {key}: {j}");
    }
    assert_eq!(j["images"], 4);
    assert_eq!(j["faces"], 8);
    assert_eq!(j["true_positives"], 8);
    assert_eq!(j["recall"], 1.0);
    assert_eq!(j["ap"], 1.0);
}

#[test]
fn a_clip_with_a_face_hits_every_frame() {
    let out = vigil()
        .args([
            "eval",
            "detect",
            "--video",
            "tests/fixtures/detect/webcam_8f_320x240.mp4",
            "--expect",
            "face",
            "--json",
        ])
        .output()
        .unwrap();
    let j = last_json(&out);
    assert_eq!(j["frames"], 8);
    assert_eq!(j["frame_hit_rate"], 1.0);
    assert_eq!(j["transitions"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_clip_without_faces_hits_none() {
    let out = vigil()
        .args([
            "eval",
            "detect",
            "--video",
            "tests/fixtures/detect/noface_6f_320.mp4",
            "--expect",
            "none",
            "--json",
        ])
        .output()
        .unwrap();
    let j = last_json(&out);
    assert_eq!(j["frames"], 6);
    assert_eq!(j["frame_hit_rate"], 0.0);
}

#[test]
fn missing_arguments_are_a_clear_error() {
    let out = vigil().args(["eval", "detect"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--images") || err.contains("--video"), "{err}");
}
