//! Channel impairments: each a pure function plus a randomised wrapper in [`ChannelConfig`].
//!
//! The randomised model follows GNU Radio's `dynamic_channel_model`, which generated RadioML
//! 2016: sample-rate and carrier offsets that random-walk (per-sample step `std_hz`, bounded at
//! `max_hz`), a frequency-selective Rician/Rayleigh fader made of per-tap sum-of-sinusoids
//! processes on a tapped delay line (the model of Xiao, Zheng & Beaulieu, IEEE Trans. Wireless
//! Commun. 2006), then AWGN. Receiver impairments (phase noise, IQ imbalance, DC offset) are
//! extras for the stronger presets.

use crate::{C32, DspError};
use rand::Rng;
use rand_distr::{Distribution, Normal, StandardNormal};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::sync::OnceLock;

/// How an SNR label maps to a noise level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SnrConvention {
    /// `snr_db = 10 log10(P_signal / P_noise)`, both over the full sample rate; the signal power
    /// is measured on the example itself.
    #[default]
    PowerRatio,
    /// RadioML's generator: complex noise amplitude `10^(-snr/10)` against a unit-power
    /// transmitted signal, i.e. a true SNR of about twice the label in dB.
    RadioMl,
}

/// Standard deviation of complex noise (`sqrt(E|n|^2)`) for `snr_db` under `convention`.
pub fn noise_std(signal_power: f32, snr_db: f32, convention: SnrConvention) -> f32 {
    match convention {
        SnrConvention::PowerRatio => (signal_power / 10f32.powf(snr_db / 10.0)).sqrt(),
        SnrConvention::RadioMl => 10f32.powf(-snr_db / 10.0),
    }
}

/// Add complex white Gaussian noise of total standard deviation `std` (each of I and Q gets
/// `std / sqrt 2`).
pub fn add_awgn(x: &mut [C32], std: f32, rng: &mut impl Rng) {
    let s = std / 2f32.sqrt();
    for v in x.iter_mut() {
        *v += C32::new(
            rng.sample::<f32, _>(StandardNormal) * s,
            rng.sample::<f32, _>(StandardNormal) * s,
        );
    }
}

/// Multiply by `exp(j (2 pi f[n] ... ))`: a carrier offset whose frequency may change per
/// sample (`cfo_hz` of length 1 means constant). Returns the shifted signal.
pub fn frequency_shift(
    x: &[C32],
    cfo_hz: &[f64],
    sample_rate_hz: f64,
    phase0_rad: f64,
) -> Vec<C32> {
    let mut phase = phase0_rad;
    x.iter()
        .enumerate()
        .map(|(n, v)| {
            let y = v * C32::new(phase.cos() as f32, phase.sin() as f32);
            let f = cfo_hz[n.min(cfo_hz.len() - 1)];
            phase = (phase + 2.0 * PI * f / sample_rate_hz) % (2.0 * PI);
            y
        })
        .collect()
}

/// Multiply sample `n` by `exp(j phases[n])` (phase offset, phase noise).
pub fn rotate(x: &[C32], phases_rad: &[f32]) -> Vec<C32> {
    x.iter()
        .zip(phases_rad)
        .map(|(v, p)| v * C32::new(p.cos(), p.sin()))
        .collect()
}

/// Receiver IQ imbalance: the Q branch has gain `gain_db` relative to I and is skewed by
/// `phase_rad` from quadrature.
pub fn iq_imbalance(x: &[C32], gain_db: f32, phase_rad: f32) -> Vec<C32> {
    let g = 10f32.powf(gain_db / 20.0);
    let (s, c) = phase_rad.sin_cos();
    x.iter()
        .map(|v| C32::new(v.re, g * (v.im * c - v.re * s)))
        .collect()
}

/// Add a constant DC offset.
pub fn dc_offset(x: &[C32], dc: C32) -> Vec<C32> {
    x.iter().map(|v| v + dc).collect()
}

const INTERP_HALF: usize = 8;
const INTERP_PHASES: usize = 1024;

/// Windowed-sinc interpolation table: `INTERP_PHASES + 1` fractional positions x 16 taps,
/// Blackman-windowed (about -70 dB stop band).
fn interp_table() -> &'static [[f32; 2 * INTERP_HALF]] {
    static TABLE: OnceLock<Vec<[f32; 2 * INTERP_HALF]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=INTERP_PHASES)
            .map(|p| {
                let mu = p as f64 / INTERP_PHASES as f64;
                let mut taps = [0f32; 2 * INTERP_HALF];
                for (j, t) in taps.iter_mut().enumerate() {
                    // tap j weighs x[floor(t) - HALF + 1 + j]; its distance from t:
                    let d = mu + INTERP_HALF as f64 - 1.0 - j as f64;
                    let w = 0.42
                        + 0.5 * (PI * d / INTERP_HALF as f64).cos()
                        + 0.08 * (2.0 * PI * d / INTERP_HALF as f64).cos();
                    *t = (crate::util::sinc(d) * if d.abs() < INTERP_HALF as f64 { w } else { 0.0 })
                        as f32;
                }
                taps
            })
            .collect()
    })
}

/// Band-limited interpolation of `x` at fractional sample times `times` (samples outside `x`
/// count as zero). The pure kernel behind timing offsets, sample-rate offsets and the
/// fractional delays of the multipath taps.
pub fn resample_at(x: &[C32], times: &[f64]) -> Vec<C32> {
    let table = interp_table();
    let n = x.len() as isize;
    times
        .iter()
        .map(|&t| {
            let base = t.floor();
            let taps = &table[((t - base) * INTERP_PHASES as f64).round() as usize];
            let first = base as isize - INTERP_HALF as isize + 1;
            let mut acc = C32::new(0.0, 0.0);
            for (j, h) in taps.iter().enumerate() {
                let k = first + j as isize;
                if k >= 0 && k < n {
                    acc += x[k as usize] * *h;
                }
            }
            acc
        })
        .collect()
}

/// `x` delayed by `delay` samples (fractional allowed), same length.
pub fn fractional_delay(x: &[C32], delay: f64) -> Vec<C32> {
    if delay.fract() == 0.0 {
        let d = delay as usize;
        let mut y = vec![C32::new(0.0, 0.0); x.len()];
        if d < x.len() {
            y[d..].copy_from_slice(&x[..x.len() - d]);
        }
        return y;
    }
    let times: Vec<f64> = (0..x.len()).map(|n| n as f64 - delay).collect();
    resample_at(x, &times)
}

/// Tapped delay line: `y[n] = sum_i gains[i][n] * x(n - delays[i])`.
pub fn tapped_delay_line(x: &[C32], delays_samples: &[f64], gains: &[Vec<C32>]) -> Vec<C32> {
    let mut y = vec![C32::new(0.0, 0.0); x.len()];
    for (d, g) in delays_samples.iter().zip(gains) {
        for ((o, v), gn) in y.iter_mut().zip(fractional_delay(x, *d)).zip(g) {
            *o += v * gn;
        }
    }
    y
}

/// Random parameters of one sum-of-sinusoids fading process.
#[derive(Clone, Debug, PartialEq)]
pub struct SosDraw {
    /// Angle offset theta in (-pi, pi].
    pub theta: f64,
    /// Per-sinusoid phases of the in-phase and quadrature branches.
    pub phi: Vec<f64>,
    pub psi: Vec<f64>,
    /// Line-of-sight arrival angle and phase.
    pub los_angle: f64,
    pub los_phase: f64,
}

impl SosDraw {
    pub fn random(n_sinusoids: usize, rng: &mut impl Rng) -> Self {
        let mut u = || rng.random_range(-PI..PI);
        Self {
            theta: u(),
            phi: (0..n_sinusoids).map(|_| u()).collect(),
            psi: (0..n_sinusoids).map(|_| u()).collect(),
            los_angle: u(),
            los_phase: u(),
        }
    }
}

/// Complex fading gain over `n` samples starting at time `t0_s`: the Xiao–Zheng–Beaulieu
/// sum-of-sinusoids Rayleigh process (unit mean power) plus, for Rician `k_factor` > 0, a
/// line-of-sight term; `k_factor = inf` is the line of sight alone (constant magnitude 1).
pub fn fading_gains(
    n: usize,
    t0_s: f64,
    sample_rate_hz: f64,
    max_doppler_hz: f64,
    k_factor: f64,
    draw: &SosDraw,
) -> Vec<C32> {
    let wd = 2.0 * PI * max_doppler_hz;
    let m = draw.phi.len().max(1) as f64;
    let (a_los, a_diff) = if k_factor.is_infinite() {
        (1.0, 0.0)
    } else {
        (
            (k_factor / (k_factor + 1.0)).sqrt(),
            (1.0 / (k_factor + 1.0)).sqrt(),
        )
    };
    // Each sinusoid advances by a fixed rotation per sample: phasor recursions instead of
    // 2 x M cosines per sample (the fader dominated generation time otherwise).
    let dt = 1.0 / sample_rate_hz;
    let rotator = |w: f64, phase: f64| {
        let start = w * t0_s + phase;
        ((start.cos(), start.sin()), ((w * dt).cos(), (w * dt).sin()))
    };
    let mut osc: Vec<((f64, f64), (f64, f64))> = Vec::with_capacity(2 * draw.phi.len() + 1);
    if a_diff > 0.0 {
        for (k, (phi, psi)) in draw.phi.iter().zip(&draw.psi).enumerate() {
            let alpha = (2.0 * PI * (k + 1) as f64 - PI + draw.theta) / (4.0 * m);
            osc.push(rotator(wd * alpha.cos(), *phi));
            osc.push(rotator(wd * alpha.sin(), *psi));
        }
    }
    let mut los = rotator(wd * draw.los_angle.cos(), draw.los_phase);
    // Each branch has variance 1 with sqrt(2/M); E|g|^2 = 1 needs another 1/sqrt 2.
    let s = (1.0 / m).sqrt() * a_diff;
    let step = |((c, sn), (dc, ds)): &mut ((f64, f64), (f64, f64))| {
        let now = *c;
        (*c, *sn) = (*c * *dc - *sn * *ds, *sn * *dc + *c * *ds);
        now
    };
    (0..n)
        .map(|_| {
            let mut re = 0.0;
            let mut im = 0.0;
            for pair in osc.chunks_exact_mut(2) {
                re += step(&mut pair[0]);
                im += step(&mut pair[1]);
            }
            let (lc, ls) = los.0;
            step(&mut los);
            C32::new((s * re + a_los * lc) as f32, (s * im + a_los * ls) as f32)
        })
        .collect()
}

/// A frequency offset that random-walks (GNU Radio `dynamic_channel_model`): it starts uniform in
/// `[-max_hz, max_hz]`, then moves by a Gaussian step of `std_hz` per sample, clipped at `max_hz`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomWalkOffset {
    pub std_hz: f64,
    pub max_hz: f64,
}

impl RandomWalkOffset {
    /// Draw the per-sample offset track of `n` samples.
    pub fn draw(&self, n: usize, rng: &mut impl Rng) -> Vec<f64> {
        let mut f = if self.max_hz > 0.0 {
            rng.random_range(-self.max_hz..=self.max_hz)
        } else {
            0.0
        };
        let step = Normal::new(0.0, self.std_hz.max(0.0)).expect("std is finite and non-negative");
        (0..n)
            .map(|_| {
                let now = f;
                f = (f + step.sample(rng)).clamp(-self.max_hz, self.max_hz);
                now
            })
            .collect()
    }
}

/// Small-scale fading of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FadingKind {
    Rayleigh,
    /// Rician with K-factor (line-of-sight to scattered power ratio, linear).
    Rician {
        k_factor: f64,
    },
}

/// Frequency-selective fading: a tapped delay line whose taps fade independently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FadingConfig {
    pub kind: FadingKind,
    pub delays_samples: Vec<f64>,
    pub magnitudes: Vec<f64>,
    pub max_doppler_hz: f64,
    pub n_sinusoids: usize,
}

/// Uniform-range receiver impairments.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IqImbalanceConfig {
    pub max_gain_db: f32,
    pub max_phase_deg: f32,
}

/// The randomised channel: which impairments apply and with what ranges. AWGN is added by the
/// generator between [`ChannelConfig::propagate`] and [`ChannelConfig::receive`], since its
/// level depends on the SNR label and the measured signal power.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct ChannelConfig {
    /// Sample-rate offset (clock drift) as a random walk, in Hz of the sample clock.
    pub sample_rate_offset: Option<RandomWalkOffset>,
    /// Random timing offset: a uniform fractional-sample delay.
    pub fractional_timing: bool,
    pub fading: Option<FadingConfig>,
    pub carrier_offset: Option<RandomWalkOffset>,
    /// Uniform random carrier phase.
    pub random_phase: bool,
    /// Wiener phase noise: per-sample phase step standard deviation.
    pub phase_noise_std_rad: Option<f32>,
    pub iq_imbalance: Option<IqImbalanceConfig>,
    /// DC offset magnitude up to this level relative to the signal power (dB).
    pub max_dc_offset_db: Option<f32>,
}

impl ChannelConfig {
    /// Check ranges once, before generation.
    pub fn validate(&self) -> Result<(), DspError> {
        for (name, w) in [
            ("sample_rate_offset", &self.sample_rate_offset),
            ("carrier_offset", &self.carrier_offset),
        ] {
            if let Some(w) = w
                && !(w.std_hz >= 0.0
                    && w.max_hz >= 0.0
                    && w.std_hz.is_finite()
                    && w.max_hz.is_finite())
            {
                return Err(DspError::invalid(
                    name,
                    format!("{w:?}"),
                    "finite, non-negative std_hz and max_hz",
                ));
            }
        }
        if let Some(f) = &self.fading {
            if f.delays_samples.len() != f.magnitudes.len() || f.delays_samples.is_empty() {
                return Err(DspError::invalid(
                    "fading.delays_samples",
                    format!("{:?} vs magnitudes {:?}", f.delays_samples, f.magnitudes),
                    "one delay per magnitude, at least one tap",
                ));
            }
            if f.delays_samples.iter().any(|d| !(*d >= 0.0 && *d < 64.0)) {
                return Err(DspError::invalid(
                    "fading.delays_samples",
                    format!("{:?}", f.delays_samples),
                    "delays in [0, 64) samples",
                ));
            }
            if let FadingKind::Rician { k_factor } = f.kind
                && (k_factor.is_nan() || k_factor < 0.0)
            {
                return Err(DspError::invalid(
                    "fading.k_factor",
                    k_factor,
                    "a non-negative K-factor",
                ));
            }
        }
        Ok(())
    }

    /// Longest delay the channel can add, in samples (the generator's margin).
    pub fn max_delay_samples(&self) -> usize {
        let taps = self.fading.as_ref().map_or(0.0, |f| {
            f.delays_samples.iter().cloned().fold(0.0, f64::max)
        });
        taps.ceil() as usize + INTERP_HALF + 1
    }

    /// Propagation: clock offset, timing, multipath fading, carrier offset and phase, phase noise.
    pub fn propagate(&self, x: &[C32], sample_rate_hz: f64, rng: &mut impl Rng) -> Vec<C32> {
        let n = x.len();
        let mut y = x.to_vec();
        if self.sample_rate_offset.is_some() || self.fractional_timing {
            let mut t = if self.fractional_timing {
                rng.random::<f64>()
            } else {
                0.0
            };
            let sro = self
                .sample_rate_offset
                .map(|w| w.draw(n, rng))
                .unwrap_or_else(|| vec![0.0; n]);
            let times: Vec<f64> = sro
                .iter()
                .map(|off| {
                    let now = t;
                    t += 1.0 + off / sample_rate_hz;
                    now
                })
                .collect();
            y = resample_at(&y, &times);
        }
        if let Some(f) = &self.fading {
            let k = match f.kind {
                FadingKind::Rayleigh => 0.0,
                FadingKind::Rician { k_factor } => k_factor,
            };
            // A random start time: the fader has been running for a while when the example is cut.
            let t0 = rng.random_range(0.0..1000.0);
            let gains: Vec<Vec<C32>> = f
                .magnitudes
                .iter()
                .map(|mag| {
                    let draw = SosDraw::random(f.n_sinusoids, rng);
                    let g = fading_gains(n, t0, sample_rate_hz, f.max_doppler_hz, k, &draw);
                    g.into_iter().map(|v| v * *mag as f32).collect()
                })
                .collect();
            y = tapped_delay_line(&y, &f.delays_samples, &gains);
        }
        let phase0 = if self.random_phase {
            rng.random_range(0.0..2.0 * PI)
        } else {
            0.0
        };
        if let Some(w) = self.carrier_offset {
            y = frequency_shift(&y, &w.draw(n, rng), sample_rate_hz, phase0);
        } else if phase0 != 0.0 {
            y = frequency_shift(&y, &[0.0], sample_rate_hz, phase0);
        }
        if let Some(std) = self.phase_noise_std_rad {
            let mut p = 0.0f32;
            let phases: Vec<f32> = (0..n)
                .map(|_| {
                    p += rng.sample::<f32, _>(StandardNormal) * std;
                    p
                })
                .collect();
            y = rotate(&y, &phases);
        }
        y
    }

    /// Receiver front end: IQ imbalance and DC offset (relative to `signal_power`).
    pub fn receive(&self, x: &[C32], signal_power: f32, rng: &mut impl Rng) -> Vec<C32> {
        let mut y = x.to_vec();
        if let Some(iq) = self.iq_imbalance {
            let g = rng.random_range(-1.0..=1.0) * iq.max_gain_db;
            let p = (rng.random_range(-1.0..=1.0) * iq.max_phase_deg).to_radians();
            y = iq_imbalance(&y, g, p);
        }
        if let Some(max_db) = self.max_dc_offset_db {
            let mag = (signal_power * 10f32.powf(max_db / 10.0)).sqrt() * rng.random::<f32>();
            let a = rng.random_range(0.0..2.0 * std::f32::consts::PI);
            y = dc_offset(&y, C32::new(mag * a.cos(), mag * a.sin()));
        }
        y
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // tests index several arrays at once
mod tests {
    use super::*;
    use crate::util::{db, mean_power};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn tone(n: usize, cycles_per_sample: f64) -> Vec<C32> {
        (0..n)
            .map(|i| {
                let a = 2.0 * PI * cycles_per_sample * i as f64;
                C32::new(a.cos() as f32, a.sin() as f32)
            })
            .collect()
    }

    #[test]
    fn awgn_gives_the_requested_snr_within_0_2_db() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = tone(100_000, 0.01);
        for snr_db in [-10.0f32, 0.0, 10.0, 20.0] {
            let std = noise_std(mean_power(&x), snr_db, SnrConvention::PowerRatio);
            let mut y = x.clone();
            add_awgn(&mut y, std, &mut rng);
            let noise: Vec<C32> = y.iter().zip(&x).map(|(a, b)| a - b).collect();
            let measured = db(mean_power(&x) as f64 / mean_power(&noise) as f64);
            assert!(
                (measured - snr_db as f64).abs() < 0.2,
                "{snr_db}: measured {measured}"
            );
        }
        // RadioML's convention: noise amplitude 10^(-snr/10), i.e. twice the label in dB.
        let std = noise_std(1.0, 5.0, SnrConvention::RadioMl);
        assert!((db(1.0 / (std * std) as f64) - 10.0).abs() < 1e-4);
    }

    #[test]
    fn cfo_rotates_by_2_pi_f_t() {
        let x = vec![C32::new(1.0, 0.0); 1000];
        let fs = 200_000.0;
        let y = frequency_shift(&x, &[500.0], fs, 0.3);
        for (n, v) in y.iter().enumerate() {
            let want = 0.3 + 2.0 * PI * 500.0 * n as f64 / fs;
            let err = (v * C32::new(want.cos() as f32, -want.sin() as f32))
                .arg()
                .abs();
            assert!(err < 1e-4, "sample {n}: phase error {err}");
        }
    }

    #[test]
    fn fractional_delay_delays_a_band_limited_tone() {
        let f = 0.05;
        let x = tone(400, f);
        let y = fractional_delay(&x, 0.9);
        for n in 20..380 {
            let want =
                tone(1, 0.0)[0] * C32::from_polar(1.0, (2.0 * PI * f * (n as f64 - 0.9)) as f32);
            assert!((y[n] - want).norm() < 1e-3, "sample {n}");
        }
    }

    #[test]
    fn rician_with_infinite_k_is_a_pure_delay_line() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let draw = SosDraw::random(8, &mut rng);
        let g = fading_gains(500, 12.0, 200e3, 0.0, f64::INFINITY, &draw);
        for v in &g {
            assert!((v - g[0]).norm() < 1e-6 && (v.norm() - 1.0).abs() < 1e-6);
        }
        // Integer delays with unit gains: exactly x[n] + 0.8 x[n-1] + 0.3 x[n-2].
        let x: Vec<C32> = (0..50)
            .map(|i| C32::new(i as f32, -(i as f32) * 0.5))
            .collect();
        let gains: Vec<Vec<C32>> = [1.0f32, 0.8, 0.3]
            .iter()
            .map(|m| vec![C32::new(*m, 0.0); 50])
            .collect();
        let y = tapped_delay_line(&x, &[0.0, 1.0, 2.0], &gains);
        for n in 2..50 {
            let want = x[n] + x[n - 1] * 0.8 + x[n - 2] * 0.3;
            assert!((y[n] - want).norm() < 1e-5);
        }
    }

    #[test]
    fn rayleigh_fading_has_unit_mean_power_and_rayleigh_envelope() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut powers = Vec::new();
        for _ in 0..4000 {
            let draw = SosDraw::random(8, &mut rng);
            let g = fading_gains(1, rng.random_range(0.0..100.0), 200e3, 10.0, 0.0, &draw);
            powers.push(g[0].norm_sqr() as f64);
        }
        let mean = powers.iter().sum::<f64>() / powers.len() as f64;
        assert!((mean - 1.0).abs() < 0.08, "mean power {mean}");
        // Rayleigh: P(|g|^2 < 0.1) = 1 - exp(-0.1) ~ 0.095.
        let deep = powers.iter().filter(|p| **p < 0.1).count() as f64 / powers.len() as f64;
        assert!((deep - 0.095).abs() < 0.03, "deep-fade probability {deep}");
    }

    #[test]
    fn random_walk_offsets_stay_in_bounds() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let w = RandomWalkOffset {
            std_hz: 5.0,
            max_hz: 50.0,
        };
        let track = w.draw(10_000, &mut rng);
        assert!(track.iter().all(|f| f.abs() <= 50.0));
    }

    #[test]
    fn iq_imbalance_and_dc_do_what_they_say() {
        let x = vec![C32::new(1.0, 1.0)];
        let y = iq_imbalance(&x, 20.0 * 2f32.log10(), 0.0);
        assert!((y[0] - C32::new(1.0, 2.0)).norm() < 1e-5);
        let y = dc_offset(&x, C32::new(0.5, -0.5));
        assert!((y[0] - C32::new(1.5, 0.5)).norm() < 1e-6);
    }
}
