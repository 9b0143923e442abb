//! The control socket: `<state_dir>/vigil.sock`, mode 0600, so that
//! `vigil enroll` run beside the service asks it (enrol from its live frames,
//! list, remove) instead of opening the camera the service holds.
//!
//! One JSON request line per connection; the answer is JSON lines: for an
//! enrolment its progress until it ends. Only the state directory's owner
//! (and root) can connect: the directory is 0700 and the socket 0600.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::people::PersonInfo;
use super::{EnrolService, EnrolStatus};
use crate::pipeline::worker::{spawn_task, Worker};

/// The socket's file name in the state directory.
pub const SOCKET_FILE: &str = "vigil.sock";
/// Longest request line read.
pub const MAX_REQUEST_BYTES: u64 = 4096;
/// How long a client may take to send its request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more are told to retry.
pub const MAX_CLIENTS: usize = 4;
/// How often the accept loop looks at its stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(100);
/// How long a client waits for the end of an enrolment with no progress.
pub const CLIENT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Enrol `name` from the live frames.
    Enroll {
        /// The person.
        name: String,
        /// Frames to examine (default `verify.enroll_frames`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        frames: Option<usize>,
    },
    /// Everyone enrolled.
    List,
    /// Remove a person.
    Remove {
        /// The person.
        name: String,
    },
    /// The latest enrolment status.
    Status,
}

/// One answer line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// An enrolment's progress (the last one has an ended state).
    Status(EnrolStatus),
    /// Everyone enrolled.
    People(Vec<PersonInfo>),
    /// Who was removed.
    Removed(PersonInfo),
    /// The request failed.
    Error(String),
}

/// The socket server of a run.
pub struct ControlSocket {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    worker: Option<Worker>,
}

/// Why the socket could not be served.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// Another running instance answers on it.
    #[error("{path}: another Vigil instance is serving this state directory")]
    InUse {
        /// The socket.
        path: PathBuf,
    },
    /// It could not be created.
    #[error("cannot serve {path}: {source}")]
    Io {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Its thread could not start.
    #[error(transparent)]
    Thread(#[from] crate::pipeline::PipelineError),
}

impl ControlSocket {
    /// Serves `service` on `<state_dir>/vigil.sock`.
    pub fn start(state_dir: &Path, service: EnrolService) -> Result<Self, SocketError> {
        let path = state_dir.join(SOCKET_FILE);
        let io = |source| SocketError::Io {
            path: path.clone(),
            source,
        };
        if path.exists() {
            if UnixStream::connect(&path).is_ok() {
                return Err(SocketError::InUse { path });
            }
            // Left by a run that did not end cleanly.
            std::fs::remove_file(&path).map_err(io)?;
        }
        let listener = UnixListener::bind(&path).map_err(io)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        let stop = Arc::new(AtomicBool::new(false));
        let worker = {
            let stop = stop.clone();
            spawn_task("control-socket", move || {
                accept_loop(listener, service, stop)
            })?
        };
        log::info!("enrol: control socket {}", path.display());
        Ok(Self {
            path,
            stop,
            worker: Some(worker),
        })
    }

    /// Stops serving and removes the socket file.
    pub fn close(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(w) = self.worker.take() {
            if let Err(e) = w.join() {
                log::error!("control socket: {e}");
            }
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        self.close();
    }
}

fn accept_loop(listener: UnixListener, service: EnrolService, stop: Arc<AtomicBool>) {
    let clients = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                if clients.load(Ordering::Acquire) >= MAX_CLIENTS {
                    let _ = write_reply(&mut stream, &Reply::Error("busy: try again".into()));
                    continue;
                }
                clients.fetch_add(1, Ordering::AcqRel);
                let (service, clients2, stop) = (service.clone(), clients.clone(), stop.clone());
                let started = spawn_task("control-client", move || {
                    serve(stream, &service, &stop);
                    clients2.fetch_sub(1, Ordering::AcqRel);
                });
                if let Err(e) = started {
                    clients.fetch_sub(1, Ordering::AcqRel);
                    log::warn!("control socket: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(ACCEPT_POLL);
            }
            Err(e) => {
                log::warn!("control socket: accept: {e}");
                std::thread::sleep(ACCEPT_POLL);
            }
        }
    }
}

fn write_reply(stream: &mut UnixStream, reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)
}

/// Reads one request line of at most [`MAX_REQUEST_BYTES`].
fn read_request(stream: &UnixStream) -> Result<Request, String> {
    let mut line = String::new();
    BufReader::new(stream.take(MAX_REQUEST_BYTES))
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    if !line.ends_with('\n') {
        return Err(format!(
            "the request must be one JSON line of at most {MAX_REQUEST_BYTES} bytes"
        ));
    }
    serde_json::from_str(&line).map_err(|e| format!("bad request: {e}"))
}

fn serve(mut stream: UnixStream, service: &EnrolService, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(REQUEST_TIMEOUT));
    let request = match read_request(&stream) {
        Ok(r) => r,
        Err(e) => {
            let _ = write_reply(&mut stream, &Reply::Error(e));
            return;
        }
    };
    let result = match request {
        Request::List => match service.people() {
            Ok(p) => write_reply(&mut stream, &Reply::People(p)),
            Err(e) => write_reply(&mut stream, &Reply::Error(e.to_string())),
        },
        Request::Remove { name } => match service.remove(&name) {
            Ok(p) => write_reply(&mut stream, &Reply::Removed(p)),
            Err(e) => write_reply(&mut stream, &Reply::Error(e.to_string())),
        },
        Request::Status => write_reply(&mut stream, &Reply::Status(service.status())),
        Request::Enroll { name, frames } => follow(&mut stream, service, &name, frames, stop),
    };
    if let Err(e) = result {
        log::debug!("control socket: client gone: {e}");
    }
}

/// Starts an enrolment and writes its progress until it ends.
fn follow(
    stream: &mut UnixStream,
    service: &EnrolService,
    name: &str,
    frames: Option<usize>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let mut version = service.version();
    let status = match service.begin(name, frames) {
        Ok(s) => s,
        Err(e) => return write_reply(stream, &Reply::Error(e.to_string())),
    };
    write_reply(stream, &Reply::Status(status))?;
    let mut last_examined = 0;
    while !stop.load(Ordering::Acquire) {
        let (v, status) = service.status_after(version, Duration::from_secs(1));
        if v == version {
            continue;
        }
        version = v;
        if status.name != name {
            continue;
        }
        if status.is_over() || status.examined != last_examined {
            last_examined = status.examined;
            write_reply(stream, &Reply::Status(status.clone()))?;
        }
        if status.is_over() {
            return Ok(());
        }
    }
    write_reply(stream, &Reply::Error("the run is ending".into()))
}

/// The socket of a running instance in `state_dir`, if one answers.
pub fn connect(state_dir: &Path) -> Option<UnixStream> {
    UnixStream::connect(state_dir.join(SOCKET_FILE)).ok()
}

/// Sends `request` and calls `each` with every reply line until the server
/// closes the connection.
pub fn ask(
    mut stream: UnixStream,
    request: &Request,
    mut each: impl FnMut(Reply),
) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    stream.set_read_timeout(Some(CLIENT_IDLE_TIMEOUT))?;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        let reply = serde_json::from_str(&line)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        each(reply);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::config::Config;
    use crate::models::ModelStore;

    fn service(dir: &Path) -> EnrolService {
        let config = Config::default();
        let paths = config.verify.paths_in(dir.to_path_buf(), &config.unlock);
        EnrolService::start(&config, ModelStore::new(dir.join("no-models")), paths).unwrap()
    }

    fn raw(dir: &Path, bytes: &[u8]) -> Vec<Reply> {
        let mut s = connect(dir).expect("the socket answers");
        // The server may answer and close before reading everything (then
        // the rest of a long write, or the read after the answer, fails).
        let _ = s.write_all(bytes);
        let _ = s.shutdown(std::net::Shutdown::Write);
        BufReader::new(s)
            .lines()
            .map_while(Result::ok)
            .map(|l| serde_json::from_str(&l).unwrap())
            .collect()
    }

    #[test]
    fn one_owner_only_bad_requests_answered_and_the_file_removed() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path());
        let mut socket = ControlSocket::start(dir.path(), service.clone()).unwrap();
        let path = dir.path().join(SOCKET_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A second instance on the same state directory is refused.
        assert!(matches!(
            ControlSocket::start(dir.path(), service.clone()),
            Err(SocketError::InUse { .. })
        ));

        let status = raw(dir.path(), b"{\"op\":\"status\"}\n");
        assert!(
            matches!(&status[..], [Reply::Status(s)] if s.state == crate::app::enrol::EnrolState::Idle)
        );
        for bad in [
            &b"garbage\n"[..],
            b"{\"op\":\"format_disk\"}\n",
            b"no newline",
        ] {
            let r = raw(dir.path(), bad);
            assert!(matches!(&r[..], [Reply::Error(_)]), "{bad:?}: {r:?}");
        }
        let long = vec![b'x'; MAX_REQUEST_BYTES as usize * 4];
        assert!(matches!(&raw(dir.path(), &long)[..], [Reply::Error(_)]));
        // Models missing: a clear error, not a hang or a panic.
        let r = raw(dir.path(), b"{\"op\":\"enroll\",\"name\":\"a\"}\n");
        assert!(
            matches!(&r[..], [Reply::Error(e)] if e.contains("no-models") || e.contains("model")),
            "{r:?}"
        );
        let r = raw(dir.path(), b"{\"op\":\"enroll\",\"name\":\"../a\"}\n");
        assert!(matches!(&r[..], [Reply::Error(_)]), "{r:?}");

        socket.close();
        assert!(!path.exists());
        service.close();
    }

    #[test]
    fn a_stale_socket_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SOCKET_FILE);
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists() && connect(dir.path()).is_none());
        let service = service(dir.path());
        let mut socket = ControlSocket::start(dir.path(), service.clone()).unwrap();
        assert!(connect(dir.path()).is_some());
        socket.close();
        service.close();
    }
}
