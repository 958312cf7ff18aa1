//! `specmine bench`: throughput measurements recorded in BENCHMARKS.md.

use anyhow::Result;
use clap::Subcommand;
use specmine_dsp::generator::GeneratorConfig;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Subcommand)]
pub enum What {
    /// Generator throughput: examples/s of a preset with its full channel.
    Generate {
        #[arg(long, default_value = "rml2016")]
        preset: String,
        /// Examples per run.
        #[arg(long, default_value_t = 20_000)]
        examples: usize,
        /// Timed runs (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

pub fn run(a: Args) -> Result<()> {
    match a.what {
        What::Generate {
            preset,
            examples,
            runs,
        } => {
            let cfg = GeneratorConfig::preset(&preset)?;
            let per = examples.div_ceil(cfg.count(1)).max(1);
            let n = cfg.count(per);
            cfg.generate(1, 0)?; // warm-up: FFT plans, tables
            let mut rates: Vec<f64> = (0..runs.max(1))
                .map(|r| {
                    let t = Instant::now();
                    let ex = cfg.generate(per, r as u64).expect("validated");
                    assert_eq!(ex.len(), n);
                    n as f64 / t.elapsed().as_secs_f64()
                })
                .collect();
            rates.sort_by(f64::total_cmp);
            println!(
                "generate {preset}: {n} examples x {} samples, {} threads: median {:.0} examples/s (min {:.0}, max {:.0})",
                cfg.vector_len,
                rayon::current_num_threads(),
                rates[rates.len() / 2],
                rates[0],
                rates[rates.len() - 1]
            );
        }
    }
    Ok(())
}
