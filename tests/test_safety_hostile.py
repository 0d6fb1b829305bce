"""The hostile corpus (tests/hostile.py) through scan, analyse and write: no crash, no hang, every
file accounted for with a reason, no file damaged; and clear errors for broken model folders."""

from __future__ import annotations

import hashlib
import json
import shutil
import time

import numpy as np
import pytest
from hostile import make_corpus

from genre_desktop.audio import DecodeError, decode, probe
from genre_desktop.cli import main
from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.core.status import ERROR
from genre_desktop.paths import bundled_models_dir

PER_FILE_SECONDS = 30.0  # generous on a loaded 2-core machine; a hang would take far longer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return folder, make_corpus(folder)


@pytest.fixture(scope="module")
def scanned(corpus, tmp_path_factory):
    folder, cases = corpus
    store_path = tmp_path_factory.mktemp("hostile-store") / "library.json"
    store = Store.open(store_path)
    gen = scan(folder, store)
    started = time.monotonic()
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            summary = stop.value
            break
    elapsed = time.monotonic() - started
    store.close()
    return store_path, summary, elapsed


def fingerprint(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def audio_sample(path) -> list[np.ndarray] | str:
    """Decoded audio at the native rate (first 10 s and 5 s from the middle), or the decode error."""
    try:
        info = probe(path)
        return [decode(path, sr=info.samplerate, duration=10.0),
                decode(path, sr=info.samplerate, offset=info.duration / 2, duration=5.0)]
    except DecodeError as exc:
        return f"error: {exc.reason}"


def test_the_corpus_is_small_on_disk(corpus):
    folder, cases = corpus
    ten_hours = cases["ten_hours.wav"].path
    assert ten_hours.stat().st_size > 500_000_000  # really 10 hours of 8 kHz 16-bit audio...
    assert ten_hours.stat().st_blocks * 512 < 1_000_000  # ...stored sparse
    assert probe(ten_hours).duration == pytest.approx(36000)


def test_scan_accounts_for_every_file_with_a_reason(corpus, scanned):
    folder, cases = corpus
    store_path, summary, elapsed = scanned
    assert elapsed < PER_FILE_SECONDS * len(cases)
    store = Store.open(store_path)  # reopening proves the odd names round-trip through JSON
    paths = set(store.paths())
    assert paths == {str(c.path) for c in cases.values()}  # the folder named .mp3 is not a track
    assert summary.found == len(cases)
    unreadable = dict(summary.unreadable)
    for name, case in cases.items():
        track = store.get(str(case.path))
        if track.status == ERROR:
            assert track.error and unreadable[str(case.path)] == track.error, name
        else:  # usable; a note says what is wrong beside it (tags unreadable, MP3 cut short)
            assert track.duration is not None and str(case.path) not in unreadable, name
            assert track.error is None or track.error.startswith(("tags unreadable", "truncated")), name
    for name in ("zero.mp3", "text.flac", "truncated.flac", "sync_garbage.mp3", "zero_seconds.wav",
                 "gigabyte_of_zeros.mp3"):
        assert store.get(str(cases[name].path)).status == ERROR, name
    for name in ("ten_hours.wav", "rate_8k.wav", "rate_192k.flac", "eight_channels.wav", "wav_named.mp3",
                 "flac_named.ogg", "bad-name.flac"):
        if name in cases:
            assert store.get(str(cases[name].path)).status != ERROR, (name, store.get(str(cases[name].path)).error)
    assert store.get(str(cases["ten_hours.wav"].path)).duration == pytest.approx(36000)
    # tags mutagen cannot parse, audio that decodes: in the library to play, analyse and review
    broken = store.get(str(cases["broken_vorbis.flac"].path))
    assert broken.status != ERROR and broken.duration and broken.error.startswith("tags unreadable (damaged FLAC")
    assert "genres cannot be written" in broken.error
    store.close()


def test_analysis_of_every_file_ends_in_bounded_time_with_a_result_or_a_reason(corpus):
    from genre_desktop.inference.analyzer import Analyzer

    folder, cases = corpus
    analyzer = Analyzer(musicnn=False, threads=1)
    for name, case in cases.items():
        started = time.monotonic()
        prediction = analyzer.analyze(case.path).prediction
        took = time.monotonic() - started
        assert took < PER_FILE_SECONDS, (name, took)
        if prediction.error:
            assert isinstance(prediction.error, str) and prediction.error.strip(), name
        else:
            assert prediction.genres and abs(sum(p for _, p in prediction.genres) - 1) < 1e-3, name
    assert analyzer.analyze(cases["zero.mp3"].path).prediction.error
    started = time.monotonic()
    assert "not an audio file" in analyzer.analyze(cases["gigabyte_of_zeros.mp3"].path).prediction.error
    assert time.monotonic() - started < 3  # refused from its first bytes, not read through
    assert "silent" in analyzer.analyze(cases["ten_hours.wav"].path).prediction.error


def test_writing_every_file_damages_none_and_undo_restores_all(corpus, scanned, tmp_path):
    folder, cases = corpus
    store_path, _, _ = scanned
    work = tmp_path / "copy"
    make_corpus(work)  # a fresh corpus (a copy would make the sparse files real on disk)
    store = Store.open(tmp_path / "library.json")
    gen = scan(work, store)
    for _ in gen:
        pass
    paths = sorted(store.paths())
    before = {p: (fingerprint(p), audio_sample(p)) for p in paths}
    service = TagService(store, Journal(tmp_path / "journal.jsonl"))
    started = time.monotonic()
    results = service.write({p: ["Hostile Genre"] for p in paths})
    assert time.monotonic() - started < PER_FILE_SECONDS * len(paths)
    assert len(results) == len(paths)
    written = {r.path for r in results if r.ok}
    for r in results:
        sha, audio = before[r.path]
        if not r.ok:
            assert r.error and r.error.strip()
            assert fingerprint(r.path) == sha, ("a refused write changed the file", r.path)
            continue
        assert_same_audio(audio, audio_sample(r.path), r.path)
    # Files whose audio decodes and whose tags mutagen can parse must all take the genre.
    must = {str(cases[n].path).replace(str(folder), str(work)) for n in
            ("rate_8k.wav", "rate_192k.flac", "one_channel.ogg", "eight_channels.wav", "wav_named.mp3",
             "flac_named.ogg", "ten_hours.wav", "bad-name.flac", "odd_atom.m4a", "truncated_atom.m4a") if n in cases}
    assert must <= written, {r.path: r.error for r in results if r.path in must and not r.ok}
    undone = service.undo()
    assert {r.path for r in undone} == written and all(r.ok for r in undone), [r.error for r in undone if not r.ok]
    for path in written:
        assert_same_audio(before[path][1], audio_sample(path), path)
        assert store.get(path).genres == Store.open(store_path).get(
            path.replace(str(work), str(folder))).genres
    assert not [p for p in work.rglob(".*.tmp") if ".masters" not in p.parts]
    service.journal.close()
    store.close()


def assert_same_audio(before, after, path):
    if isinstance(before, str):  # undecodable before: still the same reason after
        assert isinstance(after, str), path
        return
    assert not isinstance(after, str), (path, after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b, err_msg=str(path))


# ------------------------------------------------------------------ model folders
@pytest.fixture
def models(tmp_path):
    src = bundled_models_dir()
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["models"] = [m for m in manifest["models"] if m["kind"] == "classical"]
    folder = tmp_path / "models"
    folder.mkdir()
    for m in manifest["models"]:
        shutil.copy(src / m["file"], folder / m["file"])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize("damage, message", [
    ("missing", "svm.onnx is missing"),
    ("truncated", "is truncated"),
    ("wrong_shape", "does not match"),
    ("no_manifest", "no model manifest"),
])
def test_classify_with_a_broken_model_folder_says_why_and_exits_2(models, tmp_path, capsys, damage, message):
    from media import make_audio

    song = make_audio(tmp_path / "a.wav", seconds=2.0, signal="noise")
    manifest = json.loads((models / "manifest.json").read_text())
    if damage == "missing":
        (models / "svm.onnx").unlink()
    elif damage == "truncated":
        data = (models / "svm.onnx").read_bytes()
        (models / "svm.onnx").write_bytes(data[: len(data) // 2])
    elif damage == "wrong_shape":
        for m in manifest["models"]:
            if m["name"] == "knn":
                m["inputs"] = {name: [None, 20] for name in m["inputs"]}
        (models / "manifest.json").write_text(json.dumps(manifest))
    else:
        (models / "manifest.json").unlink()
    started = time.monotonic()
    assert main(["classify", "--models", str(models), str(song)]) == 2
    err = capsys.readouterr().err
    assert "cannot load the models" in err and message in err, err
    assert time.monotonic() - started < PER_FILE_SECONDS
