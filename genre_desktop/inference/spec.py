"""A frozen, picklable description of an analysis: everything needed to build an Analyzer anywhere.

The window, the CLI and worker processes (or cluster workers) all build their analyzer from one of
these, so a batch run and the window analyse a file identically. It holds only plain values
(strings, ints, bools), never loaded models: pickling it is cheap and it can cross a process or a
network boundary. ``build()`` loads and verifies the models in the process that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

__all__ = ["AnalysisSpec"]

DEFAULT_TAG_PATCHES = 2  # see analyzer.TAG_PATCHES_PER_WINDOW (kept equal; a test checks it)


@dataclass(frozen=True)
class AnalysisSpec:
    """What to analyse with, as plain values.

    ``models_dir``: the bundled models folder (None: the one shipped with the app).
    ``user_model_dir``: the folder of the active user model version (None: bundled models only).
    ``vector_cache_dir``: where analysed files' vectors are cached (None: no cache); the analyzer
    never writes it itself, its caller does (see ``Analyzer.analyze``).
    ``n_segments``: 30 s windows per track. ``threads``: onnxruntime intra-op threads per process
    (0: onnxruntime's default). ``musicnn``: run the tagging networks; ``tag_networks``: which of
    them give tags (None: every one the manifest lists; networks the vote reads run anyway).
    ``tag_patches``: 3 s patches per window for the tags (0: all).
    """

    models_dir: str | None = None
    user_model_dir: str | None = None
    vector_cache_dir: str | None = None
    n_segments: int = 5
    threads: int = 1
    musicnn: bool = True
    tag_patches: int = DEFAULT_TAG_PATCHES
    tag_networks: tuple[str, ...] | None = None

    def with_(self, **changes: Any) -> "AnalysisSpec":
        """A copy with some fields changed (the spec itself is immutable)."""
        return replace(self, **changes)

    def build(self):
        """Load and verify the models in this process. Raises ``ModelError`` with a clear reason."""
        from genre_desktop.inference.analyzer import Analyzer  # onnxruntime: lazy
        from genre_desktop.inference.user_model import UserModel

        user = UserModel.load(self.user_model_dir, self.threads) if self.user_model_dir else None
        return Analyzer(Path(self.models_dir) if self.models_dir else None,
                        n_segments=self.n_segments, threads=self.threads, musicnn=self.musicnn,
                        tag_patches=self.tag_patches, vector_cache=self.vector_cache_dir,
                        user_model=user, tag_networks=self.tag_networks)

    def vector_cache(self):
        """The ``VectorCache`` analyses with this spec belong in (None without ``vector_cache_dir``),
        for the process that stores their vectors; reads the manifest only, builds no model."""
        if not self.vector_cache_dir:
            return None
        from genre_desktop.inference.analyzer import vector_cache_recipe
        from genre_desktop.inference.manifest import load_manifest
        from genre_desktop.inference.vector_cache import VectorCache
        from genre_desktop.paths import bundled_models_dir

        manifest = load_manifest(self.models_dir or bundled_models_dir(), verify=False)
        return VectorCache(self.vector_cache_dir, vector_cache_recipe(manifest, self.n_segments, self.tag_patches))
