//! `vigil eval verify` through the binary on four AT&T people
//! (tests/fixtures/identities): both embedding models, the lighting-stressed
//! variant, and a model/metric mismatch refused with the key named.

use std::path::Path;
use std::process::Command;

fn eval_verify(extra: &[&str]) -> std::process::Output {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/identities");
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["eval", "verify", "--json", "--identities"])
        .arg(&dir)
        .args(extra)
        .output()
        .unwrap()
}

fn report(extra: &[&str]) -> serde_json::Value {
    let out = eval_verify(extra);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[test]
fn each_model_separates_four_people_and_lighting_is_reported() {
    for (model, side, metric) in [("sface", 112, "cosine"), ("dlib", 150, "euclidean")] {
        let v = report(&["--model", model]);
        assert_eq!(v["model"], model);
        assert_eq!(v["chip_side"], side);
        assert_eq!(v["metric"], metric);
        assert_eq!(v["lighting"], "none");
        assert_eq!(v["identities"], 4);
        assert_eq!(v["fte"], 0);
        // 4 people x 4 images: 24 genuine and 96 impostor pairs, two folds
        assert_eq!(v["genuine_pairs"], 24);
        assert_eq!(v["impostor_pairs"], 96);
        assert!(v["eer"].as_f64().unwrap() < 0.05, "{model}: {v}");
    }
    // The hard-lighting variant runs and says so; every pair is still scored.
    let v = report(&["--model", "sface", "--lighting", "mixed"]);
    assert_eq!(v["lighting"], "mixed");
    let faces = 16 - v["fte"].as_u64().unwrap();
    assert!(faces >= 12, "{v}");
    let pairs = v["genuine_pairs"].as_u64().unwrap() + v["impostor_pairs"].as_u64().unwrap();
    assert_eq!(pairs, faces * (faces - 1) / 2);
}

#[test]
fn a_metric_the_model_does_not_suit_is_refused_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("vigil.toml");
    std::fs::write(
        &cfg,
        "[verify]\nmodel = \"sface\"\nmetric = \"euclidean\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("--config")
        .arg(&cfg)
        .args(["eval", "verify", "--identities", "/nonexistent"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("verify.metric"), "{err}");
}
