//! Layers shared by the model zoo: a convolution that serves 1D and 2D inputs, activations,
//! initialisers and the parameter-free shortcut of He 2015 (option A).
//!
//! The 1D convolutions of the I/Q networks run on specmine's im2col + GEMM kernels for the
//! `flex` backend ([`crate::flexconv`]) by default: burn 0.22's flex takes their gradients
//! through a generic decomposition, twice as slow for a training step (BENCHMARKS.md).
//! `--conv burn` switches back to burn's `conv1d`.

use crate::config::{Activation, Init};
use burn::module::Param;
use burn::nn::Initializer;
use burn::nn::activation::{ActivationConfig, EluConfig, LeakyReluConfig};
use burn::prelude::*;
use burn::tensor::module::{conv1d, conv2d};
use burn::tensor::ops::ConvOptions;
use std::sync::atomic::{AtomicU8, Ordering};

/// How [`Conv`] runs 1D (`1 x k` on height-1 input) convolutions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvPath {
    /// burn's `conv1d`.
    Burn,
    /// specmine's im2col + GEMM kernels on flex ([`crate::flexconv::conv1d`]), burn's `conv1d`
    /// on other backends (the default).
    Gemm,
}

impl std::str::FromStr for ConvPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "burn" => Ok(Self::Burn),
            "gemm" => Ok(Self::Gemm),
            _ => Err(format!("unknown conv path {s:?}: expected burn or gemm")),
        }
    }
}

static CONV_PATH: AtomicU8 = AtomicU8::new(0);

/// Choose how every [`Conv`] in this process runs its 1D convolutions (default
/// [`ConvPath::Gemm`]; also set by the environment variable `SPECMINE_CONV=burn|gemm`, read by
/// [`conv_path`] while nothing was set here). The result is the same up to float rounding;
/// only the speed differs.
pub fn set_conv_path(path: ConvPath) {
    let v = match path {
        ConvPath::Burn => 1,
        ConvPath::Gemm => 2,
    };
    CONV_PATH.store(v, Ordering::Relaxed);
}

/// The current [`ConvPath`].
pub fn conv_path() -> ConvPath {
    match CONV_PATH.load(Ordering::Relaxed) {
        1 => ConvPath::Burn,
        2 => ConvPath::Gemm,
        _ => {
            let p = std::env::var("SPECMINE_CONV")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(ConvPath::Gemm);
            set_conv_path(p);
            p
        }
    }
}

/// Convolution over `[batch, channels, height, width]`. A `1 x k` kernel on a height-1 input
/// runs as a native 1D convolution (the I/Q case); everything else as a 2D one.
#[derive(Module, Debug)]
pub struct Conv {
    /// `[c_out, c_in, kh, kw]`
    pub weight: Param<Tensor<4>>,
    pub bias: Option<Param<Tensor<1>>>,
    pub stride: [usize; 2],
    pub padding: [usize; 2],
}

impl Conv {
    /// A `kernel` conv ("same" padding for odd kernels); `kernel = [1, k]` for 1D networks.
    pub fn new(
        c_in: usize,
        c_out: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        bias: bool,
        init: Init,
        device: &Device,
    ) -> Self {
        let fan_in = c_in * kernel[0] * kernel[1];
        let fan_out = c_out * kernel[0] * kernel[1];
        let weight = initializer(init).init_with(
            [c_out, c_in, kernel[0], kernel[1]],
            Some(fan_in),
            Some(fan_out),
            device,
        );
        let bias = bias.then(|| Initializer::Zeros.init([c_out], device));
        Self {
            weight,
            bias,
            stride,
            padding: [kernel[0] / 2, kernel[1] / 2],
        }
    }

    /// # Shapes
    /// - x: `[batch, c_in, h, w]`
    /// - output: `[batch, c_out, ceil(h / stride_h), ceil(w / stride_w)]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [c_out, c_in, kh, kw] = self.weight.dims();
        let bias = self.bias.as_ref().map(|b| b.val());
        if kh == 1 && x.dims()[2] == 1 && self.stride[0] == 1 {
            let w = self.weight.val().reshape([c_out, c_in, kw]);
            if conv_path() == ConvPath::Gemm {
                let y = crate::flexconv::conv1d(
                    x.squeeze_dim::<3>(2),
                    w,
                    bias,
                    self.stride[1],
                    self.padding[1],
                );
                return y.unsqueeze_dim(2);
            }
            let y = conv1d(
                x.squeeze_dim::<3>(2),
                w,
                bias,
                ConvOptions::new([self.stride[1]], [self.padding[1]], [1], 1),
            );
            return y.unsqueeze_dim(2);
        }
        conv2d(
            x,
            self.weight.val(),
            bias,
            ConvOptions::new(self.stride, self.padding, [1, 1], 1),
        )
    }
}

/// Batch norm on specmine's fused flex kernels ([`crate::flexnorm::batch_norm`]) on the
/// default path, burn's `BatchNorm::forward` with `--conv burn`.
///
/// # Shapes
/// - x, output: `[batch, channels, height, width]`
pub fn batch_norm(bn: &burn::nn::BatchNorm, x: Tensor<4>) -> Tensor<4> {
    match conv_path() {
        ConvPath::Gemm => crate::flexnorm::batch_norm(bn, x),
        ConvPath::Burn => bn.forward(x),
    }
}

/// `act(bn(x) + skip)` (the addition when a skip is given). On the default path, with ReLU,
/// one fused kernel per direction ([`crate::flexnorm::batch_norm_fused`]); otherwise the
/// operations one after the other.
///
/// # Shapes
/// - x, skip, output: `[batch, channels, height, width]`
pub fn batch_norm_act(
    bn: &burn::nn::BatchNorm,
    act: &burn::nn::activation::Activation,
    x: Tensor<4>,
    skip: Option<Tensor<4>>,
) -> Tensor<4> {
    if conv_path() == ConvPath::Gemm && matches!(act, burn::nn::activation::Activation::Relu(_)) {
        return crate::flexnorm::batch_norm_fused(bn, x, skip, true);
    }
    let y = batch_norm(bn, x);
    act.forward(match skip {
        Some(k) => y + k,
        None => y,
    })
}

/// burn's initialiser for a config initialiser. burn's Kaiming std is `gain / sqrt(fan)`, so He
/// init is gain `sqrt(2)`.
pub fn initializer(init: Init) -> Initializer {
    let he = 2f64.sqrt();
    match init {
        Init::HeNormal { fan_out } => Initializer::KaimingNormal {
            gain: he,
            fan_out_only: fan_out,
        },
        Init::HeUniform { fan_out } => Initializer::KaimingUniform {
            gain: he,
            fan_out_only: fan_out,
        },
        Init::XavierNormal => Initializer::XavierNormal { gain: 1.0 },
        Init::XavierUniform => Initializer::XavierUniform { gain: 1.0 },
    }
}

/// burn's activation module for a config activation.
pub fn activation(a: Activation, device: &Device) -> burn::nn::activation::Activation {
    match a {
        Activation::Relu => ActivationConfig::Relu,
        Activation::LeakyRelu { slope } => {
            ActivationConfig::LeakyRelu(LeakyReluConfig::new().with_negative_slope(slope))
        }
        Activation::Elu { alpha } => ActivationConfig::Elu(EluConfig::new().with_alpha(alpha)),
    }
    .init(device)
}

/// He 2015's option A: subsample by `stride` and zero-pad channels up to `c_out` (half the
/// new channels before, half after, as the common CIFAR reproductions do).
///
/// # Shapes
/// - x: `[batch, c_in, h, w]`
/// - output: `[batch, c_out, ceil(h / stride_h), ceil(w / stride_w)]`
pub fn shortcut_a(x: Tensor<4>, stride: [usize; 2], c_out: usize) -> Tensor<4> {
    let x = if stride == [1, 1] {
        x
    } else {
        x.slice(s![.., .., ..;stride[0] as isize, ..;stride[1] as isize])
    };
    let [b, c, h, w] = x.dims();
    if c_out == c {
        return x;
    }
    let before = (c_out - c) / 2;
    let after = c_out - c - before;
    let device = x.device();
    let mut parts = Vec::with_capacity(3);
    if before > 0 {
        parts.push(Tensor::zeros([b, before, h, w], &device));
    }
    parts.push(x);
    if after > 0 {
        parts.push(Tensor::zeros([b, after, h, w], &device));
    }
    Tensor::cat(parts, 1)
}

/// SELU (Klambauer et al. 2017) with the exponential taken of `min(x, 0)` only: burn 0.22's
/// SELU backward returns NaN once an input exceeds about 88 (its `exp` overflows and is masked
/// by a multiplication, inf * 0).
///
/// # Shapes
/// - x, output: any
pub fn selu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    const ALPHA: f64 = 1.673_263_242_354_377_3;
    const SCALE: f64 = 1.050_700_987_355_480_5;
    let neg = x
        .clone()
        .clamp_max(0.0)
        .exp()
        .sub_scalar(1.0)
        .mul_scalar(ALPHA);
    burn::tensor::activation::relu(x).add(neg).mul_scalar(SCALE)
}

/// Scale each example to unit RMS over all its values.
///
/// # Shapes
/// - x, output: `[batch, channels, height, width]`
pub fn rms_normalize(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let ms = x
        .clone()
        .powf_scalar(2.0)
        .reshape([b, c * h * w])
        .mean_dim(1)
        .add_scalar(1e-12);
    x / ms.sqrt().reshape([b, 1, 1, 1])
}
