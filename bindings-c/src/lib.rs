//! C ABI of Stenograph: opaque handles, status codes and a per-thread error message over the
//! core. Conversion, ownership and error mapping only; every export runs behind a panic
//! boundary. The header is `include/stenograph.h` (cbindgen, see `build.rs`).

mod options;
mod status;
mod stream;
mod transcriber;
mod transcript;

pub use options::{
    steno_options_default, StenoAbortFn, StenoOptions, StenoProgressFn, StenoSegmentFn, StenoTask,
};
pub use status::{steno_last_error_code, steno_last_error_message, steno_status_name, StenoStatus};
pub use stream::{
    steno_stream_cancel, steno_stream_clear, steno_stream_commit, steno_stream_duration,
    steno_stream_finish, steno_stream_free, steno_stream_new, steno_stream_options_default,
    steno_stream_push_pcm, steno_stream_push_pcm_i16, StenoEventFn, StenoEventType, StenoStream,
    StenoStreamEvent, StenoStreamOptions,
};
pub use transcriber::{
    steno_transcribe_batch_files, steno_transcribe_file, steno_transcribe_memory,
    steno_transcribe_pcm, steno_transcribe_pcm_i16, steno_transcriber_free, steno_transcriber_new,
    steno_transcriber_open, steno_transcriber_options_default, StenoTranscriber,
    StenoTranscriberOptions,
};
pub use transcript::{
    steno_format_content_type, steno_string_free, steno_transcript_duration,
    steno_transcript_format, steno_transcript_free, steno_transcript_language,
    steno_transcript_language_probability, steno_transcript_said_by, steno_transcript_segment,
    steno_transcript_segment_count, steno_transcript_speaker, steno_transcript_speaker_count,
    steno_transcript_task, steno_transcript_text, steno_transcript_warning,
    steno_transcript_warning_count, steno_transcript_word, StenoFormat, StenoSegment,
    StenoTranscript, StenoWord,
};

/// Major version of this library.
pub const STENO_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const STENO_VERSION_MINOR: u32 = 1;
/// Patch version of this library.
pub const STENO_VERSION_PATCH: u32 = 0;

/// The library's version, "MAJOR.MINOR.PATCH" (static, never NULL).
#[no_mangle]
pub extern "C" fn steno_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_macros_match_the_crate() {
        assert_eq!(
            format!("{STENO_VERSION_MAJOR}.{STENO_VERSION_MINOR}.{STENO_VERSION_PATCH}"),
            env!("CARGO_PKG_VERSION")
        );
    }

    #[test]
    fn the_committed_header_is_the_generated_one() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/stenograph.h"));
        let committed = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../include/stenograph.h"
        ))
        .unwrap_or_default();
        assert!(
            generated == committed,
            "include/stenograph.h differs from what cbindgen generates: run \
             STENOGRAPH_WRITE_HEADER=1 cargo build -p stenograph-c and commit it"
        );
    }
}
