//! The native part of the Python package `aad` (`aad._native`): librosa-compatible
//! features, detectors, metrics and the experiment's stages over numpy arrays. The
//! Python layer (`python/aad/`) gives these librosa's signatures, defaults and checks;
//! call it, not this module.
//!
//! Every function copies its input out of numpy, then releases the GIL for the work.
//! Errors become the package's exceptions (see `errors.rs`), carrying the Rust message.
#![deny(missing_docs)]

mod detector;
mod errors;
mod experiment;
mod features;

use pyo3::prelude::*;

/// The module `aad._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    features::register(m)?;
    detector::register(m)?;
    experiment::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
