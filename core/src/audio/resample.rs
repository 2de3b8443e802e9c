//! Streaming sample-rate conversion of mono audio to 16 kHz with rubato's FFT resampler.

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _, WindowFunction};

use super::SAMPLE_RATE;

/// Input frames per resampler call (a hint; rubato rounds it to fit the rate ratio).
const CHUNK: usize = 4096;
/// FFT blocks per chunk.
const SUB_CHUNKS: usize = 4;
/// A live stream's input per resampler call, in milliseconds of audio: one FFT block, so its
/// audio reaches the voice detector this late at most (plus half a block of filter delay),
/// where a [`CHUNK`] of 24 kHz audio would hold it back up to 170 ms.
const LIVE_CHUNK_MS: usize = 20;

/// Converts a mono stream at any rate to [`SAMPLE_RATE`], chunk by chunk.
///
/// Uses rubato's synchronous FFT resampler (band-limited, no audible aliasing, flat pass band),
/// trims its start-up delay, and on [`finish`](Self::finish) drains its tail, so the output has
/// exactly `ceil(input_frames * 16000 / rate)` frames, aligned with the input.
///
/// ```
/// use stenograph::audio::Resampler;
/// let mut r = Resampler::new(44_100).unwrap();
/// let mut out = Vec::new();
/// r.push(&vec![0.0; 44_100], &mut out);
/// r.finish(&mut out);
/// assert_eq!(out.len(), 16_000);
/// ```
pub struct Resampler {
    fft: Option<Fft<f32>>,
    rate: u32,
    input: Vec<f32>,
    scratch: Vec<f32>,
    to_trim: usize,
    frames_in: u64,
    frames_out: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("rate", &self.rate)
            .field("frames_in", &self.frames_in)
            .field("frames_out", &self.frames_out)
            .finish_non_exhaustive()
    }
}

impl Resampler {
    /// A resampler from `rate` Hz to 16 kHz; `None` for a rate of 0.
    pub fn new(rate: u32) -> Option<Self> {
        Self::with_chunks(rate, CHUNK, SUB_CHUNKS)
    }

    /// A resampler from `rate` Hz to 16 kHz for live audio: it converts every 20 ms (or the
    /// smallest block the rate pair allows) instead of every 4,096 input frames, with a
    /// shorter filter (its pass band ends a little lower, still above speech's 4 kHz); `None`
    /// for a rate of 0.
    pub fn low_latency(rate: u32) -> Option<Self> {
        let chunk = (rate as usize * LIVE_CHUNK_MS / 1000).max(1);
        Self::with_chunks(rate, chunk, 1)
    }

    fn with_chunks(rate: u32, chunk: usize, sub_chunks: usize) -> Option<Self> {
        if rate == 0 {
            return None;
        }
        let fft = if rate == SAMPLE_RATE {
            None
        } else {
            Some(
                Fft::<f32>::new_custom(
                    rate as usize,
                    SAMPLE_RATE as usize,
                    chunk,
                    sub_chunks,
                    1,
                    WindowFunction::BlackmanHarris2,
                    FixedSync::Both,
                )
                .ok()?,
            )
        };
        let (to_trim, scratch) = match &fft {
            Some(f) => (f.output_delay(), vec![0.0; f.output_frames_max()]),
            None => (0, Vec::new()),
        };
        Some(Self {
            fft,
            rate,
            input: Vec::new(),
            scratch,
            to_trim,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// The input rate in Hz.
    pub fn input_rate(&self) -> u32 {
        self.rate
    }

    /// Adds input frames and appends the 16 kHz frames that are ready to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        self.frames_in += samples.len() as u64;
        let Some(fft) = self.fft.as_mut() else {
            self.frames_out += samples.len() as u64;
            out.extend_from_slice(samples);
            return;
        };
        let need = fft.input_frames_next();
        // Whole chunks straight from the caller's slice when nothing is pending.
        let mut rest = samples;
        if !self.input.is_empty() {
            let take = (need - self.input.len()).min(rest.len());
            self.input.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.input.len() == need {
                let pending = std::mem::take(&mut self.input);
                self.process(&pending, None, out);
                self.input = pending;
                self.input.clear();
            }
        }
        while rest.len() >= need {
            let (chunk, tail) = rest.split_at(need);
            self.process(chunk, None, out);
            rest = tail;
        }
        self.input.extend_from_slice(rest);
    }

    /// Flushes the buffered input and the resampler's tail into `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let expected = self.expected_output();
        if self.fft.is_none() {
            return;
        }
        let pending = std::mem::take(&mut self.input);
        let mut partial = pending.len();
        let mut chunk = pending;
        let need = self.fft.as_ref().map_or(0, |f| f.input_frames_next());
        chunk.resize(need, 0.0);
        while self.frames_out < expected {
            let before = self.frames_out;
            self.process(&chunk, Some(partial), out);
            partial = 0;
            if self.frames_out == before && self.to_trim == 0 {
                break;
            }
        }
        let excess = (self.frames_out - expected.min(self.frames_out)) as usize;
        out.truncate(out.len() - excess.min(out.len()));
        self.frames_out -= excess as u64;
    }

    /// Output frames the input so far maps to: `ceil(frames_in * 16000 / rate)`.
    pub fn expected_output(&self) -> u64 {
        (u128::from(self.frames_in) * u128::from(SAMPLE_RATE)).div_ceil(u128::from(self.rate))
            as u64
    }

    fn process(&mut self, chunk: &[f32], partial: Option<usize>, out: &mut Vec<f32>) {
        let fft = self
            .fft
            .as_mut()
            .expect("process runs only with a resampler");
        let frames_in = fft.input_frames_next();
        let input = SequentialSlice::new(chunk, 1, frames_in).expect("chunk holds a full block");
        let frames_out = self.scratch.len();
        let mut output =
            SequentialSlice::new_mut(&mut self.scratch, 1, frames_out).expect("scratch is sized");
        let mut indexing = Indexing::new();
        indexing.partial_len = partial;
        let (_, written) = fft
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .expect("buffers are sized from the resampler's own limits");
        let trim = self.to_trim.min(written);
        self.to_trim -= trim;
        out.extend_from_slice(&self.scratch[trim..written]);
        self.frames_out += (written - trim) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, freq: f32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    fn resample_all(input: &[f32], rate: u32, piece: usize) -> Vec<f32> {
        resample_with(Resampler::new(rate).unwrap(), input, piece)
    }

    fn resample_with(mut r: Resampler, input: &[f32], piece: usize) -> Vec<f32> {
        let mut out = Vec::new();
        for c in input.chunks(piece) {
            r.push(c, &mut out);
        }
        r.finish(&mut out);
        out
    }

    /// Amplitude of `freq` in `x` by correlation with a quadrature pair (single-bin DFT).
    fn amplitude_at(x: &[f32], freq: f32) -> f64 {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (i, &v) in x.iter().enumerate() {
            let ph = 2.0 * std::f64::consts::PI * f64::from(freq) * i as f64 / 16_000.0;
            re += f64::from(v) * ph.cos();
            im += f64::from(v) * ph.sin();
        }
        2.0 * (re * re + im * im).sqrt() / x.len() as f64
    }

    #[test]
    fn tone_keeps_frequency_amplitude_and_length() {
        for rate in [
            8_000, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000, 192_000,
        ] {
            let input = tone(rate, 1000.0, 1.0);
            let out = resample_all(&input, rate, 1000);
            let expected = (input.len() as u64 * 16_000).div_ceil(u64::from(rate)) as usize;
            assert!(
                out.len().abs_diff(expected) <= 1,
                "{rate}: {} vs {expected}",
                out.len()
            );
            // Skip the edges, where the signal starts and stops abruptly.
            let mid = &out[800..out.len() - 800];
            let a1k = amplitude_at(mid, 1000.0);
            let db = 20.0 * (a1k / 0.5).log10();
            assert!(db.abs() < 0.5, "{rate}: 1 kHz at {db:.2} dB");
            for other in [900.0, 1100.0, 2000.0] {
                let leak = amplitude_at(mid, other);
                assert!(leak < 0.01, "{rate}: energy at {other} Hz: {leak}");
            }
        }
    }

    #[test]
    fn live_resampling_keeps_speech_band_and_alignment_and_comes_early() {
        for rate in [8_000, 11_025, 22_050, 24_000, 44_100, 48_000] {
            // Tones across speech's band keep their level; a tone above 8 kHz is gone.
            for freq in [300.0, 1000.0, 3400.0, 6000.0] {
                if freq > 0.45 * rate as f32 {
                    continue;
                }
                let input = tone(rate, freq, 1.0);
                let out = resample_with(Resampler::low_latency(rate).unwrap(), &input, 480);
                let expected = (input.len() as u64 * 16_000).div_ceil(u64::from(rate)) as usize;
                assert!(out.len().abs_diff(expected) <= 1, "{rate}: {}", out.len());
                let mid = &out[800..out.len() - 800];
                let db = 20.0 * (amplitude_at(mid, freq) / 0.5).log10();
                assert!(db.abs() < 0.5, "{rate}: {freq} Hz at {db:.2} dB");
            }
            if rate > 20_000 {
                let out = resample_with(
                    Resampler::low_latency(rate).unwrap(),
                    &tone(rate, 9_500.0, 1.0),
                    480,
                );
                let rms = (out.iter().map(|x| x * x).sum::<f32>() / out.len() as f32).sqrt();
                assert!(rms < 0.01, "{rate}: 9.5 kHz passes at {rms}");
            }
            // A click comes out where it went in.
            let mut input = vec![0.0f32; rate as usize];
            input[rate as usize / 2] = 1.0;
            let out = resample_with(Resampler::low_latency(rate).unwrap(), &input, 160);
            let peak = (0..out.len())
                .max_by(|&a, &b| out[a].abs().total_cmp(&out[b].abs()))
                .unwrap();
            assert!(peak.abs_diff(8_000) <= 1, "{rate}: peak at {peak}");
            // Pushed 10 ms at a time, the output trails the input by at most 60 ms (the
            // resampler for files holds up to 4,096 input frames back).
            let (mut live, mut batch) = (
                Resampler::low_latency(rate).unwrap(),
                Resampler::new(rate).unwrap(),
            );
            let (mut out_live, mut out_batch) = (Vec::new(), Vec::new());
            let (mut worst_live, mut worst_batch) = (0, 0);
            for piece in tone(rate, 440.0, 2.0).chunks(rate as usize / 100) {
                live.push(piece, &mut out_live);
                batch.push(piece, &mut out_batch);
                let due = live.expected_output() as usize;
                worst_live = worst_live.max(due - out_live.len());
                worst_batch = worst_batch.max(due - out_batch.len());
            }
            assert!(worst_live <= 960, "{rate}: trails by {worst_live} frames");
            assert!(
                worst_batch > worst_live,
                "{rate}: {worst_batch} vs {worst_live}"
            );
        }
    }

    #[test]
    fn output_is_aligned_with_input() {
        // A click at 0.5 s must come out at 0.5 s.
        let rate = 44_100;
        let mut input = vec![0.0f32; rate as usize];
        input[rate as usize / 2] = 1.0;
        let out = resample_all(&input, rate, 777);
        let peak = out
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap()
            .0;
        assert!(peak.abs_diff(8_000) <= 1, "peak at {peak}");
    }

    #[test]
    fn chunk_size_does_not_change_the_output() {
        let input = tone(22_050, 440.0, 0.7);
        let a = resample_all(&input, 22_050, 1);
        let b = resample_all(&input, 22_050, 100_000);
        assert_eq!(a.len(), b.len());
        let err = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-6, "{err}");
    }

    #[test]
    fn short_and_empty_inputs() {
        assert!(resample_all(&[], 44_100, 10).is_empty());
        assert_eq!(resample_all(&[0.1; 3], 48_000, 10).len(), 1);
        assert_eq!(resample_all(&[0.1; 3], 8_000, 10).len(), 6);
        assert!(Resampler::new(0).is_none());
    }

    #[test]
    fn odd_rates_work() {
        for rate in [1_000, 44_101, 7_919, 1_000_000] {
            let out = resample_all(&tone(rate, 100.0, 0.25), rate, 5000);
            let expected = ((rate as f32 * 0.25) as u64 * 16_000).div_ceil(u64::from(rate));
            assert!((out.len() as u64).abs_diff(expected) <= 1, "{rate}");
        }
    }
}
