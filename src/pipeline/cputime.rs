//! CPU time of the calling thread and of the whole process (Linux
//! `clock_gettime`), so that stages and runs are measured in CPU time, not
//! only in wall time (which a shared or busy machine inflates).

use std::time::Duration;

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids used here
    // exist on every Linux since 2.6.12. On failure `ts` stays zero.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// CPU time the calling thread has used so far.
pub fn thread_cpu() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time the whole process (every thread) has used so far.
pub fn process_cpu() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_in_thread_and_process_time() {
        let (t0, p0) = (thread_cpu(), process_cpu());
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let (t1, p1) = (thread_cpu(), process_cpu());
        assert!(t1 > t0 && p1 > p0);
        assert!(t1 - t0 >= Duration::from_millis(5), "{:?}", t1 - t0);
        assert!(p1 - p0 >= t1 - t0 - Duration::from_millis(2));
        // Sleeping uses no CPU.
        let t2 = thread_cpu();
        std::thread::sleep(Duration::from_millis(50));
        assert!(thread_cpu() - t2 < Duration::from_millis(10));
    }
}
