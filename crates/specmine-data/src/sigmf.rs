//! SigMF recordings: `.sigmf-meta` (JSON) + `.sigmf-data` (raw samples), and `.sigmf` archives
//! (a tar holding both), after the SigMF specification v1.2 (<https://sigmf.org>).
//!
//! Every dataset format of the spec is read: complex (`c`) and real (`r`) samples of
//! `f64 f32 i32 i16 u32 u16` in little or big endian (`_le`/`_be`) and `i8 u8` (no endianness).
//! Integers are scaled to [-1, 1) (`i16` divides by 32768, `u8` is offset by 128 first); real
//! samples become complex samples with zero imaginary part. Only single-channel recordings are
//! accepted. The data file is never loaded whole: [`Recording::read`] seeks and reads a span,
//! so a multi-gigabyte recording streams in bounded memory.
//!
//! Writing produces `cf32_le` data and a meta file whose required fields, ordering rules and
//! value ranges [`Meta::validate`] checks (the rules of the SigMF JSON schema that apply to
//! what specmine writes). Writes are atomic (temporary file, then rename).

use crate::{DataError, atomic::write_atomic};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use specmine_dsp::C32;
use specmine_dsp::generator::Examples;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The SigMF version specmine writes.
pub const SIGMF_VERSION: &str = "1.2.0";

/// Component type of a SigMF dataset format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Component {
    F64,
    F32,
    I32,
    I16,
    I8,
    U32,
    U16,
    U8,
}

impl Component {
    pub fn bytes(self) -> usize {
        match self {
            Self::F64 => 8,
            Self::F32 | Self::I32 | Self::U32 => 4,
            Self::I16 | Self::U16 => 2,
            Self::I8 | Self::U8 => 1,
        }
    }
}

/// A parsed `core:datatype`, e.g. `cf32_le`, `ri16_be`, `cu8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataType {
    pub complex: bool,
    pub component: Component,
    pub big_endian: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "unknown SigMF datatype {0:?}: expected c or r, then f64/f32/i32/i16/u32/u16 with _le or _be, or i8/u8 (e.g. cf32_le)"
)]
pub struct UnknownDataType(pub String);

impl FromStr for DataType {
    type Err = UnknownDataType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || UnknownDataType(s.to_string());
        let (kind, rest) = s.split_at_checked(1).ok_or_else(bad)?;
        let complex = match kind {
            "c" => true,
            "r" => false,
            _ => return Err(bad()),
        };
        let (comp, endian) = match rest.split_once('_') {
            Some((c, e)) => (c, Some(e)),
            None => (rest, None),
        };
        let component = match comp {
            "f64" => Component::F64,
            "f32" => Component::F32,
            "i32" => Component::I32,
            "i16" => Component::I16,
            "i8" => Component::I8,
            "u32" => Component::U32,
            "u16" => Component::U16,
            "u8" => Component::U8,
            _ => return Err(bad()),
        };
        let big_endian = match (component.bytes(), endian) {
            (1, None) => false,
            (n, Some("le")) if n > 1 => false,
            (n, Some("be")) if n > 1 => true,
            _ => return Err(bad()),
        };
        Ok(Self {
            complex,
            component,
            big_endian,
        })
    }
}

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = match self.component {
            Component::F64 => "f64",
            Component::F32 => "f32",
            Component::I32 => "i32",
            Component::I16 => "i16",
            Component::I8 => "i8",
            Component::U32 => "u32",
            Component::U16 => "u16",
            Component::U8 => "u8",
        };
        write!(f, "{}{c}", if self.complex { 'c' } else { 'r' })?;
        if self.component.bytes() > 1 {
            write!(f, "{}", if self.big_endian { "_be" } else { "_le" })?;
        }
        Ok(())
    }
}

impl DataType {
    pub const CF32_LE: Self = Self {
        complex: true,
        component: Component::F32,
        big_endian: false,
    };

    /// Bytes of one sample (both components when complex).
    pub fn sample_bytes(&self) -> usize {
        self.component.bytes() * if self.complex { 2 } else { 1 }
    }

    fn component(&self, b: &[u8]) -> f32 {
        macro_rules! num {
            ($t:ty, $n:expr) => {{
                let a: [u8; $n] = b[..$n].try_into().expect("component width");
                if self.big_endian {
                    <$t>::from_be_bytes(a)
                } else {
                    <$t>::from_le_bytes(a)
                }
            }};
        }
        match self.component {
            Component::F64 => num!(f64, 8) as f32,
            Component::F32 => num!(f32, 4),
            Component::I32 => (num!(i32, 4) as f64 / 2147483648.0) as f32,
            Component::I16 => num!(i16, 2) as f32 / 32768.0,
            Component::I8 => b[0] as i8 as f32 / 128.0,
            Component::U32 => ((num!(u32, 4) as f64 - 2147483648.0) / 2147483648.0) as f32,
            Component::U16 => (num!(u16, 2) as f32 - 32768.0) / 32768.0,
            Component::U8 => (b[0] as f32 - 128.0) / 128.0,
        }
    }

    /// Decode whole samples from `bytes` (a trailing partial sample is ignored).
    pub fn decode(&self, bytes: &[u8]) -> Vec<C32> {
        let w = self.component.bytes();
        bytes
            .chunks_exact(self.sample_bytes())
            .map(|s| {
                if self.complex {
                    C32::new(self.component(&s[..w]), self.component(&s[w..]))
                } else {
                    C32::new(self.component(s), 0.0)
                }
            })
            .collect()
    }
}

/// `global` object of a meta file (core fields by name; everything else kept in `extra`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Global {
    #[serde(rename = "core:datatype")]
    pub datatype: String,
    #[serde(rename = "core:version")]
    pub version: String,
    #[serde(rename = "core:sample_rate", skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<f64>,
    #[serde(rename = "core:num_channels", skip_serializing_if = "Option::is_none")]
    pub num_channels: Option<u64>,
    #[serde(rename = "core:offset", skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(rename = "core:description", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "core:author", skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(rename = "core:recorder", skip_serializing_if = "Option::is_none")]
    pub recorder: Option<String>,
    #[serde(rename = "core:hw", skip_serializing_if = "Option::is_none")]
    pub hw: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One `captures` segment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    #[serde(rename = "core:sample_start")]
    pub sample_start: u64,
    #[serde(rename = "core:frequency", skip_serializing_if = "Option::is_none")]
    pub frequency: Option<f64>,
    #[serde(rename = "core:datetime", skip_serializing_if = "Option::is_none")]
    pub datetime: Option<String>,
    #[serde(rename = "core:header_bytes", skip_serializing_if = "Option::is_none")]
    pub header_bytes: Option<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One annotation: a time span (and optionally a band) of the recording.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    #[serde(rename = "core:sample_start")]
    pub sample_start: u64,
    #[serde(rename = "core:sample_count", skip_serializing_if = "Option::is_none")]
    pub sample_count: Option<u64>,
    #[serde(
        rename = "core:freq_lower_edge",
        skip_serializing_if = "Option::is_none"
    )]
    pub freq_lower_edge: Option<f64>,
    #[serde(
        rename = "core:freq_upper_edge",
        skip_serializing_if = "Option::is_none"
    )]
    pub freq_upper_edge: Option<f64>,
    #[serde(rename = "core:label", skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(rename = "core:comment", skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(rename = "core:generator", skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A whole meta file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub global: Global,
    #[serde(default)]
    pub captures: Vec<Capture>,
    #[serde(default)]
    pub annotations: Vec<Annotation>,
}

impl Meta {
    /// A meta for a new single-channel `cf32_le` recording.
    pub fn new(sample_rate_hz: f64, center_frequency_hz: Option<f64>) -> Self {
        Self {
            global: Global {
                datatype: DataType::CF32_LE.to_string(),
                version: SIGMF_VERSION.into(),
                sample_rate: Some(sample_rate_hz),
                recorder: Some(format!("specmine {}", env!("CARGO_PKG_VERSION"))),
                ..Default::default()
            },
            captures: vec![Capture {
                sample_start: 0,
                frequency: center_frequency_hz,
                ..Default::default()
            }],
            annotations: vec![],
        }
    }

    pub fn datatype(&self) -> Result<DataType, UnknownDataType> {
        self.global.datatype.parse()
    }

    /// Centre frequency of the first capture (0 when absent: baseband).
    pub fn center_frequency_hz(&self) -> f64 {
        self.captures
            .first()
            .and_then(|c| c.frequency)
            .unwrap_or(0.0)
    }

    /// Check the schema's rules: known datatype, version present, positive sample rate,
    /// captures and annotations in `core:sample_start` order, lower edge <= upper edge, every
    /// annotation with a sample count, and namespaced extension keys (`ns:name`).
    pub fn validate(&self) -> Result<(), String> {
        self.datatype().map_err(|e| e.to_string())?;
        if self.global.version.is_empty() {
            return Err("global core:version is empty".into());
        }
        if let Some(r) = self.global.sample_rate
            && !(r.is_finite() && r > 0.0)
        {
            return Err(format!(
                "global core:sample_rate {r} is not a positive number"
            ));
        }
        if self.captures.is_empty() {
            return Err("no captures: SigMF requires at least one capture segment".into());
        }
        if self
            .captures
            .windows(2)
            .any(|w| w[0].sample_start > w[1].sample_start)
        {
            return Err("captures are not in core:sample_start order".into());
        }
        if self
            .annotations
            .windows(2)
            .any(|w| w[0].sample_start > w[1].sample_start)
        {
            return Err("annotations are not in core:sample_start order".into());
        }
        for (i, a) in self.annotations.iter().enumerate() {
            if a.sample_count.is_none() {
                return Err(format!("annotation {i} has no core:sample_count"));
            }
            if let (Some(lo), Some(hi)) = (a.freq_lower_edge, a.freq_upper_edge)
                && lo > hi
            {
                return Err(format!(
                    "annotation {i}: core:freq_lower_edge {lo} above core:freq_upper_edge {hi}"
                ));
            }
            if let Some(k) = a.extra.keys().find(|k| !k.contains(':')) {
                return Err(format!("annotation {i}: key {k:?} has no namespace"));
            }
        }
        if let Some(k) = self.global.extra.keys().find(|k| !k.contains(':')) {
            return Err(format!("global key {k:?} has no namespace"));
        }
        Ok(())
    }

    /// Pretty JSON of this meta, validated first.
    pub fn to_json(&self) -> Result<String, String> {
        self.validate()?;
        serde_json::to_string_pretty(self).map_err(|e| e.to_string())
    }
}

/// Where the samples of a recording live: a file and a byte span in it (a whole `.sigmf-data`,
/// or a member of a `.sigmf` archive).
#[derive(Clone, Debug)]
struct DataSpan {
    path: PathBuf,
    offset: u64,
    len: u64,
}

/// An open SigMF recording.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The meta file (or archive) it was opened from.
    pub meta_path: PathBuf,
    pub meta: Meta,
    pub datatype: DataType,
    data: DataSpan,
    /// Whole samples in the data file (after `core:offset`/header bytes).
    len: u64,
}

/// The `.sigmf-meta` and `.sigmf-data` paths of a recording named by any of its files or its
/// base name.
pub fn paths(path: &Path) -> (PathBuf, PathBuf) {
    let s = path.to_string_lossy();
    let base = s
        .strip_suffix(".sigmf-meta")
        .or_else(|| s.strip_suffix(".sigmf-data"))
        .unwrap_or(&s);
    (
        PathBuf::from(format!("{base}.sigmf-meta")),
        PathBuf::from(format!("{base}.sigmf-data")),
    )
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn parse_meta(path: &Path, text: &[u8]) -> Result<Meta, DataError> {
    let meta: Meta = serde_json::from_slice(text)
        .map_err(|e| DataError::invalid(path, format!("not a SigMF meta file: {e}")))?;
    Ok(meta)
}

impl Recording {
    /// Open a recording by its `.sigmf-meta`, `.sigmf-data`, base name, or `.sigmf` archive.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        if path.extension().is_some_and(|e| e == "sigmf") {
            return Self::open_archive(path);
        }
        let (meta_path, data_path) = paths(path);
        let text = std::fs::read(&meta_path).map_err(io_err(&meta_path))?;
        let meta = parse_meta(&meta_path, &text)?;
        let len = std::fs::metadata(&data_path)
            .map_err(io_err(&data_path))?
            .len();
        Self::new(
            meta_path,
            meta,
            DataSpan {
                path: data_path,
                offset: 0,
                len,
            },
        )
    }

    /// Open the first recording of a `.sigmf` tar archive in place (its data is read from
    /// inside the archive, not extracted).
    pub fn open_archive(path: &Path) -> Result<Self, DataError> {
        let members = tar_members(path)?;
        let meta_m = members
            .iter()
            .find(|m| m.name.ends_with(".sigmf-meta"))
            .ok_or_else(|| DataError::invalid(path, "archive holds no .sigmf-meta member"))?;
        let base = meta_m.name.trim_end_matches(".sigmf-meta");
        let data_m = members
            .iter()
            .find(|m| m.name == format!("{base}.sigmf-data"))
            .ok_or_else(|| {
                DataError::invalid(path, format!("archive holds no {base}.sigmf-data member"))
            })?;
        if meta_m.len > 64 << 20 {
            return Err(DataError::invalid(
                path,
                format!("meta member of {} bytes is implausibly large", meta_m.len),
            ));
        }
        let mut f = std::fs::File::open(path).map_err(io_err(path))?;
        f.seek(SeekFrom::Start(meta_m.offset))
            .map_err(io_err(path))?;
        let mut text = vec![0u8; meta_m.len as usize];
        f.read_exact(&mut text).map_err(io_err(path))?;
        let meta = parse_meta(path, &text)?;
        Self::new(
            path.to_path_buf(),
            meta,
            DataSpan {
                path: path.to_path_buf(),
                offset: data_m.offset,
                len: data_m.len,
            },
        )
    }

    fn new(meta_path: PathBuf, meta: Meta, mut data: DataSpan) -> Result<Self, DataError> {
        let datatype = meta
            .datatype()
            .map_err(|e| DataError::invalid(&meta_path, e.to_string()))?;
        if meta.global.num_channels.is_some_and(|n| n != 1) {
            return Err(DataError::invalid(
                &meta_path,
                format!(
                    "core:num_channels is {}: only single-channel recordings are supported",
                    meta.global.num_channels.unwrap_or(1)
                ),
            ));
        }
        if let Some(r) = meta.global.sample_rate
            && !(r.is_finite() && r > 0.0)
        {
            return Err(DataError::invalid(
                &meta_path,
                format!("core:sample_rate {r} is not a positive number"),
            ));
        }
        // Header bytes before the first capture (non-conforming datasets) are skipped.
        let skip = meta
            .captures
            .first()
            .and_then(|c| c.header_bytes)
            .unwrap_or(0);
        if skip > data.len {
            return Err(DataError::invalid(
                &data.path,
                format!(
                    "core:header_bytes {skip} exceeds the data size {}",
                    data.len
                ),
            ));
        }
        data.offset += skip;
        data.len -= skip;
        let sb = datatype.sample_bytes() as u64;
        if !data.len.is_multiple_of(sb) {
            return Err(DataError::invalid(
                &data.path,
                format!(
                    "{} bytes of samples is not a whole number of {sb}-byte {} samples \
                     (truncated or not this datatype)",
                    data.len, meta.global.datatype
                ),
            ));
        }
        let len = data.len / sb;
        Ok(Self {
            meta_path,
            meta,
            datatype,
            data,
            len,
        })
    }

    /// Samples in the recording.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The data file (or archive) the samples are read from.
    pub fn data_path(&self) -> &Path {
        &self.data.path
    }

    /// Sample rate in Hz (an error naming the file when the meta has none).
    pub fn sample_rate_hz(&self) -> Result<f64, DataError> {
        self.meta
            .global
            .sample_rate
            .ok_or_else(|| DataError::invalid(&self.meta_path, "global has no core:sample_rate"))
    }

    /// Read `count` samples from `start` (fewer at the end of the recording); the file is
    /// opened per call, so a recording can be shared between threads.
    pub fn read(&self, start: u64, count: usize) -> Result<Vec<C32>, DataError> {
        let mut f = std::fs::File::open(&self.data.path).map_err(io_err(&self.data.path))?;
        self.read_with(&mut f, start, count)
    }

    /// [`Self::read`] through an already open handle of the data file.
    pub fn read_with(
        &self,
        f: &mut std::fs::File,
        start: u64,
        count: usize,
    ) -> Result<Vec<C32>, DataError> {
        if start >= self.len {
            return Ok(vec![]);
        }
        let n = (count as u64).min(self.len - start) as usize;
        let sb = self.datatype.sample_bytes();
        f.seek(SeekFrom::Start(self.data.offset + start * sb as u64))
            .map_err(io_err(&self.data.path))?;
        let mut buf = vec![0u8; n * sb];
        f.read_exact(&mut buf).map_err(|e| {
            DataError::invalid(
                &self.data.path,
                format!(
                    "truncated: could not read samples {start}..{}: {e}",
                    start + n as u64
                ),
            )
        })?;
        Ok(self.datatype.decode(&buf))
    }

    /// Open the data file for repeated [`Self::read_with`] calls.
    pub fn open_data(&self) -> Result<std::fs::File, DataError> {
        std::fs::File::open(&self.data.path).map_err(io_err(&self.data.path))
    }
}

/// Write a `cf32_le` recording (`base.sigmf-data` and `base.sigmf-meta`, atomically). The
/// meta's datatype is set to `cf32_le`; it must validate.
pub fn write_recording(base: &Path, samples: &[C32], meta: &Meta) -> Result<(), DataError> {
    let (meta_path, data_path) = paths(base);
    let mut meta = meta.clone();
    meta.global.datatype = DataType::CF32_LE.to_string();
    let json = meta
        .to_json()
        .map_err(|e| DataError::invalid(&meta_path, format!("invalid meta: {e}")))?;
    write_atomic(&data_path, |f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        for s in samples {
            w.write_all(&s.re.to_le_bytes())?;
            w.write_all(&s.im.to_le_bytes())?;
        }
        w.flush()
    })?;
    write_atomic(&meta_path, |f| f.write_all(json.as_bytes()))
}

/// Write a meta file alone (atomically), after validation.
pub fn write_meta(path: &Path, meta: &Meta) -> Result<(), DataError> {
    let json = meta
        .to_json()
        .map_err(|e| DataError::invalid(path, format!("invalid meta: {e}")))?;
    write_atomic(path, |f| f.write_all(json.as_bytes()))
}

/// Labelled examples from a recording's annotations: each annotation with a `core:label` gives
/// `floor(sample_count / vector_len)` consecutive vectors, mixed to baseband at the centre of
/// its band when it has frequency edges. The SNR comes from `specmine:snr_db` (NaN when absent);
/// the class order from the global `specmine:classes` when present, else the sorted labels.
pub fn load_examples(path: &Path, vector_len: usize) -> Result<Examples, DataError> {
    let rec = Recording::open(path)?;
    let bad = |p: String| DataError::invalid(&rec.meta_path, p);
    if vector_len == 0 {
        return Err(bad("vector length 0".into()));
    }
    let labelled: Vec<&Annotation> = rec
        .meta
        .annotations
        .iter()
        .filter(|a| a.label.is_some())
        .collect();
    if labelled.is_empty() {
        return Err(bad(
            "no annotation has a core:label: nothing to use as examples".into(),
        ));
    }
    let class_names: Vec<String> = match rec.meta.global.extra.get("specmine:classes") {
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| bad(format!("global specmine:classes: {e}")))?,
        None => {
            let mut u: Vec<String> = labelled.iter().filter_map(|a| a.label.clone()).collect();
            u.sort();
            u.dedup();
            u
        }
    };
    let rate = rec.meta.global.sample_rate;
    let fc = rec.meta.center_frequency_hz();
    let mut f = rec.open_data()?;
    let mut ex = Examples {
        vector_len,
        iq: vec![],
        labels: vec![],
        snrs_db: vec![],
        class_names,
    };
    for (i, a) in labelled.iter().enumerate() {
        let label = a.label.as_deref().unwrap_or_default();
        let k = ex
            .class_names
            .iter()
            .position(|c| c == label)
            .ok_or_else(|| {
                bad(format!(
                    "annotation {i}: label {label:?} is not one of specmine:classes {:?}",
                    ex.class_names
                ))
            })? as u16;
        let count = a.sample_count.unwrap_or(0);
        if a.sample_start.saturating_add(count) > rec.len {
            return Err(bad(format!(
                "annotation {i} spans samples {}..{} but the recording holds {}",
                a.sample_start,
                a.sample_start.saturating_add(count),
                rec.len
            )));
        }
        let snr = a
            .extra
            .get("specmine:snr_db")
            .and_then(Value::as_f64)
            .map_or(f32::NAN, |v| v as f32);
        let shift = match (a.freq_lower_edge, a.freq_upper_edge, rate) {
            (Some(lo), Some(hi), Some(r)) => Some((fc - (lo + hi) / 2.0, r)),
            _ => None,
        };
        for w in 0..count / vector_len as u64 {
            let mut x =
                rec.read_with(&mut f, a.sample_start + w * vector_len as u64, vector_len)?;
            if let Some((df, r)) = shift.filter(|(df, _)| *df != 0.0) {
                x = specmine_dsp::channel::frequency_shift(&x, &[df], r, 0.0);
            }
            if x.iter().any(|c| !(c.re.is_finite() && c.im.is_finite())) {
                return Err(bad(format!(
                    "annotation {i}: non-finite samples (NaN or Inf)"
                )));
            }
            ex.iq.extend(x.iter().flat_map(|c| [c.re, c.im]));
            ex.labels.push(k);
            ex.snrs_db.push(snr);
        }
    }
    Ok(ex)
}

/// Write labelled examples as one recording: the vectors back to back, one annotation each
/// (label, `specmine:snr_db`), the class order in the global `specmine:classes`.
pub fn write_examples(base: &Path, ex: &Examples, sample_rate_hz: f64) -> Result<(), DataError> {
    let mut meta = Meta::new(sample_rate_hz, None);
    meta.global.description = Some(format!(
        "{} labelled vectors of {} samples, written by specmine",
        ex.len(),
        ex.vector_len
    ));
    meta.global
        .extra
        .insert("specmine:classes".into(), serde_json::json!(ex.class_names));
    for i in 0..ex.len() {
        let mut a = Annotation {
            sample_start: (i * ex.vector_len) as u64,
            sample_count: Some(ex.vector_len as u64),
            label: Some(ex.class_names[ex.labels[i] as usize].clone()),
            ..Default::default()
        };
        if ex.snrs_db[i].is_finite() {
            a.extra
                .insert("specmine:snr_db".into(), serde_json::json!(ex.snrs_db[i]));
        }
        meta.annotations.push(a);
    }
    let samples: Vec<C32> = ex
        .iq
        .chunks_exact(2)
        .map(|p| C32::new(p[0], p[1]))
        .collect();
    write_recording(base, &samples, &meta)
}

/// A member of a tar archive: its name and the byte span of its content.
#[derive(Clone, Debug, PartialEq)]
pub struct TarMember {
    pub name: String,
    pub offset: u64,
    pub len: u64,
}

fn octal(field: &[u8]) -> Option<u64> {
    // GNU base-256 for large sizes: first byte 0x80.
    if field.first() == Some(&0x80) {
        return field[1..]
            .iter()
            .try_fold(0u64, |a, &b| a.checked_mul(256)?.checked_add(b as u64));
    }
    let s: String = field
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The regular-file members of a (ustar, GNU or PAX) tar archive, without reading contents.
pub fn tar_members(path: &Path) -> Result<Vec<TarMember>, DataError> {
    let mut f = std::fs::File::open(path).map_err(io_err(path))?;
    let total = f.metadata().map_err(io_err(path))?.len();
    let mut out = vec![];
    let mut pos = 0u64;
    let mut long_name: Option<String> = None;
    let mut header = [0u8; 512];
    loop {
        if pos + 512 > total {
            return Err(DataError::invalid(
                path,
                format!("truncated tar archive: no end-of-archive block (at byte {pos})"),
            ));
        }
        f.seek(SeekFrom::Start(pos)).map_err(io_err(path))?;
        f.read_exact(&mut header).map_err(io_err(path))?;
        if header.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        let sum: u64 = header
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    b as u64
                }
            })
            .sum();
        if octal(&header[148..156]) != Some(sum) {
            return Err(DataError::invalid(
                path,
                format!("not a tar archive: bad header checksum at byte {pos}"),
            ));
        }
        let size = octal(&header[124..136]).ok_or_else(|| {
            DataError::invalid(path, format!("tar header at byte {pos}: bad size field"))
        })?;
        let data = pos + 512;
        if data + size > total {
            return Err(DataError::invalid(
                path,
                format!("truncated tar archive: member at byte {pos} needs {size} bytes"),
            ));
        }
        let typeflag = header[156];
        let read_small = |f: &mut std::fs::File| -> Result<Vec<u8>, DataError> {
            if size > 1 << 20 {
                return Err(DataError::invalid(path, "tar extended header over 1 MiB"));
            }
            let mut b = vec![0u8; size as usize];
            f.read_exact(&mut b).map_err(io_err(path))?;
            Ok(b)
        };
        match typeflag {
            b'x' => {
                // PAX records: "len key=value\n".
                let b = read_small(&mut f)?;
                let text = String::from_utf8_lossy(&b);
                for rec in text.lines() {
                    if let Some((_, kv)) = rec.split_once(' ')
                        && let Some(p) = kv.strip_prefix("path=")
                    {
                        long_name = Some(p.to_string());
                    }
                }
            }
            b'L' => {
                let b = read_small(&mut f)?;
                long_name = Some(cstr(&b));
            }
            b'0' | 0 => {
                let name = long_name.take().unwrap_or_else(|| {
                    let prefix = cstr(&header[345..500]);
                    let name = cstr(&header[..100]);
                    if &header[257..262] == b"ustar" && !prefix.is_empty() {
                        format!("{prefix}/{name}")
                    } else {
                        name
                    }
                });
                out.push(TarMember {
                    name,
                    offset: data,
                    len: size,
                });
            }
            _ => long_name = None,
        }
        pos = data + size.div_ceil(512) * 512;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_datatype_parses_and_prints_back() {
        for kind in ["c", "r"] {
            for c in ["f64", "f32", "i32", "i16", "u32", "u16"] {
                for e in ["_le", "_be"] {
                    let s = format!("{kind}{c}{e}");
                    assert_eq!(s.parse::<DataType>().unwrap().to_string(), s);
                }
            }
            for c in ["i8", "u8"] {
                let s = format!("{kind}{c}");
                assert_eq!(s.parse::<DataType>().unwrap().to_string(), s);
            }
        }
        for bad in ["cf32", "ci8_le", "xf32_le", "cf16_le", "", "c", "cf32_xe"] {
            assert!(bad.parse::<DataType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn integer_and_float_samples_decode_to_the_same_values() {
        let want = [C32::new(0.5, -0.25), C32::new(-1.0, 0.0)];
        let dt = |s: &str| s.parse::<DataType>().unwrap();
        let mut ci16_be = vec![];
        let mut cu8 = vec![];
        let mut cf64_le = vec![];
        for z in want {
            for v in [z.re, z.im] {
                ci16_be.extend(((v * 32768.0) as i16).to_be_bytes());
                cu8.push((v * 128.0 + 128.0) as u8);
                cf64_le.extend((v as f64).to_le_bytes());
            }
        }
        assert_eq!(dt("ci16_be").decode(&ci16_be), want);
        assert_eq!(dt("cu8").decode(&cu8), want);
        assert_eq!(dt("cf64_le").decode(&cf64_le), want);
        let rf32: Vec<u8> = [0.5f32, -0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            dt("rf32_le").decode(&rf32),
            [C32::new(0.5, 0.0), C32::new(-0.25, 0.0)]
        );
    }

    #[test]
    fn validate_enforces_the_schema_rules() {
        let mut m = Meta::new(1e6, Some(2.4e9));
        assert!(m.validate().is_ok());
        m.annotations.push(Annotation {
            sample_start: 10,
            sample_count: Some(5),
            ..Default::default()
        });
        m.annotations.push(Annotation {
            sample_start: 5,
            sample_count: Some(5),
            ..Default::default()
        });
        assert!(m.validate().unwrap_err().contains("order"));
        m.annotations.swap(0, 1);
        m.annotations[0].freq_lower_edge = Some(2.0);
        m.annotations[0].freq_upper_edge = Some(1.0);
        assert!(m.validate().unwrap_err().contains("freq_lower_edge"));
        m.annotations[0].freq_upper_edge = Some(3.0);
        m.annotations[0].extra.insert("bad".into(), Value::Null);
        assert!(m.validate().unwrap_err().contains("namespace"));
        m.annotations[0].extra.clear();
        m.global.datatype = "cf17_le".into();
        assert!(m.validate().is_err());
    }
}
