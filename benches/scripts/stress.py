"""Concurrency stress through the Python binding: the Rust stress (benches/src/bin/stress.rs)
with Python threads.

Usage: stress.py [--threads N] [--seconds S] [--model NAME] CLIP...
THREADS threads share one Transcriber for SECONDS, each running a random mix of good clips (the
text must equal the clip's sequential transcript), bad inputs (the right error code), silence
(empty text), bad options and calls cancelled from a timer thread after a random delay
(cancelled, or finished with the right text). Exits 1 on any wrong result, 3 when no call
completes for a minute (a deadlock).
"""
import argparse
import collections
import os
import random
import sys
import threading
import time

import numpy as np

import stenograph

KINDS = ["clip", "empty", "not_audio", "header_only", "silence", "bad_language", "cancelled"]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--model", default="tiny.en")
    p.add_argument("clips", nargs="+")
    a = p.parse_args()
    t = stenograph.Transcriber(a.model)
    clips = [open(c, "rb").read() for c in a.clips]
    expected = [t.transcribe(c).text for c in clips]
    if not all(e.strip() for e in expected):
        print(f"stress: a clip gave no reference text: {expected}", file=sys.stderr)
        return 1
    counts: collections.Counter = collections.Counter()
    failures: list = []
    lock = threading.Lock()
    stop = threading.Event()
    start = time.monotonic()
    progress = [start]

    def want_error(kind, fn, code):
        try:
            fn()
        except stenograph.Error as e:
            if e.code == code or (code == "input" and isinstance(e, stenograph.DecodeError)):
                return e.code
            raise AssertionError(f"{kind}: expected {code}, got {type(e).__name__} {e.code}: {e}")
        raise AssertionError(f"{kind}: expected {code}, got a transcript")

    def one(kind, rng):
        n = rng.randrange(len(clips))
        if kind == "clip":
            text = t.transcribe(clips[n]).text
            assert text == expected[n], f"clip {n}: {text!r} != {expected[n]!r}"
            return "ok"
        if kind == "empty":
            return want_error(kind, lambda: t.transcribe(b""), "empty_input")
        if kind == "not_audio":
            return want_error(kind, lambda: t.transcribe(b"This is a text file, not a recording."),
                              "unknown_format")
        if kind == "header_only":
            return want_error(kind, lambda: t.transcribe(clips[n][:44]), "input")
        if kind == "silence":
            text = t.transcribe(np.zeros(32000, dtype=np.float32), sample_rate=16000).text
            assert text == "", f"silence gave {text!r}"
            return "ok"
        if kind == "bad_language":
            return want_error(kind, lambda: t.transcribe(clips[n], language="xx"), "invalid_argument")
        token = stenograph.CancelToken()
        timer = threading.Timer(rng.random() * 0.4, token.cancel)
        timer.start()
        try:
            text = t.transcribe(clips[n], cancel=token).text
        except stenograph.Cancelled:
            return "cancelled"
        finally:
            timer.cancel()
        assert text == expected[n], f"cancelled clip {n}: {text!r} != {expected[n]!r}"
        return "finished first"

    def worker(seed):
        rng = random.Random(seed)
        while not stop.is_set():
            kind = KINDS[rng.randrange(len(KINDS))] if rng.random() < 0.5 else "clip"
            try:
                how, failure = one(kind, rng), None
            except Exception as e:  # a wrong result of any kind is recorded, not fatal
                how, failure = None, f"{kind}: {type(e).__name__}: {e}"
            with lock:
                progress[0] = time.monotonic()
                if failure:
                    failures.append(failure)
                else:
                    counts[f"{kind}: {how}"] += 1

    threads = [threading.Thread(target=worker, args=(i + 1,), daemon=True) for i in range(a.threads)]
    for th in threads:
        th.start()
    while any(th.is_alive() for th in threads):
        time.sleep(0.2)
        now = time.monotonic()
        with lock:
            idle = now - progress[0]
        if idle > 60:
            print(f"stress: no call completed for {idle:.0f} s: deadlock", file=sys.stderr, flush=True)
            os._exit(3)
        if now - start >= a.seconds:
            stop.set()
    elapsed = time.monotonic() - start
    for what, n in sorted(counts.items()):
        print(f"{what:<32} {n:>6}")
    for f in failures[:20]:
        print(f"FAILED {f}")
    calls = sum(counts.values()) + len(failures)
    print(f"python: {a.threads} threads, {calls} calls in {elapsed:.0f} s ({calls / elapsed:.1f} calls/s), "
          f"{len(failures)} wrong: {'ok' if not failures else 'FAILED'}")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
