//! File formats and datasets for specmine.
//!
//! [`radioml`] reads RadioML 2016 pickles through a safe pickle interpreter ([`pickle`]).
//! [`h5`] reads and writes the RadioML 2018.01A HDF5 layout (`X` float32 `[N, L, 2]`, `Y` int64
//! one-hot `[N, C]`, `Z` int64 SNR `[N, 1]`), which is also specmine's own data-set format.
//! [`sigmf`] reads and writes SigMF recordings and archives, [`numpy`] `.npy`/`.npz` arrays;
//! [`dataset`] opens any of them by content.
//! Every error names the file and what was wrong; writes go to a temporary file that is renamed
//! into place, so an interrupted run never leaves a half-written file under the user's name.

pub mod atomic;
pub mod dataset;
pub mod h5;
pub mod numpy;
pub mod pickle;
pub mod radioml;
pub mod sigmf;

use std::path::PathBuf;

/// Errors of the data layer; each names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable HDF5 file: {message}")]
    Hdf5 { path: PathBuf, message: String },
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
}

impl DataError {
    pub(crate) fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
