"""The trainer's requirement check (what the wizard asks before a training starts) agrees with what
the trainer's own fitting steps accept: the held-out split by artist, grouped CV, the fit."""

from __future__ import annotations

import numpy as np
import pytest

from genre_desktop.training import heads
from genre_desktop.training.dataset import MIN_TRACKS, Example
from genre_desktop.training.trainer import TrainingData, TrainOptions, check_trainable, heldout_split, train


def examples(spec: dict[str, list[int]]) -> list[Example]:
    """{genre: [tracks by artist 0, tracks by artist 1, ...]} -> examples (artists distinct per genre)."""
    out = []
    for genre, per_artist in spec.items():
        for a, n in enumerate(per_artist):
            out += [Example(f"/m/{genre}/{a}-{t}.wav", genre, f"artist:{genre}{a}", f"{genre}{a}", "chosen")
                    for t in range(n)]
    return out


def fits(exs: list[Example], options: TrainOptions) -> bool:
    """The trainer's fitting path on synthetic vectors: held-out split, grouped CV, fit. True if it runs."""
    labels = sorted({e.genre for e in exs})
    y = np.array([labels.index(e.genre) for e in exs])
    _, groups = np.unique([e.group for e in exs], return_inverse=True)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(len(y), 400)) + y[:, None]  # the bundled head's statistics
    try:
        fit_idx, _held = heldout_split(y, groups, options.heldout_folds, options.seed)
        heads.cross_validate(X[fit_idx], y[fit_idx], groups[fit_idx], len(labels), options.folds, options.seed,
                             {"logreg": [{"clf__C": 1.0}]})
        heads.fit_head("logreg", {"clf__C": 1.0}, X[fit_idx], y[fit_idx], len(labels))
    except ValueError:
        return False
    return True


CASES = {
    "one artist per genre (the issue's library)": {"rock": [3], "jazz": [4]},
    "two artists, tiny": {"rock": [2, 1], "jazz": [2, 1]},
    "a CV fold with one genre": {"rock": [3], "jazz": [1, 1, 1]},
    "one genre has artists": {"rock": [3, 3, 2], "jazz": [5]},
    "comfortable": {"rock": [2, 2, 2, 2], "jazz": [2, 2, 2, 2], "pop": [2, 2, 2, 2]},
    "a few per artist": {"rock": [3, 3], "jazz": [3, 3], "pop": [3]},
}


@pytest.mark.parametrize("name", CASES)
def test_the_check_agrees_with_the_trainers_fitting_steps(name):
    exs, options = examples(CASES[name]), TrainOptions()
    readiness = check_trainable(exs, options)
    assert readiness.ok == fits(exs, options), (name, readiness.problems)
    assert readiness.ok == (not readiness.problems)


def test_the_issue_library_is_refused_in_the_trainers_terms_per_genre():
    readiness = check_trainable(examples({"rock": [3], "jazz": [4]}), excluded={"blues": 2})
    assert not readiness.ok
    assert "too few artists to hold any tracks out" in readiness.problems[0]
    assert readiness.artists == {"rock": 1, "jazz": 1, "blues": 0}
    assert "one artist only" in readiness.genres["rock"]
    assert f"needs {MIN_TRACKS - 2} more track" in readiness.genres["blues"] and "merge" in readiness.genres["blues"]
    assert check_trainable(examples({"rock": [5]})).problems[0].startswith("a model needs at least two genres")
    assert "a head needs at least two genres" in check_trainable(examples({"rock": [3], "jazz": [1, 1, 1]})).problems[0]


def test_train_refuses_with_the_checks_words_before_reading_anything():
    exs = examples({"rock": [3], "jazz": [4]})
    data = TrainingData(exs, [None] * len(exs))  # never read: the check comes first
    with pytest.raises(ValueError) as caught:
        train(data, registry=None, vector_recipe="", bundled=None)
    assert str(caught.value) == check_trainable(exs).problems[0]
