//! Modulation classes and the class sets of the RadioML data sets.
//!
//! RadioML 2016.10a has 11 classes (its pickle keys them by name, sorted); RadioML 2018.01A has 24,
//! whose one-hot index order is the one in [`ClassSet::Rml2018`] (the `classes.txt` shipped with
//! that archive is known to be wrong). A [`Modulation`] is one kind of signal; a class set maps
//! label indices to modulations and to the label text its data set uses (`QAM16` in 2016,
//! `16QAM` in 2018, for the same signal).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One kind of modulated signal that specmine can generate and classify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Modulation {
    Ook,
    /// 4-level bipolar amplitude shift keying (RadioML 2016 `PAM4`, RadioML 2018 `4ASK`).
    Pam4,
    Ask8,
    Bpsk,
    Qpsk,
    Psk8,
    Psk16,
    Psk32,
    Apsk16,
    Apsk32,
    Apsk64,
    Apsk128,
    Qam16,
    Qam32,
    Qam64,
    Qam128,
    Qam256,
    /// Single sideband with carrier.
    AmSsbWc,
    /// Single sideband, suppressed carrier (RadioML 2016 `AM-SSB`).
    AmSsbSc,
    /// Double sideband with carrier (RadioML 2016 `AM-DSB`).
    AmDsbWc,
    AmDsbSc,
    /// Wideband FM from a speech-like message (RadioML 2016 `WBFM`, RadioML 2018 `FM`).
    Fm,
    Gmsk,
    Oqpsk,
    Gfsk,
    Cpfsk,
}

impl Modulation {
    /// Every modulation, in declaration order.
    pub const ALL: [Modulation; 26] = [
        Self::Ook,
        Self::Pam4,
        Self::Ask8,
        Self::Bpsk,
        Self::Qpsk,
        Self::Psk8,
        Self::Psk16,
        Self::Psk32,
        Self::Apsk16,
        Self::Apsk32,
        Self::Apsk64,
        Self::Apsk128,
        Self::Qam16,
        Self::Qam32,
        Self::Qam64,
        Self::Qam128,
        Self::Qam256,
        Self::AmSsbWc,
        Self::AmSsbSc,
        Self::AmDsbWc,
        Self::AmDsbSc,
        Self::Fm,
        Self::Gmsk,
        Self::Oqpsk,
        Self::Gfsk,
        Self::Cpfsk,
    ];

    /// The canonical name (RadioML 2018 spelling where that data set has the class).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ook => "OOK",
            Self::Pam4 => "4ASK",
            Self::Ask8 => "8ASK",
            Self::Bpsk => "BPSK",
            Self::Qpsk => "QPSK",
            Self::Psk8 => "8PSK",
            Self::Psk16 => "16PSK",
            Self::Psk32 => "32PSK",
            Self::Apsk16 => "16APSK",
            Self::Apsk32 => "32APSK",
            Self::Apsk64 => "64APSK",
            Self::Apsk128 => "128APSK",
            Self::Qam16 => "16QAM",
            Self::Qam32 => "32QAM",
            Self::Qam64 => "64QAM",
            Self::Qam128 => "128QAM",
            Self::Qam256 => "256QAM",
            Self::AmSsbWc => "AM-SSB-WC",
            Self::AmSsbSc => "AM-SSB-SC",
            Self::AmDsbWc => "AM-DSB-WC",
            Self::AmDsbSc => "AM-DSB-SC",
            Self::Fm => "FM",
            Self::Gmsk => "GMSK",
            Self::Oqpsk => "OQPSK",
            Self::Gfsk => "GFSK",
            Self::Cpfsk => "CPFSK",
        }
    }

    /// Other spellings accepted by [`FromStr`] (the RadioML 2016 labels among them).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Pam4 => &["PAM4"],
            Self::Qam16 => &["QAM16"],
            Self::Qam64 => &["QAM64"],
            Self::AmSsbSc => &["AM-SSB"],
            Self::AmDsbWc => &["AM-DSB"],
            Self::Fm => &["WBFM"],
            _ => &[],
        }
    }

    /// Whether the signal is an analog modulation of a continuous message.
    pub fn is_analog(self) -> bool {
        matches!(
            self,
            Self::AmSsbWc | Self::AmSsbSc | Self::AmDsbWc | Self::AmDsbSc | Self::Fm
        )
    }

    /// Its spectrum can be dominated by a discrete carrier line: AM with carrier, on-off
    /// keying, FM while its message is quiet.
    pub fn can_be_carrier_dominated(self) -> bool {
        matches!(self, Self::AmSsbWc | Self::AmDsbWc | Self::Ook | Self::Fm)
    }
}

impl fmt::Display for Modulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A class name that matches no [`Modulation`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown modulation class {name:?}; known classes: {known}")]
pub struct UnknownClass {
    pub name: String,
    pub known: String,
}

impl FromStr for Modulation {
    type Err = UnknownClass;

    /// Case-insensitive; accepts the canonical names and the RadioML 2016 labels.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|m| {
                m.name().eq_ignore_ascii_case(wanted)
                    || m.aliases().iter().any(|a| a.eq_ignore_ascii_case(wanted))
            })
            .ok_or_else(|| UnknownClass {
                name: s.to_string(),
                known: Self::ALL
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// An ordered list of classes, as a data set's labels index them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassSet {
    /// RadioML 2016.10a: 11 classes, sorted by label as the pickle's keys sort.
    Rml2016,
    /// RadioML 2018.01A: 24 classes in the one-hot order of `GOLD_XYZ_OSC.0001_1024.hdf5`.
    Rml2018,
}

const RML2016: [(Modulation, &str); 11] = [
    (Modulation::Psk8, "8PSK"),
    (Modulation::AmDsbWc, "AM-DSB"),
    (Modulation::AmSsbSc, "AM-SSB"),
    (Modulation::Bpsk, "BPSK"),
    (Modulation::Cpfsk, "CPFSK"),
    (Modulation::Gfsk, "GFSK"),
    (Modulation::Pam4, "PAM4"),
    (Modulation::Qam16, "QAM16"),
    (Modulation::Qam64, "QAM64"),
    (Modulation::Qpsk, "QPSK"),
    (Modulation::Fm, "WBFM"),
];

const RML2018: [(Modulation, &str); 24] = [
    (Modulation::Ook, "OOK"),
    (Modulation::Pam4, "4ASK"),
    (Modulation::Ask8, "8ASK"),
    (Modulation::Bpsk, "BPSK"),
    (Modulation::Qpsk, "QPSK"),
    (Modulation::Psk8, "8PSK"),
    (Modulation::Psk16, "16PSK"),
    (Modulation::Psk32, "32PSK"),
    (Modulation::Apsk16, "16APSK"),
    (Modulation::Apsk32, "32APSK"),
    (Modulation::Apsk64, "64APSK"),
    (Modulation::Apsk128, "128APSK"),
    (Modulation::Qam16, "16QAM"),
    (Modulation::Qam32, "32QAM"),
    (Modulation::Qam64, "64QAM"),
    (Modulation::Qam128, "128QAM"),
    (Modulation::Qam256, "256QAM"),
    (Modulation::AmSsbWc, "AM-SSB-WC"),
    (Modulation::AmSsbSc, "AM-SSB-SC"),
    (Modulation::AmDsbWc, "AM-DSB-WC"),
    (Modulation::AmDsbSc, "AM-DSB-SC"),
    (Modulation::Fm, "FM"),
    (Modulation::Gmsk, "GMSK"),
    (Modulation::Oqpsk, "OQPSK"),
];

impl ClassSet {
    fn table(self) -> &'static [(Modulation, &'static str)] {
        match self {
            Self::Rml2016 => &RML2016,
            Self::Rml2018 => &RML2018,
        }
    }

    /// Number of classes.
    pub fn len(self) -> usize {
        self.table().len()
    }

    /// Always false: no class set is empty.
    pub fn is_empty(self) -> bool {
        false
    }

    /// The modulations in label-index order.
    pub fn modulations(self) -> Vec<Modulation> {
        self.table().iter().map(|(m, _)| *m).collect()
    }

    /// The labels as this data set spells them, in label-index order.
    pub fn labels(self) -> Vec<&'static str> {
        self.table().iter().map(|(_, l)| *l).collect()
    }

    /// Label index of a modulation, if the set has it.
    pub fn index_of(self, m: Modulation) -> Option<usize> {
        self.table().iter().position(|(x, _)| *x == m)
    }
}

impl fmt::Display for ClassSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rml2016 => "rml2016",
            Self::Rml2018 => "rml2018",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rml2018_order_is_the_one_hot_order() {
        let want = "OOK 4ASK 8ASK BPSK QPSK 8PSK 16PSK 32PSK 16APSK 32APSK 64APSK 128APSK 16QAM \
                    32QAM 64QAM 128QAM 256QAM AM-SSB-WC AM-SSB-SC AM-DSB-WC AM-DSB-SC FM GMSK OQPSK";
        assert_eq!(ClassSet::Rml2018.labels().join(" "), want);
    }

    #[test]
    fn rml2016_labels_are_sorted_like_the_pickle_keys() {
        let labels = ClassSet::Rml2016.labels();
        let mut sorted = labels.clone();
        sorted.sort();
        assert_eq!(labels, sorted);
        assert_eq!(labels.len(), 11);
    }

    #[test]
    fn names_round_trip_and_aliases_parse() {
        for m in Modulation::ALL {
            assert_eq!(m.to_string().parse::<Modulation>().unwrap(), m);
        }
        for set in [ClassSet::Rml2016, ClassSet::Rml2018] {
            for (label, m) in set.labels().into_iter().zip(set.modulations()) {
                assert_eq!(label.parse::<Modulation>().unwrap(), m);
            }
        }
        assert_eq!("qam16".parse::<Modulation>().unwrap(), Modulation::Qam16);
        let err = "QAM1024".parse::<Modulation>().unwrap_err();
        assert!(err.to_string().contains("QAM1024") && err.to_string().contains("BPSK"));
    }
}
