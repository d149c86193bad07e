//! Atomic output: every file is written to a temporary sibling, synced, then renamed, so
//! a crash or a full disk never leaves a half-written result where a reader finds it.

use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{ArrayView2, ShapeBuilder};

/// An I/O failure naming the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct IoError {
    /// The file.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
    move |source| IoError {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `path` atomically with the bytes `fill` produces, synced to disk before the
/// rename.
///
/// # Errors
/// Any I/O error, naming `path`.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), IoError> {
    aad_core::atomic::write(path, true, fill).map_err(io_err(path))
}

/// Writes a text file atomically.
///
/// # Errors
/// Any I/O error, naming `path`.
pub fn write_text(path: &Path, text: &str) -> Result<(), IoError> {
    write_atomic(path, |w| w.write_all(text.as_bytes()))
}

/// Writes a float32 `.npy` file (C order) atomically.
///
/// # Errors
/// Any I/O error, naming `path`.
pub fn write_npy(path: &Path, array: ArrayView2<'_, f32>) -> Result<(), IoError> {
    let owned = array.as_standard_layout().into_owned();
    write_atomic(path, |w| {
        ndarray_npy::WriteNpyExt::write_npy(&owned, w)
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
}

/// Writes `path` atomically (rename) but without waiting for the disk, and without
/// looking for stale temporaries beside it: for caches, where a file lost in a power cut
/// is recomputed, thousands of syncs would dominate the run, and the folder's stale
/// temporaries are removed once per run ([`crate::cache::FeatureCache::remove_orphans`])
/// rather than by listing the folder at every write.
///
/// # Errors
/// Any I/O error, naming `path`.
pub fn write_atomic_unsynced(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), IoError> {
    aad_core::atomic::write_unswept(path, false, fill).map_err(io_err(path))
}

/// Reads a float32 `.npy` file.
///
/// # Errors
/// Unreadable or not a 2-D float32 array.
pub fn read_npy(path: &Path) -> Result<ndarray::Array2<f32>, IoError> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    <ndarray::Array2<f32> as ndarray_npy::ReadNpyExt>::read_npy(std::io::BufReader::new(file))
        .map_err(|e| IoError {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })
}

/// An all-zero `rows x cols` array in Fortran order (cheap to transpose into C order).
pub fn zeros_f(rows: usize, cols: usize) -> ndarray::Array2<f32> {
    ndarray::Array2::zeros((rows, cols).f())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 10 + j) as f32);
        let p = dir.path().join("sub").join("a.npy");
        write_npy(&p, a.t()).unwrap();
        assert_eq!(read_npy(&p).unwrap(), a.t());
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        write_text(&p, "old\n").unwrap();
        let e = write_atomic(&p, |_| Err(std::io::Error::other("disk full"))).unwrap_err();
        assert!(e.to_string().contains("r.csv"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
