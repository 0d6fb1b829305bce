"""``classify`` and ``evaluate`` through the CLI entry point."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import soundfile as sf

from genre_desktop.cli import main

SR = 22050


def _write(path, seconds, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.2 * np.sin(2 * np.pi * (200 + 100 * seed) * t) + 0.05 * rng.standard_normal(len(t))
    sf.write(path, y.astype(np.float32), SR)


def test_classify_json_over_a_folder_with_a_corrupt_file(tmp_path, capsys):
    folder = tmp_path / "music"
    (folder / "sub").mkdir(parents=True)
    _write(folder / "a.wav", 8.0, 1)
    _write(folder / "sub" / "b.flac", 6.0, 2)
    (folder / "c.mp3").write_bytes(b"\xff\xfb" + os.urandom(2000))  # looks like MP3, is not
    (folder / "notes.txt").write_text("not audio")
    code = main(["classify", "--json", "--top", "3", "--segments", "2", str(folder)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # one file failed; the others were still analysed
    assert [os.path.relpath(r["path"], folder) for r in out] == ["a.wav", "c.mp3", os.path.join("sub", "b.flac")]
    by_name = {os.path.basename(r["path"]): r for r in out}
    assert by_name["c.mp3"]["error"] and by_name["c.mp3"]["genres"] == []
    for name in ("a.wav", "b.flac"):
        r = by_name[name]
        assert set(r) == {"schema", "path", "genres", "models", "segments", "tags", "broad", "content",
                          "model_version", "error"}
        assert r["error"] is None and r["model_version"] and r["content"] in ("music", "spoken word")
        assert all(set(b) == {"genre", "path", "probability"} for b in r["broad"])
        assert len(r["genres"]) == 3 and set(r["genres"][0]) == {"genre", "probability"}
        probs = [g["probability"] for g in r["genres"]]
        assert probs == sorted(probs, reverse=True)
        assert all(g["genre"].islower() for g in r["genres"])
        assert set(r["models"]) == {"knn", "logreg", "svm", "xgboost", "gboost", "audio_head",  # every genre model,
                                    "efficientat_head", "efficientat_genres", "cnn"}  # voting or not
        assert len(r["segments"]) == 1 and set(r["segments"][0]) == {"start", "end", "genres"}
        assert abs(sum(r["segments"][0]["genres"].values()) - 1) < 1e-4  # 10 values rounded to 5 decimals


def test_classify_text_output_and_missing_file(tmp_path, capsys):
    _write(tmp_path / "a.wav", 5.0, 3)
    code = main(["classify", str(tmp_path / "a.wav"), str(tmp_path / "nope.ogg")])
    out = capsys.readouterr().out
    assert code == 1
    assert "a.wav" in out and "ERROR: no such file" in out


def test_classify_refuses_tampered_models(tmp_path, capsys):
    from genre_desktop.paths import bundled_models_dir

    models = tmp_path / "models"
    shutil.copytree(bundled_models_dir(), models)
    (models / "knn.onnx").write_bytes(b"tampered")
    _write(tmp_path / "a.wav", 3.0, 4)
    assert main(["classify", "--models", str(models), str(tmp_path / "a.wav")]) == 2
    assert "knn.onnx" in capsys.readouterr().err


@pytest.fixture
def data_dir_with_test_rows(tmp_path, gtzan_dir):
    """A GTZAN-style DIR whose 'test' split lists 40 clips of the valid split (present in the table)."""
    data = tmp_path / "data"
    (data / "splits").mkdir(parents=True)
    shutil.copy(os.path.join(gtzan_dir, "features_30_sec.csv"), data / "features_30_sec.csv")
    valid = open(os.path.join(gtzan_dir, "splits", "valid_filtered.txt")).read().split()
    (data / "splits" / "test_filtered.txt").write_text("\n".join(valid[::5][:40]) + "\n")
    return data


def test_evaluate_json_on_a_test_split(data_dir_with_test_rows, capsys):
    code = main(["evaluate", "--data", str(data_dir_with_test_rows), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["n"] == 40 and len(out["labels"]) == 10
    assert set(out["members_used"]) <= {"knn", "logreg", "svm", "xgboost", "gboost"} and out["members_used"]
    assert set(out["models"]) == {"knn", "logreg", "svm", "xgboost", "gboost", "ensemble"}
    for figures in out["models"].values():
        assert 0 <= figures["accuracy"] <= 1 and 0 <= figures["macro_f1"] <= 1
        confusion = np.array(figures["confusion"])
        assert confusion.shape == (10, 10) and confusion.sum() == 40
        assert np.trace(confusion) == round(figures["accuracy"] * 40)


def test_evaluate_text_output(data_dir_with_test_rows, capsys):
    assert main(["evaluate", "--data", str(data_dir_with_test_rows)]) == 0
    out = capsys.readouterr().out
    assert "ensemble: accuracy" in out and "macro F1" in out and "feature-table members" in out


def test_evaluate_without_test_rows_fails_clearly(gtzan_dir, capsys):
    code = main(["evaluate", "--data", gtzan_dir, "--json"])
    captured = capsys.readouterr()
    assert code != 0 and captured.out == ""
    assert "none of the 290 clips of the test split" in captured.err and "--all" in captured.err


def test_evaluate_all_rows(gtzan_dir, capsys):
    assert main(["evaluate", "--data", gtzan_dir, "--all", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 640 and out["rows"] == "all"
