"""Colours and marks for many categories: the library map's genres.

A library holds dozens of genres; a hue per genre name (``theme.genre_colour``) puts "disco",
"pop" and "rock" a few degrees apart. The map instead gives the genres it shows the most distinct
colours there are, most tracks first:

- the palette starts with the Okabe-Ito colours (chosen to stay apart for the common colour-vision
  deficiencies; black left out: it vanishes on the dark palette) and grows the way Glasbey et al.
  (2007) build palettes for many categories: each next colour is the candidate farthest (CIELAB
  distance) from every colour already taken, for normal vision and as protanopes and deuteranopes
  see them (Machado et al. 2009 simulation), among colours of middle lightness (readable on the
  light and the dark palette) and clear chroma (no greys: grey means "no genre");
- beyond :data:`DISTINCT` genres, colours repeat with another mark (square, triangle, diamond),
  so two genres never share colour and mark;
- "no genre" is a hollow ring, unlike any genre's filled mark.

Pure numpy; ``QColor`` only where marks are drawn (``ui/library_map.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

OKABE_ITO = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
DISTINCT = 20  # colours before marks start to repeat them
MARKS = ("circle", "square", "triangle", "diamond")
NO_GENRE = "#8c8c8c"  # the ring's colour; no genre's colour is a grey
LIGHTNESS = (45.0, 78.0)  # CIELAB L* of the candidates
MIN_CHROMA = 35.0

# Machado, Oliveira & Fernandes (2009), severity 1: linear-RGB simulation of dichromacy.
_PROTAN = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                    [-0.003882, -0.048116, 1.051998]])
_DEUTAN = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                    [-0.011820, 0.042940, 0.968881]])


def hex_to_rgb(colours) -> np.ndarray:
    """("#rrggbb", ...) -> (n, 3) floats in 0..1."""
    return np.array([[int(c[i:i + 2], 16) / 255.0 for i in (1, 3, 5)] for c in colours])


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def lab_of_linear(lin: np.ndarray) -> np.ndarray:
    """Linear sRGB (n, 3) -> CIELAB (D65)."""
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = np.clip(lin, 0, 1) @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def views(rgb: np.ndarray) -> list[np.ndarray]:
    """CIELAB of the colours as seen with normal vision, by a protanope and by a deuteranope."""
    lin = _linear(rgb)
    return [lab_of_linear(lin), lab_of_linear(lin @ _PROTAN.T), lab_of_linear(lin @ _DEUTAN.T)]


def min_distance(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """(len(a[0]), len(b[0])) the smallest CIELAB distance over the three views."""
    return np.min([np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2) for x, y in zip(a, b)], axis=0)


@lru_cache(maxsize=1)
def palette() -> tuple[str, ...]:
    """:data:`DISTINCT` colours, the most distinguishable first (see the module docstring)."""
    steps = np.arange(0, 256, 15) / 255.0
    grid = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = views(grid)[0]
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    keep = (lab[:, 0] >= LIGHTNESS[0]) & (lab[:, 0] <= LIGHTNESS[1]) & (chroma >= MIN_CHROMA)
    candidates = grid[keep]
    seen = views(candidates)
    chosen = hex_to_rgb(OKABE_ITO)
    nearest = min_distance(seen, views(chosen)).min(axis=1)
    picks = [tuple(c) for c in chosen]
    while len(picks) < DISTINCT:
        i = int(np.argmax(nearest))
        picks.append(tuple(candidates[i]))
        nearest = np.minimum(nearest, min_distance(seen, views(candidates[i:i + 1]))[:, 0])
    return tuple("#" + "".join(f"{round(v * 255):02x}" for v in rgb) for rgb in picks)


def assign(genres_by_count: list[str]) -> dict[str, tuple[str, str]]:
    """genre -> (colour, mark), the first genres (the most tracks) getting the first colours."""
    colours = palette()
    return {g: (colours[i % len(colours)], MARKS[(i // len(colours)) % len(MARKS)])
            for i, g in enumerate(genres_by_count)}
