//! `[http]`: the live view and local API (see `config/vigil.toml`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::check::{in_range, positive, ConfigError};

/// `[http]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// `ADDR:PORT` to listen on; empty = off (`--http ADDR` turns it on).
    pub bind: String,
    /// File holding the access token (mode 0600). Required for any bind
    /// that is not loopback; optional on loopback (then every request needs it).
    pub token_file: Option<PathBuf>,
    /// Most MJPEG viewers at once; one more gets 503.
    pub max_viewers: u32,
    /// Frames per second of the MJPEG stream (a viewer may ask for fewer).
    pub stream_fps: f64,
    /// Width in pixels of the streamed frames (0 = the overlay's own width).
    pub stream_width: u32,
    /// Most connections served at once (viewers, event streams, requests).
    pub max_connections: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind: String::new(),
            token_file: None,
            max_viewers: 4,
            stream_fps: 10.0,
            stream_width: 640,
            max_connections: 16,
        }
    }
}

impl HttpConfig {
    /// Whether the server runs.
    pub fn enabled(&self) -> bool {
        !self.bind.trim().is_empty()
    }

    /// The address to listen on (`None` when off).
    pub fn addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        if !self.enabled() {
            return Ok(None);
        }
        let bind = self.bind.trim();
        let addr = bind
            .parse::<SocketAddr>()
            .or_else(|_| {
                // "localhost:8080" as a convenience.
                match bind.strip_prefix("localhost:") {
                    Some(port) => format!("127.0.0.1:{port}").parse(),
                    None => bind.parse(),
                }
            })
            .map_err(|_| {
                ConfigError::invalid(
                    "http.bind",
                    format!("`{bind}` is not ADDR:PORT (e.g. 127.0.0.1:8080)"),
                )
            })?;
        Ok(Some(addr))
    }

    /// Range checks; a non-loopback bind without a token is refused, naming `http.token`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("http.max_viewers", self.max_viewers as f64)?;
        in_range(
            "http.stream_fps",
            self.stream_fps,
            super::routes::MIN_STREAM_FPS,
            super::routes::MAX_STREAM_FPS,
        )?;
        positive("http.max_connections", self.max_connections as f64)?;
        if let Some(addr) = self.addr()? {
            if !addr.ip().is_loopback() && self.token_file.is_none() {
                return Err(ConfigError::invalid(
                    "http.token",
                    format!(
                        "binding {addr} (not loopback) needs a token: set http.token_file to a \
                         file of mode 0600 holding it"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_loopback_needs_no_token() {
        let c = HttpConfig::default();
        assert!(!c.enabled());
        assert!(c.validate().is_ok());
        let c = HttpConfig {
            bind: "127.0.0.1:8080".into(),
            ..HttpConfig::default()
        };
        assert!(c.validate().is_ok());
        let c = HttpConfig {
            bind: "localhost:8080".into(),
            ..HttpConfig::default()
        };
        assert_eq!(c.addr().unwrap().unwrap().port(), 8080);
    }

    #[test]
    fn an_open_bind_without_a_token_names_http_token() {
        let c = HttpConfig {
            bind: "0.0.0.0:8080".into(),
            ..HttpConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("http.token"), "{e}");
        let c = HttpConfig {
            token_file: Some("/etc/vigil/token".into()),
            ..c
        };
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_bad_bind_names_http_bind() {
        let c = HttpConfig {
            bind: "nowhere".into(),
            ..HttpConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("http.bind"));
    }
}
