//! The no-speech probability (vendored patch 0022): whisper.cpp reads it from the logits at
//! `<|startoftranscript|>`, where Whisper predicts it, whatever comes before that token. It
//! read the first row of the logits, which the decoder fills only when the prompt is that
//! token alone: after a prompt (an initial prompt, the previous window's text, or a
//! multilingual model's language and task tokens with a language given) it was another
//! decode's leftover, or 1/n_vocab on a fresh state, and the no-speech check never fired.

mod common;

use common::raw::{cpu_context, encoded_state};
use common::speech::speak;
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use whisper_rs::whisper_rs_sys as sys;

/// The probability of `<|nospeech|>` after `tokens` (ending with `<|startoftranscript|>`),
/// decoded on `state`'s encoded window.
fn no_speech_after(
    ctx: *mut sys::whisper_context,
    state: *mut sys::whisper_state,
    tokens: &[i32],
) -> f64 {
    // SAFETY: plain C calls on a live context and state; the logits row read is the last one
    // the decode filled.
    let row = unsafe {
        let n = tokens.len() as i32;
        assert_eq!(
            sys::whisper_decode_with_state(ctx, state, tokens.as_ptr(), n, 0, 1),
            0
        );
        let n_vocab = sys::whisper_n_vocab(ctx) as usize;
        let logits = sys::whisper_get_logits_from_state(state);
        std::slice::from_raw_parts(logits.add((tokens.len() - 1) * n_vocab), n_vocab).to_vec()
    };
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = row.iter().map(|&l| f64::from(l - max).exp()).sum();
    // SAFETY: a plain C call on a live context.
    let nosp = unsafe { sys::whisper_token_nosp(ctx) } as usize;
    f64::from(row[nosp] - max).exp() / sum
}

#[test]
fn no_speech_probability_is_read_at_the_start_of_transcript_after_a_prompt() {
    let model = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
    let clip = Audio::from_path(speak(
        common::dir(),
        "en-us",
        "The renewal quote goes out to the customer on Monday.",
        "no-speech",
    ))
    .unwrap()
    .into_samples();
    let ctx = cpu_context(&model);
    let state = encoded_state(ctx, &clip);
    let prompt_text = c"Quarterly renewal, Acme Corporation.";
    // SAFETY: plain C calls on the live context and state; the prompt tokens outlive the
    // call that reads them; both are freed once at the end.
    unsafe {
        let mut prompt = vec![0i32; 64];
        let n = sys::whisper_tokenize(ctx, prompt_text.as_ptr(), prompt.as_mut_ptr(), 64);
        assert!(n > 0);
        prompt.truncate(n as usize);

        let mut params = sys::whisper_full_default_params(
            sys::whisper_sampling_strategy_WHISPER_SAMPLING_GREEDY,
        );
        params.n_threads = 1;
        params.no_context = true;
        params.prompt_tokens = prompt.as_ptr();
        params.prompt_n_tokens = prompt.len() as i32;
        params.print_progress = false;
        params.print_realtime = false;
        params.print_timestamps = false;
        let n = clip.len() as i32;
        assert_eq!(
            sys::whisper_full_with_state(ctx, state, params, clip.as_ptr(), n),
            0
        );
        assert!(sys::whisper_full_n_segments_from_state(state) > 0);
        let got = f64::from(sys::whisper_full_get_segment_no_speech_prob_from_state(
            state, 0,
        ));

        // The prompt whisper.cpp decodes: <|startofprev|>, the prompt, <|startoftranscript|>.
        let mut tokens = vec![sys::whisper_token_prev(ctx)];
        tokens.extend(&prompt);
        tokens.push(sys::whisper_token_sot(ctx));
        let want = no_speech_after(ctx, state, &tokens);
        let uniform = 1.0 / f64::from(sys::whisper_n_vocab(ctx));
        sys::whisper_free_state(state);
        sys::whisper_free(ctx);

        assert!(
            (got - want).abs() <= 1e-5 * want.max(1e-6),
            "no-speech probability {got:e}, Whisper's at <|startoftranscript|> {want:e} \
             (1/n_vocab: {uniform:e})"
        );
    }
}
