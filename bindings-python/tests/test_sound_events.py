"""Sound events: noise gives no text, every mode keeps the speech, an unknown mode is refused."""

import numpy as np
import pytest

import stenograph
from conftest import words


def brown_noise(seconds: float, rate: int = 16000) -> np.ndarray:
    steps = np.random.default_rng(7).standard_normal(int(seconds * rate))
    noise = np.cumsum(steps)
    noise -= np.convolve(noise, np.ones(400) / 400, mode="same")
    return (0.2 * noise / np.abs(noise).max()).astype(np.float32)


def test_noise_gives_no_text(transcriber):
    for vad in (True, False):
        out = transcriber.transcribe(brown_noise(8.0), sample_rate=16000, vad=vad)
        assert out.text == "", (vad, out.text)


@pytest.mark.parametrize("mode", ["drop", "keep", "suppress", "Keep"])
def test_every_mode_keeps_the_speech(transcriber, clip, mode):
    plain = words(transcriber.transcribe(str(clip)).text)
    got = words(transcriber.transcribe(str(clip), sound_events=mode).text)
    assert sum(w in got for w in plain) >= 0.9 * len(plain), (mode, got, plain)
    [batched] = transcriber.transcribe_batch([str(clip)], sound_events=mode)
    assert sum(w in words(batched.text) for w in plain) >= 0.9 * len(plain)


def test_an_unknown_mode_is_refused(transcriber, clip):
    with pytest.raises(stenograph.InvalidArgument, match="sound events"):
        transcriber.transcribe(str(clip), sound_events="mute")
