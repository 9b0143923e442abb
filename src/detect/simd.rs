//! Clearing the upper halves of the vector registers after tract runs.
//!
//! tract's x86-64 matrix kernels (AVX2 / AVX-512 assembly) return with the
//! upper halves of the vector registers dirty. Code compiled for baseline
//! x86-64, which is all of this crate's, uses legacy SSE encodings, and on
//! this kind of CPU every such instruction then pays a state-transition
//! penalty until a `vzeroupper`. Measured on the 640x480 webcam fixture: the
//! pyramid resampling right after a P-Net run took 6.2 ms instead of 2.4, the
//! R-Net crops 1.7 ms instead of 0.4 (`dev/perf/README.md`). One `vzeroupper`
//! after each net run removes that. (Building with AVX enabled, e.g.
//! `-C target-cpu=x86-64-v3`, would avoid the mix everywhere, tract's own glue
//! included.) On other architectures this does nothing.

/// Marks the upper vector state clean (x86-64 with AVX); a no-op elsewhere.
#[inline]
pub fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: AVX is present (checked just above). `vzeroupper` only
            // zeroes bits 128 and up of the vector registers; the compiler
            // treats the intrinsic as clobbering them, so no live value is lost.
            unsafe { zero_upper() }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn zero_upper() {
    std::arch::x86_64::_mm256_zeroupper();
}

#[cfg(test)]
mod tests {
    #[test]
    fn can_be_called_any_time() {
        super::clear_upper_vector_state();
        let v: Vec<f32> = (0..64).map(|i| i as f32).collect();
        super::clear_upper_vector_state();
        assert_eq!(v.iter().sum::<f32>(), 2016.0);
    }
}
