"""faster-whisper side of benches/src/bin/transcribe_compare.rs.

Usage: faster_whisper_bench.py CT2_DIR COMPUTE_TYPE WORKERS BEAM MODE WAV...
Loads the model once, transcribes the files with WORKERS Python threads (num_workers=WORKERS,
cpu_threads=1 each), English, temperature fallback as in its defaults, and prints JSON:
{"seconds": wall time of the transcriptions, "texts": [...]}. MODE `sequential` is
`WhisperModel.transcribe`; `batched` is `BatchedInferencePipeline` (its VAD cuts the audio into
chunks decoded 8 at a time; one worker with WORKERS CPU threads, files one after another).
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from faster_whisper import BatchedInferencePipeline, WhisperModel


def main() -> None:
    model_dir, compute_type, workers, beam = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    mode, files = sys.argv[5], sys.argv[6:]
    if mode == "batched":
        model = WhisperModel(model_dir, device="cpu", compute_type=compute_type,
                             cpu_threads=workers, num_workers=1)
        pipeline = BatchedInferencePipeline(model=model)
        workers = 1

        def run(path: str) -> str:
            segments, _ = pipeline.transcribe(path, language="en", beam_size=beam, batch_size=8)
            return "".join(s.text for s in segments).strip()
    else:
        model = WhisperModel(model_dir, device="cpu", compute_type=compute_type,
                             cpu_threads=1, num_workers=workers)

        def run(path: str) -> str:
            segments, _ = model.transcribe(path, language="en", beam_size=beam, best_of=beam)
            return "".join(s.text for s in segments).strip()

    run(files[0])  # warm-up, as the other side loads its model before timing
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        texts = list(pool.map(run, files))
    print(json.dumps({"seconds": time.perf_counter() - start, "texts": texts}))


if __name__ == "__main__":
    main()
