//! NumPy `.npy` arrays and `.npz` archives (NEP 1, "A simple file format for NumPy arrays").
//!
//! A labelled data set in an `.npz` holds `X` (`[N, 2, L]` or `[N, L, 2]` as float32/float16/
//! float64, or `[N, L]` complex64/complex128), labels `Y` (integers `[N]`, one-hot `[N, C]`, or
//! strings `[N]`), optionally the SNRs `Z` (`[N]` or `[N, 1]`, dB) and the class names `classes`
//! (strings, in label order; needed when `Y` holds integers). specmine writes `X` float32
//! `[N, 2, L]` (RadioML 2016's layout), `Y` int64, `Z` float32 and `classes`.
//!
//! Parsing never trusts a length field: the shape's element count must match the bytes present
//! (checked multiplication), so a corrupt header cannot trigger a huge allocation.

use crate::{DataError, atomic::write_atomic};
use specmine_dsp::C32;
use specmine_dsp::generator::Examples;
use std::io::{Read, Write};
use std::path::Path;

/// The element data of an array, converted to a few working types.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// float16, float32 and float64 arrays (as f32).
    Float(Vec<f32>),
    /// complex64 and complex128 arrays.
    Complex(Vec<C32>),
    /// signed and unsigned integers and booleans.
    Int(Vec<i64>),
    /// `U` (UTF-32) and `S` (bytes) strings, trailing NULs removed.
    Str(Vec<String>),
}

impl NpyData {
    fn len(&self) -> usize {
        match self {
            Self::Float(v) => v.len(),
            Self::Complex(v) => v.len(),
            Self::Int(v) => v.len(),
            Self::Str(v) => v.len(),
        }
    }
}

/// One array.
#[derive(Clone, Debug, PartialEq)]
pub struct Npy {
    pub shape: Vec<usize>,
    pub data: NpyData,
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    sign * match exp {
        0 => frac * 2f32.powi(-24),
        31 if frac == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        e => (1.0 + frac / 1024.0) * 2f32.powi(e - 15),
    }
}

fn header_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    Some(rest)
}

/// Parse the bytes of an `.npy` file; `path` names it in errors.
pub fn parse_npy(path: &Path, bytes: &[u8]) -> Result<Npy, DataError> {
    let bad = |p: String| DataError::invalid(path, p);
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy array (no \\x93NUMPY magic)".into()));
    }
    let (hlen, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize,
            12,
        ),
        v => return Err(bad(format!(".npy format version {v} is not supported"))),
    };
    let header = bytes
        .get(start..start.saturating_add(hlen))
        .ok_or_else(|| bad(format!("truncated .npy header ({hlen} bytes announced)")))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text".into()))?;
    let descr = header_value(header, "descr")
        .and_then(|r| r.strip_prefix('\'')?.split('\'').next())
        .ok_or_else(|| bad(format!("header has no 'descr' string: {header:?}")))?;
    let fortran = header_value(header, "fortran_order")
        .ok_or_else(|| bad("header has no 'fortran_order'".into()))?
        .starts_with("True");
    if fortran {
        return Err(bad(
            "Fortran-ordered arrays are not supported: save with np.ascontiguousarray".into(),
        ));
    }
    let shape_txt = header_value(header, "shape")
        .and_then(|r| r.strip_prefix('(')?.split(')').next())
        .ok_or_else(|| bad("header has no 'shape' tuple".into()))?;
    let shape: Vec<usize> = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad(format!("bad shape ({shape_txt})")))?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad(format!("shape ({shape_txt}) overflows")))?;
    let body = &bytes[start + hlen..];
    let (order, kind, width) = {
        let mut c = descr.chars();
        let order = c.next().unwrap_or('?');
        let kind = c.next().unwrap_or('?');
        let width: usize = c.as_str().parse().map_err(|_| {
            bad(format!(
                "dtype {descr:?} is not supported (expected e.g. '<f4')"
            ))
        })?;
        (order, kind, width)
    };
    let big = order == '>';
    if !matches!(order, '<' | '>' | '|' | '=') {
        return Err(bad(format!("dtype {descr:?}: unknown byte order")));
    }
    let item = match kind {
        'U' => width.checked_mul(4),
        'c' => Some(width),
        _ => Some(width),
    }
    .filter(|&w| w > 0)
    .ok_or_else(|| bad(format!("dtype {descr:?}: bad item size")))?;
    let need = count
        .checked_mul(item)
        .ok_or_else(|| bad(format!("shape ({shape_txt}) x {item} bytes overflows")))?;
    if body.len() < need {
        return Err(bad(format!(
            "truncated: shape ({shape_txt}) of {descr} needs {need} bytes, the file holds {}",
            body.len()
        )));
    }
    let body = &body[..need];
    macro_rules! nums {
        ($t:ty, $n:expr) => {
            body.chunks_exact($n).map(|b| {
                let a: [u8; $n] = b.try_into().expect("item width");
                if big {
                    <$t>::from_be_bytes(a)
                } else {
                    <$t>::from_le_bytes(a)
                }
            })
        };
    }
    let data = match (kind, width) {
        ('f', 2) => NpyData::Float(nums!(u16, 2).map(f16_to_f32).collect()),
        ('f', 4) => NpyData::Float(nums!(f32, 4).collect()),
        ('f', 8) => NpyData::Float(nums!(f64, 8).map(|v| v as f32).collect()),
        ('c', 8) => {
            let v: Vec<f32> = nums!(f32, 4).collect();
            NpyData::Complex(v.chunks_exact(2).map(|p| C32::new(p[0], p[1])).collect())
        }
        ('c', 16) => {
            let v: Vec<f64> = nums!(f64, 8).collect();
            NpyData::Complex(
                v.chunks_exact(2)
                    .map(|p| C32::new(p[0] as f32, p[1] as f32))
                    .collect(),
            )
        }
        ('i', 1) => NpyData::Int(body.iter().map(|&b| b as i8 as i64).collect()),
        ('u' | 'b', 1) => NpyData::Int(body.iter().map(|&b| b as i64).collect()),
        ('i', 2) => NpyData::Int(nums!(i16, 2).map(i64::from).collect()),
        ('u', 2) => NpyData::Int(nums!(u16, 2).map(i64::from).collect()),
        ('i', 4) => NpyData::Int(nums!(i32, 4).map(i64::from).collect()),
        ('u', 4) => NpyData::Int(nums!(u32, 4).map(i64::from).collect()),
        ('i', 8) => NpyData::Int(nums!(i64, 8).collect()),
        ('u', 8) => NpyData::Int(nums!(u64, 8).map(|v| v as i64).collect()),
        ('S', w) => NpyData::Str(
            body.chunks_exact(w)
                .map(|b| {
                    let end = b.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
                    String::from_utf8_lossy(&b[..end]).into_owned()
                })
                .collect(),
        ),
        ('U', w) => NpyData::Str(
            body.chunks_exact(w * 4)
                .map(|b| {
                    b.chunks_exact(4)
                        .map(|c| {
                            let a: [u8; 4] = c.try_into().expect("4 bytes");
                            if big {
                                u32::from_be_bytes(a)
                            } else {
                                u32::from_le_bytes(a)
                            }
                        })
                        .take_while(|&c| c != 0)
                        .map(|c| char::from_u32(c).unwrap_or('\u{fffd}'))
                        .collect()
                })
                .collect(),
        ),
        _ => {
            return Err(bad(format!(
                "dtype {descr:?} is not supported (floats, complex, integers, strings)"
            )));
        }
    };
    debug_assert_eq!(data.len(), count);
    Ok(Npy { shape, data })
}

fn npy_bytes(descr: &str, shape: &[usize], body: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Pad so the data starts on a 64-byte boundary, header ending in '\n' (NEP 1).
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(body);
    out
}

/// `.npy` bytes of a float32 array.
pub fn npy_f32(shape: &[usize], v: &[f32]) -> Vec<u8> {
    let body: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    npy_bytes("<f4", shape, &body)
}

/// `.npy` bytes of an int64 array.
pub fn npy_i64(shape: &[usize], v: &[i64]) -> Vec<u8> {
    let body: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    npy_bytes("<i8", shape, &body)
}

/// `.npy` bytes of a unicode string array (`<U{max length}`).
pub fn npy_str(v: &[String]) -> Vec<u8> {
    let w = v
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut body = Vec::with_capacity(v.len() * w * 4);
    for s in v {
        let n = s.chars().count();
        body.extend(s.chars().flat_map(|c| (c as u32).to_le_bytes()));
        body.extend(std::iter::repeat_n(0u8, (w - n) * 4));
    }
    npy_bytes(&format!("<U{w}"), &[v.len()], &body)
}

/// Read one `.npy` file.
pub fn read_npy(path: &Path) -> Result<Npy, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_npy(path, &bytes)
}

/// Read every array of an `.npz` archive, by name (without `.npy`).
pub fn read_npz(path: &Path) -> Result<Vec<(String, Npy)>, DataError> {
    let f = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file_len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut zip = zip::ZipArchive::new(f)
        .map_err(|e| DataError::invalid(path, format!("not a readable .npz (zip) archive: {e}")))?;
    let mut out = vec![];
    for i in 0..zip.len() {
        let mut m = zip
            .by_index(i)
            .map_err(|e| DataError::invalid(path, format!("zip member {i}: {e}")))?;
        let name = m.name().to_string();
        let Some(stem) = name.strip_suffix(".npy") else {
            continue;
        };
        // Bound what a member may expand to (a deflate bomb), relative to the archive.
        let limit = m.size().min(file_len.saturating_mul(1100).max(1 << 20));
        let mut bytes = Vec::new();
        (&mut m)
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| DataError::invalid(path, format!("member {name}: {e}")))?;
        let npy = parse_npy(&path.join(&name), &bytes)?;
        out.push((stem.to_string(), npy));
    }
    Ok(out)
}

/// Write a labelled data set as `.npz` (stored, uncompressed members: fast, mmap-friendly).
pub fn write_npz(path: &Path, ex: &Examples) -> Result<(), DataError> {
    let (n, l) = (ex.len(), ex.vector_len);
    if ex.iq.len() != n * l * 2 || ex.snrs_db.len() != n {
        return Err(DataError::invalid(
            path,
            "inconsistent example buffers: X, Y and Z lengths differ",
        ));
    }
    // [N, L, 2] -> [N, 2, L]
    let mut x = vec![0f32; n * 2 * l];
    for i in 0..n {
        let v = ex.vector(i);
        for t in 0..l {
            x[i * 2 * l + t] = v[2 * t];
            x[i * 2 * l + l + t] = v[2 * t + 1];
        }
    }
    let y: Vec<i64> = ex.labels.iter().map(|&v| v as i64).collect();
    let members = [
        ("X.npy".to_string(), npy_f32(&[n, 2, l], &x)),
        ("Y.npy".to_string(), npy_i64(&[n], &y)),
        ("Z.npy".to_string(), npy_f32(&[n], &ex.snrs_db)),
        ("classes.npy".to_string(), npy_str(&ex.class_names)),
    ];
    write_npz_members(path, &members)
}

/// Write `.npy` members (name, bytes) as an `.npz` archive, atomically.
pub fn write_npz_members(path: &Path, members: &[(String, Vec<u8>)]) -> Result<(), DataError> {
    write_atomic(path, |f| {
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(members.iter().any(|m| m.1.len() as u64 >= u32::MAX as u64));
        for (name, bytes) in members {
            z.start_file(name.as_str(), opts)
                .map_err(std::io::Error::other)?;
            z.write_all(bytes)?;
        }
        z.finish().map_err(std::io::Error::other)?;
        Ok(())
    })
}

/// Read a labelled data set from an `.npz` (see the module docs for the arrays expected).
pub fn load_npz(path: &Path) -> Result<Examples, DataError> {
    let arrays = read_npz(path)?;
    let get = |names: &[&str]| {
        arrays
            .iter()
            .find(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, a)| a)
    };
    let bad = |p: String| DataError::invalid(path, p);
    let x =
        get(&["X", "x", "data", "iq"]).ok_or_else(|| bad("no X array (the I/Q vectors)".into()))?;
    let n = *x.shape.first().ok_or_else(|| bad("X is a scalar".into()))?;
    let (l, iq): (usize, Vec<f32>) = match (&x.data, x.shape.as_slice()) {
        (NpyData::Complex(v), [_, l]) => (*l, v.iter().flat_map(|c| [c.re, c.im]).collect()),
        (NpyData::Float(v), [_, 2, l]) => {
            let l = *l;
            let mut iq = vec![0f32; n * l * 2];
            for i in 0..n {
                for t in 0..l {
                    iq[(i * l + t) * 2] = v[i * 2 * l + t];
                    iq[(i * l + t) * 2 + 1] = v[i * 2 * l + l + t];
                }
            }
            (l, iq)
        }
        (NpyData::Float(v), [_, l, 2]) => (*l, v.clone()),
        _ => {
            return Err(bad(format!(
                "X of shape {:?}: expected float [N, 2, L] or [N, L, 2], or complex [N, L]",
                x.shape
            )));
        }
    };
    if let Some(i) = iq.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "X holds a non-finite sample (NaN or Inf) in vector {}",
            i / (2 * l.max(1))
        )));
    }
    let y =
        get(&["Y", "y", "labels", "label"]).ok_or_else(|| bad("no Y array (the labels)".into()))?;
    let given: Option<Vec<String>> = match get(&["classes", "class_names", "mods"]) {
        Some(Npy {
            data: NpyData::Str(s),
            ..
        }) => Some(s.clone()),
        Some(_) => return Err(bad("classes is not an array of strings".into())),
        None => None,
    };
    let (labels, class_names): (Vec<u16>, Vec<String>) = match (&y.data, y.shape.as_slice()) {
        (NpyData::Str(s), [_]) => {
            let names = given.unwrap_or_else(|| {
                let mut u = s.clone();
                u.sort();
                u.dedup();
                u
            });
            let labels = s
                .iter()
                .map(|v| {
                    names
                        .iter()
                        .position(|c| c == v)
                        .map(|p| p as u16)
                        .ok_or_else(|| bad(format!("label {v:?} is not one of classes {names:?}")))
                })
                .collect::<Result<_, _>>()?;
            (labels, names)
        }
        (NpyData::Int(v), [_]) => {
            let names = given.ok_or_else(|| {
                bad("Y holds integer labels but there is no classes array naming them".into())
            })?;
            let labels = v
                .iter()
                .map(|&k| {
                    u16::try_from(k)
                        .ok()
                        .filter(|&k| (k as usize) < names.len())
                        .ok_or_else(|| {
                            bad(format!("label {k} is outside the {} classes", names.len()))
                        })
                })
                .collect::<Result<_, _>>()?;
            (labels, names)
        }
        (d @ (NpyData::Int(_) | NpyData::Float(_)), [_, c]) => {
            let names = given.ok_or_else(|| {
                bad("Y is one-hot but there is no classes array naming its columns".into())
            })?;
            if names.len() != *c {
                return Err(bad(format!(
                    "Y has {c} one-hot columns but classes names {}",
                    names.len()
                )));
            }
            let vals: Vec<f32> = match d {
                NpyData::Int(v) => v.iter().map(|&k| k as f32).collect(),
                NpyData::Float(v) => v.clone(),
                _ => unreachable!(),
            };
            let labels = vals
                .chunks_exact(*c)
                .enumerate()
                .map(|(i, row)| {
                    let k = row.iter().position(|&v| v == 1.0);
                    match k {
                        Some(k) if row.iter().filter(|&&v| v != 0.0).count() == 1 => Ok(k as u16),
                        _ => Err(bad(format!("Y row {i} is not one-hot"))),
                    }
                })
                .collect::<Result<_, _>>()?;
            (labels, names)
        }
        _ => {
            return Err(bad(format!(
                "Y of shape {:?}: expected integer or string labels [N] or one-hot [N, C]",
                y.shape
            )));
        }
    };
    if labels.len() != n {
        return Err(bad(format!(
            "X holds {n} vectors but Y {} labels",
            labels.len()
        )));
    }
    let snrs_db = match get(&["Z", "z", "snr", "snrs", "snr_db"]) {
        None => vec![f32::NAN; n],
        Some(z) => {
            let v: Vec<f32> = match &z.data {
                NpyData::Int(v) => v.iter().map(|&k| k as f32).collect(),
                NpyData::Float(v) => v.clone(),
                _ => return Err(bad("Z (SNR) is not numeric".into())),
            };
            if v.len() != n {
                return Err(bad(format!("X holds {n} vectors but Z {} SNRs", v.len())));
            }
            v
        }
    };
    Ok(Examples {
        vector_len: l,
        iq,
        labels,
        snrs_db,
        class_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_decode() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.33325195);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn written_arrays_parse_back() {
        let p = Path::new("t.npy");
        let a = parse_npy(p, &npy_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])).unwrap();
        assert_eq!(a.shape, [2, 3]);
        assert_eq!(a.data, NpyData::Float(vec![1., 2., 3., 4., 5., 6.]));
        let s = vec!["QPSK".to_string(), "8PSK".into(), "AM-DSB".into()];
        let a = parse_npy(p, &npy_str(&s)).unwrap();
        assert_eq!(a.data, NpyData::Str(s));
        let bytes = npy_i64(&[1], &[7]);
        assert_eq!(bytes.len() % 64, 8); // data starts on a 64-byte boundary
    }

    #[test]
    fn lying_headers_are_refused_without_allocating() {
        let p = Path::new("t.npy");
        // A shape claiming ~10^13 elements over 8 bytes of data.
        let mut b = npy_f32(&[2], &[1.0, 2.0]);
        // Same header length: 8 more characters in the shape, 8 fewer padding spaces.
        let end = b.iter().position(|&c| c == b'\n').unwrap() + 1;
        let h = String::from_utf8(b[10..end].to_vec())
            .unwrap()
            .replace("(2,), }", "(99999999999,)}")
            .replacen("        \n", "\n", 1);
        b.splice(10..end, h.into_bytes());
        let e = parse_npy(p, &b).unwrap_err().to_string();
        assert!(e.contains("truncated: shape (99999999999,)"), "{e}");
        let e = parse_npy(p, b"\x93NUMPY\x01\x00\xff\xff{")
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated .npy header"), "{e}");
    }
}
