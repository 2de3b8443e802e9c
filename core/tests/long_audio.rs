//! An hour of audio through the real tiny.en, streamed: sentences placed across the hour
//! (one across the 10-minute block boundary) come back at their places, and the heap stays
//! bounded by one block, measured by a counting allocator.
//!
//! The input is a virtual 1 h 16 kHz mono WAV (115 MB) produced by a reader as it is read: a
//! faint noise floor with espeak-ng sentences at known times. Holding the hour decoded would
//! take 230 MB of f32.

mod common;

use common::counting::{peak_since, start_measuring, Counting};

use common::dir;
use common::speech::{speak, SENTENCES};
use common::virtual_wav::VirtualWav;
use stenograph::audio::{Audio, AudioSource, AudioStream, DecodeOptions};
use stenograph::testing::eval::words;
use stenograph::transcribe::{TranscribeOptions, Transcriber};

#[global_allocator]
static ALLOC: Counting = Counting;

const SECONDS: usize = 3600;
const RATE: usize = 16_000;
const MIB: usize = 1 << 20;

/// A 16 kHz mono PCM16 WAV of `SECONDS`: noise at about −60 dBFS, and `speech` at `(second,
/// samples)` places.
fn virtual_wav(speech: Vec<(usize, Vec<i16>)>) -> VirtualWav {
    VirtualWav::new(RATE as u32, 1, SECONDS as u64, move |i| {
        for (second, samples) in &speech {
            let start = second * RATE;
            if (start..start + samples.len()).contains(&i) {
                return samples[i - start];
            }
        }
        // A hash of the index: deterministic, white, about ±33.
        let h = (i as u32).wrapping_mul(2_654_435_761).rotate_left(13) ^ 0x9E37_79B9;
        (h % 67) as i16 - 33
    })
}

/// Peak resident memory of this process so far, in MiB (whisper.cpp's allocations included).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[test]
fn an_hour_streamed_with_sentences_at_their_places() {
    // Second 599 puts sentence 1 across the end of the first 10-minute block.
    let placed = [(60usize, 1usize), (599, 5), (1805, 4), (3590, 2)];
    let speech: Vec<(usize, Vec<i16>)> = placed
        .iter()
        .map(|&(at, i)| {
            let wav = speak(dir(), "en-us", SENTENCES[i], &format!("long-{i}"));
            let samples = Audio::from_path(wav).unwrap().into_samples();
            let pcm = samples.iter().map(|&x| (x * 32767.0) as i16).collect();
            (at, pcm)
        })
        .collect();
    let t = Transcriber::builder().model("tiny.en").build().unwrap();

    let base = start_measuring();
    let stream = AudioStream::open(
        AudioSource::from_reader(virtual_wav(speech)),
        &DecodeOptions::default(),
    )
    .unwrap();
    let tr = t
        .transcribe_stream(stream, &TranscribeOptions::default())
        .unwrap();
    let heap_peak = peak_since(base);
    eprintln!(
        "1 h streamed: Rust heap peak {:.1} MiB above the loaded model, process peak RSS {:.0} MiB",
        heap_peak as f64 / MIB as f64,
        peak_rss_mib()
    );

    assert!(
        (tr.duration - SECONDS as f64).abs() < 0.01,
        "{}",
        tr.duration
    );
    for (at, i) in placed {
        let first = &words(SENTENCES[i])[0];
        let seg = tr
            .segments
            .iter()
            .find(|s| words(&s.text).first() == Some(first))
            .unwrap_or_else(|| panic!("sentence {i} missing: {:?}", tr.segments));
        assert!(
            (seg.start - at as f64).abs() < 1.5,
            "sentence {i} at {} not {at}",
            seg.start
        );
        let w = stenograph::testing::eval::word_errors(SENTENCES[i], &seg.text);
        assert!(w.0 <= 2, "sentence {i}: {:?}", seg.text);
    }
    assert_eq!(tr.segments.len(), placed.len(), "{:?}", tr.segments);
    assert!(tr.segments.iter().enumerate().all(|(n, s)| s.id == n));
    // One 10-minute block of f32 is 38.4 MB; the whole hour would be 230 MB.
    assert!(
        heap_peak < 64 * MIB,
        "heap peak {:.1} MiB",
        heap_peak as f64 / MIB as f64
    );
}
