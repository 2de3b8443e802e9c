//! Writing 16 kHz mono WAV files, streaming.

use std::io::{Seek, Write};

use super::SAMPLE_RATE;
use crate::error::{Error, Result};

/// Sample format of a written WAV file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WavFormat {
    /// Signed 16-bit PCM: what every tool reads (default).
    #[default]
    Pcm16,
    /// 32-bit float: the samples exactly as decoded.
    Float32,
}

/// Writes 16 kHz mono samples to a WAV file chunk by chunk.
///
/// ```
/// use stenograph::audio::{WavFormat, WavSink};
/// let mut bytes = std::io::Cursor::new(Vec::new());
/// let mut sink = WavSink::new(&mut bytes, WavFormat::Pcm16)?;
/// sink.write(&[0.0, 0.5, -0.5])?;
/// sink.finish()?;
/// assert_eq!(bytes.get_ref().len(), 44 + 6);
/// # Ok::<(), stenograph::Error>(())
/// ```
pub struct WavSink<W: Write + Seek> {
    writer: hound::WavWriter<W>,
    format: WavFormat,
}

impl<W: Write + Seek> std::fmt::Debug for WavSink<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Seek> WavSink<W> {
    /// Starts a WAV file in `writer`.
    pub fn new(writer: W, format: WavFormat) -> Result<Self> {
        let (bits_per_sample, sample_format) = match format {
            WavFormat::Pcm16 => (16, hound::SampleFormat::Int),
            WavFormat::Float32 => (32, hound::SampleFormat::Float),
        };
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: SAMPLE_RATE,
            bits_per_sample,
            sample_format,
        };
        let writer = hound::WavWriter::new(writer, spec).map_err(wav_error)?;
        Ok(Self { writer, format })
    }

    /// Appends samples (nominally in `[-1, 1]`; 16-bit output clips beyond that).
    pub fn write(&mut self, samples: &[f32]) -> Result<()> {
        match self.format {
            WavFormat::Pcm16 => {
                let mut w = self.writer.get_i16_writer(samples.len() as u32);
                for &s in samples {
                    w.write_sample((s * 32768.0).round().clamp(-32768.0, 32767.0) as i16);
                }
                w.flush().map_err(wav_error)
            }
            WavFormat::Float32 => samples
                .iter()
                .try_for_each(|&s| self.writer.write_sample(s))
                .map_err(wav_error),
        }
    }

    /// Completes the header and flushes the file.
    pub fn finish(self) -> Result<()> {
        self.writer.finalize().map_err(wav_error)
    }
}

fn wav_error(e: hound::Error) -> Error {
    match e {
        hound::Error::IoError(source) => Error::Write { source },
        other => Error::Write {
            source: std::io::Error::other(other.to_string()),
        },
    }
}
