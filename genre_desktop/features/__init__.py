"""features layer: everything computed from samples (see DESIGN.md).

- ``gtzan``: the 57-column GTZAN feature vector (``extract_features``, ``warm_up``, ``FEATURE_COLUMNS``,
  ``RECIPE_VERSION``), one code path for training and inference.
- ``segments``: choosing analysis windows in long tracks (``plan_segments``) and ``is_silent``.
- ``mel``: display mel spectrograms (``mel_spectrogram``, ``MelSpectrogram``) and their disk cache
  (``SpectrogramCache``).

The names are re-exported lazily so that importing, say, ``segments`` does not pull in librosa.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FEATURE_COLUMNS": "gtzan",
    "RECIPE_VERSION": "gtzan",
    "extract_features": "gtzan",
    "warm_up": "gtzan",
    "plan_segments": "segments",
    "is_silent": "segments",
    "MelSpectrogram": "mel",
    "mel_spectrogram": "mel",
    "SpectrogramCache": "mel",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
