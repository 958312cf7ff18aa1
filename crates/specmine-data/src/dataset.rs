//! Opening any supported labelled data file by its content.

use crate::{DataError, h5, radioml};
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
}

pub fn sniff(path: &Path) -> Result<Format, DataError> {
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
        _ => Err(DataError::invalid(
            path,
            "unknown format: expected HDF5 (RadioML 2018 layout) or a RadioML 2016 pickle",
        )),
    }
}

/// Load a whole labelled data file into memory.
pub fn load(path: &Path) -> Result<Examples, DataError> {
    match sniff(path)? {
        Format::Pickle => radioml::load(path),
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
