//! Connection settings (TLS, credentials, Last Will) and what a failure to
//! connect means, in words.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{ConnectReturnCode, ConnectionError, LastWill, MqttOptions, QoS, Transport};

use super::config::{BrokerUrl, MqttConfig};
use super::{MqttError, Topics, AVAILABILITY_OFFLINE};

/// MQTT keep-alive: the broker declares the device gone (Last Will) after
/// about 1.5 times this without traffic.
pub const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// Seconds to establish TCP, TLS and the MQTT session.
pub const CONNECT_TIMEOUT_S: u64 = 10;
/// Largest MQTT packet sent or received (the discovery message is ~3 KB).
pub const MAX_PACKET_BYTES: usize = 256 * 1024;

/// Broad kinds of connection failure, for logs and `vigil mqtt check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on the port.
    Refused,
    /// The TLS handshake failed (certificate, name, protocol).
    Tls,
    /// The broker refused the user name or password, or the client.
    Auth,
    /// No answer in time.
    Timeout,
    /// Anything else on the way (reset, closed).
    Network,
}

impl FailureKind {
    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Dns => "DNS",
            FailureKind::Refused => "connection refused",
            FailureKind::Tls => "TLS",
            FailureKind::Auth => "authentication",
            FailureKind::Timeout => "timeout",
            FailureKind::Network => "network",
        }
    }
}

/// What went wrong connecting to `broker`, in words (never the password).
pub fn describe(e: &ConnectionError, broker: &BrokerUrl) -> (FailureKind, String) {
    let at = format!("{}:{}", broker.host, broker.port);
    match e {
        ConnectionError::Io(io) => describe_io(io, &at),
        ConnectionError::Tls(t) => {
            if let rumqttc::TlsError::Io(io) = t {
                let (kind, _) = describe_io(io, &at);
                if matches!(kind, FailureKind::Dns | FailureKind::Refused) {
                    return describe_io(io, &at);
                }
            }
            (
                FailureKind::Tls,
                format!("TLS handshake with {at} failed: {t}"),
            )
        }
        ConnectionError::ConnectionRefused(code) => match code {
            ConnectReturnCode::BadUserNamePassword => (
                FailureKind::Auth,
                format!("the broker at {at} refused the user name or password"),
            ),
            ConnectReturnCode::NotAuthorized => (
                FailureKind::Auth,
                format!(
                    "the broker at {at} refused the login: not authorized (wrong user name or password?)"
                ),
            ),
            other => (
                FailureKind::Auth,
                format!("the broker at {at} refused the connection: {other:?}"),
            ),
        },
        ConnectionError::NetworkTimeout => (
            FailureKind::Timeout,
            format!("no answer from {at} within {CONNECT_TIMEOUT_S} s"),
        ),
        other => (FailureKind::Network, format!("connection to {at}: {other}")),
    }
}

fn describe_io(io: &std::io::Error, at: &str) -> (FailureKind, String) {
    let text = io.to_string();
    if io.kind() == std::io::ErrorKind::ConnectionRefused {
        (
            FailureKind::Refused,
            format!("connection refused by {at} (is the broker running?)"),
        )
    } else if text.contains("lookup") || text.contains("resolve") || text.contains("not known") {
        (FailureKind::Dns, format!("cannot resolve {at}: {text}"))
    } else if text.contains("certificate")
        || text.contains("InvalidCertificate")
        || text.contains("tls")
    {
        (
            FailureKind::Tls,
            format!("TLS handshake with {at} failed: {text}"),
        )
    } else {
        (FailureKind::Network, format!("connection to {at}: {text}"))
    }
}

/// Reads the password file, refusing one that group or others can read.
pub fn read_password(path: &Path) -> Result<String, MqttError> {
    Ok(crate::app::secrets::read_secret(
        path,
        "mqtt.password_file",
    )?)
}

/// The TLS client configuration: ring, the CA file or the system's roots.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, MqttError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let bad =
        |m: String| MqttError::Config(crate::core::check::ConfigError::invalid("mqtt.ca_file", m));
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
            for cert in certs {
                let cert = cert.map_err(|e| bad(format!("{}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("{}: {e}", path.display())))?;
            }
            if roots.is_empty() {
                return Err(bad(format!("{} holds no certificate", path.display())));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(MqttError::Tls(
                    "no system CA certificates found: set mqtt.ca_file".into(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| MqttError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// MQTT options for `config`: client id, clean session, keep-alive, the Last
/// Will (`offline`, retained, on the availability topic), credentials, TLS.
pub fn options(
    config: &MqttConfig,
    broker: &BrokerUrl,
    topics: &Topics,
) -> Result<MqttOptions, MqttError> {
    let mut o = MqttOptions::new(
        format!("vigil-{}", topics.device_id),
        broker.host.clone(),
        broker.port,
    );
    o.set_keep_alive(KEEP_ALIVE)
        .set_clean_session(true)
        .set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES)
        .set_last_will(LastWill::new(
            topics.availability(),
            AVAILABILITY_OFFLINE,
            QoS::AtLeastOnce,
            true,
        ));
    if !config.username.is_empty() {
        let password = match &config.password_file {
            Some(p) => read_password(p)?,
            None => String::new(),
        };
        o.set_credentials(config.username.clone(), password);
    } else if config.password_file.is_some() {
        return Err(MqttError::Config(crate::core::check::ConfigError::invalid(
            "mqtt.username",
            "mqtt.password_file is set but no user name is",
        )));
    }
    if broker.tls {
        let tls = tls_config(config.ca_file.as_deref())?;
        o.set_transport(Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(Arc::new(tls)),
        ));
    }
    Ok(o)
}
