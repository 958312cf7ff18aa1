//! specmine's model zoo on burn 0.22: ResNet v1, pre-activation ResNet, Wide ResNet, their
//! plain twins and O'Shea's 2018 residual-stack network, all described by data
//! ([`ModelConfig`]) and named in one [`registry`].

pub mod batch;
pub mod config;
pub mod eval;
mod flex;
pub mod flexconv;
pub mod flexnorm;
pub mod grow;
pub mod layers;
pub mod model;
pub mod optim;
pub mod oshea;
pub mod params;
pub mod registry;
pub mod resnet;
pub mod study;
pub mod train;

pub use config::{ConfigError, ResNetConfig};
pub use model::{Model, ModelConfig};
pub use registry::{preset, registry};
