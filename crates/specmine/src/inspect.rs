//! `specmine inspect FILE`.

use anyhow::Result;
use specmine_data::h5::H5Dataset;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A data file (HDF5 in the RadioML 2018 layout).
    pub file: PathBuf,
}

pub fn run(a: Args) -> Result<()> {
    let d = H5Dataset::open(&a.file)?;
    println!("{}: HDF5, RadioML 2018 layout", a.file.display());
    println!(
        "  examples: {}   vector length: {}   classes: {}",
        d.len(),
        d.vector_len(),
        d.class_names().len()
    );
    let mut per_class = vec![0usize; d.class_names().len()];
    let mut per_snr: BTreeMap<i64, usize> = BTreeMap::new();
    let block = 4096;
    for start in (0..d.len()).step_by(block) {
        let rows = d.read_rows(start, block.min(d.len() - start))?;
        for (y, s) in rows.labels.iter().zip(&rows.snrs_db) {
            per_class[*y as usize] += 1;
            *per_snr.entry(*s as i64).or_default() += 1;
        }
    }
    println!("  per class:");
    for (name, n) in d.class_names().iter().zip(&per_class) {
        println!("    {name:<10} {n}");
    }
    let snrs: Vec<String> = per_snr.iter().map(|(s, n)| format!("{s}:{n}")).collect();
    println!("  per SNR (dB:count): {}", snrs.join(" "));
    if let Some(g) = d.generator() {
        println!("  generator: {g}");
    }
    Ok(())
}
