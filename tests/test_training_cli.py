"""``train`` and ``models list|activate|rollback|map`` through the CLI's main(), on a small generated library."""

from __future__ import annotations

import os

from media import make_audio

from genre_desktop.cli import main
from genre_desktop.library.scanner import scan
from genre_desktop.library.store import Store
from genre_desktop.core.status import CORRECTED
from genre_desktop.paths import app_dirs


def _library(root):
    for genre, signal in (("techno", "noise"), ("ambient", "tone")):
        for a in range(4):
            make_audio(root / genre / f"{a}.wav", seconds=5.0 + 0.3 * a, freq=220.0 * (1 + 0.2 * a), signal=signal,
                       tags={"artist": f"{genre} {a}", "genre": genre})
    store_path = app_dirs().store_path
    store = Store.open(store_path)
    for _ in scan(root, store):
        pass
    for track in store.all():
        if "techno" in track.path:
            store.update(track.path, chosen=["Techno"], status=CORRECTED)
    store.close()
    return store_path


def test_train_list_activate_rollback_map(tmp_path, capsys):
    store_path = _library(tmp_path / "music")
    # ambient only has existing tags: without trusting them there is one genre, and no model.
    assert main(["train", "--store", str(store_path)]) == 1
    assert "at least two genres" in capsys.readouterr().err

    report_dir = tmp_path / "report"
    assert main(["train", "--store", str(store_path), "--trust-existing", "Ambient", "--report", str(report_dir),
                 "--activate"]) == 0
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    assert "techno" in out and "ambient" in out and "activated" in out and "chosen head" in out
    # Not a terminal (a log): one line per stage, no carriage-return redraws.
    assert "\r" not in err and err.count("reading track vectors…") == 1 and "exporting to ONNX…" in err
    assert {p.name for p in report_dir.iterdir()} == {"report.html", "metrics.csv", "confusion.csv"}
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    version = next(line.split()[1] for line in listing.splitlines() if line.startswith("*"))
    assert version.startswith("user-")

    assert main(["models", "rollback"]) == 0
    assert "bundled models alone" in capsys.readouterr().out
    assert main(["models", "activate", version]) == 0
    assert main(["models", "activate", "no-such-version"]) == 1
    assert main(["models", "activate", "bundled"]) == 0
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    assert "(active: the bundled models alone)" in capsys.readouterr().out

    out_csv = tmp_path / "map.csv"
    assert main(["models", "map", "--store", str(store_path), "--trust-existing", "ambient", "--out", str(out_csv)]) == 0
    rows = out_csv.read_text().splitlines()
    assert len(rows) == 9 and rows[0].startswith("path,genre,x,y")
    assert os.path.isdir(app_dirs().feature_cache / "vectors")


def test_map_colours_by_every_label_the_librarian_has(tmp_path, capsys):
    """Without trusting any tag: the chosen techno tracks and the analysed ambient files (by their
    own genre tag) are all mapped and coloured; a file with no genre at all stays unlabelled."""
    import csv

    from genre_desktop.training.session import vector_analyzer, vectors_for

    store_path = _library(tmp_path / "music")
    untagged = make_audio(tmp_path / "music" / "untagged.wav", seconds=5.0, freq=300.0, signal="tone",
                          tags={"artist": "nobody"})
    store = Store.open(store_path)
    for _ in scan(tmp_path / "music", store):
        pass
    paths = [t.path for t in store.all()]
    store.close()
    analyzer = vector_analyzer(app_dirs(), n_segments=5)  # what an analysis leaves in the cache
    for path in paths:
        if "techno" not in path:
            vectors_for(analyzer)(path)
    out_csv = tmp_path / "map.csv"
    assert main(["models", "map", "--store", str(store_path), "--out", str(out_csv)]) == 0
    rows = {os.path.basename(os.path.dirname(r["path"])) + "/" + os.path.basename(r["path"]): r["genre"]
            for r in csv.DictReader(out_csv.open())}
    assert len(rows) == 9
    assert sum(1 for k, g in rows.items() if k.startswith("techno/") and g == "techno") == 4
    assert sum(1 for k, g in rows.items() if k.startswith("ambient/") and g == "ambient") == 4
    assert rows["music/" + os.path.basename(str(untagged))] == ""


def test_a_model_that_changes_nothing_is_said_so_and_never_offered(tmp_path, capsys, monkeypatch):
    """The issue: `train --trust-existing Lo-fi` chose "your model + bundled ensemble (w = 0.00)" and
    said "activate with ...". At w = 0 the mix is the bundled ensemble, which knows neither genre."""
    from genre_desktop.training import trainer
    from genre_desktop.training.registry import Registry

    store_path = _library(tmp_path / "music")
    monkeypatch.setattr(trainer, "fit_mix_weight", lambda *args, **kwargs: 0.0)  # as fitted in the issue
    assert main(["train", "--store", str(store_path), "--trust-existing", "Ambient", "--activate"]) == 0
    out = capsys.readouterr().out
    assert "this model would change nothing and cannot predict ambient, techno:" in out
    assert "activating it would change no prediction: the fitted weight of your model is 0.00" in out
    assert "techno: never the answer for" in out and "the bundled models do not know it: it can never win" in out
    assert "what would help:" in out and "techno: more tracks of it by more artists (now 4 tracks by 4 artists)" in out
    assert "not activated: activating it would change no prediction" in out
    assert "activate with" not in out and "\nactivated" not in out
    assert Registry(app_dirs().user_models).active() is None
    version = Registry(app_dirs().user_models).versions()[0].version
    assert main(["models", "list"]) == 0
    assert f"{version}" in (listing := capsys.readouterr().out) and "(would change nothing)" in listing
    assert main(["models", "activate", version, "--no-rescore"]) == 0  # asked for by name: done, and said again
    assert "note: activating it would change no prediction" in capsys.readouterr().out


def test_a_model_that_can_predict_what_it_was_taught_is_offered(tmp_path, capsys):
    store_path = _library(tmp_path / "music")
    assert main(["train", "--store", str(store_path), "--trust-existing", "Ambient"]) == 0
    out = capsys.readouterr().out
    assert "cannot predict" not in out and "not active; activate with: genre-desktop-cli models activate user-" in out
