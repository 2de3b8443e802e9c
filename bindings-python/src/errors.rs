//! Core errors to Python exceptions: the hierarchy, and one mapping from the core's error
//! categories (the core decides which failure is which; `code` is its fine-grained name).

use pyo3::prelude::*;
use stenograph::{Error, ErrorCategory};

/// The exception classes, defined in Python so that they can also derive from `ValueError`,
/// `OSError` or `RuntimeError`. Every instance carries `code`, a stable name of the failure.
pub const HIERARCHY: &std::ffi::CStr = cr#"
class Error(Exception):
    """Base of every Stenograph error. `category` is its kind (e.g. "decode"), `code` names
    the failure (e.g. "truncated")."""
    category = "error"
    code = "error"

class DecodeError(Error, ValueError):
    """The audio could not be read: empty, truncated, corrupt, not audio, unsupported."""

class ModelError(Error):
    """The model could not be found, fetched, checked or loaded."""

class DownloadError(ModelError):
    """The model could not be downloaded, or did not match its published checksum."""

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

/// The exception class of a category.
fn class(category: ErrorCategory) -> &'static str {
    match category {
        ErrorCategory::Decode => "DecodeError",
        ErrorCategory::Model => "ModelError",
        ErrorCategory::Download => "DownloadError",
        ErrorCategory::Cancelled => "Cancelled",
        ErrorCategory::Inference => "InferenceError",
        ErrorCategory::Device => "DeviceError",
        ErrorCategory::InvalidArgument => "InvalidArgument",
        ErrorCategory::Io => "IoError",
        _ => "Error",
    }
}

/// The Python exception for a core error: its class, its `code`, the core's message.
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| {
        let made = (|| -> PyResult<PyErr> {
            let cls = py
                .import("stenograph._stenograph")?
                .getattr(class(e.category()))?;
            let value = cls.call1((e.to_string(),))?;
            value.setattr("category", e.category().as_str())?;
            value.setattr("code", e.code())?;
            Ok(PyErr::from_value(value))
        })();
        made.unwrap_or_else(|err| err)
    })
}

/// `InvalidArgument` with `message`.
pub fn invalid(message: impl Into<String>) -> PyErr {
    to_py(Error::InvalidArgument(message.into()))
}
