//! The pickle reader on fixtures written by CPython in protocols 0-5 and a Python-2-style
//! pickle (`tests/fixtures/make_pickles.py`): same keys, same values, whatever the protocol.

use specmine_data::radioml;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn every_protocol_reads_the_same_arrays() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    let files: Vec<String> = (0..=5)
        .map(|p| format!("rml_p{p}.pkl"))
        .chain(["rml_py2_latin1.pkl".to_string()])
        .collect();
    for f in files {
        let ex = radioml::load(&fixture(&f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let py2 = f.contains("py2"); // float32 entries only
        let keys: Vec<(String, i64)> = expected["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| (k[0].as_str().unwrap().to_string(), k[1].as_i64().unwrap()))
            .filter(|k| !py2 || k.0 != "CPFSK")
            .collect();
        let mut names: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(ex.class_names, names, "{f}");
        assert_eq!(ex.vector_len, 8, "{f}");
        for (name, snr) in &keys {
            let label = ex.class_names.iter().position(|c| c == name).unwrap() as u16;
            let rows: Vec<usize> = (0..ex.len())
                .filter(|&i| ex.labels[i] == label && ex.snrs_db[i] == *snr as f32)
                .collect();
            assert!(!rows.is_empty(), "{f}: ({name}, {snr}) missing");
            let sum: f64 = rows
                .iter()
                .flat_map(|&i| ex.vector(i).iter().map(|v| *v as f64))
                .sum();
            let key = format!("{name}|{snr}");
            let want = expected["sums"][&key].as_f64().unwrap();
            assert!((sum - want).abs() < 1e-4, "{f} {key}: sum {sum} vs {want}");
            // First four values of row 0, channel I, in numpy's C order.
            let v = ex.vector(rows[0]);
            let first: Vec<f64> = expected["first"][&key]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            for (t, w) in first.iter().enumerate() {
                assert!((v[2 * t] as f64 - w).abs() < 1e-6, "{f} {key}: I[{t}]");
            }
        }
    }
}

#[test]
fn damaged_pickles_are_errors_not_panics() {
    let bytes = std::fs::read(fixture("rml_p2.pkl")).unwrap();
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(radioml::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    // Flip bytes one at a time: every result is Ok or Err, never a panic.
    for i in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        let _ = radioml::from_bytes(&b);
    }
    // A length field far beyond the data is refused before allocating.
    let huge = b"\x80\x02B\xff\xff\xff\x7f";
    assert!(radioml::from_bytes(huge).unwrap_err().contains("truncated"));
}

#[test]
fn a_list_holding_itself_is_refused() {
    // Python: l = []; l.append(l); pickle.dumps(l, 2)
    let e = specmine_data::pickle::load(b"\x80\x02]q\x00h\x00a.").unwrap_err();
    assert!(e.to_string().contains("holds itself"), "{e}");
    // A list shared twice is no cycle: l = []; pickle.dumps([l, l], 2)
    assert!(specmine_data::pickle::load(b"\x80\x02]q\x00(]q\x01h\x01e.").is_ok());
}
