//! Decoding and feature extraction over many files, in parallel.

use std::path::{Path, PathBuf};

use aad_audio::{AudioError, DecodeOptions, Decoder};
use aad_core::{FeatureExtractor, Signal};
use ndarray::Array2;
use rayon::prelude::*;

use crate::cache::{ContentHash, hash_bytes};

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

/// An error's text without the leading `"<path>: "` it names its file with, for lists
/// that already say which file each line is about.
pub fn reason(path: &Path, e: &impl std::fmt::Display) -> String {
    let msg = e.to_string();
    let own = format!("{}: ", path.display());
    msg.strip_prefix(&own).map_or(msg.clone(), str::to_string)
}

/// A thread pool with exactly `threads` workers (0 = one per core).
///
/// # Errors
/// The pool cannot be built.
pub fn pool(threads: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build()
}

/// One file as a worker of [`for_each_file`] sees it: read into memory once, when its
/// content hash is asked for, and decoded once, when its signal is (from those bytes, or
/// streamed from the file when nobody asked for the hash).
pub struct FileInput<'a> {
    path: &'a Path,
    decoder: &'a mut Decoder,
    bytes: Option<Vec<u8>>,
    hash: Option<ContentHash>,
    signal: Option<Signal>,
    decode_s: Option<f64>,
}

impl FileInput<'_> {
    /// The file.
    pub fn path(&self) -> &Path {
        self.path
    }

    /// The XXH3-128 of the file's bytes (read once and kept for decoding).
    ///
    /// # Errors
    /// The file cannot be read (named).
    pub fn hash(&mut self) -> Result<ContentHash, AudioError> {
        if let Some(h) = self.hash {
            return Ok(h);
        }
        let bytes = std::fs::read(self.path).map_err(|source| AudioError::Io {
            path: self.path.to_path_buf(),
            source,
        })?;
        let h = hash_bytes(&bytes);
        self.bytes = Some(bytes);
        self.hash = Some(h);
        Ok(h)
    }

    /// The decoded signal (decoded at the first call).
    ///
    /// # Errors
    /// Any [`AudioError`], naming the file.
    pub fn signal(&mut self) -> Result<&Signal, AudioError> {
        let signal = match self.signal.take() {
            Some(s) => s,
            None => {
                let t = std::time::Instant::now();
                let s = match self.bytes.take() {
                    Some(b) => self.decoder.decode_bytes(self.path, b)?,
                    None => self.decoder.decode(self.path)?,
                };
                self.decode_s = Some(t.elapsed().as_secs_f64());
                s
            }
        };
        Ok(self.signal.insert(signal))
    }

    /// Seconds spent decoding, if it was decoded.
    pub fn decode_seconds(&self) -> Option<f64> {
        self.decode_s
    }
}

/// The one loop over files that every runner shares (the experiment's extraction, `aad
/// fit`, [`extract_files`]): `work` sees each file as a [`FileInput`] with its own
/// per-worker state from `init` (e.g. a clone of the extractors); decoders and their
/// buffers are reused per worker. Runs on the current rayon pool (wrap it in
/// `pool.install`); results come in input order.
pub fn for_each_file<P, S, R>(
    paths: &[P],
    decode: &DecodeOptions,
    init: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, &mut FileInput<'_>) -> R + Sync + Send,
) -> Vec<R>
where
    P: AsRef<Path> + Sync,
    R: Send,
{
    paths
        .par_iter()
        .map_init(
            || (Decoder::new(decode.clone()), init()),
            |(dec, state), p| {
                let mut file = FileInput {
                    path: p.as_ref(),
                    decoder: dec,
                    bytes: None,
                    hash: None,
                    signal: None,
                    decode_s: None,
                };
                let r = work(state, &mut file);
                if let Some(s) = file.signal.take() {
                    file.decoder.recycle(s);
                }
                r
            },
        )
        .collect()
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
    E: FeatureExtractor + Clone + Sync + Send,
    E::Error: Send,
    P: AsRef<Path> + Sync,
{
    pool.install(|| {
        for_each_file(
            paths,
            decode,
            || extractor.clone(),
            |fx, file| {
                let signal = file.signal()?;
                fx.extract(signal).map_err(|source| FileError::Feature {
                    path: file.path().to_path_buf(),
                    source,
                })
            },
        )
    })
}
