//! NumPy and SigMF readers against files written by numpy and Python's tarfile
//! (`fixtures/make_formats.py`), round trips of what specmine writes, and damaged files.

use specmine_data::dataset::{self, Format};
use specmine_data::sigmf::{self, Annotation, Meta, Recording};
use specmine_data::{DataError, numpy};
use specmine_dsp::C32;
use specmine_dsp::generator::{Examples, GeneratorConfig};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load16(path: &Path) -> Result<Examples, DataError> {
    dataset::load_with_len(path, 16)
}

#[test]
fn python_written_files_load_with_the_right_values() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("formats_expected.json")).unwrap())
            .unwrap();
    for (name, want) in expected.as_object().unwrap() {
        let ex = load16(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let labels: Vec<&str> = ex
            .labels
            .iter()
            .map(|&l| ex.class_names[l as usize].as_str())
            .collect();
        let want_labels: Vec<&str> = want["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(labels, want_labels, "{name}");
        assert_eq!(ex.vector_len, 16, "{name}");
        match want["snrs"].as_array() {
            None => assert!(ex.snrs_db.iter().all(|s| s.is_nan()), "{name}"),
            Some(s) => {
                for (got, w) in ex.snrs_db.iter().zip(s) {
                    match w.as_f64() {
                        Some(w) => assert_eq!(*got as f64, w, "{name}"),
                        None => assert!(got.is_nan(), "{name}"),
                    }
                }
            }
        }
        let sum: f64 = ex.iq.iter().map(|&v| v as f64).sum();
        let want_sum = want["sum"].as_f64().unwrap();
        assert!(
            (sum - want_sum).abs() < 1e-4,
            "{name}: sum {sum} vs {want_sum}"
        );
        for (k, w) in want["first"].as_array().unwrap().iter().enumerate() {
            let w = w.as_f64().unwrap();
            assert!((ex.iq[k] as f64 - w).abs() < 1e-6, "{name}: value {k}");
        }
    }
}

/// The first `n` examples of a generated rml2016 set (every class at -20 dB, then -18 ...).
fn small_set_of(n: usize) -> Examples {
    let mut ex = GeneratorConfig::rml2016().generate(1, 5).unwrap();
    ex.iq.truncate(n * ex.vector_len * 2);
    ex.labels.truncate(n);
    ex.snrs_db.truncate(n);
    ex
}

fn small_set() -> Examples {
    small_set_of(30)
}

#[test]
fn npz_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let ex = small_set();
    let p = dir.path().join("set.npz");
    dataset::save(&p, &ex, 200e3).unwrap();
    assert_eq!(dataset::sniff(&p).unwrap(), Format::Npz);
    assert_eq!(dataset::load(&p).unwrap(), ex);
}

#[test]
fn sigmf_examples_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let ex = small_set();
    let p = dir.path().join("set.sigmf-meta");
    dataset::save(&p, &ex, 200e3).unwrap();
    let back = dataset::load_with_len(&p, ex.vector_len).unwrap();
    assert_eq!(back, ex);
    // The meta validates and names its datatype; the data is 8 bytes a sample.
    let rec = Recording::open(&p).unwrap();
    rec.meta.validate().unwrap();
    assert_eq!(rec.len() as usize, ex.len() * ex.vector_len);
    assert_eq!(
        std::fs::metadata(dir.path().join("set.sigmf-data"))
            .unwrap()
            .len() as usize,
        ex.iq.len() * 4
    );
}

#[test]
fn recordings_read_any_span() {
    let dir = tempfile::tempdir().unwrap();
    let x: Vec<C32> = (0..1000).map(|i| C32::new(i as f32, -(i as f32))).collect();
    let mut meta = Meta::new(1e6, Some(915e6));
    meta.annotations.push(Annotation {
        sample_start: 10,
        sample_count: Some(20),
        label: Some("burst".into()),
        ..Default::default()
    });
    let base = dir.path().join("rec");
    sigmf::write_recording(&base, &x, &meta).unwrap();
    let rec = Recording::open(&dir.path().join("rec.sigmf-data")).unwrap();
    assert_eq!(rec.len(), 1000);
    assert_eq!(rec.read(995, 10).unwrap(), x[995..]);
    assert_eq!(rec.read(100, 3).unwrap(), x[100..103]);
    assert!(rec.read(1000, 3).unwrap().is_empty());
    assert_eq!(rec.meta.annotations, meta.annotations);
    assert_eq!(rec.meta.center_frequency_hz(), 915e6);
}

#[test]
fn damaged_files_get_errors_that_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let ex = small_set();
    // Truncated npz.
    let p = dir.path().join("set.npz");
    numpy::write_npz(&p, &ex).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let t = dir.path().join("trunc.npz");
    std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
    let e = dataset::load(&t).unwrap_err().to_string();
    assert!(e.contains("trunc.npz"), "{e}");
    // Truncated SigMF data: the meta promises annotations past the end.
    let base = dir.path().join("rec.sigmf-meta");
    sigmf::write_examples(&base, &ex, 1e6).unwrap();
    let data = dir.path().join("rec.sigmf-data");
    let d = std::fs::read(&data).unwrap();
    std::fs::write(&data, &d[..d.len() - 96]).unwrap();
    let e = dataset::load_with_len(&base, ex.vector_len)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rec.sigmf-meta") && e.contains("recording holds"),
        "{e}"
    );
    // Cut inside a sample.
    std::fs::write(&data, &d[..d.len() - 100]).unwrap();
    let e = dataset::load_with_len(&base, ex.vector_len)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rec.sigmf-data") && e.contains("not a whole number"),
        "{e}"
    );
    // Corrupt meta JSON, unknown datatype.
    std::fs::write(&base, b"{\"global\": ").unwrap();
    let e = Recording::open(&base).unwrap_err().to_string();
    assert!(
        e.contains("rec.sigmf-meta") && e.contains("not a SigMF meta"),
        "{e}"
    );
    std::fs::write(
        &base,
        br#"{"global": {"core:datatype": "cf24_le", "core:version": "1.2.0"}, "captures": []}"#,
    )
    .unwrap();
    let e = Recording::open(&base).unwrap_err().to_string();
    assert!(e.contains("unknown SigMF datatype \"cf24_le\""), "{e}");
    // Truncated archive.
    let arch = std::fs::read(fixture("fmt_ci16_be.sigmf")).unwrap();
    let t = dir.path().join("cut.sigmf");
    std::fs::write(&t, &arch[..1500]).unwrap();
    let e = Recording::open(&t).unwrap_err().to_string();
    assert!(
        e.contains("cut.sigmf") && e.contains("truncated tar"),
        "{e}"
    );
    // NaN samples and mismatched lengths in npz.
    let mut bad = ex.clone();
    bad.iq[7] = f32::NAN;
    numpy::write_npz(&p, &bad).unwrap();
    let e = dataset::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("non-finite sample") && e.contains("vector 0"),
        "{e}"
    );
    let mut bad = ex.clone();
    bad.labels.pop();
    bad.snrs_db.pop();
    let e = numpy::write_npz(&p, &bad).unwrap_err().to_string();
    assert!(e.contains("inconsistent"), "{e}");
    // Such a file written by another tool: X of 30 vectors, Y of 29 labels.
    let l = ex.vector_len;
    let members = vec![
        (
            "X.npy".to_string(),
            numpy::npy_f32(&[30, 2, l], &ex.iq[..30 * 2 * l]),
        ),
        ("Y.npy".to_string(), numpy::npy_i64(&[29], &[0; 29])),
        ("classes.npy".to_string(), numpy::npy_str(&ex.class_names)),
    ];
    numpy::write_npz_members(&p, &members).unwrap();
    let e = dataset::load(&p).unwrap_err().to_string();
    assert!(e.contains("X holds 30 vectors but Y 29 labels"), "{e}");
}

/// Every truncation and many single-byte corruptions of each format: an error or a value,
/// never a panic (a cheap, deterministic stand-in for a fuzzer in the test suite).
#[test]
fn corrupted_inputs_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let ex = small_set_of(3);
    let npz = dir.path().join("a.npz");
    numpy::write_npz(&npz, &ex).unwrap();
    let mut files = vec![
        ("npz", std::fs::read(&npz).unwrap()),
        (
            "sigmf",
            std::fs::read(fixture("fmt_ci16_be.sigmf")).unwrap(),
        ),
        ("npy", numpy::npy_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])),
        ("npy", numpy::npy_str(&["QPSK".into(), "BPSK".into()])),
    ];
    files.push((
        "sigmf-meta",
        std::fs::read(fixture("fmt_cu8.sigmf-meta")).unwrap(),
    ));
    let mut state = 0x9e3779b97f4a7c15u64;
    for (ext, bytes) in &files {
        let step = (bytes.len() / 200).max(1);
        let mut variants: Vec<Vec<u8>> = (0..bytes.len())
            .step_by(step)
            .map(|n| bytes[..n].to_vec())
            .collect();
        for _ in 0..300 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut b = bytes.clone();
            let i = (state % b.len() as u64) as usize;
            b[i] ^= 1 << (state >> 60 & 7);
            variants.push(b);
        }
        for (k, v) in variants.iter().enumerate() {
            let p = dir.path().join(format!("v{k}.{ext}"));
            if *ext == "sigmf-meta" {
                std::fs::copy(
                    fixture("fmt_cu8.sigmf-data"),
                    dir.path().join(format!("v{k}.sigmf-data")),
                )
                .unwrap();
            }
            std::fs::write(&p, v).unwrap();
            let _ = match *ext {
                "npy" => numpy::parse_npy(&p, v).map(|_| ()),
                _ => dataset::load_with_len(&p, 16).map(|_| ()),
            };
        }
    }
}
