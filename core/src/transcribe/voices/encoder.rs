//! The voice encoder: a speaker embedding for a stretch of speech, from the GE2E network that
//! Resemblyzer ships (Apache-2.0; three LSTM layers of 256 over 40 mel bands, a linear layer,
//! ReLU, unit length). Computed here as Resemblyzer does: the audio raised to −30 dBFS (never
//! lowered), a power mel spectrogram (25 ms Hann windows every 10 ms, zero-padded, Slaney
//! mel filters), cut into 1.6 s partials 77 frames apart, each embedded, their mean scaled to
//! unit length. The partials of a call run through each layer together as matrix products.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use super::torch_file::{self, Tensor};
use crate::model::mel::mel_filters;
use crate::transcribe::nn::{gemm, sigmoid, tanh};

/// Mel bands of the encoder's input.
pub(crate) const N_MELS: usize = 40;
/// Width of an embedding.
pub(crate) const DIM: usize = 256;
const HIDDEN: usize = 256;
const N_FFT: usize = 400;
const HOP: usize = 160;
/// Frames of one partial: 1.6 s.
pub(crate) const PARTIAL_FRAMES: usize = 160;
/// Frames between partials: 1.3 partials a second.
const PARTIAL_STEP: usize = 77;
/// Share of a last partial that must be audio for it to count.
const MIN_COVERAGE: f64 = 0.75;
/// Loudness speech is raised to, dBFS of 16-bit full scale.
const TARGET_DBFS: f64 = -30.0;

/// One LSTM layer: input and recurrent weights (gates i, f, g, o), both biases summed.
struct Layer {
    input: usize,
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    bias: Vec<f32>,
}

/// The GE2E voice encoder's weights.
pub(crate) struct VoiceEncoder {
    layers: Vec<Layer>,
    linear_w: Vec<f32>,
    linear_b: Vec<f32>,
    filters: Vec<f32>,
}

impl std::fmt::Debug for VoiceEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceEncoder")
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl VoiceEncoder {
    /// The encoder from a Resemblyzer checkpoint's bytes (`pretrained.pt`, legacy PyTorch
    /// format): its `model_state` (or bare state dict) with `lstm.*_l0..2` and `linear.*`.
    pub(crate) fn from_checkpoint(bytes: &[u8]) -> Result<Self, String> {
        let all = torch_file::tensors(bytes)?;
        let get = |name: &str, shape: &[usize]| -> Result<Vec<f32>, String> {
            let t: &Tensor = ["model_state.", ""]
                .iter()
                .find_map(|p| all.get(&format!("{p}{name}")))
                .ok_or_else(|| format!("no tensor {name}"))?;
            if t.shape != shape {
                return Err(format!("{name} has shape {:?}, not {shape:?}", t.shape));
            }
            Ok(t.data.clone())
        };
        let mut layers = Vec::new();
        for l in 0..3 {
            let input = if l == 0 { N_MELS } else { HIDDEN };
            let b_ih = get(&format!("lstm.bias_ih_l{l}"), &[4 * HIDDEN])?;
            let b_hh = get(&format!("lstm.bias_hh_l{l}"), &[4 * HIDDEN])?;
            layers.push(Layer {
                input,
                w_ih: get(&format!("lstm.weight_ih_l{l}"), &[4 * HIDDEN, input])?,
                w_hh: get(&format!("lstm.weight_hh_l{l}"), &[4 * HIDDEN, HIDDEN])?,
                bias: b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect(),
            });
        }
        let encoder = Self {
            layers,
            linear_w: get("linear.weight", &[DIM, HIDDEN])?,
            linear_b: get("linear.bias", &[DIM])?,
            filters: mel_filters(N_MELS),
        };
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        let all_finite = encoder
            .layers
            .iter()
            .all(|l| finite(&l.w_ih) && finite(&l.w_hh) && finite(&l.bias))
            && finite(&encoder.linear_w)
            && finite(&encoder.linear_b);
        if !all_finite {
            return Err("weights hold values that are not finite".into());
        }
        Ok(encoder)
    }

    /// Embeddings of several stretches, their partials run together.
    pub(crate) fn embed_many(&self, stretches: &[&[f32]]) -> Vec<Vec<f32>> {
        let mut mels: Vec<f32> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        for (i, s) in stretches.iter().enumerate() {
            let (audio, starts) = partials(&louder(s));
            let mel = self.mel(&audio);
            for start in starts {
                mels.extend_from_slice(&mel[start * N_MELS..(start + PARTIAL_FRAMES) * N_MELS]);
                owners.push(i);
            }
        }
        let partial = self.forward(&mels, owners.len());
        let mut out = vec![vec![0.0f32; DIM]; stretches.len()];
        for (p, &i) in owners.iter().enumerate() {
            for (o, v) in out[i].iter_mut().zip(&partial[p * DIM..(p + 1) * DIM]) {
                *o += v;
            }
        }
        out.iter_mut().for_each(|e| unit(e));
        out
    }

    /// Power mel spectrogram, frames × [`N_MELS`], as librosa's `melspectrogram` (centred
    /// frames, zero padding, periodic Hann window).
    fn mel(&self, audio: &[f32]) -> Vec<f32> {
        let pad = N_FFT / 2;
        let n = audio.len();
        let at = |i: isize| -> f32 {
            usize::try_from(i)
                .ok()
                .and_then(|i| audio.get(i))
                .copied()
                .unwrap_or(0.0)
        };
        let frames = 1 + n / HOP;
        let window: Vec<f32> = (0..N_FFT)
            .map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / N_FFT as f64).cos()) as f32)
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        let mut input = fft.make_input_vec();
        let mut spectrum: Vec<Complex<f32>> = fft.make_output_vec();
        let bins = N_FFT / 2 + 1;
        let mut power = vec![0.0f32; bins];
        let mut out = vec![0.0f32; frames * N_MELS];
        for f in 0..frames {
            let start = (f * HOP) as isize - pad as isize;
            for (k, x) in input.iter_mut().enumerate() {
                *x = at(start + k as isize) * window[k];
            }
            if fft.process(&mut input, &mut spectrum).is_err() {
                continue;
            }
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for m in 0..N_MELS {
                out[f * N_MELS + m] = self.filters[m * bins..(m + 1) * bins]
                    .iter()
                    .zip(&power)
                    .map(|(w, p)| w * p)
                    .sum();
            }
        }
        out
    }

    /// Unit-length embeddings of `n` partials (their mels back to back).
    fn forward(&self, mels: &[f32], n: usize) -> Vec<f32> {
        if n == 0 {
            return Vec::new();
        }
        let t_len = PARTIAL_FRAMES;
        let mut x = mels.to_vec();
        let mut gates_in = vec![0.0f32; n * t_len * 4 * HIDDEN];
        let mut gates = vec![0.0f32; n * 4 * HIDDEN];
        let mut h = vec![0.0f32; n * HIDDEN];
        let mut c = vec![0.0f32; n * HIDDEN];
        for layer in &self.layers {
            // Every frame's input projection at once: (n·T × in) · (in × 4H).
            gemm(
                n * t_len,
                layer.input,
                4 * HIDDEN,
                &x,
                (layer.input, 1),
                &layer.w_ih,
                (1, layer.input),
                &mut gates_in,
            );
            let mut seq = vec![0.0f32; n * t_len * HIDDEN];
            h.fill(0.0);
            c.fill(0.0);
            for t in 0..t_len {
                gemm(
                    n,
                    HIDDEN,
                    4 * HIDDEN,
                    &h,
                    (HIDDEN, 1),
                    &layer.w_hh,
                    (1, HIDDEN),
                    &mut gates,
                );
                for p in 0..n {
                    let g = &mut gates[p * 4 * HIDDEN..(p + 1) * 4 * HIDDEN];
                    let row = (p * t_len + t) * 4 * HIDDEN;
                    for (j, v) in g.iter_mut().enumerate() {
                        *v += gates_in[row + j] + layer.bias[j];
                    }
                    let (i_g, rest) = g.split_at(HIDDEN);
                    let (f_g, rest) = rest.split_at(HIDDEN);
                    let (g_g, o_g) = rest.split_at(HIDDEN);
                    for j in 0..HIDDEN {
                        let cj =
                            sigmoid(f_g[j]) * c[p * HIDDEN + j] + sigmoid(i_g[j]) * tanh(g_g[j]);
                        c[p * HIDDEN + j] = cj;
                        h[p * HIDDEN + j] = sigmoid(o_g[j]) * tanh(cj);
                    }
                    seq[(p * t_len + t) * HIDDEN..(p * t_len + t + 1) * HIDDEN]
                        .copy_from_slice(&h[p * HIDDEN..(p + 1) * HIDDEN]);
                }
            }
            x = seq;
        }
        // The last layer's final hidden state through the linear layer and ReLU.
        let mut out = vec![0.0f32; n * DIM];
        gemm(
            n,
            HIDDEN,
            DIM,
            &h,
            (HIDDEN, 1),
            &self.linear_w,
            (1, HIDDEN),
            &mut out,
        );
        for p in 0..n {
            let e = &mut out[p * DIM..(p + 1) * DIM];
            for (v, b) in e.iter_mut().zip(&self.linear_b) {
                *v = (*v + b).max(0.0);
            }
            unit(e);
        }
        out
    }
}

/// `v` scaled to unit length (left as it is when all zeros).
pub(crate) fn unit(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// `samples` raised to [`TARGET_DBFS`] if quieter (Resemblyzer's `normalize_volume` with
/// `increase_only`).
fn louder(samples: &[f32]) -> Vec<f32> {
    let full = f64::from(i16::MAX);
    let mean_sq = samples
        .iter()
        .map(|&s| (f64::from(s) * full).powi(2))
        .sum::<f64>()
        / samples.len().max(1) as f64;
    if mean_sq <= 0.0 {
        return samples.to_vec();
    }
    let dbfs = 20.0 * (mean_sq.sqrt() / full).log10();
    let change = TARGET_DBFS - dbfs;
    if change <= 0.0 {
        return samples.to_vec();
    }
    let gain = 10f64.powf(change / 20.0) as f32;
    samples.iter().map(|s| s * gain).collect()
}

/// The audio zero-padded to its last partial and each partial's first frame (Resemblyzer's
/// `compute_partial_slices` at 1.3 partials a second, 75 % minimum coverage).
fn partials(audio: &[f32]) -> (Vec<f32>, Vec<usize>) {
    let n = audio.len();
    let n_frames = (n + 1).div_ceil(HOP);
    let steps = (n_frames + PARTIAL_STEP + 1)
        .saturating_sub(PARTIAL_FRAMES)
        .max(1);
    let mut starts: Vec<usize> = (0..steps).step_by(PARTIAL_STEP).collect();
    if let Some(&last) = starts.last() {
        let coverage = (n as f64 - (last * HOP) as f64) / (PARTIAL_FRAMES * HOP) as f64;
        if coverage < MIN_COVERAGE && starts.len() > 1 {
            starts.pop();
        }
    }
    let end = (starts.last().copied().unwrap_or(0) + PARTIAL_FRAMES) * HOP;
    let mut padded = audio.to_vec();
    if end >= n {
        padded.resize(end, 0.0);
    }
    (padded, starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_cover_the_audio_as_resemblyzer_cuts_it() {
        // 1 s: one partial, padded to 1.6 s.
        let (audio, starts) = partials(&vec![0.1; 16_000]);
        assert_eq!(starts, vec![0]);
        assert_eq!(audio.len(), PARTIAL_FRAMES * HOP);
        // 5 s: 501 frames, partials every 77 frames while they fit (with coverage).
        let (_, starts) = partials(&vec![0.1; 80_000]);
        assert_eq!(starts, vec![0, 77, 154, 231, 308]);
    }

    #[test]
    fn checkpoints_without_the_network_are_refused() {
        let err = VoiceEncoder::from_checkpoint(b"not a checkpoint").unwrap_err();
        assert!(err.contains("truncated") || err.contains("opcode"), "{err}");
    }

    #[test]
    fn quiet_speech_is_raised_and_loud_left() {
        let quiet = vec![0.001f32; 1000];
        let raised = louder(&quiet);
        let dbfs = 20.0 * f64::from(raised[0]).log10();
        assert!((dbfs - TARGET_DBFS).abs() < 0.01, "{dbfs}");
        let loud = vec![0.5f32; 1000];
        assert_eq!(louder(&loud), loud);
        assert_eq!(louder(&[0.0; 10]), vec![0.0; 10]);
    }
}
