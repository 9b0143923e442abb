//! `[mqtt]`: the MQTT outlet (owned by [`super`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::core::check::ConfigError;

/// Default port of `mqtt://`.
pub const MQTT_PORT: u16 = 1883;
/// Default port of `mqtts://` (MQTT over TLS).
pub const MQTTS_PORT: u16 = 8883;
/// Default `mqtt.spool_max_mb`.
pub const DEFAULT_SPOOL_MAX_MB: u32 = 64;
/// Name of the spool directory in the state directory when `mqtt.spool_dir` is unset.
pub const SPOOL_DIR_NAME: &str = "mqtt-spool";

/// `[mqtt]`: publish events and state to an MQTT broker (off while `url` is empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// `mqtt://host:port` or `mqtts://host:port`; empty = no MQTT.
    pub url: String,
    /// Topic level naming this device; empty = derived from /etc/machine-id
    /// (else the hostname). Only `[A-Za-z0-9_-]`.
    pub device_id: String,
    /// First topic level.
    pub topic_prefix: String,
    /// Home Assistant's discovery prefix.
    pub discovery_prefix: String,
    /// User name; empty = anonymous.
    pub username: String,
    /// File holding the password (mode 0600; never in the config itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// PEM file of the CA(s) that sign the broker's certificate (`mqtts://`);
    /// unset = the system's trust store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Spool directory; unset = `<state_dir>/mqtt-spool`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spool_dir: Option<PathBuf>,
    /// Most megabytes the spool keeps; the oldest events go first.
    pub spool_max_mb: u32,
    /// Publish a JPEG of each unknown face (once per track) on
    /// `<topic_prefix>/<device_id>/snapshot/unknown`, and a Home Assistant
    /// `image` entity for it. Off by default: pictures of people leave the
    /// device. Embeddings are never published.
    pub snapshots: bool,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            device_id: String::new(),
            topic_prefix: "vigil".into(),
            discovery_prefix: "homeassistant".into(),
            username: String::new(),
            password_file: None,
            ca_file: None,
            spool_dir: None,
            spool_max_mb: DEFAULT_SPOOL_MAX_MB,
            snapshots: false,
        }
    }
}

/// A parsed `mqtt.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `mqtts://`.
    pub tls: bool,
}

impl std::fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Parses `mqtt://host[:port]` / `mqtts://host[:port]` (IPv6 as `[::1]`).
/// No user, path or query: credentials belong in `username` / `password_file`.
pub fn parse_url(url: &str) -> Result<BrokerUrl, ConfigError> {
    let bad = |why: &str| ConfigError::invalid("mqtt.url", format!("{why} (got {url:?})"));
    let (tls, rest) = if let Some(r) = url.strip_prefix("mqtt://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("mqtts://") {
        (true, r)
    } else {
        return Err(bad("must start with mqtt:// or mqtts://"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('@') {
        return Err(bad(
            "no user or password in the URL: use mqtt.username and mqtt.password_file",
        ));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(bad("must be scheme://host:port with no path or query"));
    }
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
        (h, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty()
        || host.contains([' ', '[', ']'])
        || (host.contains(':') && !rest.starts_with('['))
    {
        return Err(bad("no valid host"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("port must be 1 to 65535"))?,
        None if tls => MQTTS_PORT,
        None => MQTT_PORT,
    };
    Ok(BrokerUrl {
        host: host.to_string(),
        port,
        tls,
    })
}

/// Whether `id` is a valid device id: non-empty, only `[A-Za-z0-9_-]`.
pub fn valid_device_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A topic level or prefix may hold no MQTT wildcard and not be empty.
fn check_topic(key: &str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty()
        || value.contains(['+', '#', '\0'])
        || value.starts_with('/')
        || value.ends_with('/')
    {
        return Err(ConfigError::invalid(
            key,
            format!("must be a non-empty topic without '+', '#' or a leading/trailing '/' (got {value:?})"),
        ));
    }
    Ok(())
}

impl MqttConfig {
    /// Whether MQTT is on.
    pub fn enabled(&self) -> bool {
        !self.url.is_empty()
    }

    /// Range checks; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.enabled() {
            parse_url(&self.url)?;
        }
        if !self.device_id.is_empty() && !valid_device_id(&self.device_id) {
            return Err(ConfigError::invalid(
                "mqtt.device_id",
                format!(
                    "only letters, digits, '_' and '-' are allowed (got {:?})",
                    self.device_id
                ),
            ));
        }
        check_topic("mqtt.topic_prefix", &self.topic_prefix)?;
        check_topic("mqtt.discovery_prefix", &self.discovery_prefix)?;
        if self.spool_max_mb == 0 {
            return Err(ConfigError::invalid(
                "mqtt.spool_max_mb",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// The broker URL (`None` when MQTT is off).
    pub fn broker(&self) -> Result<Option<BrokerUrl>, ConfigError> {
        self.enabled().then(|| parse_url(&self.url)).transpose()
    }

    /// The device id: the configured one, else derived from this machine.
    pub fn device_id(&self) -> String {
        if !self.device_id.is_empty() {
            return self.device_id.clone();
        }
        derive_device_id(
            std::fs::read_to_string("/etc/machine-id").ok().as_deref(),
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .as_deref(),
        )
    }

    /// The spool directory for the state directory `state_dir`.
    pub fn spool_dir(&self, state_dir: &Path) -> PathBuf {
        match &self.spool_dir {
            Some(d) if d.is_absolute() => d.clone(),
            Some(d) => state_dir.join(d),
            None => state_dir.join(SPOOL_DIR_NAME),
        }
    }

    /// The spool's bound in bytes.
    pub fn spool_max_bytes(&self) -> u64 {
        u64::from(self.spool_max_mb) * 1024 * 1024
    }
}

/// Characters of a derived device id taken from the machine id's hash.
pub const DERIVED_ID_LEN: usize = 12;

/// A device id from the machine id (hashed with an app-specific prefix, so
/// the machine id itself never goes on the network, as systemd recommends),
/// else the hostname with invalid characters replaced by `_`, else `vigil`.
pub fn derive_device_id(machine_id: Option<&str>, hostname: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    if let Some(m) = machine_id.map(str::trim).filter(|m| !m.is_empty()) {
        let digest = Sha256::digest(format!("vigil-mqtt:{m}").as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        return hex[..DERIVED_ID_LEN].to_string();
    }
    if let Some(h) = hostname.map(str::trim).filter(|h| !h.is_empty()) {
        return h
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
    }
    "vigil".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("mqtt://broker.local").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.tls),
            ("broker.local", 1883, false)
        );
        let u = parse_url("mqtts://10.0.0.2:1884/").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.tls), ("10.0.0.2", 1884, true));
        let u = parse_url("mqtts://[::1]").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 8883));
        assert_eq!(u.to_string(), "mqtts://[::1]:8883");
        for bad in [
            "http://x",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:99999",
            "mqtt://u:p@h",
            "mqtt://h/topic",
            "broker:1883",
        ] {
            let e = parse_url(bad).unwrap_err().to_string();
            assert!(e.contains("mqtt.url"), "{bad}: {e}");
        }
    }

    #[test]
    fn device_ids() {
        assert!(valid_device_id("van-12_a"));
        for bad in ["a/b", "a#", "a+b", "a b", ""] {
            assert!(!valid_device_id(bad), "{bad}");
        }
        let c = MqttConfig {
            device_id: "a/b".into(),
            ..Default::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("mqtt.device_id"));
        let id = derive_device_id(Some("0123456789abcdef0123456789abcdef\n"), Some("h"));
        assert_eq!(id.len(), DERIVED_ID_LEN);
        assert!(valid_device_id(&id));
        assert_eq!(derive_device_id(None, Some("my.host\n")), "my_host");
        assert_eq!(derive_device_id(None, None), "vigil");
    }
}
