//! `specmine inspect FILE`: what a data file or recording holds.

use anyhow::Result;
use specmine_data::dataset::{self, Format};
use specmine_data::h5::H5Dataset;
use specmine_data::sigmf::Recording;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// A data file: HDF5 (RadioML 2018 layout), RadioML 2016 pickle, NumPy .npz, or a SigMF
    /// recording (.sigmf-meta, .sigmf-data, .sigmf archive).
    pub file: PathBuf,
}

fn print_counts(
    class_names: &[String],
    per_class: &[usize],
    per_snr: &BTreeMap<i64, usize>,
    no_snr: usize,
) {
    println!("  per class:");
    for (name, n) in class_names.iter().zip(per_class) {
        println!("    {name:<10} {n}");
    }
    let snrs: Vec<String> = per_snr.iter().map(|(s, n)| format!("{s}:{n}")).collect();
    println!("  per SNR (dB:count): {}", snrs.join(" "));
    if no_snr > 0 {
        println!("  without SNR: {no_snr}");
    }
}

pub fn run(a: Args) -> Result<()> {
    let format = dataset::sniff(&a.file)?;
    if format == Format::Hdf5 {
        // Streamed in blocks: RadioML 2018's file is 20 GB.
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
        print_counts(d.class_names(), &per_class, &per_snr, 0);
        if let Some(g) = d.generator() {
            println!("  generator: {g}");
        }
        return Ok(());
    }
    if format == Format::Sigmf {
        let rec = Recording::open(&a.file)?;
        let m = &rec.meta;
        println!("{}: SigMF recording", rec.meta_path.display());
        println!(
            "  data: {}   datatype: {}   samples: {}   sample rate: {} Hz   centre: {} Hz",
            rec.data_path().display(),
            m.global.datatype,
            rec.len(),
            m.global
                .sample_rate
                .map_or("unknown".to_string(), |r| r.to_string()),
            m.center_frequency_hz()
        );
        let mut labels: BTreeMap<String, usize> = BTreeMap::new();
        for an in &m.annotations {
            *labels
                .entry(an.label.clone().unwrap_or_else(|| "(no label)".into()))
                .or_default() += 1;
        }
        println!(
            "  captures: {}   annotations: {}",
            m.captures.len(),
            m.annotations.len()
        );
        for (l, n) in &labels {
            println!("    {l:<12} {n}");
        }
        return Ok(());
    }
    let ex = dataset::load(&a.file)?;
    let what = match format {
        Format::Pickle => "RadioML 2016 pickle",
        Format::Npz => "NumPy .npz",
        _ => "data file",
    };
    println!("{}: {what}", a.file.display());
    println!(
        "  examples: {}   vector length: {}   classes: {}",
        ex.len(),
        ex.vector_len,
        ex.class_names.len()
    );
    let mut per_class = vec![0usize; ex.class_names.len()];
    let mut per_snr: BTreeMap<i64, usize> = BTreeMap::new();
    let mut no_snr = 0;
    for (y, s) in ex.labels.iter().zip(&ex.snrs_db) {
        per_class[*y as usize] += 1;
        if s.is_finite() {
            *per_snr.entry(s.round() as i64).or_default() += 1;
        } else {
            no_snr += 1;
        }
    }
    print_counts(&ex.class_names, &per_class, &per_snr, no_snr);
    Ok(())
}
