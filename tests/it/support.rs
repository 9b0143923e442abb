//! What several test modules share: fixture paths, the shipped models, and
//! an in-memory audit sink.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use vigil::models::ModelStore;
use vigil::verify::audit::{AuditError, AuditRecord, AuditSink};

/// `tests/fixtures/<rel>` (see its README for every file's origin).
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// `<repository root>/<rel>`.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A finished command's stdout and stderr, for assertion messages.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The shipped models directory of this checkout.
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// A store over the shipped models.
pub fn store() -> ModelStore {
    ModelStore::new(models_dir())
}

/// Audit records kept in memory, as JSON lines, shared with the test.
#[derive(Clone, Default)]
pub struct MemoryAudit(pub Arc<Mutex<Vec<String>>>);

impl AuditSink for MemoryAudit {
    fn record(&mut self, r: &AuditRecord) -> Result<(), AuditError> {
        self.0
            .lock()
            .unwrap()
            .push(serde_json::to_string(r).unwrap());
        Ok(())
    }
}

/// A real Mosquitto broker on a free loopback port, from a config written
/// into its own temp dir; killed by pid when dropped.
pub struct Broker {
    pub port: u16,
    pub dir: tempfile::TempDir,
    extra: String,
    child: Option<std::process::Child>,
}

/// Generous limit for anything the tests wait for (qemu is slow).
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `cond` every 50 ms until it holds or `limit` passes.
pub fn wait_until(limit: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    cond()
}

impl Broker {
    /// Anonymous, no persistence.
    pub fn start() -> Self {
        Self::with("allow_anonymous true\npersistence false\n")
    }

    /// Anonymous, with persistence in its own temp dir (kept across
    /// [`Broker::stop`] / [`Broker::restart`]), then `extra` config lines
    /// (e.g. a bridge's `connection` section, which must come last).
    pub fn persistent(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let conf = format!(
            "allow_anonymous true\npersistence true\npersistence_location {}/\n{extra}",
            dir.path().display()
        );
        let mut b = Broker {
            port: free_port(),
            dir,
            extra: conf,
            child: None,
        };
        b.restart();
        b
    }

    /// With `extra` config lines after the `listener` line.
    pub fn with(extra: &str) -> Self {
        let mut b = Broker {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            extra: extra.to_string(),
            child: None,
        };
        b.restart();
        b
    }

    /// Starts the broker (again) with the same config and port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        // As root, mosquitto switches to user `mosquitto`, which cannot read
        // the test's 0700 temp dirs.
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root\n"
        } else {
            ""
        };
        let conf = self.dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("{user}listener {} 127.0.0.1\n{}", self.port, self.extra),
        )
        .unwrap();
        let log = std::fs::File::create(self.dir.path().join("mosquitto.log")).unwrap();
        let child = std::process::Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("mosquitto is installed (dev/install-deps.sh)");
        self.child = Some(child);
        let port = self.port;
        assert!(
            wait_until(WAIT, || std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()),
            "mosquitto did not start: {}",
            self.log()
        );
    }

    /// Stops the broker: SIGTERM (it saves its persistence file), then waits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
        }
    }

    /// The broker's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A `mosquitto_sub` child printing `topic payload` lines to a file; killed
/// by pid when dropped.
pub struct Subscriber {
    out: PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Subscriber {
    /// Subscribes to `topics` on `port` at QoS 1 with `extra` arguments
    /// (e.g. `-c -i ID` for a persistent session), and waits until the
    /// broker has it (a probe message on its own topic comes back).
    pub fn start(port: u16, topics: &[&str], extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sub.txt");
        let file = std::fs::File::create(&out).unwrap();
        let probe = format!(
            "probe/{}",
            dir.path().file_name().unwrap().to_string_lossy()
        );
        let mut cmd = std::process::Command::new("mosquitto_sub");
        cmd.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1", "-v"]);
        cmd.args(extra);
        for t in topics.iter().copied().chain([probe.as_str()]) {
            cmd.args(["-t", t]);
        }
        let child = cmd.stdout(file).spawn().unwrap();
        let s = Subscriber {
            out,
            child,
            _dir: dir,
        };
        let ok = wait_until(WAIT, || {
            let _ = std::process::Command::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-t",
                    &probe,
                    "-m",
                    "x",
                ])
                .status();
            s.lines().iter().any(|(t, _)| *t == probe)
        });
        assert!(ok, "mosquitto_sub did not subscribe");
        s
    }

    /// Every `(topic, payload)` received so far (probe messages excluded).
    pub fn lines(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(t, p)| (t.to_string(), p.to_string()))
            .collect()
    }

    /// Waits until `cond` holds over the lines (or [`WAIT`] passes).
    pub fn wait(&self, cond: impl Fn(&[(String, String)]) -> bool) -> Vec<(String, String)> {
        wait_until(WAIT, || cond(&self.lines()));
        self.lines()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
