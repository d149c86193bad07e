//! Training through candle's autograd, on a CUDA device when available.
//!
//! The network starts from the native engine's seeded weights and follows the same
//! conventions (Keras BatchNorm and Adam, the same batch order), so the two backends
//! train the same model up to floating-point rounding; the result is copied back into
//! the native layout for scoring and saving.

use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use ndarray::Array2;
use rand_chacha::ChaCha8Rng;

use super::native::{Activation, BN_EPS, BN_MOMENTUM, Net};
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

pub(super) fn train(
    cfg: &AutoencoderConfig,
    net: Net,
    train: &Array2<f32>,
    val: Option<&Array2<f32>>,
    rng: &mut ChaCha8Rng,
    observer: &mut dyn TrainObserver,
) -> Result<(Net, Vec<EpochReport>), ModelError> {
    let dev = device();
    let n = train.nrows();
    let to_tensor = |m: &Array2<f32>| -> Result<Tensor, ModelError> {
        let c = m.as_standard_layout();
        Ok(Tensor::from_slice(
            c.as_slice().unwrap_or_default(),
            m.dim(),
            &dev,
        )?)
    };
    let x_all = to_tensor(train)?;
    let x_val = val.map(to_tensor).transpose()?;
    let mut layers: Vec<CLayer> = net
        .layers
        .iter()
        .map(|l| -> Result<CLayer, ModelError> {
            Ok(CLayer {
                w: Var::from_tensor(&Tensor::from_slice(&l.w, (l.n_out, l.n_in), &dev)?)?,
                b: Var::from_tensor(&Tensor::from_slice(&l.b, l.n_out, &dev)?)?,
                bn: match &l.bn {
                    Some(bn) => Some((
                        Var::from_tensor(&Tensor::from_slice(&bn.gamma, l.n_out, &dev)?)?,
                        Var::from_tensor(&Tensor::from_slice(&bn.beta, l.n_out, &dev)?)?,
                        Tensor::from_slice(&bn.mean, l.n_out, &dev)?,
                        Tensor::from_slice(&bn.var, l.n_out, &dev)?,
                    )),
                    None => None,
                },
                act: l.act,
            })
        })
        .collect::<Result<_, _>>()?;
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
    let mut moments: Vec<Moments> = vars
        .iter()
        .map(|v| -> Result<Moments, ModelError> {
            Ok(Moments {
                m: v.as_tensor().zeros_like()?,
                v: v.as_tensor().zeros_like()?,
            })
        })
        .collect::<Result<_, _>>()?;
    let batches = n.div_ceil(cfg.batch_size);
    observer.on_start(cfg.epochs, batches);
    let a = cfg.adam;
    let mut step = 0i32;
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
            let xb = x_all.index_select(&idx, 0)?;
            let out = forward(&mut layers, &xb, true)?;
            let loss = (out - &xb)?.sqr()?.mean_all()?;
            let grads = loss.backward()?;
            step += 1;
            let lr_t = a.lr * (1.0 - a.beta2.powi(step)).sqrt() / (1.0 - a.beta1.powi(step));
            for (var, mom) in vars.iter().zip(moments.iter_mut()) {
                if let Some(g) = grads.get(var.as_tensor()) {
                    mom.m = (&mom.m + ((g - &mom.m)? * (1.0 - a.beta1))?)?;
                    mom.v = (&mom.v + ((g.sqr()? - &mom.v)? * (1.0 - a.beta2))?)?;
                    let upd = (mom.m.clone() / (mom.v.sqrt()? + a.eps)?)?;
                    var.set(&(var.as_tensor() - (upd * lr_t)?)?)?;
                }
            }
            sum += f64::from(loss.to_dtype(DType::F32)?.to_scalar::<f32>()?) * chunk.len() as f64;
            observer.on_batch(epoch, bi + 1);
        }
        let train_loss = sum / n as f64;
        let val_loss = match &x_val {
            Some(xv) => {
                let out = forward(&mut layers, xv, false)?;
                Some(f64::from(
                    (out - xv)?.sqr()?.mean_all()?.to_scalar::<f32>()?,
                ))
            }
            None => None,
        };
        let after = log.record(epoch, train_loss, val_loss, t0, observer)?;
        if after.keep_best {
            best = Some(to_native(&net, &layers)?);
        }
        if after.stop {
            break;
        }
    }
    match best {
        Some(b) => Ok((b, log.into_history())),
        None => Ok((to_native(&net, &layers)?, log.into_history())),
    }
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
