//! The package's exceptions: `ValueError` and `OSError` subclasses, so callers that
//! catch the built-in ones keep working.

use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    aad,
    ParameterError,
    PyValueError,
    "A parameter or input array is invalid (librosa raises its ParameterError there)."
);
create_exception!(
    aad,
    UnsupportedParameterError,
    ParameterError,
    "A librosa parameter value this package does not implement; the message names it."
);
create_exception!(
    aad,
    AudioFileError,
    PyOSError,
    "A file that cannot be read or decoded; the message names the file."
);
create_exception!(
    aad,
    ModelError,
    PyValueError,
    "A detector that cannot be fitted or used, or an invalid model file."
);

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ParameterError", py.get_type::<ParameterError>())?;
    m.add(
        "UnsupportedParameterError",
        py.get_type::<UnsupportedParameterError>(),
    )?;
    m.add("AudioFileError", py.get_type::<AudioFileError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    Ok(())
}

/// A `ParameterError` with the error's message.
pub(crate) fn param(e: impl std::fmt::Display) -> PyErr {
    ParameterError::new_err(e.to_string())
}

/// An `AudioFileError` with the error's message.
pub(crate) fn file(e: impl std::fmt::Display) -> PyErr {
    AudioFileError::new_err(e.to_string())
}

/// A `ModelError` with the error's message.
pub(crate) fn model(e: impl std::fmt::Display) -> PyErr {
    ModelError::new_err(e.to_string())
}

/// Maps a model-file error: unreadable or undecodable files are `AudioFileError`
/// (an `OSError`), the rest `ModelError`.
pub(crate) fn model_file(e: aad_engine::model::ModelFileError) -> PyErr {
    use aad_engine::model::ModelFileError as E;
    match e {
        E::Feature { ref path, .. } if path.as_os_str() == "<signal>" => param(e),
        E::Audio(_) | E::Feature { .. } => file(e),
        _ => model(e),
    }
}
