"""Manifest writes (atomic, see ``heaplens.atomicfile``; a manifest edited by hand keeps its permissions)
and the unified diff that shows them."""

from __future__ import annotations

import difflib

from ..atomicfile import write_text_atomic  # noqa: F401  (the fix modules write through it)


def unified_diff(before: str, after: str, label: str) -> str:
    """The change as ``diff -u`` shows it ("" when nothing changed); a new file diffs against /dev/null."""
    if before == after:
        return ""
    a, b = (label, label) if label.startswith("/") else (f"a/{label}", f"b/{label}")  # git's prefixes for relative paths
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=a if before else "/dev/null", tofile=b)
    return "".join(l if l.endswith("\n") else l + "\n\\ No newline at end of file\n" for l in lines)
