"""One spelling per genre identity: what a write puts in the tag, what completion offers, what a
training class is called.

"Lo-fi", "lo-fi" and "Lo-Fi" are one genre (:func:`canonical_genre`), so a write must give them one
spelling. The spelling of an identity is, first that applies:

1. the librarian's alias for it (``Settings.aliases``: label -> spelling; "hiphop" -> "Hip-Hop");
2. its node's name: the librarian's own genre as they spelled it in the genre editor, or the tree's
   name ("Drum and Bass" for "DnB");
3. the spelling the library uses most for it (files' genre tags and choices, ties: the first in
   code-point order), so a write follows the files already tagged;
4. the name as given, with its spaces tidied.

Rules 1-2 need only the settings; rule 3 needs the library's spellings (:meth:`GenreSpelling.note`).
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

from genre_desktop.core.genre_tree import GenreNode, GenreTree, default_tree, name_key

log = logging.getLogger(__name__)


def tidy(name: str) -> str:
    """A genre name with its spaces collapsed and trimmed ("  Drum  and Bass " -> "Drum and Bass")."""
    return " ".join(str(name).split())


def parse_user_genres(entries: Iterable) -> tuple[tuple[str, str | None], ...]:
    """``Settings.user_genres`` (``[{"name": ..., "parent": key or None}]``) as (name, parent) pairs;
    entries without a name (a hand-edited file: ``Settings.load`` says so once) are skipped."""
    out = []
    for entry in entries or ():
        name = entry.get("name") if isinstance(entry, Mapping) else None
        parent = entry.get("parent") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not tidy(name):
            continue
        out.append((tidy(name), parent if isinstance(parent, str) and parent.strip() else None))
    return tuple(out)


def add_user_genres(tree: GenreTree, entries: Iterable) -> GenreTree:
    """``tree`` with the librarian's genres (``Settings.user_genres``) added.

    An entry whose name already names a node (after :func:`name_key` and the tree's aliases) merges
    into that node: nothing is added. The parent is a node key (or a name of a node); an unknown
    parent, or one that only loops back, puts the genre at the top level.
    """
    nodes = list(tree)
    known = tree
    pending = list(parse_user_genres(entries))
    while pending:  # a genre may sit under another of the librarian's genres listed after it
        waiting, placed = [], False
        for name, parent in pending:
            if known.resolve(name) is not None:
                continue  # it names a node already: merged into it
            target = _parent_key(known, parent)
            if parent is not None and target is None:
                waiting.append((name, parent))
                continue
            nodes.append(GenreNode(key=name_key(name), name=name, parent=target, user=True))
            known, placed = GenreTree(nodes), True
        if waiting and not placed:  # its parent is no genre, or the parents loop: the top level
            name, parent = waiting.pop(0)
            log.info("genre %r: its parent %r is no genre; placed at the top level", name, parent)
            if known.resolve(name) is None:
                nodes.append(GenreNode(key=name_key(name), name=name, user=True))
                known = GenreTree(nodes)
        pending = waiting
    return known


def _parent_key(tree: GenreTree, parent: str | None) -> str | None:
    if parent is None:
        return None
    if parent in tree:
        return parent
    found = tree.resolve(parent)
    return found.key if found is not None else None


@lru_cache(maxsize=16)
def _user_tree(pairs: tuple[tuple[str, str | None], ...]) -> GenreTree:
    return add_user_genres(default_tree(), [{"name": n, "parent": p} for n, p in pairs])


def user_tree(user_genres: Iterable = ()) -> GenreTree:
    """The default tree with the librarian's genres added (cached per list of genres)."""
    pairs = parse_user_genres(user_genres)
    return _user_tree(pairs) if pairs else default_tree()


class GenreSpelling:
    """The one spelling of each genre identity (rules in the module docstring).

    ``aliases``: ``Settings.aliases``; ``tree``: the tree with the librarian's genres
    (:func:`user_tree`); ``used``: spellings the library holds (each counts once per use).
    """

    def __init__(self, aliases: Mapping[str, str] | None = None, tree: GenreTree | None = None,
                 used: Iterable[str] = ()) -> None:
        self.aliases = dict(aliases or {})
        self.tree = tree if tree is not None else default_tree()
        self._chosen: dict[str, str] = {}
        self._labels: dict[str, str] = {}
        for label, spelling in self.aliases.items():
            identity = self.tree.canonical(label)
            if tidy(spelling):
                self._chosen.setdefault(identity, tidy(spelling))
            self._labels.setdefault(identity, str(label))
        self._seen: dict[str, Counter[str]] = {}
        self._identity_of: dict[str, str] = {}
        self.note_all(used)

    def identity(self, name: str) -> str:
        """:func:`canonical_genre` under these aliases and tree."""
        found = self._identity_of.get(name)
        if found is None:
            found = self._identity_of[name] = self.tree.canonical(name, self.aliases)
        return found

    def note(self, name: str, times: int = 1) -> str:
        """Record a use of the spelling ``name`` (rule 3); returns its identity."""
        identity = self.identity(name)
        spelled = tidy(name)
        if spelled:
            self._seen.setdefault(identity, Counter())[spelled] += times
        return identity

    def note_all(self, names: Iterable[str]) -> None:
        for name, times in Counter(str(n) for n in names).items():  # many tracks, few spellings
            self.note(name, times)

    def spell(self, name: str) -> str:
        """The one spelling of ``name``'s genre."""
        return self.spell_identity(self.identity(name), name)

    def spell_identity(self, identity: str, fallback: str = "") -> str:
        if identity in self._chosen:
            return self._chosen[identity]
        node = self.tree.get(identity)
        if node is not None:
            return node.name
        seen = self._seen.get(identity)
        if seen:
            return min(seen, key=lambda s: (-seen[s], s))
        return tidy(fallback) or identity

    def label(self, identity: str) -> str | None:
        """The alias label (a model's label, e.g. "hiphop") of an identity, if the aliases name one."""
        return self._labels.get(identity)

    def names(self, extra: Sequence[str] = ()) -> list[str]:
        """One spelling per genre: every node of the tree, every aliased and noted genre, and
        ``extra`` names (sorted, case-insensitively)."""
        spelled = {i: self.spell_identity(i) for i in (*(n.key for n in self.tree), *self._chosen, *self._seen)}
        for name in extra:
            identity = self.identity(name)
            if identity not in spelled:
                spelled[identity] = self.spell_identity(identity, name)
        return sorted(set(spelled.values()), key=lambda s: (s.casefold(), s))


@lru_cache(maxsize=16)
def _spelling(aliases: tuple[tuple[str, str], ...], pairs: tuple[tuple[str, str | None], ...]) -> GenreSpelling:
    return GenreSpelling(dict(aliases), _user_tree(pairs) if pairs else default_tree())


def spelling_for(aliases: Mapping[str, str] | None, user_genres: Iterable = ()) -> GenreSpelling:
    """The settings' spelling (rules 1, 2 and 4; no library counts), shared per settings.

    Do not :meth:`~GenreSpelling.note` into it: make a ``GenreSpelling`` of your own for that.
    """
    items = tuple((str(k), str(v)) for k, v in (aliases or {}).items())
    return _spelling(items, parse_user_genres(user_genres))
