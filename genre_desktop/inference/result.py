"""The Prediction record now lives in :mod:`genre_desktop.core`; re-exported here so old imports work."""

from genre_desktop.core.prediction import DECIMALS, SCHEMA, Prediction, SegmentScore  # noqa: F401
