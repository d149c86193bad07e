//! Training through candle's autograd, on a CUDA device when available.
//!
//! The network starts from the native engine's seeded weights and follows the same
//! conventions (Keras BatchNorm and Adam, the same batch order), so the two backends
//! train the same model up to floating-point rounding; the result is copied back into
//! the native layout for scoring and saving.

use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use rand_chacha::ChaCha8Rng;

use super::native::{Activation, Adam, BN_EPS, BN_MOMENTUM, Net};
use super::target::Pairs;
use super::{AutoencoderConfig, EpochLog, EpochReport, TrainObserver, epoch_order};
use crate::ModelError;

/// The first CUDA device when the crate is built with `cuda` and one is present, else the
/// CPU.
pub fn device() -> Device {
    Device::cuda_if_available(0).unwrap_or(Device::Cpu)
}

struct CLayer {
    w: Var,
    b: Var,
    bn: Option<(Var, Var, Tensor, Tensor)>,
    act: Activation,
}

struct Moments {
    m: Tensor,
    v: Tensor,
}

fn forward(layers: &mut [CLayer], x: &Tensor, train: bool) -> Result<Tensor, ModelError> {
    let mut h = x.clone();
    for l in layers.iter_mut() {
        let mut z = h
            .matmul(&l.w.as_tensor().t()?)?
            .broadcast_add(l.b.as_tensor())?;
        if let Some((gamma, beta, mean, var)) = &mut l.bn {
            let (m, v) = if train {
                let m = z.mean_keepdim(0)?;
                let v = z.broadcast_sub(&m)?.sqr()?.mean_keepdim(0)?;
                *mean = ((&*mean * f64::from(BN_MOMENTUM))?
                    + (m.detach().squeeze(0)? * f64::from(1.0 - BN_MOMENTUM))?)?;
                *var = ((&*var * f64::from(BN_MOMENTUM))?
                    + (v.detach().squeeze(0)? * f64::from(1.0 - BN_MOMENTUM))?)?;
                (m, v)
            } else {
                (mean.unsqueeze(0)?, var.unsqueeze(0)?)
            };
            let inv = (v + f64::from(BN_EPS))?.sqrt()?.recip()?;
            z = z
                .broadcast_sub(&m)?
                .broadcast_mul(&inv)?
                .broadcast_mul(gamma.as_tensor())?
                .broadcast_add(beta.as_tensor())?;
        }
        h = match l.act {
            Activation::Relu => z.relu()?,
            Activation::Tanh => z.tanh()?,
            Activation::Linear => z,
        };
    }
    Ok(h)
}

/// The network's layers as candle variables, on `dev`.
fn layers_on(net: &Net, dev: &Device) -> Result<Vec<CLayer>, ModelError> {
    let vec = |v: &[f32], n: usize| Tensor::from_slice(v, n, dev);
    net.layers
        .iter()
        .map(|l| -> Result<CLayer, ModelError> {
            Ok(CLayer {
                w: Var::from_tensor(&Tensor::from_slice(&l.w, (l.n_out, l.n_in), dev)?)?,
                b: Var::from_tensor(&vec(&l.b, l.n_out)?)?,
                bn: match &l.bn {
                    Some(bn) => Some((
                        Var::from_tensor(&vec(&bn.gamma, l.n_out)?)?,
                        Var::from_tensor(&vec(&bn.beta, l.n_out)?)?,
                        vec(&bn.mean, l.n_out)?,
                        vec(&bn.var, l.n_out)?,
                    )),
                    None => None,
                },
                act: l.act,
            })
        })
        .collect()
}

/// Keras' Adam over candle variables.
struct Optimiser {
    vars: Vec<Var>,
    moments: Vec<Moments>,
    step: i32,
}

impl Optimiser {
    fn new(layers: &[CLayer]) -> Result<Self, ModelError> {
        let vars: Vec<Var> = layers
            .iter()
            .flat_map(|l| {
                let mut v = vec![l.w.clone(), l.b.clone()];
                if let Some((g, b, _, _)) = &l.bn {
                    v.push(g.clone());
                    v.push(b.clone());
                }
                v
            })
            .collect();
        let moments = vars
            .iter()
            .map(|v| -> Result<Moments, ModelError> {
                Ok(Moments {
                    m: v.as_tensor().zeros_like()?,
                    v: v.as_tensor().zeros_like()?,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Optimiser {
            vars,
            moments,
            step: 0,
        })
    }

    /// One step down the gradient of `loss`.
    fn minimise(&mut self, loss: &Tensor, a: Adam) -> Result<(), ModelError> {
        let grads = loss.backward()?;
        self.step += 1;
        let lr_t = a.lr * (1.0 - a.beta2.powi(self.step)).sqrt() / (1.0 - a.beta1.powi(self.step));
        for (var, mom) in self.vars.iter().zip(self.moments.iter_mut()) {
            if let Some(g) = grads.get(var.as_tensor()) {
                mom.m = (&mom.m + ((g - &mom.m)? * (1.0 - a.beta1))?)?;
                mom.v = (&mom.v + ((g.sqr()? - &mom.v)? * (1.0 - a.beta2))?)?;
                let upd = (mom.m.clone() / (mom.v.sqrt()? + a.eps)?)?;
                var.set(&(var.as_tensor() - (upd * lr_t)?)?)?;
            }
        }
        Ok(())
    }
}

/// Inputs and targets of a set of vectors on the device.
struct DevicePairs {
    x: Tensor,
    /// `None`: the inputs are the targets.
    y: Option<Tensor>,
}

impl DevicePairs {
    fn new(p: &Pairs, dev: &Device) -> Result<Self, ModelError> {
        let to_tensor = |m: ndarray::ArrayView2<'_, f32>| -> Result<Tensor, ModelError> {
            let c = m.as_standard_layout();
            Ok(Tensor::from_slice(
                c.as_slice().unwrap_or_default(),
                m.dim(),
                dev,
            )?)
        };
        Ok(DevicePairs {
            x: to_tensor(p.x.view())?,
            y: p.y.as_ref().map(|y| to_tensor(y.view())).transpose()?,
        })
    }

    fn target(&self) -> &Tensor {
        self.y.as_ref().unwrap_or(&self.x)
    }
}

pub(super) fn train(
    cfg: &AutoencoderConfig,
    net: Net,
    train: &Pairs,
    val: Option<&Pairs>,
    rng: &mut ChaCha8Rng,
    observer: &mut dyn TrainObserver,
) -> Result<(Net, Vec<EpochReport>), ModelError> {
    let dev = device();
    let n = train.rows();
    let all = DevicePairs::new(train, &dev)?;
    let val = val.map(|v| DevicePairs::new(v, &dev)).transpose()?;
    let mut layers = layers_on(&net, &dev)?;
    let mut opt = Optimiser::new(&layers)?;
    observer.on_start(cfg.epochs, n.div_ceil(cfg.batch_size));
    let mut log = EpochLog::new(cfg);
    let mut best: Option<Net> = None;
    for epoch in 1..=cfg.epochs {
        let t0 = Instant::now();
        let order: Vec<u32> = epoch_order(n, cfg.shuffle, rng)
            .into_iter()
            .map(|i| i as u32)
            .collect();
        let mut sum = 0.0f64;
        for (bi, chunk) in order.chunks(cfg.batch_size).enumerate() {
            let idx = Tensor::from_slice(chunk, chunk.len(), &dev)?;
            let xb = all.x.index_select(&idx, 0)?;
            let yb = match &all.y {
                Some(y) => y.index_select(&idx, 0)?,
                None => xb.clone(),
            };
            let out = forward(&mut layers, &xb, true)?;
            let loss = (out - &yb)?.sqr()?.mean_all()?;
            opt.minimise(&loss, cfg.adam)?;
            sum += f64::from(loss.to_dtype(DType::F32)?.to_scalar::<f32>()?) * chunk.len() as f64;
            observer.on_batch(epoch, bi + 1);
        }
        let val_loss = match &val {
            Some(v) => {
                let out = forward(&mut layers, &v.x, false)?;
                let mse = (out - v.target())?.sqr()?.mean_all()?;
                Some(f64::from(mse.to_scalar::<f32>()?))
            }
            None => None,
        };
        let after = log.record(epoch, sum / n as f64, val_loss, t0, observer)?;
        if after.keep_best {
            best = Some(to_native(&net, &layers)?);
        }
        if after.stop {
            break;
        }
    }
    let net = match best {
        Some(b) => b,
        None => to_native(&net, &layers)?,
    };
    Ok((net, log.into_history()))
}

fn to_native(template: &Net, layers: &[CLayer]) -> Result<Net, ModelError> {
    let mut out = template.clone();
    for (dst, src) in out.layers.iter_mut().zip(layers) {
        dst.w = src.w.as_tensor().flatten_all()?.to_vec1()?;
        dst.b = src.b.as_tensor().to_vec1()?;
        if let (Some(bn), Some((g, b, m, v))) = (&mut dst.bn, &src.bn) {
            bn.gamma = g.as_tensor().to_vec1()?;
            bn.beta = b.as_tensor().to_vec1()?;
            bn.mean = m.to_vec1()?;
            bn.var = v.to_vec1()?;
        }
    }
    Ok(out)
}
