"""A small leaking Vitest suite, run once by heaplens with snapshots at test-file boundaries, for the report tests.

The suite is written into a temporary directory and borrows the installed Vitest 4 of the runner's
fixture (``tests/runner/fixtures/v4``) through a ``node_modules`` symlink."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers import heaplens as hl
from helpers import npm_ci

V4 = Path(__file__).parents[1] / "runner" / "fixtures" / "v4"

CACHE = """export const sessionCache = new Map();
export class SessionRecord {
  constructor(id) { this.id = id; this.payload = JSON.stringify({ id, pad: 'x'.repeat(2000) }); this.items = new Array(50).fill(id); }
}
export function remember(id) { sessionCache.set(id, new SessionRecord(id)); }
"""
LEAK = """import { test, expect } from 'vitest';
import { remember } from '../src/cache.js';
test('leak {i}', async () => {
  for (let k = 0; k < 4000; k++) remember('f{i}-' + k);
  await new Promise((r) => setTimeout(r, 900));
  expect(1).toBe(1);
});
"""


def write_suite(d: Path, files: int = 7) -> Path:
    (d / "src").mkdir(parents=True)
    (d / "test").mkdir()
    os.symlink(npm_ci(V4) / "node_modules", d / "node_modules")
    (d / "package.json").write_text(json.dumps({"name": "leak-suite", "private": True, "type": "module"}))
    (d / "package-lock.json").write_text(json.dumps({"name": "leak-suite", "lockfileVersion": 3, "packages": {}}))
    # one long-lived worker per file stream: the suite turns isolation off (heaplens runs it as configured)
    (d / "vitest.config.js").write_text("export default { test: { isolate: false } }\n")
    (d / "src" / "cache.js").write_text(CACHE)
    for i in range(1, files + 1):
        (d / "test" / f"leak{i}.test.js").write_text(LEAK.replace("{i}", str(i)))
    return d


@pytest.fixture(scope="session")
def leak_run(tmp_path_factory) -> dict:
    """One run of the leaking suite: one shared worker, snapshots at test-file boundaries. Its first file's
    collection and end and its last file's end are always written (the overhead budget spaces out only the
    middles): three snapshots by design, whatever the machine's load."""
    d = write_suite(tmp_path_factory.mktemp("leak-suite"))
    cp = hl("run", "--workers", "1", "--snapshots", cwd=d)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    runs = sorted((d / ".heaplens" / "runs").glob("*/run.json"))
    assert len(runs) == 1
    return {"suite": d, "run": runs[0].parent, "out": cp.stdout}


@pytest.fixture(scope="session")
def trace_only_run(tmp_path_factory) -> dict:
    """The same suite without snapshots: the report must rest on the trace and say so."""
    d = write_suite(tmp_path_factory.mktemp("leak-suite-nosnap"), files=6)
    cp = hl("run", "--workers", "1", cwd=d)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    return {"suite": d, "run": next((d / ".heaplens" / "runs").glob("*/run.json")).parent}
