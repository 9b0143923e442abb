//! Configuration errors and the range checks every section uses.
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
    fn in_range_is_inclusive() {
        assert!(in_range("k", 0.0, 0.0, 1.0).is_ok());
        assert!(in_range("k", 1.0, 0.0, 1.0).is_ok());
        assert!(in_range("k", 1.5, 0.0, 1.0).is_err());
    }
}
