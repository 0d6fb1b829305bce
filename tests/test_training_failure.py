"""A training that fails (the disk fills while saving, the export breaks) leaves the active model
as it was, saves no half version, and says what went wrong without a traceback."""

from __future__ import annotations

import errno

import pytest

from genre_desktop.cli import main
from genre_desktop.paths import app_dirs
from genre_desktop.training.registry import Registry


@pytest.fixture
def trained(tmp_path, capsys):
    from media import corrected_library

    corrected_library(tmp_path / "music", app_dirs().store_path)
    assert main(["train", "--activate"]) == 0
    capsys.readouterr()
    registry = Registry(app_dirs().user_models)
    return registry, registry.active(), registry.versions()


def _unchanged(trained):
    registry, active, versions = trained
    fresh = Registry(app_dirs().user_models)
    assert fresh.active() == active
    assert [v.version for v in fresh.versions()] == [v.version for v in versions]
    assert not list(app_dirs().user_models.glob(".staging-*"))


@pytest.mark.slow
def test_a_full_disk_while_saving_keeps_the_active_model(trained, monkeypatch, capsys):
    def full(path, data, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("genre_desktop.training.trainer.atomic_write_bytes", full)
    assert main(["train", "--activate"]) == 1
    err = capsys.readouterr().err
    assert "the disk is full" in err and "Traceback" not in err
    _unchanged(trained)


@pytest.mark.slow
def test_a_failed_export_keeps_the_active_model(trained, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("the exported logreg model differs from the fitted one")

    monkeypatch.setattr("genre_desktop.training.heads.export_onnx", broken)
    assert main(["train", "--activate"]) == 1
    err = capsys.readouterr().err
    assert "differs from the fitted one" in err and "Traceback" not in err
    _unchanged(trained)
