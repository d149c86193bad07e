//! The exploring-aad experiment: from audio to results tables and figures.
//!
//! The study is built on the runtime crate [`aad_engine`] (registry, deployable model,
//! batch decoding and extraction, feature cache), whose modules are re-exported here
//! under their own names so that `aad_experiment::registry` and `aad_engine::registry`
//! are one module.
//!
//! - [`pipeline`]: the MIMII / DCASE experiment ([`pipeline::run`]), stage by stage.
//! - [`config`] and [`outcome`]: what a run is asked to do and what it produced (plain
//!   data, read by the reports and figures without depending on the pipeline).
//! - [`report`] and [`figures`]: `results.csv`, `summary.md`, `results.json`, `figures/`.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod crossfit;
pub mod figures;
pub mod group;
pub mod heldout;
pub mod outcome;
pub mod pipeline;
pub mod progress;
pub mod report;
mod schedule;

pub use aad_engine::{batch, cache, io, model, reference, registry};

pub use pipeline::{
    ClipError, ClipExtractor, ContrastSets, ExperimentConfig, ExperimentError, GroupInfo, GroupJob,
    GroupRows, GroupSkipReason, JobError, Outcome, Plan, ResultRow, SkipReason, SnrFilter,
    TrainTest, UsableGroups, contrast_files, fit_score_group, fit_score_group_with_contrast, plan,
    run, run_with, usable_groups,
};
