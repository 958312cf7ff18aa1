//! Blind symbol-rate estimation from cyclostationarity (Gardner 1988, "Signal interception: a
//! unifying theoretical framework for feature detection"): a digitally modulated signal has
//! periodic statistics at its symbol rate, seen as a spectral line of a non-linear function of
//! it. Two features are tried:
//! - the instantaneous power `|x|^2`, whose spectrum has a line at the symbol rate for
//!   pulse-shaped linear modulations (PSK, QAM, ASK, APSK with a raised-cosine pulse);
//! - the magnitude of the change of the (smoothed) instantaneous frequency, which peaks at every symbol
//!   transition of continuous-phase FSK (CPFSK, GFSK, GMSK), whose envelope is constant.
//!
//! Analog signals show neither line; callers fall back to a bandwidth-based estimate.

use crate::C32;
use rustfft::FftPlanner;

/// Which feature gave the rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RateFeature {
    /// The line of `|x|^2` (linear modulations).
    Envelope,
    /// The line of the instantaneous frequency's transitions (continuous-phase FSK).
    FrequencyTransitions,
}

/// A symbol rate and how clearly it showed.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct RateEstimate {
    pub rate_hz: f64,
    /// Line power over the median power of the searched range.
    pub strength: f64,
    pub feature: RateFeature,
}

/// The strongest spectral line of the real sequence `v` (sampled at `fs`) between `f_lo` and
/// `f_hi`, located by parabolic interpolation, with its power over the range's median.
pub fn strongest_line(v: &[f32], fs: f64, f_lo: f64, f_hi: f64) -> Option<(f64, f64)> {
    if v.len() < 16 || f_hi <= f_lo || f_hi > fs / 2.0 {
        return None;
    }
    let mean = v.iter().map(|&a| a as f64).sum::<f64>() / v.len() as f64;
    // Zero-padded twice over: finer bins for the interpolation.
    let n = (2 * v.len()).next_power_of_two();
    let mut buf: Vec<C32> = v
        .iter()
        .map(|&a| C32::new((a as f64 - mean) as f32, 0.0))
        .chain(std::iter::repeat(C32::new(0.0, 0.0)))
        .take(n)
        .collect();
    FftPlanner::<f32>::new()
        .plan_fft_forward(n)
        .process(&mut buf);
    let df = fs / n as f64;
    let k0 = ((f_lo / df).ceil() as usize).max(1);
    let k1 = ((f_hi / df).floor() as usize).min(n / 2 - 1);
    if k1 < k0 + 4 {
        return None;
    }
    let p: Vec<f64> = (k0..=k1).map(|k| buf[k].norm_sqr() as f64).collect();
    let (i, &peak) = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let mut sorted = p.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2].max(1e-30);
    let offset = if i > 0 && i + 1 < p.len() {
        let (a, b, c) = (p[i - 1], p[i], p[i + 1]);
        let den = a - 2.0 * b + c;
        if den.abs() > 0.0 {
            (0.5 * (a - c) / den).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    Some(((k0 + i) as f64 * df + offset * df, peak / median))
}

/// The symbol rate of the baseband signal `x` (sampled at `fs`, occupying about `band_hz`
/// around DC; `fs` about 8 x `band_hz`), or `None` when neither feature shows a line at least
/// `min_strength` (envelope) or twice that (transitions) times the median of its search
/// range. Noise alone gives 10-17 on the envelope (the largest of many exponential bins) and
/// up to about 50 on the transitions; a thousand symbols of a digital signal at 10 dB give
/// hundreds, so 40 is a workable bar.
pub fn estimate_symbol_rate(
    x: &[C32],
    fs: f64,
    band_hz: f64,
    min_strength: f64,
) -> Option<RateEstimate> {
    if x.len() < 64 || band_hz <= 0.0 {
        return None;
    }
    if let Some(e) = envelope_rate(x, fs, band_hz, min_strength) {
        return Some(e);
    }
    // Noise outside the band swamps the phase differences: band-limit to about 2 x the band
    // first (a length rustfft transforms fast, so the rate is a little over 2 x).
    let n_lim =
        crate::util::fast_fft_len_above((x.len() as f64 * 2.0 * band_hz / fs).ceil() as usize)
            .min(x.len());
    let lim_rate = fs * n_lim as f64 / x.len() as f64;
    let lim =
        crate::channelize::resample(&crate::channelize::resample(x, fs, lim_rate), lim_rate, fs);
    // The transition feature of noise has a coloured spectrum: its largest bin over the median
    // reaches 25 typically and 50 rarely (measured, 8192 samples), so it needs twice the bar.
    transition_rate(&lim, fs, band_hz, 2.0 * min_strength)
}

/// The envelope feature alone (see [`estimate_symbol_rate`]).
pub fn envelope_rate(x: &[C32], fs: f64, band_hz: f64, min_strength: f64) -> Option<RateEstimate> {
    // Raised-cosine signals: the 99% band is about 1.0-1.35 x the symbol rate.
    let env: Vec<f32> = x.iter().map(|v| v.norm_sqr()).collect();
    line_rate(
        &env,
        fs,
        (0.55, 1.25),
        band_hz,
        min_strength,
        RateFeature::Envelope,
    )
}

/// The frequency-transition feature alone (see [`estimate_symbol_rate`]), on a signal already
/// band-limited to about its band.
pub fn transition_rate(
    x: &[C32],
    fs: f64,
    band_hz: f64,
    min_strength: f64,
) -> Option<RateEstimate> {
    // Instantaneous frequency, smoothed over 4 samples (noise in the phase difference is
    // white), then the size of its change: peaks at each symbol transition.
    let inst: Vec<f32> = x.windows(2).map(|w| (w[1] * w[0].conj()).arg()).collect();
    let smooth: Vec<f32> = inst
        .windows(4)
        .map(|w| w.iter().sum::<f32>() / 4.0)
        .collect();
    let trans: Vec<f32> = smooth.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    // Continuous-phase FSK: the 99% band is about 0.7-2 x the symbol rate.
    let feature = RateFeature::FrequencyTransitions;
    line_rate(&trans, fs, (0.4, 1.6), band_hz, min_strength, feature)
}

/// The strongest line of the feature `v` between `range.0` and `range.1` times `band_hz`
/// (below Nyquist), as a rate when it stands at least `min_strength` over the median.
fn line_rate(
    v: &[f32],
    fs: f64,
    range: (f64, f64),
    band_hz: f64,
    min_strength: f64,
    feature: RateFeature,
) -> Option<RateEstimate> {
    let top = fs / 2.0 * 0.95;
    let (f, s) = strongest_line(v, fs, range.0 * band_hz, (range.1 * band_hz).min(top))?;
    (s >= min_strength).then_some(RateEstimate {
        rate_hz: f,
        strength: s,
        feature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Modulation;
    use crate::channel::add_awgn;
    use crate::generator::GeneratorConfig;
    use crate::modulate::modulate;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn band_99(x: &[C32], fs: f64) -> f64 {
        let (lo, hi) = crate::scene::occupied_band(x, fs, 0.005);
        hi - lo
    }

    #[test]
    fn linear_and_fsk_modulations_give_their_symbol_rate() {
        // The modulators run at 8 samples per symbol: at fs = 8 the symbol rate is 1.
        let cfg = GeneratorConfig::rml2016().modulator;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let fs = 8.0;
        for (m, feature) in [
            (Modulation::Bpsk, RateFeature::Envelope),
            (Modulation::Qpsk, RateFeature::Envelope),
            (Modulation::Qam16, RateFeature::Envelope),
            (Modulation::Psk8, RateFeature::Envelope),
            (Modulation::Cpfsk, RateFeature::FrequencyTransitions),
            (Modulation::Gfsk, RateFeature::FrequencyTransitions),
            (Modulation::Gmsk, RateFeature::FrequencyTransitions),
            (Modulation::Pam4, RateFeature::Envelope),
        ] {
            let mut x = modulate(m, 8 * 1024, &cfg, &mut rng).unwrap();
            let bw = band_99(&x, fs);
            // 15 dB in the band: noise power bw / fs of the unit signal power / 10^1.5.
            add_awgn(&mut x, (bw / fs / 10f64.powf(1.5)).sqrt() as f32, &mut rng);
            let e = estimate_symbol_rate(&x, fs, bw, 40.0)
                .unwrap_or_else(|| panic!("{m}: no symbol rate found (band {bw})"));
            assert_eq!(e.feature, feature, "{m}: {e:?}");
            assert!((e.rate_hz - 1.0).abs() < 0.02, "{m}: {e:?}");
        }
    }

    #[test]
    fn noise_gives_no_symbol_rate() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for _ in 0..20 {
            let mut z = vec![C32::new(0.0, 0.0); 8192];
            add_awgn(&mut z, 1.0, &mut rng);
            assert_eq!(estimate_symbol_rate(&z, 8.0, 1.0, 40.0), None);
        }
    }
}
