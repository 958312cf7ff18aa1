//! The preset registry: every named model, which drives `specmine models`, the CLI's `--model`
//! and the tests (parameter counts against the papers' architectures).

use crate::config::{
    Activation, BlockKind, ConfigError, Init, InputShape, ResNetConfig, Shortcut, Stem, invalid,
};
use crate::model::ModelConfig;
use crate::oshea::OSheaConfig;

/// One named model.
#[derive(Clone, Debug)]
pub struct Preset {
    pub name: String,
    pub family: &'static str,
    pub config: ModelConfig,
    /// Exact parameter count of the architecture as its paper defines it (every parameter, BN
    /// included), where an independent count exists.
    pub golden_params: Option<usize>,
}

fn base(input: InputShape, num_classes: usize) -> ResNetConfig {
    ResNetConfig {
        input,
        num_classes,
        block: BlockKind::Basic,
        residual: true,
        shortcut: Shortcut::B,
        stem: Stem::Conv {
            channels: 16,
            kernel: 3,
        },
        depths: vec![],
        widths: vec![16, 32, 64],
        strides: vec![1, 2, 2],
        width_factor: 1,
        kernel_size: 3,
        dropout: 0.0,
        activation: Activation::Relu,
        init: Init::HeNormal { fan_out: true },
        zero_init_last: false,
        input_norm: false,
    }
}

/// CIFAR ResNet v1 of depth 6n + 2 (He 2015, shortcut A); `residual = false` is its plain twin.
pub fn cifar_resnet(depth: usize, residual: bool) -> Result<ResNetConfig, ConfigError> {
    if depth < 8 || !(depth - 2).is_multiple_of(6) {
        return Err(invalid(
            "depth",
            depth,
            "6n+2 for a CIFAR ResNet (20, 32, 44, 56, 110, ...)",
        ));
    }
    let n = (depth - 2) / 6;
    Ok(ResNetConfig {
        depths: vec![n; 3],
        shortcut: Shortcut::A,
        residual,
        ..base(InputShape::image(3, 32), 10)
    })
}

/// CIFAR pre-activation ResNet (He 2016): basic blocks at depth 6n + 2, or bottleneck blocks
/// at depth 9n + 2 (164, 1001); projection shortcuts where the shape changes.
pub fn cifar_preact_resnet(depth: usize, bottleneck: bool) -> Result<ResNetConfig, ConfigError> {
    let (per, kind, block) = if bottleneck {
        (
            9,
            "9n+2 for a bottleneck pre-activation ResNet (164, 1001, ...)",
            BlockKind::PreActBottleneck,
        )
    } else {
        (
            6,
            "6n+2 for a basic pre-activation ResNet (110, ...)",
            BlockKind::PreActBasic,
        )
    };
    if depth < per + 2 || !(depth - 2).is_multiple_of(per) {
        return Err(invalid("depth", depth, kind));
    }
    Ok(ResNetConfig {
        depths: vec![(depth - 2) / per; 3],
        block,
        ..base(InputShape::image(3, 32), 10)
    })
}

/// Wide ResNet WRN-d-k (Zagoruyko 2016): d = 6n + 4, widths 16, 16k, 32k, 64k, dropout 0.3.
pub fn wrn(depth: usize, k: usize) -> Result<ResNetConfig, ConfigError> {
    if depth < 10 || !(depth - 4).is_multiple_of(6) {
        return Err(invalid(
            "depth",
            depth,
            "6n+4 for a Wide ResNet (16, 22, 28, 40, ...)",
        ));
    }
    if k == 0 {
        return Err(invalid("width_factor", k, "k >= 1"));
    }
    Ok(ResNetConfig {
        depths: vec![(depth - 4) / 6; 3],
        block: BlockKind::PreActBasic,
        width_factor: k,
        dropout: 0.3,
        ..base(InputShape::image(3, 32), 10)
    })
}

/// torchvision's ImageNet ResNets (18, 34: basic; 50, 101, 152: bottleneck).
pub fn imagenet_resnet(depth: usize) -> Result<ResNetConfig, ConfigError> {
    let (block, depths) = match depth {
        18 => (BlockKind::Basic, vec![2, 2, 2, 2]),
        34 => (BlockKind::Basic, vec![3, 4, 6, 3]),
        50 => (BlockKind::Bottleneck, vec![3, 4, 6, 3]),
        101 => (BlockKind::Bottleneck, vec![3, 4, 23, 3]),
        152 => (BlockKind::Bottleneck, vec![3, 8, 36, 3]),
        _ => {
            return Err(invalid(
                "depth",
                depth,
                "18, 34, 50, 101 or 152 for an ImageNet ResNet",
            ));
        }
    };
    Ok(ResNetConfig {
        block,
        depths,
        widths: vec![64, 128, 256, 512],
        strides: vec![1, 2, 2, 2],
        stem: Stem::ImageNet { channels: 64 },
        ..base(InputShape::image(3, 224), 1000)
    })
}

/// The small fast RF ResNet: 1x3 stem to 32 channels, three stages of `blocks` basic blocks at
/// 32/64/128 channels, projection shortcuts (about 0.24M parameters with 2 blocks a stage).
pub fn rf_resnet(len: usize, num_classes: usize, blocks: usize, residual: bool) -> ResNetConfig {
    ResNetConfig {
        depths: vec![blocks; 3],
        widths: vec![32, 64, 128],
        stem: Stem::Conv {
            channels: 32,
            kernel: 3,
        },
        residual,
        input_norm: true,
        ..base(InputShape::iq(len), num_classes)
    }
}

fn rn(name: &str, family: &'static str, c: ResNetConfig, golden: Option<usize>) -> Preset {
    Preset {
        name: name.into(),
        family,
        config: ModelConfig::ResNet(c),
        golden_params: golden,
    }
}

/// Every preset, in display order.
pub fn registry() -> Vec<Preset> {
    let ok = |r: Result<ResNetConfig, ConfigError>| r.expect("registry presets are valid");
    let mut v = Vec::new();
    for (d, g) in [
        (20, 269_722),
        (32, 464_154),
        (44, 658_586),
        (56, 853_018),
        (110, 1_727_962),
    ] {
        v.push(rn(
            &format!("resnet{d}"),
            "resnet-v1",
            ok(cifar_resnet(d, true)),
            Some(g),
        ));
    }
    v.push(rn(
        "plain20",
        "plain",
        ok(cifar_resnet(20, false)),
        Some(269_722),
    ));
    v.push(rn(
        "plain56",
        "plain",
        ok(cifar_resnet(56, false)),
        Some(853_018),
    ));
    v.push(rn(
        "preact_resnet110",
        "preact-resnet",
        ok(cifar_preact_resnet(110, false)),
        None,
    ));
    v.push(rn(
        "preact_resnet164",
        "preact-resnet",
        ok(cifar_preact_resnet(164, true)),
        Some(1_703_258),
    ));
    v.push(rn(
        "preact_resnet1001",
        "preact-resnet",
        ok(cifar_preact_resnet(1001, true)),
        Some(10_327_706),
    ));
    for (d, k, g) in [
        (16, 8, 10_961_370),
        (28, 10, 36_479_194),
        (40, 4, 8_949_210),
    ] {
        v.push(rn(
            &format!("wrn_{d}_{k}"),
            "wide-resnet",
            ok(wrn(d, k)),
            Some(g),
        ));
    }
    v.push(rn(
        "resnet18",
        "resnet-v1",
        ok(imagenet_resnet(18)),
        Some(11_689_512),
    ));
    v.push(rn(
        "resnet50",
        "resnet-v1",
        ok(imagenet_resnet(50)),
        Some(25_557_032),
    ));
    v.push(rn(
        "rf_resnet",
        "resnet-v1",
        rf_resnet(128, 11, 2, true),
        None,
    ));
    v.push(rn("rf_plain", "plain", rf_resnet(128, 11, 2, false), None));
    v.push(rn(
        "rf_preact_resnet",
        "preact-resnet",
        ResNetConfig {
            block: BlockKind::PreActBasic,
            ..rf_resnet(128, 11, 2, true)
        },
        None,
    ));
    v.push(rn(
        "rf_wrn",
        "wide-resnet",
        ResNetConfig {
            block: BlockKind::PreActBasic,
            stem: Stem::Conv {
                channels: 16,
                kernel: 3,
            },
            widths: vec![16, 32, 64],
            width_factor: 4,
            dropout: 0.3,
            ..rf_resnet(128, 11, 2, true)
        },
        None,
    ));
    v.push(rn(
        "rf_resnet_1024",
        "resnet-v1",
        ResNetConfig {
            strides: vec![4, 2, 2],
            ..rf_resnet(1024, 24, 2, true)
        },
        None,
    ));
    v.push(Preset {
        name: "oshea_resnet".into(),
        family: "oshea-2018",
        config: ModelConfig::OShea(OSheaConfig::default()),
        golden_params: None,
    });
    v
}

/// A preset by name. Besides the registry's names, parametric names build any valid depth:
/// `resnetD`, `plainD` (CIFAR, 6n+2), `preact_resnetD` (6n+2 basic or 9n+2 bottleneck),
/// `wrn_D_K` (6n+4).
pub fn preset(name: &str) -> Result<ModelConfig, ConfigError> {
    if let Some(p) = registry().into_iter().find(|p| p.name == name) {
        return Ok(p.config);
    }
    let num = |s: &str| s.parse::<usize>().ok();
    let parsed = if let Some(d) = name.strip_prefix("resnet").and_then(num) {
        Some(cifar_resnet(d, true))
    } else if let Some(d) = name.strip_prefix("plain").and_then(num) {
        Some(cifar_resnet(d, false))
    } else if let Some(d) = name.strip_prefix("preact_resnet").and_then(num) {
        Some(cifar_preact_resnet(
            d,
            (d - 2) % 9 == 0 && (d - 2) % 6 != 0 || d >= 164,
        ))
    } else if let Some((d, k)) = name.strip_prefix("wrn_").and_then(|r| r.split_once('_')) {
        match (num(d), num(k)) {
            (Some(d), Some(k)) => Some(wrn(d, k)),
            _ => None,
        }
    } else {
        None
    };
    match parsed {
        Some(r) => r.map(ModelConfig::ResNet),
        None => Err(ConfigError::UnknownModel {
            name: name.into(),
            known: registry()
                .iter()
                .map(|p| p.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
