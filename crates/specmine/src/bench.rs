//! `specmine bench`: throughput measurements recorded in BENCHMARKS.md.

use anyhow::Result;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
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
    /// Training throughput of a model (random data, Adam, float32): examples/s.
    Train {
        #[arg(long, default_value = "rf_resnet")]
        model: String,
        #[arg(long, default_value_t = 128)]
        batch: usize,
        /// Optimiser steps per timed run.
        #[arg(long, default_value_t = 20)]
        steps: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long, default_value = "flex")]
        device: String,
    },
    /// Inference throughput (validation mode, batch 1024): examples/s.
    Infer {
        #[arg(long, default_value = "rf_resnet")]
        model: String,
        #[arg(long, default_value_t = 1024)]
        batch: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long, default_value = "flex")]
        device: String,
    },
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

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn random_input(cfg: &specmine_nn::ModelConfig, batch: usize, device: &Device) -> Tensor<4> {
    let i = cfg.input();
    Tensor::random(
        [batch, i.channels, i.height, i.width],
        Distribution::Normal(0.0, 1.0),
        device,
    )
}

pub fn run(a: Args) -> Result<()> {
    match a.what {
        What::Train {
            model,
            batch,
            steps,
            runs,
            device,
        } => {
            let plain = crate::train::device(&device)?;
            let ad = plain.clone().autodiff();
            let cfg = specmine_nn::preset(&model)?;
            let mut m = cfg.init(&ad)?;
            let mut optim = specmine_nn::optim::Optimizer::default().build(&m, 0.0, false, None);
            let x = random_input(&cfg, batch, &ad);
            let labels: Vec<u16> = (0..batch).map(|i| (i % cfg.num_classes()) as u16).collect();
            let mut step = |m: specmine_nn::Model| {
                let loss =
                    specmine_nn::train::smoothed_cross_entropy(m.forward(x.clone()), &labels, 0.0);
                let g = GradientsParams::from_grads(loss.backward(), &m);
                optim.step(1e-3, m, g)
            };
            for _ in 0..3 {
                m = step(m);
            }
            let mut rates = Vec::new();
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                for _ in 0..steps {
                    m = step(m);
                }
                // Wait for queued work on asynchronous (GPU) backends before stopping the clock.
                let _ = m.forward(x.clone().slice(s![0..1])).into_data();
                rates.push((steps * batch) as f64 / t.elapsed().as_secs_f64());
            }
            let (med, lo, hi) = median(rates);
            println!(
                "train {model} on {device} (conv {:?}): batch {batch}, {} threads: median {med:.0} examples/s (min {lo:.0}, max {hi:.0})",
                specmine_nn::layers::conv_path(),
                rayon::current_num_threads()
            );
        }
        What::Infer {
            model,
            batch,
            runs,
            device,
        } => {
            let plain = crate::train::device(&device)?;
            let cfg = specmine_nn::preset(&model)?;
            let m = cfg.init(&plain)?.valid();
            let x = random_input(&cfg, batch, &plain);
            let _ = m.forward(x.clone()).into_data();
            let mut rates = Vec::new();
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                for _ in 0..5 {
                    let _ = m.forward(x.clone()).into_data();
                }
                rates.push((5 * batch) as f64 / t.elapsed().as_secs_f64());
            }
            let (med, lo, hi) = median(rates);
            println!(
                "infer {model} on {device} (conv {:?}): batch {batch}, {} threads: median {med:.0} examples/s (min {lo:.0}, max {hi:.0})",
                specmine_nn::layers::conv_path(),
                rayon::current_num_threads()
            );
        }
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
