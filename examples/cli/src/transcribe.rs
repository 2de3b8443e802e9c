//! `stenograph transcribe FILE...`: speech to text with one shared model.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use stenograph::transcribe::{
    hotwords, language, languages, speaker_names, Decoding, Format, SoundEvents, Speakers, Task,
    TranscribeOptions, Transcriber, Transcript, DEFAULT_MODEL,
};
use stenograph::{Device, Error};

/// A transcript in `format`, ending in a newline.
fn render(t: &Transcript, format: Format) -> String {
    let out = t.render(format);
    if out.ends_with('\n') {
        out
    } else {
        out + "\n"
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
    /// Output format: text, json, verbose_json, srt, vtt, tsv or diarized_json.
    #[arg(long, short, default_value = "text")]
    format: Format,
    /// Spoken language (ISO 639-1, e.g. en, de); detected when omitted or `auto`.
    #[arg(long, short)]
    language: Option<String>,
    /// Languages detection chooses from, comma-separated (e.g. en,de,fr); any when omitted.
    #[arg(long)]
    languages: Option<String>,
    /// transcribe, or translate to English (multilingual models).
    #[arg(long, default_value = "transcribe")]
    task: Task,
    /// The same as `--task translate`.
    #[arg(long, conflicts_with = "task")]
    translate: bool,
    /// Beam search with N beams (2–8); 0 or 1 is greedy decoding (default).
    #[arg(long, visible_alias = "beam", default_value_t = 1)]
    beam_size: usize,
    /// Per-word timings (in verbose_json output).
    #[arg(long)]
    word_timestamps: bool,
    /// Who said what: `channels` for one speaker per channel (call-centre stereo), `auto` or a
    /// count (2, 3, …) for speakers told apart by voice, `none`.
    #[arg(long, default_value = "none")]
    speakers: Speakers,
    /// Speakers' names in channel order, comma-separated (default SPEAKER_0, SPEAKER_1, …).
    #[arg(long, requires = "speakers")]
    speaker_names: Option<String>,
    /// Text that primes the decoder (names, jargon).
    #[arg(long, visible_alias = "prompt")]
    initial_prompt: Option<String>,
    /// Terms to recognise with their spelling in every window (customers, products),
    /// comma-separated.
    #[arg(long)]
    hotwords: Option<String>,
    /// A file of hotwords, one per line (with --hotwords: both lists).
    #[arg(long)]
    hotwords_file: Option<PathBuf>,
    /// Laughter, coughs, music and noise that Whisper annotates ("(laughs)", "[Music]"): `drop`
    /// them from the text, `keep` the annotations, or `suppress` them while decoding (as
    /// whisper.cpp does; Whisper then writes invented words for some of them).
    #[arg(long, default_value = "drop")]
    sound_events: SoundEvents,
    /// Decoder states, one core each (default: CPU cores): one long file's chunks spread over
    /// all of them, and up to this many files are transcribed at once.
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Write each transcript into this directory instead of printing, named after its input
    /// with the format's extension (call.part1.mp3 gives call.part1.txt).
    #[arg(long, short)]
    output_dir: Option<PathBuf>,
    /// Many short recordings: decode them all, then let their speech share decoder windows
    /// (packing needs --language or an English-only model).
    #[arg(long)]
    batch: bool,
    /// Where to run: auto (the GPU in GPU builds), cpu, gpu or gpu:N.
    #[arg(long, default_value = "auto")]
    device: Device,
}

/// The hotwords of `--hotwords` and `--hotwords-file`, checked.
fn hotword_args(args: &TranscribeArgs) -> Result<Vec<String>, Error> {
    let mut given = args.hotwords.clone().unwrap_or_default();
    if let Some(path) = &args.hotwords_file {
        let file = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        given = format!("{given}\n{file}");
    }
    hotwords(&given)
}

pub fn run(args: TranscribeArgs) -> Result<(), Error> {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    if let Ok(None) = Model::cached_file(&args.model, &FetchOptions::default()) {
        eprintln!("fetching model {} into the cache…", args.model);
    }
    let transcriber = Transcriber::builder()
        .model(args.model.as_str())
        .device(args.device)
        .max_concurrent(jobs)
        .build()?;
    let mut base = TranscribeOptions::default();
    base.language = language(args.language.as_deref())?;
    base.languages = languages(args.languages.as_deref().unwrap_or(""))?;
    base.task = if args.translate {
        Task::Translate
    } else {
        args.task
    };
    base.initial_prompt = args.initial_prompt.clone();
    base.hotwords = hotword_args(&args)?;
    base.decoding = Decoding::from_beam_size(args.beam_size)?;
    base.word_timestamps = args.word_timestamps;
    base.speakers = args.speakers;
    base.sound_events = args.sound_events;
    base.speaker_names = speaker_names(args.speaker_names.as_deref().unwrap_or(""))?;
    if args.batch && base.speakers != Speakers::None {
        return Err(Error::InvalidArgument(
            "--speakers tells one recording's speakers apart; it does not combine with --batch"
                .into(),
        ));
    }
    base.validate()?;
    let outputs = match &args.output_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            Some(output_paths(dir, &args.files, args.format)?)
        }
        None => None,
    };
    let results = if args.batch {
        batched(&transcriber, &args.files, &base)?
    } else {
        one_by_one(&transcriber, &args.files, &base, jobs.min(args.files.len()))
    };
    let mut failed = None;
    let many = args.files.len() > 1;
    for (i, (file, result)) in args.files.iter().zip(results).enumerate() {
        match result {
            Ok(t) => {
                let out = render(&t, args.format);
                match &outputs {
                    Some(paths) => {
                        let path = paths[i].clone();
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

/// Where each file's transcript goes in `dir`: the input's name without its last extension,
/// plus the format's (`call.part1.mp3` gives `call.part1.txt`). Two inputs that would share an
/// output (`a.wav` and `a.mp3`, or the same name in two directories) are refused before
/// anything is transcribed: no output of a run overwrites another.
fn output_paths(
    dir: &std::path::Path,
    files: &[PathBuf],
    format: Format,
) -> Result<Vec<PathBuf>, Error> {
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let mut name = file.file_stem().unwrap_or(file.as_os_str()).to_os_string();
        name.push(".");
        name.push(format.extension());
        let path = dir.join(name);
        if let Some(other) = seen.insert(path.clone(), file) {
            return Err(Error::InvalidArgument(format!(
                "{} and {} would both be written to {}",
                other.display(),
                file.display(),
                path.display()
            )));
        }
        out.push(path);
    }
    Ok(out)
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
