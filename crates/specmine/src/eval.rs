//! `specmine eval`.

use anyhow::{Context, Result, bail};
use specmine_nn::eval::{class_map, predict, report};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Data file: RadioML 2016 pickle or HDF5 (RadioML 2018 layout / specmine's own).
    #[arg(long)]
    pub data: PathBuf,
    /// Run folder (from `specmine train`); without it, the model shipped with specmine.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Which weights of the run: best or last.
    #[arg(long, default_value = "best")]
    pub weights: String,
    /// Output folder for report.json.
    #[arg(long, default_value = "eval")]
    pub out: PathBuf,
    /// Leave these classes out of the accuracy figures (e.g. AM-SSB, noise-only in RadioML 2016).
    #[arg(long, value_delimiter = ',')]
    pub exclude_classes: Vec<String>,
    #[arg(long, default_value = "flex")]
    pub device: String,
    #[arg(long, default_value_t = 512)]
    pub batch_size: usize,
}

pub fn run(a: Args) -> Result<()> {
    let dev = crate::train::device(&a.device)?;
    let loaded = crate::shipped::load(a.model.as_deref(), &a.weights, &dev)?;
    let (model_cfg, model_classes, model) = (&loaded.config, &loaded.classes, &loaded.model);
    let ex = specmine_data::dataset::load(&a.data)?;
    if ex.vector_len != model_cfg.input().width {
        bail!(
            "{}: vectors of {} samples; the model takes {}",
            a.data.display(),
            ex.vector_len,
            model_cfg.input().width
        );
    }
    let map = class_map(&ex.class_names, model_classes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.data.display()))?;
    for c in &a.exclude_classes {
        if !model_classes.contains(c) {
            bail!(
                "--exclude-classes {c}: not a class of the model ({})",
                model_classes.join(", ")
            );
        }
    }
    let idx: Vec<usize> = (0..ex.len()).collect();
    let pb = crate::progress_bar(idx.len() as u64, "evaluating");
    let pred = predict(model, &ex, &idx, a.batch_size, &dev, |k| pb.inc(k as u64));
    pb.finish_and_clear();
    let truth: Vec<usize> = ex.labels.iter().map(|&l| map[l as usize]).collect();
    let r = report(
        model_classes,
        &truth,
        &pred,
        &ex.snrs_db,
        &a.exclude_classes,
    );
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let json = serde_json::to_string_pretty(&r)?;
    specmine_data::atomic::write_atomic(&a.out.join("report.json"), |f| {
        std::io::Write::write_all(f, json.as_bytes())
    })?;
    let curve: Vec<(f32, f64)> = r.per_snr.iter().map(|s| (s.snr_db, s.accuracy)).collect();
    let name = loaded.name.clone();
    crate::plots::accuracy_vs_snr(
        &a.out.join("accuracy_vs_snr.png"),
        "accuracy vs SNR",
        &[(name, curve)],
    )?;
    crate::plots::confusion(
        &a.out.join("confusion_all.png"),
        "confusion, all SNRs (rows: true, columns: predicted, row %)",
        model_classes,
        &r.confusion_all,
    )?;
    crate::plots::confusion(
        &a.out.join("confusion_high_snr.png"),
        &format!(
            "confusion, SNR >= {} dB (rows: true, columns: predicted, %)",
            r.high_snr_db
        ),
        model_classes,
        &r.confusion_high_snr,
    )?;
    println!(
        "{}: {} examples, model {}",
        a.data.display(),
        ex.len(),
        loaded.name
    );
    if !a.exclude_classes.is_empty() {
        println!("excluding {}", a.exclude_classes.join(", "));
    }
    println!(
        "overall {:.4}   SNR >= 0 dB {:.4}   SNR >= 10 dB {:.4}",
        r.overall.accuracy, r.snr_ge_0.accuracy, r.snr_ge_10.accuracy
    );
    println!("{:>8} {:>9} {:>7}", "SNR dB", "accuracy", "count");
    for s in &r.per_snr {
        println!("{:>8} {:>9.4} {:>7}", s.snr_db, s.accuracy, s.count);
    }
    println!(
        "per class: {}",
        r.per_class
            .iter()
            .map(|c| format!("{} {:.3}", c.class, c.accuracy))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "report: {} (plots: accuracy_vs_snr.png, confusion_all.png, confusion_high_snr.png)",
        a.out.join("report.json").display()
    );
    Ok(())
}
