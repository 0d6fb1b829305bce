"""The music-pretrained musicnn networks (MSD / MTT tags), run with onnxruntime.

The ONNX files come from ``tools/convert_musicnn.py``: input ``patches`` float32 [n, 187, 96]
(from ``features.musicnn_input.musicnn_patches``), outputs ``tags`` [n, 50] (sigmoid scores, each
in [0, 1], independent: they do not sum to one) and ``embedding`` [n, 200] (musicnn's
'penultimate' layer). Every patch gets its own embedding from the graph; musicnn's own extractor
repeats the first batch's embedding for all later patches, a bug we do not copy.

The sidecar ``<name>.meta.json`` holds the tag labels and ``genre_map`` (GTZAN label -> tags);
``genre_distribution`` turns tag scores into a distribution over the mapped labels.

:class:`MusicnnMember` is the manifest kind ``musicnn``: a network member. It provides
``"<name>:embedding"`` and ``"<name>:tags"`` (per window, per 3 s patch) to whoever reads them, and
reports its tag scores as ``Prediction.tags`` when the analysis chose it as a tag network. Its
units are 3 s patches; without an explicit count a window gives the analysis' ``tag_patches``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from genre_desktop.features.musicnn_input import (HOP_LENGTH, N_FFT, N_MELS, PATCH_FRAMES, RECIPE_VERSION,
                                                  musicnn_patches, n_patches, patch_starts)
from genre_desktop.features.resample import resample_span, resampled_length
from genre_desktop.inference.common import ModelError, session_options, spread_indices

log = logging.getLogger(__name__)

EMBEDDING_DIM = 200
MUSICNN_RATE = 16000
PATCHES_PER_RUN = 1  # patches per onnxruntime run: bounds the arena's peak (see MusicnnTagger.run)


class MusicnnTagger:
    """One musicnn network: log-mel patches in, tag scores and 200-d embeddings out."""

    def __init__(self, onnx_path: Path, labels: list[str], threads: int = 0,
                 genre_map: dict[str, list[str]] | None = None):
        """``threads``: onnxruntime intra-op threads (0 = onnxruntime's default, all cores)."""
        import onnxruntime as ort  # lazily: importing onnxruntime costs ~0.2 s

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
        more patches, that many evenly spaced ones are used (first and last included), as the
        analysis picks them (``common.spread_indices``).
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


WINDOW_RATE = 22050  # the analysed windows' rate (inference.inputs.SAMPLE_RATE)


def chosen_16k(y: np.ndarray, units: int) -> np.ndarray:
    """A 22,050 Hz window at 16 kHz where only the samples of its ``units`` chosen patches are
    resampled (``features.resample.resample_span``; the rest is zero and never read): two 3 s
    patches of a 30 s window cost a fifth of the whole resampling. 0 (all patches) or a window
    shorter than one patch: the whole window."""
    import soxr

    n16 = resampled_length(len(y), WINDOW_RATE, MUSICNN_RATE)
    if not units or n16 < PATCH_FRAMES * HOP_LENGTH:
        return soxr.resample(y, WINDOW_RATE, MUSICNN_RATE, quality="HQ").astype(np.float32)
    starts = patch_starts(1 + n16 // HOP_LENGTH)
    span = (PATCH_FRAMES - 1) * HOP_LENGTH + N_FFT  # the samples one patch's frames read
    y16 = np.zeros(n16, np.float32)
    for i in spread_indices(n_patches(n16), units):
        a = max(0, starts[i] * HOP_LENGTH - N_FFT // 2)
        b = min(n16, starts[i] * HOP_LENGTH - N_FFT // 2 + span)
        y16[a:b] = resample_span(y, WINDOW_RATE, MUSICNN_RATE, a, b - a)
    return y16


def window_patches(inputs, units: int) -> list[np.ndarray]:
    """Per window of ``inputs``, the musicnn log-mel patches [p, 187, 96] of ``units`` evenly spread
    3 s patches (0 = all); only the chosen patches' samples are resampled and only their frames
    computed. Both musicnn networks read the same patches: computed once per analysis."""
    def compute() -> list[np.ndarray]:
        out = []
        for _, _, y in inputs.windows:
            inputs.cancel.raise_if_cancelled()
            y16 = chosen_16k(y, units)
            out.append(musicnn_patches(y16, which=spread_indices(n_patches(len(y16)), units)))
        return out

    return inputs.memo(("musicnn_patches", int(units)), compute)


class MusicnnMember:
    """A ``musicnn`` member: a tagging network (see the module docstring)."""

    kind = "musicnn"
    votes = False
    gives_tags = True
    needs = frozenset({"outputs"})
    reads: frozenset[str] = frozenset()
    default_units = None  # the analysis' tag_patches

    @staticmethod
    def provides_of(entry) -> frozenset[str]:
        return frozenset({f"{entry.name}:embedding", f"{entry.name}:tags"})

    def __init__(self, entry, threads: int = 0) -> None:
        self.name = entry.name
        self.labels = list(entry.labels)
        self.provides = self.provides_of(entry)
        if entry.feature_recipe and entry.feature_recipe != RECIPE_VERSION:
            raise ModelError(f"model {entry.name!r} was built for the input recipe {entry.feature_recipe!r}; "
                             f"this app computes {RECIPE_VERSION!r}")
        try:
            self.network = MusicnnTagger(entry.path, entry.labels, threads=threads,
                                         genre_map=entry.raw.get("genre_map"))
        except (ValueError, OSError) as exc:
            raise ModelError(f"model {entry.name!r}: {exc}") from exc
        except Exception as exc:  # onnxruntime's own exception types
            raise ModelError(f"model {entry.name!r}: onnxruntime cannot load {entry.path}: {exc}") from exc

    @property
    def _session(self):
        return self.network._session

    def outputs(self, inputs, units: int) -> list[dict[str, np.ndarray]]:
        """Per window, {"embedding": (P, 200), "tags": (P, 50)} of its ``units`` patches; every
        window's patches in one run of the network."""
        per_window = window_patches(inputs, units)
        inputs.cancel.raise_if_cancelled()
        tags, embedding = self.network.run(np.concatenate(per_window))
        bounds = np.cumsum([len(p) for p in per_window])[:-1]
        return [{"embedding": e, "tags": t} for e, t in zip(np.split(embedding, bounds), np.split(tags, bounds))]

    def predict(self, inputs) -> np.ndarray:
        """(W, 50) each window's tag scores averaged over its patches."""
        return np.stack([out["tags"].mean(axis=0) for out in inputs.outputs(self.name)])

    def report(self, inputs) -> dict:
        """What it adds to the Prediction as a chosen tag network: its mean score per tag over
        every chosen patch of every window."""
        scores = np.concatenate([out["tags"] for out in inputs.outputs(self.name)]).mean(axis=0)
        return {"tags": {tag: float(s) for tag, s in zip(self.labels, scores)}}
