//! Build a deeper network from a trained shallow one (the degradation experiment of He et al.
//! 2015, §4.1 and the write-up this project implements): the deep net `M` has the shallow net
//! `N`'s stem, head and, in each stage, `N`'s blocks as its first blocks; the extra blocks keep
//! their configured initialisation. With zero-initialised residual branches (`zero_init_last`)
//! a residual `M` starts as exactly `N`; a plain `M` must learn the identity in its extra layers.

use crate::config::{ConfigError, ResNetConfig, invalid};
use crate::model::Model;
use burn::store::{BurnpackStore, ModuleSnapshot};

/// Check that `deep` extends `shallow` (same everything but more blocks per stage).
pub fn check_extends(shallow: &ResNetConfig, deep: &ResNetConfig) -> Result<(), ConfigError> {
    // Initialisation and dropout may differ; the architecture otherwise may not.
    let arch = |a: &ResNetConfig| ResNetConfig {
        depths: vec![],
        zero_init_last: false,
        init: shallow.init,
        dropout: 0.0,
        ..a.clone()
    };
    if arch(shallow) != arch(deep) {
        return Err(invalid(
            "deep",
            "config",
            "the shallow config with more blocks per stage (same widths, strides, block, stem, shortcut, classes)",
        ));
    }
    if shallow.depths.len() != deep.depths.len()
        || shallow.depths.iter().zip(&deep.depths).any(|(a, b)| a > b)
    {
        return Err(invalid(
            "depths",
            &deep.depths,
            format!(
                "at least the shallow depths {:?}, stage by stage",
                shallow.depths
            ),
        ));
    }
    Ok(())
}

/// Copy `shallow`'s weights (and BN statistics) into the matching layers of `deep`; returns
/// the deep model and the number of tensors copied.
pub fn init_from_shallow(
    shallow: &Model,
    shallow_cfg: &ResNetConfig,
    mut deep: Model,
    deep_cfg: &ResNetConfig,
) -> Result<(Model, usize), ConfigError> {
    check_extends(shallow_cfg, deep_cfg)?;
    let mut store = BurnpackStore::from_bytes(None);
    shallow
        .save_into(&mut store)
        .map_err(|e| invalid("shallow", e.to_string(), "a model that can be serialised"))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| invalid("shallow", e.to_string(), "a model that can be serialised"))?;
    let mut load = BurnpackStore::from_bytes(Some(bytes)).allow_partial(true);
    // Shallow block (stage s, j) -> deep block (stage s, j); renamed through a marker so that
    // one rule's output is never another rule's input.
    let (mut si, mut di) = (0usize, 0usize);
    for (ns, nd) in shallow_cfg.depths.iter().zip(&deep_cfg.depths) {
        for j in 0..*ns {
            load = load.with_remap_pattern(
                format!(r"^ResNet\.blocks\.{}\.", si + j),
                format!("ResNet.grown_blocks.{}.", di + j),
            );
        }
        si += ns;
        di += nd;
    }
    load = load.with_remap_pattern(r"^ResNet\.grown_blocks\.", "ResNet.blocks.");
    let r = deep
        .load_from(&mut load)
        .map_err(|e| invalid("deep", e.to_string(), "the shallow weights to fit"))?;
    if !r.errors.is_empty() || !r.unused.is_empty() {
        return Err(invalid(
            "deep",
            format!("errors {:?}, unused {:?}", r.errors, r.unused),
            "every shallow tensor to find its deep layer",
        ));
    }
    Ok((deep, r.applied.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::inventory;
    use burn::prelude::*;

    fn values(m: &Model) -> std::collections::HashMap<String, Vec<f32>> {
        // Tensor values by path (weights and BN statistics).
        struct V(Vec<String>, std::collections::HashMap<String, Vec<f32>>);
        impl burn::module::ModuleVisitor for V {
            fn enter_module(&mut self, n: &str, _: &str) {
                self.0.push(n.into());
            }
            fn exit_module(&mut self, _: &str, _: &str) {
                self.0.pop();
            }
            fn visit_float<const D: usize>(&mut self, p: &burn::module::Param<Tensor<D>>) {
                self.1.insert(
                    self.0.join("."),
                    p.val().into_data().try_to_vec::<f32>().unwrap(),
                );
            }
        }
        let mut v = V(vec![], Default::default());
        m.visit(&mut v);
        v.1
    }

    #[test]
    fn deep_net_gets_exactly_the_shallow_weights_in_the_matching_layers() {
        let device = Device::flex();
        let shallow_cfg = crate::registry::rf_resnet(128, 11, 1, false);
        let deep_cfg = ResNetConfig {
            depths: vec![3, 3, 3],
            ..shallow_cfg.clone()
        };
        let shallow = crate::ModelConfig::ResNet(shallow_cfg.clone())
            .init(&device)
            .unwrap();
        let deep = crate::ModelConfig::ResNet(deep_cfg.clone())
            .init(&device)
            .unwrap();
        let before = values(&deep);
        let (grown, copied) = init_from_shallow(&shallow, &shallow_cfg, deep, &deep_cfg).unwrap();
        let (s, g) = (values(&shallow), values(&grown));
        assert_eq!(copied, inventory(&shallow).len());
        // Shallow block i of stage k is deep block 3k: copied tensor by tensor.
        for (path, v) in &s {
            let mapped = path
                .replace("blocks.1.", "blocks.3.")
                .replace("blocks.2.", "blocks.6.");
            assert_eq!(&g[&mapped], v, "{path} -> {mapped}");
        }
        // Every other deep tensor keeps its own initialisation.
        let mapped: Vec<String> = s
            .keys()
            .map(|p| {
                p.replace("blocks.1.", "blocks.3.")
                    .replace("blocks.2.", "blocks.6.")
            })
            .collect();
        for (path, v) in &g {
            if !mapped.contains(path) {
                assert_eq!(v, &before[path], "{path} changed");
            }
        }
        let wrong = ResNetConfig {
            widths: vec![16, 32, 64],
            ..deep_cfg
        };
        assert!(check_extends(&shallow_cfg, &wrong).is_err());
    }
}
