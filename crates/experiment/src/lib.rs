//! The exploring-aad experiment: from audio to results tables and figures.
//!
//! - [`reference`](mod@reference): the feature set of the librosa reference harness, for parity checks
//!   and side-by-side timing.
//! - [`io`]: atomic writers (`.npy`, text).
//! - [`model`](mod@model): a deployable model (feature + fitted detector + calibrated
//!   threshold in one file), behind `aad fit`, `aad score` and `aad monitor`.
//! - [`batch`]: decoding and feature extraction over many files on a thread pool.
//! - [`registry`]: every named feature and detector (the tables `aad list` prints).
//! - [`cache`]: the on-disk feature cache (file content × feature configuration).
//! - [`pipeline`]: the MIMII / DCASE experiment ([`pipeline::run`]), stage by stage.
//! - [`config`] and [`outcome`]: what a run is asked to do and what it produced (plain
//!   data, read by the reports and figures without depending on the pipeline).
//! - [`report`] and [`figures`]: `results.csv`, `summary.md`, `results.json`, `figures/`.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod batch;
pub mod cache;
pub mod config;
pub mod crossfit;
pub mod figures;
pub mod io;
pub mod model;
pub mod outcome;
pub mod pipeline;
pub mod progress;
pub mod reference;
pub mod registry;
pub mod report;

pub use pipeline::{
    ClipError, ClipExtractor, ExperimentConfig, ExperimentError, GroupInfo, GroupJob, GroupRows,
    GroupSkipReason, JobError, Outcome, Plan, ResultRow, SkipReason, SnrFilter, TrainTest,
    UsableGroups, fit_score_group, plan, run, run_with, usable_groups,
};
