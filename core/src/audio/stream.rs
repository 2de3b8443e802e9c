//! The front end as a stream: decode → down-mix → resample, chunk by chunk, in bounded memory.

use std::time::Duration;

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::ahead::{next_event, DecodeAhead, Event};
use super::decode::{check_channels, check_rate, ContainerDecoder};
use super::info::{AudioInfo, Warning};
use super::mix::{finite, Downmixer};
use super::resample::Resampler;
use super::source::{AudioSource, Origin, Pcm, PcmSamples};
use super::SAMPLE_RATE;
use crate::error::{Error, Result};

/// What to do when a stream ends before its declared length or breaks off mid-way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Truncation {
    /// Keep what was decoded and carry a [`Warning::Truncated`] (default: a cut-off upload
    /// still yields its transcript).
    #[default]
    Warn,
    /// Fail with [`Error::Truncated`].
    Error,
}

/// Limits and policies for decoding. Fields are added over time (`#[non_exhaustive]`): start
/// from the default and set what you need.
///
/// ```
/// use std::time::Duration;
/// use stenograph::audio::{DecodeOptions, Truncation};
/// let mut opts = DecodeOptions::default();
/// opts.max_duration = Duration::from_secs(600);
/// opts.truncation = Truncation::Error;
/// assert_eq!(opts.max_duration.as_secs(), 600);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// Longest audio accepted, declared or decoded (default 6 h). Bounds memory: a tiny file
    /// that claims or expands to days of audio is refused early.
    pub max_duration: Duration,
    /// Whether truncation is an error or a warning (default: warning).
    pub truncation: Truncation,
    /// Decode compressed input on a helper thread while mixing and resampling on the caller's
    /// (default: on). Nearly halves wall time on two or more cores; the CPU time is the same.
    pub decode_ahead: bool,
    /// Keep the source's channels apart instead of down-mixing them (default: off): each
    /// channel is resampled on its own and read with [`AudioStream::next_channels`]. For
    /// recordings with one party per channel (call-centre stereo).
    pub separate_channels: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            max_duration: Duration::from_secs(6 * 3600),
            truncation: Truncation::Warn,
            decode_ahead: true,
            separate_channels: false,
        }
    }
}

/// Output is handed out in chunks of at least this many 16 kHz samples (1 s).
const MIN_CHUNK: usize = SAMPLE_RATE as usize;
/// PCM inputs are fed through the pipeline this many frames at a time.
const PCM_BLOCK: usize = 1 << 16;

enum Frames {
    Inline(Box<ContainerDecoder>),
    Ahead(DecodeAhead),
    Pcm { pcm: Pcm, pos: usize },
}

/// Mixer and resampler(s) for one source layout; rebuilt if a stream changes rate or channels.
struct Stage {
    rate: u32,
    channels: usize,
    mixing: Mixing,
}

/// Down-mixed to one output plane, or each channel resampled to its own.
enum Mixing {
    Mix {
        mixer: Downmixer,
        resampler: Box<Resampler>,
        mono: Vec<f32>,
    },
    Split {
        resamplers: Vec<Resampler>,
        scratch: Vec<f32>,
    },
}

impl Stage {
    /// A stage for `channels` source channels at `rate` Hz writing `outputs` planes: one
    /// (down-mixed), or one per channel of the stream's first layout.
    fn new(input: &str, rate: u32, channels: usize, split: Option<usize>) -> Result<Self> {
        check_rate(input, rate)?;
        check_channels(input, channels)?;
        let resampler = || {
            Resampler::new(rate).ok_or_else(|| Error::InvalidHeader {
                input: input.to_string(),
                reason: format!("cannot resample from {rate} Hz"),
            })
        };
        let mixing = match split {
            None => Mixing::Mix {
                mixer: Downmixer::new(channels, rate),
                resampler: Box::new(resampler()?),
                mono: Vec::new(),
            },
            Some(outputs) => Mixing::Split {
                resamplers: (0..outputs).map(|_| resampler()).collect::<Result<_>>()?,
                scratch: Vec::new(),
            },
        };
        Ok(Self {
            rate,
            channels,
            mixing,
        })
    }

    fn push(&mut self, planes: &[Vec<f32>], out: &mut [Vec<f32>]) {
        match &mut self.mixing {
            Mixing::Mix {
                mixer,
                resampler,
                mono,
            } => {
                let refs: Vec<&[f32]> = planes.iter().map(Vec::as_slice).collect();
                mono.clear();
                mixer.push(&refs, mono);
                resampler.push(mono, &mut out[0]);
            }
            Mixing::Split {
                resamplers,
                scratch,
            } => {
                let frames = planes.first().map_or(0, Vec::len);
                let outputs = resamplers.len();
                for (c, (resampler, out)) in resamplers.iter_mut().zip(out).enumerate() {
                    split_plane(planes, c, outputs, frames, scratch);
                    resampler.push(scratch, out);
                }
            }
        }
    }

    fn finish(&mut self, out: &mut [Vec<f32>]) {
        match &mut self.mixing {
            Mixing::Mix {
                mixer,
                resampler,
                mono,
            } => {
                mono.clear();
                mixer.flush(mono);
                resampler.push(mono, &mut out[0]);
                resampler.finish(&mut out[0]);
            }
            Mixing::Split { resamplers, .. } => {
                for (resampler, out) in resamplers.iter_mut().zip(out) {
                    resampler.finish(out);
                }
            }
        }
    }
}

/// Output channel `c` of a layout that may have a different channel count than the stream's
/// first (chained streams): the source channel of the same number, silence when there is
/// none, and the last output channel also takes the sum of any extra source channels.
fn split_plane(planes: &[Vec<f32>], c: usize, outputs: usize, frames: usize, out: &mut Vec<f32>) {
    out.clear();
    match planes.get(c) {
        Some(p) => out.extend(p.iter().map(|&x| finite(x))),
        None => out.resize(frames, 0.0),
    }
    if c + 1 == outputs && planes.len() > outputs {
        for extra in &planes[outputs..] {
            for (o, &x) in out.iter_mut().zip(extra) {
                *o += finite(x);
            }
        }
    }
}

/// Decodes any input to 16 kHz mono f32, yielding chunks of about a second or more.
///
/// Memory stays bounded whatever the input's length: only the current packet, the mixer's
/// 20 ms block, the resampler's window and the chunk being filled are held.
///
/// ```no_run
/// use stenograph::audio::{AudioSource, AudioStream, DecodeOptions};
/// let mut stream = AudioStream::open(AudioSource::from_path("call.mp3"), &DecodeOptions::default())?;
/// println!("{:?}", stream.info());
/// let mut samples = 0;
/// for chunk in &mut stream {
///     samples += chunk?.len();
/// }
/// println!("{} s at 16 kHz, warnings: {:?}", samples / 16_000, stream.warnings());
/// # Ok::<(), stenograph::Error>(())
/// ```
pub struct AudioStream {
    input: String,
    info: AudioInfo,
    opts: DecodeOptions,
    frames: Frames,
    /// Planar audio of the buffer being processed.
    current: Vec<Vec<f32>>,
    skipped: usize,
    stage: Option<Stage>,
    /// Output planes being filled: one, or one per source channel with `separate_channels`.
    out: Vec<Vec<f32>>,
    warnings: Vec<Warning>,
    /// Seconds decoded at the source rate(s), and frames decoded at the current rate.
    seconds_before_stage: f64,
    stage_frames: u64,
    total_frames: u64,
    finished: bool,
    emitted_any: bool,
}

impl std::fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioStream")
            .field("input", &self.input)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl AudioStream {
    /// Opens an input and reads its headers; no audio is decoded until iteration (except one
    /// packet for formats whose headers leave the channel layout to the codec).
    pub fn open(source: AudioSource, opts: &DecodeOptions) -> Result<Self> {
        let input = source.name();
        let (frames, info) = match source.origin {
            Origin::Pcm(pcm) => {
                let info = pcm_info(&input, &pcm)?;
                (Frames::Pcm { pcm, pos: 0 }, info)
            }
            _ => {
                let decoder = catch_unwind(AssertUnwindSafe(|| ContainerDecoder::open(source)))
                    .unwrap_or_else(|_| {
                        Err(Error::Corrupt {
                            input: input.clone(),
                            decoded_seconds: 0.0,
                            reason: "the container header is malformed".into(),
                        })
                    })?;
                let info = decoder.info().clone();
                let decoder = Box::new(decoder);
                let frames = if opts.decode_ahead {
                    match DecodeAhead::spawn(decoder) {
                        Ok(ahead) => Frames::Ahead(ahead),
                        Err(decoder) => Frames::Inline(decoder),
                    }
                } else {
                    Frames::Inline(decoder)
                };
                (frames, info)
            }
        };
        if let Some(seconds) = info.duration_seconds {
            if seconds > opts.max_duration.as_secs_f64() {
                return Err(Error::TooLong {
                    input,
                    seconds,
                    limit_seconds: opts.max_duration.as_secs_f64(),
                    declared: true,
                });
            }
        }
        let outputs = if opts.separate_channels {
            usize::from(info.channels).max(1)
        } else {
            1
        };
        Ok(Self {
            input,
            info,
            opts: opts.clone(),
            frames,
            current: Vec::new(),
            skipped: 0,
            stage: None,
            out: vec![Vec::new(); outputs],
            warnings: Vec::new(),
            seconds_before_stage: 0.0,
            stage_frames: 0,
            total_frames: 0,
            finished: false,
            emitted_any: false,
        })
    }

    /// The input's header metadata.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// The name the input goes by in messages.
    pub fn input_name(&self) -> &str {
        &self.input
    }

    /// Problems tolerated so far; complete once the stream is exhausted.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Seconds of source audio decoded so far.
    pub fn decoded_seconds(&self) -> f64 {
        self.seconds_before_stage
            + self
                .stage
                .as_ref()
                .map_or(0.0, |s| self.stage_frames as f64 / f64::from(s.rate))
    }

    /// Whether the stream keeps its channels apart
    /// ([`separate_channels`](DecodeOptions::separate_channels)).
    pub fn separate_channels(&self) -> bool {
        self.opts.separate_channels
    }

    /// Planes in each chunk: the source's channel count with
    /// [`separate_channels`](DecodeOptions::separate_channels), else 1.
    pub fn output_channels(&self) -> usize {
        self.out.len()
    }

    /// The next chunk as one plane per output channel (see
    /// [`output_channels`](Self::output_channels)), all the same length; `None` at the end.
    /// The way to read a stream opened with
    /// [`separate_channels`](DecodeOptions::separate_channels); a mixed stream gives one plane.
    pub fn next_channels(&mut self) -> Option<Result<Vec<Vec<f32>>>> {
        if self.finished && self.out[0].is_empty() && self.emitted_any {
            return None;
        }
        match self.next_chunk() {
            Ok(Some(planes)) => Some(Ok(planes)),
            Ok(None) => None,
            Err(e) => {
                self.finished = true;
                self.emitted_any = true;
                self.out.iter_mut().for_each(Vec::clear);
                Some(Err(e))
            }
        }
    }

    /// Decodes until a chunk is ready; `None` at the end.
    fn next_chunk(&mut self) -> Result<Option<Vec<Vec<f32>>>> {
        while !self.finished && self.out[0].len() < MIN_CHUNK {
            self.pump()?;
        }
        if self.out[0].is_empty() {
            if !self.emitted_any {
                self.emitted_any = true;
                return Err(Error::NoAudio {
                    input: self.input.clone(),
                    reason: "the stream holds no samples".into(),
                });
            }
            return Ok(None);
        }
        self.emitted_any = true;
        let planes = self.out.len();
        Ok(Some(std::mem::replace(
            &mut self.out,
            vec![Vec::new(); planes],
        )))
    }

    /// Moves one buffer of source audio through the pipeline, or finishes the stream.
    fn pump(&mut self) -> Result<()> {
        let event = match &mut self.frames {
            Frames::Inline(decoder) => next_event(decoder, std::mem::take(&mut self.current))?,
            Frames::Ahead(ahead) => {
                ahead.recycle(std::mem::take(&mut self.current));
                ahead.next()?
            }
            Frames::Pcm { pcm, pos } => {
                let channels = usize::from(pcm.channels);
                let total = pcm.samples.len() / channels;
                if *pos >= total {
                    Event::End {
                        broken: None,
                        skipped: 0,
                    }
                } else {
                    let n = PCM_BLOCK.min(total - *pos);
                    self.current.resize(channels, Vec::new());
                    deinterleave(&pcm.samples, channels, *pos, n, &mut self.current);
                    *pos += n;
                    Event::Audio {
                        rate: pcm.sample_rate,
                        planes: std::mem::take(&mut self.current),
                    }
                }
            }
        };
        let rate = match event {
            Event::Audio { rate, planes } => {
                self.current = planes;
                rate
            }
            Event::End { broken, skipped } => {
                self.skipped = skipped;
                return self.end(broken);
            }
        };
        let planes = &self.current;
        let channels = planes.len();
        let frames = planes.first().map_or(0, Vec::len) as u64;
        let same_layout = self
            .stage
            .as_ref()
            .is_some_and(|s| s.rate == rate && s.channels == channels);
        if !same_layout {
            if let Some(mut old) = self.stage.take() {
                old.finish(&mut self.out);
                self.seconds_before_stage += self.stage_frames as f64 / f64::from(old.rate);
                self.stage_frames = 0;
            }
            let split = self.opts.separate_channels.then_some(self.out.len());
            self.stage = Some(Stage::new(&self.input, rate, channels, split)?);
        }
        let decoded = self.decoded_seconds() + frames as f64 / f64::from(rate);
        let limit = self.opts.max_duration.as_secs_f64();
        if decoded > limit {
            return Err(Error::TooLong {
                input: self.input.clone(),
                seconds: decoded,
                limit_seconds: limit,
                declared: false,
            });
        }
        let stage = self.stage.as_mut().expect("stage set above");
        stage.push(planes, &mut self.out);
        self.stage_frames += frames;
        self.total_frames += frames;
        Ok(())
    }

    /// Flushes the pipeline and decides whether the end was clean, truncated or corrupt.
    fn end(&mut self, broken: Option<String>) -> Result<()> {
        self.finished = true;
        let decoded_seconds = self.decoded_seconds();
        if let Some(mut stage) = self.stage.take() {
            stage.finish(&mut self.out);
        }
        self.seconds_before_stage = decoded_seconds;
        self.stage_frames = 0;
        if self.skipped > 0 {
            self.warnings.push(Warning::SkippedPackets {
                count: self.skipped,
            });
        }
        let expected_seconds = self.info.duration_seconds;
        let short = self.info.frames.is_some_and(|declared| {
            // Allow for codec padding and priming: a frame count off by a few packets is normal.
            let slack = declared / 100 + u64::from(self.info.sample_rate) / 5;
            self.total_frames + slack < declared
        });
        let reason = match broken {
            Some(reason) if self.total_frames == 0 => {
                return Err(Error::Corrupt {
                    input: self.input.clone(),
                    decoded_seconds,
                    reason,
                });
            }
            Some(reason) => reason,
            None if short => "the stream ends before its declared length".to_string(),
            None => return Ok(()),
        };
        match self.opts.truncation {
            Truncation::Warn => {
                self.warnings.push(Warning::Truncated {
                    decoded_seconds,
                    expected_seconds,
                    reason,
                });
                Ok(())
            }
            Truncation::Error => Err(Error::Truncated {
                input: self.input.clone(),
                decoded_seconds,
                expected_seconds,
            }),
        }
    }
}

impl Iterator for AudioStream {
    type Item = Result<Vec<f32>>;

    /// The next chunk of mono samples. A stream opened with
    /// [`separate_channels`](DecodeOptions::separate_channels) is read with
    /// [`next_channels`](AudioStream::next_channels) instead: here it yields an error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.opts.separate_channels {
            if self.finished && self.emitted_any {
                return None;
            }
            self.finished = true;
            self.emitted_any = true;
            return Some(Err(Error::InvalidArgument(format!(
                "{}: the stream keeps its channels apart; read it with next_channels()",
                self.input
            ))));
        }
        self.next_channels()
            .map(|r| r.map(|mut planes| planes.swap_remove(0)))
    }
}

fn pcm_info(input: &str, pcm: &Pcm) -> Result<AudioInfo> {
    check_rate(input, pcm.sample_rate)
        .and_then(|_| check_channels(input, usize::from(pcm.channels)))
        .map_err(|e| match e {
            Error::InvalidHeader { reason, .. } => {
                Error::InvalidArgument(format!("{input}: {reason}"))
            }
            other => other,
        })?;
    if pcm.samples.is_empty() {
        return Err(Error::EmptyInput {
            input: input.to_string(),
        });
    }
    let channels = usize::from(pcm.channels);
    if !pcm.samples.len().is_multiple_of(channels) {
        return Err(Error::InvalidArgument(format!(
            "{input}: {} samples do not divide into {channels} channels",
            pcm.samples.len()
        )));
    }
    let frames = (pcm.samples.len() / channels) as u64;
    let (codec, bits) = match pcm.samples {
        PcmSamples::F32(_) => ("pcm_f32", 32),
        PcmSamples::I16(_) => ("pcm_s16", 16),
    };
    Ok(AudioInfo {
        container: "pcm".into(),
        codec: codec.into(),
        sample_rate: pcm.sample_rate,
        channels: pcm.channels,
        frames: Some(frames),
        duration_seconds: Some(frames as f64 / f64::from(pcm.sample_rate)),
        bits_per_sample: Some(bits),
    })
}

fn deinterleave(
    samples: &PcmSamples,
    channels: usize,
    start: usize,
    n: usize,
    planes: &mut [Vec<f32>],
) {
    for (c, plane) in planes.iter_mut().enumerate() {
        plane.clear();
        match samples {
            PcmSamples::F32(s) => plane.extend(
                s[start * channels..(start + n) * channels]
                    .iter()
                    .skip(c)
                    .step_by(channels),
            ),
            PcmSamples::I16(s) => plane.extend(
                s[start * channels..(start + n) * channels]
                    .iter()
                    .skip(c)
                    .step_by(channels)
                    .map(|&x| f32::from(x) / 32768.0),
            ),
        }
    }
}
