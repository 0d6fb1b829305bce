"""The Track record now lives in :mod:`genre_desktop.core`; re-exported here so old imports work."""

from genre_desktop.core.status import (  # noqa: F401
    ACCEPTED,
    CORRECTED,
    ERROR,
    PREDICTED,
    STATUSES,
    UNANALYSED,
    WRITTEN,
    Status,
)
from genre_desktop.core.track import Track  # noqa: F401
