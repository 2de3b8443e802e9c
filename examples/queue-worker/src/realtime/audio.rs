//! The audio of `input_audio_buffer.append`: base64 text to 16-bit samples. G.711 is expanded
//! here with the ITU-T formulas (a few lines; the crates for it are unmaintained one-offs).

use base64::Engine as _;

use super::protocol::Encoding;

/// Why an append's audio was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BadAudio {
    /// Not base64.
    Base64(String),
    /// An odd number of bytes for 16-bit samples.
    OddLength(usize),
}

impl std::fmt::Display for BadAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadAudio::Base64(e) => write!(f, "audio is not valid base64: {e}"),
            BadAudio::OddLength(n) => write!(
                f,
                "pcm16 audio must be whole 16-bit little-endian samples; got {n} bytes"
            ),
        }
    }
}

/// Decodes `text` (base64 of `encoding`) to samples.
pub fn decode(text: &str, encoding: Encoding) -> Result<Vec<i16>, BadAudio> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| BadAudio::Base64(e.to_string()))?;
    match encoding {
        Encoding::Pcm16 => {
            if bytes.len() % 2 != 0 {
                return Err(BadAudio::OddLength(bytes.len()));
            }
            Ok(bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect())
        }
        Encoding::Pcmu => Ok(bytes.iter().map(|&b| ulaw(b)).collect()),
        Encoding::Pcma => Ok(bytes.iter().map(|&b| alaw(b)).collect()),
    }
}

/// One G.711 μ-law byte as a linear sample.
fn ulaw(byte: u8) -> i16 {
    let b = !byte;
    let exponent = (b >> 4) & 0x07;
    let mantissa = i32::from(b & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if b & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// One G.711 A-law byte as a linear sample.
fn alaw(byte: u8) -> i16 {
    let b = byte ^ 0x55;
    let exponent = (b >> 4) & 0x07;
    let mantissa = i32::from(b & 0x0f);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if b & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn pcm16_is_little_endian_and_whole_samples() {
        let text = STANDARD.encode([0x01, 0x00, 0xff, 0x7f, 0x00, 0x80]);
        assert_eq!(
            decode(&text, Encoding::Pcm16).unwrap(),
            [1, 32_767, -32_768]
        );
        assert_eq!(
            decode(&STANDARD.encode([1, 2, 3]), Encoding::Pcm16),
            Err(BadAudio::OddLength(3))
        );
        assert!(matches!(
            decode("not base64!", Encoding::Pcm16),
            Err(BadAudio::Base64(_))
        ));
        assert_eq!(decode("", Encoding::Pcm16).unwrap(), Vec::<i16>::new());
    }

    #[test]
    fn g711_matches_the_standard_tables() {
        // Values from ITU-T G.711's tables (and every codec that follows them).
        assert_eq!(ulaw(0xff), 0);
        assert_eq!(ulaw(0x7f), 0);
        assert_eq!(ulaw(0x80), 32_124);
        assert_eq!(ulaw(0x00), -32_124);
        assert_eq!(ulaw(0xfe), 8);
        assert_eq!(alaw(0xd5), 8);
        assert_eq!(alaw(0x55), -8);
        assert_eq!(alaw(0xaa), 32_256);
        assert_eq!(alaw(0x2a), -32_256);
        // Both are odd around zero and grow with the code.
        for b in 0..=255u8 {
            assert_eq!(ulaw(b), -ulaw(b ^ 0x80));
            assert_eq!(alaw(b), -alaw(b ^ 0x80));
        }
        let rising: Vec<i16> = (0x80..=0xffu8).rev().map(ulaw).collect();
        assert!(rising.windows(2).all(|w| w[0] < w[1]), "{rising:?}");
    }
}
