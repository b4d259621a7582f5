"""The run record: ``.heaplens/runs/<run-id>/run.json``, versioned, written atomically (a temporary file in
the same directory, fsync, ``os.replace``) at the start, at each lane's end and at the end, so a killed
run still leaves the lanes that finished. Schema: ``docs/runner.md``."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from ..atomicfile import write_json_atomic

SCHEMA = "heaplens.run"
SCHEMA_VERSION = 1


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def write_atomic(path: Path, data: dict) -> None:
    write_json_atomic(path, data)


def load(path: Path) -> dict:
    p = Path(path)
    if p.is_dir():
        p = p / "run.json"
    data = json.loads(p.read_text())
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{p}: not a heaplens run record")
    if int(data.get("schema_version", 0)) > SCHEMA_VERSION:
        raise ValueError(f"{p}: schema_version {data.get('schema_version')} is newer than this heaplens ({SCHEMA_VERSION})")
    return data
