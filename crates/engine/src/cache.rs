//! An on-disk feature cache keyed by file content and feature configuration: a rerun,
//! or a run with more models, skips extraction; a changed file or setting misses.

use std::path::{Path, PathBuf};

use aad_audio::DecodeOptions;
use ndarray::{Array2, ArrayView2};
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray_npy::{ReadNpyExt, WriteNpyExt};

use crate::io::{IoError, write_atomic_unsynced, write_text};
use crate::registry::FeatureSpec;

/// A feature cache under one folder: `<root>/<feature key hash>/<content hash>.npy`,
/// with the full key in `<root>/<feature key hash>/key.txt` for people.
///
/// Every entry is a float32 `.npy` array followed by a 32-byte provenance trailer
/// (`AADFEAT1`, the source file's content hash, the feature key's hash; numpy's `load`
/// ignores it). An entry is used only when its trailer names the file's content and the
/// feature asked for: one copied over another, or moved between feature folders, is
/// rejected, counted ([`FeatureCache::rejected`]) and recomputed.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    root: PathBuf,
    rejected: Arc<AtomicUsize>,
}

/// A file's content hash (XXH3-128 of its bytes).
pub type ContentHash = u128;

/// The content hash of bytes already in memory.
pub fn hash_bytes(bytes: &[u8]) -> ContentHash {
    xxh3_128(bytes)
}

/// One feature's folder in the cache, with the hash of the key that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureDir {
    /// The folder.
    pub path: PathBuf,
    key: u64,
}

/// One clip's entry for one feature: where it lives and what it must have been made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The `.npy` file.
    pub path: PathBuf,
    content: ContentHash,
    key: u64,
}

const TRAILER_MAGIC: &[u8; 8] = b"AADFEAT1";
const TRAILER_LEN: usize = 32;

impl CacheEntry {
    fn trailer(&self) -> [u8; TRAILER_LEN] {
        let mut t = [0u8; TRAILER_LEN];
        t[..8].copy_from_slice(TRAILER_MAGIC);
        t[8..24].copy_from_slice(&self.content.to_le_bytes());
        t[24..].copy_from_slice(&self.key.to_le_bytes());
        t
    }
}

impl FeatureCache {
    /// A cache in `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FeatureCache {
            root: root.into(),
            rejected: Arc::default(),
        }
    }

    /// The cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one feature read with `decode`: everything that changes the values
    /// is in the key (the feature's parameters and algorithm version, the channel
    /// policy, the required sample rate and this crate's version).
    pub fn feature_dir(&self, feature: &FeatureSpec, decode: &DecodeOptions) -> FeatureDir {
        let key = xxh3_64(key(feature, decode).as_bytes());
        FeatureDir {
            path: self.root.join(format!("{key:016x}")),
            key,
        }
    }

    /// Writes `key.txt` into the feature's folder.
    ///
    /// # Errors
    /// An I/O error naming the file.
    pub fn describe(&self, feature: &FeatureSpec, decode: &DecodeOptions) -> Result<(), IoError> {
        let dir = self.feature_dir(feature, decode);
        let path = dir.path.join("key.txt");
        if path.exists() {
            return Ok(());
        }
        write_text(&path, &format!("{}\n", key(feature, decode)))
    }

    /// Removes temporary files a killed run left in a feature's folder (older than
    /// [`aad_core::atomic::STALE_AFTER`]: a younger one may belong to a run sharing the
    /// cache right now). Returns how many were removed.
    pub fn remove_orphans(&self, feature_dir: &Path) -> usize {
        aad_core::atomic::remove_stale(feature_dir, None, aad_core::atomic::STALE_AFTER)
    }

    /// The entry of one file's content.
    pub fn entry(&self, dir: &FeatureDir, content: ContentHash) -> CacheEntry {
        CacheEntry {
            path: dir.path.join(format!("{content:032x}.npy")),
            content,
            key: dir.key,
        }
    }

    /// Reads an entry; `None` when absent, unreadable, not finite, or made from other
    /// content or another feature (then it is recomputed; the last two are counted in
    /// [`FeatureCache::rejected`]).
    pub fn load(&self, entry: &CacheEntry) -> Option<Array2<f32>> {
        let bytes = std::fs::read(&entry.path).ok()?;
        let split = bytes.len().checked_sub(TRAILER_LEN)?;
        let (npy, trailer) = bytes.split_at(split);
        if trailer != entry.trailer() {
            // Without the magic it is damaged (a miss); with it, made from something else.
            if trailer.starts_with(TRAILER_MAGIC) {
                self.rejected.fetch_add(1, Ordering::Relaxed);
            }
            return None;
        }
        <Array2<f32> as ReadNpyExt>::read_npy(npy)
            .ok()
            .filter(|a| a.iter().all(|v| v.is_finite()))
    }

    /// Stores an entry atomically, with its provenance trailer.
    ///
    /// # Errors
    /// An I/O error naming the file.
    pub fn store(&self, entry: &CacheEntry, features: ArrayView2<'_, f32>) -> Result<(), IoError> {
        let owned = features.as_standard_layout();
        write_atomic_unsynced(&entry.path, |w| {
            owned
                .write_npy(&mut *w)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            w.write_all(&entry.trailer())
        })
    }

    /// Entries found made from other content or for another feature (replaced or moved
    /// by hand, or by a tool): each was recomputed.
    pub fn rejected(&self) -> usize {
        self.rejected.load(Ordering::Relaxed)
    }
}

fn key(feature: &FeatureSpec, decode: &DecodeOptions) -> String {
    format!(
        "aad-engine {} | entries with provenance trailer | channel {} | sample rate {:?} | {}",
        env!("CARGO_PKG_VERSION"),
        decode.channel.label(),
        decode.expected_sample_rate,
        feature.key()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aad_audio::ChannelPolicy;

    #[test]
    fn keys_separate_features_and_channel_policies_and_entries_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path());
        let d0 = DecodeOptions::mimii();
        let dm = DecodeOptions::mimii().channel(ChannelPolicy::Mean);
        let mel = FeatureSpec::parse("logmel", 16_000).unwrap();
        let mimii = FeatureSpec::parse("logmel_mimii", 16_000).unwrap();
        let cens = FeatureSpec::parse("cens", 16_000).unwrap();
        assert_eq!(cache.feature_dir(&mel, &d0), cache.feature_dir(&mimii, &d0));
        assert_ne!(cache.feature_dir(&mel, &d0), cache.feature_dir(&cens, &d0));
        assert_ne!(cache.feature_dir(&mel, &d0), cache.feature_dir(&mel, &dm));
        let e = cache.entry(&cache.feature_dir(&mel, &d0), 0xabc);
        assert!(cache.load(&e).is_none());
        let a = Array2::from_shape_fn((4, 3), |(i, j)| (i + j) as f32);
        cache.store(&e, a.view()).unwrap();
        assert_eq!(cache.load(&e), Some(a));
        std::fs::write(&e.path, b"not npy").unwrap();
        assert!(cache.load(&e).is_none(), "a damaged entry is a miss");
        std::fs::write(&e.path, [0u8; 100]).unwrap();
        assert!(cache.load(&e).is_none());
        assert_eq!(cache.rejected(), 0, "damaged, not made from something else");
    }

    #[test]
    fn an_entry_replaced_by_another_clips_or_features_entry_is_rejected_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path());
        let d0 = DecodeOptions::mimii();
        let mel = cache.feature_dir(&FeatureSpec::parse("logmel", 16_000).unwrap(), &d0);
        let cens = cache.feature_dir(&FeatureSpec::parse("cens", 16_000).unwrap(), &d0);
        let (a, b) = (cache.entry(&mel, 1), cache.entry(&mel, 2));
        let fa = Array2::from_elem((5, 3), 1.0f32);
        let fb = Array2::from_elem((5, 3), 2.0f32);
        cache.store(&a, fa.view()).unwrap();
        cache.store(&b, fb.view()).unwrap();
        assert_eq!(cache.load(&b), Some(fb.clone()));
        // Clip 1's valid entry copied over clip 2's.
        std::fs::copy(&a.path, &b.path).unwrap();
        assert_eq!(cache.load(&b), None);
        assert_eq!(cache.rejected(), 1);
        // Clip 1's log-Mel entry moved into the CENS folder under the same content.
        let moved = cache.entry(&cens, 1);
        std::fs::create_dir_all(&cens.path).unwrap();
        std::fs::copy(&a.path, &moved.path).unwrap();
        assert_eq!(cache.load(&moved), None);
        assert_eq!(cache.rejected(), 2);
        assert_eq!(cache.load(&a), Some(fa), "the original still reads");
        // The array part is a plain .npy file: numpy and ndarray-npy read it.
        let bytes = std::fs::read(&a.path).unwrap();
        let npy = &bytes[..bytes.len() - TRAILER_LEN];
        let read = <Array2<f32> as ReadNpyExt>::read_npy(npy).unwrap();
        assert_eq!(read.dim(), (5, 3));
    }

    #[test]
    fn temporary_files_of_a_killed_run_are_removed_but_not_a_running_one() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path());
        let old = dir.path().join(".0123.npy.4242.0.tmp");
        let fresh = dir.path().join(".4567.npy.4243.0.tmp");
        let entry = dir.path().join("0123.npy");
        for p in [&old, &fresh, &entry] {
            std::fs::write(p, b"x").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        assert_eq!(cache.remove_orphans(dir.path()), 1);
        assert!(!old.exists() && fresh.exists() && entry.exists());
        assert_eq!(cache.remove_orphans(&dir.path().join("missing")), 0);
    }
}
