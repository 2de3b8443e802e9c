"""Type stubs of Stenograph's native module (checked against it by mypy's stubtest in CI)."""

import os
from typing import Any, BinaryIO, Callable, List, Optional, Sequence, Tuple, Union, final

from typing_extensions import TypeAlias, disjoint_base

__all__ = [
    "Error",
    "DecodeError",
    "ModelError",
    "DownloadError",
    "Cancelled",
    "InferenceError",
    "DeviceError",
    "InvalidArgument",
    "IoError",
    "Transcriber",
    "CancelToken",
    "Transcript",
    "Segment",
    "Word",
    "Stream",
    "StreamEvent",
    "DEFAULT_MODEL",
    "FORMATS",
    "GPU_BUILD",
    "__version__",
    "content_type",
    "fetch_model",
]

DEFAULT_MODEL: str
FORMATS: List[str]
GPU_BUILD: bool
__version__: str

_AudioInput: TypeAlias = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO, Any]
"""A path, encoded bytes, a binary file object, or a float32/int16 sample array (with
`sample_rate=`)."""

class Error(Exception):
    """Base of every Stenograph error. `category` is its kind (e.g. "decode"), `code` names
    the failure (e.g. "truncated")."""

    category: str
    code: str

class DecodeError(Error, ValueError):
    """The audio could not be read: empty, truncated, corrupt, not audio, unsupported."""

class ModelError(Error):
    """The model could not be found, fetched, checked or loaded."""

class DownloadError(ModelError):
    """The model could not be downloaded, or did not match its published checksum."""

class Cancelled(Error):
    """The transcription was cancelled (cancel token, asyncio cancellation, Ctrl-C)."""

class InferenceError(Error, RuntimeError):
    """whisper.cpp failed while transcribing."""

class DeviceError(Error, RuntimeError):
    """The device asked for is not available in this build or on this machine."""

class InvalidArgument(Error, ValueError):
    """An option is out of range or does not fit the model."""

class IoError(Error, OSError):
    """A file could not be read or written."""

@final
class Word:
    """One word with its timing."""

    @property
    def word(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def probability(self) -> float: ...
    @property
    def speaker(self) -> Optional[str]: ...
    @property
    def overlap(self) -> bool: ...

@final
class Segment:
    """A stretch of speech and its text."""

    @property
    def id(self) -> int: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def tokens(self) -> List[int]: ...
    @property
    def avg_logprob(self) -> float: ...
    @property
    def temperature(self) -> float: ...
    @property
    def compression_ratio(self) -> float: ...
    @property
    def no_speech_prob(self) -> float: ...
    @property
    def words(self) -> List[Word]: ...
    @property
    def speaker(self) -> Optional[str]: ...
    @property
    def overlap(self) -> bool: ...

@final
class Transcript:
    """A finished transcription."""

    @property
    def text(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def language_probability(self) -> float: ...
    @property
    def duration(self) -> float: ...
    @property
    def task(self) -> str: ...
    @property
    def speakers(self) -> List[str]: ...
    def turns(self) -> List[Tuple[str, str]]: ...
    @property
    def warnings(self) -> List[str]: ...
    @property
    def segments(self) -> List[Segment]: ...
    def render(self, format: str) -> str: ...
    def to_text(self) -> str: ...
    def to_srt(self) -> str: ...
    def to_vtt(self) -> str: ...
    def to_json(self) -> str: ...
    def to_verbose_json(self) -> str: ...
    def to_tsv(self) -> str: ...
    def to_dict(self) -> Any: ...

@final
class CancelToken:
    """Stops a transcription from any thread: pass it as `cancel=` and call `cancel()`."""

    def __new__(cls) -> CancelToken: ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...

@disjoint_base
class Transcriber:
    """One loaded model serving any number of threads; each call gets its own state."""

    def __new__(
        cls,
        model: str = "tiny.en",
        device: str = "auto",
        max_concurrent: Optional[int] = None,
        threads_per_call: Optional[int] = None,
    ) -> Transcriber: ...
    @property
    def model(self) -> str: ...
    @property
    def multilingual(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Transcriber: ...
    def __exit__(self, *_exc: object) -> bool: ...
    def transcribe(
        self,
        audio: _AudioInput,
        *,
        sample_rate: Optional[int] = None,
        language: Optional[str] = None,
        languages: Optional[Sequence[str]] = None,
        task: Optional[str] = None,
        initial_prompt: Optional[str] = None,
        hotwords: Optional[Sequence[str]] = None,
        beam_size: Optional[int] = None,
        word_timestamps: Optional[bool] = None,
        vad: Optional[bool] = None,
        sound_events: Optional[str] = None,
        temperature: Optional[float] = None,
        temperature_fallback: Optional[bool] = None,
        condition_on_previous_text: Optional[bool] = None,
        max_segment_chars: Optional[int] = None,
        speakers: Optional[str] = None,
        speaker_names: Optional[Sequence[str]] = None,
        on_progress: Optional[Callable[[int], object]] = None,
        on_segment: Optional[Callable[[Segment], object]] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Transcript: ...
    def transcribe_batch(
        self,
        audios: Sequence[_AudioInput],
        *,
        sample_rate: Optional[int] = None,
        language: Optional[str] = None,
        languages: Optional[Sequence[str]] = None,
        task: Optional[str] = None,
        initial_prompt: Optional[str] = None,
        hotwords: Optional[Sequence[str]] = None,
        beam_size: Optional[int] = None,
        word_timestamps: Optional[bool] = None,
        vad: Optional[bool] = None,
        sound_events: Optional[str] = None,
        temperature: Optional[float] = None,
        temperature_fallback: Optional[bool] = None,
        condition_on_previous_text: Optional[bool] = None,
        max_segment_chars: Optional[int] = None,
        on_progress: Optional[Callable[[int], object]] = None,
        cancel: Optional[CancelToken] = None,
    ) -> List[Transcript]: ...
    def stream(
        self,
        *,
        language: Optional[str] = None,
        languages: Optional[Sequence[str]] = None,
        threshold: Optional[float] = None,
        silence_ms: Optional[int] = None,
        end_on_silence: Optional[bool] = None,
        prefix_padding_ms: Optional[int] = None,
        partial_interval_ms: Optional[int] = None,
        max_turn_ms: Optional[int] = None,
        word_timestamps: Optional[bool] = None,
        initial_prompt: Optional[str] = None,
        hotwords: Optional[Sequence[str]] = None,
        max_pending_events: Optional[int] = None,
        cancel: Optional[CancelToken] = None,
    ) -> Stream: ...

@final
class StreamEvent:
    """What a live stream reports: `type` is "speech_started", "partial", "speech_stopped" or
    "final"; the other fields are set where that kind has them."""

    @property
    def type(self) -> str: ...
    @property
    def at(self) -> Optional[float]: ...
    @property
    def text(self) -> Optional[str]: ...
    @property
    def delta(self) -> Optional[str]: ...
    @property
    def unstable(self) -> Optional[str]: ...
    @property
    def start(self) -> Optional[float]: ...
    @property
    def end(self) -> Optional[float]: ...
    @property
    def segments(self) -> List[Segment]: ...

@final
class Stream:
    """A live transcription from `Transcriber.stream(...)`: `push()` audio as it arrives (from
    any thread), read events with `poll()` or by iterating, `finish()` at the end."""

    def push(
        self, audio: Union[bytes, bytearray, memoryview, Sequence[float], Any], sample_rate: int = 16000
    ) -> None: ...
    def finish(self) -> None: ...
    def commit(self) -> bool: ...
    def clear(self) -> bool: ...
    def poll(self) -> Optional[StreamEvent]: ...
    @property
    def finished(self) -> bool: ...
    @property
    def duration(self) -> float: ...
    def __iter__(self) -> Stream: ...
    def __next__(self) -> StreamEvent: ...

def content_type(format: str) -> str:
    """The HTTP content type of a transcript rendered in `format` (see `Transcript.render`)."""

def fetch_model(name: str) -> str:
    """Fetches a registry model into the cache (if not there yet) and returns its path."""
