//! `specmine quickstart`: the whole pipeline on defaults in a few minutes: generate a data set,
//! train a small model, evaluate it on fresh examples, synthesize a wideband scene and mine it.
//! Each step is an ordinary `specmine` command, run through the same parser (printed first, so
//! a user can rerun or vary any of them).

use anyhow::{Context, Result, bail};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Folder for everything the steps write.
    #[arg(short, long, default_value = "quickstart")]
    pub out: PathBuf,
    /// Training epochs (2 take about two minutes on 2 cores).
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

pub fn run(a: Args) -> Result<()> {
    if a.out.join("run").exists() {
        bail!(
            "{} holds an earlier quickstart; choose another --out",
            a.out.display()
        );
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let p = |name: &str| a.out.join(name).display().to_string();
    let epochs = a.epochs.to_string();
    let steps: Vec<Vec<String>> = [
        vec![
            "generate",
            "--per-class-snr",
            "100",
            "--snr-convention",
            "radioml",
            "--snr-min",
            "-4",
            "--force",
            "-o",
            &p("train.h5"),
        ],
        vec![
            "generate",
            "--per-class-snr",
            "50",
            "--snr-convention",
            "radioml",
            "--seed",
            "1",
            "--force",
            "-o",
            &p("test.h5"),
        ],
        vec![
            "train",
            "--data",
            &p("train.h5"),
            "--epochs",
            &epochs,
            "--optimizer",
            "adam",
            "--lr",
            "0.003",
            "--device",
            &a.device,
            "-o",
            &p("run"),
        ],
        vec![
            "eval",
            "--data",
            &p("test.h5"),
            "--model",
            &p("run"),
            "--device",
            &a.device,
            "--out",
            &p("eval"),
        ],
        vec![
            "scene",
            &p("scene"),
            "--duration-s",
            "0.05",
            "--signals",
            "6",
            "--snr-min-db",
            "10",
            "--force",
        ],
        vec![
            "mine",
            &p("scene.sigmf-meta"),
            "--model",
            &p("run"),
            "--device",
            &a.device,
            "--score",
            "--out",
            &p("mined"),
        ],
    ]
    .into_iter()
    .map(|s| s.into_iter().map(String::from).collect())
    .collect();
    for (i, step) in steps.iter().enumerate() {
        eprintln!("\n[{}/{}] specmine {}", i + 1, steps.len(), step.join(" "));
        let cli = <crate::Cli as clap::Parser>::try_parse_from(
            std::iter::once("specmine".to_string()).chain(step.iter().cloned()),
        )
        .context("quickstart step arguments")?;
        crate::dispatch(cli.command).with_context(|| format!("step {}: {}", i + 1, step[0]))?;
    }
    eprintln!(
        "\nquickstart done: report {}, spectrogram {}",
        p("eval/report.json"),
        p("mined/scene.mined.png")
    );
    Ok(())
}
