//! The training loop: data, the best-practice knobs of [`TrainConfig`], checkpoints and resume.
//!
//! A run folder holds `model.json` (the model config), `train.json` (this config), `data.json`
//! (what the data was), `metrics.csv`/`metrics.json` (one row per epoch), `last.bpk` +
//! `optim.bin` + `state.json` (the resumable checkpoint; `state.json` is written last, so a
//! run killed mid-save resumes from the previous epoch) and `best.bpk` (lowest validation loss).
//! An `init.bpk` placed in a new run folder gives the initial weights.
//! Every file is written to a temporary file and renamed. Randomness is derived from
//! `(seed, epoch)` (shuffling, augmentation, dropout), so a resumed run continues exactly.

use crate::batch::make_batch;
use crate::model::{Model, ModelConfig};
use crate::optim::{Optimizer, Schedule, ScheduleState};
use crate::params::{ParamKind, kind_of};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::activation::log_softmax;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use specmine_data::atomic::write_atomic;
use specmine_dsp::augment::Augment;
use specmine_dsp::generator::Examples;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Everything about how a model is trained (serialised to `train.json`; TOML for users).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub seed: u64,
    /// Base learning rate (the schedule scales it).
    pub lr: f64,
    pub optimizer: Optimizer,
    pub schedule: Schedule,
    /// L2 penalty coefficient (AdamW: decoupled decay).
    pub weight_decay: f64,
    /// Leave BN parameters and biases out of the weight decay.
    pub decay_exempt_bn_bias: bool,
    /// L1 penalty coefficient on conv/linear weights, added to the loss.
    pub l1: f64,
    pub label_smoothing: f64,
    /// Clip gradients to this global L2 norm.
    pub grad_clip_norm: Option<f32>,
    /// Stop when validation loss has not improved for this many epochs.
    pub early_stopping_patience: Option<usize>,
    pub augment: Augment,
    /// Cap on training batches per epoch (for budgeted runs and tests).
    pub max_batches_per_epoch: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 256,
            seed: 0,
            lr: 3e-3,
            optimizer: Optimizer::default(),
            schedule: Schedule::default(),
            weight_decay: 1e-4,
            decay_exempt_bn_bias: true,
            l1: 0.0,
            label_smoothing: 0.0,
            grad_clip_norm: None,
            early_stopping_patience: None,
            augment: Augment::default(),
            max_batches_per_epoch: None,
        }
    }
}

/// Training failures, each naming what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("invalid training config: {0}")]
    Config(String),
    #[error("run folder {path}: {message}")]
    Run { path: PathBuf, message: String },
    #[error(transparent)]
    Data(#[from] specmine_data::DataError),
    #[error(transparent)]
    Model(#[from] crate::ConfigError),
    #[error("training diverged at epoch {epoch}: the loss is {loss}")]
    Diverged { epoch: usize, loss: f64 },
}

impl TrainConfig {
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::Config(m));
        if self.epochs == 0 {
            return bad("epochs must be >= 1".into());
        }
        if self.batch_size == 0 {
            return bad("batch_size must be >= 1".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(format!("lr {}: expected a positive learning rate", self.lr));
        }
        if self.weight_decay < 0.0 || self.l1 < 0.0 {
            return bad("weight_decay and l1 must be >= 0".into());
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return bad(format!(
                "label_smoothing {}: expected [0, 1)",
                self.label_smoothing
            ));
        }
        if self.grad_clip_norm.is_some_and(|c| c.is_nan() || c <= 0.0) {
            return bad("grad_clip_norm must be > 0".into());
        }
        self.schedule.validate().map_err(TrainError::Config)?;
        self.augment
            .validate()
            .map_err(|e| TrainError::Config(e.to_string()))
    }
}

/// One epoch's numbers (a row of `metrics.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub lr: f64,
    pub train_loss: f64,
    pub train_acc: f64,
    pub val_loss: f64,
    pub val_acc: f64,
    pub seconds: f64,
    pub train_examples_per_s: f64,
}

/// What a run has done so far (`state.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub epochs_done: usize,
    pub schedule: ScheduleState,
    pub best_val_loss: Option<f64>,
    pub best_epoch: Option<usize>,
    pub epochs_without_improvement: usize,
    pub stopped_early: bool,
    pub history: Vec<EpochMetrics>,
}

/// The data of a run.
pub struct TrainData<'a> {
    pub train: &'a Examples,
    pub train_idx: Vec<usize>,
    pub valid: &'a Examples,
    pub valid_idx: Vec<usize>,
    /// When set, each epoch trains on fresh examples from this source instead of `train`.
    pub fresh: Option<&'a (dyn Fn(usize) -> Examples + Sync)>,
    /// What the data is (written to `data.json`; must hold `class_names`).
    pub info: serde_json::Value,
}

/// Progress callbacks.
pub trait Observer {
    /// After each training batch: epoch, batch index, batch count, running loss and accuracy, lr.
    fn batch(&mut self, _epoch: usize, _b: usize, _n: usize, _loss: f64, _acc: f64, _lr: f64) {}
    fn epoch(&mut self, _m: &EpochMetrics) {}
    /// Checked after each saved epoch: `true` ends the session there (resumable, like a kill).
    fn stop(&mut self) -> bool {
        false
    }
}

/// An observer that does nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// Cross-entropy with label smoothing: targets `(1 - eps) * onehot + eps / C`.
///
/// # Shapes
/// - logits: `[batch, classes]`
/// - output: `[1]` (mean over the batch)
pub fn smoothed_cross_entropy(logits: Tensor<2>, labels: &[u16], eps: f64) -> Tensor<1> {
    let [b, c] = logits.dims();
    let mut t = vec![(eps / c as f64) as f32; b * c];
    for (i, &y) in labels.iter().enumerate() {
        t[i * c + y as usize] += (1.0 - eps) as f32;
    }
    let target = Tensor::<2>::from_data(TensorData::new(t, [b, c]), &logits.device());
    (log_softmax(logits, 1) * target).sum_dim(1).mean().neg()
}

/// Sum of |w| over conv and linear weights (the L1 penalty's value).
pub fn l1_norm<M: Module>(model: &M) -> Option<Tensor<1>> {
    struct L1 {
        path: Vec<String>,
        sum: Option<Tensor<1>>,
    }
    impl ModuleVisitor for L1 {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.into());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if kind_of(&self.path) == ParamKind::Weight {
                let s = param.val().abs().sum();
                self.sum = Some(match self.sum.take() {
                    Some(acc) => acc + s,
                    None => s,
                });
            }
        }
    }
    let mut v = L1 {
        path: vec![],
        sum: None,
    };
    model.visit(&mut v);
    v.sum
}

fn argmax_rows(logits: &[f32], c: usize) -> impl Iterator<Item = usize> + '_ {
    logits.chunks_exact(c).map(|r| {
        r.iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, v)| {
                if *v > bv { (i, *v) } else { (bi, bv) }
            })
            .0
    })
}

/// Mean loss and accuracy of `model` (validation mode) over `idx`.
pub fn evaluate_loss(
    model: &Model,
    ex: &Examples,
    idx: &[usize],
    batch: usize,
    device: &Device,
) -> (f64, f64) {
    let m = model.valid();
    let (mut loss, mut correct) = (0.0, 0usize);
    for chunk in idx.chunks(batch.max(1)) {
        let b = make_batch(ex, chunk, None, model.image_shape(), device);
        let logits = m.forward(b.x);
        let c = logits.dims()[1];
        loss += smoothed_cross_entropy(logits.clone(), &b.labels, 0.0).into_scalar::<f32>() as f64
            * chunk.len() as f64;
        let v: Vec<f32> = logits.into_data().try_to_vec::<f32>().expect("f32 logits");
        correct += argmax_rows(&v, c)
            .zip(&b.labels)
            .filter(|(p, y)| *p == **y as usize)
            .count();
    }
    let n = idx.len().max(1) as f64;
    (loss / n, correct as f64 / n)
}

fn run_err(dir: &Path, message: impl Into<String>) -> TrainError {
    TrainError::Run {
        path: dir.to_path_buf(),
        message: message.into(),
    }
}

fn write_json<T: Serialize>(dir: &Path, name: &str, v: &T) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(v).map_err(|e| run_err(dir, e.to_string()))?;
    write_atomic(&dir.join(name), |f| {
        std::io::Write::write_all(f, text.as_bytes())
    })?;
    Ok(())
}

fn read_json<T: for<'de> Deserialize<'de>>(dir: &Path, name: &str) -> Result<T, TrainError> {
    let p = dir.join(name);
    let text = std::fs::read_to_string(&p).map_err(|e| run_err(dir, format!("{name}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| run_err(dir, format!("{name}: {e}")))
}

/// Save a model's weights (burnpack) atomically.
pub fn save_model(model: &Model, path: &Path) -> Result<(), TrainError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut store = BurnpackStore::from_bytes(None);
    model
        .save_into(&mut store)
        .map_err(|e| run_err(dir, format!("saving weights: {e}")))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| run_err(dir, format!("saving weights: {e}")))?;
    write_atomic(path, |f| std::io::Write::write_all(f, &bytes))?;
    Ok(())
}

/// Build `cfg` on `device` and load weights from a burnpack file.
pub fn load_model(cfg: &ModelConfig, path: &Path, device: &Device) -> Result<Model, TrainError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let bytes =
        std::fs::read(path).map_err(|e| run_err(dir, format!("{}: {e}", path.display())))?;
    load_model_bytes(cfg, bytes, device)
        .map_err(|e| run_err(dir, format!("{}: {e}", path.display())))
}

/// Build `cfg` on `device` and load weights from burnpack bytes.
pub fn load_model_bytes(
    cfg: &ModelConfig,
    bytes: Vec<u8>,
    device: &Device,
) -> Result<Model, String> {
    let mut model = cfg.init(device).map_err(|e| e.to_string())?;
    let mut store = BurnpackStore::from_bytes(Some(burn::tensor::Bytes::from_bytes_vec(bytes)));
    let r = model.load_from(&mut store).map_err(|e| e.to_string())?;
    if !r.missing.is_empty() || !r.errors.is_empty() {
        return Err(format!(
            "weights do not fit the model config (missing {:?}, errors {:?})",
            r.missing, r.errors
        ));
    }
    Ok(model)
}

/// Read a run folder's model config.
pub fn run_model_config(dir: &Path) -> Result<ModelConfig, TrainError> {
    read_json(dir, "model.json")
}

/// Train (or, with `resume`, continue) the run in `dir`. `device` is a plain (non-autodiff)
/// device; training runs on its autodiff twin.
pub fn train(
    dir: &Path,
    model_cfg: &ModelConfig,
    cfg: &TrainConfig,
    data: &TrainData,
    device: &Device,
    resume: bool,
    observer: &mut dyn Observer,
) -> Result<RunState, TrainError> {
    cfg.validate()?;
    model_cfg.validate()?;
    let ad = device.clone().autodiff();
    let (mut model, mut optim, mut state) = if resume {
        let state: RunState = read_json(dir, "state.json")?;
        let model = load_model(model_cfg, &dir.join("last.bpk"), &ad)?;
        let optim = cfg.optimizer.build(
            &model,
            cfg.weight_decay,
            cfg.decay_exempt_bn_bias,
            cfg.grad_clip_norm,
        );
        let optim = optim
            .load(dir.join("optim.bin"))
            .map_err(|e| run_err(dir, format!("optim.bin: {e:?}")))?;
        (model, optim, state)
    } else {
        if dir.join("state.json").exists() {
            return Err(run_err(
                dir,
                "holds a run already; pass --resume to continue it or choose another folder",
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| run_err(dir, e.to_string()))?;
        write_json(dir, "model.json", model_cfg)?;
        write_json(dir, "train.json", cfg)?;
        write_json(dir, "data.json", &data.info)?;
        device.seed(cfg.seed);
        // A new run starts from `init.bpk` when the folder holds one (e.g. a deep net grown
        // from a trained shallow one), else from the configured initialisation.
        let init = dir.join("init.bpk");
        let model = if init.exists() {
            load_model(model_cfg, &init, &ad)?
        } else {
            model_cfg.init(&ad)?
        };
        let optim = cfg.optimizer.build(
            &model,
            cfg.weight_decay,
            cfg.decay_exempt_bn_bias,
            cfg.grad_clip_norm,
        );
        (
            model,
            optim,
            RunState {
                schedule: cfg.schedule.initial_state(),
                ..Default::default()
            },
        )
    };
    let mut fresh_store;
    for epoch in state.epochs_done..cfg.epochs {
        if state.stopped_early {
            break;
        }
        let t0 = Instant::now();
        device.seed(cfg.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
        ad.seed(cfg.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
        let (train_ex, mut order): (&Examples, Vec<usize>) = match data.fresh {
            Some(f) => {
                fresh_store = f(epoch);
                let n = fresh_store.len();
                (&fresh_store, (0..n).collect())
            }
            None => (data.train, data.train_idx.clone()),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(2 * epoch as u64);
        order.shuffle(&mut rng);
        let mut aug_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        aug_rng.set_stream(2 * epoch as u64 + 1);
        let mut n_batches = order.len().div_ceil(cfg.batch_size);
        if let Some(m) = cfg.max_batches_per_epoch {
            n_batches = n_batches.min(m);
        }
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut lr = cfg.lr;
        for b in 0..n_batches {
            let idx = &order[b * cfg.batch_size..((b + 1) * cfg.batch_size).min(order.len())];
            let aug = (!cfg.augment.is_off()).then_some((&cfg.augment, &mut aug_rng));
            let batch = make_batch(train_ex, idx, aug, model.image_shape(), &ad);
            lr = cfg.schedule.lr(
                cfg.lr,
                epoch as f64 + b as f64 / n_batches as f64,
                cfg.epochs,
                &state.schedule,
            );
            let logits = model.forward(batch.x);
            let c = logits.dims()[1];
            let mut loss =
                smoothed_cross_entropy(logits.clone(), &batch.labels, cfg.label_smoothing);
            if cfg.l1 > 0.0
                && let Some(l1) = l1_norm(&model)
            {
                loss = loss + l1.mul_scalar(cfg.l1);
            }
            let lv = loss.clone().into_scalar::<f32>() as f64;
            if !lv.is_finite() {
                return Err(TrainError::Diverged { epoch, loss: lv });
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
            let v: Vec<f32> = logits.into_data().try_to_vec::<f32>().expect("f32 logits");
            correct += argmax_rows(&v, c)
                .zip(&batch.labels)
                .filter(|(p, y)| *p == **y as usize)
                .count();
            loss_sum += lv * idx.len() as f64;
            seen += idx.len();
            observer.batch(
                epoch,
                b,
                n_batches,
                loss_sum / seen as f64,
                correct as f64 / seen as f64,
                lr,
            );
        }
        let train_s = t0.elapsed().as_secs_f64();
        let (val_loss, val_acc) = evaluate_loss(&model, data.valid, &data.valid_idx, 512, device);
        let m = EpochMetrics {
            epoch: epoch + 1,
            lr,
            train_loss: loss_sum / seen.max(1) as f64,
            train_acc: correct as f64 / seen.max(1) as f64,
            val_loss,
            val_acc,
            seconds: t0.elapsed().as_secs_f64(),
            train_examples_per_s: seen as f64 / train_s,
        };
        cfg.schedule.end_epoch(val_loss, &mut state.schedule);
        let improved = state.best_val_loss.is_none_or(|b| val_loss < b);
        if improved {
            state.best_val_loss = Some(val_loss);
            state.best_epoch = Some(epoch + 1);
            state.epochs_without_improvement = 0;
            save_model(&model, &dir.join("best.bpk"))?;
        } else {
            state.epochs_without_improvement += 1;
        }
        if cfg
            .early_stopping_patience
            .is_some_and(|p| state.epochs_without_improvement >= p)
        {
            state.stopped_early = true;
        }
        state.epochs_done = epoch + 1;
        state.history.push(m.clone());
        save_model(&model, &dir.join("last.bpk"))?;
        let ob = optim
            .into_bytes()
            .map_err(|e| run_err(dir, format!("optimizer state: {e:?}")))?;
        write_atomic(&dir.join("optim.bin"), |f| {
            std::io::Write::write_all(f, &ob)
        })?;
        write_metrics(dir, &state.history)?;
        write_json(dir, "state.json", &state)?;
        observer.epoch(&m);
        if observer.stop() {
            break;
        }
    }
    Ok(state)
}

fn write_metrics(dir: &Path, h: &[EpochMetrics]) -> Result<(), TrainError> {
    let mut csv = String::from(
        "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,train_examples_per_s\n",
    );
    for m in h {
        csv += &format!(
            "{},{:.6e},{:.6},{:.6},{:.6},{:.6},{:.2},{:.1}\n",
            m.epoch,
            m.lr,
            m.train_loss,
            m.train_acc,
            m.val_loss,
            m.val_acc,
            m.seconds,
            m.train_examples_per_s
        );
    }
    write_atomic(&dir.join("metrics.csv"), |f| {
        std::io::Write::write_all(f, csv.as_bytes())
    })?;
    write_json(dir, "metrics.json", &h)
}
