//! The degradation study (He et al. 2015, §4.1; the write-up this project implements): train
//! shallow and deep networks, plain and residual, the deep ones from scratch or grown from the
//! trained shallow net ([`crate::grow`]), with the same data, optimiser, schedule and seeds,
//! and compare their *training* error. A deep plain net that trains worse than the shallow
//! one is the degradation problem; residual learning removes it.

use crate::config::ResNetConfig;
use crate::grow::init_from_shallow;
use crate::model::ModelConfig;
use crate::train::{
    EpochMetrics, Observer, TrainConfig, TrainData, TrainError, load_model, save_model, train,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How a deep arm starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    Scratch,
    /// Grown from the trained shallow net of the same family and seed.
    FromShallow,
}

/// One trained arm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmResult {
    pub name: String,
    pub residual: bool,
    pub blocks_per_stage: usize,
    /// Weight layers on the longest path (convs + classifier).
    pub layers: usize,
    pub start: Start,
    pub seed: u64,
    pub history: Vec<EpochMetrics>,
}

impl ArmResult {
    pub fn final_train_error(&self) -> f64 {
        1.0 - self.history.last().map_or(0.0, |m| m.train_acc)
    }
    pub fn final_val_error(&self) -> f64 {
        1.0 - self.history.last().map_or(0.0, |m| m.val_acc)
    }
}

/// Run the grid {plain, residual} x {shallow, each deep depth} x {scratch, from-shallow} x seeds
/// under `out/arms/`. `base` fixes everything but `depths` and `residual`.
#[allow(clippy::too_many_arguments)]
pub fn run(
    out: &Path,
    base: &ResNetConfig,
    shallow_blocks: usize,
    deep_blocks: &[usize],
    from_shallow: bool,
    seeds: &[u64],
    cfg: &TrainConfig,
    data: &TrainData,
    device: &Device,
    observer: &mut dyn FnMut(&str) -> Box<dyn Observer>,
) -> Result<Vec<ArmResult>, TrainError> {
    let mut results = Vec::new();
    for &seed in seeds {
        let cfg = TrainConfig {
            seed,
            ..cfg.clone()
        };
        for residual in [false, true] {
            let family = if residual { "residual" } else { "plain" };
            let arch = |n: usize| ResNetConfig {
                depths: vec![n; base.depths.len()],
                residual,
                ..base.clone()
            };
            let shallow_cfg = arch(shallow_blocks);
            let shallow_name = format!("{family}-{}", shallow_cfg.depth());
            let shallow_dir = out.join("arms").join(format!("{shallow_name}-seed{seed}"));
            let st = train(
                &shallow_dir,
                &ModelConfig::ResNet(shallow_cfg.clone()),
                &cfg,
                data,
                device,
                false,
                observer(&shallow_name).as_mut(),
            )?;
            results.push(ArmResult {
                name: shallow_name,
                residual,
                blocks_per_stage: shallow_blocks,
                layers: shallow_cfg.depth(),
                start: Start::Scratch,
                seed,
                history: st.history,
            });
            for &n in deep_blocks {
                let deep_cfg = arch(n);
                let starts: &[Start] = if from_shallow {
                    &[Start::Scratch, Start::FromShallow]
                } else {
                    &[Start::Scratch]
                };
                for &start in starts {
                    let name = format!(
                        "{family}-{}{}",
                        deep_cfg.depth(),
                        if start == Start::FromShallow {
                            "-grown"
                        } else {
                            ""
                        }
                    );
                    let dir = out.join("arms").join(format!("{name}-seed{seed}"));
                    if start == Start::FromShallow {
                        let shallow = load_model(
                            &ModelConfig::ResNet(shallow_cfg.clone()),
                            &shallow_dir.join("last.bpk"),
                            device,
                        )?;
                        device.seed(seed);
                        let deep = ModelConfig::ResNet(deep_cfg.clone()).init(device)?;
                        let (grown, _) =
                            init_from_shallow(&shallow, &shallow_cfg, deep, &deep_cfg)?;
                        std::fs::create_dir_all(&dir).map_err(|e| TrainError::Run {
                            path: dir.clone(),
                            message: e.to_string(),
                        })?;
                        save_model(&grown, &dir.join("init.bpk"))?;
                    }
                    let st = train(
                        &dir,
                        &ModelConfig::ResNet(deep_cfg.clone()),
                        &cfg,
                        data,
                        device,
                        false,
                        observer(&name).as_mut(),
                    )?;
                    results.push(ArmResult {
                        name,
                        residual,
                        blocks_per_stage: n,
                        layers: deep_cfg.depth(),
                        start,
                        seed,
                        history: st.history,
                    });
                }
            }
        }
    }
    Ok(results)
}

/// Mean and standard deviation over seeds of each arm's final errors:
/// `(name, layers, train_mean, train_std, val_mean, val_std, seeds)`.
pub fn summarize(results: &[ArmResult]) -> Vec<(String, usize, f64, f64, f64, f64, usize)> {
    let mut names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    names.dedup();
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    let ms = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64;
        (m, if v.len() > 1 { var.sqrt() } else { 0.0 })
    };
    names
        .into_iter()
        .map(|n| {
            let arms: Vec<&ArmResult> = results.iter().filter(|r| r.name == n).collect();
            let (tm, ts) = ms(&arms
                .iter()
                .map(|r| r.final_train_error())
                .collect::<Vec<_>>());
            let (vm, vs) = ms(&arms.iter().map(|r| r.final_val_error()).collect::<Vec<_>>());
            (n.to_string(), arms[0].layers, tm, ts, vm, vs, arms.len())
        })
        .collect()
}
