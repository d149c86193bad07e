//! Memory is bounded by the input, never by a header's claim (issue 13, finding 1): a
//! 44-byte WAV whose header claims 2^31 bytes of audio made the decoder reserve 1 GiB.
//! A tracking allocator records the largest single request while the file is decoded.
#![allow(unsafe_code, clippy::unwrap_used)] // `GlobalAlloc` is an unsafe trait.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use aad_audio::{DecodeOptions, Decoder};

static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Tracking;

// SAFETY: forwards every call to `System` unchanged; the side effect is an atomic max.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.fetch_max(l.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LARGEST.fetch_max(n, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Tracking = Tracking;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_header_claiming_gigabytes_reserves_no_more_than_the_file_holds() {
    // The reproducer of the issue: RIFF size 0xffffffff, data size 0x7ffffffe, no audio.
    let bytes = hex(
        "52494646ffffffff57415645666d74201000000001000100803e0000007d00000700100064617461feffff7f",
    );
    assert_eq!(bytes.len(), 44);
    let mut dec = Decoder::new(DecodeOptions::default());
    LARGEST.store(0, Ordering::Relaxed);
    let r = dec.decode_bytes("claims_2gib.wav", bytes);
    let largest = LARGEST.load(Ordering::Relaxed);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("claims_2gib.wav"), "{e}");
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
}
