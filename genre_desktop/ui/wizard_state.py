"""What the training wizard's pages read and call on the wizard, as a Protocol.

The wizard (``ui/training_wizard.py``) builds its pages; the pages (``wizard_data_pages``,
``wizard_train_pages``) only need this much of it. Typing them against this leaf instead of the
wizard class keeps the import graph one way (wizard -> pages -> this module), also for type
checkers: the pages never import the wizard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from genre_desktop.core.track import Track
    from genre_desktop.jobs.runner import JobRunner
    from genre_desktop.paths import AppDirs
    from genre_desktop.settings import Settings
    from genre_desktop.training.dataset import Dataset
    from genre_desktop.training.trainer import Readiness


class WizardState(Protocol):
    """The wizard as its pages see it: the library's tracks, the job runner, the app's folders and
    settings, the genre merges and the datasets they give, the trainer's readiness verdict and the
    training result; ``rebuild`` makes the datasets again, ``trained`` takes a finished result."""

    tracks: list[Track]
    runner: JobRunner
    dirs: AppDirs
    settings: Settings
    merges: dict[str, str]
    dataset: Dataset
    everything: Dataset
    readiness: Readiness
    result: Any

    def rebuild(self, merges: dict[str, str]) -> Dataset: ...

    def trained(self, result: Any) -> None: ...
