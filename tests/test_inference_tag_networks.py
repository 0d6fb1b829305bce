"""Which musicnn networks an analysis runs: the ones the vote and the vectors read, plus the tag
networks the user chose (Settings > Analysis > Tag networks), and no other.

A network costs ~35 ms of CPU per 3 s patch, as much as all the features of a window: a network
that nobody reads must not run. The tests count the runs of every loaded network.
"""

from __future__ import annotations

import json
import shutil

import pytest
from test_inference_members import _table_voters_only, dense_softmax, entry, tone

from genre_desktop.app.workspace import Workspace
from genre_desktop.inference.analyzer import Analyzer
from genre_desktop.inference.manifest import load_manifest
from genre_desktop.paths import app_dirs, bundled_models_dir
from genre_desktop.settings import DEFAULT_TAG_NETWORKS, TAG_NETWORK_CHOICES, Settings

SR = 22050
MSD_ONLY = ["musicnn_msd.embedding.mean", "musicnn_msd.embedding.max"]


@pytest.fixture(scope="module")
def msd_head_models(tmp_path_factory):
    """The bundled table models plus an embedding head that reads the MSD network only (the shape
    of the retrained bundled head)."""
    folder = tmp_path_factory.mktemp("msd") / "models"
    shutil.copytree(bundled_models_dir(), folder)
    dense_softmax(folder / "head.onnx", "embedding_stats", [None, 400], 400, seed=3)
    manifest = _table_voters_only(json.loads((folder / "manifest.json").read_text()))
    manifest["models"].append(entry(folder, "head", "embedding_head", {"embedding_stats": [None, 400]},
                                    stats=MSD_ONLY, patches_per_window=2))
    manifest["ensemble"]["members"]["head"] = 0.5
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _count_runs(analyzer: Analyzer) -> dict[str, int]:
    """Wrap every loaded network's ``outputs`` to count its runs."""
    runs = {name: 0 for name in analyzer.networks}
    for name, member in analyzer.networks.items():
        def counted(inputs, units, _outputs=member.outputs, _name=name):
            runs[_name] += 1
            return _outputs(inputs, units)
        member.outputs = counted
    return runs


def _labels(models, network: str) -> set[str]:
    return set(load_manifest(models).get(network).labels)


@pytest.mark.parametrize("chosen,loaded,tagged", [
    ((), {"musicnn_msd"}, set()),
    (("musicnn_msd",), {"musicnn_msd"}, {"musicnn_msd"}),
    (("musicnn_mtt",), {"musicnn_msd", "musicnn_mtt"}, {"musicnn_mtt"}),
    (("musicnn_msd", "musicnn_mtt", "musicnn_gone"), {"musicnn_msd", "musicnn_mtt"}, {"musicnn_msd", "musicnn_mtt"}),
])
def test_networks_run_are_the_votes_plus_the_chosen_taggers(msd_head_models, chosen, loaded, tagged):
    analyzer = Analyzer(msd_head_models, n_segments=2, threads=1, tag_networks=chosen)
    assert set(analyzer.networks) == loaded
    assert {m.name for m in analyzer.tag_members} == tagged
    runs = _count_runs(analyzer)
    prediction = analyzer.analyze_samples(tone(70.0), SR).prediction
    assert prediction.error is None and len(prediction.segments) == 2
    # Each network that runs, runs once per track (every window's patches in one batch).
    assert runs == {name: 1 for name in loaded}
    expected = set().union(*(_labels(msd_head_models, n) for n in tagged)) if tagged else set()
    assert set(prediction.tags) == expected


def test_tags_off_runs_only_what_the_vote_reads(msd_head_models):
    analyzer = Analyzer(msd_head_models, n_segments=1, threads=1, musicnn=False, tag_networks=("musicnn_mtt",))
    runs = _count_runs(analyzer)
    assert analyzer.analyze_samples(tone(31.0), SR).prediction.tags == {}
    assert runs == {"musicnn_msd": 1}


def test_the_window_analysis_tags_with_the_settings_networks(tmp_path):
    """The default (MSD tags only) through the workspace's spec, with the bundled models: the networks
    run are exactly the members' and the vectors' networks plus the MSD network."""
    assert list(Settings().tag_networks) == list(DEFAULT_TAG_NETWORKS) == ["musicnn_msd"]
    assert {name for name, _ in TAG_NETWORK_CHOICES} == {e.name for e in load_manifest(bundled_models_dir()).by_kind("musicnn")}
    ws = Workspace(app_dirs(), Settings(segments=1, cpu_threads=1))
    spec = ws.analysis_spec()
    assert spec.tag_networks == ("musicnn_msd",)
    analyzer = spec.build()
    read = {cap.split(":")[0] for member in analyzer._members + analyzer.reporters for cap in member.reads}
    read |= {analyzer.embedding_model} | {s.network for s in analyzer.vector_stats}
    assert set(analyzer.networks) == read | {"musicnn_msd"}
    runs = _count_runs(analyzer)
    tags = analyzer.analyze_samples(tone(31.0), SR).prediction.tags
    assert set(tags) == _labels(bundled_models_dir(), "musicnn_msd")
    assert {name for name, n in runs.items() if n} == set(analyzer.networks)
    ws.close()


def test_every_session_sleeps_when_idle(msd_head_models):
    """onnxruntime's idle pool threads spin by default: with 2 threads on 2 cores, between network
    runs they burned a core the features needed (495 instead of 243 ms of CPU per window)."""
    analyzer = Analyzer(msd_head_models, n_segments=1, threads=0, tag_networks=("musicnn_mtt",))
    sessions = [m._session for m in analyzer._members] + [n._session for n in analyzer.networks.values()]
    assert len(sessions) >= 8
    for session in sessions:
        options = session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
