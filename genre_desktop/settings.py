"""User settings: one JSON file in the config folder, written atomically. Qt-free.

Passed to whoever needs it (no global instance). Immutable: a change makes a new Settings
(``settings.replace(volume=0.5)``) that the owner swaps in, so a worker thread that read the old
one never sees it half-changed. Unknown keys written by a newer version are
kept on save; a corrupt file is moved aside (``settings.json.corrupt``) and defaults are used.

The file records ``settings_version``. Version 1 files (none recorded) were written with every
value, chosen or not, so a value equal to the default of its day cannot be told from a choice:
when a default changes, such a value follows the new default and any other value (a choice) is
kept. Version 2 changed two: ``write_mode`` "replace" -> "add" (a file's other genres are kept)
and ``id3_version`` 4 -> "keep" (each file keeps its ID3 version).
"""

from __future__ import annotations

import json
import logging
import copy
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from genre_desktop.core.genre_spelling import GenreSpelling, parse_user_genres, spelling_for, user_tree
from genre_desktop.core.genre_tree import GenreTree
from genre_desktop.fsutil import atomic_write_json

log = logging.getLogger(__name__)

# How the bundled (lowercase GTZAN) labels are spelled in tags unless the user changes it.
DEFAULT_ALIASES = {
    "blues": "Blues",
    "classical": "Classical",
    "country": "Country",
    "disco": "Disco",
    "hiphop": "Hip-Hop",
    "jazz": "Jazz",
    "metal": "Metal",
    "pop": "Pop",
    "reggae": "Reggae",
    "rock": "Rock",
}

DEFAULT_TAG_NETWORKS = ("musicnn_msd",)
# The bundled tagging networks a user may choose for tags (name, what they tag, what they cost).
TAG_NETWORK_CHOICES = (
    ("musicnn_msd", "Genre, mood and era tags (MSD network)"),
    ("musicnn_mtt", "Instrument and voice tags (MTT network): slower, one more network per segment, "
                    "about a third more analysis time"),
)


SETTINGS_VERSION = 2
# Defaults that changed, by the version that changed them: a value equal to the old default in an
# older file was most likely never chosen (old files hold every value), so it takes the new one.
_CHANGED_DEFAULTS = {2: {"write_mode": "replace", "id3_version": 4}}
# Fields whose values are one of a few choices (a wrong one falls back to the default).
_CHOICES: dict[str, tuple[Any, ...]] = {
    "write_mode": ("add", "replace"),
    "id3_version": ("keep", 3, 4),
    "style_field": ("style", "grouping"),
    "genre_layout": ("genre", "style", "parent"),
}

# Where a write puts a genre that has a parent in the genre tree (House, under Electronic), with
# what the settings dialog and the CLI call each choice.
GENRE_LAYOUTS = (
    ("genre", "Only the genre: House"),
    ("style", "Parent + style: Electronic, style House"),
    ("parent", "Both, parent first: Electronic; House"),
)


@dataclass(frozen=True)
class Settings:
    last_library: str | None = None
    # Tag writing
    # "add": the chosen genres join what the file has (its secondary genres stay); "replace".
    write_mode: str = "add"
    max_genres: int = 1  # how many of the predicted genres to write
    # "keep": each file keeps its ID3 version (tagging.id3); 4 or 3 convert every file to it.
    id3_version: int | str = "keep"
    # Joins several values where a tag holds one (ID3v2.3, RIFF INFO) unless the file has its own.
    id3_separator: str = "; "
    # Where styles go: "style" (STYLE, what TagLib reads) or "grouping" (GROUPING).
    style_field: str = "style"
    # Where a chosen genre's parent goes (GENRE_LAYOUTS): "genre": the genre alone; "style": the
    # top-level parent in GENRE and the genre in the style field; "parent": both in GENRE.
    genre_layout: str = "genre"
    aliases: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ALIASES))
    # Undo data kept beside the journal (what gives files back byte for byte): the oldest writes'
    # data expires past these limits (0: no limit); those writes can still be undone genre by genre.
    undo_max_mb: int = 1024
    undo_max_days: int = 0
    # The librarian's own genres in the genre tree: [{"name": "Lo-fi", "parent": "hip-hop" or None}]
    # (parent: a node key; None: the top level). Edited in the genre editor (ui/alias_editor.py).
    user_genres: list = field(default_factory=list)
    # Analysis
    segments: int = 5
    cpu_threads: int = 0  # 0: let onnxruntime decide
    analysis_workers: int = 0  # worker processes analysing at once; 0: one per core
    # musicnn networks whose tags an analysis shows; each costs a network run per patch unless the
    # vote reads it anyway. MSD: genre, mood, era tags; MTT ("musicnn_mtt"): instruments, voices.
    tag_networks: list = field(default_factory=lambda: list(DEFAULT_TAG_NETWORKS))
    # Review and player
    bulk_threshold: float = 0.8
    volume: float = 0.8
    theme: str = "system"  # "system", "light" or "dark"
    extra: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` applied (dict fields are copied, never shared with the original)."""
        for name in ("aliases", "extra", "tag_networks", "user_genres"):
            if name not in changes:
                changes[name] = copy.deepcopy(getattr(self, name))
        return replace(self, **changes)

    def with_extra(self, **values: Any) -> "Settings":
        """A copy with keys of ``extra`` (window state, flags of other versions) set."""
        extra = copy.deepcopy(self.extra)
        extra.update(values)
        return self.replace(extra=extra)

    def spell(self, genre: str) -> str:
        """The one tag spelling of a genre (``core/genre_spelling.py``): its alias, else its node's
        name in the genre tree ("dnb" -> "Drum and Bass"), else the name as given (spaces tidied)."""
        return spelling_for(self.aliases, self.user_genres).spell(genre)

    def genre_tree(self) -> GenreTree:
        """The genre tree with the librarian's own genres."""
        return user_tree(self.user_genres)

    def spelling(self, used: Any = ()) -> GenreSpelling:
        """A spelling under these settings that also follows the library's spellings ``used``
        (file tags and choices: the most used spelling of a genre no alias or node spells)."""
        return GenreSpelling(self.aliases, self.genre_tree(), used)

    @classmethod
    def load(cls, path: str | Path) -> "Settings":
        target = Path(path)
        try:
            raw = json.loads(target.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("settings file does not hold a JSON object")
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            backup = target.with_name(target.name + ".corrupt")
            log.warning("settings file %s is unreadable (%s); moved to %s, using defaults", target, exc, backup)
            try:
                target.replace(backup)
            except OSError:
                pass
            return cls()
        known = {f.name for f in fields(cls)} - {"extra"}
        defaults = cls()
        version = raw.get("settings_version", 1)
        version = version if isinstance(version, int) else 1
        kwargs: dict[str, Any] = {}
        for name in known:
            if name in raw:
                value = raw[name]
                if _followed_new_default(name, value, version):
                    log.info("settings: %s=%r was the default before; now %r", name, value, getattr(defaults, name))
                    continue
                expected = type(getattr(defaults, name))
                if name in _CHOICES:
                    if value in _CHOICES[name] and type(value) is not bool:
                        kwargs[name] = value
                    else:
                        log.warning("settings: ignoring %s=%r (expected one of %s)", name, value, _CHOICES[name])
                elif getattr(defaults, name) is None or isinstance(value, expected) or (
                    expected is float and isinstance(value, int)
                ):
                    kwargs[name] = value
                else:
                    log.warning("settings: ignoring %s=%r (expected %s)", name, value, expected.__name__)
        if "user_genres" in kwargs:  # an entry of a newer version keeps its other keys
            good = [e for e in kwargs["user_genres"] if parse_user_genres([e])]
            if len(good) != len(kwargs["user_genres"]):
                log.warning("settings: ignoring %d genre entries without a name",
                            len(kwargs["user_genres"]) - len(good))
            kwargs["user_genres"] = good
        extra = {k: v for k, v in raw.items() if k not in known and k != "settings_version"}
        return cls(**kwargs, extra=extra)

    def save(self, path: str | Path) -> None:
        data = asdict(self)
        data.update(data.pop("extra"))
        data["settings_version"] = SETTINGS_VERSION
        atomic_write_json(path, data, indent=2)


def _followed_new_default(name: str, value: Any, version: int) -> bool:
    """Whether a value read from a file of ``version`` is a default that changed since."""
    return any(v > version and name in changed and changed[name] == value and type(changed[name]) is type(value)
               for v, changed in _CHANGED_DEFAULTS.items())
