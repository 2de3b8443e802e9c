//! What an input holds, read from its headers, and what decoding it had to put up with.

use std::fmt;

use serde::Serialize;
use symphonia::core::codecs::audio::well_known as codec;
use symphonia::core::codecs::audio::AudioCodecId;

/// Metadata of an audio input, read from its headers without decoding the whole stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AudioInfo {
    /// Container format, e.g. `wav`, `mp4`, `ogg`, `mkv`; `pcm` for raw samples.
    pub container: String,
    /// Audio codec, e.g. `pcm_s16le`, `mp3`, `aac`, `opus`.
    pub codec: String,
    /// Source sample rate in Hz.
    pub sample_rate: u32,
    /// Source channel count.
    pub channels: u16,
    /// Length in frames at the source rate, when the container declares it.
    pub frames: Option<u64>,
    /// Length in seconds, when the container declares it.
    pub duration_seconds: Option<f64>,
    /// Bits per sample of the source, when meaningful (PCM, FLAC, ALAC).
    pub bits_per_sample: Option<u32>,
}

/// A problem decoding tolerated: the audio is usable but not everything the input promised.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Warning {
    /// The stream ended early or broke off; what was decoded is returned.
    Truncated {
        /// Seconds decoded.
        decoded_seconds: f64,
        /// Seconds the header declared, when it declared a length.
        expected_seconds: Option<f64>,
        /// What ended decoding.
        reason: String,
    },
    /// Damaged packets were skipped (each is a short gap in the audio).
    SkippedPackets {
        /// How many packets were dropped.
        count: usize,
    },
    /// Speech was found with the built-in earshot detector, because the Silero VAD weights
    /// could not be had; quiet speech under noise may have been missed.
    BuiltInVad {
        /// Why Silero was not used.
        reason: String,
    },
    /// Speakers by channel were asked of a recording with one channel: all its speech is
    /// attributed to the first speaker.
    SingleChannel {
        /// The speaker the speech is attributed to.
        speaker: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Truncated {
                decoded_seconds,
                expected_seconds,
                reason,
            } => {
                write!(f, "truncated: {decoded_seconds:.3} s decoded")?;
                if let Some(e) = expected_seconds {
                    write!(f, " of {e:.3} s declared")?;
                }
                write!(f, " ({reason})")
            }
            Warning::SkippedPackets { count } => write!(f, "{count} damaged packet(s) skipped"),
            Warning::BuiltInVad { reason } => write!(
                f,
                "speech found with the built-in detector, which misses more quiet speech under \
                 noise: the Silero VAD weights are unavailable ({reason}; set \
                 STENOGRAPH_VAD_MODEL to a silero_vad_v6.onnx)"
            ),
            Warning::SingleChannel { speaker } => write!(
                f,
                "speakers by channel asked of a one-channel recording: all speech is \
                 attributed to {speaker}"
            ),
        }
    }
}

/// A short name for a codec id, for metadata and for naming codecs that cannot be decoded.
pub(crate) fn codec_name(id: AudioCodecId) -> String {
    let known = [
        (codec::CODEC_ID_PCM_S16LE, "pcm_s16le"),
        (codec::CODEC_ID_PCM_S16BE, "pcm_s16be"),
        (codec::CODEC_ID_PCM_S24LE, "pcm_s24le"),
        (codec::CODEC_ID_PCM_S24BE, "pcm_s24be"),
        (codec::CODEC_ID_PCM_S32LE, "pcm_s32le"),
        (codec::CODEC_ID_PCM_S32BE, "pcm_s32be"),
        (codec::CODEC_ID_PCM_S8, "pcm_s8"),
        (codec::CODEC_ID_PCM_U8, "pcm_u8"),
        (codec::CODEC_ID_PCM_F32LE, "pcm_f32le"),
        (codec::CODEC_ID_PCM_F32BE, "pcm_f32be"),
        (codec::CODEC_ID_PCM_F64LE, "pcm_f64le"),
        (codec::CODEC_ID_PCM_F64BE, "pcm_f64be"),
        (codec::CODEC_ID_PCM_ALAW, "pcm_alaw"),
        (codec::CODEC_ID_PCM_MULAW, "pcm_mulaw"),
        (codec::CODEC_ID_ADPCM_MS, "adpcm_ms"),
        (codec::CODEC_ID_ADPCM_IMA_WAV, "adpcm_ima_wav"),
        (codec::CODEC_ID_ADPCM_IMA_QT, "adpcm_ima_qt"),
        (codec::CODEC_ID_ADPCM_G722, "g722"),
        (codec::CODEC_ID_ADPCM_G726, "g726"),
        (codec::CODEC_ID_VORBIS, "vorbis"),
        (codec::CODEC_ID_OPUS, "opus"),
        (codec::CODEC_ID_SPEEX, "speex"),
        (codec::CODEC_ID_MUSEPACK, "musepack"),
        (codec::CODEC_ID_MP1, "mp1"),
        (codec::CODEC_ID_MP2, "mp2"),
        (codec::CODEC_ID_MP3, "mp3"),
        (codec::CODEC_ID_AAC, "aac"),
        (codec::CODEC_ID_AC3, "ac3"),
        (codec::CODEC_ID_EAC3, "eac3"),
        (codec::CODEC_ID_AC4, "ac4"),
        (codec::CODEC_ID_DCA, "dts"),
        (codec::CODEC_ID_ATRAC3, "atrac3"),
        (codec::CODEC_ID_WMA, "wma"),
        (codec::CODEC_ID_COOK, "cook"),
        (codec::CODEC_ID_SBC, "sbc"),
        (codec::CODEC_ID_APTX, "aptx"),
        (codec::CODEC_ID_FLAC, "flac"),
        (codec::CODEC_ID_ALAC, "alac"),
        (codec::CODEC_ID_WAVPACK, "wavpack"),
        (codec::CODEC_ID_TTA, "tta"),
        (codec::CODEC_ID_MONKEYS_AUDIO, "ape"),
        (codec::CODEC_ID_TRUEHD, "truehd"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == id)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| format!("codec id {id}"))
}
