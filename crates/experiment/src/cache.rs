//! An on-disk feature cache keyed by file content and feature configuration: a rerun,
//! or a run with more models, skips extraction; a changed file or setting misses.

use std::path::{Path, PathBuf};

use aad_audio::DecodeOptions;
use ndarray::{Array2, ArrayView2};
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

use crate::io::{IoError, read_npy, write_npy_unsynced, write_text};
use crate::registry::FeatureSpec;

/// A feature cache under one folder: `<root>/<feature key hash>/<content hash>.npy`,
/// with the full key in `<root>/<feature key hash>/key.txt` for people.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    root: PathBuf,
}

/// A file's content hash (XXH3-128 of its bytes).
pub type ContentHash = u128;

/// The content hash of bytes already in memory.
pub fn hash_bytes(bytes: &[u8]) -> ContentHash {
    xxh3_128(bytes)
}

impl FeatureCache {
    /// A cache in `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FeatureCache { root: root.into() }
    }

    /// The cache folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one feature read with `decode`: everything that changes the values
    /// is in the key (the feature's parameters, the channel policy, the required sample
    /// rate and this crate's version, so a new release never reads stale features).
    pub fn feature_dir(&self, feature: &FeatureSpec, decode: &DecodeOptions) -> PathBuf {
        self.root
            .join(format!("{:016x}", xxh3_64(key(feature, decode).as_bytes())))
    }

    /// Writes `key.txt` into the feature's folder.
    ///
    /// # Errors
    /// An I/O error naming the file.
    pub fn describe(&self, feature: &FeatureSpec, decode: &DecodeOptions) -> Result<(), IoError> {
        let dir = self.feature_dir(feature, decode);
        let path = dir.join("key.txt");
        if path.exists() {
            return Ok(());
        }
        write_text(&path, &format!("{}\n", key(feature, decode)))
    }

    /// Removes temporary files a killed run left in a feature's folder: `.tmp` files
    /// older than an hour (writing one takes milliseconds, so a younger one may belong
    /// to a run sharing the cache right now). Returns how many were removed.
    pub fn remove_orphans(&self, feature_dir: &Path) -> usize {
        let Ok(entries) = std::fs::read_dir(feature_dir) else {
            return 0;
        };
        let hour = std::time::Duration::from_secs(3600);
        entries
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with('.') && name.ends_with(".tmp")
            })
            .filter(|e| {
                e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > hour)
            })
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }

    /// The entry of one file's content.
    pub fn entry(&self, feature_dir: &Path, content: ContentHash) -> PathBuf {
        feature_dir.join(format!("{content:032x}.npy"))
    }

    /// Reads an entry; `None` when absent or unreadable (then it is recomputed).
    pub fn load(&self, entry: &Path) -> Option<Array2<f32>> {
        read_npy(entry)
            .ok()
            .filter(|a| a.iter().all(|v| v.is_finite()))
    }

    /// Stores an entry atomically.
    ///
    /// # Errors
    /// An I/O error naming the file.
    pub fn store(&self, entry: &Path, features: ArrayView2<'_, f32>) -> Result<(), IoError> {
        write_npy_unsynced(entry, features)
    }
}

fn key(feature: &FeatureSpec, decode: &DecodeOptions) -> String {
    format!(
        "aad-experiment {} | channel {} | sample rate {:?} | {}",
        env!("CARGO_PKG_VERSION"),
        decode.channel.label(),
        decode.expected_sample_rate,
        feature.cache_key()
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
        std::fs::write(&e, b"not npy").unwrap();
        assert!(cache.load(&e).is_none(), "a damaged entry is a miss");
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
