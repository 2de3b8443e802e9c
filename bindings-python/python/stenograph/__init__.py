"""Stenograph: speech-to-text in-process. Audio in (path, bytes, file object or samples),
typed transcript out, one loaded model shared by every thread.

    import stenograph
    t = stenograph.Transcriber("tiny.en")
    tr = t.transcribe("call.mp3", language="en", word_timestamps=True)
    print(tr.text, tr.segments[0].start)
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, List

from ._stenograph import (
    DEFAULT_MODEL,
    FORMATS,
    GPU_BUILD,
    CancelToken,
    Cancelled,
    DecodeError,
    DeviceError,
    DownloadError,
    Error,
    InferenceError,
    InvalidArgument,
    IoError,
    ModelError,
    Segment,
    StreamEvent,
    Transcript,
    Word,
    __version__,
    content_type,
    fetch_model,
)
from ._stenograph import Transcriber as _NativeTranscriber

__all__ = [
    "DEFAULT_MODEL",
    "FORMATS",
    "GPU_BUILD",
    "CancelToken",
    "Cancelled",
    "DecodeError",
    "DeviceError",
    "DownloadError",
    "Error",
    "InferenceError",
    "InvalidArgument",
    "IoError",
    "ModelError",
    "Segment",
    "Stream",
    "StreamEvent",
    "Transcriber",
    "Transcript",
    "Word",
    "__version__",
    "content_type",
    "fetch_model",
]


class Transcriber(_NativeTranscriber):
    """One loaded model serving any number of threads and asyncio tasks."""

    async def transcribe_async(self, audio: Any, **options: Any) -> Transcript:
        """`transcribe` on a worker thread: the event loop keeps running. Cancelling the
        awaiting task cancels the transcription, and returns once it has stopped."""
        return await _off_loop(self.transcribe, audio, options)

    async def transcribe_batch_async(self, audios: Any, **options: Any) -> List[Transcript]:
        """`transcribe_batch` on a worker thread, cancellable like `transcribe_async`."""
        return await _off_loop(self.transcribe_batch, audios, options)

    def stream(self, **options: Any) -> "Stream":  # type: ignore[override]
        """A live transcription: push audio as it arrives, read turns of speech as events
        (`for ev in s`, `async for ev in s`, or `poll()`). Options as the native `stream`."""
        return Stream(super().stream(**options))


class Stream:
    """A live transcription from `Transcriber.stream(...)`. `push()` audio as it arrives
    (16-bit PCM bytes, a float32/int16 array or a list of floats, at `sample_rate` Hz) from
    any thread or task, read events by iterating (`for ev in s` waits for each one,
    `async for ev in s` waits on a worker thread) or with `poll()`, and `finish()` at the
    end: iteration stops once the last event is read."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def push(self, audio: Any, sample_rate: int = 16000) -> None:
        """Adds audio; decodes the turns it ends (the event loop's thread is not needed)."""
        self._native.push(audio, sample_rate)

    async def push_async(self, audio: Any, sample_rate: int = 16000) -> None:
        """`push` on a worker thread, so the event loop keeps running while it decodes."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._native.push, audio, sample_rate)

    def finish(self) -> None:
        """Ends the stream: a turn still open becomes final."""
        self._native.finish()

    async def finish_async(self) -> None:
        """`finish` on a worker thread."""
        await asyncio.get_running_loop().run_in_executor(None, self._native.finish)

    def commit(self) -> bool:
        """Ends the turn in progress now (its final text follows); whether one was open."""
        return bool(self._native.commit())

    async def commit_async(self) -> bool:
        """`commit` on a worker thread."""
        return bool(await asyncio.get_running_loop().run_in_executor(None, self._native.commit))

    def clear(self) -> bool:
        """Drops the turn in progress without decoding it; whether one was open."""
        return bool(self._native.clear())

    def poll(self) -> Any:
        """The next event if one is waiting, else `None`."""
        return self._native.poll()

    @property
    def finished(self) -> bool:
        """Whether `finish()` was called."""
        return bool(self._native.finished)

    @property
    def duration(self) -> float:
        """Seconds of audio pushed so far."""
        return float(self._native.duration)

    def __iter__(self) -> Any:
        return self._native

    def __aiter__(self) -> "Stream":
        return self

    async def __anext__(self) -> Any:
        event = await asyncio.get_running_loop().run_in_executor(None, next, self._native, None)
        if event is None:
            raise StopAsyncIteration
        return event

    def __repr__(self) -> str:
        return repr(self._native)


async def _off_loop(method: Any, audio: Any, options: dict) -> Any:
    token = options.pop("cancel", None) or CancelToken()
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, functools.partial(method, audio, cancel=token, **options))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        token.cancel()
        try:
            await future
        except Exception:
            pass
        raise
