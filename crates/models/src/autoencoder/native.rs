//! The native CPU engine: a dense network with hand-written forward and backward passes
//! over preallocated buffers, deterministic. With a second thread (see
//! `linalg::HelperThread`) the products and the element-wise passes are split in halves
//! that compute exactly the numbers one thread does.
//!
//! It follows Keras' conventions so a model trains like the MIMII / DCASE baselines:
//! Glorot-uniform weights and zero biases, BatchNorm with momentum 0.99 and epsilon 1e-3
//! (biased batch variance, also for the moving variance), and Keras' Adam
//! (`lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)`, `theta -= lr_t m / (sqrt(v) + eps)`).
//! Layout is PyTorch/candle's: `weight` is `out x in`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::linalg::{Mat, gemm};

/// Activation of the hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Activation {
    /// `max(0, x)`.
    #[default]
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// Identity.
    Linear,
}

impl Activation {
    #[inline]
    fn apply(self, y: &mut [f32]) {
        match self {
            Activation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Linear => {}
        }
    }

    /// `da *= f'(.)` given the activation's output `a`.
    #[inline]
    fn backward(self, da: &mut [f32], a: &[f32]) {
        match self {
            // A select, not a branch, so the loop vectorises.
            Activation::Relu => da
                .iter_mut()
                .zip(a)
                .for_each(|(d, &o)| *d = if o > 0.0 { *d } else { 0.0 }),
            Activation::Tanh => da.iter_mut().zip(a).for_each(|(d, &o)| *d *= 1.0 - o * o),
            Activation::Linear => {}
        }
    }
}

/// BatchNorm parameters and moving statistics of one layer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Bn {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
}

/// One dense layer: `act(bn(x W^T + b))`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Layer {
    pub n_in: usize,
    pub n_out: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub bn: Option<Bn>,
    pub act: Activation,
}

/// Keras BatchNormalization defaults.
pub(crate) const BN_EPS: f32 = 1e-3;
pub(crate) const BN_MOMENTUM: f32 = 0.99;

/// The network.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Net {
    pub layers: Vec<Layer>,
}

impl Net {
    /// Layers of widths `dims[0] -> dims[1] -> ... -> dims[n]`; every layer but the last
    /// has `act` (and BatchNorm when `bn`), the last is linear. Glorot-uniform weights
    /// drawn from `rng`.
    pub(crate) fn new(dims: &[usize], act: Activation, bn: bool, rng: &mut ChaCha8Rng) -> Net {
        let n = dims.len() - 1;
        let layers = (0..n)
            .map(|l| {
                let (n_in, n_out) = (dims[l], dims[l + 1]);
                let limit = (6.0 / (n_in + n_out) as f64).sqrt();
                let w = (0..n_in * n_out)
                    .map(|_| rng.random_range(-limit..limit) as f32)
                    .collect();
                let last = l + 1 == n;
                Layer {
                    n_in,
                    n_out,
                    w,
                    b: vec![0.0; n_out],
                    bn: (bn && !last).then(|| Bn {
                        gamma: vec![1.0; n_out],
                        beta: vec![0.0; n_out],
                        mean: vec![0.0; n_out],
                        var: vec![1.0; n_out],
                    }),
                    act: if last { Activation::Linear } else { act },
                }
            })
            .collect();
        Net { layers }
    }

    pub(crate) fn n_in(&self) -> usize {
        self.layers.first().map_or(0, |l| l.n_in)
    }

    /// Trainable parameters (weights, biases, BatchNorm gamma/beta).
    pub(crate) fn n_params(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.w.len() + l.b.len() + l.bn.as_ref().map_or(0, |b| 2 * b.gamma.len()))
            .sum()
    }
}

/// `z[r] += b` for every row.
fn add_bias(z: &mut [f32], b: &[f32]) {
    for row in z.chunks_exact_mut(b.len()) {
        row.iter_mut().zip(b).for_each(|(v, bb)| *v += bb);
    }
}

/// Inference buffers (two ping-pong activations).
#[derive(Debug, Default, Clone)]
pub(crate) struct Eval {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// One layer in inference mode: `out = act(bn_eval(x W^T + b))`.
fn layer_eval(l: &Layer, x: &[f32], rows: usize, out: &mut [f32]) {
    gemm(
        out,
        Mat::rows(x, rows, l.n_in),
        Mat::rows(&l.w, l.n_out, l.n_in).t(),
        1.0,
        0.0,
    );
    add_bias(out, &l.b);
    if let Some(bn) = &l.bn {
        let scale: Vec<f32> = bn
            .gamma
            .iter()
            .zip(&bn.var)
            .map(|(g, v)| g / (v + BN_EPS).sqrt())
            .collect();
        let per_feature = bn.mean.iter().zip(&scale).zip(&bn.beta);
        for row in out.chunks_exact_mut(l.n_out) {
            for (v, ((&m, &sc), &b)) in row.iter_mut().zip(per_feature.clone()) {
                *v = (*v - m) * sc + b;
            }
        }
    }
    l.act.apply(out);
}

impl Net {
    /// Inference (BatchNorm with moving statistics) of the `rows x n_in` row-major `x`;
    /// returns the `rows x n_out` output, held in the workspace.
    pub(crate) fn forward_eval<'w>(&self, x: &[f32], rows: usize, ws: &'w mut Eval) -> &'w [f32] {
        let mut input = std::mem::take(&mut ws.a);
        let mut output = std::mem::take(&mut ws.b);
        let mut width = self.n_in();
        for (i, l) in self.layers.iter().enumerate() {
            output.resize(rows * l.n_out, 0.0);
            let src: &[f32] = if i == 0 { x } else { &input[..rows * width] };
            layer_eval(l, src, rows, &mut output[..rows * l.n_out]);
            std::mem::swap(&mut input, &mut output);
            width = l.n_out;
        }
        ws.a = input;
        ws.b = output;
        &ws.a[..rows * width]
    }
}

/// Adam hyper-parameters (Keras defaults: 1e-3, 0.9, 0.999, 1e-7).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon (not bias-corrected, as in Keras).
    pub eps: f64,
}

impl Default for Adam {
    fn default() -> Self {
        Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        }
    }
}

/// Keras' Adam update at one step (bias correction folded into `lr_t`).
#[derive(Debug, Clone, Copy)]
struct AdamStep {
    lr_t: f32,
    b1: f32,
    b2: f32,
    eps: f32,
}

impl AdamStep {
    /// Updates one parameter tensor `theta` from its gradient and moments.
    fn apply(self, theta: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        let AdamStep { lr_t, b1, b2, eps } = self;
        for (((t, &g), m), v) in theta.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            *m += (g - *m) * (1.0 - b1);
            *v += (g * g - *v) * (1.0 - b2);
            *t -= lr_t * *m / (v.sqrt() + eps);
        }
    }
}

/// Gradients and Adam moments of one layer.
#[derive(Debug, Clone)]
struct LayerState {
    gw: Vec<f32>,
    gb: Vec<f32>,
    ggamma: Vec<f32>,
    gbeta: Vec<f32>,
    mw: Vec<f32>,
    vw: Vec<f32>,
    mb: Vec<f32>,
    vb: Vec<f32>,
    mg: Vec<f32>,
    vg: Vec<f32>,
    mbeta: Vec<f32>,
    vbeta: Vec<f32>,
    /// BatchNorm: normalised pre-activations and inverse standard deviations.
    zhat: Vec<f32>,
    inv_std: Vec<f32>,
    /// BatchNorm's per-feature sums (scratch).
    bn_stats: Vec<f32>,
    /// The layer's output (post-activation) for the current batch.
    act: Vec<f32>,
}

/// Training workspace and optimiser state.
#[derive(Debug, Clone)]
pub(crate) struct Trainer {
    states: Vec<LayerState>,
    grad: Vec<f32>,
    grad_prev: Vec<f32>,
    /// Each batch row's squared error.
    row_sse: Vec<f64>,
    step: i32,
    adam: Adam,
    /// The output layer's width.
    out_width: usize,
}

impl Trainer {
    pub(crate) fn new(net: &Net, adam: Adam) -> Self {
        let states = net
            .layers
            .iter()
            .map(|l| {
                let z = |n: usize| vec![0.0f32; n];
                let nb = if l.bn.is_some() { l.n_out } else { 0 };
                LayerState {
                    gw: z(l.w.len()),
                    gb: z(l.n_out),
                    ggamma: z(nb),
                    gbeta: z(nb),
                    mw: z(l.w.len()),
                    vw: z(l.w.len()),
                    mb: z(l.n_out),
                    vb: z(l.n_out),
                    mg: z(nb),
                    vg: z(nb),
                    mbeta: z(nb),
                    vbeta: z(nb),
                    zhat: Vec::new(),
                    inv_std: z(nb),
                    bn_stats: z(2 * nb),
                    act: Vec::new(),
                }
            })
            .collect();
        Trainer {
            states,
            grad: Vec::new(),
            grad_prev: Vec::new(),
            row_sse: Vec::new(),
            step: 0,
            adam,
            out_width: net.layers.last().map_or(0, |l| l.n_out),
        }
    }

    /// One Adam step on the batch `x` (`rows x n_in`) towards `target` (`rows x n_out`:
    /// `x` itself for an autoencoder, the centre frame for an interpolation network).
    /// Returns the batch MSE (mean over all target values).
    pub(crate) fn step(&mut self, net: &mut Net, x: &[f32], target: &[f32], rows: usize) -> f64 {
        self.forward(net, x, rows);
        let sse = self.loss_gradient(target);
        self.backward(net, x, rows);
        self.adam_update(net);
        sse / target.len().max(1) as f64
    }

    /// Training-mode forward pass: each layer's output lands in its state's `act`.
    fn forward(&mut self, net: &mut Net, x: &[f32], rows: usize) {
        for l in 0..net.layers.len() {
            let (before, rest) = self.states.split_at_mut(l);
            let st = &mut rest[0];
            let layer = &mut net.layers[l];
            let input: &[f32] = if l == 0 { x } else { &before[l - 1].act };
            st.act.resize(rows * layer.n_out, 0.0);
            gemm(
                &mut st.act,
                Mat::rows(input, rows, layer.n_in),
                Mat::rows(&layer.w, layer.n_out, layer.n_in).t(),
                1.0,
                0.0,
            );
            let (n, act) = (layer.n_out, layer.act);
            by_rows(&mut st.act, &[][..], n, |z, _| add_bias(z, &layer.b));
            match &mut layer.bn {
                Some(bn) => {
                    let out = BnOut {
                        zhat: &mut st.zhat,
                        inv_std: &mut st.inv_std,
                        stats: &mut st.bn_stats,
                    };
                    bn_forward_train(&mut st.act, rows, n, bn, act, out);
                }
                None => by_rows(&mut st.act, &[][..], n, |a, _| act.apply(a)),
            }
        }
    }

    /// The MSE's gradient with respect to the output into `grad`; returns the summed
    /// squared error.
    fn loss_gradient(&mut self, target: &[f32]) -> f64 {
        let Some(last) = self.states.last() else {
            return 0.0;
        };
        let out = &last.act;
        debug_assert_eq!(target.len(), out.len(), "target and output shapes differ");
        let d = self.out_width;
        let scale = 2.0 / target.len().max(1) as f32;
        self.grad.resize(out.len(), 0.0);
        let rows = out.len() / d.max(1);
        self.row_sse.resize(rows, 0.0);
        let rows_of = |grad: &mut [f32], out: &[f32], target: &[f32], sse: &mut [f64]| {
            for (((gr, orow), trow), s) in grad
                .chunks_exact_mut(d)
                .zip(out.chunks_exact(d))
                .zip(target.chunks_exact(d))
                .zip(sse)
            {
                // Per-row sums in f32 (element i in lane i % 8), accumulated over rows
                // in f64. Chunks of eight, not `acc[i % 8]`, which stayed scalar.
                let mut acc = [0.0f32; 8];
                let lane = |g: &mut f32, o: f32, t: f32, a: &mut f32| {
                    let e = o - t;
                    *a += e * e;
                    *g = scale * e;
                };
                let mut g8 = gr.chunks_exact_mut(8);
                let (o8, t8) = (orow.chunks_exact(8), trow.chunks_exact(8));
                let (o_rest, t_rest) = (o8.remainder(), t8.remainder());
                for ((g, o), t) in (&mut g8).zip(o8).zip(t8) {
                    for l in 0..8 {
                        lane(&mut g[l], o[l], t[l], &mut acc[l]);
                    }
                }
                let rest = g8.into_remainder().iter_mut().zip(o_rest).zip(t_rest);
                for (((g, &o), &t), a) in rest.zip(&mut acc) {
                    lane(g, o, t, a);
                }
                *s = acc.iter().map(|&v| f64::from(v)).sum::<f64>();
            }
        };
        if crate::linalg::threads() > 1 && out.len() >= MIN_SPLIT_ELEMENTS && rows >= 2 {
            let (h, at) = (rows / 2, rows / 2 * d);
            let (g1, g2) = self.grad.split_at_mut(at);
            let (s1, s2) = self.row_sse.split_at_mut(h);
            let ((o1, o2), (t1, t2)) = (out.split_at(at), target.split_at(at));
            crate::linalg::join(|| rows_of(g1, o1, t1, s1), || rows_of(g2, o2, t2, s2));
        } else {
            rows_of(&mut self.grad, out, target, &mut self.row_sse);
        }
        // Summed over the rows in order, as one thread would.
        self.row_sse.iter().fold(0.0f64, |sum, &v| sum + v)
    }

    /// Backpropagates `grad` (the output's gradient) into every layer's parameter
    /// gradients.
    fn backward(&mut self, net: &Net, x: &[f32], rows: usize) {
        for l in (0..net.layers.len()).rev() {
            let (before, rest) = self.states.split_at_mut(l);
            let st = &mut rest[0];
            let layer = &net.layers[l];
            let input: &[f32] = if l == 0 { x } else { &before[l - 1].act };
            let act = layer.act;
            by_rows(&mut self.grad, &st.act[..], layer.n_out, |d, a| {
                act.backward(d, a)
            });
            if let Some(bn) = &layer.bn {
                bn_backward(
                    &mut self.grad,
                    rows,
                    layer.n_out,
                    bn,
                    &st.zhat,
                    &st.inv_std,
                    &mut st.ggamma,
                    &mut st.gbeta,
                );
            }
            // dW = dZ^T X, db = column sums of dZ.
            gemm(
                &mut st.gw,
                Mat::rows(&self.grad, rows, layer.n_out).t(),
                Mat::rows(input, rows, layer.n_in),
                1.0,
                0.0,
            );
            let grad = &self.grad;
            by_cols(&mut st.gb, &mut [], rows, |cols, gb, _| {
                gb.iter_mut().for_each(|v| *v = 0.0);
                for row in grad.chunks_exact(layer.n_out) {
                    gb.iter_mut()
                        .zip(&row[cols.clone()])
                        .for_each(|(g, r)| *g += r);
                }
            });
            if l > 0 {
                self.grad_prev.resize(rows * layer.n_in, 0.0);
                gemm(
                    &mut self.grad_prev,
                    Mat::rows(&self.grad, rows, layer.n_out),
                    Mat::rows(&layer.w, layer.n_out, layer.n_in),
                    1.0,
                    0.0,
                );
                std::mem::swap(&mut self.grad, &mut self.grad_prev);
            }
        }
    }

    /// Keras' Adam step on every parameter from the gradients `backward` left.
    fn adam_update(&mut self, net: &mut Net) {
        self.step += 1;
        let a = self.adam;
        let lr_t = (a.lr * (1.0 - a.beta2.powi(self.step)).sqrt() / (1.0 - a.beta1.powi(self.step)))
            as f32;
        let adam = AdamStep {
            lr_t,
            b1: a.beta1 as f32,
            b2: a.beta2 as f32,
            eps: a.eps as f32,
        };
        let update = |(layer, st): (&mut Layer, &mut LayerState)| {
            adam.apply(&mut layer.w, &st.gw, &mut st.mw, &mut st.vw);
            adam.apply(&mut layer.b, &st.gb, &mut st.mb, &mut st.vb);
            if let Some(bn) = &mut layer.bn {
                adam.apply(&mut bn.gamma, &st.ggamma, &mut st.mg, &mut st.vg);
                adam.apply(&mut bn.beta, &st.gbeta, &mut st.mbeta, &mut st.vbeta);
            }
        };
        // Each parameter's update is independent of the others: the same numbers on any
        // number of threads. The encoder and decoder mirror each other, so the first and
        // second halves of the layers are about equal work.
        let pairs = net.layers.iter_mut().zip(self.states.iter_mut());
        if crate::linalg::threads() > 1 {
            let mut all: Vec<_> = pairs.collect();
            let half = all.len() / 2;
            let (first, second) = all.split_at_mut(half);
            crate::linalg::join(
                || {
                    first
                        .iter_mut()
                        .for_each(|(l, s)| update((&mut **l, &mut **s)))
                },
                || {
                    second
                        .iter_mut()
                        .for_each(|(l, s)| update((&mut **l, &mut **s)))
                },
            );
        } else {
            pairs.for_each(update);
        }
    }
}

/// Where [`bn_forward_train`] leaves what the backward pass needs.
struct BnOut<'a> {
    /// Normalised pre-activations.
    zhat: &'a mut Vec<f32>,
    /// `1/sqrt(var + eps)` per feature.
    inv_std: &'a mut [f32],
    /// Scratch for the per-feature sums, kept between steps.
    stats: &'a mut Vec<f32>,
}

/// BatchNorm in training mode on `z` (`rows x n`, in place), then the activation `act`,
/// saving `zhat` and `1/sqrt(var + eps)`, and updating the moving statistics (Keras:
/// momentum 0.99, biased variance).
fn bn_forward_train(
    z: &mut [f32],
    rows: usize,
    n: usize,
    bn: &mut Bn,
    act: Activation,
    out: BnOut<'_>,
) {
    // Batch mean and (biased) variance per feature, f32 sums over the rows in order as
    // TensorFlow computes them, vectorised across features. On this thread even with a
    // second one: split by features, each thread read the rows the other had just
    // written, and the pass took longer on two threads than on one (0.19-0.26 s against
    // 0.12-0.14 s over 210 DCASE steps, timed inside the step).
    out.stats.clear();
    out.stats.resize(2 * n, 0.0);
    let (sum, sq) = out.stats.split_at_mut(n);
    for row in z.chunks_exact(n) {
        for ((s, q), &v) in sum.iter_mut().zip(sq.iter_mut()).zip(row) {
            *s += v;
            *q += v * v;
        }
    }
    let inv_rows = 1.0 / rows as f32;
    let inv_std = out.inv_std;
    for j in 0..n {
        let mean = sum[j] * inv_rows;
        let var = (sq[j] * inv_rows - mean * mean).max(0.0);
        inv_std[j] = 1.0 / (var + BN_EPS).sqrt();
        // The sum is not needed again: its slot holds the mean.
        sum[j] = mean;
        bn.mean[j] = bn.mean[j] * BN_MOMENTUM + mean * (1.0 - BN_MOMENTUM);
        bn.var[j] = bn.var[j] * BN_MOMENTUM + var * (1.0 - BN_MOMENTUM);
    }
    out.zhat.resize(rows * n, 0.0);
    let (shift, inv_std, gamma, beta) = (&*sum, &*inv_std, &bn.gamma, &bn.beta);
    by_rows(z, &mut out.zhat[..], n, |z, zhat| {
        // Zipped, not indexed: indexing kept the bounds checks and the loop scalar.
        let per_feature = shift.iter().zip(inv_std).zip(gamma.iter().zip(beta));
        for (zr, hr) in z.chunks_exact_mut(n).zip(zhat.chunks_exact_mut(n)) {
            for ((v, h), ((&s, &is), (&g, &b))) in
                zr.iter_mut().zip(hr.iter_mut()).zip(per_feature.clone())
            {
                *h = (*v - s) * is;
                *v = g * *h + b;
            }
        }
        act.apply(z);
    });
}

/// Smallest `rows x n` pass worth a second thread.
const MIN_SPLIT_ELEMENTS: usize = 1 << 13;

/// A buffer that splits into two disjoint parts: a shared or a unique slice.
trait Halves: Sized + Send {
    fn halves(self, at: usize) -> (Self, Self);
}

impl Halves for &[f32] {
    fn halves(self, at: usize) -> (Self, Self) {
        self.split_at(at.min(self.len()))
    }
}

impl Halves for &mut [f32] {
    fn halves(self, at: usize) -> (Self, Self) {
        let at = at.min(self.len());
        self.split_at_mut(at)
    }
}

/// `f` on the rows of the `rows x n` buffers `a` and `b` (`b` may be empty), in two
/// halves on the engine's second thread when it has one. Element-wise passes only, so
/// the numbers do not depend on the split.
fn by_rows<B: Halves>(a: &mut [f32], b: B, n: usize, f: impl Fn(&mut [f32], B) + Sync) {
    let rows = a.len() / n.max(1);
    if crate::linalg::threads() < 2 || a.len() < MIN_SPLIT_ELEMENTS || rows < 2 {
        return f(a, b);
    }
    let at = rows / 2 * n;
    let (a1, a2) = a.split_at_mut(at);
    let (b1, b2) = b.halves(at);
    crate::linalg::join(|| f(a1, b1), || f(a2, b2));
}

/// `f(columns, a[columns], b[columns])` for the per-feature vectors `a` and `b` (`b` may
/// be empty) of a pass over `rows` rows, the features in two halves on the engine's
/// second thread when it has one. Each feature's sum runs over the rows in the same
/// order either way.
fn by_cols(
    a: &mut [f32],
    b: &mut [f32],
    rows: usize,
    f: impl Fn(std::ops::Range<usize>, &mut [f32], &mut [f32]) + Sync,
) {
    let n = a.len();
    if crate::linalg::threads() < 2 || rows * n < MIN_SPLIT_ELEMENTS || n < 2 {
        return f(0..n, a, b);
    }
    let h = n / 2;
    let (a1, a2) = a.split_at_mut(h);
    let (b1, b2) = if b.is_empty() {
        (&mut [][..], &mut [][..])
    } else {
        b.split_at_mut(h)
    };
    crate::linalg::join(|| f(0..h, a1, b1), || f(h..n, a2, b2));
}

/// BatchNorm backward: turns `dy` into `dz` in place and fills the parameter gradients.
#[allow(clippy::too_many_arguments)]
fn bn_backward(
    dy: &mut [f32],
    rows: usize,
    n: usize,
    bn: &Bn,
    zhat: &[f32],
    inv_std: &[f32],
    ggamma: &mut [f32],
    gbeta: &mut [f32],
) {
    // On this thread, like the forward statistics (see `bn_forward_train`).
    gbeta.fill(0.0);
    ggamma.fill(0.0);
    for (dr, hr) in dy.chunks_exact(n).zip(zhat.chunks_exact(n)) {
        for (((gb, gg), &d), &h) in gbeta.iter_mut().zip(ggamma.iter_mut()).zip(dr).zip(hr) {
            *gb += d;
            *gg += d * h;
        }
    }
    let inv_rows = 1.0 / rows as f32;
    let (gbeta, ggamma) = (&*gbeta, &*ggamma);
    by_rows(dy, zhat, n, |dy, zhat| {
        let per_feature = bn.gamma.iter().zip(inv_std).zip(gbeta.iter().zip(ggamma));
        for (dr, hr) in dy.chunks_exact_mut(n).zip(zhat.chunks_exact(n)) {
            for ((d, &h), ((&g, &is), (&gb, &gg))) in dr.iter_mut().zip(hr).zip(per_feature.clone())
            {
                *d = (g * is) * (*d - gb * inv_rows - h * gg * inv_rows);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn toy() -> (Net, Vec<f32>, usize) {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let net = Net::new(&[6, 4, 2, 4, 6], Activation::Tanh, true, &mut rng);
        let rows = 5;
        let x: Vec<f32> = (0..rows * 6)
            .map(|i| ((i * 37 % 17) as f32 / 17.0) - 0.5)
            .collect();
        (net, x, rows)
    }

    /// Loss of the network in training mode (batch statistics), without updating it.
    fn loss(net: &Net, x: &[f32], target: &[f32], rows: usize) -> f64 {
        let mut n = net.clone();
        let mut t = Trainer::new(
            &n,
            Adam {
                lr: 0.0,
                ..Adam::default()
            },
        );
        t.step(&mut n, x, target, rows)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (net, x, rows) = toy();
        check_gradients(&net, &x, &x, rows);
    }

    #[test]
    fn gradients_match_finite_differences_towards_a_narrower_target() {
        // An interpolation network's shape: 6 inputs, 2 outputs, a target of its own.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let net = Net::new(&[6, 4, 3, 2], Activation::Tanh, true, &mut rng);
        let rows = 5;
        let x: Vec<f32> = (0..rows * 6)
            .map(|i| ((i * 29 % 13) as f32 / 13.0) - 0.5)
            .collect();
        let target: Vec<f32> = (0..rows * 2).map(|i| (i as f32 * 0.7).sin()).collect();
        check_gradients(&net, &x, &target, rows);
    }

    fn check_gradients(net: &Net, x: &[f32], target: &[f32], rows: usize) {
        let mut n = net.clone();
        let mut t = Trainer::new(
            &n,
            Adam {
                lr: 0.0,
                ..Adam::default()
            },
        );
        t.step(&mut n, x, target, rows);
        let h = 1e-3f32;
        let last = net.layers.len() - 1;
        for (l, idx) in [(0usize, 3usize), (1, 5), (last, 5)] {
            let mut plus = net.clone();
            plus.layers[l].w[idx] += h;
            let mut minus = net.clone();
            minus.layers[l].w[idx] -= h;
            let numeric = (loss(&plus, x, target, rows) - loss(&minus, x, target, rows))
                / (2.0 * f64::from(h));
            let analytic = f64::from(t.states[l].gw[idx]);
            assert!(
                (numeric - analytic).abs() < 2e-3 * numeric.abs().max(1e-2),
                "layer {l} w[{idx}]: {numeric} vs {analytic}"
            );
        }
        // BatchNorm gamma of layer 1.
        let mut plus = net.clone();
        plus.layers[1].bn.as_mut().unwrap().gamma[1] += h;
        let mut minus = net.clone();
        minus.layers[1].bn.as_mut().unwrap().gamma[1] -= h;
        let numeric =
            (loss(&plus, x, target, rows) - loss(&minus, x, target, rows)) / (2.0 * f64::from(h));
        assert!(
            (numeric - f64::from(t.states[1].ggamma[1])).abs() < 2e-3 * numeric.abs().max(1e-2)
        );
    }

    #[test]
    fn training_reduces_the_loss_and_eval_matches_shapes() {
        let (mut net, x, rows) = toy();
        let mut t = Trainer::new(
            &net,
            Adam {
                lr: 1e-2,
                ..Adam::default()
            },
        );
        let first = t.step(&mut net, &x, &x, rows);
        let mut last = first;
        for _ in 0..300 {
            last = t.step(&mut net, &x, &x, rows);
        }
        assert!(last < first * 0.5, "{first} -> {last}");
        let mut ws = Eval::default();
        assert_eq!(net.forward_eval(&x, rows, &mut ws).len(), rows * 6);
    }
}
