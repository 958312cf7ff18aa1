//! [`ModelConfig`] and [`Model`]: every architecture of the zoo behind one type.

use crate::config::{ConfigError, Cost, InputShape, ResNetConfig};
use crate::oshea::{OSheaConfig, OSheaNet};
use crate::resnet::ResNet;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The full, serialisable description of a model (saved next to every checkpoint).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family")]
pub enum ModelConfig {
    #[serde(rename = "resnet")]
    ResNet(ResNetConfig),
    #[serde(rename = "oshea")]
    OShea(OSheaConfig),
}

impl ModelConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::ResNet(c) => c.validate(),
            Self::OShea(c) => c.validate(),
        }
    }

    pub fn init(&self, device: &Device) -> Result<Model, ConfigError> {
        Ok(match self {
            Self::ResNet(c) => Model::ResNet(c.init(device)?),
            Self::OShea(c) => Model::OShea(c.init(device)?),
        })
    }

    pub fn cost(&self) -> Cost {
        match self {
            Self::ResNet(c) => c.cost(),
            Self::OShea(c) => c.cost(),
        }
    }

    /// Per-example input shape `[channels, height, width]`.
    pub fn input(&self) -> InputShape {
        match self {
            Self::ResNet(c) => c.input,
            Self::OShea(c) => InputShape::iq(c.input_len),
        }
    }

    pub fn num_classes(&self) -> usize {
        match self {
            Self::ResNet(c) => c.num_classes,
            Self::OShea(c) => c.num_classes,
        }
    }

    /// Read a config from JSON or TOML (by extension), validated.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let err = |message: String| ConfigError::File {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let cfg: Self = if path.extension().is_some_and(|e| e == "toml") {
            toml::from_str(&text).map_err(|e| err(e.to_string()))?
        } else {
            serde_json::from_str(&text).map_err(|e| err(e.to_string()))?
        };
        cfg.validate().map_err(|e| err(e.to_string()))?;
        Ok(cfg)
    }
}

/// Any model of the zoo.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)] // one model per process: its size is irrelevant
pub enum Model {
    ResNet(ResNet),
    OShea(OSheaNet),
}

impl Model {
    /// # Shapes
    /// - x: `[batch, channels, height, width]` (I/Q: `[batch, 2, 1, L]`)
    /// - output: `[batch, feature_dim]`
    pub fn forward_features(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Self::ResNet(m) => m.forward_features(x),
            Self::OShea(m) => m.forward_features(x),
        }
    }

    /// # Shapes
    /// - features: `[batch, feature_dim]`
    /// - output: `[batch, num_classes]`
    pub fn forward_head(&self, features: Tensor<2>) -> Tensor<2> {
        match self {
            Self::ResNet(m) => m.forward_head(features),
            Self::OShea(m) => m.forward_head(features),
        }
    }

    /// # Shapes
    /// - x: `[batch, channels, height, width]`
    /// - output: `[batch, num_classes]` (logits)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_head(self.forward_features(x))
    }

    /// `[channels, height, width]` of a network that takes images (the spectrogram task of
    /// `specmine study degradation`), `None` for one that takes I/Q vectors. What
    /// [`crate::batch::make_batch`] needs to lay a batch out for this model.
    pub fn image_shape(&self) -> Option<[usize; 3]> {
        match self {
            Self::ResNet(m) => (m.input_shape[1] > 1).then_some(m.input_shape),
            Self::OShea(_) => None,
        }
    }

    /// I/Q convenience: `[batch, 2, L]` in, logits out.
    ///
    /// # Shapes
    /// - x: `[batch, 2, L]`
    /// - output: `[batch, num_classes]`
    pub fn forward_iq(&self, x: Tensor<3>) -> Tensor<2> {
        self.forward(x.unsqueeze_dim(2))
    }
}
