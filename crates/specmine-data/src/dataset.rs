//! Opening any supported labelled data file by its content.

use crate::{DataError, h5, numpy, radioml, sigmf};
use specmine_dsp::generator::Examples;
use std::io::Read;
use std::path::Path;

/// What a file is, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// HDF5 in the RadioML 2018 layout (also specmine's own).
    Hdf5,
    /// A RadioML 2016 Python pickle.
    Pickle,
    /// A NumPy `.npz` archive (zip).
    Npz,
    /// A SigMF recording (meta JSON, data file, or `.sigmf` tar archive), labelled by its
    /// annotations.
    Sigmf,
}

pub fn sniff(path: &Path) -> Result<Format, DataError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if matches!(ext, "sigmf-meta" | "sigmf-data" | "sigmf") {
        return Ok(Format::Sigmf);
    }
    let mut head = [0u8; 8];
    let mut f = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let n = f.read(&mut head).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match &head[..n] {
        [0x89, b'H', b'D', b'F', ..] => Ok(Format::Hdf5),
        [0x80, p, ..] if *p <= 5 => Ok(Format::Pickle),
        [b'(' | b'}' | b']', ..] => Ok(Format::Pickle), // protocol 0/1 pickles have no header
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Ok(Format::Npz),
        _ => Err(DataError::invalid(
            path,
            "unknown format: expected HDF5 (RadioML 2018 layout), a RadioML 2016 pickle, \
             a NumPy .npz or a SigMF recording (.sigmf-meta/.sigmf-data/.sigmf)",
        )),
    }
}

/// Vector length used when cutting a SigMF recording's annotations into examples.
pub const SIGMF_VECTOR_LEN: usize = 128;

/// Load a whole labelled data file into memory (SigMF annotations are cut into vectors of
/// [`SIGMF_VECTOR_LEN`]; use [`load_with_len`] for another length).
pub fn load(path: &Path) -> Result<Examples, DataError> {
    load_with_len(path, SIGMF_VECTOR_LEN)
}

/// [`load`], cutting SigMF annotations into vectors of `sigmf_vector_len` samples.
pub fn load_with_len(path: &Path, sigmf_vector_len: usize) -> Result<Examples, DataError> {
    match sniff(path)? {
        Format::Pickle => radioml::load(path),
        Format::Npz => numpy::load_npz(path),
        Format::Sigmf => sigmf::load_examples(path, sigmf_vector_len),
        Format::Hdf5 => {
            let d = h5::H5Dataset::open(path)?;
            let rows = d.read_rows(0, d.len())?;
            Ok(Examples {
                vector_len: d.vector_len(),
                iq: rows.iq,
                labels: rows.labels,
                snrs_db: rows.snrs_db,
                class_names: d.class_names().to_vec(),
            })
        }
    }
}

/// Write labelled examples, the format chosen by the extension: `.h5`/`.hdf5` (RadioML 2018
/// layout), `.npz`, or `.sigmf-meta`/`.sigmf-data` (one recording, an annotation per vector,
/// at `sample_rate_hz`).
pub fn save(path: &Path, ex: &Examples, sample_rate_hz: f64) -> Result<(), DataError> {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "h5" | "hdf5" => h5::write(path, ex, None),
        "npz" => numpy::write_npz(path, ex),
        "sigmf-meta" | "sigmf-data" => sigmf::write_examples(path, ex, sample_rate_hz),
        e => Err(DataError::invalid(
            path,
            format!("cannot write .{e} files: use .h5, .npz or .sigmf-meta"),
        )),
    }
}
