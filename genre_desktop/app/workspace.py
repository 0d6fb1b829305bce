"""The workspace: one library's services, wired the same way for the window and the CLI. Qt-free.

``Workspace(dirs, settings)`` knows where the store and its journal live (one rule,
``paths.journal_for``), opens the store, builds the tag service (settling writes a killed run left
pending), describes the analysis (``AnalysisSpec``, following the active user model) and builds
the review queue's rules. The tracks, decisions and write plans are the library session's
(``app/session.py``), which works on a workspace. The settings it holds are immutable: a change swaps in
a new Settings (``update_settings``), so a worker that read the old one is never confused.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from genre_desktop.app.review import ReviewRules
from genre_desktop.inference.spec import AnalysisSpec
from genre_desktop.paths import AppDirs, bundled_models_dir, journal_for
from genre_desktop.settings import Settings

log = logging.getLogger(__name__)


class Workspace:
    """One library (a store and its journal) with the user's settings and folders.

    ``store_path`` defaults to the app's store (``dirs.store_path``); the journal always follows the
    store. ``settings`` defaults to the saved ones.
    """

    def __init__(self, dirs: AppDirs, settings: Settings | None = None, *, store_path: str | Path | None = None,
                 models_dir: str | Path | None = None) -> None:
        self.dirs = dirs
        self._settings = settings if settings is not None else Settings.load(dirs.settings_path)
        self.store_path = Path(store_path) if store_path is not None else dirs.store_path
        self.models_dir = Path(models_dir) if models_dir is not None else bundled_models_dir()
        self.store: Any = None
        self._user_model_check: tuple | None = None  # ((version, manifest mtime), problem)

    @property
    def store_path(self) -> Path:
        return self._store_path

    @store_path.setter
    def store_path(self, path: str | Path) -> None:
        self._store_path = Path(path)

    @property
    def journal_path(self) -> Path:
        """The store's journal of tag writes (one rule for the window and the CLI)."""
        return journal_for(self._store_path)

    # -- settings ------------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        """The current settings (immutable; read it once per task and use that)."""
        return self._settings

    def set_settings(self, settings: Settings, save: bool = True) -> Settings:
        """Swap in new settings (and save them); returns them."""
        self._settings = settings
        if save:
            self.save_settings()
        return settings

    def update_settings(self, save: bool = True, **changes: Any) -> Settings:
        """New settings with ``changes`` swapped in (and saved); returns them."""
        return self.set_settings(self._settings.replace(**changes), save)

    def update_extra(self, save: bool = True, **values: Any) -> Settings:
        return self.set_settings(self._settings.with_extra(**values), save)

    def save_settings(self) -> None:
        try:
            self._settings.save(self.dirs.settings_path)
        except OSError as exc:
            log.warning("could not save settings to %s: %s", self.dirs.settings_path, exc)

    def spell(self, genre: str) -> str:
        """The tag spelling of a label under the current settings."""
        return self._settings.spell(genre)

    # -- store and tags --------------------------------------------------------------------------
    def open_store(self, lock_timeout: float | None = None) -> Any:
        """Open (or create) the store; it becomes ``self.store``. Raises StoreBusy on timeout."""
        from genre_desktop.library.store import Store

        kwargs = {} if lock_timeout is None else {"lock_timeout": lock_timeout}
        self.store = Store.open(self.store_path, **kwargs)
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def write_options(self, id3_version: int | str | None = None, id3_separator: str | None = None,
                      style_field: str | None = None, *, settings: Settings | None = None):
        """How tags are written, from the settings (``settings``: others than the current ones, e.g.
        the write preview's as edited; each option may be overridden)."""
        from genre_desktop.tagging import WriteOptions

        s = settings if settings is not None else self._settings
        return WriteOptions(id3_version=s.id3_version if id3_version is None else id3_version,
                            id3_separator=s.id3_separator if id3_separator is None else id3_separator,
                            style_field=s.style_field if style_field is None else style_field)

    @contextmanager
    def tag_service(self, options: Any = None, journal_path: str | Path | None = None) -> Iterator[tuple[Any, Any]]:
        """``(TagService, settled)`` on ``self.store`` with the journal opened for this block.

        Writes a killed run left pending are settled from the files first: ``settled`` lists their
        results, is None when another process is writing tags right now (its writes are left to
        it), or is empty when nothing was pending.
        """
        from genre_desktop.library.journal import Journal
        from genre_desktop.library.tag_service import TagService

        with Journal(Path(journal_path) if journal_path is not None else self.journal_path) as journal:
            service = TagService(self.store, journal, options if options is not None else self.write_options(),
                                 limits=self.undo_limits())
            settled: Any = []
            if journal.pending():
                settled = service.recover()
                if settled:
                    log.info("settled %d interrupted tag write(s) from an earlier run", len(settled))
            yield service, settled

    def undo_limits(self) -> Any:
        """How much undo data the settings let the journal keep (``library.undo_expiry.UndoLimits``)."""
        from genre_desktop.library.undo_expiry import UndoLimits

        return UndoLimits.from_values(self._settings.undo_max_mb, self._settings.undo_max_days)

    def undo_usage(self) -> Any:
        """The undo data kept now (``UndoUsage``: bytes, writes, oldest), for the settings."""
        from genre_desktop.library.journal import Journal
        from genre_desktop.library.undo_expiry import UndoUsage, usage

        if not self.journal_path.exists():
            return UndoUsage(0, 0, None)
        with Journal(self.journal_path) as journal:
            return usage(journal)

    def undo_expiry_notice(self, files: int) -> str | None:
        """What writing ``files`` files would make expire, in a sentence (None: nothing would)."""
        from genre_desktop.library.journal import Journal
        from genre_desktop.library.undo_expiry import expiry_notice

        if not self.journal_path.exists():
            return None
        with Journal(self.journal_path) as journal:
            return expiry_notice(journal, self.undo_limits(), files)

    # -- analysis ------------------------------------------------------------------------------
    def active_user_model(self) -> str | None:
        """The active user model's version (None: the bundled models alone)."""
        from genre_desktop.inference.user_model import read_active

        return read_active(self.dirs.user_models)

    def analysis_spec(self) -> AnalysisSpec:
        """What an analysis runs now: the bundled models, the active user model, the settings.

        An active user model trained on another track representation than the bundled models
        compute (an older app version) cannot mix with them: the analysis then runs the bundled
        models alone, and ``user_model_problem()`` says why and what to do, rather than every
        analysis failing until the user finds the wizard.
        """
        version = self.active_user_model()
        settings = self._settings
        user_dir = self.dirs.user_models / version if version else None
        if user_dir is not None and self.user_model_problem() is not None:
            user_dir = None
        return AnalysisSpec(models_dir=None,
                            user_model_dir=str(user_dir) if user_dir else None,
                            vector_cache_dir=str(self.dirs.feature_cache), n_segments=settings.segments,
                            threads=settings.cpu_threads,
                            tag_networks=tuple(n for n in settings.tag_networks if isinstance(n, str)))

    def user_model_problem(self) -> str | None:
        """Why the active user model cannot join the analysis (None when it can, or none is active).

        Only a representation mismatch is judged here (from the two manifests, no model loaded); a
        damaged user model still fails loudly when the analyzer verifies it.
        """
        import json

        version = self.active_user_model()
        if not version:
            return None
        path = self.dirs.user_models / version / "manifest.json"
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return None  # missing: the analyzer's own check names the file
        key = (version, stamp)
        if self._user_model_check is not None and self._user_model_check[0] == key:
            return self._user_model_check[1]
        from genre_desktop.inference.analyzer import track_vector_recipe
        from genre_desktop.inference.manifest import load_manifest

        problem = None
        try:
            theirs = str(json.loads(path.read_text(encoding="utf-8")).get("vector_recipe", ""))
            ours = track_vector_recipe(load_manifest(self.models_dir, verify=False))
        except (OSError, ValueError, AttributeError):
            theirs = ours = ""  # unreadable: the analyzer's verification reports it
        from genre_desktop.inference.vector_cache import recipe_problem

        if theirs and ours and recipe_problem(theirs, ours):
            problem = (f"your trained model {version!r} learnt from an older track representation than this "
                       f"version of Genre Desktop computes, so the bundled models are used alone: retrain it "
                       f"(Models > Train, or genre-desktop-cli train --activate) or roll back")
            log.warning(problem)
        self._user_model_check = (key, problem)
        return problem

    # -- review and writing ----------------------------------------------------------------------
    def review_rules(self) -> ReviewRules:
        """The review queue's rules; the spelling follows later settings changes."""
        return ReviewRules(self.spell, lambda: self._settings.aliases, lambda: self._settings.user_genres)

    @property
    def spectrogram_cache_dir(self) -> Path:
        return self.dirs.cache / "spectrograms"
