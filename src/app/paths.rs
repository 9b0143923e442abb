//! Where Vigil keeps its state (the gallery, the device key, the audit log).
//!
//! [`state_dir`] picks, in order: the configured directory, `$VIGIL_STATE_DIR`,
//! `/var/lib/vigil` when it exists and is writable (an installed package creates
//! it 0700), `$XDG_STATE_HOME/vigil`, then `$HOME/.local/state/vigil`. A missing
//! directory is created with mode 0700; an existing one is used as it is.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::app::config::Config;
use crate::verify::StatePaths;

/// Environment variable that overrides the state directory.
pub const STATE_DIR_ENV: &str = "VIGIL_STATE_DIR";
/// The installed package's state directory.
pub const INSTALLED_STATE_DIR: &str = "/var/lib/vigil";
/// Mode of a state directory Vigil creates: owner only.
pub const STATE_DIR_MODE: u32 = 0o700;

/// Why no usable state directory could be had.
#[derive(Debug, Error)]
pub enum PathsError {
    #[error(
        "no state directory: set verify.state_dir in the config or {env} (HOME and XDG_STATE_HOME are unset)"
    )]
    /// Nothing configured, no environment override, no writable installed
    /// directory, no absolute `XDG_STATE_HOME` and no `HOME`.
    NoStateDir {
        /// The environment variable that would have named one ([`STATE_DIR_ENV`]).
        env: &'static str,
    },
    #[error("cannot create state directory {path}: {source}")]
    /// The chosen directory was missing and could not be created.
    Create {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    #[error("state directory {path} exists but is not a directory")]
    /// The chosen path exists but is a file or something else, not a directory.
    NotADir {
        /// The path.
        path: PathBuf,
    },
}

/// The state directory, created 0700 when missing.
pub fn state_dir(configured: Option<&Path>) -> Result<PathBuf, PathsError> {
    let dir = choose_state_dir(
        configured,
        std::env::var_os(STATE_DIR_ENV).map(PathBuf::from),
        Path::new(INSTALLED_STATE_DIR),
        std::env::var_os("XDG_STATE_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )?;
    ensure_dir(&dir)?;
    Ok(dir)
}

/// The choice of [`state_dir`] with its inputs made explicit (testable
/// without touching the process environment).
pub fn choose_state_dir(
    configured: Option<&Path>,
    env: Option<PathBuf>,
    installed: &Path,
    xdg_state_home: Option<PathBuf>,
    home: Option<PathBuf>,
) -> Result<PathBuf, PathsError> {
    if let Some(c) = configured.filter(|c| !c.as_os_str().is_empty()) {
        return Ok(c.to_path_buf());
    }
    if let Some(e) = env.filter(|e| !e.as_os_str().is_empty()) {
        return Ok(e);
    }
    if installed.is_dir() && is_writable(installed) {
        return Ok(installed.to_path_buf());
    }
    // XDG says a relative XDG_STATE_HOME is invalid and must be ignored.
    if let Some(x) = xdg_state_home.filter(|x| x.is_absolute()) {
        return Ok(x.join("vigil"));
    }
    if let Some(h) = home.filter(|h| !h.as_os_str().is_empty()) {
        return Ok(h.join(".local/state/vigil"));
    }
    Err(PathsError::NoStateDir { env: STATE_DIR_ENV })
}

/// Creates `dir` (and parents) with mode 0700 when missing.
pub fn ensure_dir(dir: &Path) -> Result<(), PathsError> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(PathsError::NotADir {
                path: dir.to_path_buf(),
            });
        }
        return Ok(());
    }
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(STATE_DIR_MODE)
        .create(dir)
        .map_err(|source| PathsError::Create {
            path: dir.to_path_buf(),
            source,
        })
}

/// Resolves (and creates, 0700) the state directory of `config` and the
/// verifier's files in it: resolved once by the app and handed to the
/// verifier and the scene head.
pub fn state_paths(config: &Config) -> Result<StatePaths, PathsError> {
    let dir = state_dir(config.verify.state_dir.as_deref())?;
    Ok(config.verify.paths_in(dir, &config.unlock))
}

/// True when this process may create files in `dir` (probed by creating one).
fn is_writable(dir: &Path) -> bool {
    tempfile::Builder::new()
        .prefix(".vigil-probe")
        .tempfile_in(dir)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_config_env_installed_xdg_home() {
        let none = Path::new("/nonexistent/vigil-test");
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(
            choose_state_dir(Some(Path::new("/c")), p("/e"), none, p("/x"), p("/h")).unwrap(),
            PathBuf::from("/c")
        );
        assert_eq!(
            choose_state_dir(None, p("/e"), none, p("/x"), p("/h")).unwrap(),
            PathBuf::from("/e")
        );
        assert_eq!(
            choose_state_dir(None, None, none, p("/x"), p("/h")).unwrap(),
            PathBuf::from("/x/vigil")
        );
        assert_eq!(
            choose_state_dir(None, None, none, p("rel"), p("/h")).unwrap(),
            PathBuf::from("/h/.local/state/vigil")
        );
        assert!(choose_state_dir(None, None, none, None, None).is_err());
        let installed = tempfile::tempdir().unwrap();
        assert_eq!(
            choose_state_dir(None, None, installed.path(), p("/x"), p("/h")).unwrap(),
            installed.path()
        );
    }

    #[test]
    fn missing_dir_is_created_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        ensure_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let file = root.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(ensure_dir(&file), Err(PathsError::NotADir { .. })));
    }

    #[test]
    fn state_files_default_into_the_dir() {
        use crate::verify::config::state_file;
        let d = Path::new("/s");
        assert_eq!(state_file(d, None, "g.json"), PathBuf::from("/s/g.json"));
        assert_eq!(
            state_file(d, Some(Path::new("x.json")), "g.json"),
            PathBuf::from("/s/x.json")
        );
        assert_eq!(
            state_file(d, Some(Path::new("/a/x.json")), "g.json"),
            PathBuf::from("/a/x.json")
        );
    }
}
