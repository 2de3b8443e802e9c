//! Float tensors out of a PyTorch checkpoint in the legacy format (`torch.save` before 1.6, or
//! with `_use_new_zipfile_serialization=False`): three small pickles (magic number, protocol,
//! system info), the object pickle whose tensors name their storages by persistent id, the
//! list of storage keys, then each storage as a little-endian element count and its bytes.
//!
//! The object pickle is read by a small pickle machine that builds values and calls nothing:
//! `collections.OrderedDict` and `torch._utils._rebuild_tensor_v2` are recognised, every other
//! global stays an inert name. (candle's and the `pickle` crates' readers take the zip format
//! or no persistent ids.)

use std::collections::HashMap;

/// A float32 tensor: its shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// A value the pickle machine builds.
#[derive(Clone, Debug)]
enum Value {
    None,
    Int(i64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String, String),
    /// A persistent id: a storage's `('storage', type, key, location, size)`.
    Persistent(Box<Value>),
    /// A tensor view: storage key and type, offset, shape, strides.
    TensorRef {
        key: String,
        dtype: String,
        offset: usize,
        shape: Vec<usize>,
        stride: Vec<usize>,
    },
    /// Anything else a call would have made.
    Opaque,
}

/// Reads every float32 tensor of the checkpoint by its dotted name (`model_state.lstm.bias`).
pub(crate) fn tensors(bytes: &[u8]) -> Result<HashMap<String, Tensor>, String> {
    let mut r = Reader { bytes, at: 0 };
    for what in ["magic number", "protocol", "system info"] {
        r.pickle().map_err(|e| format!("{what}: {e}"))?;
    }
    let object = r.pickle().map_err(|e| format!("object: {e}"))?;
    let keys = match r.pickle().map_err(|e| format!("storage keys: {e}"))? {
        Value::List(keys) => keys,
        _ => return Err("storage keys are not a list".into()),
    };
    let mut storages: HashMap<String, &[u8]> = HashMap::new();
    for key in keys {
        let Value::Str(key) = key else {
            return Err("a storage key is not a string".into());
        };
        let n = r.take(8)?;
        let n = u64::from_le_bytes(n.try_into().map_err(|_| "storage size")?) as usize;
        let size = n.checked_mul(4).ok_or("storage too large")?;
        storages.insert(key, r.take(size)?);
    }
    let mut out = HashMap::new();
    collect(&object, "", &storages, &mut out)?;
    Ok(out)
}

/// Walks dictionaries, naming tensors by their keys joined with dots.
fn collect(
    value: &Value,
    prefix: &str,
    storages: &HashMap<String, &[u8]>,
    out: &mut HashMap<String, Tensor>,
) -> Result<(), String> {
    match value {
        Value::Dict(items) => {
            for (k, v) in items {
                let name = match k {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    _ => continue,
                };
                let name = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}.{name}")
                };
                collect(v, &name, storages, out)?;
            }
        }
        Value::TensorRef {
            key,
            dtype,
            offset,
            shape,
            stride,
        } if dtype == "FloatStorage" => {
            let storage = storages
                .get(key)
                .ok_or_else(|| format!("{prefix}: storage {key} missing"))?;
            out.insert(prefix.to_string(), gather(storage, *offset, shape, stride)?);
        }
        _ => {}
    }
    Ok(())
}

/// The values of a strided view of a float32 storage, in row-major order.
fn gather(
    storage: &[u8],
    offset: usize,
    shape: &[usize],
    stride: &[usize],
) -> Result<Tensor, String> {
    if shape.len() != stride.len() {
        return Err("shape and strides differ in length".into());
    }
    let n: usize = shape.iter().product();
    let len = storage.len() / 4;
    let mut data = Vec::with_capacity(n);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..n {
        let at = offset + index.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
        if at >= len {
            return Err(format!("tensor reads element {at} of a storage of {len}"));
        }
        data.push(f32::from_le_bytes(
            storage[4 * at..4 * at + 4].try_into().expect("four bytes"),
        ));
        for d in (0..index.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(Tensor {
        shape: shape.to_vec(),
        data,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("four bytes"),
        ))
    }

    fn line(&mut self) -> Result<String, String> {
        let rest = &self.bytes[self.at..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("unterminated line")?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.at += n + 1;
        Ok(s)
    }

    /// One pickle, up to its STOP.
    fn pickle(&mut self) -> Result<Value, String> {
        let mut stack: Vec<Value> = Vec::new();
        let mut marks: Vec<usize> = Vec::new();
        let mut memo: HashMap<u32, Value> = HashMap::new();
        let pop = |stack: &mut Vec<Value>| stack.pop().ok_or("stack underflow".to_string());
        let since_mark = |stack: &mut Vec<Value>, marks: &mut Vec<usize>| {
            let m = marks.pop().ok_or("no mark")?;
            if m > stack.len() {
                return Err("mark past the stack".to_string());
            }
            Ok(stack.split_off(m))
        };
        loop {
            let op = self.byte()?;
            match op {
                0x80 => {
                    self.byte()?;
                }
                b'.' => return pop(&mut stack),
                b'N' => stack.push(Value::None),
                0x88 | 0x89 => stack.push(Value::Opaque),
                b'K' => {
                    let v = self.byte()?;
                    stack.push(Value::Int(v.into()));
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.take(2)?.try_into().expect("two bytes"));
                    stack.push(Value::Int(v.into()));
                }
                b'J' => {
                    let v = i32::from_le_bytes(self.take(4)?.try_into().expect("four bytes"));
                    stack.push(Value::Int(v.into()));
                }
                0x8a => {
                    let n = self.byte()? as usize;
                    let raw = self.take(n)?;
                    if n > 8 {
                        stack.push(Value::Opaque);
                    } else {
                        let mut v: i64 = 0;
                        for (i, b) in raw.iter().enumerate() {
                            v |= i64::from(*b) << (8 * i);
                        }
                        if n > 0 && n < 8 && raw[n - 1] & 0x80 != 0 {
                            v -= 1i64 << (8 * n);
                        }
                        stack.push(Value::Int(v));
                    }
                }
                b'G' => {
                    self.take(8)?;
                    stack.push(Value::Opaque);
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                    stack.push(Value::Str(s));
                }
                b'T' => {
                    let n = self.u32()? as usize;
                    let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                    stack.push(Value::Str(s));
                }
                b'U' => {
                    let n = self.byte()? as usize;
                    let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                    stack.push(Value::Str(s));
                }
                b'(' => marks.push(stack.len()),
                b')' => stack.push(Value::Tuple(Vec::new())),
                b't' => {
                    let items = since_mark(&mut stack, &mut marks)?;
                    stack.push(Value::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if stack.len() < n {
                        return Err("stack underflow".into());
                    }
                    let items = stack.split_off(stack.len() - n);
                    stack.push(Value::Tuple(items));
                }
                b']' => stack.push(Value::List(Vec::new())),
                b'a' => {
                    let v = pop(&mut stack)?;
                    if let Some(Value::List(l)) = stack.last_mut() {
                        l.push(v);
                    }
                }
                b'e' => {
                    let items = since_mark(&mut stack, &mut marks)?;
                    if let Some(Value::List(l)) = stack.last_mut() {
                        l.extend(items);
                    }
                }
                b'}' => stack.push(Value::Dict(Vec::new())),
                b's' => {
                    let v = pop(&mut stack)?;
                    let k = pop(&mut stack)?;
                    if let Some(Value::Dict(d)) = stack.last_mut() {
                        d.push((k, v));
                    }
                }
                b'u' => {
                    let items = since_mark(&mut stack, &mut marks)?;
                    if let Some(Value::Dict(d)) = stack.last_mut() {
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            d.push((k, v));
                        }
                    }
                }
                b'q' => {
                    let i = self.byte()?;
                    let top = stack.last().ok_or("memo of an empty stack")?.clone();
                    memo.insert(i.into(), top);
                }
                b'r' => {
                    let i = self.u32()?;
                    let top = stack.last().ok_or("memo of an empty stack")?.clone();
                    memo.insert(i, top);
                }
                b'h' => {
                    let i = self.byte()?;
                    let v = memo.get(&i.into()).ok_or("unknown memo")?.clone();
                    stack.push(v);
                }
                b'j' => {
                    let i = self.u32()?;
                    let v = memo.get(&i).ok_or("unknown memo")?.clone();
                    stack.push(v);
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    stack.push(Value::Global(module, name));
                }
                b'Q' => {
                    let id = pop(&mut stack)?;
                    stack.push(Value::Persistent(Box::new(id)));
                }
                b'R' => {
                    let args = pop(&mut stack)?;
                    let f = pop(&mut stack)?;
                    stack.push(call(f, args));
                }
                b'b' => {
                    // BUILD: state for the object below; nothing here keeps state.
                    pop(&mut stack)?;
                }
                other => return Err(format!("pickle opcode {other:#04x} not supported")),
            }
        }
    }
}

/// What calling `f` with `args` makes, for the two calls a state dict holds.
fn call(f: Value, args: Value) -> Value {
    let (Value::Global(module, name), Value::Tuple(args)) = (f, args) else {
        return Value::Opaque;
    };
    match (module.as_str(), name.as_str()) {
        ("collections", "OrderedDict") => Value::Dict(Vec::new()),
        ("torch._utils", "_rebuild_tensor_v2") => tensor_ref(&args).unwrap_or(Value::Opaque),
        _ => Value::Opaque,
    }
}

/// `_rebuild_tensor_v2(storage, offset, size, stride, …)` as a view.
fn tensor_ref(args: &[Value]) -> Option<Value> {
    let Value::Persistent(id) = args.first()? else {
        return None;
    };
    let Value::Tuple(id) = id.as_ref() else {
        return None;
    };
    let (Value::Global(_, dtype), Value::Str(key)) = (id.get(1)?, id.get(2)?) else {
        return None;
    };
    let whole = |v: &Value| match v {
        Value::Int(i) => usize::try_from(*i).ok(),
        _ => None,
    };
    let dims = |v: &Value| match v {
        Value::Tuple(items) => items.iter().map(whole).collect::<Option<Vec<_>>>(),
        _ => None,
    };
    Some(Value::TensorRef {
        key: key.clone(),
        dtype: dtype.clone(),
        offset: whole(args.get(1)?)?,
        shape: dims(args.get(2)?)?,
        stride: dims(args.get(3)?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkpoint as `torch.save(..., _use_new_zipfile_serialization=False)` writes one:
    /// `{"model_state": OrderedDict(w=<2x3 view, transposed>, b=<3 values at offset 2>)}`.
    fn checkpoint() -> Vec<u8> {
        let mut out = Vec::new();
        // Magic number, protocol, system info: any pickles.
        out.extend(b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.");
        out.extend(b"\x80\x02M\xe9\x03.");
        out.extend(b"\x80\x02}q\x00.");
        let tensor = |key: &str, offset: u8, size: &[u8], stride: &[u8]| {
            let mut t = Vec::new();
            t.extend(b"ctorch._utils\n_rebuild_tensor_v2\n(");
            t.extend(b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\n");
            t.push(b'X');
            t.extend((key.len() as u32).to_le_bytes());
            t.extend(key.as_bytes());
            t.extend(b"X\x03\x00\x00\x00cpuK\x06Ntq\x01Q");
            t.extend([b'K', offset]);
            t.push(b'(');
            for s in size {
                t.extend([b'K', *s]);
            }
            t.push(b't');
            t.push(b'(');
            for s in stride {
                t.extend([b'K', *s]);
            }
            t.extend(b"t\x89ccollections\nOrderedDict\n)RtR");
            t
        };
        out.extend(b"\x80\x02}(X\x0b\x00\x00\x00model_stateccollections\nOrderedDict\n)R(");
        out.extend(b"X\x01\x00\x00\x00w");
        out.extend(tensor("1", 0, &[2, 3], &[1, 2]));
        out.extend(b"X\x01\x00\x00\x00b");
        out.extend(tensor("1", 2, &[3], &[1]));
        out.extend(b"uu.");
        out.extend(b"\x80\x02]q\x00X\x01\x00\x00\x001a.");
        out.extend(6u64.to_le_bytes());
        for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
            out.extend(v.to_le_bytes());
        }
        out
    }

    #[test]
    fn reads_strided_views_of_shared_storage() {
        let t = tensors(&checkpoint()).unwrap();
        let w = &t["model_state.w"];
        assert_eq!(w.shape, vec![2, 3]);
        // Strides (1, 2) over 1..6: rows [1, 3, 5] and [2, 4, 6].
        assert_eq!(w.data, vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        assert_eq!(t["model_state.b"].data, vec![3.0, 4.0, 5.0]);
    }

    #[test]
    fn damaged_files_are_errors() {
        let good = checkpoint();
        for cut in [0, 3, 20, good.len() / 2, good.len() - 5] {
            assert!(tensors(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = good.clone();
        let object = bad.windows(4).position(|w| w == b"\x80\x02}(").unwrap();
        bad[object + 2] = 0xff;
        assert!(tensors(&bad).is_err());
        assert!(tensors(b"not a checkpoint").is_err());
    }
}
