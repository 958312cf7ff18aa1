//! The residual network built from a [`ResNetConfig`]: stem, stages of blocks, pooling, head.

use crate::config::{BlockKind, ConfigError, ResNetConfig, Shortcut, Stem};
use crate::layers::{Conv, activation, batch_norm, batch_norm_act, rms_normalize, shortcut_a};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;

/// A learned shortcut: 1x1 conv, with BN in v1 blocks.
#[derive(Module, Debug)]
pub struct Projection {
    pub conv: Conv,
    pub norm: Option<BatchNorm>,
}

/// One residual (or plain) block of any [`BlockKind`]. `convs[i]` is paired with `norms[i]`:
/// the BN after it in v1 blocks, the BN before it in pre-activation blocks.
#[derive(Module, Debug)]
pub struct Block {
    pub convs: Vec<Conv>,
    pub norms: Vec<BatchNorm>,
    pub projection: Option<Projection>,
    pub dropout: Option<Dropout>,
    pub act: burn::nn::activation::Activation,
    /// 0 = v1, 1 = pre-activation (a plain integer keeps the module derive simple).
    pub preact: usize,
    /// 0 = plain block, 1 = residual.
    pub residual: usize,
    /// Option-A shortcut geometry: stride and output channels (unused with a projection).
    pub stride: [usize; 2],
    pub c_out: usize,
}

impl Block {
    fn new(
        cfg: &ResNetConfig,
        c_in: usize,
        width: usize,
        c_out: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let is1d = cfg.input.is_1d();
        let k = |k: usize| if is1d { [1, k] } else { [k, k] };
        let st = if is1d { [1, stride] } else { [stride, stride] };
        let kk = cfg.kernel_size;
        // Stride sits on the spatial conv (torchvision's "ResNet v1.5" bottleneck; same params).
        let shapes: Vec<(usize, usize, [usize; 2], [usize; 2])> = match cfg.block {
            BlockKind::Basic | BlockKind::PreActBasic => {
                vec![(c_in, width, k(kk), st), (width, c_out, k(kk), [1, 1])]
            }
            BlockKind::Bottleneck | BlockKind::PreActBottleneck => vec![
                (c_in, width, [1, 1], [1, 1]),
                (width, width, k(kk), st),
                (width, c_out, [1, 1], [1, 1]),
            ],
        };
        let preact = cfg.block.is_preact();
        let convs: Vec<Conv> = shapes
            .iter()
            .map(|&(i, o, kern, s)| Conv::new(i, o, kern, s, false, cfg.init, device))
            .collect();
        let norms: Vec<BatchNorm> = shapes
            .iter()
            .map(|&(i, o, _, _)| BatchNormConfig::new(if preact { i } else { o }).init(device))
            .collect();
        let mut block = Self {
            convs,
            norms,
            projection: None,
            dropout: (cfg.dropout > 0.0).then(|| DropoutConfig::new(cfg.dropout).init()),
            act: activation(cfg.activation, device),
            preact: preact as usize,
            residual: cfg.residual as usize,
            stride: st,
            c_out,
        };
        if cfg.residual && cfg.shortcut == Shortcut::B && (stride != 1 || c_in != c_out) {
            block.projection = Some(Projection {
                conv: Conv::new(c_in, c_out, [1, 1], st, false, cfg.init, device),
                norm: (!preact).then(|| BatchNormConfig::new(c_out).init(device)),
            });
        }
        if cfg.zero_init_last {
            if preact {
                let last = block.convs.last_mut().expect("blocks have convs");
                last.weight = last.weight.clone().map(|w| w.zeros_like());
            } else {
                let last = block.norms.last_mut().expect("blocks have norms");
                last.gamma = last.gamma.clone().map(|g| g.zeros_like());
            }
        }
        block
    }

    /// # Shapes
    /// - x: `[batch, c_in, h, w]`
    /// - output: `[batch, c_out, ceil(h / stride_h), ceil(w / stride_w)]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let n = self.convs.len();
        if self.preact == 1 {
            let pre = batch_norm_act(&self.norms[0], &self.act, x.clone(), None);
            let skip = (self.residual == 1).then(|| match &self.projection {
                // He 2016: the projection takes the block's pre-activation.
                Some(p) => p.conv.forward(pre.clone()),
                None => shortcut_a(x, self.stride, self.c_out),
            });
            let mut h = self.convs[0].forward(pre);
            for i in 1..n {
                h = batch_norm_act(&self.norms[i], &self.act, h, None);
                if i == 1
                    && let Some(d) = &self.dropout
                {
                    h = d.forward(h);
                }
                h = self.convs[i].forward(h);
            }
            // No activation after the addition: a clean identity path.
            return match skip {
                Some(s) => h + s,
                None => h,
            };
        }
        let skip = (self.residual == 1).then(|| match &self.projection {
            Some(p) => {
                let s = p.conv.forward(x.clone());
                match &p.norm {
                    Some(bn) => batch_norm(bn, s),
                    None => s,
                }
            }
            None => shortcut_a(x.clone(), self.stride, self.c_out),
        });
        let mut h = x;
        for i in 0..n - 1 {
            h = batch_norm_act(&self.norms[i], &self.act, self.convs[i].forward(h), None);
            if i == 0
                && let Some(d) = &self.dropout
            {
                h = d.forward(h);
            }
        }
        // The last BN, the skip addition and the activation (He 2015: ReLU after the add).
        let last = self.convs[n - 1].forward(h);
        batch_norm_act(&self.norms[n - 1], &self.act, last, skip)
    }
}

/// A residual network or its plain twin.
#[derive(Module, Debug)]
pub struct ResNet {
    pub stem: Conv,
    /// BN after the stem (v1); pre-activation nets normalise in their first block instead.
    pub stem_norm: Option<BatchNorm>,
    /// 1 when the stem ends in the ImageNet 3x3 stride-2 max-pool.
    pub stem_pool: usize,
    /// 1 when inputs are scaled to unit RMS first.
    pub input_norm: usize,
    pub blocks: Vec<Block>,
    /// Final BN-ReLU of pre-activation nets.
    pub final_norm: Option<BatchNorm>,
    pub act: burn::nn::activation::Activation,
    pub head: Linear,
    /// The configured input `[channels, height, width]` (see [`crate::Model::image_shape`]).
    pub input_shape: [usize; 3],
}

impl ResNetConfig {
    /// Build the network on `device`.
    pub fn init(&self, device: &Device) -> Result<ResNet, ConfigError> {
        self.validate()?;
        let is1d = self.input.is_1d();
        let preact = self.block.is_preact();
        let (stem, stem_pool) = match self.stem {
            Stem::Conv { channels, kernel } => {
                let k = if is1d { [1, kernel] } else { [kernel, kernel] };
                (
                    Conv::new(
                        self.input.channels,
                        channels,
                        k,
                        [1, 1],
                        false,
                        self.init,
                        device,
                    ),
                    0,
                )
            }
            Stem::ImageNet { channels } => {
                let (k, s) = if is1d {
                    ([1, 7], [1, 2])
                } else {
                    ([7, 7], [2, 2])
                };
                (
                    Conv::new(
                        self.input.channels,
                        channels,
                        k,
                        s,
                        false,
                        self.init,
                        device,
                    ),
                    1,
                )
            }
        };
        let stem_norm = (!preact || matches!(self.stem, Stem::ImageNet { .. }))
            .then(|| BatchNormConfig::new(self.stem.channels()).init(device));
        let mut blocks = Vec::new();
        let mut c_in = self.stem.channels();
        for s in 0..self.depths.len() {
            let width = self.widths[s] * self.width_factor;
            let c_out = self.stage_out(s);
            for b in 0..self.depths[s] {
                let stride = if b == 0 { self.strides[s] } else { 1 };
                blocks.push(Block::new(self, c_in, width, c_out, stride, device));
                c_in = c_out;
            }
        }
        Ok(ResNet {
            stem,
            stem_norm,
            stem_pool,
            input_norm: self.input_norm as usize,
            blocks,
            final_norm: preact.then(|| BatchNormConfig::new(c_in).init(device)),
            act: activation(self.activation, device),
            head: LinearConfig::new(c_in, self.num_classes).init(device),
            input_shape: [self.input.channels, self.input.height, self.input.width],
        })
    }
}

impl ResNet {
    /// Pooled features (the embedding that mining reuses).
    ///
    /// # Shapes
    /// - x: `[batch, channels, height, width]` (1D: `[batch, 2, 1, L]`)
    /// - output: `[batch, feature_dim]`
    pub fn forward_features(&self, x: Tensor<4>) -> Tensor<2> {
        let x = if self.input_norm == 1 {
            rms_normalize(x)
        } else {
            x
        };
        let mut h = self.stem.forward(x);
        if let Some(bn) = &self.stem_norm {
            h = batch_norm_act(bn, &self.act, h, None);
        }
        if self.stem_pool == 1 {
            let one_d = h.dims()[2] == 1;
            let (k, s, p) = if one_d {
                ([1, 3], [1, 2], [0, 1])
            } else {
                ([3, 3], [2, 2], [1, 1])
            };
            h = max_pool2d(h, MaxPoolOptions::new(k).with_stride(s).with_padding(p));
        }
        for b in &self.blocks {
            h = b.forward(h);
        }
        if let Some(bn) = &self.final_norm {
            h = batch_norm_act(bn, &self.act, h, None);
        }
        let [b, c, _, _] = h.dims();
        h.mean_dim(3).mean_dim(2).reshape([b, c])
    }

    /// # Shapes
    /// - features: `[batch, feature_dim]`
    /// - output: `[batch, num_classes]` (logits)
    pub fn forward_head(&self, features: Tensor<2>) -> Tensor<2> {
        self.head.forward(features)
    }

    /// # Shapes
    /// - x: `[batch, channels, height, width]`
    /// - output: `[batch, num_classes]` (logits)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_head(self.forward_features(x))
    }
}
