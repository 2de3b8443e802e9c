//! Live transcription with the real tiny.en: turns found as audio is pushed in small pieces,
//! partial text that only grows, final text and times on the stream's timeline, long turns cut,
//! no text for silence, bounded event queues and bad pushes refused.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::dir;
use common::speech::speak;
use stenograph::testing::eval::wer;
use stenograph::transcribe::{PartialWeights, StreamEvent, StreamOptions, Transcriber, Utterance};
use stenograph::Error;

const SENTENCES: [&str; 3] = [
    "Please call the customer back before noon tomorrow.",
    "Our quarterly sales grew by twelve percent this year, and the team closed more deals than ever before.",
    "The meeting has been moved to Thursday afternoon.",
];

fn transcriber() -> &'static Transcriber {
    static T: OnceLock<Transcriber> = OnceLock::new();
    T.get_or_init(|| Transcriber::builder().model("tiny.en").build().unwrap())
}

/// espeak-ng's own output for `text` (22,050 Hz mono 16-bit): samples and rate.
fn spoken(text: &str, name: &str) -> (Vec<i16>, u32) {
    speak(dir(), "en-us", text, name);
    let raw: PathBuf = dir().join(format!("{name}-22k.wav"));
    let bytes = std::fs::read(raw).unwrap();
    let rate = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    let data = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
    let pcm = bytes[data..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    (pcm, rate)
}

/// The sentences with `pause` seconds of silence before, between and after them; where each
/// sentence starts and ends, in seconds.
fn call(pause: f64) -> (Vec<i16>, u32, Vec<(f64, f64)>) {
    let mut out = Vec::new();
    let mut placed = Vec::new();
    let mut rate = 0;
    for (i, s) in SENTENCES.iter().enumerate() {
        let (pcm, r) = spoken(s, &format!("live-{i}"));
        rate = r;
        let gap = (pause * f64::from(r)) as usize;
        out.extend(std::iter::repeat_n(0i16, gap));
        let start = out.len() as f64 / f64::from(r);
        out.extend(&pcm);
        placed.push((start, out.len() as f64 / f64::from(r)));
    }
    out.extend(std::iter::repeat_n(
        0i16,
        (pause * f64::from(rate)) as usize,
    ));
    (out, rate, placed)
}

/// Pushes `pcm` in pieces of `piece` samples, polling as it goes, then finishes.
fn stream_all(opts: StreamOptions, pcm: &[i16], rate: u32, piece: usize) -> Vec<StreamEvent> {
    stream_on(transcriber(), opts, pcm, rate, piece)
}

/// [`stream_all`] on the transcriber `t`.
fn stream_on(
    t: &Transcriber,
    opts: StreamOptions,
    pcm: &[i16],
    rate: u32,
    piece: usize,
) -> Vec<StreamEvent> {
    let mut s = t.stream(opts).unwrap();
    let mut events = Vec::new();
    for p in pcm.chunks(piece) {
        s.push_pcm_i16(p, rate).unwrap();
        events.extend(std::iter::from_fn(|| s.poll_event()));
    }
    s.finish().unwrap();
    events.extend(std::iter::from_fn(|| s.poll_event()));
    events
}

fn finals(events: &[StreamEvent]) -> Vec<&Utterance> {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Final(u) => Some(u),
            _ => None,
        })
        .collect()
}

#[test]
fn turns_partials_and_finals_follow_the_speech() {
    let (pcm, rate, placed) = call(1.5);
    let opts = StreamOptions {
        word_timestamps: true,
        ..StreamOptions::default()
    };
    // 20 ms pieces at espeak's 22,050 Hz: the stream resamples.
    let events = stream_all(opts, &pcm, rate, 441);
    for e in &events {
        eprintln!("{e:?}");
    }
    let starts: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::SpeechStarted { at } => Some(*at),
            _ => None,
        })
        .collect();
    let stops: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::SpeechStopped { at } => Some(*at),
            _ => None,
        })
        .collect();
    assert_eq!(starts.len(), SENTENCES.len(), "{starts:?}");
    assert_eq!(stops.len(), SENTENCES.len(), "{stops:?}");
    for (i, &(a, b)) in placed.iter().enumerate() {
        assert!(
            (starts[i] - a).abs() < 0.3,
            "turn {i} started at {} not {a}",
            starts[i]
        );
        assert!(
            (stops[i] - b).abs() < 0.5,
            "turn {i} stopped at {} not {b}",
            stops[i]
        );
    }
    let finals = finals(&events);
    assert_eq!(finals.len(), SENTENCES.len());
    for (i, u) in finals.iter().enumerate() {
        assert!(wer([(SENTENCES[i], u.text.as_str())]) < 0.25, "{}", u.text);
        // The turn's audio: 300 ms before the speech started, 250 ms after it stopped.
        assert!((u.start - (starts[i] - 0.3)).abs() < 0.05, "{u:?}");
        assert!((u.end - (stops[i] + 0.25)).abs() < 0.05, "{u:?}");
        for s in &u.segments {
            assert!(s.start >= u.start - 1e-9 && s.end <= u.end + 1e-9, "{s:?}");
            for w in &s.words {
                assert!(w.start >= u.start - 1e-9 && w.end <= u.end + 1e-9, "{w:?}");
            }
        }
    }
    // Segment ids count from the stream's start.
    let ids: Vec<usize> = finals
        .iter()
        .flat_map(|u| u.segments.iter().map(|s| s.id))
        .collect();
    assert_eq!(ids, (0..ids.len()).collect::<Vec<_>>());
    // Each turn: started, partials whose text only grows, stopped, final.
    let mut turn = 0;
    let mut partial = String::new();
    let (mut unstable, mut heard_ahead) = (String::new(), false);
    let mut order = Vec::new();
    for e in &events {
        match e {
            StreamEvent::SpeechStarted { .. } => {
                partial.clear();
                unstable.clear();
                order.push('S');
            }
            StreamEvent::Partial {
                text,
                delta,
                unstable: tail,
                ..
            } => {
                assert!(
                    text.starts_with(partial.as_str()),
                    "{text:?} after {partial:?}"
                );
                assert!(text.ends_with(delta.as_str()));
                // Each partial event brings agreed words or hears the rest differently.
                assert!(!delta.is_empty() || *tail != unstable, "{e:?}");
                partial = text.clone();
                unstable = tail.clone();
                heard_ahead |= !tail.is_empty();
                if order.last() != Some(&'P') {
                    order.push('P');
                }
            }
            StreamEvent::SpeechStopped { .. } => order.push('E'),
            StreamEvent::Final(_) => {
                order.push('F');
                turn += 1;
            }
        }
    }
    assert_eq!(turn, SENTENCES.len());
    // The long sentence (over 5 s) gets partial text while it is spoken.
    let s: String = order.iter().collect();
    assert!(s.starts_with('S') && s.contains("SPEF"), "{s}");
    assert_eq!(s.matches("EF").count(), SENTENCES.len(), "{s}");
    // Words not agreed on yet are shown ahead of the agreed ones.
    assert!(heard_ahead, "{events:?}");
}

#[test]
fn silence_and_faint_noise_give_no_text() {
    // 6 s of digital silence, then 6 s of faint white noise.
    let mut pcm = vec![0i16; 96_000];
    let mut x: u32 = 1;
    pcm.extend((0..96_000).map(|_| {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((x >> 16) as i16) / 256
    }));
    let events = stream_all(StreamOptions::default(), &pcm, 16_000, 1_600);
    assert!(finals(&events).is_empty(), "{events:?}");
}

#[test]
fn a_monologue_is_cut_into_turns_that_fit_a_window() {
    let (pcm, rate, _) = call(0.2);
    // Pauses of 0.2 s never end a turn; 4 s turns at most.
    let opts = StreamOptions {
        max_turn_ms: 4_000,
        partial_interval_ms: 0,
        ..StreamOptions::default()
    };
    let events = stream_all(opts, &pcm, rate, 2_205);
    let finals = finals(&events);
    assert!(finals.len() >= 3, "{finals:?}");
    for w in finals.windows(2) {
        assert!(w[0].end <= w[1].start + 1e-9, "{:?} then {:?}", w[0], w[1]);
    }
    for u in &finals {
        assert!(u.end - u.start <= 4.0 + 0.3, "{u:?}");
    }
    let text: Vec<&str> = finals.iter().map(|u| u.text.as_str()).collect();
    let heard = text.join(" ");
    let said = SENTENCES.join(" ");
    assert!(wer([(said.as_str(), heard.as_str())]) < 0.3, "{heard}");
    // No partial text was asked for.
    assert!(!events
        .iter()
        .any(|e| matches!(e, StreamEvent::Partial { .. })));
}

#[test]
fn speech_running_at_the_end_becomes_final_once() {
    let (pcm, rate, _) = call(0.6);
    // Cut the stream in the middle of the last sentence's last word or so.
    let cut = pcm.len() - (0.9 * f64::from(rate)) as usize;
    let events = stream_all(StreamOptions::default(), &pcm[..cut], rate, 4_410);
    let finals = finals(&events);
    assert_eq!(finals.len(), SENTENCES.len(), "{finals:?}");
    let last = finals.last().unwrap();
    assert!(last.text.to_lowercase().contains("moved"), "{}", last.text);
    // Started and stopped pair up, the last stop coming from finish().
    let started = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::SpeechStarted { .. }))
        .count();
    let stopped = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::SpeechStopped { .. }))
        .count();
    assert_eq!((started, stopped), (SENTENCES.len(), SENTENCES.len()));
}

#[test]
fn final_text_decoded_during_the_silence_is_the_text_of_the_turn_that_ends() {
    // Silence that ends a turn: its final text is decoded while the silence goes on. It
    // must be exactly the text a commit at the same point gives (decoded when the turn ends).
    let (pcm, rate, placed) = call(1.0);
    let end = ((placed[0].1 + 0.8) * f64::from(rate)) as usize;
    let by_silence = stream_all(StreamOptions::default(), &pcm[..end], rate, 441);
    let opts = StreamOptions {
        end_on_silence: false,
        word_timestamps: false,
        ..StreamOptions::default()
    };
    let by_commit = stream_all(opts, &pcm[..end], rate, 441);
    let (a, b) = (finals(&by_silence), finals(&by_commit));
    assert_eq!(a.len(), 1, "{by_silence:?}");
    assert_eq!(a, b);
    assert!(
        wer([(SENTENCES[0], a[0].text.as_str())]) < 0.25,
        "{}",
        a[0].text
    );

    // A pause shorter than the silence that ends a turn, long enough for that decode to
    // start: the turn goes on, and its final text holds the words after the pause too.
    // (espeak's own quiet lead-in and tail trimmed.)
    let trim = |pcm: Vec<i16>| {
        let loud = |x: &i16| x.unsigned_abs() > 300;
        let a = pcm.iter().position(loud).unwrap();
        let b = pcm.iter().rposition(loud).unwrap();
        pcm[a..=b].to_vec()
    };
    let (first, _) = spoken(SENTENCES[0], "live-0");
    let (third, r) = spoken(SENTENCES[2], "live-2");
    let mut pcm = vec![0i16; (0.5 * f64::from(r)) as usize];
    pcm.extend(trim(first));
    pcm.extend(std::iter::repeat_n(0i16, (0.4 * f64::from(r)) as usize));
    pcm.extend(trim(third));
    pcm.extend(std::iter::repeat_n(0i16, r as usize));
    let events = stream_all(StreamOptions::default(), &pcm, r, 441);
    let f = finals(&events);
    assert_eq!(f.len(), 1, "{events:?}");
    let text = f[0].text.to_lowercase();
    assert!(
        text.contains("customer") && text.contains("thursday"),
        "{text}"
    );
    // Without partial text asked for, that decode's text is no partial event either.
    let opts = StreamOptions {
        partial_interval_ms: 0,
        ..StreamOptions::default()
    };
    let events = stream_all(opts, &pcm, r, 441);
    assert_eq!(finals(&events).len(), 1, "{events:?}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, StreamEvent::Partial { .. })),
        "{events:?}"
    );
}

#[test]
fn unread_events_hold_back_pushes_without_losing_audio() {
    let (pcm, rate, _) = call(1.0);
    let opts = StreamOptions {
        max_pending_events: 1,
        ..StreamOptions::default()
    };
    let mut s = transcriber().stream(opts).unwrap();
    let mut refused = 0;
    let mut events = Vec::new();
    for p in pcm.chunks(2_205) {
        if let Err(e) = s.push_pcm_i16(p, rate) {
            assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
            assert!(e.to_string().contains("unread"), "{e}");
            refused += 1;
            events.extend(std::iter::from_fn(|| s.poll_event()));
            // The same samples again, now taken.
            s.push_pcm_i16(p, rate).unwrap();
        }
    }
    s.finish().unwrap();
    events.extend(std::iter::from_fn(|| s.poll_event()));
    assert!(refused > 0);
    assert!((s.duration() - pcm.len() as f64 / f64::from(rate)).abs() < 0.01);
    assert_eq!(finals(&events).len(), SENTENCES.len());
}

#[test]
fn bad_pushes_and_options_are_refused() {
    let t = transcriber();
    let mut s = t.stream(StreamOptions::default()).unwrap();
    let e = s.push_pcm_f32(&[0.0, f32::NAN], 16_000).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    assert!(s.push_pcm_f32(&[0.0; 160], 0).is_err());
    s.push_pcm_f32(&[0.0; 160], 16_000).unwrap();
    let e = s.push_pcm_f32(&[0.0; 480], 48_000).unwrap_err();
    assert!(e.to_string().contains("one rate"), "{e}");
    s.finish().unwrap();
    assert!(s.push_pcm_f32(&[0.0; 160], 16_000).is_err());
    // Empty pushes are fine; so is finishing twice.
    s.finish().unwrap();
    for bad in [
        StreamOptions {
            threshold: 1.5,
            ..StreamOptions::default()
        },
        StreamOptions {
            max_turn_ms: 40_000,
            ..StreamOptions::default()
        },
        StreamOptions {
            language: Some("de".into()),
            ..StreamOptions::default()
        },
    ] {
        let e = t.stream(bad).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    }
}

#[test]
fn without_silence_endpointing_turns_end_where_the_caller_commits() {
    let (pcm, rate, placed) = call(0.8);
    let opts = StreamOptions {
        end_on_silence: false,
        partial_interval_ms: 0,
        ..StreamOptions::default()
    };
    let mut s = transcriber().stream(opts).unwrap();
    assert!(!s.commit().unwrap(), "nothing to commit before any speech");
    // Push up to the middle of the pause after the second sentence: the pauses between
    // sentences end no turn, so the first two sentences are one open turn.
    let until = ((placed[1].1 + 0.4) * f64::from(rate)) as usize;
    let mut events = Vec::new();
    for p in pcm[..until].chunks(2_205) {
        s.push_pcm_i16(p, rate).unwrap();
        events.extend(std::iter::from_fn(|| s.poll_event()));
    }
    assert!(finals(&events).is_empty(), "{events:?}");
    assert!(s.commit().unwrap());
    events.extend(std::iter::from_fn(|| s.poll_event()));
    let committed = finals(&events);
    assert_eq!(committed.len(), 1, "{events:?}");
    let text = committed[0].text.to_lowercase();
    assert!(
        text.contains("customer") && text.contains("quarterly"),
        "{text}"
    );
    assert!(committed[0].end <= until as f64 / f64::from(rate) + 1e-6);

    // The last sentence, cleared before the commit: no text for it.
    let start_last = ((placed[2].0 - 0.3) * f64::from(rate)) as usize;
    s.push_pcm_i16(&pcm[until..start_last], rate).unwrap();
    s.push_pcm_i16(&pcm[start_last..], rate).unwrap();
    assert!(s.clear(), "the last sentence's turn was open");
    assert!(!s.commit().unwrap());
    s.finish().unwrap();
    let rest: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(finals(&rest).is_empty(), "{rest:?}");
    assert!(s.commit().is_err(), "a finished stream takes no commit");
}

#[test]
fn a_stream_does_not_wait_behind_a_long_batch_call() {
    // One decoder state for batch work, busy with a long file on another thread.
    let t = Transcriber::builder()
        .model("tiny.en")
        .max_concurrent(1)
        .build()
        .unwrap();
    let (pcm, rate, _) = call(0.6);
    let long: Vec<i16> = pcm.repeat(12);
    let batch_audio = stenograph::audio::Audio::from_pcm_i16(long, rate, 1).unwrap();
    let batch = {
        let t = t.clone();
        std::thread::spawn(move || {
            let opts = stenograph::transcribe::TranscribeOptions::default();
            let tr = t.transcribe(&batch_audio, &opts).unwrap();
            (std::time::Instant::now(), tr.text.len())
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut s = t.stream(StreamOptions::default()).unwrap();
    let mut final_at = None;
    for p in pcm.chunks(2_205) {
        s.push_pcm_i16(p, rate).unwrap();
        if std::iter::from_fn(|| s.poll_event()).any(|e| matches!(e, StreamEvent::Final(_))) {
            final_at = Some(std::time::Instant::now());
            break;
        }
    }
    let final_at = final_at.expect("a turn ended within the first sentences");
    let (batch_done, chars) = batch.join().unwrap();
    assert!(chars > 1_000, "the batch call transcribed its file");
    assert!(
        final_at < batch_done,
        "the stream's first final came only after the batch call ended"
    );
}

#[test]
fn partial_decodes_move_to_a_q8_0_copy_and_final_text_keeps_the_models_weights() {
    let own = Transcriber::builder()
        .model("tiny.en")
        .partial_weights(PartialWeights::Model)
        .build()
        .unwrap();
    let light = Transcriber::builder().model("tiny.en").build().unwrap();
    // The copy is made when the first stream opens, not before.
    assert_eq!(light.partial_weights(), "f16");
    drop(light.stream(StreamOptions::default()).unwrap());
    let since = std::time::Instant::now();
    while light.partial_weights() != "q8_0" && since.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(light.partial_weights(), "q8_0");
    drop(own.stream(StreamOptions::default()).unwrap());
    assert_eq!(own.partial_weights(), "f16");

    let (pcm, rate, _) = call(1.0);
    let opts = || StreamOptions {
        word_timestamps: true,
        ..StreamOptions::default()
    };
    let by_own = stream_on(&own, opts(), &pcm, rate, 441);
    let by_light = stream_on(&light, opts(), &pcm, rate, 441);
    // Final text is decoded with the model's own weights either way.
    let texts = |events: &[StreamEvent]| -> Vec<(String, f64, f64)> {
        finals(events)
            .iter()
            .map(|u| (u.text.clone(), u.start, u.end))
            .collect()
    };
    assert_eq!(texts(&by_light), texts(&by_own));
    assert_eq!(texts(&by_light).len(), SENTENCES.len());
    // Partial text still comes, and reads as the speech does.
    let partials: Vec<&str> = by_light
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Partial { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(partials.len() >= SENTENCES.len(), "{partials:?}");
    // The longest partial is mostly words of a turn's final text.
    let words = |t: &str| -> Vec<String> {
        t.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .collect()
    };
    let longest = words(partials.iter().max_by_key(|p| p.len()).unwrap());
    let best = texts(&by_light)
        .iter()
        .map(|(t, _, _)| {
            let heard = words(t);
            longest.iter().filter(|w| heard.contains(w)).count() as f64 / longest.len() as f64
        })
        .fold(0.0, f64::max);
    assert!(longest.len() >= 3 && best >= 0.6, "{longest:?}: {best}");
}
