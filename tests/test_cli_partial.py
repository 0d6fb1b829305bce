"""Partial success is success (issue 19 item 4): ``scan``, ``analyze``, ``accept`` and ``write`` exit 0
when they finished and skipped files with a reason (listed, counted), 3 only with ``--strict``;
``accept --dry-run``; ``reset`` takes decisions back; the README's cron line goes through a library
with an unreadable file, end to end with the real models."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from media import make_audio
from helpers import cli

from genre_desktop.core.prediction import Prediction
from genre_desktop.core.status import ACCEPTED, PREDICTED
from genre_desktop.library.store import Store
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres

ROOT = Path(__file__).resolve().parent.parent


def predicted_library(tmp_path, capsys):
    """A scanned library whose tracks carry predictions (no models needed)."""
    root = tmp_path / "music"
    files = {"a": make_audio(root / "a.flac", seconds=0.5, tags={"genre": "Rock"}),
             "b": make_audio(root / "b.mp3", seconds=0.5, tags={"genre": "Pop"}),
             "c": make_audio(root / "c.au", seconds=0.5)}
    store = str(tmp_path / "lib.json")
    assert cli(capsys, "scan", str(root), "--store", store)[0] == 0
    with Store.open(store) as s:
        for (name, path), (genre, p) in zip(sorted(files.items()), (("jazz", 0.95), ("blues", 0.6), ("jazz", 0.9))):
            s.update(str(path), status=PREDICTED,
                     prediction=Prediction(str(path), genres=[(genre, p), ("rock", round(1 - p, 2))]))
    return store, {k: str(v) for k, v in files.items()}


def statuses(store):
    with Store.open(store) as s:
        return {Path(t.path).stem: (t.status, t.chosen) for t in s.all()}


def test_accept_dry_run_then_accept_reset_and_write_with_a_file_that_cannot_be_written(tmp_path, capsys):
    store, files = predicted_library(tmp_path, capsys)
    code, out, _ = cli(capsys, "accept", "--above", "0.8", "--store", store, "--dry-run")
    assert code == 0 and f"would accept {files['a']}: jazz (95%)" in out and "Would accept 2 of 3" in out
    assert statuses(store)["a"] == (PREDICTED, None)  # a dry run changes nothing
    code, out, _ = cli(capsys, "accept", "--above", "0.5", "--store", store)
    assert code == 0 and "Accepted 3 of 3" in out
    code, out, _ = cli(capsys, "reset", "--genre", "blues", "--store", store, "--dry-run")
    assert code == 0 and f"would take back {files['b']}: blues (accepted)" in out and statuses(store)["b"][0] == ACCEPTED
    code, out, _ = cli(capsys, "unaccept", "--genre", "blues", "--store", store)
    assert code == 0 and "Took back 1 decision(s)" in out
    assert statuses(store)["b"] == (PREDICTED, None) and statuses(store)["a"] == (ACCEPTED, ["jazz"])

    code, out, _ = cli(capsys, "write", "--store", store, "--dry-run")
    assert code == 0 and f"skipped {files['c']}: Sun .au files have no tag format" in out
    code, out, _ = cli(capsys, "write", "--store", store, "--strict")
    assert code == 3 and "Wrote 1 file(s), 1 skipped" in out  # --strict: the skipped file counts
    assert read_genres(files["a"]) == ["Rock", "Jazz"] and read_genres(files["b"]) == ["Pop"]  # the file's genre stays
    code, out, _ = cli(capsys, "reset", "--store", store)
    assert code == 0 and "Took back 1 decision(s)" in out  # the .au's choice; the written file stays written
    code, out, _ = cli(capsys, "write", "--store", store)
    assert code == 0 and "Nothing to write yet" in out


def test_a_file_that_fails_to_write_is_skipped_with_its_reason(tmp_path, capsys):
    store, files = predicted_library(tmp_path, capsys)
    assert cli(capsys, "accept", "--above", "0.5", "--store", store)[0] == 0
    os.chmod(files["b"], 0o444)  # read-only: the tag service refuses it, the file is left as it is
    try:
        code, out, _ = cli(capsys, "write", "--store", store)
    finally:
        os.chmod(files["b"], 0o644)
    assert code == 0 and f"FAILED  {files['b']}: read-only file" in out and "Wrote 1 file(s), 2 skipped" in out
    assert read_genres(files["b"]) == ["Pop"] and read_genres(files["a"]) == ["Rock", "Jazz"]


def test_analyze_lists_the_files_it_could_not_analyse_and_exits_0(tmp_path, capsys):
    Settings(cpu_threads=1, segments=1).save(app_dirs().settings_path)
    root = tmp_path / "music"
    make_audio(root / "ok.wav", seconds=3, signal="chirp")
    gone = make_audio(root / "gone.wav", seconds=3)
    store = str(tmp_path / "lib.json")
    assert cli(capsys, "scan", str(root), "--store", store)[0] == 0
    gone.unlink()  # deleted after the scan: its analysis fails with a reason
    code, out, err = cli(capsys, "analyze", "--store", store, "--workers", "1", "--strict")
    assert code == 3, out + err
    assert "1 predicted, 1 failed" in out and f"FAILED {gone}" in out
    code, out, err = cli(capsys, "analyze", "--store", store, "--workers", "1", "--reanalyse")
    assert code == 0 and "1 failed" in out, out + err


def test_the_readme_cron_line_goes_through_a_library_with_an_unreadable_file(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = re.search(r"```sh\n(genre-desktop-cli scan ~/Music &&[^\n]+)\n```", readme).group(1)
    music = tmp_path / "Music"
    for i, (sig, freq) in enumerate((("tone", 220.0), ("chirp", 440.0))):
        make_audio(music / f"t{i}.flac", seconds=4, signal=sig, freq=freq, tags={"genre": "Rock"})
    (music / "broken.mp3").write_bytes(b"\x00" * 512)  # a 50,000-file archive always holds one
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(tmp_path), GENRE_DESKTOP_HOME=str(home),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    subprocess.run([sys.executable, "-c", "from genre_desktop.paths import app_dirs; "
                    "from genre_desktop.settings import Settings; "
                    "Settings(cpu_threads=1, segments=1, analysis_workers=1).save(app_dirs().ensure().settings_path)"],
                   env=env, check=True)
    proc = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "unreadable:  1" in out and "broken.mp3" in out  # listed with its reason...
    assert "Analysed 2 of 2 tracks" in out and "Accepted" in out  # ...and the chain went on
    assert "Wrote" in out or "Nothing to write yet" in out  # the last step ran too


def test_reset_names_a_style_only_decision_it_takes_back(tmp_path, capsys):
    store, files = predicted_library(tmp_path, capsys)
    with Store.open(store) as s:  # a style chosen while the genre waits for review, and a genre with a style
        s.update(files["b"], chosen_style=["House"])
        s.update(files["a"], status=ACCEPTED, chosen=["jazz"], chosen_style=["Bebop"])
    code, out, _ = cli(capsys, "reset", "--store", store, "--dry-run")
    assert code == 0 and f"would take back {files['b']}: style House (predicted)" in out
    assert f"would take back {files['a']}: jazz; style Bebop (accepted)" in out
    code, out, _ = cli(capsys, "reset", "--store", store)
    assert code == 0 and f"took back {files['b']}: style House (predicted)" in out and ": -" not in out
    with Store.open(store) as s:
        assert {Path(t.path).stem: t.chosen_style for t in s.all()} == {"a": None, "b": None, "c": None}


def test_reset_above_takes_back_what_accept_above_took(tmp_path, capsys):
    """0.695 reads "70%": ``accept --above 0.7`` takes it, so ``reset --above 0.7`` takes it back."""
    store, files = predicted_library(tmp_path, capsys)
    with Store.open(store) as s:
        s.update(files["b"], prediction=Prediction(files["b"], genres=[("blues", 0.695), ("rock", 0.305)]))
    code, out, _ = cli(capsys, "accept", "--above", "0.7", "--store", store)
    assert code == 0 and statuses(store)["b"][0] == ACCEPTED
    code, out, _ = cli(capsys, "reset", "--above", "0.7", "--store", store)
    assert code == 0 and f"took back {files['b']}" in out
    assert statuses(store)["b"][0] == PREDICTED
