//! Per-layer timing of burn's `conv1d` against `flexconv::conv1d` (`--conv gemm`) on the RF networks'
//! geometries, forward and forward + backward (autodiff, flex backend):
//! `cargo run --release -p specmine-nn --example conv_layers`. Evidence for BENCHMARKS.md.

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::module::conv1d;
use burn::tensor::ops::ConvOptions;
use specmine_nn::flexconv::conv1d as conv1d_gemm;
use std::time::Instant;

fn main() {
    let dev = Device::flex().autodiff();
    for (b, ci, co, l, k, s, p) in [
        (128, 32, 32, 128, 3, 1, 1),
        (128, 64, 64, 64, 3, 1, 1),
        (128, 128, 128, 32, 3, 1, 1),
        (128, 32, 64, 128, 3, 2, 1),
        (128, 2, 32, 128, 3, 1, 1),
    ] {
        let x0 = Tensor::<3>::random([b, ci, l], Distribution::Normal(0.0, 1.0), &dev);
        let w0 = Tensor::<3>::random([co, ci, k], Distribution::Normal(0.0, 1.0), &dev);
        for gemm in [false, true] {
            for bwd in [false, true] {
                let n = 10;
                let t = Instant::now();
                for _ in 0..n {
                    let x = x0.clone().detach().require_grad();
                    let w = w0.clone().detach().require_grad();
                    let y = if gemm {
                        conv1d_gemm(x.clone(), w.clone(), None, s, p)
                    } else {
                        conv1d(
                            x.clone(),
                            w.clone(),
                            None,
                            ConvOptions::new([s], [p], [1], 1),
                        )
                    };
                    if bwd {
                        let g = y.sum().backward();
                        let _ = w.grad(&g).unwrap().into_data();
                        let _ = x.grad(&g).unwrap().into_data();
                    } else {
                        let _ = y.into_data();
                    }
                }
                let ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
                let flops = 2.0 * (b * co * ci * k * (l / s)) as f64 * if bwd { 3.0 } else { 1.0 };
                println!(
                    "b{b} ci{ci} co{co} l{l} k{k} s{s} gemm={gemm} bwd={bwd}: {ms:.2} ms  {:.1} GFLOP/s",
                    flops / ms / 1e6
                );
            }
        }
    }
}
