"""Clusters on Dask: ``analyze --cluster local`` runs a LocalCluster of processes through the same
code path as a remote cluster (a Client), the client streaming results into the store; workers
that see the music under another path (``--path-map``); a clear message without Dask."""

from __future__ import annotations

import json
import os
import sys

import pytest
from media import make_audio
from helpers import cli

from genre_desktop.settings import Settings

pytest.importorskip("dask.distributed")


def predicted(capsys, store):
    code, out, _ = cli(capsys, "list", "--json", "--store", store)
    assert code == 0
    return {r["path"]: (r["status"], r["predicted"]) for r in json.loads(out)}


@pytest.fixture
def music(tmp_path):
    from genre_desktop.paths import app_dirs

    Settings(cpu_threads=1, segments=1).save(app_dirs().settings_path)
    root = tmp_path / "music"
    for i, sig in enumerate(("tone", "chirp", "noise")):
        make_audio(root / "album" / f"t{i}.flac", seconds=5, signal=sig, freq=300.0 + 100 * i)
    return root


def test_a_local_cluster_with_a_path_map_stores_what_this_process_stores(music, tmp_path, capsys):
    remote = tmp_path / "nas-mount"  # the workers see the music here
    os.symlink(music, remote)
    store = str(tmp_path / "cluster.json")
    cli(capsys, "scan", str(music), "--store", store)
    code, out, err = cli(capsys, "analyze", "--store", store, "--cluster", "local", "--workers", "2",
                         "--path-map", f"{music}={remote}")
    assert code == 0, out + err
    assert "Analysed 3 of 3 tracks" in out and "the Dask cluster local" in out
    on_cluster = predicted(capsys, store)

    here = str(tmp_path / "here.json")
    cli(capsys, "scan", str(music), "--store", here)
    assert cli(capsys, "analyze", "--store", here, "--workers", "1")[0] == 0
    in_process = predicted(capsys, here)
    # the library's paths (not the workers'), each with the same prediction as this process gives
    assert sorted(on_cluster) == sorted(str(p) for p in (music / "album").iterdir())
    assert on_cluster == in_process and all(status == "predicted" for status, _ in on_cluster.values())


def test_without_dask_cluster_is_a_clear_message_and_the_rest_works(music, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the cluster extra were not installed
    store = str(tmp_path / "lib.json")
    cli(capsys, "scan", str(music), "--store", store)
    code, out, err = cli(capsys, "analyze", "--store", store, "--cluster", "tcp://127.0.0.1:8786")
    assert code == 1 and "genre-desktop[cluster]" in err
    code, out, err = cli(capsys, "analyze", "--store", store, "--path-map", "/a=/b")
    assert code == 2 and "--path-map is for --cluster" in err
    assert cli(capsys, "list", "--store", store)[0] == 0


def test_path_map_maps_prefixes_both_ways():
    from genre_desktop.app.executors import PathMap

    m = PathMap.parse(["/music/=/mnt/nas/music", "/other=/x"])
    assert m.to_remote("/music/a/b.flac") == "/mnt/nas/music/a/b.flac"
    assert m.to_remote("/musicals/b.flac") == "/musicals/b.flac"  # a prefix of a name is no folder
    assert m.to_local("/mnt/nas/music/a/b.flac") == "/music/a/b.flac"
    with pytest.raises(ValueError):
        PathMap.parse(["/only-local"])
