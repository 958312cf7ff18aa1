//! Evaluation the way the field reads it: accuracy per SNR, per class and per (class, SNR)
//! cell, overall and above 0 / 10 dB, and confusion matrices (all SNRs and high SNR).
//! [`Report`] is what `specmine eval` writes to `report.json` (schema in the README).

use crate::batch::make_batch;
use crate::model::Model;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use specmine_dsp::Modulation;
use specmine_dsp::generator::Examples;
use std::collections::BTreeMap;

/// SNR at and above which the "high SNR" confusion matrix is taken.
pub const HIGH_SNR_DB: f32 = 10.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    pub accuracy: f64,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnrAccuracy {
    pub snr_db: f32,
    pub accuracy: f64,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassAccuracy {
    pub class: String,
    pub accuracy: f64,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellAccuracy {
    pub class: String,
    pub snr_db: f32,
    pub accuracy: f64,
    pub count: usize,
}

/// The evaluation report (`report.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The model's classes: rows and columns of the confusion matrices.
    pub class_names: Vec<String>,
    /// Classes left out of every figure below except the confusion matrices' rows.
    pub excluded_classes: Vec<String>,
    pub overall: Accuracy,
    pub snr_ge_0: Accuracy,
    pub snr_ge_10: Accuracy,
    pub per_snr: Vec<SnrAccuracy>,
    pub per_class: Vec<ClassAccuracy>,
    pub per_cell: Vec<CellAccuracy>,
    /// `confusion_all[true][predicted]` counts over every SNR.
    pub confusion_all: Vec<Vec<usize>>,
    /// The same at SNR >= `high_snr_db`.
    pub confusion_high_snr: Vec<Vec<usize>>,
    pub high_snr_db: f32,
}

/// Map a data set's class names to a model's class indices by modulation (so `QAM16` in a
/// RadioML 2016 file meets `16QAM` in a model, and so on).
pub fn class_map(data_classes: &[String], model_classes: &[String]) -> Result<Vec<usize>, String> {
    let model_mods: Vec<Option<Modulation>> =
        model_classes.iter().map(|c| c.parse().ok()).collect();
    data_classes
        .iter()
        .map(|d| {
            let m: Modulation = d
                .parse()
                .map_err(|e: specmine_dsp::UnknownClass| e.to_string())?;
            model_mods
                .iter()
                .position(|x| *x == Some(m))
                .ok_or_else(|| {
                    format!(
                        "data class {d} is not one of the model's classes ({})",
                        model_classes.join(", ")
                    )
                })
        })
        .collect()
}

/// Predicted class index of each example of `idx` (validation mode, batched).
pub fn predict(
    model: &Model,
    ex: &Examples,
    idx: &[usize],
    batch: usize,
    device: &Device,
    mut progress: impl FnMut(usize),
) -> Vec<usize> {
    let m = model.valid();
    let mut out = Vec::with_capacity(idx.len());
    for chunk in idx.chunks(batch.max(1)) {
        let b = make_batch(ex, chunk, None, model.image_shape(), device);
        let logits = m.forward(b.x);
        let c = logits.dims()[1];
        let v: Vec<f32> = logits.into_data().try_to_vec::<f32>().expect("f32 logits");
        out.extend(v.chunks_exact(c).map(|r| {
            r.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .unwrap_or(0)
        }));
        progress(chunk.len());
    }
    out
}

/// Log-probabilities (log-softmax of the logits) of each example of `idx`, `[idx.len(), C]`
/// row-major (validation mode, batched).
pub fn predict_log_probs(
    model: &Model,
    ex: &Examples,
    idx: &[usize],
    batch: usize,
    device: &Device,
) -> Vec<f32> {
    let m = model.valid();
    let mut out = Vec::new();
    for chunk in idx.chunks(batch.max(1)) {
        let b = make_batch(ex, chunk, None, model.image_shape(), device);
        let lp = burn::tensor::activation::log_softmax(m.forward(b.x), 1);
        out.extend(lp.into_data().try_to_vec::<f32>().expect("f32 log-probs"));
    }
    out
}

/// Build the report from true labels (model indices), predictions and SNRs.
pub fn report(
    class_names: &[String],
    truth: &[usize],
    pred: &[usize],
    snrs: &[f32],
    excluded: &[String],
) -> Report {
    let c = class_names.len();
    let keep = |t: usize| !excluded.iter().any(|e| e == &class_names[t]);
    let acc = |filter: &dyn Fn(usize) -> bool| {
        let (mut n, mut ok) = (0, 0);
        for i in 0..truth.len() {
            if keep(truth[i]) && filter(i) {
                n += 1;
                ok += (truth[i] == pred[i]) as usize;
            }
        }
        Accuracy {
            accuracy: if n > 0 { ok as f64 / n as f64 } else { 0.0 },
            count: n,
        }
    };
    // Examples without a known SNR (NaN: e.g. a NumPy file without Z) count only overall.
    let mut snr_set: Vec<f32> = snrs.iter().copied().filter(|s| s.is_finite()).collect();
    snr_set.sort_by(f32::total_cmp);
    snr_set.dedup();
    let mut confusion_all = vec![vec![0usize; c]; c];
    let mut confusion_high = vec![vec![0usize; c]; c];
    let mut cells: BTreeMap<(usize, i64), (usize, usize)> = BTreeMap::new();
    for i in 0..truth.len() {
        confusion_all[truth[i]][pred[i]] += 1;
        if snrs[i] >= HIGH_SNR_DB {
            confusion_high[truth[i]][pred[i]] += 1;
        }
        if !snrs[i].is_finite() {
            continue;
        }
        let e = cells
            .entry((truth[i], (snrs[i] * 1000.0).round() as i64))
            .or_default();
        e.0 += 1;
        e.1 += (truth[i] == pred[i]) as usize;
    }
    Report {
        class_names: class_names.to_vec(),
        excluded_classes: excluded.to_vec(),
        overall: acc(&|_| true),
        snr_ge_0: acc(&|i| snrs[i] >= 0.0),
        snr_ge_10: acc(&|i| snrs[i] >= 10.0),
        per_snr: snr_set
            .iter()
            .map(|s| {
                let a = acc(&|i| snrs[i] == *s);
                SnrAccuracy {
                    snr_db: *s,
                    accuracy: a.accuracy,
                    count: a.count,
                }
            })
            .collect(),
        per_class: (0..c)
            .filter(|t| truth.contains(t))
            .map(|t| {
                let (n, ok) = (0..truth.len())
                    .filter(|&i| truth[i] == t)
                    .fold((0, 0), |(n, ok), i| (n + 1, ok + (pred[i] == t) as usize));
                ClassAccuracy {
                    class: class_names[t].clone(),
                    accuracy: ok as f64 / n as f64,
                    count: n,
                }
            })
            .collect(),
        per_cell: cells
            .into_iter()
            .map(|((t, s), (n, ok))| CellAccuracy {
                class: class_names[t].clone(),
                snr_db: s as f32 / 1000.0,
                accuracy: ok as f64 / n as f64,
                count: n,
            })
            .collect(),
        confusion_all,
        confusion_high_snr: confusion_high,
        high_snr_db: HIGH_SNR_DB,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_counts_by_hand() {
        let names: Vec<String> = ["BPSK", "QPSK", "AM-SSB"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let truth = [0, 0, 1, 1, 2, 2];
        let pred = [0, 1, 1, 1, 0, 2];
        let snrs = [0.0, 10.0, 0.0, 10.0, 0.0, 10.0];
        let r = report(&names, &truth, &pred, &snrs, &[]);
        assert_eq!(
            r.overall,
            Accuracy {
                accuracy: 4.0 / 6.0,
                count: 6
            }
        );
        assert_eq!(
            r.snr_ge_10,
            Accuracy {
                accuracy: 2.0 / 3.0,
                count: 3
            }
        );
        assert_eq!(r.per_snr[0].snr_db, 0.0);
        assert_eq!(r.per_snr[0].accuracy, 2.0 / 3.0);
        assert_eq!(r.confusion_all[0], vec![1, 1, 0]);
        assert_eq!(r.confusion_high_snr[0], vec![0, 1, 0]);
        assert_eq!(r.per_class[1].accuracy, 1.0);
        let r = report(&names, &truth, &pred, &snrs, &["AM-SSB".into()]);
        assert_eq!(
            r.overall,
            Accuracy {
                accuracy: 3.0 / 4.0,
                count: 4
            }
        );
    }

    #[test]
    fn classes_map_across_naming_conventions() {
        let data: Vec<String> = ["QAM16", "WBFM"].iter().map(|s| s.to_string()).collect();
        let model: Vec<String> = ["FM", "16QAM"].iter().map(|s| s.to_string()).collect();
        assert_eq!(class_map(&data, &model).unwrap(), vec![1, 0]);
        let err = class_map(&["GMSK".to_string()], &model).unwrap_err();
        assert!(err.contains("GMSK"), "{err}");
    }
}
