//! `specmine generate`.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use specmine_dsp::Modulation;
use specmine_dsp::channel::SnrConvention;
use specmine_dsp::generator::{Examples, GeneratorConfig};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Convention {
    /// SNR = signal power / noise power, both over the full sample rate.
    Power,
    /// RadioML's labels: complex noise amplitude 10^(-snr/10) (true SNR about twice the label).
    Radioml,
}

#[derive(clap::Args)]
#[command(
    after_help = "SNR: by default snr_db = 10 log10(P_signal / P_noise), both measured over the \
full sample-rate bandwidth. --snr-convention radioml reproduces RadioML's labels instead \
(noise amplitude 10^(-snr/10) against a unit-power signal: a true SNR about twice the label); \
use it for models meant for RadioML files."
)]
pub struct Args {
    /// Generator preset: rml2016 (RadioML 2016.10a settings), rml2018 (24 classes, 1024 samples),
    /// clean (AWGN only).
    #[arg(long, default_value = "rml2016")]
    pub preset: String,
    /// Examples per (class, SNR) pair.
    #[arg(long, default_value_t = 100)]
    pub per_class_snr: usize,
    /// Output file (HDF5, RadioML 2018.01A layout).
    #[arg(short, long, default_value = "specmine-rml2016.h5")]
    pub output: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "power")]
    pub snr_convention: Convention,
    /// Lowest SNR label (dB); defaults to the preset's.
    #[arg(long, allow_hyphen_values = true)]
    pub snr_min: Option<i32>,
    /// Highest SNR label (dB); defaults to the preset's.
    #[arg(long, allow_hyphen_values = true)]
    pub snr_max: Option<i32>,
    /// SNR step (dB).
    #[arg(long, default_value_t = 2)]
    pub snr_step: usize,
    /// Only these classes (comma separated, e.g. BPSK,QPSK,QAM16).
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// Samples per vector; defaults to the preset's.
    #[arg(long)]
    pub vector_len: Option<usize>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// Resolve the generator config from the preset and overrides.
pub fn config(a: &Args) -> Result<GeneratorConfig> {
    let mut cfg = GeneratorConfig::preset(&a.preset)?;
    cfg.snr_convention = match a.snr_convention {
        Convention::Power => SnrConvention::PowerRatio,
        Convention::Radioml => SnrConvention::RadioMl,
    };
    if a.snr_min.is_some() || a.snr_max.is_some() {
        let lo = a.snr_min.unwrap_or(cfg.snrs_db[0] as i32);
        let hi = a
            .snr_max
            .unwrap_or(*cfg.snrs_db.last().expect("presets have SNRs") as i32);
        if lo > hi {
            bail!("SNR range reversed: --snr-min {lo} is above --snr-max {hi}");
        }
        if a.snr_step == 0 {
            bail!("--snr-step must be at least 1 dB");
        }
        cfg.snrs_db = (lo..=hi).step_by(a.snr_step).map(|s| s as f32).collect();
    }
    if let Some(names) = &a.classes {
        let mods = names
            .iter()
            .map(|n| n.parse::<Modulation>())
            .collect::<Result<Vec<_>, _>>()?;
        cfg.classes = Some(mods);
    }
    if let Some(l) = a.vector_len {
        cfg.vector_len = l;
    }
    if a.per_class_snr == 0 {
        bail!("--per-class-snr must be at least 1");
    }
    cfg.validate().context("invalid generator settings")?;
    Ok(cfg)
}

/// Generate with a progress bar (or plain log lines when not on a terminal).
pub fn generate_with_progress(
    cfg: &GeneratorConfig,
    per_class_snr: usize,
    seed: u64,
) -> Result<Examples> {
    let total = cfg.count(per_class_snr);
    let pb = crate::progress_bar(total as u64, "generating");
    let ex = cfg.generate_range(per_class_snr, seed, 0..total, &|k| pb.inc(k as u64))?;
    pb.finish_and_clear();
    Ok(ex)
}

pub fn run(a: Args) -> Result<()> {
    let cfg = config(&a)?;
    if a.output.exists() && !a.force {
        bail!("{} exists; pass --force to replace it", a.output.display());
    }
    let t = Instant::now();
    let ex = generate_with_progress(&cfg, a.per_class_snr, a.seed)?;
    let gen_s = t.elapsed().as_secs_f64();
    let json = serde_json::to_string(
        &serde_json::json!({"config": &cfg, "seed": a.seed, "per_class_snr": a.per_class_snr}),
    )?;
    specmine_data::h5::write(&a.output, &ex, Some(&json))?;
    eprintln!(
        "wrote {} examples ({} classes x {} SNRs x {}) of {} samples to {} in {:.1} s ({:.0} examples/s generation)",
        ex.len(),
        cfg.modulations().len(),
        cfg.snrs_db.len(),
        a.per_class_snr,
        cfg.vector_len,
        a.output.display(),
        t.elapsed().as_secs_f64(),
        ex.len() as f64 / gen_s
    );
    Ok(())
}
