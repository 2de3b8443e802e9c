"""Bad inputs and bad options raise typed exceptions with the core's messages; none crashes."""

import numpy as np
import pytest

import stenograph
from conftest import read_wav


def raises(exc, code, fn):
    with pytest.raises(exc) as info:
        fn()
    assert isinstance(info.value, stenograph.Error)
    assert info.value.code == code, info.value
    assert str(info.value)
    return info.value


def test_empty_input(transcriber):
    e = raises(stenograph.DecodeError, "empty_input", lambda: transcriber.transcribe(b""))
    assert isinstance(e, ValueError)


def test_not_audio(transcriber):
    raises(
        stenograph.DecodeError,
        "unknown_format",
        lambda: transcriber.transcribe(b"this is plain text, not audio at all " * 40),
    )


def test_truncated_and_corrupt(transcriber, clip):
    data = clip.read_bytes()
    # Cut mid-file: what is there is transcribed, the duration shows the cut.
    tr = transcriber.transcribe(data[: len(data) // 2])
    assert 0.5 < tr.duration < 3.0
    # A header alone holds no samples.
    with pytest.raises(stenograph.DecodeError):
        transcriber.transcribe(data[:44])
    # Garbage where the samples should be, behind a valid header: noise, not speech.
    noisy = data[:44] + bytes((i * 7919) % 251 for i in range(len(data) - 44))
    assert transcriber.transcribe(noisy).text == ""


def test_silence_gives_empty_text(transcriber):
    tr = transcriber.transcribe(np.zeros(16_000 * 5, dtype=np.float32), sample_rate=16_000)
    assert tr.text == "" and tr.segments == [] and tr.duration == 5.0


def test_missing_file(transcriber, tmp_path):
    e = raises(stenograph.IoError, "io", lambda: transcriber.transcribe(tmp_path / "nope.wav"))
    assert isinstance(e, OSError) and "nope.wav" in str(e)


def test_bad_arrays(transcriber, clip):
    pcm, rate = read_wav(clip)
    raises(stenograph.InvalidArgument, "invalid_argument", lambda: transcriber.transcribe(pcm[:, 0]))
    raises(
        stenograph.InvalidArgument,
        "invalid_argument",
        lambda: transcriber.transcribe(pcm.astype(np.float64), sample_rate=rate),
    )
    raises(
        stenograph.InvalidArgument,
        "invalid_argument",
        lambda: transcriber.transcribe(np.zeros((2, 2, 2), np.float32), sample_rate=rate),
    )
    with pytest.raises(stenograph.Error):
        transcriber.transcribe(np.zeros(100, np.float32), sample_rate=0)


def test_wrong_types_and_options(transcriber, clip):
    with pytest.raises(TypeError):
        transcriber.transcribe(42)
    with pytest.raises(TypeError):
        transcriber.transcribe(open(clip))  # text mode
    raises(stenograph.InvalidArgument, "invalid_argument", lambda: transcriber.transcribe(clip, task="sing"))
    raises(stenograph.InvalidArgument, "invalid_argument", lambda: transcriber.transcribe(clip, task="translate"))
    raises(stenograph.InvalidArgument, "invalid_argument", lambda: transcriber.transcribe(clip, language="fr"))
    raises(stenograph.InvalidArgument, "invalid_argument", lambda: stenograph.Transcriber(device="tpu"))


def test_bad_models(tmp_path):
    raises(stenograph.ModelError, "unknown_model", lambda: stenograph.Transcriber("tiny.xx"))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model" * 100)
    raises(stenograph.ModelError, "not_a_model", lambda: stenograph.Transcriber(str(junk)))
    if not stenograph.GPU_BUILD:
        raises(stenograph.DeviceError, "device", lambda: stenograph.Transcriber(device="gpu:0"))
