//! A counting global allocator for tests of the "a warm call allocates nothing" promise.
//!
//! A test binary installs it with
//! `#[global_allocator] static A: aad_testutil::alloc::Counting = aad_testutil::alloc::Counting;`
//! and measures with [`allocations_during`]. Keep such a test alone in its binary: the
//! counter is process-wide, so other tests running meanwhile would be counted too.
#![allow(unsafe_code)] // `GlobalAlloc` is an unsafe trait.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// Forwards to the system allocator and counts allocations and reallocations.
#[derive(Debug, Clone, Copy)]
pub struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counter is a side effect that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (and reallocations) made while `f` runs, when [`Counting`] is the global
/// allocator (0 otherwise).
pub fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// Asserts that `fx.extract_into` on `signal` allocates nothing once a first call has
/// planned for it (the [`aad_core::FeatureExtractor`] promise). Needs [`Counting`] as the
/// global allocator of the test binary, or it passes trivially.
pub fn assert_warm_call_allocates_nothing<E: aad_core::FeatureExtractor>(
    name: &str,
    fx: &mut E,
    signal: &aad_core::Signal,
) {
    let mut out = ndarray::Array2::zeros((fx.num_frames(signal.len()), fx.dims()));
    fx.extract_into(signal, out.view_mut()).unwrap();
    let n = allocations_during(|| fx.extract_into(signal, out.view_mut()).unwrap());
    assert_eq!(n, 0, "{name}: {n} allocations in a warm call");
}
