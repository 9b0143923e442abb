//! Finding the external programs a source runs (ffmpeg, ffprobe, rpicam-vid)
//! before starting them.
//!
//! A missing program is found here rather than from the spawn's error: where
//! `posix_spawn` runs as a plain fork (qemu-user, some containers) a missing
//! program only shows as exit status 127 after the fact, and the user would
//! get a decoder error instead of "not installed".

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Whether `path` is a regular file someone may execute.
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The program `name` as it would be run: a name with a `/` is taken as a
/// path and must be an executable file; a bare name is looked up on `PATH`.
/// `None` when there is no such program.
pub fn find(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return is_executable(&path).then_some(path);
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// The first of `names` that [`find`] finds.
pub fn find_first(names: &[&str]) -> Option<PathBuf> {
    names.iter().find_map(|name| find(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_path_and_by_path() {
        let sh = find("sh").expect("sh is on PATH");
        assert!(sh.is_absolute() || sh.components().count() > 1, "{sh:?}");
        assert_eq!(find(sh.to_str().unwrap()), Some(sh.clone()));
        assert_eq!(find("/nonexistent/rpicam-vid"), None);
        assert_eq!(find("vigil-no-such-program"), None);
        assert_eq!(find_first(&["vigil-no-such-program", "sh"]), Some(sh));
        // A directory or a file without an execute bit is not a program.
        assert_eq!(find("/"), None);
        let plain = std::env::temp_dir().join(format!("vigil-program-{}", std::process::id()));
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(find(plain.to_str().unwrap()), None);
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find(plain.to_str().unwrap()), Some(plain.clone()));
        std::fs::remove_file(&plain).unwrap();
    }
}
