//! Run-time choice of AVX2 builds for the hot loops of the feature extractors.
//!
//! The default build targets baseline x86-64 (SSE2) so that one binary runs anywhere.
//! A few measured hot loops (STFT framing, tuning peak search, CQT sums, decimation)
//! are also compiled with AVX2 enabled and chosen at run time when the CPU has it.
//! Both builds perform the same IEEE operations in the same order per value (Rust
//! never contracts `a * b + c` into a fused multiply-add, and vector width does not
//! reorder a per-lane sum), so their results are bit-identical; the tests check this.
//!
//! Setting the environment variable `AAD_DISABLE_AVX2` to a non-empty value before the
//! first feature is computed, or calling [`set_avx2_allowed`]`(false)`, forces the
//! portable loops (to time them, or to rule them out when chasing a difference).
//!
//! ```
//! aad_core::simd::set_avx2_allowed(false); // force the portable loops
//! assert!(!aad_core::simd::avx2_enabled());
//! aad_core::simd::set_avx2_allowed(true); // AVX2 again wherever the CPU has it
//! # #[cfg(target_arch = "x86_64")]
//! assert_eq!(aad_core::simd::avx2_enabled(), std::arch::is_x86_feature_detected!("avx2"));
//! ```

use std::sync::atomic::{AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const ALLOWED: u8 = 1;
const DENIED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

fn allowed() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ALLOWED => true,
        DENIED => false,
        _ => {
            let denied = std::env::var_os("AAD_DISABLE_AVX2").is_some_and(|v| !v.is_empty());
            let state = if denied { DENIED } else { ALLOWED };
            // A concurrent set_avx2_allowed wins over the environment.
            let _ = STATE.compare_exchange(UNKNOWN, state, Ordering::Relaxed, Ordering::Relaxed);
            STATE.load(Ordering::Relaxed) == ALLOWED
        }
    }
}

/// Whether the AVX2 builds run: the CPU supports AVX2 and they are allowed.
#[inline]
pub fn avx2_enabled() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        allowed() && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Allows or forbids the AVX2 builds process-wide (overrides `AAD_DISABLE_AVX2`).
pub fn set_avx2_allowed(allowed: bool) {
    STATE.store(if allowed { ALLOWED } else { DENIED }, Ordering::Relaxed);
}
