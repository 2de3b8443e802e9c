"""Seed corpora for the fuzz targets, made from scratch:

- decode: a short espeak-ng phrase in every container and codec the core reads (ffmpeg, sox),
  plus for each a truncation to half, to its header, and three bit-flipped copies;
- model: a ggml Whisper header with tiny hyper-parameters, mel filters, a vocabulary and
  one tensor record, truncated at several points;
- ct2_import: a small CTranslate2 index with Whisper's variable names, and truncations;
- c_api: the decode seeds behind a 24-byte argument header (memory and PCM calls).

    python3 fuzz/seeds.py            # writes fuzz/corpus/<target>/
"""

import random
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
FORMATS = {
    "pcm16.wav": ["-c:a", "pcm_s16le"],
    "f32.wav": ["-c:a", "pcm_f32le"],
    "u8.wav": ["-c:a", "pcm_u8"],
    "alaw.wav": ["-c:a", "pcm_alaw"],
    "mulaw.wav": ["-c:a", "pcm_mulaw"],
    "s24.aiff": ["-c:a", "pcm_s24be"],
    "flac": ["-c:a", "flac"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "32k"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "0"],
    "opus": ["-c:a", "libopus", "-b:a", "16k"],
    "m4a": ["-c:a", "aac", "-b:a", "32k"],
    "adts.aac": ["-c:a", "aac", "-b:a", "32k", "-f", "adts"],
    "mka": ["-c:a", "libvorbis", "-q:a", "0"],
    "webm": ["-c:a", "libopus", "-b:a", "16k"],
    "caf": ["-c:a", "pcm_s16le"],
}


def variants(data: bytes, rng: random.Random):
    yield "", data
    yield ".half", data[: len(data) // 2]
    yield ".head", data[: min(len(data), 64)]
    for i in range(3):
        b = bytearray(data)
        for _ in range(1 + i * 2):
            pos = rng.randrange(len(b))
            b[pos] ^= 1 << rng.randrange(8)
        yield f".flip{i}", bytes(b)


def write(target: str, name: str, data: bytes):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def audio(rng):
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(raw), "call me back"], check=True)
        for ext, codec in FORMATS.items():
            out = Path(tmp) / f"s.{ext}"
            cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(raw), "-t", "0.6", "-ar", "16000", "-ac", "1", *codec, str(out)]
            subprocess.run(cmd, check=True)
            data = out.read_bytes()
            for suffix, v in variants(data, rng):
                write("decode", f"{ext}{suffix}", v)
                if not suffix:
                    write("c_api", f"mem-{ext}", struct.pack("<6I", 0, 0, 1, 0, 0, 0) + v)
        pcm = struct.pack("<800f", *[0.3 * ((i % 40) / 20 - 1) for i in range(800)])
        for rate, ch in [(16000, 1), (8000, 2), (48000, 1), (0, 1), (16000, 0)]:
            write("c_api", f"pcm-{rate}-{ch}", struct.pack("<6I", 1, 0, 0, 0, 0, 0) + struct.pack("<2I", rate, ch) + pcm)


def ggml_header():
    """A ggml Whisper header with tiny hyper-parameters, its mel filters and vocabulary
    count; enough for the loader's checks to walk every field."""
    h = struct.pack("<I", 0x67676D6C)  # "ggml"
    h += struct.pack("<11i", 51864, 1500, 64, 2, 2, 448, 64, 2, 2, 80, 1)
    h += struct.pack("<2i", 80, 201) + b"\0" * (80 * 201 * 4)
    h += struct.pack("<i", 3) + b"".join(struct.pack("<I", len(t)) + t for t in [b"a", b"b", b"c"])
    name = b"encoder.conv1.bias"
    h += struct.pack("<3i", 2, len(name), 1) + struct.pack("<2i", 1, 64) + name + b"\0" * 256
    return h


def models():
    h = ggml_header()
    for cut in [len(h), 4, 48, 60, 1000, len(h) - 100]:
        write("model", f"ggml-{cut}", h[:cut])


def ct2():
    def s(x: bytes):
        return struct.pack("<H", len(x) + 1) + x + b"\0"

    def var(name, shape, dtype=0, fill=0.0):
        n = 1
        for d in shape:
            n *= d
        size = {0: 4, 1: 1, 3: 4, 4: 2}[dtype]
        body = struct.pack(f"<{n}f", *([fill] * n)) if dtype == 0 else b"\0" * (n * size)
        return s(name.encode()) + struct.pack("<B", len(shape)) + struct.pack(f"<{len(shape)}I", *shape) + struct.pack("<BI", dtype, n * size) + body

    vs = [
        var("decoder/embeddings/weight", [16, 8]),
        var("encoder/position_encodings/encodings", [10, 8]),
        var("decoder/position_encodings/encodings", [10, 8]),
        var("encoder/conv1/weight", [8, 4, 3]),
        var("encoder/num_heads", [1], 3),
        var("encoder/layer_0/self_attention/linear_0/weight", [24, 8], 4),
        var("decoder/layer_0/self_attention/linear_0/weight", [24, 8], 1),
    ]
    for version in (5, 6):
        data = struct.pack("<I", version) + s(b"WhisperSpec") + struct.pack("<II", 3, len(vs)) + b"".join(vs)
        data += struct.pack("<I", 1) + s(b"decoder/projection/weight") + s(b"decoder/embeddings/weight")
        write("ct2_import", f"whisper-v{version}", data)
        for cut in (4, 20, len(data) // 2):
            write("ct2_import", f"whisper-v{version}-{cut}", data[:cut])


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    rng = random.Random(1)
    audio(rng)
    models()
    ct2()
    for d in sorted(CORPUS.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} seeds")


if __name__ == "__main__":
    sys.exit(main())
