import os

from genre_desktop.paths import app_dirs
from genre_desktop.runtime import prepare_process


def test_numba_cache_goes_to_the_app_cache_folder(app_home, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    prepare_process(app_dirs())
    assert os.environ["NUMBA_CACHE_DIR"].startswith(str(app_home))
    assert os.path.isdir(os.environ["NUMBA_CACHE_DIR"])


def test_an_explicit_numba_cache_dir_is_respected(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    prepare_process(app_dirs())
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_cli_survives_a_closed_pipe(tmp_path):
    """`genre-desktop-cli ... | head -1` must not end with a BrokenPipeError traceback."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from genre_desktop.cli import main\n"
        "sys.exit(main(['list', '--store', sys.argv[1]]))\n"
    )
    from genre_desktop.library.store import Store
    from genre_desktop.library.track import Track

    store = Store.open(tmp_path / "lib.json")
    with store.batch():
        store.upsert(Track(path=f"/music/{i:05d}.flac", title=f"t{i}", genres=["Jazz"]) for i in range(20000))
    store.close()
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "lib.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # like `head -1`
    _, err = proc.communicate(timeout=120)
    assert b"BrokenPipeError" not in err and b"Traceback" not in err, err.decode()
    assert proc.returncode == 0
