//! Down-mixing any number of channels to the one channel Whisper hears.

/// Streaming down-mixer: polarity-aligned sum, loudness-matched to the loudest channel.
///
/// # Method
/// The signal is cut into 20 ms blocks. In each block:
/// 1. The loudest channel is the reference. The channels within 30 dB of it and clearly
///    correlated with it (|r| > 0.3) form a group; the group's lowest-numbered channel keeps its
///    polarity and the others take the polarity that adds to it. Weakly correlated channels keep
///    the polarity they had (hysteresis, so two unrelated talkers never flip back and forth).
/// 2. The polarity-aligned channels are summed.
/// 3. A gain brings the sum to the RMS level of the loudest channel, clamped to `[1/n, 2]`.
///
/// Gains and polarities are ramped linearly across each block, so a change never clicks.
///
/// # Why this method
/// - A plain average `(L + R) / 2` erases speech recorded as phase-inverted copies (a miswired
///   balanced line, some phone headsets: `L = -R` sums to zero) and halves it when one channel is
///   silent. Aligning polarity before summing keeps the first; matching the loudest channel's
///   level keeps the second at full level.
/// - Picking the loudest channel would drop one party of a call-centre recording, where the
///   agent and the customer are on separate channels. The aligned sum keeps both, each at most
///   3 dB below its own level when both talk at once.
/// - Identical channels come out as exactly the source (`gain = 1/n`), so mono content stored as
///   stereo is not changed at all.
///
/// Mono input passes through untouched. Non-finite samples (NaN, ±∞) become silence.
///
/// ```
/// use stenograph::audio::Downmixer;
/// let s: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
/// let inverted: Vec<f32> = s.iter().map(|x| -x).collect();
/// let mut mixer = Downmixer::new(2, 16_000);
/// let mut mono = Vec::new();
/// mixer.push(&[&s[..], &inverted[..]], &mut mono);
/// mixer.flush(&mut mono);
/// assert_eq!(mono.len(), s.len());
/// assert!((mono[400] - s[400]).abs() < 1e-4);
/// ```
#[derive(Debug)]
pub struct Downmixer {
    channels: usize,
    block: usize,
    pending: Vec<Vec<f32>>,
    signs: Vec<f32>,
    gain: f32,
    started: bool,
    scratch: Vec<f32>,
    energies: Vec<f64>,
    corr: Vec<f64>,
}

/// Channels quieter than this (relative energy) do not steer polarity: -30 dB.
const STEER_FLOOR: f64 = 1e-3;
/// Correlation magnitude above which a channel's polarity is re-decided.
const STEER_CORRELATION: f64 = 0.3;
/// Block energy per frame below which a block counts as silent and leaves the gain alone.
const SILENT_ENERGY: f64 = 1e-12;
/// Largest gain applied to the aligned sum.
const MAX_GAIN: f32 = 2.0;

impl Downmixer {
    /// A mixer for `channels` channels at `sample_rate` Hz (the rate sets the 20 ms block).
    pub fn new(channels: usize, sample_rate: u32) -> Self {
        let channels = channels.max(1);
        let block = (sample_rate as usize / 50).clamp(32, 1 << 16);
        Self {
            channels,
            block,
            pending: vec![Vec::with_capacity(block * 2); channels],
            signs: vec![1.0; channels],
            gain: 1.0,
            started: false,
            scratch: Vec::with_capacity(block),
            energies: vec![0.0; channels],
            corr: vec![0.0; channels],
        }
    }

    /// Number of input channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Adds one chunk of planar audio (one slice per channel, all the same length) and appends
    /// the mono frames that are ready to `out`.
    ///
    /// # Panics
    /// If the number of planes differs from [`channels`](Self::channels) or planes differ in
    /// length; the decoder in this crate always passes matching planes.
    pub fn push(&mut self, planes: &[&[f32]], out: &mut Vec<f32>) {
        assert_eq!(
            planes.len(),
            self.channels,
            "plane count must match channel count"
        );
        let frames = planes[0].len();
        assert!(
            planes.iter().all(|p| p.len() == frames),
            "planes differ in length"
        );
        if self.channels == 1 {
            out.extend(planes[0].iter().map(|&x| finite(x)));
            return;
        }
        for (pending, plane) in self.pending.iter_mut().zip(planes) {
            pending.extend(plane.iter().map(|&x| finite(x)));
        }
        let full = self.pending[0].len() / self.block * self.block;
        let mut start = 0;
        while start < full {
            self.mix_block(start, self.block, out);
            start += self.block;
        }
        if full > 0 {
            for pending in &mut self.pending {
                pending.drain(..full);
            }
        }
    }

    /// Mixes whatever is still buffered (less than one block) into `out`.
    pub fn flush(&mut self, out: &mut Vec<f32>) {
        let left = self.pending[0].len();
        if self.channels > 1 && left > 0 {
            self.mix_block(0, left, out);
            for pending in &mut self.pending {
                pending.clear();
            }
        }
    }

    fn mix_block(&mut self, start: usize, len: usize, out: &mut Vec<f32>) {
        let range = start..start + len;
        for (e, p) in self.energies.iter_mut().zip(&self.pending) {
            *e = f64::from(dot(&p[range.clone()], &p[range.clone()]));
        }
        let (reference, &e_ref) = self
            .energies
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("at least one channel");

        let old_signs = self.signs.clone();
        let old_gain = self.gain;
        let silent = e_ref <= SILENT_ENERGY * len as f64;
        if !silent {
            // Correlation of each channel with the reference; 0 for channels too quiet to judge.
            let r = &self.pending[reference][range.clone()];
            for c in 0..self.channels {
                self.corr[c] = if c == reference {
                    1.0
                } else if self.energies[c] < e_ref * STEER_FLOOR {
                    0.0
                } else {
                    let d = f64::from(dot(&self.pending[c][range.clone()], r));
                    d / (self.energies[c] * e_ref).sqrt()
                };
            }
            // The lowest-numbered clearly correlated channel keeps its polarity; the others in
            // its group align to it.
            let anchor = (0..self.channels)
                .find(|&c| self.corr[c].abs() > STEER_CORRELATION)
                .expect("the reference correlates with itself");
            let anchor_sign = self.signs[anchor] * self.corr[anchor].signum() as f32;
            for c in 0..self.channels {
                if self.corr[c].abs() > STEER_CORRELATION {
                    self.signs[c] = anchor_sign * self.corr[c].signum() as f32;
                }
            }
        }

        // Polarity-aligned sum with the new signs.
        self.scratch.clear();
        self.scratch.resize(len, 0.0);
        for (c, plane) in self.pending.iter().enumerate() {
            let s = self.signs[c];
            for (acc, &x) in self.scratch.iter_mut().zip(&plane[range.clone()]) {
                *acc += s * x;
            }
        }
        if !silent {
            let e_mix = f64::from(dot(&self.scratch, &self.scratch));
            let min_gain = 1.0 / self.channels as f32;
            self.gain = if e_mix > 0.0 {
                ((e_ref / e_mix).sqrt() as f32).clamp(min_gain, MAX_GAIN)
            } else {
                old_gain
            };
        }
        let base = out.len();
        out.resize(base + len, 0.0);
        let dst = &mut out[base..];
        if !self.started {
            self.started = true;
            let g = self.gain;
            for (o, &x) in dst.iter_mut().zip(&self.scratch) {
                *o = x * g;
            }
            return;
        }

        let step = 1.0 / len as f32;
        if old_signs == self.signs {
            let (g0, dg) = (old_gain, (self.gain - old_gain) * step);
            for (i, (o, &x)) in dst.iter_mut().zip(&self.scratch).enumerate() {
                *o = x * (g0 + dg * (i + 1) as f32);
            }
            return;
        }
        // A polarity changed: ramp every channel's weight on its own.
        for (c, plane) in self.pending.iter().enumerate() {
            let w0 = old_signs[c] * old_gain;
            let dw = (self.signs[c] * self.gain - w0) * step;
            for (i, (o, &x)) in dst.iter_mut().zip(&plane[range.clone()]).enumerate() {
                *o += x * (w0 + dw * (i + 1) as f32);
            }
        }
    }
}

/// Dot product with eight independent accumulators, so the compiler can vectorise it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Largest sample magnitude let through, 16× full scale: louder values only come from
/// garbage (integers read as floats, corrupt streams) and would overflow the resampler's FFT.
const MAX_SAMPLE: f32 = 16.0;

/// A sample made safe for the DSP after it: NaN and infinities become silence, anything
/// else is clamped to ±[`MAX_SAMPLE`].
pub(super) fn finite(x: f32) -> f32 {
    if x.is_finite() {
        x.clamp(-MAX_SAMPLE, MAX_SAMPLE)
    } else {
        0.0
    }
}

/// Down-mixes complete planar audio in one call (see [`Downmixer`] for the method).
pub fn downmix(planes: &[&[f32]], sample_rate: u32) -> Vec<f32> {
    let mut mixer = Downmixer::new(planes.len(), sample_rate);
    let mut out = Vec::with_capacity(planes.first().map_or(0, |p| p.len()));
    mixer.push(planes, &mut out);
    mixer.flush(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: u32 = 16_000;

    /// A speech-like test signal: a few harmonics under a syllable-rate envelope, with pauses.
    fn speechlike(seconds: f32, seed: f32) -> Vec<f32> {
        let n = (seconds * SR as f32) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / SR as f32;
                let env = (0.5 + 0.5 * (2.0 * std::f32::consts::PI * 4.0 * t + seed).sin()).powi(2);
                let f0 = 120.0 + 30.0 * (t * 1.3 + seed).sin();
                let mut x = 0.0;
                for h in 1..6 {
                    x += (2.0 * std::f32::consts::PI * f0 * h as f32 * t + seed * h as f32).sin()
                        / h as f32;
                }
                0.3 * env * x
            })
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    fn corr(a: &[f32], b: &[f32]) -> f64 {
        let dot: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| f64::from(x) * f64::from(y))
            .sum();
        dot / (rms(a) * rms(b) * a.len() as f64)
    }

    fn db(a: f64, b: f64) -> f64 {
        20.0 * (a / b).log10()
    }

    #[test]
    fn one_silent_channel_keeps_full_level() {
        let s = speechlike(2.0, 0.0);
        let silent = vec![0.0; s.len()];
        for planes in [[&s[..], &silent[..]], [&silent[..], &s[..]]] {
            let m = downmix(&planes, SR);
            assert_eq!(m.len(), s.len());
            assert!(corr(&m, &s) > 0.999, "corr {}", corr(&m, &s));
            assert!(
                db(rms(&m), rms(&s)).abs() < 0.5,
                "level {} dB",
                db(rms(&m), rms(&s))
            );
        }
    }

    #[test]
    fn phase_inverted_channels_do_not_cancel() {
        let s = speechlike(2.0, 0.7);
        let inv: Vec<f32> = s.iter().map(|x| -x).collect();
        let m = downmix(&[&s, &inv], SR);
        assert!(corr(&m, &s) > 0.999, "corr {}", corr(&m, &s));
        assert!(
            db(rms(&m), rms(&s)).abs() < 0.5,
            "level {} dB",
            db(rms(&m), rms(&s))
        );
        // A plain average would leave nothing.
        let avg: Vec<f32> = s.iter().zip(&inv).map(|(a, b)| (a + b) / 2.0).collect();
        assert!(rms(&avg) < 1e-6);
    }

    #[test]
    fn identical_channels_give_the_source() {
        let s = speechlike(1.0, 1.1);
        let m = downmix(&[&s, &s, &s], SR);
        let err = s
            .iter()
            .zip(&m)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "max error {err}");
    }

    #[test]
    fn two_talkers_on_separate_channels_are_both_kept() {
        let a = speechlike(2.0, 0.0);
        let b: Vec<f32> = speechlike(2.0, 2.3).iter().map(|x| x * 0.5).collect();
        let m = downmix(&[&a, &b], SR);
        assert!(corr(&m, &a) > 0.5, "corr a {}", corr(&m, &a));
        assert!(corr(&m, &b) > 0.3, "corr b {}", corr(&m, &b));
        assert!(db(rms(&m), rms(&a)).abs() < 3.0);
    }

    #[test]
    fn chunking_does_not_change_the_result() {
        let a = speechlike(1.0, 0.2);
        let b: Vec<f32> = a.iter().map(|x| -0.8 * x).collect();
        let whole = downmix(&[&a, &b], SR);
        let mut mixer = Downmixer::new(2, SR);
        let mut out = Vec::new();
        let mut pos = 0;
        for size in [1usize, 7, 333, 1000, 4096, 17].iter().cycle() {
            if pos >= a.len() {
                break;
            }
            let end = (pos + size).min(a.len());
            mixer.push(&[&a[pos..end], &b[pos..end]], &mut out);
            pos = end;
        }
        mixer.flush(&mut out);
        assert_eq!(whole, out);
    }

    #[test]
    fn non_finite_samples_become_silence() {
        let a = vec![f32::NAN, 0.5, f32::INFINITY, -0.5];
        let b = vec![0.0, 0.5, f32::NEG_INFINITY, -0.5];
        let m = downmix(&[&a, &b], SR);
        assert!(m.iter().all(|x| x.is_finite()));
        let mono = downmix(&[&a], SR);
        assert_eq!(mono, vec![0.0, 0.5, 0.0, -0.5]);
    }
}
