"""The input vector of an embedding-head member: statistics of the musicnn networks' outputs.

One function, :func:`embedding_stats`, used both when a head is trained (``tools/``) and when it
runs in the app (``inference/members.py``), so the two can never drift apart.

A statistic is named ``"<network>.<output>.<statistic>"``, e.g. ``"musicnn_msd.embedding.mean"``:

- ``network``: the manifest name of a musicnn network (``musicnn_msd``, ``musicnn_mtt``);
- ``output``: one of that network's per-patch outputs (``embedding`` (P, 200), ``tags`` (P, 50));
- ``statistic``: ``mean``, ``max`` or ``std`` (population std, ddof=0) over the window's P patches.

The vector is the concatenation of the statistics in the order listed, float32.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = ["STATISTICS", "embedding_stats", "parse_stat", "stat_networks"]

STATISTICS = {
    "mean": lambda a: a.mean(axis=0),
    "max": lambda a: a.max(axis=0),
    "std": lambda a: a.std(axis=0),
}


def parse_stat(name: str) -> tuple[str, str, str]:
    """``"net.output.statistic"`` -> (net, output, statistic); ValueError if malformed or unknown."""
    parts = str(name).rsplit(".", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"statistic {name!r} is not 'network.output.statistic'")
    if parts[2] not in STATISTICS:
        raise ValueError(f"statistic {name!r}: unknown statistic {parts[2]!r}; expected one of {sorted(STATISTICS)}")
    return parts[0], parts[1], parts[2]


def stat_networks(stats: list[str]) -> list[str]:
    """The networks ``stats`` read, in first-mention order (ValueError if a name is malformed)."""
    return list(dict.fromkeys(parse_stat(s)[0] for s in stats))


def embedding_stats(outputs: Mapping[str, Mapping[str, np.ndarray]], stats: list[str]) -> np.ndarray:
    """The concatenated ``stats`` over one window's patches, float32 1-D.

    ``outputs``: network -> output -> per-patch array (P, D) of that window, e.g.
    ``{"musicnn_msd": {"embedding": (P, 200), "tags": (P, 50)}, ...}``. Raises ValueError for a
    malformed statistic name, a missing network or output, or a window without patches.
    """
    if not stats:
        raise ValueError("no statistics requested")
    parts = []
    for name in stats:
        net, output, statistic = parse_stat(name)
        try:
            values = np.asarray(outputs[net][output], dtype=np.float32)
        except KeyError:
            raise ValueError(f"statistic {name!r}: no output {output!r} of network {net!r} "
                             f"(have {sorted((n, sorted(o)) for n, o in outputs.items())})") from None
        if values.ndim != 2 or values.shape[0] == 0:
            raise ValueError(f"statistic {name!r}: expected (patches, dims) with at least one patch, "
                             f"got {values.shape}")
        parts.append(STATISTICS[statistic](values))
    return np.concatenate(parts).astype(np.float32)
