"""Every kind of input gives the same transcript; options and output formats."""

import io
import json
import pathlib

import numpy as np
import pytest

import stenograph
from conftest import SENTENCES, read_wav, words


def test_path_and_result_shape(transcriber, clip):
    tr = transcriber.transcribe(str(clip))
    assert words(tr.text) == words(SENTENCES[0])
    assert tr.language == "en"
    assert tr.language_probability == 1.0
    assert 2.0 < tr.duration < 6.0
    assert tr.segments and tr.segments[0].id == 0
    seg = tr.segments[0]
    assert 0.0 <= seg.start < seg.end <= tr.duration + 0.01
    assert seg.tokens and isinstance(seg.tokens[0], int)
    assert -2.0 < seg.avg_logprob <= 0.0
    assert seg.words == []
    assert "Transcript(" in repr(tr) and "Segment(" in repr(seg)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: pathlib.Path(p),
        lambda p: p.read_bytes(),
        lambda p: bytearray(p.read_bytes()),
        lambda p: memoryview(p.read_bytes()),
        lambda p: io.BytesIO(p.read_bytes()),
        lambda p: open(p, "rb"),
    ],
    ids=["pathlib", "bytes", "bytearray", "memoryview", "BytesIO", "file"],
)
def test_encoded_inputs(transcriber, clip, make):
    source = make(clip)
    try:
        tr = transcriber.transcribe(source)
    finally:
        if hasattr(source, "close"):
            source.close()
    assert words(tr.text) == words(SENTENCES[0])


def test_sample_arrays(transcriber, clip):
    pcm, rate = read_wav(clip)
    mono16 = pcm[:, 0].copy()
    mono32 = mono16.astype(np.float32) / 32768.0
    stereo = np.stack([mono32, -mono32], axis=1)  # cancelling channels
    for samples in (mono16, mono32, stereo):
        tr = transcriber.transcribe(samples, sample_rate=rate)
        assert words(tr.text) == words(SENTENCES[0]), samples.dtype
        assert abs(tr.duration - len(mono16) / rate) < 0.01


def test_word_timestamps_and_options(transcriber, clip):
    tr = transcriber.transcribe(clip, language="en", word_timestamps=True, beam_size=5)
    assert words(tr.text) == words(SENTENCES[0])
    all_words = [w for s in tr.segments for w in s.words]
    assert [w.word.strip(" .").lower() for w in all_words][:3] == ["please", "call", "the"]
    for w in all_words:
        assert 0.0 <= w.start <= w.end <= tr.duration + 0.01
        assert 0.0 < w.probability <= 1.0
    segs = transcriber.transcribe(clip, max_segment_chars=12).segments
    assert len(segs) >= 3
    assert transcriber.model == "tiny.en" and transcriber.multilingual is False


def test_progress_and_segment_callbacks(transcriber, long_speech):
    progress, segments = [], []
    tr = transcriber.transcribe(
        long_speech, on_progress=progress.append, on_segment=segments.append
    )
    assert progress[-1] == 100 and progress == sorted(progress)
    assert [s.text for s in segments] == [s.text for s in tr.segments]


def test_formats(transcriber, clip):
    tr = transcriber.transcribe(clip)
    assert tr.to_srt().startswith("1\n00:00:")
    assert tr.to_vtt().startswith("WEBVTT")
    assert json.loads(tr.render("json")) == {"text": tr.text}
    d = tr.to_dict()
    assert json.loads(tr.to_json()) == d
    for name, method in [("srt", tr.to_srt), ("vtt", tr.to_vtt), ("tsv", tr.to_tsv), ("text", tr.to_text)]:
        assert tr.render(name) == method()
    assert tr.task == "transcribe" and tr.warnings == []
    assert all(s.temperature == 0.0 for s in tr.segments)
    assert d["text"] == tr.text and d["language"] == "english"
    assert d["task"] == "transcribe" and d["segments"][0]["text"] == tr.segments[0].text
    assert json.loads(tr.to_verbose_json()) == d
    assert tr.to_text().strip() == "\n".join(s.text.strip() for s in tr.segments)
    assert tr.to_tsv().startswith("start\tend\ttext\n")


def test_batch(transcriber, clips):
    out = transcriber.transcribe_batch([str(c) for c in clips] + [clips[0].read_bytes()])
    assert [words(t.text) for t in out] == [words(s) for s in SENTENCES] + [words(SENTENCES[0])]
    with pytest.raises(stenograph.DecodeError):
        transcriber.transcribe_batch([str(clips[0]), b""])
