"""Transcribe WAV files with faster-whisper, greedy and English, as a parity reference.

Usage: faster_whisper_transcribe.py CT2_MODEL_DIR WAV... ; prints a JSON list of texts.
"""
import json
import sys

from faster_whisper import WhisperModel


def main() -> None:
    model = WhisperModel(sys.argv[1], device="cpu", compute_type="float32", cpu_threads=1)
    texts = []
    for wav in sys.argv[2:]:
        segments, _ = model.transcribe(
            wav,
            language="en",
            beam_size=1,
            best_of=1,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        texts.append("".join(s.text for s in segments).strip())
    print(json.dumps(texts))


if __name__ == "__main__":
    main()
