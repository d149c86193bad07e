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

/// Defines a function whose body is compiled twice, with AVX2 enabled and as the crate
/// is compiled, and runs the AVX2 build when [`avx2_enabled`] says so.
///
/// ```
/// aad_core::avx2_dispatch! {
///     /// Sum of squares of the first multiple-of-eight samples.
///     fn sum_of_squares(x: &[f32]) -> f32 {
///         let mut acc = [0.0f32; 8];
///         for c in x.chunks_exact(8) {
///             for l in 0..8 {
///                 acc[l] += c[l] * c[l];
///             }
///         }
///         acc.iter().sum()
///     }
/// }
/// assert_eq!(sum_of_squares(&[1.0; 16]), 16.0);
/// ```
#[macro_export]
macro_rules! avx2_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    portable($($arg),*)
                }
                if $crate::simd::avx2_enabled() {
                    // SAFETY: calling a function compiled with `target_feature(avx2)`
                    // requires only that the CPU supports AVX2, which `avx2_enabled`
                    // has just checked at run time.
                    #[allow(unsafe_code)]
                    return unsafe { avx2($($arg),*) };
                }
            }
            portable($($arg),*)
        }
    };
}
