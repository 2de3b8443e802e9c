//! `stenograph`: the command-line face of the library.

mod decode;
mod model;
mod stream;
mod system;
mod transcribe;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Speech-to-text for any common audio file.
#[derive(Parser)]
#[command(name = "stenograph", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Transcribe audio files (text, json, verbose_json, srt, vtt, tsv).
    Transcribe(transcribe::TranscribeArgs),
    /// Decode any audio file to 16 kHz mono WAV, or print its metadata.
    Decode(decode::DecodeArgs),
    /// Fetch, list, inspect, import and quantize Whisper models.
    Model(model::ModelArgs),
    /// Live transcription of a file or of raw 16 kHz audio on stdin: one JSON event per line.
    Stream(stream::StreamArgs),
    /// What this build runs on here: the CPU backend chosen for this CPU, its instruction sets, GPUs.
    System(system::SystemArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transcribe(args) => transcribe::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Model(args) => model::run(args),
        Command::Stream(args) => stream::run(args),
        Command::System(args) => system::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
