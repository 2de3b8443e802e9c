//! Speakers by channel with tiny.en on espeak-ng calls: one party per channel, turns in the
//! order spoken, leaks between the channels not repeated, overlapping speech kept on both
//! sides and marked, nasty layouts (identical, cancelling, silent and mono channels), the
//! decoder's separate channels, and every refusal.

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use common::dir;
use common::speech::{speak, SENTENCES};
use stenograph::audio::{Audio, AudioSource, AudioStream, DecodeOptions, Warning};
use stenograph::testing::eval::words;
use stenograph::transcribe::{Segment, Speakers, TranscribeOptions, Transcriber, Transcript};
use stenograph::Error;

fn transcriber() -> &'static Transcriber {
    static T: OnceLock<Transcriber> = OnceLock::new();
    T.get_or_init(|| Transcriber::builder().model("tiny.en").build().unwrap())
}

fn sentence(i: usize, voice: &str) -> Vec<f32> {
    static MAKING: Mutex<()> = Mutex::new(());
    let _guard = MAKING.lock().unwrap_or_else(|e| e.into_inner());
    let name = format!("speakers-{i}-{}", voice.replace('+', "_"));
    Audio::from_path(speak(dir(), voice, SENTENCES[i], &name))
        .unwrap()
        .into_samples()
}

/// Two channels: `a` from `at_a`, `b` from `at_b` (seconds), each leaking into the other at
/// `leak` (amplitude), `tail` seconds of silence after the later end.
fn call(a: &[f32], at_a: f64, b: &[f32], at_b: f64, leak: f32) -> [Vec<f32>; 2] {
    let at = |s: f64| (s * 16_000.0) as usize;
    let n = (at(at_a) + a.len()).max(at(at_b) + b.len()) + 16_000;
    let mut clean = [vec![0.0f32; n], vec![0.0f32; n]];
    clean[0][at(at_a)..at(at_a) + a.len()].copy_from_slice(a);
    clean[1][at(at_b)..at(at_b) + b.len()].copy_from_slice(b);
    let mixed = |c: usize| -> Vec<f32> {
        clean[c]
            .iter()
            .zip(&clean[1 - c])
            .map(|(x, y)| x + leak * y)
            .collect()
    };
    [mixed(0), mixed(1)]
}

fn by_channel(names: &[&str]) -> TranscribeOptions {
    let mut opts = TranscribeOptions::default();
    opts.speakers = Speakers::Channels;
    opts.speaker_names = names.iter().map(|n| n.to_string()).collect();
    opts
}

fn said_by(t: &Transcript, who: &str) -> String {
    t.segments
        .iter()
        .filter(|s| s.speaker.as_deref() == Some(who))
        .map(|s| s.text.as_str())
        .collect()
}

/// Share of `expected`'s words in `got`, and words of `got` beyond `expected`'s count.
fn recall_and_extra(got: &str, expected: &str) -> (f64, isize) {
    let (g, e) = (words(got), words(expected));
    let found = e.iter().filter(|w| g.contains(w)).count();
    (
        found as f64 / e.len() as f64,
        g.len() as isize - e.len() as isize,
    )
}

#[test]
fn each_party_on_its_channel_in_the_order_spoken_and_a_leak_is_not_repeated() {
    let a = sentence(1, "en-us");
    let b = sentence(5, "en-gb");
    let a_len = a.len() as f64 / 16_000.0;
    for leak in [0.0, 0.05, 0.1] {
        let [l, r] = call(&a, 0.3, &b, 0.3 + a_len + 0.6, leak);
        let mut opts = by_channel(&["agent", "customer"]);
        opts.word_timestamps = true;
        let t = transcriber().transcribe_channels(&[&l, &r], &opts).unwrap();
        eprintln!("leak {leak}: {}", t.to_text());
        assert_eq!(t.speakers, ["agent", "customer"]);
        let turns = t.turns();
        assert_eq!(
            turns.iter().map(|(w, _)| w.as_str()).collect::<Vec<_>>(),
            ["agent", "customer"],
            "{turns:?}"
        );
        for (who, i) in [("agent", 1), ("customer", 5)] {
            let (recall, extra) = recall_and_extra(&said_by(&t, who), SENTENCES[i]);
            assert!(recall >= 0.8, "{who} at leak {leak}: {turns:?}");
            assert!(
                extra <= 1,
                "{who} repeats the other party at leak {leak}: {turns:?}"
            );
        }
        for s in &t.segments {
            assert!(!s.overlap, "nobody talks over anybody here: {s:?}");
            assert!(s.words.iter().all(|w| w.speaker == s.speaker));
        }
        assert_eq!(
            t.segments.iter().map(|s| s.id).collect::<Vec<_>>(),
            (0..t.segments.len()).collect::<Vec<_>>()
        );
        assert!(t.segments.windows(2).all(|w| w[0].start <= w[1].start));
    }
}

#[test]
fn speech_over_the_other_party_is_kept_on_both_sides_and_marked() {
    let a = sentence(2, "en-us");
    let b = sentence(4, "en-gb");
    // The second party starts a second into the first one's sentence.
    let [l, r] = call(&a, 0.2, &b, 1.2, 0.03);
    let t = transcriber()
        .transcribe_channels(&[&l, &r], &by_channel(&[]))
        .unwrap();
    eprintln!("{}", t.to_text());
    for (who, i) in [("SPEAKER_0", 2), ("SPEAKER_1", 4)] {
        let (recall, _) = recall_and_extra(&said_by(&t, who), SENTENCES[i]);
        assert!(recall >= 0.7, "{who}: {}", t.to_text());
    }
    for who in ["SPEAKER_0", "SPEAKER_1"] {
        assert!(
            t.segments
                .iter()
                .any(|s| s.speaker.as_deref() == Some(who) && s.overlap),
            "{who} talks over the other: {:?}",
            t.segments
        );
    }
    assert!(
        t.segments.iter().all(|s| s.words.is_empty()),
        "words only when asked for"
    );
}

#[test]
fn identical_cancelling_and_silent_channels() {
    let a = sentence(0, "en-us");
    let inverted: Vec<f32> = a.iter().map(|x| -x).collect();
    let silent = vec![0.0f32; a.len()];
    let mono = transcriber()
        .transcribe_samples(&a, &TranscribeOptions::default())
        .unwrap();
    assert!(!mono.text.is_empty());
    for (what, right) in [
        ("identical", &a),
        ("cancelling", &inverted),
        ("silent", &silent),
    ] {
        let t = transcriber()
            .transcribe_channels(&[&a, right], &by_channel(&["left", "right"]))
            .unwrap();
        assert_eq!(t.text, mono.text, "{what}: the text of the channel alone");
        assert!(
            t.segments
                .iter()
                .all(|s| s.speaker.as_deref() == Some("left")),
            "{what}: the text once, on the first channel: {}",
            t.to_text()
        );
    }
    // Nothing but silence: no text, both speakers named.
    let t = transcriber()
        .transcribe_channels(&[&silent, &silent], &by_channel(&[]))
        .unwrap();
    assert!(t.segments.is_empty() && t.text.is_empty());
    assert_eq!(t.speakers, ["SPEAKER_0", "SPEAKER_1"]);
}

#[test]
fn a_mono_recording_is_one_speaker_with_a_warning() {
    let a = sentence(3, "en-us");
    let t = transcriber()
        .transcribe_samples(&a, &by_channel(&["agent"]))
        .unwrap();
    assert_eq!(t.speakers, ["agent"]);
    assert!(!t.segments.is_empty());
    assert!(t
        .segments
        .iter()
        .all(|s| s.speaker.as_deref() == Some("agent")));
    assert!(
        t.warnings
            .iter()
            .any(|w| matches!(w, Warning::SingleChannel { speaker } if speaker == "agent")),
        "{:?}",
        t.warnings
    );
}

#[test]
fn files_and_streams_keep_their_channels_apart() {
    let a = sentence(1, "en-us");
    let b = sentence(5, "en-gb");
    let a_len = a.len() as f64 / 16_000.0;
    let [l, r] = call(&a, 0.2, &b, 0.2 + a_len + 0.5, 0.05);
    // A 44.1 kHz stereo file: decoded with separate channels, resampled each on its own.
    let interleaved: Vec<f32> = l.iter().zip(&r).flat_map(|(x, y)| [*x, *y]).collect();
    let stereo16 = dir().join("speakers-call-16k.wav");
    common::write_wav_i16(&stereo16, 16_000, 2, &interleaved);
    let stereo = dir().join("speakers-call-44k.wav");
    common::ffmpeg(&stereo16, &stereo, &["-ar", "44100"]);

    let mut separate = DecodeOptions::default();
    separate.separate_channels = true;
    let audio = Audio::decode(AudioSource::from_path(&stereo), &separate).unwrap();
    let planes = audio.channels();
    assert_eq!(planes.len(), 2);
    assert_eq!(planes[0].len(), planes[1].len());
    assert_eq!(planes[0].len(), audio.samples().len());
    assert!((audio.duration_seconds() - l.len() as f64 / 16_000.0).abs() < 0.05);
    // The down-mix of a file decoded as one is there too.
    assert_eq!(Audio::from_path(&stereo).unwrap().channels().len(), 1);

    let mut opts = by_channel(&["agent", "customer"]);
    let delivered = Arc::new(Mutex::new(Vec::<Segment>::new()));
    let sink = delivered.clone();
    opts.on_segment = Some(Arc::new(move |s: &Segment| {
        sink.lock().unwrap().push(s.clone())
    }));
    let from_file = transcriber().transcribe_file(&stereo, &opts).unwrap();
    assert_eq!(*delivered.lock().unwrap(), from_file.segments);
    let from_audio = transcriber().transcribe(&audio, &opts).unwrap();
    assert_eq!(from_file.text, from_audio.text);
    assert_eq!(
        from_file
            .turns()
            .iter()
            .map(|(w, _)| w.as_str())
            .collect::<Vec<_>>(),
        ["agent", "customer"],
        "{}",
        from_file.to_text()
    );

    // A stream read plane by plane; its iterator refuses to hand out one channel as mono.
    let mut stream = AudioStream::open(AudioSource::from_path(&stereo), &separate).unwrap();
    assert!(stream.separate_channels() && stream.output_channels() == 2);
    let chunk = stream.next_channels().unwrap().unwrap();
    assert_eq!(chunk.len(), 2);
    assert_eq!(chunk[0].len(), chunk[1].len());
    let mut stream = AudioStream::open(AudioSource::from_path(&stereo), &separate).unwrap();
    assert!(matches!(
        stream.next(),
        Some(Err(Error::InvalidArgument(_)))
    ));

    // Speakers need the channels; separate channels need speakers.
    let mixed = AudioStream::open(AudioSource::from_path(&stereo), &DecodeOptions::default());
    assert!(matches!(
        transcriber().transcribe_stream(mixed.unwrap(), &by_channel(&[])),
        Err(Error::InvalidArgument(_))
    ));
    let apart = AudioStream::open(AudioSource::from_path(&stereo), &separate).unwrap();
    assert!(matches!(
        transcriber().transcribe_stream(apart, &TranscribeOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn channels_of_different_lengths_and_refusals() {
    let a = sentence(0, "en-us");
    let short = vec![0.0f32; 16_000];
    let t = transcriber()
        .transcribe_channels(&[&short, &a], &by_channel(&[]))
        .unwrap();
    assert!((t.duration - a.len() as f64 / 16_000.0).abs() < 1e-6);
    assert!(t
        .segments
        .iter()
        .all(|s| s.speaker.as_deref() == Some("SPEAKER_1")));

    let opts = by_channel(&[]);
    assert!(matches!(
        transcriber().transcribe_channels(&[], &opts),
        Err(Error::InvalidArgument(_))
    ));
    let many: Vec<&[f32]> = vec![&short[..]; 65];
    assert!(matches!(
        transcriber().transcribe_channels(&many, &opts),
        Err(Error::InvalidArgument(_))
    ));
    for bad in [vec!["a", "a"], vec![""], vec![" a"], vec!["x<y"]] {
        let mut o = by_channel(&[]);
        o.speaker_names = bad.iter().map(|s| s.to_string()).collect();
        assert!(
            matches!(
                transcriber().transcribe_channels(&[&a, &a], &o),
                Err(Error::InvalidArgument(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        transcriber().transcribe_batch(std::slice::from_ref(&a), &by_channel(&[])),
        Err(Error::InvalidArgument(_))
    ));
    // A cancelled call stops.
    let mut o = by_channel(&[]);
    let token = stenograph::transcribe::CancelToken::new();
    token.cancel();
    o.cancel = Some(token);
    assert!(matches!(
        transcriber().transcribe_channels(&[&a, &a], &o),
        Err(Error::Cancelled)
    ));
}
