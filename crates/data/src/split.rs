//! Train/test splits per machine, as the MIMII and DCASE baselines make them.

use std::collections::BTreeMap;

use aad_core::Label;

use crate::{Clip, FolderSplit, GroupKey};

/// How to split a group of clips (one machine at one SNR) into train and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// The DCASE folder split where the layout gives a usable one, else the MIMII
    /// baseline protocol.
    #[default]
    Auto,
    /// MIMII baseline (`mimii_baseline/baseline.py`): normals and abnormals sorted by
    /// path; test = the first `N_abnormal` normals + all abnormals; train = the remaining
    /// normals.
    MimiiBaseline,
    /// DCASE challenge folders: train = the normals of `train/`, test = `test/`.
    DcaseFolders,
}

/// One group's split.
#[derive(Debug, Clone)]
pub struct GroupSplit {
    /// The machine.
    pub key: GroupKey,
    /// Training clips (normal only).
    pub train: Vec<Clip>,
    /// Test clips (normal and anomalous), normals first, each sorted by path.
    pub test: Vec<Clip>,
    /// The protocol actually applied (never `Auto`).
    pub protocol: Protocol,
}

impl GroupSplit {
    /// Test normals.
    pub fn n_test_normal(&self) -> usize {
        self.test
            .iter()
            .filter(|c| c.label == Label::Normal)
            .count()
    }

    /// Test anomalies.
    pub fn n_test_abnormal(&self) -> usize {
        self.test
            .iter()
            .filter(|c| c.label == Label::Anomalous)
            .count()
    }
}

/// A group that cannot be split, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsplittable {
    /// The machine.
    pub key: GroupKey,
    /// Normal clips in the group.
    pub n_normal: usize,
    /// Anomalous clips in the group.
    pub n_abnormal: usize,
    /// Why no split is possible.
    pub reason: String,
}

/// All groups' splits plus the groups that could not be split.
#[derive(Debug, Clone, Default)]
pub struct SplitReport {
    /// Usable groups, sorted by key.
    pub groups: Vec<GroupSplit>,
    /// Groups too small or without anomalies, sorted by key.
    pub unsplittable: Vec<Unsplittable>,
}

fn sorted(mut v: Vec<Clip>) -> Vec<Clip> {
    v.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    v
}

fn mimii(key: &GroupKey, clips: &[Clip]) -> Result<GroupSplit, Unsplittable> {
    let normal = sorted(
        clips
            .iter()
            .filter(|c| c.label == Label::Normal)
            .cloned()
            .collect(),
    );
    let abnormal = sorted(
        clips
            .iter()
            .filter(|c| c.label == Label::Anomalous)
            .cloned()
            .collect(),
    );
    let (n, a) = (normal.len(), abnormal.len());
    let fail = |reason: String| Unsplittable {
        key: key.clone(),
        n_normal: n,
        n_abnormal: a,
        reason,
    };
    if a == 0 {
        return Err(fail("no anomalous clips, nothing to evaluate".into()));
    }
    if n <= a {
        return Err(fail(format!(
            "{n} normal clip(s) for {a} anomalous: the MIMII split moves {} normal(s) to the test set and leaves none to train on",
            a.min(n)
        )));
    }
    let mut test = normal[..a].to_vec();
    test.extend(abnormal);
    Ok(GroupSplit {
        key: key.clone(),
        train: normal[a..].to_vec(),
        test,
        protocol: Protocol::MimiiBaseline,
    })
}

fn folders(key: &GroupKey, clips: &[Clip]) -> Result<GroupSplit, Unsplittable> {
    let n = clips.iter().filter(|c| c.label == Label::Normal).count();
    let a = clips.len() - n;
    let train = sorted(
        clips
            .iter()
            .filter(|c| c.folder_split == Some(FolderSplit::Train) && c.label == Label::Normal)
            .cloned()
            .collect(),
    );
    let test_all: Vec<Clip> = clips
        .iter()
        .filter(|c| c.folder_split == Some(FolderSplit::Test))
        .cloned()
        .collect();
    let mut test = sorted(
        test_all
            .iter()
            .filter(|c| c.label == Label::Normal)
            .cloned()
            .collect(),
    );
    let test_abn = sorted(
        test_all
            .iter()
            .filter(|c| c.label == Label::Anomalous)
            .cloned()
            .collect(),
    );
    let fail = |reason: String| Unsplittable {
        key: key.clone(),
        n_normal: n,
        n_abnormal: a,
        reason,
    };
    if train.is_empty() {
        return Err(fail("no normal clip in a train/ folder".into()));
    }
    if test.is_empty() || test_abn.is_empty() {
        return Err(fail(format!(
            "the test/ folder needs both labels, it has {} normal and {} anomalous",
            test.len(),
            test_abn.len()
        )));
    }
    test.extend(test_abn);
    Ok(GroupSplit {
        key: key.clone(),
        train,
        test,
        protocol: Protocol::DcaseFolders,
    })
}

/// Splits `clips` per (SNR, machine type, machine id) with `protocol`. Deterministic:
/// groups and clips are sorted, nothing is random.
///
/// ```
/// use aad_data::{Clip, Layout, Protocol, split};
/// use aad_core::Label;
/// let clip = |i: usize, label| Clip {
///     path: format!("fan/id_00/{label}/{i:08}.wav").into(),
///     rel_path: format!("fan/id_00/{label}/{i:08}.wav"),
///     machine_type: "fan".into(), machine_id: "id_00".into(), label,
///     snr: None, layout: Layout::Mimii, folder_split: None, domain: None, anomaly_kind: None,
/// };
/// let mut clips: Vec<Clip> = (0..5).map(|i| clip(i, Label::Normal)).collect();
/// clips.extend((0..2).map(|i| clip(i, Label::Anomalous)));
/// let report = split(&clips, Protocol::MimiiBaseline);
/// let g = &report.groups[0];
/// assert_eq!((g.train.len(), g.n_test_normal(), g.n_test_abnormal()), (3, 2, 2));
/// assert!(g.test[0].rel_path.ends_with("00000000.wav")); // the first normals are tested
/// ```
pub fn split(clips: &[Clip], protocol: Protocol) -> SplitReport {
    let mut groups: BTreeMap<GroupKey, Vec<Clip>> = BTreeMap::new();
    for c in clips {
        groups.entry(c.group()).or_default().push(c.clone());
    }
    let mut report = SplitReport::default();
    for (key, members) in groups {
        let result = match protocol {
            Protocol::MimiiBaseline => mimii(&key, &members),
            Protocol::DcaseFolders => folders(&key, &members),
            Protocol::Auto => {
                let has_folders = members.iter().any(|c| c.folder_split.is_some());
                match (has_folders, folders(&key, &members)) {
                    (true, Ok(s)) => Ok(s),
                    _ => mimii(&key, &members),
                }
            }
        };
        match result {
            Ok(s) => report.groups.push(s),
            Err(u) => report.unsplittable.push(u),
        }
    }
    report
}
