//! Noticing that a file was replaced or changed while a stage runs (the
//! gallery after an enrolment, the scene head after training), with one
//! `stat` at most every [`FILE_CHECK_INTERVAL`].
//!
//! A version of the file is its inode, size and modification time: Vigil
//! replaces its files by rename, so a rewrite is a new inode even within the
//! file system's time resolution.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a watched file is looked at.
pub const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    len: u64,
    modified_ns: i128,
}

impl FileStamp {
    /// The file's stamp, `None` while there is no file.
    fn of(path: &Path) -> Option<Self> {
        let m = std::fs::metadata(path).ok()?;
        Some(Self {
            inode: m.ino(),
            len: m.len(),
            modified_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        })
    }
}

/// One watched file.
#[derive(Debug, Clone)]
pub struct FileWatch {
    path: PathBuf,
    loaded: Option<FileStamp>,
    last_check: Option<Instant>,
}

impl FileWatch {
    /// Watches `path`; call [`Self::mark_loaded`] right before reading it.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            loaded: None,
            last_check: None,
        }
    }

    /// The watched path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remembers the file's current version as the one read (call it just
    /// before reading, so a change during the read is seen next time).
    pub fn mark_loaded(&mut self) {
        self.loaded = FileStamp::of(&self.path);
        self.last_check = Some(Instant::now());
    }

    /// True when the file (or its absence) differs from the version last
    /// marked loaded; looks at most every [`FILE_CHECK_INTERVAL`].
    pub fn changed(&mut self) -> bool {
        if self
            .last_check
            .is_some_and(|t| t.elapsed() < FILE_CHECK_INTERVAL)
        {
            return false;
        }
        self.last_check = Some(Instant::now());
        FileStamp::of(&self.path) != self.loaded
    }

    /// Forgets when the file was last looked at: the next
    /// [`Self::changed`] looks (tests; a forced check).
    pub fn check_now(&mut self) {
        self.last_check = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_creation_replacement_and_removal_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut w = FileWatch::new(&path);
        w.mark_loaded();
        assert!(!w.changed(), "within the interval nothing is looked at");
        w.check_now();
        assert!(!w.changed(), "still no file");

        std::fs::write(&path, b"one").unwrap();
        assert!(!w.changed(), "within the interval");
        w.check_now();
        assert!(w.changed());
        w.mark_loaded();
        w.check_now();
        assert!(!w.changed());

        // Same size, replaced by rename: a new inode.
        let tmp = dir.path().join("f.tmp");
        std::fs::write(&tmp, b"two").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        w.check_now();
        assert!(w.changed());
        w.mark_loaded();

        std::fs::remove_file(&path).unwrap();
        w.check_now();
        assert!(w.changed());
    }
}
