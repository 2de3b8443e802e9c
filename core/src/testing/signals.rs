//! Generated sounds that are not speech, as a call holds them: the network's tones (ring-back,
//! busy, DTMF, information tones, fax), noise of every colour, clicks and hum, and music
//! (a square-wave tune, synthesised hold music). 16 kHz mono, deterministic.

use std::f64::consts::TAU;

const RATE: f64 = 16_000.0;

/// Every generated non-speech sound with its name.
pub fn non_speech() -> Vec<(&'static str, Vec<f32>)> {
    vec![
        (
            "ring-back (US)",
            cadence(&[440.0, 480.0], &[(2.0, 4.0)], 24.0),
        ),
        (
            "ring-back (UK)",
            cadence(&[400.0, 450.0], &[(0.4, 0.2), (0.4, 2.0)], 18.0),
        ),
        ("busy tone", cadence(&[480.0, 620.0], &[(0.5, 0.5)], 10.0)),
        ("DTMF digits", dtmf("18005550199#", 2)),
        ("special information tone", sit()),
        ("fax calling tone", cadence(&[1_100.0], &[(0.5, 3.0)], 14.0)),
        ("voicemail beep", padded(tone(&[1_000.0], 1.0), 2.0, 2.0)),
        ("white noise", noise(Colour::White, 20.0, 0.05, 1)),
        ("pink noise", noise(Colour::Pink, 20.0, 0.05, 2)),
        ("brown noise", noise(Colour::Brown, 20.0, 0.05, 3)),
        (
            "noise burst",
            padded(noise(Colour::White, 0.3, 0.3, 4), 2.0, 2.0),
        ),
        ("line clicks", clicks(10.0, 5)),
        ("mains hum", hum(10.0)),
        ("square-wave tune", square_tune()),
        ("hold music", hold_music(30.0)),
    ]
}

/// The sum of sines at `freqs` for `seconds`, 0.1 peak each, with 5 ms ramps.
pub fn tone(freqs: &[f64], seconds: f64) -> Vec<f32> {
    let n = (seconds * RATE) as usize;
    let ramp = (0.005 * RATE) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE;
            let gain = (i.min(n - 1 - i) as f64 / ramp as f64).min(1.0);
            let v: f64 = freqs.iter().map(|f| (TAU * f * t).sin()).sum();
            (0.1 * gain * v) as f32
        })
        .collect()
}

/// `freqs` on and off by `pattern` (seconds on, seconds off, repeated) for `seconds`.
fn cadence(freqs: &[f64], pattern: &[(f64, f64)], seconds: f64) -> Vec<f32> {
    let mut out = Vec::new();
    'outer: loop {
        for &(on, off) in pattern {
            out.extend(tone(freqs, on));
            out.extend(silence(off));
            if out.len() as f64 >= seconds * RATE {
                break 'outer;
            }
        }
    }
    out.truncate((seconds * RATE) as usize);
    out
}

/// `digits` in DTMF (120 ms tones, 80 ms gaps), `times` over with a second between.
fn dtmf(digits: &str, times: usize) -> Vec<f32> {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f64; 4] = [1_209.0, 1_336.0, 1_477.0, 1_633.0];
    const KEYS: [&str; 4] = ["123A", "456B", "789C", "*0#D"];
    let mut out = silence(0.5);
    for _ in 0..times {
        for d in digits.chars() {
            let (r, c) = KEYS
                .iter()
                .enumerate()
                .find_map(|(r, row)| row.find(d).map(|c| (r, c)))
                .unwrap_or((3, 1));
            out.extend(tone(&[ROWS[r], COLS[c]], 0.12));
            out.extend(silence(0.08));
        }
        out.extend(silence(1.0));
    }
    out
}

/// The special information tone ("the number you have dialled…" without the words): three
/// rising 330 ms tones, three times.
fn sit() -> Vec<f32> {
    let mut out = Vec::new();
    for _ in 0..3 {
        for f in [913.8, 1_370.6, 1_776.7] {
            out.extend(tone(&[f], 0.33));
        }
        out.extend(silence(3.0));
    }
    out
}

/// Noise colours.
#[derive(Clone, Copy)]
enum Colour {
    White,
    Pink,
    Brown,
}

/// `seconds` of noise at `level` RMS.
fn noise(colour: Colour, seconds: f64, level: f32, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut white = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let n = (seconds * RATE) as usize;
    let (mut pink, mut brown) = ([0.0f64; 3], 0.0f64);
    let raw: Vec<f64> = (0..n)
        .map(|_| {
            let w = white();
            match colour {
                Colour::White => w,
                Colour::Pink => {
                    // Three one-pole bands summed: roughly pink.
                    pink[0] = 0.997 * pink[0] + 0.029 * w;
                    pink[1] = 0.985 * pink[1] + 0.032 * w;
                    pink[2] = 0.950 * pink[2] + 0.048 * w;
                    pink.iter().sum::<f64>() + 0.018 * w
                }
                Colour::Brown => {
                    brown = 0.998 * brown + 0.02 * w;
                    brown
                }
            }
        })
        .collect();
    let rms = (raw.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64).sqrt();
    raw.iter()
        .map(|v| (v / rms.max(1e-12)) as f32 * level)
        .collect()
}

/// Faint line noise with a click (a short decaying impulse) every third of a second or so.
fn clicks(seconds: f64, seed: u64) -> Vec<f32> {
    let mut out = noise(Colour::Pink, seconds, 0.002, seed);
    let mut at = 0.1;
    let mut k = 0u32;
    while at < seconds - 0.05 {
        let i = (at * RATE) as usize;
        for j in 0..80 {
            let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
            out[i + j] += sign * 0.4 * (-(j as f32) / 12.0).exp();
        }
        k += 1;
        at += 0.2 + f64::from(k * 7 % 5) * 0.07;
    }
    out
}

/// Mains hum: 50 Hz and its odd harmonics.
fn hum(seconds: f64) -> Vec<f32> {
    let n = (seconds * RATE) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE;
            let v: f64 = [(50.0, 1.0), (150.0, 0.5), (250.0, 0.3), (350.0, 0.2)]
                .iter()
                .map(|(f, a)| a * (TAU * f * t).sin())
                .sum();
            (0.05 * v) as f32
        })
        .collect()
}

/// A tune in square waves (a phone's or a toy's melody).
fn square_tune() -> Vec<f32> {
    const NOTES: [u8; 14] = [60, 60, 67, 67, 69, 69, 67, 65, 65, 64, 64, 62, 62, 60];
    let mut out = Vec::new();
    for _ in 0..2 {
        for &m in &NOTES {
            let f = midi(m);
            let n = (0.35 * RATE) as usize;
            out.extend((0..n).map(|i| {
                let phase = (f * i as f64 / RATE).fract();
                let gain = (1.0 - i as f64 / n as f64).min(0.8);
                (if phase < 0.5 { 0.08 } else { -0.08 } * gain) as f32
            }));
        }
    }
    out
}

/// Hold music: a I–V–vi–IV progression in soft additive tones under a plucked melody.
pub fn hold_music(seconds: f64) -> Vec<f32> {
    const CHORDS: [[u8; 3]; 4] = [[60, 64, 67], [55, 59, 62], [57, 60, 64], [53, 57, 60]];
    const MELODY: [u8; 16] = [
        72, 76, 79, 76, 74, 71, 74, 79, 72, 76, 81, 79, 77, 76, 74, 72,
    ];
    let n = (seconds * RATE) as usize;
    let beat = 0.5;
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE;
            let bar = (t / (4.0 * beat)) as usize;
            let chord = CHORDS[bar % CHORDS.len()];
            let pad: f64 = chord
                .iter()
                .map(|&m| {
                    let f = midi(m);
                    (TAU * f * t).sin() + 0.3 * (TAU * 2.0 * f * t).sin()
                })
                .sum();
            let k = (t / beat) as usize;
            let since = t - k as f64 * beat;
            let f = midi(MELODY[k % MELODY.len()]);
            let pluck = (-since * 6.0).exp()
                * ((TAU * f * t).sin()
                    + 0.5 * (TAU * 2.0 * f * t).sin()
                    + 0.25 * (TAU * 3.0 * f * t).sin());
            (0.025 * pad + 0.08 * pluck) as f32
        })
        .collect()
}

/// The frequency of MIDI note `m`.
fn midi(m: u8) -> f64 {
    440.0 * 2f64.powf((f64::from(m) - 69.0) / 12.0)
}

/// `seconds` of digital silence.
fn silence(seconds: f64) -> Vec<f32> {
    vec![0.0; (seconds * RATE) as usize]
}

/// `sound` with `before` and `after` seconds of silence around it.
fn padded(sound: Vec<f32>, before: f64, after: f64) -> Vec<f32> {
    let mut out = silence(before);
    out.extend(sound);
    out.extend(silence(after));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sound_is_audible_and_bounded() {
        for (name, s) in non_speech() {
            assert!(s.len() as f64 >= RATE, "{name}: {} samples", s.len());
            let peak = s.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(peak > 0.01 && peak <= 1.0, "{name}: peak {peak}");
        }
    }

    #[test]
    fn dtmf_keys_hold_their_two_frequencies() {
        // "5" is 770 + 1336 Hz: the correlation with each is high, with 697 Hz low.
        let s = dtmf("5", 1);
        let at = |f: f64| {
            let (mut c, mut q) = (0.0f64, 0.0f64);
            for (i, v) in s.iter().enumerate() {
                let p = TAU * f * i as f64 / RATE;
                c += f64::from(*v) * p.cos();
                q += f64::from(*v) * p.sin();
            }
            (c * c + q * q).sqrt()
        };
        assert!(at(770.0) > 10.0 * at(697.0));
        assert!(at(1_336.0) > 10.0 * at(1_209.0));
    }
}
