"""Errors and the warning raised by the dataset loaders."""

from __future__ import annotations

__all__ = [
    "DatasetChecksumError",
    "DatasetFormatError",
    "DatasetIntegrityWarning",
    "DatasetNotFoundError",
]


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are in none of the searched folders and could not be downloaded.

    The message lists the files needed, the folders searched and the environment variable that
    points nncore at a folder of your own.
    """


class DatasetFormatError(ValueError):
    """A dataset file is corrupt, truncated or not the file its name says (the message names it)."""


class DatasetChecksumError(ValueError):
    """A downloaded file does not have the published SHA-256; it was discarded, never used."""


class DatasetIntegrityWarning(UserWarning):
    """A file you supplied is well-formed but its content differs from the published original."""
