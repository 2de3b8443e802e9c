//! The transcriber with the real tiny.en: accuracy over voices, formats, concurrency,
//! cancellation, progress and segment callbacks, timestamps across windows, argument errors.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::speech::speak;
use common::{dir, ffmpeg};
use stenograph::audio::Audio;
use stenograph::testing::eval::{wer, words};
use stenograph::transcribe::{CancelToken, Task, TranscribeOptions, Transcriber};
use stenograph::Device;
use stenograph::Error;

/// Sentences of the accuracy set: everyday call-centre speech, no numbers or names.
const SENTENCES: [&str; 8] = [
    "Please call the customer back before noon tomorrow.",
    "The meeting has been moved to Thursday afternoon.",
    "I would like to cancel my subscription and get a refund.",
    "Can you send me the invoice for last month again?",
    "Our sales team closed more deals this quarter than last year.",
    "The package was delivered to the wrong address yesterday.",
    "Thank you for calling, how can I help you today?",
    "We need to update the contract before the end of the week.",
];
const VOICES: [&str; 3] = ["en-us", "en-gb", "en-us+f3"];

fn transcriber() -> &'static Transcriber {
    static T: OnceLock<Transcriber> = OnceLock::new();
    T.get_or_init(|| Transcriber::builder().model("tiny.en").build().unwrap())
}

fn clip(voice: &str, i: usize) -> PathBuf {
    // Tests run in parallel and share clips: one writer at a time.
    static MAKING: Mutex<()> = Mutex::new(());
    let _guard = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let name = format!("{}-{i}", voice.replace('+', "_"));
    let path = dir().join(format!("{name}.wav"));
    if path.exists() {
        return path;
    }
    speak(dir(), voice, SENTENCES[i], &name)
}

/// Held by tests whose timing a long neighbour on the two cores would distort.
static TIMING: Mutex<()> = Mutex::new(());

#[test]
fn accuracy_over_voices() {
    let t = transcriber();
    let mut pairs = Vec::new();
    for voice in VOICES {
        for (i, text) in SENTENCES.iter().enumerate() {
            let tr = t
                .transcribe_file(clip(voice, i), &TranscribeOptions::default())
                .unwrap();
            pairs.push((*text, tr.text));
        }
    }
    let w = wer(pairs.iter().map(|(r, h)| (*r, h.as_str())));
    for (r, h) in &pairs {
        if words(r) != words(h) {
            eprintln!("ref: {r}\nhyp: {h}");
        }
    }
    eprintln!("WER over {} clips: {:.1}%", pairs.len(), w * 100.0);
    assert!(w <= 0.10, "WER {:.1}%", w * 100.0);
}

#[test]
fn formats_give_the_same_text() {
    let t = transcriber();
    let wav = clip("en-us", 2);
    let reference = t
        .transcribe_file(&wav, &TranscribeOptions::default())
        .unwrap();
    for (ext, args) in [
        ("flac", vec![]),
        ("mp3", vec!["-b:a", "64k"]),
        ("ogg", vec!["-c:a", "libvorbis"]),
        ("opus", vec!["-c:a", "libopus", "-b:a", "32k"]),
        ("m4a", vec!["-c:a", "aac"]),
    ] {
        let path = dir().join(format!("formats.{ext}"));
        ffmpeg(&wav, &path, &args);
        let tr = t
            .transcribe_file(&path, &TranscribeOptions::default())
            .unwrap();
        assert_eq!(words(&tr.text), words(&reference.text), "{ext}");
    }
}

#[test]
fn concurrent_calls_match_sequential_ones() {
    let t = Transcriber::builder()
        .model("tiny.en")
        .max_concurrent(4)
        .build()
        .unwrap();
    let files: Vec<PathBuf> = (0..5).map(|i| clip("en-gb", i)).collect();
    let audio: Vec<Audio> = files.iter().map(|f| Audio::from_path(f).unwrap()).collect();
    let sequential: Vec<String> = audio
        .iter()
        .map(|a| t.transcribe(a, &TranscribeOptions::default()).unwrap().text)
        .collect();
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for worker in 0..4 {
            let (t, audio, results) = (t.clone(), &audio, &results);
            s.spawn(move || {
                for (i, a) in audio.iter().enumerate() {
                    let text = t.transcribe(a, &TranscribeOptions::default()).unwrap().text;
                    results.lock().unwrap().push((worker, i, text));
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    assert_eq!(results.len(), 20);
    for (worker, i, text) in results {
        assert_eq!(text, sequential[i], "worker {worker}, file {i}");
    }
}

#[test]
fn no_text_carries_over_between_calls() {
    let t = Transcriber::builder()
        .model("tiny.en")
        .max_concurrent(1)
        .build()
        .unwrap();
    let b = Audio::from_path(clip("en-us+f3", 4)).unwrap();
    let fresh = t
        .transcribe(&b, &TranscribeOptions::default())
        .unwrap()
        .text;
    // The single pooled state decodes other speech, with a prompt, in between.
    let a = Audio::from_path(clip("en-us", 5)).unwrap();
    let mut primed = TranscribeOptions::default();
    primed.initial_prompt = Some("Quarterly revenue, churn, renewals.".into());
    t.transcribe(&a, &primed).unwrap();
    let after = t
        .transcribe(&b, &TranscribeOptions::default())
        .unwrap()
        .text;
    assert_eq!(after, fresh);
}

#[test]
fn the_initial_prompt_steers_the_style_of_the_transcript() {
    let t = transcriber();
    let audio = Audio::from_path(clip("en-us", 0)).unwrap();
    let plain = t
        .transcribe(&audio, &TranscribeOptions::default())
        .unwrap()
        .text;
    assert!(
        plain.starts_with("Please") && plain.ends_with('.'),
        "{plain}"
    );
    // Whisper continues the style of its prompt: lower case, no punctuation.
    let mut styled = TranscribeOptions::default();
    styled.initial_prompt = Some("i talk in lowercase with no punctuation at all ok".into());
    let text = t.transcribe(&audio, &styled).unwrap().text;
    assert_eq!(text, text.to_lowercase(), "{text}");
    assert!(!text.contains('.'), "{text}");
    assert!(wer([(SENTENCES[0], text.as_str())]) < 0.2, "{text}");
    // A beam wider than whisper.cpp decodes is refused up front.
    let mut wide = TranscribeOptions::default();
    wide.decoding = stenograph::transcribe::Decoding::Beam(9);
    let err = t.transcribe(&audio, &wide).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}

/// About a minute of speech: the sentences one after another, with pauses.
fn long_speech() -> (Vec<f32>, Vec<(usize, f64)>) {
    let mut samples = Vec::new();
    let mut starts = Vec::new();
    for (voice, i) in VOICES
        .iter()
        .flat_map(|v| (0..SENTENCES.len()).map(move |i| (*v, i)))
        .take(16)
    {
        let audio = Audio::from_path(clip(voice, i)).unwrap();
        starts.push((i, samples.len() as f64 / 16_000.0));
        samples.extend_from_slice(audio.samples());
        samples.extend(std::iter::repeat_n(0.0, 8_000));
    }
    (samples, starts)
}

#[test]
fn timestamps_hold_across_30_second_windows() {
    let (samples, starts) = long_speech();
    let duration = samples.len() as f64 / 16_000.0;
    assert!(duration > 60.0, "{duration}");
    let mut opts = TranscribeOptions::default();
    opts.word_timestamps = true;
    let tr = transcriber().transcribe_samples(&samples, &opts).unwrap();
    assert!((tr.duration - duration).abs() < 1e-9);
    let mut last = 0.0;
    for s in &tr.segments {
        assert!(
            s.start >= last - 0.5 && s.end >= s.start && s.end <= duration,
            "{s:?}"
        );
        last = s.start;
    }
    // Each sentence's first word is found within 2 s of where it was placed.
    let all_words: Vec<_> = tr.segments.iter().flat_map(|s| &s.words).collect();
    let mut found = 0;
    for (i, start) in &starts {
        let first = words(SENTENCES[*i])[0].clone();
        if all_words
            .iter()
            .any(|w| words(&w.word).first() == Some(&first) && (w.start - start).abs() < 2.0)
        {
            found += 1;
        }
    }
    for s in &tr.segments {
        eprintln!("{:7.2} {:7.2} {}", s.start, s.end, s.text);
    }
    eprintln!("sentence starts: {starts:?}");
    assert!(
        found * 10 >= starts.len() * 8,
        "{found} of {} sentence starts placed",
        starts.len()
    );
}

#[test]
fn speech_joined_across_long_pauses_keeps_its_own_times() {
    // Sentences parted by 3–9 s of silence: the decoder gets their speech back to back in one
    // window, and every time must come back to where the words were said.
    let pauses = [3.0, 9.0, 5.0, 7.0, 4.0, 8.0];
    let mut samples = vec![0.0f32; 16_000];
    let mut placed = Vec::new();
    for (n, pause) in pauses.iter().enumerate() {
        let audio = Audio::from_path(clip("en-us", n)).unwrap();
        let start = samples.len() as f64 / 16_000.0;
        samples.extend_from_slice(audio.samples());
        placed.push((n, start, samples.len() as f64 / 16_000.0));
        samples.extend(std::iter::repeat_n(0.0, (pause * 16_000.0) as usize));
    }
    let mut opts = TranscribeOptions::default();
    opts.word_timestamps = true;
    let tr = transcriber().transcribe_samples(&samples, &opts).unwrap();
    for s in &tr.segments {
        eprintln!("{:7.2} {:7.2} {}", s.start, s.end, s.text);
    }
    eprintln!("placed: {placed:?}");
    let all_words: Vec<_> = tr.segments.iter().flat_map(|s| &s.words).collect();
    // No word is placed in a pause (the edges of speech get 0.4 s of slack).
    for w in &all_words {
        assert!(w.end >= w.start, "{w:?}");
        let mid = (w.start + w.end) / 2.0;
        assert!(
            placed
                .iter()
                .any(|&(_, a, b)| mid > a - 0.4 && mid < b + 0.4),
            "{w:?} lies in a pause; placed {placed:?}"
        );
    }
    // Every sentence is found, its first word where it was said.
    for &(n, start, end) in &placed {
        let first = words(SENTENCES[n])[0].clone();
        let w = all_words
            .iter()
            .find(|w| words(&w.word).first() == Some(&first) && w.start > start - 1.0)
            .unwrap_or_else(|| panic!("sentence {n} not found"));
        assert!(
            (w.start - start).abs() < 0.6 && w.start < end,
            "sentence {n} starts at {} not {start}",
            w.start
        );
    }
    let mut last = 0.0;
    for s in &tr.segments {
        assert!(s.start >= last - 1e-9 && s.end >= s.start, "{s:?}");
        last = s.end;
    }
    let heard: Vec<_> = placed.iter().map(|&(n, _, _)| SENTENCES[n]).collect();
    assert!(
        wer([(heard.join(" ").as_str(), tr.text.as_str())]) < 0.15,
        "{}",
        tr.text
    );
}

#[test]
fn cancellation_stops_within_about_a_second() {
    let _quiet = TIMING.lock().unwrap_or_else(|e| e.into_inner());
    // About 4.6 minutes: still being decoded when the token is cancelled at 1.5 s.
    let samples = long_speech().0.repeat(4);
    let token = CancelToken::new();
    let mut opts = TranscribeOptions::default();
    opts.cancel = Some(token.clone());
    let cancelled_at = Arc::new(Mutex::new(None));
    let (tok, at) = (token.clone(), cancelled_at.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        *at.lock().unwrap() = Some(Instant::now());
        tok.cancel();
    });
    let start = Instant::now();
    let result = transcriber().transcribe_samples(&samples, &opts);
    let returned = Instant::now();
    canceller.join().unwrap();
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    let latency = returned - cancelled_at.lock().unwrap().unwrap();
    eprintln!(
        "cancelled after {:?}, returned {latency:?} later",
        start.elapsed() - latency
    );
    assert!(latency < Duration::from_millis(300), "{latency:?}");

    // Files and streams return at once: the pass in progress finishes in the background.
    let path = dir().join("cancel-long.wav");
    Audio::from_pcm_f32(samples.clone(), 16_000, 1)
        .unwrap()
        .write_wav(
            std::io::BufWriter::new(std::fs::File::create(&path).unwrap()),
            stenograph::audio::WavFormat::Pcm16,
        )
        .unwrap();
    let token = CancelToken::new();
    let mut file_opts = TranscribeOptions::default();
    file_opts.cancel = Some(token.clone());
    let tok = token.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        tok.cancel();
        Instant::now()
    });
    let result = transcriber().transcribe_file(&path, &file_opts);
    let returned = Instant::now();
    let latency = returned - canceller.join().unwrap();
    eprintln!("file call returned {latency:?} after cancel()");
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert!(latency < Duration::from_millis(300), "{latency:?}");
    // The pass still running behind the returned call ends, and wait_background sees it.
    let waited = Instant::now();
    transcriber().wait_background();
    eprintln!(
        "background work ended {:?} after the call returned",
        waited.elapsed()
    );
    assert!(waited.elapsed() < Duration::from_secs(60));

    // A token cancelled before the call stops it at once.
    let err = transcriber()
        .transcribe_samples(&samples, &opts)
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled));
}

#[test]
fn progress_and_segment_callbacks() {
    let (samples, _) = long_speech();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let segments = Arc::new(Mutex::new(Vec::new()));
    let (p, s) = (progress.clone(), segments.clone());
    let mut opts = TranscribeOptions::default();
    opts.on_progress = Some(Arc::new(move |v| p.lock().unwrap().push(v)));
    opts.on_segment = Some(Arc::new(move |seg| s.lock().unwrap().push(seg.clone())));
    let tr = transcriber()
        .transcribe_samples(&samples[..16_000 * 40], &opts)
        .unwrap();
    let progress = progress.lock().unwrap();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&100));
    assert!(progress.len() > 2);
    assert_eq!(*segments.lock().unwrap(), tr.segments);
}

/// Fixtures with no speech at all: digital silence, white and pink noise, a tone, a chord, a
/// plucked melody (sox), and low-level hum with clicks.
#[test]
fn no_speech_gives_no_text() {
    let t = transcriber();
    let synth: [(&str, &[&str]); 6] = [
        ("silence", &["trim", "0", "10"]),
        ("white", &["synth", "10", "whitenoise", "vol", "0.3"]),
        ("pink", &["synth", "10", "pinknoise", "vol", "0.3"]),
        ("tone", &["synth", "10", "sine", "440", "vol", "0.3"]),
        (
            "chord",
            &[
                "synth", "10", "sine", "261.6", "sine", "329.6", "sine", "392", "remix", "-",
            ],
        ),
        (
            "melody",
            &[
                "synth", "1", "pluck", "C4", ":", "synth", "1", "pluck", "E4", ":", "synth", "1",
                "pluck", "G4", ":", "synth", "2", "pluck", "C5",
            ],
        ),
    ];
    for (name, effects) in synth {
        let path = dir().join(format!("nospeech-{name}.wav"));
        let mut args = vec!["-n", "-r", "16000", "-c", "1", path.to_str().unwrap()];
        args.extend_from_slice(effects);
        common::run("sox", &args);
        let tr = t
            .transcribe_file(&path, &TranscribeOptions::default())
            .unwrap();
        assert_eq!(tr.text, "", "{name}: {:?}", tr.segments);
        assert!(tr.segments.is_empty(), "{name}");
    }
    // Speech between long silences keeps its place on the timeline.
    let speech = Audio::from_path(clip("en-us", 1)).unwrap();
    let mut samples = vec![0.0f32; 16_000 * 20];
    samples.extend_from_slice(speech.samples());
    samples.extend(std::iter::repeat_n(0.0, 16_000 * 20));
    let tr = t
        .transcribe_samples(&samples, &TranscribeOptions::default())
        .unwrap();
    assert!(tr.text.contains("Thursday"), "{}", tr.text);
    assert!(
        (tr.segments[0].start - 20.0).abs() < 1.0,
        "{:?}",
        tr.segments[0]
    );
    assert!(tr.segments.last().unwrap().end < 20.0 + speech.duration_seconds() + 1.0);
}

#[test]
fn argument_errors() {
    let t = transcriber();
    let audio = Audio::from_path(clip("en-us", 0)).unwrap();
    let mut german = TranscribeOptions::default();
    german.language = Some("de".into());
    let err = t.transcribe(&audio, &german).unwrap_err();
    assert!(err.to_string().contains("English-only"), "{err}");
    let mut translate = TranscribeOptions::default();
    translate.task = Task::Translate;
    assert!(matches!(
        t.transcribe(&audio, &translate),
        Err(Error::InvalidArgument(_))
    ));
    let mut hot = TranscribeOptions::default();
    hot.temperature = 1.5;
    let err = t.transcribe(&audio, &hot).unwrap_err();
    assert!(err.to_string().contains("temperature"), "{err}");
    for (language, prompt) in [(Some("e\0n"), None), (None, Some("Acme\0 Corp"))] {
        let mut nul = TranscribeOptions::default();
        nul.language = language.map(String::from);
        nul.initial_prompt = prompt.map(String::from);
        let err = t.transcribe(&audio, &nul).unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
    }

    let err = Transcriber::builder()
        .device(Device::Gpu(0))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Device(_)), "{err}");
    assert!(err.to_string().contains("no GPU back end"), "{err}");

    let empty = t
        .transcribe_samples(&[], &TranscribeOptions::default())
        .unwrap();
    assert!(empty.text.is_empty() && empty.segments.is_empty());
}

/// Every clip of the accuracy set in one batch, plus silence, an empty input and a clip that
/// starts after 3 s of silence: one transcript per input, in order, each on its own timeline.
#[test]
fn batch_packs_clips_and_keeps_each_on_its_own_timeline() {
    let _quiet = TIMING.lock().unwrap_or_else(|e| e.into_inner());
    let t = transcriber();
    let mut inputs: Vec<Vec<f32>> = Vec::new();
    let mut refs: Vec<&str> = Vec::new();
    for voice in VOICES {
        for (i, text) in SENTENCES.iter().enumerate() {
            inputs.push(Audio::from_path(clip(voice, i)).unwrap().into_samples());
            refs.push(text);
        }
    }
    let n = inputs.len();
    let late = {
        let mut s = vec![0.0f32; 48_000];
        s.extend_from_slice(&inputs[1]);
        s
    };
    inputs.push(vec![0.0; 5 * 16_000]);
    inputs.push(Vec::new());
    inputs.push(late);
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let mut opts = TranscribeOptions::default();
    opts.word_timestamps = true;
    opts.on_progress = Some(Arc::new(move |p| seen.lock().unwrap().push(p)));
    let out = t.transcribe_batch(&inputs, &opts).unwrap();
    assert_eq!(out.len(), inputs.len());

    let w = wer(refs
        .iter()
        .copied()
        .zip(out[..n].iter().map(|t| t.text.as_str())));
    for (r, tr) in refs.iter().zip(&out) {
        if words(r) != words(&tr.text) {
            eprintln!("ref: {r}\nhyp: {}", tr.text);
        }
    }
    eprintln!("batch WER over {n} clips: {:.1}%", w * 100.0);
    assert!(w <= 0.10, "WER {:.1}%", w * 100.0);
    for (tr, samples) in out.iter().zip(&inputs) {
        let duration = samples.len() as f64 / 16_000.0;
        assert!((tr.duration - duration).abs() < 1e-6);
        assert_eq!(tr.language, "en");
        for (id, s) in tr.segments.iter().enumerate() {
            assert_eq!(s.id, id);
            assert!(
                0.0 <= s.start && s.start <= s.end && s.end <= duration + 1e-6,
                "{s:?}"
            );
            for word in &s.words {
                assert!(
                    s.start - 1e-6 <= word.start && word.end <= s.end + 0.5,
                    "{word:?}"
                );
            }
        }
        let text: String = tr.segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(text.trim(), tr.text);
    }
    assert_eq!(out[n].text, "", "silence");
    assert_eq!(out[n + 1].text, "", "empty input");
    assert_eq!(out[n + 1].duration, 0.0);
    // Sentence 1 of the first voice again, after 3 s of silence: same words, 3 s later.
    assert_eq!(words(&out[n + 2].text), words(&out[1].text));
    let (first, shifted) = (&out[1].segments[0], &out[n + 2].segments[0]);
    assert!(
        (shifted.start - first.start - 3.0).abs() < 0.5,
        "{} vs {}",
        shifted.start,
        first.start
    );
    let progress = progress.lock().unwrap();
    assert_eq!(progress.last(), Some(&100));
    assert!(progress.windows(2).all(|p| p[0] <= p[1]), "{progress:?}");
}

/// Options that rule packing out still give one transcript per input; `on_segment` is refused.
#[test]
fn batch_without_packing_and_its_errors() {
    let t = transcriber();
    let inputs: Vec<Audio> = (0..3)
        .map(|i| Audio::from_path(clip("en-gb", i)).unwrap())
        .collect();
    let mut opts = TranscribeOptions::default();
    opts.vad = false;
    let out = t.transcribe_batch(&inputs, &opts).unwrap();
    for (a, tr) in inputs.iter().zip(&out) {
        assert_eq!(tr.text, t.transcribe(a, &opts).unwrap().text);
    }
    let none: [Vec<f32>; 0] = [];
    assert!(t.transcribe_batch(&none, &opts).unwrap().is_empty());
    let mut with_callback = TranscribeOptions::default();
    with_callback.on_segment = Some(Arc::new(|_| {}));
    assert!(matches!(
        t.transcribe_batch(&inputs, &with_callback),
        Err(Error::InvalidArgument(_))
    ));
    let cancel = CancelToken::new();
    cancel.cancel();
    let mut cancelled = TranscribeOptions::default();
    cancelled.cancel = Some(cancel);
    assert!(matches!(
        t.transcribe_batch(&inputs, &cancelled),
        Err(Error::Cancelled)
    ));
}

/// A cancel token that is never cancelled changes nothing: every call completes with the
/// text of a call without one (whisper.cpp polls it during every encoder and decoder pass).
#[test]
fn an_idle_cancel_token_never_aborts() {
    let t = transcriber();
    let audio = Audio::from_path(clip("en-us", 1)).unwrap();
    for vad in [true, false] {
        let mut plain = TranscribeOptions::default();
        plain.vad = vad;
        let expected = t.transcribe(&audio, &plain).unwrap().text;
        for _ in 0..6 {
            let mut with_token = TranscribeOptions::default();
            with_token.vad = vad;
            with_token.cancel = Some(CancelToken::new());
            assert_eq!(t.transcribe(&audio, &with_token).unwrap().text, expected);
        }
    }
}

#[test]
fn a_cut_off_file_says_so_in_its_transcript() {
    use stenograph::audio::{AudioSource, AudioStream, DecodeOptions, Warning};
    let mp3 = dir().join("cut-source.mp3");
    ffmpeg(&clip("en-us", 0), &mp3, &["-b:a", "64k"]);
    let bytes = std::fs::read(&mp3).unwrap();
    let cut = bytes[..bytes.len() / 2].to_vec();
    let opts = TranscribeOptions::default();
    let stream = AudioStream::open(
        AudioSource::from_bytes(cut.clone()),
        &DecodeOptions::default(),
    )
    .unwrap();
    let t = transcriber().transcribe_stream(stream, &opts).unwrap();
    assert!(
        matches!(t.warnings.as_slice(), [Warning::Truncated { .. }]),
        "{:?}",
        t.warnings
    );
    let json: serde_json::Value = serde_json::to_value(&t).unwrap();
    assert_eq!(json["warnings"][0]["kind"], "truncated", "{json}");
    let audio = Audio::from_bytes(cut).unwrap();
    let t = transcriber().transcribe(&audio, &opts).unwrap();
    assert_eq!(t.warnings.len(), 1);
    // A whole file has none, and none are serialised.
    let t = transcriber()
        .transcribe(&Audio::from_path(&mp3).unwrap(), &opts)
        .unwrap();
    assert!(t.warnings.is_empty());
    assert!(serde_json::to_value(&t).unwrap().get("warnings").is_none());
}

#[test]
fn watched_calls_stop_on_an_interrupt_and_wait_only_when_asked() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use stenograph::transcribe::OnCancel;
    let t = transcriber();
    for on_cancel in [OnCancel::Return, OnCancel::WaitForWork] {
        let token = CancelToken::new();
        let stopped = Arc::new(AtomicBool::new(false));
        let mut polls = 0;
        let started = Instant::now();
        let work = {
            let (token, stopped) = (token.clone(), stopped.clone());
            move |_: &Transcriber| -> stenograph::Result<()> {
                while !token.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(2));
                }
                // Winding down takes a while, as an encoder pass would.
                std::thread::sleep(Duration::from_millis(300));
                stopped.store(true, Ordering::SeqCst);
                Ok(())
            }
        };
        let interrupt = || {
            polls += 1;
            polls >= 3
        };
        let out = t.run_watched(&token, on_cancel, interrupt, work);
        assert!(matches!(out, Err(Error::Cancelled)), "{out:?}");
        assert!(token.is_cancelled());
        let waited = stopped.load(Ordering::SeqCst);
        match on_cancel {
            OnCancel::Return => {
                assert!(!waited, "returned only after the work stopped");
                assert!(started.elapsed() < Duration::from_millis(250));
            }
            OnCancel::WaitForWork => assert!(waited, "returned before the work stopped"),
        }
        t.wait_background();
        assert!(stopped.load(Ordering::SeqCst));
    }
    // Without an interrupt the work's own result comes back.
    let token = CancelToken::new();
    let out = t.run_watched(&token, OnCancel::Return, || false, |_| Ok(42));
    assert_eq!(out.unwrap(), 42);
}
