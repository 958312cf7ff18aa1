//! The residual-stack network of O'Shea, Roy & Clancy, "Over-the-Air Deep Learning Based Radio
//! Signal Classification" (IEEE JSTSP 2018), for 1024-sample RadioML 2018 input.
//!
//! Six residual stacks, each a 1x1 conv (linear), two residual units (conv-ReLU-conv, add, ReLU)
//! and a max-pool of 2; then two SELU dense layers and the classifier. The paper gives no exact
//! kernel size; `kernel_size` defaults to 3.

use crate::config::{ConfigError, Init, invalid};
use crate::layers::{Conv, rms_normalize, selu};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OSheaConfig {
    pub input_len: usize,
    pub num_classes: usize,
    pub stacks: usize,
    pub filters: usize,
    pub kernel_size: usize,
    pub dense: Vec<usize>,
    /// Dropout after each dense layer (the paper used alpha dropout; plain dropout here).
    pub dropout: f64,
    pub init: Init,
}

impl Default for OSheaConfig {
    fn default() -> Self {
        Self {
            input_len: 1024,
            num_classes: 24,
            stacks: 6,
            filters: 32,
            kernel_size: 3,
            dense: vec![128, 128],
            dropout: 0.0,
            init: Init::HeNormal { fan_out: false },
        }
    }
}

impl OSheaConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.stacks == 0 || self.input_len >> self.stacks == 0 {
            return Err(invalid(
                "stacks",
                self.stacks,
                format!(
                    "1..={} for {}-sample input (each stack halves it)",
                    self.input_len.ilog2(),
                    self.input_len
                ),
            ));
        }
        if self.kernel_size.is_multiple_of(2) {
            return Err(invalid(
                "kernel_size",
                self.kernel_size,
                "an odd kernel size",
            ));
        }
        if self.filters == 0 || self.num_classes == 0 || self.dense.contains(&0) {
            return Err(invalid(
                "filters",
                self.filters,
                "positive filters, classes and dense widths",
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(invalid("dropout", self.dropout, "a probability in [0, 1)"));
        }
        Ok(())
    }

    /// Flattened features after the last stack.
    pub fn flat_dim(&self) -> usize {
        (self.input_len >> self.stacks) * self.filters
    }

    pub fn cost(&self) -> crate::config::Cost {
        let f = self.filters;
        let mut params = 0;
        let mut macs = 0;
        let mut len = self.input_len;
        let mut cin = 2;
        for _ in 0..self.stacks {
            params += cin * f + f + 4 * (self.kernel_size * f * f + f);
            macs += len * (cin * f + 4 * self.kernel_size * f * f);
            cin = f;
            len /= 2;
        }
        let mut d = self.flat_dim();
        for &h in self.dense.iter().chain(std::iter::once(&self.num_classes)) {
            params += d * h + h;
            macs += d * h;
            d = h;
        }
        crate::config::Cost { params, macs }
    }

    pub fn init(&self, device: &Device) -> Result<OSheaNet, ConfigError> {
        self.validate()?;
        let f = self.filters;
        let k = [1, self.kernel_size];
        let conv = |i, o, kern| Conv::new(i, o, kern, [1, 1], true, self.init, device);
        let stacks = (0..self.stacks)
            .map(|s| ResStack {
                entry: conv(if s == 0 { 2 } else { f }, f, [1, 1]),
                units: (0..2)
                    .map(|_| ResUnit {
                        conv1: conv(f, f, k),
                        conv2: conv(f, f, k),
                    })
                    .collect(),
            })
            .collect();
        let mut dims = vec![self.flat_dim()];
        dims.extend(&self.dense);
        Ok(OSheaNet {
            stacks,
            dense: dims
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
            dropout: (self.dropout > 0.0).then(|| DropoutConfig::new(self.dropout).init()),
            head: LinearConfig::new(*dims.last().expect("non-empty"), self.num_classes)
                .init(device),
        })
    }
}

#[derive(Module, Debug)]
pub struct ResUnit {
    pub conv1: Conv,
    pub conv2: Conv,
}

#[derive(Module, Debug)]
pub struct ResStack {
    pub entry: Conv,
    pub units: Vec<ResUnit>,
}

#[derive(Module, Debug)]
pub struct OSheaNet {
    pub stacks: Vec<ResStack>,
    pub dense: Vec<Linear>,
    pub dropout: Option<Dropout>,
    pub head: Linear,
}

impl OSheaNet {
    /// Output of the last dense layer (the embedding).
    ///
    /// # Shapes
    /// - x: `[batch, 2, 1, L]`
    /// - output: `[batch, dense.last()]`
    pub fn forward_features(&self, x: Tensor<4>) -> Tensor<2> {
        // Inputs at any scale (see ResNetConfig::input_norm).
        let mut h = rms_normalize(x);
        for s in &self.stacks {
            h = s.entry.forward(h);
            for u in &s.units {
                let r = u.conv2.forward(relu(u.conv1.forward(h.clone())));
                h = relu(r + h);
            }
            h = max_pool2d(h, MaxPoolOptions::new([1, 2]).with_stride([1, 2]));
        }
        let [b, c, hh, w] = h.dims();
        let mut z = h.reshape([b, c * hh * w]);
        for d in &self.dense {
            z = selu(d.forward(z));
            if let Some(dr) = &self.dropout {
                z = dr.forward(z);
            }
        }
        z
    }

    /// # Shapes
    /// - features: `[batch, dense.last()]`
    /// - output: `[batch, num_classes]`
    pub fn forward_head(&self, features: Tensor<2>) -> Tensor<2> {
        self.head.forward(features)
    }
}
