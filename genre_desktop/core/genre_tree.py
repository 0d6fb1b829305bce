"""The genre tree: AudioSet's "Music genre" subtree with names for tags, and the name rule.

The data is ``genre_tree.json`` beside this module (built by ``tools/build_genre_tree.py``;
CC BY-SA 4.0, see ``genre_tree.LICENSE.txt``), read once on first use. The API, re-exported by
``genre_desktop.core.genre`` (which adds the module-level shortcuts on the default tree), is
documented there.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Union

DATA_FILE = "genre_tree.json"
LICENCE_FILE = "genre_tree.LICENSE.txt"

# Everything but letters and digits (any script: "Música", "演歌" keep their letters).
_SEPARATORS = re.compile(r"[\W_]+")


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """The spelling-insensitive key of a genre name: what two spellings of one name share.

    Case, spaces, hyphens and punctuation do not count, "&" is "and", a lone "n" between words is
    "and" ("Drum'n'Bass"), and a trailing word "music" is dropped ("Soul Music" is "Soul"); Unicode
    is compared in NFKC form. Letters of every script stay. A name of punctuation only is itself.
    """
    folded = unicodedata.normalize("NFKC", str(name)).casefold()
    words = [w for w in _SEPARATORS.split(folded.replace("&", " and ")) if w]
    last = len(words) - 1
    words = ["and" if w == "n" and 0 < i < last else w for i, w in enumerate(words)]
    if len(words) > 1 and words[-1] == "music":
        words.pop()
    return "".join(words) or " ".join(folded.split())


def alias_index(aliases: Mapping[str, str] | None) -> Mapping[str, str]:
    """name_key of each alias's label and spelling -> name_key of its label (the first alias wins)."""
    if not aliases:
        return {}
    return _alias_index(tuple((str(k), str(v)) for k, v in aliases.items()))


@lru_cache(maxsize=64)
def _alias_index(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    index: dict[str, str] = {}
    for label, spelling in items:
        target = name_key(label)
        index.setdefault(name_key(spelling), target)
        index.setdefault(target, target)
    return index


@dataclass(frozen=True)
class GenreNode:
    """One genre of the tree. ``key`` is stable (settings and analyses store it); ``name`` is the
    spelling shown and written; ``parent`` is a key (None: top level). ``audioset_id`` and
    ``class_index`` (the tagger's output index, None when the network has no output for it) tie it
    to AudioSet; ``also_under``: its other parents in AudioSet's graph; ``gtzan``: the bundled
    label it is; ``user``: added by the librarian, not from AudioSet."""

    key: str
    name: str
    parent: str | None = None
    audioset_id: str | None = None
    class_index: int | None = None
    aliases: tuple[str, ...] = ()
    also_under: tuple[str, ...] = ()
    gtzan: str | None = None
    user: bool = False

    def spellings(self) -> tuple[str, ...]:
        """Every spelling that names this node (beyond the variations name_key() ignores)."""
        return (self.name, self.key, *self.aliases, *((self.gtzan,) if self.gtzan else ()))


NodeRef = Union[GenreNode, str]


class GenreTree:
    """An immutable tree of :class:`GenreNode`, iterated depth first in the ontology's order."""

    def __init__(self, nodes: Iterable[GenreNode]) -> None:
        given = list(nodes)
        by_key: dict[str, GenreNode] = {}
        for node in given:
            if node.key in by_key:
                raise ValueError(f"genre tree: two nodes have the key {node.key!r}")
            by_key[node.key] = node
        children: dict[str | None, list[str]] = {}
        for node in given:
            if node.parent is not None and node.parent not in by_key:
                raise ValueError(f"genre tree: {node.name!r} has an unknown parent {node.parent!r}")
            children.setdefault(node.parent, []).append(node.key)
        order: list[str] = []
        stack = list(reversed(children.get(None, [])))
        while stack:
            key = stack.pop()
            order.append(key)
            stack.extend(reversed(children.get(key, [])))
        if len(order) != len(given):
            raise ValueError("genre tree: a parent chain loops")
        self._nodes = {key: by_key[key] for key in order}
        self._children = {k: tuple(v) for k, v in children.items()}
        self._by_name: dict[str, str] = {}
        for node in self._nodes.values():
            for spelling in node.spellings():
                self._by_name.setdefault(name_key(spelling), node.key)

    # -- the nodes ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[GenreNode]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, item: object) -> bool:
        key = item.key if isinstance(item, GenreNode) else item
        return isinstance(key, str) and key in self._nodes

    def node(self, key: NodeRef) -> GenreNode:
        """The node of ``key`` (or the tree's own copy of a node); KeyError if there is none."""
        wanted = key.key if isinstance(key, GenreNode) else key
        try:
            return self._nodes[wanted]
        except KeyError:
            raise KeyError(f"no genre with the key {wanted!r}") from None

    def get(self, key: str | None) -> GenreNode | None:
        return self._nodes.get(key) if key is not None else None

    # -- names -------------------------------------------------------------------------------
    def resolve(self, name: str, aliases: Mapping[str, str] | None = None) -> GenreNode | None:
        """The node a genre name names, through ``aliases`` (label -> tag spelling), or None."""
        key = name_key(name)
        key = alias_index(aliases).get(key, key)
        found = self._by_name.get(key)
        return self._nodes[found] if found is not None else None

    def canonical(self, name: str, aliases: Mapping[str, str] | None = None) -> str:
        """The identity of a name: its node's key, else name_key() of the name (or its alias label)."""
        key = name_key(name)
        key = alias_index(aliases).get(key, key)
        found = self._by_name.get(key)
        return found if found is not None else key

    # -- shape -------------------------------------------------------------------------------
    def parent(self, node: NodeRef) -> GenreNode | None:
        return self.get(self.node(node).parent)

    def ancestors(self, node: NodeRef) -> tuple[GenreNode, ...]:
        """The node's ancestors from the top level down, without the node."""
        chain = []
        current = self.parent(node)
        while current is not None:
            chain.append(current)
            current = self.parent(current)
        return tuple(reversed(chain))

    def path(self, node: NodeRef) -> tuple[str, ...]:
        """Names from the top level down to the node itself: ("Electronic", "House")."""
        found = self.node(node)
        return tuple(a.name for a in self.ancestors(found)) + (found.name,)

    def children(self, node: NodeRef | None = None) -> tuple[GenreNode, ...]:
        """The node's children in tree order; ``None``: the top level."""
        key = None if node is None else self.node(node).key
        return tuple(self._nodes[k] for k in self._children.get(key, ()))

    def descendants(self, node: NodeRef) -> tuple[GenreNode, ...]:
        """Every node below ``node`` (children, their children, ...), depth first, without it."""
        out: list[GenreNode] = []
        stack = list(reversed(self.children(node)))
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(reversed(self.children(current)))
        return tuple(out)

    def roots(self) -> tuple[GenreNode, ...]:
        return self.children(None)

    def is_under(self, node: NodeRef, ancestor: NodeRef) -> bool:
        """``node`` is ``ancestor`` or below it."""
        target = self.node(ancestor).key
        current: GenreNode | None = self.node(node)
        while current is not None:
            if current.key == target:
                return True
            current = self.get(current.parent)
        return False

    # -- the two maps the models need ----------------------------------------------------------
    def gtzan(self) -> dict[str, GenreNode]:
        """The bundled GTZAN label ("hiphop", "metal", ...) -> its node."""
        return {n.gtzan: n for n in self if n.gtzan}

    def by_class_index(self) -> dict[int, GenreNode]:
        """The AudioSet tagger's output index (216-265) -> its node."""
        return {n.class_index: n for n in self if n.class_index is not None}


def node_from_json(raw: Mapping) -> GenreNode:
    return GenreNode(
        key=str(raw["key"]), name=str(raw["name"]), parent=raw.get("parent"),
        audioset_id=raw.get("audioset_id"), class_index=raw.get("class_index"),
        aliases=tuple(raw.get("aliases") or ()), also_under=tuple(raw.get("also_under") or ()),
        gtzan=raw.get("gtzan"), user=bool(raw.get("user", False)),
    )


def read_tree_document(path: str | Path | None = None) -> dict:
    """The data file as a dict (``path`` None: the one shipped in the package)."""
    if path is None:
        text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return json.loads(text)


def load_tree(path: str | Path | None = None) -> GenreTree:
    return GenreTree(node_from_json(raw) for raw in read_tree_document(path)["nodes"])


_default: GenreTree | None = None
_default_lock = threading.Lock()


def default_tree() -> GenreTree:
    """The shipped tree, read on first use and shared (it is immutable)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = load_tree()
    return _default
