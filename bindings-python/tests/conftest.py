"""Fixtures: one shared tiny.en transcriber and espeak-ng speech made at test time."""

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

try:
    import stenograph
except ImportError as e:  # pragma: no cover - a set-up problem, not a test result
    pytest.exit(
        f"the stenograph package is not installed here ({e}): "
        "run `pip install ./bindings-python` first",
        returncode=4,
    )

SENTENCES = [
    "Please call the customer back before noon tomorrow.",
    "The meeting has been moved to Thursday afternoon.",
    "I would like to cancel my subscription and get a refund.",
]


def words(text: str) -> list:
    return [w.strip(".,?!;:\"'").lower() for w in text.split() if w.strip(".,?!;:\"'")]


def speak(path: Path, text: str, voice: str = "en-us") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(path), text], check=True)
    return path


def read_wav(path: Path):
    """(int16 samples as frames × channels, sample rate)."""
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.reshape(-1, w.getnchannels()), w.getframerate()


@pytest.fixture(scope="session")
def transcriber() -> stenograph.Transcriber:
    return stenograph.Transcriber("tiny.en")


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def clip(speech_dir) -> Path:
    """One sentence, 22.05 kHz mono 16-bit WAV."""
    return speak(speech_dir / "clip.wav", SENTENCES[0])


@pytest.fixture(scope="session")
def clips(speech_dir) -> list:
    return [speak(speech_dir / f"s{i}.wav", s) for i, s in enumerate(SENTENCES)]


@pytest.fixture(scope="session")
def long_speech(speech_dir, clips) -> Path:
    """About two minutes of speech (long enough to be cancelled mid-way on a fast machine):
    the sentences repeated with pauses."""
    parts = []
    rate = 0
    for _ in range(12):
        for c in clips:
            data, rate = read_wav(c)
            parts.append(data[:, 0])
            parts.append(np.zeros(rate // 2, dtype=np.int16))
    path = speech_dir / "long.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.concatenate(parts).astype("<i2").tobytes())
    return path
