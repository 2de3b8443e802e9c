"""Hotwords: rare names spelled as listed, in calls, batches and live streams; bad lists refused."""

import pytest

import stenograph
from conftest import read_wav, speak, words

NAMES = (
    "Good morning, this is Siobhan Kowalczyk from Zyxtera. I wanted to follow up on the "
    "Quantivo renewal with Mister Okonkwo before Thursday. Our competitor Brightmesh offered "
    "Nakamura Logistics a lower price, but Stenograph still wins on accuracy."
)
TERMS = [
    "Siobhan Kowalczyk", "Zyxtera", "Quantivo", "Okonkwo", "Brightmesh", "Nakamura Logistics",
    "Stenograph",
]


def spelled(text: str) -> int:
    said = " ".join(words(text))
    return sum(" ".join(words(t)) in said for t in TERMS)


@pytest.fixture(scope="session")
def names_wav(speech_dir):
    return speak(speech_dir / "names.wav", NAMES)


def test_listed_names_come_out_spelled(transcriber, names_wav):
    plain = transcriber.transcribe(str(names_wav)).text
    biased = transcriber.transcribe(str(names_wav), hotwords=TERMS).text
    assert spelled(plain) <= 1, plain
    assert spelled(biased) >= 3, biased
    [batched] = transcriber.transcribe_batch([str(names_wav)], hotwords=TERMS)
    assert spelled(batched.text) >= 3, batched.text


def test_a_live_stream_takes_them_too(transcriber, names_wav):
    frames, rate = read_wav(names_wav)
    stream = transcriber.stream(hotwords=TERMS)
    finals = []
    for i in range(0, len(frames), rate // 10):
        stream.push(frames[i : i + rate // 10, 0].astype("<i2").tobytes(), rate)
        finals += [e.text for e in iter(stream.poll, None) if e.type == "final"]
    stream.finish()
    finals += [e.text for e in iter(stream.poll, None) if e.type == "final"]
    assert spelled(" ".join(finals)) >= 3, finals


@pytest.mark.parametrize(
    "terms, message",
    [
        (["Acme, Inc."], "comma"),
        (["x" * 65], "longer than 64"),
        ([f"t{i}" for i in range(101)], "101 hotwords"),
        ([f"Xqzvyl{i}Wbrkt Pqoxz{i}" for i in range(60)], "tokens"),
    ],
)
def test_bad_lists_are_refused(transcriber, names_wav, terms, message):
    with pytest.raises(stenograph.InvalidArgument, match=message):
        transcriber.transcribe(str(names_wav), hotwords=terms)


def test_a_string_is_not_a_list(transcriber, names_wav):
    with pytest.raises(TypeError):
        transcriber.transcribe(str(names_wav), hotwords="Zyxtera")
