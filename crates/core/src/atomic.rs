//! Atomic file output shared by every crate that writes: the bytes go to a temporary
//! sibling (`.<name>.<pid>.<n>.tmp`), which is renamed over the target only when
//! complete, so a crash or a full disk never leaves a half-written file where a reader
//! finds it. A killed process leaves its temporary behind; the next write into the same
//! folder removes those older than [`STALE_AFTER`].

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How old a temporary must be before another writer removes it. Writing one takes
/// milliseconds to seconds, so a younger one may belong to a process running now.
pub const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Temporary names must differ between threads of one process writing the same path at
/// once (two files with identical content share a cache entry).
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Whether a file name is one of this module's temporaries (`.<name>.<pid>.<n>.tmp`, or
/// with the target's extension after `.tmp` from [`temporary_sibling`]).
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
        && (name.ends_with(".tmp")
            || name
                .rsplit_once('.')
                .is_some_and(|(stem, _)| stem.ends_with(".tmp")))
}

/// A fresh temporary name beside `path` in this module's scheme, ending with the
/// target's extension (`.<name>.<pid>.<n>.tmp.<ext>`), for writers that must hand a path
/// to a library that picks the format from it (an image encoder): write there, then
/// rename over `path`. [`remove_stale`] cleans such files up like any other.
pub fn temporary_sibling(path: &Path) -> PathBuf {
    let tmp = temporary_for(path).1;
    match path.extension() {
        Some(ext) => {
            let mut name = tmp.file_name().unwrap_or_default().to_os_string();
            name.push(".");
            name.push(ext);
            tmp.with_file_name(name)
        }
        None => tmp,
    }
}

fn temporary_for(path: &Path) -> (PathBuf, PathBuf) {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    (dir, tmp)
}

/// Writes `path` atomically with what `fill` writes, creating its folder. With `sync`
/// the data reach the disk before the rename (results, models); without, a power cut
/// may lose the file but never half-write it (caches, which recompute). Stale
/// temporaries of the same target (a killed earlier write) are removed first.
///
/// # Errors
/// Any I/O error (the temporary is removed); the caller names the file.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.txt");
/// aad_core::atomic::write(&path, true, |w| std::io::Write::write_all(w, b"done"))?;
/// assert_eq!(std::fs::read(&path)?, b"done");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write(
    path: &Path,
    sync: bool,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_in(path, sync, true, fill)
}

/// [`write()`] without looking for stale temporaries: for a writer that puts many files
/// into one folder (a cache) and removes its stale temporaries once itself
/// ([`remove_stale`] with `None`). Looking costs a listing of the folder, so `n` writes
/// through [`write()`] into one folder read `n²/2` entries, and concurrent writers queue on
/// the folder's lock.
///
/// # Errors
/// As [`write()`].
pub fn write_unswept(
    path: &Path,
    sync: bool,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_in(path, sync, false, fill)
}

fn write_in(
    path: &Path,
    sync: bool,
    sweep: bool,
    fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let (dir, tmp) = temporary_for(path);
    std::fs::create_dir_all(&dir)?;
    if sweep && let Some(name) = path.file_name() {
        remove_stale(&dir, Some(&name.to_string_lossy()), STALE_AFTER);
    }
    let result = (|| {
        let mut w = BufWriter::new(File::create(&tmp)?);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        if sync {
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes this module's temporaries in `dir` older than `age` (all of them, or only
/// those of the target file `name`); returns how many. Unreadable folders count zero.
pub fn remove_stale(dir: &Path, name: Option<&str>, age: Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let prefix = name.map(|n| format!(".{n}."));
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let f = e.file_name();
            let f = f.to_string_lossy();
            is_temporary(&f) && prefix.as_ref().is_none_or(|p| f.starts_with(p.as_str()))
        })
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|a| a > age)
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path, secs: u64) {
        let t = std::time::SystemTime::now() - Duration::from_secs(secs);
        File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(t))
            .unwrap();
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_the_next_write_removes_a_killed_ones_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.csv");
        let failed = write(&path, true, |_| Err(std::io::Error::other("disk full")));
        assert!(failed.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // A killed write of this file (old), one of another file (old) and a running one.
        let killed = dir.path().join(".results.csv.99999.0.tmp");
        let other = dir.path().join(".summary.md.99999.0.tmp");
        let running = dir.path().join(".results.csv.99998.0.tmp");
        for p in [&killed, &other, &running] {
            std::fs::write(p, b"x").unwrap();
        }
        age(&killed, 7200);
        age(&other, 7200);
        write(&path, false, |w| std::io::Write::write_all(w, b"a,b\n")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
        assert!(!killed.exists() && other.exists() && running.exists());
        assert_eq!(remove_stale(dir.path(), None, STALE_AFTER), 1);
        assert!(!other.exists() && running.exists());
        assert_eq!(
            remove_stale(&dir.path().join("missing"), None, STALE_AFTER),
            0
        );
    }

    #[test]
    fn an_unswept_write_leaves_other_temporaries_to_its_caller() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0123.npy");
        let killed = dir.path().join(".0123.npy.99999.0.tmp");
        std::fs::write(&killed, b"x").unwrap();
        age(&killed, 7200);
        write_unswept(&path, false, |w| std::io::Write::write_all(w, b"npy")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"npy");
        assert!(killed.exists());
        assert_eq!(remove_stale(dir.path(), None, STALE_AFTER), 1);
    }
}
