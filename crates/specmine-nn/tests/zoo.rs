//! The registry against the papers: parameter counts, shapes, gradients, config errors.

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::Distribution;
use specmine_nn::config::Cost;
use specmine_nn::registry::{cifar_preact_resnet, cifar_resnet, wrn};
use specmine_nn::{ModelConfig, preset, registry};

#[test]
fn every_golden_parameter_count_matches_the_config_arithmetic() {
    let mut checked = 0;
    for p in registry() {
        if let Some(g) = p.golden_params {
            assert_eq!(p.config.cost().params, g, "{}", p.name);
            checked += 1;
        }
    }
    assert_eq!(checked, 14, "every golden count of issue 3 is covered");
}

/// Checks every trainable parameter of a module after a backward pass.
struct GradCheck<'a> {
    path: Vec<String>,
    grads: &'a burn::tensor::Gradients,
    params: usize,
    missing: usize,
    non_finite: usize,
}

impl ModuleVisitor for GradCheck<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.into());
    }

    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if specmine_nn::params::kind_of(&self.path) == specmine_nn::params::ParamKind::RunningStat {
            return;
        }
        self.params += 1;
        match param.val().grad(self.grads) {
            None => self.missing += 1,
            Some(g) => {
                let v: Vec<f32> = g.into_data().try_to_vec::<f32>().unwrap();
                if v.iter().any(|x| !x.is_finite()) {
                    self.non_finite += 1;
                }
            }
        }
    }
}

fn check_model(name: &str, cfg: &ModelConfig, batch: usize) {
    let device = Device::flex().autodiff();
    let model = cfg.init(&device).unwrap();
    // The built module has exactly the parameters the config arithmetic says.
    assert_eq!(
        specmine_nn::params::trainable_params(&model),
        cfg.cost().params,
        "{name}: built vs computed parameters"
    );
    let i = cfg.input();
    let x = Tensor::<4>::random(
        [batch, i.channels, i.height, i.width],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let y = model.forward(x);
    assert_eq!(y.dims(), [batch, cfg.num_classes()], "{name}");
    let v: Vec<f32> = y.clone().into_data().try_to_vec::<f32>().unwrap();
    assert!(v.iter().all(|x| x.is_finite()), "{name}: non-finite logits");
    let grads = y.powf_scalar(2.0).mean().backward();
    let mut check = GradCheck {
        path: vec![],
        grads: &grads,
        params: 0,
        missing: 0,
        non_finite: 0,
    };
    model.visit(&mut check);
    assert!(check.params > 0);
    assert_eq!(
        check.missing, 0,
        "{name}: {} of {} parameters got no gradient",
        check.missing, check.params
    );
    assert_eq!(check.non_finite, 0, "{name}: non-finite gradients");
}

#[test]
fn small_presets_forward_backward_with_gradients_everywhere() {
    for p in registry() {
        if p.config.cost().params < 2_000_000
            && p.name != "resnet110"
            && p.name != "preact_resnet164"
            && p.name != "preact_resnet110"
        {
            check_model(&p.name, &p.config, 2);
        }
    }
}

#[test]
fn deep_presets_forward_backward_with_gradients_everywhere() {
    for name in ["resnet110", "preact_resnet110", "preact_resnet164"] {
        check_model(name, &preset(name).unwrap(), 2);
    }
}

#[test]
fn large_presets_forward_backward_with_gradients_everywhere() {
    for p in registry() {
        if p.config.cost().params >= 2_000_000 {
            check_model(&p.name, &p.config, 2);
        }
    }
}

#[test]
fn plain_twins_have_the_same_layers_and_no_skips() {
    for d in [20, 56] {
        let r = cifar_resnet(d, true).unwrap();
        let p = cifar_resnet(d, false).unwrap();
        assert_eq!(r.cost(), p.cost(), "option A shortcuts carry no parameters");
        assert_eq!(r.depth(), d);
    }
}

#[test]
fn impossible_configs_are_exact_errors() {
    assert_eq!(
        cifar_resnet(21, true).unwrap_err().to_string(),
        "invalid model config: depth = 21: 6n+2 for a CIFAR ResNet (20, 32, 44, 56, 110, ...)"
    );
    assert_eq!(
        wrn(27, 10).unwrap_err().to_string(),
        "invalid model config: depth = 27: 6n+4 for a Wide ResNet (16, 22, 28, 40, ...)"
    );
    assert!(
        cifar_preact_resnet(165, true)
            .unwrap_err()
            .to_string()
            .contains("9n+2")
    );
    let mut c = cifar_resnet(20, true).unwrap();
    c.widths = vec![16, 32];
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "invalid model config: widths = [16, 32]: one width per stage (3 stages in depths)"
    );
    let err = preset("resnet_9000").unwrap_err().to_string();
    assert!(
        err.contains("unknown model") && err.contains("wrn_28_10"),
        "{err}"
    );
    assert_eq!(
        preset("resnet26").unwrap().cost().params,
        cifar_resnet(26, true).unwrap().cost().params
    );
}

#[test]
fn config_files_round_trip_and_bad_files_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = preset("rf_resnet").unwrap();
    let json = dir.path().join("m.json");
    std::fs::write(&json, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    assert_eq!(ModelConfig::from_file(&json).unwrap(), cfg);
    let toml_path = dir.path().join("m.toml");
    std::fs::write(&toml_path, toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(ModelConfig::from_file(&toml_path).unwrap(), cfg);
    let mut bad = serde_json::to_value(&cfg).unwrap();
    bad["depths"] = serde_json::json!([2, 2]);
    std::fs::write(&json, bad.to_string()).unwrap();
    let err = ModelConfig::from_file(&json).unwrap_err().to_string();
    assert!(err.contains("m.json") && err.contains("widths"), "{err}");
}

#[test]
fn rf_resnet_is_the_issue_8_model() {
    // stem 32, 3 stages x 2 basic blocks at 32/64/128, 11 classes: about 0.24M parameters.
    let c = preset("rf_resnet").unwrap().cost();
    assert_eq!(
        c,
        Cost {
            params: 241_419,
            macs: c.macs
        }
    );
}

#[test]
fn image_networks_take_images_stored_as_iq_vectors() {
    // An example whose 2L = 256 values are a 1x16x16 image goes through make_batch laid out
    // for the model (its image shape) and must give the logits of the image itself.
    use specmine_dsp::generator::Examples;
    let mut cfg = specmine_nn::registry::rf_resnet(128, 11, 1, true);
    cfg.input = specmine_nn::config::InputShape {
        channels: 1,
        height: 16,
        width: 16,
    };
    let device = Device::flex();
    let model = ModelConfig::ResNet(cfg).init(&device).unwrap().valid();
    let pixels: Vec<f32> = (0..512)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let ex = Examples {
        vector_len: 128,
        iq: pixels.clone(),
        labels: vec![0, 1],
        snrs_db: vec![0.0, 0.0],
        class_names: (0..11).map(|i| i.to_string()).collect(),
    };
    assert_eq!(model.image_shape(), Some([1, 16, 16]));
    let b = specmine_nn::batch::make_batch(&ex, &[0, 1], None, model.image_shape(), &device);
    assert_eq!(b.x.dims(), [2, 1, 16, 16]);
    let via_iq: Vec<f32> = model.forward(b.x).into_data().try_to_vec().unwrap();
    let img = Tensor::<1>::from_floats(pixels.as_slice(), &device).reshape([2, 1, 16, 16]);
    let direct: Vec<f32> = model.forward(img).into_data().try_to_vec().unwrap();
    for (a, b) in via_iq.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-5, "{via_iq:?} vs {direct:?}");
    }
}
