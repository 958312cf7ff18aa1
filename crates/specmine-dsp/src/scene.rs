//! Wideband scenes with ground truth: several generator signals at random centre frequencies,
//! symbol rates, start times, durations and SNRs over a (optionally coloured) noise floor with
//! optional spurs. They are the test bench of the spectrum miner.
//!
//! Each signal is made by the RadioML 2016 modulators at 8 samples per "symbol" (the training
//! scale: 200 kHz for 25 kBd), interpolated by FFT to the scene rate (so a signal of symbol rate
//! `Rs` looks exactly like a training example resampled by `8 Rs / 200 kHz`), given a short
//! raised-cosine on/off ramp and mixed to its carrier. **Scene SNR** is the signal's mean power
//! over the noise power inside its nominal band `1.35 Rs` (the RRC 0.35 occupied bandwidth; the
//! same nominal band is used for the analog classes, whose source is scaled identically).
//! Signals never overlap in both time and frequency (guard of 10 % of the bandwidth), so the
//! truth is unambiguous; many overlap in time.

use crate::channel::add_awgn;
use crate::channelize::resample;
use crate::detect::OccupiedBand;
use crate::generator::GeneratorConfig;
use crate::modulate::modulate;
use crate::{C32, DspError, Modulation};
use rand::Rng;
use rustfft::FftPlanner;
use serde::{Deserialize, Serialize};

/// Settings of a scene.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneConfig {
    pub sample_rate_hz: f64,
    pub duration_s: f64,
    pub n_signals: usize,
    /// Scene SNR range (dB), drawn uniformly.
    pub snr_db: (f64, f64),
    /// Symbol-rate range (Bd), drawn log-uniformly.
    pub symbol_rate_hz: (f64, f64),
    /// Burst duration range (s), drawn uniformly.
    pub burst_s: (f64, f64),
    pub classes: Vec<Modulation>,
    /// Noise power per Hz is `1 / sample_rate` (total noise power 1) times this shape.
    pub coloured_noise: bool,
    /// Continuous tones this many dB above the noise power in one 1 kHz band.
    pub spurs: usize,
    /// SSB signals keep the lower sideband (training, like RadioML, has the upper one).
    #[serde(default)]
    pub lower_sideband: bool,
}

impl Default for SceneConfig {
    fn default() -> Self {
        Self {
            sample_rate_hz: 10e6,
            duration_s: 0.1,
            n_signals: 8,
            snr_db: (0.0, 20.0),
            symbol_rate_hz: (50e3, 400e3),
            burst_s: (5e-3, 30e-3),
            classes: GeneratorConfig::rml2016().modulations(),
            coloured_noise: false,
            spurs: 0,
            lower_sideband: false,
        }
    }
}

/// One signal of a scene (frequencies relative to the scene's centre).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneSignal {
    pub class: Modulation,
    pub sample_start: u64,
    pub sample_count: u64,
    pub center_hz: f64,
    pub symbol_rate_hz: f64,
    /// Nominal occupied band `1.35 Rs` (the SNR's reference band).
    pub bandwidth_hz: f64,
    pub snr_db: f64,
    /// Occupied band edges relative to the scene's centre: the nominal band for the digital
    /// classes; for the analog ones (whose spectrum follows the message: one sideband for SSB,
    /// a carrier line for AM with carrier) the band holding 99% of the signal's power.
    pub band_hz: (f64, f64),
}

impl SceneSignal {
    pub fn freq_lower_hz(&self) -> f64 {
        self.band_hz.0
    }
    pub fn freq_upper_hz(&self) -> f64 {
        self.band_hz.1
    }
}

/// Band `(lo, hi)` (Hz, relative to baseband) holding all but `tail` of the power of `y` on
/// each side.
pub fn occupied_band(y: &[C32], rate_hz: f64, tail: f64) -> (f64, f64) {
    let b = occupied_band_shape(y, rate_hz, tail);
    (b.lower_hz, b.upper_hz)
}

/// [`occupied_band`] with the power centroid inside it (where a one-sided spectrum, such as
/// SSB's, piles up its power).
pub fn occupied_band_shape(y: &[C32], rate_hz: f64, tail: f64) -> OccupiedBand {
    let n = y.len();
    let mut spec = y.to_vec();
    FftPlanner::<f32>::new()
        .plan_fft_forward(n)
        .process(&mut spec);
    // Ascending frequency: bins n/2.. are negative.
    let pow: Vec<f64> = (0..n)
        .map(|k| spec[(k + n - n / 2) % n].norm_sqr() as f64)
        .collect();
    let total: f64 = pow.iter().sum::<f64>().max(1e-300);
    let (mut acc, mut lo, mut hi) = (0.0, 0, n - 1);
    for (k, p) in pow.iter().enumerate() {
        acc += p;
        if acc >= tail * total {
            lo = k;
            break;
        }
    }
    acc = 0.0;
    for (k, p) in pow.iter().enumerate().rev() {
        acc += p;
        if acc >= tail * total {
            hi = k;
            break;
        }
    }
    let hi = hi.max(lo);
    let f = |k: usize| (k as f64 - (n / 2) as f64) * rate_hz / n as f64;
    OccupiedBand::of_bins((f(lo), f(hi)), &pow[lo..=hi], f(lo), rate_hz / n as f64)
}

/// A spur (continuous tone) of a scene.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spur {
    pub freq_hz: f64,
    pub power: f64,
}

/// Samples and truth of a scene.
pub struct Scene {
    pub samples: Vec<C32>,
    pub signals: Vec<SceneSignal>,
    pub spurs: Vec<Spur>,
}

/// Occupied band per symbol rate (RRC roll-off 0.35).
pub const BANDWIDTH_PER_BAUD: f64 = 1.35;

fn overlaps(a: &SceneSignal, b: &SceneSignal) -> bool {
    let t = a.sample_start < b.sample_start + b.sample_count
        && b.sample_start < a.sample_start + a.sample_count;
    let g = 0.1 * a.bandwidth_hz.max(b.bandwidth_hz);
    let f = a.freq_lower_hz() - g < b.freq_upper_hz() && b.freq_lower_hz() - g < a.freq_upper_hz();
    t && f
}

/// Synthesize a scene.
pub fn synthesize(cfg: &SceneConfig, rng: &mut impl Rng) -> Result<Scene, DspError> {
    let fs = cfg.sample_rate_hz;
    let n = (cfg.duration_s * fs).round() as usize;
    if fs.is_nan() || fs <= 0.0 || n < 1024 {
        return Err(DspError::invalid(
            "duration_s * sample_rate_hz",
            n,
            "at least 1024 samples",
        ));
    }
    if cfg.classes.is_empty() {
        return Err(DspError::invalid("classes", "[]", "at least one class"));
    }
    if !(cfg.symbol_rate_hz.0 > 0.0 && cfg.symbol_rate_hz.1 * BANDWIDTH_PER_BAUD < 0.8 * fs) {
        return Err(DspError::invalid(
            "symbol_rate_hz",
            format!("{:?}", cfg.symbol_rate_hz),
            "positive, with 1.35 x the top rate under 80% of the sample rate",
        ));
    }
    let mut x = vec![C32::new(0.0, 0.0); n];
    add_awgn(&mut x, 1.0, rng); // unit total noise power: 1 / fs per Hz
    if cfg.coloured_noise {
        // A smooth tilt and ripple of +-3 dB, normalised to keep total power 1.
        let mut planner = FftPlanner::<f32>::new();
        planner.plan_fft_forward(n).process(&mut x);
        let shape = |k: usize| {
            let f = ((k + n / 2) % n) as f64 / n as f64 - 0.5;
            10f64.powf((3.0 * f + 1.5 * (2.0 * std::f64::consts::PI * 3.0 * f).cos()) / 20.0)
        };
        let mean_pow: f64 = (0..n).map(|k| shape(k).powi(2)).sum::<f64>() / n as f64;
        for (k, v) in x.iter_mut().enumerate() {
            *v *= (shape(k) / mean_pow.sqrt()) as f32 / n as f32;
        }
        planner.plan_fft_inverse(n).process(&mut x);
    }
    let mut spurs = vec![];
    for _ in 0..cfg.spurs {
        let f = rng.random_range(-0.45..0.45) * fs;
        // 20 dB over the noise in 1 kHz.
        let p = 100.0 * 1e3 / fs;
        let a = (p as f32).sqrt();
        for (t, v) in x.iter_mut().enumerate() {
            let ph = 2.0 * std::f64::consts::PI * f * t as f64 / fs;
            *v += C32::new(ph.cos() as f32, ph.sin() as f32) * a;
        }
        spurs.push(Spur {
            freq_hz: f,
            power: p,
        });
    }
    let mut modcfg = GeneratorConfig::rml2016().modulator;
    modcfg.ssb_upper = !cfg.lower_sideband;
    let sps = modcfg.sps as f64;
    let mut signals: Vec<SceneSignal> = vec![];
    let mut tries = 0;
    while signals.len() < cfg.n_signals && tries < 1000 {
        tries += 1;
        let (lo, hi) = cfg.symbol_rate_hz;
        let rs = lo * (hi / lo).powf(rng.random::<f64>());
        let bw = BANDWIDTH_PER_BAUD * rs;
        let dur = rng.random_range(cfg.burst_s.0..=cfg.burst_s.1.max(cfg.burst_s.0));
        let count = ((dur * fs) as usize).clamp(1024, n);
        let start = rng.random_range(0..=n - count);
        let edge = 0.5 * fs - 0.6 * bw;
        let center_hz = rng.random_range(-edge..edge);
        let mut s = SceneSignal {
            class: cfg.classes[rng.random_range(0..cfg.classes.len())],
            sample_start: start as u64,
            sample_count: count as u64,
            center_hz,
            symbol_rate_hz: rs,
            bandwidth_hz: bw,
            snr_db: rng.random_range(cfg.snr_db.0..=cfg.snr_db.1.max(cfg.snr_db.0)),
            band_hz: (center_hz - bw / 2.0, center_hz + bw / 2.0),
        };
        // Source at 8 samples per symbol; the modulators' sample rate sets the analog scale.
        let rate = sps * rs;
        let n_src = (count as f64 * rate / fs).ceil() as usize + 16;
        let src = modulate(s.class, n_src, &modcfg, rng)?;
        let mut y = resample(&src, rate, fs);
        y.truncate(count);
        // Analog and continuous-phase FSK signals are not raised-cosine shaped: their nominal
        // 1.35 x symbol rate says little about where their energy is, so their truth box is
        // their measured 99% occupied band.
        if s.class.is_analog()
            || matches!(
                s.class,
                Modulation::Gfsk | Modulation::Cpfsk | Modulation::Gmsk
            )
        {
            let (lo, hi) = occupied_band(&y, fs, 0.005);
            s.band_hz = (center_hz + lo, center_hz + hi);
        }
        if signals.iter().any(|o| overlaps(o, &s)) {
            continue;
        }
        let p = y.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / y.len() as f64;
        let want = 10f64.powf(s.snr_db / 10.0) * bw / fs; // noise power in the band: bw / fs
        let amp = (want / p.max(1e-30)).sqrt();
        let ramp = 64.min(count / 4);
        let phase0: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        for (t, v) in y.iter().enumerate() {
            let w = if t < ramp {
                0.5 - 0.5 * (std::f64::consts::PI * t as f64 / ramp as f64).cos()
            } else if t >= count - ramp {
                0.5 - 0.5 * (std::f64::consts::PI * (count - 1 - t) as f64 / ramp as f64).cos()
            } else {
                1.0
            };
            let ph = phase0 + 2.0 * std::f64::consts::PI * s.center_hz * (start + t) as f64 / fs;
            x[start + t] += v * C32::new(ph.cos() as f32, ph.sin() as f32) * (amp * w) as f32;
        }
        signals.push(s);
    }
    signals.sort_by_key(|s| s.sample_start);
    Ok(Scene {
        samples: x,
        signals,
        spurs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn ssb_speech_is_one_sided_and_the_others_are_not() {
        // The miner's sideband test: SSB speech piles its power at the suppressed carrier's
        // edge (about half the half-width off mid-band), AM with carrier and FM do not.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for (m, upper) in [
            (Modulation::AmSsbSc, true),
            (Modulation::AmSsbSc, false),
            (Modulation::AmDsbWc, true),
            (Modulation::Fm, true),
        ] {
            let mut cfg = GeneratorConfig::rml2016().modulator;
            cfg.ssb_upper = upper;
            for _ in 0..4 {
                let x = modulate(m, 8192, &cfg, &mut rng).unwrap();
                let a = occupied_band_shape(&x, 1.0, 0.005).asymmetry();
                match (m, upper) {
                    (Modulation::AmSsbSc, true) => assert!(a < -0.3, "USB: {a}"),
                    (Modulation::AmSsbSc, false) => assert!(a > 0.3, "LSB: {a}"),
                    _ => assert!(a.abs() < 0.2, "{m:?}: {a}"),
                }
            }
        }
    }

    #[test]
    fn signals_have_their_snr_in_band_and_do_not_collide() {
        let cfg = SceneConfig {
            sample_rate_hz: 2e6,
            duration_s: 0.05,
            n_signals: 4,
            // At 0 dB a noise level off by 3 dB would show as -3 or +1.8 dB.
            snr_db: (0.0, 0.0),
            burst_s: (0.02, 0.03),
            symbol_rate_hz: (50e3, 100e3),
            // Digital classes: their power is inside 1.35 Rs by construction.
            classes: vec![
                Modulation::Bpsk,
                Modulation::Qpsk,
                Modulation::Qam16,
                Modulation::Pam4,
            ],
            ..Default::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let sc = synthesize(&cfg, &mut rng).unwrap();
        assert_eq!(sc.signals.len(), 4);
        for (i, a) in sc.signals.iter().enumerate() {
            for b in &sc.signals[i + 1..] {
                assert!(!overlaps(a, b));
            }
        }
        // Measure each signal's in-band power: extract its band, subtract the noise's share.
        for s in &sc.signals {
            let a = s.sample_start as usize + 200;
            let b = (s.sample_start + s.sample_count) as usize - 200;
            let band =
                crate::channelize::extract(&sc.samples[a..b], 2e6, s.center_hz, s.bandwidth_hz);
            let p: f64 = band.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / band.len() as f64;
            let noise = s.bandwidth_hz / 2e6;
            let snr = 10.0 * ((p - noise) / noise).log10();
            // RRC energy outside 1.35 Rs is small; the estimate scatters by a few tenths of a dB.
            assert!(snr.abs() < 1.0, "{:?}: measured {snr:.2} dB", s.class);
        }
    }
}
