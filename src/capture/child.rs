//! A child process that writes raw frames to its stdout (ffmpeg, rpicam-vid).
//!
//! Its stderr goes to an anonymous temporary file, not a pipe: nothing has to
//! drain it while we read frames (no thread), it can never fill up and block
//! the child, and its last lines are at hand when the child fails. Reads can
//! have a timeout (poll(2) on the pipe), so a stalled child cannot block the
//! capture thread forever. The child is killed when this is dropped.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Lines of the child's stderr quoted in an error.
pub const STDERR_TAIL_LINES: usize = 6;
/// Bytes read from the end of the stderr file to find those lines.
const STDERR_TAIL_BYTES: u64 = 8192;
/// How long a child that closed its stdout may take to exit before it is killed.
pub const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How a frame read ended.
#[derive(Debug)]
pub enum ReadEnd {
    /// The buffer is full.
    Full,
    /// The child closed its stdout after this many bytes of the frame.
    Eof(usize),
    /// No byte for the read timeout, after this many bytes of the frame.
    Stalled(usize),
}

pub struct ChildStream {
    child: Child,
    stdout: ChildStdout,
    stderr: File,
    read_timeout: Option<Duration>,
}

impl ChildStream {
    /// Starts `command` in its own process group with stdin closed, stdout
    /// piped and stderr to a temporary file. `read_timeout`: longest wait for
    /// the next byte.
    pub fn spawn(mut command: Command, read_timeout: Option<Duration>) -> std::io::Result<Self> {
        let stderr = tempfile::tempfile()?;
        let mut child = command
            // Its own group: a kill reaches whatever it started (a wrapper
            // script's children), and the terminal's Ctrl-C reaches only us.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr.try_clone()?))
            .spawn()?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("the child has no stdout pipe"));
        };
        Ok(Self {
            child,
            stdout,
            stderr,
            read_timeout,
        })
    }

    /// Waits up to `timeout` for the pipe to be readable; false on timeout.
    fn wait_readable(&self, timeout: Duration) -> std::io::Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            let mut fd = libc::pollfd {
                fd: self.stdout.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call; the fd
            // is owned by self.stdout, alive while self is borrowed.
            let n = unsafe { libc::poll(&mut fd, 1, ms) };
            if n > 0 {
                // Readable, or hung up / in error: the read reports which.
                return Ok(true);
            }
            if n == 0 {
                if left.is_zero() {
                    return Ok(false);
                }
                continue;
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// Fills `buf` from the child's stdout.
    pub fn read_frame(&mut self, buf: &mut [u8]) -> std::io::Result<ReadEnd> {
        let mut filled = 0;
        while filled < buf.len() {
            if let Some(timeout) = self.read_timeout {
                if !self.wait_readable(timeout)? {
                    return Ok(ReadEnd::Stalled(filled));
                }
            }
            match self.stdout.read(&mut buf[filled..]) {
                Ok(0) => return Ok(ReadEnd::Eof(filled)),
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ReadEnd::Full)
    }

    /// Kills the child's process group (if still running) and reaps the child.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        if let Ok(None) = self.child.try_wait() {
            if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
                // SAFETY: plain syscall; the group is the child's own (spawned
                // with process_group(0)) and the child is not yet reaped, so
                // its id cannot have been reused.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = self.child.kill();
        }
        self.child.wait().ok()
    }

    /// Waits up to `grace` for the child to exit (after its stdout closed),
    /// then kills it: a child that closed its output but lingers cannot hang us.
    pub fn finish(&mut self, grace: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => return self.kill(),
            }
        }
    }

    /// The last [`STDERR_TAIL_LINES`] non-empty lines the child wrote to stderr.
    pub fn stderr_tail(&mut self) -> String {
        let mut file = &self.stderr;
        let Ok(len) = file.seek(SeekFrom::End(0)) else {
            return String::new();
        };
        let start = len.saturating_sub(STDERR_TAIL_BYTES);
        if file.seek(SeekFrom::Start(start)).is_err() {
            return String::new();
        }
        let mut bytes = Vec::new();
        if file.read_to_end(&mut bytes).is_err() {
            return String::new();
        }
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join(" | ")
    }
}

impl Drop for ChildStream {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Option<Duration>) -> ChildStream {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        ChildStream::spawn(cmd, timeout).unwrap()
    }

    #[test]
    fn reads_full_frames_then_eof_and_keeps_stderr() {
        let mut child = sh("printf abcdef; echo oops >&2; echo last >&2", None);
        let mut buf = [0u8; 4];
        assert!(matches!(child.read_frame(&mut buf).unwrap(), ReadEnd::Full));
        assert_eq!(&buf, b"abcd");
        assert!(matches!(
            child.read_frame(&mut buf).unwrap(),
            ReadEnd::Eof(2)
        ));
        assert!(child.finish(EXIT_GRACE).is_some_and(|s| s.success()));
        assert_eq!(child.stderr_tail(), "oops | last");
    }

    #[test]
    fn a_child_that_lingers_after_closing_stdout_is_killed() {
        let mut child = sh("exec >&-; sleep 30", None);
        let mut buf = [0u8; 4];
        assert!(matches!(
            child.read_frame(&mut buf).unwrap(),
            ReadEnd::Eof(0)
        ));
        let t0 = Instant::now();
        let status = child.finish(Duration::from_millis(200));
        assert!(status.is_some_and(|s| !s.success()));
        assert!(t0.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_stalled_child_times_out() {
        // Not `exec`: the sleep is a grandchild, killed with the group.
        let mut child = sh(
            "printf ab; sleep 30; true",
            Some(Duration::from_millis(300)),
        );
        let t0 = Instant::now();
        let mut buf = [0u8; 4];
        assert!(matches!(
            child.read_frame(&mut buf).unwrap(),
            ReadEnd::Stalled(2)
        ));
        assert!(t0.elapsed() < Duration::from_secs(5));
        // Killed, not waited for 30 s.
        assert!(child.kill().is_some());
        assert!(t0.elapsed() < Duration::from_secs(5));
    }
}
