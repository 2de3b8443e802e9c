"""Speakers by channel: a two-party call with one party per channel."""

import numpy as np
import pytest

import stenograph
from conftest import SENTENCES, read_wav, speak, words


@pytest.fixture(scope="session")
def call(speech_dir):
    """Stereo int16 frames: party 0 says SENTENCES[0], then party 1 says SENTENCES[1];
    each party leaks into the other's channel at -26 dB."""
    a, rate = read_wav(speak(speech_dir / "party0.wav", SENTENCES[0]))
    b, _ = read_wav(speak(speech_dir / "party1.wav", SENTENCES[1], voice="en-gb"))
    a, b = a[:, 0].astype(np.float32), b[:, 0].astype(np.float32)
    gap = np.zeros(rate // 2, np.float32)
    left = np.concatenate([a, gap, np.zeros_like(b), gap])
    right = np.concatenate([np.zeros_like(a), gap, b, gap])
    leak = 0.05
    frames = np.stack([left + leak * right, right + leak * left], axis=1)
    return frames.astype(np.int16), rate


def test_each_channel_is_a_speaker_and_leaks_are_not_repeated(transcriber, call):
    frames, rate = call
    t = transcriber.transcribe(
        frames, sample_rate=rate, speakers="channels", speaker_names=["agent", "customer"],
        word_timestamps=True,
    )
    assert t.speakers == ["agent", "customer"]
    turns = t.turns()
    assert [who for who, _ in turns] == ["agent", "customer"], turns
    for (_, said), sentence in zip(turns, SENTENCES):
        assert len(set(words(said)) & set(words(sentence))) >= len(words(sentence)) - 2, said
    assert all(s.speaker in ("agent", "customer") for s in t.segments)
    assert all(w.speaker == s.speaker for s in t.segments for w in s.words)
    assert t.to_text().startswith("agent: ")
    assert "<v customer>" in t.to_vtt()
    assert t.to_tsv().splitlines()[0] == "start\tend\tspeaker\ttext"
    # Without speakers the same call is one text with both sentences.
    plain = transcriber.transcribe(frames, sample_rate=rate)
    assert plain.speakers == [] and all(s.speaker is None for s in plain.segments)


def test_channel_speakers_of_a_mono_recording_warn(transcriber, clip):
    t = transcriber.transcribe(clip, speakers="channels")
    assert t.speakers == ["SPEAKER_0"]
    assert all(s.speaker == "SPEAKER_0" for s in t.segments)
    assert any("one-channel" in w for w in t.warnings), t.warnings


@pytest.mark.parametrize(
    "kwargs",
    [
        {"speakers": "everyone"},
        {"speakers": "channels", "speaker_names": ["agent", "agent"]},
        {"speakers": "channels", "speaker_names": [""]},
        {"speakers": "channels", "speaker_names": ["<v>"]},
    ],
)
def test_bad_speaker_options_are_invalid_arguments(transcriber, clip, kwargs):
    with pytest.raises(stenograph.InvalidArgument):
        transcriber.transcribe(clip, **kwargs)


def test_voices_in_a_mono_call_are_told_apart(transcriber, speech_dir):
    a, rate = read_wav(speak(speech_dir / "voice0.wav", SENTENCES[0]))
    b, _ = read_wav(speak(speech_dir / "voice1.wav", SENTENCES[1], voice="en-us+f3"))
    gap = np.zeros((rate // 2, 1), np.int16)
    mono = np.concatenate([a, gap, b, gap, a, gap, b])
    for speakers in ("auto", "2"):
        t = transcriber.transcribe(mono, sample_rate=rate, speakers=speakers)
        assert len(t.speakers) == 2, (speakers, t.speakers)
        first = [s.speaker for s in t.segments if words(s.text)[:2] == words(SENTENCES[0])[:2]]
        second = [s.speaker for s in t.segments if words(s.text)[:2] == words(SENTENCES[1])[:2]]
        assert first and second and set(first).isdisjoint(second), (speakers, t.segments)
    with pytest.raises(stenograph.InvalidArgument, match="from 1 to 32"):
        transcriber.transcribe(mono, sample_rate=rate, speakers="40")
