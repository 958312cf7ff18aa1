//! The binary as a user runs it: outputs on disk and error messages.

use std::process::Command;

fn specmine(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_specmine"))
        .args(args)
        .output()
        .expect("binary runs")
}

#[test]
fn generate_writes_a_readable_file_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small.h5");
    let o = out.to_str().unwrap();
    let r = specmine(&[
        "generate",
        "--per-class-snr",
        "2",
        "--snr-min",
        "0",
        "--snr-max",
        "4",
        "-o",
        o,
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let d = specmine_data::h5::H5Dataset::open(&out).unwrap();
    assert_eq!(d.len(), 11 * 3 * 2);
    let before = std::fs::read(&out).unwrap();
    let r = specmine(&["generate", "--per-class-snr", "3", "-o", o]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("--force"));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the user's file must be untouched"
    );
    let r = specmine(&["inspect", o]);
    assert!(r.status.success());
    assert!(String::from_utf8_lossy(&r.stdout).contains("QAM16"));
}

#[test]
fn bad_generate_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("x.h5");
    let o = o.to_str().unwrap();
    for (args, want) in [
        (vec!["--classes", "BPSK,QAM1024"], "QAM1024"),
        (vec!["--snr-min", "10", "--snr-max", "0"], "reversed"),
        (vec!["--vector-len", "0"], "vector_len"),
        (vec!["--per-class-snr", "0"], "per-class-snr"),
        (vec!["--preset", "rml2099"], "rml2016"),
    ] {
        let mut a = vec!["generate", "-o", o];
        a.extend(args);
        let r = specmine(&a);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success() && err.contains(want), "{a:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!std::path::Path::new(o).exists());
}
