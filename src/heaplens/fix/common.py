"""Helpers the manifest updaters share: where a manifest is, reading the existing one, timestamps."""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import UsageError
from ..inputfile import parse_json, read_text


def now_iso() -> str:
    """``new Date().toISOString()``, as OpenClaw stamps ``generatedAt``: UTC, milliseconds, ``Z``."""
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def manifest_path(root: Path, given: str | Path | None, default: str) -> Path:
    """A manifest path: relative to the suite root, the way ``heaplens plan --behavior/--timings/--hotspots``
    reads them."""
    if given is None:
        return root / default
    p = Path(given)
    return p if p.is_absolute() else root / p


def label(root: Path, path: Path) -> str:
    """The manifest's name in a diff: relative to the suite root when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_exact(path: Path, what: str) -> str:
    """The file's text exactly as stored (``read_text`` would turn CRLF into LF). A FIFO or device is
    refused (never waited on), and so is a file that is not UTF-8."""
    return read_text(path, f"the {what} manifest")


def parse_manifest(text: str, path: Path, what: str):
    """The manifest's data; invalid JSON, a key twice in one object (JSON readers disagree on which
    one counts, and an edit would go where the planner does not look) or deep nesting are refused."""
    return parse_json(text, f"the {what} manifest {path}")


def read_manifest(path: Path, what: str) -> tuple[str, dict]:
    """The existing manifest's text and data (``""``, ``{}`` when missing); a wrong shape is refused
    rather than overwritten."""
    if not path.exists():
        return "", {}
    if not path.is_file():
        raise UsageError(f"the {what} manifest {path} is not a file")
    text = read_exact(path, what)
    data = parse_manifest(text, path, what)
    if not isinstance(data, dict) or not isinstance(data.get("files", {}), dict):
        raise UsageError(f"the {what} manifest {path} has the wrong schema (expected an object with \"files\": {{…}})")
    return text, data
