import os

from genre_desktop.runtime import prepare_process


def test_numba_cache_goes_to_the_app_cache_folder(app_home, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    prepare_process()
    assert os.environ["NUMBA_CACHE_DIR"].startswith(str(app_home))
    assert os.path.isdir(os.environ["NUMBA_CACHE_DIR"])


def test_an_explicit_numba_cache_dir_is_respected(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    prepare_process()
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")
