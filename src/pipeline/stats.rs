//! Latency and throughput statistics: bounded memory, exact percentiles over
//! the most recent samples.

use std::time::Duration;

use serde::Serialize;

/// Samples kept per series; older ones are overwritten (memory stays bounded).
pub const LATENCY_WINDOW: usize = 8192;

/// A ring of recent latency samples, in milliseconds.
#[derive(Debug, Clone)]
pub struct LatencySeries {
    samples: Vec<f32>,
    next: usize,
    count: u64,
    sum_ms: f64,
}

impl Default for LatencySeries {
    fn default() -> Self {
        Self {
            samples: Vec::with_capacity(256),
            next: 0,
            count: 0,
            sum_ms: 0.0,
        }
    }
}

impl LatencySeries {
    /// Records one latency.
    pub fn record(&mut self, d: Duration) {
        self.record_ms(d.as_secs_f64() * 1e3);
    }

    /// Records one latency in milliseconds (the window keeps the latest
    /// [`LATENCY_WINDOW`] samples for quantiles; count and mean cover all).
    pub fn record_ms(&mut self, ms: f64) {
        if self.samples.len() < LATENCY_WINDOW {
            self.samples.push(ms as f32);
        } else {
            self.samples[self.next] = ms as f32;
            self.next = (self.next + 1) % LATENCY_WINDOW;
        }
        self.count += 1;
        self.sum_ms += ms;
    }

    /// Samples recorded since the start.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean of every sample since the start, in ms; `None` before the first.
    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ms / self.count as f64)
    }

    /// The `q` quantile (0..=1) of the recent samples, nearest-rank.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        quantile(&self.samples, q)
    }

    /// Count, p50, p95 and mean (zeros when nothing was recorded).
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count,
            p50_ms: self.quantile_ms(0.5).unwrap_or(0.0),
            p95_ms: self.quantile_ms(0.95).unwrap_or(0.0),
            mean_ms: self.mean_ms().unwrap_or(0.0),
        }
    }
}

/// Nearest-rank quantile of `samples` (unsorted), `None` when empty.
pub fn quantile(samples: &[f32], q: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let rank = (q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank).map(|v| *v as f64)
}

/// A latency series in a few numbers (milliseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Samples recorded.
    pub count: u64,
    /// Median of the recent samples.
    pub p50_ms: f64,
    /// 95th percentile of the recent samples.
    pub p95_ms: f64,
    /// Mean of every sample.
    pub mean_ms: f64,
}

/// What one stage did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageStats {
    /// The stage's name (`detect`, `verify`, ..., `present`).
    pub name: String,
    /// Inputs the stage worked on (inputs it declined are not counted).
    pub processed: u64,
    /// Inputs discarded because a newer one arrived before the stage was free.
    pub dropped: u64,
    /// Time per processed input.
    pub latency: LatencySummary,
    /// Mean thread CPU time per processed input, in milliseconds.
    pub cpu_ms: f64,
    /// The stage thread's whole CPU time (waiting on queues and dropping
    /// included), in seconds; set when its thread ends (0 before).
    pub thread_cpu_s: f64,
}

/// The run as a whole, printed at the end and logged periodically.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    /// Frames the source delivered.
    pub frames_captured: u64,
    /// Images or frames the source skipped as undecodable.
    pub skipped: u64,
    /// Frames that reached the presenter.
    pub frames_presented: u64,
    /// Seconds from start to the last thread joined.
    pub wall_s: f64,
    /// Frames presented per wall-clock second.
    pub fps: f64,
    /// CPU time of the whole process (every thread) during the run, model
    /// loading and other start-up excluded, in seconds.
    pub cpu_s: f64,
    /// Frames presented per CPU-second of the process: the figure that
    /// matters on a board where the CPU is the budget.
    pub frames_per_cpu_s: f64,
    /// Capture to the frame's result reaching the presenter.
    pub end_to_end: LatencySummary,
    /// Capture to each verdict (identity, emotion, scene) reaching the presenter.
    pub capture_to_verdict: LatencySummary,
    /// Every stage's counters, the front first and the presenter last.
    pub stages: Vec<StageStats>,
}

impl RunSummary {
    /// A compact multi-line text form for logs and the final summary.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{} frames captured, {} presented in {:.1} s: {:.1} FPS, {:.1} CPU-s ({:.1} frames per CPU-second); capture-to-output p50 {:.1} ms p95 {:.1} ms",
            self.frames_captured,
            self.frames_presented,
            self.wall_s,
            self.fps,
            self.cpu_s,
            self.frames_per_cpu_s,
            self.end_to_end.p50_ms,
            self.end_to_end.p95_ms
        );
        if self.capture_to_verdict.count > 0 {
            s.push_str(&format!(
                "; capture-to-verdict p50 {:.1} ms p95 {:.1} ms",
                self.capture_to_verdict.p50_ms, self.capture_to_verdict.p95_ms
            ));
        }
        if self.skipped > 0 {
            s.push_str(&format!("; {} skipped as undecodable", self.skipped));
        }
        for st in &self.stages {
            s.push_str(&format!(
                "\n  {:<10} processed {:>6}  dropped {:>6}  p50 {:>7.2} ms  p95 {:>7.2} ms  cpu {:>7.2} ms",
                st.name, st.processed, st.dropped, st.latency.p50_ms, st.latency.p95_ms, st.cpu_ms
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_known_samples() {
        let mut s = LatencySeries::default();
        for i in 1..=100 {
            s.record_ms(i as f64);
        }
        assert_eq!(s.quantile_ms(0.5), Some(51.0));
        assert_eq!(s.quantile_ms(0.95), Some(95.0));
        assert_eq!(s.count(), 100);
    }

    #[test]
    fn window_is_bounded() {
        let mut s = LatencySeries::default();
        for i in 0..(LATENCY_WINDOW * 3) {
            s.record_ms(i as f64);
        }
        assert_eq!(s.samples.len(), LATENCY_WINDOW);
        assert_eq!(s.count(), (LATENCY_WINDOW * 3) as u64);
    }
}
