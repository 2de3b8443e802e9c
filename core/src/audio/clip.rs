//! A whole decoded clip in memory, and metadata probing.

use std::io::{Seek, Write};
use std::path::Path;

use super::info::{AudioInfo, Warning};
use super::mix::downmix;
use super::source::AudioSource;
use super::stream::{AudioStream, DecodeOptions};
use super::wav::{WavFormat, WavSink};
use super::SAMPLE_RATE;
use crate::error::Result;

/// Decoded audio: 16 kHz mono f32 samples, with the source's metadata and any warnings.
///
/// ```no_run
/// use stenograph::audio::Audio;
/// let audio = Audio::from_path("call.mp3")?;
/// println!("{:.1} s from {} {}", audio.duration_seconds(), audio.info().container, audio.info().codec);
/// # Ok::<(), stenograph::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Audio {
    samples: Vec<f32>,
    /// The channels, each at 16 kHz, when decoded with
    /// [`separate_channels`](DecodeOptions::separate_channels) from more than one.
    channels: Vec<Vec<f32>>,
    info: AudioInfo,
    warnings: Vec<Warning>,
}

/// Upper bound for reserving output space from a declared length (10 min of 16 kHz audio); a
/// header's claim alone never makes us allocate more.
const MAX_RESERVE: usize = 600 * SAMPLE_RATE as usize;

impl AsRef<[f32]> for Audio {
    fn as_ref(&self) -> &[f32] {
        &self.samples
    }
}

impl Audio {
    /// Decodes any input with the given options.
    pub fn decode(source: impl Into<AudioSource>, opts: &DecodeOptions) -> Result<Self> {
        let mut stream = AudioStream::open(source.into(), opts)?;
        let declared = stream
            .info()
            .duration_seconds
            .map_or(0, |s| (s * f64::from(SAMPLE_RATE)) as usize);
        let outputs = stream.output_channels();
        let mut planes = vec![Vec::with_capacity(declared.min(MAX_RESERVE)); outputs];
        while let Some(chunk) = stream.next_channels() {
            for (plane, part) in planes.iter_mut().zip(chunk?) {
                plane.extend_from_slice(&part);
            }
        }
        let (samples, channels) = if outputs > 1 {
            let refs: Vec<&[f32]> = planes.iter().map(Vec::as_slice).collect();
            (downmix(&refs, SAMPLE_RATE), planes)
        } else {
            (planes.pop().unwrap_or_default(), Vec::new())
        };
        Ok(Self {
            samples,
            channels,
            info: stream.info().clone(),
            warnings: stream.warnings().to_vec(),
        })
    }

    /// Decodes a file with default options.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        Self::decode(AudioSource::from_path(path), &DecodeOptions::default())
    }

    /// Decodes a complete file held in memory with default options.
    pub fn from_bytes(bytes: impl AsRef<[u8]> + Send + Sync + 'static) -> Result<Self> {
        Self::decode(AudioSource::from_bytes(bytes), &DecodeOptions::default())
    }

    /// Decodes from a seekable reader with default options.
    pub fn from_reader(reader: impl std::io::Read + Seek + Send + Sync + 'static) -> Result<Self> {
        Self::decode(AudioSource::from_reader(reader), &DecodeOptions::default())
    }

    /// Converts interleaved f32 PCM at any rate and channel count.
    pub fn from_pcm_f32(samples: Vec<f32>, sample_rate: u32, channels: u16) -> Result<Self> {
        Self::decode(
            AudioSource::from_pcm_f32(samples, sample_rate, channels),
            &DecodeOptions::default(),
        )
    }

    /// Converts interleaved i16 PCM at any rate and channel count.
    pub fn from_pcm_i16(samples: Vec<i16>, sample_rate: u32, channels: u16) -> Result<Self> {
        Self::decode(
            AudioSource::from_pcm_i16(samples, sample_rate, channels),
            &DecodeOptions::default(),
        )
    }

    /// The channels at 16 kHz, one slice each: those of the source when decoded with
    /// [`separate_channels`](DecodeOptions::separate_channels), else the mono samples alone.
    ///
    /// ```no_run
    /// use stenograph::audio::{Audio, AudioSource, DecodeOptions};
    /// let mut opts = DecodeOptions::default();
    /// opts.separate_channels = true;
    /// let call = Audio::decode(AudioSource::from_path("call.wav"), &opts)?;
    /// for (i, channel) in call.channels().iter().enumerate() {
    ///     println!("channel {i}: {} samples", channel.len());
    /// }
    /// # Ok::<(), stenograph::Error>(())
    /// ```
    pub fn channels(&self) -> Vec<&[f32]> {
        if self.channels.is_empty() {
            vec![&self.samples]
        } else {
            self.channels.iter().map(Vec::as_slice).collect()
        }
    }

    /// The 16 kHz mono samples (the channels down-mixed).
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Takes the samples out.
    pub fn into_samples(self) -> Vec<f32> {
        self.samples
    }

    /// Length in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE)
    }

    /// The source's metadata.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Problems tolerated while decoding (truncation, skipped packets).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Writes the samples as a 16 kHz mono WAV file.
    pub fn write_wav<W: Write + Seek>(&self, writer: W, format: WavFormat) -> Result<()> {
        let mut sink = WavSink::new(writer, format)?;
        sink.write(&self.samples)?;
        sink.finish()
    }
}

/// Reads an input's metadata from its headers without decoding the stream.
///
/// ```no_run
/// let info = stenograph::audio::probe("call.m4a".into())?;
/// println!("{} {} Hz × {} ch, {:?} s", info.codec, info.sample_rate, info.channels, info.duration_seconds);
/// # Ok::<(), stenograph::Error>(())
/// ```
pub fn probe(source: AudioSource) -> Result<AudioInfo> {
    let stream = AudioStream::open(
        source,
        &DecodeOptions {
            max_duration: std::time::Duration::MAX,
            ..DecodeOptions::default()
        },
    )?;
    Ok(stream.info().clone())
}
