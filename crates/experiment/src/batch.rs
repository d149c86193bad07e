//! Decoding and feature extraction over many files, in parallel.

use std::path::{Path, PathBuf};

use aad_audio::{AudioError, DecodeOptions, Decoder};
use aad_core::FeatureExtractor;
use ndarray::Array2;
use rayon::prelude::*;

/// Why one file yielded no features.
#[derive(Debug, thiserror::Error)]
pub enum FileError<F: std::error::Error + 'static> {
    /// The file could not be decoded.
    #[error(transparent)]
    Decode(#[from] AudioError),
    /// The extractor rejected the decoded signal.
    #[error("{path}: {source}")]
    Feature {
        /// The file.
        path: PathBuf,
        /// The extractor's error.
        #[source]
        source: F,
    },
}

/// A thread pool with exactly `threads` workers (0 = one per core).
///
/// # Errors
/// The pool cannot be built.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build()
}

/// Decodes every file and extracts its features on `pool`, one decoder and one clone of
/// `extractor` per worker. Results are in input order; a bad file gives its error and
/// the others go on.
pub fn extract_files<E, P>(
    pool: &rayon::ThreadPool,
    paths: &[P],
    decode: &DecodeOptions,
    extractor: &E,
) -> Vec<Result<Array2<f32>, FileError<E::Error>>>
where
    E: FeatureExtractor + Clone + Sync,
    P: AsRef<Path> + Sync,
{
    pool.install(|| {
        paths
            .par_iter()
            .map_init(
                || (Decoder::new(decode.clone()), extractor.clone()),
                |(dec, fx), path| {
                    let signal = dec.decode(path)?;
                    let out = fx.extract(&signal).map_err(|source| FileError::Feature {
                        path: path.as_ref().to_path_buf(),
                        source,
                    });
                    dec.recycle(signal);
                    out
                },
            )
            .collect()
    })
}
