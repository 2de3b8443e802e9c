//! What Python callers pass: audio turned into an `AudioSource`, and whole-number arguments
//! checked into range (a negative or huge int is an `InvalidArgument`, never a bare
//! `OverflowError`).

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};
use stenograph::audio::AudioSource;

use crate::errors::invalid;

/// A whole-number argument `name` between `min` and `max`, or `None` when not given.
pub fn whole(
    obj: Option<&Bound<'_, PyAny>>,
    name: &str,
    min: u64,
    max: u64,
) -> PyResult<Option<u64>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if !obj.is_instance_of::<pyo3::types::PyInt>() || obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid(format!(
            "{name} must be a whole number, not {}",
            obj.get_type().name()?
        )));
    }
    let out_of_range = || invalid(format!("{name} must be between {min} and {max}, not {obj}"));
    match obj.extract::<i64>() {
        Ok(n) if n >= 0 && (min..=max).contains(&(n as u64)) => Ok(Some(n as u64)),
        _ => Err(out_of_range()),
    }
}

/// A path (str or `os.PathLike`), `bytes`/`bytearray`/`memoryview` of an encoded file, a
/// binary file object (read to its end), or a NumPy float32/int16 array of samples (1-D mono
/// or 2-D frames × channels) with `sample_rate`.
pub fn audio_source(obj: &Bound<'_, PyAny>, sample_rate: Option<u32>) -> PyResult<AudioSource> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(AudioSource::from_bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(AudioSource::from_bytes(b.to_vec()));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        let bytes = obj.call_method0("tobytes")?;
        return Ok(AudioSource::from_bytes(
            bytes.cast::<PyBytes>()?.as_bytes().to_vec(),
        ));
    }
    if obj.hasattr("dtype")? && obj.hasattr("shape")? {
        return array_source(obj, sample_rate);
    }
    if obj.hasattr("read")? && !obj.is_instance_of::<PyString>() {
        let text_io = obj.py().import("io")?.getattr("TextIOBase")?;
        if obj.is_instance(&text_io)? {
            return Err(PyTypeError::new_err(
                "the file is open in text mode: open it in binary mode ('rb')",
            ));
        }
        let data = obj.call_method0("read")?;
        let bytes = data.cast::<PyBytes>().map_err(|_| {
            PyTypeError::new_err(
                "the file object's read() must return bytes: open it in binary mode ('rb')",
            )
        })?;
        let name = obj
            .getattr("name")
            .ok()
            .and_then(|n| n.extract::<String>().ok());
        let source = AudioSource::from_bytes(bytes.as_bytes().to_vec());
        return Ok(match name {
            Some(n) => source.named(n),
            None => source,
        });
    }
    if let Ok(path) = obj.extract::<PathBuf>() {
        return Ok(AudioSource::from_path(path));
    }
    Err(PyTypeError::new_err(format!(
        "audio must be a path, bytes, a binary file object or a float32/int16 sample array \
         with sample_rate, not {}",
        obj.get_type().name()?
    )))
}

/// A NumPy-style array of float32 or int16 samples, read as little-endian C-order bytes
/// (`astype(..., copy=False).tobytes()`), so no buffer-protocol access is needed.
fn array_source(obj: &Bound<'_, PyAny>, sample_rate: Option<u32>) -> PyResult<AudioSource> {
    let dtype = obj.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    let size: usize = dtype.getattr("itemsize")?.extract()?;
    let shape: Vec<usize> = obj.getattr("shape")?.extract()?;
    let (rate, channels) = pcm_layout(&shape, sample_rate)?;
    let little = match (kind.as_str(), size) {
        ("f", 4) => "<f4",
        ("i", 2) => "<i2",
        _ => {
            return Err(invalid(format!(
                "sample arrays must be float32 or int16, not {}: pass \
                 samples.astype(numpy.float32)",
                dtype.str()?
            )))
        }
    };
    let kwargs = pyo3::types::PyDict::new(obj.py());
    kwargs.set_item("copy", false)?;
    let bytes = obj
        .call_method("astype", (little,), Some(&kwargs))?
        .call_method0("tobytes")?;
    let bytes = bytes.cast::<PyBytes>()?.as_bytes();
    Ok(if size == 4 {
        let samples = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        AudioSource::from_pcm_f32(samples, rate, channels)
    } else {
        let samples = bytes
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        AudioSource::from_pcm_i16(samples, rate, channels)
    })
}

/// Sample rate and channel count of a sample array of `shape`.
fn pcm_layout(shape: &[usize], sample_rate: Option<u32>) -> PyResult<(u32, u16)> {
    let rate = sample_rate
        .ok_or_else(|| invalid("sample arrays need sample_rate= (samples per second)"))?;
    let channels = match shape {
        [_] => 1,
        [_, c] => *c,
        _ => {
            return Err(invalid(format!(
                "sample arrays must be 1-D (mono) or 2-D (frames × channels), not {}-D",
                shape.len()
            )))
        }
    };
    let channels = u16::try_from(channels)
        .ok()
        .filter(|&c| c > 0)
        .ok_or_else(|| invalid(format!("{channels} channels is not a channel count")))?;
    Ok((rate, channels))
}
