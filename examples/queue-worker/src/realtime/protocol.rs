//! OpenAI's Realtime transcription protocol: a session's settings as `session.update` (the
//! current shape) and `transcription_session.update` (the earlier one) carry them, and the
//! server events this service sends, in OpenAI's shapes.

use serde_json::{json, Map, Value};

/// The interim transcript event's type, and the `include` entry that asks for it: after every
/// partial decode that changes what was heard, the turn so far, the words sent as deltas
/// (never taken back) and those heard after them (a later event may change them).
pub const INTERIM: &str = "stenograph.input_audio_transcription.interim";
/// OpenAI's `include` entry for token log-probabilities: taken, but none are sent.
const INCLUDE_LOGPROBS: &str = "item.input_audio_transcription.logprobs";

/// Audio encodings a session takes in `input_audio_buffer.append`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit little-endian PCM, mono, 24 kHz.
    Pcm16,
    /// G.711 μ-law, 8 kHz.
    Pcmu,
    /// G.711 A-law, 8 kHz.
    Pcma,
}

impl Encoding {
    /// Samples per second.
    pub fn rate(self) -> u32 {
        match self {
            Encoding::Pcm16 => 24_000,
            Encoding::Pcmu | Encoding::Pcma => 8_000,
        }
    }

    fn current_name(self) -> &'static str {
        match self {
            Encoding::Pcm16 => "audio/pcm",
            Encoding::Pcmu => "audio/pcmu",
            Encoding::Pcma => "audio/pcma",
        }
    }

    fn earlier_name(self) -> &'static str {
        match self {
            Encoding::Pcm16 => "pcm16",
            Encoding::Pcmu => "g711_ulaw",
            Encoding::Pcma => "g711_alaw",
        }
    }
}

/// Server-side turn detection.
#[derive(Clone, Debug, PartialEq)]
pub struct Vad {
    /// `server_vad` or `semantic_vad` (served as server VAD with a silence from its eagerness).
    pub kind: String,
    /// Speech probability that starts a turn.
    pub threshold: f32,
    /// Audio kept before the start of speech.
    pub prefix_padding_ms: u32,
    /// Silence that ends a turn.
    pub silence_duration_ms: u32,
    /// `semantic_vad`'s eagerness, echoed back.
    pub eagerness: Option<String>,
}

impl Default for Vad {
    fn default() -> Self {
        Vad {
            kind: "server_vad".into(),
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
            eagerness: None,
        }
    }
}

/// A session's effective settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Input encoding.
    pub encoding: Encoding,
    /// The transcription model the client named (every name is served by this process's model).
    pub model: String,
    /// Spoken language (ISO 639-1), if given.
    pub language: Option<String>,
    /// Languages detection chooses from (Stenograph's extension; none: any).
    pub languages: Vec<String>,
    /// Text that primes the decoder.
    pub prompt: Option<String>,
    /// Turn detection; `None`: the client commits each turn.
    pub vad: Option<Vad>,
    /// The session's `include` entries, as the client sent them.
    pub include: Vec<String>,
}

impl Settings {
    /// Whether the client asked for interim transcripts ([`INTERIM`]).
    pub fn interim(&self) -> bool {
        self.include.iter().any(|i| i == INTERIM)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            encoding: Encoding::Pcm16,
            model: "whisper-1".into(),
            language: None,
            languages: Vec::new(),
            prompt: None,
            vad: Some(Vad::default()),
            include: Vec::new(),
        }
    }
}

/// A setting the client sent that cannot be used: the message and the parameter's path.
#[derive(Debug, PartialEq)]
pub struct BadSetting {
    /// Machine-readable code.
    pub code: &'static str,
    /// What is wrong and what is taken.
    pub message: String,
    /// Where in the event, e.g. `session.audio.input.format.rate`.
    pub param: String,
}

fn bad(code: &'static str, param: &str, message: impl Into<String>) -> BadSetting {
    BadSetting {
        code,
        message: message.into(),
        param: param.to_string(),
    }
}

/// Which protocol shape a client used for its update (answered in the same shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `session.update` / `session.updated`.
    Current,
    /// `transcription_session.update` / `transcription_session.updated`.
    Earlier,
}

impl Settings {
    /// Applies a `session` object of `shape`: fields present are changed, absent ones kept,
    /// `turn_detection: null` turns server VAD off. Nothing is changed when a field is bad.
    pub fn update(&self, session: &Value, shape: Shape) -> Result<Settings, BadSetting> {
        let session = session
            .as_object()
            .ok_or_else(|| bad("invalid_value", "session", "session must be an object"))?;
        let mut next = self.clone();
        let (prefix, format, transcription, turn) = match shape {
            Shape::Current => {
                if let Some(kind) = session.get("type") {
                    if kind != "transcription" {
                        return Err(bad(
                            "invalid_value",
                            "session.type",
                            "this endpoint serves transcription sessions: session.type must be 'transcription'",
                        ));
                    }
                }
                let input = match session.get("audio").and_then(|a| a.get("input")) {
                    Some(Value::Object(i)) => Some(i),
                    None | Some(Value::Null) => None,
                    Some(_) => {
                        return Err(bad(
                            "invalid_value",
                            "session.audio.input",
                            "session.audio.input must be an object",
                        ))
                    }
                };
                (
                    "session.audio.input.",
                    input.and_then(|i| i.get("format")),
                    input.and_then(|i| i.get("transcription")),
                    input.and_then(|i| i.get("turn_detection")),
                )
            }
            Shape::Earlier => (
                "session.",
                session.get("input_audio_format"),
                session.get("input_audio_transcription"),
                session.get("turn_detection"),
            ),
        };
        if let Some(f) = format {
            let param = match shape {
                Shape::Current => "session.audio.input.format",
                Shape::Earlier => "session.input_audio_format",
            };
            next.encoding = parse_format(f, shape, param)?;
        }
        if let Some(t) = transcription {
            let param = match shape {
                Shape::Current => "session.audio.input.transcription",
                Shape::Earlier => "session.input_audio_transcription",
            };
            apply_transcription(&mut next, t, param)?;
        }
        if let Some(t) = turn {
            next.vad = parse_turn_detection(t, &format!("{prefix}turn_detection"))?;
        }
        if let Some(i) = session.get("include") {
            next.include = parse_include(i)?;
        }
        Ok(next)
    }

    /// The session object in `shape`, as `session.created` / `*.updated` carry it.
    pub fn to_json(&self, id: &str, shape: Shape) -> Value {
        let mut transcription = json!({
            "model": self.model,
            "language": self.language,
            "prompt": self.prompt,
        });
        if !self.languages.is_empty() {
            transcription["languages"] = json!(self.languages);
        }
        let turn = self.vad.as_ref().map(|v| {
            let mut t = json!({
                "type": v.kind,
                "threshold": v.threshold,
                "prefix_padding_ms": v.prefix_padding_ms,
                "silence_duration_ms": v.silence_duration_ms,
            });
            if let Some(e) = &v.eagerness {
                t["eagerness"] = json!(e);
            }
            t
        });
        match shape {
            Shape::Current => {
                let mut format = json!({ "type": self.encoding.current_name() });
                if self.encoding == Encoding::Pcm16 {
                    format["rate"] = json!(24_000);
                }
                json!({
                    "type": "transcription",
                    "object": "realtime.transcription_session",
                    "id": id,
                    "audio": {"input": {
                        "format": format,
                        "transcription": transcription,
                        "turn_detection": turn,
                        "noise_reduction": null,
                    }},
                    "include": self.include_json(),
                })
            }
            Shape::Earlier => json!({
                "object": "realtime.transcription_session",
                "id": id,
                "input_audio_format": self.encoding.earlier_name(),
                "input_audio_transcription": transcription,
                "turn_detection": turn,
                "input_audio_noise_reduction": null,
                "modalities": ["text"],
                "include": self.include_json(),
            }),
        }
    }
}

impl Settings {
    fn include_json(&self) -> Value {
        if self.include.is_empty() {
            Value::Null
        } else {
            json!(self.include)
        }
    }
}

fn parse_include(v: &Value) -> Result<Vec<String>, BadSetting> {
    let wrong = || {
        bad(
            "invalid_value",
            "session.include",
            format!("include must be null or a list of '{INTERIM}' and '{INCLUDE_LOGPROBS}'"),
        )
    };
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => {
            let mut out: Vec<String> = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(i @ (INTERIM | INCLUDE_LOGPROBS)) => {
                        if !out.iter().any(|o| o == i) {
                            out.push(i.to_string());
                        }
                    }
                    _ => return Err(wrong()),
                }
            }
            Ok(out)
        }
        _ => Err(wrong()),
    }
}

fn parse_format(f: &Value, shape: Shape, param: &str) -> Result<Encoding, BadSetting> {
    let name = match (shape, f) {
        (Shape::Current, Value::Object(o)) => {
            if let Some(rate) = o.get("rate").filter(|r| !r.is_null()) {
                let kind = o.get("type").and_then(Value::as_str).unwrap_or("audio/pcm");
                if kind == "audio/pcm" && rate.as_u64() != Some(24_000) {
                    return Err(bad(
                        "invalid_value",
                        &format!("{param}.rate"),
                        format!("audio/pcm is taken at 24000 Hz only, not {rate}"),
                    ));
                }
            }
            o.get("type").and_then(Value::as_str).unwrap_or("audio/pcm")
        }
        (_, Value::String(s)) => s.as_str(),
        _ => return Err(bad(
            "invalid_value",
            param,
            "format must be {\"type\": \"audio/pcm\", \"rate\": 24000}, audio/pcmu or audio/pcma",
        )),
    };
    match name {
        "audio/pcm" | "pcm16" => Ok(Encoding::Pcm16),
        "audio/pcmu" | "g711_ulaw" => Ok(Encoding::Pcmu),
        "audio/pcma" | "g711_alaw" => Ok(Encoding::Pcma),
        other => Err(bad(
            "invalid_value",
            param,
            format!(
                "audio format '{other}' is not taken: audio/pcm (pcm16, 24 kHz), audio/pcmu \
                 (g711_ulaw) or audio/pcma (g711_alaw)"
            ),
        )),
    }
}

fn apply_transcription(next: &mut Settings, t: &Value, param: &str) -> Result<(), BadSetting> {
    let t = match t {
        Value::Null => return Ok(()),
        Value::Object(t) => t,
        _ => {
            return Err(bad(
                "invalid_value",
                param,
                format!("{param} must be an object"),
            ))
        }
    };
    let text = |key: &str| -> Result<Option<Option<String>>, BadSetting> {
        match t.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()).filter(|s| !s.is_empty()))),
            Some(_) => Err(bad(
                "invalid_value",
                &format!("{param}.{key}"),
                format!("{param}.{key} must be a string"),
            )),
        }
    };
    if let Some(m) = text("model")? {
        next.model = m.unwrap_or_else(|| "whisper-1".into());
    }
    if let Some(l) = text("language")? {
        next.language = stenograph::transcribe::language(l.as_deref())
            .map_err(|e| bad("invalid_value", &format!("{param}.language"), e.to_string()))?;
    }
    if let Some(p) = text("prompt")? {
        next.prompt = p;
    }
    if let Some(v) = t.get("languages") {
        let key = format!("{param}.languages");
        let codes: Option<Vec<&str>> = match v {
            Value::Null => Some(Vec::new()),
            Value::Array(items) => items.iter().map(Value::as_str).collect(),
            _ => None,
        };
        let codes = codes.ok_or_else(|| {
            bad(
                "invalid_value",
                &key,
                format!("{key} must be an array of language codes"),
            )
        })?;
        next.languages = stenograph::transcribe::language_list(&codes)
            .map_err(|e| bad("invalid_value", &key, e.to_string()))?;
    }
    Ok(())
}

fn parse_turn_detection(t: &Value, param: &str) -> Result<Option<Vad>, BadSetting> {
    let t: &Map<String, Value> = match t {
        Value::Null => return Ok(None),
        Value::Object(t) => t,
        _ => {
            return Err(bad(
                "invalid_value",
                param,
                "turn_detection must be an object or null",
            ))
        }
    };
    let kind = t
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("server_vad");
    let mut vad = Vad::default();
    match kind {
        "server_vad" => {}
        "semantic_vad" => {
            let eagerness = t.get("eagerness").and_then(Value::as_str).unwrap_or("auto");
            vad.silence_duration_ms = match eagerness {
                "low" => 1_500,
                "medium" | "auto" => 800,
                "high" => 500,
                other => {
                    return Err(bad(
                        "invalid_value",
                        &format!("{param}.eagerness"),
                        format!("eagerness '{other}': low, medium, high or auto"),
                    ))
                }
            };
            vad.kind = kind.into();
            vad.eagerness = Some(eagerness.into());
        }
        other => {
            return Err(bad(
                "invalid_value",
                &format!("{param}.type"),
                format!("turn detection '{other}': server_vad, semantic_vad or null"),
            ))
        }
    }
    let number = |key: &str| t.get(key).filter(|v| !v.is_null());
    if let Some(v) = number("threshold") {
        match v.as_f64() {
            Some(x) if (0.0..=1.0).contains(&x) => vad.threshold = (x as f32).clamp(0.01, 0.99),
            _ => {
                return Err(bad(
                    "invalid_value",
                    &format!("{param}.threshold"),
                    "threshold must be a number from 0 to 1",
                ))
            }
        }
    }
    let ms = |key: &str, range: std::ops::RangeInclusive<u64>| -> Result<Option<u32>, BadSetting> {
        match number(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(x) if range.contains(&x) => Ok(Some(x as u32)),
                _ => Err(bad(
                    "invalid_value",
                    &format!("{param}.{key}"),
                    format!(
                        "{key} must be a whole number of milliseconds from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )),
            },
        }
    };
    if let Some(v) = ms("prefix_padding_ms", 0..=2_000)? {
        vad.prefix_padding_ms = v;
    }
    if kind == "server_vad" {
        if let Some(v) = ms("silence_duration_ms", 100..=10_000)? {
            vad.silence_duration_ms = v;
        }
    }
    Ok(Some(vad))
}

/// Builds server events, each with its own `event_id`.
#[derive(Debug, Default)]
pub struct Events {
    next: u64,
    prefix: String,
}

impl Events {
    /// Event ids `event_<session>_<n>`.
    pub fn new(session: &str) -> Self {
        Events {
            next: 0,
            prefix: format!("event_{}", session.trim_start_matches("sess_")),
        }
    }

    /// An event of `kind` with `fields` added.
    pub fn make(&mut self, kind: &str, fields: Value) -> Value {
        self.next += 1;
        let mut event =
            json!({ "type": kind, "event_id": format!("{}_{}", self.prefix, self.next) });
        if let (Value::Object(e), Value::Object(f)) = (&mut event, fields) {
            e.extend(f);
        }
        event
    }

    /// An `error` event in OpenAI's shape; `client_event` is the id of the event it answers.
    pub fn error(
        &mut self,
        kind: &str,
        code: &str,
        message: &str,
        param: Option<&str>,
        client_event: Option<&str>,
    ) -> Value {
        self.make(
            "error",
            json!({"error": {
                "type": kind,
                "code": code,
                "message": message,
                "param": param,
                "event_id": client_event,
            }}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_and_earlier_updates_set_the_same_things() {
        let base = Settings::default();
        let current = base
            .update(
                &json!({"type": "transcription", "audio": {"input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": "gpt-4o-transcribe", "language": "en", "prompt": "Acme"},
                    "turn_detection": {"type": "server_vad", "threshold": 0.6, "prefix_padding_ms": 200, "silence_duration_ms": 700},
                }}}),
                Shape::Current,
            )
            .unwrap();
        let earlier = base
            .update(
                &json!({
                    "input_audio_format": "g711_ulaw",
                    "input_audio_transcription": {"model": "gpt-4o-transcribe", "language": "en", "prompt": "Acme"},
                    "turn_detection": {"type": "server_vad", "threshold": 0.6, "prefix_padding_ms": 200, "silence_duration_ms": 700},
                }),
                Shape::Earlier,
            )
            .unwrap();
        assert_eq!(current, earlier);
        assert_eq!(current.encoding, Encoding::Pcmu);
        assert_eq!(current.language.as_deref(), Some("en"));
        // Stenograph's extension: the languages detection chooses from, echoed when set.
        let among = base
            .update(
                &json!({"input_audio_transcription": {"languages": ["DE", "en"]}}),
                Shape::Earlier,
            )
            .unwrap();
        assert_eq!(among.languages, ["de", "en"]);
        let shown = among.to_json("sess", Shape::Earlier);
        assert_eq!(
            shown["input_audio_transcription"]["languages"],
            json!(["de", "en"]),
            "{shown}"
        );
        let vad = current.vad.clone().unwrap();
        assert_eq!((vad.prefix_padding_ms, vad.silence_duration_ms), (200, 700));
        assert!((vad.threshold - 0.6).abs() < 1e-6);
        // Absent fields are kept; null turn detection is manual commits.
        let manual = current
            .update(
                &json!({"audio": {"input": {"turn_detection": null}}}),
                Shape::Current,
            )
            .unwrap();
        assert_eq!(manual.vad, None);
        assert_eq!(manual.encoding, Encoding::Pcmu);
        assert_eq!(manual.prompt.as_deref(), Some("Acme"));
        // The session object echoes the settings in the client's shape.
        let shown = current.to_json("sess_1", Shape::Current);
        assert_eq!(shown["audio"]["input"]["format"]["type"], "audio/pcmu");
        assert_eq!(
            shown["audio"]["input"]["turn_detection"]["silence_duration_ms"],
            700
        );
        let shown = current.to_json("sess_1", Shape::Earlier);
        assert_eq!(shown["input_audio_format"], "g711_ulaw");
    }

    #[test]
    fn bad_settings_name_their_parameter_and_change_nothing() {
        let base = Settings::default();
        for (session, shape, param) in [
            (
                json!({"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}}),
                Shape::Current,
                "session.audio.input.format.rate",
            ),
            (
                json!({"audio": {"input": {"format": {"type": "audio/opus"}}}}),
                Shape::Current,
                "session.audio.input.format",
            ),
            (
                json!({"input_audio_format": "mp3"}),
                Shape::Earlier,
                "session.input_audio_format",
            ),
            (
                json!({"turn_detection": {"type": "server_vad", "threshold": 2}}),
                Shape::Earlier,
                "session.turn_detection.threshold",
            ),
            (
                json!({"turn_detection": {"silence_duration_ms": -5}}),
                Shape::Earlier,
                "session.turn_detection.silence_duration_ms",
            ),
            (
                json!({"turn_detection": {"type": "push_to_talk"}}),
                Shape::Earlier,
                "session.turn_detection.type",
            ),
            (
                json!({"input_audio_transcription": {"language": "klingon"}}),
                Shape::Earlier,
                "session.input_audio_transcription.language",
            ),
            (
                json!({"input_audio_transcription": {"prompt": 5}}),
                Shape::Earlier,
                "session.input_audio_transcription.prompt",
            ),
            (
                json!({"input_audio_transcription": {"languages": "en,de"}}),
                Shape::Earlier,
                "session.input_audio_transcription.languages",
            ),
            (
                json!({"input_audio_transcription": {"languages": ["en", "klingon"]}}),
                Shape::Earlier,
                "session.input_audio_transcription.languages",
            ),
            (json!({"type": "realtime"}), Shape::Current, "session.type"),
            (json!("pcm16"), Shape::Earlier, "session"),
        ] {
            let e = base.update(&session, shape).unwrap_err();
            assert_eq!(e.param, param, "{session}: {}", e.message);
        }
    }

    #[test]
    fn semantic_vad_is_served_with_a_silence_from_its_eagerness() {
        let s = Settings::default()
            .update(
                &json!({"turn_detection": {"type": "semantic_vad", "eagerness": "low"}}),
                Shape::Earlier,
            )
            .unwrap();
        assert_eq!(s.vad.unwrap().silence_duration_ms, 1_500);
    }

    #[test]
    fn errors_have_openais_shape() {
        let mut ev = Events::new("sess_abc");
        let e = ev.error(
            "invalid_request_error",
            "unknown_event",
            "no such event",
            None,
            Some("c1"),
        );
        assert_eq!(e["type"], "error");
        assert_eq!(e["error"]["code"], "unknown_event");
        assert_eq!(e["error"]["event_id"], "c1");
        assert!(e["event_id"].as_str().unwrap().starts_with("event_abc_"));
        assert_ne!(ev.make("x", json!({}))["event_id"], e["event_id"]);
    }
}
