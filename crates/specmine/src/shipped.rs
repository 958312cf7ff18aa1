//! Loading a trained model: from a run folder, or the model shipped inside the binary
//! (`models/rf_resnet-rml2016`, see the README's results) when none is given.

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use specmine_nn::{Model, ModelConfig};
use std::path::Path;

const SHIPPED_CONFIG: &str = include_str!("../../../models/rf_resnet-rml2016/model.json");
const SHIPPED_DATA: &str = include_str!("../../../models/rf_resnet-rml2016/data.json");
const SHIPPED_WEIGHTS: &[u8] = include_bytes!("../../../models/rf_resnet-rml2016/best.bpk");

/// A model ready for inference, with its class names.
pub struct Loaded {
    pub name: String,
    pub config: ModelConfig,
    pub classes: Vec<String>,
    pub model: Model,
}

fn classes(data_json: &str, what: &str) -> Result<Vec<String>> {
    let info: serde_json::Value = serde_json::from_str(data_json)
        .with_context(|| format!("{what}: data.json is not JSON"))?;
    serde_json::from_value(info["class_names"].clone())
        .with_context(|| format!("{what}: data.json has no class_names"))
}

/// Load `run` (its `best` or `last` weights), or the shipped model when `run` is `None`.
pub fn load(run: Option<&Path>, weights: &str, device: &Device) -> Result<Loaded> {
    let Some(run) = run else {
        let config: ModelConfig =
            serde_json::from_str(SHIPPED_CONFIG).context("shipped model config")?;
        let model = specmine_nn::train::load_model_bytes(&config, SHIPPED_WEIGHTS.to_vec(), device)
            .map_err(|e| anyhow::anyhow!("shipped model: {e}"))?;
        return Ok(Loaded {
            name: "rf_resnet-rml2016 (shipped)".into(),
            classes: classes(SHIPPED_DATA, "shipped model")?,
            config,
            model,
        });
    };
    let config = specmine_nn::train::run_model_config(run)?;
    let data = std::fs::read_to_string(run.join("data.json"))
        .with_context(|| format!("{}: not a run folder (no data.json)", run.display()))?;
    let path = match weights {
        "best" | "last" => run.join(format!("{weights}.bpk")),
        w => bail!("--weights {w}: expected best or last"),
    };
    let model = specmine_nn::train::load_model(&config, &path, device)?;
    Ok(Loaded {
        name: run
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| run.display().to_string()),
        classes: classes(&data, &run.display().to_string())?,
        config,
        model,
    })
}
