"""The main window and the jobs layer use the model registry's active version (one source of
truth with the CLI and the wizard), and the Models menu opens the wizard and the library map."""

from __future__ import annotations

import json

from genre_desktop.app.analysis import AnalyzerProvider
from genre_desktop.app.workspace import Workspace
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.training.registry import Registry


def _version(registry: Registry, name: str) -> None:
    with registry.staging() as stage:
        (stage / "manifest.json").write_text(json.dumps({"version": name, "created": name, "labels": ["techno"],
                                                         "head": {"kind": "logreg"}, "training_set": {"tracks": 12}}))
        registry.commit(stage, name)


def test_provider_rebuilds_the_analyzer_when_the_active_model_changes():
    built = []
    provider = AnalyzerProvider(Workspace(app_dirs(), Settings()), factory=lambda **kw: built.append(kw) or object())
    first = provider.get()
    assert provider.get() is first and len(built) == 1  # cached while nothing changes
    registry = Registry(app_dirs().user_models)
    _version(registry, "v1")
    registry.activate("v1")
    assert provider.active_user_model() == "v1"
    assert provider.get() is not first and len(built) == 2
    registry.rollback()
    assert provider.active_user_model() is None
    provider.get()
    assert len(built) == 3


def test_real_provider_passes_the_vector_cache(tmp_path):
    analyzer = AnalyzerProvider(Workspace(app_dirs(), Settings(segments=2))).get()
    assert analyzer.vector_cache is not None and analyzer.user_model is None
    assert analyzer.n_segments == 2


def _window(qtbot, tmp_path):
    from genre_desktop.audio.output import NullOutput
    from genre_desktop.jobs.runner import JobRunner
    from genre_desktop.ui.main import create_main_window

    window = create_main_window(Settings(), tmp_path / "settings.json", None, runner=JobRunner(synchronous=True),
                                output=NullOutput("test"))
    qtbot.addWidget(window)
    return window


def _action(menu, text):
    return next(a for a in menu.actions() if a.text().replace("&", "").startswith(text))


def test_settings_dialog_activates_through_the_registry(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    registry = Registry(app_dirs().user_models)
    _version(registry, "v7")
    dialog = window.open_settings(tab=2)
    dialog.model_choice.setCurrentIndex(dialog.model_choice.findData("v7"))
    dialog.accept()
    assert registry.active() == "v7"
    assert "v7" in window.status_text.text()
    dialog = window.open_settings(tab=2)
    dialog.model_choice.setCurrentIndex(0)
    dialog.accept()
    assert registry.active() is None
    window.shutdown()


def test_models_menu_opens_the_wizard_and_the_map(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    _action(window.models_menu, "Train your own model").trigger()
    assert window.training_wizard.isVisible()
    window.training_wizard.reject()
    _action(window.models_menu, "Library map").trigger()
    assert window.library_map.isVisible()
    window.library_map.close()
    window.shutdown()
