"""Live transcription from Python: pushing from a thread while iterating, asyncio, polling,
and bad pushes refused with typed errors."""

import asyncio
import threading

import numpy as np
import pytest

import stenograph
from conftest import SENTENCES, read_wav, words


def call_audio(clips, pause: float = 1.0):
    """The clips one after another with `pause` seconds of silence around each: int16 at the
    clips' rate."""
    parts, rate = [], 0
    for c in clips:
        data, rate = read_wav(c)
        parts.append(np.zeros(int(rate * pause), dtype=np.int16))
        parts.append(data[:, 0])
    parts.append(np.zeros(int(rate * pause), dtype=np.int16))
    return np.concatenate(parts), rate


def check_turns(events):
    kinds = [e.type for e in events]
    finals = [e for e in events if e.type == "final"]
    assert kinds.count("speech_started") == len(SENTENCES), kinds
    assert kinds.count("speech_stopped") == len(SENTENCES), kinds
    assert len(finals) == len(SENTENCES), kinds
    for said, final in zip(SENTENCES, finals):
        heard = words(final.text)
        assert len(set(words(said)) & set(heard)) >= len(words(said)) - 2, final.text
        assert final.start < final.end
        assert all(final.start - 1e-9 <= s.start <= s.end <= final.end + 1e-9 for s in final.segments)
    starts = [e.at for e in events if e.type == "speech_started"]
    assert starts == sorted(starts)
    partial = ""
    for e in events:
        if e.type == "speech_started":
            partial = ""
        elif e.type == "partial":
            assert e.text.startswith(partial) and e.text.endswith(e.delta), (partial, e.text)
            assert isinstance(e.unstable, str), e
            partial = e.text


def test_push_from_a_thread_while_iterating(transcriber, clips):
    pcm, rate = call_audio(clips)
    s = transcriber.stream(word_timestamps=True)

    def feed():
        for i in range(0, len(pcm), rate // 50):  # 20 ms pieces as bytes
            s.push(pcm[i : i + rate // 50].astype("<i2").tobytes(), rate)
        s.finish()

    feeder = threading.Thread(target=feed)
    feeder.start()
    events = list(s)  # waits for each event; ends after finish()
    feeder.join()
    check_turns(events)
    assert s.finished and abs(s.duration - len(pcm) / rate) < 0.01
    assert any(e.type == "final" and e.segments[0].words for e in events)


def test_async_for_with_pushes_from_a_task(transcriber, clips):
    pcm, rate = call_audio(clips)
    floats = pcm.astype(np.float32) / 32768.0

    async def main():
        s = transcriber.stream(partial_interval_ms=0)

        async def feed():
            for i in range(0, len(floats), rate // 10):
                await s.push_async(floats[i : i + rate // 10], rate)
            await s.finish_async()

        task = asyncio.create_task(feed())
        events = [e async for e in s]
        await task
        return events

    events = asyncio.run(main())
    check_turns(events)
    assert not any(e.type == "partial" for e in events)


def test_silence_gives_no_events_and_poll_returns_none(transcriber):
    s = transcriber.stream()
    s.push(np.zeros(16000 * 3, dtype=np.int16))
    s.finish()
    assert s.poll() is None
    assert list(s) == []


def test_bad_pushes_and_options_are_refused(transcriber):
    s = transcriber.stream()
    with pytest.raises(stenograph.InvalidArgument):
        s.push(b"\x00\x01\x02")  # an odd byte count is not 16-bit PCM
    with pytest.raises(stenograph.InvalidArgument):
        s.push(np.zeros((2, 100), dtype=np.float32))  # not mono
    with pytest.raises(stenograph.InvalidArgument):
        s.push(np.zeros(100, dtype=np.float64))
    with pytest.raises(stenograph.InvalidArgument):
        s.push([0.0, float("nan")])
    s.push(np.zeros(1600, dtype=np.int16), 16000)
    with pytest.raises(stenograph.InvalidArgument, match="one rate"):
        s.push(np.zeros(4800, dtype=np.int16), 48000)
    s.finish()
    with pytest.raises(stenograph.InvalidArgument, match="finished"):
        s.push(np.zeros(1600, dtype=np.int16))
    with pytest.raises(stenograph.InvalidArgument):
        transcriber.stream(silence_ms=-5)
    with pytest.raises(stenograph.InvalidArgument):
        transcriber.stream(max_turn_ms=60000)
    with pytest.raises(stenograph.InvalidArgument):
        transcriber.stream(language="de")  # tiny.en is English-only


def test_without_silence_endpointing_commit_ends_the_turn(transcriber, clips):
    pcm, rate = call_audio(clips[:2], pause=0.8)
    s = transcriber.stream(end_on_silence=False, partial_interval_ms=0)
    assert s.commit() is False  # nothing spoken yet
    for i in range(0, len(pcm), 2205):
        s.push(pcm[i:i + 2205], rate)
    events = []
    while (e := s.poll()) is not None:
        events.append(e)
    assert not any(e.type == "final" for e in events), [e.type for e in events]
    assert s.commit() is True
    final = [e for e in iter(s.poll, None) if e.type == "final"]
    assert len(final) == 1
    heard = set(words(final[0].text))
    assert len(heard & set(words(SENTENCES[0] + " " + SENTENCES[1]))) >= 10, final[0].text
    s.push(pcm[: rate * 2], rate)
    s.clear()
    s.finish()
    assert not any(e.type == "final" for e in s), "a cleared turn gives no text"


def test_a_cancelled_stream_refuses_further_work(transcriber, clips):
    token = stenograph.CancelToken()
    s = transcriber.stream(cancel=token)
    pcm, rate = call_audio(clips[:1], pause=0.5)
    s.push(pcm[: rate // 2], rate)
    token.cancel()
    with pytest.raises(stenograph.Cancelled):
        s.push(pcm[rate // 2 :], rate)
    with pytest.raises(stenograph.Cancelled):
        s.finish()


def test_cancelling_stops_a_decode_in_progress(transcriber, clips):
    token = stenograph.CancelToken()
    s = transcriber.stream(cancel=token, end_on_silence=False, partial_interval_ms=0)
    pcm, rate = call_audio(clips, pause=0.2)
    s.push(pcm, rate)
    # finish() decodes the whole open turn (seconds of speech): the token stops it midway.
    timer = threading.Timer(0.05, token.cancel)
    timer.start()
    with pytest.raises(stenograph.Cancelled):
        s.finish()
    timer.join()
    events = []
    while (e := s.poll()) is not None:
        events.append(e)
    assert not any(e.type == "final" for e in events), events
