//! The enrolled people: several templates each, in one versioned JSON file.
//!
//! Integrity: the file carries an HMAC-SHA256 over the canonical JSON of its
//! content, keyed by a 32-byte per-device secret (`gallery.key`, mode 0600, in
//! the state directory). A plain SHA-256 would catch corruption but anyone able
//! to write the file could recompute it; with the key, a local user who can
//! write the gallery but cannot read the key (e.g. the root-owned
//! `/var/lib/vigil` of an installed service) cannot forge or swap templates.
//! Writes are atomic: a temp file (0600) in the same directory, fsync, rename,
//! fsync of the directory. Any problem reading it (missing, unreadable,
//! corrupt, tampered, another model, unknown version) is a [`GalleryError`],
//! which the verifier treats as "nobody enrolled": it never unlocks.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

use super::embed::{Embedding, Metric};

/// The `format` field of a gallery file.
pub const FORMAT: &str = "vigil-gallery";
/// The version this build reads and writes.
pub const VERSION: u32 = 1;
/// Length of the device key, in bytes.
pub const KEY_BYTES: usize = 32;
/// Largest gallery file read (bytes): some 10,000 templates.
pub const MAX_GALLERY_BYTES: u64 = 16 * 1024 * 1024;
/// Longest accepted person name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// File mode of the gallery and of its key.
pub const FILE_MODE: u32 = 0o600;

type HmacSha256 = Hmac<Sha256>;

/// A gallery that cannot be read, trusted or written. On the verification
/// path any of these means "nobody enrolled": nobody is unlocked.
#[derive(Debug, Error)]
pub enum GalleryError {
    /// No gallery file: nobody has enrolled yet.
    #[error("no gallery at {path}: nobody is enrolled (run `vigil enroll --name NAME`)")]
    Missing {
        /// The gallery file.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read gallery {path}: {source}")]
    Read {
        /// The gallery file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a valid gallery: bad JSON, wrong format tag or malformed content.
    #[error("gallery {path} is corrupt: {message}")]
    Corrupt {
        /// The gallery file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A gallery version this build does not read.
    #[error("gallery {path} has version {found}; this build reads version {VERSION}")]
    Version {
        /// The gallery file.
        path: PathBuf,
        /// The version in the file ([`VERSION`] is the one read).
        found: u32,
    },
    /// The HMAC does not match: the file was altered, or signed with another
    /// device key.
    #[error("gallery {path} failed its integrity check (altered, or made with another device key {key})")]
    Tampered {
        /// The gallery file.
        path: PathBuf,
        /// The key file it was checked with.
        key: PathBuf,
    },
    /// The templates were computed by another embedding model, so distances
    /// to them mean nothing.
    #[error("gallery {path} was made with another embedding model (sha256 {found}…, this model {expected}…): enroll again, or set verify.model to the model it was made with (\"dlib\" for a gallery made before SFace became the default)")]
    OtherModel {
        /// The gallery file.
        path: PathBuf,
        /// First 12 hex digits of the model SHA-256 recorded in the gallery.
        found: String,
        /// First 12 hex digits of the loaded model's SHA-256.
        expected: String,
    },
    /// The key file is missing or unreadable, so the gallery cannot be
    /// checked.
    #[error("gallery key {path} is missing or unreadable, so gallery {gallery} cannot be verified: {source}")]
    KeyRead {
        /// The key file.
        path: PathBuf,
        /// The gallery it would verify.
        gallery: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file does not hold a valid key (wrong length, say).
    #[error("gallery key {path} is invalid: {message}")]
    KeyInvalid {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The key file can be read by group or others.
    #[error(
        "gallery key {path} is readable by other users (mode {mode:o}): chmod 600 it and re-enroll"
    )]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its Unix permission bits.
        mode: u32,
    },
    /// A new key could not be generated or written.
    #[error("cannot create the gallery key {path}: {message}")]
    KeyCreate {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Saving the gallery (temp file, sync, rename) failed; the old file is
    /// left as it was.
    #[error("cannot write gallery {path}: {message}")]
    Write {
        /// The gallery file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A person name that [`validate_name`] refuses.
    #[error("invalid name {name:?}: {reason}")]
    BadName {
        /// The name given.
        name: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// Removing a person who is not in the gallery.
    #[error("nobody named {name:?} is enrolled")]
    UnknownName {
        /// The name given.
        name: String,
    },
}

/// Why a template was kept: the quality measures at enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Side of the detected face box, in pixels.
    pub face_px: f32,
    /// Variance of the Laplacian of the grey face crop.
    pub sharpness: f32,
    /// Horizontal nose offset / inter-ocular distance (0 = frontal).
    pub yaw: f32,
    /// Eye-line angle, degrees.
    pub roll_deg: f32,
    /// Detector confidence.
    pub score: f32,
}

/// One stored descriptor and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// The face descriptor.
    pub embedding: Embedding,
    /// When it was enrolled, in seconds since the Unix epoch.
    pub created_unix_s: u64,
    /// The quality measures that let it through the enrollment gates.
    pub quality: Quality,
    /// The source and frame it was taken from.
    pub origin: String,
}

/// One enrolled person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// The name given at enrollment (see [`validate_name`]); unique in the
    /// gallery.
    pub name: String,
    /// When the person was first enrolled, in seconds since the Unix epoch.
    pub created_unix_s: u64,
    /// The person's descriptors (several poses and moments).
    pub templates: Vec<Template>,
}

/// The content of a gallery (what the HMAC covers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gallery {
    /// SHA-256 of the embedding model the templates were computed with.
    pub model_sha256: String,
    /// The enrolled people.
    pub people: Vec<Person>,
}

/// The file: format tag, version, MAC and content.
#[derive(Debug, Serialize, Deserialize)]
struct GalleryFile {
    format: String,
    version: u32,
    /// Hex HMAC-SHA256 of the canonical JSON of `gallery`.
    hmac_sha256: String,
    gallery: Gallery,
}

/// The best match of a descriptor in the gallery.
#[derive(Debug, Clone, PartialEq)]
pub struct BestMatch {
    /// The person owning the nearest template.
    pub name: String,
    /// Distance to that template, in the metric used (smaller is closer).
    pub distance: f32,
}

/// Checks a person's name: 1 to 64 characters, letters, digits, space, `_`,
/// `-`, `.`; no path separators, no leading dot or dash, no control characters.
pub fn validate_name(name: &str) -> Result<(), GalleryError> {
    let bad = |reason: &str| GalleryError::BadName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    let n = name.chars().count();
    if n == 0 {
        return Err(bad("empty"));
    }
    if n > MAX_NAME_CHARS {
        return Err(bad(&format!("longer than {MAX_NAME_CHARS} characters")));
    }
    if name.contains(['/', '\\']) {
        return Err(bad("contains a path separator"));
    }
    if name.starts_with(['.', '-']) {
        return Err(bad("starts with '.' or '-'"));
    }
    if name.trim() != name {
        return Err(bad("leading or trailing space"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
    {
        return Err(bad(&format!("character {c:?} not allowed")));
    }
    Ok(())
}

impl Gallery {
    /// A gallery with nobody enrolled, for the model with this SHA-256.
    pub fn empty(model_sha256: &str) -> Self {
        Self {
            model_sha256: model_sha256.to_string(),
            people: Vec::new(),
        }
    }

    /// True when no person has a template (nobody can match).
    pub fn is_empty(&self) -> bool {
        self.people.iter().all(|p| p.templates.is_empty())
    }

    /// The person enrolled under `name`, if any.
    pub fn person(&self, name: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.name == name)
    }

    /// Adds templates to `name` (created if new).
    pub fn add(
        &mut self,
        name: &str,
        templates: Vec<Template>,
        now_unix_s: u64,
    ) -> Result<(), GalleryError> {
        validate_name(name)?;
        match self.people.iter_mut().find(|p| p.name == name) {
            Some(p) => p.templates.extend(templates),
            None => self.people.push(Person {
                name: name.to_string(),
                created_unix_s: now_unix_s,
                templates,
            }),
        }
        Ok(())
    }

    /// Removes `name` with all their templates and returns them;
    /// [`GalleryError::UnknownName`] if nobody has that name.
    pub fn remove(&mut self, name: &str) -> Result<Person, GalleryError> {
        let ix = self
            .people
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| GalleryError::UnknownName {
                name: name.to_string(),
            })?;
        Ok(self.people.remove(ix))
    }

    /// The nearest template over all people, or `None` when nobody is enrolled.
    pub fn best_match(&self, probe: &Embedding, metric: Metric) -> Option<BestMatch> {
        let mut best: Option<BestMatch> = None;
        for p in &self.people {
            for t in &p.templates {
                let d = probe.distance(&t.embedding, metric);
                if best.as_ref().is_none_or(|b| d < b.distance) {
                    best = Some(BestMatch {
                        name: p.name.clone(),
                        distance: d,
                    });
                }
            }
        }
        best
    }

    fn canonical(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// A gallery file and the key that authenticates it.
#[derive(Debug, Clone)]
pub struct GalleryStore {
    /// The gallery JSON file.
    pub path: PathBuf,
    /// The per-device HMAC key file (mode 0600).
    pub key_path: PathBuf,
}

impl GalleryStore {
    /// A store for the gallery at `path` keyed by `key_path`; touches no file.
    pub fn new(path: impl Into<PathBuf>, key_path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            key_path: key_path.into(),
        }
    }

    /// Reads and checks the gallery; `model_sha256` is the loaded model's.
    pub fn load(&self, model_sha256: &str) -> Result<Gallery, GalleryError> {
        let path = &self.path;
        let bytes = match crate::core::check::read_bounded(path, MAX_GALLERY_BYTES) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(GalleryError::Missing { path: path.clone() })
            }
            Err(source) => {
                return Err(GalleryError::Read {
                    path: path.clone(),
                    source,
                })
            }
        };
        parse(path, &self.key_path, &bytes, model_sha256, || {
            self.read_key()
        })
    }

    /// Loads the gallery, or an empty one when the file does not exist yet
    /// (enrollment). Every other error is returned.
    pub fn load_or_empty(&self, model_sha256: &str) -> Result<Gallery, GalleryError> {
        match self.load(model_sha256) {
            Err(GalleryError::Missing { .. }) => Ok(Gallery::empty(model_sha256)),
            other => other,
        }
    }

    /// Writes the gallery atomically (creating the device key if needed).
    pub fn save(&self, gallery: &Gallery) -> Result<(), GalleryError> {
        let key = self.key_or_create()?;
        let werr = |message: String| GalleryError::Write {
            path: self.path.clone(),
            message,
        };
        let file = GalleryFile {
            format: FORMAT.into(),
            version: VERSION,
            hmac_sha256: sign(gallery, &key).map_err(werr)?,
            gallery: gallery.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| werr(e.to_string()))?;
        atomic_write(&self.path, &bytes).map_err(werr)
    }

    fn read_key(&self) -> Result<Vec<u8>, GalleryError> {
        use std::os::unix::fs::PermissionsExt;
        let p = &self.key_path;
        let meta = std::fs::metadata(p).map_err(|source| GalleryError::KeyRead {
            path: p.clone(),
            gallery: self.path.clone(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(GalleryError::KeyPermissions {
                path: p.clone(),
                mode,
            });
        }
        // A key is 65 bytes (hex and a newline); 4 KiB is plenty.
        let bytes =
            crate::core::check::read_bounded(p, 4096).map_err(|source| GalleryError::KeyRead {
                path: p.clone(),
                gallery: self.path.clone(),
                source,
            })?;
        let text = String::from_utf8_lossy(&bytes);
        let key = hex_decode(text.trim()).ok_or_else(|| GalleryError::KeyInvalid {
            path: p.clone(),
            message: "not hex".into(),
        })?;
        if key.len() != KEY_BYTES {
            return Err(GalleryError::KeyInvalid {
                path: p.clone(),
                message: format!("{} bytes, expected {KEY_BYTES}", key.len()),
            });
        }
        Ok(key)
    }

    /// The key, created (random, 0600) when absent.
    fn key_or_create(&self) -> Result<Vec<u8>, GalleryError> {
        if self.key_path.exists() {
            return self.read_key();
        }
        let kerr = |message: String| GalleryError::KeyCreate {
            path: self.key_path.clone(),
            message,
        };
        let mut key = vec![0u8; KEY_BYTES];
        getrandom::fill(&mut key).map_err(|e| kerr(e.to_string()))?;
        atomic_write(&self.key_path, format!("{}\n", hex_encode(&key)).as_bytes()).map_err(kerr)?;
        Ok(key)
    }
}

/// Parses and checks a gallery file's bytes against the device key (asked of
/// `key` once the file is known to be a gallery of this version) and the
/// loaded model's `model_sha256`; `path` and `key_path` only name the files
/// in errors. What [`GalleryStore::load`] does once the file is read; pure
/// but for `key` (fuzzed).
pub fn parse(
    path: &Path,
    key_path: &Path,
    bytes: &[u8],
    model_sha256: &str,
    key: impl FnOnce() -> Result<Vec<u8>, GalleryError>,
) -> Result<Gallery, GalleryError> {
    let corrupt = |message: String| GalleryError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    // Format and version first, so that a future version is named as such.
    let header: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if header.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(corrupt(format!("not a {FORMAT} file")));
    }
    let version = header
        .get("version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| corrupt("no version".into()))?;
    if version != VERSION as u64 {
        return Err(GalleryError::Version {
            path: path.to_path_buf(),
            found: u32::try_from(version).unwrap_or(u32::MAX),
        });
    }
    let file: GalleryFile = serde_json::from_value(header).map_err(|e| corrupt(e.to_string()))?;
    let key = key()?;
    let canonical = file
        .gallery
        .canonical()
        .map_err(|e| corrupt(e.to_string()))?;
    let expected = hex_decode(&file.hmac_sha256).ok_or_else(|| corrupt("bad hmac field".into()))?;
    let mut mac = HmacSha256::new_from_slice(&key).map_err(|e| corrupt(e.to_string()))?;
    mac.update(&canonical);
    if mac.verify_slice(&expected).is_err() {
        return Err(GalleryError::Tampered {
            path: path.to_path_buf(),
            key: key_path.to_path_buf(),
        });
    }
    if file.gallery.model_sha256 != model_sha256 {
        return Err(GalleryError::OtherModel {
            path: path.to_path_buf(),
            found: file.gallery.model_sha256.chars().take(12).collect(),
            expected: model_sha256.chars().take(12).collect(),
        });
    }
    for p in &file.gallery.people {
        validate_name(&p.name).map_err(|e| corrupt(e.to_string()))?;
    }
    Ok(file.gallery)
}

/// The hex HMAC-SHA256 of `gallery` under `key`: the `hmac_sha256` field of
/// its file.
pub fn sign(gallery: &Gallery, key: &[u8]) -> Result<String, String> {
    let canonical = gallery.canonical().map_err(|e| e.to_string())?;
    let mut mac = HmacSha256::new_from_slice(key).map_err(|e| e.to_string())?;
    mac.update(&canonical);
    Ok(hex_encode(&mac.finalize().into_bytes()))
}

/// Writes `bytes` to `path` atomically: temp file (0600) in the same directory,
/// fsync, rename over `path`, fsync of the directory.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".vigil-tmp")
        .permissions(std::fs::Permissions::from_mode(FILE_MODE))
        .tempfile_in(&dir)
        .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))?;
    tmp.write_all(bytes).map_err(|e| e.to_string())?;
    tmp.as_file().sync_all().map_err(|e| e.to_string())?;
    tmp.persist(path).map_err(|e| e.error.to_string())?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot sync directory {}: {e}", dir.display()))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// A template of `embedding` with perfect quality (unit tests of the stage
/// and the gallery watch).
#[cfg(test)]
pub(crate) fn test_template(embedding: Embedding) -> Template {
    Template {
        embedding,
        created_unix_s: 0,
        quality: Quality {
            face_px: 100.0,
            sharpness: 100.0,
            yaw: 0.0,
            roll_deg: 0.0,
            score: 1.0,
        },
        origin: "test".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::embed::EMBEDDING_DIM;

    const SHA: &str = "abc123";

    fn template(v: f32) -> Template {
        let mut values = vec![0.01; EMBEDDING_DIM];
        values[0] = v;
        values[7] = 0.1 + v / 3.0;
        Template {
            embedding: Embedding::new(values).unwrap(),
            created_unix_s: 1,
            quality: Quality {
                face_px: 100.0,
                sharpness: 50.0,
                yaw: 0.0,
                roll_deg: 0.0,
                score: 0.99,
            },
            origin: "test".into(),
        }
    }

    fn store(dir: &Path) -> GalleryStore {
        GalleryStore::new(dir.join("gallery.json"), dir.join("gallery.key"))
    }

    fn saved(dir: &Path) -> GalleryStore {
        let s = store(dir);
        let mut g = Gallery::empty(SHA);
        g.add("alice", vec![template(0.3), template(0.123_456_79)], 5)
            .unwrap();
        s.save(&g).unwrap();
        s
    }

    #[test]
    fn round_trip_preserves_content_and_modes() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let s = saved(d.path());
        let g = s.load(SHA).unwrap();
        assert_eq!(g.people.len(), 1);
        assert_eq!(g.people[0].templates[1], template(0.123_456_79));
        for p in [&s.path, &s.key_path] {
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        // No temp files left behind.
        let n = std::fs::read_dir(d.path()).unwrap().count();
        assert_eq!(n, 2);
    }

    #[test]
    fn missing_gallery_is_nobody_enrolled() {
        let d = tempfile::tempdir().unwrap();
        let s = store(d.path());
        assert!(matches!(s.load(SHA), Err(GalleryError::Missing { .. })));
        assert!(s.load_or_empty(SHA).unwrap().is_empty());
    }

    #[test]
    fn corrupt_gallery_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let s = saved(d.path());
        let bytes = std::fs::read(&s.path).unwrap();
        std::fs::write(&s.path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(matches!(s.load(SHA), Err(GalleryError::Corrupt { .. })));
        std::fs::write(&s.path, b"\x00\xff garbage").unwrap();
        assert!(matches!(s.load(SHA), Err(GalleryError::Corrupt { .. })));
        // A corrupt gallery is not silently replaced by an empty one.
        assert!(s.load_or_empty(SHA).is_err());
    }

    #[test]
    fn edited_template_fails_the_integrity_check() {
        let d = tempfile::tempdir().unwrap();
        let s = saved(d.path());
        let text = std::fs::read_to_string(&s.path).unwrap();
        let edited = text.replacen("0.3", "0.31", 1);
        assert_ne!(text, edited);
        std::fs::write(&s.path, edited).unwrap();
        assert!(matches!(s.load(SHA), Err(GalleryError::Tampered { .. })));
    }

    #[test]
    fn a_forged_gallery_with_recomputed_sha256_is_refused() {
        // An attacker without the key writes a well-formed file with their own MAC.
        let d = tempfile::tempdir().unwrap();
        let s = saved(d.path());
        let other = tempfile::tempdir().unwrap();
        let forger = saved(other.path());
        std::fs::copy(&forger.path, &s.path).unwrap();
        assert!(matches!(s.load(SHA), Err(GalleryError::Tampered { .. })));
    }

    #[test]
    fn other_model_and_version_are_named() {
        let d = tempfile::tempdir().unwrap();
        let s = saved(d.path());
        assert!(matches!(
            s.load("def456"),
            Err(GalleryError::OtherModel { .. })
        ));
        let text = std::fs::read_to_string(&s.path).unwrap();
        std::fs::write(&s.path, text.replace("\"version\": 1", "\"version\": 2")).unwrap();
        assert!(matches!(
            s.load(SHA),
            Err(GalleryError::Version { found: 2, .. })
        ));
    }

    #[test]
    fn key_problems_are_errors() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let s = saved(d.path());
        std::fs::set_permissions(&s.key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            s.load(SHA),
            Err(GalleryError::KeyPermissions { .. })
        ));
        std::fs::remove_file(&s.key_path).unwrap();
        assert!(matches!(s.load(SHA), Err(GalleryError::KeyRead { .. })));
    }

    #[test]
    fn unwritable_directory_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let s = GalleryStore::new(
            d.path().join("no/such/dir/gallery.json"),
            d.path().join("gallery.key"),
        );
        let e = s.save(&Gallery::empty(SHA)).unwrap_err();
        assert!(matches!(e, GalleryError::Write { .. }), "{e}");
        assert!(e.to_string().contains("no/such/dir"), "{e}");
    }

    #[test]
    fn names_are_validated() {
        for ok in ["alice", "Bob Smith", "anne-marie_2", "Zoë", "J.R."] {
            validate_name(ok).unwrap();
        }
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        for bad in [
            "",
            "../etc",
            "a/b",
            "a\\b",
            ".hidden",
            "-rf",
            " x",
            "a\nb",
            "a;b",
            long.as_str(),
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn best_match_is_the_nearest_template() {
        let mut g = Gallery::empty(SHA);
        assert!(g
            .best_match(&template(0.0).embedding, Metric::Euclidean)
            .is_none());
        g.add("a", vec![template(1.0)], 0).unwrap();
        g.add("b", vec![template(0.2), template(5.0)], 0).unwrap();
        let m = g
            .best_match(&template(0.0).embedding, Metric::Euclidean)
            .unwrap();
        assert_eq!(m.name, "b");
        assert!(g.remove("a").is_ok());
        assert!(g.remove("a").is_err());
    }
}
