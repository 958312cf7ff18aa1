//! Speech-like analog messages for the AM and FM classes.
//!
//! The RadioML generators modulated recorded speech. Here a message is Gaussian noise shaped in
//! the frequency domain to a speech-like spectrum — a 2nd-order 300 Hz high-pass, a first-order
//! roll-off above 800 Hz (speech falls about 6 dB/octave above its first formants) and a
//! 4th-order Butterworth band edge at `bandwidth_hz` — scaled by a random syllable loudness,
//! with pauses (a fraction of messages are near-silent, as a talker's pauses are).
//!
//! Synthesising the spectrum directly gives the analytic message `m + j H{m}` for free (only
//! positive frequencies are drawn), which makes single-sideband modulation exact.

use crate::C32;
use rand::Rng;
use rand_distr::StandardNormal;
use rustfft::FftPlanner;
use std::cell::RefCell;

/// Shape and dynamics of the message.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MessageConfig {
    /// Upper band edge of the message (speech: about 3.4 kHz; broadcast FM audio: 15 kHz).
    pub bandwidth_hz: f64,
    /// Probability that an example falls in a pause.
    pub pause_probability: f64,
    /// Amplitude of the message in a pause relative to speech.
    pub pause_level: f64,
}

impl Default for MessageConfig {
    fn default() -> Self {
        Self {
            bandwidth_hz: 5_000.0,
            pause_probability: 0.1,
            pause_level: 0.02,
        }
    }
}

/// Magnitude response of the speech-like shaping at `f_hz`.
fn speech_shape(f_hz: f64, bandwidth_hz: f64) -> f64 {
    let hp = (f_hz / 300.0).powi(4);
    let hp = hp / (1.0 + hp);
    let tilt = 1.0 / (1.0 + (f_hz / 800.0).powi(2));
    let lp = 1.0 / (1.0 + (f_hz / bandwidth_hz).powi(8));
    (hp * tilt * lp).sqrt()
}

thread_local! {
    static PLANNER: RefCell<FftPlanner<f32>> = RefCell::new(FftPlanner::new());
}

/// The analytic message `m + j H{m}` of `n` samples at `sample_rate_hz`. Its real part has RMS
/// about 0.3 in speech (peaks near 1), `pause_level` times that in a pause.
pub fn speech_like_analytic(
    n: usize,
    sample_rate_hz: f64,
    cfg: &MessageConfig,
    rng: &mut impl Rng,
) -> Vec<C32> {
    if n == 0 {
        return Vec::new();
    }
    // A block several times longer than n, so the window does not see the block's periodicity
    // and the spectrum is finely resolved even for short vectors.
    let len = (4 * n).next_power_of_two().max(4096);
    let bw = cfg.bandwidth_hz.min(0.45 * sample_rate_hz);
    let mut spec = vec![C32::new(0.0, 0.0); len];
    for (k, bin) in spec.iter_mut().enumerate().take(len / 2).skip(1) {
        let g = speech_shape(k as f64 * sample_rate_hz / len as f64, bw) as f32;
        *bin = C32::new(
            rng.sample::<f32, _>(StandardNormal),
            rng.sample::<f32, _>(StandardNormal),
        ) * g;
    }
    PLANNER.with(|p| p.borrow_mut().plan_fft_inverse(len).process(&mut spec));
    let start = rng.random_range(0..=len - n);
    let mut a = spec[start..start + n].to_vec();
    let rms = (a.iter().map(|v| (v.re as f64).powi(2)).sum::<f64>() / n as f64)
        .sqrt()
        .max(1e-20);
    let level = if rng.random::<f64>() < cfg.pause_probability {
        cfg.pause_level
    } else {
        // Syllable loudness varies by a few dB from example to example.
        10f64.powf(rng.random_range(-3.0..3.0) / 20.0)
    };
    let g = (0.3 * level / rms) as f32;
    a.iter_mut().for_each(|v| *v *= g);
    a
}

/// The real message alone (the real part of [`speech_like_analytic`]).
pub fn speech_like(
    n: usize,
    sample_rate_hz: f64,
    cfg: &MessageConfig,
    rng: &mut impl Rng,
) -> Vec<f32> {
    speech_like_analytic(n, sample_rate_hz, cfg, rng)
        .into_iter()
        .map(|v| v.re)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn hann_spectrum(x: &[C32]) -> Vec<f64> {
        let n = x.len();
        let mut b: Vec<C32> = crate::util::hann(x);
        FftPlanner::new().plan_fft_forward(n).process(&mut b);
        b.iter().map(|c| c.norm_sqr() as f64).collect()
    }

    #[test]
    fn message_is_band_limited_and_analytic() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let cfg = MessageConfig {
            pause_probability: 0.0,
            ..Default::default()
        };
        let fs = 200_000.0;
        let a = speech_like_analytic(8192, fs, &cfg, &mut rng);
        let p = hann_spectrum(&a);
        let bin = |f: f64| (f / fs * 8192.0) as usize;
        let band: f64 = p[1..bin(5_000.0)].iter().sum();
        let out: f64 = p[bin(15_000.0)..4096].iter().sum();
        let neg: f64 = p[4097..8191].iter().sum();
        assert!(band / out > 1e4, "out-of-band ratio {}", band / out);
        assert!(band / neg > 1e4, "negative-frequency ratio {}", band / neg);
        let rms = (a.iter().map(|v| (v.re as f64).powi(2)).sum::<f64>() / 8192.0).sqrt();
        assert!(rms < 0.3 * 1.5 && rms > 0.3 / 1.5);
    }
}
