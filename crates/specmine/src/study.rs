//! `specmine study degradation`: the experiment residual networks exist for.

use anyhow::{Result, bail};
use clap::Subcommand;
use rayon::prelude::*;
use specmine_dsp::generator::GeneratorConfig;
use specmine_nn::batch::{snr_filter, stratified_split};
use specmine_nn::optim::{Optimizer, Schedule};
use specmine_nn::study::{self, ArmResult};
use specmine_nn::train::{EpochMetrics, Observer, TrainConfig, TrainData};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Subcommand)]
pub enum What {
    /// Train {plain, residual} x {shallow, deep} nets (deep from scratch and grown from the
    /// shallow one) on the same data and compare training error.
    Degradation(DegradationArgs),
}

#[derive(clap::Args)]
pub struct DegradationArgs {
    /// Basic blocks per stage of the shallow net (3 stages: depth 6n + 2).
    #[arg(long, default_value_t = 1)]
    pub shallow: usize,
    /// Blocks per stage of the deep net(s), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "5")]
    pub deep: Vec<usize>,
    /// Channels of the three stages (the stem uses the first).
    #[arg(long, value_delimiter = ',', default_value = "16,32,64")]
    pub widths: Vec<usize>,
    /// Also train deep nets grown from the trained shallow ones.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub from_shallow: bool,
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub seeds: Vec<u64>,
    #[arg(long, default_value_t = 6)]
    pub epochs: usize,
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    /// The task: `iq` (1D networks on the I/Q vectors) or `spectrogram` (the image-shaped
    /// view: each vector's log-power spectrogram, `n_fft x 2L/n_fft` pixels, through 2D
    /// networks with 3x3 kernels, as the CIFAR experiments of He 2015).
    #[arg(long, default_value = "iq", value_parser = ["iq", "spectrogram"])]
    pub task: String,
    /// FFT length of the spectrogram task (a power of two dividing 2L).
    #[arg(long, default_value_t = 16)]
    pub n_fft: usize,
    /// Run on this labelled data file (RadioML pickle or HDF5, NumPy, SigMF; see `inspect`)
    /// instead of the rml2016 generator; 20% of it (stratified by class and SNR) validates.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Generated examples per (class, SNR) of the rml2016 preset.
    #[arg(long, default_value_t = 100)]
    pub per_class_snr: usize,
    /// Lowest SNR in the data (dB): low-SNR examples cannot be learnt by any depth.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub snr_min: f32,
    #[arg(short, long, default_value = "study/degradation")]
    pub out: PathBuf,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

struct Line(String, usize);
impl Observer for Line {
    fn epoch(&mut self, m: &EpochMetrics) {
        eprintln!(
            "{:<22} epoch {:>3}/{} train error {:.4} | valid error {:.4} | {:.0} ex/s",
            self.0,
            m.epoch,
            self.1,
            1.0 - m.train_acc,
            1.0 - m.val_acc,
            m.train_examples_per_s
        );
    }
}

pub fn run(a: Args) -> Result<()> {
    let What::Degradation(a) = a.what;
    if a.widths.len() != 3 || a.deep.iter().any(|d| *d <= a.shallow) {
        bail!(
            "need three --widths and every --deep above --shallow ({})",
            a.shallow
        );
    }
    if a.out.join("summary.json").exists() {
        bail!(
            "{} holds a finished study; choose another --out",
            a.out.display()
        );
    }
    let dev = crate::train::device(&a.device)?;
    let (ex, info) = match &a.data {
        Some(p) => {
            let ex = specmine_data::dataset::load(p)?;
            let info = serde_json::json!({"source": "file", "path": p, "snr_min": a.snr_min, "class_names": ex.class_names, "vector_len": ex.vector_len});
            (ex, info)
        }
        None => {
            let mut gen_cfg = GeneratorConfig::rml2016();
            gen_cfg.snrs_db.retain(|s| *s >= a.snr_min);
            if gen_cfg.snrs_db.is_empty() {
                bail!(
                    "--snr-min {} leaves no SNR of the rml2016 preset",
                    a.snr_min
                );
            }
            let ex = gen_cfg.generate(a.per_class_snr, 12345)?;
            let info = serde_json::json!({"source": "generator", "generator": gen_cfg, "per_class_snr": a.per_class_snr, "class_names": ex.class_names});
            (ex, info)
        }
    };
    let image = a.task == "spectrogram";
    let ex = if image {
        if !(a.n_fft.is_power_of_two() && a.n_fft >= 4 && (2 * ex.vector_len) % a.n_fft == 0) {
            bail!(
                "--n-fft {}: expected a power of two >= 4 dividing 2 x the vector length ({})",
                a.n_fft,
                ex.vector_len
            );
        }
        // Same examples, labels and SNRs; each vector's 2L values become its image.
        let iq = ex
            .iq
            .par_chunks(2 * ex.vector_len)
            .flat_map_iter(|v| specmine_dsp::util::spectrogram_image(v, a.n_fft))
            .collect();
        specmine_dsp::generator::Examples { iq, ..ex }
    } else {
        ex
    };
    let split = stratified_split(&ex, 0.2, 0.0, 0);
    let data = TrainData {
        train: &ex,
        train_idx: snr_filter(&ex, &split.train, a.snr_min, f32::MAX),
        valid: &ex,
        valid_idx: snr_filter(&ex, &split.valid, a.snr_min, f32::MAX),
        fresh: None,
        info,
    };
    if data.train_idx.is_empty() || data.valid_idx.is_empty() {
        bail!(
            "no examples at SNR >= {} dB to train and validate on",
            a.snr_min
        );
    }
    // He 2015's recipe, scaled down: SGD momentum 0.9, weight decay 1e-4, LR / 10 at 50% and 75%.
    let cfg = TrainConfig {
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        optimizer: Optimizer::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        schedule: Schedule::MultiStep {
            milestones: vec![a.epochs / 2, a.epochs * 3 / 4],
            gamma: 0.1,
        },
        weight_decay: 1e-4,
        decay_exempt_bn_bias: false,
        ..TrainConfig::default()
    };
    let mut base =
        specmine_nn::registry::rf_resnet(ex.vector_len, ex.class_names.len(), a.shallow, true);
    if image {
        base.input = specmine_nn::config::InputShape {
            channels: 1,
            height: a.n_fft,
            width: 2 * ex.vector_len / a.n_fft,
        };
    }
    base.widths = a.widths.clone();
    base.stem = specmine_nn::config::Stem::Conv {
        channels: a.widths[0],
        kernel: 3,
    };
    eprintln!(
        "degradation study ({} task): {} training / {} validation examples (SNR >= {} dB), {} epochs, seeds {:?}",
        a.task,
        data.train_idx.len(),
        data.valid_idx.len(),
        a.snr_min,
        a.epochs,
        a.seeds
    );
    let epochs = a.epochs;
    let results = study::run(
        &a.out,
        &base,
        a.shallow,
        &a.deep,
        a.from_shallow,
        &a.seeds,
        &cfg,
        &data,
        &dev,
        &mut |name| Box::new(Line(name.to_string(), epochs)),
    )?;
    write_report(&a.out, &results)?;
    Ok(())
}

fn write_report(out: &std::path::Path, results: &[ArmResult]) -> Result<()> {
    let summary = study::summarize(results);
    let mut md = String::from(
        "| arm | layers | final training error | final validation error | seeds |\n|---|---|---|---|---|\n",
    );
    for (name, layers, tm, ts, vm, vs, n) in &summary {
        md += &format!(
            "| {name} | {layers} | {:.2}% ± {:.2} | {:.2}% ± {:.2} | {n} |\n",
            100.0 * tm,
            100.0 * ts,
            100.0 * vm,
            100.0 * vs
        );
    }
    let write = |name: &str, text: &str| {
        specmine_data::atomic::write_atomic(&out.join(name), |f| {
            std::io::Write::write_all(f, text.as_bytes())
        })
    };
    write("summary.md", &md)?;
    let json = serde_json::json!({
        "arms": results,
        "summary": summary.iter().map(|(n, l, tm, ts, vm, vs, k)| serde_json::json!({"arm": n, "layers": l, "train_error_mean": tm, "train_error_std": ts, "val_error_mean": vm, "val_error_std": vs, "seeds": k})).collect::<Vec<_>>(),
    });
    write("summary.json", &serde_json::to_string_pretty(&json)?)?;
    // Mean curves over seeds, one line per arm.
    let curves = |f: fn(&EpochMetrics) -> f64| -> Vec<(String, Vec<(f32, f64)>)> {
        summary
            .iter()
            .map(|(name, ..)| {
                let arms: Vec<&ArmResult> = results.iter().filter(|r| &r.name == name).collect();
                let n = arms.iter().map(|r| r.history.len()).min().unwrap_or(0);
                let pts = (0..n)
                    .map(|e| {
                        (
                            (e + 1) as f32,
                            arms.iter().map(|r| f(&r.history[e])).sum::<f64>() / arms.len() as f64,
                        )
                    })
                    .collect();
                (name.clone(), pts)
            })
            .collect()
    };
    let train = curves(|m| 1.0 - m.train_acc);
    let valid = curves(|m| 1.0 - m.val_acc);
    let ymax = train
        .iter()
        .chain(&valid)
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .fold(0.0, f64::max)
        .min(1.0)
        * 1.05;
    crate::plots::lines(
        &out.join("training_error.png"),
        "training error (mean over seeds)",
        "epoch",
        "training error",
        ymax,
        &train,
    )?;
    crate::plots::lines(
        &out.join("validation_error.png"),
        "validation error (mean over seeds)",
        "epoch",
        "validation error",
        ymax,
        &valid,
    )?;
    println!("{md}");
    println!(
        "report: {} (summary.md, summary.json, training_error.png, validation_error.png, arms/*)",
        out.display()
    );
    Ok(())
}
