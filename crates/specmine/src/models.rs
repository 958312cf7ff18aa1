//! `specmine models`.

use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_a: Args) -> Result<()> {
    anyhow::bail!("the model zoo is not built yet")
}
