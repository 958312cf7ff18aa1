//! `specmine train`.

use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;
use specmine_dsp::generator::{Examples, GeneratorConfig};
use specmine_nn::ModelConfig;
use specmine_nn::batch::{snr_filter, stratified_split};
use specmine_nn::optim::Optimizer;
use specmine_nn::train::{EpochMetrics, Observer, TrainConfig, TrainData, train};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Model preset (see `specmine models`).
    #[arg(long, default_value = "rf_resnet")]
    pub model: String,
    /// Model config file (JSON or TOML) instead of a preset.
    #[arg(long)]
    pub model_config: Option<PathBuf>,
    /// Training config (TOML); flags below override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Train on this file (RadioML 2016 pickle or HDF5) instead of the generator.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Generator preset when training on generated data.
    #[arg(long, default_value = "rml2016")]
    pub preset: String,
    /// Generated examples per (class, SNR).
    #[arg(long, default_value_t = 200)]
    pub per_class_snr: usize,
    /// Draw fresh generated training examples every epoch (validation stays fixed).
    #[arg(long)]
    pub fresh: bool,
    /// SNR convention of generated data: power or radioml (RadioML's labels).
    #[arg(long, value_enum, default_value = "power")]
    pub snr_convention: crate::generate::Convention,
    /// Keep only examples with SNR >= this (dB).
    #[arg(long, allow_hyphen_values = true)]
    pub snr_min: Option<f32>,
    /// Keep only examples with SNR <= this (dB).
    #[arg(long, allow_hyphen_values = true)]
    pub snr_max: Option<f32>,
    #[arg(long, default_value_t = 0.1)]
    pub valid_frac: f64,
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub lr: Option<f64>,
    /// sgd, nesterov, adam, adamw, adagrad, rmsprop (defaults of each; details in the TOML).
    #[arg(long)]
    pub optimizer: Option<String>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run folder.
    #[arg(short, long, default_value = "runs/latest")]
    pub out: PathBuf,
    /// Continue the run in --out where it stopped (its saved configs are used).
    #[arg(long)]
    pub resume: bool,
    /// Backend: flex (pure-Rust CPU, default); cuda and wgpu need the cargo features of those names.
    #[arg(long, default_value = "flex")]
    pub device: String,
}

pub fn device(name: &str) -> Result<burn::prelude::Device> {
    match name {
        "flex" | "cpu" => Ok(burn::prelude::Device::flex()),
        #[cfg(feature = "cuda")]
        "cuda" => Ok(burn::prelude::Device::cuda(0)),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(burn::prelude::Device::wgpu(Default::default())),
        "cuda" | "wgpu" => bail!(
            "this specmine was built without the {name} backend: rebuild with `--features {name}`"
        ),
        _ => bail!("unknown device {name:?}: expected flex, cuda or wgpu"),
    }
}

fn optimizer(name: &str) -> Result<Optimizer> {
    Ok(match name {
        "sgd" => Optimizer::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        "nesterov" => Optimizer::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        "adam" => Optimizer::default(),
        "adamw" => Optimizer::AdamW {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        },
        "adagrad" => Optimizer::AdaGrad { epsilon: 1e-10 },
        "rmsprop" => Optimizer::RmsProp {
            alpha: 0.99,
            epsilon: 1e-8,
            momentum: 0.0,
        },
        _ => bail!(
            "unknown optimizer {name:?}: expected sgd, nesterov, adam, adamw, adagrad or rmsprop"
        ),
    })
}

struct Progress {
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Observer for Progress {
    fn batch(&mut self, epoch: usize, b: usize, n: usize, loss: f64, acc: f64, lr: f64) {
        if let Some(bar) = &self.bar {
            if b == 0 {
                bar.reset();
                bar.set_length(n as u64);
            }
            bar.set_position(b as u64 + 1);
            bar.set_message(format!(
                "epoch {}/{} loss {loss:.4} acc {:.3} lr {lr:.2e}",
                epoch + 1,
                self.epochs,
                acc
            ));
        }
    }

    fn epoch(&mut self, m: &EpochMetrics) {
        let line = format!(
            "epoch {:>3}/{} lr {:.2e} train loss {:.4} acc {:.4} | valid loss {:.4} acc {:.4} | {:.1} s, {:.0} ex/s",
            m.epoch,
            self.epochs,
            m.lr,
            m.train_loss,
            m.train_acc,
            m.val_loss,
            m.val_acc,
            m.seconds,
            m.train_examples_per_s
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

fn generator(a: &Args) -> Result<GeneratorConfig> {
    let mut g = GeneratorConfig::preset(&a.preset)?;
    g.snr_convention = match a.snr_convention {
        crate::generate::Convention::Power => specmine_dsp::channel::SnrConvention::PowerRatio,
        crate::generate::Convention::Radioml => specmine_dsp::channel::SnrConvention::RadioMl,
    };
    if let (Some(lo), Some(hi)) = (a.snr_min, a.snr_max)
        && lo > hi
    {
        bail!("SNR range reversed: --snr-min {lo} is above --snr-max {hi}");
    }
    g.snrs_db
        .retain(|s| a.snr_min.is_none_or(|lo| *s >= lo) && a.snr_max.is_none_or(|hi| *s <= hi));
    if g.snrs_db.is_empty() {
        bail!(
            "no SNR of the {} preset lies in the requested range",
            a.preset
        );
    }
    Ok(g)
}

pub fn run(a: Args) -> Result<()> {
    let dev = device(&a.device)?;
    let (model_cfg, mut cfg) = if a.resume {
        let m = specmine_nn::train::run_model_config(&a.out)?;
        let t: TrainConfig = serde_json::from_str(
            &std::fs::read_to_string(a.out.join("train.json"))
                .with_context(|| format!("{}: no run to resume", a.out.display()))?,
        )?;
        (m, t)
    } else {
        let m = match &a.model_config {
            Some(p) => ModelConfig::from_file(p)?,
            None => specmine_nn::preset(&a.model)?,
        };
        let t: TrainConfig = match &a.config {
            Some(p) => toml::from_str(
                &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            )
            .with_context(|| format!("training config {}", p.display()))?,
            None => TrainConfig::default(),
        };
        (m, t)
    };
    if !a.resume {
        if let Some(e) = a.epochs {
            cfg.epochs = e;
        }
        if let Some(b) = a.batch_size {
            cfg.batch_size = b;
        }
        if let Some(lr) = a.lr {
            cfg.lr = lr;
        }
        if let Some(s) = a.seed {
            cfg.seed = s;
        }
        if let Some(o) = &a.optimizer {
            cfg.optimizer = optimizer(o)?;
        }
    }
    cfg.validate()?;
    if !a.resume && a.out.join("state.json").exists() {
        // Fail before loading data; train() checks this too.
        bail!(
            "run folder {}: holds a run already; pass --resume to continue it or choose another folder",
            a.out.display()
        );
    }
    let gen_cfg = generator(&a)?;
    let (all, info): (Examples, serde_json::Value) = match &a.data {
        Some(p) => {
            let ex = specmine_data::dataset::load(p)?;
            let info = serde_json::json!({"source": "file", "path": p, "class_names": ex.class_names, "vector_len": ex.vector_len});
            (ex, info)
        }
        None => {
            eprintln!(
                "generating {} examples ({} preset)...",
                gen_cfg.count(a.per_class_snr),
                gen_cfg.preset
            );
            let ex = crate::generate::generate_with_progress(&gen_cfg, a.per_class_snr, cfg.seed)?;
            let info = serde_json::json!({"source": "generator", "generator": gen_cfg, "per_class_snr": a.per_class_snr, "fresh": a.fresh, "class_names": ex.class_names, "vector_len": ex.vector_len});
            (ex, info)
        }
    };
    let input = model_cfg.input();
    if input.width != all.vector_len || !input.is_1d() {
        bail!(
            "model {} takes {}-sample I/Q vectors; the data has {}",
            a.model,
            input.width,
            all.vector_len
        );
    }
    if model_cfg.num_classes() != all.class_names.len() {
        bail!(
            "model has {} classes, the data {}",
            model_cfg.num_classes(),
            all.class_names.len()
        );
    }
    let split = stratified_split(&all, a.valid_frac, 0.0, cfg.seed);
    let lo = a.snr_min.unwrap_or(f32::NEG_INFINITY);
    let hi = a.snr_max.unwrap_or(f32::INFINITY);
    let fresh_fn = |epoch: usize| {
        gen_cfg
            .generate(a.per_class_snr, cfg.seed.wrapping_add(1 + epoch as u64))
            .expect("validated generator")
    };
    let data = TrainData {
        train: &all,
        train_idx: snr_filter(&all, &split.train, lo, hi),
        valid: &all,
        valid_idx: snr_filter(&all, &split.valid, lo, hi),
        fresh: (a.fresh && a.data.is_none())
            .then_some(&fresh_fn as &(dyn Fn(usize) -> Examples + Sync)),
        info,
    };
    if data.train_idx.is_empty() || data.valid_idx.is_empty() {
        bail!("no training or validation examples left after the SNR filter");
    }
    eprintln!(
        "training {} ({} parameters) on {} examples, validating on {}, {} epochs, run folder {}",
        a.model,
        model_cfg.cost().params,
        data.train_idx.len(),
        data.valid_idx.len(),
        cfg.epochs,
        a.out.display()
    );
    let bar = std::io::stderr()
        .is_terminal()
        .then(|| crate::progress_bar(0, "training"));
    let mut obs = Progress {
        bar,
        epochs: cfg.epochs,
    };
    let st = train(&a.out, &model_cfg, &cfg, &data, &dev, a.resume, &mut obs)?;
    if let Some(b) = &obs.bar {
        b.finish_and_clear();
    }
    crate::plots::training_curves(&a.out.join("curves.png"), &st.history)?;
    eprintln!(
        "done: {} epochs, best validation loss {:.4} at epoch {}; weights in {}",
        st.epochs_done,
        st.best_val_loss.unwrap_or(f64::NAN),
        st.best_epoch.unwrap_or(0),
        a.out.join("best.bpk").display()
    );
    Ok(())
}
