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
- :func:`genre_matcher` ``(name, aliases=None, tree=None) -> (genres -> bool)``: the one genre
  filter. A filter by a genre includes the genres under it in the tree ("Electronic" finds House
  and Drum and Bass tracks; "Hip-Hop" finds the librarian's "Lo-fi" placed under it), as a folder
  includes its subfolders; a genre that is no node matches its own spellings only.

One spelling per genre (what a write puts in the tag, what completion offers) is
``core/genre_spelling.py``; the librarian's own genres join the tree there (``user_tree``).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

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
    "descendants", "genre_matcher", "gtzan_nodes", "load_tree", "name_key", "node", "path", "resolve",
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


def genre_matcher(name: str, aliases: Mapping[str, str] | None = None,
                  tree: GenreTree | None = None) -> Callable[[Iterable[str]], bool]:
    """A test of a track's genres: does one of them name ``name``'s genre or a genre under it in
    ``tree`` (default: the shipped tree; pass ``Settings.genre_tree()`` for the librarian's own)?"""
    tree = tree if tree is not None else default_tree()
    identity = tree.canonical(name, aliases)
    wanted = {identity}
    if identity in tree:
        wanted.update(n.key for n in tree.descendants(identity))
    seen: dict[str, bool] = {}  # a library holds few distinct genre strings

    def matches(genres: Iterable[str]) -> bool:
        for genre in genres:
            hit = seen.get(genre)
            if hit is None:
                hit = seen[genre] = tree.canonical(genre, aliases) in wanted
            if hit:
                return True
        return False

    return matches
