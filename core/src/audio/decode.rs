//! Demuxing and decoding a container, packet by packet, into planar f32 buffers.

use std::sync::LazyLock;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::meta::MetadataOptions;
use symphonia_adapter_libopus::OpusDecoder;

use super::info::{codec_name, AudioInfo};
use super::source::{AudioSource, Origin};
use super::{MAX_CHANNELS, MAX_SAMPLE_RATE};
use crate::error::{Error, Result};

/// Consecutive undecodable packets after which the stream counts as broken.
const MAX_CONSECUTIVE_ERRORS: usize = 16;

static CODECS: LazyLock<CodecRegistry> = LazyLock::new(|| {
    let mut registry = CodecRegistry::new();
    symphonia::default::register_enabled_codecs(&mut registry);
    registry.register_audio_decoder::<OpusDecoder>();
    registry
});

/// What one step of decoding produced.
#[derive(Debug)]
pub(crate) enum Step {
    /// Audio at `rate` Hz is in [`ContainerDecoder::planes`].
    Audio { rate: u32 },
    /// The stream ended where it should.
    End,
    /// The stream broke off; decoding cannot continue.
    Broken(String),
}

/// Pulls decoded audio out of a container, one packet at a time.
pub(crate) struct ContainerDecoder {
    input: String,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: AudioInfo,
    planes: Vec<Vec<f32>>,
    peeked: Option<Step>,
    consecutive_errors: usize,
    skipped: usize,
}

impl ContainerDecoder {
    /// Probes the container, picks the first decodable audio track and checks its header.
    pub(crate) fn open(source: AudioSource) -> Result<Self> {
        let input = source.name();
        let mut hint = Hint::new();
        if let Some(ext) = source.extension() {
            hint.with_extension(&ext);
        }
        let AudioSource { origin, .. } = source;
        if matches!(origin, Origin::Pcm(_)) {
            return Err(Error::InvalidArgument(format!(
                "{input}: raw PCM is not a container"
            )));
        }
        let stream = AudioSource::open_stream(origin, &input)?;
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| probe_error(&input, e))?;

        let container = format.format_info().short_name.to_string();
        let track = pick_track(&input, format.tracks())?;
        let track_id = track.id;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .expect("pick_track returns audio tracks")
            .clone();
        let frames = track.num_frames;
        let duration_seconds = match (track.time_base, track.duration) {
            (Some(tb), Some(d)) => tb.calc_duration(d).map(|t| t.as_secs_f64()),
            _ => None,
        };
        if let Some(rate) = params.sample_rate {
            check_rate(&input, rate)?;
        }
        if let Some(ch) = &params.channels {
            check_channels(&input, ch.count())?;
        }
        let decoder = CODECS
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| match e {
                SymphoniaError::Unsupported(_) => Error::UnsupportedCodec {
                    input: input.clone(),
                    codec: codec_name(params.codec),
                },
                other => Error::InvalidHeader {
                    input: input.clone(),
                    reason: other.to_string(),
                },
            })?;
        let rate = params.sample_rate.unwrap_or(0);
        let info = AudioInfo {
            container,
            codec: decoder.codec_info().short_name.to_string(),
            sample_rate: rate,
            channels: params.channels.as_ref().map_or(0, |c| c.count() as u16),
            frames,
            duration_seconds: duration_seconds.or_else(|| {
                frames
                    .filter(|_| rate > 0)
                    .map(|f| f as f64 / f64::from(rate))
            }),
            bits_per_sample: params.bits_per_sample,
        };
        let mut this = Self {
            input,
            format,
            decoder,
            track_id,
            info,
            planes: Vec::new(),
            peeked: None,
            consecutive_errors: 0,
            skipped: 0,
        };
        if this.info.sample_rate == 0 || this.info.channels == 0 {
            // The header leaves the layout to the codec: decode the first packet to learn it.
            let step = this.decode_next()?;
            if let Step::Audio { rate } = step {
                this.info.sample_rate = rate;
                this.info.channels = this.planes.len() as u16;
                if this.info.duration_seconds.is_none() {
                    this.info.duration_seconds = frames.map(|f| f as f64 / f64::from(rate));
                }
            }
            this.peeked = Some(step);
        }
        Ok(this)
    }

    /// Header metadata of the chosen track.
    pub(crate) fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Packets that could not be decoded and were skipped so far.
    pub(crate) fn skipped_packets(&self) -> usize {
        self.skipped
    }

    /// Takes the planes filled by the last [`Step::Audio`], leaving `spare` to decode into.
    pub(crate) fn take_planes(&mut self, spare: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
        std::mem::replace(&mut self.planes, spare)
    }

    /// Decodes until the next buffer of audio, the end, or a break.
    pub(crate) fn next_step(&mut self) -> Result<Step> {
        match self.peeked.take() {
            Some(step) => Ok(step),
            None => self.decode_next(),
        }
    }

    fn decode_next(&mut self) -> Result<Step> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(Step::End),
                Err(SymphoniaError::ResetRequired) => {
                    self.reset_decoder()?;
                    continue;
                }
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(Step::Broken(
                        "the stream ends in the middle of a packet".into(),
                    ));
                }
                Err(e) => return Ok(Step::Broken(e.to_string())),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    self.consecutive_errors = 0;
                    if buf.frames() == 0 {
                        continue;
                    }
                    let rate = buf.spec().rate();
                    let channels = buf.spec().channels().count();
                    check_rate(&self.input, rate)?;
                    check_channels(&self.input, channels)?;
                    buf.copy_to_vecs_planar::<f32>(&mut self.planes);
                    return Ok(Step::Audio { rate });
                }
                Err(SymphoniaError::DecodeError(_)) | Err(SymphoniaError::IoError(_)) => {
                    self.skipped += 1;
                    self.consecutive_errors += 1;
                    if self.consecutive_errors >= MAX_CONSECUTIVE_ERRORS {
                        return Ok(Step::Broken(format!(
                            "{MAX_CONSECUTIVE_ERRORS} consecutive packets could not be decoded"
                        )));
                    }
                }
                Err(SymphoniaError::ResetRequired) => self.reset_decoder()?,
                Err(e) => return Ok(Step::Broken(e.to_string())),
            }
        }
    }

    fn reset_decoder(&mut self) -> Result<()> {
        let params = self
            .format
            .tracks()
            .iter()
            .find(|t| t.id == self.track_id)
            .and_then(|t| t.codec_params.as_ref())
            .and_then(|p| p.audio())
            .cloned();
        let Some(params) = params else {
            return Err(Error::Corrupt {
                input: self.input.clone(),
                decoded_seconds: 0.0,
                reason: "the audio track disappeared mid-stream".into(),
            });
        };
        self.decoder = CODECS
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|_| Error::UnsupportedCodec {
                input: self.input.clone(),
                codec: codec_name(params.codec),
            })?;
        Ok(())
    }
}

/// The first audio track with a decoder, else an error naming what was found.
fn pick_track<'a>(input: &str, tracks: &'a [Track]) -> Result<&'a Track> {
    let audio: Vec<&Track> = tracks
        .iter()
        .filter(|t| t.codec_params.as_ref().and_then(|p| p.audio()).is_some())
        .collect();
    let decodable = audio.iter().find(|t| {
        let params = t.codec_params.as_ref().and_then(|p| p.audio());
        params.is_some_and(|p| CODECS.get_audio_decoder(p.codec).is_some())
    });
    if let Some(track) = decodable {
        return Ok(track);
    }
    match audio.first() {
        Some(t) => Err(Error::UnsupportedCodec {
            input: input.to_string(),
            codec: codec_name(
                t.codec_params
                    .as_ref()
                    .and_then(|p| p.audio())
                    .map(|p| p.codec)
                    .unwrap_or_default(),
            ),
        }),
        None => Err(Error::NoAudio {
            input: input.to_string(),
            reason: format!(
                "{} track(s), none of them audio",
                tracks.iter().filter(|t| t.codec_params.is_some()).count()
            ),
        }),
    }
}

fn probe_error(input: &str, e: SymphoniaError) -> Error {
    let reason = match &e {
        SymphoniaError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the data ends before a complete header".to_string()
        }
        SymphoniaError::Unsupported(_) => "no known container or stream signature".to_string(),
        other => other.to_string(),
    };
    let rate_or_channels = reason.contains("sample rate") || reason.contains("channel");
    if matches!(e, SymphoniaError::DecodeError(_)) && rate_or_channels {
        return Error::InvalidHeader {
            input: input.to_string(),
            reason,
        };
    }
    Error::UnknownFormat {
        input: input.to_string(),
        reason,
    }
}

pub(crate) fn check_rate(input: &str, rate: u32) -> Result<()> {
    if rate == 0 || rate > MAX_SAMPLE_RATE {
        return Err(Error::InvalidHeader {
            input: input.to_string(),
            reason: format!("sample rate {rate} Hz is outside 1 Hz..={MAX_SAMPLE_RATE} Hz"),
        });
    }
    Ok(())
}

pub(crate) fn check_channels(input: &str, channels: usize) -> Result<()> {
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(Error::InvalidHeader {
            input: input.to_string(),
            reason: format!("{channels} channels is outside 1..={MAX_CHANNELS}"),
        });
    }
    Ok(())
}
