"""A Dask cluster only its own machines can use: certificates made by the app, a ``tls://``
scheduler on this machine, the analysis through it, and clear refusals without the right keys."""

from __future__ import annotations

import stat

import pytest
from media import make_audio

pytest.importorskip("dask.distributed")
pytest.importorskip("cryptography")

from genre_desktop.app import cluster_tls  # noqa: E402
from genre_desktop.app.executors import ClusterUnavailable, open_executor  # noqa: E402


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs") / "cluster"
    cluster_tls.make_certificates(folder)
    return folder


@pytest.fixture(scope="module")
def tls_scheduler(certs):
    """A scheduler and one worker process speaking TLS on 127.0.0.1, as `dask scheduler --protocol tls`."""
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                           host="127.0.0.1", protocol="tls", security=cluster_tls.node_security(certs))
    yield cluster.scheduler_address
    cluster.close()


def test_certificates_are_made_with_private_keys_kept_private(certs, tmp_path):
    names = {p.name for p in certs.iterdir()}
    assert names == {"ca.pem", "ca-key.pem", "node.pem", "node-key.pem", "client.pem", "client-key.pem"}
    for key in ("ca-key.pem", "node-key.pem", "client-key.pem"):
        assert stat.S_IMODE((certs / key).stat().st_mode) == 0o600
    with pytest.raises(cluster_tls.CertificateError, match="not empty"):
        cluster_tls.make_certificates(certs)  # never overwrites a cluster's keys


def test_analysis_runs_on_a_tls_cluster_with_the_certificates(tls_scheduler, certs, tmp_path):
    from genre_desktop.inference.batch import analyse_batch
    from genre_desktop.inference.spec import AnalysisSpec

    assert tls_scheduler.startswith("tls://127.0.0.1:")
    clip = make_audio(tmp_path / "a.flac", seconds=5, signal="chirp")
    runner = open_executor(cluster=tls_scheduler, tls=certs)
    try:
        spec = AnalysisSpec(n_segments=1, threads=1)
        results = list(analyse_batch(spec, [str(clip)], runner.executor, task_token=runner.task_token))
    finally:
        runner.close()
    assert len(results) == 1 and results[0].error is None
    assert results[0].analysis.prediction.genres


def test_tls_without_certificates_is_a_clear_refusal(tls_scheduler):
    with pytest.raises(ClusterUnavailable, match="needs certificates"):
        open_executor(cluster=tls_scheduler)


def test_a_client_of_another_authority_is_refused(tls_scheduler, tmp_path):
    from genre_desktop.app.executors import _cluster_executor

    strangers = tmp_path / "strangers"
    cluster_tls.make_certificates(strangers)
    with pytest.raises(ClusterUnavailable, match="cannot reach the Dask scheduler"):
        _cluster_executor(tls_scheduler, None, strangers, timeout=5)


def test_a_certificate_folder_is_checked_before_connecting(certs, tmp_path):
    with pytest.raises(ClusterUnavailable, match="lacks ca.pem, client.pem, client-key.pem"):
        open_executor(cluster="tls://127.0.0.1:1", tls=tmp_path)
    with pytest.raises(ClusterUnavailable, match="unencrypted"):
        open_executor(cluster="tcp://127.0.0.1:1", tls=certs)


def test_the_local_cluster_listens_on_this_machine_only(tmp_path):
    runner = open_executor(workers=1, cluster="local")
    try:
        address = runner.executor.scheduler.address
    finally:
        runner.close()
    assert address.startswith(("tcp://127.0.0.1:", "inproc://"))


def test_analyze_on_a_local_tls_cluster_from_the_command_line(certs, tmp_path, capsys):
    from genre_desktop.cli import main

    make_audio(tmp_path / "music" / "a.flac", seconds=5, signal="noise")
    store = str(tmp_path / "lib.json")
    assert main(["scan", str(tmp_path / "music"), "--store", store]) == 0
    assert main(["analyze", "--store", store, "--tls", str(certs)]) == 2  # --tls without --cluster
    assert "--tls is for --cluster" in capsys.readouterr().err
    code = main(["analyze", "--store", store, "--cluster", "local", "--workers", "1", "--tls", str(certs)])
    out = capsys.readouterr().out
    assert code == 0 and "Analysed 1 of 1 tracks" in out


def test_cluster_certs_command(tmp_path, capsys):
    from genre_desktop.cli import main

    assert main(["cluster-certs", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "dask scheduler --protocol tls" in out and f"--tls {tmp_path / 'c'}" in out
    assert main(["cluster-certs", str(tmp_path / "c")]) == 1
    assert "not empty" in capsys.readouterr().err
