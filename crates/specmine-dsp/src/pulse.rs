//! Pulse shaping: root-raised-cosine and Gaussian filters, and symbol-rate upsampling.
//!
//! The RRC impulse response follows the standard closed form (e.g. Proakis, *Digital
//! Communications*, 5th ed., §9.2), with its two removable singularities handled explicitly.

use crate::{C32, DspError};
use std::f64::consts::PI;

/// Root-raised-cosine taps for roll-off `beta` in (0, 1], `sps` samples per symbol and a span of
/// `span_symbols` symbols (length `span_symbols * sps + 1`), scaled to unit energy so that an
/// RRC transmit filter followed by the same matched filter has a unit peak.
pub fn rrc_taps(beta: f64, sps: usize, span_symbols: usize) -> Result<Vec<f32>, DspError> {
    if !(beta > 0.0 && beta <= 1.0) {
        return Err(DspError::invalid("rolloff", beta, "a roll-off in (0, 1]"));
    }
    if sps < 2 {
        return Err(DspError::invalid(
            "sps",
            sps,
            "at least 2 samples per symbol",
        ));
    }
    if span_symbols == 0 {
        return Err(DspError::invalid(
            "span_symbols",
            span_symbols,
            "at least 1 symbol",
        ));
    }
    let n = span_symbols * sps;
    let mut taps: Vec<f64> = (0..=n)
        .map(|i| {
            let t = (i as f64 - n as f64 / 2.0) / sps as f64; // in symbol periods
            if t.abs() < 1e-9 {
                1.0 - beta + 4.0 * beta / PI
            } else if (t.abs() - 1.0 / (4.0 * beta)).abs() < 1e-9 {
                beta / 2f64.sqrt()
                    * ((1.0 + 2.0 / PI) * (PI / (4.0 * beta)).sin()
                        + (1.0 - 2.0 / PI) * (PI / (4.0 * beta)).cos())
            } else {
                ((PI * t * (1.0 - beta)).sin() + 4.0 * beta * t * (PI * t * (1.0 + beta)).cos())
                    / (PI * t * (1.0 - (4.0 * beta * t).powi(2)))
            }
        })
        .collect();
    let energy: f64 = taps.iter().map(|h| h * h).sum();
    taps.iter_mut().for_each(|h| *h /= energy.sqrt());
    Ok(taps.into_iter().map(|h| h as f32).collect())
}

/// Frequency pulse of GFSK/GMSK: a one-symbol rectangle convolved with a Gaussian of
/// bandwidth-time product `bt`, truncated to `span_symbols` and normalised to unit sum (so one
/// symbol of amplitude `a` adds `a` times the per-symbol phase step in total).
pub fn gaussian_frequency_pulse(bt: f64, sps: usize, span_symbols: usize) -> Vec<f32> {
    let n = span_symbols * sps;
    // Gaussian std in symbol periods: sigma = sqrt(ln 2) / (2 pi BT).
    let sigma = (2f64.ln()).sqrt() / (2.0 * PI * bt);
    let gauss: Vec<f64> = (0..=n)
        .map(|i| {
            let t = (i as f64 - n as f64 / 2.0) / sps as f64;
            (-t * t / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let mut pulse = vec![0.0f64; gauss.len() + sps - 1];
    for (i, g) in gauss.iter().enumerate() {
        for k in 0..sps {
            pulse[i + k] += g;
        }
    }
    let sum: f64 = pulse.iter().sum();
    pulse.into_iter().map(|p| (p / sum) as f32).collect()
}

/// Place `symbols` every `sps` samples and filter with `taps` (full convolution, length
/// `(symbols.len() - 1) * sps + taps.len()`). Symbol `k`'s pulse peaks at `k * sps + (taps.len()-1)/2`.
pub fn upsample_filter(symbols: &[C32], sps: usize, taps: &[f32]) -> Vec<C32> {
    if symbols.is_empty() {
        return Vec::new();
    }
    let mut out = vec![C32::new(0.0, 0.0); (symbols.len() - 1) * sps + taps.len()];
    for (k, s) in symbols.iter().enumerate() {
        let o = &mut out[k * sps..k * sps + taps.len()];
        for (y, h) in o.iter_mut().zip(taps) {
            *y += s * *h;
        }
    }
    out
}

/// Full convolution of a complex signal with real taps (length `x.len() + taps.len() - 1`).
pub fn convolve(x: &[C32], taps: &[f32]) -> Vec<C32> {
    if x.is_empty() || taps.is_empty() {
        return Vec::new();
    }
    let mut out = vec![C32::new(0.0, 0.0); x.len() + taps.len() - 1];
    for (i, s) in x.iter().enumerate() {
        for (y, h) in out[i..i + taps.len()].iter_mut().zip(taps) {
            *y += s * *h;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrc_is_symmetric_unit_energy_and_nyquist_after_matching() {
        let sps = 8;
        let h = rrc_taps(0.35, sps, 16).unwrap();
        let e: f32 = h.iter().map(|x| x * x).sum();
        assert!((e - 1.0).abs() < 1e-5);
        for i in 0..h.len() {
            assert!((h[i] - h[h.len() - 1 - i]).abs() < 1e-6);
        }
        // RRC * RRC = raised cosine: 1 at t = 0, ~0 at other symbol instants.
        let hc: Vec<C32> = h.iter().map(|&x| C32::new(x, 0.0)).collect();
        let rc = convolve(&hc, &h);
        let mid = (rc.len() - 1) / 2;
        assert!((rc[mid].re - 1.0).abs() < 1e-4);
        for k in 1..6 {
            assert!(
                rc[mid + k * sps].re.abs() < 2e-3,
                "ISI at {k}: {}",
                rc[mid + k * sps].re
            );
        }
    }

    #[test]
    fn rrc_handles_its_singular_points() {
        // beta = 0.25 at sps 8 puts t = 1/(4 beta) = 1 symbol exactly on a tap.
        let h = rrc_taps(0.25, 8, 8).unwrap();
        assert!(h.iter().all(|x| x.is_finite()));
        assert!(rrc_taps(0.0, 8, 8).is_err());
        assert!(rrc_taps(0.35, 1, 8).is_err());
    }

    #[test]
    fn gaussian_pulse_has_unit_area() {
        let p = gaussian_frequency_pulse(0.35, 8, 4);
        let s: f32 = p.iter().sum();
        assert!((s - 1.0).abs() < 1e-5);
    }
}
