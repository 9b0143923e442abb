//! Secrets from files: a password or token (the file's first line, as it
//! is) is read from a file that only its
//! owner may read (mode 0600 or stricter), never from the config itself, and
//! its value never reaches a log line or an error message.

use std::path::Path;

use crate::core::check::ConfigError;

/// Largest secret file read (bytes).
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// The first line of the secret file at `path` (at most [`MAX_SECRET_BYTES`]); `key` names the config key
/// in errors. A file that group or others may read is refused.
pub fn read_secret(path: &Path, key: &str) -> Result<String, ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let bad = |message: String| ConfigError::invalid(key, message);
    let meta =
        std::fs::metadata(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "{} has mode {mode:04o}: it must be readable by its owner only (chmod 600)",
            path.display()
        )));
    }
    let bytes = crate::core::check::read_bounded(path, MAX_SECRET_BYTES)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| bad(format!("cannot read {}: not UTF-8", path.display())))?;
    let secret = text.lines().next().unwrap_or("").to_string();
    if secret.is_empty() {
        return Err(bad(format!("{} is empty", path.display())));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_an_owner_only_file_is_read_and_the_value_never_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "s3cret\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_secret(&p, "http.token_file").unwrap_err().to_string();
        assert!(e.contains("http.token_file") && e.contains("0644"), "{e}");
        assert!(!e.contains("s3cret"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret(&p, "http.token_file").unwrap(), "s3cret");
        std::fs::write(&p, "\n").unwrap();
        assert!(read_secret(&p, "k").is_err());
        assert!(read_secret(&dir.path().join("none"), "k").is_err());
    }
}
