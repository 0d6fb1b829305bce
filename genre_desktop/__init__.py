"""Genre Desktop: offline genre recognition, review and tagging for music libraries."""

__version__ = "0.1.0"
