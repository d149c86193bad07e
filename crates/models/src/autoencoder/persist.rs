//! Saving and loading a trained autoencoder.
//!
//! A model is a folder with `model.safetensors` (weights with PyTorch-style names, so
//! `safetensors.torch.load_file` reads them: `layers.{i}.weight` `[out, in]`,
//! `layers.{i}.bias`, `layers.{i}.bn.{weight,bias,running_mean,running_var}`, and
//! `mahalanobis.{mean,precision}`) and `model.json` (format name and version, the
//! configuration, layer shapes, the input scaler, the training history, a hash of the
//! weights file, and a content hash over the JSON and the weights together). Each file is written to a temporary sibling and renamed, the JSON
//! last: a crash leaves either the previous model or a weights file whose hash does not
//! match, which loading reports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use super::native::{Activation, Bn, Layer, Net};
use super::{Autoencoder, AutoencoderConfig, EpochReport, ErrorGaussian};
use crate::ModelError;
use crate::persist::write_atomic;
use crate::scaler::Scaler;

const FORMAT: &str = "aad-models/autoencoder";
/// Version of the on-disk format this build writes and reads (2: `model.json` itself is
/// covered by the content hash, not only the weights).
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LayerMeta {
    n_in: usize,
    n_out: usize,
    activation: Activation,
    batch_norm: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    format: String,
    version: u32,
    config: AutoencoderConfig,
    layers: Vec<LayerMeta>,
    scaler: Scaler,
    mahalanobis: bool,
    history: Vec<EpochReport>,
    seed: u64,
    weights_fnv1a64: String,
    /// XXH3-128 of this JSON (written with this field absent) followed by the weights
    /// file: an edit to the configuration, the scaler or the layers is caught, not only
    /// one to the weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_xxh3: Option<String>,
}

/// The content hash of a model: its metadata (without the hash) and its weights.
fn content_hash(meta: &Meta, weights: &[u8], at: &Path) -> Result<String, ModelError> {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let json = serde_json::to_vec_pretty(&Meta {
        content_xxh3: None,
        ..meta.clone()
    })
    .map_err(|e| format_err(at, e.to_string()))?;
    h.update(&json);
    h.update(weights);
    Ok(format!("{:032x}", h.digest128()))
}

fn fnv1a64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn format_err(path: &Path, reason: impl Into<String>) -> ModelError {
    ModelError::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Autoencoder {
    /// Saves the model into folder `dir` (created if needed).
    ///
    /// # Errors
    /// I/O failures, naming the file.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<(), ModelError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        // (name, shape, little-endian f32 bytes)
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut put = |name: String, shape: Vec<usize>, v: &[f32]| {
            tensors.push((
                name,
                shape,
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ));
        };
        for (i, l) in self.net.layers.iter().enumerate() {
            put(format!("layers.{i}.weight"), vec![l.n_out, l.n_in], &l.w);
            put(format!("layers.{i}.bias"), vec![l.n_out], &l.b);
            if let Some(bn) = &l.bn {
                for (name, v) in [
                    ("weight", &bn.gamma),
                    ("bias", &bn.beta),
                    ("running_mean", &bn.mean),
                    ("running_var", &bn.var),
                ] {
                    put(format!("layers.{i}.bn.{name}"), vec![l.n_out], v);
                }
            }
        }
        if let Some(g) = &self.gaussian {
            let d = g.mean.len();
            put("mahalanobis.mean".into(), vec![d], &g.mean);
            put("mahalanobis.precision".into(), vec![d, d], &g.precision);
        }
        let weights = dir.join("model.safetensors");
        let views = tensors
            .iter()
            .map(|(n, shape, b)| Ok((n.clone(), TensorView::new(Dtype::F32, shape.clone(), b)?)))
            .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
            .map_err(|e| format_err(&weights, e.to_string()))?;
        let bytes = safetensors::serialize(views, None::<HashMap<String, String>>)
            .map_err(|e| format_err(&weights, e.to_string()))?;
        write_atomic(&weights, &bytes)?;
        let mut meta = Meta {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            config: self.config.clone(),
            layers: self
                .net
                .layers
                .iter()
                .map(|l| LayerMeta {
                    n_in: l.n_in,
                    n_out: l.n_out,
                    activation: l.act,
                    batch_norm: l.bn.is_some(),
                })
                .collect(),
            scaler: self.scaler.clone(),
            mahalanobis: self.gaussian.is_some(),
            history: self.history.clone(),
            seed: self.seed,
            weights_fnv1a64: fnv1a64(&bytes),
            content_xxh3: None,
        };
        meta.content_xxh3 = Some(content_hash(&meta, &bytes, dir)?);
        let json = serde_json::to_vec_pretty(&meta).map_err(|e| format_err(dir, e.to_string()))?;
        write_atomic(&dir.join("model.json"), &json)
    }

    /// Loads a model saved by [`save`](Self::save).
    ///
    /// # Errors
    /// Missing or unreadable files, a format version this build does not read, weights
    /// that do not match the metadata (hash or shapes), or corrupt JSON/safetensors.
    pub fn load(dir: impl AsRef<Path>) -> Result<Autoencoder, ModelError> {
        let dir = dir.as_ref();
        let json_path: PathBuf = dir.join("model.json");
        let meta = read_meta(&json_path)?;
        let weights = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights).map_err(io(&weights))?;
        if fnv1a64(&bytes) != meta.weights_fnv1a64 {
            return Err(format_err(
                &weights,
                "weights do not match model.json (hash differs: partial write or another model's file)",
            ));
        }
        if meta.content_xxh3.as_deref() != Some(content_hash(&meta, &bytes, &json_path)?.as_str()) {
            return Err(format_err(
                &json_path,
                "content hash differs: model.json was edited after saving",
            ));
        }
        let t =
            SafeTensors::deserialize(&bytes).map_err(|e| format_err(&weights, e.to_string()))?;
        let get = |name: &str, len: usize| tensor_f32(&t, &weights, name, len);
        let layers = meta
            .layers
            .iter()
            .enumerate()
            .map(|(i, m)| read_layer(i, m, &get))
            .collect::<Result<Vec<_>, _>>()?;
        // The errors are the output's (an interpolation network's output is narrower).
        let d = layers
            .last()
            .map(|l| l.n_out)
            .ok_or_else(|| format_err(&json_path, "no layers"))?;
        let gaussian = if meta.mahalanobis {
            Some(ErrorGaussian {
                mean: get("mahalanobis.mean", d)?,
                precision: get("mahalanobis.precision", d * d)?,
            })
        } else {
            None
        };
        // Everything that affects scores is checked, not trusted: the configuration's
        // ranges, and that the layers, scaler and Mahalanobis statistics fit together.
        meta.config
            .validate()
            .map_err(|e| format_err(&json_path, e.to_string()))?;
        let ae = Autoencoder {
            config: meta.config,
            net: Net { layers },
            scaler: meta.scaler,
            gaussian,
            history: meta.history,
            seed: meta.seed,
        };
        ae.check()
            .map_err(|e| format_err(&json_path, e.to_string()))?;
        Ok(ae)
    }
}

/// Reads `model.json`: format name, version (reported as written when it differs), then
/// the metadata.
fn read_meta(json_path: &Path) -> Result<Meta, ModelError> {
    let text = std::fs::read(json_path).map_err(io(json_path))?;
    let probe: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| format_err(json_path, e.to_string()))?;
    if probe.get("format").and_then(|v| v.as_str()) != Some(FORMAT) {
        return Err(format_err(json_path, format!("not an {FORMAT} model")));
    }
    let version = probe.get("version");
    if version.and_then(serde_json::Value::as_u64) != Some(u64::from(FORMAT_VERSION)) {
        return Err(ModelError::Version {
            path: json_path.to_path_buf(),
            found: version.map_or_else(|| "missing".to_string(), ToString::to_string),
            supported: FORMAT_VERSION,
        });
    }
    serde_json::from_value(probe).map_err(|e| format_err(json_path, e.to_string()))
}

/// One F32 tensor of `len` finite values.
fn tensor_f32(
    t: &SafeTensors<'_>,
    weights: &Path,
    name: &str,
    len: usize,
) -> Result<Vec<f32>, ModelError> {
    let view = t
        .tensor(name)
        .map_err(|_| format_err(weights, format!("missing tensor {name}")))?;
    if view.dtype() != Dtype::F32 {
        return Err(format_err(
            weights,
            format!("tensor {name} is {:?}, F32 expected", view.dtype()),
        ));
    }
    let v: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(format_err(
            weights,
            format!("tensor {name} value {i} is not finite"),
        ));
    }
    if v.len() != len {
        return Err(format_err(
            weights,
            format!("tensor {name} has {} values, {len} expected", v.len()),
        ));
    }
    Ok(v)
}

/// Reads a tensor by name and expected length.
type GetTensor<'a> = dyn Fn(&str, usize) -> Result<Vec<f32>, ModelError> + 'a;

/// Layer `i` as `m` describes it, its tensors read with `get(name, len)`.
fn read_layer(i: usize, m: &LayerMeta, get: &GetTensor<'_>) -> Result<Layer, ModelError> {
    let bn = if m.batch_norm {
        Some(Bn {
            gamma: get(&format!("layers.{i}.bn.weight"), m.n_out)?,
            beta: get(&format!("layers.{i}.bn.bias"), m.n_out)?,
            mean: get(&format!("layers.{i}.bn.running_mean"), m.n_out)?,
            var: get(&format!("layers.{i}.bn.running_var"), m.n_out)?,
        })
    } else {
        None
    };
    Ok(Layer {
        n_in: m.n_in,
        n_out: m.n_out,
        w: get(&format!("layers.{i}.weight"), m.n_in * m.n_out)?,
        b: get(&format!("layers.{i}.bias"), m.n_out)?,
        bn,
        act: m.activation,
    })
}
