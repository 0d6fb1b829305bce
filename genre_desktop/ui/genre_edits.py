"""What the genre editor edits, without widgets: the librarian's own genres in the genre tree and
how each genre is written in tags (``Settings.user_genres`` and ``Settings.aliases``).

Every change goes through the one identity rule (``core.canonical_genre``): a new genre that names a
genre already there (a tree genre, one of the librarian's, or an alias spelling) merges into it and
the message says so; a spelling that names another genre is refused with the reason.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from genre_desktop.core.genre import default_tree
from genre_desktop.core.genre_spelling import add_user_genres, parse_user_genres, tidy
from genre_desktop.core.genre_tree import GenreNode, GenreTree

SEP = " › "


class GenreEdits:
    """The librarian's genres and spellings as edited; :meth:`tree` is the tree they make.

    Alias labels that name no genre of the tree (a label of a model the librarian trained) are
    listed as their own genres at the top level, so every spelling has a row to edit.
    """

    def __init__(self, aliases: Mapping[str, str], user_genres: Iterable = ()) -> None:
        self._tree: GenreTree | None = None
        self.aliases: dict[str, str] = {str(k): str(v) for k, v in aliases.items()}
        self.user: list[dict] = []
        self.notes: list[str] = []  # what loading merged, to show once
        base = default_tree()
        for name, parent in parse_user_genres(user_genres):
            self._append(name, parent, base)
        for label in list(self.aliases):
            if self.tree().resolve(label) is None and tidy(label):
                self.user.append({"name": tidy(label), "parent": None})
                self._tree = None

    def _append(self, name: str, parent: str | None, base: GenreTree) -> None:
        found = self.tree().resolve(name, self.aliases)
        if found is None:
            self.user.append({"name": name, "parent": parent})
            self._tree = None
        elif not found.user:
            self.notes.append(f"Your genre “{name}” is {describe(found, base)} in the genre tree: merged into it.")

    # -- reading ----------------------------------------------------------------------------------
    def tree(self) -> GenreTree:
        if self._tree is None:
            self._tree = add_user_genres(default_tree(), self.user)
        return self._tree

    def spelling(self, node: GenreNode) -> tuple[str, bool]:
        """(how ``node`` is written, whether the librarian chose it) under the current aliases."""
        tree = self.tree()
        for label, spelled in self.aliases.items():
            if tree.canonical(label) == node.key and tidy(spelled):
                return tidy(spelled), True
        return node.name, False

    def user_genres(self) -> list[dict]:
        """``Settings.user_genres`` as edited (parents as node keys)."""
        return [{"name": u["name"], "parent": u["parent"]} for u in self.user]

    # -- changing ---------------------------------------------------------------------------------
    def set_spelling(self, key: str, text: str) -> str | None:
        """Write ``key``'s genre as ``text`` (blank: as its name). Returns why not, or None."""
        tree = self.tree()
        node = tree.node(key)
        text = tidy(text)
        named = tree.resolve(text) if text else None
        if named is not None and named.key != node.key:
            return (f"“{text}” is another genre ({describe(named, tree)}): a spelling of "
                    f"{node.name} must name {node.name}.")
        labels = [label for label in self.aliases if tree.canonical(label) == node.key]
        if not text or text == node.name:
            for label in labels:
                del self.aliases[label]
            return None
        label = labels[0] if labels else (node.key if not node.user else node.name)
        for other in labels[1:]:
            del self.aliases[other]
        self.aliases[label] = text
        return None

    def add(self, name: str, parent: str | None) -> tuple[str, str | None]:
        """Add the librarian's genre ``name`` under ``parent`` (a key; None: the top level).

        Returns (what happened, the key of the row to show)."""
        name = tidy(name)
        if not name:
            return "Type the name of the genre to add.", None
        tree = self.tree()
        found = tree.resolve(name, self.aliases)
        if found is not None:
            if found.user:
                return f"“{name}” is your genre {found.name} already ({describe(found, tree)}).", found.key
            return (f"“{name}” is {describe(found, tree)} in the genre tree: merged into it, nothing added. "
                    f"Its spelling in tags is set on its row."), found.key
        self.user.append({"name": name, "parent": parent})
        self._tree = None
        added = self.tree().resolve(name)
        where = f"under {describe(tree.node(parent), tree)}" if parent else "at the top level"
        return f"Added {name} {where}.", added.key if added else None

    def move(self, key: str, parent: str | None) -> str:
        tree = self.tree()
        node = tree.node(key)
        if not node.user:
            return f"{node.name} is a genre of the tree; only your own genres move."
        if parent is not None and tree.is_under(parent, key):
            return f"{node.name} cannot go under itself or under a genre below it."
        for entry in self.user:
            if tree.canonical(entry["name"]) == key:
                entry["parent"] = parent
        self._tree = None
        return f"Moved {node.name} " + (f"under {describe(tree.node(parent), tree)}." if parent else "to the top level.")

    def remove(self, key: str) -> str:
        tree = self.tree()
        node = tree.node(key)
        if not node.user:
            return f"{node.name} is a genre of the tree; it stays (clear its spelling to write it as {node.name})."
        for entry in self.user:  # its own genres move up to its parent
            if entry["parent"] is not None and _parent_key(tree, entry["parent"]) == key:
                entry["parent"] = node.parent
        self.user = [e for e in self.user if tree.canonical(e["name"]) != key]
        for label in [label for label in self.aliases if tree.canonical(label) == key]:
            del self.aliases[label]
        self._tree = None
        return f"Removed {node.name}."


def describe(node: GenreNode, tree: GenreTree) -> str:
    """``node``'s place: "Electronic › Drum and Bass" (its path in the tree)."""
    return SEP.join(tree.path(node))


def _parent_key(tree: GenreTree, parent: str) -> str | None:
    if parent in tree:
        return parent
    found = tree.resolve(parent)
    return found.key if found is not None else None
