//! `stenograph decode IN -o OUT.wav` and `stenograph decode IN --info`.

use std::io::BufWriter;
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
    /// Output WAV file (16 kHz mono).
    #[arg(short, long, required_unless_present = "info")]
    output: Option<PathBuf>,
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
    let opts = DecodeOptions::default()
        .with_max_duration(Duration::from_secs_f64(args.max_seconds.min(1e9)))
        .with_truncation(if args.strict {
            Truncation::Error
        } else {
            Truncation::Warn
        });
    let output = args.output.expect("clap requires --output without --info");
    let stream = AudioStream::open(source, &opts)?;
    let file = std::fs::File::create(&output).map_err(|source| Error::Io {
        path: output.clone(),
        source,
    })?;
    let format = if args.float {
        WavFormat::Float32
    } else {
        WavFormat::Pcm16
    };
    let written = write_stream(stream, WavSink::new(BufWriter::new(file), format)?);
    if written.is_err() {
        let _ = std::fs::remove_file(&output);
    }
    written
}

fn write_stream(
    mut stream: AudioStream,
    mut sink: WavSink<BufWriter<std::fs::File>>,
) -> Result<(), Error> {
    for chunk in &mut stream {
        sink.write(&chunk?)?;
    }
    sink.finish()?;
    for warning in stream.warnings() {
        eprintln!("warning: {}: {warning}", stream.input_name());
    }
    Ok(())
}
