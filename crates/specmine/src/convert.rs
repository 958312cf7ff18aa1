//! `specmine convert IN OUT`: labelled data between the formats of `specmine_data::dataset`.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Input: RadioML 2016 pickle, HDF5 (RadioML 2018 layout), NumPy .npz or SigMF.
    pub input: PathBuf,
    /// Output, the format chosen by its extension: .h5/.hdf5, .npz, .sigmf-meta.
    pub output: PathBuf,
    /// Vector length when cutting a SigMF recording's annotations into examples.
    #[arg(long, default_value_t = specmine_data::dataset::SIGMF_VECTOR_LEN)]
    pub vector_len: usize,
    /// Sample rate written to a SigMF output (Hz). RadioML 2016 used 200 kHz.
    #[arg(long, default_value_t = 200e3)]
    pub sample_rate_hz: f64,
    /// SNR (dB) given to examples without one (NumPy files without Z, unannotated SigMF)
    /// when writing HDF5, whose Z column holds integers only.
    #[arg(long, allow_hyphen_values = true)]
    pub fill_snr_db: Option<f32>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    if a.output.exists() && !a.force {
        bail!("{} exists: pass --force to replace it", a.output.display());
    }
    if std::fs::canonicalize(&a.input).ok() == std::fs::canonicalize(&a.output).ok()
        && a.output.exists()
    {
        bail!("input and output are the same file: {}", a.input.display());
    }
    let mut ex = specmine_data::dataset::load_with_len(&a.input, a.vector_len)
        .with_context(|| format!("reading {}", a.input.display()))?;
    let ext = a.output.extension().and_then(|e| e.to_str()).unwrap_or("");
    let unknown = ex.snrs_db.iter().filter(|s| !s.is_finite()).count();
    if unknown > 0 && matches!(ext, "h5" | "hdf5") {
        match a.fill_snr_db {
            Some(v) => ex
                .snrs_db
                .iter_mut()
                .filter(|s| !s.is_finite())
                .for_each(|s| *s = v),
            None => bail!(
                "{}: {unknown} of {} examples have no SNR, and the HDF5 layout stores an integer \
                 SNR for every example: pass --fill-snr-db VALUE",
                a.input.display(),
                ex.len()
            ),
        }
    }
    specmine_data::dataset::save(&a.output, &ex, a.sample_rate_hz)
        .with_context(|| format!("writing {}", a.output.display()))?;
    println!(
        "{} -> {}: {} examples of {} samples, {} classes",
        a.input.display(),
        a.output.display(),
        ex.len(),
        ex.vector_len,
        ex.class_names.len()
    );
    Ok(())
}
