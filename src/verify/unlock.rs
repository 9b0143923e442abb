//! The unlock action and the lock state.
//!
//! The action is an argv list run with no shell, its own process group, no
//! stdin, stdout discarded (it must not corrupt the JSON event stream), the
//! person's name and distance in the environment, and a timeout after which
//! the whole group is killed. The state becomes "unlocked" only when the
//! command exits 0 in time; every other outcome leaves it locked. With no
//! command configured the action is the `unlocked` event alone.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use crate::core::face::TrackId;

/// How often a running command is polled for exit.
const POLL: Duration = Duration::from_millis(5);

/// An unlock or lock command that did not succeed; the device stays locked.
#[derive(Debug, Error)]
pub enum UnlockError {
    /// The program could not be started (not found, not executable).
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program (first element of the argv).
        program: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The program exited with a non-zero status or was killed by a signal.
    #[error("{program} failed: {status}")]
    Exit {
        /// The program (first element of the argv).
        program: String,
        /// Its exit status, as text.
        status: String,
    },
    /// The program ran past `unlock.timeout_s`; its process group was killed.
    #[error("{program} did not finish within {timeout_s} s and was killed")]
    Timeout {
        /// The program (first element of the argv).
        program: String,
        /// The limit it ran past, in seconds.
        timeout_s: f64,
    },
    /// Waiting for the program's exit failed.
    #[error("cannot wait for {program}: {source}")]
    Wait {
        /// The program (first element of the argv).
        program: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Runs `argv` with `env` added, killing its process group after `timeout`.
pub fn run_command(
    argv: &[String],
    env: &[(&str, String)],
    timeout: Duration,
) -> Result<(), UnlockError> {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = argv.split_first() else {
        return Ok(());
    };
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .map_err(|source| UnlockError::Spawn {
            program: program.clone(),
            source,
        })?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(UnlockError::Exit {
                    program: program.clone(),
                    status: status.to_string(),
                })
            }
            Ok(None) if started.elapsed() >= timeout => {
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                return Err(UnlockError::Timeout {
                    program: program.clone(),
                    timeout_s: timeout.as_secs_f64(),
                });
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(source) => {
                kill_group(child.id());
                let _ = child.kill();
                return Err(UnlockError::Wait {
                    program: program.clone(),
                    source,
                });
            }
        }
    }
}

/// SIGKILL to the process group led by `pid` (the command and its children).
fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions; a negative pid
        // names the process group this child leads (set by process_group(0)).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// The device's lock state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LockState {
    /// Locked: the initial state, and after any relock.
    Locked,
    /// Unlocked for an owner until the relock time.
    Unlocked {
        /// The owner's enrolled name.
        name: String,
        /// The track that unlocked it.
        track: TrackId,
        /// Frame-clock time at which it relocks.
        #[serde(skip)]
        until: Duration,
    },
}

impl LockState {
    /// True while [`LockState::Unlocked`].
    pub fn is_unlocked(&self) -> bool {
        matches!(self, LockState::Unlocked { .. })
    }
}

/// Runs the unlock and lock commands and keeps the lock state.
#[derive(Debug)]
pub struct UnlockController {
    command: Vec<String>,
    lock_command: Vec<String>,
    timeout: Duration,
    relock_after: Duration,
    state: LockState,
}

impl UnlockController {
    /// Locked, with the commands, command timeout and relock delay of
    /// `config`; runs nothing.
    pub fn new(config: &super::config::UnlockConfig) -> Self {
        Self {
            command: config.command.clone(),
            lock_command: config.lock_command.clone(),
            timeout: Duration::from_secs_f64(config.timeout_s),
            relock_after: Duration::from_secs_f64(config.relock_s),
            state: LockState::Locked,
        }
    }

    /// The current lock state.
    pub fn state(&self) -> &LockState {
        &self.state
    }

    /// Runs the unlock action for `name`. Only a successful command unlocks.
    pub fn unlock(
        &mut self,
        now: Duration,
        name: &str,
        distance: f32,
        track: TrackId,
    ) -> Result<(), UnlockError> {
        self.state = LockState::Locked;
        let env = [
            ("VIGIL_EVENT", "unlock".to_string()),
            ("VIGIL_NAME", name.to_string()),
            ("VIGIL_DISTANCE", format!("{distance:.4}")),
            ("VIGIL_TRACK", track.0.to_string()),
        ];
        run_command(&self.command, &env, self.timeout)?;
        self.state = LockState::Unlocked {
            name: name.to_string(),
            track,
            until: now + self.relock_after,
        };
        Ok(())
    }

    /// True when the unlock period has run out at `now`.
    pub fn relock_due(&self, now: Duration) -> bool {
        matches!(&self.state, LockState::Unlocked { until, .. } if now >= *until)
    }

    /// Locks: the state is locked whatever the lock command does; its failure
    /// is returned so that it is reported.
    pub fn lock(&mut self) -> Result<(), UnlockError> {
        let was = std::mem::replace(&mut self.state, LockState::Locked);
        if let LockState::Unlocked { name, .. } = was {
            let env = [("VIGIL_EVENT", "lock".to_string()), ("VIGIL_NAME", name)];
            run_command(&self.lock_command, &env, self.timeout)?;
        }
        Ok(())
    }
}

impl Drop for UnlockController {
    /// Leaving (end of the run, error): lock again.
    fn drop(&mut self) {
        if let Err(e) = self.lock() {
            log::error!("lock command at shutdown: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::config::UnlockConfig;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn controller(command: &[&str], timeout_s: f64) -> UnlockController {
        UnlockController::new(&UnlockConfig {
            command: argv(command),
            timeout_s,
            relock_s: 10.0,
            ..Default::default()
        })
    }

    #[test]
    fn success_unlocks_and_passes_the_environment() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("env.txt");
        let script = format!(
            "printf '%s %s' \"$VIGIL_NAME\" \"$VIGIL_DISTANCE\" > {}",
            out.display()
        );
        let mut c = controller(&["sh", "-c", &script], 5.0);
        c.unlock(Duration::ZERO, "alice", 0.25, TrackId(1)).unwrap();
        assert!(c.state().is_unlocked());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "alice 0.2500");
        assert!(!c.relock_due(Duration::from_secs(9)));
        assert!(c.relock_due(Duration::from_secs(10)));
        c.lock().unwrap();
        assert!(!c.state().is_unlocked());
    }

    #[test]
    fn argv_is_not_run_through_a_shell() {
        let d = tempfile::tempdir().unwrap();
        let marker = d.path().join("pwned");
        let name = format!("x; touch {}", marker.display());
        let mut c = controller(&["true"], 5.0);
        c.unlock(Duration::ZERO, &name, 0.1, TrackId(1)).unwrap();
        assert!(!marker.exists());
    }

    #[test]
    fn nonzero_exit_stays_locked() {
        let mut c = controller(&["false"], 5.0);
        let e = c
            .unlock(Duration::ZERO, "alice", 0.1, TrackId(1))
            .unwrap_err();
        assert!(matches!(e, UnlockError::Exit { .. }), "{e}");
        assert!(!c.state().is_unlocked());
    }

    #[test]
    fn missing_program_stays_locked() {
        let mut c = controller(&["/nonexistent/vigil-unlock"], 5.0);
        let e = c
            .unlock(Duration::ZERO, "alice", 0.1, TrackId(1))
            .unwrap_err();
        // Natively the spawn fails (ENOENT); under qemu-user (CI's aarch64
        // run) glibc's posix_spawn is a plain fork and the child exits 127.
        let not_found = match &e {
            UnlockError::Spawn { .. } => true,
            UnlockError::Exit { status, .. } => status.contains("127"),
            _ => false,
        };
        assert!(not_found, "{e}");
        assert!(!c.state().is_unlocked());
    }

    #[test]
    fn hanging_command_is_killed_with_its_children_and_stays_locked() {
        let d = tempfile::tempdir().unwrap();
        let late = d.path().join("late");
        // The shell starts a child that would write the file after 1 s.
        let script = format!("(sleep 1; touch {}) & sleep 30", late.display());
        let mut c = controller(&["sh", "-c", &script], 0.2);
        let t = Instant::now();
        let e = c
            .unlock(Duration::ZERO, "alice", 0.1, TrackId(1))
            .unwrap_err();
        assert!(matches!(e, UnlockError::Timeout { .. }), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(!c.state().is_unlocked());
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!late.exists(), "a child of the killed command survived");
    }

    #[test]
    fn failed_unlock_after_success_relocks() {
        let mut c = controller(&["true"], 5.0);
        c.unlock(Duration::ZERO, "alice", 0.1, TrackId(1)).unwrap();
        c.command = argv(&["false"]);
        assert!(c.unlock(Duration::ZERO, "alice", 0.1, TrackId(2)).is_err());
        assert_eq!(c.state(), &LockState::Locked);
    }
}
