//! Configuration: `config/vigil.toml`, documented key by key.
//!
//! Every section is a struct with `deny_unknown_fields` and a `Default` equal to
//! the documented value, so a misspelt key is an error that names it, and the
//! program runs with no file at all. Each section lives beside its owner;
//! this aggregate, its search path and its validation are the only place
//! that knows every section.

use std::path::{Path, PathBuf};

use crate::core::check::ConfigError;
use serde::{Deserialize, Serialize};

/// Environment variable naming the config file when `--config` is not given.
pub const CONFIG_ENV: &str = "VIGIL_CONFIG";
/// The installed config file (see `cross/README.md`).
pub const INSTALLED_CONFIG: &str = "/etc/vigil/vigil.toml";
/// The config file of a source checkout, relative to the working directory.
pub const REPO_CONFIG: &str = "config/vigil.toml";
/// Largest config file read (bytes; the documented one is about 20 KB).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// A loaded configuration and the file it came from (`None`: built-in defaults).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Its file, if any.
    pub path: Option<PathBuf>,
}

/// The whole configuration: every section, each owned by its module.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[capture]`: the frame source (camera, Pi camera, file, demo clip) and its size and rate.
    pub capture: crate::capture::CaptureConfig,
    /// `[models]`: where the ONNX model files are looked up (checked against the built-in SHA-256 manifest).
    pub models: crate::models::ModelsConfig,
    /// `[pipeline]`: channel capacity, replay policy, progress-line interval (s) and frame limit.
    pub pipeline: crate::pipeline::PipelineConfig,
    /// `[present]`: headless mode, the JSON-lines event sink and the overlay window.
    pub present: super::present::PresentConfig,
    /// `[scene]`: the owner / others / objects classifier and its on-device head training.
    pub scene: crate::scene::SceneConfig,
    /// `[detect]`: the MTCNN face detector (smallest face in pixels, stage
    /// thresholds, full-scan cadence in frames).
    pub detect: crate::detect::DetectConfig,
    /// `[track]`: the IoU tracker that turns detections into tracks.
    pub track: crate::track::TrackConfig,
    /// `[verify]`: owner verification against the enrolled gallery, and the state directory.
    pub verify: crate::verify::VerifyConfig,
    /// `[liveness]`: rejection of a still or replayed picture of the owner.
    pub liveness: crate::verify::LivenessConfig,
    /// `[unlock]`: the unlock and lock commands, their timeout and the audit log.
    pub unlock: crate::verify::UnlockConfig,
    /// `[emotion]`: the per-face expression classifier (7 classes) and its smoothing.
    pub emotion: crate::emotion::EmotionConfig,
    /// `[monitor]`: the driver-mood monitor over the largest face, and its alerts.
    pub monitor: crate::emotion::MonitorConfig,
    /// `[mqtt]`: publishing events and the device state to an MQTT broker (`url = ""` = off).
    pub mqtt: super::outlets::mqtt::MqttConfig,
    /// `[http]`: the live view and local HTTP API (empty `bind` = off).
    pub http: super::outlets::http::HttpConfig,
    /// `[attention]`: driver attention (eye closure, yawning, head pose) on the driver's track.
    pub attention: crate::attention::AttentionConfig,
}

impl Config {
    /// Parses a config document; errors name the offending key.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let de = toml::Deserializer::parse(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let message = e.inner().message().to_string();
            if key.is_empty() || key == "." {
                ConfigError::Syntax {
                    path: path.to_path_buf(),
                    message,
                }
            } else {
                ConfigError::Key {
                    path: path.to_path_buf(),
                    key,
                    message,
                }
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let read = |source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        };
        let bytes = crate::core::check::read_bounded(path, MAX_CONFIG_BYTES).map_err(read)?;
        let text = String::from_utf8(bytes)
            .map_err(|e| read(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        Self::from_toml(&text, path)
    }

    /// The file to use when none is given: `$VIGIL_CONFIG`, then
    /// `config/vigil.toml` in the working directory, then the installation's
    /// file beside the binary ([`prefix_config`]), then `/etc/vigil/vigil.toml`.
    /// `None` means built-in defaults.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(CONFIG_ENV) {
            return Some(PathBuf::from(p));
        }
        let exe = std::env::current_exe().ok();
        search_paths(exe.as_deref())
            .into_iter()
            .find(|p| p.is_file())
    }

    /// Loads `explicit` if given, else the default file if one exists, else defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
        let path = explicit.map(Path::to_path_buf).or_else(Self::default_path);
        match path {
            Some(p) => Ok(Loaded {
                config: Self::from_file(&p)?,
                path: Some(p),
            }),
            None => Ok(Loaded {
                config: Self::default(),
                path: None,
            }),
        }
    }

    /// Range checks that serde's types cannot express. Errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.capture.validate()?;
        self.pipeline.validate()?;
        self.present.validate()?;
        self.scene.validate()?;
        self.detect.validate()?;
        self.track.validate()?;
        self.verify.validate()?;
        self.liveness.validate()?;
        self.unlock.validate()?;
        self.emotion.validate()?;
        self.monitor.validate()?;
        self.mqtt.validate()?;
        self.http.validate()?;
        self.attention.validate()?;
        Ok(())
    }
}

/// The config files tried in order when neither `--config` nor `$VIGIL_CONFIG`
/// is given, for a binary at `exe`.
pub fn search_paths(exe: Option<&Path>) -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from(REPO_CONFIG)];
    paths.extend(exe.and_then(prefix_config));
    let installed = PathBuf::from(INSTALLED_CONFIG);
    if !paths.contains(&installed) {
        paths.push(installed);
    }
    paths
}

/// The config file of the installation a binary belongs to, found from its
/// path: `<prefix>/bin/vigil` reads `<prefix>/etc/vigil/vigil.toml`, except
/// that a `usr` prefix reads the `etc` beside it, as the package installs it
/// (`/usr/bin/vigil` -> `/etc/vigil/vigil.toml`, and the same inside an
/// unpacked package: `ROOT/usr/bin/vigil` -> `ROOT/etc/vigil/vigil.toml`).
/// `None` when the binary is not in a `bin` directory (a `target/` build).
pub fn prefix_config(exe: &Path) -> Option<PathBuf> {
    let bin = exe.parent()?;
    if bin.file_name()? != "bin" {
        return None;
    }
    let prefix = bin.parent()?;
    let root = if prefix.file_name().is_some_and(|n| n == "usr") {
        prefix.parent()?
    } else {
        prefix
    };
    Some(root.join("etc/vigil/vigil.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("test.toml"))
    }

    #[test]
    fn empty_document_gives_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_is_named() {
        let err = parse("[capture]\nwidht = 3\n").unwrap_err().to_string();
        assert!(err.contains("widht"), "{err}");
    }

    #[test]
    fn bad_value_names_the_key() {
        let err = parse("[capture]\nwidth = \"wide\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("capture.width"), "{err}");
    }

    #[test]
    fn installed_binary_reads_etc() {
        let p = |s: &str| prefix_config(Path::new(s));
        assert_eq!(p("/usr/bin/vigil"), Some("/etc/vigil/vigil.toml".into()));
        assert_eq!(
            p("/usr/local/bin/vigil"),
            Some("/usr/local/etc/vigil/vigil.toml".into())
        );
        assert_eq!(
            p("/opt/vigil/bin/vigil"),
            Some("/opt/vigil/etc/vigil/vigil.toml".into())
        );
        // An unpacked .deb (dpkg-deb -x pkg.deb ROOT) finds its own /etc.
        assert_eq!(
            p("/tmp/root/usr/bin/vigil"),
            Some("/tmp/root/etc/vigil/vigil.toml".into())
        );
        assert_eq!(p("/bin/vigil"), Some("/etc/vigil/vigil.toml".into()));
        assert_eq!(p("/repo/target/release/vigil"), None);
        assert_eq!(p("vigil"), None);
    }

    #[test]
    fn checkout_config_comes_first_and_etc_last() {
        let unpacked = search_paths(Some(Path::new("/tmp/root/usr/bin/vigil")));
        assert_eq!(
            unpacked,
            vec![
                PathBuf::from(REPO_CONFIG),
                PathBuf::from("/tmp/root/etc/vigil/vigil.toml"),
                PathBuf::from(INSTALLED_CONFIG),
            ]
        );
        let installed = search_paths(Some(Path::new("/usr/bin/vigil")));
        assert_eq!(
            installed,
            vec![PathBuf::from(REPO_CONFIG), PathBuf::from(INSTALLED_CONFIG)]
        );
        let checkout = search_paths(Some(Path::new("/repo/target/debug/vigil")));
        assert_eq!(
            checkout,
            vec![PathBuf::from(REPO_CONFIG), PathBuf::from(INSTALLED_CONFIG)]
        );
    }

    #[test]
    fn out_of_range_names_the_key() {
        let err = parse("[pipeline]\nchannel_capacity = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pipeline.channel_capacity"), "{err}");
    }

    #[test]
    fn every_size_and_duration_has_an_upper_bound() {
        // Issue 20, part 4: values that passed "positive" and then panicked
        // (Duration::from_secs_f64) or sized an allocation.
        for (doc, key) in [
            ("[verify]\nrefresh_s = 1e300\n", "verify.refresh_s"),
            (
                "[emotion]\nforget_after_s = 1e20\n",
                "emotion.forget_after_s",
            ),
            ("[unlock]\nrelock_s = 1e300\n", "unlock.relock_s"),
            (
                "[pipeline]\nstats_interval_s = 1e300\n",
                "pipeline.stats_interval_s",
            ),
            (
                "[pipeline]\nchannel_capacity = 100000000\n",
                "pipeline.channel_capacity",
            ),
            ("[capture]\nwidth = 100000\n", "capture.width"),
            ("[capture]\nreplay_fps = 1e-300\n", "capture.replay_fps"),
            ("[http]\nstream_fps = 1e-300\n", "http.stream_fps"),
        ] {
            let err = parse(doc).unwrap_err().to_string();
            assert!(err.contains(key), "{doc}: {err}");
        }
        let long = format!("[unlock]\ncommand = [{}]\n", vec!["\"a\""; 65].join(", "));
        let err = parse(&long).unwrap_err().to_string();
        assert!(err.contains("unlock.command"), "{err}");
    }

    #[test]
    fn a_config_file_over_its_limit_is_refused_before_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.toml");
        std::fs::write(&p, vec![b'#'; MAX_CONFIG_BYTES as usize + 1]).unwrap();
        let err = Config::from_file(&p).unwrap_err().to_string();
        assert!(err.contains("big.toml") && err.contains("limit"), "{err}");
    }
}

#[cfg(test)]
mod documented_defaults {
    use super::*;

    /// config/vigil.toml documents the defaults: it must parse to exactly them.
    #[test]
    fn shipped_file_equals_built_in_defaults() {
        let text = include_str!("../../config/vigil.toml");
        let parsed = Config::from_toml(text, Path::new("config/vigil.toml")).unwrap();
        assert_eq!(parsed, Config::default());
    }

    /// Every key of the built-in defaults appears in the shipped file.
    #[test]
    fn shipped_file_names_every_key() {
        let text = include_str!("../../config/vigil.toml");
        let file: toml::Table = toml::from_str(text).unwrap();
        let defaults: toml::Table = toml::Table::try_from(Config::default()).unwrap();
        for (section, table) in &defaults {
            let Some(keys) = table.as_table() else {
                continue;
            };
            let documented = file
                .get(section)
                .and_then(|s| s.as_table())
                .unwrap_or_else(|| panic!("section [{section}] missing"));
            for key in keys.keys() {
                assert!(documented.contains_key(key), "{section}.{key} undocumented");
            }
        }
    }
}
