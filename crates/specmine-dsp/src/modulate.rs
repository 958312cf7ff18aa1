//! Modulators: complex baseband at `sps` samples per symbol, unit average power.
//!
//! Linear classes (ASK/PSK/QAM/APSK) put Gray-mapped symbols through a root-raised-cosine
//! filter. GFSK, CPFSK and GMSK are continuous-phase modulators (GNU Radio's `gfsk_mod`,
//! `cpfsk_bc` and `gmsk_mod` conventions); OQPSK delays Q by half a symbol. Analog classes
//! modulate a [`crate::message::speech_like`] message. Each pure kernel (`linear`, `cpm`, ...)
//! takes its symbols or message; [`modulate`] draws them from an RNG.

use crate::constellation;
use crate::message::{self, MessageConfig};
use crate::pulse::{gaussian_frequency_pulse, rrc_taps, upsample_filter};
use crate::{C32, DspError, Modulation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Parameters of every modulator; the defaults are RadioML 2016's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModulatorConfig {
    pub sample_rate_hz: f64,
    /// Samples per symbol of the digital classes.
    pub sps: usize,
    /// RRC roll-off of the linear classes.
    pub rolloff: f64,
    /// RRC length in symbols.
    pub filter_span_symbols: usize,
    /// GFSK Gaussian bandwidth-time product.
    pub gfsk_bt: f64,
    /// GFSK frequency sensitivity (GNU Radio `gfsk_mod`): phase step per sample for a +1 symbol.
    pub gfsk_sensitivity_rad_per_sample: f64,
    /// CPFSK modulation index (GNU Radio `cpfsk_bc` k): phase change per symbol is `h * pi`.
    pub cpfsk_h: f64,
    /// GMSK Gaussian bandwidth-time product (modulation index fixed at 0.5).
    pub gmsk_bt: f64,
    /// Peak frequency deviation of FM.
    pub fm_deviation_hz: f64,
    /// Modulation index of the AM classes with carrier.
    pub am_index: f64,
    /// SSB keeps the upper sideband (true) or the lower one.
    pub ssb_upper: bool,
    pub message: MessageConfig,
}

impl Default for ModulatorConfig {
    fn default() -> Self {
        Self {
            sample_rate_hz: 200_000.0,
            sps: 8,
            rolloff: 0.35,
            filter_span_symbols: 12,
            gfsk_bt: 0.35,
            gfsk_sensitivity_rad_per_sample: 0.1,
            cpfsk_h: 0.5,
            gmsk_bt: 0.3,
            fm_deviation_hz: 75_000.0,
            am_index: 0.8,
            ssb_upper: true,
            message: MessageConfig::default(),
        }
    }
}

impl ModulatorConfig {
    /// Check the parameters once, before a long generation run.
    pub fn validate(&self) -> Result<(), DspError> {
        if !(self.sample_rate_hz.is_finite() && self.sample_rate_hz > 0.0) {
            return Err(DspError::invalid(
                "sample_rate_hz",
                self.sample_rate_hz,
                "a positive rate",
            ));
        }
        if self.sps < 2 || !self.sps.is_multiple_of(2) {
            return Err(DspError::invalid(
                "sps",
                self.sps,
                "an even number of samples per symbol >= 2",
            ));
        }
        rrc_taps(self.rolloff, self.sps, self.filter_span_symbols)?;
        if !(self.am_index > 0.0 && self.am_index <= 1.0) {
            return Err(DspError::invalid(
                "am_index",
                self.am_index,
                "a modulation index in (0, 1]",
            ));
        }
        Ok(())
    }
}

/// RRC-shaped linear modulation of `symbols` (full convolution; see [`upsample_filter`]),
/// scaled so unit-power symbols give unit-power samples.
pub fn linear(symbols: &[C32], sps: usize, rrc: &[f32]) -> Vec<C32> {
    let g = (sps as f32).sqrt();
    let taps: Vec<f32> = rrc.iter().map(|h| h * g).collect();
    upsample_filter(symbols, sps, &taps)
}

/// Offset QPSK: I and Q shaped separately, Q delayed by half a symbol.
pub fn offset_qpsk(symbols: &[C32], sps: usize, rrc: &[f32]) -> Vec<C32> {
    let re: Vec<C32> = symbols.iter().map(|s| C32::new(s.re, 0.0)).collect();
    let im: Vec<C32> = symbols.iter().map(|s| C32::new(0.0, s.im)).collect();
    let i = linear(&re, sps, rrc);
    let q = linear(&im, sps, rrc);
    let half = sps / 2;
    let mut out = vec![C32::new(0.0, 0.0); i.len() + half];
    out[..i.len()].iter_mut().zip(&i).for_each(|(o, v)| *o += v);
    out[half..].iter_mut().zip(&q).for_each(|(o, v)| *o += v);
    out
}

/// Continuous-phase modulation: the phase advances by `pi * h * a_k` in total for symbol `a_k`,
/// spread over the unit-area frequency `pulse`. Constant envelope.
pub fn cpm(symbols: &[f32], sps: usize, h: f64, pulse: &[f32]) -> Vec<C32> {
    let syms: Vec<C32> = symbols.iter().map(|&a| C32::new(a, 0.0)).collect();
    let freq = upsample_filter(&syms, sps, pulse);
    let mut phase = 0.0f64;
    freq.iter()
        .map(|f| {
            phase += PI * h * f.re as f64;
            C32::new(phase.cos() as f32, phase.sin() as f32)
        })
        .collect()
}

/// Frequency modulation of a real message: instantaneous frequency `deviation_hz * m`.
pub fn fm(message: &[f32], deviation_hz: f64, sample_rate_hz: f64) -> Vec<C32> {
    let k = 2.0 * PI * deviation_hz / sample_rate_hz;
    let mut phase = 0.0f64;
    message
        .iter()
        .map(|&m| {
            phase += k * m as f64;
            C32::new(phase.cos() as f32, phase.sin() as f32)
        })
        .collect()
}

/// Double-sideband AM: `1 + index * m` with carrier, `m` without.
pub fn am_dsb(message: &[f32], index: f32, carrier: bool) -> Vec<C32> {
    message
        .iter()
        .map(|&m| C32::new(if carrier { 1.0 + index * m } else { m }, 0.0))
        .collect()
}

/// Single-sideband AM from the analytic message `m + j H{m}` (conjugated for the lower sideband).
pub fn am_ssb(analytic_message: &[C32], index: f32, carrier: bool, upper: bool) -> Vec<C32> {
    analytic_message
        .iter()
        .map(|&a| {
            let a = if upper { a } else { a.conj() };
            if carrier {
                C32::new(1.0, 0.0) + a * index
            } else {
                a
            }
        })
        .collect()
}

fn random_symbols(points: &[C32], n: usize, rng: &mut impl Rng) -> Vec<C32> {
    (0..n)
        .map(|_| points[rng.random_range(0..points.len())])
        .collect()
}

fn binary_nrz(n: usize, rng: &mut impl Rng) -> Vec<f32> {
    (0..n)
        .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
        .collect()
}

/// `n` samples of modulation `m` in steady state (filter transients cut off) at a random
/// symbol timing. Digital classes have unit average power by construction, analog ones are
/// scaled to unit power over the returned samples.
pub fn modulate(
    m: Modulation,
    n: usize,
    cfg: &ModulatorConfig,
    rng: &mut impl Rng,
) -> Result<Vec<C32>, DspError> {
    use Modulation::*;
    let sps = cfg.sps;
    let rrc = rrc_taps(cfg.rolloff, sps, cfg.filter_span_symbols)?;
    // Enough symbols that a window of n samples at any timing sees only full pulses.
    let n_sym = |pulse_len: usize| (pulse_len + 2 * sps + n).div_ceil(sps) + 1;
    let cut = |x: Vec<C32>, pulse_len: usize, rng: &mut dyn rand::RngCore| -> Vec<C32> {
        let start = pulse_len + rng.random_range(0..sps);
        x[start..start + n].to_vec()
    };
    Ok(match m {
        Oqpsk => {
            let pts = constellation::for_modulation(m).expect("OQPSK has a constellation");
            let syms = random_symbols(&pts, n_sym(rrc.len()), rng);
            cut(offset_qpsk(&syms, sps, &rrc), rrc.len(), rng)
        }
        Gfsk | Cpfsk | Gmsk => {
            let (pulse, h) = match m {
                Gfsk => (
                    gaussian_frequency_pulse(cfg.gfsk_bt, sps, 4),
                    cfg.gfsk_sensitivity_rad_per_sample * sps as f64 / PI,
                ),
                Cpfsk => (vec![1.0 / sps as f32; sps], cfg.cpfsk_h),
                _ => (gaussian_frequency_pulse(cfg.gmsk_bt, sps, 4), 0.5),
            };
            let syms = binary_nrz(n_sym(pulse.len()), rng);
            cut(cpm(&syms, sps, h, &pulse), pulse.len(), rng)
        }
        Fm | AmDsbWc | AmDsbSc | AmSsbWc | AmSsbSc => {
            let analytic = message::speech_like_analytic(n, cfg.sample_rate_hz, &cfg.message, rng);
            let msg: Vec<f32> = analytic.iter().map(|a| a.re).collect();
            let idx = cfg.am_index as f32;
            let mut x = match m {
                Fm => fm(&msg, cfg.fm_deviation_hz, cfg.sample_rate_hz),
                AmDsbWc => am_dsb(&msg, idx, true),
                AmDsbSc => am_dsb(&msg, idx, false),
                AmSsbWc => am_ssb(&analytic, idx, true, cfg.ssb_upper),
                _ => am_ssb(&analytic, idx, false, cfg.ssb_upper),
            };
            crate::util::normalize_power(&mut x);
            x
        }
        _ => {
            let pts = constellation::for_modulation(m).expect("linear classes have constellations");
            let syms = random_symbols(&pts, n_sym(rrc.len()), rng);
            cut(linear(&syms, sps, &rrc), rrc.len(), rng)
        }
    })
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // tests index several arrays at once
mod tests {
    use super::*;
    use crate::util::mean_power;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn matched_filter_symbols(x: &[C32], sps: usize, rrc: &[f32], n_sym: usize) -> Vec<C32> {
        let y = crate::pulse::convolve(x, rrc);
        let g = 1.0 / (sps as f32).sqrt();
        // Symbol k's pulse peaks at k*sps + (L-1) after transmit + matched filter.
        (0..n_sym).map(|k| y[k * sps + rrc.len() - 1] * g).collect()
    }

    #[test]
    fn linear_classes_land_on_their_constellation_after_matched_filtering() {
        let sps = 8;
        let rrc = rrc_taps(0.35, sps, 128).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for m in Modulation::ALL {
            let Some(pts) = constellation::for_modulation(m) else {
                continue;
            };
            if m == Modulation::Oqpsk {
                continue;
            }
            let syms = random_symbols(&pts, 200, &mut rng);
            let rx = matched_filter_symbols(&linear(&syms, sps, &rrc), sps, &rrc, 200);
            // Away from the ends (truncated pulses), every symbol is recovered.
            for k in 70..130 {
                let e = (rx[k] - syms[k]).norm();
                assert!(e < 1e-3, "{m}: symbol {k} off by {e}");
            }
        }
    }

    #[test]
    fn oqpsk_recovers_i_and_q_half_a_symbol_apart() {
        let sps = 8;
        let rrc = rrc_taps(0.35, sps, 128).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let syms = random_symbols(&constellation::psk(4, PI / 4.0), 200, &mut rng);
        let x = offset_qpsk(&syms, sps, &rrc);
        let y = crate::pulse::convolve(&x, &rrc);
        let g = 1.0 / (sps as f32).sqrt();
        for k in 70..130 {
            let i = y[k * sps + rrc.len() - 1].re * g;
            let q = y[k * sps + sps / 2 + rrc.len() - 1].im * g;
            assert!((i - syms[k].re).abs() < 1e-3 && (q - syms[k].im).abs() < 1e-3);
        }
    }

    #[test]
    fn fsk_instantaneous_frequency_takes_the_expected_values() {
        let sps = 8;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let syms = binary_nrz(100, &mut rng);
        // CPFSK h = 0.5 with a rectangular pulse: +-pi*h/sps rad per sample, exactly.
        let x = cpm(&syms, sps, 0.5, &vec![1.0 / sps as f32; sps]);
        for k in 0..100 {
            for j in 1..sps {
                let n = k * sps + j;
                let dphi = (x[n] * x[n - 1].conj()).arg() as f64;
                let want = PI * 0.5 / sps as f64 * syms[k] as f64;
                assert!((dphi - want).abs() < 1e-4, "sample {n}: {dphi} vs {want}");
            }
        }
        // GMSK/GFSK: a long run of +1 symbols reaches the full deviation pi*h/sps.
        let pulse = gaussian_frequency_pulse(0.3, sps, 4);
        let x = cpm(&[1.0; 20], sps, 0.5, &pulse);
        let dphi = (x[80] * x[79].conj()).arg() as f64;
        assert!((dphi - PI * 0.5 / sps as f64).abs() < 1e-4);
        for v in &x {
            assert!((v.norm() - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn am_envelope_follows_the_message() {
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let cfg = MessageConfig {
            pause_probability: 0.0,
            ..Default::default()
        };
        let msg = message::speech_like(4096, 200e3, &cfg, &mut rng);
        let x = am_dsb(&msg, 0.8, true);
        for (v, m) in x.iter().zip(&msg) {
            assert!((v.norm() - (1.0 + 0.8 * m)).abs() < 1e-6);
        }
    }

    #[test]
    fn ssb_suppresses_the_other_sideband_by_30_db() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let cfg = ModulatorConfig::default();
        for (upper, m) in [
            (true, Modulation::AmSsbSc),
            (false, Modulation::AmSsbSc),
            (true, Modulation::AmSsbWc),
        ] {
            let cfg = ModulatorConfig {
                ssb_upper: upper,
                message: MessageConfig {
                    pause_probability: 0.0,
                    ..cfg.message.clone()
                },
                ..cfg.clone()
            };
            let x = modulate(m, 16384, &cfg, &mut rng).unwrap();
            // Hann window: the rectangular window's leakage would hide a -30 dB sideband.
            let n = x.len();
            let mut spec: Vec<C32> = crate::util::hann(&x);
            rustfft::FftPlanner::new()
                .plan_fft_forward(n)
                .process(&mut spec);
            // Positive frequencies are bins 1..n/2, negative n/2+1..n; DC (the carrier) excluded.
            let pos: f64 = spec[2..n / 2].iter().map(|c| c.norm_sqr() as f64).sum();
            let neg: f64 = spec[n / 2 + 1..n - 1]
                .iter()
                .map(|c| c.norm_sqr() as f64)
                .sum();
            let (kept, dropped) = if upper { (pos, neg) } else { (neg, pos) };
            let ratio_db = crate::util::db(dropped / kept);
            assert!(
                ratio_db < -30.0,
                "{m} upper={upper}: suppressed sideband at {ratio_db:.1} dB"
            );
        }
    }

    #[test]
    fn every_class_has_unit_average_power() {
        let cfg = ModulatorConfig::default();
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for m in Modulation::ALL {
            let x = modulate(m, 65536, &cfg, &mut rng).unwrap();
            assert_eq!(x.len(), 65536);
            let p = mean_power(&x);
            assert!((p - 1.0).abs() < 0.03, "{m}: power {p}");
        }
    }
}
