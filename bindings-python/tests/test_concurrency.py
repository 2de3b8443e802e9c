"""Threads share one transcriber, asyncio never blocks, and every way of cancelling works
(memory over many calls: scripts/soak.sh)."""

import asyncio
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import stenograph
from conftest import SENTENCES, words


def test_threads_share_one_transcriber(transcriber, clips):
    sequential = [transcriber.transcribe(c).text for c in clips]
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(transcriber.transcribe, c) for _ in range(3) for c in clips]
        texts = [f.result().text for f in futures]
    assert texts == sequential * 3


def test_asyncio_does_not_block_the_loop(transcriber, clips):
    async def main():
        ticks = 0
        stop = False

        async def ticker():
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0.01)

        tick = asyncio.ensure_future(ticker())
        start = time.monotonic()
        out = await asyncio.gather(*(transcriber.transcribe_async(c) for c in clips))
        batch = await transcriber.transcribe_batch_async(clips)
        elapsed = time.monotonic() - start
        stop = True
        await tick
        return out, batch, ticks, elapsed

    out, batch, ticks, elapsed = asyncio.run(main())
    assert [words(t.text) for t in out] == [words(s) for s in SENTENCES]
    assert [words(t.text) for t in batch] == [words(s) for s in SENTENCES]
    # The loop kept ticking while the work ran: at least a third of the possible ticks.
    assert ticks > elapsed / 0.01 / 3, (ticks, elapsed)


def test_cancel_token_stops_within_a_second(transcriber, long_speech):
    token = stenograph.CancelToken()
    threading.Timer(0.5, token.cancel).start()
    start = time.monotonic()
    with pytest.raises(stenograph.Cancelled):
        transcriber.transcribe(long_speech, cancel=token)
    assert time.monotonic() - start < 0.5 + 1.2
    assert token.cancelled


def test_asyncio_cancellation(transcriber, long_speech):
    async def main():
        task = asyncio.ensure_future(transcriber.transcribe_async(long_speech))
        await asyncio.sleep(0.5)
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    assert asyncio.run(main()) < 1.2


def test_ctrl_c_interrupts(transcriber, long_speech):
    # SIGINT every half second while the call runs, as a user pressing Ctrl-C would.
    sent = []
    done = threading.Event()

    def press():
        while not done.wait(0.5):
            sent.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGINT)

    def interrupt_once(signum, frame):
        # Python's default handler, but only for the first press: a late one must not
        # interrupt the test itself.
        if not done.is_set():
            done.set()
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt_once)
    presser = threading.Thread(target=press)
    presser.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            transcriber.transcribe(long_speech)
        stopped = time.monotonic()
    finally:
        done.set()
        presser.join()
        signal.signal(signal.SIGINT, previous)
    assert sent and stopped - sent[0] < 1.7, (sent, stopped)


def test_a_raising_callback_stops_the_call(transcriber, long_speech):
    def boom(_):
        raise RuntimeError("progress handler failed")

    with pytest.raises(RuntimeError, match="progress handler failed"):
        transcriber.transcribe(long_speech, on_progress=boom)


def test_close_waits_for_background_work_and_refuses_later_calls(clip, long_speech):
    token = stenograph.CancelToken()
    with stenograph.Transcriber("tiny.en") as t:
        assert not t.closed
        assert t.transcribe(clip).text
        threading.Timer(0.3, token.cancel).start()
        with pytest.raises(stenograph.Cancelled):
            t.transcribe(long_speech, cancel=token)
    # Leaving the block closed it: the cancelled call's work has stopped, no call is taken.
    assert t.closed
    with pytest.raises(stenograph.InvalidArgument, match="closed"):
        t.transcribe(clip)
    t.close()  # again: nothing to wait for
