"""Issue 22 item 10, the looks that cost trust: the transport buttons readable in the dark palette,
the spectrogram's frequency labels apart, a truncated file's spectrogram at its own time scale, the
details following the search filter, no warning of a library on the terminal."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from genre_desktop.features.mel import mel_spectrogram
from genre_desktop.ui.theme import apply_theme


@pytest.fixture
def dark():
    app = QApplication.instance()
    before = app.palette()
    apply_theme(app, "dark")
    yield
    app.setPalette(before)


def icon_lightness(icon) -> float:
    """The mean lightness of an icon's opaque pixels (0-255)."""
    image = icon.pixmap(16, 16).toImage()
    values = [QColor(image.pixel(x, y)).lightness() for x in range(image.width()) for y in range(image.height())
              if QColor.fromRgba(image.pixel(x, y)).alpha() > 128]
    assert values, "the icon is empty"
    return float(np.mean(values))


def test_the_transport_buttons_stand_out_in_the_dark_palette(qtbot, dark):
    from genre_desktop.audio.output import NullOutput
    from genre_desktop.audio.player import Player
    from genre_desktop.ui.player_bar import PlayerBar

    bar = PlayerBar(Player(NullOutput()))
    qtbot.addWidget(bar)
    background = bar.palette().color(QPalette.ColorRole.Button).lightness()
    for button in (bar.prev_button, bar.play_button, bar.stop_button, bar.next_button):
        assert icon_lightness(button.icon()) - background > 120, button.toolTip()
    app = QApplication.instance()
    apply_theme(app, "light")  # and they follow a change back to the light palette
    qtbot.waitUntil(lambda: bar.palette().color(QPalette.ColorRole.Button).lightness() > 128, timeout=3000)
    background = bar.palette().color(QPalette.ColorRole.Button).lightness()
    qtbot.waitUntil(lambda: background - icon_lightness(bar.play_button.icon()) > 120, timeout=3000)


def test_the_frequency_labels_do_not_overlap(qtbot):
    from genre_desktop.ui.spectrogram_view import SpectrogramView

    view = SpectrogramView()
    qtbot.addWidget(view)
    view.resize(1200, 150)  # the window's spectrogram at its smallest
    view.show()
    y = np.random.default_rng(0).normal(0, 0.1, 22050 * 3).astype(np.float32)
    view.set_mel(mel_spectrogram(y), 3.0)
    plot = view._plot_rect()
    small = view.font()
    small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))  # the axis font
    from PySide6.QtGui import QFontMetrics

    height = QFontMetrics(small).height()
    labels = view.freq_labels(plot, height)
    ys = [y for _, y in labels]
    assert len(labels) >= 4 and 8000 in [hz for hz, _ in labels]
    assert all(a - b >= height for a, b in zip(ys, ys[1:])), labels
    assert not view.grab().isNull()


def test_a_truncated_files_spectrogram_is_not_stretched(qtbot):
    from genre_desktop.ui.spectrogram_view import MIN_SPAN, SpectrogramView

    view = SpectrogramView()
    qtbot.addWidget(view)
    view.resize(1200, 200)
    view.show()
    y = np.random.default_rng(0).normal(0, 0.1, int(22050 * 0.4)).astype(np.float32)  # 0.4 s left of 30
    view.set_mel(mel_spectrogram(y), 0.4)
    start, end = view.view_range
    assert (start, end) == (0.0, MIN_SPAN)  # 0.4 s drawn as 0.4 s, not over 1,200 pixels
    plot = view._plot_rect()
    assert view._x_of(0.4, plot) - plot.left() < plot.width() * 0.1
    from genre_desktop.ui.spectrogram_view import nice_step

    assert MIN_SPAN / nice_step(end - start, plot.width()) >= 4  # several time labels, not a lone "0.0s"
    view.zoom_out()
    assert view.view_range == (0.0, MIN_SPAN)
    assert not view.grab().isNull()


def test_the_details_follow_the_search_filter(qtbot, tmp_path):
    from media import make_audio
    from windows import opened_window

    from genre_desktop.settings import Settings

    root = tmp_path / "music"
    make_audio(root / "alpha.flac", seconds=1, tags={"title": "Alpha", "artist": "A"})
    make_audio(root / "bravo.flac", seconds=1, tags={"title": "Bravo", "artist": "B"})
    with opened_window(qtbot, Settings()) as win:
        win.open_folder(str(root))
        qtbot.waitUntil(lambda: win.model.total_count() == 2 and not win.jobs.runner.active(), timeout=20000)
        alpha = str(root / "alpha.flac")
        win.select_path(alpha)
        qtbot.waitUntil(lambda: win.side.title.text() == "Alpha", timeout=5000)
        qtbot.keyClicks(win.search, "bravo")
        qtbot.waitUntil(lambda: win.model.rowCount() == 1, timeout=3000)
        qtbot.waitUntil(lambda: win.side.title.text() == "No track selected", timeout=3000)
        assert win.details.current_path is None
        win.search.clear()  # back in view: selected and shown again
        qtbot.waitUntil(lambda: win.side.title.text() == "Alpha", timeout=3000)


def test_analysing_a_file_cut_to_nothing_writes_nothing_to_the_terminal(tmp_path, capfd):
    from media import make_audio

    from genre_desktop.cancel import NEVER
    from genre_desktop.inference.analyzer import Analyzer, ModelError

    whole = make_audio(tmp_path / "whole.mp3", seconds=30, signal="noise").read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole[: len(whole) // 60])  # a fraction of a second
    tiny = make_audio(tmp_path / "tiny.wav", seconds=0.02, signal="noise")
    try:
        analyzer = Analyzer()
    except ModelError as exc:
        pytest.skip(f"bundled models unavailable: {exc}")
    capfd.readouterr()
    for path in (cut, tiny):
        analyzer.analyze(str(path), NEVER)
    mel_spectrogram(np.zeros(100, np.float32))
    err = capfd.readouterr().err
    assert err == "", err
