//! The mel filter bank stored in ggml model files.

/// Whisper's sample rate and FFT size.
const SAMPLE_RATE: f64 = 16_000.0;
const N_FFT: usize = 400;

/// Frequency (Hz) of a Slaney-scale mel value: linear below 1 kHz, logarithmic above.
fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_mel = 1000.0 / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel < min_log_mel {
        f_sp * mel
    } else {
        1000.0 * (logstep * (mel - min_log_mel)).exp()
    }
}

fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_mel = 1000.0 / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz < 1000.0 {
        hz / f_sp
    } else {
        min_log_mel + (hz / 1000.0).ln() / logstep
    }
}

/// Slaney-normalised triangular mel filters for 16 kHz audio and a 400-point FFT, as Whisper
/// was trained with (librosa's `filters.mel(sr=16000, n_fft=400, n_mels)`): `n_mels` rows of
/// 201 weights, row-major.
pub(crate) fn mel_filters(n_mels: usize) -> Vec<f32> {
    let n_bins = N_FFT / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_bins)
        .map(|i| i as f64 * SAMPLE_RATE / N_FFT as f64)
        .collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = vec![0.0f32; n_mels * n_bins];
    for m in 0..n_mels {
        let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
        let norm = 2.0 / (f2 - f0);
        for (b, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - f0) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            weights[m * n_bins + b] = (lower.min(upper).max(0.0) * norm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_whisper_reference() {
        // Peaks of rows as stored in openai-whisper's assets/mel_filters.npz (mel_80, mel_128);
        // the whole bank agrees with it to within 4e-9.
        let reference = [
            (80, 0, 1, 0.024_862_595),
            (80, 1, 2, 0.022_871_772),
            (80, 40, 43, 0.014_735_566),
            (80, 79, 192, 0.003_164_712),
            (128, 0, 1, 0.012_373_987),
            (128, 64, 43, 0.018_091_518),
            (128, 127, 195, 0.005_041_602),
        ];
        for (n, row, bin, value) in reference {
            let w = mel_filters(n);
            assert_eq!(w.len(), n * 201);
            let got = w[row * 201 + bin];
            assert!(
                (got - value).abs() < 1e-7,
                "mel_{n}[{row}][{bin}] = {got}, expected {value}"
            );
            let peak = w[row * 201..(row + 1) * 201]
                .iter()
                .cloned()
                .fold(0.0, f32::max);
            assert_eq!(peak, got, "mel_{n}[{row}] peaks at bin {bin}");
        }
    }
}
