"""An OpenAI-compatible transcription service with Stenograph in-process.

    STENOGRAPH_MODEL=tiny.en uvicorn app:app --port 8000

`POST /v1/audio/transcriptions` and `POST /v1/audio/translations` take OpenAI's multipart
form (`file`, `model`, `language`, `prompt`, `response_format`, `temperature`,
`timestamp_granularities[]`) and answer in OpenAI's shapes, errors included (each error's
`code` is the library's own, e.g. `unknown_format`). One model is loaded at start-up and shared
by every request; transcription runs off the event loop, and a client that disconnects cancels
its transcription. Translations need a multilingual model: with an English-only one (the
default, tiny.en) `/v1/audio/translations` answers 400 `model_not_multilingual`.
"""

from __future__ import annotations

import asyncio
import os
from typing import List, Optional

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

import stenograph

MODEL = os.environ.get("STENOGRAPH_MODEL", stenograph.DEFAULT_MODEL)
MAX_UPLOAD_BYTES = int(os.environ.get("STENOGRAPH_MAX_UPLOAD_MB", "25")) * 1024 * 1024
FORMATS = {"json", "text", "srt", "vtt", "verbose_json"}

app = FastAPI(title="Stenograph transcription API")
transcriber = stenograph.Transcriber(MODEL)


class ApiError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, type_: str, param=None, code=None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = (
            status, message, type_, param, code,
        )


def error_body(message: str, type_: str, param=None, code=None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@app.exception_handler(ApiError)
async def api_error(_: Request, e: ApiError) -> JSONResponse:
    return JSONResponse(error_body(e.message, e.type, e.param, e.code), status_code=e.status)


@app.exception_handler(RequestValidationError)
async def validation_error(_: Request, e: RequestValidationError) -> JSONResponse:
    first = e.errors()[0] if e.errors() else {}
    loc = [str(x) for x in first.get("loc", []) if x not in ("body", "query")]
    message = f"{'.'.join(loc) or 'request'}: {first.get('msg', 'invalid request')}"
    return JSONResponse(
        error_body(message, "invalid_request_error", loc[0] if loc else None, "invalid_value"),
        status_code=400,
    )


@app.exception_handler(stenograph.Error)
async def stenograph_error(_: Request, e: stenograph.Error) -> JSONResponse:
    if isinstance(e, stenograph.DecodeError):
        status, type_, param = 400, "invalid_request_error", "file"
    elif isinstance(e, stenograph.InvalidArgument):
        status, type_, param = 400, "invalid_request_error", None
    elif isinstance(e, stenograph.Cancelled):
        status, type_, param = 499, "cancelled", None
    else:
        status, type_, param = 500, "server_error", None
    return JSONResponse(error_body(str(e), type_, param, e.code), status_code=status)


async def read_upload(file: UploadFile) -> bytes:
    """The upload, refused past the size limit without reading it all."""
    data = bytearray()
    while chunk := await file.read(1 << 20):
        data += chunk
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(
                413,
                f"file is larger than the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit",
                "invalid_request_error",
                "file",
                "file_too_large",
            )
    return bytes(data)


async def transcribe(request: Request, data: bytes, options: dict):
    """Transcribes off the event loop; a client that goes away cancels the work."""
    token = stenograph.CancelToken()
    work = asyncio.ensure_future(transcriber.transcribe_async(data, cancel=token, **options))
    while not work.done():
        done, _ = await asyncio.wait({work}, timeout=0.25)
        if not done and await request.is_disconnected():
            token.cancel()
    return work.result()


def respond(tr: stenograph.Transcript, response_format: str) -> Response:
    return Response(tr.render(response_format), media_type=stenograph.content_type(response_format))


async def handle(
    request: Request,
    task: str,
    file: UploadFile,
    model: str,
    language: Optional[str],
    prompt: Optional[str],
    response_format: str,
    temperature: float,
    granularities: Optional[List[str]],
) -> Response:
    if model not in ("whisper-1", MODEL):
        raise ApiError(
            400,
            f"model '{model}' is not served here; use 'whisper-1' or '{MODEL}'",
            "invalid_request_error",
            "model",
            "model_not_found",
        )
    if response_format not in FORMATS:
        raise ApiError(
            400,
            f"response_format must be one of {', '.join(sorted(FORMATS))}",
            "invalid_request_error",
            "response_format",
            "invalid_value",
        )
    granularities = granularities or ["segment"]
    if any(g not in ("word", "segment") for g in granularities):
        raise ApiError(
            400,
            "timestamp_granularities[] takes 'word' and/or 'segment'",
            "invalid_request_error",
            "timestamp_granularities",
            "invalid_value",
        )
    data = await read_upload(file)
    options = dict(
        language=language or None,
        initial_prompt=prompt or None,
        temperature=temperature,
        word_timestamps="word" in granularities,
        task=task,
    )
    tr = await transcribe(request, data, options)
    return respond(tr, response_format)


@app.post("/v1/audio/transcriptions")
async def transcriptions(
    request: Request,
    file: UploadFile = File(...),
    model: str = Form(...),
    language: Optional[str] = Form(None),
    prompt: Optional[str] = Form(None),
    response_format: str = Form("json"),
    temperature: float = Form(0.0),
    timestamp_granularities: Optional[List[str]] = Form(None, alias="timestamp_granularities[]"),
) -> Response:
    return await handle(
        request, "transcribe", file, model, language, prompt, response_format, temperature,
        timestamp_granularities,
    )


@app.post("/v1/audio/translations")
async def translations(
    request: Request,
    file: UploadFile = File(...),
    model: str = Form(...),
    prompt: Optional[str] = Form(None),
    response_format: str = Form("json"),
    temperature: float = Form(0.0),
) -> Response:
    if not transcriber.multilingual:
        raise ApiError(
            400,
            f"the model served here ({MODEL}) is English-only and cannot translate; run the "
            "service with a multilingual model (STENOGRAPH_MODEL=base, small, …)",
            "invalid_request_error",
            "model",
            "model_not_multilingual",
        )
    return await handle(
        request, "translate", file, model, None, prompt, response_format, temperature, None
    )


@app.get("/health")
async def health() -> dict:
    return {"status": "ok", "model": transcriber.model}
