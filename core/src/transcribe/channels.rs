//! One speaker per channel: each channel transcribed on its own, block by block, and merged
//! into one transcript as the blocks are decoded.

use super::blocks::{expected_samples, Pending, BLOCK};
use super::call::Call;
use super::options::TranscribeOptions;
use super::speakers::{self, Envelope, Gate, Merger, Speakers};
use super::transcript::Transcript;
use super::Transcriber;
use crate::audio::{AudioStream, Warning, SAMPLE_RATE};
use crate::error::{Error, Result};

/// The next chunk of every channel (same length), `None` at the end.
type NextPlanes<'a> = dyn FnMut() -> Option<Result<Vec<Vec<f32>>>> + 'a;

impl Transcriber {
    /// Transcribes a recording given as one slice of 16 kHz samples per channel, one speaker
    /// per channel (as [`Speakers::Channels`] does, whatever `opts.speakers` says): each
    /// channel is decoded on its own, the turns merged in time order, a word heard on several
    /// channels kept where it is loudest, speech over another speaker's marked as overlap.
    /// Segments and words carry the speakers' names (`opts.speaker_names`, then
    /// `SPEAKER_<n>`). Channels of different lengths are allowed; the transcript lasts as
    /// long as the longest.
    ///
    /// ```no_run
    /// use stenograph::audio::{Audio, AudioSource, DecodeOptions};
    /// use stenograph::transcribe::{TranscribeOptions, Transcriber};
    /// let t = Transcriber::builder().build()?;
    /// let mut decode = DecodeOptions::default();
    /// decode.separate_channels = true;
    /// let call = Audio::decode(AudioSource::from_path("call.wav"), &decode)?;
    /// let mut opts = TranscribeOptions::default();
    /// opts.speaker_names = vec!["agent".into(), "customer".into()];
    /// let tr = t.transcribe_channels(&call.channels(), &opts)?;
    /// print!("{}", tr.to_text()); // agent: … / customer: …
    /// # Ok::<(), stenograph::Error>(())
    /// ```
    pub fn transcribe_channels(
        &self,
        channels: &[&[f32]],
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        let opts = TranscribeOptions {
            speakers: Speakers::Channels,
            ..opts.clone()
        };
        self.check(&opts)?;
        if channels.is_empty() {
            return Err(Error::InvalidArgument("no channels given".into()));
        }
        if channels.len() > crate::audio::MAX_CHANNELS {
            return Err(Error::InvalidArgument(format!(
                "{} channels; at most {}",
                channels.len(),
                crate::audio::MAX_CHANNELS
            )));
        }
        let longest = channels.iter().map(|c| c.len()).max().unwrap_or(0);
        if opts.cancel.is_some() {
            let owned: Vec<Vec<f32>> = channels.iter().map(|c| c.to_vec()).collect();
            return self.detached(&opts, move |t, opts| {
                let refs: Vec<&[f32]> = owned.iter().map(Vec::as_slice).collect();
                t.channels_in_memory(&refs, longest, opts)
            });
        }
        self.channels_in_memory(channels, longest, &opts)
    }

    /// Channels held in memory, a block at a time, on the calling thread.
    fn channels_in_memory(
        &self,
        channels: &[&[f32]],
        longest: usize,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        let mut at = 0;
        let mut next = || {
            if at >= longest {
                return None;
            }
            let end = (at + BLOCK).min(longest);
            let planes = channels
                .iter()
                .map(|c| {
                    let mut p = c[at.min(c.len())..end.min(c.len())].to_vec();
                    p.resize(end - at, 0.0);
                    p
                })
                .collect();
            at = end;
            Some(Ok(planes))
        };
        self.channel_blocks(channels.len(), Some(longest), &mut next, opts)
    }

    /// A stream opened with
    /// [`separate_channels`](crate::audio::DecodeOptions::separate_channels), one speaker per
    /// channel.
    pub(super) fn stream_channels(
        &self,
        mut stream: AudioStream,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        self.check(opts)?;
        let expected = expected_samples(&stream);
        let count = stream.output_channels();
        let mut next = || stream.next_channels();
        let mut t = self.channel_blocks(count, expected, &mut next, opts)?;
        t.warnings.splice(0..0, stream.warnings().iter().cloned());
        Ok(t)
    }

    /// The channel loop: every channel's blocks decoded on one state in turn, segments merged
    /// and released once every channel has been decoded past them.
    fn channel_blocks(
        &self,
        count: usize,
        expected: Option<usize>,
        next: &mut NextPlanes<'_>,
        opts: &TranscribeOptions,
    ) -> Result<Transcript> {
        let names = speakers::names(&opts.speaker_names, count);
        // Words are needed to judge bleed; each channel's segments go through the merger.
        let per_channel = TranscribeOptions {
            word_timestamps: true,
            on_progress: None,
            on_segment: None,
            ..opts.clone()
        };
        let mut calls: Vec<Call> = (0..count).map(|_| self.call(&per_channel)).collect();
        let mut pending: Vec<Pending> = (0..count).map(|_| Pending::new()).collect();
        let mut envelopes: Vec<Envelope> = (0..count).map(|_| Envelope::default()).collect();
        let mut merger = Merger::new(names.clone(), opts.word_timestamps);
        let mut gate = Gate::new(count);
        let mut merged = self.call(opts);
        let mut state = self.inner.pool.acquire()?;
        let mut ended = false;
        loop {
            while !ended && pending.iter().any(|p| p.block.len() < BLOCK) {
                match next() {
                    Some(planes) => {
                        let mut planes = planes?;
                        for (e, plane) in envelopes.iter_mut().zip(&planes) {
                            e.push(plane);
                        }
                        if count > 1 {
                            gate.apply(&mut planes);
                        }
                        for (p, plane) in pending.iter_mut().zip(&planes) {
                            p.push(plane);
                        }
                    }
                    None => ended = true,
                }
            }
            let total = expected
                .unwrap_or(0)
                .max(pending.iter().map(Pending::end).max().unwrap_or(0))
                as f64;
            for (c, (p, call)) in pending.iter_mut().zip(&mut calls).enumerate() {
                self.decode_pending(&mut state, p, ended, total, call)?;
                merger.add(c, std::mem::take(&mut call.segments));
            }
            let frontier = if ended {
                f64::INFINITY
            } else {
                let done = pending.iter().map(|p| p.start).min().unwrap_or(0);
                done as f64 / f64::from(SAMPLE_RATE)
            };
            for s in merger.release(frontier, &envelopes) {
                if let (Some(cb), false) = (&opts.on_segment, opts.cancelled()) {
                    cb(&s);
                }
                merged.segments.push(s);
            }
            if ended {
                break;
            }
            if let (Some(cb), false) = (&opts.on_progress, opts.cancelled()) {
                let done = pending.iter().map(|p| p.start).min().unwrap_or(0);
                cb((done as f64 / total.max(1.0) * 100.0).floor().min(99.0) as u8);
            }
        }
        // The language of the channel that said the most.
        merged.language = calls
            .iter()
            .zip(&names)
            .filter_map(|(call, name)| {
                let words = merged
                    .segments
                    .iter()
                    .filter(|s| s.speaker.as_ref() == Some(name))
                    .map(|s| s.text.len())
                    .sum::<usize>();
                call.language.clone().map(|l| (words, l))
            })
            .max_by_key(|(words, _)| *words)
            .map(|(_, l)| l);
        if count == 1 {
            merged.warnings.push(Warning::SingleChannel {
                speaker: names[0].clone(),
            });
        }
        let length = pending.iter().map(Pending::end).max().unwrap_or(0);
        let mut t = merged.finish(length);
        t.speakers = names;
        Ok(t)
    }
}
