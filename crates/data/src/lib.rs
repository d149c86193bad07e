//! Machine-sound datasets: discovery, splits and a synthetic generator.
//!
//! - [`discover`](fn@discover) walks a folder and recognises every clip from its **path components**
//!   (not fixed depths): the MIMII release (`<snr>/<type>/id_XX/{normal,abnormal}/N.wav`,
//!   SNR folders spelled `-6dB`, `-6_dB_fan`, `0_dB`, `6dB`, ...), DCASE 2020
//!   (`<type>/{train,test}/{normal,anomaly}_id_XX_N.wav`) and DCASE 2021+
//!   (`section_XX_{source,target}_{train,test}_{normal,anomaly}_...`), and your own
//!   recordings in plain folders (`<machine>/{normal,abnormal}/`, `<machine>/train/`,
//!   `<machine>/test/{ok,faulty}/`, ...: [`Layout::Plain`]); given a `.csv` file it reads
//!   a manifest instead ([`Layout::Manifest`]). Files that fit no layout are reported
//!   with the reason, never silently dropped.
//! - [`split()`] makes the per-machine train/test split of the MIMII baseline, or the
//!   DCASE folder split where the layout gives one; groups too small to split are
//!   reported.
//! - [`generate`] writes a seeded synthetic MIMII-layout dataset (fan, valve, pump,
//!   slider; humming, clicking, leak and rubbing anomalies) so everything runs without a
//!   download.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let mut cfg = aad_data::SyntheticConfig::tiny(1);
//! cfg.duration_s = 0.5;
//! aad_data::generate(&cfg, dir.path())?;
//! let found = aad_data::discover(dir.path())?;
//! let report = aad_data::split(&found.clips, aad_data::Protocol::Auto);
//! for g in &report.groups {
//!     // 6 normals, 3 anomalies: test = 3 + 3, train = 3.
//!     assert_eq!((g.train.len(), g.n_test_normal(), g.n_test_abnormal()), (3, 3, 3));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod clip;
pub mod discover;
mod error;
mod split;
pub mod synth;

pub use aad_core::Domain;
pub use clip::{Clip, FolderSplit, GroupKey, Layout, Snr, parse_snr_label};
pub use discover::{Discovery, Skipped, discover};
pub use error::{DataError, ParseError};
pub use split::{GroupSplit, Protocol, SplitReport, Unsplittable, split};
pub use synth::{
    AnomalyKind, AnomalyTruth, MachineKind, SyntheticConfig, SyntheticDataset, generate,
    generate_observed,
};
