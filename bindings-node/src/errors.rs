//! Core errors to JavaScript `Error`s with a stable `code`.

use napi::bindgen_prelude::*;
use stenograph::Error as CoreError;

/// The `code` of a core error: `ERR_STENOGRAPH_` and the kind of failure.
pub fn code(e: &CoreError) -> &'static str {
    match e {
        CoreError::EmptyInput { .. }
        | CoreError::UnknownFormat { .. }
        | CoreError::UnsupportedCodec { .. }
        | CoreError::InvalidHeader { .. }
        | CoreError::Corrupt { .. }
        | CoreError::Truncated { .. }
        | CoreError::NoAudio { .. }
        | CoreError::TooLong { .. } => "ERR_STENOGRAPH_DECODE",
        CoreError::ModelNotFound { .. }
        | CoreError::NotAModel { .. }
        | CoreError::ModelTruncated { .. }
        | CoreError::UnsupportedTensorType { .. }
        | CoreError::InvalidModel { .. }
        | CoreError::UnknownModel { .. }
        | CoreError::Import { .. }
        | CoreError::ChecksumMismatch { .. }
        | CoreError::Cache { .. } => "ERR_STENOGRAPH_MODEL",
        CoreError::Download { .. } => "ERR_STENOGRAPH_DOWNLOAD",
        CoreError::Cancelled => "ERR_STENOGRAPH_CANCELLED",
        CoreError::Inference(_) => "ERR_STENOGRAPH_INFERENCE",
        CoreError::Device(_) => "ERR_STENOGRAPH_DEVICE",
        CoreError::InvalidArgument(_) => "ERR_STENOGRAPH_INVALID_ARGUMENT",
        CoreError::Io { .. } | CoreError::Write { .. } => "ERR_STENOGRAPH_IO",
        _ => "ERR_STENOGRAPH",
    }
}

/// A JavaScript `Error` carrying the core's message and `code` (a cancelled call's error is
/// also named `AbortError`, as `fetch` and `node:timers/promises` name theirs).
pub fn to_js(env: &Env, e: &CoreError) -> Error {
    let made = (|| -> Result<Error> {
        let mut obj = env.create_error(Error::from_reason(e.to_string()))?;
        obj.set_named_property("code", code(e))?;
        if matches!(e, CoreError::Cancelled) {
            obj.set_named_property("name", "AbortError")?;
        }
        Ok(Error::from(obj.to_unknown()))
    })();
    made.unwrap_or_else(|err| err)
}
