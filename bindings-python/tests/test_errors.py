"""Bad inputs and bad options raise typed exceptions with the core's messages; none crashes."""

import numpy as np
import pytest

import stenograph
from conftest import read_wav


CATEGORIES = {
    stenograph.DecodeError: "decode",
    stenograph.DownloadError: "download",
    stenograph.ModelError: "model",
    stenograph.Cancelled: "cancelled",
    stenograph.InferenceError: "inference",
    stenograph.DeviceError: "device",
    stenograph.InvalidArgument: "invalid_argument",
    stenograph.IoError: "io",
}


def raises(exc, code, fn):
    with pytest.raises(exc) as info:
        fn()
    assert isinstance(info.value, stenograph.Error)
    assert info.value.code == code, info.value
    assert info.value.category == CATEGORIES[type(info.value)], info.value
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
    # Cut mid-file: what is there is transcribed, the duration shows the cut, a warning says so.
    tr = transcriber.transcribe(data[: len(data) // 2])
    assert 0.5 < tr.duration < 3.0
    assert len(tr.warnings) == 1 and tr.warnings[0].startswith("truncated"), tr.warnings
    [batched] = transcriber.transcribe_batch([data[: len(data) // 2]])
    assert batched.warnings == tr.warnings
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
    raises(stenograph.InvalidArgument, "invalid_argument", lambda: transcriber.transcribe(clip, languages=["de", "fr"]))
    with pytest.raises(TypeError):
        transcriber.transcribe(clip, languages="en,de")  # a list of codes, not one string
    raises(stenograph.InvalidArgument, "invalid_argument", lambda: stenograph.Transcriber(device="tpu"))


@pytest.mark.parametrize(
    "call",
    [
        lambda t, clip: t.transcribe(np.zeros(100, np.float32), sample_rate=-1),
        lambda t, clip: t.transcribe(np.zeros(100, np.float32), sample_rate=2**40),
        lambda t, clip: t.transcribe(np.zeros(100, np.float32), sample_rate=2**80),
        lambda t, clip: t.transcribe(np.zeros(100, np.float32), sample_rate=16000.5),
        lambda t, clip: t.transcribe(clip, beam_size=-1),
        lambda t, clip: t.transcribe(clip, beam_size=9),
        lambda t, clip: t.transcribe(clip, beam_size=2.5),
        lambda t, clip: t.transcribe(clip, max_segment_chars=0),
        lambda t, clip: t.transcribe(clip, temperature=float("nan")),
        lambda t, clip: t.transcribe(clip, language="english"),
        lambda t, clip: t.transcribe(clip, languages=["en", "english"]),
        lambda t, clip: t.transcribe(clip, languages=["en,de"]),
        lambda t, clip: t.stream(languages=["auto"]),
        lambda t, clip: t.transcribe(clip, initial_prompt="x" * 5000),
        lambda t, clip: stenograph.Transcriber(max_concurrent=-1),
        lambda t, clip: stenograph.Transcriber(max_concurrent=2**70),
        lambda t, clip: stenograph.Transcriber(threads_per_call=0),
    ],
)
def test_out_of_range_numbers_are_invalid_arguments(transcriber, clip, call):
    raises(stenograph.InvalidArgument, "invalid_argument", lambda: call(transcriber, clip))


def test_options_take_the_cores_spellings(transcriber, clip):
    a = transcriber.transcribe(clip, language="EN", beam_size=1)
    b = transcriber.transcribe(clip, language="auto", beam_size=0)
    assert a.text == b.text and a.language == "en"
    c = transcriber.transcribe(clip, languages=["de", "EN"])
    assert c.text == a.text and c.language == "en"
    with pytest.raises(stenograph.InvalidArgument):
        a.render("docx")


def test_a_download_error_is_a_model_error():
    assert issubclass(stenograph.DownloadError, stenograph.ModelError)


def test_bad_models(tmp_path):
    raises(stenograph.ModelError, "unknown_model", lambda: stenograph.Transcriber("tiny.xx"))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model" * 100)
    raises(stenograph.ModelError, "not_a_model", lambda: stenograph.Transcriber(str(junk)))
    e = raises(stenograph.ModelError, "model_not_found", lambda: stenograph.Transcriber("/nonexistent.bin"))
    assert "not found" in str(e) and "/nonexistent.bin" in str(e)
    raises(
        stenograph.ModelError,
        "model_not_found",
        lambda: stenograph.Transcriber(str(tmp_path / "models" / "missing.bin")),
    )
    if not stenograph.GPU_BUILD:
        raises(stenograph.DeviceError, "device", lambda: stenograph.Transcriber(device="gpu:0"))
