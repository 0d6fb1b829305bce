"""One genre identity for every layer: when are two genre names the same genre?

"Hip-Hop", "hip hop", "HipHop" and "hip_hop" are one genre; so are an alias spelling and the label
it spells ("Hip-Hop" and the bundled label "hiphop"). The review queue, the write plan, the
training set and the colours all compare genres through :func:`canonical_genre`.
"""

from __future__ import annotations

import re
from typing import Mapping

# Everything but letters and digits (any script: "Música", "演歌" keep their letters).
_SEPARATORS = re.compile(r"[\W_]+")


def _key(name: str) -> str:
    folded = str(name).casefold()
    key = _SEPARATORS.sub("", folded)
    return key or " ".join(folded.split())  # a name of punctuation only is still itself


def canonical_genre(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """The identity of a genre name: case, spaces, hyphens and punctuation do not count.

    With ``aliases`` (label -> tag spelling, as in ``Settings.aliases``) a spelling maps back to
    its label's identity, so "Hip-Hop" and "hiphop" are one genre whatever the alias says.
    The result is a key to compare and group by, not a name to show.
    """
    key = _key(name)
    for label, spelling in (aliases or {}).items():
        if key == _key(spelling) or key == _key(label):
            return _key(label)
    return key


def same_genre(a: str, b: str, aliases: Mapping[str, str] | None = None) -> bool:
    return canonical_genre(a, aliases) == canonical_genre(b, aliases)


def display_genre(name: str) -> str:
    """A genre name tidied for use as a class name: spaces collapsed, case-folded ("Drum  and Bass"
    -> "drum and bass"). Two names with one :func:`canonical_genre` may still differ here; pick one
    per identity (see ``training/dataset.py``)."""
    return " ".join(str(name).split()).casefold()
