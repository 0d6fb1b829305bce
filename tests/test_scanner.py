"""Scanner over a generated tree: nested folders, unicode, symlink loop, bad files, hidden files."""

from __future__ import annotations

import os
import shutil
import time

import mutagen
import pytest
from media import make_audio

from genre_desktop.cancel import CancelToken
from genre_desktop.library import scanner as scanner_mod
from genre_desktop.library.scanner import scan, scan_paths
from genre_desktop.library.store import Store
from genre_desktop.core.status import ERROR, PREDICTED


def run(gen):
    """Drive a scan generator to the end; returns (progress list, summary)."""
    seen = []
    while True:
        try:
            seen.append(next(gen))
        except StopIteration as stop:
            return seen, stop.value


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("masters")
    return {ext: make_audio(folder / f"m{ext}", seconds=0.5, tags={"title": "T", "artist": "A", "genre": ["Rock"]})
            for ext in (".flac", ".mp3", ".ogg", ".wav")}


@pytest.fixture
def tree(tmp_path, masters):
    root = tmp_path / "lib"
    good = {
        "Artist A/Album 1/01 first.flac": ".flac",
        "Artist A/Album 1/02 second.mp3": ".mp3",
        "Ünïcødé/日本語の歌.ogg": ".ogg",
        "deep/a/b/c/d.wav": ".wav",
        "readonly.flac": ".flac",
    }
    for rel, ext in good.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(masters[ext], root / rel)
    os.chmod(root / "readonly.flac", 0o444)
    os.symlink("..", root / "deep/a/loop")  # deep/a/loop -> deep: a loop
    os.symlink(root / "Artist A", root / "deep/again")  # a second way into a visited folder
    (root / "empty.mp3").write_bytes(b"")
    (root / "truncated.mp3").write_bytes(masters[".mp3"].read_bytes()[:300])
    (root / "text.flac").write_text("this is not audio, just a renamed text file\n" * 20)
    (root / ".hidden.mp3").write_bytes(masters[".mp3"].read_bytes())
    (root / ".hiddendir").mkdir()
    shutil.copy(masters[".mp3"], root / ".hiddendir/x.mp3")
    (root / "notes.txt").write_text("not audio")
    (root / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(masters[".ogg"], outside / "linked.ogg")
    os.symlink(outside, root / "elsewhere")
    return root


def test_first_scan_finds_reads_and_reports(tree):
    store = Store.open(tree.parent / "s.json")
    progress, summary = run(scan(tree, store, progress_interval=0))
    paths = {os.path.relpath(t.path, tree) for t in store.all()}
    assert paths == {"Artist A/Album 1/01 first.flac", "Artist A/Album 1/02 second.mp3", "Ünïcødé/日本語の歌.ogg",
                     "deep/a/b/c/d.wav", "readonly.flac", "empty.mp3", "truncated.mp3", "text.flac",
                     "elsewhere/linked.ogg"}
    assert (summary.found, summary.new, summary.changed, summary.unchanged) == (9, 9, 0, 0)
    reasons = {os.path.basename(p): r for p, r in summary.unreadable}
    assert set(reasons) == {"empty.mp3", "truncated.mp3", "text.flac"}
    assert reasons["empty.mp3"] == "empty file" and all(reasons.values())
    good = store.get(str(tree / "Artist A/Album 1/01 first.flac"))
    assert good.genres == ["Rock"] and good.artist == "A" and good.format == "flac"
    assert good.duration == pytest.approx(0.5, abs=0.1) and good.samplerate and good.status != ERROR
    bad = store.get(str(tree / "text.flac"))
    assert bad.status == ERROR and bad.error == reasons["text.flac"]
    assert progress[-1].done == progress[-1].total == 9
    assert any(p.total is None for p in progress)  # the listing phase reports too
    store.close()
    assert len(Store.open(tree.parent / "s.json")) == 9


def test_rescan_skips_unchanged_rereads_changed_flags_missing(tree, monkeypatch):
    store = Store.open(tree.parent / "s.json")
    run(scan(tree, store))
    victim = str(tree / "Artist A/Album 1/02 second.mp3")
    store.update(victim, prediction={"genres": [{"genre": "rock", "probability": 0.9}]}, status=PREDICTED)
    opened = []
    real = scanner_mod.read_tags
    monkeypatch.setattr(scanner_mod, "read_tags", lambda p, *a: (opened.append(p), real(p, *a))[1])

    _, again = run(scan(tree, store))
    assert opened == [] and (again.new, again.changed, again.unchanged) == (0, 0, 9)
    assert len(again.unreadable) == 3  # still reported, from the store

    changed = tree / "Ünïcødé/日本語の歌.ogg"
    audio = mutagen.File(changed)
    audio["genre"] = ["Jazz", "Blues"]
    audio.save()
    os.utime(changed, (time.time() + 5, time.time() + 5))
    os.remove(victim)
    _, third = run(scan(tree, store))
    assert opened == [str(changed)]
    assert (third.changed, third.unchanged, third.removed) == (1, 7, 1)
    assert store.get(str(changed)).genres == ["Jazz", "Blues"]
    gone = store.get(victim)
    assert gone.missing and gone.predicted_genre == "rock"  # predictions are kept
    _, fourth = run(scan(tree, store))
    assert fourth.removed == 0  # already flagged
    assert store.remove_missing() == [victim] and victim not in store


def test_unreadable_file_that_is_fixed_becomes_readable(tree, masters):
    store = Store.open(tree.parent / "s.json")
    run(scan(tree, store))
    fixed = tree / "text.flac"
    shutil.copy(masters[".flac"], fixed)
    os.utime(fixed, (time.time() + 5, time.time() + 5))
    _, summary = run(scan(tree, store))
    assert summary.changed == 1
    track = store.get(str(fixed))
    assert track.status != ERROR and track.error is None and track.genres == ["Rock"]


def test_permission_denied_is_recorded(tree, monkeypatch):
    blocked = str(tree / "readonly.flac")
    if os.geteuid() != 0:
        os.chmod(blocked, 0)
    else:  # root reads everything: make the tag reader meet the error a normal user would get
        real = scanner_mod.read_tags

        def deny(path, *args):
            if path == blocked:
                raise PermissionError(13, "Permission denied", path)
            return real(path, *args)

        monkeypatch.setattr(scanner_mod, "read_tags", deny)
    store = Store.open(tree.parent / "s.json")
    _, summary = run(scan(tree, store))
    reasons = dict(summary.unreadable)
    assert "permission denied" in reasons[blocked].lower()
    assert store.get(blocked).status == ERROR
    os.chmod(blocked, 0o444)


def test_cancel_mid_scan_keeps_a_consistent_store(tree):
    path = tree.parent / "s.json"
    store = Store.open(path)
    token = CancelToken()
    gen = scan(tree, store, token, batch_size=2, progress_interval=0)
    seen = []
    for p in gen:
        seen.append(p)
        if p.done == 4:
            token.cancel()
    assert seen[-1].done == 4
    store.close()
    reopened = Store.open(path)
    assert len(reopened) == 4  # everything read before the cancel was saved, nothing half
    assert all(t.size > 0 or t.status == ERROR for t in reopened.all())
    _, rest = run(scan(tree, reopened))
    assert (rest.new, rest.unchanged) == (5, 4) and len(reopened) == 9


def test_cancel_during_listing_flags_nothing_missing(tree):
    store = Store.open(tree.parent / "s.json")
    run(scan(tree, store))
    token = CancelToken()
    token.cancel()
    _, summary = run(scan(tree, store, token))
    assert summary.cancelled and summary.removed == 0
    assert not any(t.missing for t in store.all())


def test_closing_the_generator_saves_what_was_read(tree):
    store = Store.open(tree.parent / "s.json")
    gen = scan(tree, store, batch_size=100, progress_interval=0)
    for p in gen:
        if p.done == 3:
            break
    gen.close()
    assert len(Store.open(tree.parent / "s.json")) == 3


def test_scan_paths_reads_single_files(tree):
    store = Store.open(tree.parent / "s.json")
    summary = scan_paths([str(tree / "readonly.flac"), str(tree / "nope.mp3"), str(tree / "notes.txt")], store)
    assert summary.new == 1 and len(store) == 1
    assert {os.path.basename(p) for p, _ in summary.unreadable} == {"nope.mp3", "notes.txt"}


def test_missing_root_is_an_error(tmp_path):
    with pytest.raises(NotADirectoryError):
        run(scan(tmp_path / "nope", Store.open(tmp_path / "s.json")))


SCANNER = r"""
import sys
from genre_desktop.library.scanner import scan
from genre_desktop.library.store import Store
store = Store.open(sys.argv[1])
print("ready", flush=True)
for p in scan(sys.argv[2], store, batch_size=15, progress_interval=0):
    if p.total is not None:
        print(p.done, flush=True)
print("finished", flush=True)
"""


def test_sigkill_during_a_scan_then_rescan_completes(tmp_path, masters):
    """Kill scans at random moments (fixed seed): the store opens clean and the next scan finishes the job."""
    import random
    import signal
    import subprocess
    import sys

    rng = random.Random(42)
    root = tmp_path / "big"
    exts = list(masters)
    for i in range(300):
        target = root / f"folder{i // 15:02d}" / f"{i:03d}{exts[i % len(exts)]}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(masters[exts[i % len(exts)]], target)
    path = tmp_path / "s.json"
    kills, previous = 0, 0
    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-c", SCANNER, str(path), str(root)], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        kill_at = rng.randint(1, 120)  # the scan is killed while it works on about this file
        for line in child.stdout:
            if line.strip() == str(kill_at) or line.strip() == "finished":
                break
        child.send_signal(signal.SIGKILL)
        kills += child.wait() == -signal.SIGKILL
        child.stdout.close()
        store = Store.open(path)
        assert store.recovered_from == []
        assert all(t.genres == ["Rock"] and t.size > 0 and t.duration for t in store.all())
        assert len(store) >= previous
        previous = len(store)
        store.close()
    store = Store.open(path)
    _, summary = run(scan(root, store))
    assert summary.new + summary.unchanged == 300 and len(store) == 300 and not summary.unreadable
    assert kills == 4
