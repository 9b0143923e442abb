//! Configuration errors and the range checks every section uses, and
//! [`read_bounded`], the size check every file read whole goes through.
//!
//! Layer: core (a leaf: imports nothing from the crate). Each `[section]`
//! lives beside the module that owns it and validates itself with these
//! helpers; the aggregate `Config` lives in `app::config`.

use std::path::PathBuf;

use thiserror::Error;

/// A config file that cannot be read or parsed, or a key with a bad value.
/// Every variant names the file or the key.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key of the file has a value of the wrong type or is unknown.
    #[error("config file {path}: key `{key}`: {message}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Dotted key, e.g. `capture.width`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The file is not valid TOML.
    #[error("config file {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A value outside its documented range.
    #[error("config key `{key}`: {message}")]
    Invalid {
        /// Dotted key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ConfigError {
    /// An out-of-range or otherwise invalid value of `key`.
    pub fn invalid(key: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Longest duration any `*_s` key may hold, in seconds (one week): every
/// duration the run builds from the config fits a `Duration` well below this.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// Most elements of a list-valued key (`unlock.command`, ...).
pub const MAX_LIST_LEN: usize = 64;

/// Error unless `value` is a duration in seconds: finite, > 0 and at most
/// [`MAX_SECONDS`].
pub fn seconds(key: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 && value <= MAX_SECONDS {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            key,
            format!("must be a number of seconds above 0 and at most {MAX_SECONDS}, got {value}"),
        ))
    }
}

/// Error unless the list under `key` has at most [`MAX_LIST_LEN`] elements.
pub fn list_len(key: &str, len: usize) -> Result<(), ConfigError> {
    if len <= MAX_LIST_LEN {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            key,
            format!("at most {MAX_LIST_LEN} elements, got {len}"),
        ))
    }
}

/// The whole file at `path` if it is at most `limit` bytes, else an
/// `InvalidData` error naming the limit. Never reads more than `limit + 1`
/// bytes, whatever the file's size (or a file that grows while read).
pub fn read_bounded(path: &std::path::Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than its limit of {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// Error unless `value` is finite and > 0.
pub fn positive(key: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            key,
            format!("must be a positive number, got {value}"),
        ))
    }
}

/// Error unless `value` is in `[lo, hi]`.
pub fn in_range(key: &str, value: f64, lo: f64, hi: f64) -> Result<(), ConfigError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            key,
            format!("must be between {lo} and {hi}, got {value}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_rejects_zero_nan_and_negatives() {
        assert!(positive("a.b", 1.0).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = positive("a.b", bad).unwrap_err().to_string();
            assert!(e.contains("a.b"), "{e}");
        }
    }

    #[test]
    fn seconds_are_bounded_above_so_they_fit_a_duration() {
        assert!(seconds("a_s", 0.5).is_ok());
        assert!(seconds("a_s", MAX_SECONDS).is_ok());
        for bad in [0.0, -1.0, 1e300, f64::NAN, f64::INFINITY, MAX_SECONDS * 2.0] {
            let e = seconds("a_s", bad).unwrap_err().to_string();
            assert!(e.contains("a_s"), "{e}");
        }
        assert!(list_len("k", MAX_LIST_LEN).is_ok());
        assert!(list_len("k", MAX_LIST_LEN + 1).is_err());
    }

    #[test]
    fn read_bounded_refuses_a_file_over_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_bounded(&p, 5).unwrap(), b"12345");
        let e = read_bounded(&p, 4).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("4 bytes"), "{e}");
    }

    #[test]
    fn in_range_is_inclusive() {
        assert!(in_range("k", 0.0, 0.0, 1.0).is_ok());
        assert!(in_range("k", 1.0, 0.0, 1.0).is_ok());
        assert!(in_range("k", 1.5, 0.0, 1.0).is_err());
    }
}
