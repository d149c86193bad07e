use std::path::PathBuf;

use thiserror::Error;

/// Errors of dataset discovery and generation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DataError {
    /// The dataset root is missing or not a folder.
    #[error("{0}: not a folder")]
    NotADirectory(PathBuf),
    /// A file or folder could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a clip failed.
    #[error(transparent)]
    Audio(#[from] aad_audio::AudioError),
    /// A manifest CSV that cannot be read or lacks the required columns.
    #[error("{path}: {reason}")]
    BadManifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A generator setting is out of range.
    #[error("invalid synthetic config {name} = {value}: {reason}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is required.
        reason: &'static str,
    },
}

/// A label or path that does not parse; its message says why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not an SNR label (`-6dB`, `0dB`, `6dB`, `na`).
    #[error("not an SNR label: {0:?}")]
    SnrLabel(String),
    /// A path with no components.
    #[error("empty path")]
    EmptyPath,
    /// A path that fits none of the known layouts.
    #[error("{0}")]
    NoLayout(String),
}
