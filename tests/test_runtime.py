import json
import os
import subprocess
import sys

import pytest

from genre_desktop.paths import app_dirs
from genre_desktop.runtime import prepare_process


def test_the_compiled_code_of_an_earlier_version_is_removed_once(app_home):
    """Earlier versions kept numba's compiled code in the data folder; nothing reads it now."""
    from genre_desktop.runtime import forget_compiled_code

    dirs = app_dirs()
    old = dirs.cache / "numba" / "librosa.util"
    old.mkdir(parents=True)
    (old / "utils._localmax-1.py311.nbi").write_bytes(b"index")
    (dirs.cache / "features").mkdir()
    prepare_process(dirs)
    assert not (dirs.cache / "numba").exists()
    assert (dirs.cache / "features").is_dir()  # the other caches stay
    assert forget_compiled_code(dirs) is False  # nothing left: one stat per start


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
    from genre_desktop.core.track import Track

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


def _blas_threads(tmp_path, env_extra: dict[str, str], spawn_worker: bool) -> list[int]:
    """BLAS thread counts in a fresh process after prepare_process (or in a worker it spawns)."""
    import json
    import subprocess
    import sys

    (tmp_path / "blas_probe.py").write_text(
        "def blas_threads():\n"
        "    import numpy  # noqa: F401  (loads the BLAS library)\n"
        "    from threadpoolctl import threadpool_info\n"
        "    return [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']\n")
    script = (
        "import json, sys\n"
        "from genre_desktop.paths import app_dirs\n"
        "from genre_desktop.runtime import prepare_process\n"
        "prepare_process(app_dirs())\n"
        "from blas_probe import blas_threads\n"
        "if sys.argv[1] == 'worker':\n"
        "    from genre_desktop.inference.batch import process_pool\n"
        "    with process_pool(1) as pool:\n"
        "        print(json.dumps(pool.submit(blas_threads).result()))\n"
        "else:\n"
        "    print(json.dumps(blas_threads()))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS") and k != "GENRE_DESKTOP_BLAS_SET"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *sys.path])
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", script, "worker" if spawn_worker else "self"], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_blas_runs_one_thread_in_the_app_and_its_workers(tmp_path):
    # OpenBLAS's idle threads spin: two per worker on two cores cost 1.38 instead of 0.78 CPU s per track.
    assert _blas_threads(tmp_path, {}, spawn_worker=False) == [1]
    assert _blas_threads(tmp_path, {}, spawn_worker=True) == [1]


def test_a_users_blas_thread_count_is_respected(tmp_path):
    assert _blas_threads(tmp_path, {"OPENBLAS_NUM_THREADS": "2"}, spawn_worker=False) == [2]


_FAULTS = (
    "import json, resource, sys\n"
    "import numpy as np\n"
    "from genre_desktop.runtime import keep_heap_for_arrays\n"
    "applied = keep_heap_for_arrays() if sys.argv[1] == 'keep' else False\n"
    "np.ones(131_072).sum()\n"
    "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
    "for _ in range(50):\n"
    "    np.ones(131_072).sum()  # a 1 MB temporary (below numpy's huge-page size), as a window holds dozens\n"
    "print(json.dumps([applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before]))\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_dask_workers_heap_trimming_no_longer_refaults_every_array(tmp_path):
    """Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536: every large temporary array is then
    mapped and faulted in anew (0.77 instead of 0.55 CPU s per track). The analysis workers undo it."""
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536", "PYTHONPATH": os.pathsep.join(sys.path)}

    def faults(mode: str) -> tuple[bool, int]:
        out = subprocess.run([sys.executable, "-c", _FAULTS, mode], env=env, capture_output=True, text=True,
                             timeout=120, check=True).stdout
        return tuple(json.loads(out.strip().splitlines()[-1]))

    applied, kept = faults("keep")
    _, trimmed = faults("plain")
    assert applied and trimmed > 50 * 100  # each array mapped and faulted in again (256 pages of 4 KB)
    assert kept < trimmed / 5
    env.pop("MALLOC_TRIM_THRESHOLD_")  # not Dask: glibc's own adaptive thresholds are left alone
    assert faults("keep")[0] is False
