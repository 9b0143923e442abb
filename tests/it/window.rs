//! The overlay window under a virtual X server (Xvfb): it opens, shows frames
//! and the run ends cleanly. Set VIGIL_SKIP_WINDOW_TEST=1 where no Xvfb can run.

#![cfg(feature = "window")]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Xvfb(Child);

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_xvfb() -> Option<(Xvfb, String)> {
    // A display number unlikely to clash with a parallel test run.
    let display = format!(":{}", 90 + std::process::id() % 100);
    let child = Command::new("Xvfb")
        .args([
            display.as_str(),
            "-screen",
            "0",
            "800x600x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(700));
    Some((Xvfb(child), display))
}

#[test]
fn window_shows_the_demo_and_exits_cleanly() {
    if std::env::var_os("VIGIL_SKIP_WINDOW_TEST").is_some() {
        eprintln!("skipped: VIGIL_SKIP_WINDOW_TEST is set");
        return;
    }
    let (_x, display) =
        start_xvfb().expect("Xvfb is needed for this test (dev/install-deps.sh installs it)");
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .env("DISPLAY", &display)
        .env("RUST_LOG", "info")
        .env_remove("VIGIL_CONFIG")
        .args(["run", "--source", "demo", "--max-frames", "12"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // The window path ran: no headless fallback, and the presenter drew frames.
    assert!(!err.contains("running headless"), "{err}");
    let present = err
        .lines()
        .find(|l| l.trim_start().starts_with("present"))
        .unwrap_or_default()
        .to_string();
    assert!(present.contains("processed     12"), "{err}");
    // No events on stdout without --events or --headless.
    assert!(out.stdout.is_empty());
}
