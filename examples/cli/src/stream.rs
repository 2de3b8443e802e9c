//! `stenograph stream FILE|-`: live transcription of a file or of raw audio on stdin, one JSON
//! event per line as it happens.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use stenograph::audio::Audio;
use stenograph::transcribe::{
    language, languages, PartialWeights, StreamOptions, Transcriber, DEFAULT_MODEL,
};
use stenograph::{Device, Error};

/// Audio pushed at a time: 100 ms at 16 kHz.
const PIECE: usize = 1_600;

#[derive(Args)]
pub struct StreamArgs {
    /// An audio file (any common format), or `-` for raw 16-bit little-endian 16 kHz mono on
    /// stdin.
    input: PathBuf,
    /// Model name (fetched on first use), ggml file, or export directory.
    #[arg(long, short, default_value = DEFAULT_MODEL)]
    model: String,
    /// Spoken language (ISO 639-1); detected on the first turn when omitted.
    #[arg(long, short)]
    language: Option<String>,
    /// Languages detection chooses from, comma-separated (e.g. en,de,fr); any when omitted.
    #[arg(long)]
    languages: Option<String>,
    /// Push a file at real-time pace (as a live call would arrive) instead of at once.
    #[arg(long)]
    realtime: bool,
    /// Silence that ends a turn, in milliseconds.
    #[arg(long, default_value_t = 500)]
    silence_ms: u32,
    /// How often a turn in progress is decoded for partial text, in milliseconds (0: none).
    #[arg(long, default_value_t = 400)]
    partial_ms: u32,
    /// Per-word timings in final segments.
    #[arg(long)]
    word_timestamps: bool,
    /// Where to run: auto (the GPU in GPU builds), cpu, gpu or gpu:N.
    #[arg(long, default_value = "auto")]
    device: Device,
    /// Weights of partial decodes: auto (a q8_0 copy of an f16 or f32 model on the CPU),
    /// model (its own), or a quantization type; final text always uses the model's own.
    #[arg(long, default_value = "auto")]
    partial_weights: PartialWeights,
}

pub fn run(args: StreamArgs) -> Result<(), Error> {
    let transcriber = Transcriber::builder()
        .model(args.model.as_str())
        .device(args.device)
        .partial_weights(args.partial_weights)
        .build()?;
    let opts = StreamOptions {
        language: language(args.language.as_deref())?,
        languages: languages(args.languages.as_deref().unwrap_or(""))?,
        silence_ms: args.silence_ms,
        partial_interval_ms: args.partial_ms,
        word_timestamps: args.word_timestamps,
        ..StreamOptions::default()
    };
    let mut stream = transcriber.stream(opts)?;
    let mut out = std::io::stdout().lock();
    let mut print = |stream: &mut stenograph::transcribe::LiveStream| -> Result<(), Error> {
        while let Some(ev) = stream.poll_event() {
            let line = serde_json::to_string(&ev).map_err(|e| Error::Inference(e.to_string()))?;
            writeln!(out, "{line}")
                .and_then(|_| out.flush())
                .map_err(|source| Error::Write { source })?;
        }
        Ok(())
    };
    if args.input.as_os_str() == "-" {
        let mut stdin = std::io::stdin().lock();
        let mut bytes = vec![0u8; PIECE * 2];
        let mut carry: Option<u8> = None;
        loop {
            let n = stdin.read(&mut bytes).map_err(|source| Error::Io {
                path: PathBuf::from("-"),
                source,
            })?;
            if n == 0 {
                break;
            }
            let mut all: Vec<u8> = carry.take().into_iter().collect();
            all.extend_from_slice(&bytes[..n]);
            if all.len() % 2 == 1 {
                carry = all.pop();
            }
            let pcm: Vec<i16> = all
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            stream.push_pcm_i16(&pcm, 16_000)?;
            print(&mut stream)?;
        }
    } else {
        let audio = Audio::from_path(&args.input)?;
        let start = Instant::now();
        for (i, piece) in audio.samples().chunks(PIECE).enumerate() {
            if args.realtime {
                let due = Duration::from_millis(i as u64 * 100);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            stream.push_pcm_f32(piece, 16_000)?;
            print(&mut stream)?;
        }
    }
    stream.finish()?;
    print(&mut stream)
}
