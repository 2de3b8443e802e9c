//! The crate's one error type.
//!
//! Every variant names the input it concerns (a path, `<bytes: N>`, `<reader>` or a name the
//! caller chose with [`AudioSource::named`](crate::audio::AudioSource::named)) and the cause, so
//! a message read in a log says what failed and why without further context.

use std::path::PathBuf;

/// Everything that can go wrong in Stenograph.
///
/// ```
/// use stenograph::{audio::Audio, Error};
/// match Audio::from_bytes(Vec::new()) {
///     Err(Error::EmptyInput { input }) => assert_eq!(input, "<bytes: 0>"),
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input holds no bytes at all.
    #[error("{input}: input is empty (0 bytes)")]
    EmptyInput {
        /// The input's name.
        input: String,
    },

    /// The bytes are not in any audio container or stream format Stenograph recognises.
    #[error("{input}: not audio, or an unknown format ({reason})")]
    UnknownFormat {
        /// The input's name.
        input: String,
        /// What the format probe reported.
        reason: String,
    },

    /// The container was recognised but its audio codec cannot be decoded.
    #[error("{input}: unsupported audio codec '{codec}'")]
    UnsupportedCodec {
        /// The input's name.
        input: String,
        /// The codec's short name, e.g. `ac3`.
        codec: String,
    },

    /// The header declares values no real recording has.
    #[error("{input}: invalid audio header: {reason}")]
    InvalidHeader {
        /// The input's name.
        input: String,
        /// Which value is out of range.
        reason: String,
    },

    /// The stream is damaged and could not be decoded any further.
    #[error("{input}: corrupt audio stream after {decoded_seconds:.3} s decoded: {reason}")]
    Corrupt {
        /// The input's name.
        input: String,
        /// How much audio, in seconds, was decoded before the damage.
        decoded_seconds: f64,
        /// What the decoder reported.
        reason: String,
    },

    /// The stream ends before the length its header declares (returned only with
    /// [`Truncation::Error`](crate::audio::Truncation::Error); the default carries a warning).
    #[error("{input}: truncated audio: {decoded_seconds:.3} s decoded{}", expected_suffix(*.expected_seconds))]
    Truncated {
        /// The input's name.
        input: String,
        /// How much audio, in seconds, was decoded.
        decoded_seconds: f64,
        /// The length the header declared, when it declared one.
        expected_seconds: Option<f64>,
    },

    /// The input is a valid container but holds no audio track or no samples.
    #[error("{input}: contains no audio ({reason})")]
    NoAudio {
        /// The input's name.
        input: String,
        /// Why no audio was found.
        reason: String,
    },

    /// The audio is longer than [`DecodeOptions::max_duration`](crate::audio::DecodeOptions).
    #[error(
        "{input}: audio is {} {seconds:.1} s long, over the limit of {limit_seconds:.1} s",
        if *.declared { "declared as" } else { "at least" }
    )]
    TooLong {
        /// The input's name.
        input: String,
        /// The declared length, or how much was decoded when the limit was crossed.
        seconds: f64,
        /// The configured limit.
        limit_seconds: f64,
        /// Whether the length comes from the header (`true`) or from decoding (`false`).
        declared: bool,
    },

    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file's path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A model file does not exist.
    #[error("{}: model file not found", path.display())]
    ModelNotFound {
        /// The path looked at.
        path: PathBuf,
    },

    /// The file is not a whisper.cpp ggml model.
    #[error("{model}: not a Whisper ggml model: {reason}")]
    NotAModel {
        /// The model's path or name.
        model: String,
        /// What the file looks like instead.
        reason: String,
    },

    /// The model file ends early.
    #[error("{model}: truncated model: {reason}")]
    ModelTruncated {
        /// The model's path or name.
        model: String,
        /// What is missing.
        reason: String,
    },

    /// A tensor is stored in a type whisper.cpp cannot use.
    #[error("{model}: tensor {tensor} has unsupported type {type_id}")]
    UnsupportedTensorType {
        /// The model's path or name.
        model: String,
        /// The tensor's name.
        tensor: String,
        /// The `ggml_type` (or file type) code.
        type_id: u32,
    },

    /// The model file is damaged or inconsistent.
    #[error("{model}: invalid model: {reason}")]
    InvalidModel {
        /// The model's path or name.
        model: String,
        /// What is wrong.
        reason: String,
    },

    /// A model name that is not in the registry.
    #[error("unknown model '{name}'; known models: {known}")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: String,
    },

    /// Converting a CTranslate2 or other export failed.
    #[error("{}: cannot import: {reason}", path.display())]
    Import {
        /// The export's directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// A download failed (network, HTTP status, or every source tried).
    #[error("downloading {what}: {reason}")]
    Download {
        /// What was being fetched (a URL or a model name).
        what: String,
        /// Why it failed.
        reason: String,
    },

    /// Downloaded data does not have the published checksum.
    #[error("{what}: SHA-256 mismatch: expected {expected}, got {actual}")]
    ChecksumMismatch {
        /// The file or URL.
        what: String,
        /// The published hash.
        expected: String,
        /// The hash of what arrived.
        actual: String,
    },

    /// The model cache cannot be used (not writable, full, …).
    #[error("model cache {}: {source}", path.display())]
    Cache {
        /// The cache path involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The transcription was cancelled through its [`CancelToken`](crate::transcribe::CancelToken).
    #[error("cancelled")]
    Cancelled,

    /// Inference failed inside whisper.cpp.
    #[error("inference failed: {0}")]
    Inference(String),

    /// The requested device cannot be used.
    #[error("device: {0}")]
    Device(String),

    /// Output could not be written.
    #[error("writing output: {source}")]
    Write {
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// An argument given by the caller is out of range or inconsistent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// The kind of a failure: what every language binding reports it as (Python's exception
/// class, Node's and C's category), decided here once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// The audio could not be read: empty, truncated, corrupt, not audio, unsupported, too long.
    Decode,
    /// The model could not be found, checked, imported or loaded.
    Model,
    /// The model could not be downloaded or did not match its published checksum.
    Download,
    /// The call was cancelled.
    Cancelled,
    /// whisper.cpp failed.
    Inference,
    /// The device asked for is not available.
    Device,
    /// An argument or option is out of range or does not fit the model.
    InvalidArgument,
    /// A file could not be read or written.
    Io,
}

impl ErrorCategory {
    /// Every category.
    pub const ALL: [ErrorCategory; 8] = [
        ErrorCategory::Decode,
        ErrorCategory::Model,
        ErrorCategory::Download,
        ErrorCategory::Cancelled,
        ErrorCategory::Inference,
        ErrorCategory::Device,
        ErrorCategory::InvalidArgument,
        ErrorCategory::Io,
    ];

    /// Its stable snake_case name (`"decode"`, `"invalid_argument"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Decode => "decode",
            ErrorCategory::Model => "model",
            ErrorCategory::Download => "download",
            ErrorCategory::Cancelled => "cancelled",
            ErrorCategory::Inference => "inference",
            ErrorCategory::Device => "device",
            ErrorCategory::InvalidArgument => "invalid_argument",
            ErrorCategory::Io => "io",
        }
    }
}

impl std::fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The one table of every failure: its stable code and its category.
    fn kind(&self) -> (&'static str, ErrorCategory) {
        use ErrorCategory as C;
        match self {
            Error::EmptyInput { .. } => ("empty_input", C::Decode),
            Error::UnknownFormat { .. } => ("unknown_format", C::Decode),
            Error::UnsupportedCodec { .. } => ("unsupported_codec", C::Decode),
            Error::InvalidHeader { .. } => ("invalid_header", C::Decode),
            Error::Corrupt { .. } => ("corrupt", C::Decode),
            Error::Truncated { .. } => ("truncated", C::Decode),
            Error::NoAudio { .. } => ("no_audio", C::Decode),
            Error::TooLong { .. } => ("too_long", C::Decode),
            Error::Io { .. } => ("io", C::Io),
            Error::Write { .. } => ("write", C::Io),
            Error::ModelNotFound { .. } => ("model_not_found", C::Model),
            Error::NotAModel { .. } => ("not_a_model", C::Model),
            Error::ModelTruncated { .. } => ("model_truncated", C::Model),
            Error::UnsupportedTensorType { .. } => ("unsupported_tensor_type", C::Model),
            Error::InvalidModel { .. } => ("invalid_model", C::Model),
            Error::UnknownModel { .. } => ("unknown_model", C::Model),
            Error::Import { .. } => ("import", C::Model),
            Error::Cache { .. } => ("cache", C::Model),
            Error::Download { .. } => ("download", C::Download),
            Error::ChecksumMismatch { .. } => ("checksum_mismatch", C::Download),
            Error::Cancelled => ("cancelled", C::Cancelled),
            Error::Inference(_) => ("inference", C::Inference),
            Error::Device(_) => ("device", C::Device),
            Error::InvalidArgument(_) => ("invalid_argument", C::InvalidArgument),
        }
    }

    /// A stable snake_case name of the failure (`"truncated"`, `"unknown_format"`, …), for
    /// logs, metrics labels and API error codes.
    pub fn code(&self) -> &'static str {
        self.kind().0
    }

    /// The kind of failure, as every binding reports it.
    pub fn category(&self) -> ErrorCategory {
        self.kind().1
    }

    /// Whether the input itself is at fault (unreadable, not audio, too long, bad option):
    /// retrying the same input cannot succeed.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self.category(),
            ErrorCategory::Decode | ErrorCategory::InvalidArgument
        )
    }
}

fn expected_suffix(expected: Option<f64>) -> String {
    expected
        .map(|s| format!(" of {s:.3} s declared"))
        .unwrap_or_default()
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checksum_mismatch_is_a_download_failure() {
        let e = Error::ChecksumMismatch {
            what: "m".into(),
            expected: "a".into(),
            actual: "b".into(),
        };
        assert_eq!(
            (e.code(), e.category()),
            ("checksum_mismatch", ErrorCategory::Download)
        );
        assert_eq!(ErrorCategory::Download.as_str(), "download");
        assert!(Error::InvalidArgument("x".into()).is_input_error());
        assert!(!Error::Cancelled.is_input_error());
    }
}
