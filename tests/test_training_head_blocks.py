"""User heads choose which network's statistics they read (the MSD musicnn head's or the EfficientAT
head's) by the trainer's own grouped CV, and the exported model still reads the whole vector."""

from __future__ import annotations

import numpy as np

from genre_desktop.inference.vector_cache import Stat
from genre_desktop.training import classical, heads

LAYOUT = [Stat("musicnn_msd.embedding.mean", 2, 200), Stat("musicnn_msd.embedding.max", 2, 200),
          Stat("efficientat.embedding.mean", 3, 384)]


def test_blocks_follow_the_layout_and_its_widths():
    assert heads.stat_blocks(LAYOUT, 784) == {"musicnn_msd": "0:400", "efficientat": "400:784"}
    assert heads.stat_blocks(LAYOUT[:2], 400) == {}  # one network: nothing to choose
    assert heads.stat_blocks(LAYOUT, 785) == {}  # widths that do not add up: no search
    assert heads.stat_blocks([LAYOUT[0], LAYOUT[2], LAYOUT[1]], 784) == {}  # a split block
    assert heads.stat_blocks([Stat("musicnn_mtt.tags.mean", None, 0), LAYOUT[2]], 434) == {}  # unknown width
    # the EfficientAT scores at the same units are part of its block
    scores = Stat("efficientat.scores.mean", 3, 527)
    assert heads.stat_blocks([*LAYOUT, scores], 1311) == {"musicnn_msd": "0:400", "efficientat": "400:1311"}


def _library(seed: int = 0):
    """Vectors whose genre shows in the EfficientAT block only; the MSD block is noise."""
    rng = np.random.default_rng(seed)
    n_genres, artists, per_artist = 4, 6, 3
    y = np.repeat(np.arange(n_genres), artists * per_artist)
    groups = np.repeat(np.arange(n_genres * artists), per_artist)
    msd = rng.normal(size=(len(y), 400))
    centres = rng.normal(size=(n_genres, 384)) * 0.6
    effat = centres[y] + rng.normal(size=(len(y), 384))
    return np.hstack([msd, effat]), y, groups, n_genres


def test_cv_picks_the_informative_network_and_the_export_reads_the_whole_vector():
    X, y, groups, n = _library()
    blocks = heads.stat_blocks(LAYOUT, X.shape[1])
    ranked = heads.cross_validate(X, y, groups, n, folds=4, seed=0,
                                  candidates={"logreg": [{"clf__C": 0.1}], "svm": [{"clf__estimator__C": 1.0}]},
                                  blocks=blocks)
    first = [c for c in ranked if c.kind == "logreg"]
    assert {c.params.get("block") for c in first} == {None, "musicnn_msd", "efficientat"}
    by_block = {c.params.get("block"): c for c in first}
    assert by_block["efficientat"].macro_f1 > by_block["musicnn_msd"].macro_f1 + 0.3
    svm = [c for c in ranked if c.kind == "svm"]
    assert len(svm) == 1 and svm[0].params.get("block") == heads.rank(first)[0].params.get("block")  # on the chosen block
    best = ranked[0]
    assert best.params.get("block") == "efficientat" and "on efficientat" in best.name
    head = heads.fit_head(best.kind, best.params, X, y, n)
    onnx_bytes = heads.export_onnx(head, X[:40], X.shape[1])
    proba = classical.onnx_proba(onnx_bytes, heads.as_inputs(X[:40]))
    assert proba.shape == (40, n)
    # The head reads its block only: changing the other block changes nothing.
    other = X[:40].copy()
    other[:, :400] = 0.0
    np.testing.assert_allclose(classical.onnx_proba(onnx_bytes, heads.as_inputs(other)), proba, atol=1e-6)


def test_without_blocks_the_search_is_unchanged():
    X, y, groups, n = _library(1)
    ranked = heads.cross_validate(X, y, groups, n, folds=4, seed=0, candidates={"logreg": [{"clf__C": 0.1}]})
    assert len(ranked) == 1 and "block" not in ranked[0].params and ranked[0].name == "logreg (C=0.1)"


def test_a_logistic_only_search_with_blocks_ranks_the_views():
    X, y, groups, n = _library(2)
    ranked = heads.cross_validate(X, y, groups, n, folds=4, seed=0, candidates={"logreg": [{"clf__C": 0.1}]},
                                  blocks=heads.stat_blocks(LAYOUT, X.shape[1]))
    assert len(ranked) == 3 and ranked[0].params.get("block") == "efficientat"
