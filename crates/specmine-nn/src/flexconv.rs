//! 1D convolution on burn's `flex` backend as im2col + one large GEMM per direction
//! (Chellapilla, Puri & Simard 2006, "High performance convolutional neural networks for
//! document processing"), with its own backward pass.
//!
//! burn 0.22.1's `flex` backend has a forward conv1d kernel but takes both gradients through
//! burn's generic decomposition, whose weight gradient runs as a convolution with the batch as
//! channels: many GEMMs a few columns wide, half of a training step's time (BENCHMARKS.md).
//! Here the batch is folded into the GEMM's columns: with `cols = im2col(x)` of shape
//! `[c_in * k, batch * l_out]`,
//! - forward: `y = w · cols` (`[c_out, c_in * k] x [c_in * k, batch * l_out]`),
//! - weight gradient: `dw = dy · colsᵀ` (the reduction runs over `batch * l_out`),
//! - input gradient: `dcols = wᵀ · dy`, scattered back by col2im,
//!
//! each one call of the `gemm` crate (the kernels flex itself uses) on cache-friendly shapes.
//! The kernels are pure functions on slices ([`forward`], [`backward`]); [`conv1d`] plugs them
//! into burn: directly for untracked flex tensors, and as an autodiff operation with a custom
//! backward for tracked ones. Anything else (other backends, half precision, checkpointing
//! strategies other than none) is left to burn's own `conv1d`.

use crate::flex::{AutodiffTensor, FlexInputs, absent, flex, retrieve, slice};
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::module::conv1d as burn_conv1d;
use burn::tensor::ops::ConvOptions;
use burn_autodiff::NodeId;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::NoCheckpointing;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_flex::{Flex, FlexTensor};
use rayon::prelude::*;

/// The geometry of one 1D convolution (no dilation, one group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dShape {
    pub batch: usize,
    pub c_in: usize,
    pub len: usize,
    pub c_out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl Conv1dShape {
    /// Output length: `(len + 2 padding - kernel) / stride + 1`.
    pub fn len_out(&self) -> usize {
        (self.len + 2 * self.padding - self.kernel) / self.stride + 1
    }

    /// Whether the input already is its own column matrix (up to a batch/channel transpose).
    fn is_pointwise(&self) -> bool {
        self.kernel == 1 && self.stride == 1 && self.padding == 0
    }
}

/// `cols[(c * k + j), n * l_out + t] = x[n, c, t * stride + j - padding]` (zero outside),
/// written into `cols` (`[c_in * k, batch * l_out]`).
fn im2col(x: &[f32], s: &Conv1dShape, cols: &mut [f32]) {
    let (l, l_out, k) = (s.len, s.len_out(), s.kernel);
    let width = s.batch * l_out;
    for (r, row) in cols.chunks_mut(width).enumerate() {
        let (c, j) = (r / k, r % k);
        // Output positions whose tap lands inside the input: t * stride + j - padding in [0, l).
        let t0 = s.padding.saturating_sub(j).div_ceil(s.stride);
        let t1 = (l + s.padding - j).div_ceil(s.stride).min(l_out);
        for n in 0..s.batch {
            let src = &x[(n * s.c_in + c) * l..(n * s.c_in + c + 1) * l];
            let dst = &mut row[n * l_out..(n + 1) * l_out];
            dst[..t0].fill(0.0);
            dst[t1..].fill(0.0);
            if s.stride == 1 {
                let i0 = t0 + j - s.padding;
                dst[t0..t1].copy_from_slice(&src[i0..i0 + (t1 - t0)]);
            } else {
                for t in t0..t1 {
                    dst[t] = src[t * s.stride + j - s.padding];
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: `dx[n, c, i]` = the sum of `dcols` over the taps that read
/// `x[n, c, i]`, written into `dx` (`[batch, c_in, len]`).
fn col2im(dcols: &[f32], s: &Conv1dShape, dx: &mut [f32]) {
    let (l, l_out, k) = (s.len, s.len_out(), s.kernel);
    let width = s.batch * l_out;
    dx.fill(0.0);
    for (n, xn) in dx.chunks_mut(s.c_in * l).enumerate() {
        for c in 0..s.c_in {
            let dst = &mut xn[c * l..(c + 1) * l];
            for j in 0..k {
                let row = &dcols[(c * k + j) * width + n * l_out..][..l_out];
                let t0 = s.padding.saturating_sub(j).div_ceil(s.stride);
                let t1 = (l + s.padding - j).div_ceil(s.stride).min(l_out);
                if s.stride == 1 {
                    // Contiguous on both sides: a slice add the compiler vectorises.
                    let i0 = t0 + j - s.padding;
                    let d = &mut dst[i0..i0 + (t1 - t0)];
                    d.iter_mut().zip(&row[t0..t1]).for_each(|(a, b)| *a += b);
                } else {
                    for t in t0..t1 {
                        dst[t * s.stride + j - s.padding] += row[t];
                    }
                }
            }
        }
    }
}

thread_local! {
    /// Each thread's spare scratch buffers, reused across calls: a fresh zeroed allocation
    /// per chunk cost a memset and page faults on every layer (a tenth of a training step).
    static SCRATCH: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A scratch buffer of `len` elements with unspecified contents (every user overwrites it
/// whole), taken from this thread's pool; give it back with [`put_scratch`].
fn take_scratch(len: usize) -> Vec<f32> {
    let mut buf = SCRATCH
        .with(|pool| {
            let mut pool = pool.borrow_mut();
            // The smallest spare buffer that fits, else the largest (to be grown).
            let fits = (0..pool.len())
                .filter(|&i| pool[i].capacity() >= len)
                .min_by_key(|&i| pool[i].capacity());
            let pick = fits.or_else(|| (0..pool.len()).max_by_key(|&i| pool[i].capacity()));
            pick.map(|i| pool.swap_remove(i))
        })
        .unwrap_or_default();
    buf.resize(len, 0.0);
    buf
}

fn put_scratch(buf: Vec<f32>) {
    SCRATCH.with(|pool| {
        let mut pool = pool.borrow_mut();
        // A handful per thread covers one layer's needs (three at most at once).
        if pool.len() < 4 {
            pool.push(buf);
        }
    });
}

/// `[batch, rows, len]` to `[rows, batch * len]`.
fn batch_to_rows(x: &[f32], batch: usize, rows: usize, len: usize, out: &mut [f32]) {
    for (r, dst) in out.chunks_mut(batch * len).enumerate() {
        for n in 0..batch {
            dst[n * len..(n + 1) * len].copy_from_slice(&x[(n * rows + r) * len..][..len]);
        }
    }
}

/// `[rows, batch * len]` to `[batch, rows, len]`, adding `bias[row]` when given.
fn rows_to_batch(
    y: &[f32],
    batch: usize,
    rows: usize,
    len: usize,
    bias: Option<&[f32]>,
    out: &mut [f32],
) {
    for (n, dst) in out.chunks_mut(rows * len).enumerate() {
        for r in 0..rows {
            let src = &y[r * batch * len + n * len..][..len];
            let d = &mut dst[r * len..(r + 1) * len];
            match bias {
                Some(b) => d.iter_mut().zip(src).for_each(|(o, v)| *o = v + b[r]),
                None => d.copy_from_slice(src),
            }
        }
    }
}

/// `dst[m, n] (+)= lhs[m, k] · rhs[k, n]` with explicit (column, row) strides for each operand;
/// `accumulate` adds to what `dst` holds.
#[allow(clippy::too_many_arguments)]
fn matmul(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    lhs: &[f32],
    (lhs_cs, lhs_rs): (usize, usize),
    rhs: &[f32],
    (rhs_cs, rhs_rs): (usize, usize),
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
    assert_eq!(dst.len(), m * n);
    if m * n * k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    // The largest element each operand's strides reach must lie inside its slice.
    assert!((m - 1) * lhs_rs + (k - 1) * lhs_cs < lhs.len());
    assert!((k - 1) * rhs_rs + (n - 1) * rhs_cs < rhs.len());
    // SAFETY: the asserts above keep every access in bounds; dst does not alias lhs or rhs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The convolution's column matrix `[c_in * k, batch * l_out]`, written into `cols`.
fn columns(x: &[f32], s: &Conv1dShape, cols: &mut [f32]) {
    if s.is_pointwise() {
        batch_to_rows(x, s.batch, s.c_in, s.len, cols)
    } else {
        im2col(x, s, cols)
    }
}

/// How the batch is split: examples per chunk, so that a chunk's scratch matrices stay in a
/// core's L2 cache (a whole batch's column matrix is tens of MB and made the GEMMs
/// memory-bound), and the GEMM parallelism inside a chunk (chunks run on separate threads when
/// there are enough of them). `rows` is the scratch a chunk needs per output position: the
/// column matrix and the output forward, twice the column matrix (columns and their gradient)
/// and the output gradient backward.
fn chunking(s: &Conv1dShape, rows: usize) -> (usize, gemm::Parallelism) {
    // Measured on rf_resnet (BENCHMARKS.md): 256 KiB beat 64 KiB-1 MiB forward.
    const CHUNK_BYTES: usize = 256 * 1024;
    let per_example = rows * s.len_out() * 4;
    let nb = (CHUNK_BYTES / per_example.max(1)).clamp(1, s.batch.max(1));
    let chunks = s.batch.div_ceil(nb);
    if chunks >= 2 * rayon::current_num_threads() {
        (nb, gemm::Parallelism::None)
    } else {
        (nb, gemm::Parallelism::Rayon(0))
    }
}

/// Forward 1D convolution (cross-correlation, as burn and PyTorch define it).
///
/// # Shapes
/// - x: `[batch, c_in, len]`
/// - w: `[c_out, c_in, kernel]`
/// - bias: `[c_out]`
/// - output: `[batch, c_out, len_out]`
pub fn forward(x: &[f32], w: &[f32], bias: Option<&[f32]>, s: &Conv1dShape) -> Vec<f32> {
    assert_eq!(x.len(), s.batch * s.c_in * s.len, "x does not match {s:?}");
    assert_eq!(
        w.len(),
        s.c_out * s.c_in * s.kernel,
        "w does not match {s:?}"
    );
    let (l_out, ck) = (s.len_out(), s.c_in * s.kernel);
    let mut out = vec![0f32; s.batch * s.c_out * l_out];
    if out.is_empty() {
        return out;
    }
    let (nb, par) = chunking(s, ck + s.c_out);
    out.par_chunks_mut(nb * s.c_out * l_out)
        .zip(x.par_chunks(nb * s.c_in * s.len))
        .for_each(|(out, x)| {
            let sub = Conv1dShape {
                batch: x.len() / (s.c_in * s.len),
                ..*s
            };
            let width = sub.batch * l_out;
            let mut cols = take_scratch(ck * width);
            columns(x, &sub, &mut cols);
            let mut y = take_scratch(s.c_out * width);
            matmul(
                &mut y,
                (s.c_out, width, ck),
                w,
                (1, ck),
                &cols,
                (1, width),
                false,
                par,
            );
            rows_to_batch(&y, sub.batch, s.c_out, l_out, bias, out);
            put_scratch(cols);
            put_scratch(y);
        });
    out
}

/// The input, weight and bias gradients, each where asked for.
pub type Gradients3 = (Option<Vec<f32>>, Option<Vec<f32>>, Option<Vec<f32>>);

/// Gradients of [`forward`]: input, weight and bias, each computed only when asked for.
///
/// # Shapes
/// - x: `[batch, c_in, len]`, w: `[c_out, c_in, kernel]`, dy: `[batch, c_out, len_out]`
/// - outputs: like x, like w, `[c_out]`
pub fn backward(
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    s: &Conv1dShape,
    [want_dx, want_dw, want_db]: [bool; 3],
) -> Gradients3 {
    let (l_out, ck) = (s.len_out(), s.c_in * s.kernel);
    assert_eq!(
        dy.len(),
        s.batch * s.c_out * l_out,
        "dy does not match {s:?}"
    );
    let (nb, par) = chunking(s, 2 * ck + s.c_out);
    let n_chunks = s.batch.div_ceil(nb);
    let mut dx = vec![0f32; if want_dx { x.len() } else { 0 }];
    let dx_chunks: Vec<&mut [f32]> = if want_dx {
        dx.chunks_mut(nb * s.c_in * s.len).collect()
    } else {
        (0..n_chunks).map(|_| <&mut [f32]>::default()).collect()
    };
    // Per thread: (dw, db) partial sums over its chunks.
    let zero = || {
        (
            vec![0f32; if want_dw { s.c_out * ck } else { 0 }],
            vec![0f64; s.c_out],
        )
    };
    let (dw, db) = dx_chunks
        .into_par_iter()
        .enumerate()
        .fold(zero, |(mut dw, mut db), (i, dx)| {
            let n0 = i * nb;
            let sub = Conv1dShape {
                batch: nb.min(s.batch - n0),
                ..*s
            };
            let width = sub.batch * l_out;
            let dy = &dy[n0 * s.c_out * l_out..][..sub.batch * s.c_out * l_out];
            let mut dyc = take_scratch(s.c_out * width);
            batch_to_rows(dy, sub.batch, s.c_out, l_out, &mut dyc);
            if want_db {
                for (acc, row) in db.iter_mut().zip(dyc.chunks(width)) {
                    *acc += row.iter().map(|&v| v as f64).sum::<f64>();
                }
            }
            if want_dw {
                let x = &x[n0 * s.c_in * s.len..][..sub.batch * s.c_in * s.len];
                let mut cols = take_scratch(ck * width);
                columns(x, &sub, &mut cols);
                // colsᵀ: element (q, c) of the [width, ck] operand is cols[c * width + q].
                // dw starts at zero in every partial sum: accumulate.
                matmul(
                    &mut dw,
                    (s.c_out, ck, width),
                    &dyc,
                    (1, width),
                    &cols,
                    (width, 1),
                    true,
                    par,
                );
                put_scratch(cols);
            }
            if want_dx {
                let mut dcols = take_scratch(ck * width);
                // wᵀ: element (c, o) of the [ck, c_out] operand is w[o * ck + c].
                matmul(
                    &mut dcols,
                    (ck, width, s.c_out),
                    w,
                    (ck, 1),
                    &dyc,
                    (1, width),
                    false,
                    par,
                );
                if s.is_pointwise() {
                    rows_to_batch(&dcols, sub.batch, s.c_in, s.len, None, dx);
                } else {
                    col2im(&dcols, &sub, dx);
                }
                put_scratch(dcols);
            }
            put_scratch(dyc);
            (dw, db)
        })
        .reduce(zero, |(mut dw, mut db), (dw2, db2)| {
            dw.iter_mut().zip(&dw2).for_each(|(a, b)| *a += b);
            db.iter_mut().zip(&db2).for_each(|(a, b)| *a += b);
            (dw, db)
        });
    let db = want_db.then(|| db.iter().map(|&v| v as f32).collect());
    (want_dx.then_some(dx), want_dw.then_some(dw), db)
}

fn shape_of(x: &FlexTensor, w: &FlexTensor, stride: usize, padding: usize) -> Conv1dShape {
    let xs = x.layout().shape();
    let ws = w.layout().shape();
    Conv1dShape {
        batch: xs[0],
        c_in: xs[1],
        len: xs[2],
        c_out: ws[0],
        kernel: ws[2],
        stride,
        padding,
    }
}

fn flex_forward(
    x: &FlexTensor,
    w: &FlexTensor,
    bias: Option<&FlexTensor>,
    stride: usize,
    padding: usize,
) -> FlexTensor {
    let s = shape_of(x, w, stride, padding);
    let (x, w) = (x.to_contiguous(), w.to_contiguous());
    let bias = bias.map(|b| b.to_contiguous());
    let y = forward(slice(&x), slice(&w), bias.as_ref().map(slice), &s);
    flex(y, [s.batch, s.c_out, s.len_out()])
}

#[derive(Debug)]
struct Conv1dBackward;

impl Backward<Flex, 3> for Conv1dBackward {
    /// Checkpoint ids of x and w, the bias's presence, stride and padding.
    type State = (NodeId, NodeId, usize, usize);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x_id, w_id, stride, padding) = ops.state;
        let x = retrieve(checkpointer, x_id);
        let w = retrieve(checkpointer, w_id);
        let s = shape_of(&x, &w, stride, padding);
        let dy = dy.to_contiguous();
        let want = [node_x.is_some(), node_w.is_some(), node_b.is_some()];
        let (dx, dw, db) = backward(slice(&x), slice(&w), slice(&dy), &s, want);
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<Flex>(node.id, flex(dx, [s.batch, s.c_in, s.len]));
        }
        if let (Some(node), Some(dw)) = (node_w, dw) {
            grads.register::<Flex>(node.id, flex(dw, [s.c_out, s.c_in, s.kernel]));
        }
        if let (Some(node), Some(db)) = (node_b, db) {
            let n = db.len();
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(db, [n])));
        }
    }
}

fn autodiff_forward(
    x: AutodiffTensor<Flex>,
    w: AutodiffTensor<Flex>,
    bias: AutodiffTensor<Flex>,
    has_bias: bool,
    stride: usize,
    padding: usize,
) -> AutodiffTensor<Flex> {
    let b = has_bias.then(|| bias.primitive());
    let y = flex_forward(x.primitive(), w.primitive(), b, stride, padding);
    match Conv1dBackward
        .prepare::<NoCheckpointing>([x.node(), w.node(), bias.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_id = prep.checkpoint(&x);
            let w_id = prep.checkpoint(&w);
            prep.finish((x_id, w_id, stride, padding), y)
        }
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

/// The convolution on the direct kernels when every input is an f32 flex tensor (tracked by
/// autodiff without checkpointing, or not tracked), `None` otherwise.
fn try_flex(
    x: &Tensor<3>,
    w: &Tensor<3>,
    bias: Option<&Tensor<1>>,
    stride: usize,
    padding: usize,
) -> Option<Tensor<3>> {
    let mut inputs = vec![x.clone().into_dispatch(), w.clone().into_dispatch()];
    inputs.extend(bias.map(|b| b.clone().into_dispatch()));
    let y = match FlexInputs::of(inputs)? {
        FlexInputs::Plain(t) => {
            FlexInputs::plain_output(flex_forward(&t[0], &t[1], t.get(2), stride, padding))
        }
        FlexInputs::Tracked(mut t) => {
            let has_bias = t.len() == 3;
            let b = t.pop_if(|_| has_bias).unwrap_or_else(absent);
            let (w, x) = (t.pop()?, t.pop()?);
            let y = autodiff_forward(x, w, b, has_bias, stride, padding);
            FlexInputs::tracked_output(y)
        }
    };
    Some(Tensor::from_dispatch(y))
}

/// 1D convolution on the direct im2col + GEMM kernels where the tensors live on flex (f32),
/// burn's `conv1d` elsewhere. Same result either way up to float rounding.
///
/// # Shapes
/// - x: `[batch, c_in, len]`
/// - weight: `[c_out, c_in, k]`
/// - bias: `[c_out]`
/// - output: `[batch, c_out, (len + 2 * padding - k) / stride + 1]`
pub fn conv1d(
    x: Tensor<3>,
    weight: Tensor<3>,
    bias: Option<Tensor<1>>,
    stride: usize,
    padding: usize,
) -> Tensor<3> {
    if let Some(y) = try_flex(&x, &weight, bias.as_ref(), stride, padding) {
        return y;
    }
    burn_conv1d(
        x,
        weight,
        bias,
        ConvOptions::new([stride], [padding], [1], 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition, for the kernels to agree with.
    fn naive(x: &[f32], w: &[f32], s: &Conv1dShape) -> Vec<f32> {
        let l_out = s.len_out();
        let mut y = vec![0f32; s.batch * s.c_out * l_out];
        for n in 0..s.batch {
            for o in 0..s.c_out {
                for t in 0..l_out {
                    let mut acc = 0f32;
                    for c in 0..s.c_in {
                        for j in 0..s.kernel {
                            let i = (t * s.stride + j) as isize - s.padding as isize;
                            if i >= 0 && (i as usize) < s.len {
                                acc += w[(o * s.c_in + c) * s.kernel + j]
                                    * x[(n * s.c_in + c) * s.len + i as usize];
                            }
                        }
                    }
                    y[(n * s.c_out + o) * l_out + t] = acc;
                }
            }
        }
        y
    }

    #[test]
    fn kernels_match_the_definition_and_their_adjoints() {
        let shapes = [
            (3, 4, 17, 5, 3, 1, 1),
            (2, 3, 16, 4, 3, 2, 1),
            (2, 3, 9, 2, 1, 1, 0),
            (2, 2, 11, 3, 5, 3, 2),
        ];
        for (batch, c_in, len, c_out, kernel, stride, padding) in shapes {
            let s = Conv1dShape {
                batch,
                c_in,
                len,
                c_out,
                kernel,
                stride,
                padding,
            };
            let x: Vec<f32> = (0..batch * c_in * len)
                .map(|i| ((i * 7919) % 13) as f32 - 6.0)
                .collect();
            let w: Vec<f32> = (0..c_out * c_in * kernel)
                .map(|i| ((i * 104_729) % 7) as f32 - 3.0)
                .collect();
            let y = forward(&x, &w, None, &s);
            assert_eq!(y, naive(&x, &w, &s), "{s:?}");
            // <dy, conv(x)> = <conv^T(dy), x>: the input gradient is the exact adjoint.
            let dy: Vec<f32> = (0..y.len()).map(|i| ((i * 31) % 5) as f32 - 2.0).collect();
            let (dx, dw, db) = backward(&x, &w, &dy, &s, [true, true, true]);
            let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f32>();
            assert_eq!(dot(&dy, &y), dot(&dx.unwrap(), &x), "{s:?}");
            assert_eq!(dot(&dy, &y), dot(&dw.unwrap(), &w), "{s:?}");
            let sum: f32 = dy.iter().sum();
            assert_eq!(db.unwrap().iter().sum::<f32>(), sum, "{s:?}");
        }
    }
}
