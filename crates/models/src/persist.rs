//! One file for any fitted detector: safetensors for the arrays, JSON for the rest.
//!
//! The file is a standard safetensors file (`safetensors.safe_open` reads it). Its header
//! metadata holds:
//! - `format` = `aad-models/detector` and `version` (see [`DETECTOR_FORMAT_VERSION`]);
//! - `detector`: the fitted detector as JSON, every long float array replaced by
//!   `{"$tensor": "tN"}` naming a tensor of the file (f32 when every value is an exact
//!   f32, f64 otherwise, so the round trip is bit-identical);
//! - `extra`: the caller's JSON (the `aad` command keeps its feature, threshold and
//!   training files there);
//! - `xxh3_128`: the hash of `detector`, `extra` and every tensor's bytes, so an edit
//!   anywhere that affects scores is caught on load.
//!
//! Loading checks the format, version and hash, then the detector's own consistency
//! (widths, finite parameters, positive scales) with [`AnyDetector::validate`]. Writes are
//! atomic (a temporary sibling, synced, renamed) and the file is created with the
//! process's usual mode (0644 under a 022 umask).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

use crate::{AnyDetector, ModelError};

const FORMAT: &str = "aad-models/detector";
/// Version of the detector file format this build writes and reads.
pub const DETECTOR_FORMAT_VERSION: u32 = 1;
/// Float arrays at least this long go into tensors; shorter ones stay in the JSON.
const MIN_TENSOR_LEN: usize = 16;

/// What a file that is no readable detector file is, in a user's words rather than the
/// container's.
fn unreadable(bytes: &[u8], _: &safetensors::SafeTensorError) -> String {
    let what = if bytes.is_empty() {
        "an empty file, not a model"
    } else if bytes.len() < 8 || bytes[8..].first() != Some(&b'{') {
        "not a model file"
    } else {
        "a damaged or truncated model file (re-copy it, or fit it again)"
    };
    what.to_string()
}

fn format_err(path: &Path, reason: impl Into<String>) -> ModelError {
    ModelError::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

enum Tensor {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Tensor {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Tensor::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Tensor::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
    fn dtype(&self) -> Dtype {
        match self {
            Tensor::F32(_) => Dtype::F32,
            Tensor::F64(_) => Dtype::F64,
        }
    }
    fn len(&self) -> usize {
        match self {
            Tensor::F32(v) => v.len(),
            Tensor::F64(v) => v.len(),
        }
    }
}

/// Moves long float arrays of `v` into `out`, leaving `{"$tensor": name}` behind.
fn extract(v: &mut Value, out: &mut Vec<(String, Tensor)>) {
    match v {
        Value::Array(a) if a.len() >= MIN_TENSOR_LEN && a.iter().all(|x| x.is_f64()) => {
            let xs: Vec<f64> = a.iter().filter_map(Value::as_f64).collect();
            let t = if xs.iter().all(|&x| f64::from(x as f32) == x) {
                Tensor::F32(xs.iter().map(|&x| x as f32).collect())
            } else {
                Tensor::F64(xs)
            };
            let name = format!("t{}", out.len());
            *v = serde_json::json!({ "$tensor": name });
            out.push((name, t));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| extract(x, out)),
        Value::Object(m) => m.values_mut().for_each(|x| extract(x, out)),
        _ => {}
    }
}

/// Puts the tensors back where [`extract`] left their names.
fn restore(v: &mut Value, tensors: &SafeTensors<'_>, path: &Path) -> Result<(), ModelError> {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("$tensor") => {
            let name = m
                .get("$tensor")
                .and_then(Value::as_str)
                .ok_or_else(|| format_err(path, "a tensor reference is not a name"))?;
            let t = tensors
                .tensor(name)
                .map_err(|e| format_err(path, format!("tensor {name}: {e}")))?;
            let values: Vec<Value> = match t.dtype() {
                Dtype::F32 => t
                    .data()
                    .chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                    .map(number)
                    .collect::<Result<_, _>>(),
                Dtype::F64 => t
                    .data()
                    .chunks_exact(8)
                    .map(|c| {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(c);
                        f64::from_le_bytes(b)
                    })
                    .map(number)
                    .collect::<Result<_, _>>(),
                other => {
                    return Err(format_err(
                        path,
                        format!("tensor {name} has dtype {other:?}; F32 or F64 expected"),
                    ));
                }
            }
            .map_err(|()| format_err(path, format!("tensor {name} holds a NaN or infinity")))?;
            *v = Value::Array(values);
            Ok(())
        }
        Value::Array(a) => a.iter_mut().try_for_each(|x| restore(x, tensors, path)),
        Value::Object(m) => m.values_mut().try_for_each(|x| restore(x, tensors, path)),
        _ => Ok(()),
    }
}

fn number(x: f64) -> Result<Value, ()> {
    serde_json::Number::from_f64(x).map(Value::Number).ok_or(())
}

fn hash(detector: &str, extra: &str, tensors: &[(String, Vec<u8>)]) -> String {
    let mut h = Xxh3::new();
    for part in [detector.as_bytes(), extra.as_bytes()] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    for (name, bytes) in tensors {
        h.update(name.as_bytes());
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    format!("{:032x}", h.digest128())
}

/// Writes `bytes` to `path` through a synced temporary sibling and a rename.
///
/// # Errors
/// I/O failures, naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let io = |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.file_name().is_none() {
        return Err(format_err(path, "not a file name"));
    }
    aad_core::atomic::write(path, true, |w| std::io::Write::write_all(w, bytes)).map_err(io)
}

impl AnyDetector {
    /// Serialises the detector and the caller's `extra` JSON into one safetensors file.
    ///
    /// # Errors
    /// [`ModelError::Format`] when the detector holds a non-finite number (it never does
    /// after a successful fit) or the container cannot be built.
    pub fn to_bytes(&self, extra: &Value) -> Result<Vec<u8>, ModelError> {
        let here = Path::new("<memory>");
        let mut json = serde_json::to_value(self).map_err(|e| format_err(here, e.to_string()))?;
        let mut tensors = Vec::new();
        extract(&mut json, &mut tensors);
        let detector = json.to_string();
        let extra = extra.to_string();
        let raw: Vec<(String, Vec<u8>, Dtype, usize)> = tensors
            .iter()
            .map(|(n, t)| (n.clone(), t.bytes(), t.dtype(), t.len()))
            .collect();
        let for_hash: Vec<(String, Vec<u8>)> = raw
            .iter()
            .map(|(n, b, ..)| (n.clone(), b.clone()))
            .collect();
        let mut meta = HashMap::new();
        meta.insert("format".to_string(), FORMAT.to_string());
        meta.insert("version".to_string(), DETECTOR_FORMAT_VERSION.to_string());
        meta.insert("xxh3_128".to_string(), hash(&detector, &extra, &for_hash));
        meta.insert("detector".to_string(), detector);
        meta.insert("extra".to_string(), extra);
        let views = raw
            .iter()
            .map(|(n, b, d, len)| Ok((n.clone(), TensorView::new(*d, vec![*len], b)?)))
            .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
            .map_err(|e| format_err(here, e.to_string()))?;
        safetensors::serialize(views, Some(meta)).map_err(|e| format_err(here, e.to_string()))
    }

    /// Reads a detector and its caller JSON from the bytes of a file written by
    /// [`to_bytes`](Self::to_bytes); `path` names the file in errors.
    ///
    /// # Errors
    /// Not a detector file, another format version, a hash that does not match (a
    /// truncated or edited file), or a detector that fails [`validate`](Self::validate).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<(AnyDetector, Value), ModelError> {
        let st =
            SafeTensors::deserialize(bytes).map_err(|e| format_err(path, unreadable(bytes, &e)))?;
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| format_err(path, unreadable(bytes, &e)))?;
        let meta = header
            .metadata()
            .as_ref()
            .ok_or_else(|| format_err(path, "no aad metadata in the header"))?;
        let get = |k: &str| {
            meta.get(k)
                .ok_or_else(|| format_err(path, format!("header metadata lacks {k:?}")))
        };
        if get("format")? != FORMAT {
            return Err(format_err(path, format!("not an {FORMAT} file")));
        }
        let version = get("version")?;
        if version != &DETECTOR_FORMAT_VERSION.to_string() {
            return Err(ModelError::Version {
                path: path.to_path_buf(),
                found: version.clone(),
                supported: DETECTOR_FORMAT_VERSION,
            });
        }
        let detector = get("detector")?;
        let extra = get("extra")?;
        let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
        names.sort_by_key(|n| {
            n.trim_start_matches('t')
                .parse::<usize>()
                .unwrap_or(usize::MAX)
        });
        let for_hash = names
            .iter()
            .map(|n| {
                let t = st.tensor(n).map_err(|e| format_err(path, e.to_string()))?;
                Ok((n.clone(), t.data().to_vec()))
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        if &hash(detector, extra, &for_hash) != get("xxh3_128")? {
            return Err(format_err(
                path,
                "content hash differs (the file was truncated or edited)",
            ));
        }
        let mut json: Value =
            serde_json::from_str(detector).map_err(|e| format_err(path, e.to_string()))?;
        restore(&mut json, &st, path)?;
        let det: AnyDetector =
            serde_json::from_value(json).map_err(|e| format_err(path, e.to_string()))?;
        det.validate()
            .map_err(|e| format_err(path, e.to_string()))?;
        let extra: Value =
            serde_json::from_str(extra).map_err(|e| format_err(path, e.to_string()))?;
        Ok((det, extra))
    }

    /// Saves the detector (no caller JSON) to one file, atomically.
    ///
    /// # Errors
    /// I/O failures, naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        self.save_with(path, &Value::Object(Map::new()))
    }

    /// Saves the detector and the caller's `extra` JSON to one file, atomically.
    ///
    /// # Errors
    /// I/O failures, naming the file.
    pub fn save_with(&self, path: impl AsRef<Path>, extra: &Value) -> Result<(), ModelError> {
        let path = path.as_ref();
        let bytes = self.to_bytes(extra).map_err(|e| rename(e, path))?;
        write_atomic(path, &bytes)
    }

    /// Loads a detector saved by [`save`](Self::save) or [`save_with`](Self::save_with).
    ///
    /// # Errors
    /// As [`from_bytes`](Self::from_bytes), and I/O failures, naming the file.
    pub fn load(path: impl AsRef<Path>) -> Result<AnyDetector, ModelError> {
        Ok(Self::load_with(path)?.0)
    }

    /// Loads a detector and the caller JSON saved with it.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_with(path: impl AsRef<Path>) -> Result<(AnyDetector, Value), ModelError> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if !meta.is_file() {
            return Err(format_err(path, "not a regular file"));
        }
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes)
    }
}

fn rename(e: ModelError, path: &Path) -> ModelError {
    match e {
        ModelError::Format { reason, .. } => ModelError::Format {
            path: PathBuf::from(path),
            reason,
        },
        other => other,
    }
}
