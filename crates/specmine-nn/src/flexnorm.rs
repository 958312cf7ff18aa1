//! Batch normalisation (Ioffe & Szegedy 2015) as fused kernels for burn's `flex` backend.
//!
//! burn 0.22.1 computes a training-mode batch norm from generic tensor operations: a transpose
//! to `[channels, rest]` for each statistic, then broadcast subtract, divide, multiply and add,
//! and as many again for the backward pass: a fifth of a training step of the RF networks in
//! `perf`. Here each direction is one pass for the per-channel statistics and one element-wise
//! pass, and inference is one multiply-add per element. The semantics are burn's `BatchNorm`
//! exactly: the biased batch variance normalises and feeds the running statistics.

use crate::flex::{AutodiffTensor, FlexInputs, absent, flex, retrieve, slice};
use burn::nn::BatchNorm;
use burn::prelude::*;
use burn::tensor::TensorData;
use burn_autodiff::NodeId;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_flex::{Flex, FlexTensor};
use rayon::prelude::*;

/// `[batch, channels, spatial]`: the layout batch norm reduces over (all but the channels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NormShape {
    pub batch: usize,
    pub channels: usize,
    pub spatial: usize,
}

impl NormShape {
    fn count(&self) -> f64 {
        (self.batch * self.spatial) as f64
    }
}

/// Per-channel sums of `f(channel, offset of a run)` over the `spatial`-long runs of each
/// channel, `K` sums at once, in f64. The runs are visited in memory order (examples split
/// between threads, each keeping partial sums per channel): walking one channel at a time
/// jumps through memory a run at a time.
fn per_channel<const K: usize, F>(s: NormShape, f: F) -> Vec<[f64; K]>
where
    F: Fn(usize, usize) -> [f64; K] + Sync,
{
    let zero = || vec![[0f64; K]; s.channels];
    let add = |a: &mut [f64; K], p: [f64; K]| a.iter_mut().zip(p).for_each(|(a, p)| *a += p);
    (0..s.batch)
        .into_par_iter()
        .fold(zero, |mut acc, n| {
            for (c, a) in acc.iter_mut().enumerate() {
                add(a, f(c, (n * s.channels + c) * s.spatial));
            }
            acc
        })
        .reduce(zero, |mut acc, part| {
            acc.iter_mut().zip(part).for_each(|(a, p)| add(a, p));
            acc
        })
}

/// Lanes of the run sums below: independent partial sums the compiler keeps in vector
/// registers (one scalar accumulator is a chain of dependent adds, 4 cycles per element).
const LANES: usize = 16;

/// `Σ f(a_i, b_i)` over two equally long runs, `K` sums at once, in `LANES` f32 lanes per sum
/// (a run is at most a few thousand elements), returned in f64.
#[inline(always)]
fn run_sums<const K: usize>(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> [f32; K]) -> [f64; K] {
    let mut acc = [[0f32; LANES]; K];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (ca, cb) in ca.zip(cb) {
        let (ca, cb): (&[f32; LANES], &[f32; LANES]) =
            (ca.try_into().unwrap(), cb.try_into().unwrap());
        for i in 0..LANES {
            let v = f(ca[i], cb[i]);
            for k in 0..K {
                acc[k][i] += v[k];
            }
        }
    }
    let mut out = [0f64; K];
    for k in 0..K {
        out[k] = acc[k].iter().map(|&v| v as f64).sum();
    }
    for (&x, &y) in ra.iter().zip(rb) {
        let v = f(x, y);
        for k in 0..K {
            out[k] += v[k] as f64;
        }
    }
    out
}

/// Fill `out` run by run: `f(channel, run, offset of the run)`.
fn map_runs<F>(out: &mut [f32], s: NormShape, f: F)
where
    F: Fn(usize, &mut [f32], usize) + Sync,
{
    out.par_chunks_mut(s.channels * s.spatial.max(1))
        .enumerate()
        .for_each(|(n, example)| {
            for (c, run) in example.chunks_mut(s.spatial.max(1)).enumerate() {
                f(c, run, (n * s.channels + c) * s.spatial);
            }
        });
}

fn inv_std(var: &[f32], epsilon: f64) -> Vec<f32> {
    var.iter()
        .map(|&v| (1.0 / (v as f64 + epsilon).sqrt()) as f32)
        .collect()
}

/// What follows the normalisation in the same pass: `relu(bn(x) + skip)` with each part
/// optional. A v1 residual block ends in BN, the skip addition and ReLU; every other BN of
/// the zoo but the projection's is followed by ReLU. Fusing saves a memory pass per part in
/// each direction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a> {
    /// Added after the normalisation (the residual branch's skip), shaped like x.
    pub skip: Option<&'a [f32]>,
    /// Apply ReLU last.
    pub relu: bool,
}

/// `y = epilogue(x * scale[c] + shift[c])`.
fn scale_shift(x: &[f32], s: NormShape, scale: &[f32], shift: &[f32], e: Epilogue) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    map_runs(&mut y, s, |c, run, at| {
        let (a, b) = (scale[c], shift[c]);
        let len = run.len();
        let xs = &x[at..at + len];
        match (e.skip, e.relu) {
            (None, false) => run.iter_mut().zip(xs).for_each(|(o, &v)| *o = v * a + b),
            (None, true) => run
                .iter_mut()
                .zip(xs)
                .for_each(|(o, &v)| *o = (v * a + b).max(0.0)),
            (Some(k), relu) => {
                let ks = &k[at..at + len];
                for ((o, &v), &r) in run.iter_mut().zip(xs).zip(ks) {
                    let z = v * a + b + r;
                    *o = if relu { z.max(0.0) } else { z };
                }
            }
        }
    });
    y
}

/// Inference: normalise with given statistics, then the epilogue.
///
/// # Shapes
/// - x: `[batch, channels, spatial]` flattened; gamma, beta, mean, var: `[channels]`
/// - skip (in `e`), output: like x
pub fn inference(
    x: &[f32],
    s: NormShape,
    [gamma, beta, mean, var]: [&[f32]; 4],
    epsilon: f64,
    e: Epilogue,
) -> Vec<f32> {
    let inv = inv_std(var, epsilon);
    let scale: Vec<f32> = (0..s.channels).map(|c| gamma[c] * inv[c]).collect();
    let shift: Vec<f32> = (0..s.channels)
        .map(|c| beta[c] - mean[c] * scale[c])
        .collect();
    scale_shift(x, s, &scale, &shift, e)
}

/// Training-mode forward: the output, the batch mean and the biased batch variance.
///
/// # Shapes
/// - x: `[batch, channels, spatial]` flattened; gamma, beta: `[channels]`
/// - skip (in `e`): like x
/// - outputs: like x, `[channels]`, `[channels]`
pub fn train_forward(
    x: &[f32],
    s: NormShape,
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    e: Epilogue,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let m = s.count();
    let len = s.spatial;
    // One pass: per run its sum and squared deviations about its own mean (the run is in L1
    // for the second look), combined across runs (Chan et al. 1979):
    // M2 = Σ M2_run + Σ sum_run² / len - (Σ sum_run)² / m.
    let stats = per_channel(s, |_, at| {
        let v = &x[at..at + len];
        let [sum] = run_sums(v, v, |a, _| [a]);
        let run_mean = sum / len.max(1) as f64;
        let mu = run_mean as f32;
        let [m2] = run_sums(v, v, |a, _| [(a - mu) * (a - mu)]);
        // Deviations were taken about the rounded mean: correct M2 by len (mu - exact)².
        let d = mu as f64 - run_mean;
        [sum, m2 - len as f64 * d * d, sum * run_mean]
    });
    let mean: Vec<f32> = stats.iter().map(|p| (p[0] / m) as f32).collect();
    let var: Vec<f32> = stats
        .iter()
        .map(|p| (((p[1] + p[2] - p[0] * p[0] / m) / m).max(0.0)) as f32)
        .collect();
    let y = inference(x, s, [gamma, beta, &mean, &var], epsilon, e);
    (y, mean, var)
}

/// Gradients of [`train_forward`] for input, gamma and beta:
/// `dx = gamma * inv_std / m * (m * dy - sum(dy) - x̂ * sum(dy * x̂))`, `dgamma = sum(dy * x̂)`,
/// `dbeta = sum(dy)`, with `x̂ = (x - mean) * inv_std`. `dy` is the gradient at the
/// normalisation's output, i.e. after undoing the epilogue ([`through_relu`]).
///
/// # Shapes
/// - x, dy: `[batch, channels, spatial]` flattened; gamma, mean, var: `[channels]`
/// - outputs: like x, `[channels]`, `[channels]`
pub fn train_backward(
    x: &[f32],
    dy: &[f32],
    s: NormShape,
    [gamma, mean, var]: [&[f32]; 3],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let inv = inv_std(var, epsilon);
    // Σ dy and Σ dy (x - mean) in one pass; dgamma = inv_std Σ dy (x - mean).
    let sums = per_channel(s, |c, at| {
        let mu = mean[c];
        let r = at..at + s.spatial;
        run_sums(&dy[r.clone()], &x[r], |g, v| [g, g * (v - mu)])
    });
    let dbeta: Vec<f64> = sums.iter().map(|p| p[0]).collect();
    let dgamma: Vec<f64> = sums
        .iter()
        .zip(&inv)
        .map(|(p, &is)| p[1] * is as f64)
        .collect();
    let m = s.count();
    let mut dx = vec![0f32; x.len()];
    map_runs(&mut dx, s, |c, run, at| {
        let k = gamma[c] * inv[c];
        let (mu, is) = (mean[c], inv[c]);
        let mean_dy = (dbeta[c] / m) as f32;
        let mean_dy_xhat = (dgamma[c] / m) as f32;
        let len = run.len();
        let (xs, gs) = (&x[at..at + len], &dy[at..at + len]);
        for ((o, &v), &g) in run.iter_mut().zip(xs).zip(gs) {
            *o = k * (g - mean_dy - (v - mu) * is * mean_dy_xhat);
        }
    });
    let f = |v: Vec<f64>| v.into_iter().map(|a| a as f32).collect();
    (dx, f(dgamma), f(dbeta))
}

/// The gradient through the ReLU of an epilogue: `dy` where the output `y` is positive, zero
/// elsewhere (as burn's `relu` backward: zero at exactly zero).
pub fn through_relu(dy: &[f32], y: &[f32]) -> Vec<f32> {
    let mut dz = vec![0f32; dy.len()];
    dz.par_chunks_mut(1 << 14)
        .zip(dy.par_chunks(1 << 14).zip(y.par_chunks(1 << 14)))
        .for_each(|(o, (g, y))| {
            for ((o, &g), &y) in o.iter_mut().zip(g).zip(y) {
                *o = if y > 0.0 { g } else { 0.0 };
            }
        });
    dz
}

fn norm_shape(x: &FlexTensor) -> NormShape {
    let dims = x.layout().shape();
    NormShape {
        batch: dims[0],
        channels: dims[1],
        spatial: dims.iter().skip(2).product(),
    }
}

#[derive(Debug)]
struct BatchNormBackward;

/// What the backward pass keeps of a training-mode forward.
#[derive(Clone, Debug)]
struct NormState {
    /// Checkpoint ids of x and gamma.
    x: NodeId,
    gamma: NodeId,
    /// The batch mean and biased variance.
    mean: Vec<f32>,
    var: Vec<f32>,
    epsilon: f64,
    /// The output, for the ReLU's mask, when the epilogue has one.
    relu_out: Option<FlexTensor>,
}

impl Backward<Flex, 4> for BatchNormBackward {
    type State = NormState;

    fn backward(
        self,
        ops: Ops<Self::State, 4>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta, node_skip] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node).to_contiguous();
        let st = ops.state;
        let x = retrieve(checkpointer, st.x);
        let gamma = retrieve(checkpointer, st.gamma);
        let s = norm_shape(&x);
        let shape = x.layout().shape().to_vec();
        // The gradient at the normalisation's output (= the skip's gradient).
        let dz = match &st.relu_out {
            Some(y) => flex(
                through_relu(slice(&dy), slice(&y.to_contiguous())),
                shape.clone(),
            ),
            None => dy,
        };
        if node_x.is_some() || node_gamma.is_some() || node_beta.is_some() {
            let (dx, dgamma, dbeta) = train_backward(
                slice(&x),
                slice(&dz),
                s,
                [slice(&gamma), &st.mean, &st.var],
                st.epsilon,
            );
            if let Some(node) = node_x {
                grads.register::<Flex>(node.id, flex(dx, shape));
            }
            if let Some(node) = node_gamma {
                grads.register::<Flex>(node.id, flex(dgamma, vec![s.channels]));
            }
            if let Some(node) = node_beta {
                grads.register::<Flex>(node.id, flex(dbeta, vec![s.channels]));
            }
        }
        if let Some(node) = node_skip {
            grads.register::<Flex>(node.id, dz);
        }
    }
}

/// Training-mode batch norm and epilogue on flex: the output (tracked when any input is) and
/// the batch mean and biased variance (plain).
fn train_flex(
    x: &Tensor<4>,
    [gamma, beta]: [&Tensor<1>; 2],
    skip: Option<&Tensor<4>>,
    relu: bool,
    epsilon: f64,
) -> Option<(Tensor<4>, Tensor<1>, Tensor<1>)> {
    let mut inputs = vec![
        x.clone().into_dispatch(),
        gamma.clone().into_dispatch(),
        beta.clone().into_dispatch(),
    ];
    inputs.extend(skip.map(|k| k.clone().into_dispatch()));
    let run = |x: &FlexTensor, g: &FlexTensor, b: &FlexTensor, k: Option<&FlexTensor>| {
        let (x, g, b) = (x.to_contiguous(), g.to_contiguous(), b.to_contiguous());
        let k = k.map(|k| k.to_contiguous());
        let e = Epilogue {
            skip: k.as_ref().map(slice),
            relu,
        };
        let s = norm_shape(&x);
        let (y, mean, var) = train_forward(slice(&x), s, slice(&g), slice(&b), epsilon, e);
        (flex(y, x.layout().shape().to_vec()), mean, var)
    };
    let (y, mean, var) = match FlexInputs::of(inputs)? {
        FlexInputs::Plain(t) => {
            let (y, mean, var) = run(&t[0], &t[1], &t[2], t.get(3));
            (FlexInputs::plain_output(y), mean, var)
        }
        FlexInputs::Tracked(mut t) => {
            let k = if t.len() == 4 { t.pop()? } else { absent() };
            let [x, g, b]: [AutodiffTensor<Flex>; 3] = t.try_into().ok()?;
            let (y, mean, var) = run(
                x.primitive(),
                g.primitive(),
                b.primitive(),
                skip.is_some().then(|| k.primitive()),
            );
            let out = match BatchNormBackward
                .prepare::<NoCheckpointing>([x.node(), g.node(), b.node(), k.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(mut prep) => {
                    let state = NormState {
                        x: prep.checkpoint(&x),
                        gamma: prep.checkpoint(&g),
                        mean: mean.clone(),
                        var: var.clone(),
                        epsilon,
                        relu_out: relu.then(|| y.clone()),
                    };
                    prep.finish(state, y)
                }
                OpsKind::UnTracked(prep) => prep.finish(y),
            };
            (FlexInputs::tracked_output(out), mean, var)
        }
    };
    let device = x.device();
    Some((
        Tensor::from_dispatch(y),
        Tensor::from_data(TensorData::new(mean, [gamma.dims()[0]]), &device),
        Tensor::from_data(TensorData::new(var, [gamma.dims()[0]]), &device),
    ))
}

/// Inference-mode batch norm and epilogue on flex (untracked inputs only).
fn inference_flex(
    x: &Tensor<4>,
    params: [&Tensor<1>; 4],
    skip: Option<&Tensor<4>>,
    relu: bool,
    epsilon: f64,
) -> Option<Tensor<4>> {
    let mut inputs = vec![x.clone().into_dispatch()];
    inputs.extend(params.iter().map(|t| (*t).clone().into_dispatch()));
    inputs.extend(skip.map(|k| k.clone().into_dispatch()));
    let FlexInputs::Plain(t) = FlexInputs::of(inputs)? else {
        return None;
    };
    let t: Vec<FlexTensor> = t.iter().map(|t| t.to_contiguous()).collect();
    let shape = t[0].layout().shape().to_vec();
    let e = Epilogue {
        skip: t.get(5).map(slice),
        relu,
    };
    let s = norm_shape(&t[0]);
    let y = inference(
        slice(&t[0]),
        s,
        [slice(&t[1]), slice(&t[2]), slice(&t[3]), slice(&t[4])],
        epsilon,
        e,
    );
    Some(Tensor::from_dispatch(FlexInputs::plain_output(flex(
        y, shape,
    ))))
}

/// burn's [`BatchNorm::forward`] on the fused kernels where the tensors live on flex, burn's
/// own implementation elsewhere: training behaviour (batch statistics, running statistics
/// updated with the layer's momentum) on an autodiff device with the layer's training flag on,
/// inference behaviour (running statistics) otherwise.
///
/// # Shapes
/// - x, output: `[batch, channels, height, width]`
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    batch_norm_fused(bn, x, None, false)
}

/// `relu(bn(x) + skip)` (each of the addition and the ReLU optional) in one pass per direction
/// where the tensors live on flex, burn's operations one after the other elsewhere. The batch
/// norm behaves as in [`batch_norm`].
///
/// # Shapes
/// - x, skip, output: `[batch, channels, height, width]`
pub fn batch_norm_fused(
    bn: &BatchNorm,
    x: Tensor<4>,
    skip: Option<Tensor<4>>,
    relu: bool,
) -> Tensor<4> {
    let device = x.device();
    let (gamma, beta) = (bn.gamma.val(), bn.beta.val());
    // The kernels add a skip element by element: other shapes take burn's broadcasting add.
    let same_shape = skip.as_ref().is_none_or(|k| k.dims() == x.dims());
    let fused = if !same_shape {
        None
    } else if device.is_autodiff() && bn.training.is_enabled() {
        train_flex(&x, [&gamma, &beta], skip.as_ref(), relu, bn.epsilon).map(|(y, mean, var)| {
            // As burn does: running = (1 - momentum) running + momentum batch.
            let update = |running: &burn::module::RunningState<Tensor<1>>, batch: Tensor<1>| {
                let r = running.value_sync().to_device(&device);
                let r = r
                    .mul_scalar(1.0 - bn.momentum)
                    .add(batch.mul_scalar(bn.momentum));
                running.update(r.detach());
            };
            update(&bn.running_mean, mean);
            update(&bn.running_var, var);
            y
        })
    } else {
        let mean = bn.running_mean.value().to_device(&device);
        let var = bn.running_var.value().to_device(&device);
        inference_flex(
            &x,
            [&gamma, &beta, &mean, &var],
            skip.as_ref(),
            relu,
            bn.epsilon,
        )
    };
    fused.unwrap_or_else(|| {
        let y = bn.forward(x);
        let y = match skip {
            Some(k) => y + k,
            None => y,
        };
        if relu {
            burn::tensor::activation::relu(y)
        } else {
            y
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_statistics_match_a_two_pass_f64_reference() {
        // A large offset with a small spread: the case a one-pass E[x²] - E[x]² gets wrong.
        let s = NormShape {
            batch: 7,
            channels: 3,
            spatial: 37,
        };
        let n = s.batch * s.channels * s.spatial;
        let x: Vec<f32> = (0..n)
            .map(|i| 1000.0 + ((i * 7919) % 101) as f32 * 0.01)
            .collect();
        let ones = [1f32; 3];
        let zeros = [0f32; 3];
        let (_, mean, var) = train_forward(&x, s, &ones, &zeros, 1e-5, Epilogue::default());
        for c in 0..s.channels {
            let vals: Vec<f64> = (0..s.batch)
                .flat_map(|b| (0..s.spatial).map(move |t| (b * s.channels + c) * s.spatial + t))
                .map(|i| x[i] as f64)
                .collect();
            let mu = vals.iter().sum::<f64>() / vals.len() as f64;
            let v = vals.iter().map(|a| (a - mu).powi(2)).sum::<f64>() / vals.len() as f64;
            assert!((mean[c] as f64 - mu).abs() < 1e-4, "mean {c}");
            assert!(
                (var[c] as f64 - v).abs() < 1e-4 * v,
                "var {c}: {} vs {v}",
                var[c]
            );
        }
    }

    #[test]
    fn backward_matches_finite_differences() {
        let s = NormShape {
            batch: 3,
            channels: 2,
            spatial: 5,
        };
        let n = s.batch * s.channels * s.spatial;
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 17) as f32 * 0.3 - 2.0)
            .collect();
        let gamma = [1.5f32, -0.7];
        let beta = [0.2f32, 0.4];
        let dy: Vec<f32> = (0..n).map(|i| ((i * 31) % 11) as f32 * 0.1 - 0.5).collect();
        let loss = |x: &[f32], g: &[f32]| -> f64 {
            let (y, _, _) = train_forward(x, s, g, &beta, 1e-5, Epilogue::default());
            y.iter()
                .zip(&dy)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum()
        };
        let (_, mean, var) = train_forward(&x, s, &gamma, &beta, 1e-5, Epilogue::default());
        let (dx, dgamma, dbeta) = train_backward(&x, &dy, s, [&gamma, &mean, &var], 1e-5);
        let h = 1e-2f32;
        for i in [0, 4, 7, 12, 29] {
            let (mut p, mut m) = (x.clone(), x.clone());
            p[i] += h;
            m[i] -= h;
            let fd = (loss(&p, &gamma) - loss(&m, &gamma)) / (2.0 * h as f64);
            assert!(
                (fd - dx[i] as f64).abs() < 2e-3,
                "dx[{i}]: {fd} vs {}",
                dx[i]
            );
        }
        for c in 0..2 {
            let (mut p, mut m) = (gamma, gamma);
            p[c] += h;
            m[c] -= h;
            let fd = (loss(&x, &p) - loss(&x, &m)) / (2.0 * h as f64);
            assert!((fd - dgamma[c] as f64).abs() < 2e-3, "dgamma[{c}]");
            let want: f32 = (0..s.batch)
                .flat_map(|b| (0..s.spatial).map(move |t| (b * s.channels + c) * s.spatial + t))
                .map(|i| dy[i])
                .sum();
            assert!((want - dbeta[c]).abs() < 1e-5, "dbeta[{c}]");
        }
    }
}
