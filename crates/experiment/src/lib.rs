//! The exploring-aad experiment: from audio to results tables and figures.
//!
//! - [`reference`]: the feature set of the librosa reference harness, for parity checks
//!   and side-by-side timing.
//! - [`io`]: atomic writers (`.npy`, text).
//! - [`batch`]: decoding and feature extraction over many files on a thread pool.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod batch;
pub mod io;
pub mod reference;
