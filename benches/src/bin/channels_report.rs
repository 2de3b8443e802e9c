//! Speakers by channel on assembled two-party calls of real speech: who said what, and
//! whether bleed between the channels comes out as duplicate text.
//!
//! ```text
//! cargo run --release -p stenograph-benches --bin channels_report -- --real samples.tsv \
//!     [--seconds 300] [--model tiny.en] [--bleed-db none,-30,-20,-12]
//! ```
//!
//! The TSV's real clips (columns `file`, `reference`) become turns of a call, alternating
//! between two parties, each on its own channel of a 16 kHz stereo file: pauses of 0.3–1.2 s,
//! every fifth turn starting before the previous one ends (overlap), the second party 6 dB
//! quieter, a noise floor 45 dB under the speech, and each party's voice leaking into the
//! other channel at the bleed level (20 ms later). Each call is transcribed two ways:
//! - `channels`: `Speakers::Channels`, one speaker per channel;
//! - `mix+energy`: the down-mixed call, each segment labelled with the louder channel over
//!   its time when that channel's energy is over 1.1 times the other's (whisper.cpp's
//!   `--diarize` rule for stereo input), else unlabelled.
//!
//! Printed per bleed level: WER of all text against the turns in time order; speaker-
//! attributed WER (each party's text against that party's turns); reference words recognised
//! and attributed to the right party (matched words of the per-party alignments over all
//! reference words); words beyond the reference (duplicates show up here); segments marked as
//! overlap, and how many of them meet a turn of the other party; seconds.

use std::path::Path;
use std::time::Instant;

use stenograph::audio::Audio;
use stenograph::testing::eval::{word_errors, words};
use stenograph::transcribe::{Speakers, TranscribeOptions, Transcriber, Transcript};
use stenograph_benches::{arg, pink_noise, real_clips, rms};

const RATE: usize = 16_000;

/// One party's turn: where it starts (samples), its reference text, its party.
struct Turn {
    start: usize,
    end: usize,
    party: usize,
    text: String,
}

/// A call: the two clean channels (no bleed) and the turns.
struct Call {
    clean: [Vec<f32>; 2],
    turns: Vec<Turn>,
}

fn assemble(clips: &[(Vec<f32>, String)], seconds: f64) -> Call {
    const PAUSES: [f64; 5] = [0.3, 0.8, 1.2, 0.5, 1.0];
    let total = (seconds * RATE as f64) as usize;
    let mut clean = [vec![0.0f32; total], vec![0.0f32; total]];
    let mut turns = Vec::new();
    let (mut at, mut prev_len, mut k) = (RATE / 2, 0usize, 0usize);
    loop {
        let (samples, text) = &clips[k % clips.len()];
        let party = k % 2;
        let start = if k % 5 == 4 {
            // Starts before the previous turn ends: 40 % of it, at most 1.5 s.
            at.saturating_sub((prev_len * 2 / 5).min(3 * RATE / 2))
        } else {
            at + (PAUSES[k % PAUSES.len()] * RATE as f64) as usize
        };
        if start + samples.len() >= total {
            break;
        }
        let gain = if party == 0 { 1.0 } else { 0.5 };
        for (o, &x) in clean[party][start..].iter_mut().zip(samples) {
            *o += x * gain;
        }
        turns.push(Turn {
            start,
            end: start + samples.len(),
            party,
            text: text.clone(),
        });
        at = start + samples.len();
        prev_len = samples.len();
        k += 1;
    }
    Call { clean, turns }
}

/// The call's two channels with each party leaking into the other's at `bleed` (amplitude),
/// 20 ms late, over a noise floor.
fn mix(call: &Call, bleed: f32) -> [Vec<f32>; 2] {
    let delay = RATE / 50;
    let level = rms(&call.clean[0]).max(1e-6);
    let mut out = [call.clean[0].clone(), call.clean[1].clone()];
    for (c, channel) in out.iter_mut().enumerate() {
        let other = &call.clean[1 - c];
        let noise = pink_noise(other.len(), 5 + c as u64);
        for (i, o) in channel.iter_mut().enumerate() {
            let leak = if i >= delay { other[i - delay] } else { 0.0 };
            *o += bleed * leak + noise[i] * level * 0.0056;
        }
    }
    out
}

fn write_stereo(path: &Path, ch: &[Vec<f32>; 2]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE as u32,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for (l, r) in ch[0].iter().zip(&ch[1]) {
        for x in [l, r] {
            w.write_sample((x.clamp(-1.0, 1.0) * 32767.0) as i16)
                .expect("write wav");
        }
    }
    w.finalize().expect("write wav");
}

/// Longest common subsequence of two word lists: words recognised in the right order.
fn matched(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    for x in a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The scores of one transcript whose segments are labelled by `party` (None: unlabelled).
struct Score {
    wer: f64,
    attributed_wer: f64,
    right_party: f64,
    extra_words: isize,
    /// Segments marked as overlap, and how many of them meet the other party's speech.
    overlaps: (usize, usize),
    seconds: f64,
}

fn score(
    call: &Call,
    segments: &[(Option<usize>, String)],
    seconds: f64,
    overlaps: (usize, usize),
) -> Score {
    let mut order: Vec<&Turn> = call.turns.iter().collect();
    order.sort_by_key(|t| t.start);
    let all_ref: String = order
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let all_hyp: String = segments
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let (errors, total) = word_errors(&all_ref, &all_hyp);
    let mut party_errors = 0;
    let mut party_matched = 0;
    for p in 0..2 {
        let r: String = order
            .iter()
            .filter(|t| t.party == p)
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let h: String = segments
            .iter()
            .filter(|(s, _)| *s == Some(p))
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        party_errors += word_errors(&r, &h).0;
        party_matched += matched(&words(&r), &words(&h));
    }
    Score {
        wer: errors as f64 / total as f64,
        attributed_wer: party_errors as f64 / total as f64,
        right_party: party_matched as f64 / total as f64,
        extra_words: words(&all_hyp).len() as isize - words(&all_ref).len() as isize,
        overlaps,
        seconds,
    }
}

/// whisper.cpp's stereo rule: the louder channel over the segment when over 1.1× the other.
fn energy_label(ch: &[Vec<f32>; 2], start: f64, end: f64) -> Option<usize> {
    let a = (start * RATE as f64) as usize;
    let b = ((end * RATE as f64) as usize).min(ch[0].len());
    if b <= a {
        return None;
    }
    let e: Vec<f64> = ch
        .iter()
        .map(|p| p[a..b].iter().map(|x| f64::from(x.abs())).sum())
        .collect();
    if e[0] > 1.1 * e[1] {
        Some(0)
    } else if e[1] > 1.1 * e[0] {
        Some(1)
    } else {
        None
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tsv = arg(&args, "--real").expect("--real TSV of real recordings with references");
    let seconds: f64 = arg(&args, "--seconds").map_or(300.0, |v| v.parse().expect("--seconds"));
    let model = arg(&args, "--model").unwrap_or_else(|| "tiny.en".into());
    let bleeds: Vec<Option<f32>> = arg(&args, "--bleed-db")
        .unwrap_or_else(|| "none,-30,-20,-12".into())
        .split(',')
        .map(|b| (b != "none").then(|| b.parse().expect("--bleed-db")))
        .collect();
    let dir = std::env::temp_dir().join("stenograph-channels-report");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let clips: Vec<(Vec<f32>, String)> = real_clips(&dir, Path::new(&tsv))
        .into_iter()
        .map(|(p, t)| (Audio::from_path(p).expect("clip").into_samples(), t))
        .collect();
    let call = assemble(&clips, seconds);
    let t = Transcriber::builder()
        .model(model.as_str())
        .build()
        .expect("model");
    println!(
        "{seconds:.0} s call, {} turns ({} overlapping), model {model}",
        call.turns.len(),
        call.turns.len() / 5
    );
    println!(
        "| bleed | method | WER | speaker-attributed WER | words recognised for the right party | words beyond reference | segments marked overlap (meeting the other party) | seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for bleed_db in bleeds {
        let gain = bleed_db.map_or(0.0, |db| 10f32.powf(db / 20.0));
        let ch = mix(&call, gain);
        let path = dir.join("call.wav");
        write_stereo(&path, &ch);
        let label = bleed_db.map_or("none".to_string(), |db| format!("{db} dB"));

        let mut opts = TranscribeOptions::default();
        opts.speakers = Speakers::Channels;
        let started = Instant::now();
        let tr: Transcript = t.transcribe_file(&path, &opts).expect("channels");
        let secs = started.elapsed().as_secs_f64();
        let segs: Vec<(Option<usize>, String)> = tr
            .segments
            .iter()
            .map(|s| {
                let party = s.speaker.as_deref().map(|n| usize::from(n == "SPEAKER_1"));
                (party, s.text.clone())
            })
            .collect();
        let marked: Vec<_> = tr.segments.iter().filter(|s| s.overlap).collect();
        let meets = marked
            .iter()
            .filter(|s| {
                let party = usize::from(s.speaker.as_deref() == Some("SPEAKER_1"));
                let (a, b) = (
                    (s.start * RATE as f64) as usize,
                    (s.end * RATE as f64) as usize,
                );
                call.turns
                    .iter()
                    .any(|t| t.party != party && t.start < b && t.end > a)
            })
            .count();
        let overlaps = (marked.len(), meets);
        let a = score(&call, &segs, secs, overlaps);

        let started = Instant::now();
        let tr = t
            .transcribe_file(&path, &TranscribeOptions::default())
            .expect("mix");
        let secs = started.elapsed().as_secs_f64();
        let segs: Vec<(Option<usize>, String)> = tr
            .segments
            .iter()
            .map(|s| (energy_label(&ch, s.start, s.end), s.text.clone()))
            .collect();
        let b = score(&call, &segs, secs, (0, 0));
        for (method, s) in [("channels", a), ("mix+energy", b)] {
            println!(
                "| {label} | {method} | {:.1} % | {:.1} % | {:.1} % | {:+} | {} ({}) | {:.1} |",
                s.wer * 100.0,
                s.attributed_wer * 100.0,
                s.right_party * 100.0,
                s.extra_words,
                s.overlaps.0,
                s.overlaps.1,
                s.seconds
            );
        }
    }
}
