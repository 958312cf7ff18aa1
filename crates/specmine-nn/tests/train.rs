//! Training: optimisers and schedules against hand-computed values, penalties, overfitting a
//! tiny set, exact resume, config errors.

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::prelude::*;
use specmine_dsp::generator::GeneratorConfig;
use specmine_nn::batch::stratified_split;
use specmine_nn::optim::{Optimizer, Schedule};
use specmine_nn::train::{Quiet, TrainConfig, TrainData, l1_norm, train};

/// burn's random streams (initialisation, dropout) are per process: tests that compare runs
/// must not interleave with other tests drawing from them.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[derive(Module, Debug)]
struct Scalar {
    weight: Param<Tensor<1>>,
}

/// Run `steps` optimiser steps on one parameter `w` whose loss is `g * w` (+ penalties) and
/// return the trajectory.
fn trajectory(
    opt: &Optimizer,
    wd: f64,
    l1: f64,
    w0: f32,
    g: f32,
    lr: f64,
    steps: usize,
) -> Vec<f32> {
    let device = Device::flex().autodiff();
    let mut m = Scalar {
        weight: Param::from_tensor(Tensor::from_data(TensorData::new(vec![w0], [1]), &device)),
    };
    let mut optim = opt.build(&m, wd, false, None);
    let mut out = vec![];
    for _ in 0..steps {
        let mut loss = m.weight.val().mul_scalar(g).sum();
        if l1 > 0.0 {
            loss = loss + l1_norm(&m).unwrap().mul_scalar(l1);
        }
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        m = optim.step(lr, m, grads);
        out.push(m.weight.val().into_scalar::<f32>());
    }
    out
}

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
}

#[test]
fn optimisers_match_hand_computed_steps() {
    let (w0, g, lr) = (1.0f32, 0.5f32, 0.1f64);
    // SGD: w -= lr g.
    close(
        &trajectory(
            &Optimizer::Sgd {
                momentum: 0.0,
                nesterov: false,
            },
            0.0,
            0.0,
            w0,
            g,
            lr,
            2,
        ),
        &[0.95, 0.90],
    );
    // Momentum 0.9 (no dampening): v1 = g, v2 = 0.9 g + g = 1.9 g.
    close(
        &trajectory(
            &Optimizer::Sgd {
                momentum: 0.9,
                nesterov: false,
            },
            0.0,
            0.0,
            w0,
            g,
            lr,
            2,
        ),
        &[0.95, 0.95 - 0.1 * 1.9 * 0.5],
    );
    // Nesterov: step uses g + 0.9 v: step 1: g + 0.9 g = 1.9 g; step 2: v2 = 1.9 g, g + 0.9 * 1.9 g = 2.71 g.
    close(
        &trajectory(
            &Optimizer::Sgd {
                momentum: 0.9,
                nesterov: true,
            },
            0.0,
            0.0,
            w0,
            g,
            lr,
            2,
        ),
        &[1.0 - 0.1 * 0.95, 1.0 - 0.1 * 0.95 - 0.1 * 2.71 * 0.5],
    );
    // Adam with a constant gradient: bias-corrected m/sqrt(v) = sign(g) each step.
    close(
        &trajectory(&Optimizer::default(), 0.0, 0.0, w0, g, lr, 2),
        &[0.9, 0.8],
    );
    // AdaGrad: G1 = g^2 -> step lr; G2 = 2 g^2 -> step lr / sqrt 2.
    close(
        &trajectory(
            &Optimizer::AdaGrad { epsilon: 1e-10 },
            0.0,
            0.0,
            w0,
            g,
            lr,
            2,
        ),
        &[0.9, 0.9 - 0.1 / 2f32.sqrt()],
    );
    // RMSProp (alpha 0.99): v1 = 0.01 g^2 -> step lr g / (0.1 |g|) = 10 lr... per PyTorch's formula.
    let v1 = 0.01f32 * g * g;
    let v2 = 0.99 * v1 + 0.01 * g * g;
    let s1 = 0.1 * g / (v1.sqrt() + 1e-8);
    let s2 = 0.1 * g / (v2.sqrt() + 1e-8);
    close(
        &trajectory(
            &Optimizer::RmsProp {
                alpha: 0.99,
                epsilon: 1e-8,
                momentum: 0.0,
            },
            0.0,
            0.0,
            w0,
            g,
            lr,
            2,
        ),
        &[1.0 - s1, 1.0 - s1 - s2],
    );
}

#[test]
fn l2_and_l1_change_the_gradient_as_specified() {
    let sgd = Optimizer::Sgd {
        momentum: 0.0,
        nesterov: false,
    };
    // L2: gradient g + wd * w.
    close(
        &trajectory(&sgd, 0.2, 0.0, 1.0, 0.5, 0.1, 1),
        &[1.0 - 0.1 * (0.5 + 0.2)],
    );
    // L1: gradient g + l1 * sign(w).
    close(
        &trajectory(&sgd, 0.0, 0.3, 1.0, 0.5, 0.1, 1),
        &[1.0 - 0.1 * (0.5 + 0.3)],
    );
    close(
        &trajectory(&sgd, 0.0, 0.3, -1.0, 0.5, 0.1, 1),
        &[-1.0 - 0.1 * (0.5 - 0.3)],
    );
}

#[test]
fn schedules_give_the_documented_learning_rates() {
    let s0 = Schedule::Constant.initial_state();
    let step = Schedule::Step {
        every: 2,
        gamma: 0.1,
    };
    assert_eq!(
        [0.0, 1.5, 2.0, 4.0].map(|t| step.lr(1.0, t, 10, &s0)),
        [1.0, 1.0, 0.1, 0.1 * 0.1]
    );
    let ms = Schedule::MultiStep {
        milestones: vec![3, 5],
        gamma: 0.2,
    };
    let v = [2.0, 3.0, 5.0].map(|t| ms.lr(1.0, t, 10, &s0));
    close(&v.map(|x| x as f32), &[1.0, 0.2, 0.04]);
    let exp = Schedule::Exponential { gamma: 0.5 };
    assert_eq!(exp.lr(1.0, 3.7, 10, &s0), 0.125);
    let cos = Schedule::Cosine {
        warmup_epochs: 2.0,
        min_lr: 0.0,
    };
    assert!((cos.lr(1.0, 1.0, 10, &s0) - 0.5).abs() < 1e-12);
    assert!((cos.lr(1.0, 2.0, 10, &s0) - 1.0).abs() < 1e-12);
    assert!((cos.lr(1.0, 6.0, 10, &s0) - 0.5).abs() < 1e-12);
    assert!(cos.lr(1.0, 10.0, 10, &s0).abs() < 1e-12);
    let pl = Schedule::Plateau {
        factor: 0.5,
        patience: 1,
        min_lr: 0.0,
    };
    let mut st = pl.initial_state();
    for loss in [1.0, 0.9, 0.95, 0.96] {
        pl.end_epoch(loss, &mut st);
    }
    assert_eq!(pl.lr(1.0, 4.0, 10, &st), 0.5);
}

fn tiny_setup() -> (specmine_nn::ModelConfig, specmine_dsp::generator::Examples) {
    let mut m = specmine_nn::registry::rf_resnet(128, 11, 1, true);
    m.widths = vec![8, 16, 16];
    m.stem = specmine_nn::config::Stem::Conv {
        channels: 8,
        kernel: 3,
    };
    let ex = GeneratorConfig {
        snrs_db: vec![20.0],
        ..GeneratorConfig::clean()
    }
    .generate(8, 3)
    .unwrap();
    (specmine_nn::ModelConfig::ResNet(m), ex)
}

#[test]
fn a_tiny_model_overfits_a_tiny_set() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (model, ex) = tiny_setup();
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        epochs: 40,
        batch_size: 32,
        lr: 1e-2,
        weight_decay: 0.0,
        schedule: Schedule::Constant,
        ..Default::default()
    };
    let idx: Vec<usize> = (0..ex.len()).collect();
    let data = TrainData {
        train: &ex,
        train_idx: idx.clone(),
        valid: &ex,
        valid_idx: idx,
        fresh: None,
        info: serde_json::json!({}),
    };
    let st = train(
        dir.path(),
        &model,
        &cfg,
        &data,
        &Device::flex(),
        false,
        &mut Quiet,
    )
    .unwrap();
    let last = st.history.last().unwrap();
    assert!(last.train_loss < 0.2, "train loss {}", last.train_loss);
    assert!(
        last.val_acc > 0.95,
        "accuracy on the training set {}",
        last.val_acc
    );
    for f in [
        "model.json",
        "train.json",
        "data.json",
        "metrics.csv",
        "metrics.json",
        "last.bpk",
        "best.bpk",
        "optim.bin",
        "state.json",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
}

#[test]
fn resume_reproduces_the_uninterrupted_run_exactly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (model, ex) = tiny_setup();
    let s = stratified_split(&ex, 0.25, 0.0, 1);
    let data = TrainData {
        train: &ex,
        train_idx: s.train.clone(),
        valid: &ex,
        valid_idx: s.valid.clone(),
        fresh: None,
        info: serde_json::json!({}),
    };
    let cfg = TrainConfig {
        epochs: 4,
        batch_size: 16,
        lr: 5e-3,
        augment: specmine_dsp::augment::Augment::standard(),
        optimizer: Optimizer::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        ..Default::default()
    };
    let device = Device::flex();
    let a = tempfile::tempdir().unwrap();
    let full = train(a.path(), &model, &cfg, &data, &device, false, &mut Quiet).unwrap();
    let b = tempfile::tempdir().unwrap();
    // The same run, stopped after its second epoch as a kill would stop it.
    struct StopAfter(usize);
    impl specmine_nn::train::Observer for StopAfter {
        fn epoch(&mut self, _: &specmine_nn::train::EpochMetrics) {
            self.0 -= 1;
        }
        fn stop(&mut self) -> bool {
            self.0 == 0
        }
    }
    let part = train(
        b.path(),
        &model,
        &cfg,
        &data,
        &device,
        false,
        &mut StopAfter(2),
    )
    .unwrap();
    assert_eq!(part.epochs_done, 2);
    let resumed = train(b.path(), &model, &cfg, &data, &device, true, &mut Quiet).unwrap();
    assert_eq!(resumed.history.len(), 4);
    for (x, y) in full.history.iter().zip(&resumed.history) {
        assert_eq!(
            (x.train_loss, x.train_acc, x.val_loss, x.val_acc, x.lr),
            (y.train_loss, y.train_acc, y.val_loss, y.val_acc, y.lr),
            "epoch {}",
            x.epoch
        );
    }
    // A second fresh start in the same folder is refused.
    let err = train(b.path(), &model, &cfg, &data, &device, false, &mut Quiet).unwrap_err();
    assert!(err.to_string().contains("--resume"), "{err}");
}

#[test]
fn bad_training_configs_are_clear_errors() {
    let toml_err = toml::from_str::<TrainConfig>("epochs = 3\nlearning_rate = 0.1")
        .unwrap_err()
        .to_string();
    assert!(toml_err.contains("learning_rate"), "{toml_err}");
    for (cfg, want) in [
        (
            TrainConfig {
                lr: -1.0,
                ..Default::default()
            },
            "lr",
        ),
        (
            TrainConfig {
                batch_size: 0,
                ..Default::default()
            },
            "batch_size",
        ),
        (
            TrainConfig {
                label_smoothing: 1.5,
                ..Default::default()
            },
            "label_smoothing",
        ),
        (
            TrainConfig {
                schedule: Schedule::Step {
                    every: 0,
                    gamma: 0.1,
                },
                ..Default::default()
            },
            "every",
        ),
    ] {
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
    let parsed: TrainConfig = toml::from_str("epochs = 3\n[optimizer]\nkind = \"sgd\"\nmomentum = 0.9\nnesterov = true\n[schedule]\nkind = \"multi-step\"\nmilestones = [1, 2]\ngamma = 0.1\n").unwrap();
    assert_eq!(
        parsed.optimizer,
        Optimizer::Sgd {
            momentum: 0.9,
            nesterov: true
        }
    );
}
