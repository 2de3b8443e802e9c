//! Silero VAD v6 (MIT licence; the ONNX export faster-whisper ships) computed in Rust: a
//! speech probability for every 32 ms of 16 kHz audio.
//!
//! Per 512-sample chunk (with the previous chunk's last 64 samples in front): an STFT
//! magnitude (256-sample Hann windows, hop 128, reflect padding), four 1-D convolutions with
//! ReLU, then one LSTM cell that runs across the chunks and a sigmoid output. The network
//! stores its STFT as a convolution basis; that basis is checked to be a windowed DFT and
//! computed as a real FFT (`realfft`). The convolutions and the LSTM's input projection run as
//! matrix products over many chunks at once (`matrixmultiply`), on several threads for long
//! inputs; only the LSTM's recurrence is sequential. The graph is not interpreted: the weights
//! are read by name (the LSTM's by its node's inputs) and their shapes checked, so another
//! export of the same network loads and anything else is refused.

use std::path::Path;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::onnx::{self, Tensor, Weights};
use crate::error::{Error, Result};
use crate::transcribe::nn::{gemm, sigmoid, tanh};

/// Samples per probability (32 ms at 16 kHz).
pub const CHUNK: usize = 512;
/// Samples of the previous chunk put in front of each chunk.
const CONTEXT: usize = 64;
/// Network input per chunk.
const INPUT: usize = CHUNK + CONTEXT;
/// Reflect padding on each side of a chunk's input before the STFT.
const REFLECT: usize = 128;
/// STFT window and hop.
const WINDOW: usize = 256;
const HOP: usize = 128;
/// STFT frames kept per chunk: the padded 832 samples give 5, the network drops the first.
const FRAMES: usize = 4;
/// Frequency bins (real and imaginary rows of the basis each).
const BINS: usize = 129;
/// LSTM width.
const HIDDEN: usize = 128;
/// Chunks whose convolutions run as one batch of matrix products (8 s of audio).
const BATCH: usize = 256;
/// Most threads one input's batches are spread over.
const MAX_THREADS: usize = 4;

/// One 1-D convolution (kernel 3, padding 1) followed by ReLU.
#[derive(Debug)]
struct Conv {
    /// Weights as a `(3 · c_in) × c_out` row-major matrix: row `k · c_in + i`.
    w: Vec<f32>,
    b: Vec<f32>,
    c_in: usize,
    c_out: usize,
    stride: usize,
}

/// The Silero VAD v6 network, loaded.
pub struct Silero {
    /// The STFT's window (the basis's zero-frequency row).
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    convs: [Conv; 4],
    /// LSTM input and recurrent weights, `512 × 128` row-major, gates in ONNX order
    /// (input, output, forget, cell).
    w_ih: Vec<f32>,
    /// Recurrent weights transposed, `128 × 512` row-major: row `j` holds what `h[j]` adds
    /// to each gate.
    w_hh_t: Vec<f32>,
    /// Both LSTM biases summed.
    bias: Vec<f32>,
    /// Output layer: 128 weights and a bias.
    out_w: Vec<f32>,
    out_b: f32,
}

impl std::fmt::Debug for Silero {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Silero").finish_non_exhaustive()
    }
}

/// The LSTM's state, carried from chunk to chunk.
struct Lstm {
    h: [f32; HIDDEN],
    c: [f32; HIDDEN],
    gates: [f32; 4 * HIDDEN],
}

impl Default for Lstm {
    fn default() -> Self {
        Self {
            h: [0.0; HIDDEN],
            c: [0.0; HIDDEN],
            gates: [0.0; 4 * HIDDEN],
        }
    }
}

/// Silero over audio that arrives in pieces: the probabilities [`Silero::probabilities`] gives
/// over the whole, one per 512 samples as soon as they are in.
pub struct SileroRun {
    net: Arc<Silero>,
    /// The last whole chunk scored (zeros before the first), then the samples not yet scored.
    pending: Vec<f32>,
    lstm: Lstm,
    scratch: Scratch,
}

impl std::fmt::Debug for SileroRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroRun")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl SileroRun {
    /// A run of `net` from the start of a stream.
    pub fn new(net: Arc<Silero>) -> Self {
        Self {
            net,
            pending: vec![0.0; CHUNK],
            lstm: Lstm::default(),
            scratch: Scratch::default(),
        }
    }

    /// Adds 16 kHz samples; the probabilities of the chunks they complete, in order.
    pub fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        for piece in samples.chunks(BATCH * CHUNK) {
            self.pending.extend_from_slice(piece);
            let n = self.pending.len() / CHUNK - 1;
            if n == 0 {
                continue;
            }
            // Chunk 0 of `pending` is context only: chunks 1..=n are new.
            self.net.lstm_inputs(&self.pending, 1, n, &mut self.scratch);
            for x in self.scratch.proj.chunks_exact(4 * HIDDEN).take(n) {
                out.push(self.net.output(x, &mut self.lstm));
            }
            self.pending.drain(..n * CHUNK);
        }
        out
    }
}

/// Buffers one thread reuses from batch to batch.
#[derive(Default)]
struct Scratch {
    padded: Vec<f32>,
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    fft: Vec<Complex<f32>>,
    /// Activations in and out of a layer, and the layer's unfolded input.
    x: Vec<f32>,
    y: Vec<f32>,
    cols: Vec<f32>,
    /// The LSTM's input projections of the batch: `n × 512`.
    proj: Vec<f32>,
}

impl Conv {
    fn load(w: &Tensor, b: &Tensor, c_in: usize, c_out: usize, stride: usize) -> Self {
        let mut m = vec![0.0; 3 * c_in * c_out];
        for o in 0..c_out {
            for i in 0..c_in {
                for k in 0..3 {
                    m[(k * c_in + i) * c_out + o] = w.data[(o * c_in + i) * 3 + k];
                }
            }
        }
        Conv {
            w: m,
            b: b.data.clone(),
            c_in,
            c_out,
            stride,
        }
    }

    /// `x`: `chunks × t_in × c_in`; writes `chunks × t_out × c_out` to `y`, returns `t_out`.
    fn forward(
        &self,
        x: &[f32],
        chunks: usize,
        t_in: usize,
        cols: &mut Vec<f32>,
        y: &mut Vec<f32>,
    ) -> usize {
        let t_out = (t_in - 1) / self.stride + 1;
        let kc = 3 * self.c_in;
        cols.clear();
        cols.resize(chunks * t_out * kc, 0.0);
        for c in 0..chunks {
            for t in 0..t_out {
                for k in 0..3 {
                    let Some(src) = (t * self.stride + k).checked_sub(1).filter(|&s| s < t_in)
                    else {
                        continue;
                    };
                    let from = (c * t_in + src) * self.c_in;
                    let to = (c * t_out + t) * kc + k * self.c_in;
                    cols[to..to + self.c_in].copy_from_slice(&x[from..from + self.c_in]);
                }
            }
        }
        let rows = chunks * t_out;
        y.resize(rows * self.c_out, 0.0);
        gemm(
            rows,
            kc,
            self.c_out,
            cols,
            (kc, 1),
            &self.w,
            (self.c_out, 1),
            y,
        );
        for row in y.chunks_exact_mut(self.c_out) {
            for (v, b) in row.iter_mut().zip(&self.b) {
                *v = (*v + b).max(0.0);
            }
        }
        t_out
    }
}

impl Silero {
    /// Loads the network from an ONNX file (`silero_vad_v6.onnx`).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::ModelNotFound {
                path: path.to_path_buf(),
            },
            _ => Error::Io {
                path: path.to_path_buf(),
                source,
            },
        })?;
        Self::from_onnx(&bytes).map_err(|reason| Error::InvalidModel {
            model: path.display().to_string(),
            reason: format!("not Silero VAD v6 weights: {reason}"),
        })
    }

    /// Loads the network from the bytes of its ONNX file.
    pub(crate) fn from_onnx(bytes: &[u8]) -> std::result::Result<Self, String> {
        let Weights { tensors, nodes } = onnx::read(bytes)?;
        let get = |name: &str, dims: &[usize]| -> std::result::Result<&Tensor, String> {
            let t = tensors
                .get(name)
                .ok_or_else(|| format!("no tensor {name}"))?;
            if t.dims != dims {
                return Err(format!("{name} has shape {:?}, not {dims:?}", t.dims));
            }
            Ok(t)
        };
        let lstm = nodes
            .iter()
            .find(|n| n.op_type == "LSTM")
            .ok_or("no LSTM node")?;
        let input = |i: usize| lstm.input.get(i).map(String::as_str).unwrap_or("");
        let w_ih = get(input(1), &[1, 4 * HIDDEN, HIDDEN])?;
        let w_hh = get(input(2), &[1, 4 * HIDDEN, HIDDEN])?;
        let b = get(input(3), &[1, 8 * HIDDEN])?;
        let conv = |i: usize, c_in: usize, c_out: usize, stride: usize| {
            let w = get(
                &format!("encoder.conv_layers.{i}.weight"),
                &[c_out, c_in, 3],
            )?;
            let b = get(&format!("encoder.conv_layers.{i}.bias"), &[c_out])?;
            Ok::<_, String>(Conv::load(w, b, c_in, c_out, stride))
        };
        let out_w = get("decoder.conv1d.weight", &[1, HIDDEN, 1])?;
        let out_b = get("decoder.conv1d.bias", &[1])?;
        let basis = get(
            "encoder.feature_extractor.forward_basis_buffer",
            &[2 * BINS, 1, WINDOW],
        )?;
        let window = basis.data[..WINDOW].to_vec();
        // Row b of the basis must be window × cos(2πbk/256), row 129 + b window × -sin(…).
        for b in 0..BINS {
            for (k, &w) in window.iter().enumerate() {
                let angle = 2.0 * std::f64::consts::PI * (b * k % WINDOW) as f64 / WINDOW as f64;
                let w = f64::from(w);
                let (re, im) = (w * angle.cos(), -w * angle.sin());
                let (got_re, got_im) = (
                    basis.data[b * WINDOW + k],
                    basis.data[(BINS + b) * WINDOW + k],
                );
                if (f64::from(got_re) - re).abs() > 1e-5 || (f64::from(got_im) - im).abs() > 1e-5 {
                    return Err(format!(
                        "the STFT basis is not a windowed DFT (bin {b}, tap {k})"
                    ));
                }
            }
        }
        let net = Silero {
            window,
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(WINDOW),
            convs: [
                conv(0, BINS, 128, 1)?,
                conv(1, 128, 64, 2)?,
                conv(2, 64, 64, 2)?,
                conv(3, 64, 128, 1)?,
            ],
            w_ih: w_ih.data.clone(),
            w_hh_t: (0..HIDDEN * 4 * HIDDEN)
                .map(|i| w_hh.data[(i % (4 * HIDDEN)) * HIDDEN + i / (4 * HIDDEN)])
                .collect(),
            bias: (0..4 * HIDDEN)
                .map(|i| b.data[i] + b.data[4 * HIDDEN + i])
                .collect(),
            out_w: out_w.data.clone(),
            out_b: out_b.data[0],
        };
        let all_finite = [&net.window, &net.w_ih, &net.w_hh_t, &net.bias, &net.out_w]
            .into_iter()
            .flatten()
            .chain(net.convs.iter().flat_map(|c| c.w.iter().chain(&c.b)))
            .all(|v| v.is_finite());
        if !all_finite || !net.out_b.is_finite() {
            return Err("weights hold NaN or infinity".into());
        }
        Ok(net)
    }

    /// Speech probability of each 512-sample chunk of 16 kHz mono `samples` (the last chunk
    /// padded with silence), in order.
    pub fn probabilities(&self, samples: &[f32]) -> Vec<f32> {
        let chunks = samples.len().div_ceil(CHUNK);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS)
            .min(chunks.div_ceil(BATCH).max(1));
        let mut scratch: Vec<Scratch> = (0..threads).map(|_| Scratch::default()).collect();
        let mut out = Vec::with_capacity(chunks);
        let mut lstm = Lstm::default();
        for first in (0..chunks).step_by(BATCH * threads) {
            // One batch per thread, then the recurrence through them in order.
            let batches: Vec<(usize, usize)> = (0..threads)
                .map(|i| first + i * BATCH)
                .filter(|&f| f < chunks)
                .map(|f| (f, BATCH.min(chunks - f)))
                .collect();
            if batches.len() == 1 {
                self.lstm_inputs(samples, batches[0].0, batches[0].1, &mut scratch[0]);
            } else {
                std::thread::scope(|scope| {
                    for (&(f, n), s) in batches.iter().zip(scratch.iter_mut()) {
                        // A thread the system refuses: that batch runs here instead.
                        let (tx, rx) = std::sync::mpsc::channel::<&mut Scratch>();
                        let spawned = std::thread::Builder::new()
                            .spawn_scoped(scope, move || {
                                if let Ok(s) = rx.recv() {
                                    self.lstm_inputs(samples, f, n, s);
                                }
                            })
                            .is_ok();
                        if spawned {
                            let _ = tx.send(s);
                        } else {
                            self.lstm_inputs(samples, f, n, s);
                        }
                    }
                });
            }
            for (&(_, n), s) in batches.iter().zip(&scratch) {
                for x in s.proj.chunks_exact(4 * HIDDEN).take(n) {
                    out.push(self.output(x, &mut lstm));
                }
            }
        }
        out
    }

    /// The speech probability of one chunk's input projection `x`, carrying the LSTM's state.
    fn output(&self, x: &[f32], lstm: &mut Lstm) -> f32 {
        self.step(x, &mut lstm.gates, &mut lstm.h, &mut lstm.c);
        let logit = self
            .out_w
            .iter()
            .zip(&lstm.h)
            .map(|(w, v)| w * v.max(0.0))
            .sum::<f32>()
            + self.out_b;
        sigmoid(logit)
    }

    /// One LSTM step: `x` the input projection, `h` and `c` the state carried.
    fn step(
        &self,
        x: &[f32],
        gates: &mut [f32; 4 * HIDDEN],
        h: &mut [f32; HIDDEN],
        c: &mut [f32; HIDDEN],
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has just been found to have AVX2, all `step_avx2` needs.
            return unsafe { self.step_avx2(x, gates, h, c) };
        }
        self.step_portable(x, gates, h, c);
    }

    /// [`step`](Self::step) compiled for AVX2 (8 lanes instead of SSE2's 4).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn step_avx2(
        &self,
        x: &[f32],
        gates: &mut [f32; 4 * HIDDEN],
        h: &mut [f32; HIDDEN],
        c: &mut [f32; HIDDEN],
    ) {
        self.step_portable(x, gates, h, c);
    }

    #[inline(always)]
    fn step_portable(
        &self,
        x: &[f32],
        gates: &mut [f32; 4 * HIDDEN],
        h: &mut [f32; HIDDEN],
        c: &mut [f32; HIDDEN],
    ) {
        gates.copy_from_slice(x);
        for (hj, row) in h.iter().zip(self.w_hh_t.chunks_exact(4 * HIDDEN)) {
            for (g, w) in gates.iter_mut().zip(row) {
                *g += w * hj;
            }
        }
        let (i, rest) = gates.split_at_mut(HIDDEN);
        let (o, rest) = rest.split_at_mut(HIDDEN);
        let (f, g) = rest.split_at_mut(HIDDEN);
        for j in 0..HIDDEN {
            c[j] = sigmoid(f[j]) * c[j] + sigmoid(i[j]) * tanh(g[j]);
            h[j] = sigmoid(o[j]) * tanh(c[j]);
        }
    }

    /// The LSTM's input projections (biases included) for chunks `first..first + n`, into
    /// `s.proj` (`n × 512`).
    fn lstm_inputs(&self, samples: &[f32], first: usize, n: usize, s: &mut Scratch) {
        s.padded.resize(INPUT + 2 * REFLECT, 0.0);
        s.frame.resize(WINDOW, 0.0);
        s.spectrum.resize(BINS, Complex::default());
        s.fft.resize(self.fft.get_scratch_len(), Complex::default());
        s.x.clear();
        for chunk in first..first + n {
            // The chunk's input: 64 samples of the chunk before (zeros before the first), its
            // 512 samples, zeros past the end; reflected 128 samples out on each side.
            let input = &mut s.padded[REFLECT..REFLECT + INPUT];
            input.fill(0.0);
            let start = (chunk * CHUNK).saturating_sub(CONTEXT);
            let skip = INPUT - (chunk * CHUNK + CHUNK - start);
            let end = (chunk * CHUNK + CHUNK).min(samples.len());
            if start < end {
                input[skip..skip + end - start].copy_from_slice(&samples[start..end]);
            }
            for i in 1..=REFLECT {
                s.padded[REFLECT - i] = s.padded[REFLECT + i];
                s.padded[REFLECT + INPUT - 1 + i] = s.padded[REFLECT + INPUT - 1 - i];
            }
            for f in 1..=FRAMES {
                let at = &s.padded[f * HOP..f * HOP + WINDOW];
                for ((v, x), w) in s.frame.iter_mut().zip(at).zip(&self.window) {
                    *v = x * w;
                }
                // Buffers of the plan's sizes: processing cannot fail.
                let _ = self
                    .fft
                    .process_with_scratch(&mut s.frame, &mut s.spectrum, &mut s.fft);
                s.x.extend(
                    s.spectrum
                        .iter()
                        .map(|z| (z.re * z.re + z.im * z.im).sqrt()),
                );
            }
        }
        let mut t = FRAMES;
        for conv in &self.convs {
            t = conv.forward(&s.x, n, t, &mut s.cols, &mut s.y);
            std::mem::swap(&mut s.x, &mut s.y);
        }
        debug_assert_eq!(t, 1);
        s.proj.resize(n * 4 * HIDDEN, 0.0);
        gemm(
            n,
            HIDDEN,
            4 * HIDDEN,
            &s.x,
            (HIDDEN, 1),
            &self.w_ih,
            (1, HIDDEN),
            &mut s.proj,
        );
        for row in s.proj.chunks_exact_mut(4 * HIDDEN) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v += b;
            }
        }
    }
}
