//! `stenograph decode IN -o OUT.wav` and `stenograph decode IN --info`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use stenograph::audio::{
    probe, AudioSource, AudioStream, DecodeOptions, Truncation, WavFormat, WavSink,
};
use stenograph::Error;

#[derive(Args)]
pub struct DecodeArgs {
    /// Input audio file (WAV, AIFF, FLAC, MP3, Ogg Vorbis/Opus, MP4/M4A, MKV/WebM, CAF); `-` reads stdin.
    input: PathBuf,
    /// Output file: 16 kHz mono WAV, or raw samples with --raw; `-` writes to stdout (--raw only).
    #[arg(short, long, required_unless_present = "info")]
    output: Option<PathBuf>,
    /// Write headerless 32-bit float little-endian samples (like `ffmpeg -f f32le`).
    #[arg(long, conflicts_with = "float")]
    raw: bool,
    /// Print the input's metadata as JSON instead of decoding.
    #[arg(long)]
    info: bool,
    /// Write 32-bit float samples instead of 16-bit PCM.
    #[arg(long)]
    float: bool,
    /// Refuse audio longer than this many seconds.
    #[arg(long, default_value_t = 6.0 * 3600.0)]
    max_seconds: f64,
    /// Fail on truncated or broken-off input instead of keeping what decoded.
    #[arg(long)]
    strict: bool,
}

pub fn run(args: DecodeArgs) -> Result<(), Error> {
    let source = if args.input.as_os_str() == "-" {
        AudioSource::from_stream(std::io::stdin()).named("<stdin>")
    } else {
        AudioSource::from_path(&args.input)
    };
    if args.info {
        let info = probe(source)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&info).expect("metadata serialises")
        );
        return Ok(());
    }
    if !(args.max_seconds.is_finite() && args.max_seconds > 0.0) {
        return Err(Error::InvalidArgument(
            "--max-seconds must be a positive number".into(),
        ));
    }
    let mut opts = DecodeOptions::default();
    opts.max_duration = Duration::from_secs_f64(args.max_seconds.min(1e9));
    opts.truncation = if args.strict {
        Truncation::Error
    } else {
        Truncation::Warn
    };
    let output = args.output.expect("clap requires --output without --info");
    let to_stdout = output.as_os_str() == "-";
    if to_stdout && !args.raw {
        return Err(Error::InvalidArgument(
            "WAV output needs a file (its header is written last); use --raw for stdout".into(),
        ));
    }
    let stream = AudioStream::open(source, &opts)?;
    let sink = if to_stdout {
        Sink::Raw(BufWriter::new(Box::new(std::io::stdout().lock())))
    } else {
        let file = std::fs::File::create(&output).map_err(|source| Error::Io {
            path: output.clone(),
            source,
        })?;
        if args.raw {
            Sink::Raw(BufWriter::new(Box::new(file)))
        } else {
            let format = if args.float {
                WavFormat::Float32
            } else {
                WavFormat::Pcm16
            };
            Sink::Wav(WavSink::new(BufWriter::new(file), format)?)
        }
    };
    let written = write_stream(stream, sink);
    if written.is_err() && !to_stdout {
        let _ = std::fs::remove_file(&output);
    }
    written
}

/// Where decoded samples go.
enum Sink {
    Wav(WavSink<BufWriter<std::fs::File>>),
    Raw(BufWriter<Box<dyn Write>>),
}

impl Sink {
    fn write(&mut self, samples: &[f32]) -> Result<(), Error> {
        match self {
            Sink::Wav(w) => w.write(samples),
            Sink::Raw(w) => {
                let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
                w.write_all(&bytes)
                    .map_err(|source| Error::Write { source })
            }
        }
    }

    fn finish(self) -> Result<(), Error> {
        match self {
            Sink::Wav(w) => w.finish(),
            Sink::Raw(mut w) => w.flush().map_err(|source| Error::Write { source }),
        }
    }
}

fn write_stream(mut stream: AudioStream, mut sink: Sink) -> Result<(), Error> {
    for chunk in &mut stream {
        sink.write(&chunk?)?;
    }
    sink.finish()?;
    for warning in stream.warnings() {
        eprintln!("warning: {}: {warning}", stream.input_name());
    }
    Ok(())
}
