"""Spectrogram view, predictions panel, player bar, settings and about dialogs, driven offscreen."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

from genre_desktop.audio.output import NullOutput
from genre_desktop.audio.player import PLAYING, Player
from genre_desktop.settings import Settings
from genre_desktop.ui.about_dialog import AboutDialog
from genre_desktop.ui.player_bar import PlayerBar
from genre_desktop.ui.predictions_panel import PredictionsPanel
from genre_desktop.ui.settings_dialog import SettingsDialog
from genre_desktop.ui.spectrogram_view import SpectrogramView, format_time, mel_to_image, nice_step


@dataclass
class FakeMel:
    """Shaped like features.mel.MelSpectrogram (the widget only reads these)."""

    db: np.ndarray
    sr: int = 22050
    hop_length: int = 512
    fmin: float = 0.0
    fmax: float = 11025.0

    def mel_frequencies(self) -> np.ndarray:
        return np.geomspace(30.0, 11025.0, self.db.shape[0])


PREDICTION = {
    "path": "/m/x.flac",
    "genres": [{"genre": "rock", "probability": 0.7}, {"genre": "metal", "probability": 0.2}],
    "models": {"xgboost": {"rock": 0.8, "metal": 0.2}, "svm": {"metal": 0.6, "rock": 0.4}},
    "segments": [{"start": 0.0, "end": 10.0, "genres": {"rock": 0.9, "metal": 0.1}},
                 {"start": 10.0, "end": 20.0, "genres": {"metal": 0.7, "rock": 0.3}}],
    "tags": {"guitar": 0.8, "loud": 0.6},
    "model_version": "bundled-1",
    "error": None,
}


def test_mel_image_puts_low_frequencies_at_the_bottom_and_loud_is_bright():
    db = np.full((8, 20), -80.0, dtype=np.float32)
    db[0, :] = 0.0  # loud lowest band
    image = mel_to_image(db)
    assert (image.width(), image.height()) == (20, 8)
    bottom, top = QColor(image.pixel(5, 7)), QColor(image.pixel(5, 0))
    assert bottom.lightness() > 200 and top.lightness() < 20
    assert nice_step(600, 700) >= 60 and format_time(75) == "1:15" and format_time(3725) == "1:02:05"


def test_spectrogram_click_seeks_and_timeline_double_click_zooms(qtbot):
    view = SpectrogramView()
    qtbot.addWidget(view)
    view.resize(856, 240)
    view.show()
    frames = int(20.0 * 22050 / 512)
    view.set_mel(FakeMel(np.random.default_rng(0).uniform(-80, 0, (64, frames)).astype(np.float32)), duration=20.0)
    view.set_segments(PREDICTION)
    plot = view._plot_rect()
    with qtbot.waitSignal(view.seekRequested) as seek:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(plot.left() + plot.width() / 2), int(plot.center().y())))
    assert seek.args[0] == pytest.approx(10.0, abs=0.1)
    lane_y = int(view.height() - 10)
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(plot.left() + plot.width() * 0.75), lane_y))
    assert view.view_range == (10.0, 20.0)
    view.set_position(15.0)
    assert not view.grab().isNull()  # paints zoomed with a playhead without error
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert view.view_range[0] == 0.0 and view.view_range[1] == pytest.approx(20.0, abs=0.05)


def test_predictions_panel_shows_bars_votes_tags_and_version(qtbot):
    panel = PredictionsPanel(Settings().spell)
    qtbot.addWidget(panel)
    panel.set_prediction(PREDICTION)
    assert "Rock" in panel.summary.text() and "70%" in panel.summary.text()
    assert panel.genre_bars.items() == [("rock", 0.7), ("metal", 0.2)]
    votes = {panel.models_table.item(r, 0).text(): panel.models_table.item(r, 1).text() for r in range(2)}
    assert votes == {"svm": "metal  ≠", "xgboost": "rock"}
    assert panel.tag_bars.items()[0] == ("guitar", 0.8)
    assert "bundled-1" in panel.version.text() and "2 segments" in panel.version.text()
    panel.set_prediction({**PREDICTION, "genres": [], "error": "cannot decode: truncated"})
    assert "truncated" in panel.summary.text()


def test_player_bar_says_why_it_is_silent_and_plays_on_the_clock(qtbot):
    def decoder(path, rate, duration):
        return np.zeros(int(3.0 * rate), np.float32)

    player = Player(NullOutput(reason="no audio output device found (PortAudio: no devices)"), decoder=decoder,
                    probe_duration=lambda p: 3.0)
    bar = PlayerBar(player)
    qtbot.addWidget(bar)
    assert "Silent" in bar.status.text() and "PortAudio" in bar.status.toolTip()
    with qtbot.waitSignal(bar.loaded, timeout=5000):
        bar.load("/m/x.flac")
    assert bar.slider.maximum() == 3000
    bar.toggle()
    assert player.state == PLAYING
    with qtbot.waitSignal(bar.positionChanged, timeout=2000, check_params_cb=lambda p: p > 0.05):
        pass
    bar.seek(2.5)
    assert player.position() == pytest.approx(2.5, abs=0.1)
    bar.toggle()
    assert bar.time_label.text().endswith("/ 0:03")
    bar.shutdown()


def test_settings_dialog_round_trip(qtbot, tmp_path):
    import json

    from genre_desktop.training.registry import Registry

    registry = Registry(tmp_path)
    with registry.staging() as stage:
        (stage / "manifest.json").write_text(json.dumps({"version": "my-model", "created": "2026-11-24",
                                                         "labels": ["techno", "rock"], "head": {"kind": "logreg"},
                                                         "training_set": {"tracks": 40}}))
        registry.commit(stage, "my-model")
    dialog = SettingsDialog(Settings(), tmp_path)
    qtbot.addWidget(dialog)
    assert [dialog.model_choice.itemData(i) for i in range(dialog.model_choice.count())] == [None, "my-model"]
    assert dialog.chosen_model() is None  # nothing active yet: the bundled models alone
    assert "2 genres, 40 tracks" in dialog.model_choice.itemText(1)
    dialog.theme.setCurrentIndex(2)
    dialog.segments.setValue(3)
    dialog.model_choice.setCurrentIndex(1)
    dialog.mode.setCurrentIndex(1)
    assert dialog.workers.value() == 0 and dialog.workers.text() == "one per core"
    dialog.workers.setValue(1)  # the analysis worker count is the user's to set (memory: ~0.5 GB each)
    # Tag networks: MSD by default; MTT (instruments) optional and labelled as slower.
    assert dialog.tag_networks["musicnn_msd"].isChecked() and not dialog.tag_networks["musicnn_mtt"].isChecked()
    assert "slower" in dialog.tag_networks["musicnn_mtt"].text()
    dialog.tag_networks["musicnn_mtt"].setChecked(True)
    dialog.tag_networks["musicnn_msd"].setChecked(False)
    new = dialog.settings()
    assert new.tag_networks == ["musicnn_mtt"]
    assert (new.theme, new.segments, dialog.chosen_model(), new.write_mode) == ("dark", 3, "my-model", "add")
    assert new.analysis_workers == 1
    registry.activate("my-model")
    again = SettingsDialog(Settings(), tmp_path)
    qtbot.addWidget(again)
    assert again.chosen_model() == "my-model"


def test_about_lists_model_and_library_licences(qtbot, tmp_path):
    manifest = {"version": "2026.1", "models": [{"name": "xgboost", "licence": "CC-BY-4.0", "training_data": "GTZAN"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    dialog = AboutDialog(tmp_path)
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "xgboost" in text and "CC-BY-4.0" in text and "2026.1" in text
    assert "numpy" in text and "mutagen" in text
    missing = AboutDialog(tmp_path / "nowhere")
    qtbot.addWidget(missing)
    assert "No model manifest" in missing.text.toPlainText()


def test_about_credits_the_pretrained_network_its_labels_and_the_genre_tree(qtbot):
    from genre_desktop.paths import bundled_models_dir

    dialog = AboutDialog(bundled_models_dir())
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "Attributions" in text
    assert "Efficient Large-Scale Audio Tagging" in text and "MIT" in text  # EfficientAT's weights
    assert "CC BY 4.0" in text and "AudioSet" in text  # the class labels
    assert "CC BY-SA 4.0" in text and "ontology" in text  # the genre tree
    assert "LICENSE-EfficientAT" in text


def test_status_sentences_count_in_the_singular_too():
    from types import SimpleNamespace

    from genre_desktop.ui.status import describe_analysis

    one = describe_analysis(SimpleNamespace(done=1, elapsed=2.0, errors=[]), finished=True)
    assert one.startswith("Analysed 1 track in 2 s")
    assert describe_analysis(SimpleNamespace(done=1204, elapsed=2.0, errors=[]), finished=True).startswith(
        "Analysed 1,204 tracks in")


def test_the_running_analysis_sentence_counts_its_failures():
    from genre_desktop.app.analysis import RunSummary
    from genre_desktop.ui.status import describe_analysis

    running = RunSummary(total=10, done=4, errors=[("/m/a.mp3", "truncated"), ("/m/b.mp3", "empty")], elapsed=2.0,
                         path="/m/b.mp3")
    assert describe_analysis(running) == "Analysing 4 / 10 · 2.0 tracks/s · 3 s left · 2 failed · b.mp3"


@pytest.mark.parametrize("channels,shown", [(1, "mono"), (2, "stereo")])
def test_side_panel_says_mono_for_a_mono_m4a(qtbot, tmp_path, channels, shown):
    from media import make_audio

    from genre_desktop.core.track import Track
    from genre_desktop.tagging import read_tags
    from genre_desktop.ui.side_panel import SidePanel

    path = make_audio(tmp_path / f"{channels}.m4a", seconds=1.0, channels=channels)
    tags = read_tags(path)  # what the scan records
    panel = SidePanel()
    qtbot.addWidget(panel)
    panel.show_track(Track(str(path), format=tags.format, duration=tags.duration, samplerate=tags.samplerate,
                           channels=tags.channels))
    assert panel.fields["audio"].text().endswith(shown)


def test_the_settings_tags_page_shows_at_least_eight_genres(qtbot, tmp_path):
    """The genre tree is where spellings are read and edited: not a three-row slot."""
    from genre_desktop.settings import Settings
    from genre_desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings(), tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.tabs.setCurrentIndex(1)  # Tags
    qtbot.waitUntil(lambda: dialog.aliases.tree.isVisible())
    tree = dialog.aliases.tree
    row = tree.visualItemRect(tree.topLevelItem(0)).height()
    assert row > 0 and tree.viewport().height() >= 8 * row
