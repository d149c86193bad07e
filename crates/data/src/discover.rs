//! Walking a folder and recognising clips from their path components.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use aad_core::Label;

use crate::{Clip, DataError, Domain, FolderSplit, Layout, Snr};

/// Name of the optional metadata file a synthetic dataset writes at its root.
pub const ANOMALY_KINDS_FILE: &str = "anomaly_kinds.csv";

/// A file that looked like audio but could not be placed in a dataset layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// What [`discover`] found under a root folder.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// The folder walked.
    pub root: PathBuf,
    /// Recognised clips, sorted by relative path.
    pub clips: Vec<Clip>,
    /// Audio files (or unreadable entries) that fit no layout, with the reason.
    pub skipped: Vec<Skipped>,
    /// Files that are not audio (`.csv`, `.md`, hidden files), listed for completeness.
    pub ignored: Vec<PathBuf>,
}

/// Counts per (SNR label, machine type, machine id, label).
pub type Counts = BTreeMap<(String, String, String, Label), usize>;

impl Discovery {
    /// Number of clips per (SNR label, machine type, machine id, label).
    pub fn counts(&self) -> Counts {
        let mut out = Counts::new();
        for c in &self.clips {
            *out.entry((
                c.snr_label(),
                c.machine_type.clone(),
                c.machine_id.clone(),
                c.label,
            ))
            .or_default() += 1;
        }
        out
    }
}

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("flac"))
}

/// Recognises a clip from the components of its path relative to the root
/// (folders first, file name last).
///
/// # Errors
/// [`ParseError`](crate::ParseError) saying why no layout fits.
pub fn parse_clip_path(components: &[&str]) -> Result<ParsedClip, crate::ParseError> {
    let Some((&name, folders)) = components.split_last() else {
        return Err(crate::ParseError::EmptyPath);
    };
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    if let Some(p) = parse_dcase2021(stem, folders) {
        return Ok(p);
    }
    if let Some(p) = parse_dcase2020(stem, folders) {
        return Ok(p);
    }
    if let Some(p) = parse_mimii(folders) {
        return Ok(p);
    }
    if let Some(p) = parse_plain(folders) {
        return Ok(p);
    }
    Err(crate::ParseError::NoLayout(
        "path fits no layout: MIMII `<snr>/<type>/id_XX/{normal,abnormal}/N.wav`, DCASE 2020 \
         `<type>/{train,test}/{normal,anomaly}_id_XX_N.wav`, DCASE 2021+ \
         `section_XX_{source,target}_{train,test}_{normal,anomaly}_...`, or your own \
         `<machine>/[train|test/]{normal,ok,abnormal,anomaly,faulty,...}/N.wav` or \
         `<machine>/train/N.wav`"
            .into(),
    ))
}

/// The label a plain layout's folder name gives (any case).
fn label_folder(s: &str) -> Option<Label> {
    match s.to_ascii_lowercase().as_str() {
        "normal" | "ok" | "good" => Some(Label::Normal),
        "abnormal" | "anomaly" | "anomalous" | "faulty" | "fault" | "bad" | "ng" => {
            Some(Label::Anomalous)
        }
        _ => None,
    }
}

/// Whether a folder name is MIMII's machine id or SNR: such a folder is never a machine
/// name (`id_00/normal/x.wav` is a MIMII path that lost its type folder).
fn is_mimii_part(s: &str) -> bool {
    s.strip_prefix("id_").is_some_and(digits) || Snr::parse(s).is_some()
}

fn parse_plain(folders: &[&str]) -> Option<ParsedClip> {
    let (&last, rest) = folders.split_last()?;
    let (label, split, above) = match (label_folder(last), is_split_folder(last)) {
        (Some(label), _) => match rest.split_last() {
            Some((&f, above)) if is_split_folder(f).is_some() => (label, is_split_folder(f), above),
            _ => (label, None, rest),
        },
        // Training folders hold normal clips only.
        (None, Some(FolderSplit::Train)) => (Label::Normal, Some(FolderSplit::Train), rest),
        _ => return None,
    };
    let (&machine, ancestors) = above.split_last()?;
    if is_mimii_part(machine) || is_split_folder(machine).is_some() {
        return None;
    }
    Some(ParsedClip {
        machine_type: machine.to_string(),
        machine_id: "all".to_string(),
        label,
        snr: ancestors.iter().rev().find_map(|f| Snr::parse(f)),
        layout: Layout::Plain,
        folder_split: split,
        domain: None,
    })
}

/// What a path says about a clip (see [`parse_clip_path`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedClip {
    /// Machine type.
    pub machine_type: String,
    /// `id_XX` or `section_XX`.
    pub machine_id: String,
    /// Ground truth.
    pub label: Label,
    /// SNR folder, if any.
    pub snr: Option<Snr>,
    /// Layout matched.
    pub layout: Layout,
    /// DCASE folder split.
    pub folder_split: Option<FolderSplit>,
    /// DCASE 2021+ domain.
    pub domain: Option<Domain>,
}

fn is_split_folder(s: &str) -> Option<FolderSplit> {
    match s {
        "train" => Some(FolderSplit::Train),
        "test" => Some(FolderSplit::Test),
        _ => None,
    }
}

/// The machine type of a DCASE file: the folder before `train`/`test`, else the parent.
fn dcase_type(folders: &[&str]) -> Option<String> {
    let (&last, rest) = folders.split_last()?;
    if is_split_folder(last).is_some() {
        rest.last().map(|s| s.to_string())
    } else {
        Some(last.to_string())
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_dcase2021(stem: &str, folders: &[&str]) -> Option<ParsedClip> {
    let start = stem.find("section_")?;
    let t: Vec<&str> = stem[start..].split('_').collect();
    // section, XX, domain, split, label, ...
    if t.len() < 5 || !digits(t[1]) {
        return None;
    }
    let domain = match t[2] {
        "source" => Domain::Source,
        "target" => Domain::Target,
        _ => return None,
    };
    let split = is_split_folder(t[3])?;
    let label = match t[4] {
        "normal" => Label::Normal,
        "anomaly" => Label::Anomalous,
        _ => return None,
    };
    let machine_type = dcase_type(folders).or_else(|| {
        // A flat folder of `<type>_<split>_section_...` files.
        let prefix = stem[..start].trim_end_matches('_');
        prefix
            .split('_')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    })?;
    Some(ParsedClip {
        machine_type,
        machine_id: format!("section_{}", t[1]),
        label,
        snr: None,
        layout: Layout::Dcase2021,
        folder_split: Some(split),
        domain: Some(domain),
    })
}

fn parse_dcase2020(stem: &str, folders: &[&str]) -> Option<ParsedClip> {
    let t: Vec<&str> = stem.split('_').collect();
    if t.len() != 4 || t[1] != "id" || !digits(t[2]) || !digits(t[3]) {
        return None;
    }
    let label = match t[0] {
        "normal" => Label::Normal,
        "anomaly" => Label::Anomalous,
        _ => return None,
    };
    let folder_split = folders.last().and_then(|f| is_split_folder(f));
    Some(ParsedClip {
        machine_type: dcase_type(folders)?,
        machine_id: format!("id_{}", t[2]),
        label,
        snr: None,
        layout: Layout::Dcase2020,
        folder_split,
        domain: None,
    })
}

fn parse_mimii(folders: &[&str]) -> Option<ParsedClip> {
    let n = folders.len();
    if n < 3 {
        return None;
    }
    let label = match folders[n - 1] {
        "normal" => Label::Normal,
        "abnormal" => Label::Anomalous,
        _ => return None,
    };
    let id = folders[n - 2];
    if !(id.starts_with("id_") && digits(&id[3..])) {
        return None;
    }
    let machine_type = folders[n - 3].to_string();
    if Snr::parse(&machine_type).is_some() {
        return None;
    }
    // The nearest SNR-looking ancestor, wherever it sits.
    let snr = folders[..n - 3].iter().rev().find_map(|f| Snr::parse(f));
    Some(ParsedClip {
        machine_type,
        machine_id: id.to_string(),
        label,
        snr,
        layout: Layout::Mimii,
        folder_split: None,
        domain: None,
    })
}

fn read_anomaly_kinds(root: &Path, skipped: &mut Vec<Skipped>) -> HashMap<String, String> {
    let path = root.join(ANOMALY_KINDS_FILE);
    let mut out = HashMap::new();
    if !path.is_file() {
        return out;
    }
    let mut reader = match csv::Reader::from_path(&path) {
        Ok(r) => r,
        Err(e) => {
            skipped.push(Skipped {
                path,
                reason: format!("unreadable metadata: {e}"),
            });
            return out;
        }
    };
    let headers = reader.headers().cloned().unwrap_or_default();
    let (Some(fi), Some(ki)) = (
        headers.iter().position(|h| h == "file"),
        headers.iter().position(|h| h == "kind"),
    ) else {
        skipped.push(Skipped {
            path,
            reason: "metadata lacks `file` and `kind` columns".into(),
        });
        return out;
    };
    for row in reader.records() {
        match row {
            Ok(r) => {
                if let (Some(f), Some(k)) = (r.get(fi), r.get(ki)) {
                    out.insert(f.to_string(), k.to_string());
                }
            }
            Err(e) => skipped.push(Skipped {
                path: path.clone(),
                reason: format!("bad metadata row: {e}"),
            }),
        }
    }
    out
}

/// Walks `root` (sorted, following symbolic links) and recognises every audio file from
/// its path components, wherever the layout starts below `root`. A `root` that is a
/// `.csv` file is read as a manifest instead (see [`Layout::Manifest`]): columns `file`,
/// `machine_type`, `label`, optionally `machine_id`, `snr`, `split`, `domain`.
///
/// Files that look like audio but fit no layout are listed in [`Discovery::skipped`] with
/// the reason; other files in [`Discovery::ignored`]. The result is deterministic.
///
/// # Errors
/// `root` does not exist or is not a folder.
pub fn discover(root: impl AsRef<Path>) -> Result<Discovery, DataError> {
    let root = root.as_ref();
    if root.is_file()
        && root
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        return discover_manifest(root);
    }
    if !root.is_dir() {
        return Err(DataError::NotADirectory(root.to_path_buf()));
    }
    let mut out = Discovery {
        root: root.to_path_buf(),
        ..Default::default()
    };
    let kinds = read_anomaly_kinds(root, &mut out.skipped);
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.skipped.push(Skipped {
                    path: e
                        .path()
                        .map_or_else(|| root.to_path_buf(), Path::to_path_buf),
                    reason: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden || !is_audio(path) {
            out.ignored.push(path.to_path_buf());
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(path);
        let comps: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let refs: Vec<&str> = comps.iter().map(String::as_str).collect();
        let rel_path = comps.join("/");
        match parse_clip_path(&refs) {
            Ok(p) => out.clips.push(Clip {
                path: path.to_path_buf(),
                anomaly_kind: kinds.get(&rel_path).cloned(),
                rel_path,
                machine_type: p.machine_type,
                machine_id: p.machine_id,
                label: p.label,
                snr: p.snr,
                layout: p.layout,
                folder_split: p.folder_split,
                domain: p.domain,
            }),
            Err(reason) => out.skipped.push(Skipped {
                path: path.to_path_buf(),
                reason: reason.to_string(),
            }),
        }
    }
    out.clips.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    drop_duplicates(&mut out);
    Ok(out)
}

/// The clips a manifest CSV lists: columns `file` (relative to the CSV's folder, or
/// absolute), `machine_type` and `label` (normal, ok, good, 0 / abnormal, anomaly,
/// anomalous, faulty, fault, bad, ng, 1), optional `machine_id` (default `all`), `snr`
/// (`-6dB`; empty for none), `split` (`train`, `test` or empty) and `domain` (`source`,
/// `target` or empty); other columns are ignored. A row whose file is missing or whose values do not parse is skipped with the
/// reason; a manifest without the required columns is an error.
fn discover_manifest(csv_path: &Path) -> Result<Discovery, DataError> {
    let bad = |reason: String| DataError::BadManifest {
        path: csv_path.to_path_buf(),
        reason,
    };
    let base = csv_path.parent().unwrap_or(Path::new("."));
    // Flexible: a row may leave out trailing optional columns.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(csv_path)
        .map_err(|e| bad(e.to_string()))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(fi), Some(ti), Some(li)) = (col("file"), col("machine_type"), col("label")) else {
        return Err(bad(
            "a manifest needs `file`, `machine_type` and `label` columns".to_string(),
        ));
    };
    let (ii, si, pi, di) = (col("machine_id"), col("snr"), col("split"), col("domain"));
    let mut out = Discovery {
        root: base.to_path_buf(),
        ..Default::default()
    };
    for (n, row) in reader.records().enumerate() {
        let line = n + 2;
        let skip = |out: &mut Discovery, path: PathBuf, why: String| {
            out.skipped.push(Skipped {
                path,
                reason: format!("{} line {line}: {why}", csv_path.display()),
            });
        };
        let r = match row {
            Ok(r) => r,
            Err(e) => {
                skip(&mut out, csv_path.to_path_buf(), e.to_string());
                continue;
            }
        };
        let get = |i: Option<usize>| i.and_then(|i| r.get(i)).map(str::trim).unwrap_or("");
        let file = get(Some(fi));
        let path = base.join(file);
        let fields = [
            get(Some(ti)),
            get(ii),
            get(Some(li)),
            get(si),
            get(pi),
            get(di),
        ];
        match manifest_clip(&path, file, &fields) {
            Ok(c) => out.clips.push(c),
            Err(why) => skip(&mut out, path, why.to_string()),
        }
    }
    out.clips.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    drop_duplicates(&mut out);
    Ok(out)
}

/// Why a manifest row names no usable clip.
#[derive(Debug, thiserror::Error)]
enum RowError {
    #[error("no such file: {0:?}")]
    NoFile(String),
    #[error("empty machine_type")]
    NoMachineType,
    #[error("label {0:?} is neither normal nor anomalous")]
    Label(String),
    #[error("snr {0:?} is not like -6dB")]
    Snr(String),
    #[error("split {0:?} is neither train nor test")]
    Split(String),
    #[error("domain {0:?} is neither source nor target")]
    Domain(String),
}

/// One manifest row: `[machine_type, machine_id, label, snr, split, domain]`.
fn manifest_clip(path: &Path, file: &str, v: &[&str; 6]) -> Result<Clip, RowError> {
    let [machine_type, machine_id, label, snr, split, domain] = *v;
    if file.is_empty() || !path.is_file() {
        return Err(RowError::NoFile(file.to_string()));
    }
    if machine_type.is_empty() {
        return Err(RowError::NoMachineType);
    }
    let label = match label {
        "0" => Label::Normal,
        "1" => Label::Anomalous,
        l => label_folder(l).ok_or_else(|| RowError::Label(l.to_string()))?,
    };
    let snr = match snr {
        "" | "na" => None,
        s => Some(Snr::parse(s).ok_or_else(|| RowError::Snr(s.to_string()))?),
    };
    let folder_split = match split {
        "" => None,
        s => Some(is_split_folder(s).ok_or_else(|| RowError::Split(s.to_string()))?),
    };
    Ok(Clip {
        path: path.to_path_buf(),
        rel_path: file.replace('\\', "/"),
        machine_type: machine_type.to_string(),
        machine_id: if machine_id.is_empty() {
            "all"
        } else {
            machine_id
        }
        .to_string(),
        label,
        snr,
        layout: Layout::Manifest,
        folder_split,
        domain: match domain {
            "" => None,
            "source" => Some(Domain::Source),
            "target" => Some(Domain::Target),
            d => return Err(RowError::Domain(d.to_string())),
        },
        anomaly_kind: None,
    })
}

/// The same recording found twice (MIMII's 8-channel originals beside their channel-0
/// copies, or an archive unpacked twice): the same SNR, machine type, id, label, DCASE
/// split and domain, and the same file name, under different folders. They would be
/// pooled into one machine group anyway, where one recording could land in training and
/// in test at once; the first in path order is kept, the others are skipped, naming it.
fn drop_duplicates(out: &mut Discovery) {
    type Key = (
        Option<Snr>,
        String,
        String,
        Label,
        Option<FolderSplit>,
        Option<Domain>,
        String,
    );
    let mut first: HashMap<Key, String> = HashMap::new();
    let clips = std::mem::take(&mut out.clips);
    for c in clips {
        let name = c
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = (
            c.snr,
            c.machine_type.clone(),
            c.machine_id.clone(),
            c.label,
            c.folder_split,
            c.domain,
            name,
        );
        match first.get(&key) {
            Some(kept) => out.skipped.push(Skipped {
                path: c.path.clone(),
                reason: format!(
                    "the same recording as {kept} (same SNR, machine, id, label and file \
                     name); counted once"
                ),
            }),
            None => {
                first.insert(key, c.rel_path.clone());
                out.clips.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &str) -> Result<ParsedClip, crate::ParseError> {
        parse_clip_path(&p.split('/').collect::<Vec<_>>())
    }

    #[test]
    fn mimii_paths_at_any_depth_and_with_any_snr_spelling() {
        for (p, snr) in [
            ("-6_dB_fan/fan/id_00/normal/00000001.wav", Some(-6)),
            ("x/y/0_dB/valve/id_06/abnormal/00000000.wav", Some(0)),
            ("6dB/pump/id_02/normal/00000010.wav", Some(6)),
            ("data/fan/id_04/abnormal/00000003.wav", None),
            ("fan/id_04/abnormal/00000003.wav", None),
        ] {
            let c = parse(p).unwrap();
            assert_eq!(c.layout, Layout::Mimii, "{p}");
            assert_eq!(c.snr, snr.map(Snr), "{p}");
        }
        let c = parse("-6dB/valve/id_06/abnormal/00000000.wav").unwrap();
        assert_eq!(
            (c.machine_type.as_str(), c.machine_id.as_str(), c.label),
            ("valve", "id_06", Label::Anomalous)
        );
    }

    #[test]
    fn dcase_2020_and_2021_names() {
        let c = parse("dev_data/fan/test/anomaly_id_06_00000002.wav").unwrap();
        assert_eq!(c.layout, Layout::Dcase2020);
        assert_eq!(
            (c.machine_type.as_str(), c.machine_id.as_str()),
            ("fan", "id_06")
        );
        assert_eq!(
            (c.label, c.folder_split),
            (Label::Anomalous, Some(FolderSplit::Test))
        );
        let c = parse("dev_data/valve/train/normal_id_00_00000000.wav").unwrap();
        assert_eq!(c.folder_split, Some(FolderSplit::Train));

        let c =
            parse("dcase2023/fan/fan_test_section_00_source_test_anomaly_0022_m-n_W.wav").unwrap();
        assert_eq!(c.layout, Layout::Dcase2021);
        assert_eq!(
            (c.machine_type.as_str(), c.machine_id.as_str()),
            ("fan", "section_00")
        );
        assert_eq!(c.domain, Some(Domain::Source));
        assert_eq!(
            (c.label, c.folder_split),
            (Label::Anomalous, Some(FolderSplit::Test))
        );
        let c = parse("dev_data/raw/gearbox/train/section_02_target_train_normal_0001_v_1.wav")
            .unwrap();
        assert_eq!(
            (c.machine_type.as_str(), c.machine_id.as_str()),
            ("gearbox", "section_02")
        );
        assert_eq!(c.domain, Some(Domain::Target));
        let c = parse("valve_train_section_01_source_train_normal_0000_x.wav").unwrap();
        assert_eq!(c.machine_type, "valve");
    }

    #[test]
    fn plain_folders_of_your_own_recordings() {
        let want = |p: &str, machine: &str, label: Label, split: Option<FolderSplit>| {
            let c = parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(c.layout, Layout::Plain, "{p}");
            assert_eq!(
                (
                    c.machine_type.as_str(),
                    c.machine_id.as_str(),
                    c.label,
                    c.folder_split
                ),
                (machine, "all", label, split),
                "{p}"
            );
        };
        let (n, a) = (Label::Normal, Label::Anomalous);
        let (train, test) = (Some(FolderSplit::Train), Some(FolderSplit::Test));
        for (p, machine, label, split) in [
            ("pump/normal/a.wav", "pump", n, None),
            ("pump/abnormal/b.flac", "pump", a, None),
            ("site/motorA/train/rec1.wav", "motorA", n, train),
            ("motorA/test/ok/1.wav", "motorA", n, test),
            ("motorA/test/Faulty/2.wav", "motorA", a, test),
            ("motorA/train/normal/3.wav", "motorA", n, train),
        ] {
            want(p, machine, label, split);
        }
        // The folder above the label names the machine, whatever it looks like.
        want("fan/idx_00/normal/0.wav", "idx_00", Label::Normal, None);
        let c = parse("-6dB/pump/anomaly/x.wav").unwrap();
        assert_eq!(c.snr, Some(Snr(-6)));
        // MIMII and DCASE names still win.
        assert_eq!(
            parse("fan/id_00/normal/0.wav").unwrap().layout,
            Layout::Mimii
        );
        assert_eq!(
            parse("fan/train/normal_id_00_00000000.wav").unwrap().layout,
            Layout::Dcase2020
        );
    }

    #[test]
    fn misfits_are_rejected_with_a_reason() {
        for p in [
            "fan/id_00/broken/00000000.wav",
            "id_00/normal/00000000.wav",
            "random.wav",
            "-6dB/id_00/normal/0.wav",
            "normal/0.wav",
            "motorA/test/0.wav",
            "train/normal/0.wav",
        ] {
            let e = parse(p).unwrap_err();
            assert!(matches!(e, crate::ParseError::NoLayout(_)), "{p}: {e}");
        }
    }
}
