//! A Python pickle reader (protocols 0-5) for the RadioML 2016 data sets.
//!
//! `RML2016.10a_dict.pkl` and its siblings are pickles of a dict keyed by `(modulation, snr)`
//! holding numpy arrays `[N, 2, 128]`. This module runs the pickle machine over the subset of
//! opcodes those files (and numpy arrays in any protocol) use, with the numpy reconstruction
//! recipes (`_reconstruct` + `BUILD`, `_frombuffer`, `_codecs.encode` for Python 3 bytes at
//! protocol 2) interpreted rather than executed: no arbitrary code runs, and every length is
//! checked against the bytes left before anything is allocated. Reference: CPython's
//! `Lib/pickletools.py` (opcode semantics) and numpy's `ndarray.__reduce__`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

/// A pickle that this reader cannot or will not interpret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("pickle offset {offset}: {problem}")]
pub struct PickleError {
    pub offset: usize,
    pub problem: String,
}

/// A numpy array: shape, element type and the raw little-endian-normalised values as f32.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NdArray {
    pub shape: Vec<usize>,
    pub dtype: String,
    pub data: Vec<f32>,
}

/// A Python value as far as the data sets need.
#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Value>),
    List(Rc<RefCell<Vec<Value>>>),
    Dict(Rc<RefCell<Vec<(Value, Value)>>>),
    Global(String, String),
    /// numpy dtype: kind/size code (`f4`) and byte order (`<`, `>`, `|`, `=`).
    DType(Rc<RefCell<(String, char)>>),
    Array(Rc<RefCell<NdArray>>),
    Mark,
}

/// A dict's items in insertion order.
type DictItems = Vec<(Value, Value)>;

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    memo: HashMap<u64, Value>,
    /// Every list and dict made, so that a pickle whose containers hold themselves (possible
    /// through the memo) can have its reference cycles broken instead of leaked.
    lists: Vec<Weak<RefCell<Vec<Value>>>>,
    dicts: Vec<Weak<RefCell<DictItems>>>,
}

/// Most values the stack may hold: a pickle that grows its stack without bound is refused.
const MAX_STACK: usize = 10_000_000;

impl<'a> Machine<'a> {
    fn err<T>(&self, problem: impl Into<String>) -> Result<T, PickleError> {
        Err(PickleError {
            offset: self.pos,
            problem: problem.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        if n > self.data.len() - self.pos {
            return self.err(format!(
                "truncated: {n} bytes needed, {} left",
                self.data.len() - self.pos
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn le(&mut self, n: usize) -> Result<u64, PickleError> {
        let b = self.take(n)?;
        Ok(b.iter().rev().fold(0u64, |acc, v| (acc << 8) | *v as u64))
    }

    fn line_bytes(&mut self) -> Result<&'a [u8], PickleError> {
        let rest = &self.data[self.pos..];
        let Some(end) = rest.iter().position(|b| *b == b'\n') else {
            return self.err("truncated: unterminated text line");
        };
        self.pos += end + 1;
        Ok(&rest[..end])
    }

    fn line(&mut self) -> Result<&'a str, PickleError> {
        let b = self.line_bytes()?;
        std::str::from_utf8(b).or_else(|_| self.err("text line is not UTF-8"))
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        match self.stack.pop() {
            Some(v) => Ok(v),
            None => self.err("stack underflow"),
        }
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let Some(i) = self.stack.iter().rposition(|v| matches!(v, Value::Mark)) else {
            return self.err("MARK expected on the stack");
        };
        let items = self.stack.split_off(i + 1);
        self.stack.pop();
        Ok(items)
    }

    fn push(&mut self, v: Value) -> Result<(), PickleError> {
        if self.stack.len() >= MAX_STACK {
            return self.err("stack too deep");
        }
        self.stack.push(v);
        Ok(())
    }

    fn top(&self) -> Result<Value, PickleError> {
        match self.stack.last() {
            Some(v) => Ok(v.clone()),
            None => self.err("stack underflow"),
        }
    }

    fn string(&mut self, n: usize) -> Result<String, PickleError> {
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).or_else(|_| self.err("string is not UTF-8"))
    }

    fn run(&mut self) -> Result<Value, PickleError> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    let p = self.u8()?;
                    if p > 5 {
                        return self.err(format!("pickle protocol {p} is newer than 5"));
                    }
                }
                0x95 => {
                    self.le(8)?; // FRAME: a length hint only
                }
                b'.' => return self.pop(),
                b'(' => self.push(Value::Mark)?,
                b'N' => self.push(Value::None)?,
                0x88 => self.push(Value::Bool(true))?,
                0x89 => self.push(Value::Bool(false))?,
                b'J' => {
                    let v = self.le(4)? as u32 as i32 as i64;
                    self.push(Value::Int(v))?
                }
                b'K' => {
                    let v = self.u8()? as i64;
                    self.push(Value::Int(v))?
                }
                b'M' => {
                    let v = self.le(2)? as i64;
                    self.push(Value::Int(v))?
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        self.u8()? as usize
                    } else {
                        self.le(4)? as usize
                    };
                    if n > 8 {
                        return self.err("integer wider than 64 bits");
                    }
                    let b = self.take(n)?;
                    let mut v = b.iter().rev().fold(0i64, |acc, x| (acc << 8) | *x as i64);
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    self.push(Value::Int(v))?
                }
                b'I' | b'L' => {
                    let s = self.line()?.trim_end_matches('L');
                    let v = match s {
                        "00" => Value::Bool(false),
                        "01" => Value::Bool(true),
                        _ => match s.parse::<i64>() {
                            Ok(v) => Value::Int(v),
                            Err(_) => return self.err(format!("bad integer literal {s:?}")),
                        },
                    };
                    self.push(v)?
                }
                b'G' => {
                    let v = f64::from_bits(u64::from_be_bytes(
                        self.take(8)?.try_into().expect("8 bytes"),
                    ));
                    self.push(Value::Float(v))?
                }
                b'F' => {
                    let s = self.line()?;
                    let v = s
                        .parse::<f64>()
                        .or_else(|_| self.err(format!("bad float literal {s:?}")))?;
                    self.push(Value::Float(v))?
                }
                b'X' | 0x8c | 0x8d => {
                    let n = match op {
                        b'X' => self.le(4)? as usize,
                        0x8c => self.u8()? as usize,
                        _ => self.le(8)? as usize,
                    };
                    let s = self.string(n)?;
                    self.push(Value::Str(s))?
                }
                b'V' => {
                    // raw-unicode-escape: bytes are latin-1 characters, others \uXXXX.
                    let latin1: String = self.line_bytes()?.iter().map(|b| *b as char).collect();
                    let s = unescape_raw_unicode(&latin1);
                    self.push(Value::Str(s))?
                }
                b'U' | b'T' => {
                    // Python 2 str: bytes (RadioML's own pickles use these for array data).
                    let n = if op == b'U' {
                        self.u8()? as usize
                    } else {
                        self.le(4)? as usize
                    };
                    let b = self.take(n)?.to_vec();
                    self.push(Value::Bytes(b))?
                }
                b'C' | b'B' | 0x8e | 0x96 => {
                    let n = match op {
                        b'C' => self.u8()? as usize,
                        b'B' => self.le(4)? as usize,
                        _ => self.le(8)? as usize,
                    };
                    let b = self.take(n)?.to_vec();
                    self.push(Value::Bytes(b))?
                }
                b'S' => {
                    let s = self.line()?;
                    let b = unquote_py_string(s).ok_or_else(|| PickleError {
                        offset: self.pos,
                        problem: format!("bad string literal {s:?}"),
                    })?;
                    self.push(Value::Bytes(b))?
                }
                b')' => self.push(Value::Tuple(vec![]))?,
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Value::Tuple(items))?
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n {
                        return self.err("stack underflow");
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push(Value::Tuple(items))?
                }
                b']' => {
                    let l = Rc::default();
                    self.lists.push(Rc::downgrade(&l));
                    self.push(Value::List(l))?
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    let l = Rc::new(RefCell::new(items));
                    self.lists.push(Rc::downgrade(&l));
                    self.push(Value::List(l))?
                }
                b'a' | b'e' => {
                    let items = if op == b'a' {
                        vec![self.pop()?]
                    } else {
                        self.pop_mark()?
                    };
                    match self.top()? {
                        Value::List(l) => l.borrow_mut().extend(items),
                        _ => return self.err("APPEND to something that is not a list"),
                    }
                }
                b'}' => {
                    let d = Rc::default();
                    self.dicts.push(Rc::downgrade(&d));
                    self.push(Value::Dict(d))?
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let d = pairs(items).ok_or_else(|| PickleError {
                        offset: self.pos,
                        problem: "odd number of dict items".into(),
                    })?;
                    let d = Rc::new(RefCell::new(d));
                    self.dicts.push(Rc::downgrade(&d));
                    self.push(Value::Dict(d))?
                }
                b's' | b'u' => {
                    let items = if op == b's' {
                        let v = self.pop()?;
                        let k = self.pop()?;
                        vec![k, v]
                    } else {
                        self.pop_mark()?
                    };
                    let kv = pairs(items).ok_or_else(|| PickleError {
                        offset: self.pos,
                        problem: "odd number of dict items".into(),
                    })?;
                    match self.top()? {
                        Value::Dict(d) => d.borrow_mut().extend(kv),
                        _ => return self.err("SETITEM on something that is not a dict"),
                    }
                }
                b'p' => {
                    let k = self
                        .line()?
                        .parse::<u64>()
                        .or_else(|_| self.err("bad PUT index"))?;
                    let v = self.top()?;
                    self.memo.insert(k, v);
                }
                b'q' | b'r' => {
                    let k = if op == b'q' {
                        self.u8()? as u64
                    } else {
                        self.le(4)?
                    };
                    let v = self.top()?;
                    self.memo.insert(k, v);
                }
                0x94 => {
                    let k = self.memo.len() as u64;
                    let v = self.top()?;
                    self.memo.insert(k, v);
                }
                b'g' | b'h' | b'j' => {
                    let k = match op {
                        b'g' => self
                            .line()?
                            .parse::<u64>()
                            .or_else(|_| self.err("bad GET index"))?,
                        b'h' => self.u8()? as u64,
                        _ => self.le(4)?,
                    };
                    let Some(v) = self.memo.get(&k).cloned() else {
                        return self.err(format!("memo key {k} read before it was written"));
                    };
                    self.push(v)?
                }
                b'c' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    self.push(Value::Global(module, name))?
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module, name) {
                        (Value::Str(m), Value::Str(n)) => self.push(Value::Global(m, n))?,
                        _ => return self.err("STACK_GLOBAL needs two strings"),
                    }
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let v = self.call(callable, args)?;
                    self.push(v)?
                }
                b'b' => {
                    let state = self.pop()?;
                    let obj = self.top()?;
                    self.build(obj, state)?;
                }
                b'0' => {
                    self.pop()?;
                }
                b'2' => {
                    let v = self.top()?;
                    self.push(v)?
                }
                b'1' => {
                    self.pop_mark()?;
                }
                _ => return self.err(format!("unsupported pickle opcode 0x{op:02x}")),
            }
        }
    }

    /// The callables numpy pickles use, interpreted; anything else is refused.
    fn call(&mut self, callable: Value, args: Value) -> Result<Value, PickleError> {
        let Value::Global(module, name) = callable else {
            return self.err("REDUCE of something that is not a global");
        };
        let args = match args {
            Value::Tuple(a) => a,
            _ => return self.err("REDUCE arguments are not a tuple"),
        };
        let numpy_mod =
            |m: &str| m.starts_with("numpy.core") || m.starts_with("numpy._core") || m == "numpy";
        match (module.as_str(), name.as_str()) {
            ("_codecs", "encode") => match args.first() {
                Some(Value::Str(s)) => {
                    let bytes: Option<Vec<u8>> =
                        s.chars().map(|c| u8::try_from(c as u32).ok()).collect();
                    bytes.map(Value::Bytes).ok_or_else(|| PickleError {
                        offset: self.pos,
                        problem: "latin1 text holds a character above 255".into(),
                    })
                }
                Some(Value::Bytes(b)) => Ok(Value::Bytes(b.clone())),
                _ => self.err("_codecs.encode without a string"),
            },
            ("__builtin__" | "builtins", "bytearray" | "bytes") => match args.first() {
                Some(Value::Bytes(b)) => Ok(Value::Bytes(b.clone())),
                None => Ok(Value::Bytes(vec![])),
                _ => self.err("bytearray of an unsupported value"),
            },
            (m, "_reconstruct") if numpy_mod(m) => Ok(Value::Array(Rc::default())),
            (m, "dtype") if numpy_mod(m) => match args.first() {
                Some(Value::Str(code)) => {
                    Ok(Value::DType(Rc::new(RefCell::new((code.clone(), '|')))))
                }
                Some(Value::Bytes(code)) => Ok(Value::DType(Rc::new(RefCell::new((
                    String::from_utf8_lossy(code).into_owned(),
                    '|',
                ))))),
                _ => self.err("numpy.dtype without a type code"),
            },
            (m, "_frombuffer") if numpy_mod(m) => {
                let [Value::Bytes(buf), Value::DType(dt), Value::Tuple(shape), ..] =
                    args.as_slice()
                else {
                    return self.err("numpy _frombuffer with unexpected arguments");
                };
                let shape = ints(shape).ok_or_else(|| PickleError {
                    offset: self.pos,
                    problem: "array shape is not integers".into(),
                })?;
                let (code, order) = dt.borrow().clone();
                // numpy passes the memory order last: 'F' for Fortran-ordered arrays.
                let fortran = matches!(args.get(3), Some(Value::Str(o)) if o == "F");
                let arr =
                    decode_array(shape, &code, order, buf, fortran).map_err(|p| PickleError {
                        offset: self.pos,
                        problem: p,
                    })?;
                Ok(Value::Array(Rc::new(RefCell::new(arr))))
            }
            _ => self.err(format!(
                "refusing to call {module}.{name}: not part of a numpy data pickle"
            )),
        }
    }

    fn build(&mut self, obj: Value, state: Value) -> Result<(), PickleError> {
        match obj {
            Value::DType(dt) => {
                // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
                if let Value::Tuple(s) = state
                    && let Some(Value::Str(order)) = s.get(1)
                {
                    dt.borrow_mut().1 = order.chars().next().unwrap_or('|');
                }
                Ok(())
            }
            Value::Array(arr) => {
                // (version, shape, dtype, is_fortran, raw data)
                let Value::Tuple(s) = state else {
                    return self.err("ndarray state is not a tuple");
                };
                let [
                    _,
                    Value::Tuple(shape),
                    Value::DType(dt),
                    Value::Bool(fortran),
                    raw,
                ] = s.as_slice()
                else {
                    return self.err("ndarray state has an unexpected layout");
                };
                let shape = ints(shape).ok_or_else(|| PickleError {
                    offset: self.pos,
                    problem: "array shape is not integers".into(),
                })?;
                let (code, order) = dt.borrow().clone();
                let bytes = match raw {
                    Value::Bytes(b) => b.clone(),
                    Value::Str(s) => s.chars().map(|c| c as u32 as u8).collect(),
                    _ => {
                        return self
                            .err("ndarray data is not bytes (object arrays are not supported)");
                    }
                };
                *arr.borrow_mut() =
                    decode_array(shape, &code, order, &bytes, *fortran).map_err(|p| {
                        PickleError {
                            offset: self.pos,
                            problem: p,
                        }
                    })?;
                Ok(())
            }
            _ => Ok(()), // state of objects we do not model is ignored
        }
    }
}

fn pairs(items: Vec<Value>) -> Option<Vec<(Value, Value)>> {
    if !items.len().is_multiple_of(2) {
        return None;
    }
    let mut it = items.into_iter();
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Some(out)
}

fn ints(v: &[Value]) -> Option<Vec<usize>> {
    v.iter()
        .map(|x| {
            if let Value::Int(i) = x {
                usize::try_from(*i).ok()
            } else {
                None
            }
        })
        .collect()
}

fn decode_array(
    shape: Vec<usize>,
    code: &str,
    order: char,
    bytes: &[u8],
    fortran: bool,
) -> Result<NdArray, String> {
    let n = shape
        .iter()
        .try_fold(1usize, |a, b| a.checked_mul(*b))
        .ok_or("array shape overflows")?;
    let code = code.trim_start_matches(['<', '>', '=', '|']);
    let big = order == '>';
    let size = match code {
        "f4" | "i4" | "u4" => 4,
        "f8" | "i8" | "u8" => 8,
        "f2" | "i2" | "u2" => 2,
        "i1" | "u1" | "b1" => 1,
        _ => return Err(format!("unsupported numpy dtype {code:?}")),
    };
    if bytes.len() != n * size {
        return Err(format!(
            "array {shape:?} of {code} needs {} bytes, the pickle holds {}",
            n * size,
            bytes.len()
        ));
    }
    let word = |c: &[u8]| -> u64 {
        let it: Box<dyn Iterator<Item = &u8>> = if big {
            Box::new(c.iter())
        } else {
            Box::new(c.iter().rev())
        };
        it.fold(0u64, |acc, v| (acc << 8) | *v as u64)
    };
    let mut data: Vec<f32> = bytes
        .chunks_exact(size)
        .map(|c| {
            let w = word(c);
            match code {
                "f4" => f32::from_bits(w as u32),
                "f8" => f64::from_bits(w) as f32,
                "f2" => half_to_f32(w as u16),
                "i4" => w as u32 as i32 as f32,
                "i8" => w as i64 as f32,
                "i2" => w as u16 as i16 as f32,
                "i1" => w as u8 as i8 as f32,
                _ => w as f32,
            }
        })
        .collect();
    if fortran && shape.len() > 1 {
        data = fortran_to_c(&data, &shape);
    }
    Ok(NdArray {
        shape,
        dtype: code.to_string(),
        data,
    })
}

fn fortran_to_c(data: &[f32], shape: &[usize]) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    let nd = shape.len();
    let mut idx = vec![0usize; nd];
    for v in data {
        // Fortran order: first index fastest.
        let mut c = 0;
        for d in 0..nd {
            c = c * shape[d] + idx[d];
        }
        out[c] = *v;
        for d in 0..nd {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    out
}

fn half_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    sign * match exp {
        0 => frac * 2f32.powi(-24),
        31 => {
            if frac == 0.0 {
                f32::INFINITY
            } else {
                f32::NAN
            }
        }
        _ => (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

fn unquote_py_string(s: &str) -> Option<Vec<u8>> {
    let q = s.chars().next()?;
    if !(q == '\'' || q == '"') || !s.ends_with(q) || s.len() < 2 {
        return None;
    }
    let body = &s[1..s.len() - 1];
    let mut out = Vec::new();
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            i += 1;
            match b[i] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'x' if i + 2 < b.len() => {
                    out.push(
                        u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).ok()?, 16).ok()?,
                    );
                    i += 2;
                }
                c => out.push(c),
            }
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    Some(out)
}

fn unescape_raw_unicode(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('u' | 'U')) {
            let width = if chars.next() == Some('U') { 8 } else { 4 };
            let hex: String = chars.by_ref().take(width).collect();
            if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                out.push(ch);
                continue;
            }
            out.push_str("\\u");
            out.push_str(&hex);
        } else {
            out.push(c);
        }
    }
    out
}

/// Run the pickle machine over `data` and return the top-level value.
pub fn load(data: &[u8]) -> Result<Value, PickleError> {
    let mut m = Machine {
        data,
        pos: 0,
        stack: Vec::new(),
        memo: HashMap::new(),
        lists: Vec::new(),
        dicts: Vec::new(),
    };
    let result = m.run().and_then(|v| {
        if holds_itself(&v) {
            Err(PickleError {
                offset: data.len(),
                problem: "a container holds itself (recursive structure): not a data set".into(),
            })
        } else {
            Ok(v)
        }
    });
    if result.is_err() {
        // Empty every container: whatever cycles the input built are broken, nothing leaks.
        m.stack.clear();
        m.memo.clear();
        for l in m.lists.iter().filter_map(Weak::upgrade) {
            l.borrow_mut().clear();
        }
        for d in m.dicts.iter().filter_map(Weak::upgrade) {
            d.borrow_mut().clear();
        }
    }
    result
}

/// Whether a list or dict inside `v` contains itself (iterative depth-first search, each
/// container expanded once, so deep nesting cannot overflow the stack).
fn holds_itself(v: &Value) -> bool {
    use std::collections::HashSet;
    enum Step {
        Enter(Value),
        Leave(usize),
    }
    let (mut on_path, mut done) = (HashSet::new(), HashSet::new());
    let mut todo = vec![Step::Enter(v.clone())];
    while let Some(step) = todo.pop() {
        let v = match step {
            Step::Leave(p) => {
                on_path.remove(&p);
                continue;
            }
            Step::Enter(v) => v,
        };
        let (ptr, children): (Option<usize>, Vec<Value>) = match &v {
            Value::List(l) => (Some(Rc::as_ptr(l) as usize), l.borrow().clone()),
            Value::Dict(d) => (
                Some(Rc::as_ptr(d) as usize),
                d.borrow()
                    .iter()
                    .flat_map(|(k, v)| [k.clone(), v.clone()])
                    .collect(),
            ),
            Value::Tuple(t) => (None, t.clone()),
            _ => continue,
        };
        if let Some(p) = ptr {
            if on_path.contains(&p) {
                return true;
            }
            if !done.insert(p) {
                continue;
            }
            on_path.insert(p);
            todo.push(Step::Leave(p));
        }
        todo.extend(children.into_iter().map(Step::Enter));
    }
    false
}
