"""Soak through the Python binding: the Rust soak (benches/src/bin/soak.rs) call for call.

Usage: soak.py [--calls N] [--every K] [--warmup W] [--tolerance PCT] [--model NAME] CLIP...
Prints one `python CALLS RSS_MIB` line per K calls and a verdict line; exits 1 when the RSS at
the end exceeds the RSS after W calls by more than PCT percent, or a transcript changes.
"""
import argparse
import gc
import sys

import stenograph


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--every", type=int, default=50)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--tolerance", type=float, default=5.0)
    p.add_argument("--model", default="tiny.en")
    p.add_argument("clips", nargs="+")
    a = p.parse_args()
    t = stenograph.Transcriber(a.model)
    clips = [open(c, "rb").read() for c in a.clips]
    expected = [None] * len(clips)
    baseline = float("nan")
    for call in range(1, a.calls + 1):
        n = (call - 1) % len(clips)
        text = t.transcribe(clips[n], word_timestamps=True).text
        if expected[n] is None:
            if not text.strip():
                print(f"soak: clip {a.clips[n]} gave no text", file=sys.stderr)
                return 1
            expected[n] = text
        elif text != expected[n]:
            print(f"soak: call {call}: {text!r} differs from {expected[n]!r}", file=sys.stderr)
            return 1
        if call == a.warmup:
            gc.collect()
            baseline = rss_mib()
        if call % a.every == 0 or call == a.calls:
            gc.collect()
            print(f"python {call} {rss_mib():.1f}", flush=True)
    gc.collect()
    end = rss_mib()
    growth = (end - baseline) / baseline * 100
    ok = growth <= a.tolerance
    print(f"python: {a.calls} calls, RSS {baseline:.1f} MiB after {a.warmup} calls, {end:.1f} MiB "
          f"at the end ({growth:+.2f}%, limit {a.tolerance:+.1f}%): {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
