//! `specmine plot`: figures from existing runs and reports.

use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Subcommand)]
pub enum What {
    /// Accuracy against SNR of several eval reports on one plot.
    Snr {
        /// report.json files (label = the folder name).
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        #[arg(short, long, default_value = "accuracy_vs_snr.png")]
        out: PathBuf,
    },
    /// Training curves of a run folder.
    Curves {
        run: PathBuf,
        #[arg(short, long, default_value = "curves.png")]
        out: PathBuf,
    },
}

pub fn run(a: Args) -> Result<()> {
    match a.what {
        What::Snr { reports, out } => {
            let mut series = Vec::new();
            for p in &reports {
                let r: specmine_nn::eval::Report = serde_json::from_str(
                    &std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?,
                )
                .with_context(|| format!("{}: not a specmine report", p.display()))?;
                let label = p
                    .parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.display().to_string());
                series.push((
                    label,
                    r.per_snr.iter().map(|s| (s.snr_db, s.accuracy)).collect(),
                ));
            }
            crate::plots::accuracy_vs_snr(&out, "accuracy vs SNR", &series)?;
            eprintln!("wrote {}", out.display());
        }
        What::Curves { run, out } => {
            let h: Vec<specmine_nn::train::EpochMetrics> = serde_json::from_str(
                &std::fs::read_to_string(run.join("metrics.json"))
                    .with_context(|| format!("{}: no metrics.json", run.display()))?,
            )?;
            crate::plots::training_curves(&out, &h)?;
            eprintln!("wrote {}", out.display());
        }
    }
    Ok(())
}
