"""The OpenAI-compatible service with the real tiny.en: every response format, errors in
OpenAI's shape, the upload limit, and the official `openai` client pointed at it."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("STENOGRAPH_MAX_UPLOAD_MB", "2")

import uvicorn  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from openai import OpenAI, BadRequestError  # noqa: E402

import app as service  # noqa: E402

SENTENCE = "Please call the customer back before noon tomorrow."


def words(text):
    return [w.strip(".,?!").lower() for w in text.split() if w.strip(".,?!")]


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("api") / "call.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), SENTENCE], check=True)
    return path


@pytest.fixture(scope="module")
def client():
    return TestClient(service.app)


def post(client, speech, **form):
    files = {"file": ("call.wav", speech.read_bytes(), "audio/wav")}
    data = {"model": "whisper-1", **form}
    return client.post("/v1/audio/transcriptions", files=files, data=data)


def test_json_and_text(client, speech):
    r = post(client, speech)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert words(r.json()["text"]) == words(SENTENCE)
    r = post(client, speech, response_format="text")
    assert r.headers["content-type"].startswith("text/plain")
    assert words(r.text) == words(SENTENCE)


def test_subtitles(client, speech):
    r = post(client, speech, response_format="srt")
    assert r.headers["content-type"].startswith("application/x-subrip")
    assert r.text.startswith("1\n00:00:")
    r = post(client, speech, response_format="vtt")
    assert r.headers["content-type"].startswith("text/vtt")
    assert r.text.startswith("WEBVTT")


def test_verbose_json_with_words(client, speech):
    r = post(
        client, speech, response_format="verbose_json", language="en",
        **{"timestamp_granularities[]": ["word", "segment"]},
    )
    body = r.json()
    assert body["task"] == "transcribe" and body["language"] == "english"
    assert body["duration"] > 2 and body["segments"][0]["start"] >= 0
    assert [w["word"].lower().strip(".") for w in body["words"]][:2] == ["please", "call"]


def test_errors_in_openai_shape(client, speech):
    def error(r, status, param=None):
        assert r.status_code == status, r.text
        e = r.json()["error"]
        assert set(e) == {"message", "type", "param", "code"} and e["message"]
        assert e["param"] == param
        return e

    e = error(post(client, speech, model="gpt-4"), 400, "model")
    assert e["code"] == "model_not_found"
    error(post(client, speech, response_format="xml"), 400, "response_format")
    error(post(client, speech, temperature="hot"), 400, "temperature")
    e = error(client.post("/v1/audio/transcriptions", files={"file": ("x.wav", b"", "audio/wav")},
                          data={"model": "whisper-1"}), 400, "file")
    assert e["code"] == "empty_input"
    e = error(client.post("/v1/audio/transcriptions",
                          files={"file": ("x.txt", b"hello " * 500, "text/plain")},
                          data={"model": "whisper-1"}), 400, "file")
    assert e["code"] == "unknown_format"
    e = error(client.post("/v1/audio/transcriptions", data={"model": "whisper-1"}), 400, "file")
    big = b"\0" * (2 * 1024 * 1024 + 1)
    e = error(client.post("/v1/audio/transcriptions", files={"file": ("big.wav", big, "audio/wav")},
                          data={"model": "whisper-1"}), 413, "file")
    assert e["code"] == "file_too_large"
    e = error(post(client, speech, language="fr"), 400)
    assert e["code"] == "invalid_argument"
    r = client.post("/v1/audio/translations", files={"file": ("c.wav", speech.read_bytes())},
                    data={"model": "whisper-1"})
    assert error(r, 400, "model")["code"] == "model_not_multilingual"  # tiny.en cannot translate


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(service.app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    srv.should_exit = True
    thread.join(timeout=10)


def test_official_openai_client(server, speech):
    client = OpenAI(base_url=server, api_key="unused", max_retries=0)
    with open(speech, "rb") as f:
        tr = client.audio.transcriptions.create(model="whisper-1", file=f)
    assert words(tr.text) == words(SENTENCE)
    with open(speech, "rb") as f:
        verbose = client.audio.transcriptions.create(
            model="whisper-1", file=f, response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    assert verbose.duration > 2 and verbose.words[0].word.lower() == "please"
    # Every field of the SDK's verbose transcription is there, with its type.
    from openai.types.audio import TranscriptionVerbose

    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=open(speech, "rb"), response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    strict = TranscriptionVerbose.model_validate(raw.http_response.json(), strict=True)
    assert strict.segments and strict.segments[0].temperature == 0.0
    with open(speech, "rb") as f:
        srt = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="srt")
    assert "-->" in srt
    with pytest.raises(BadRequestError) as info:
        client.audio.transcriptions.create(model="whisper-1", file=("x.wav", b""))
    assert info.value.body["code"] == "empty_input"
