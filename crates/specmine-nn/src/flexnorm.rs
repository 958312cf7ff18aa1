//! Batch normalisation (Ioffe & Szegedy 2015) as fused kernels for burn's `flex` backend.
//!
//! burn 0.22.1 computes a training-mode batch norm from generic tensor operations: a transpose
//! to `[channels, rest]` for each statistic, then broadcast subtract, divide, multiply and add,
//! and as many again for the backward pass: a fifth of a training step of the RF networks in
//! `perf`. Here each direction is one pass for the per-channel statistics and one element-wise
//! pass, and inference is one multiply-add per element. The semantics are burn's `BatchNorm`
//! exactly: the biased batch variance normalises and feeds the running statistics.

use crate::flex::{AutodiffTensor, FlexInputs, flex, retrieve, slice};
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

/// Per-channel sums of `f(channel, run)` over the `spatial`-long runs of each channel, in f64.
fn per_channel<F>(x: &[f32], s: NormShape, f: F) -> Vec<f64>
where
    F: Fn(usize, &[f32], usize) -> f64 + Sync,
{
    (0..s.channels)
        .into_par_iter()
        .map(|c| {
            (0..s.batch)
                .map(|n| {
                    let at = (n * s.channels + c) * s.spatial;
                    f(c, &x[at..at + s.spatial], at)
                })
                .sum()
        })
        .collect()
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

/// `y = x * scale[c] + shift[c]`.
fn scale_shift(x: &[f32], s: NormShape, scale: &[f32], shift: &[f32]) -> Vec<f32> {
    let mut y = vec![0f32; x.len()];
    map_runs(&mut y, s, |c, run, at| {
        let (a, b) = (scale[c], shift[c]);
        let len = run.len();
        for (o, &v) in run.iter_mut().zip(&x[at..at + len]) {
            *o = v * a + b;
        }
    });
    y
}

/// Inference: normalise with given statistics.
///
/// # Shapes
/// - x: `[batch, channels, spatial]` flattened; gamma, beta, mean, var: `[channels]`
/// - output: like x
pub fn inference(
    x: &[f32],
    s: NormShape,
    [gamma, beta, mean, var]: [&[f32]; 4],
    epsilon: f64,
) -> Vec<f32> {
    let inv = inv_std(var, epsilon);
    let scale: Vec<f32> = (0..s.channels).map(|c| gamma[c] * inv[c]).collect();
    let shift: Vec<f32> = (0..s.channels)
        .map(|c| beta[c] - mean[c] * scale[c])
        .collect();
    scale_shift(x, s, &scale, &shift)
}

/// Training-mode forward: the output, the batch mean and the biased batch variance.
///
/// # Shapes
/// - x: `[batch, channels, spatial]` flattened; gamma, beta: `[channels]`
/// - outputs: like x, `[channels]`, `[channels]`
pub fn train_forward(
    x: &[f32],
    s: NormShape,
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let m = s.count();
    let mean: Vec<f64> = per_channel(x, s, |_, v, _| v.iter().map(|&a| a as f64).sum())
        .into_iter()
        .map(|v| v / m)
        .collect();
    let var: Vec<f32> = per_channel(x, s, |c, v, _| {
        v.iter().map(|&a| (a as f64 - mean[c]).powi(2)).sum()
    })
    .into_iter()
    .map(|v| (v / m) as f32)
    .collect();
    let mean: Vec<f32> = mean.into_iter().map(|v| v as f32).collect();
    let y = inference(x, s, [gamma, beta, &mean, &var], epsilon);
    (y, mean, var)
}

/// Gradients of [`train_forward`] for input, gamma and beta:
/// `dx = gamma * inv_std / m * (m * dy - sum(dy) - x̂ * sum(dy * x̂))`, `dgamma = sum(dy * x̂)`,
/// `dbeta = sum(dy)`, with `x̂ = (x - mean) * inv_std`.
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
    let dbeta = per_channel(dy, s, |_, v, _| v.iter().map(|&a| a as f64).sum());
    let dgamma = per_channel(dy, s, |c, g, at| {
        let (mu, is) = (mean[c], inv[c]);
        g.iter()
            .zip(&x[at..at + g.len()])
            .map(|(&g, &v)| (g * (v - mu) * is) as f64)
            .sum()
    });
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

impl Backward<Flex, 3> for BatchNormBackward {
    /// Checkpoint ids of x and gamma; the batch mean and variance; epsilon.
    type State = (NodeId, NodeId, Vec<f32>, Vec<f32>, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node).to_contiguous();
        let (x_id, gamma_id, mean, var, epsilon) = ops.state;
        let x = retrieve(checkpointer, x_id);
        let gamma = retrieve(checkpointer, gamma_id);
        let s = norm_shape(&x);
        let (dx, dgamma, dbeta) = train_backward(
            slice(&x),
            slice(&dy),
            s,
            [slice(&gamma), &mean, &var],
            epsilon,
        );
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, flex(dx, x.layout().shape().to_vec()));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, flex(dgamma, vec![s.channels]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, flex(dbeta, vec![s.channels]));
        }
    }
}

/// Training-mode batch norm on flex: the output (tracked when any input is) and the batch
/// mean and biased variance (plain).
fn train_flex(
    x: &Tensor<4>,
    gamma: &Tensor<1>,
    beta: &Tensor<1>,
    epsilon: f64,
) -> Option<(Tensor<4>, Tensor<1>, Tensor<1>)> {
    let inputs = vec![
        x.clone().into_dispatch(),
        gamma.clone().into_dispatch(),
        beta.clone().into_dispatch(),
    ];
    let run = |x: &FlexTensor, g: &FlexTensor, b: &FlexTensor| {
        let (x, g, b) = (x.to_contiguous(), g.to_contiguous(), b.to_contiguous());
        let s = norm_shape(&x);
        let (y, mean, var) = train_forward(slice(&x), s, slice(&g), slice(&b), epsilon);
        (flex(y, x.layout().shape().to_vec()), mean, var)
    };
    let (y, mean, var) = match FlexInputs::of(inputs)? {
        FlexInputs::Plain(t) => {
            let (y, mean, var) = run(&t[0], &t[1], &t[2]);
            (FlexInputs::plain_output(y), mean, var)
        }
        FlexInputs::Tracked(t) => {
            let [x, g, b]: [AutodiffTensor<Flex>; 3] = t.try_into().ok()?;
            let (y, mean, var) = run(x.primitive(), g.primitive(), b.primitive());
            let out = match BatchNormBackward
                .prepare::<NoCheckpointing>([x.node(), g.node(), b.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(mut prep) => {
                    let x_id = prep.checkpoint(&x);
                    let g_id = prep.checkpoint(&g);
                    prep.finish((x_id, g_id, mean.clone(), var.clone(), epsilon), y)
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

/// Inference-mode batch norm on flex (untracked inputs only).
fn inference_flex(
    x: &Tensor<4>,
    [gamma, beta, mean, var]: [&Tensor<1>; 4],
    epsilon: f64,
) -> Option<Tensor<4>> {
    let mut inputs = vec![x.clone().into_dispatch()];
    inputs.extend(
        [gamma, beta, mean, var]
            .iter()
            .map(|t| (*t).clone().into_dispatch()),
    );
    let FlexInputs::Plain(t) = FlexInputs::of(inputs)? else {
        return None;
    };
    let t: Vec<FlexTensor> = t.iter().map(|t| t.to_contiguous()).collect();
    let s = norm_shape(&t[0]);
    let y = inference(
        slice(&t[0]),
        s,
        [slice(&t[1]), slice(&t[2]), slice(&t[3]), slice(&t[4])],
        epsilon,
    );
    Some(Tensor::from_dispatch(FlexInputs::plain_output(flex(
        y,
        t[0].layout().shape().to_vec(),
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
    let device = x.device();
    if device.is_autodiff() && bn.training.is_enabled() {
        let (gamma, beta) = (bn.gamma.val(), bn.beta.val());
        let Some((y, mean, var)) = train_flex(&x, &gamma, &beta, bn.epsilon) else {
            return bn.forward(x);
        };
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
    } else {
        let mean = bn.running_mean.value().to_device(&device);
        let var = bn.running_var.value().to_device(&device);
        let (gamma, beta) = (bn.gamma.val(), bn.beta.val());
        inference_flex(&x, [&gamma, &beta, &mean, &var], bn.epsilon)
            .unwrap_or_else(|| bn.forward(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let (y, _, _) = train_forward(x, s, g, &beta, 1e-5);
            y.iter()
                .zip(&dy)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum()
        };
        let (_, mean, var) = train_forward(&x, s, &gamma, &beta, 1e-5);
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
