//! The live view and API against a running `vigil run --http`: real HTTP
//! requests over loopback (a plain std TCP client, so the bytes on the wire
//! are what is checked), the MJPEG stream parsed part by part, the viewer
//! cap, the token, and hostile requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::streams::VigilRun;
use crate::support::{free_port, wait_until, WAIT};

/// A run of the looped demo in real time with the server on `port`.
fn serve(port: u16, extra_config: &str) -> (VigilRun, tempfile::TempDir) {
    serve_source(port, "demo", extra_config)
}

/// A real-time looped run of `source` with the server on `port`; its
/// config is `http.toml` in the returned directory.
fn serve_source(port: u16, source: &str, extra_config: &str) -> (VigilRun, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("http.toml");
    std::fs::write(
        &cfg,
        format!("[http]\nbind = \"127.0.0.1:{port}\"\n{extra_config}"),
    )
    .unwrap();
    let run = VigilRun::start(&[
        "--config",
        cfg.to_str().unwrap(),
        "--source",
        source,
        "--realtime",
        "--loop",
    ]);
    assert!(
        wait_until(WAIT, || get(port, "/healthz", &[]).map(|r| r.0)
            == Some(200)),
        "server not healthy: {}",
        run.log()
    );
    (run, dir)
}

/// Polls `GET /api/enroll` until the enrolment ends; its last status.
fn enrolment_end(port: u16, run: &VigilRun) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    assert!(
        wait_until(WAIT * 2, || {
            last = send_json(port, "GET", "/api/enroll", &[], "").1;
            last["state"] == "done" || last["state"] == "failed"
        }),
        "enrolment did not end: {last} {}",
        run.log()
    );
    last
}

/// One request; `(status, head, body)`, or `None` when nothing answered.
fn request(port: u16, raw: &[u8]) -> Option<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    s.write_all(raw).ok()?;
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let split = all.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, head, all[split + 4..].to_vec()))
}

fn get(port: u16, path: &str, headers: &[&str]) -> Option<(u16, String, Vec<u8>)> {
    let mut raw = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n");
    for h in headers {
        raw.push_str(h);
        raw.push_str("\r\n");
    }
    raw.push_str("\r\n");
    request(port, raw.as_bytes())
}

/// Reads `n` JPEG parts of an MJPEG stream; returns them.
fn mjpeg_parts(port: u16, path: &str, n: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    if !line.contains(" 200 ") {
        return Err(line);
    }
    let mut boundary = None;
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(b) = line
            .trim()
            .strip_prefix("Content-Type: multipart/x-mixed-replace; boundary=")
        {
            boundary = Some(b.to_string());
        }
    }
    let boundary = boundary.ok_or("no multipart boundary")?;
    let mut parts = Vec::new();
    while parts.len() < n {
        line.clear();
        r.read_line(&mut line).unwrap();
        assert_eq!(
            line.trim(),
            format!("--{boundary}"),
            "boundary before each part"
        );
        let mut len = None;
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.trim().strip_prefix("Content-Length: ") {
                len = v.parse::<usize>().ok();
            }
            if let Some(v) = line.trim().strip_prefix("Content-Type: ") {
                assert_eq!(v, "image/jpeg");
            }
        }
        let mut jpeg = vec![0; len.ok_or("no Content-Length")?];
        r.read_exact(&mut jpeg).unwrap();
        let mut crlf = [0; 2];
        r.read_exact(&mut crlf).unwrap();
        parts.push(jpeg);
    }
    Ok(parts)
}

#[test]
fn endpoints_answer_with_the_live_state() {
    let port = free_port();
    let (mut run, _dir) = serve(port, "stream_fps = 15.0\nstream_width = 320\n");

    let (status, head, body) = get(port, "/", &[]).unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("text/html"));
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("/api/stream.mjpeg") && page.contains("/api/state"));

    let (status, _, body) = get(port, "/api/state", &[]).unwrap();
    assert_eq!(status, 200);
    let state: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        state["lock"] == "locked" || state["lock"] == "unlocked",
        "{state}"
    );
    assert!(
        state.get("faces").is_some() && state.get("ts").is_some(),
        "{state}"
    );

    let parts = mjpeg_parts(port, "/api/stream.mjpeg?fps=10", 3).unwrap();
    for jpeg in &parts {
        let img = image::load_from_memory(jpeg).unwrap();
        assert_eq!(img.width(), 320, "stream_width");
    }
    let (status, head, jpeg) = get(port, "/api/snapshot.jpg?width=0", &[]).unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("image/jpeg"));
    let snap = image::load_from_memory(&jpeg).unwrap();
    assert_eq!(snap.width(), 640, "the overlay's own width");

    let (status, _, body) = get(port, "/metrics", &[]).unwrap();
    assert_eq!(status, 200);
    let metrics = String::from_utf8(body).unwrap();
    for name in [
        "vigil_frames_total{stage=\"detect\"}",
        "vigil_unlocks_total",
        "vigil_source_up 1",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
    let (status, _, body) = get(port, "/api/stats", &[]).unwrap();
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        stats["stages"].as_array().is_some_and(|s| s.len() >= 2),
        "{stats}"
    );

    // Server-sent events: the demo loops, so track events keep coming.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut r = BufReader::new(s);
    let mut saw_data = false;
    let t = Instant::now();
    let mut line = String::new();
    while !saw_data && t.elapsed() < WAIT {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(json) = line.strip_prefix("data: ") {
            let e: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
            assert_ne!(e["event"], "frame", "no per-frame events unless asked");
            saw_data = true;
        }
    }
    assert!(saw_data, "no server-sent event");
    assert!(run.interrupt(), "{}", run.log());
}

#[test]
fn bad_requests_get_their_status_and_never_stall_the_server() {
    let port = free_port();
    let (mut run, _dir) = serve(port, "");
    assert_eq!(get(port, "/nope", &[]).unwrap().0, 404);
    assert_eq!(
        request(
            port,
            b"POST /api/state HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap()
        .0,
        405
    );
    assert_eq!(
        request(
            port,
            b"POST /api/state HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"
        )
        .unwrap()
        .0,
        413
    );
    assert_eq!(
        request(port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
            .unwrap()
            .0,
        400
    );
    // Slow loris: half a request head, then silence: answered 408 and closed.
    let t = Instant::now();
    let r = request(port, b"GET /api/state HTTP/1.1\r\nHost: x\r\n");
    assert_eq!(r.map(|r| r.0), Some(408));
    assert!(t.elapsed() < Duration::from_secs(20));
    // A small fuzz loop: random bytes, then the server still answers.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..100 {
        let mut raw = Vec::new();
        for _ in 0..(seed % 300) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            raw.push(seed as u8);
        }
        raw.extend_from_slice(b"\r\n\r\n");
        let _ = request(port, &raw);
    }
    assert_eq!(get(port, "/healthz", &[]).unwrap().0, 200);
    assert!(run.interrupt(), "{}", run.log());
    let summary = &run.of("summary")[0]["summary"];
    // The pipeline went on while the server was pestered.
    assert!(
        summary["frames_captured"].as_u64().unwrap() > 10,
        "{summary}"
    );
}

#[test]
fn the_viewer_cap_and_the_token_hold() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret-token\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let port = free_port();
    let (mut run, _cfg) = serve(
        port,
        &format!("max_viewers = 1\ntoken_file = \"{}\"\n", token.display()),
    );
    assert_eq!(get(port, "/api/state", &[]).unwrap().0, 401);
    assert_eq!(
        get(port, "/api/state", &["Authorization: Bearer wrong"])
            .unwrap()
            .0,
        401
    );
    let auth = "Authorization: Bearer s3cret-token";
    assert_eq!(get(port, "/api/state", &[auth]).unwrap().0, 200);
    assert_eq!(get(port, "/healthz", &[]).unwrap().0, 200);
    let (status, head, _) = get(port, "/login?token=s3cret-token", &[]).unwrap();
    assert_eq!(status, 302);
    assert!(
        head.contains("Set-Cookie: vigil_token=s3cret-token"),
        "{head}"
    );
    assert_eq!(
        get(port, "/", &["Cookie: vigil_token=s3cret-token"])
            .unwrap()
            .0,
        200
    );

    // One viewer watches; a second gets 503.
    let mut first = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(first, "GET /api/stream.mjpeg HTTP/1.1\r\n{auth}\r\n\r\n").unwrap();
    let mut buf = [0u8; 64];
    first
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    first.read_exact(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf).contains(" 200 "));
    assert_eq!(get(port, "/api/stream.mjpeg", &[auth]).unwrap().0, 503);
    drop(first);
    assert!(run.interrupt(), "{}", run.log());
    assert!(
        !run.log().contains("s3cret-token"),
        "the token reached the log"
    );
}

#[test]
fn an_open_bind_without_a_token_is_refused_naming_http_token() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .env_remove("VIGIL_CONFIG")
        .env("VIGIL_MODELS", crate::support::models_dir())
        .args([
            "run",
            "--headless",
            "--source",
            "demo",
            "--http",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("http.token"), "{err}");
}

/// A request with a body; `(status, body as JSON)`.
fn send_json(
    port: u16,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> (u16, serde_json::Value) {
    let mut raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        raw.push_str(h);
        raw.push_str("\r\n");
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    let (status, _, body) = request(port, raw.as_bytes()).expect("an answer");
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    (status, json)
}

/// `vigil enroll ARGS` beside the run (same state directory: its socket).
fn enroll_beside(run: &VigilRun, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .env_remove("VIGIL_CONFIG")
        .env("VIGIL_MODELS", crate::support::repo("models"))
        .env("VIGIL_STATE_DIR", run.state_dir())
        .arg("enroll")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn endpoints_enrol_from_live_frames_then_the_same_run_unlocks() {
    let port = free_port();
    let owner = crate::support::repo("tests/fixtures/verify/owner");
    // The scene head needs more enrolment frames than the fixture has.
    let (run, _dir) = serve_source(
        port,
        &format!("dir:{}", owner.display()),
        "[scene]\nenabled = false\n",
    );
    let (status, people) = send_json(port, "GET", "/api/people", &[], "");
    assert_eq!(
        (status, people["people"].as_array().map(|a| a.len())),
        (200, Some(0))
    );

    // Refused: another origin, a bad name, a bad frame count, a wrong method.
    let (status, _) = send_json(
        port,
        "POST",
        "/api/enroll",
        &[
            "Origin: http://evil.example",
            "Content-Type: application/json",
        ],
        r#"{"name":"owner"}"#,
    );
    assert_eq!(status, 403);
    let json = ["Content-Type: application/json"];
    assert_eq!(
        send_json(port, "POST", "/api/enroll", &json, r#"{"name":"../x"}"#).0,
        400
    );
    assert_eq!(
        send_json(
            port,
            "POST",
            "/api/enroll",
            &json,
            r#"{"name":"a","frames":0}"#
        )
        .0,
        400
    );
    assert_eq!(
        send_json(port, "POST", "/api/enroll", &json, "{not json").0,
        400
    );
    assert_eq!(send_json(port, "PUT", "/api/enroll", &json, "").0, 405);
    assert_eq!(
        send_json(port, "DELETE", "/api/people/nobody", &[], "").0,
        404
    );

    // Enrol from the live frames (a form body, as a plain HTML form sends).
    let (status, started) = send_json(
        port,
        "POST",
        "/api/enroll",
        &["Origin: http://127.0.0.1:".to_string() + &port.to_string()]
            .iter()
            .map(|s| s.as_str())
            .chain(["Content-Type: application/x-www-form-urlencoded"])
            .collect::<Vec<_>>(),
        "name=owner&frames=60",
    );
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["state"], "running");
    assert_eq!(started["frames"], 60);
    // A second one while it runs is a conflict.
    assert_eq!(
        send_json(port, "POST", "/api/enroll", &json, r#"{"name":"other"}"#).0,
        409
    );
    let last = enrolment_end(port, &run);
    assert_eq!(last["state"], "done", "{last}");
    let kept = last["kept"].as_u64().unwrap();
    assert!((1..=10).contains(&kept), "{last}");
    assert!(!last.to_string().contains("embedding"));

    // The running verifier reloads the gallery and the owner unlocks.
    assert!(
        wait_until(WAIT * 2, || run
            .of("verify")
            .iter()
            .any(|e| e["verify"] == "unlocked" && e["name"] == "owner")),
        "no unlock after the enrolment: {:?}",
        run.of("verify")
    );
    assert!(run
        .of("verify")
        .iter()
        .any(|e| e["verify"] == "gallery_reloaded" && e["people"][0] == "owner"));
    // Progress and the end reached the event stream.
    let enrol_events = run.of("enroll");
    assert!(enrol_events.iter().any(|e| e["state"] == "running"));
    assert!(enrol_events
        .iter()
        .any(|e| e["state"] == "done" && e["name"] == "owner"));

    // `vigil enroll` beside the run asks it through the control socket.
    let out = enroll_beside(&run, &["--list"]);
    assert!(out.status.success(), "{}", crate::support::text(&out));
    assert!(crate::support::text(&out).contains("owner"));
    let out = enroll_beside(&run, &["--name", "second", "--frames", "20"]);
    let t = crate::support::text(&out);
    assert!(t.contains("from its live frames"), "{t}");
    assert!(out.status.success(), "{t}");
    let (status, people) = send_json(port, "GET", "/api/people", &[], "");
    assert_eq!(status, 200);
    let names: Vec<&str> = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["owner", "second"], "{people}");
    let (status, removed) = send_json(port, "DELETE", "/api/people/second", &[], "");
    assert_eq!(
        (status, &removed["removed"]["name"]),
        (200, &"second".into())
    );
    let out = enroll_beside(&run, &["--list"]);
    let t = crate::support::text(&out);
    assert!(t.contains("owner") && !t.contains("second"), "{t}");
}

#[test]
fn endpoints_enrol_gallery_matches_vigil_enroll_on_the_same_frames() {
    // The same frames through the same gates give the same templates. Made
    // comparable: a full detector scan on every frame (between scans the
    // live front looks near the track's prediction, which moves landmarks by
    // a pixel), every template kept (no cap, near-duplicates only when
    // identical), and one pass over the looped folder (15 frames).
    let port = free_port();
    let enroll = crate::support::repo("tests/fixtures/verify/enroll");
    let frames = std::fs::read_dir(&enroll).unwrap().count();
    let (run, dir) = serve_source(
        port,
        &format!("dir:{}", enroll.display()),
        "[scene]\nenabled = false\n[detect]\nfull_scan_every_n_frames = 1\n\
         [verify]\nenroll_templates = 100\nenroll_min_spacing = 0.001\n",
    );
    let cfg = dir.path().join("http.toml");
    let json = ["Content-Type: application/json"];
    let body = format!(r#"{{"name":"me","frames":{frames}}}"#);
    let (status, _) = send_json(port, "POST", "/api/enroll", &json, &body);
    assert_eq!(status, 202);
    let last = enrolment_end(port, &run);
    assert_eq!(last["state"], "done", "{last}");
    let live = std::fs::read_to_string(run.state_dir().join("gallery.json")).unwrap();

    let offline_state = dir.path().join("offline");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .env_remove("VIGIL_CONFIG")
        .env("VIGIL_MODELS", crate::support::repo("models"))
        .env("VIGIL_STATE_DIR", &offline_state)
        .args(["--config", cfg.to_str().unwrap()])
        .args(["enroll", "--name", "me", "--source"])
        .arg(format!("dir:{}", enroll.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::support::text(&out));
    let offline = std::fs::read_to_string(offline_state.join("gallery.json")).unwrap();
    let templates = |text: &str| -> Vec<Vec<f64>> {
        let g: serde_json::Value = serde_json::from_str(text).unwrap();
        g["gallery"]["people"][0]["templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                t["embedding"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect()
            })
            .collect()
    };
    let (live, offline) = (templates(&live), templates(&offline));
    // Live frames may be dropped (real time), so the live set is a subset.
    assert!(
        !live.is_empty() && live.len() <= offline.len(),
        "{} {}",
        live.len(),
        offline.len()
    );
    for t in &live {
        let nearest = offline
            .iter()
            .map(|o| {
                t.iter()
                    .zip(o)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt()
            })
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest < 1e-4,
            "a live template with no offline twin: {nearest}"
        );
    }
}
