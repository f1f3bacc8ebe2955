"""The errors bidir raises on purpose (the checks that raise them live in :mod:`bidir.validation`)."""

from __future__ import annotations

__all__ = ["BidirError", "InvalidInputError", "DatasetError", "ChecksumError"]


class BidirError(Exception):
    """Base class of every error bidir raises deliberately (the CLI prints these cleanly)."""


class InvalidInputError(BidirError, ValueError):
    """An argument has the wrong shape, type, value set or is not finite."""


class DatasetError(BidirError, OSError):
    """A dataset file is missing, truncated, malformed or cannot be fetched."""


class ChecksumError(DatasetError):
    """A dataset file's checksum differs from the published one."""
