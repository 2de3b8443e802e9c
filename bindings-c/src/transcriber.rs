//! `steno_transcriber`: a loaded model, and the calls that transcribe with it.

use std::ffi::c_char;

use steno::audio::{Audio, AudioSource, AudioStream, DecodeOptions};
use steno::transcribe::{CancelToken, OnCancel, Transcriber, DEFAULT_MODEL};
use steno::Device;

use crate::options::{core_options, opt_str, StenoOptions};
use crate::status::{fail, from_core, guard, StenoStatus};
use crate::transcript::StenoTranscript;

/// A loaded model (opaque), usable from many threads at once. Free with
/// `steno_transcriber_free`.
pub struct StenoTranscriber(pub(crate) Transcriber);

/// How to load a model; start from `steno_transcriber_options_default()`, which sets `size`
/// (fields past the size a caller was compiled with keep their defaults).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StenoTranscriberOptions {
    /// `sizeof(steno_transcriber_options)` as the caller was compiled.
    pub size: usize,
    /// A registry name such as "tiny.en" (fetched into the cache on first use) or a ggml file
    /// path; NULL: the default model.
    pub model: *const c_char,
    /// "auto", "cpu", "gpu" or "gpu:N"; NULL: "auto".
    pub device: *const c_char,
    /// Most calls running at once; 0: one per CPU core.
    pub max_concurrent: u32,
    /// CPU threads inside each call; 0: 1.
    pub threads_per_call: u32,
}

/// The defaults: the default model on "auto", one call per core, one thread each; `size` set.
#[no_mangle]
pub extern "C" fn steno_transcriber_options_default() -> StenoTranscriberOptions {
    StenoTranscriberOptions {
        size: std::mem::size_of::<StenoTranscriberOptions>(),
        model: std::ptr::null(),
        device: std::ptr::null(),
        max_concurrent: 0,
        threads_per_call: 0,
    }
}

/// Loads `model` (a registry name such as "tiny.en", fetched into the cache on first use, or
/// a ggml file path; NULL: the default model) on `device` ("auto", "cpu", "gpu", "gpu:N";
/// NULL: "auto") into `*out`, with the other settings at their defaults
/// (`steno_transcriber_open` sets them all).
///
/// # Safety
/// `model` and `device` must be NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcriber_new(
    model: *const c_char,
    device: *const c_char,
    out: *mut *mut StenoTranscriber,
) -> StenoStatus {
    let opts = StenoTranscriberOptions {
        model,
        device,
        ..steno_transcriber_options_default()
    };
    // SAFETY: as documented above.
    unsafe { steno_transcriber_open(&opts, out) }
}

/// Loads a model as `opts` says (NULL: the defaults) into `*out`.
///
/// # Safety
/// `opts` NULL or a `steno_transcriber_options` of its `size` whose strings are NULL or
/// NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcriber_open(
    opts: *const StenoTranscriberOptions,
    out: *mut *mut StenoTranscriber,
) -> StenoStatus {
    guard(|| {
        if out.is_null() {
            return fail(StenoStatus::NullArgument, "out is NULL");
        }
        // SAFETY: `out` is writable; cleared first so a failure leaves NULL.
        unsafe { out.write(std::ptr::null_mut()) };
        let run = || -> Result<StenoTranscriber, StenoStatus> {
            let o = if opts.is_null() {
                steno_transcriber_options_default()
            } else {
                // SAFETY: a valid struct of its `size`, as documented.
                unsafe { crate::options::read_sized(opts, steno_transcriber_options_default())? }
            };
            // SAFETY: NULL or NUL-terminated, as documented.
            let model = unsafe { opt_str(o.model, "model")? }.unwrap_or(DEFAULT_MODEL.into());
            // SAFETY: NULL or NUL-terminated, as documented.
            let device = unsafe { opt_str(o.device, "device")? }.unwrap_or("auto".into());
            let mut b = Transcriber::builder()
                .model(model)
                .device(device.parse::<Device>().map_err(from_core)?);
            if o.max_concurrent > 0 {
                b = b.max_concurrent(o.max_concurrent as usize);
            }
            if o.threads_per_call > 0 {
                b = b.threads_per_call(o.threads_per_call as usize);
            }
            Ok(StenoTranscriber(b.build().map_err(from_core)?))
        };
        match run() {
            Ok(t) => {
                // SAFETY: `out` is writable.
                unsafe { out.write(Box::into_raw(Box::new(t))) };
                StenoStatus::Ok
            }
            Err(status) => status,
        }
    })
}

/// Frees a transcriber (NULL is ignored). Calls still running on it must have returned;
/// the background work of cancelled calls is waited for (at most one encoder pass), so the
/// model is unloaded when this returns and the process may exit safely.
///
/// # Safety
/// `t` must be NULL or a transcriber from this library, not freed before.
#[no_mangle]
pub unsafe extern "C" fn steno_transcriber_free(t: *mut StenoTranscriber) {
    crate::status::guard_value((), || {
        if !t.is_null() {
            // SAFETY: a transcriber this library handed out, freed once.
            let t = unsafe { Box::from_raw(t) };
            t.0.wait_background();
            drop(t);
        }
    });
}

/// Transcribes `sources` with the options at `opts` into the `sources.len()` slots at `out`
/// (one input: a call; several: a batch): on the calling thread, or, with an abort callback,
/// on a worker thread while this one polls the callback.
///
/// # Safety
/// `t` must be NULL or a live transcriber, `opts` NULL or valid, `out` NULL or `n` writable
/// slots where `n` is what `sources` returns.
unsafe fn transcribe(
    t: *const StenoTranscriber,
    sources: impl FnOnce() -> Result<Vec<AudioSource>, StenoStatus>,
    slots: usize,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    guard(|| {
        if out.is_null() {
            return fail(StenoStatus::NullArgument, "out is NULL");
        }
        // SAFETY: `slots` writable slots; cleared first so a failure leaves NULLs.
        unsafe { std::slice::from_raw_parts_mut(out, slots).fill(std::ptr::null_mut()) };
        // SAFETY: NULL or a live transcriber.
        let Some(t) = (unsafe { t.as_ref() }) else {
            return fail(StenoStatus::NullArgument, "transcriber is NULL");
        };
        let sources = match sources() {
            Ok(s) => s,
            Err(status) => return status,
        };
        // SAFETY: NULL or a valid `steno_options`.
        let (mut core, should_abort, user_data) = match unsafe { core_options(opts) } {
            Ok(o) => o,
            Err(status) => return status,
        };
        let batch = sources.len() != 1 || slots != 1;
        let run = move |t: &Transcriber, core: &steno::transcribe::TranscribeOptions| {
            if !batch {
                let source = sources.into_iter().next().expect("one input");
                let mut decode = DecodeOptions::default();
                decode.separate_channels = core.speakers == steno::transcribe::Speakers::Channels;
                return AudioStream::open(source, &decode)
                    .and_then(|stream| t.transcribe_stream(stream, core))
                    .map(|tr| vec![tr]);
            }
            let audio = sources
                .into_iter()
                .map(|s| Audio::decode(s, &DecodeOptions::default()))
                .collect::<steno::Result<Vec<_>>>()?;
            let mut transcripts = t.transcribe_batch(&audio, core)?;
            for (tr, a) in transcripts.iter_mut().zip(&audio) {
                tr.warnings = a.warnings().to_vec();
            }
            Ok(transcripts)
        };
        let result = match should_abort {
            None => run(&t.0, &core),
            Some(cb) => {
                // The abort callback is polled on this thread while the work runs on the core's
                // watched thread; a cancelled call returns once the work has stopped, so no
                // callback runs and no caller data is used after this function returns.
                let token = CancelToken::new();
                core.cancel = Some(token.clone());
                let user = crate::options::UserData(user_data);
                t.0.run_watched(
                    &token,
                    OnCancel::WaitForWork,
                    // SAFETY: the caller's callback, on the caller's thread, with its user data.
                    move || unsafe { cb(user.0) },
                    move |t| run(t, &core),
                )
            }
        };
        match result {
            Ok(transcripts) => {
                for (i, tr) in transcripts.into_iter().enumerate().take(slots) {
                    // SAFETY: slot `i` of `slots` is writable.
                    unsafe {
                        out.add(i)
                            .write(Box::into_raw(Box::new(StenoTranscript::new(tr))))
                    };
                }
                StenoStatus::Ok
            }
            Err(e) => from_core(e),
        }
    })
}

/// Transcribes the audio file at `path` (any common format) into `*out`.
///
/// # Safety
/// `t` NULL or live; `path` NULL or NUL-terminated; `opts` NULL (defaults) or valid; `out`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcribe_file(
    t: *const StenoTranscriber,
    path: *const c_char,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    let source = || {
        // SAFETY: NULL or NUL-terminated.
        match unsafe { opt_str(path, "path")? } {
            Some(p) => Ok(vec![AudioSource::from_path(p)]),
            None => Err(fail(StenoStatus::NullArgument, "path is NULL")),
        }
    };
    // SAFETY: as documented above.
    unsafe { transcribe(t, source, 1, opts, out) }
}

/// Transcribes the `len` bytes at `data` (an encoded file: WAV, MP3, FLAC, Ogg, M4A, ...)
/// into `*out`. The bytes are copied; the caller keeps them.
///
/// # Safety
/// `t` NULL or live; `data` NULL or `len` readable bytes; `opts` NULL or valid; `out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcribe_memory(
    t: *const StenoTranscriber,
    data: *const u8,
    len: usize,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    let source = || {
        if data.is_null() {
            return Err(fail(StenoStatus::NullArgument, "data is NULL"));
        }
        // SAFETY: `len` readable bytes at `data`.
        let bytes = unsafe { std::slice::from_raw_parts(data, len) }.to_vec();
        Ok(vec![AudioSource::from_bytes(bytes)])
    };
    // SAFETY: as documented above.
    unsafe { transcribe(t, source, 1, opts, out) }
}

/// Transcribes `frames` frames of interleaved float PCM (`channels` channels at
/// `sample_rate` Hz, nominally in [-1, 1]) at `samples` into `*out`. The samples are copied.
///
/// # Safety
/// `t` NULL or live; `samples` NULL or `frames * channels` readable floats; `opts` NULL or
/// valid; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcribe_pcm(
    t: *const StenoTranscriber,
    samples: *const f32,
    frames: usize,
    sample_rate: u32,
    channels: u16,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    let source = || {
        // SAFETY: as documented above.
        let pcm = unsafe { pcm_slice(samples, frames, channels)? }.to_vec();
        Ok(vec![AudioSource::from_pcm_f32(pcm, sample_rate, channels)])
    };
    // SAFETY: as documented above.
    unsafe { transcribe(t, source, 1, opts, out) }
}

/// [`steno_transcribe_pcm`] for 16-bit signed PCM, as telephony and most recorders give it.
///
/// # Safety
/// `t` NULL or live; `samples` NULL or `frames * channels` readable `int16_t`; `opts` NULL or
/// valid; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn steno_transcribe_pcm_i16(
    t: *const StenoTranscriber,
    samples: *const i16,
    frames: usize,
    sample_rate: u32,
    channels: u16,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    let source = || {
        // SAFETY: as documented above.
        let pcm = unsafe { pcm_slice(samples, frames, channels)? }.to_vec();
        Ok(vec![AudioSource::from_pcm_i16(pcm, sample_rate, channels)])
    };
    // SAFETY: as documented above.
    unsafe { transcribe(t, source, 1, opts, out) }
}

/// The `frames * channels` samples at `samples`, checked for NULL and overflow.
///
/// # Safety
/// `samples` NULL or `frames * channels` readable values.
unsafe fn pcm_slice<'a, T>(
    samples: *const T,
    frames: usize,
    channels: u16,
) -> Result<&'a [T], StenoStatus> {
    if samples.is_null() {
        return Err(fail(StenoStatus::NullArgument, "samples is NULL"));
    }
    let Some(n) = frames.checked_mul(usize::from(channels)) else {
        return Err(fail(
            StenoStatus::InvalidArgument,
            "frames * channels overflows",
        ));
    };
    // SAFETY: `n` readable values at `samples`.
    Ok(unsafe { std::slice::from_raw_parts(samples, n) })
}

/// Transcribes the `count` audio files at `paths` in one batch (short recordings share
/// decoder windows) into the `count` slots at `out`, in input order; the caller frees each
/// transcript. A file that cannot be decoded fails the whole call (every slot NULL). The
/// segment callback is refused for a batch.
///
/// # Safety
/// `t` NULL or live; `paths` NULL or `count` pointers, each NULL or NUL-terminated; `opts` NULL
/// or valid; `out` NULL or `count` writable slots.
#[no_mangle]
pub unsafe extern "C" fn steno_transcribe_batch_files(
    t: *const StenoTranscriber,
    paths: *const *const c_char,
    count: usize,
    opts: *const StenoOptions,
    out: *mut *mut StenoTranscript,
) -> StenoStatus {
    let sources = || {
        if paths.is_null() {
            return Err(fail(StenoStatus::NullArgument, "paths is NULL"));
        }
        // SAFETY: `count` readable pointers at `paths`.
        let paths = unsafe { std::slice::from_raw_parts(paths, count) };
        paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // SAFETY: NULL or NUL-terminated.
                match unsafe { opt_str(*p, "path")? } {
                    Some(p) => Ok(AudioSource::from_path(p)),
                    None => Err(fail(
                        StenoStatus::NullArgument,
                        format!("paths[{i}] is NULL"),
                    )),
                }
            })
            .collect()
    };
    // SAFETY: as documented above.
    unsafe { transcribe(t, sources, count, opts, out) }
}
