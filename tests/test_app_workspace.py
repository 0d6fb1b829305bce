"""The Workspace: the window and the CLI wire the store, the journal, the tag service and the
analysis the same way (issue 11 item 4)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from media import make_audio

from genre_desktop.app.workspace import Workspace
from genre_desktop.cli import build_parser, main
from genre_desktop.jobs.library_jobs import LibraryJobs
from genre_desktop.jobs.runner import JobRunner
from genre_desktop.paths import app_dirs, journal_for
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres
from genre_desktop.training.registry import Registry

ROOT = Path(__file__).resolve().parent.parent


def test_one_journal_rule_for_the_window_and_the_cli(tmp_path):
    dirs = app_dirs()
    window = LibraryJobs(JobRunner(synchronous=True), Workspace(dirs, Settings()))
    assert window.journal_path == dirs.journal_path == dirs.data / "journal.jsonl"
    assert Workspace(dirs, store_path=dirs.store_path).journal_path == window.journal_path
    other = tmp_path / "lib.json"
    assert Workspace(dirs, store_path=other).journal_path == journal_for(other) == tmp_path / "lib-journal.jsonl"
    assert journal_for(tmp_path / "library.json") == tmp_path / "journal.jsonl"


def test_cli_with_the_window_store_writes_the_window_journal(tmp_path, capsys):
    """`tag --store <the app's store>` journaled into library-journal.jsonl, a journal the window
    never reads: the window's Undo could not undo the CLI's write."""
    dirs = app_dirs()
    song = make_audio(tmp_path / "song.flac", seconds=0.5, tags={"genre": ["Blues"]})
    assert main(["tag", "--store", str(dirs.store_path), "--genre", "Jazz", str(song)]) == 0
    assert dirs.journal_path.exists() and not (dirs.data / "library-journal.jsonl").exists()
    assert str(song) in dirs.journal_path.read_text()
    assert main(["undo"]) == 0  # the default store: the same journal
    assert "undone" in capsys.readouterr().out and read_genres(song) == ["Blues"]


def _broken_version(name: str) -> None:
    registry = Registry(app_dirs().user_models)
    with registry.staging() as stage:
        (stage / "manifest.json").write_text(json.dumps({"version": name, "labels": ["techno"]}))
        registry.commit(stage, name)
    registry.activate(name)


def test_analysis_spec_follows_the_settings_and_the_active_model():
    dirs = app_dirs()
    workspace = Workspace(dirs, Settings(segments=3, cpu_threads=2))
    spec = workspace.analysis_spec()
    assert (spec.models_dir, spec.user_model_dir, spec.n_segments, spec.threads) == (None, None, 3, 2)
    assert spec.vector_cache_dir == str(dirs.feature_cache)
    _broken_version("v9")
    assert workspace.analysis_spec().user_model_dir == str(dirs.user_models / "v9")
    workspace.update_settings(save=False, segments=1)
    assert workspace.analysis_spec().n_segments == 1


def test_classify_uses_the_active_user_model(tmp_path, capsys):
    """classify built the bundled models alone, whatever model the window analyses with."""
    song = make_audio(tmp_path / "song.wav", seconds=1.0)
    _broken_version("v1")  # active, and unloadable: classify must say so instead of ignoring it
    assert main(["classify", str(song), "--json"]) == 2
    assert "user model" in capsys.readouterr().err
    args = build_parser().parse_args(["classify", str(song), "--bundled", "--segments", "2"])
    args.dirs = app_dirs()
    from genre_desktop.cli.classify import classify_spec

    spec = classify_spec(args)
    assert spec.user_model_dir is None and spec.n_segments == 2


def test_settings_are_replaced_not_changed():
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.segments = 3  # type: ignore[misc]
    changed = settings.replace(segments=3)
    assert (settings.segments, changed.segments) == (5, 3)
    assert changed.aliases == settings.aliases and changed.aliases is not settings.aliases
    flagged = settings.with_extra(analysis_pending=True)
    assert flagged.extra == {"analysis_pending": True} and settings.extra == {}
    workspace = Workspace(app_dirs(), settings)
    before = workspace.settings
    workspace.update_settings(volume=0.25)
    assert before.volume == 0.8 and workspace.settings.volume == 0.25  # a reader of `before` is unaffected
    assert Settings.load(app_dirs().settings_path).volume == 0.25


def test_app_dirs_is_resolved_by_the_entry_points_only():
    calls = []
    for path in (ROOT / "genre_desktop").rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bapp_dirs\(", line) and not line.lstrip().startswith(("def ", "#")):
                calls.append(f"{path.relative_to(ROOT)}:{n}")
    modules = {c.split(":")[0] for c in calls}
    # gui.py and cli/__init__.py are the entry points; ui/main.py only for its older call form.
    assert modules <= {"genre_desktop/gui.py", "genre_desktop/cli/__init__.py", "genre_desktop/ui/main.py"}, calls


def _with_active_user_model(version: str, vector_recipe: str) -> Workspace:
    """A workspace whose active user model was trained on ``vector_recipe``; checks that it is
    named as the problem (retrain or roll back) and left out of the analysis."""
    registry = Registry(app_dirs().user_models)
    with registry.staging() as stage:
        (stage / "manifest.json").write_text(json.dumps({"version": version, "labels": ["techno"],
                                                         "vector_recipe": vector_recipe}))
        registry.commit(stage, version)
    registry.activate(version)
    workspace = Workspace(app_dirs(), Settings(segments=1, cpu_threads=1))
    problem = workspace.user_model_problem()
    assert problem and f"'{version}'" in problem and "retrain" in problem
    assert workspace.analysis_spec().user_model_dir is None
    return workspace


def test_a_user_model_of_an_older_representation_falls_back_to_the_bundled_models(tmp_path, capsys):
    """After an update that changes the track vectors, an old active model must not stop every
    analysis (the analyzer refuses to mix it): the bundled models run alone, and both faces say why."""
    workspace = _with_active_user_model("old", "gtzan-librosa-1+musicnn-msd-mean")
    song = make_audio(tmp_path / "song.wav", seconds=2.0, signal="noise")
    assert main(["classify", str(song), "--json", "--segments", "1"]) == 0
    captured = capsys.readouterr()
    assert "retrain" in captured.err and json.loads(captured.out)[0]["model_version"].count("+") == 0


def _old_recipe(stats: list[str], patches: int) -> str:
    """A vector recipe as the app wrote it before the cache held every head's statistics (one patch
    count for all, the networks by hash only)."""
    from genre_desktop.features.gtzan import RECIPE_VERSION
    from genre_desktop.features.musicnn_input import RECIPE_VERSION as MUSICNN_RECIPE
    from genre_desktop.inference.manifest import load_manifest
    from genre_desktop.paths import bundled_models_dir

    nets = {e.name: e.sha256 for e in load_manifest(bundled_models_dir(), verify=False).by_kind("musicnn")}
    used = sorted({s.split(".")[0] for s in stats})
    return (f"{RECIPE_VERSION}+{MUSICNN_RECIPE}+msd:{nets['musicnn_msd'][:16]}+user=stats[{'|'.join(stats)}]@{patches}"
            f"({','.join(f'{n}:{nets[n][:16]}' for n in used)})")


def test_a_user_model_of_the_two_network_head_falls_back_once_the_head_reads_one_network():
    """Issue 14 made the bundled head read the MSD network only; a user model the wizard trained on
    the previous head's statistics (MSD + MTT embedding means, same network files) no longer
    matches the vectors the app computes: it must be named and left out, not mixed in."""
    from genre_desktop.features.embedding_stats import stat_networks
    from genre_desktop.inference.analyzer import track_vector_recipe, vector_stats
    from genre_desktop.inference.manifest import load_manifest
    from genre_desktop.inference.vector_cache import recipe_problem
    from genre_desktop.paths import bundled_models_dir

    manifest = load_manifest(bundled_models_dir(), verify=False)
    assert "musicnn_mtt" not in stat_networks([s.name for s in vector_stats(manifest)])  # MSD tags by default
    old = _old_recipe(["musicnn_msd.embedding.mean", "musicnn_mtt.embedding.mean"], 2)
    assert "musicnn_mtt.embedding.mean@2" in recipe_problem(old, track_vector_recipe(manifest))
    _with_active_user_model("two-nets", old)


def test_a_user_model_of_the_msd_head_still_reads_its_columns_of_the_v4_vectors():
    """The vectors now hold every head's statistics (the EfficientAT ones too); a model trained on
    the MSD head's alone (ensemble v3's vectors) reads its own columns and stays active."""
    from genre_desktop.inference.analyzer import track_vector_recipe
    from genre_desktop.inference.manifest import load_manifest
    from genre_desktop.inference.vector_cache import recipe_problem
    from genre_desktop.paths import bundled_models_dir

    ours = track_vector_recipe(load_manifest(bundled_models_dir(), verify=False))
    old = _old_recipe(["musicnn_msd.embedding.mean", "musicnn_msd.embedding.max"], 2)
    assert old != ours and recipe_problem(old, ours) == ""
    assert "changed since" in recipe_problem(old.replace("(musicnn_msd:", "(musicnn_msd:0"), ours)
    registry = Registry(app_dirs().user_models)
    with registry.staging() as stage:
        (stage / "manifest.json").write_text(json.dumps({"version": "v3-era", "labels": ["techno"],
                                                         "vector_recipe": old}))
        registry.commit(stage, "v3-era")
    registry.activate("v3-era")
    workspace = Workspace(app_dirs(), Settings(segments=1, cpu_threads=1))
    assert workspace.user_model_problem() is None
    workspace.close()
