//! Live transcription at real-time pace: how many concurrent streams this machine sustains, how
//! soon a turn's final text follows the end of its speech, how often partial text arrives, and
//! the streams' WER against the batch path on the same audio; with a sliding-window baseline on
//! the same engine (whisper.cpp's `stream` example: every 500 ms, decode the last 5 s; a window
//! is final when it is full, keeping 200 ms).
//!
//! ```text
//! cargo run --release -p stenograph-benches --bin live_compare -- --real ../shared/samples/samples.tsv \
//!     [--seconds 60] [--streams 1,2,4,6,8] [--baseline 1,2,4] [--model tiny.en] [--rate 24000] \
//!     [--partial-weights model|q8_0|…]
//! ```
//!
//! `--partial-weights` picks the weights of partial decodes (default: a q8_0 copy of an f16
//! model, made before the streams start; `model`: the model's own).
//!
//! `--rate` pushes the live streams' audio at another sample rate (converted beforehand), as
//! the server's realtime sessions do with OpenAI's 24 kHz `pcm16` and 8 kHz G.711: the
//! stream's own resampling is then part of what is measured.
//!
//! Each stream is a different long recording made from the TSV's real clips (pauses, room
//! tone, then the same speech under 20 dB pink noise), pushed in 100 ms pieces at the pace it
//! was recorded, each stream on its own thread, all on one `Transcriber` with one decoder state
//! per core and one thread per decode.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use stenograph::audio::Audio;
use stenograph::testing::eval::wer;
use stenograph::transcribe::{
    PartialWeights, StreamEvent, StreamOptions, TranscribeOptions, Transcriber,
};
use stenograph_benches::{arg, real_long};

const PIECE: usize = 1_600;
const RATE: f64 = 16_000.0;

fn list(v: &str) -> Vec<usize> {
    v.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// What one live stream measured.
#[derive(Default)]
struct Live {
    /// Seconds from the arrival of the audio where a turn's speech ended to its final text.
    final_latency: Vec<f64>,
    /// Seconds from the arrival of a turn's first speech to its first partial text (agreed or
    /// not), and to its first agreed words.
    first_partial: Vec<f64>,
    first_agreed: Vec<f64>,
    /// Seconds between partial events while the speaker is speaking, and between those that
    /// bring agreed words.
    partial_gaps: Vec<f64>,
    agreed_gaps: Vec<f64>,
    /// Each turn's agreed partial words beside as many first words of its final text.
    agreed_vs_final: Vec<(String, String)>,
    /// Most a push started after its audio was due.
    max_lag: f64,
    text: String,
}

/// When the piece holding stream second `at` was pushed (pieces go when complete).
fn arrival(t0: Instant, at: f64) -> Instant {
    let piece = PIECE as f64 / RATE;
    t0 + Duration::from_secs_f64(((at / piece).ceil() * piece).max(piece))
}

/// `pcm` (16 kHz) at `rate` Hz, band-limited (rubato's FFT resampler, its delay trimmed).
fn at_rate(pcm: &[f32], rate: u32) -> Vec<f32> {
    use rubato::audioadapter_buffers::direct::{SequentialSlice, SequentialSliceOfVecs};
    use rubato::{Fft, FixedSync, Resampler as _};
    if rate == 16_000 {
        return pcm.to_vec();
    }
    let mut r =
        Fft::<f32>::new(16_000, rate as usize, 1_024, 1, FixedSync::Input).expect("resampler");
    let delay = r.output_delay();
    let mut out = Vec::with_capacity(pcm.len() * rate as usize / 16_000 + 4_096);
    let mut buffer = vec![vec![0.0f32; r.output_frames_max()]];
    let mut padded = pcm.to_vec();
    padded.resize(pcm.len() + 2 * 1_024 + delay, 0.0);
    for chunk in padded.chunks_exact(1_024) {
        let input = SequentialSlice::new(chunk, 1, chunk.len()).expect("chunk");
        let frames = buffer[0].len();
        let mut output = SequentialSliceOfVecs::new_mut(&mut buffer, 1, frames).expect("buffer");
        let (_, written) = r
            .process_into_buffer(&input, &mut output, None)
            .expect("resample");
        out.extend_from_slice(&buffer[0][..written]);
    }
    let n = pcm.len() * rate as usize / 16_000;
    out.drain(..delay.min(out.len()));
    out.truncate(n);
    out
}

fn live_stream(t: &Transcriber, samples: &[f32], rate: u32, start: &Barrier) -> Live {
    let mut s = t.stream(StreamOptions::default()).expect("stream options");
    let mut m = Live::default();
    let mut stopped_at: Option<f64> = None;
    let mut speaking_since: Option<Instant> = None;
    let mut last_partial: Option<Instant> = None;
    let mut last_agreed: Option<Instant> = None;
    let mut agreed = String::new();
    let mut finals = Vec::new();
    let trace = std::env::var_os("STENOGRAPH_LIVE_TRACE").is_some();
    let mut take = |s: &mut stenograph::transcribe::LiveStream, m: &mut Live, t0: Instant| {
        let now = Instant::now();
        while let Some(ev) = s.poll_event() {
            if trace {
                eprintln!("{:7.3} {ev:?}", (now - t0).as_secs_f64());
            }
            match ev {
                StreamEvent::SpeechStarted { at } => {
                    speaking_since = Some(arrival(t0, at));
                    (last_partial, last_agreed) = (None, None);
                    agreed.clear();
                }
                StreamEvent::Partial { delta, text, .. } => {
                    agreed = text;
                    let note =
                        |last: &mut Option<Instant>, gaps: &mut Vec<f64>, first: &mut Vec<f64>| {
                            match (*last, speaking_since) {
                                (Some(prev), _) => gaps.push((now - prev).as_secs_f64()),
                                (None, Some(since)) => {
                                    first.push(now.saturating_duration_since(since).as_secs_f64())
                                }
                                _ => {}
                            }
                            *last = Some(now);
                        };
                    note(&mut last_partial, &mut m.partial_gaps, &mut m.first_partial);
                    if !delta.is_empty() {
                        note(&mut last_agreed, &mut m.agreed_gaps, &mut m.first_agreed);
                    }
                }
                StreamEvent::SpeechStopped { at } => {
                    stopped_at = Some(at);
                    speaking_since = None;
                    (last_partial, last_agreed) = (None, None);
                }
                StreamEvent::Final(u) => {
                    let n = agreed.split_whitespace().count();
                    if n > 0 {
                        let head: Vec<&str> = u.text.split_whitespace().take(n).collect();
                        m.agreed_vs_final
                            .push((head.join(" "), std::mem::take(&mut agreed)));
                    }
                    if let Some(at) = stopped_at.take() {
                        m.final_latency
                            .push(now.saturating_duration_since(arrival(t0, at)).as_secs_f64());
                    }
                    finals.push(u.text);
                }
            }
        }
    };
    start.wait();
    let t0 = Instant::now();
    // 100 ms pieces at the stream's rate.
    let size = PIECE * rate as usize / 16_000;
    for (k, piece) in samples.chunks(size).enumerate() {
        let due = t0 + Duration::from_secs_f64((k + 1) as f64 * PIECE as f64 / RATE);
        let now = Instant::now();
        if due > now {
            // Until the piece is due, look for events every 10 ms (partial text is decoded
            // beside the pushes).
            while let Some(left) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(left.min(Duration::from_millis(10)));
                take(&mut s, &mut m, t0);
            }
        } else {
            m.max_lag = m.max_lag.max((now - due).as_secs_f64());
        }
        s.push_pcm_f32(piece, rate).expect("push");
        take(&mut s, &mut m, t0);
    }
    s.finish().expect("finish");
    take(&mut s, &mut m, t0);
    m.text = finals.join(" ");
    m
}

/// What one sliding-window stream measured.
#[derive(Default)]
struct Window {
    /// Seconds from the end of a step's audio to its decode's end.
    decode: Vec<f64>,
    /// Length in seconds of each window made final.
    committed: Vec<f64>,
    /// The decode delay of each final window.
    commit_delay: Vec<f64>,
    max_lag: f64,
    text: String,
}

fn window_stream(t: &Transcriber, samples: &[f32], start: &Barrier) -> Window {
    const STEP: usize = 8_000;
    const LENGTH: usize = 80_000;
    const KEEP: usize = 3_200;
    let mut opts = TranscribeOptions::default();
    opts.vad = false;
    let mut m = Window::default();
    let mut window: Vec<f32> = Vec::new();
    let mut texts = Vec::new();
    start.wait();
    let t0 = Instant::now();
    for (k, step) in samples.chunks(STEP).enumerate() {
        let due = t0 + Duration::from_secs_f64((k + 1) as f64 * STEP as f64 / RATE);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else {
            m.max_lag = m.max_lag.max((now - due).as_secs_f64());
        }
        window.extend_from_slice(step);
        let audio = Audio::from_pcm_f32(window.clone(), 16_000, 1).expect("pcm");
        let text = t.transcribe(&audio, &opts).expect("window").text;
        let delay = due.elapsed().as_secs_f64();
        m.decode.push(delay);
        if window.len() >= LENGTH {
            m.committed.push(window.len() as f64 / RATE);
            m.commit_delay.push(delay);
            texts.push(text);
            window.drain(..window.len() - KEEP);
        }
    }
    m.text = texts.join(" ");
    m
}

/// Runs `f` on each input on its own thread, all starting together; results in input order.
fn at_once<T: Send>(
    inputs: &[(Vec<f32>, String)],
    f: impl Fn(&[f32], &Barrier) -> T + Sync,
) -> Vec<T> {
    let start = Arc::new(Barrier::new(inputs.len()));
    std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .iter()
            .map(|(pcm, _)| {
                let (f, start) = (&f, start.clone());
                scope.spawn(move || f(pcm, &start))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// WER of `texts` against the inputs' references.
fn wer_of<'a>(inputs: &'a [(Vec<f32>, String)], texts: impl Iterator<Item = &'a str>) -> f64 {
    wer(inputs.iter().map(|(_, r)| r.as_str()).zip(texts))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tsv = arg(&args, "--real").expect("--real TSV of real recordings with references");
    let seconds: f64 = arg(&args, "--seconds").map_or(60.0, |v| v.parse().expect("--seconds"));
    let streams = list(&arg(&args, "--streams").unwrap_or_else(|| "1,2,4,6,8".into()));
    let baseline = list(&arg(&args, "--baseline").unwrap_or_else(|| "1,2,4".into()));
    let model = arg(&args, "--model").unwrap_or_else(|| "tiny.en".into());
    let partial: PartialWeights = arg(&args, "--partial-weights")
        .map_or(Ok(PartialWeights::Auto), |w| w.parse())
        .expect("--partial-weights");
    let rate: u32 = arg(&args, "--rate").map_or(16_000, |v| v.parse().expect("--rate"));
    let most = streams.iter().chain(&baseline).copied().max().unwrap_or(1);
    let dir = std::env::temp_dir().join("stenograph-live-compare");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let inputs: Vec<(Vec<f32>, String)> = (0..most)
        .map(|v| {
            let (path, text) = real_long(&dir, std::path::Path::new(&tsv), seconds, v);
            (
                Audio::from_path(&path).expect("long file").into_samples(),
                text,
            )
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Transcriber::builder()
        .model(model.as_str())
        .max_concurrent(cores)
        .threads_per_call(1)
        .partial_weights(partial)
        .build()
        .expect("model");
    // The copy partial decodes use is made when the first stream opens: make it now.
    drop(t.stream(StreamOptions::default()).expect("stream"));
    let own = t.model().info().tensor_type.clone();
    let since = Instant::now();
    while partial != PartialWeights::Model
        && t.partial_weights() == own
        && since.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let weights = t.partial_weights();
    eprintln!(
        "partial decodes on {weights} weights (ready after {:.2} s)",
        since.elapsed().as_secs_f64()
    );
    let audio_s = inputs[0].0.len() as f64 / RATE;
    eprintln!("{most} recordings of {audio_s:.0} s, model {model}, {cores} cores; batch WER first");
    let batch: Vec<String> = inputs
        .iter()
        .map(|(pcm, _)| {
            let audio = Audio::from_pcm_f32(pcm.clone(), 16_000, 1).expect("pcm");
            t.transcribe(&audio, &TranscribeOptions::default())
                .expect("batch")
                .text
        })
        .collect();

    println!(
        "| engine | streams | final after speech ends p50 / p90 / max s | first partial p50 / p90 s (any text · agreed words) | between partials p50 / p90 s (any · agreed) | agreed words the final changed | max lag s | WER stream | WER batch |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &n in &streams {
        let pushed: Vec<(Vec<f32>, String)> = inputs[..n]
            .iter()
            .map(|(pcm, r)| (at_rate(pcm, rate), r.clone()))
            .collect();
        let runs = at_once(&pushed, |pcm, start| live_stream(&t, pcm, rate, start));
        let all = |f: fn(&Live) -> &Vec<f64>| runs.iter().flat_map(f).copied().collect::<Vec<_>>();
        let (lat, first, gaps) = (
            all(|r| &r.final_latency),
            all(|r| &r.first_partial),
            all(|r| &r.partial_gaps),
        );
        let (first_agreed, agreed_gaps) = (all(|r| &r.first_agreed), all(|r| &r.agreed_gaps));
        let lag = runs.iter().map(|r| r.max_lag).fold(0.0, f64::max);
        let refs = &inputs[..n];
        if args.iter().any(|a| a == "--show") {
            for ((_, r), (run, b)) in refs.iter().zip(runs.iter().zip(&batch)) {
                eprintln!("reference: {r}\nstream:    {}\nbatch:     {b}\n", run.text);
            }
        }
        let w_stream = wer_of(refs, runs.iter().map(|r| r.text.as_str()));
        let w_batch = wer_of(refs, batch.iter().map(String::as_str));
        let revised = wer(runs
            .iter()
            .flat_map(|r| &r.agreed_vs_final)
            .map(|(f, a)| (f.as_str(), a.as_str())));
        println!(
            "| live (VAD turns, LocalAgreement-2, partials {weights}) | {n} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} · {:.2} / {:.2} | {:.2} / {:.2} · {:.2} / {:.2} | {:.1} % | {lag:.2} | {:.1} % | {:.1} % |",
            quantile(&lat, 0.5),
            quantile(&lat, 0.9),
            quantile(&lat, 1.0),
            quantile(&first, 0.5),
            quantile(&first, 0.9),
            quantile(&first_agreed, 0.5),
            quantile(&first_agreed, 0.9),
            quantile(&gaps, 0.5),
            quantile(&gaps, 0.9),
            quantile(&agreed_gaps, 0.5),
            quantile(&agreed_gaps, 0.9),
            revised * 100.0,
            w_stream * 100.0,
            w_batch * 100.0,
        );
    }
    for &n in baseline.iter().filter(|&&n| n > 0) {
        let runs = at_once(&inputs[..n], |pcm, start| window_stream(&t, pcm, start));
        // A word in a window of L seconds waits L/2 on average (0.9 L at the 90th
        // percentile) for the window to fill, then for the decode.
        let mean: Vec<f64> = runs
            .iter()
            .flat_map(|r| {
                r.committed
                    .iter()
                    .zip(&r.commit_delay)
                    .map(|(l, d)| l / 2.0 + d)
            })
            .collect();
        let p90: Vec<f64> = runs
            .iter()
            .flat_map(|r| {
                r.committed
                    .iter()
                    .zip(&r.commit_delay)
                    .map(|(l, d)| 0.9 * l + d)
            })
            .collect();
        let step: Vec<f64> = runs.iter().flat_map(|r| r.decode.iter().copied()).collect();
        let lag = runs.iter().map(|r| r.max_lag).fold(0.0, f64::max);
        let refs = &inputs[..n];
        let w = wer_of(refs, runs.iter().map(|r| r.text.as_str()));
        let w_batch = wer_of(refs, batch.iter().map(String::as_str));
        println!(
            "| sliding window (step 0.5 s, window 5 s) | {n} | {:.2} / {:.2} / – (word to final; decode per step p90 {:.2}) | {:.2} / {:.2} (any text) | 0.50 (unstable text) | | {lag:.2} | {:.1} % | {:.1} % |",
            quantile(&mean, 0.5),
            quantile(&p90, 0.9),
            quantile(&step, 0.9),
            quantile(&step, 0.5),
            quantile(&step, 0.9),
            w * 100.0,
            w_batch * 100.0,
        );
    }
    println!("| LocalAgreement-2 as published (whisper_streaming, large-v2 on a GPU) | 1 | 3.3 average | | | | | | |");
}
