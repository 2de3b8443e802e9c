//! The C ABI with arbitrary arguments: encoded bytes and PCM with any rate and channel count,
//! every option field, out-of-range indices and formats, any buffer length for the error
//! message, and cancellation from the abort callback after 0–3 polls (a random-weight model
//! would otherwise decode garbage for seconds per input). Statuses, never a crash; codec-library
//! panics the core catches are recorded, not fatal (see `panics.rs`).

#![no_main]

use std::ffi::{c_char, c_void, CString};
use std::ptr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stenograph::*;

/// The random-weight model, written once per process.
fn model_path() -> &'static CString {
    static PATH: OnceLock<CString> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("steno-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("random.bin");
        steno::testing::write_random_model(&path, 7).unwrap();
        CString::new(path.to_str().unwrap()).unwrap()
    })
}

/// A transcriber per input, freed at its end: `steno_transcriber_free` waits for the
/// background work of cancelled calls, so nothing outlives the input.
fn transcriber() -> *mut StenoTranscriber {
    let cpu = CString::new("cpu").unwrap();
    let mut t = ptr::null_mut();
    // SAFETY: valid strings and out pointer.
    let status = unsafe { steno_transcriber_new(model_path().as_ptr(), cpu.as_ptr(), &mut t) };
    assert_eq!(status as i32, 0);
    t
}

/// Counts down the polls left in `*user_data`; true (abort) once none are left.
unsafe extern "C" fn abort_after(user_data: *mut c_void) -> bool {
    // SAFETY: `user_data` points at the caller's counter for the whole call.
    let left = unsafe { &mut *(user_data as *mut u32) };
    if *left == 0 {
        return true;
    }
    *left -= 1;
    false
}

/// Reads little-endian integers off the front of the input.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u32(&mut self) -> u32 {
        let (head, rest) = self.0.split_at(self.0.len().min(4));
        self.0 = rest;
        let mut b = [0u8; 4];
        b[..head.len()].copy_from_slice(head);
        u32::from_le_bytes(b)
    }
}

mod panics;

fuzz_target!(|data: &[u8]| panics::run("c_api", data, || {
    let t = transcriber();
    exercise(t, data);
    // SAFETY: `t` came from steno_transcriber_new and every call on it has returned.
    unsafe { steno_transcriber_free(t) };
}));

fn exercise(t: *mut StenoTranscriber, data: &[u8]) {
    let mut input = Input(data);
    let op = input.u32();
    let mut opts = steno_options_default();
    let language =
        CString::new(["en", "de", "xx", "", "english"][(input.u32() % 5) as usize]).unwrap();
    let prompt = CString::new("a prompt").unwrap();
    let flags = input.u32();
    if flags & 1 != 0 {
        opts.language = language.as_ptr();
    }
    if flags & 2 != 0 {
        opts.initial_prompt = prompt.as_ptr();
    }
    // 0 and 1 are tasks; 2 and 3 must be refused.
    opts.task = (flags >> 2 & 3) as i32;
    opts.word_timestamps = (flags >> 4 & 1) as i32;
    opts.vad = (flags >> 5 & 1) as i32;
    opts.temperature_fallback = (flags >> 6 & 1) as i32;
    opts.condition_on_previous_text = (flags >> 7 & 1) as i32;
    opts.beam_size = input.u32() % 9;
    opts.temperature = f32::from_bits(input.u32());
    opts.max_segment_chars = input.u32() % 200;
    let mut polls = flags >> 8 & 3;
    opts.should_abort = Some(abort_after);
    opts.user_data = (&mut polls as *mut u32).cast();
    let mut out = ptr::null_mut();
    let rest = input.0;
    // SAFETY: every pointer is valid for the length given.
    let status = unsafe {
        match op % 4 {
            0 => steno_transcribe_memory(t, rest.as_ptr(), rest.len(), &opts, &mut out),
            1 => {
                let rate = input.u32();
                let channels = (input.u32() % 9) as u16;
                let pcm: Vec<f32> = input
                    .0
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                let frames = pcm.len() / usize::from(channels.max(1));
                steno_transcribe_pcm(t, pcm.as_ptr(), frames, rate, channels, &opts, &mut out)
            }
            2 => {
                let rate = input.u32();
                let channels = (input.u32() % 9) as u16;
                let pcm: Vec<i16> = input
                    .0
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                let frames = pcm.len() / usize::from(channels.max(1));
                steno_transcribe_pcm_i16(t, pcm.as_ptr(), frames, rate, channels, &opts, &mut out)
            }
            _ => {
                steno_transcribe_memory(t, rest.as_ptr(), rest.len(), ptr::null(), ptr::null_mut())
            }
        }
    };
    let mut buf = [0 as c_char; 64];
    // SAFETY: `buf` holds 64 chars; the length passed is at most that.
    unsafe { steno_last_error_message(buf.as_mut_ptr(), (op as usize >> 8) % 65) };
    let _ = steno_status_name(status as i32 ^ (op as i32 >> 16));
    if out.is_null() {
        assert_ne!(status as i32, 0, "OK without a transcript");
        return;
    }
    // SAFETY: `out` is a live transcript until freed below.
    unsafe {
        let n = steno_transcript_segment_count(out);
        let mut seg = std::mem::zeroed();
        let mut word = std::mem::zeroed();
        for i in [0, n.saturating_sub(1), n, op as usize] {
            let _ = steno_transcript_segment(out, i, &mut seg);
            let _ = steno_transcript_word(out, i, op as usize % 4, &mut word);
        }
        let mut text = ptr::null_mut();
        if steno_transcript_format(out, (op >> 4) as i32 % 8 - 1, &mut text) as i32 == 0 {
            steno_string_free(text);
        }
        let _ = steno_transcript_text(out);
        let _ = steno_transcript_duration(out);
        steno_transcript_free(out);
    }
}
