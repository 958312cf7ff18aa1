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

/// A log-power spectrogram of one interleaved I/Q vector (`[i0, q0, i1, q1, ...]`, `L`
/// samples) as an image of `2 L` values, row-major `[n_fft (frequency, fftshifted), 2 L / n_fft
/// (time)]`: Hann-windowed frames of `n_fft` samples every `n_fft / 2` (the last ones zero
/// padded), each pixel `ln(power / mean power + 1e-3)`. The image-shaped view of the RF task
/// (`specmine study degradation --task spectrogram`): 128 samples give 16 x 16 at `n_fft` 16.
pub fn spectrogram_image(iq: &[f32], n_fft: usize) -> Vec<f32> {
    let l = iq.len() / 2;
    let hop = (n_fft / 2).max(1);
    let frames = (2 * l).div_ceil(n_fft);
    let fft = rustfft::FftPlanner::<f32>::new().plan_fft_forward(n_fft);
    let mut p = vec![0f32; n_fft * frames];
    let mut buf = vec![C32::new(0.0, 0.0); n_fft];
    for f in 0..frames {
        for (k, v) in buf.iter_mut().enumerate() {
            let t = f * hop + k;
            let w = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * k as f32 / n_fft as f32).cos();
            *v = if t < l {
                C32::new(iq[2 * t], iq[2 * t + 1]) * w
            } else {
                C32::new(0.0, 0.0)
            };
        }
        fft.process(&mut buf);
        for (k, v) in buf.iter().enumerate() {
            p[((k + n_fft / 2) % n_fft) * frames + f] = v.norm_sqr();
        }
    }
    let mean = (p.iter().map(|&v| v as f64).sum::<f64>() / p.len() as f64).max(1e-30) as f32;
    p.iter().map(|&v| (v / mean + 1e-3).ln()).collect()
}

/// Whether `n`'s prime factors are all 2, 3 or 5 (FFT lengths rustfft transforms fast; other
/// lengths go through Bluestein's algorithm, several times slower).
pub fn is_fast_fft_len(mut n: usize) -> bool {
    if n == 0 {
        return false;
    }
    for p in [2, 3, 5] {
        while n.is_multiple_of(p) {
            n /= p;
        }
    }
    n == 1
}

/// The largest fast FFT length (see [`is_fast_fft_len`]) not above `n` (`n >= 1`).
pub fn fast_fft_len_below(n: usize) -> usize {
    (1..=n.max(1))
        .rev()
        .find(|&m| is_fast_fft_len(m))
        .unwrap_or(1)
}

/// The smallest fast FFT length (see [`is_fast_fft_len`]) not below `n`.
pub fn fast_fft_len_above(n: usize) -> usize {
    (n.max(1)..)
        .find(|&m| is_fast_fft_len(m))
        .expect("fast lengths are unbounded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_lights_its_row_of_the_spectrogram_image() {
        // 128 samples of a tone at +1/4 cycle per sample: bin 4 of 16, row 8 + 4 after the shift.
        let iq: Vec<f32> = (0..128)
            .flat_map(|t| {
                let ph = 2.0 * std::f32::consts::PI * 0.25 * t as f32;
                [ph.cos(), ph.sin()]
            })
            .collect();
        let img = spectrogram_image(&iq, 16);
        assert_eq!(img.len(), 256);
        for f in 0..15 {
            let col: Vec<f32> = (0..16).map(|r| img[r * 16 + f]).collect();
            let peak = (0..16).max_by(|&a, &b| col[a].total_cmp(&col[b])).unwrap();
            assert_eq!(peak, 12, "frame {f}: {col:?}");
        }
    }

    #[test]
    fn fast_fft_lengths() {
        assert!(is_fast_fft_len(1) && is_fast_fft_len(7680) && is_fast_fft_len(131072));
        assert!(!is_fast_fft_len(0) && !is_fast_fft_len(7) && !is_fast_fft_len(131071));
        assert_eq!(fast_fft_len_below(131071), 129600);
        assert_eq!(fast_fft_len_above(131073), 131220);
        assert_eq!(fast_fft_len_above(1000), 1000);
    }
}
