//! `ResNetConfig`: one serialisable description for every residual family and its plain twin.
//!
//! - ResNet v1 (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", 2015,
//!   arXiv 1512.03385): basic and bottleneck blocks, BN after each conv, ReLU after the add;
//!   shortcut option A (identity, zero-padded channels, strided subsampling) or B (projection).
//! - Pre-activation ResNet (He et al., "Identity Mappings in Deep Residual Networks", 2016,
//!   arXiv 1603.05027): BN-ReLU before each conv, nothing after the add, projection fed by the
//!   block's pre-activation, a final BN-ReLU before pooling.
//! - Wide ResNet (Zagoruyko & Komodakis, 2016, arXiv 1605.07146): pre-activation basic blocks at
//!   widths 16, 16k, 32k, 64k, depth 6n + 4, dropout between the two convs.
//!
//! 1D inputs (I/Q `[batch, 2, L]`) are the `height = 1` case of the same network: kernels are
//! `1 x k` and strides `1 x s`.

use serde::{Deserialize, Serialize};

/// Errors for configurations that cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid model config: {field} = {value}: {expected}")]
    Invalid {
        field: &'static str,
        value: String,
        expected: String,
    },
    #[error("unknown model {name:?}; known models: {known}")]
    UnknownModel { name: String, known: String },
    #[error("model config file {path}: {message}")]
    File { path: String, message: String },
}

pub(crate) fn invalid(
    field: &'static str,
    value: impl std::fmt::Debug,
    expected: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        field,
        value: format!("{value:?}"),
        expected: expected.into(),
    }
}

/// Residual block kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockKind {
    /// Two 3x3 convs (He 2015).
    #[serde(rename = "basic")]
    Basic,
    /// 1x1 reduce, 3x3, 1x1 expand by 4 (He 2015).
    #[serde(rename = "bottleneck")]
    Bottleneck,
    /// BN-ReLU-conv twice (He 2016; WRN).
    #[serde(rename = "preact-basic")]
    PreActBasic,
    /// BN-ReLU-conv three times, 1x1/3x3/1x1, expansion 4 (He 2016).
    #[serde(rename = "preact-bottleneck")]
    PreActBottleneck,
}

impl BlockKind {
    pub fn expansion(self) -> usize {
        match self {
            Self::Basic | Self::PreActBasic => 1,
            Self::Bottleneck | Self::PreActBottleneck => 4,
        }
    }

    pub fn is_preact(self) -> bool {
        matches!(self, Self::PreActBasic | Self::PreActBottleneck)
    }

    pub fn convs(self) -> usize {
        match self {
            Self::Basic | Self::PreActBasic => 2,
            _ => 3,
        }
    }
}

/// Shortcut used where a block changes shape (`stride != 1 || c_in != c_out`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shortcut {
    /// Parameter-free: strided subsampling and zero-padded channels (He 2015, CIFAR).
    A,
    /// 1x1 projection (+ BN in v1 blocks; pre-activation blocks project their pre-activation).
    B,
}

/// The layers before the first stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Stem {
    /// One `kernel` conv at stride 1 (CIFAR: 3x3 to 16 channels; RF: 1x3 to 32).
    Conv { channels: usize, kernel: usize },
    /// 7x7 stride-2 conv, BN, ReLU, 3x3 stride-2 max-pool (ImageNet).
    ImageNet { channels: usize },
}

impl Stem {
    pub fn channels(self) -> usize {
        match self {
            Self::Conv { channels, .. } | Self::ImageNet { channels } => channels,
        }
    }
}

/// Nonlinearity used throughout the network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Activation {
    Relu,
    LeakyRelu { slope: f64 },
    Elu { alpha: f64 },
}

/// Weight initialiser of the convolutions (BN: weight 1, bias 0).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Init {
    /// He et al. 2015 ("Delving deep into rectifiers"): N(0, 2 / fan).
    HeNormal {
        fan_out: bool,
    },
    HeUniform {
        fan_out: bool,
    },
    /// Glorot & Bengio 2010.
    XavierNormal,
    XavierUniform,
}

/// Input tensor shape per example: `[channels, height, width]`; `height = 1` is a 1D input of
/// length `width`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl InputShape {
    pub fn iq(len: usize) -> Self {
        Self {
            channels: 2,
            height: 1,
            width: len,
        }
    }

    pub fn image(channels: usize, size: usize) -> Self {
        Self {
            channels,
            height: size,
            width: size,
        }
    }

    pub fn is_1d(self) -> bool {
        self.height == 1
    }
}

/// One residual network (or its plain twin), fully described by data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResNetConfig {
    pub input: InputShape,
    pub num_classes: usize,
    pub block: BlockKind,
    /// `false` builds the plain net of He 2015: the same layers, no skip connections.
    pub residual: bool,
    pub shortcut: Shortcut,
    pub stem: Stem,
    /// Blocks per stage.
    pub depths: Vec<usize>,
    /// Base width of each stage (times `width_factor`, times the block's expansion at its output).
    pub widths: Vec<usize>,
    /// Stride of each stage's first block.
    pub strides: Vec<usize>,
    /// WRN's k.
    pub width_factor: usize,
    /// Kernel size of the blocks' spatial convs.
    pub kernel_size: usize,
    /// Dropout probability between a block's convs (WRN: 0.3); 0 disables it.
    pub dropout: f64,
    pub activation: Activation,
    pub init: Init,
    /// Start each residual branch at zero (v1: the last BN's weight; pre-act: the last conv).
    pub zero_init_last: bool,
    /// Scale each input example to unit RMS before the stem. RF data comes at any scale
    /// (RadioML 2016 divides by the sum of magnitudes, leaving samples near 1/L); without this,
    /// BatchNorm's running variance (initialised at 1) needs hundreds of steps to reach the
    /// stem's true variance and validation-mode outputs are wrong until it does.
    #[serde(default)]
    pub input_norm: bool,
}

impl ResNetConfig {
    /// Check everything `init` relies on; errors name the field and what was expected.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let stages = self.depths.len();
        if stages == 0 {
            return Err(invalid("depths", &self.depths, "at least one stage"));
        }
        if self.widths.len() != stages {
            return Err(invalid(
                "widths",
                &self.widths,
                format!("one width per stage ({stages} stages in depths)"),
            ));
        }
        if self.strides.len() != stages {
            return Err(invalid(
                "strides",
                &self.strides,
                format!("one stride per stage ({stages} stages in depths)"),
            ));
        }
        if self.depths.contains(&0) {
            return Err(invalid(
                "depths",
                &self.depths,
                "at least one block per stage",
            ));
        }
        if self.widths.contains(&0) || self.width_factor == 0 {
            return Err(invalid(
                "widths",
                &self.widths,
                "positive widths and width_factor",
            ));
        }
        if self.strides.iter().any(|s| *s == 0 || *s > 4) {
            return Err(invalid("strides", &self.strides, "strides in 1..=4"));
        }
        if self.kernel_size == 0 || self.kernel_size.is_multiple_of(2) {
            return Err(invalid(
                "kernel_size",
                self.kernel_size,
                "an odd kernel size",
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(invalid("dropout", self.dropout, "a probability in [0, 1)"));
        }
        if self.num_classes == 0 {
            return Err(invalid(
                "num_classes",
                self.num_classes,
                "at least one class",
            ));
        }
        let i = self.input;
        if i.channels == 0 || i.height == 0 || i.width == 0 {
            return Err(invalid("input", i, "positive channels, height and width"));
        }
        if self.block.expansion() != 1 && self.shortcut == Shortcut::A {
            return Err(invalid(
                "shortcut",
                self.shortcut,
                "B for bottleneck blocks (their first block always changes width)",
            ));
        }
        let (h, w) = self.feature_size();
        if h == 0 || w == 0 {
            return Err(invalid(
                "input",
                i,
                "an input large enough for the network's strides",
            ));
        }
        match self.stem {
            Stem::Conv { channels, kernel } if channels == 0 || kernel % 2 == 0 => Err(invalid(
                "stem",
                self.stem,
                "positive channels and an odd kernel",
            )),
            Stem::ImageNet { channels: 0 } => Err(invalid("stem", self.stem, "positive channels")),
            _ => Ok(()),
        }
    }

    /// Output channels of stage `s`.
    pub fn stage_out(&self, s: usize) -> usize {
        self.widths[s] * self.width_factor * self.block.expansion()
    }

    /// Channels entering the classifier.
    pub fn feature_dim(&self) -> usize {
        self.stage_out(self.depths.len() - 1)
    }

    /// Spatial size after the stem and every stage.
    pub fn feature_size(&self) -> (usize, usize) {
        let mut hw = (self.input.height, self.input.width);
        let down = |v: usize, s: usize| v.div_ceil(s);
        if let Stem::ImageNet { .. } = self.stem {
            hw = (down(down(hw.0, 2), 2), down(down(hw.1, 2), 2));
            if self.input.is_1d() {
                hw.0 = 1;
            }
        }
        for s in &self.strides {
            hw = (
                if self.input.is_1d() {
                    1
                } else {
                    down(hw.0, *s)
                },
                down(hw.1, *s),
            );
        }
        hw
    }

    /// Number of weight layers on the longest path (convs + the classifier), as the papers count depth.
    pub fn depth(&self) -> usize {
        1 + self.depths.iter().sum::<usize>() * self.block.convs() + 1
    }

    /// Parameter count and forward multiply-accumulates per example, computed from the config
    /// alone (the tests check it against the built module).
    pub fn cost(&self) -> Cost {
        let is1d = self.input.is_1d();
        let k2 = |k: usize| if is1d { k } else { k * k };
        let mut c = Cost::default();
        let mut conv = |cin: usize, cout: usize, k: usize, out_hw: (usize, usize)| {
            c.params += cin * cout * k2(k);
            c.macs += cin * cout * k2(k) * out_hw.0 * out_hw.1;
        };
        let mut bn_params = 0usize;
        let down = |v: usize, s: usize| v.div_ceil(s);
        let mut hw = (self.input.height, self.input.width);
        let stem_c = self.stem.channels();
        match self.stem {
            Stem::Conv { kernel, .. } => {
                conv(self.input.channels, stem_c, kernel, hw);
                if !self.block.is_preact() {
                    bn_params += 2 * stem_c;
                }
            }
            Stem::ImageNet { .. } => {
                hw = (if is1d { 1 } else { down(hw.0, 2) }, down(hw.1, 2));
                conv(self.input.channels, stem_c, 7, hw);
                bn_params += 2 * stem_c;
                hw = (if is1d { 1 } else { down(hw.0, 2) }, down(hw.1, 2));
            }
        }
        let mut cin = stem_c;
        for s in 0..self.depths.len() {
            let w = self.widths[s] * self.width_factor;
            let cout = self.stage_out(s);
            for b in 0..self.depths[s] {
                let stride = if b == 0 { self.strides[s] } else { 1 };
                let out = (
                    if is1d { 1 } else { down(hw.0, stride) },
                    down(hw.1, stride),
                );
                // (c_in, c_out, kernel, output size) of each conv, and the BN widths.
                type Convs = Vec<(usize, usize, usize, (usize, usize))>;
                let (convs, bn): (Convs, Vec<usize>) = match self.block {
                    BlockKind::Basic => (
                        vec![
                            (cin, w, self.kernel_size, out),
                            (w, w, self.kernel_size, out),
                        ],
                        vec![w, w],
                    ),
                    BlockKind::PreActBasic => (
                        vec![
                            (cin, w, self.kernel_size, out),
                            (w, w, self.kernel_size, out),
                        ],
                        vec![cin, w],
                    ),
                    BlockKind::Bottleneck => (
                        vec![
                            (cin, w, 1, hw),
                            (w, w, self.kernel_size, out),
                            (w, cout, 1, out),
                        ],
                        vec![w, w, cout],
                    ),
                    BlockKind::PreActBottleneck => (
                        vec![
                            (cin, w, 1, hw),
                            (w, w, self.kernel_size, out),
                            (w, cout, 1, out),
                        ],
                        vec![cin, w, w],
                    ),
                };
                for (a, bb, k, o) in convs {
                    conv(a, bb, k, o);
                }
                bn_params += 2 * bn.iter().sum::<usize>();
                if self.residual && self.shortcut == Shortcut::B && (stride != 1 || cin != cout) {
                    conv(cin, cout, 1, out);
                    if !self.block.is_preact() {
                        bn_params += 2 * cout;
                    }
                }
                cin = cout;
                hw = out;
            }
        }
        if self.block.is_preact() {
            bn_params += 2 * cin;
        }
        c.params += bn_params + cin * self.num_classes + self.num_classes;
        c.macs += cin * self.num_classes;
        c
    }
}

/// Size and forward compute of a model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    pub params: usize,
    /// Multiply-accumulates of one forward pass of one example (convs and linear layers).
    pub macs: usize,
}

impl Cost {
    /// Forward MFLOPs per example (2 FLOPs per multiply-accumulate).
    pub fn mflops(&self) -> f64 {
        2.0 * self.macs as f64 / 1e6
    }
}
