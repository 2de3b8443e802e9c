//! `stenograph transcribe FILE...`: speech to text with one shared model.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use clap::{Args, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use stenograph::transcribe::{
    Decoding, Task, TranscribeOptions, Transcriber, Transcript, DEFAULT_MODEL,
};
use stenograph::Error;

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    #[value(name = "verbose_json")]
    VerboseJson,
    Srt,
    Vtt,
    Tsv,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json | Format::VerboseJson => "json",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
            Format::Tsv => "tsv",
        }
    }

    fn render(self, t: &Transcript, translated: bool) -> String {
        match self {
            Format::Text => t.to_text(),
            Format::Json => t.to_json() + "\n",
            Format::VerboseJson if translated => t.to_verbose_json_translation() + "\n",
            Format::VerboseJson => t.to_verbose_json() + "\n",
            Format::Srt => t.to_srt(),
            Format::Vtt => t.to_vtt(),
            Format::Tsv => t.to_tsv(),
        }
    }
}

#[derive(Args)]
pub struct TranscribeArgs {
    /// Audio files (any common format).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Model name (fetched on first use), ggml file, or export directory.
    #[arg(long, short, default_value = DEFAULT_MODEL)]
    model: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "text")]
    format: Format,
    /// Spoken language (ISO 639-1, e.g. en, de); detected when omitted.
    #[arg(long, short)]
    language: Option<String>,
    /// Translate to English (multilingual models).
    #[arg(long)]
    translate: bool,
    /// Beam search with N beams instead of greedy decoding.
    #[arg(long)]
    beam: Option<usize>,
    /// Per-word timings (in verbose_json output).
    #[arg(long)]
    word_timestamps: bool,
    /// Text that primes the decoder (names, jargon).
    #[arg(long)]
    prompt: Option<String>,
    /// Files transcribed at once (default: CPU cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Write FILE.<ext> into this directory instead of printing.
    #[arg(long, short)]
    output_dir: Option<PathBuf>,
    /// Many short recordings: decode them all, then let their speech share decoder windows
    /// (packing needs --language or an English-only model).
    #[arg(long)]
    batch: bool,
}

pub fn run(args: TranscribeArgs) -> Result<(), Error> {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, args.files.len());
    if let Ok(None) = Model::cached_file(&args.model, &FetchOptions::default()) {
        eprintln!("fetching model {} into the cache…", args.model);
    }
    let transcriber = Transcriber::builder()
        .model(args.model.as_str())
        .max_concurrent(jobs)
        .build()?;
    let base = TranscribeOptions {
        language: args.language.clone(),
        task: if args.translate {
            Task::Translate
        } else {
            Task::Transcribe
        },
        initial_prompt: args.prompt.clone(),
        decoding: args.beam.map_or(Decoding::Greedy, Decoding::Beam),
        word_timestamps: args.word_timestamps,
        ..TranscribeOptions::default()
    };
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
    }
    let results = if args.batch {
        batched(&transcriber, &args.files, &base)?
    } else {
        one_by_one(&transcriber, &args.files, &base, jobs)
    };
    let mut failed = None;
    let many = args.files.len() > 1;
    for (file, result) in args.files.iter().zip(results) {
        match result {
            Ok(t) => {
                let out = args.format.render(&t, args.translate);
                match &args.output_dir {
                    Some(dir) => {
                        let name = file.file_stem().unwrap_or(file.as_os_str());
                        let path = dir.join(name).with_extension(args.format.extension());
                        std::fs::write(&path, out).map_err(|source| Error::Io { path, source })?;
                    }
                    None if many => print!("==> {} <==\n{out}", file.display()),
                    None => print!("{out}"),
                }
            }
            Err(e) => {
                if many {
                    eprintln!("error: {e}");
                }
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(e) if !many => Err(e),
        Some(_) => Err(Error::InvalidArgument(
            "some files could not be transcribed".into(),
        )),
        None => Ok(()),
    }
}

/// A progress bar on a terminal, labelled `msg`.
fn bar(bars: Option<&MultiProgress>, msg: String) -> Option<ProgressBar> {
    bars.map(|m| {
        let bar = m.add(ProgressBar::new(100));
        bar.set_style(
            ProgressStyle::with_template("{msg:30!} [{bar:30}] {pos:>3}%")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(msg);
        bar
    })
}

/// Each file streamed on its own, `jobs` at once.
fn one_by_one(
    transcriber: &Transcriber,
    files: &[PathBuf],
    base: &TranscribeOptions,
    jobs: usize,
) -> Vec<Result<Transcript, Error>> {
    let bars = std::io::stderr().is_terminal().then(MultiProgress::new);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Transcript, Error>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(file) = files.get(i) else { break };
                let mut opts = base.clone();
                let bar = bar(bars.as_ref(), file.display().to_string());
                if let Some(bar) = bar.clone() {
                    opts.on_progress = Some(Arc::new(move |p| bar.set_position(u64::from(p))));
                }
                let result = transcriber.transcribe_file(file, &opts);
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                }
                results.lock().expect("results")[i] = Some(result);
            });
        }
    });
    let results = results.into_inner().expect("results");
    results
        .into_iter()
        .map(|r| r.expect("every file was processed"))
        .collect()
}

/// All files decoded, then transcribed in one batch; a file that does not decode keeps its
/// error, the others are transcribed.
fn batched(
    transcriber: &Transcriber,
    files: &[PathBuf],
    base: &TranscribeOptions,
) -> Result<Vec<Result<Transcript, Error>>, Error> {
    let decoded: Vec<Result<Audio, Error>> = files.iter().map(Audio::from_path).collect();
    let inputs: Vec<&[f32]> = decoded
        .iter()
        .filter_map(|d| d.as_ref().ok().map(Audio::samples))
        .collect();
    let bars = std::io::stderr().is_terminal().then(MultiProgress::new);
    let bar = bar(bars.as_ref(), format!("{} files", inputs.len()));
    let mut opts = base.clone();
    if let Some(bar) = bar.clone() {
        opts.on_progress = Some(Arc::new(move |p| bar.set_position(u64::from(p))));
    }
    let mut transcripts = transcriber.transcribe_batch(&inputs, &opts)?.into_iter();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(decoded
        .into_iter()
        .map(|d| d.map(|_| transcripts.next().expect("one transcript per input")))
        .collect())
}
