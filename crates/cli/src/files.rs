//! Turning command-line paths into audio files.

use std::path::{Path, PathBuf};

/// Extensions searched for inside folders.
const AUDIO: &[&str] = &["wav", "flac"];

/// Files of `paths`: a folder gives every `.wav`/`.flac` below it (recursively, sorted);
/// a file is taken as it is (the decoder judges it). Paths that do not exist, or are
/// neither a regular file nor a folder (a FIFO, a device), are returned as problems.
pub fn collect(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => walk(p, &mut files, &mut problems),
            Ok(m) if m.is_file() => files.push(p.clone()),
            Ok(_) => problems.push((p.clone(), "not a regular file or folder".into())),
            Err(e) => problems.push((p.clone(), plain_io(&e))),
        }
    }
    (files, problems)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            problems.push((dir.to_path_buf(), plain_io(&e)));
            return;
        }
    };
    entries.sort();
    for p in entries {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, files, problems),
            Ok(m) if m.is_file() && is_audio(&p) => files.push(p),
            _ => {}
        }
    }
}

fn is_audio(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO.iter().any(|a| e.eq_ignore_ascii_case(a)))
}

/// An I/O error's message without Rust's `(os error N)` suffix.
pub fn plain_io(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
