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
