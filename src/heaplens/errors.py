"""Errors that end a command with a one-line message. ``cli.main`` maps them to exit codes."""

from __future__ import annotations

from pathlib import Path


class HeaplensError(Exception):
    """Bad input or usage: printed as one line on stderr, exit code 2."""

    exit_code = 2


class UsageError(HeaplensError):
    """The command line or the files it names do not make sense together."""


class SnapshotError(HeaplensError):
    """A heap snapshot file that cannot be read; names the file and, where known, the byte offset."""

    def __init__(self, path: str | Path, message: str, offset: int | None = None):
        self.path = str(path)
        self.message = message
        self.offset = offset
        where = f" (at byte {offset:,})" if offset is not None else ""
        super().__init__(f"{self.path}: {message}{where}")


class WriteError(HeaplensError):
    """An output file that cannot be written (read-only directory, full disk, not a regular file);
    the old file, if any, is left as it was."""
