"""The shipped content rule (music / spoken word, issue 20 item 6) is what ``tools/fit_content_rule.py``
fits: refitted from its saved evidence rows it gives the shipped file's weights, threshold and
held-out figures exactly, and a few of those rows come out of the audio as the app analyses it now
(three EfficientAT excerpts per window)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from genre_desktop.inference.content import ContentRule
from genre_desktop.inference.manifest import load_manifest
from genre_desktop.paths import bundled_models_dir

ROOT = Path(__file__).resolve().parent.parent
ROWS = ROOT / "docs" / "measurements" / "content_rule_rows.json"


def _script():
    spec = importlib.util.spec_from_file_location("fit_content_rule", ROOT / "tools" / "fit_content_rule.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shipped() -> tuple[dict, object]:
    manifest = load_manifest(bundled_models_dir(), verify=False)
    entry = next(e for e in manifest.models if e.kind == "content")
    return json.loads(entry.path.read_text(encoding="utf-8")), manifest


def test_the_saved_rows_refit_the_shipped_rule_and_its_figures_exactly():
    fit = _script()
    saved = json.loads(ROWS.read_text(encoding="utf-8"))
    shipped, manifest = _shipped()
    assert fit.rule_from_rows(saved) == shipped
    # fitted on the network the app runs, at the excerpts per window the app runs it with
    network = next(e for e in manifest.models if e.name == shipped["network"])
    assert shipped["network_sha256"] == network.sha256
    assert shipped["excerpts_per_window"] == network.raw["excerpts_per_window"] == fit.EXCERPTS
    held = shipped["measured"]["held out (both halves judged by the other's rule)"]["confusion"]
    assert held["music (GTZAN train)"] == {"music": 189, "spoken word": 0}
    assert sum(held["spoken word (espeak-ng)"].values()) == 10
    # the valid clips are judged, never fitted on: the rule is the same without them
    fitted_only = dict(saved, rows=[r for r in saved["rows"] if r["half"] != "valid"])
    without = fit.rule_from_rows(fitted_only)
    assert (without["weights"], without["bias"], without["threshold"]) == (
        shipped["weights"], shipped["bias"], shipped["threshold"])
    assert sum(r["half"] == "valid" for r in saved["rows"]) == 92


def test_the_app_reads_the_excerpts_the_rule_was_fitted_on():
    shipped, manifest = _shipped()
    rule = ContentRule(next(e for e in manifest.models if e.kind == "content"))
    assert rule.units == shipped["excerpts_per_window"] == 3


def test_the_threshold_keeps_every_music_track_music_and_is_the_gap_midpoint_when_they_separate():
    fit = _script()
    assert fit.fit([0.0, 1.0], [3.0, 4.0]) == 2.0
    assert fit.fit([0.0, 5.0], [3.0, 4.0]) == pytest.approx(5.0 + 1e-6)
    rows = [{"kind": k, "half": "A", "recipe": {}, "features": [x, -x]}
            for k, x in [("music (GTZAN train)", -2.0), ("music (GTZAN train)", -1.5),
                         ("spoken word (espeak-ng)", 2.0), ("speech over quiet music", 1.0)]]
    w, b, t = fit.fit_rule(rows)
    assert fit.confusion(rows, w, b, t) == {"music (GTZAN train)": {"music": 2, "spoken word": 0},
                                            "speech over quiet music": {"music": 0, "spoken word": 1},
                                            "spoken word (espeak-ng)": {"music": 0, "spoken word": 1}}


def test_rows_come_out_of_the_audio_as_the_app_analyses_it(gtzan_dir, tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    fit = _script()
    fit.AUDIO = Path(gtzan_dir) / "audio"
    if not (fit.AUDIO / "clips.csv").is_file():
        pytest.skip(f"the shared GTZAN audio is not at {fit.AUDIO}")
    saved = json.loads(ROWS.read_text(encoding="utf-8"))
    analyzer, network, _, indices = fit.load_network(None)
    kinds = {}
    for row in saved["rows"]:  # the first row of each kind
        kinds.setdefault(row["kind"], row)
    assert set(kinds) == {"music (GTZAN train)", "music with a spoken intro", "speech over quiet music",
                          "spoken word (espeak-ng)", "music (GTZAN valid)"}
    for row in kinds.values():
        y = fit.make_audio(row["recipe"], lambda i: fit.voice_audio(i, tmp_path))
        e = fit.evidence(analyzer, network, indices, y)
        np.testing.assert_allclose(e, row["features"], atol=1e-4, err_msg=f"{row['kind']} {row['recipe']}")
