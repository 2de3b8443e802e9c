//! What JavaScript callers pass, checked before anything runs: audio turned into an
//! `AudioSource`, option objects checked field by field, numbers checked to be whole and in
//! range (JavaScript numbers are doubles: nothing is wrapped or truncated). A wrong argument is
//! a [`Failure`] that rejects the call's promise.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use stenograph::audio::AudioSource;

use crate::errors::Failure;

/// Raw samples: interleaved PCM at any rate.
#[napi(object, object_to_js = false)]
pub struct Samples {
    /// Interleaved samples: float32 nominally in [-1, 1], or 16-bit integers.
    #[napi(ts_type = "Float32Array | Int16Array")]
    pub samples: Either<Float32Array, Int16Array>,
    /// Samples per second per channel (a whole number, 1 to 1,000,000).
    pub sample_rate: f64,
    /// Interleaved channels (default 1).
    pub channels: Option<f64>,
}

/// The JavaScript types an option may have.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    String,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// A function.
    Function,
    /// An object (an `AbortSignal`).
    Object,
    /// An array.
    Array,
}

impl Kind {
    fn of(t: ValueType) -> Option<Kind> {
        Some(match t {
            ValueType::String => Kind::String,
            ValueType::Number => Kind::Number,
            ValueType::Boolean => Kind::Boolean,
            ValueType::Function => Kind::Function,
            ValueType::Object => Kind::Object,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Boolean => "a boolean",
            Kind::Function => "a function",
            Kind::Object => "an object",
            Kind::Array => "an array",
        }
    }
}

/// What a value is, for messages.
fn describe(v: &Unknown<'_>) -> &'static str {
    match v.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        _ => "an object",
    }
}

/// Whether `v` is undefined or null.
pub fn absent(v: &Unknown<'_>) -> bool {
    matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null))
}

/// `v` as an object (`what` names it in the message), or a `TypeError`.
pub fn object<'env>(v: &Unknown<'env>, what: &str) -> std::result::Result<Object<'env>, Failure> {
    match v.get_type() {
        // SAFETY: the value is an object.
        Ok(ValueType::Object) => unsafe { v.cast() }.map_err(|e| Failure::Type(e.reason)),
        _ => Err(Failure::Type(format!(
            "{what} must be an object, not {}",
            describe(v)
        ))),
    }
}

/// Checks that each of `fields` of `obj` (`what` names it) is absent or of its kind.
pub fn check_fields(
    obj: &Object<'_>,
    what: &str,
    fields: &[(&str, Kind)],
) -> std::result::Result<(), Failure> {
    for (name, kind) in fields {
        let v: Unknown = obj
            .get_named_property(name)
            .map_err(|e| Failure::Type(e.reason))?;
        if absent(&v) {
            continue;
        }
        let fits = match kind {
            Kind::Array => v.is_array().unwrap_or(false),
            k => v.get_type().ok().and_then(Kind::of) == Some(*k),
        };
        if !fits {
            return Err(Failure::Type(format!(
                "{what}.{name} must be {}, not {}",
                kind.name(),
                describe(&v)
            )));
        }
    }
    Ok(())
}

/// A whole number `name` from `min` to `max`, or `None` when not given.
pub fn whole(
    value: Option<f64>,
    name: &str,
    min: u64,
    max: u64,
) -> std::result::Result<Option<u64>, Failure> {
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v.fract() == 0.0 && v >= min as f64 && v <= max as f64 => {
            Ok(Some(v as u64))
        }
        Some(v) => Err(Failure::Range(format!(
            "{name} must be a whole number from {min} to {max}, not {v}"
        ))),
    }
}

/// A string argument `name`.
pub fn string(v: &Unknown<'_>, name: &str) -> std::result::Result<String, Failure> {
    match v.get_type() {
        // SAFETY: the value is a string.
        Ok(ValueType::String) => unsafe { v.cast::<String>() }.map_err(|e| Failure::Type(e.reason)),
        _ => Err(Failure::Type(format!(
            "{name} must be a string, not {}",
            describe(v)
        ))),
    }
}

/// A path, the bytes of an encoded file (`Buffer`, `Uint8Array` or `ArrayBuffer`), or raw
/// samples (`{ samples: Float32Array | Int16Array, sampleRate, channels? }`); copied here, on
/// the JavaScript thread, so the work can run on another.
pub fn audio_source(env: &Env, input: &Unknown<'_>) -> std::result::Result<AudioSource, Failure> {
    const WHAT: &str = "the audio input";
    let wrong = || {
        Failure::Type(format!(
            "{WHAT} must be a path, a Buffer, Uint8Array or ArrayBuffer of file bytes, or \
             {{ samples, sampleRate }}, not {}",
            describe(input)
        ))
    };
    if matches!(input.get_type(), Ok(ValueType::String)) {
        return Ok(AudioSource::from_path(string(input, WHAT)?));
    }
    if !matches!(input.get_type(), Ok(ValueType::Object)) {
        return Err(wrong());
    }
    // SAFETY (each conversion): napi checks the value's actual type and fails otherwise.
    if input.is_typedarray().unwrap_or(false) || input.is_buffer().unwrap_or(false) {
        return match unsafe { Uint8Array::from_napi_value(env.raw(), input.raw()) } {
            Ok(bytes) => Ok(AudioSource::from_bytes(bytes.to_vec())),
            Err(_) => Err(Failure::Type(format!(
                "{WHAT}: a typed array of samples goes in {{ samples, sampleRate }}; file bytes \
                 are a Uint8Array"
            ))),
        };
    }
    if input.is_arraybuffer().unwrap_or(false) {
        let bytes =
            unsafe { ArrayBuffer::from_napi_value(env.raw(), input.raw()) }.map_err(|_| wrong())?;
        return Ok(AudioSource::from_bytes(bytes.to_vec()));
    }
    let obj = object(input, WHAT)?;
    check_fields(
        &obj,
        WHAT,
        &[("sampleRate", Kind::Number), ("channels", Kind::Number)],
    )?;
    let samples: Unknown = obj
        .get_named_property("samples")
        .map_err(|e| Failure::Type(e.reason))?;
    let rate: Unknown = obj
        .get_named_property("sampleRate")
        .map_err(|e| Failure::Type(e.reason))?;
    if absent(&samples) || absent(&rate) {
        return Err(wrong());
    }
    let s = unsafe { Samples::from_napi_value(env.raw(), input.raw()) }.map_err(|_| {
        Failure::Type(format!(
            "{WHAT}.samples must be a Float32Array or an Int16Array, not {}",
            describe(&samples)
        ))
    })?;
    let rate = whole(Some(s.sample_rate), "sampleRate", 1, 1_000_000)?.unwrap_or(1) as u32;
    let channels = whole(s.channels, "channels", 1, u16::MAX.into())?.unwrap_or(1) as u16;
    Ok(match s.samples {
        Either::A(f) => AudioSource::from_pcm_f32(f.to_vec(), rate, channels),
        Either::B(i) => AudioSource::from_pcm_i16(i.to_vec(), rate, channels),
    })
}
