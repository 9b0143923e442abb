//! `vigil mqtt check`: connect to the configured broker once and say what
//! happened (DNS, refused, TLS, authentication), then print the Home
//! Assistant discovery message. Exits non-zero on failure.

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rumqttc::{Event, Incoming};

use crate::app::config::Config;
use crate::app::outlets::mqtt::connect::{self, describe, FailureKind};
use crate::app::outlets::mqtt::{discovery, Topics};

/// How long `vigil mqtt check` waits for the broker's answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Flags of `vigil mqtt`.
#[derive(Debug, Args)]
pub struct MqttArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: MqttAction,
}

/// `vigil mqtt` actions.
#[derive(Debug, Subcommand)]
pub enum MqttAction {
    /// Connect with the config's [mqtt] settings, report success or the exact
    /// failure, and print the discovery message.
    Check,
}

/// `vigil mqtt`.
pub fn run(config: Config, args: &MqttArgs) -> anyhow::Result<()> {
    match args.action {
        MqttAction::Check => check(&config),
    }
}

fn check(config: &Config) -> anyhow::Result<()> {
    let mqtt = &config.mqtt;
    let Some(broker) = mqtt.broker()? else {
        bail!("MQTT is off: set mqtt.url in the config (mqtt://host:port or mqtts://host:port)");
    };
    let topics = Topics::of(mqtt);
    println!("broker:    {broker}");
    println!("device id: {}", topics.device_id);
    println!(
        "user:      {}",
        if mqtt.username.is_empty() {
            "(anonymous)"
        } else {
            &mqtt.username
        }
    );
    // Resolve first: a DNS failure is then named as such.
    let addrs: Vec<_> = (broker.host.as_str(), broker.port)
        .to_socket_addrs()
        .map_err(|e| anyhow::anyhow!("FAIL DNS: cannot resolve {}: {e}", broker.host))?
        .collect();
    if addrs.is_empty() {
        bail!("FAIL DNS: {} resolves to no address", broker.host);
    }
    let options = connect::options(mqtt, &broker, &topics).context("FAIL config")?;
    let (client, mut connection) = rumqttc::Client::new(options, 10);
    connection
        .eventloop
        .network_options
        .set_connection_timeout(connect::CONNECT_TIMEOUT_S);
    let started = Instant::now();
    let outcome = loop {
        match connection.recv_timeout(CHECK_TIMEOUT) {
            Ok(Ok(Event::Incoming(Incoming::ConnAck(_)))) => break Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => break Err(describe(&e, &broker)),
            Err(_) => {
                break Err((
                    FailureKind::Timeout,
                    format!(
                        "no answer from {broker} within {} s",
                        CHECK_TIMEOUT.as_secs()
                    ),
                ))
            }
        }
        if started.elapsed() > CHECK_TIMEOUT {
            break Err((FailureKind::Timeout, format!("no answer from {broker}")));
        }
    };
    let _ = client.try_disconnect();
    match outcome {
        Ok(()) => {
            println!(
                "OK: connected to {broker} in {} ms",
                started.elapsed().as_millis()
            );
            println!("discovery topic: {}", topics.discovery());
            println!(
                "{}",
                serde_json::to_string_pretty(&discovery::message(&topics, mqtt.snapshots))?
            );
            Ok(())
        }
        Err((kind, message)) => bail!("FAIL {}: {message}", kind.name()),
    }
}
