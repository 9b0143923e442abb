//! How many events per second the MQTT outlet delivers to a broker: feeds N
//! events through [`MqttOutlet`] as fast as the presenter could, then closes
//! it (which waits for the broker's PUBACKs, up to the shutdown grace) and
//! prints the rate. Used by `dev/mqtt/measure.sh`.
//!
//! cargo run --release --example mqtt_throughput -- mqtt://127.0.0.1:1883 4000

use std::time::Instant;

use anyhow::Context;
use vigil::app::outlets::mqtt::{MqttConfig, MqttOutlet, QUEUE_CAPACITY};
use vigil::app::outlets::Outlet;
use vigil::app::present::Event;
use vigil::core::face::TrackId;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().context("usage: mqtt_throughput URL [N]")?;
    let n: u64 = match args.next() {
        Some(s) => s.parse().context("N")?,
        None => 4000,
    };
    // The queue between presenter and publisher holds QUEUE_CAPACITY events:
    // beyond that the outlet drops (it never makes the pipeline wait).
    let burst = QUEUE_CAPACITY as u64 / 2;
    let state = tempfile::tempdir()?;
    let config = MqttConfig {
        url,
        device_id: "throughput".into(),
        ..Default::default()
    };
    let mut outlet = MqttOutlet::open(&config, state.path())?;
    // Let it connect first: the rate is the connected publisher's.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let start = Instant::now();
    let gauge = outlet.spool_gauge();
    for i in 0..n {
        outlet.event(&Event::TrackStarted {
            seq: i,
            media_time_s: i as f64 / 30.0,
            track: TrackId(i),
        });
        if (i + 1) % burst == 0 {
            // Give the publisher time to take the burst off the queue.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let fed = start.elapsed();
    let spool_peak = gauge.load(std::sync::atomic::Ordering::Relaxed);
    let report = outlet.close().unwrap_or_default();
    let total = start.elapsed();
    println!("{report}");
    // "mqtt: <delivered> event(s) delivered, ..."
    let delivered: u64 = report
        .strip_prefix("mqtt: ")
        .and_then(|r| r.split(' ').next())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    println!(
        "fed {n} events in {:.3} s; {delivered} delivered (PUBACKed) after {:.3} s: {:.0} events/s (spool {} B when feeding ended)",
        fed.as_secs_f64(),
        total.as_secs_f64(),
        delivered as f64 / total.as_secs_f64(),
        spool_peak
    );
    Ok(())
}
