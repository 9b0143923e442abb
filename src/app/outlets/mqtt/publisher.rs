//! The publisher: a background worker that owns the spool and the MQTT
//! client, and a network worker that drives the client's connection.
//!
//! ```text
//! presenter ─try_send─▶ [queue] ─▶ publisher ─append─▶ spool ─read in order─▶ broker
//!                          ▲                                                    │
//!                          └──── network worker (connect, PUBACK, reconnect) ◀──┘
//! ```
//! The presenter never waits: a full queue drops the event and counts it.
//! The publisher appends every event to the spool, sends records in order
//! with at most [`WINDOW`] awaiting their PUBACK, and moves the spool's acked
//! position only over acknowledged records. On a lost connection it resends
//! from the acked position; the network worker reconnects with back-off
//! ([`BACKOFF_MIN`] doubling to [`BACKOFF_MAX`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{Client, Connection, Event, Incoming, Outgoing, QoS};

use super::config::BrokerUrl;
use super::connect::{describe, FailureKind};
use super::spool::{Pos, Spool};
use super::{Topics, AVAILABILITY_OFFLINE, AVAILABILITY_ONLINE};
use crate::pipeline::worker::{WorkerRecvError, WorkerRx, WorkerTx};

/// Records sent and not yet acknowledged, at most.
pub const WINDOW: usize = 32;
/// How often the publisher wakes with nothing to do (fsync, ack persistence).
pub const TICK: Duration = Duration::from_millis(50);
/// How often the acked position is written to disk while events flow.
pub const ACK_PERSIST_INTERVAL: Duration = Duration::from_secs(1);
/// First reconnect delay.
pub const BACKOFF_MIN: Duration = Duration::from_millis(500);
/// Longest reconnect delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// At the end of a run, how long a connected publisher keeps delivering the
/// spool before it gives up (the rest is delivered by the next run).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long the `offline` message may take to be acknowledged at the end.
pub const OFFLINE_GRACE: Duration = Duration::from_secs(3);
/// How long `online` waits for the first device state after connecting
/// (the presenter sends it at once; this only covers an outlet without one).
pub const FIRST_STATE_WAIT: Duration = Duration::from_secs(1);
/// How long the network worker waits for the publisher to see a lost
/// connection before it cleans the client's queue anyway.
const DOWN_HANDSHAKE: Duration = Duration::from_secs(2);

/// What the publisher receives.
pub enum Msg {
    /// A spool record (`<kind>\n<json>`).
    Event(Vec<u8>),
    /// The device state's JSON (retained on the `state` topic).
    State(String),
    /// A crop of an unknown face: encoded as JPEG and published on
    /// `snapshot/unknown` while connected (never spooled).
    Snapshot(image::RgbImage),
    /// From the network worker.
    Net(Net),
    /// The run is over.
    Stop,
}

/// JPEG quality of the snapshots.
pub const SNAPSHOT_JPEG_QUALITY: u8 = 85;

/// `crop` as a JPEG.
pub fn encode_jpeg(crop: &image::RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, SNAPSHOT_JPEG_QUALITY)
        .encode_image(crop)?;
    Ok(out)
}

/// What the network worker reports.
pub enum Net {
    /// The broker accepted the session.
    Connected,
    /// The connection is gone or could not be made (`generation` counts these).
    Down {
        /// Number of this loss.
        generation: u64,
        /// Its kind.
        kind: FailureKind,
        /// In words.
        message: String,
    },
    /// The client sent a publish with this packet id.
    Published(u16),
    /// The broker acknowledged this packet id.
    Acked(u16),
    /// Home Assistant came online: discovery must be sent again.
    HaOnline,
}

/// State shared by the two workers.
#[derive(Default)]
pub struct Shared {
    /// Set when the run is over.
    pub stop: AtomicBool,
    /// The last `Down` generation the publisher has handled.
    pub seen_generation: AtomicU64,
    /// Bytes in the spool (a gauge for `/metrics`).
    pub spool_bytes: Arc<AtomicU64>,
}

/// What a publish was for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tag {
    /// A spool record ending at this position.
    Record(Pos),
    /// The `offline` message at the end.
    Offline,
    /// Discovery, state, `online`.
    Other,
}

/// Counters reported at the end of the run.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Spool records acknowledged by the broker.
    pub delivered: u64,
    /// Records still in the spool at the end.
    pub pending: bool,
    /// Undelivered records dropped because the spool was full.
    pub spool_dropped: u64,
    /// Torn or corrupt records dropped.
    pub torn: u64,
    /// Whether the broker acknowledged `offline` at the end.
    pub said_offline: bool,
}

/// The publisher's state (runs on its worker thread).
pub struct Publisher {
    client: Client,
    spool: Spool,
    topics: Topics,
    discovery: String,
    broker: BrokerUrl,
    shared: Arc<Shared>,
    state: Option<String>,
    connected: bool,
    cursor: Pos,
    /// Publishes sent, waiting for their packet id, in order.
    awaiting_id: VecDeque<Tag>,
    /// Publishes with their packet id, waiting for PUBACK.
    awaiting_ack: Vec<(u16, Tag)>,
    /// Records in flight, in spool order, and whether each is acknowledged.
    records: VecDeque<(Pos, bool)>,
    last_failure: Option<String>,
    ever_connected: bool,
    last_ack_persist: Instant,
    offline_acked: bool,
    /// Connected before the first state arrived: `online` waits for it
    /// (at most [`FIRST_STATE_WAIT`] from this instant).
    announce_pending: Option<Instant>,
    report: Report,
}

impl Publisher {
    /// A publisher over `client` and `spool`.
    pub fn new(
        client: Client,
        spool: Spool,
        topics: Topics,
        discovery: String,
        broker: BrokerUrl,
        shared: Arc<Shared>,
    ) -> Self {
        let cursor = spool.acked();
        Self {
            client,
            spool,
            topics,
            discovery,
            broker,
            shared,
            state: None,
            connected: false,
            cursor,
            awaiting_id: VecDeque::new(),
            awaiting_ack: Vec::new(),
            records: VecDeque::new(),
            last_failure: None,
            ever_connected: false,
            last_ack_persist: Instant::now(),
            offline_acked: false,
            announce_pending: None,
            report: Report::default(),
        }
    }

    /// The worker's body: runs until [`Msg::Stop`] (or every sender is
    /// gone), then delivers what it can within [`SHUTDOWN_GRACE`], says
    /// `offline` and disconnects. Returns the counters.
    pub fn run(mut self, rx: WorkerRx<Msg>) -> Report {
        loop {
            match rx.recv_timeout(TICK) {
                Ok(Msg::Stop) | Err(WorkerRecvError::Disconnected) => break,
                Ok(msg) => self.handle(msg),
                Err(WorkerRecvError::Timeout) => {}
            }
            while let Some(msg) = rx.try_recv() {
                if matches!(msg, Msg::Stop) {
                    return self.shutdown(&rx);
                }
                self.handle(msg);
            }
            self.housekeeping();
        }
        self.shutdown(&rx)
    }

    fn shutdown(mut self, rx: &WorkerRx<Msg>) -> Report {
        // Events queued before Stop are already handled; make them durable.
        if let Err(e) = self.spool.sync() {
            log::warn!("{e}");
        }
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while self.connected && Instant::now() < deadline && !self.all_delivered() {
            self.step(rx);
        }
        if self.connected {
            self.publish(
                &self.topics.availability(),
                AVAILABILITY_OFFLINE.as_bytes().to_vec(),
                true,
                Tag::Offline,
            );
            let deadline = Instant::now() + OFFLINE_GRACE;
            while self.connected && !self.offline_acked && Instant::now() < deadline {
                self.step(rx);
            }
        }
        self.shared.stop.store(true, Ordering::Release);
        let _ = self.client.try_disconnect();
        if let Err(e) = self.spool.persist_ack() {
            log::warn!("{e}");
        }
        self.report.pending = !self.all_delivered();
        self.report.spool_dropped = self.spool.dropped();
        self.report.torn = self.spool.torn();
        self.report.said_offline = self.offline_acked;
        self.report
    }

    fn step(&mut self, rx: &WorkerRx<Msg>) {
        match rx.recv_timeout(TICK) {
            Ok(Msg::Stop) | Err(_) => {}
            Ok(msg) => self.handle(msg),
        }
        self.housekeeping();
    }

    fn all_delivered(&mut self) -> bool {
        self.records.is_empty() && self.spool.all_acked().unwrap_or(false)
    }

    fn housekeeping(&mut self) {
        if self
            .announce_pending
            .is_some_and(|t| t.elapsed() >= FIRST_STATE_WAIT)
        {
            if self.connected {
                self.announce();
            } else {
                self.announce_pending = None;
            }
        }
        self.shared
            .spool_bytes
            .store(self.spool.total_bytes(), Ordering::Relaxed);
        if let Err(e) = self.spool.sync_if_due() {
            log::warn!("{e}");
        }
        if self.last_ack_persist.elapsed() >= ACK_PERSIST_INTERVAL {
            if let Err(e) = self.spool.persist_ack() {
                log::warn!("{e}");
            }
            self.last_ack_persist = Instant::now();
        }
        self.pump();
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Event(record) => {
                if let Err(e) = self.spool.append(&record) {
                    log::warn!("MQTT: event not spooled: {e}");
                }
            }
            Msg::State(json) => {
                if self.connected && self.announce_pending.is_some() {
                    self.state = Some(json);
                    self.announce();
                    return;
                }
                if self.connected {
                    self.publish(
                        &self.topics.state(),
                        json.clone().into_bytes(),
                        true,
                        Tag::Other,
                    );
                }
                self.state = Some(json);
            }
            Msg::Snapshot(crop) => {
                if !self.connected {
                    log::debug!("MQTT: snapshot dropped: not connected");
                    return;
                }
                match encode_jpeg(&crop) {
                    Ok(jpeg) => {
                        self.publish(&self.topics.snapshot_unknown(), jpeg, false, Tag::Other);
                    }
                    Err(e) => log::warn!("MQTT: snapshot not encoded: {e}"),
                }
            }
            Msg::Net(net) => self.handle_net(net),
            Msg::Stop => {}
        }
    }

    fn handle_net(&mut self, net: Net) {
        match net {
            Net::Connected => {
                self.connected = true;
                if self.last_failure.is_some() || !self.ever_connected {
                    log::info!("MQTT: connected to {}", self.broker);
                }
                self.last_failure = None;
                self.ever_connected = true;
                let status = self.topics.ha_status();
                if let Err(e) = self.client.try_subscribe(status, QoS::AtLeastOnce) {
                    log::debug!("MQTT: subscribe: {e}");
                }
                if self.state.is_some() {
                    self.announce();
                } else {
                    // `online` comes after the state: wait for it a moment.
                    self.announce_pending = Some(Instant::now());
                }
            }
            Net::Down {
                generation,
                kind,
                message,
            } => {
                if self.last_failure.as_deref() != Some(message.as_str()) {
                    log::warn!(
                        "MQTT: {} failure: {message}; events are spooled",
                        kind.name()
                    );
                    self.last_failure = Some(message);
                }
                self.connected = false;
                self.announce_pending = None;
                self.awaiting_id.clear();
                self.awaiting_ack.clear();
                self.records.clear();
                self.cursor = self.spool.acked();
                self.shared
                    .seen_generation
                    .store(generation, Ordering::Release);
            }
            Net::Published(pkid) => {
                if let Some(tag) = self.awaiting_id.pop_front() {
                    self.awaiting_ack.push((pkid, tag));
                }
            }
            Net::Acked(pkid) => {
                if let Some(i) = self.awaiting_ack.iter().position(|(p, _)| *p == pkid) {
                    let (_, tag) = self.awaiting_ack.swap_remove(i);
                    self.acked(tag);
                }
            }
            Net::HaOnline => {
                if self.connected {
                    self.announce();
                }
            }
        }
    }

    /// Discovery, then the state, then `online` (all retained).
    fn announce(&mut self) {
        self.announce_pending = None;
        let discovery = self.discovery.clone().into_bytes();
        self.publish(&self.topics.discovery(), discovery, true, Tag::Other);
        if let Some(state) = self.state.clone() {
            self.publish(&self.topics.state(), state.into_bytes(), true, Tag::Other);
        }
        self.publish(
            &self.topics.availability(),
            AVAILABILITY_ONLINE.as_bytes().to_vec(),
            true,
            Tag::Other,
        );
    }

    fn acked(&mut self, tag: Tag) {
        match tag {
            Tag::Record(end) => {
                if let Some(r) = self.records.iter_mut().find(|(p, _)| *p == end) {
                    r.1 = true;
                }
                while let Some(&(end, true)) = self.records.front() {
                    self.records.pop_front();
                    self.spool.ack(end);
                    self.report.delivered += 1;
                }
            }
            Tag::Offline => self.offline_acked = true,
            Tag::Other => {}
        }
    }

    fn publish(&mut self, topic: &str, payload: Vec<u8>, retain: bool, tag: Tag) -> bool {
        match self
            .client
            .try_publish(topic, QoS::AtLeastOnce, retain, payload)
        {
            Ok(()) => {
                self.awaiting_id.push_back(tag);
                true
            }
            Err(e) => {
                log::debug!("MQTT: publish on {topic} deferred: {e}");
                false
            }
        }
    }

    /// Sends spool records in order while the window has room.
    fn pump(&mut self) {
        while self.connected && self.records.len() < WINDOW {
            let (data, next) = match self.spool.read(self.cursor) {
                Ok(Some(r)) => r,
                Ok(None) => return,
                Err(e) => {
                    log::warn!("{e}");
                    return;
                }
            };
            let Some((kind, payload)) = split_record(&data) else {
                log::warn!("MQTT spool: a record without a kind: skipped");
                self.cursor = next;
                continue;
            };
            let topic = self.topics.event(kind);
            if !self.publish(&topic, payload.to_vec(), false, Tag::Record(next)) {
                return;
            }
            self.records.push_back((next, false));
            self.cursor = next;
        }
    }
}

/// A spool record's kind and JSON payload.
pub fn split_record(data: &[u8]) -> Option<(&str, &[u8])> {
    let i = data.iter().position(|&b| b == b'\n')?;
    let kind = std::str::from_utf8(&data[..i]).ok()?;
    Some((kind, &data[i + 1..]))
}

/// The network worker's body: drives the connection, reports to the
/// publisher, reconnects with back-off; ends when the run is over.
pub fn drive(
    mut conn: Connection,
    tx: WorkerTx<Msg>,
    shared: Arc<Shared>,
    broker: BrokerUrl,
    ha_status: String,
) {
    let mut backoff = BACKOFF_MIN;
    let mut generation = 0u64;
    loop {
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let net = match conn.recv() {
            Err(_) => return,
            Ok(Ok(Event::Incoming(Incoming::ConnAck(_)))) => {
                backoff = BACKOFF_MIN;
                Net::Connected
            }
            Ok(Ok(Event::Incoming(Incoming::PubAck(a)))) => Net::Acked(a.pkid),
            Ok(Ok(Event::Outgoing(Outgoing::Publish(pkid)))) => Net::Published(pkid),
            Ok(Ok(Event::Incoming(Incoming::Publish(p)))) => {
                if p.topic == ha_status && p.payload.as_ref() == b"online" {
                    Net::HaOnline
                } else {
                    continue;
                }
            }
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => {
                if shared.stop.load(Ordering::Acquire) {
                    return;
                }
                generation += 1;
                let (kind, message) = describe(&e, &broker);
                let down = Net::Down {
                    generation,
                    kind,
                    message,
                };
                if tx.send(Msg::Net(down)).is_err() {
                    return;
                }
                // Once the publisher knows, nothing it queued for the lost
                // session may go out on the next one (it resends from the
                // spool's acked position instead, in order).
                let asked = Instant::now();
                while shared.seen_generation.load(Ordering::Acquire) < generation
                    && asked.elapsed() < DOWN_HANDSHAKE
                {
                    sleep_unless_stopped(&shared, Duration::from_millis(5));
                }
                conn.eventloop.clean();
                conn.eventloop.pending.clear();
                sleep_unless_stopped(&shared, backoff);
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        if tx.send(Msg::Net(net)).is_err() {
            return;
        }
    }
}

fn sleep_unless_stopped(shared: &Shared, d: Duration) {
    let until = Instant::now() + d;
    while !shared.stop.load(Ordering::Acquire) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}
