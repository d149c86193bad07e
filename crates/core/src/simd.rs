//! Run-time choice of AVX2 and AVX-512 builds for the hot loops of the feature
//! extractors.
//!
//! The default build targets baseline x86-64 (SSE2) so that one binary runs anywhere.
//! A few measured hot loops (STFT framing, tuning peak search, CQT sums, decimation)
//! are also compiled with AVX2 and with AVX-512 (F, BW, DQ, VL: the x86-64-v4 set)
//! enabled, and one is chosen at run time. Every build performs the same IEEE
//! operations in the same order per value (Rust never contracts `a * b + c` into a fused
//! multiply-add, and vector width does not reorder a per-lane sum), so their results are
//! bit-identical; the tests check this.
//!
//! By default the AVX-512 builds run on AMD processors that have it (measured faster on a
//! Zen 5 EPYC), and the AVX2 builds on other processors with AVX-512 (on an Intel Xeon
//! VM the AVX-512 builds measured slower; set `AAD_ENABLE_AVX512=1` to try them).
//! `AAD_DISABLE_AVX2` (non-empty) forces the portable loops and `AAD_DISABLE_AVX512`
//! stops at AVX2; both are read when the first dispatched loop runs. [`set_max_level`]
//! (or [`set_avx2_allowed`]) chooses from code: to time the builds against each other,
//! or to rule them out when chasing a difference.
//!
//! ```
//! use aad_core::simd::{self, Level};
//! simd::set_max_level(Level::Portable); // force the portable loops
//! assert!(!simd::avx2_enabled());
//! assert_eq!(simd::level(), Level::Portable);
//! simd::set_max_level(Level::Avx2); // at most AVX2
//! assert!(!simd::avx512_enabled());
//! simd::set_max_level(Level::Avx512); // the widest the CPU has
//! assert_eq!(simd::level(), simd::detected());
//! ```

use std::sync::atomic::{AtomicU8, Ordering};

/// The instruction sets a dispatched loop may be built for, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The crate's compile target (SSE2 on x86-64).
    Portable,
    /// AVX2.
    Avx2,
    /// AVX-512 F, BW, DQ and VL.
    Avx512,
}

impl Level {
    /// Every level, narrowest first.
    pub const ALL: [Level; 3] = [Level::Portable, Level::Avx2, Level::Avx512];

    fn code(self) -> u8 {
        self as u8 + 1
    }

    fn from_code(c: u8) -> Option<Level> {
        Level::ALL.get(usize::from(c).checked_sub(1)?).copied()
    }
}

/// The level in force; 0 until first resolved.
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The widest level this CPU supports.
pub fn detected() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512dq") && has!("avx512vl") {
            return Level::Avx512;
        }
        if has!("avx2") {
            return Level::Avx2;
        }
    }
    Level::Portable
}

/// Whether the CPU's vendor string is AMD's.
fn is_amd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: CPUID leaf 0 exists on every x86-64 processor. (`__cpuid` is a safe
        // function in current Rust, an unsafe one in older releases such as 1.89.)
        #[allow(unsafe_code, unused_unsafe)]
        let r = unsafe { std::arch::x86_64::__cpuid(0) };
        // "AuthenticAMD" in EBX, EDX, ECX.
        (r.ebx, r.edx, r.ecx) == (0x6874_7541, 0x6974_6e65, 0x444d_4163)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The default level: [`detected`], capped by the environment and by the vendor rule
/// of the module documentation.
fn default_level() -> Level {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let cap = if set("AAD_DISABLE_AVX2") {
        Level::Portable
    } else if set("AAD_DISABLE_AVX512") || !(is_amd() || set("AAD_ENABLE_AVX512")) {
        Level::Avx2
    } else {
        Level::Avx512
    };
    detected().min(cap)
}

/// The level the dispatched loops run at.
#[inline]
pub fn level() -> Level {
    if let Some(l) = Level::from_code(LEVEL.load(Ordering::Relaxed)) {
        return l;
    }
    let l = default_level();
    // A concurrent set_max_level wins over the default.
    let _ = LEVEL.compare_exchange(0, l.code(), Ordering::Relaxed, Ordering::Relaxed);
    Level::from_code(LEVEL.load(Ordering::Relaxed)).unwrap_or(l)
}

/// Whether the AVX2 (or wider) builds run.
#[inline]
pub fn avx2_enabled() -> bool {
    level() >= Level::Avx2
}

/// Whether the AVX-512 builds run.
#[inline]
pub fn avx512_enabled() -> bool {
    level() == Level::Avx512
}

/// Runs the widest build up to `max` that the CPU supports, process-wide, whatever the
/// environment and the vendor rule say.
pub fn set_max_level(max: Level) {
    LEVEL.store(detected().min(max).code(), Ordering::Relaxed);
}

/// Allows the widest builds the CPU has, or forces the portable loops:
/// [`set_max_level`] with [`Level::Avx512`] or [`Level::Portable`].
pub fn set_avx2_allowed(allowed: bool) {
    set_max_level(if allowed {
        Level::Avx512
    } else {
        Level::Portable
    });
}

/// Defines a function whose body is compiled three times, with AVX-512, with AVX2 and
/// as the crate is compiled, and runs the build [`level`] names.
///
/// ```
/// aad_core::simd_level_dispatch! {
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
macro_rules! simd_level_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
                #[allow(clippy::too_many_arguments)]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    portable($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    portable($($arg),*)
                }
                match $crate::simd::level() {
                    // SAFETY: calling a function compiled with `target_feature` requires
                    // only that the CPU supports those features, which `level` has just
                    // checked at run time.
                    #[allow(unsafe_code)]
                    $crate::simd::Level::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: as above, for AVX2.
                    #[allow(unsafe_code)]
                    $crate::simd::Level::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::simd::Level::Portable => {}
                }
            }
            portable($($arg),*)
        }
    };
}

/// [`simd_level_dispatch!`] for a method on `&mut self`: defines `$name`, which runs `$imp`
/// (an `#[inline(always)]` method holding the body) compiled with AVX-512, with AVX2 or
/// as the crate is compiled, as [`level`] says. `$avx512` and `$avx2` name the two
/// compiled copies. Closure arguments are inlined into each copy, so a caller's loops
/// get the wide instructions too.
///
/// ```
/// struct Acc(f32);
/// impl Acc {
///     aad_core::simd_level_dispatch_method! {
///         /// Adds the squares of `x`.
///         pub fn add_squares / add_squares_avx512 / add_squares_avx2 => add_squares_impl(
///             &mut self, x: &[f32]) -> f32
///     }
///     #[inline(always)]
///     fn add_squares_impl(&mut self, x: &[f32]) -> f32 {
///         self.0 += x.iter().map(|v| v * v).sum::<f32>();
///         self.0
///     }
/// }
/// assert_eq!(Acc(1.0).add_squares(&[2.0, 3.0]), 14.0);
/// ```
#[macro_export]
macro_rules! simd_level_dispatch_method {
    ($(#[$meta:meta])* $vis:vis fn $name:ident / $avx512:ident / $avx2:ident => $imp:ident(
        &mut self $(, $arg:ident: $ty:ty)* $(,)?) $(-> $ret:ty)?) => {
        $(#[$meta])*
        $vis fn $name(&mut self $(, $arg: $ty)*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            match $crate::simd::level() {
                // SAFETY: calling a function compiled with `target_feature` requires
                // only that the CPU supports those features, which `level` has just
                // checked at run time.
                #[allow(unsafe_code)]
                $crate::simd::Level::Avx512 => return unsafe { self.$avx512($($arg),*) },
                // SAFETY: as above, for AVX2.
                #[allow(unsafe_code)]
                $crate::simd::Level::Avx2 => return unsafe { self.$avx2($($arg),*) },
                $crate::simd::Level::Portable => {}
            }
            self.$imp($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
        fn $avx512(&mut self $(, $arg: $ty)*) $(-> $ret)? {
            self.$imp($($arg),*)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx2(&mut self $(, $arg: $ty)*) $(-> $ret)? {
            self.$imp($($arg),*)
        }
    };
}
