//! The MQTT outlet: events and the device state to a broker, with Home
//! Assistant discovery, availability (Last Will) and a spool on disk for
//! outages. See `config/vigil.toml` (`[mqtt]`) and README, "MQTT".
//!
//! Topics under `<topic_prefix>/<device_id>/`:
//!
//! | topic | retained | what |
//! |---|---|---|
//! | `availability` | yes | `online` once connected (after discovery and state); `offline` on a clean exit and as the Last Will |
//! | `state` | yes | [`DeviceState`] JSON, republished on change |
//! | `event/<kind>` | no (QoS 1) | every event but `frame`, with `id`, `ts`, `device`, `event_type`, `v` added |
//! | `snapshot/unknown` | no (QoS 1, not spooled) | with `mqtt.snapshots`: a JPEG of a face the verifier decided is unknown, once per track (dropped while disconnected) |
//!
//! and `<discovery_prefix>/device/vigil_<device_id>/config` (retained,
//! republished when `<discovery_prefix>/status` says `online`).

pub mod config;
pub mod connect;
pub mod discovery;
pub mod publisher;
pub mod spool;

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use thiserror::Error;

use super::clock::now_rfc3339;
use super::Outlet;
use crate::app::present::{DeviceState, Event};
use crate::core::check::ConfigError;
use crate::core::face::TrackId;
use crate::pipeline::worker::{spawn_task, spawn_worker, Worker, WorkerSendError, WorkerTx};

pub use config::MqttConfig;
use publisher::{Msg, Publisher, Report, Shared};
use spool::{Spool, SpoolError};

/// Payload of `availability` while connected.
pub const AVAILABILITY_ONLINE: &str = "online";
/// Payload of `availability` after a clean exit, and the Last Will.
pub const AVAILABILITY_OFFLINE: &str = "offline";
/// Version of the event payload schema (`v`).
pub const EVENT_SCHEMA_VERSION: u32 = 1;
/// Events queued between the presenter and the publisher; beyond this the
/// presenter drops events (counted) rather than wait.
pub const QUEUE_CAPACITY: usize = 4096;
/// Requests the MQTT client queues before `try_publish` defers.
pub const CLIENT_CAPACITY: usize = 128;

/// Why the outlet could not start.
#[derive(Debug, Error)]
pub enum MqttError {
    /// A bad `[mqtt]` setting.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The spool.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// TLS setup.
    #[error("MQTT TLS: {0}")]
    Tls(String),
    /// A worker thread.
    #[error("MQTT: {0}")]
    Thread(#[from] crate::pipeline::PipelineError),
}

/// The topics of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `mqtt.topic_prefix`.
    pub prefix: String,
    /// `mqtt.discovery_prefix`.
    pub discovery_prefix: String,
    /// The device id.
    pub device_id: String,
}

impl Topics {
    /// Topics for `device_id`.
    pub fn new(prefix: &str, discovery_prefix: &str, device_id: &str) -> Self {
        Self {
            prefix: prefix.into(),
            discovery_prefix: discovery_prefix.into(),
            device_id: device_id.into(),
        }
    }

    /// Topics of `config`'s device.
    pub fn of(config: &MqttConfig) -> Self {
        Self::new(
            &config.topic_prefix,
            &config.discovery_prefix,
            &config.device_id(),
        )
    }

    fn base(&self) -> String {
        format!("{}/{}", self.prefix, self.device_id)
    }

    /// `<prefix>/<id>/availability`.
    pub fn availability(&self) -> String {
        format!("{}/availability", self.base())
    }

    /// `<prefix>/<id>/state`.
    pub fn state(&self) -> String {
        format!("{}/state", self.base())
    }

    /// `<prefix>/<id>/event/<kind>`.
    pub fn event(&self, kind: &str) -> String {
        format!("{}/event/{kind}", self.base())
    }

    /// `<prefix>/<id>/snapshot/unknown`.
    pub fn snapshot_unknown(&self) -> String {
        format!("{}/snapshot/unknown", self.base())
    }

    /// `<discovery_prefix>/device/vigil_<id>/config`.
    pub fn discovery(&self) -> String {
        format!(
            "{}/device/vigil_{}/config",
            self.discovery_prefix, self.device_id
        )
    }

    /// `<discovery_prefix>/status` (Home Assistant's birth and will).
    pub fn ha_status(&self) -> String {
        format!("{}/status", self.discovery_prefix)
    }
}

/// Turns events into MQTT payloads: adds `id`, `ts`, `device`,
/// `event_type` and `v`; `frame` events are not published.
pub struct EventEncoder {
    boot_id: String,
    device: String,
    count: u64,
}

impl EventEncoder {
    /// An encoder for `device` with a fresh random boot id.
    pub fn new(device: &str) -> Self {
        let mut bytes = [0u8; 8];
        if let Err(e) = getrandom::fill(&mut bytes) {
            log::warn!("MQTT: no random boot id ({e}): using the clock");
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            bytes = (t.as_nanos() as u64).to_le_bytes();
        }
        Self {
            boot_id: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            device: device.into(),
            count: 0,
        }
    }

    /// The spool record (`<kind>\n<json>`) of `event`, `None` for frames.
    pub fn record(&mut self, event: &Event) -> Option<Vec<u8>> {
        let mut value = serde_json::to_value(event).ok()?;
        let kind = value.get("event")?.as_str()?.to_string();
        if kind == "frame" {
            return None;
        }
        self.count += 1;
        let event_type = event_type(&kind, &value);
        let obj = value.as_object_mut()?;
        obj.insert(
            "id".into(),
            format!("{}-{}", self.boot_id, self.count).into(),
        );
        obj.insert("ts".into(), now_rfc3339().into());
        obj.insert("device".into(), self.device.clone().into());
        obj.insert("event_type".into(), event_type.into());
        obj.insert("v".into(), EVENT_SCHEMA_VERSION.into());
        let mut record = kind.into_bytes();
        record.push(b'\n');
        record.extend(serde_json::to_vec(&value).ok()?);
        Some(record)
    }
}

/// The Home Assistant `event_type` of an event: the verify notice, the
/// emotion, `<alert>_<phase>`, else the event's kind.
fn event_type(kind: &str, v: &Value) -> String {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    match kind {
        "verify" => s("verify"),
        "emotion" => v
            .get("emotion")
            .and_then(|e| e.get("label"))
            .and_then(Value::as_str)
            .map(str::to_string),
        "alert" => s("kind").zip(s("phase")).map(|(k, p)| format!("{k}_{p}")),
        _ => None,
    }
    .unwrap_or_else(|| kind.to_string())
}

/// The MQTT outlet of a run.
pub struct MqttOutlet {
    tx: WorkerTx<Msg>,
    publisher: Option<Worker>,
    report: Arc<std::sync::Mutex<Option<Report>>>,
    encoder: EventEncoder,
    net: Option<Worker>,
    shared: Arc<Shared>,
    /// `mqtt.snapshots`.
    snapshots: bool,
    /// Live tracks already pictured (one snapshot per track at most).
    pictured: std::collections::HashSet<TrackId>,
}

impl MqttOutlet {
    /// Opens the spool in `spool_dir` (from the state directory), starts the
    /// publisher and the connection. Never waits for the broker.
    pub fn open(config: &MqttConfig, state_dir: &Path) -> Result<Self, MqttError> {
        let broker = config
            .broker()?
            .ok_or_else(|| ConfigError::invalid("mqtt.url", "is empty: MQTT is off"))?;
        let topics = Topics::of(config);
        let options = connect::options(config, &broker, &topics)?;
        let spool = Spool::open(&config.spool_dir(state_dir), config.spool_max_bytes())?;
        if spool.torn() > 0 {
            log::warn!(
                "MQTT spool: {} torn record(s) dropped at open",
                spool.torn()
            );
        }
        let (client, mut connection) = rumqttc::Client::new(options, CLIENT_CAPACITY);
        connection
            .eventloop
            .network_options
            .set_connection_timeout(connect::CONNECT_TIMEOUT_S);
        let shared = Arc::new(Shared::default());
        let discovery = discovery::message(&topics, config.snapshots).to_string();
        let encoder = EventEncoder::new(&topics.device_id);
        let ha_status = topics.ha_status();
        let publisher = Publisher::new(
            client,
            spool,
            topics,
            discovery,
            broker.clone(),
            shared.clone(),
        );
        let report = Arc::new(std::sync::Mutex::new(None));
        let out = report.clone();
        let (tx, worker) = spawn_worker("mqtt-publish", QUEUE_CAPACITY, move |rx| {
            let r = publisher.run(rx);
            if let Ok(mut slot) = out.lock() {
                *slot = Some(r);
            }
        })?;
        let net_tx = tx.clone();
        let net_shared = shared.clone();
        let net = spawn_task("mqtt-net", move || {
            publisher::drive(connection, net_tx, net_shared, broker, ha_status)
        })?;
        log::info!("MQTT: publishing as device {}", encoder.device);
        Ok(Self {
            tx,
            publisher: Some(worker),
            report,
            encoder,
            net: Some(net),
            shared,
            snapshots: config.snapshots,
            pictured: std::collections::HashSet::new(),
        })
    }

    /// The spool's size in bytes, kept current by the publisher.
    pub fn spool_gauge(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.shared.spool_bytes.clone()
    }

    fn queue(&self, msg: Msg) {
        if let Err(WorkerSendError::Full) = self.tx.try_send(msg) {
            if self.tx.dropped() == 1 {
                log::warn!("MQTT: the publisher is behind: events are being dropped");
            }
        }
    }
}

impl Outlet for MqttOutlet {
    fn event(&mut self, event: &Event) {
        if let Event::TrackEnded { track, .. } = event {
            self.pictured.remove(track);
        }
        if let Some(record) = self.encoder.record(event) {
            self.queue(Msg::Event(record));
        }
    }

    fn state(&mut self, state: &DeviceState) {
        if let Ok(json) = serde_json::to_string(state) {
            self.queue(Msg::State(json));
        }
    }

    fn wants_unknown_faces(&self) -> bool {
        self.snapshots
    }

    fn unknown_face(&mut self, track: TrackId, crop: &image::RgbImage) {
        if self.snapshots && self.pictured.insert(track) {
            self.queue(Msg::Snapshot(crop.clone()));
        }
    }

    fn close(&mut self) -> Option<String> {
        let worker = self.publisher.take()?;
        let _ = self.tx.send(Msg::Stop);
        if let Err(e) = worker.join() {
            log::warn!("{e}");
        }
        self.shared
            .stop
            .store(true, std::sync::atomic::Ordering::Release);
        // The network worker ends at its next wake-up; a finished one is joined.
        if let Some(net) = self.net.take().filter(Worker::is_finished) {
            let _ = net.join();
        }
        let r = self.report.lock().ok()?.take()?;
        let queue_dropped = self.tx.dropped();
        let line = format!(
            "mqtt: {} event(s) delivered, {}, {} dropped (spool full), {} torn, {} dropped (queue full){}",
            r.delivered,
            if r.pending { "some left in the spool for the next run" } else { "spool empty" },
            r.spool_dropped,
            r.torn,
            queue_dropped,
            if r.said_offline { "" } else { ", offline not acknowledged" }
        );
        if r.spool_dropped + r.torn + queue_dropped > 0 {
            log::warn!("{line}");
        } else {
            log::debug!("{line}");
        }
        Some(line)
    }
}

impl Drop for MqttOutlet {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_get_id_ts_device_type_and_version_but_frames_are_skipped() {
        let mut enc = EventEncoder::new("van7");
        let frame = Event::Frame {
            seq: 1,
            media_time_s: 0.0,
            latency_ms: 1.0,
            faces: vec![],
            scene: None,
        };
        assert!(enc.record(&frame).is_none());
        let ev = Event::TrackStarted {
            seq: 4,
            media_time_s: 0.1,
            track: crate::core::face::TrackId(3),
        };
        let rec = enc.record(&ev).unwrap();
        let (kind, json) = publisher::split_record(&rec).unwrap();
        assert_eq!(kind, "track_started");
        let v: Value = serde_json::from_slice(json).unwrap();
        assert_eq!(v["seq"], 4);
        assert_eq!(v["device"], "van7");
        assert_eq!(v["event_type"], "track_started");
        assert_eq!(v["v"], EVENT_SCHEMA_VERSION);
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        let id1 = v["id"].as_str().unwrap().to_string();
        let rec2 = enc.record(&ev).unwrap();
        let v2: Value = serde_json::from_slice(publisher::split_record(&rec2).unwrap().1).unwrap();
        assert_ne!(v2["id"].as_str().unwrap(), id1);
        assert_ne!(EventEncoder::new("van7").boot_id, enc.boot_id);
    }
}
