"""The bulk loaders behind seed_scale: a synthetic catalog written in batches, around the services."""

from __future__ import annotations


class SeedError(Exception):
    """A load the loaders cannot do, with a message fit to show on the command line."""
