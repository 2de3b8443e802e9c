//! Reading requests: multipart forms with a size limit and a time limit, the content check of
//! uploaded audio, and validation of the options shared by both endpoints.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::multipart::{Multipart, MultipartError};
use bytes::{Bytes, BytesMut};
use stenograph::audio::AudioSource;

use super::errors::ApiError;
use crate::db::JobOptions;

/// A multipart form: its file and its text fields (repeated names keep every value).
#[derive(Debug, Default)]
pub struct Form {
    /// The `file` part: its bytes and client-side name.
    pub file: Option<(Bytes, Option<String>)>,
    /// Text fields.
    pub fields: HashMap<String, Vec<String>>,
}

impl Form {
    /// The last value of a text field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name)?.last().map(String::as_str)
    }

    /// Every value of a field given as `name` or `name[]`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        [name.to_string(), format!("{name}[]")]
            .iter()
            .filter_map(|n| self.fields.get(n))
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

const MAX_FIELD_BYTES: usize = 64 * 1024;
/// Most parts a form may have (OpenAI's transcription form has about a dozen).
pub const MAX_PARTS: usize = 64;

/// Reads a whole form: the file up to `limit_mb`, every part within `timeout`.
pub async fn read_form(
    mut mp: Multipart,
    limit_mb: u64,
    timeout: Duration,
) -> Result<Form, ApiError> {
    let limit = (limit_mb * 1024 * 1024) as usize;
    let read = async {
        let mut form = Form::default();
        // Once a part is over its limit the rest of the form is read and discarded (up to the
        // body limit), so that the client gets the answer rather than a connection reset in
        // the middle of its upload.
        let mut refused: Option<ApiError> = None;
        let mut parts = 0;
        loop {
            let mut field = match mp.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => return Err(refused.unwrap_or_else(|| multipart_error(e, limit_mb))),
            };
            parts += 1;
            if parts > MAX_PARTS && refused.is_none() {
                refused = Some(ApiError::invalid(
                    "too_many_fields",
                    format!("the form has more than {MAX_PARTS} parts"),
                ));
            }
            if refused.is_some() {
                while let Ok(Some(_)) = field.chunk().await {}
                continue;
            }
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(clean_filename);
            let cap = if name == "file" {
                limit
            } else {
                MAX_FIELD_BYTES
            };
            let mut data = BytesMut::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| multipart_error(e, limit_mb))?
            {
                if data.len() + chunk.len() > cap {
                    refused = Some(if name == "file" {
                        ApiError::too_large(limit_mb)
                    } else {
                        ApiError::invalid(
                            "field_too_large",
                            format!("form field '{name}' is over 64 KiB"),
                        )
                    });
                    while let Ok(Some(_)) = field.chunk().await {}
                    break;
                }
                data.extend_from_slice(&chunk);
            }
            if refused.is_some() {
                continue;
            }
            if name == "file" {
                if form.file.is_some() {
                    return Err(ApiError::invalid(
                        "invalid_value",
                        "only one 'file' part is allowed",
                    )
                    .param("file"));
                }
                form.file = Some((data.freeze(), filename));
            } else {
                let text = String::from_utf8(data.to_vec()).map_err(|_| {
                    ApiError::invalid(
                        "invalid_value",
                        format!("form field '{name}' is not UTF-8 text"),
                    )
                })?;
                form.fields.entry(name).or_default().push(text);
            }
        }
        match refused {
            Some(e) => Err(e),
            None => Ok(form),
        }
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::timeout(
                "upload_timeout",
                format!(
                    "the upload did not arrive within {} s",
                    timeout.as_secs_f64()
                ),
            ))
        })
}

fn multipart_error(e: MultipartError, limit_mb: u64) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(limit_mb)
    } else {
        ApiError::invalid(
            "invalid_multipart",
            format!("malformed multipart body: {}", e.body_text()),
        )
    }
}

/// A client's file name made safe to store and show: no directories, no control characters,
/// at most 255 bytes. It is never used as a storage path.
pub fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out: String = base.chars().filter(|c| !c.is_control()).collect();
    while out.len() > 255 {
        out.pop();
    }
    out
}

/// Checks that `bytes` are audio Stenograph can read and not longer than `max_seconds`
/// (from the header, without decoding). Returns the declared length.
pub async fn check_audio(
    bytes: Bytes,
    name: &str,
    max_seconds: f64,
) -> Result<Option<f64>, ApiError> {
    if bytes.is_empty() {
        return Err(
            ApiError::invalid("empty_file", "the uploaded file is empty (0 bytes)").param("file"),
        );
    }
    let source = AudioSource::from_bytes(bytes).named(name.to_string());
    let info = tokio::task::spawn_blocking(move || stenograph::audio::probe(source))
        .await
        .map_err(|e| {
            ApiError::internal("probe_failed", format!("checking the upload failed: {e}"))
        })?
        .map_err(|e| {
            ApiError::invalid(
                "invalid_audio",
                format!("the file is not audio Stenograph can read: {e}"),
            )
            .param("file")
        })?;
    if let Some(s) = info.duration_seconds {
        if s > max_seconds {
            return Err(ApiError::invalid(
                "audio_too_long",
                format!("the audio is {s:.0} s long; the limit here is {max_seconds:.0} s"),
            )
            .param("file"));
        }
    }
    Ok(info.duration_seconds)
}

/// Options as a request gives them (form fields or JSON values).
#[derive(Clone, Copy, Debug, Default)]
pub struct Given<'a> {
    /// `language`.
    pub language: Option<&'a str>,
    /// `languages`: codes detection chooses from, separated by commas.
    pub languages: Option<&'a str>,
    /// `task`.
    pub task: Option<&'a str>,
    /// `initial_prompt` (or `prompt`).
    pub initial_prompt: Option<&'a str>,
    /// `word_timestamps`.
    pub word_timestamps: bool,
    /// `temperature`.
    pub temperature: Option<f32>,
    /// `speakers`: `channels` (one speaker per channel) or `none`.
    pub speakers: Option<&'a str>,
    /// `speaker_names`: names in channel order, separated by commas.
    pub speaker_names: Option<&'a str>,
    /// `hotwords`: terms separated by commas or new lines.
    pub hotwords: Option<&'a str>,
    /// `sound_events`: `drop`, `keep` or `suppress`.
    pub sound_events: Option<&'a str>,
}

/// Speaker names given one per item, as one comma-separated string for [`Given`]; a name
/// holding a comma is refused (it would split in two).
pub fn joined_names(names: &[impl AsRef<str>], param: &'static str) -> Result<String, ApiError> {
    if let Some(bad) = names.iter().find(|n| n.as_ref().contains(',')) {
        return Err(ApiError::invalid(
            "invalid_speaker_names",
            format!("speaker name '{}' holds a comma", bad.as_ref()),
        )
        .param(param));
    }
    Ok(names
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(","))
}

/// A core refusal of `param` as a `400` with `code` and the core's message.
pub fn refuse(code: &'static str, param: &'static str) -> impl Fn(stenograph::Error) -> ApiError {
    move |e| {
        let message = e.to_string();
        let message = message
            .strip_prefix("invalid argument: ")
            .unwrap_or(&message);
        ApiError::invalid(code, message.to_string()).param(param)
    }
}

/// Validates a request's options with the core's own checks, each refusal naming its
/// parameter; `english_only`: the served model knows only English.
pub fn options(given: Given<'_>, english_only: bool) -> Result<JobOptions, ApiError> {
    use stenograph::transcribe::{self as core, SoundEvents, Speakers, Task, TranscribeOptions};
    let language =
        core::language(given.language).map_err(refuse("invalid_language", "language"))?;
    let languages = core::languages(given.languages.unwrap_or(""))
        .map_err(refuse("invalid_language", "languages"))?;
    let speakers: Speakers = given
        .speakers
        .unwrap_or("")
        .parse()
        .map_err(refuse("invalid_speakers", "speakers"))?;
    let speaker_names = core::speaker_names(given.speaker_names.unwrap_or(""))
        .map_err(refuse("invalid_speaker_names", "speaker_names"))?;
    let hotwords = core::hotwords(given.hotwords.unwrap_or(""))
        .map_err(refuse("invalid_hotwords", "hotwords"))?;
    let sound_events = given
        .sound_events
        .filter(|s| !s.trim().is_empty())
        .map(str::parse::<SoundEvents>)
        .transpose()
        .map_err(refuse("invalid_sound_events", "sound_events"))?;
    let task: Task = given
        .task
        .filter(|t| !t.trim().is_empty())
        .map_or(Ok(Task::Transcribe), str::parse)
        .map_err(refuse("invalid_task", "task"))?;
    if english_only {
        if let Some(l) = language.as_deref().filter(|l| *l != "en") {
            return Err(ApiError::invalid(
                "unsupported_language",
                format!("the model served here is English-only; language '{l}' is not available"),
            )
            .param("language"));
        }
        if language.is_none() && !languages.is_empty() && !languages.iter().any(|l| l == "en") {
            return Err(ApiError::invalid(
                "unsupported_language",
                format!(
                    "the model served here is English-only; languages {} are not available",
                    languages.join(", ")
                ),
            )
            .param("languages"));
        }
        if task == Task::Translate {
            return Err(ApiError::invalid(
                "unsupported_task",
                "the model served here is English-only; translation needs a multilingual model",
            )
            .param("task"));
        }
    }
    let initial_prompt = given
        .initial_prompt
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let mut opts = TranscribeOptions::default();
    opts.initial_prompt = initial_prompt.clone();
    opts.validate()
        .map_err(refuse("invalid_prompt", "initial_prompt"))?;
    if let Some(t) = given.temperature {
        let mut opts = TranscribeOptions::default();
        opts.temperature = t;
        opts.validate()
            .map_err(refuse("invalid_temperature", "temperature"))?;
    }
    Ok(JobOptions {
        language,
        languages,
        task,
        initial_prompt,
        word_timestamps: given.word_timestamps,
        temperature: given.temperature,
        speakers: (speakers != Speakers::None).then(|| speakers.to_string()),
        speaker_names,
        hotwords,
        sound_events: sound_events
            .filter(|s| *s != SoundEvents::default())
            .map(|s| s.to_string()),
    })
}

/// Adds the tenant's default hotwords after the request's own, as long as the list stays
/// within the core's limits.
pub fn with_defaults(mut opts: JobOptions, defaults: &[String]) -> Result<JobOptions, ApiError> {
    if defaults.is_empty() {
        return Ok(opts);
    }
    let mut all = opts.hotwords.clone();
    all.extend_from_slice(defaults);
    opts.hotwords = stenograph::transcribe::hotword_list(&all)
        .map_err(|e| {
            let message = e.to_string();
            let message = message
                .strip_prefix("invalid argument: ")
                .unwrap_or(&message);
            stenograph::Error::InvalidArgument(format!(
                "with this API key's {} default hotwords: {message}",
                defaults.len()
            ))
        })
        .map_err(refuse("invalid_hotwords", "hotwords"))?;
    Ok(opts)
}

/// Parses a boolean form field.
pub fn boolean(value: Option<&str>, name: &'static str) -> Result<bool, ApiError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ApiError::invalid(
            "invalid_value",
            format!("{name} must be true or false, not '{other}'"),
        )
        .param(name)),
    }
}

/// Parses a number form field.
pub fn number(value: Option<&str>, name: &'static str) -> Result<Option<f32>, ApiError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<f32>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    ApiError::invalid(
                        "invalid_value",
                        format!("{name} must be a number, not '{v}'"),
                    )
                    .param(name)
                })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_directories_and_control_characters() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\calls\\a.wav"), "a.wav");
        assert_eq!(clean_filename("a\nb\u{0}.mp3"), "ab.mp3");
        assert_eq!(clean_filename(&"x".repeat(400)).len(), 255);
    }

    #[test]
    fn options_are_checked() {
        let given = |language, initial_prompt, temperature, task| Given {
            language,
            languages: None,
            task,
            initial_prompt,
            word_timestamps: false,
            temperature,
            speakers: None,
            speaker_names: None,
            hotwords: None,
            sound_events: None,
        };
        assert_eq!(
            options(given(Some("EN"), None, None, None), true)
                .unwrap()
                .language
                .as_deref(),
            Some("en")
        );
        assert_eq!(
            options(given(Some("auto"), None, None, None), false)
                .unwrap()
                .language,
            None
        );
        let code = |r: Result<JobOptions, ApiError>| format!("{:?}", r.unwrap_err());
        assert!(code(options(given(Some("de"), None, None, None), true))
            .contains("unsupported_language"));
        assert!(
            code(options(given(Some("english"), None, None, None), false))
                .contains("invalid_language")
        );
        assert!(
            code(options(given(Some("xx"), None, None, None), false)).contains("invalid_language")
        );
        assert!(
            code(options(given(None, Some("a\0b"), None, None), false)).contains("invalid_prompt")
        );
        let long = "x".repeat(5000);
        assert!(
            code(options(given(None, Some(&long), None, None), false)).contains("invalid_prompt")
        );
        assert!(code(options(given(None, None, Some(1.5), None), false))
            .contains("invalid_temperature"));
        assert!(
            code(options(given(None, None, None, Some("translate")), true))
                .contains("unsupported_task")
        );
        assert!(
            code(options(given(None, None, None, Some("dance")), false)).contains("invalid_task")
        );
        assert_eq!(
            options(given(Some("de"), None, None, Some("translate")), false)
                .unwrap()
                .task,
            stenograph::transcribe::Task::Translate
        );
        assert!(boolean(Some("yes"), "word_timestamps").is_err());
        assert!(number(Some("NaN"), "temperature").is_err());
    }
}
