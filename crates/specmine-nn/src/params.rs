//! Walking a module's parameters by path: trainable parameters versus BN running statistics,
//! and the BN/bias group that weight decay may exempt.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

/// What a float tensor of a module is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Conv and linear weights.
    Weight,
    /// Biases and BN's gamma/beta (commonly exempt from weight decay).
    BiasOrNorm,
    /// BN running mean/variance: state, not trained.
    RunningStat,
}

/// Classify a parameter by its module path (`blocks.0.norms.1.gamma`, ...).
pub fn kind_of(path: &[String]) -> ParamKind {
    match path.last().map(String::as_str) {
        Some("running_mean" | "running_var") => ParamKind::RunningStat,
        Some("bias" | "gamma" | "beta") => ParamKind::BiasOrNorm,
        _ => ParamKind::Weight,
    }
}

/// Visitor that records `(path, kind, element count)` of every float tensor.
#[derive(Default)]
pub struct Inventory {
    path: Vec<String>,
    pub entries: Vec<(String, ParamKind, usize)>,
}

impl ModuleVisitor for Inventory {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.entries.push((
            self.path.join("."),
            kind_of(&self.path),
            param.lazy_shape().num_elements(),
        ));
    }
}

/// Every float tensor of a module: `(path, kind, elements)`.
pub fn inventory<M: Module>(module: &M) -> Vec<(String, ParamKind, usize)> {
    let mut inv = Inventory::default();
    module.visit(&mut inv);
    inv.entries
}

/// Trainable parameters (everything but BN running statistics), the count the papers report.
pub fn trainable_params<M: Module>(module: &M) -> usize {
    inventory(module)
        .iter()
        .filter(|(_, k, _)| *k != ParamKind::RunningStat)
        .map(|(_, _, n)| n)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_statistics_are_not_trainable() {
        let cfg = crate::preset("rf_resnet").unwrap();
        let m = cfg.init(&Device::flex()).unwrap();
        let inv = inventory(&m);
        let find = |p: &str| {
            inv.iter()
                .find(|(path, _, _)| path == p)
                .map(|(_, k, n)| (*k, *n))
        };
        assert_eq!(
            find("ResNet.stem.weight"),
            Some((ParamKind::Weight, 2 * 32 * 3))
        );
        assert_eq!(
            find("ResNet.stem_norm.gamma"),
            Some((ParamKind::BiasOrNorm, 32))
        );
        assert_eq!(
            find("ResNet.stem_norm.running_var"),
            Some((ParamKind::RunningStat, 32))
        );
        assert_eq!(find("ResNet.head.bias"), Some((ParamKind::BiasOrNorm, 11)));
        assert_eq!(trainable_params(&m), cfg.cost().params);
    }
}
