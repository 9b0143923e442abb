//! `vigil eval scene` end to end on the small fixture set: both modes, the
//! JSON line's keys, and clear errors for bad data folders.

use std::path::PathBuf;
use std::process::{Command, Output};

/// `vigil eval scene` with no config file and the fixtures' recorded faces
/// (`faces.jsonl`: what the MTCNN detector found in each fixture image).
fn scene_eval() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_CONFIG").env_remove("VIGIL_MODELS");
    c.env("RUST_LOG", "warn");
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c.args(["--config", "/dev/null", "eval", "scene", "--faces-cache"])
        .arg(fixture("faces.jsonl"));
    c
}

fn fixture(p: &str) -> PathBuf {
    crate::support::fixture("scene").join(p)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn last_json(o: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line = stdout.lines().last().expect("output");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn check_keys(j: &serde_json::Value, images: u64) {
    assert_eq!(j["images"], images);
    for c in ["owner", "others", "objects"] {
        let r = j["per_class_recall"][c].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&r));
        let row: u64 = ["owner", "others", "objects"]
            .iter()
            .map(|p| j["confusion"][c][p].as_u64().unwrap())
            .sum();
        assert!(row > 0, "{j}");
    }
    let acc = j["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
}

#[test]
fn enrollment_mode_trains_on_the_owner_and_bundled_negatives() {
    let head = tempfile::tempdir().unwrap();
    let out = scene_eval()
        .args(["--json", "--enroll"])
        .arg(fixture("enroll"))
        .arg("--test")
        .arg(fixture("test"))
        .arg("--save-head")
        .arg(head.path().join("h.bin"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let j = last_json(&out);
    check_keys(&j, 8);
    assert_eq!(j["mode"], "enroll");
    assert_eq!(j["train_samples"]["owner"], 22);
    // 4 later owner frames, 2 other people, 2 objects: all right.
    assert_eq!(j["accuracy"], 1.0, "{}", text(&out));
    assert!(head.path().join("h.bin").is_file());
}

#[test]
fn kfold_mode_reports_the_same_keys() {
    let out = scene_eval()
        .args(["--json", "--folds", "2", "--data"])
        .arg(fixture("test"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let j = last_json(&out);
    check_keys(&j, 8);
    assert_eq!(j["mode"], "kfold");
}

#[test]
fn bad_data_folders_are_clear_errors() {
    let out = scene_eval()
        .args(["--data"])
        .arg(fixture("enroll"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("no owner/ folder"), "{}", text(&out));

    let out = scene_eval()
        .args(["--folds", "5", "--data"])
        .arg(fixture("test"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("fewer than the 5 folds"),
        "{}",
        text(&out)
    );

    let out = scene_eval().output().unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("--enroll DIR --test DIR"),
        "{}",
        text(&out)
    );

    // Too few enrollment frames for the head.
    let out = scene_eval()
        .args(["--max-owner", "3", "--enroll"])
        .arg(fixture("enroll"))
        .arg("--test")
        .arg(fixture("test"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("min_owner_frames"), "{}", text(&out));
}
