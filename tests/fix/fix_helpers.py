"""Helpers for the manifest-editing tests (import from here: several conftest.py exist)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "runner" / "fixtures"


def hl(*args, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``heaplens ARGS`` as a user runs it (a separate process), with no stray HEAPLENS_/OPENCLAW_ settings."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_"))}
    e["HEAPLENS_PROGRESS"] = "0"
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "heaplens", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=e, timeout=timeout)


def one_line_error(cp: subprocess.CompletedProcess) -> str:
    """The command failed as bad input does: exit 2, one line on stderr, no traceback."""
    assert cp.returncode == 2, (cp.returncode, cp.stdout, cp.stderr)
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("heaplens: error: "), cp.stderr
    return lines[0]


def suite(tmp: Path, files: list[str]) -> Path:
    """A minimal suite root: a package.json and empty test files."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "package.json").write_text("{}\n")
    for f in files:
        p = tmp / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    return tmp
