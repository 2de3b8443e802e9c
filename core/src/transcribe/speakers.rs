//! Who said what: the speaker options, and the merging of channels transcribed apart into one
//! transcript (bleed removed, overlaps marked, speakers named).

use std::str::FromStr;

use super::transcript::Segment;
use crate::audio::SAMPLE_RATE;
use crate::{Error, Result};

/// How speakers are told apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Speakers {
    /// No speakers: one text (default).
    #[default]
    None,
    /// One speaker per channel (call-centre stereo: the agent on one channel, the customer
    /// on the other). Each channel is transcribed on its own and the turns merged in time
    /// order; a word heard on several channels (bleed) is kept on the channel where it is
    /// loudest, and speech over another speaker's is marked as overlap.
    Channels,
    /// Speakers told apart by their voices in one (mono) recording: `count` of them when
    /// known, else as many as the voices part.
    Voices {
        /// How many speakers there are, when known.
        count: Option<usize>,
    },
}

/// Most speakers told apart by voice.
pub const MAX_VOICES: usize = 32;

impl Speakers {
    /// `"none"`, `"channels"` or `"voices"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Speakers::None => "none",
            Speakers::Channels => "channels",
            Speakers::Voices { .. } => "voices",
        }
    }
}

impl FromStr for Speakers {
    type Err = Error;

    /// `none` (or empty) or `channels`, any case.
    ///
    /// ```
    /// use stenograph::transcribe::Speakers;
    /// assert_eq!("Channels".parse::<Speakers>().unwrap(), Speakers::Channels);
    /// assert_eq!("".parse::<Speakers>().unwrap(), Speakers::None);
    /// assert!("everyone".parse::<Speakers>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "none" => Ok(Speakers::None),
            "channels" => Ok(Speakers::Channels),
            "auto" | "voices" => Ok(Speakers::Voices { count: None }),
            n if n.bytes().all(|b| b.is_ascii_digit()) => match n.parse::<usize>() {
                Ok(count @ 1..=MAX_VOICES) => Ok(Speakers::Voices { count: Some(count) }),
                _ => Err(Error::InvalidArgument(format!(
                    "speakers by voice: from 1 to {MAX_VOICES}, not {n}"
                ))),
            },
            other => Err(Error::InvalidArgument(format!(
                "speakers must be 'none', 'channels' (one speaker per channel), 'auto' or a \
                 count (speakers told apart by voice), not '{other}'"
            ))),
        }
    }
}

impl std::fmt::Display for Speakers {
    /// As [`FromStr`] reads it back: `none`, `channels`, `auto` or the count.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Speakers::Voices { count: None } => f.write_str("auto"),
            Speakers::Voices { count: Some(n) } => write!(f, "{n}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Longest speaker name, in characters.
pub const MAX_SPEAKER_NAME: usize = 64;

/// Checks speaker names given by a user as one comma-separated string (`agent,customer`).
///
/// ```
/// use stenograph::transcribe::speaker_names;
/// assert_eq!(speaker_names(" agent, customer ").unwrap(), ["agent", "customer"]);
/// assert!(speaker_names("").unwrap().is_empty());
/// assert!(speaker_names("agent,agent").is_err());
/// assert!(speaker_names("agent,,customer").is_err());
/// ```
pub fn speaker_names(given: &str) -> Result<Vec<String>> {
    if given.trim().is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<&str> = given.split(',').collect();
    speaker_name_list(&items)
}

/// Checks speaker names, one per item: trimmed, not empty, at most [`MAX_SPEAKER_NAME`]
/// characters, no control characters or `<>` (they go into subtitle voice tags), each once,
/// at most [`MAX_CHANNELS`](crate::audio::MAX_CHANNELS) of them.
pub fn speaker_name_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<String>> {
    if items.len() > crate::audio::MAX_CHANNELS {
        return Err(Error::InvalidArgument(format!(
            "{} speaker names; at most {}",
            items.len(),
            crate::audio::MAX_CHANNELS
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let name = item.as_ref().trim();
        if name.is_empty() {
            return Err(Error::InvalidArgument(
                "speaker names must not be empty".into(),
            ));
        }
        if name.chars().count() > MAX_SPEAKER_NAME {
            return Err(Error::InvalidArgument(format!(
                "speaker name '{name}' is longer than {MAX_SPEAKER_NAME} characters"
            )));
        }
        if name.chars().any(|c| c.is_control() || c == '<' || c == '>') {
            return Err(Error::InvalidArgument(format!(
                "speaker name {name:?} holds a control character or '<' / '>'"
            )));
        }
        if out.iter().any(|n| n == name) {
            return Err(Error::InvalidArgument(format!(
                "speaker name '{name}' is given twice"
            )));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

/// The names of `count` channels' speakers: those given, then `SPEAKER_<n>`.
pub(super) fn names(given: &[String], count: usize) -> Vec<String> {
    (0..count)
        .map(|c| {
            given
                .get(c)
                .cloned()
                .unwrap_or_else(|| format!("SPEAKER_{c}"))
        })
        .collect()
}

/// Samples per energy frame: 10 ms.
const FRAME: usize = SAMPLE_RATE as usize / 100;

/// A channel this far under the loudest (smoothed energy, −15 dB) carries only that
/// channel's voice leaking in, and is turned down before it is transcribed.
const GATE_RATIO: f32 = 0.1;
/// Gain of a channel turned down (−60 dB): quiet enough that neither the speech detector nor
/// Whisper hears the leak, so a turn that follows it starts where its speech does.
const GATE_FLOOR: f32 = 0.001;
/// Frame energy under which every channel is quiet and none is turned down (−60 dBFS).
const GATE_SILENCE: f32 = 1e-6;

/// Turns down, frame by frame, each channel that is much quieter than the loudest one, so
/// that one party's voice leaking into the other's channel (bleed) is not transcribed there.
/// Speech over the other party's keeps its channel: each talker is loudest on their own.
#[derive(Debug)]
pub(super) struct Gate {
    sum: Vec<f64>,
    n: usize,
    smooth: Vec<f32>,
    gain: Vec<f32>,
    target: Vec<f32>,
}

impl Gate {
    /// A gate for `channels` channels, all open.
    pub fn new(channels: usize) -> Self {
        Self {
            sum: vec![0.0; channels],
            n: 0,
            smooth: vec![0.0; channels],
            gain: vec![1.0; channels],
            target: vec![1.0; channels],
        }
    }

    /// Applies the gate to the channels' next samples (planes of equal length).
    pub fn apply(&mut self, planes: &mut [Vec<f32>]) {
        let len = planes.first().map_or(0, Vec::len);
        for i in 0..len {
            for (c, plane) in planes.iter_mut().enumerate() {
                let x = plane[i];
                self.sum[c] += f64::from(x) * f64::from(x);
                // About a 6 ms glide: a gain change never clicks.
                self.gain[c] += (self.target[c] - self.gain[c]) * 0.01;
                plane[i] = x * self.gain[c];
            }
            self.n += 1;
            if self.n == FRAME {
                self.n = 0;
                for (c, sum) in self.sum.iter_mut().enumerate() {
                    let e = (*sum / FRAME as f64) as f32;
                    // About 30 ms of smoothing.
                    self.smooth[c] = 0.7 * self.smooth[c] + 0.3 * e;
                    *sum = 0.0;
                }
                let loudest = self.smooth.iter().copied().fold(0.0, f32::max);
                for (t, &e) in self.target.iter_mut().zip(&self.smooth) {
                    *t = if loudest > GATE_SILENCE && e < loudest * GATE_RATIO {
                        GATE_FLOOR
                    } else {
                        1.0
                    };
                }
            }
        }
    }
}

/// A channel's loudness over time: mean square of every 10 ms frame.
#[derive(Debug, Default)]
pub(super) struct Envelope {
    frames: Vec<f32>,
    sum: f64,
    n: usize,
}

impl Envelope {
    /// Adds the next samples of the channel.
    pub fn push(&mut self, samples: &[f32]) {
        for &x in samples {
            self.sum += f64::from(x) * f64::from(x);
            self.n += 1;
            if self.n == FRAME {
                self.frames.push((self.sum / FRAME as f64) as f32);
                self.sum = 0.0;
                self.n = 0;
            }
        }
    }

    /// Mean energy from `start` to `end` seconds, over at least [`MIN_SPAN`] around them.
    fn energy(&self, start: f64, end: f64) -> f32 {
        if self.frames.is_empty() {
            return 0.0;
        }
        let widen = ((MIN_SPAN - (end - start)) / 2.0).max(0.0);
        let (start, end) = (start - widen, end + widen);
        let frame = |t: f64| ((t.max(0.0) * 100.0) as usize).min(self.frames.len() - 1);
        let (a, b) = (frame(start), frame(end).max(frame(start)));
        let part = &self.frames[a..=b];
        part.iter().sum::<f32>() / part.len() as f32
    }
}

/// Seconds either side of a word within which a copy of it on another channel counts as
/// the same word heard twice: Whisper's word times drift by up to a second at the end of a
/// segment, and an echo path adds its delay.
const SAME_TIME: f64 = 1.5;
/// Loudness is compared over at least this many seconds around a word (word times are
/// approximate; a word can come out with no length at all).
const MIN_SPAN: f64 = 0.3;
/// Segments are released once decoding has passed their end by this much on every channel:
/// more than [`SAME_TIME`], so every word that could be a copy of theirs is decoded.
const SETTLE: f64 = 2.0;

/// A word as the attribution sees it.
#[derive(Clone, Debug)]
struct Heard {
    start: f64,
    end: f64,
    /// Letters and digits, lower-case.
    key: String,
}

/// Channels transcribed apart, merged into one transcript as they are decoded.
pub(super) struct Merger {
    names: Vec<String>,
    keep_words: bool,
    /// Every word decoded so far, per channel, in time order.
    heard: Vec<Vec<Heard>>,
    /// Segments not yet released, with their channel.
    pending: Vec<(usize, Segment)>,
    released: usize,
}

impl Merger {
    /// A merger for channels spoken by `names`; words are dropped from the output unless
    /// `keep_words` (they are decoded anyway: bleed is judged word by word).
    pub fn new(names: Vec<String>, keep_words: bool) -> Self {
        Self {
            heard: vec![Vec::new(); names.len()],
            names,
            keep_words,
            pending: Vec::new(),
            released: 0,
        }
    }

    /// Adds channel `channel`'s next segments (in time order).
    pub fn add(&mut self, channel: usize, segments: Vec<Segment>) {
        for s in segments {
            let heard = &mut self.heard[channel];
            heard.extend(s.words.iter().map(|w| Heard {
                start: w.start,
                end: w.end,
                key: key(&w.word),
            }));
            heard.sort_by(|a, b| a.start.total_cmp(&b.start));
            self.pending.push((channel, s));
        }
    }

    /// The segments every channel has been decoded well past (all of them when `frontier`
    /// is infinite), bleed removed, overlaps marked, speakers named, in time order and
    /// numbered on from the last release.
    pub fn release(&mut self, frontier: f64, envelopes: &[Envelope]) -> Vec<Segment> {
        let ready = |s: &Segment| frontier.is_infinite() || s.end + SETTLE <= frontier;
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(_, s)| ready(s));
        self.pending = later;
        let mut out: Vec<(usize, Segment)> = now
            .into_iter()
            .filter_map(|(c, s)| self.attribute(c, s, envelopes).map(|s| (c, s)))
            .flat_map(|(c, s)| {
                self.split_at_turns(c, s, envelopes)
                    .into_iter()
                    .map(move |s| (c, s))
            })
            .collect();
        out.sort_by(|a, b| a.1.start.total_cmp(&b.1.start).then(a.0.cmp(&b.0)));
        out.into_iter()
            .map(|(_, mut s)| {
                s.id = self.released;
                self.released += 1;
                if !self.keep_words {
                    s.words.clear();
                }
                s
            })
            .collect()
    }

    /// Whether a word heard on `channel` is another channel's speech leaking in: the same
    /// word about the same time on a channel louder over both hearings (ties go to the
    /// lower-numbered channel). Leaks too faint to compare are turned down by [`Gate`]
    /// before decoding.
    fn is_bleed(&self, channel: usize, w: &Heard, envelopes: &[Envelope]) -> bool {
        (0..self.names.len()).filter(|&c| c != channel).any(|c| {
            // The other channel must be the louder over both hearings' times: of two
            // hearings of one word at most one goes, and a word the other party repeats
            // after a pause (louder on its own channel) stays.
            let louder = |start: f64, end: f64| {
                let own = envelopes[channel].energy(start, end);
                let other = envelopes[c].energy(start, end);
                other > own || (other == own && c < channel)
            };
            self.near(c, w).any(|v| {
                v.end >= w.start - SAME_TIME
                    && similar(&v.key, &w.key)
                    && louder(w.start, w.end)
                    && louder(v.start, v.end)
            })
        })
    }

    /// Words of `channel` starting before `w` ends (plus [`SAME_TIME`]) and at most 30 s
    /// before it starts.
    fn near<'a>(&'a self, channel: usize, w: &Heard) -> impl Iterator<Item = &'a Heard> + 'a {
        let heard = &self.heard[channel];
        let from = heard.partition_point(|v| v.start < w.start - 30.0);
        let to = heard.partition_point(|v| v.start < w.end + SAME_TIME);
        heard[from..to.max(from)].iter()
    }

    /// The segment cut wherever another speaker says something between two of its words (a
    /// channel's segment can run over several of its turns, the other party's speech in
    /// between being silence on this channel): turns then come out in the order spoken.
    fn split_at_turns(&self, channel: usize, s: Segment, envelopes: &[Envelope]) -> Vec<Segment> {
        let cut_after: Vec<bool> = s
            .words
            .windows(2)
            .map(|pair| {
                let gap = Heard {
                    start: pair[0].end,
                    end: pair[1].start,
                    key: String::new(),
                };
                gap.end > gap.start
                    && (0..self.names.len()).filter(|&c| c != channel).any(|c| {
                        self.near(c, &gap).any(|v| {
                            v.start >= gap.start
                                && v.end <= gap.end
                                && !self.is_bleed(c, v, envelopes)
                        })
                    })
            })
            .collect();
        if !cut_after.contains(&true) {
            return vec![s];
        }
        let mut parts = Vec::new();
        let mut from = 0;
        for (i, &cut) in cut_after.iter().enumerate() {
            if cut {
                let keep: Vec<bool> = (0..s.words.len()).map(|k| k >= from && k <= i).collect();
                let mut part = s.clone();
                trim(&mut part, &keep);
                parts.push(part);
                from = i + 1;
            }
        }
        let keep: Vec<bool> = (0..s.words.len()).map(|k| k >= from).collect();
        let mut part = s;
        trim(&mut part, &keep);
        parts.push(part);
        parts
    }

    /// The segment of `channel` with the words that leaked from other channels removed and
    /// overlaps marked; `None` when nothing of it is left.
    fn attribute(&self, channel: usize, mut s: Segment, envelopes: &[Envelope]) -> Option<Segment> {
        let name = self.names[channel].clone();
        s.speaker = Some(name.clone());
        if self.names.len() > 1 && !s.words.is_empty() {
            let heard = |w: &super::transcript::Word| Heard {
                start: w.start,
                end: w.end,
                key: key(&w.word),
            };
            let keep: Vec<bool> = s
                .words
                .iter()
                .map(|w| !self.is_bleed(channel, &heard(w), envelopes))
                .collect();
            if !keep.iter().any(|&k| k) {
                return None;
            }
            if keep.iter().any(|&k| !k) {
                trim(&mut s, &keep);
            }
            for w in &mut s.words {
                let h = heard(w);
                w.overlap = (0..self.names.len()).filter(|&c| c != channel).any(|c| {
                    self.near(c, &h).any(|v| {
                        v.end > h.start && v.start < h.end && !self.is_bleed(c, v, envelopes)
                    })
                });
            }
            s.overlap = s.words.iter().any(|w| w.overlap);
        }
        for w in &mut s.words {
            w.speaker = Some(name.clone());
        }
        Some(s)
    }
}

/// Keeps the words of `s` marked in `keep`, with their tokens, text and times.
fn trim(s: &mut Segment, keep: &[bool]) {
    let counted: usize = s.words.iter().map(|w| w.token_count).sum();
    if counted == s.tokens.len() {
        let mut at = 0;
        let mut tokens = Vec::new();
        for (w, &k) in s.words.iter().zip(keep) {
            if k {
                tokens.extend_from_slice(&s.tokens[at..at + w.token_count]);
            }
            at += w.token_count;
        }
        s.tokens = tokens;
    }
    let words: Vec<_> = std::mem::take(&mut s.words)
        .into_iter()
        .zip(keep)
        .filter_map(|(w, &k)| k.then_some(w))
        .collect();
    s.text = words.iter().map(|w| w.word.as_str()).collect();
    if !s.text.starts_with(' ') {
        s.text.insert(0, ' ');
    }
    s.start = words.first().map_or(s.start, |w| w.start.max(s.start));
    s.end = words
        .last()
        .map_or(s.end, |w| w.end.min(s.end).max(s.start));
    s.compression_ratio = super::segments::compression_ratio(&s.text);
    s.words = words;
}

/// A word's letters and digits, lower-case: what two hearings of it share.
fn key(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two words are the same word heard twice: equal, or (from three letters) within
/// an edit distance of 40 % of the longer one.
fn similar(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let longest = a.len().max(b.len());
    if longest < 3 {
        return false;
    }
    edit_distance(&a, &b) * 5 <= longest * 2
}

/// Levenshtein distance.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(row[j] + 1).min(up + 1);
            diag = up;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::Word;

    fn word(text: &str, start: f64, end: f64) -> Word {
        Word {
            word: text.into(),
            start,
            end,
            probability: 0.9,
            speaker: None,
            overlap: false,
            token_count: 1,
        }
    }

    fn segment(words: Vec<Word>) -> Segment {
        Segment {
            id: 0,
            start: words.first().map_or(0.0, |w| w.start),
            end: words.last().map_or(0.0, |w| w.end),
            text: words.iter().map(|w| w.word.as_str()).collect(),
            tokens: (0..words.len() as i32).collect(),
            avg_logprob: -0.1,
            temperature: 0.0,
            compression_ratio: 1.0,
            no_speech_prob: 0.0,
            words,
            speaker: None,
            overlap: false,
        }
    }

    /// An envelope `seconds` long at `level` (amplitude) inside `loud` spans, `floor` outside.
    fn envelope(seconds: f64, loud: &[(f64, f64, f32)], floor: f32) -> Envelope {
        let mut e = Envelope::default();
        let n = (seconds * f64::from(SAMPLE_RATE)) as usize;
        let samples: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(SAMPLE_RATE);
                let a = loud
                    .iter()
                    .find(|(s, e, _)| t >= *s && t < *e)
                    .map_or(floor, |l| l.2);
                if i % 2 == 0 {
                    a
                } else {
                    -a
                }
            })
            .collect();
        e.push(&samples);
        e
    }

    #[test]
    fn a_word_heard_on_both_channels_stays_where_it_is_loudest() {
        // The agent talks 0–2 s; the customer's channel carries it at −14 dB and the
        // customer answers 3–4 s.
        let agent = envelope(5.0, &[(0.0, 2.0, 0.5)], 0.001);
        let customer = envelope(5.0, &[(0.0, 2.0, 0.1), (3.0, 4.0, 0.3)], 0.001);
        let mut m = Merger::new(vec!["agent".into(), "customer".into()], true);
        m.add(
            0,
            vec![segment(vec![
                word(" Hello", 0.0, 0.9),
                word(" there.", 1.0, 2.0),
            ])],
        );
        m.add(
            1,
            vec![
                segment(vec![word(" hello", 0.1, 0.9), word(" their", 1.0, 1.9)]),
                segment(vec![word(" Hi!", 3.0, 4.0)]),
            ],
        );
        let out = m.release(f64::INFINITY, &[agent, customer]);
        let text: Vec<_> = out
            .iter()
            .map(|s| (s.speaker.clone().unwrap(), s.text.clone()))
            .collect();
        assert_eq!(
            text,
            [
                ("agent".to_string(), " Hello there.".to_string()),
                ("customer".to_string(), " Hi!".to_string())
            ]
        );
        assert_eq!(out[1].id, 1);
        assert!(out.iter().all(|s| !s.overlap));
    }

    #[test]
    fn speech_over_the_other_speaker_is_kept_on_both_and_marked() {
        let a = envelope(4.0, &[(0.0, 3.0, 0.5)], 0.001);
        let b = envelope(4.0, &[(1.0, 2.0, 0.2)], 0.001);
        let mut m = Merger::new(vec!["A".into(), "B".into()], false);
        m.add(
            0,
            vec![segment(vec![
                word(" We", 0.0, 0.5),
                word(" ship", 0.6, 1.5),
                word(" Monday.", 1.6, 3.0),
            ])],
        );
        m.add(1, vec![segment(vec![word(" Sure.", 1.0, 2.0)])]);
        let out = m.release(f64::INFINITY, &[a, b]);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|s| s.overlap), "{out:?}");
        assert!(
            out.iter().all(|s| s.words.is_empty()),
            "words not asked for"
        );
        assert_eq!(out[1].text, " Sure.");
    }

    #[test]
    fn a_copy_at_the_start_of_a_segment_goes_and_the_rest_keeps_its_tokens() {
        // Channel 1's own speech is loud; at 0–1 s it only carries channel 0 at −30 dB.
        let a = envelope(3.0, &[(0.0, 1.0, 0.5)], 0.0);
        let b = envelope(3.0, &[(0.0, 1.0, 0.015), (1.5, 3.0, 0.4)], 0.0);
        let mut m = Merger::new(vec!["A".into(), "B".into()], true);
        m.add(0, vec![segment(vec![word(" Okay.", 0.0, 1.0)])]);
        m.add(
            1,
            vec![segment(vec![
                word(" okay", 0.0, 0.9),
                word(" yes,", 1.5, 2.0),
                word(" great.", 2.0, 3.0),
            ])],
        );
        let out = m.release(f64::INFINITY, &[a, b]);
        let b_seg = out
            .iter()
            .find(|s| s.speaker.as_deref() == Some("B"))
            .unwrap();
        assert_eq!(b_seg.text, " yes, great.");
        assert_eq!(b_seg.tokens, [1, 2]);
        assert_eq!(b_seg.start, 1.5);
    }

    #[test]
    fn identical_channels_give_the_text_once() {
        let e = || envelope(2.0, &[(0.0, 2.0, 0.3)], 0.0);
        let mut m = Merger::new(names(&[], 2), true);
        for c in 0..2 {
            m.add(
                c,
                vec![segment(vec![
                    word(" Same", 0.0, 1.0),
                    word(" words.", 1.0, 2.0),
                ])],
            );
        }
        let out = m.release(f64::INFINITY, &[e(), e()]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].speaker.as_deref(), Some("SPEAKER_0"));
    }

    #[test]
    fn segments_wait_until_every_channel_has_passed_them() {
        let e = || envelope(20.0, &[], 0.1);
        let mut m = Merger::new(names(&["x".into()], 2), false);
        m.add(0, vec![segment(vec![word(" early", 1.0, 2.0)])]);
        m.add(0, vec![segment(vec![word(" late", 8.5, 9.0)])]);
        assert_eq!(m.release(10.0, &[e(), e()]).len(), 1);
        let rest = m.release(f64::INFINITY, &[e(), e()]);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].id, 1);
    }

    #[test]
    fn a_segment_over_two_turns_is_cut_around_the_other_partys() {
        let a = envelope(6.0, &[(0.0, 1.0, 0.4), (4.0, 5.0, 0.4)], 0.0);
        let b = envelope(6.0, &[(2.0, 3.0, 0.4)], 0.0);
        let mut m = Merger::new(names(&[], 2), true);
        m.add(
            0,
            vec![segment(vec![
                word(" Deal?", 0.0, 1.0),
                word(" Great.", 4.0, 5.0),
            ])],
        );
        m.add(1, vec![segment(vec![word(" Deal.", 2.0, 3.0)])]);
        let out = m.release(f64::INFINITY, &[a, b]);
        let turns: Vec<_> = out
            .iter()
            .map(|s| (s.speaker.clone().unwrap(), s.text.clone(), s.tokens.clone()))
            .collect();
        assert_eq!(
            turns,
            [
                ("SPEAKER_0".into(), " Deal?".into(), vec![0]),
                ("SPEAKER_1".into(), " Deal.".into(), vec![0]),
                ("SPEAKER_0".into(), " Great.".into(), vec![1])
            ]
        );
        assert_eq!(out.iter().map(|s| s.id).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!((out[2].start, out[2].end), (4.0, 5.0));
    }

    #[test]
    fn the_gate_turns_down_a_leak_and_keeps_both_talkers() {
        let n = 16_000;
        let tone =
            |a: f32, f: f32| -> Vec<f32> { (0..n).map(|i| a * (i as f32 * f).sin()).collect() };
        // Channel 1 carries channel 0 at −20 dB, then both talk (channel 1 6 dB down).
        let mut leak = vec![tone(0.5, 0.05), tone(0.05, 0.05)];
        Gate::new(2).apply(&mut leak);
        assert!(
            rms(&leak[1][8000..]) < 0.05 * 0.1,
            "{}",
            rms(&leak[1][8000..])
        );
        assert!((rms(&leak[0][8000..]) - 0.5 / 2f32.sqrt()).abs() < 0.01);
        let mut both = vec![tone(0.5, 0.05), tone(0.25, 0.07)];
        Gate::new(2).apply(&mut both);
        assert!((rms(&both[1][8000..]) - 0.25 / 2f32.sqrt()).abs() < 0.01);
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn names_and_words() {
        assert_eq!(
            names(&["agent".into()], 3),
            ["agent", "SPEAKER_1", "SPEAKER_2"]
        );
        assert!(similar("their", "there"));
        assert!(!similar("yes", "no"));
        assert!(!similar("a", "i"));
        assert_eq!(key(" Don't!"), "dont");
        assert!(speaker_names("a<b").is_err());
        assert!(speaker_names(&"x".repeat(65)).is_err());
        assert_eq!(
            "channels".parse::<Speakers>().unwrap().to_string(),
            "channels"
        );
    }
}
