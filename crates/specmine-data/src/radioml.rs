//! RadioML 2016 pickles (`RML2016.10a_dict.pkl`, `2016.04C.multisnr.pkl`, `RML2016.10b.dat`):
//! a dict keyed by `(modulation, snr)` of float32 numpy arrays `[N, 2, L]` (row 0 = I, row 1 = Q).

use crate::DataError;
use crate::pickle::{self, Value};
use specmine_dsp::Modulation;
use specmine_dsp::generator::Examples;
use std::path::Path;

/// Load a RadioML 2016 pickle into memory as `[N, L, 2]` examples. Classes are the file's
/// modulation names, sorted (the order RadioML's own code uses); rows are ordered by class,
/// then SNR.
pub fn load(path: &Path) -> Result<Examples, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    from_bytes(&bytes).map_err(|problem| DataError::invalid(path, problem))
}

/// As [`load`], from the file's bytes; errors say what was wrong (the caller adds the path).
pub fn from_bytes(bytes: &[u8]) -> Result<Examples, String> {
    let root = pickle::load(bytes).map_err(|e| format!("not a readable RadioML pickle: {e}"))?;
    let Value::Dict(dict) = root else {
        return Err("the pickle does not hold a dict keyed by (modulation, snr)".into());
    };
    let mut entries = Vec::new();
    for (k, v) in dict.borrow().iter() {
        let (name, snr) = match k {
            Value::Tuple(t) if t.len() == 2 => {
                let name = match &t[0] {
                    Value::Str(s) => s.clone(),
                    Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    other => {
                        return Err(format!(
                            "key {other:?} does not start with a modulation name"
                        ));
                    }
                };
                let snr = match t[1] {
                    Value::Int(s) => s as f32,
                    Value::Float(s) => s as f32,
                    ref other => return Err(format!("key ({name}, {other:?}) has no integer SNR")),
                };
                (name, snr)
            }
            other => {
                return Err(format!(
                    "dict key {other:?} is not a (modulation, snr) pair"
                ));
            }
        };
        name.parse::<Modulation>().map_err(|e| e.to_string())?;
        let Value::Array(arr) = v else {
            return Err(format!("value of ({name}, {snr}) is not a numpy array"));
        };
        let arr = arr.borrow();
        if arr.shape.len() != 3 || arr.shape[1] != 2 {
            return Err(format!(
                "array of ({name}, {snr}) has shape {:?}; expected [N, 2, L]",
                arr.shape
            ));
        }
        if arr.data.iter().any(|x| !x.is_finite()) {
            return Err(format!(
                "array of ({name}, {snr}) holds NaN or infinite samples"
            ));
        }
        entries.push((name, snr, arr.clone()));
    }
    if entries.is_empty() {
        return Err("the dict is empty".into());
    }
    let len = entries[0].2.shape[2];
    if let Some(e) = entries.iter().find(|e| e.2.shape[2] != len) {
        return Err(format!(
            "vectors of ({}, {}) have {} samples, others {len}",
            e.0, e.1, e.2.shape[2]
        ));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut class_names: Vec<String> = entries.iter().map(|e| e.0.clone()).collect();
    class_names.dedup();
    let total: usize = entries.iter().map(|e| e.2.shape[0]).sum();
    let mut iq = Vec::with_capacity(total * len * 2);
    let mut labels = Vec::with_capacity(total);
    let mut snrs_db = Vec::with_capacity(total);
    for (name, snr, arr) in &entries {
        let label = class_names
            .iter()
            .position(|c| c == name)
            .expect("names come from entries") as u16;
        for v in arr.data.chunks_exact(2 * len) {
            let (i, q) = v.split_at(len);
            for t in 0..len {
                iq.push(i[t]);
                iq.push(q[t]);
            }
            labels.push(label);
            snrs_db.push(*snr);
        }
    }
    Ok(Examples {
        vector_len: len,
        iq,
        labels,
        snrs_db,
        class_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn shared_pickle() -> Option<PathBuf> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/RML2016.10a-gnuradio-dev.pkl");
        p.exists().then_some(p)
    }

    #[test]
    fn the_shared_radioml_pickle_loads_with_the_right_vectors_and_labels() {
        let Some(p) = shared_pickle() else {
            eprintln!("shared pickle not present; skipped");
            return;
        };
        let ex = load(&p).unwrap();
        assert_eq!(ex.len(), 44_000);
        assert_eq!(ex.vector_len, 128);
        assert_eq!(
            ex.class_names.join(","),
            "8PSK,AM-DSB,AM-SSB,BPSK,CPFSK,GFSK,PAM4,QAM16,QAM64,QPSK,WBFM"
        );
        for c in 0..11u16 {
            assert_eq!(ex.labels.iter().filter(|l| **l == c).count(), 4000);
        }
        let mut snrs: Vec<i32> = ex.snrs_db.iter().map(|s| *s as i32).collect();
        snrs.dedup();
        assert_eq!(snrs.len(), 11 * 20);
        // Each vector was divided by the sum of its magnitudes.
        for i in [0, 12_345, 43_999] {
            let s: f32 = ex
                .vector(i)
                .chunks(2)
                .map(|c| (c[0] * c[0] + c[1] * c[1]).sqrt())
                .sum();
            assert!((s - 1.0).abs() < 1e-3, "vector {i}: sum of magnitudes {s}");
        }
    }

    #[test]
    fn truncated_and_foreign_pickles_are_clear_errors() {
        let Some(p) = shared_pickle() else { return };
        let bytes = std::fs::read(p).unwrap();
        let err = from_bytes(&bytes[..bytes.len() / 3]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(from_bytes(b"\x80\x02K\x05.").unwrap_err().contains("dict"));
        assert!(
            from_bytes(b"garbage")
                .unwrap_err()
                .contains("not a readable RadioML pickle")
        );
        let evil = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.";
        assert!(
            from_bytes(evil)
                .unwrap_err()
                .contains("refusing to call os.system")
        );
    }
}
