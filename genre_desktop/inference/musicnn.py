"""The music-pretrained musicnn networks (MSD / MTT tags), run with onnxruntime.

The ONNX files come from ``tools/convert_musicnn.py``: input ``patches`` float32 [n, 187, 96]
(from ``features.musicnn_input.musicnn_patches``), outputs ``tags`` [n, 50] (sigmoid scores, each
in [0, 1], independent: they do not sum to one) and ``embedding`` [n, 200] (musicnn's
'penultimate' layer). Every patch gets its own embedding from the graph; musicnn's own extractor
repeats the first batch's embedding for all later patches, a bug we do not copy.

The sidecar ``<name>.meta.json`` holds the tag labels and ``genre_map`` (GTZAN label -> tags);
``genre_distribution`` turns tag scores into a distribution over the mapped labels.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from genre_desktop.features.musicnn_input import N_MELS, PATCH_FRAMES, musicnn_patches

log = logging.getLogger(__name__)

EMBEDDING_DIM = 200
PATCHES_PER_RUN = 1  # patches per onnxruntime run: bounds the arena's peak (see MusicnnTagger.run)


class MusicnnTagger:
    """One musicnn network: log-mel patches in, tag scores and 200-d embeddings out."""

    def __init__(self, onnx_path: Path, labels: list[str], threads: int = 0,
                 genre_map: dict[str, list[str]] | None = None):
        """``threads``: onnxruntime intra-op threads (0 = onnxruntime's default, all cores)."""
        import onnxruntime as ort  # lazily: importing onnxruntime costs ~0.2 s

        from genre_desktop.inference.members import session_options

        options = session_options(threads)
        self.path = Path(onnx_path)
        self.labels = list(labels)
        self.genre_map = {g: list(t) for g, t in (genre_map or {}).items()}
        self._session = ort.InferenceSession(str(self.path), sess_options=options,
                                             providers=["CPUExecutionProvider"])
        outputs = {o.name: o.shape for o in self._session.get_outputs()}
        if set(outputs) != {"tags", "embedding"} or outputs["tags"][-1] != len(self.labels):
            raise ValueError(f"{self.path}: expected outputs tags[n,{len(self.labels)}] and "
                             f"embedding[n,{EMBEDDING_DIM}], got {outputs}")

    @classmethod
    def from_meta(cls, meta_path: Path, threads: int = 0) -> "MusicnnTagger":
        """Build from a ``<name>.meta.json`` sidecar (the ONNX file sits next to it)."""
        meta_path = Path(meta_path)
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return cls(meta_path.parent / meta["file"], meta["labels"], threads=threads,
                   genre_map=meta.get("genre_map"))

    def run(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tag scores float32 [n, 50] and embeddings float32 [n, 200] for patches [n, 187, 96]."""
        patches = np.ascontiguousarray(patches, dtype=np.float32)
        if patches.ndim != 3 or patches.shape[1:] != (PATCH_FRAMES, N_MELS):
            raise ValueError(f"expected patches [n, {PATCH_FRAMES}, {N_MELS}], got {patches.shape}")
        if patches.shape[0] == 0:
            return (np.zeros((0, len(self.labels)), np.float32), np.zeros((0, EMBEDDING_DIM), np.float32))
        # One patch per run: the activations of a batch of P patches take ~30 MB each in
        # onnxruntime's arena, which keeps its peak (6 patches: 380 MB per network and process);
        # one at a time peaks at ~110 MB and costs no more CPU (measured slightly less).
        runs = [self._session.run(["tags", "embedding"], {"patches": patches[i:i + PATCHES_PER_RUN]})
                for i in range(0, len(patches), PATCHES_PER_RUN)]
        tags = np.concatenate([t for t, _ in runs])
        embedding = np.concatenate([e for _, e in runs])
        return tags.astype(np.float32, copy=False), embedding.astype(np.float32, copy=False)

    def tags_and_embedding(self, y16k: np.ndarray, max_patches: int | None = None) -> tuple[dict[str, float], np.ndarray]:
        """Mean tag score per tag (dict, in label order) and mean embedding (200,) over patches.

        ``max_patches`` bounds the cost (about 50 ms per patch on one core): when the audio has
        more patches, that many evenly spaced ones are used (first and last included).
        """
        patches = musicnn_patches(y16k)
        patches = patches[spread_indices(len(patches), max_patches)]
        tags, embedding = self.run(patches)
        mean_tags = tags.mean(axis=0)
        return ({label: float(s) for label, s in zip(self.labels, mean_tags)},
                embedding.mean(axis=0).astype(np.float32))

    def genre_distribution(self, tag_scores: dict[str, float]) -> dict[str, float]:
        """This model's tag scores mapped onto genre labels with its ``genre_map``."""
        return genre_distribution(tag_scores, self.genre_map)


def spread_indices(n: int, limit: int | None) -> np.ndarray:
    """Indices of at most ``limit`` of ``n`` items, evenly spread, first and last included."""
    if limit is None or n <= limit:
        return np.arange(n)
    if limit < 1:
        raise ValueError("max_patches must be at least 1")
    if limit == 1:
        return np.array([n // 2])
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(int))


def genre_distribution(tag_scores: dict[str, float], genre_map: dict[str, list[str]]) -> dict[str, float]:
    """Map tag scores onto genre labels.

    score(label) = the highest score among the label's tags; the scores are then renormalised to
    sum to one over the labels that have at least one tag. Labels without tags are left out (not
    given zero): the caller decides how a partial distribution enters an ensemble. Returns {} when
    no label has a tag.
    """
    raw = {g: max(tag_scores[t] for t in tags) for g, tags in genre_map.items() if tags}
    total = sum(raw.values())
    if not raw:
        return {}
    if total <= 0.0:  # every mapped tag scored exactly zero: nothing to prefer
        return {g: 1.0 / len(raw) for g in raw}
    return {g: s / total for g, s in raw.items()}
