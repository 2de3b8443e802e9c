#!/usr/bin/env python3
"""Streams a WAV file to stenograph-server's realtime endpoint with the official OpenAI SDK
and prints the transcript as it arrives: partial text while each turn is spoken, the final
text when it ends.

    pip install openai websockets
    python realtime_file.py call.wav --url http://127.0.0.1:8080/v1 --key KEY --realtime

--realtime paces the audio at the speed it was recorded (as a live call would arrive);
without it the file is sent as fast as the server takes it. --json prints every server
event as one JSON line instead of text. --interim asks for Stenograph's interim transcripts
(the words not agreed on yet shown in brackets) instead of printing the deltas.
"""

import argparse
import array
import asyncio
import base64
import json
import sys
import time
import wave

from openai import AsyncOpenAI

RATE = 24_000
# Stenograph's interim transcript event, and the session `include` entry that asks for it.
INTERIM = "stenograph.input_audio_transcription.interim"


def read_wav(path):
    """Mono 16-bit samples at 24 kHz from a PCM WAV file (any rate, any channel count)."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            sys.exit(f"{path}: only 16-bit PCM WAV is read here (convert with ffmpeg -c:a pcm_s16le)")
        channels, rate = w.getnchannels(), w.getframerate()
        frames = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder != "little":
        frames.byteswap()
    mono = [sum(frames[i:i + channels]) / channels for i in range(0, len(frames), channels)]
    if rate == RATE:
        return array.array("h", (int(x) for x in mono))
    # Linear interpolation to 24 kHz (enough for speech).
    n = int(len(mono) * RATE / rate)
    out = array.array("h", bytes(2 * n))
    step = rate / RATE
    for i in range(n):
        pos = i * step
        j = int(pos)
        frac = pos - j
        nxt = mono[j + 1] if j + 1 < len(mono) else mono[j]
        out[i] = int(mono[j] + (nxt - mono[j]) * frac)
    return out


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wav")
    ap.add_argument("--url", default="http://127.0.0.1:8080/v1", help="the server's /v1 base URL")
    ap.add_argument("--key", default="none", help="API key (any text for an open server)")
    ap.add_argument("--language", default=None, help="ISO 639-1 code; detected when not given")
    ap.add_argument("--silence-ms", type=int, default=500, help="pause that ends a turn")
    ap.add_argument("--chunk-ms", type=int, default=100, help="audio per append")
    ap.add_argument("--realtime", action="store_true", help="send at the pace of the recording")
    ap.add_argument("--json", action="store_true", help="print server events as JSON lines")
    ap.add_argument("--interim", action="store_true",
                    help="ask for interim transcripts (words not agreed on yet, in brackets)")
    args = ap.parse_args()

    samples = read_wav(args.wav)
    client = AsyncOpenAI(base_url=args.url, api_key=args.key)
    async with client.realtime.connect(extra_query={"intent": "transcription"}, max_retries=0) as conn:
        session = {
            "type": "transcription",
            "audio": {"input": {
                "format": {"type": "audio/pcm", "rate": RATE},
                "transcription": {"model": "whisper-1", "language": args.language},
                "turn_detection": {"type": "server_vad", "silence_duration_ms": args.silence_ms},
            }},
        }
        if args.interim:
            session["include"] = [INTERIM]
        await conn.session.update(session=session)

        async def send():
            per = RATE * args.chunk_ms // 1000
            began = time.monotonic()
            for i in range(0, len(samples), per):
                piece = samples[i:i + per]
                if sys.byteorder != "little":
                    piece = array.array("h", piece)
                    piece.byteswap()
                await conn.input_audio_buffer.append(audio=base64.b64encode(piece.tobytes()).decode())
                if args.realtime:
                    ahead = (i + per) / RATE - (time.monotonic() - began)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
            # The last words, still in a turn, become final. The server answers events in
            # order: the answer to the repeated (unchanged) settings comes after every final.
            await conn.input_audio_buffer.commit()
            await conn.session.update(session=session)

        sender = asyncio.create_task(send())
        updates = 0
        async for event in conn:
            if args.json:
                print(json.dumps(event.to_dict()), flush=True)
            kind = event.type
            if kind == "session.updated":
                updates += 1
                if updates == 2:
                    break
            elif args.json:
                continue
            elif kind == "conversation.item.input_audio_transcription.delta" and not args.interim:
                print(f"  … {event.delta}", flush=True)
            elif kind == INTERIM:
                e = event.to_dict()
                print(f"  … {e['stable']} [{e['unstable']}]", flush=True)
            elif kind == "conversation.item.input_audio_transcription.completed":
                if event.transcript:
                    print(event.transcript, flush=True)
            elif kind == "error" and event.error.code != "input_audio_buffer_commit_empty":
                print(f"error {event.error.code}: {event.error.message}", file=sys.stderr, flush=True)
        await sender


if __name__ == "__main__":
    asyncio.run(main())
