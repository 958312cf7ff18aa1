//! Small measurements shared by the signal code and its tests.

use crate::C32;

/// Mean power `E|x|^2` of a complex signal (0 for an empty slice).
pub fn mean_power(x: &[C32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    // Accumulate in f64: long signals lose precision in f32 sums.
    (x.iter().map(|s| s.norm_sqr() as f64).sum::<f64>() / x.len() as f64) as f32
}

/// Power ratio in decibels.
pub fn db(ratio: f64) -> f64 {
    10.0 * ratio.log10()
}

/// Scale a signal in place to unit mean power (left as is when it is all zeros).
pub fn normalize_power(x: &mut [C32]) {
    let p = mean_power(x);
    if p > 0.0 {
        let g = 1.0 / p.sqrt();
        x.iter_mut().for_each(|s| *s *= g);
    }
}

/// Normalised sinc, `sin(pi x) / (pi x)`.
pub fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// `x` times a Hann window (measurements: keeps spectral leakage out of a stop band).
pub fn hann(x: &[C32]) -> Vec<C32> {
    let n = x.len() as f32;
    x.iter()
        .enumerate()
        .map(|(i, v)| v * (0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n).cos()))
        .collect()
}
