//! Optimisers and learning-rate schedules, selectable by data.
//!
//! burn's defaults differ from PyTorch's in ways that change results (Adam epsilon 1e-5,
//! RMSProp momentum 0.9, SGD dampening 0.1), so every value is set explicitly here with
//! PyTorch's defaults. Weight decay is L2 added to the gradient (AdamW: decoupled), optionally
//! not applied to BN parameters and biases; the L1 penalty is added to the loss by the trainer.

use crate::params::{ParamKind, inventory};
use burn::grad_clipping::GradientClippingConfig;
use burn::module::{Module, ParamGroup};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdaGradConfig, AdamConfig, AdamWConfig, ModuleOptimizer, RmsPropConfig, SgdConfig,
};
use serde::{Deserialize, Serialize};

/// Which optimiser, with its own hyper-parameters (learning rate and decay are shared fields
/// of the training config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Optimizer {
    Sgd {
        #[serde(default)]
        momentum: f64,
        #[serde(default)]
        nesterov: bool,
    },
    Adam {
        #[serde(default = "beta1")]
        beta1: f32,
        #[serde(default = "beta2")]
        beta2: f32,
        #[serde(default = "eps")]
        epsilon: f32,
    },
    AdamW {
        #[serde(default = "beta1")]
        beta1: f32,
        #[serde(default = "beta2")]
        beta2: f32,
        #[serde(default = "eps")]
        epsilon: f32,
    },
    AdaGrad {
        #[serde(default = "eps_adagrad")]
        epsilon: f32,
    },
    RmsProp {
        #[serde(default = "alpha")]
        alpha: f32,
        #[serde(default = "eps")]
        epsilon: f32,
        #[serde(default)]
        momentum: f32,
    },
}

fn beta1() -> f32 {
    0.9
}
fn beta2() -> f32 {
    0.999
}
fn eps() -> f32 {
    1e-8
}
fn eps_adagrad() -> f32 {
    1e-10
}
fn alpha() -> f32 {
    0.99
}

impl Default for Optimizer {
    fn default() -> Self {
        Self::Adam {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        }
    }
}

impl Optimizer {
    /// Build burn's optimiser for `model`: weight decay on every parameter, or (with
    /// `exempt_bn_bias`) on conv/linear weights only; gradients clipped by global norm if asked.
    pub fn build<M: Module>(
        &self,
        model: &M,
        weight_decay: f64,
        exempt_bn_bias: bool,
        clip_norm: Option<f32>,
    ) -> ModuleOptimizer {
        let clip = clip_norm.map(GradientClippingConfig::Norm);
        let main = self.init(weight_decay, clip.clone());
        if !exempt_bn_bias || weight_decay == 0.0 {
            return main;
        }
        let paths: Vec<String> = inventory(model)
            .into_iter()
            .filter(|(_, k, _)| *k == ParamKind::BiasOrNorm)
            .map(|(p, _, _)| p)
            .collect();
        self.with_undecayed_group(main, ParamGroup::from_paths(paths), clip)
    }

    fn decay(wd: f64) -> Option<WeightDecayConfig> {
        (wd > 0.0).then(|| WeightDecayConfig::new(wd as f32))
    }

    fn sgd(momentum: f64, nesterov: bool, wd: f64) -> SgdConfig {
        let m = (momentum > 0.0).then(|| {
            MomentumConfig::new()
                .with_momentum(momentum)
                .with_dampening(0.0)
                .with_nesterov(nesterov)
        });
        SgdConfig::new()
            .with_momentum(m)
            .with_weight_decay(Self::decay(wd))
    }

    fn adam(beta1: f32, beta2: f32, epsilon: f32, wd: f64) -> AdamConfig {
        AdamConfig::new()
            .with_beta_1(beta1)
            .with_beta_2(beta2)
            .with_epsilon(epsilon)
            .with_weight_decay(Self::decay(wd))
    }

    fn adamw(beta1: f32, beta2: f32, epsilon: f32, wd: f64) -> AdamWConfig {
        AdamWConfig::new()
            .with_beta_1(beta1)
            .with_beta_2(beta2)
            .with_epsilon(epsilon)
            .with_weight_decay(wd as f32)
    }

    fn adagrad(epsilon: f32, wd: f64) -> AdaGradConfig {
        AdaGradConfig::new()
            .with_lr_decay(0.0)
            .with_epsilon(epsilon)
            .with_weight_decay(Self::decay(wd))
    }

    fn rmsprop(alpha: f32, epsilon: f32, momentum: f32, wd: f64) -> RmsPropConfig {
        RmsPropConfig::new()
            .with_alpha(alpha)
            .with_epsilon(epsilon)
            .with_momentum(momentum)
            .with_centered(false)
            .with_weight_decay(Self::decay(wd))
    }

    fn init(&self, wd: f64, clip: Option<GradientClippingConfig>) -> ModuleOptimizer {
        match *self {
            Self::Sgd { momentum, nesterov } => Self::sgd(momentum, nesterov, wd)
                .with_gradient_clipping(clip)
                .init(),
            Self::Adam {
                beta1,
                beta2,
                epsilon,
            } => Self::adam(beta1, beta2, epsilon, wd)
                .with_grad_clipping(clip)
                .init(),
            Self::AdamW {
                beta1,
                beta2,
                epsilon,
            } => Self::adamw(beta1, beta2, epsilon, wd)
                .with_grad_clipping(clip)
                .init(),
            Self::AdaGrad { epsilon } => Self::adagrad(epsilon, wd).with_grad_clipping(clip).init(),
            Self::RmsProp {
                alpha,
                epsilon,
                momentum,
            } => Self::rmsprop(alpha, epsilon, momentum, wd)
                .with_grad_clipping(clip)
                .init(),
        }
    }

    /// Add a parameter group optimised without weight decay.
    fn with_undecayed_group(
        &self,
        main: ModuleOptimizer,
        group: ParamGroup,
        clip: Option<GradientClippingConfig>,
    ) -> ModuleOptimizer {
        let clip = clip.map(|c| c.init());
        match *self {
            Self::Sgd { momentum, nesterov } => {
                main.with_group(group, Self::sgd(momentum, nesterov, 0.0).build(), clip)
            }
            Self::Adam {
                beta1,
                beta2,
                epsilon,
            } => main.with_group(group, Self::adam(beta1, beta2, epsilon, 0.0).build(), clip),
            Self::AdamW {
                beta1,
                beta2,
                epsilon,
            } => main.with_group(group, Self::adamw(beta1, beta2, epsilon, 0.0).build(), clip),
            Self::AdaGrad { epsilon } => {
                main.with_group(group, Self::adagrad(epsilon, 0.0).build(), clip)
            }
            Self::RmsProp {
                alpha,
                epsilon,
                momentum,
            } => main.with_group(
                group,
                Self::rmsprop(alpha, epsilon, momentum, 0.0).build(),
                clip,
            ),
        }
    }
}

/// Learning rate as a function of (fractional) epoch; `Plateau` also reacts to validation loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Schedule {
    Constant,
    /// Multiply by `gamma` every `every` epochs.
    Step {
        every: usize,
        gamma: f64,
    },
    /// Multiply by `gamma` at each listed epoch.
    MultiStep {
        milestones: Vec<usize>,
        gamma: f64,
    },
    /// Linear warm-up over `warmup_epochs`, then cosine decay to `min_lr` at the last epoch.
    Cosine {
        #[serde(default)]
        warmup_epochs: f64,
        #[serde(default)]
        min_lr: f64,
    },
    /// Multiply by `gamma` every epoch.
    Exponential {
        gamma: f64,
    },
    /// Multiply by `factor` when validation loss has not improved for `patience` epochs.
    Plateau {
        factor: f64,
        patience: usize,
        #[serde(default)]
        min_lr: f64,
    },
}

impl Default for Schedule {
    fn default() -> Self {
        Self::Cosine {
            warmup_epochs: 1.0,
            min_lr: 0.0,
        }
    }
}

/// State a schedule carries across epochs (only `Plateau` has any); saved for `--resume`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    pub scale: f64,
    pub best: Option<f64>,
    pub bad_epochs: usize,
}

impl Schedule {
    pub fn initial_state(&self) -> ScheduleState {
        ScheduleState {
            scale: 1.0,
            best: None,
            bad_epochs: 0,
        }
    }

    /// Learning rate at fractional epoch `t` (epoch `e`, batch `b` of `n`: `t = e + b / n`).
    pub fn lr(&self, base: f64, t: f64, epochs: usize, state: &ScheduleState) -> f64 {
        let e = t.floor() as usize;
        match self {
            Self::Constant => base,
            Self::Step { every, gamma } => base * gamma.powi((e / (*every).max(1)) as i32),
            Self::MultiStep { milestones, gamma } => {
                base * gamma.powi(milestones.iter().filter(|m| e >= **m).count() as i32)
            }
            Self::Exponential { gamma } => base * gamma.powi(e as i32),
            Self::Cosine {
                warmup_epochs,
                min_lr,
            } => {
                if t < *warmup_epochs {
                    base * (t / warmup_epochs).max(1e-3)
                } else {
                    let span = (epochs as f64 - warmup_epochs).max(1e-9);
                    let p = ((t - warmup_epochs) / span).clamp(0.0, 1.0);
                    min_lr + (base - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos())
                }
            }
            Self::Plateau { min_lr, .. } => (base * state.scale).max(*min_lr),
        }
    }

    /// Update after an epoch with its validation loss.
    pub fn end_epoch(&self, val_loss: f64, state: &mut ScheduleState) {
        if let Self::Plateau {
            factor, patience, ..
        } = self
        {
            if state.best.is_none_or(|b| val_loss < b) {
                state.best = Some(val_loss);
                state.bad_epochs = 0;
            } else {
                state.bad_epochs += 1;
                if state.bad_epochs > *patience {
                    state.scale *= factor;
                    state.bad_epochs = 0;
                }
            }
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Step { every: 0, .. } => Err("schedule step: every must be >= 1 epoch".into()),
            Self::Step { gamma, .. }
            | Self::MultiStep { gamma, .. }
            | Self::Exponential { gamma }
                if !(*gamma > 0.0 && *gamma <= 1.0) =>
            {
                Err(format!(
                    "schedule gamma {gamma}: expected a factor in (0, 1]"
                ))
            }
            Self::Plateau { factor, .. } if !(*factor > 0.0 && *factor < 1.0) => {
                Err(format!("schedule plateau factor {factor}: expected (0, 1)"))
            }
            Self::Cosine { warmup_epochs, .. } if *warmup_epochs < 0.0 => {
                Err("schedule cosine: warmup_epochs must be >= 0".into())
            }
            _ => Ok(()),
        }
    }
}
