//! The MQTT outlet against a real Mosquitto broker (no mocks): discovery,
//! availability and the Last Will, events of real runs, outages and the
//! spool, credentials, TLS, config errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{repo, text, wait_until, Broker, Subscriber, WAIT};

/// A run's scratch: config file, state dir and events file.
struct Setup {
    dir: tempfile::TempDir,
    device: String,
}

impl Setup {
    /// `[mqtt]` pointing at `url` as device `device`, plus `extra` lines in it.
    fn new(url: &str, device: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cfg = format!("[mqtt]\nurl = \"{url}\"\ndevice_id = \"{device}\"\n{extra}");
        std::fs::write(dir.path().join("v.toml"), cfg).unwrap();
        std::fs::create_dir(dir.path().join("state")).unwrap();
        Setup {
            dir,
            device: device.into(),
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("v.toml")
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn vigil(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
        c.env_remove("VIGIL_CONFIG")
            .env_remove("VIGIL_MODELS")
            .env("RUST_LOG", "warn")
            .env("VIGIL_STATE_DIR", self.state())
            .arg("--config")
            .arg(self.config());
        c
    }

    /// `vigil run --headless` on the 12-frame clip, events into `events-<n>.jsonl`.
    fn run_clip(&self, n: u32) -> (Output, PathBuf) {
        let events = self.dir.path().join(format!("events-{n}.jsonl"));
        let out = self
            .vigil()
            .args(["run", "--headless", "--source"])
            .arg(format!(
                "video:{}",
                repo("tests/fixtures/clip_12f_160x90.mp4").display()
            ))
            .arg("--events")
            .arg(&events)
            .output()
            .unwrap();
        (out, events)
    }

    /// `vigil run --headless --realtime --loop --source demo` until
    /// [`Setup::interrupt`], events into `events-<n>.jsonl`, logs into
    /// `log-<n>.txt`.
    fn spawn_live(&self, n: u32) -> (std::process::Child, PathBuf) {
        let events = self.dir.path().join(format!("events-{n}.jsonl"));
        let log = std::fs::File::create(self.dir.path().join(format!("log-{n}.txt"))).unwrap();
        let child = self
            .vigil()
            .args([
                "run",
                "--headless",
                "--realtime",
                "--loop",
                "--source",
                "demo",
            ])
            .arg("--events")
            .arg(&events)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        (child, events)
    }

    /// Stops a [`Setup::spawn_live`] run with SIGINT (a clean end: summary,
    /// outlets closed), checks it succeeded and returns its log.
    fn interrupt(&self, mut child: std::process::Child, n: u32) -> String {
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let status = child.wait().unwrap();
        let log = std::fs::read_to_string(self.dir.path().join(format!("log-{n}.txt"))).unwrap();
        assert!(status.success(), "{status:?}: {log}");
        log
    }

    fn topic(&self, rest: &str) -> String {
        format!("vigil/{}/{rest}", self.device)
    }
}

/// The non-frame events of a local JSON-lines file, as (event, seq).
fn local_events(path: &Path) -> Vec<(String, Option<u64>)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["event"] != "frame")
        .map(|v| (v["event"].as_str().unwrap().to_string(), v["seq"].as_u64()))
        .collect()
}

/// Non-frame events written so far by a running vigil (a line being
/// written is not counted).
fn made_so_far(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] != "frame")
        .count()
}

/// Events received for `device`, de-duplicated by id (first kept), as
/// (event, seq), checking each topic names its event's kind.
fn received_events(lines: &[(String, String)], device: &str) -> Vec<(String, Option<u64>)> {
    let prefix = format!("vigil/{device}/event/");
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (topic, payload) in lines {
        let Some(kind) = topic.strip_prefix(&prefix) else {
            continue;
        };
        let v: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(v["event"], kind, "{topic}");
        assert_eq!(v["device"], device);
        assert_eq!(v["v"], 1);
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        assert!(v["event_type"].is_string());
        assert!(v.get("embedding").is_none() && !payload.contains("descriptor"));
        if seen.insert(v["id"].as_str().unwrap().to_string()) {
            out.push((kind.to_string(), v["seq"].as_u64()));
        }
    }
    out
}

#[test]
fn mqtt_run_publishes_discovery_state_availability_and_every_event() {
    let broker = Broker::start();
    let sub = Subscriber::start(broker.port, &["vigil/#", "homeassistant/#"], &[]);
    let s = Setup::new(&broker.url(), "itrun", "");
    let (out, events) = s.run_clip(1);
    assert!(out.status.success(), "{}", text(&out));
    let expected = local_events(&events);
    assert!(expected.len() >= 3, "{expected:?}");
    let offline = s.topic("availability");
    let lines = sub.wait(|l| l.iter().any(|(t, p)| *t == offline && p == "offline"));

    // Discovery: valid JSON naming the entities; no command topic.
    let (_, disc) = lines
        .iter()
        .find(|(t, _)| t == "homeassistant/device/vigil_itrun/config")
        .expect("discovery message");
    let d: Value = serde_json::from_str(disc).unwrap();
    for c in [
        "lock", "person", "faces", "emotion", "alert", "lockout", "verify", "mood",
    ] {
        assert!(d["cmps"][c]["p"].is_string(), "{c} in {disc}");
    }
    assert_eq!(d["cmps"]["lock"]["p"], "binary_sensor");
    assert_eq!(d["cmps"]["lock"]["dev_cla"], "lock");
    assert_eq!(d["avty_t"], s.topic("availability"));
    assert!(!disc.contains("cmd_t"));

    // Availability: online (after discovery and state), offline at the end.
    let avail: Vec<&str> = lines
        .iter()
        .filter(|(t, _)| *t == offline)
        .map(|(_, p)| p.as_str())
        .collect();
    assert_eq!(avail, ["online", "offline"]);
    let pos = |pred: &dyn Fn(&(String, String)) -> bool| lines.iter().position(pred).unwrap();
    let online_at = pos(&|(t, p)| *t == offline && p == "online");
    assert!(pos(&|(t, _)| t.starts_with("homeassistant/device/")) < online_at);
    assert!(pos(&|(t, _)| *t == s.topic("state")) < online_at);
    let state: Value = serde_json::from_str(
        &lines
            .iter()
            .rev()
            .find(|(t, _)| *t == s.topic("state"))
            .unwrap()
            .1,
    )
    .unwrap();
    for k in [
        "lock", "person", "faces", "emotion", "alert", "lockout", "ts",
    ] {
        assert!(state.get(k).is_some(), "{k} in {state}");
    }

    // Events: the local stream's, same order and seq, no frames.
    assert_eq!(received_events(&lines, "itrun"), expected);
    assert!(!lines.iter().any(|(t, _)| t.ends_with("/event/frame")));
    // Retained: a late subscriber gets discovery, state and availability.
    let late = Subscriber::start(
        broker.port,
        &["vigil/itrun/availability", "vigil/itrun/state"],
        &[],
    );
    let got = late.wait(|l| l.len() >= 2);
    assert!(
        got.iter().any(|(t, p)| *t == offline && p == "offline"),
        "{got:?}"
    );
}

#[test]
fn mqtt_last_will_says_offline_when_vigil_is_killed() {
    let broker = Broker::start();
    let sub = Subscriber::start(broker.port, &["vigil/+/availability"], &[]);
    let s = Setup::new(&broker.url(), "itwill", "[capture]\nreplay_fps = 5.0\n");
    // A replay paced at 5 FPS over 300 frames: a minute, far longer than the test.
    let frames = s.dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    for i in 0..300 {
        let src = repo(&format!("tests/fixtures/frames/0{}.png", i % 3 + 1));
        std::os::unix::fs::symlink(src, frames.join(format!("{i:04}.png"))).unwrap();
    }
    let mut child = s
        .vigil()
        .args([
            "run",
            "--headless",
            "--realtime",
            "--events",
            "/dev/null",
            "--source",
        ])
        .arg(format!("dir:{}", frames.display()))
        .spawn()
        .unwrap();
    let topic = s.topic("availability");
    let lines = sub.wait(|l| l.iter().any(|(t, p)| *t == topic && p == "online"));
    assert!(
        lines.iter().any(|(t, p)| *t == topic && p == "online"),
        "{lines:?}"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let lines = sub.wait(|l| l.iter().any(|(t, p)| *t == topic && p == "offline"));
    let avail: Vec<&str> = lines
        .iter()
        .filter(|(t, _)| *t == topic)
        .map(|(_, p)| p.as_str())
        .collect();
    assert_eq!(avail, ["online", "offline"], "{}", broker.log());
}

#[test]
fn mqtt_events_made_while_the_broker_is_down_arrive_once_in_order_after_restart() {
    let mut broker = Broker::persistent("");
    let s = Setup::new(&broker.url(), "itspool", "");
    // A persistent subscriber session (kept by the broker across its restart).
    let sub = Subscriber::start(
        broker.port,
        &["vigil/itspool/event/#"],
        &["-c", "-i", "itspool-sub"],
    );
    drop(sub);
    broker.stop();

    // Run 1: the broker is down. The run completes; its events are spooled.
    let (out1, ev1) = s.run_clip(1);
    assert!(out1.status.success(), "{}", text(&out1));
    let log1 = text(&out1);
    assert!(log1.contains("connection refused"), "{log1}");
    assert!(log1.contains("left in the spool"), "{log1}");
    let spool = s.state().join("mqtt-spool");
    assert!(std::fs::read_dir(&spool).unwrap().count() > 0);

    // The broker returns with the subscriber's session; run 2 delivers run
    // 1's spool first, then its own events.
    broker.restart();
    let sub = Subscriber::start(
        broker.port,
        &["vigil/itspool/event/#"],
        &["-c", "-i", "itspool-sub"],
    );
    let (out2, ev2) = s.run_clip(2);
    assert!(out2.status.success(), "{}", text(&out2));
    assert!(text(&out2).contains("spool empty"), "{}", text(&out2));
    let mut expected = local_events(&ev1);
    expected.extend(local_events(&ev2));
    let lines = sub.wait(|l| received_events(l, "itspool").len() >= expected.len());
    assert_eq!(received_events(&lines, "itspool"), expected);
}

/// Whether `broker`'s log shows client `id` connected (the log restarts with
/// the broker).
fn connected(broker: &Broker, id: &str) -> bool {
    broker.log().contains(&format!(" as {id} "))
}

#[test]
fn mqtt_broker_killed_and_restarted_mid_run_loses_no_event() {
    let mut broker = Broker::persistent("");
    let s = Setup::new(&broker.url(), "itbounce", "");
    // A persistent session: the broker keeps it (and what is queued for it)
    // across its restart; mosquitto_sub reconnects by itself.
    let sub = Subscriber::start(
        broker.port,
        &["vigil/itbounce/event/#"],
        &["-c", "-i", "itbounce-sub"],
    );
    let (child, events) = s.spawn_live(1);
    assert!(
        wait_until(WAIT, || connected(&broker, "vigil-itbounce")),
        "{}",
        broker.log()
    );
    // Let events flow, then take the broker away for a few seconds mid-run.
    let first = sub.wait(|l| !received_events(l, "itbounce").is_empty());
    assert!(!received_events(&first, "itbounce").is_empty());
    std::thread::sleep(std::time::Duration::from_secs(2));
    broker.stop();
    let before = made_so_far(&events);
    // Down until the run has made events the broker cannot take.
    assert!(wait_until(WAIT, || made_so_far(&events) > before));
    std::thread::sleep(std::time::Duration::from_secs(2));
    broker.restart();
    // Vigil reconnects (back-off) and delivers its spool; then the run ends.
    assert!(
        wait_until(WAIT, || connected(&broker, "vigil-itbounce")),
        "{}",
        broker.log()
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let log = s.interrupt(child, 1);
    // The outage was seen, and the spool delivered by the end.
    assert!(log.contains("events are spooled"), "{log}");
    assert!(log.contains("spool empty"), "{log}");
    let expected = local_events(&events);
    assert!(expected.iter().any(|(k, _)| k == "summary"), "{expected:?}");
    let lines = sub.wait(|l| received_events(l, "itbounce").len() >= expected.len());
    // The local stream's order (stages report at their own pace, so `seq`
    // alone is not monotonic; a loop starts it again), each event once.
    assert_eq!(
        received_events(&lines, "itbounce"),
        expected,
        "{}",
        broker.log()
    );
}

#[test]
fn mqtt_two_mosquitto_bridged_on_loopback_survive_a_central_restart() {
    let mut central = Broker::persistent("");
    // The vehicle's broker: cross/mqtt/bridge.conf in plain TCP on loopback.
    let vehicle = Broker::persistent(&format!(
        "connection vigil-central\naddress 127.0.0.1:{}\nremote_clientid vigil-bridge-itbridge\n\
         bridge_protocol_version mqttv311\ncleansession false\ntopic vigil/# out 1\n\
         max_queued_messages 100000\nrestart_timeout 1 2\n",
        central.port
    ));
    assert!(
        wait_until(WAIT, || connected(&central, "vigil-bridge-itbridge")),
        "{}",
        vehicle.log()
    );
    let sub = Subscriber::start(
        central.port,
        &["vigil/itbridge/event/#"],
        &["-c", "-i", "itbridge-sub"],
    );
    let s = Setup::new(&vehicle.url(), "itbridge", "");
    let (child, events) = s.spawn_live(1);
    let first = sub.wait(|l| !received_events(l, "itbridge").is_empty());
    assert!(!received_events(&first, "itbridge").is_empty());
    std::thread::sleep(std::time::Duration::from_secs(2));
    central.stop();
    let before = made_so_far(&events);
    // Down until the run has made events the vehicle broker must queue.
    assert!(wait_until(WAIT, || made_so_far(&events) > before));
    std::thread::sleep(std::time::Duration::from_secs(2));
    central.restart();
    assert!(
        wait_until(WAIT, || connected(&central, "vigil-bridge-itbridge")),
        "{}",
        vehicle.log()
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let log = s.interrupt(child, 1);
    // Vigil never lost its own broker.
    assert!(log.contains("spool empty"), "{log}");
    let expected = local_events(&events);
    assert!(expected.iter().any(|(k, _)| k == "summary"), "{expected:?}");
    let lines = sub.wait(|l| received_events(l, "itbridge").len() >= expected.len());
    let got = received_events(&lines, "itbridge");
    assert_eq!(
        got,
        expected,
        "vehicle:\n{}\ncentral:\n{}",
        vehicle.log(),
        central.log()
    );
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn mqtt_snapshot_of_an_unknown_face_is_a_jpeg_only_when_enabled() {
    let broker = Broker::start();
    for (device, on) in [("itsnapon", true), ("itsnapoff", false)] {
        // Payloads in hex (`%x`): JPEGs hold newlines.
        let sub = Subscriber::start(
            broker.port,
            &[
                &format!("vigil/{device}/#"),
                &format!("homeassistant/device/vigil_{device}/config"),
            ],
            &["-F", "%t %x"],
        );
        let s = Setup::new(&broker.url(), device, &format!("snapshots = {on}\n"));
        // Nobody is enrolled: every face of the clip is unknown once decided.
        let (out, events) = s.run_clip(1);
        assert!(out.status.success(), "{}", text(&out));
        let unknown = std::fs::read_to_string(&events)
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"identity\":\"unknown\""))
            .count();
        assert!(unknown >= 1, "no unknown identity in the clip");
        let offline = s.topic("availability");
        let lines = sub.wait(|l| {
            l.iter()
                .any(|(t, p)| *t == offline && unhex(p) == b"offline")
        });
        let snap_topic = s.topic("snapshot/unknown");
        let snaps: Vec<Vec<u8>> = lines
            .iter()
            .filter(|(t, _)| *t == snap_topic)
            .map(|(_, p)| unhex(p))
            .collect();
        let (_, disc) = lines
            .iter()
            .find(|(t, _)| t.starts_with("homeassistant/"))
            .expect("discovery");
        let d: Value = serde_json::from_slice(&unhex(disc)).unwrap();
        if on {
            // One per unknown track at most (none for a track gone by then).
            assert!(
                !snaps.is_empty() && snaps.len() <= unknown,
                "{} snapshot(s), {unknown} unknown",
                snaps.len()
            );
            for jpeg in &snaps {
                assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "JPEG SOI");
                let img = image::load_from_memory(jpeg).unwrap();
                assert!(img.width() >= 8 && img.height() >= 8);
            }
            assert_eq!(d["cmps"]["unknown_face"]["p"], "image");
            assert_eq!(d["cmps"]["unknown_face"]["image_topic"], snap_topic);
            assert_eq!(d["cmps"]["unknown_face"]["content_type"], "image/jpeg");
        } else {
            assert!(snaps.is_empty());
            assert!(d["cmps"].get("unknown_face").is_none());
        }
    }
}

fn passwd_broker() -> (Broker, PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let pw = dir.join("passwd");
    let ok = Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&pw)
        .args(["vigil", "s3cret-pw"])
        .status()
        .unwrap();
    assert!(ok.success());
    let broker = Broker::with(&format!(
        "allow_anonymous false\npersistence false\npassword_file {}\n",
        pw.display()
    ));
    (broker, dir)
}

fn password_file(dir: &Path, name: &str, password: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

#[test]
fn mqtt_username_and_password() {
    let (broker, dir) = passwd_broker();
    let sub_dir = tempfile::tempdir().unwrap();
    let good = password_file(sub_dir.path(), "good", "s3cret-pw", 0o600);
    let bad = password_file(sub_dir.path(), "bad", "wrong-pw", 0o600);
    let open = password_file(sub_dir.path(), "open", "s3cret-pw", 0o644);
    let cfg = |pw: &Path| {
        format!(
            "username = \"vigil\"\npassword_file = \"{}\"\n",
            pw.display()
        )
    };

    // Right password: connects and delivers.
    let s = Setup::new(&broker.url(), "itauth", &cfg(&good));
    let check = s.vigil().args(["mqtt", "check"]).output().unwrap();
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("OK: connected"), "{}", text(&check));
    let (out, _) = s.run_clip(1);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("spool empty"), "{}", text(&out));

    // Wrong password: a clear failure, logged; the run still completes.
    let s = Setup::new(&broker.url(), "itauth2", &cfg(&bad));
    let check = s.vigil().args(["mqtt", "check"]).output().unwrap();
    assert!(!check.status.success());
    assert!(
        text(&check).contains("FAIL authentication"),
        "{}",
        text(&check)
    );
    let (out, events) = s.run_clip(1);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("authentication failure"), "{t}");
    assert!(!t.contains("wrong-pw") && !t.contains("s3cret"), "{t}");
    assert!(!local_events(&events).is_empty());
    // Logged once per state change, not once per retry.
    assert_eq!(t.matches("authentication failure").count(), 1, "{t}");

    // A password file others can read is refused, naming the key.
    let s = Setup::new(&broker.url(), "itauth3", &cfg(&open));
    let (out, _) = s.run_clip(1);
    assert!(!out.status.success());
    assert!(text(&out).contains("mqtt.password_file"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mqtt_over_tls_with_a_test_ca() {
    let pki = tempfile::tempdir().unwrap();
    let p = |f: &str| pki.path().join(f);
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(pki.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", text(&out));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Vigil test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.pem",
        "-extfile",
        "ext.cnf",
    ]);
    let broker = Broker::with(&format!(
        "allow_anonymous true\npersistence false\ncafile {}\ncertfile {}\nkeyfile {}\n",
        p("ca.pem").display(),
        p("server.pem").display(),
        p("server.key").display()
    ));
    let url = format!("mqtts://localhost:{}", broker.port);
    let sub_ca = p("ca.pem");
    let s = Setup::new(
        &url,
        "ittls",
        &format!("ca_file = \"{}\"\n", sub_ca.display()),
    );
    let check = s.vigil().args(["mqtt", "check"]).output().unwrap();
    assert!(check.status.success(), "{}\n{}", text(&check), broker.log());
    let (out, _) = s.run_clip(1);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("spool empty"), "{}", text(&out));

    // The system's roots do not know the test CA: a TLS failure, named.
    let s = Setup::new(&url, "ittls2", "");
    let check = s.vigil().args(["mqtt", "check"]).output().unwrap();
    assert!(!check.status.success());
    assert!(text(&check).contains("FAIL TLS"), "{}", text(&check));
}

#[test]
fn mqtt_check_reports_a_refused_connection_and_bad_config_is_named() {
    let port = crate::support::free_port();
    let s = Setup::new(&format!("mqtt://127.0.0.1:{port}"), "itcheck", "");
    let check = s.vigil().args(["mqtt", "check"]).output().unwrap();
    assert!(!check.status.success());
    assert!(
        text(&check).contains("FAIL connection refused"),
        "{}",
        text(&check)
    );

    let s = Setup::new("mqtt://no-such-host.invalid:1883", "itcheck", "");
    let check = s.vigil().args(["mqtt", "check"]).output().unwrap();
    assert!(!check.status.success());
    assert!(text(&check).contains("FAIL DNS"), "{}", text(&check));

    for (url, device, key) in [
        ("mqtt//broken", "ok", "mqtt.url"),
        ("tcp://host:1883", "ok", "mqtt.url"),
        ("mqtt://127.0.0.1:1883", "a/b", "mqtt.device_id"),
        ("mqtt://127.0.0.1:1883", "van#1", "mqtt.device_id"),
    ] {
        let s = Setup::new(url, device, "");
        for args in [
            &["mqtt", "check"][..],
            &["run", "--headless", "--source", "demo"][..],
        ] {
            let out = s.vigil().args(args).output().unwrap();
            assert!(!out.status.success(), "{url} {device}");
            assert!(text(&out).contains(key), "{key}: {}", text(&out));
        }
    }
    assert!(wait_until(WAIT, || true));
}

#[test]
fn mqtt_the_owner_unlocking_on_a_real_clip_reaches_the_broker() {
    let broker = Broker::start();
    let sub = Subscriber::start(broker.port, &["vigil/#"], &[]);
    // The scene head needs more enrolment frames than the fixture has.
    let s = Setup::new(&broker.url(), "itowner", "[scene]\nenabled = false\n");
    // Enrolled from one part of the owner's webcam clip, shown another part.
    let out = s
        .vigil()
        .args(["enroll", "--name", "owner", "--source"])
        .arg(format!(
            "dir:{}",
            repo("tests/fixtures/verify/enroll").display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let events = s.dir.path().join("owner.jsonl");
    let out = s
        .vigil()
        .args(["run", "--headless", "--source"])
        .arg(format!(
            "dir:{}",
            repo("tests/fixtures/verify/owner").display()
        ))
        .arg("--events")
        .arg(&events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let local = std::fs::read_to_string(&events).unwrap();
    assert!(
        local.contains("\"verify\":\"unlocked\""),
        "the owner did not unlock locally: {local}"
    );
    let topic = s.topic("event/verify");
    let lines = sub.wait(|l| {
        l.iter()
            .any(|(t, p)| *t == topic && p.contains("\"verify\":\"unlocked\""))
    });
    let (_, unlocked) = lines
        .iter()
        .find(|(t, p)| *t == topic && p.contains("\"verify\":\"unlocked\""))
        .unwrap();
    let e: Value = serde_json::from_str(unlocked).unwrap();
    assert_eq!(e["name"], "owner", "{e}");
    assert_eq!(e["device"], "itowner");
    // No biometric data on the bus.
    assert!(!lines.iter().any(|(_, p)| p.contains("embedding")));
}
