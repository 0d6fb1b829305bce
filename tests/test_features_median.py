"""The exact running median behind HPSS: scipy's values, at every edge, width and dtype used.

Every test runs twice: with the C extension (``features/_median.c``) and with the scipy fallback an
install without a C compiler uses (``kernel`` fixture).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.ndimage

from genre_desktop.features import median
from genre_desktop.features.median import median_filter_axis0


@pytest.fixture(autouse=True, params=["c", "scipy"])
def kernel(request, monkeypatch):
    """Which implementation median_filter_axis0 runs: the C extension, or the fallback without it."""
    if request.param == "c":
        if median._median is None:
            pytest.fail("the C extension genre_desktop.features._median is not built (pip install -e .)")
    else:
        monkeypatch.setattr(median, "_median", None)
    return request.param


def _by_definition(x: np.ndarray, width: int) -> np.ndarray:
    """The median of each window of the axis extended by mirroring (scipy's "reflect"), plainly."""
    n, half = x.shape[0], width // 2
    period = np.arange(-half, n + half) % (2 * n)
    extended = x[np.where(period < n, period, 2 * n - 1 - period)]
    return np.stack([np.median(extended[k:k + width], axis=0) for k in range(n)])


def _hostile(rows: int, cols: int, dtype, seed: int) -> np.ndarray:
    """Non-negative values with ties, zero runs, a huge value and subnormals, as spectra have."""
    rng = np.random.default_rng(seed)
    x = rng.exponential(size=(rows, cols)).astype(dtype)
    x[rng.random(x.shape) < 0.2] = 0.5
    x[rows // 3: rows // 3 + 40] = 0.0
    x[0, 0] = np.finfo(dtype).max / 4
    x[-1, -1] = np.finfo(dtype).tiny / 8
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [31, 5, 3, 1])
def test_equals_scipy_value_for_value(dtype, width):
    # 300 columns: two full blocks of lanes and a partial one.
    x = _hostile(200, 300, dtype, seed=width)
    got = median_filter_axis0(x, width)
    assert got.dtype == dtype and got.shape == x.shape
    np.testing.assert_array_equal(got, scipy.ndimage.median_filter(x, size=(width, 1), mode="reflect"))


def test_signed_values_and_a_non_contiguous_input():
    x = np.random.default_rng(3).standard_normal((120, 70))
    x[10:30] = -1.25
    view = x.T.copy().T  # Fortran order
    np.testing.assert_array_equal(median_filter_axis0(view, 31),
                                  scipy.ndimage.median_filter(x, size=(31, 1), mode="reflect"))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 15, 16, 31, 32])
def test_axes_shorter_than_the_window_reflect_again_and_again(n):
    # Where the window needs the axis mirrored more than once, scipy's 1-D and 2-D paths disagree
    # with each other and sometimes return NaN (it reads past its buffer: n=2 always, n=3 in some
    # runs); the definition (mirror the axis periodically) is the reference there.
    x = _hostile(n, 9, np.float64, seed=n) if n > 1 else np.array([[0.5, 2.0, 0.0]])
    np.testing.assert_array_equal(median_filter_axis0(x, 31), _by_definition(x, 31))
    if n >= 31 // 2:  # one reflection at most: scipy is a reference too
        np.testing.assert_array_equal(median_filter_axis0(x, 31),
                                      scipy.ndimage.median_filter(x, size=(31, 1), mode="reflect"))


@pytest.mark.parametrize("width", [0, 2, -3])
def test_rejects_even_or_empty_widths(width):
    with pytest.raises(ValueError):
        median_filter_axis0(np.zeros((10, 3)), width)


def test_rejects_other_shapes():
    with pytest.raises(ValueError):
        median_filter_axis0(np.zeros(10), 3)


@pytest.mark.parametrize("shape", [(1, 1), (1, 300), (300, 1), (7, 129), (129, 7), (1293, 1025), (1025, 1293)])
def test_spectrogram_sized_and_odd_shapes_both_axes(shape):
    rng = np.random.default_rng(sum(shape))
    x = np.abs(rng.standard_normal(shape)).astype(np.float32) ** 3  # long-tailed, like magnitudes
    for array in (x, np.ascontiguousarray(x.T)):  # along time and along frequency
        want = _by_definition(array, 31) if min(array.shape[0], 31) < 16 else \
            scipy.ndimage.median_filter(array, size=(31, 1), mode="reflect")
        np.testing.assert_array_equal(median_filter_axis0(array, 31), want)


def test_a_real_spectrogram_both_filters_of_hpss(gtzan_dir):
    from genre_desktop.audio import decode
    from genre_desktop.features import dsp

    y = decode(f"{gtzan_dir}/clips/jazz.00000.au", sr=22050, duration=12.0)
    mag = np.abs(dsp.stft(y, 2048, 512, pad_mode="reflect"))
    np.testing.assert_array_equal(median_filter_axis0(np.ascontiguousarray(mag.T), 31).T,
                                  scipy.ndimage.median_filter(mag, size=(1, 31), mode="reflect"))
    np.testing.assert_array_equal(median_filter_axis0(np.ascontiguousarray(mag), 31),
                                  scipy.ndimage.median_filter(mag, size=(31, 1), mode="reflect"))


def test_the_fallback_is_logged_once_and_named(kernel, caplog):
    caplog.set_level(logging.INFO, logger="genre_desktop.features.median")
    if kernel == "c":
        assert median.implementation().startswith("C extension")
        median_filter_axis0(np.ones((40, 3)), 31)
        assert "running median" not in caplog.text
        return
    median._fallback_logged = False
    for _ in range(3):
        median_filter_axis0(np.ones((40, 3)), 31)
    assert caplog.text.count("running median: scipy") == 1
    assert "C extension was not built" in median.implementation()


def test_the_c_kernel_checks_what_it_is_given(kernel):
    if kernel != "c":
        pytest.skip("the C kernel's own checks")
    run = median._median.running_median
    x = np.zeros((10, 4), np.float32)
    rows = np.arange(14, dtype=np.int64)
    with pytest.raises(TypeError):  # float32 in, float64 out
        run(x, rows.clip(0, 9), 5, np.zeros((10, 4)))
    with pytest.raises(ValueError):  # even width
        run(x, rows.clip(0, 9), 4, np.zeros((10, 4), np.float32))
    with pytest.raises(ValueError):  # rows of the wrong length
        run(x, rows[:5], 5, np.zeros((10, 4), np.float32))
    with pytest.raises(IndexError):  # a row past the input
        run(x, rows, 5, np.zeros((10, 4), np.float32))
    with pytest.raises(ValueError):  # read-only output
        out = np.zeros((10, 4), np.float32)
        out.flags.writeable = False
        run(x, rows.clip(0, 9), 5, out)
    with pytest.raises(ValueError):  # not contiguous
        run(np.zeros((10, 8), np.float32)[:, ::2], rows.clip(0, 9), 5, np.zeros((10, 4), np.float32))


def test_threads_filter_at_once_with_the_same_results(kernel):
    """The C kernel releases the GIL (analysis threads overlap); results stay exact."""
    from concurrent.futures import ThreadPoolExecutor

    arrays = [_hostile(400, 257, np.float32, seed=s) for s in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda a: median_filter_axis0(a, 31), arrays))
    for a, got in zip(arrays, results):
        np.testing.assert_array_equal(got, scipy.ndimage.median_filter(a, size=(31, 1), mode="reflect"))


def _cpu_has(flag: str) -> bool:
    try:
        with open("/proc/cpuinfo") as handle:
            return any(line.startswith("flags") and flag in line.split() for line in handle)
    except OSError:
        return False


@pytest.mark.parametrize("flags", [[], ["-mavx2"]], ids=["portable", "avx2"])
def test_the_portable_build_of_the_c_kernel_gives_the_same_values(kernel, tmp_path, flags):
    """On x86-64 Linux the extension carries AVX-512, AVX2 and portable copies of its kernel and the
    CPU picks one; this machine runs one of them, so the portable and the AVX2 ones are each built
    alone here and checked (tails of fewer lanes than a register-carried chunk included: 300 lanes)."""
    import importlib.util
    import shutil
    import subprocess
    import sysconfig
    from pathlib import Path

    if kernel != "c":
        pytest.skip("the C kernel's portable build")
    compiler = shutil.which(sysconfig.get_config_var("CC").split()[0] if sysconfig.get_config_var("CC") else "cc")
    if compiler is None:
        pytest.skip("no C compiler here")
    if flags and not _cpu_has("avx2"):
        pytest.skip("this CPU cannot run the AVX2 build")
    source = Path(median.__file__).with_name("_median.c")
    target = tmp_path / f"_median{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run([compiler, "-O3", "-shared", "-fPIC", *flags, "-DGENRE_DESKTOP_MEDIAN_PORTABLE",
                    f"-I{sysconfig.get_paths()['include']}", str(source), "-o", str(target)], check=True)
    spec = importlib.util.spec_from_file_location("_median", target)
    portable = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(portable)
    for dtype in (np.float32, np.float64):
        x = _hostile(300, 300, dtype, seed=11)
        n, half = x.shape[0], 15
        period = np.arange(-half, n + half) % (2 * n)
        rows = np.where(period < n, period, 2 * n - 1 - period).astype(np.int64)
        out = np.empty_like(x)
        portable.running_median(x, rows, 31, out)
        np.testing.assert_array_equal(out, median_filter_axis0(x, 31))
