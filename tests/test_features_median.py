"""The exact running median behind HPSS: scipy's values, at every edge, width and dtype used."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

from genre_desktop.features.median import median_filter_axis0


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
