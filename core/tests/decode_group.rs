//! The vendored whisper.cpp's batched decoder (`whisper_decode_group_run`, patch 0005): decoder
//! steps of several windows run as one batch give the greedy tokens, and the logits (bit for
//! bit with ggml's row-by-row products, to f16 rounding with llamafile's tiled ones), that each
//! window gets when decoded alone.

mod common;

use std::ffi::{CStr, CString};
use std::path::PathBuf;

use common::raw::{cpu_context, encoded_state};
use common::speech::speak;
use stenograph::audio::Audio;
use stenograph::model::{FetchOptions, Model};
use stenograph::testing::eval::wer;
use stenograph::testing::greedy_token;
use whisper_rs::whisper_rs_sys as sys;

/// Longest greedy run per window.
const MAX_STEPS: usize = 60;

/// A loaded context with its encoded windows, freed on drop.
struct Windows {
    ctx: *mut sys::whisper_context,
    states: Vec<*mut sys::whisper_state>,
}

impl Drop for Windows {
    fn drop(&mut self) {
        // SAFETY: each pointer came from whisper.cpp and is freed once, states first.
        unsafe {
            for &s in &self.states {
                sys::whisper_free_state(s);
            }
            sys::whisper_free(self.ctx);
        }
    }
}

impl Windows {
    /// tiny.en on the CPU without flash attention, one state per clip, each clip encoded.
    fn encode(clips: &[Vec<f32>]) -> Self {
        let path: PathBuf = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
        let mut windows = Windows {
            ctx: cpu_context(&path),
            states: Vec::new(),
        };
        for clip in clips {
            let state = encoded_state(windows.ctx, clip);
            windows.states.push(state);
        }
        windows
    }

    fn n_vocab(&self) -> usize {
        // SAFETY: a valid context.
        unsafe { sys::whisper_n_vocab(self.ctx) as usize }
    }

    /// The decoder prompt of an English-only model without timestamps.
    fn prompt(&self) -> Vec<i32> {
        // SAFETY: a valid context.
        unsafe {
            vec![
                sys::whisper_token_sot(self.ctx),
                sys::whisper_token_not(self.ctx),
            ]
        }
    }

    /// The logits of the last token decoded on state `i`.
    fn last_logits(&self, i: usize, n_tokens: usize) -> Vec<f32> {
        let n_vocab = self.n_vocab();
        // SAFETY: after a decode of `n_tokens` tokens the state holds n_tokens × n_vocab logits.
        unsafe {
            let all = sys::whisper_get_logits_from_state(self.states[i]);
            std::slice::from_raw_parts(all.add((n_tokens - 1) * n_vocab), n_vocab).to_vec()
        }
    }

    fn text(&self, tokens: &[i32]) -> String {
        let eot = unsafe { sys::whisper_token_eot(self.ctx) };
        tokens
            .iter()
            .filter(|&&t| t < eot)
            // SAFETY: text tokens are in the vocabulary; the string is owned by the context.
            .map(|&t| unsafe {
                CStr::from_ptr(sys::whisper_token_to_str(self.ctx, t))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }
}

/// Greedy decoding: per window, the logits of every step and the tokens chosen.
type Run = Vec<(Vec<Vec<f32>>, Vec<i32>)>;

/// Each window decoded on its own with `whisper_decode_with_state`.
fn alone(w: &Windows) -> Run {
    let eot = unsafe { sys::whisper_token_eot(w.ctx) };
    (0..w.states.len())
        .map(|i| {
            let (mut steps, mut tokens) = (Vec::new(), Vec::new());
            let mut input = w.prompt();
            let mut n_past = 0;
            for _ in 0..MAX_STEPS {
                // SAFETY: valid context, encoded state, `input` outlives the call.
                let rc = unsafe {
                    sys::whisper_decode_with_state(
                        w.ctx,
                        w.states[i],
                        input.as_ptr(),
                        input.len() as i32,
                        n_past,
                        1,
                    )
                };
                assert_eq!(rc, 0);
                let logits = w.last_logits(i, input.len());
                let next = greedy_token(&logits);
                steps.push(logits);
                tokens.push(next);
                n_past += input.len() as i32;
                if next == eot {
                    break;
                }
                input = vec![next];
            }
            (steps, tokens)
        })
        .collect()
}

/// All windows decoded together, one `whisper_decode_group_run` per step; a window that has
/// ended leaves the batch.
fn together(w: &Windows, group: *mut sys::whisper_decode_group) -> Run {
    let eot = unsafe { sys::whisper_token_eot(w.ctx) };
    let n = w.states.len();
    let mut run: Run = vec![(Vec::new(), Vec::new()); n];
    let mut inputs: Vec<Vec<i32>> = vec![w.prompt(); n];
    let mut n_past = vec![0i32; n];
    let mut live: Vec<usize> = (0..n).collect();
    for _ in 0..MAX_STEPS {
        if live.is_empty() {
            break;
        }
        let mut states: Vec<*mut sys::whisper_state> = live.iter().map(|&i| w.states[i]).collect();
        let tokens: Vec<*const i32> = live.iter().map(|&i| inputs[i].as_ptr()).collect();
        let counts: Vec<i32> = live.iter().map(|&i| inputs[i].len() as i32).collect();
        let past: Vec<i32> = live.iter().map(|&i| n_past[i]).collect();
        // SAFETY: every array holds `live.len()` entries that outlive the call.
        let rc = unsafe {
            sys::whisper_decode_group_run(
                group,
                states.as_mut_ptr(),
                tokens.as_ptr(),
                counts.as_ptr(),
                past.as_ptr(),
                live.len() as i32,
                1,
            )
        };
        assert_eq!(rc, 0);
        let mut still = Vec::new();
        for &i in &live {
            let logits = w.last_logits(i, inputs[i].len());
            let next = greedy_token(&logits);
            run[i].0.push(logits);
            run[i].1.push(next);
            n_past[i] += inputs[i].len() as i32;
            inputs[i] = vec![next];
            if next != eot {
                still.push(i);
            }
        }
        live = still;
    }
    run
}

#[test]
fn batched_steps_equal_single_window_steps() {
    let dir = common::dir();
    let texts = [
        "Please call the customer back before noon tomorrow.",
        "Our quarterly sales grew by twelve percent this year, and the new office opens in May.",
        "Turn left at the second light.",
    ];
    let clips: Vec<Vec<f32>> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let voice = ["en-us", "en-gb", "en-us+f3"][i];
            Audio::from_path(speak(dir, voice, t, &format!("group{i}")))
                .unwrap()
                .into_samples()
        })
        .collect();
    let w = Windows::encode(&clips);
    let reference = alone(&w);
    for (i, (_, tokens)) in reference.iter().enumerate() {
        let text = w.text(tokens);
        assert!(
            wer([(texts[i], text.as_str())]) < 0.3,
            "window {i} decodes its speech: {text:?}"
        );
    }

    let group = unsafe { sys::whisper_decode_group_init(w.ctx, 4) };
    assert!(!group.is_null());
    let batched = together(&w, group);
    // ggml's row-by-row dot products give every window's logits bit for bit. llamafile's tiled
    // kernels (in the build by default) sum a product's terms in an order that depends on how
    // many rows share a tile; the last-bit differences move some activations across an f16
    // rounding step (the products take f16 or q8_0 activations), so the logits agree to about
    // that precision (measured: 3.5e-4 of the largest logit).
    // SAFETY: a plain query of the build.
    let tiled = unsafe { sys::ggml_cpu_has_llamafile() } == 1;
    // The windows end at different steps, so later steps run with fewer states.
    let lengths: Vec<usize> = reference.iter().map(|(_, t)| t.len()).collect();
    assert!(
        lengths.iter().any(|&l| l != lengths[0]),
        "windows of different lengths: {lengths:?}"
    );
    for (i, ((ref_steps, ref_tokens), (steps, tokens))) in
        reference.iter().zip(&batched).enumerate()
    {
        assert_eq!(tokens, ref_tokens, "window {i}: the same greedy tokens");
        for (k, (a, b)) in ref_steps.iter().zip(steps).enumerate() {
            if tiled {
                let scale = a.iter().fold(0f32, |m, x| m.max(x.abs()));
                let worst = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
                assert!(
                    worst <= 1e-3 * scale,
                    "window {i} step {k}: logits {worst} apart (largest {scale})"
                );
            } else {
                let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "window {i} step {k}: the same logits, bit for bit");
            }
        }
    }

    // A window decoded alone again after the batch still matches: the group leaves each
    // state's caches as a single decode would.
    let again = alone(&w);
    assert_eq!(again[1].1, reference[1].1);
    unsafe { sys::whisper_decode_group_free(group) };
}

#[test]
fn bad_group_calls_are_refused() {
    let dir = common::dir();
    let clip = Audio::from_path(speak(dir, "en-us", "Hello there.", "group-bad"))
        .unwrap()
        .into_samples();
    let w = Windows::encode(&[clip.clone(), clip]);
    let prompt = w.prompt();
    // SAFETY: the calls get valid or null pointers and arrays of the stated lengths; each
    // must fail cleanly.
    unsafe {
        assert!(sys::whisper_decode_group_init(w.ctx, 0).is_null());
        assert!(sys::whisper_decode_group_init(std::ptr::null_mut(), 2).is_null());
        let tokens = [prompt.as_ptr(), prompt.as_ptr()];
        let counts = [prompt.len() as i32; 2];
        let past = [0i32; 2];
        let run = |group, states: *mut *mut sys::whisper_state, counts: &[i32], past: &[i32], n| {
            sys::whisper_decode_group_run(
                group,
                states,
                tokens.as_ptr(),
                counts.as_ptr(),
                past.as_ptr(),
                n,
                1,
            )
        };
        let group = sys::whisper_decode_group_init(w.ctx, 1);
        assert!(!group.is_null());
        let mut two = [w.states[0], w.states[1]];
        let states = two.as_mut_ptr();
        // More states than the group takes, none, a token count of 0, a negative position.
        assert_eq!(run(group, states, &counts, &past, 2), -1);
        assert_eq!(run(group, states, &counts, &past, 0), -1);
        assert_eq!(run(group, states, &[0, 0], &past, 1), -1);
        assert_eq!(run(group, states, &counts, &[-1, 0], 1), -1);
        // Past the end of the context.
        assert_eq!(run(group, states, &counts, &[100_000, 0], 1), -1);
        // Null arrays.
        assert_eq!(run(group, std::ptr::null_mut(), &counts, &past, 1), -1);
        assert_eq!(
            run(group, states, &counts, &past, 1),
            0,
            "a good call works"
        );
        sys::whisper_decode_group_free(group);

        // The same state twice in one step.
        let group = sys::whisper_decode_group_init(w.ctx, 2);
        assert_eq!(
            run(
                group,
                [w.states[0], w.states[0]].as_mut_ptr(),
                &counts,
                &past,
                2
            ),
            -1
        );
        sys::whisper_decode_group_free(group);
        sys::whisper_decode_group_free(std::ptr::null_mut());

        // A context with flash attention keeps its caches in another layout: refused.
        let path = Model::fetch_file("tiny.en", &FetchOptions::default()).unwrap();
        let path = CString::new(path.to_str().unwrap()).unwrap();
        let mut params = sys::whisper_context_default_params();
        params.use_gpu = false;
        params.flash_attn = true;
        let ctx = sys::whisper_init_from_file_with_params_no_state(path.as_ptr(), params);
        assert!(!ctx.is_null());
        let state = sys::whisper_init_state(ctx);
        let group = sys::whisper_decode_group_init(ctx, 1);
        assert_eq!(run(group, [state].as_mut_ptr(), &counts, &past, 1), -2);
        sys::whisper_decode_group_free(group);
        sys::whisper_free_state(state);
        sys::whisper_free(ctx);
    }
}
