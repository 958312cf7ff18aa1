//! I/Q data augmentation: the RF analogues of crops, flips and photometric distortions.
//!
//! Each transform is a pure kernel on one interleaved `[L, 2]` (I, Q) vector plus a random
//! wrapper with a probability and a range ([`Augment`]). Phase rotation, frequency offset,
//! conjugate time reversal and IQ swap preserve power exactly; a cyclic time shift preserves
//! every sample; gain and added noise change power by design.

use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::f32::consts::PI;

/// Rotate every sample by `phase_rad`.
pub fn rotate_phase(x: &mut [f32], phase_rad: f32) {
    let (s, c) = phase_rad.sin_cos();
    for v in x.chunks_exact_mut(2) {
        let (i, q) = (v[0], v[1]);
        v[0] = i * c - q * s;
        v[1] = i * s + q * c;
    }
}

/// Shift the spectrum by `cycles_per_sample` (a carrier offset of `f * sample_rate`).
pub fn frequency_shift(x: &mut [f32], cycles_per_sample: f32) {
    for (n, v) in x.chunks_exact_mut(2).enumerate() {
        let (s, c) = (2.0 * PI * cycles_per_sample * n as f32).sin_cos();
        let (i, q) = (v[0], v[1]);
        v[0] = i * c - q * s;
        v[1] = i * s + q * c;
    }
}

/// Cyclic shift by `k` samples (to the right).
pub fn cyclic_shift(x: &mut [f32], k: usize) {
    let n = x.len() / 2;
    if n > 0 {
        x.rotate_right(2 * (k % n));
    }
}

/// `x[n] -> conj(x[L - 1 - n])`: the time reversal of a complex signal that keeps its spectrum.
pub fn conjugate_time_reversal(x: &mut [f32]) {
    let n = x.len() / 2;
    for k in 0..n / 2 {
        let (a, b) = (2 * k, 2 * (n - 1 - k));
        x.swap(a, b);
        x.swap(a + 1, b + 1);
    }
    for v in x.chunks_exact_mut(2) {
        v[1] = -v[1];
    }
}

/// Swap the I and Q rails.
pub fn iq_swap(x: &mut [f32]) {
    for v in x.chunks_exact_mut(2) {
        v.swap(0, 1);
    }
}

/// Multiply by a gain in dB.
pub fn gain(x: &mut [f32], gain_db: f32) {
    let g = 10f32.powf(gain_db / 20.0);
    x.iter_mut().for_each(|v| *v *= g);
}

/// Add white Gaussian noise at `snr_db` relative to the vector's own power.
pub fn add_noise(x: &mut [f32], snr_db: f32, rng: &mut impl Rng) {
    let n = (x.len() / 2).max(1);
    let p: f32 = x.iter().map(|v| v * v).sum::<f32>() / n as f32;
    let std = (p / 10f32.powf(snr_db / 10.0) / 2.0).sqrt();
    for v in x.iter_mut() {
        *v += std * rng.sample::<f32, _>(StandardNormal);
    }
}

/// The augmentation policy: each transform's probability (0 disables it) and range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Augment {
    pub time_shift_p: f32,
    pub phase_p: f32,
    pub freq_offset_p: f32,
    /// Largest frequency offset, cycles per sample.
    pub max_freq_offset: f32,
    pub conj_reverse_p: f32,
    pub iq_swap_p: f32,
    pub gain_p: f32,
    pub max_gain_db: f32,
    pub noise_p: f32,
    /// Added noise SNR range (dB).
    pub noise_snr_db: [f32; 2],
}

impl Default for Augment {
    /// All off.
    fn default() -> Self {
        Self {
            time_shift_p: 0.0,
            phase_p: 0.0,
            freq_offset_p: 0.0,
            max_freq_offset: 0.01,
            conj_reverse_p: 0.0,
            iq_swap_p: 0.0,
            gain_p: 0.0,
            max_gain_db: 3.0,
            noise_p: 0.0,
            noise_snr_db: [10.0, 30.0],
        }
    }
}

impl Augment {
    /// A sensible policy for RadioML-style training: shifts, rotations, small offsets.
    pub fn standard() -> Self {
        Self {
            time_shift_p: 0.5,
            phase_p: 0.5,
            freq_offset_p: 0.3,
            max_freq_offset: 0.005,
            ..Self::default()
        }
    }

    pub fn is_off(&self) -> bool {
        [
            self.time_shift_p,
            self.phase_p,
            self.freq_offset_p,
            self.conj_reverse_p,
            self.iq_swap_p,
            self.gain_p,
            self.noise_p,
        ]
        .iter()
        .all(|p| *p <= 0.0)
    }

    /// Check probabilities and ranges (messages name the field).
    pub fn validate(&self) -> Result<(), crate::DspError> {
        for (name, p) in [
            ("time_shift_p", self.time_shift_p),
            ("phase_p", self.phase_p),
            ("freq_offset_p", self.freq_offset_p),
            ("conj_reverse_p", self.conj_reverse_p),
            ("iq_swap_p", self.iq_swap_p),
            ("gain_p", self.gain_p),
            ("noise_p", self.noise_p),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(crate::DspError::invalid(name, p, "a probability in [0, 1]"));
            }
        }
        if !(0.0..0.5).contains(&self.max_freq_offset) {
            return Err(crate::DspError::invalid(
                "max_freq_offset",
                self.max_freq_offset,
                "cycles per sample in [0, 0.5)",
            ));
        }
        if self.noise_snr_db[0] > self.noise_snr_db[1] {
            return Err(crate::DspError::invalid(
                "noise_snr_db",
                format!("{:?}", self.noise_snr_db),
                "a [low, high] range",
            ));
        }
        Ok(())
    }

    /// Apply the policy to one `[L, 2]` vector.
    pub fn apply(&self, x: &mut [f32], rng: &mut impl Rng) {
        let hit = |p: f32, rng: &mut dyn rand::RngCore| p > 0.0 && rng.random::<f32>() < p;
        if hit(self.time_shift_p, rng) {
            let k = rng.random_range(0..(x.len() / 2).max(1));
            cyclic_shift(x, k);
        }
        if hit(self.phase_p, rng) {
            rotate_phase(x, rng.random_range(0.0..2.0 * PI));
        }
        if hit(self.freq_offset_p, rng) && self.max_freq_offset > 0.0 {
            frequency_shift(
                x,
                rng.random_range(-self.max_freq_offset..=self.max_freq_offset),
            );
        }
        if hit(self.conj_reverse_p, rng) {
            conjugate_time_reversal(x);
        }
        if hit(self.iq_swap_p, rng) {
            iq_swap(x);
        }
        if hit(self.gain_p, rng) && self.max_gain_db > 0.0 {
            gain(x, rng.random_range(-self.max_gain_db..=self.max_gain_db));
        }
        if hit(self.noise_p, rng) {
            let [lo, hi] = self.noise_snr_db;
            add_noise(
                x,
                if hi > lo {
                    rng.random_range(lo..=hi)
                } else {
                    lo
                },
                rng,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn power(x: &[f32]) -> f32 {
        x.iter().map(|v| v * v).sum()
    }

    fn vector(rng: &mut ChaCha8Rng) -> Vec<f32> {
        (0..256).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    #[test]
    fn power_preserving_transforms_preserve_power_and_shape() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = vector(&mut rng);
        let p = power(&x);
        type Op = Box<dyn Fn(&mut [f32])>;
        let ops: [(&str, Op); 5] = [
            ("phase", Box::new(|v| rotate_phase(v, 1.1))),
            ("freq", Box::new(|v| frequency_shift(v, 0.01))),
            ("shift", Box::new(|v| cyclic_shift(v, 17))),
            ("conj", Box::new(conjugate_time_reversal)),
            ("swap", Box::new(iq_swap)),
        ];
        for (name, op) in ops {
            let mut y = x.clone();
            op(&mut y);
            assert_eq!(y.len(), x.len());
            assert!((power(&y) - p).abs() / p < 1e-5, "{name}");
            assert_ne!(y, x, "{name} changed nothing");
        }
    }

    #[test]
    fn transforms_do_what_they_say() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        conjugate_time_reversal(&mut x);
        assert_eq!(x, vec![5.0, -6.0, 3.0, -4.0, 1.0, -2.0]);
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        cyclic_shift(&mut x, 1);
        assert_eq!(x, vec![5.0, 6.0, 1.0, 2.0, 3.0, 4.0]);
        let mut x = vec![1.0, 0.0];
        rotate_phase(&mut x, PI / 2.0);
        assert!((x[0]).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6);
        let mut x = vec![1.0, 1.0];
        gain(&mut x, 20.0 * 2f32.log10());
        assert!((x[0] - 2.0).abs() < 1e-5);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let clean = vec![1.0f32; 200_000];
        let mut noisy = clean.clone();
        add_noise(&mut noisy, 10.0, &mut rng);
        let n: f32 = noisy.iter().zip(&clean).map(|(a, b)| (a - b).powi(2)).sum();
        let snr = 10.0 * (power(&clean) / n).log10();
        assert!((snr - 10.0).abs() < 0.1, "{snr}");
    }

    #[test]
    fn policy_validates_and_off_means_identity() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = vector(&mut rng);
        let mut y = x.clone();
        Augment::default().apply(&mut y, &mut rng);
        assert_eq!(x, y);
        let bad = Augment {
            phase_p: 1.5,
            ..Augment::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("phase_p"));
        Augment::standard().validate().unwrap();
    }
}
