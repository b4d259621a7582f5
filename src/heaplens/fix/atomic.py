"""Write a manifest so that a reader (or a crash) never sees half of it: a temporary file in the same
directory (same filesystem, so the rename is atomic), fsync, ``os.replace``. A manifest edited by hand
keeps its permissions."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def unified_diff(before: str, after: str, label: str) -> str:
    """The change as ``diff -u`` shows it ("" when nothing changed); a new file diffs against /dev/null."""
    if before == after:
        return ""
    a, b = (label, label) if label.startswith("/") else (f"a/{label}", f"b/{label}")  # git's prefixes for relative paths
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=a if before else "/dev/null", tofile=b)
    return "".join(l if l.endswith("\n") else l + "\n\\ No newline at end of file\n" for l in lines)
