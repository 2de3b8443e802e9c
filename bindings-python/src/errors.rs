//! Core errors to Python exceptions: the hierarchy, and one mapping from `stenograph::Error`.

use pyo3::prelude::*;
use stenograph::Error;

/// The exception classes, defined in Python so that they can also derive from `ValueError`,
/// `OSError` or `RuntimeError`. Every instance carries `code`, a stable name of the failure.
pub const HIERARCHY: &std::ffi::CStr = cr#"
class Error(Exception):
    """Base of every Stenograph error. `code` names the failure (e.g. "truncated")."""
    code = "error"

class DecodeError(Error, ValueError):
    """The audio could not be read: empty, truncated, corrupt, not audio, unsupported."""

class ModelError(Error):
    """The model could not be found, fetched, checked or loaded."""

class Cancelled(Error):
    """The transcription was cancelled (cancel token, asyncio cancellation, Ctrl-C)."""

class InferenceError(Error, RuntimeError):
    """whisper.cpp failed while transcribing."""

class DeviceError(Error, RuntimeError):
    """The device asked for is not available in this build or on this machine."""

class InvalidArgument(Error, ValueError):
    """An option is out of range or does not fit the model."""

class IoError(Error, OSError):
    """A file could not be read or written."""
"#;

/// The exception class and `code` for a core error.
fn class_and_code(e: &Error) -> (&'static str, &'static str) {
    match e {
        Error::EmptyInput { .. } => ("DecodeError", "empty_input"),
        Error::UnknownFormat { .. } => ("DecodeError", "unknown_format"),
        Error::UnsupportedCodec { .. } => ("DecodeError", "unsupported_codec"),
        Error::InvalidHeader { .. } => ("DecodeError", "invalid_header"),
        Error::Corrupt { .. } => ("DecodeError", "corrupt"),
        Error::Truncated { .. } => ("DecodeError", "truncated"),
        Error::NoAudio { .. } => ("DecodeError", "no_audio"),
        Error::TooLong { .. } => ("DecodeError", "too_long"),
        Error::Io { .. } => ("IoError", "io"),
        Error::Write { .. } => ("IoError", "write"),
        Error::ModelNotFound { .. } => ("ModelError", "model_not_found"),
        Error::NotAModel { .. } => ("ModelError", "not_a_model"),
        Error::ModelTruncated { .. } => ("ModelError", "model_truncated"),
        Error::UnsupportedTensorType { .. } => ("ModelError", "unsupported_tensor_type"),
        Error::InvalidModel { .. } => ("ModelError", "invalid_model"),
        Error::UnknownModel { .. } => ("ModelError", "unknown_model"),
        Error::Import { .. } => ("ModelError", "import"),
        Error::Download { .. } => ("ModelError", "download"),
        Error::ChecksumMismatch { .. } => ("ModelError", "checksum_mismatch"),
        Error::Cache { .. } => ("ModelError", "cache"),
        Error::Cancelled => ("Cancelled", "cancelled"),
        Error::Inference(_) => ("InferenceError", "inference"),
        Error::Device(_) => ("DeviceError", "device"),
        Error::InvalidArgument(_) => ("InvalidArgument", "invalid_argument"),
        _ => ("Error", "error"),
    }
}

/// The Python exception for a core error: its class, its `code`, the core's message.
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| {
        let (class, code) = class_and_code(&e);
        let made = (|| -> PyResult<PyErr> {
            let cls = py.import("stenograph._stenograph")?.getattr(class)?;
            let value = cls.call1((e.to_string(),))?;
            value.setattr("code", code)?;
            Ok(PyErr::from_value(value))
        })();
        made.unwrap_or_else(|err| err)
    })
}

/// `InvalidArgument` with `message`.
pub fn invalid(message: impl Into<String>) -> PyErr {
    to_py(Error::InvalidArgument(message.into()))
}
