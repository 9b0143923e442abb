//! `vigil eval unlock` through the binary on clips made from the verify
//! fixtures: the owner enrolled from one part of the webcam clip unlocks in
//! an attempt cut from another part; a stranger and a still photo of the owner
//! do not; a sweep writes its plot.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify")
        .join(name)
}

/// The frames of a fixture folder as an H.264 clip at 25 FPS.
fn clip_of(folder: &str, out: &Path) {
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-framerate",
            "25",
            "-pattern_type",
            "glob",
            "-i",
        ])
        .arg(fixtures(folder).join("*.jpg"))
        .args([
            "-vf",
            "scale=trunc(iw/2)*2:trunc(ih/2)*2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not make {}", out.display());
}

#[test]
fn owner_attempts_unlock_strangers_and_a_still_photo_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (folder, name) in [("enroll", "enroll.mp4"), ("owner", "owner.mp4")] {
        clip_of(folder, &d.join(name));
    }
    std::fs::create_dir_all(d.join("strangers")).unwrap();
    clip_of("stranger", &d.join("strangers/stranger.mp4"));
    std::fs::create_dir_all(d.join("spoofs")).unwrap();
    let photo = std::fs::read_dir(fixtures("owner"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i"])
        .arg(&photo)
        .args([
            "-t",
            "7",
            "-vf",
            "noise=alls=4:allf=t",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(d.join("spoofs/still.mp4"))
        .status()
        .unwrap();
    assert!(status.success());
    let png = d.join("sweep.png");
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "eval",
            "unlock",
            "--json",
            "--enroll-s",
            "1",
            "--enroll-frames",
            "15",
        ])
        .args(["--attempt-s", "1.2", "--step-s", "5"])
        .arg("--enroll")
        .arg(d.join("enroll.mp4"))
        .arg("--owner")
        .arg(d.join("owner.mp4"))
        .arg("--strangers")
        .arg(d.join("strangers"))
        .arg("--spoofs")
        .arg(d.join("spoofs"))
        .args(["--sweep", "liveness.min_parallax=1.0", "--plot"])
        .arg(&png)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let g = &v["genuine"];
    assert_eq!(g["attempts"], 1, "{stdout}");
    assert_eq!(g["per_attempt"][0]["recognised"], true, "{stdout}");
    assert_eq!(
        g["unlocked"], 1,
        "the owner did not unlock: {stdout}\n{stderr}"
    );
    let t = g["time_to_unlock_p50_s"].as_f64().unwrap();
    assert!(t > 0.0 && t <= 1.2, "{t}");
    assert_eq!(v["strangers"]["attempts"], 1);
    assert_eq!(v["strangers"]["unlocked"], 0, "{stdout}");
    assert_eq!(v["strangers"]["per_attempt"][0]["recognised"], false);
    let s = &v["spoofs"];
    assert_eq!(s["attempts"], 1);
    assert_eq!(s["per_attempt"][0]["recognised"], true, "{stdout}");
    assert_eq!(s["unlocked"], 0, "a still photo unlocked: {stdout}");
    assert!(s["liveness_failed"].as_u64().unwrap() >= 1, "{stdout}");
    assert!(s["failed_cue_medians"]["parallax"].as_f64().is_some());
    // An impossible parallax threshold: nobody passes liveness.
    assert_eq!(v["sweep_key"], "liveness.min_parallax");
    assert_eq!(v["sweep"][0]["genuine_rate"], 0.0, "{stdout}");
    assert_eq!(v["sweep"][0]["spoof_rate"], 0.0);
    let img = image::open(&png).unwrap();
    assert!(img.width() >= 600);
}

#[test]
fn missing_clips_and_bad_flags_are_clear_errors() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["eval", "unlock"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = run(&[
        "--owner",
        "/nonexistent/o.mp4",
        "--enroll",
        "/nonexistent/e.mp4",
    ]);
    assert!(e.contains("/nonexistent"), "{e}");
    let e = run(&["--owner", "x.mp4"]);
    assert!(e.contains("--enroll") || e.contains("no such file"), "{e}");
    let e = run(&["--owner", "x.mp4", "--enroll", "y.mp4", "--sweep", "k=a"]);
    assert!(e.contains("not a number"), "{e}");
}
