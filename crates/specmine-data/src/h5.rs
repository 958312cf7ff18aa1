//! The RadioML 2018.01A HDF5 layout (`GOLD_XYZ_OSC.0001_1024.hdf5`), specmine's data-set format.
//!
//! Datasets: `X` float32 `[N, L, 2]` (I, Q per sample), `Y` int64 one-hot `[N, C]`, `Z` int64
//! `[N, 1]` (SNR in dB). specmine adds root attributes `classes` (the label names, in one-hot
//! order) and `generator` (the JSON generator config that made the file). Files without
//! `classes` whose `Y` has 24 columns get RadioML 2018's order (the archive's `classes.txt` is
//! known to be wrong). Reading is lazy: rows are read on demand, never the whole file.

use crate::{DataError, atomic::write_atomic};
use hdf5_pure::{AttrValue, File, FileBuilder};
use specmine_dsp::ClassSet;
use specmine_dsp::generator::Examples;
use std::path::{Path, PathBuf};

/// Write `examples` to `path` in the RadioML 2018 layout (atomically), with `generator_json`
/// as provenance when given.
pub fn write(
    path: &Path,
    examples: &Examples,
    generator_json: Option<&str>,
) -> Result<(), DataError> {
    let n = examples.len() as u64;
    let l = examples.vector_len as u64;
    let c = examples.class_names.len();
    if examples.iq.len() as u64 != n * l * 2 || examples.snrs_db.len() as u64 != n {
        return Err(DataError::invalid(
            path,
            "inconsistent example buffers: X, Y and Z lengths differ",
        ));
    }
    let mut onehot = vec![0i64; examples.len() * c];
    for (i, &y) in examples.labels.iter().enumerate() {
        if y as usize >= c {
            return Err(DataError::invalid(
                path,
                format!("label {y} of example {i} is outside the {c} classes"),
            ));
        }
        onehot[i * c + y as usize] = 1;
    }
    let z: Vec<i64> = examples.snrs_db.iter().map(|s| s.round() as i64).collect();
    let mut b = FileBuilder::new();
    b.create_dataset("X")
        .with_f32_data(&examples.iq)
        .with_shape(&[n, l, 2]);
    b.create_dataset("Y")
        .with_i64_data(&onehot)
        .with_shape(&[n, c as u64]);
    b.create_dataset("Z").with_i64_data(&z).with_shape(&[n, 1]);
    b.set_attr(
        "classes",
        AttrValue::StringArray(examples.class_names.clone()),
    );
    if let Some(g) = generator_json {
        b.set_attr("generator", AttrValue::String(g.to_string()));
    }
    let bytes = b.finish().map_err(|e| DataError::Hdf5 {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, |f| std::io::Write::write_all(f, &bytes))
}

/// A RadioML-2018-layout file opened for lazy reading.
pub struct H5Dataset {
    path: PathBuf,
    x: hdf5_pure::Dataset,
    y: hdf5_pure::Dataset,
    z: hdf5_pure::Dataset,
    len: usize,
    vector_len: usize,
    class_names: Vec<String>,
    generator: Option<String>,
}

/// One block of rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Rows {
    /// `[n, L, 2]`, row-major.
    pub iq: Vec<f32>,
    pub labels: Vec<u16>,
    pub snrs_db: Vec<f32>,
}

impl std::fmt::Debug for H5Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5Dataset")
            .field("path", &self.path)
            .field("len", &self.len)
            .field("vector_len", &self.vector_len)
            .field("class_names", &self.class_names)
            .finish()
    }
}

impl H5Dataset {
    /// Open and check the layout (shapes agree, dtypes are the expected ones).
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let h5err = |e: hdf5_pure::Error| DataError::Hdf5 {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        if !path.exists() {
            return Err(DataError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        let file = File::open_streaming(path).map_err(h5err)?;
        let get = |name: &str| {
            file.dataset(name).map_err(|e| {
                DataError::invalid(
                    path,
                    format!("missing dataset {name:?} of the RadioML 2018 layout ({e})"),
                )
            })
        };
        let (x, y, z) = (get("X")?, get("Y")?, get("Z")?);
        let xs = x.shape().map_err(h5err)?;
        let ys = y.shape().map_err(h5err)?;
        let zs = z.shape().map_err(h5err)?;
        if xs.len() != 3 || xs[2] != 2 {
            return Err(DataError::invalid(
                path,
                format!("X has shape {xs:?}; expected [N, L, 2]"),
            ));
        }
        if ys.len() != 2 || ys[0] != xs[0] {
            return Err(DataError::invalid(
                path,
                format!("Y has shape {ys:?}; expected [{}, classes]", xs[0]),
            ));
        }
        if zs.first() != Some(&xs[0]) {
            return Err(DataError::invalid(
                path,
                format!("Z has shape {zs:?}; expected [{}, 1]", xs[0]),
            ));
        }
        let attrs = file.root().attrs().map_err(h5err)?;
        let class_names = match attrs.get("classes") {
            Some(AttrValue::StringArray(v)) => v.clone(),
            _ if ys[1] == 24 => ClassSet::Rml2018
                .labels()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            _ if ys[1] == 11 => ClassSet::Rml2016
                .labels()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            _ => {
                return Err(DataError::invalid(
                    path,
                    format!("Y has {} classes and the file names none", ys[1]),
                ));
            }
        };
        if class_names.len() as u64 != ys[1] {
            return Err(DataError::invalid(
                path,
                format!(
                    "{} class names for {} one-hot columns",
                    class_names.len(),
                    ys[1]
                ),
            ));
        }
        let generator = match attrs.get("generator") {
            Some(AttrValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        Ok(Self {
            path: path.to_path_buf(),
            x,
            y,
            z,
            len: xs[0] as usize,
            vector_len: xs[1] as usize,
            class_names,
            generator,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn vector_len(&self) -> usize {
        self.vector_len
    }

    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// The generator config JSON, for files specmine wrote.
    pub fn generator(&self) -> Option<&str> {
        self.generator.as_deref()
    }

    /// Rows `start..start + count`, checked: one-hot rows must have exactly one 1, samples
    /// must be finite.
    pub fn read_rows(&self, start: usize, count: usize) -> Result<Rows, DataError> {
        if start + count > self.len {
            return Err(DataError::invalid(
                &self.path,
                format!(
                    "rows {start}..{} past the end ({} rows)",
                    start + count,
                    self.len
                ),
            ));
        }
        let h5err = |e: hdf5_pure::Error| DataError::Hdf5 {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let iq = self
            .x
            .read_f32_rows(start as u64, count as u64)
            .map_err(h5err)?;
        let y = self
            .y
            .read_i64_rows(start as u64, count as u64)
            .map_err(h5err)?;
        let z = self
            .z
            .read_i64_rows(start as u64, count as u64)
            .map_err(h5err)?;
        let c = self.class_names.len();
        if iq.len() != count * self.vector_len * 2 || y.len() != count * c || z.len() < count {
            return Err(DataError::invalid(
                &self.path,
                "row read returned the wrong number of values (truncated file?)",
            ));
        }
        if let Some(bad) = iq.iter().position(|v| !v.is_finite()) {
            let row = start + bad / (self.vector_len * 2);
            return Err(DataError::invalid(
                &self.path,
                format!("X row {row} holds a NaN or infinite sample"),
            ));
        }
        let mut labels = Vec::with_capacity(count);
        for (r, row) in y.chunks_exact(c).enumerate() {
            let ones: Vec<usize> = row
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != 0)
                .map(|(i, _)| i)
                .collect();
            match ones.as_slice() {
                [i] if row[*i] == 1 => labels.push(*i as u16),
                _ => {
                    return Err(DataError::invalid(
                        &self.path,
                        format!("Y row {} is not one-hot: {row:?}", start + r),
                    ));
                }
            }
        }
        let zc = z.len() / count;
        let snrs_db = (0..count).map(|r| z[r * zc] as f32).collect();
        Ok(Rows {
            iq,
            labels,
            snrs_db,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use specmine_dsp::generator::GeneratorConfig;

    #[test]
    fn round_trip_keeps_every_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.h5");
        let cfg = GeneratorConfig {
            snrs_db: vec![-4.0, 6.0],
            ..GeneratorConfig::rml2016()
        };
        let ex = cfg.generate(3, 5).unwrap();
        write(&path, &ex, Some("{\"preset\":\"rml2016\"}")).unwrap();
        let d = H5Dataset::open(&path).unwrap();
        assert_eq!(d.len(), ex.len());
        assert_eq!(d.vector_len(), 128);
        assert_eq!(d.class_names(), &ex.class_names[..]);
        assert_eq!(d.generator(), Some("{\"preset\":\"rml2016\"}"));
        let rows = d.read_rows(0, ex.len()).unwrap();
        assert_eq!(rows.iq, ex.iq);
        assert_eq!(rows.labels, ex.labels);
        assert_eq!(rows.snrs_db, ex.snrs_db);
        let part = d.read_rows(10, 5).unwrap();
        assert_eq!(part.labels, ex.labels[10..15]);
        assert!(d.read_rows(ex.len() - 1, 2).is_err());
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn truncated_and_foreign_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.h5");
        let ex = GeneratorConfig {
            snrs_db: vec![0.0],
            ..GeneratorConfig::rml2016()
        }
        .generate(2, 1)
        .unwrap();
        write(&path, &ex, None).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.path().join("cut.h5");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = H5Dataset::open(&cut).and_then(|d| d.read_rows(0, d.len()).map(|_| ()));
        let msg = err.unwrap_err().to_string();
        assert!(msg.contains("cut.h5"), "{msg}");
        let foreign = dir.path().join("foreign.h5");
        std::fs::write(&foreign, b"not an hdf5 file at all").unwrap();
        assert!(
            H5Dataset::open(&foreign)
                .unwrap_err()
                .to_string()
                .contains("foreign.h5")
        );
        assert!(
            H5Dataset::open(&dir.path().join("missing.h5"))
                .unwrap_err()
                .to_string()
                .contains("missing.h5")
        );
    }
}
