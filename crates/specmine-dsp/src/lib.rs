//! Pure signal code for specmine: no machine learning here.
//!
//! Modulators ([`modulate`]), pulse shaping ([`pulse`]), constellations ([`constellation`]),
//! analog messages ([`message`]), channel impairments ([`channel`]) and the labelled-example
//! generator ([`generator`]) that composes them into the RadioML-style presets.
//!
//! Conventions: complex baseband samples are [`C32`]; functions take slices and return new
//! vectors; every random draw comes from an explicit RNG passed in; quantities carry their unit
//! in their name (`snr_db`, `cfo_hz`, `sample_rate_hz`).
//!
//! **SNR definition.** `snr_db` is the ratio of the signal's mean power to the noise's mean power,
//! both measured over the full sample-rate bandwidth (complex noise, `E|n|^2`). The RadioML
//! label convention ([`channel::SnrConvention::RadioMl`]) instead sets the complex noise amplitude
//! to `10^(-snr/10)` against a unit-power transmitted signal, so its true SNR is about twice the
//! label (in dB) — models meant for RadioML files must be trained with that convention.

pub mod augment;
pub mod channel;
pub mod channelize;
pub mod classes;
pub mod constellation;
pub mod detect;
pub mod generator;
pub mod message;
pub mod modulate;
pub mod pulse;
pub mod scene;
pub mod symbol_rate;
pub mod util;

pub use classes::{ClassSet, Modulation, UnknownClass};

/// Complex baseband sample.
pub type C32 = num_complex::Complex<f32>;

/// Errors of the signal code: bad parameters, reported with what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DspError {
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParameter {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(transparent)]
    UnknownClass(#[from] UnknownClass),
}

impl DspError {
    pub(crate) fn invalid(
        name: &'static str,
        value: impl ToString,
        expected: &'static str,
    ) -> Self {
        Self::InvalidParameter {
            name,
            value: value.to_string(),
            expected,
        }
    }
}
