"""Where the app keeps its files.

Qt-free on purpose (the layers below ``jobs/`` may not import Qt), so the platform conventions
are spelled out here the way QStandardPaths resolves them: XDG on Linux, ``~/Library`` on macOS,
``%APPDATA%``/``%LOCALAPPDATA%`` on Windows.

``GENRE_DESKTOP_HOME`` overrides everything: config, data and cache then live in sub-folders of
that one directory. Tests and the packaged smoke test use it so they never touch a real home.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "genre-desktop"
HOME_ENV = "GENRE_DESKTOP_HOME"


@dataclass(frozen=True)
class AppDirs:
    """The three folders the app writes to. Created on first use, not here."""

    config: Path
    data: Path
    cache: Path

    @property
    def store_path(self) -> Path:
        return self.data / STORE_NAME

    @property
    def journal_path(self) -> Path:
        return journal_for(self.store_path)

    @property
    def settings_path(self) -> Path:
        return self.config / "settings.json"

    @property
    def user_models(self) -> Path:
        return self.data / "models"

    @property
    def feature_cache(self) -> Path:
        return self.cache / "features"

    def ensure(self) -> "AppDirs":
        for folder in (self.config, self.data, self.cache):
            folder.mkdir(parents=True, exist_ok=True)
        return self


STORE_NAME = "library.json"


def journal_for(store_path: str | os.PathLike[str]) -> Path:
    """The journal of tag writes that belongs to a store: the one rule for the window and the CLI.

    Beside the store: ``journal.jsonl`` for a store with the app's own file name (``library.json``,
    the window's and the CLI's default), ``<stem>-journal.jsonl`` for any other, so that two
    stores kept in one folder never share a journal (undo would then touch the other's files).
    """
    store_path = Path(store_path)
    if store_path.name == STORE_NAME:
        return store_path.with_name("journal.jsonl")
    return store_path.with_name(store_path.stem + "-journal.jsonl")


def _env_path(name: str, fallback: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else fallback


def app_dirs(environ: dict[str, str] | None = None) -> AppDirs:
    """Resolve the app's folders for this platform (or the override)."""
    env = os.environ if environ is None else environ
    override = env.get(HOME_ENV)
    if override:
        root = Path(override).expanduser()
        return AppDirs(config=root / "config", data=root / "data", cache=root / "cache")
    home = Path.home()
    if sys.platform == "darwin":
        support = home / "Library" / "Application Support" / APP_NAME
        return AppDirs(config=support, data=support, cache=home / "Library" / "Caches" / APP_NAME)
    if os.name == "nt":
        roaming = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        local = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return AppDirs(config=roaming / APP_NAME, data=local / APP_NAME, cache=local / APP_NAME / "cache")
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    cache = Path(env.get("XDG_CACHE_HOME") or home / ".cache")
    return AppDirs(config=config / APP_NAME, data=data / APP_NAME, cache=cache / APP_NAME)


def default_music_folder(environ: dict[str, str] | None = None) -> Path:
    """The platform's Music folder (XDG user-dirs on Linux), used when no library was opened yet."""
    env = os.environ if environ is None else environ
    home = Path.home()
    if os.name != "nt" and sys.platform != "darwin":
        user_dirs = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "user-dirs.dirs"
        try:
            for line in user_dirs.read_text(encoding="utf-8").splitlines():
                if line.startswith("XDG_MUSIC_DIR="):
                    value = line.split("=", 1)[1].strip().strip('"')
                    return Path(value.replace("$HOME", str(home)))
        except OSError:
            pass
    return home / "Music"


MODELS_PACKAGE = "genre_desktop.models"
RESOURCES_PACKAGE = "genre_desktop.resources"


def bundled_models_dir() -> Path:
    """The folder with the bundled models: the package ``genre_desktop.models``.

    One lookup for every install: a source checkout (the editable install maps the top-level
    ``models/`` to that package, see setup.py), a wheel or sdist install, and the PyInstaller
    bundle (which collects the installed package's data).
    """
    return _package_folder(MODELS_PACKAGE, "models")


def resources_dir() -> Path:
    """The folder with the icons and desktop files: the package ``genre_desktop.resources``."""
    return _package_folder(RESOURCES_PACKAGE, "resources")


def _package_folder(package: str, source_name: str) -> Path:
    from importlib import resources

    try:
        folder = resources.files(package)
    except ModuleNotFoundError:
        # An editable install made before models/ and resources/ became packages maps only
        # genre_desktop itself; the folder is then beside the package in the checkout.
        # ``pip install -e .`` again makes the lookup above work.
        fallback = Path(__file__).resolve().parent.parent / source_name
        if (fallback / "__init__.py").is_file():
            return fallback
        raise
    if not isinstance(folder, Path):  # a zip import: nothing installs the app that way
        raise RuntimeError(f"{package} is not a folder on disk ({folder!r}); install the package unzipped")
    return folder
