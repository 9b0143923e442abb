//! `/metrics` in the Prometheus text format (version 0.0.4), `vigil_` prefix.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::hub::Hub;

/// The metrics text.
pub fn render(hub: &Hub) -> String {
    let (fps, stages, lost) = hub.stats();
    let mut out = String::new();
    let mut lines: Vec<String> = Vec::new();
    let n = family_into(
        &mut out,
        "frames_total",
        "counter",
        "Inputs processed per stage.",
    );
    for s in &stages {
        lines.push(format!("vigil_{n}{{stage=\"{}\"}} {}", s.name, s.processed));
    }
    flush(&mut out, &mut lines);
    let n = family_into(
        &mut out,
        "dropped_total",
        "counter",
        "Stale inputs dropped per stage.",
    );
    for s in &stages {
        lines.push(format!("vigil_{n}{{stage=\"{}\"}} {}", s.name, s.dropped));
    }
    flush(&mut out, &mut lines);
    let n = family_into(
        &mut out,
        "stage_latency_ms",
        "gauge",
        "Per-stage latency over the recent window, milliseconds.",
    );
    for s in &stages {
        lines.push(format!(
            "vigil_{n}{{stage=\"{}\",quantile=\"0.5\"}} {:.3}",
            s.name, s.latency.p50_ms
        ));
        lines.push(format!(
            "vigil_{n}{{stage=\"{}\",quantile=\"0.95\"}} {:.3}",
            s.name, s.latency.p95_ms
        ));
    }
    flush(&mut out, &mut lines);
    let c = &hub.counters;
    for (name, help, value) in [
        (
            "unlocks_total",
            "Unlock actions that succeeded.",
            c.unlocks.load(Ordering::Relaxed),
        ),
        (
            "failed_attempts_total",
            "Failed attempts: unknown faces, liveness failures, failed unlock actions.",
            c.failed_attempts.load(Ordering::Relaxed),
        ),
        (
            "lockouts_total",
            "Lockouts after too many failed attempts.",
            c.lockouts.load(Ordering::Relaxed),
        ),
        (
            "source_restarts_total",
            "Times a lost live source came back.",
            c.source_restarts.load(Ordering::Relaxed),
        ),
    ] {
        let n = family_into(&mut out, name, "counter", help);
        let _ = writeln!(out, "vigil_{n} {value}");
    }
    let n = family_into(
        &mut out,
        "fps",
        "gauge",
        "Frames presented per second, recent.",
    );
    let _ = writeln!(out, "vigil_{n} {fps:.3}");
    let n = family_into(
        &mut out,
        "source_up",
        "gauge",
        "1 while the source delivers frames.",
    );
    let _ = writeln!(
        out,
        "vigil_{n} {}",
        u8::from(lost.is_none() && hub.healthy().is_ok())
    );
    let n = family_into(&mut out, "stream_viewers", "gauge", "MJPEG viewers now.");
    let _ = writeln!(out, "vigil_{n} {}", hub.viewers());
    if let Some(spool) = &c.mqtt_spool_bytes {
        let n = family_into(
            &mut out,
            "mqtt_spool_bytes",
            "gauge",
            "Bytes waiting in the MQTT spool.",
        );
        let _ = writeln!(out, "vigil_{n} {}", spool.load(Ordering::Relaxed));
    }
    out
}

fn family_into(out: &mut String, name: &str, kind: &str, help: &str) -> String {
    let _ = writeln!(
        out,
        "# HELP vigil_{name} {help}\n# TYPE vigil_{name} {kind}"
    );
    name.to_string()
}

fn flush(out: &mut String, lines: &mut Vec<String>) {
    for l in lines.drain(..) {
        out.push_str(&l);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::outlets::http::hub::Counters;
    use crate::pipeline::stats::StageStats;

    #[test]
    fn every_family_has_help_and_type_and_values() {
        let hub = Hub::new(Counters::default());
        hub.put_stats(
            12.5,
            vec![StageStats {
                name: "detect".into(),
                processed: 7,
                dropped: 2,
                ..StageStats::default()
            }],
        );
        hub.counters.unlocks.fetch_add(1, Ordering::Relaxed);
        let text = render(&hub);
        assert!(
            text.contains("vigil_frames_total{stage=\"detect\"} 7"),
            "{text}"
        );
        assert!(text.contains("vigil_dropped_total{stage=\"detect\"} 2"));
        assert!(text.contains("vigil_unlocks_total 1"));
        assert!(text.contains("vigil_fps 12.500"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(name.starts_with("vigil_"), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
