//! Numerical agreement with an independent PyTorch implementation (fixtures written by
//! `tests/fixtures/make_reference.py`): same weights and input give the same logits within
//! 1e-4, in eval mode (running statistics) and train mode (batch statistics).

use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use specmine_nn::ModelConfig;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn tensor(st: &safetensors::SafeTensors, name: &str) -> (Vec<f32>, Vec<usize>) {
    let t = st.tensor(name).unwrap();
    let v = t
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (v, t.shape().to_vec())
}

fn check(name: &str) {
    let cfg = ModelConfig::from_file(&fixture(&format!("{name}.json"))).unwrap();
    let ModelConfig::ResNet(cfg) = cfg else {
        panic!("fixtures are ResNets")
    };
    let bytes = std::fs::read(fixture(&format!("{name}.safetensors"))).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (x, xs) = tensor(&st, "x");
    for (mode, device) in [
        ("logits_train", Device::flex().autodiff()),
        ("logits_eval", Device::flex()),
    ] {
        let mut model = cfg.init(&device).unwrap();
        let mut store = SafetensorsStore::from_file(fixture(&format!("{name}.safetensors")))
            .allow_partial(true);
        let result = model.load_from(&mut store).unwrap();
        assert!(
            result.missing.is_empty(),
            "{name}: weights missing from the fixture: {:?}",
            result.missing
        );
        assert!(result.errors.is_empty(), "{name}: {:?}", result.errors);
        // Inputs are [B, C, L] (1D) or [B, C, H, W].
        let input = if xs.len() == 3 {
            Tensor::<3>::from_data(TensorData::new(x.clone(), xs.clone()), &device)
                .unsqueeze_dim::<4>(2)
        } else {
            Tensor::<4>::from_data(TensorData::new(x.clone(), xs.clone()), &device)
        };
        let got: Vec<f32> = model
            .forward(input)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let (want, _) = tensor(&st, mode);
        assert_eq!(got.len(), want.len());
        let max_err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            max_err < 1e-4,
            "{name} {mode}: max |burn - pytorch| = {max_err}"
        );
    }
}

#[test]
fn resnet_v1_1d_projection_shortcut_matches_pytorch() {
    check("ref_1d_v1_b");
}

#[test]
fn resnet_v1_2d_option_a_shortcut_matches_pytorch() {
    check("ref_2d_v1_a");
}

#[test]
fn preact_bottleneck_2d_matches_pytorch() {
    check("ref_2d_preact_bottleneck");
}
