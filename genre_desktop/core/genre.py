"""One genre identity for every layer, resolved into one genre tree.

When are two genre names the same genre? When :func:`canonical_genre` gives them the same key.
"Hip-Hop", "hip hop", "HipHop", "hiphop" (the bundled label) are one genre; so are "R&B", "RnB" and
"Rhythm and Blues", "Drum and Bass", "Drum & Bass", "Drum'n'Bass" and "DnB". Every place that
compares, groups, filters, completes or writes genres goes through it; there is no second rule.

The tree
    AudioSet's "Music genre" subtree with names for tags (``genre_tree.json`` beside this module,
    built by ``tools/build_genre_tree.py``, CC BY-SA 4.0: ``genre_tree.LICENSE.txt``), 65 genres
    under 25 top-level ones (Electronic > House, Techno, Drum and Bass > Jungle, ...). Each
    :class:`GenreNode` has a stable ``key`` ("hip-hop", "drum-and-bass"), a ``name`` for tags
    ("Hip-Hop"), its ``parent`` key (None at the top), its ``audioset_id``, its ``class_index``
    when it is one of the AudioSet tagger's 527 outputs (the genre classes 216-265, Chant 30,
    Mantra 31), ``aliases``, ``also_under`` (its other parents in AudioSet's graph: the tree keeps
    one) and ``gtzan`` (the bundled label it is). GTZAN's ten: blues, classical, country, disco,
    hiphop (Hip-Hop), jazz, metal (Heavy Metal), pop, reggae, rock. Read once, on first use;
    nothing is read at import.

The name rule (:func:`name_key`)
    Case, spaces, hyphens and punctuation do not count, "&" is "and", a lone "n" between words is
    "and", a trailing "music" is dropped; letters of every script stay ("Música", "演歌").

API (all Qt-free; the functions use the default tree, the :class:`GenreTree` methods of the same
names work on any tree, e.g. one with the librarian's own genres):

- :func:`canonical_genre` ``(name, aliases=None) -> str``: THE identity. The key of the node the
  name resolves to, else ``name_key(name)`` (a genre that is no node, "Lo-fi" -> "lofi").
  ``aliases`` is ``Settings.aliases`` (label -> tag spelling): a spelling means its label, so with
  ``{"hiphop": "Urban"}`` "Urban" is Hip-Hop. A key to compare and group by, not a name to show.
- :func:`same_genre` ``(a, b, aliases=None) -> bool``.
- :func:`resolve` ``(name, aliases=None) -> GenreNode | None``: the node a name names.
- :func:`node` ``(key) -> GenreNode`` (KeyError if none); :func:`default_tree` ``() -> GenreTree``.
- :func:`path` ``(node or key) -> tuple[str, ...]``: names from the top level down to the node
  itself, ("Electronic", "House"); ``GenreTree.ancestors`` gives the nodes above it.
- :func:`children` ``(node or key or None)`` (None: the top level), :func:`descendants`
  ``(node or key)`` (depth first, without the node), ``GenreTree.is_under(node, ancestor)``.
- :func:`gtzan_nodes` ``() -> {"hiphop": <Hip-Hop>, ...}``; :func:`class_index_nodes`
  ``() -> {216: <Pop>, ...}``.
"""

from __future__ import annotations

from typing import Mapping

from genre_desktop.core.genre_tree import (
    GenreNode,
    GenreTree,
    NodeRef,
    default_tree,
    load_tree,
    name_key,
)

__all__ = [
    "GenreNode", "GenreTree", "canonical_genre", "children", "class_index_nodes", "default_tree",
    "descendants", "display_genre", "gtzan_nodes", "load_tree", "name_key", "node", "path", "resolve",
    "same_genre",
]


def canonical_genre(name: str, aliases: Mapping[str, str] | None = None) -> str:
    """The identity of a genre name (see the module docstring): its node's key, else its name key."""
    return default_tree().canonical(name, aliases)


def same_genre(a: str, b: str, aliases: Mapping[str, str] | None = None) -> bool:
    return canonical_genre(a, aliases) == canonical_genre(b, aliases)


def resolve(name: str, aliases: Mapping[str, str] | None = None) -> GenreNode | None:
    return default_tree().resolve(name, aliases)


def node(key: NodeRef) -> GenreNode:
    return default_tree().node(key)


def path(of: NodeRef) -> tuple[str, ...]:
    return default_tree().path(of)


def children(of: NodeRef | None = None) -> tuple[GenreNode, ...]:
    return default_tree().children(of)


def descendants(of: NodeRef) -> tuple[GenreNode, ...]:
    return default_tree().descendants(of)


def gtzan_nodes() -> dict[str, GenreNode]:
    return default_tree().gtzan()


def class_index_nodes() -> dict[int, GenreNode]:
    return default_tree().by_class_index()


def display_genre(name: str) -> str:
    """A genre name tidied for use as a class name: spaces collapsed, case-folded ("Drum  and Bass"
    -> "drum and bass"). Two names with one :func:`canonical_genre` may still differ here; pick one
    per identity (see ``training/dataset.py``)."""
    return " ".join(str(name).split()).casefold()
