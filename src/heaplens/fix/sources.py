"""What the manifest updaters read: heaplens run records (through their owner, ``runner.record``) and
OpenClaw-style wrapper logs. Every problem with an input is one line naming the file, exit 2, and no
manifest is written.
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..inputfile import NotRegular, open_regular
from ..runner import record as R
from ..runner.manifests import norm

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# OpenClaw's wrapper and heaplens's runner print the same lane summary under different tags
_SUMMARY = re.compile(r"\[(?:test-parallel|heaplens)\]\[mem\] summary (\S+)(.*)$")
_SIZE = re.compile(r"^([+\-±]?)(\d+(?:\.\d+)?)(KiB|MiB|GiB)$")
_UNIT_KB = {"KiB": 1, "MiB": 1024, "GiB": 1024 * 1024}
# Vitest's default reporter, one line per finished file: " ✓ src/a.test.ts (3 tests | 1 skipped) 12ms"
_FILE_DONE = re.compile(r"^\s*\S\s+(\S+\.\w+)\s+\((\d+) tests?\b[^)]*\)")


@dataclass
class Growth:
    """One file's RSS growth as one source saw it."""

    file: str
    delta_kb: int
    source: str  # "<run id>:<lane>" or "<log name>:<lane>"


def js_round(x: float) -> int:
    """``Math.round``: halves go up (Python's ``round`` goes to even), so the numbers match OpenClaw's."""
    return math.floor(x + 0.5)


def size_kb(text: str) -> int | None:
    """``+412.3MiB`` → 422195 (KiB, 1024-based, signed; ``±`` is zero); None if not a size."""
    m = _SIZE.match(text.strip())
    if not m:
        return None
    kb = js_round(float(m.group(2)) * _UNIT_KB[m.group(3)])
    return {"-": -kb, "±": 0}.get(m.group(1), kb)


def lane_matches(lane: str, globs: list[str] | None) -> bool:
    return not globs or any(fnmatch.fnmatchcase(lane, g) for g in globs)


def run_files(rec: R.RunRecord, lanes: list[str] | None = None):
    """``(lane, file record)`` for every finished file of every lane matching ``lanes``."""
    for name, lane in rec.lanes.items():
        if lane_matches(name, lanes):
            for f in lane.files:
                yield name, f


def run_growth(rec: R.RunRecord, lanes: list[str] | None = None) -> list[Growth]:
    """Each file's growth (``delta``: the worker's RSS growth while it ran), positive ones only — not a file
    during which (or just before which) a heap snapshot was written (``rss_inflated``): writing one grows the
    worker's RSS for reasons of heaplens's own, and a tiny file stored with +200 MiB would be isolated forever."""
    return [Growth(norm(f.file), js_round(f.delta / 1024), f"{rec.run_id}:{lane}")
            for lane, f in run_files(rec, lanes) if f.delta is not None and f.delta > 0 and not f.rss_inflated]


def run_top(rec: R.RunRecord, lanes: list[str] | None = None) -> list[Growth]:
    """The lanes' top growth lists (``summary.top``), as the run printed them."""
    return [Growth(norm(t.file), js_round(t.delta / 1024), f"{rec.run_id}:{name}")
            for name, lane in rec.lanes.items() if lane_matches(name, lanes) for t in lane.summary.top]


def lane_test_counts(lane: R.LaneRecord) -> dict[str, int]:
    """Tests per file from the lane's Vitest output (``vitest.log`` beside the record), when it is still
    there: the run record itself does not count tests."""
    if not lane.log:
        return {}
    try:
        text = Path(lane.log).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        m = _FILE_DONE.match(_ANSI.sub("", line))
        if m:
            out[norm(m.group(1))] = int(m.group(2))
    return out


def read_log(given: str | Path) -> str:
    p = Path(given)
    try:
        fd, _ = open_regular(p)  # a FIFO or a device is refused, not waited on or read forever
        with os.fdopen(fd, "rb") as fh:
            return fh.read().decode("utf-8", errors="replace")
    except NotRegular as exc:
        raise UsageError(f"--log {given} {exc}") from None
    except IsADirectoryError:
        raise UsageError(f"--log {given} is a directory, not a log file") from None
    except OSError as exc:
        raise UsageError(f"cannot read the log {given}: {exc.strerror}") from None


def log_growth(text: str, label: str, lanes: list[str] | None = None) -> list[Growth]:
    """The ``top=`` entries of every ``[test-parallel][mem] summary`` (or ``[heaplens][mem] summary``)
    line of matching lanes. ANSI colours and CI prefixes (timestamps, ``job\\tstep\\t``) are ignored."""
    out = []
    for line in text.splitlines():
        m = _SUMMARY.search(_ANSI.sub("", line))
        if not m or not lane_matches(m.group(1), lanes):
            continue
        rest = m.group(2)
        i = rest.find(" top=")
        if i < 0:
            continue
        top = rest[i + len(" top="):].strip()
        if top == "none":
            continue
        for item in top.split(", "):
            path, _, size = item.strip().rpartition(":")
            kb = size_kb(size)
            if path and kb is not None:
                out.append(Growth(norm(path), kb, f"{label}:{m.group(1)}"))
    return out


def log_label(path: str | Path) -> str:
    """OpenClaw's source label: the log's file name without its extension."""
    return Path(path).stem
