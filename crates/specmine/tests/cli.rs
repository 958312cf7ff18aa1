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

#[test]
fn train_then_eval_writes_a_run_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.h5");
    let run = dir.path().join("run");
    let out = dir.path().join("eval");
    let r = specmine(&[
        "generate",
        "--per-class-snr",
        "4",
        "--snr-min",
        "10",
        "--snr-max",
        "12",
        "-o",
        data.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = specmine(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--valid-frac",
        "0.25",
        "-o",
        run.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let log = String::from_utf8_lossy(&r.stderr);
    assert!(log.contains("epoch   1/1"), "{log}");
    for f in [
        "model.json",
        "train.json",
        "best.bpk",
        "metrics.csv",
        "curves.png",
    ] {
        assert!(run.join(f).exists(), "{f}");
    }
    let r = specmine(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--model",
        run.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--exclude-classes",
        "AM-SSB",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["class_names"].as_array().unwrap().len(), 11);
    assert_eq!(report["overall"]["count"], 10 * 2 * 4);
    assert_eq!(report["per_snr"].as_array().unwrap().len(), 2);
    for f in [
        "accuracy_vs_snr.png",
        "confusion_all.png",
        "confusion_high_snr.png",
    ] {
        assert!(
            std::fs::read(out.join(f)).unwrap().starts_with(b"\x89PNG"),
            "{f}"
        );
    }
    // Errors name the problem.
    let r = specmine(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--model",
        run.to_str().unwrap(),
        "--exclude-classes",
        "FOO",
    ]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("FOO"));
    let r = specmine(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--epochs",
        "1",
        "-o",
        run.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("--resume"));
    let r = specmine(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--model",
        "oshea_resnet",
        "-o",
        dir.path().join("r2").to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("1024-sample"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

#[test]
fn eval_without_a_model_uses_the_shipped_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.h5");
    let out = dir.path().join("eval");
    let r = specmine(&[
        "generate",
        "--per-class-snr",
        "3",
        "--snr-min",
        "16",
        "--snr-max",
        "18",
        "--snr-convention",
        "radioml",
        "-o",
        data.to_str().unwrap(),
    ]);
    assert!(r.status.success());
    let r = specmine(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        r.status.success() && stdout.contains("(shipped)"),
        "{stdout}{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    // High-SNR generator data is easy for the shipped model (AM-SSB included here).
    assert!(
        report["overall"]["accuracy"].as_f64().unwrap() > 0.7,
        "{}",
        report["overall"]
    );
}

#[test]
fn degradation_study_writes_every_file_on_a_tiny_budget() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("study");
    let r = specmine(&[
        "study",
        "degradation",
        "--epochs",
        "1",
        "--per-class-snr",
        "4",
        "--deep",
        "2",
        "--widths",
        "4,4,8",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in [
        "summary.md",
        "summary.json",
        "training_error.png",
        "validation_error.png",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let arms: Vec<&str> = s["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["arm"].as_str().unwrap())
        .collect();
    assert_eq!(
        arms,
        [
            "plain-8",
            "plain-14",
            "plain-14-grown",
            "residual-8",
            "residual-14",
            "residual-14-grown"
        ]
    );
    for arm in ["plain-8-seed0", "residual-14-grown-seed0"] {
        assert!(
            out.join("arms").join(arm).join("model.json").exists(),
            "{arm}"
        );
    }
    assert!(out.join("arms/plain-14-grown-seed0/init.bpk").exists());
    let again = specmine(&["study", "degradation", "-o", out.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("finished study"));

    // On a data file (here 64-sample vectors): the nets take the file's vector length.
    let h5 = dir.path().join("d.h5");
    let g = specmine(&[
        "generate",
        "--per-class-snr",
        "6",
        "--vector-len",
        "64",
        "--snr-min",
        "10",
        "--snr-max",
        "12",
        "-o",
        h5.to_str().unwrap(),
    ]);
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    // A tiny study on the file (`extra` flags added), then one arm's model config.
    let tiny = |name: &str, extra: &[&str], arm: &str| -> serde_json::Value {
        let out = dir.path().join(name);
        let mut args = vec!["study", "degradation", "--data", h5.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--epochs", "1", "--deep", "2", "--widths", "4,4,8"]);
        args.extend_from_slice(&["--from-shallow", "false", "-o", out.to_str().unwrap()]);
        let r = specmine(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(out.join("training_error.png").exists());
        let path = out.join("arms").join(arm).join("model.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let m = tiny("study2", &[], "residual-14-seed0");
    assert_eq!(m["input"]["width"], 64, "{m}");
    // The image-shaped task: 64-sample vectors as 8 x 16 spectrograms through 2D networks.
    let m = tiny(
        "study4",
        &["--task", "spectrogram", "--n-fft", "8"],
        "plain-14-seed0",
    );
    let i = &m["input"];
    assert_eq!(
        (&i["channels"], &i["height"], &i["width"]),
        (&1.into(), &8.into(), &16.into())
    );
    let none = specmine(&[
        "study",
        "degradation",
        "--data",
        h5.to_str().unwrap(),
        "--snr-min",
        "30",
        "-o",
        dir.path().join("study3").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("no examples at SNR >= 30"));
}

/// A 50 ms, 2 MS/s scene of three strong (20-25 dB) signals of `classes` at 50-100 kBd.
fn strong_scene(base: &std::path::Path, classes: &str, extra: &[&str]) {
    let mut args = vec![
        "scene",
        base.to_str().unwrap(),
        "--sample-rate-hz",
        "2e6",
        "--duration-s",
        "0.05",
        "--signals",
        "3",
        "--snr-min-db",
        "20",
        "--snr-max-db",
        "25",
        "--symbol-rate-min-hz",
        "50e3",
        "--symbol-rate-max-hz",
        "100e3",
        "--classes",
        classes,
        "--seed",
        "7",
    ];
    args.extend_from_slice(extra);
    let r = specmine(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn scene_then_mine_finds_annotates_and_scores_the_signals() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("scene");
    strong_scene(&base, "BPSK,QPSK,8PSK", &[]);
    let meta_path = dir.path().join("scene.sigmf-meta");
    let original = std::fs::read(&meta_path).unwrap();
    let truth = specmine_data::sigmf::Recording::open(&meta_path).unwrap();
    assert_eq!(truth.len(), 100_000);
    assert_eq!(truth.meta.annotations.len(), 3);
    let out = dir.path().join("mined");
    let r = specmine(&[
        "mine",
        meta_path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--score",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(
        std::fs::read(&meta_path).unwrap(),
        original,
        "the user's meta is untouched"
    );
    for f in [
        "scene.mined.sigmf-meta",
        "scene.mined.json",
        "scene.mined.csv",
        "scene.mined.png",
        "scene.score.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    // The written meta is valid SigMF and reads back, pointing at the original data.
    let text = std::fs::read_to_string(out.join("scene.mined.sigmf-meta")).unwrap();
    let mined: specmine_data::sigmf::Meta = serde_json::from_str(&text).unwrap();
    mined.validate().unwrap();
    assert_eq!(mined.global.extra["core:dataset"], "scene.sigmf-data");
    assert!(
        mined
            .annotations
            .iter()
            .all(|a| a.generator.as_deref() == Some("specmine mine"))
    );
    let score: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scene.score.json")).unwrap())
            .unwrap();
    // Three strong signals alone in the band: every one found, nothing else.
    assert_eq!(
        score["summary"]["recall_snr_ge_10"], 1.0,
        "{}",
        score["summary"]
    );
    assert_eq!(score["summary"]["precision"], 1.0, "{}", score["summary"]);
}

#[test]
fn mine_reads_lower_sideband_ssb_mirrored_at_its_training_scale() {
    // Training has only upper-sideband SSB; a lower-sideband one must be found one-sided,
    // mirrored and read at SSB's training scale (without the sideband test the model calls
    // these WBFM or QAM64).
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("lsb");
    strong_scene(&base, "AM-SSB-SC", &["--lower-sideband"]);
    let out = dir.path().join("mined");
    let r = specmine(&[
        "mine",
        dir.path().join("lsb.sigmf-meta").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-plot",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let mined: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("lsb.mined.json")).unwrap())
            .unwrap();
    let dets = mined["detections"].as_array().unwrap();
    assert_eq!(dets.len(), 3, "{mined}");
    for d in dets {
        assert_eq!(d["label"], "AM-SSB", "{d}");
        // Power piled at the upper edge (the carrier's side of a lower sideband).
        assert!(d["band_asymmetry"].as_f64().unwrap() > 0.25, "{d}");
        assert_eq!(d["symbol_rate_from"], "class-scale", "{d}");
        let chosen = d["hypotheses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["class_scale"] == "AM-SSB")
            .expect("an SSB-scale hypothesis");
        assert_eq!(chosen["mirrored"], true, "{d}");
    }
}

#[test]
fn mine_refuses_damaged_recordings_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("r");
    let r = specmine(&[
        "scene",
        base.to_str().unwrap(),
        "--sample-rate-hz",
        "1e6",
        "--duration-s",
        "0.02",
        "--signals",
        "1",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let data = dir.path().join("r.sigmf-data");
    let meta = dir.path().join("r.sigmf-meta");
    // Truncated in the middle of a sample.
    let bytes = std::fs::read(&data).unwrap();
    std::fs::write(&data, &bytes[..bytes.len() - 3]).unwrap();
    let r = specmine(&["mine", meta.to_str().unwrap(), "--no-plot"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("r.sigmf-data"), "{err}");
    // A meta that is not JSON.
    std::fs::write(&data, &bytes).unwrap();
    std::fs::write(&meta, b"{\"global\": ").unwrap();
    let r = specmine(&["mine", meta.to_str().unwrap(), "--no-plot"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("r.sigmf-meta"), "{err}");
    // A recording that does not exist.
    let r = specmine(&["mine", dir.path().join("nope.sigmf-meta").to_str().unwrap()]);
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("nope.sigmf-meta"));
}

#[test]
fn convert_moves_data_between_formats_and_inspect_reads_each() {
    let dir = tempfile::tempdir().unwrap();
    let h5 = dir.path().join("a.h5");
    let r = specmine(&[
        "generate",
        "--per-class-snr",
        "2",
        "--snr-min",
        "0",
        "--snr-max",
        "2",
        "-o",
        h5.to_str().unwrap(),
    ]);
    assert!(r.status.success());
    let npz = dir.path().join("a.npz");
    let sig = dir.path().join("a.sigmf-meta");
    let back = dir.path().join("b.h5");
    for (i, o) in [(&h5, &npz), (&npz, &sig), (&sig, &back)] {
        let r = specmine(&["convert", i.to_str().unwrap(), o.to_str().unwrap()]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let r = specmine(&["inspect", o.to_str().unwrap()]);
        let s = String::from_utf8_lossy(&r.stdout);
        assert!(r.status.success() && s.contains("QPSK"), "{s}");
    }
    let a = specmine_data::dataset::load(&h5).unwrap();
    let b = specmine_data::dataset::load(&back).unwrap();
    assert_eq!(a.iq, b.iq);
    assert_eq!(a.labels, b.labels);
    assert_eq!(a.snrs_db, b.snrs_db);
    // The output exists: refused without --force.
    let r = specmine(&["convert", h5.to_str().unwrap(), npz.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("--force"));
}

#[test]
fn quickstart_runs_the_whole_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("qs");
    let r = specmine(&["quickstart", "--epochs", "1", "-o", out.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in [
        "run/best.bpk",
        "eval/report.json",
        "scene.sigmf-meta",
        "mined/scene.mined.sigmf-meta",
        "mined/scene.score.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let again = specmine(&["quickstart", "-o", out.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("earlier quickstart"));
}
