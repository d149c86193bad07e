//! The exploring-aad experiment: from audio to results tables and figures.
//!
//! - [`reference`]: the feature set of the librosa reference harness, for parity checks
//!   and side-by-side timing.
//! - [`io`]: atomic writers (`.npy`, text).
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod io;
pub mod reference;
