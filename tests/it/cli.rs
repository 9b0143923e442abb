//! The `vigil` binary end to end: config errors, model checks, headless runs.

use std::process::Command;

use crate::support::{repo, text};

fn vigil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.env_remove("VIGIL_CONFIG").env_remove("VIGIL_MODELS");
    c.env("RUST_LOG", "warn");
    c
}

#[test]
fn unknown_config_key_is_named_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("v.toml");
    std::fs::write(&cfg, "[pipeline]\nchanel_capacity = 2\n").unwrap();
    let out = vigil()
        .args(["run", "--headless", "--source", "demo", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("chanel_capacity"), "{}", text(&out));
}

#[test]
fn bad_config_value_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("v.toml");
    std::fs::write(&cfg, "[scene]\nevery_n_frames = -3\n").unwrap();
    let out = vigil()
        .args(["models", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("scene.every_n_frames"),
        "{}",
        text(&out)
    );
}

#[test]
fn runs_headless_with_no_config_file_and_writes_json_events() {
    let cwd = tempfile::tempdir().unwrap();
    let events = cwd.path().join("events.jsonl");
    // Outside a checkout the models come from $VIGIL_MODELS (or the installed
    // location): the binary carries no build-machine path.
    let out = vigil()
        .current_dir(cwd.path())
        .env("VIGIL_MODELS", repo("models"))
        .args(["run", "--headless", "--max-frames", "3", "--source"])
        .arg(format!("dir:{}", repo("tests/fixtures/frames").display()))
        .arg("--events")
        .arg(&events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let lines = std::fs::read_to_string(&events).unwrap();
    let parsed: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let frames = parsed.iter().filter(|v| v["event"] == "frame").count();
    assert_eq!(frames, 3);
    let summary = parsed.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["summary"]["frames_presented"], 3);
}

#[test]
fn missing_ffmpeg_is_a_clear_error() {
    let out = vigil()
        .env("PATH", "/nonexistent")
        .args(["run", "--headless", "--source"])
        .arg(format!(
            "video:{}",
            repo("tests/fixtures/clip_12f_160x90.mp4").display()
        ))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("ffprobe"), "{}", text(&out));
    assert!(text(&out).contains("not installed"), "{}", text(&out));
}

#[test]
fn models_command_checks_every_model() {
    let out = vigil().arg("models").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    for f in [
        "pnet.onnx",
        "rnet.onnx",
        "onet.onnx",
        "fer_mini_xception.onnx",
    ] {
        assert!(t.contains(&format!("OK    {f}")), "{t}");
    }
}

#[test]
fn altered_model_is_rejected_by_checksum() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo("models")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::os::unix::fs::symlink(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let pnet = dir.path().join("pnet.onnx");
    let mut bytes = std::fs::read(&pnet).unwrap();
    std::fs::remove_file(&pnet).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&pnet, &bytes).unwrap();

    let out = vigil()
        .arg("models")
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("FAIL  pnet.onnx"), "{t}");
    assert!(t.contains("altered or is corrupt"), "{t}");
    assert!(t.contains("OK    rnet.onnx"), "{t}");

    // The run refuses to start with a truncated model, naming it (the
    // detector's pnet.onnx is put back first: the run checks it before the scene model).
    std::fs::remove_file(&pnet).unwrap();
    std::os::unix::fs::symlink(repo("models/pnet.onnx"), &pnet).unwrap();
    let scene = dir.path().join("mobilenet_v2_torchvision.onnx");
    let head = std::fs::read(&scene).unwrap()[..4096].to_vec();
    std::fs::remove_file(&scene).unwrap();
    std::fs::write(&scene, head).unwrap();
    let out = vigil()
        .env("VIGIL_MODELS", dir.path())
        .args(["run", "--headless", "--source", "demo", "--max-frames", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("mobilenet_v2_torchvision.onnx"),
        "{}",
        text(&out)
    );
}

#[test]
fn missing_model_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = vigil()
        .arg("models")
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("missing or unreadable"), "{t}");
    assert!(t.contains("mobilenet_v2_torchvision.onnx"), "{t}");
}

#[test]
fn enrollment_with_no_face_in_any_frame_enrolls_nothing() {
    let frames = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo("tests/fixtures/detect/coffee_320x213.jpg"),
        frames.path().join("coffee.jpg"),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let out = vigil()
        .env("VIGIL_STATE_DIR", state.path())
        .arg("enroll")
        .args(["--name", "alice", "--source"])
        .arg(format!("dir:{}", frames.path().display()))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("nothing enrolled"), "{}", text(&out));
    // No gallery was written: nobody is enrolled, nothing can unlock.
    assert!(!state.path().join("gallery.json").exists());
}
