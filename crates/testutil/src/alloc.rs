//! A counting global allocator for tests of the "a warm call allocates nothing" promise.
//!
//! A test binary installs it with
//! `#[global_allocator] static A: aad_testutil::alloc::Counting = aad_testutil::alloc::Counting;`
//! and measures with [`allocations_during`].
//!
//! Allocations are counted **per thread**: [`allocations_during`] reports only those made by
//! the calling thread while `f` runs. A process-wide counter made the mel-features test
//! flaky (issue 16: 2-4 allocations seen in about one run in fifteen): libtest's main thread
//! keeps allocating its bookkeeping (the running-test map, the timeout queue) just after it
//! spawns the test's thread, and under load that overlapped the measured call. The
//! extractors measured here run on the calling thread (no internal pools), so a per-thread
//! count sees everything they do.
#![allow(unsafe_code)] // `GlobalAlloc` is an unsafe trait.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // A const-initialised `Cell<usize>` has no destructor and needs no lazy registration, so
    // touching it from inside the allocator never allocates or recurses.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with` fails only while the thread is being torn down; those allocations are no
    // one's measurement.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations_so_far() -> usize {
    ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}

/// Forwards to the system allocator and counts allocations and reallocations per thread.
#[derive(Debug, Clone, Copy)]
pub struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counter is a side effect that never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (and reallocations) made by the calling thread while `f` runs, when
/// [`Counting`] is the global allocator (0 otherwise). Work that `f` hands to other threads
/// is not counted.
pub fn allocations_during(f: impl FnOnce()) -> usize {
    let before = allocations_so_far();
    f();
    allocations_so_far() - before
}

/// Asserts that `fx.extract_into` on `signal` allocates nothing once a first call has
/// planned for it (the [`aad_core::FeatureExtractor`] promise).
///
/// # Panics
/// When the warm call allocates, and when [`Counting`] is not the test binary's global
/// allocator (checked first, so the assertion cannot pass trivially).
pub fn assert_warm_call_allocates_nothing<E: aad_core::FeatureExtractor>(
    name: &str,
    fx: &mut E,
    signal: &aad_core::Signal,
) {
    let probe = allocations_during(|| drop(std::hint::black_box(vec![0u8; 64])));
    assert!(
        probe >= 1,
        "install aad_testutil::alloc::Counting as the global allocator"
    );
    let mut out = ndarray::Array2::zeros((fx.num_frames(signal.len()), fx.dims()));
    fx.extract_into(signal, out.view_mut()).unwrap();
    let n = allocations_during(|| fx.extract_into(signal, out.view_mut()).unwrap());
    assert_eq!(n, 0, "{name}: {n} allocations in a warm call");
}
