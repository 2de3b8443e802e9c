//! How whisper.cpp picks tokens, with the model's logits replaced through its logits filter by
//! distributions whose outcome is known: beam search at temperature 0 extends its beams with
//! the most likely tokens, sampling draws tokens in proportion to their probabilities, and
//! every call draws from the same seeds whatever earlier calls on the state drew.

mod common;

use std::os::raw::{c_int, c_void};

use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use whisper_rs::whisper_rs_sys as sys;
use whisper_rs::{FullParams, SamplingStrategy, WhisperState};

/// First of the ordinary text tokens the filters below allow.
const FIRST: usize = 1000;
/// Tokens allowed at the first step of the beam-search filter.
const NEAR_TIES: usize = 200;
/// Tokens sampled before the sampling filter ends the text.
const DRAWS: c_int = 100;

/// The end-of-text token, the only one allowed once the filters are done.
fn end_of_text(ctx: *mut sys::whisper_context, logits: &mut [f32]) {
    logits.fill(f32::NEG_INFINITY);
    // SAFETY: `ctx` is the live context whisper.cpp passes to the filter.
    logits[unsafe { sys::whisper_token_eot(ctx) } as usize] = 0.0;
}

/// The vocabulary's logits in a filter call.
///
/// # Safety
/// `ctx` and `logits` are those whisper.cpp passes to the filter.
unsafe fn vocabulary<'a>(ctx: *mut sys::whisper_context, logits: *mut f32) -> &'a mut [f32] {
    std::slice::from_raw_parts_mut(logits, sys::whisper_n_vocab(ctx) as usize)
}

/// First step: 200 tokens of almost equal probability, `FIRST` the most likely by a hair;
/// then the end of the text.
unsafe extern "C" fn near_ties(
    ctx: *mut sys::whisper_context,
    _state: *mut sys::whisper_state,
    _tokens: *const sys::whisper_token_data,
    n_tokens: c_int,
    logits: *mut f32,
    _user: *mut c_void,
) {
    let logits = vocabulary(ctx, logits);
    if n_tokens > 0 {
        return end_of_text(ctx, logits);
    }
    logits.fill(f32::NEG_INFINITY);
    for i in 0..NEAR_TIES {
        logits[FIRST + i] = -0.001 * i as f32;
    }
}

/// 100 steps over 20 tokens: the first 5 nine times as likely as each of the other 15 (three
/// quarters of the draws in all); then the end of the text.
unsafe extern "C" fn weighted(
    ctx: *mut sys::whisper_context,
    _state: *mut sys::whisper_state,
    _tokens: *const sys::whisper_token_data,
    n_tokens: c_int,
    logits: *mut f32,
    _user: *mut c_void,
) {
    let logits = vocabulary(ctx, logits);
    if n_tokens >= DRAWS {
        return end_of_text(ctx, logits);
    }
    logits.fill(f32::NEG_INFINITY);
    for i in 0..20 {
        logits[FIRST + i] = if i < 5 { 9f32.ln() } else { 0.0 };
    }
}

/// The ids of the text tokens (those the filters allow) that `params` decode from `audio`.
fn decode(state: &mut WhisperState, mut params: FullParams<'_, '_>, audio: &[f32]) -> Vec<usize> {
    params.set_no_timestamps(true);
    params.set_no_context(true);
    params.set_suppress_nst(false);
    params.set_temperature_inc(0.0);
    params.set_entropy_thold(0.0);
    params.set_logprob_thold(-1000.0);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_special(false);
    state.full(params, audio).unwrap();
    let mut ids = Vec::new();
    for segment in state.as_iter() {
        for j in 0..segment.n_tokens() {
            let id = segment.get_token(j).unwrap().token_data().id as usize;
            if (FIRST..FIRST + NEAR_TIES).contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

fn setup() -> (Model, Audio) {
    let path = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
    let model = Model::load(path).unwrap();
    let audio = Audio::from_path(common::speech_wav()).unwrap();
    (model, audio)
}

#[test]
fn beam_search_at_temperature_zero_keeps_the_most_likely_tokens() {
    let (model, audio) = setup();
    let mut state = stenograph::testing::whisper_context(&model)
        .create_state()
        .unwrap();
    // Drawn five times from 200 near ties, the most likely token would mostly be missed; kept
    // by rank it is the first candidate of every call.
    for call in 0..3 {
        let mut params = FullParams::new(SamplingStrategy::BeamSearch {
            beam_size: 5,
            patience: -1.0,
        });
        params.set_temperature(0.0);
        // SAFETY: the filter only reads and writes the logits whisper.cpp hands it.
        unsafe { params.set_filter_logits_callback(Some(near_ties)) };
        let ids = decode(&mut state, params, audio.samples());
        assert_eq!(ids, vec![FIRST], "call {call}");
    }
}

#[test]
fn sampling_draws_by_probability_from_the_same_seeds_every_call() {
    let (model, audio) = setup();
    let mut state = stenograph::testing::whisper_context(&model)
        .create_state()
        .unwrap();
    let sample = |state: &mut WhisperState| {
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_temperature(1.0);
        // SAFETY: the filter only reads and writes the logits whisper.cpp hands it.
        unsafe { params.set_filter_logits_callback(Some(weighted)) };
        decode(state, params, audio.samples())
    };
    let first = sample(&mut state);
    assert_eq!(first.len(), DRAWS as usize, "{first:?}");
    let likely = first.iter().filter(|&&id| id < FIRST + 5).count();
    // Three quarters expected (standard deviation 4.3 draws); a draw blind to the weights
    // would give a quarter.
    assert!(
        (58..=92).contains(&likely),
        "{likely} of 100 from the likely five"
    );
    let mut distinct = first.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        distinct.len() >= 10,
        "{} distinct tokens drawn",
        distinct.len()
    );
    // The state's generators were used by the first call; the second starts from the seeds
    // again.
    assert_eq!(sample(&mut state), first);
}
