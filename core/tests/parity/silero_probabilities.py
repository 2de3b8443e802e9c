"""Silero VAD speech probabilities as faster-whisper computes them (its own ONNX Runtime
session over its bundled weights), for little-endian f32 16 kHz samples read from a file.

Usage: silero_probabilities.py SAMPLES.f32  ->  a JSON list of floats on stdout, one per
512-sample chunk (the last chunk padded with zeros).
"""
import json
import sys

import numpy as np
from faster_whisper.vad import get_vad_model

audio = np.fromfile(sys.argv[1], dtype="<f4")
audio = np.pad(audio, (0, (-len(audio)) % 512))
probs = get_vad_model()(audio).reshape(-1)
json.dump([float(p) for p in probs], sys.stdout)
