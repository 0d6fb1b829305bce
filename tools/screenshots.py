"""Screenshots of the desktop app for docs/: main window, review queue, write preview (and shown
again after another process changed the library), the deleted-library dialog, settings, empty
state, the training wizard's first pages and the library map, in the light and the dark palette.

Builds a small library in a temporary folder (the eight GTZAN clips from /work/shared/data/gtzan
converted to tagged FLAC, one clip kept as an untaggable Sun .au, a generated track with a very
long title, a broken file), analyses it with the bundled models (the real Analyzer, caching track
vectors as the app does), and saves ``QWidget.grab()`` PNGs into ``docs/screenshots/``. The main
window has its default size (1280 x 820), what a first start shows. Runs offscreen; nothing
outside the temporary folder is touched.

Usage:  python tools/screenshots.py [--out docs/screenshots] [--gtzan /work/shared/data/gtzan]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests"))  # media.py: the shared generator of tagged test audio

# (clip, title, artist, existing genre tag) - some tags agree with the audio, some do not, some are missing.
CLIPS = [
    ("blues.00000", "Crossroad Shuffle", "Delta Sam", ["Blues"]),
    ("classical.00000", "Sonata in E minor, II. Adagio", "Chamber Trio of Lyon", ["Classical"]),
    ("country.00000", "Back Porch Morning", "The Wheelers", []),
    ("disco.00000", "Mirrorball Heart", "Studio 9", ["Pop"]),
    ("jazz.00000", "Late Set at the Blue Room", "Hank Ellis Quartet", ["Jazz"]),
    ("metal.00000", "Iron Tide", "Vorhang", ["Rock"]),
    ("reggae.00000", "Sunday Skank", "Kingston Lights", []),
    ("rock.00000", "Highway Static", "The Amps", ["Rock"]),
]
LONG_TITLE = ("An Extremely Long Title That Goes On and On (Extended Live Version Recorded at the Royal Albert "
              "Hall, 14 November 1973) [2026 Remaster]")


def build_library(root: Path, gtzan: Path) -> None:
    import soundfile as sf
    from media import make_audio
    from mutagen.flac import FLAC

    root.mkdir(parents=True, exist_ok=True)
    for clip, title, artist, genres in CLIPS:
        source = gtzan / "clips" / f"{clip}.au"
        if not source.exists():
            continue
        y, sr = sf.read(str(source), dtype="float32")
        target = root / f"{artist} - {title}.flac".replace("/", "-")
        sf.write(str(target), y, sr, format="FLAC")
        tags = FLAC(str(target))
        tags["title"], tags["artist"], tags["album"] = title, artist, "Archive Sampler"
        if genres:
            tags["genre"] = genres
        tags.save()
    reggae = gtzan / "clips" / "reggae.00000.au"
    if reggae.exists():  # an untaggable container: the write preview lists it apart
        shutil.copy2(reggae, root / "Dub Rehearsal (tape).au")
    make_audio(root / "long" / "very long title.flac", seconds=40, signal="chirp",
               tags={"title": LONG_TITLE, "artist": "The Orchestra of the Age of Very Long Names and Their Friends",
                     "album": "Live Archives, Volume 17"})
    (root / "damaged transfer.mp3").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x10" + b"\x00" * 300)


def wait(app, condition, timeout=180.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.01)
    return True


def idle(app, window, timeout=300.0) -> None:
    if not wait(app, lambda: not window.jobs.runner.active(), timeout):
        raise RuntimeError("background jobs did not finish")
    window.jobs.runner.wait()
    for _ in range(5):
        app.processEvents()


def save(widget, path: Path) -> None:
    widget.repaint()
    if not widget.grab().save(str(path)):
        raise RuntimeError(f"could not save {path}")
    print(path)


def shoot(app, theme: str, library: Path, out: Path, analyzer) -> None:
    from genre_desktop.app.workspace import Workspace
    from genre_desktop.audio.output import NullOutput
    from genre_desktop.paths import app_dirs
    from genre_desktop.settings import Settings
    from PySide6.QtCore import Qt

    from genre_desktop.ui.library_model import CONFIDENCE
    from genre_desktop.ui.main import create_main_window
    from genre_desktop.ui.theme import apply_theme

    apply_theme(app, theme)
    dirs = app_dirs().ensure()
    settings = Settings(theme=theme)
    output = NullOutput(reason="no audio output device found (PortAudio: no devices)")

    # Empty state: a fresh window with nothing opened.
    empty_workspace = Workspace(dirs, settings, store_path=Path(tempfile.mkdtemp()) / "empty.json")
    empty_workspace.open_store()
    empty = create_main_window(empty_workspace, output=output)
    empty.resize(1400, 880)
    empty.show()
    app.processEvents()
    save(empty, out / f"empty_state_{theme}.png")
    empty.shutdown()
    empty.close()

    workspace = Workspace(dirs, settings)
    workspace.open_store()
    window = create_main_window(workspace, output=output, analyzer_factory=lambda **kw: analyzer)
    window.resize(1280, 820)  # MainWindow's default size
    window.show()
    window.open_folder(str(library))
    idle(app, window)
    if any(t.status == "unanalysed" for t in window.model.tracks()):
        window.analyze_unanalyzed()
        idle(app, window)
    disco = next(t.path for t in window.model.tracks() if "Mirrorball" in t.title)
    window.select_path(disco)
    wait(app, lambda: window.spectrogram.has_image)
    window.player_bar.seek(12.0)
    idle(app, window)
    save(window, out / f"main_window_{theme}.png")

    # Sorted by confidence, searching: the long title must elide, not stretch the table.
    window.table.sortByColumn(CONFIDENCE, Qt.SortOrder.DescendingOrder)
    long_track = next(t.path for t in window.model.tracks() if t.title.startswith("An Extremely"))
    window.select_path(long_track)
    wait(app, lambda: window.spectrogram.has_image)
    idle(app, window)
    save(window, out / f"main_window_long_title_{theme}.png")

    window.show_review()
    app.processEvents()
    queue = window.review

    def select(long_title: bool) -> None:
        rows = [t.title.startswith("An Extremely") == long_title for t in queue.queued()]
        if any(rows):
            queue.table.selectRow(rows.index(True))

    select(False)
    queue.accept_current()  # one accepted, one corrected: the session count; the rest stays queued
    select(False)
    queue.pick(1)
    select(True)  # the card with a very long title
    window.details.load_media()  # now, not after the selection has rested
    idle(app, window)
    wait(app, lambda: window.spectrogram.has_image, 60)
    idle(app, window)
    save(window, out / f"review_queue_{theme}.png")
    au = next((t for t in window.model.tracks() if t.path.endswith(".au") and t.predicted_genre), None)
    if au is not None:  # reviewed, but its container takes no tags
        from genre_desktop.app.review import Decision

        window.session.decide([Decision.choose(au, [au.predicted_genre], "accepted")])

    dialog = window.open_write_dialog()
    dialog.resize(1000, 600)
    app.processEvents()
    save(dialog, out / f"write_preview_{theme}.png")

    # Another process decides differently before the click: nothing is written, the preview returns.
    from genre_desktop.library.store import Store

    changed = dialog.plan.changes[0].path
    window.jobs.flush_pending()  # the window's decisions are saved (within a second anyway)...
    idle(app, window)
    other = Store.open(workspace.store_path)  # ...before another process decides otherwise
    other.update(changed, chosen=["Rockabilly"], status="corrected")
    other.close()
    window.jobs.watch(False)  # the click comes before the next look at the store
    dialog.write_button.click()
    idle(app, window)
    stale = window.write_dialog
    stale.resize(1000, 600)
    app.processEvents()
    save(stale, out / f"write_preview_stale_{theme}.png")
    stale.reject()
    window.jobs.watch(True)

    # The library file deleted under the window (the dialog as the watcher opens it).
    window.libraries._on_store_lost("the library file was deleted while it was open")
    box = window.libraries.lost_dialog
    app.processEvents()
    save(box, out / f"library_deleted_{theme}.png")
    box.done(0)  # the default: save the library again (its files are there: rewritten as they are)
    idle(app, window)

    settings_dialog = window.open_settings()
    for index, name in ((0, "general"), (1, "tags"), (2, "analysis")):
        settings_dialog.tabs.setCurrentIndex(index)
        app.processEvents()
        save(settings_dialog, out / f"settings_{name}_{theme}.png")
    settings_dialog.reject()

    wizard = window.open_training_wizard()
    wizard.resize(900, 640)
    app.processEvents()
    save(wizard, out / f"wizard_data_{theme}.png")
    wizard.next()
    app.processEvents()
    save(wizard, out / f"wizard_genres_{theme}.png")
    wizard.reject()

    library_map = window.open_library_map()
    wait(app, lambda: bool(library_map.widget.view.items_by_path), 120)
    idle(app, window)
    save(library_map, out / f"library_map_{theme}.png")
    library_map.reject()

    errors = window.show_errors()
    app.processEvents()
    save(errors, out / f"problems_{theme}.png")
    errors.close()
    about = window.open_about()
    app.processEvents()
    save(about, out / f"about_{theme}.png")
    about.close()
    window.shutdown()
    window.close()
    workspace.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "docs" / "screenshots")
    parser.add_argument("--gtzan", type=Path, default=HERE.parent / "shared" / "data" / "gtzan")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="genre-shots-"))
    os.environ["GENRE_DESKTOP_HOME"] = str(work / "home")
    from PySide6.QtWidgets import QApplication

    from genre_desktop.inference.analyzer import Analyzer

    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Genre Desktop")
    library = work / "Radio Archive"
    build_library(library, args.gtzan)
    from genre_desktop.paths import app_dirs

    analyzer = Analyzer(vector_cache=app_dirs().ensure().feature_cache)  # as the app's analysis does
    args.out.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        shoot(app, theme, library, args.out, analyzer)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
