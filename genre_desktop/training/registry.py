"""The user's model versions in ``AppDirs.user_models``: save, list, activate, roll back.

Layout (read by ``inference/user_model.py``)::

    <root>/active.json              {"version": "user-...", "history": [older active versions]}
    <root>/<version>/model.onnx     the head
    <root>/<version>/manifest.json  labels, sha256, vector recipe, ensemble weight, metrics, ...
    <root>/<version>/report.html, metrics.csv, confusion.csv
    <root>/.staging-*/              a training in progress (never listed, removed on failure)

A version is written into a hidden staging folder and renamed to its final name only when every
file is there and fsynced, so a cancelled or crashed training leaves no half-written version (a
crash can leave a staging folder; it is removed the next time a Registry opens). ``active.json``
is replaced atomically. Nothing here ever writes into the bundled models folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from genre_desktop.fsutil import atomic_write_json, fsync_dir
from genre_desktop.inference.manifest import MANIFEST_NAME
from genre_desktop.inference.user_model import ACTIVE_FILE, read_active
from genre_desktop.paths import bundled_models_dir

log = logging.getLogger(__name__)

STAGING_PREFIX = ".staging-"
# A staging folder untouched this long was left by a crash. Younger ones may belong to a training
# that is writing its files right now in another thread or process (opening the settings dialog or
# running `models list` constructs a Registry): removing those would break that training's commit.
STALE_STAGING_SECONDS = 3600.0


class RegistryError(Exception):
    """An unknown version, or a registry folder that must not be written."""


@dataclass
class VersionInfo:
    version: str
    created: str
    labels: list[str]
    head: str
    metrics: dict[str, Any]
    tracks: int
    active: bool
    verdict: dict[str, Any] = field(default_factory=dict)  # ``can_predict.Verdict.to_dict()`` (newer versions)


class Registry:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        if self.root.resolve() == bundled_models_dir().resolve():
            raise RegistryError(f"{self.root} is the bundled models folder; user models go elsewhere")
        self._remove_stale_staging()

    def _remove_stale_staging(self) -> None:
        if not self.root.is_dir():
            return
        now = time.time()
        for folder in self.root.glob(STAGING_PREFIX + "*"):
            try:
                age = now - folder.stat().st_mtime
            except OSError:
                continue  # just committed (renamed) or removed by its owner
            if age < STALE_STAGING_SECONDS:
                continue
            log.warning("removing an unfinished training left in %s", folder)
            shutil.rmtree(folder, ignore_errors=True)

    # -- reading -------------------------------------------------------------------------------

    def manifest(self, version: str) -> dict[str, Any]:
        path = self.root / version / MANIFEST_NAME
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RegistryError(f"no user model version {version!r} in {self.root}") from None

    def versions(self) -> list[VersionInfo]:
        """Every saved version, oldest first."""
        active = self.active()
        out = []
        folders = self.root.iterdir() if self.root.is_dir() else []
        for folder in sorted(p for p in folders if p.is_dir() and not p.name.startswith(".")):
            try:
                m = self.manifest(folder.name)
            except (RegistryError, ValueError) as exc:
                log.warning("skipping %s: %s", folder, exc)
                continue
            out.append(VersionInfo(folder.name, str(m.get("created", "")), list(m.get("labels", [])),
                                   str(m.get("head", {}).get("kind", "")), dict(m.get("metrics", {})),
                                   int(m.get("training_set", {}).get("tracks", 0)), folder.name == active,
                                   dict(m.get("can_predict") or {})))
        return sorted(out, key=lambda v: (v.created, v.version))

    def active(self) -> str | None:
        """The active version, or None when the bundled models are used alone."""
        return read_active(self.root)

    def _state(self) -> dict[str, Any]:
        try:
            raw = json.loads((self.root / ACTIVE_FILE).read_text(encoding="utf-8"))
            return raw if isinstance(raw, dict) else {}
        except (OSError, ValueError):
            return {}

    # -- activation ----------------------------------------------------------------------------

    def activate(self, version: str | None) -> None:
        """Make ``version`` active (None: the bundled models alone); the previous one is remembered."""
        if version is not None:
            self.manifest(version)  # raises RegistryError for an unknown version
        state = self._state()
        current = state.get("version")
        history = [v for v in state.get("history", []) if isinstance(v, str) or v is None]
        if current != version:
            history.append(current)
        atomic_write_json(self.root / ACTIVE_FILE, {"version": version, "history": history[-50:],
                                                    "changed": _now()}, indent=2)
        log.info("active user model: %s", version or "none (bundled models)")

    def rollback(self) -> str | None:
        """Reactivate the version active before the current one (None: the bundled models)."""
        state = self._state()
        history = list(state.get("history", []))
        known = {v.version for v in self.versions()}
        while history:
            previous = history.pop()
            if previous is None or previous in known:
                atomic_write_json(self.root / ACTIVE_FILE, {"version": previous, "history": history,
                                                            "changed": _now()}, indent=2)
                return previous
        raise RegistryError("nothing to roll back to")

    # -- writing a new version -----------------------------------------------------------------

    def new_version_name(self) -> str:
        base = "user-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        name, n = base, 1
        while (self.root / name).exists():
            n += 1
            name = f"{base}-{n}"
        return name

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A hidden folder to write a version into; removed if the block raises (or is cancelled)."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
        try:
            yield folder
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if folder.exists():  # not committed: nothing may stay behind
            shutil.rmtree(folder, ignore_errors=True)

    def commit(self, staging: Path, version: str) -> Path:
        """fsync the staged files, then rename the folder to ``version`` (the moment it exists)."""
        for item in staging.iterdir():
            with open(item, "rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(staging)
        target = self.root / version
        if target.exists():
            raise RegistryError(f"version {version!r} already exists")
        os.rename(staging, target)
        fsync_dir(self.root)
        return target


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
