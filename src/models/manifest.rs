//! The checksum manifest compiled into the binary (`models/SHA256SUMS`).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// The checksum manifest, compiled in so that a model altered on disk is
/// rejected even if the manifest beside it was altered too.
pub const MANIFEST: &str = include_str!("../../models/SHA256SUMS");

/// The manifest's file name, also the marker of a models directory.
pub const MANIFEST_FILE: &str = "SHA256SUMS";

/// The bytes of a file that matched the manifest, with their checksum.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The file's contents.
    pub bytes: Vec<u8>,
    /// Their SHA-256, lower-case hex.
    pub sha256: String,
}

/// Parses a `sha256sum`-style manifest: `<hex>  <file>` per line.
pub fn parse_manifest(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let (hash, file) = line.split_once(char::is_whitespace)?;
            let file = file.trim().trim_start_matches('*');
            Some((file.to_string(), hash.to_ascii_lowercase()))
        })
        .collect()
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parses_hash_and_name() {
        let m = parse_manifest("# c\nABCD  a.onnx\nef01 *b.bin\n\n");
        assert_eq!(m.get("a.onnx").map(String::as_str), Some("abcd"));
        assert_eq!(m.get("b.bin").map(String::as_str), Some("ef01"));
        assert_eq!(m.len(), 2);
    }
}
