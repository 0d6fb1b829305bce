"""Which bundled members vote, with what weight, and which are only shown: from the manifest.

The manifest's ``ensemble.members`` gives every genre-predicting member a weight; a member votes
when its entry does not say ``"votes": false`` and its weight is above zero (the weights are shown
renormalised over the voters, as the vote uses them). The others (the study's custom CNN, members
whose fitted weight is 0) are "shown, not voting": their valid figure says why. The per-model
panel, the comparison report and ``models list`` all read :func:`member_roles`.

A member's valid figure is the accuracy its own training recorded on the GTZAN valid split: on the
feature table (classical members, ``metrics.valid``), on the valid audio (heads, ``valid_audio``)
or per clip (the CNN, ``valid_clip``). No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

# (metrics key, how it was measured), first found wins
VALID_KEYS = (("valid_audio", "valid audio"), ("valid_clip", "valid clips"), ("valid", "valid, feature table"))


@dataclass(frozen=True)
class MemberRole:
    name: str
    kind: str
    votes: bool
    weight: float  # share of the vote (0 for a member that does not vote)
    valid_accuracy: float | None
    valid_what: str = ""  # how the figure was measured

    def valid_text(self) -> str:
        """"valid 68%" (or "no valid figure")."""
        return f"valid {self.valid_accuracy:.0%}" if self.valid_accuracy is not None else "no valid figure"

    def role_text(self) -> str:
        """"votes, weight 51%" or "shown, not voting"."""
        return f"votes, weight {self.weight:.0%}" if self.votes else "shown, not voting"


def valid_figure(metrics: dict[str, Any]) -> tuple[float | None, str]:
    """(accuracy, how measured) from a member's ``metrics``, or (None, "")."""
    for key, what in VALID_KEYS:
        block = metrics.get(key)
        if isinstance(block, dict) and isinstance(block.get("accuracy"), (int, float)):
            return float(block["accuracy"]), what
    return None, ""


def member_roles(manifest) -> list[MemberRole]:
    """Every genre-predicting member of ``manifest`` (``inference.manifest.Manifest``): the voters by
    weight (largest first), then the members shown but not voting."""
    entries = [m for m in manifest.models if m.probability_output or m.name in manifest.weights]
    weights = {m.name: float(manifest.weights.get(m.name, 0.0)) for m in entries}
    voting = {m.name for m in entries if m.raw.get("votes", True) is not False and weights[m.name] > 0}
    total = sum(weights[n] for n in voting) or 1.0
    roles = []
    for m in entries:
        accuracy, what = valid_figure(m.metrics)
        votes = m.name in voting
        roles.append(MemberRole(m.name, m.kind, votes, weights[m.name] / total if votes else 0.0, accuracy, what))
    return sorted(roles, key=lambda r: (not r.votes, -r.weight, r.name))


def load_roles(models_dir) -> list[MemberRole]:
    """:func:`member_roles` of the bundle in ``models_dir`` (no file verification: only the manifest
    is read); [] when it cannot be read (the panel then shows the votes without roles)."""
    from genre_desktop.inference.manifest import ModelError, load_manifest

    try:
        return member_roles(load_manifest(models_dir, verify=False))
    except (ModelError, OSError, ValueError):
        return []


def describe_roles(roles: Iterable[MemberRole]) -> list[str]:
    """Text lines for a terminal or a log: the voters, then the members shown but not voting."""
    roles = list(roles)
    lines = []
    voters = [r for r in roles if r.votes]
    shown = [r for r in roles if not r.votes]
    if voters:
        lines.append("Voting members (share of the vote; accuracy on the GTZAN valid split):")
        lines += [f"  {r.name:<20} weight {r.weight:>4.0%}   {r.valid_text()} ({r.valid_what})" for r in voters]
    if shown:
        lines.append("Shown, not voting (weight 0: the fitted vote gives them no share):")
        lines += [f"  {r.name:<20} {'':>11}   {r.valid_text()}" + (f" ({r.valid_what})" if r.valid_what else "")
                  for r in shown]
    return lines
