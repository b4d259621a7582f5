"""Fixtures for the manifest-editing tests: the v4 fixture suite (installed with npm ci when missing) and
one real ``heaplens run`` of its ``suite/basic`` whose record the updaters read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from fix_helpers import FIXTURES, hl


@pytest.fixture(scope="session")
def v4():
    d = FIXTURES / "v4"
    if shutil.which("npm") is None or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node/npm are not on PATH")
        pytest.skip("node/npm are not installed")
    if not (d / "node_modules" / "vitest" / "package.json").is_file():
        cp = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=d,
                            capture_output=True, text=True, timeout=600)
        if cp.returncode != 0:
            pytest.fail(f"npm ci in {d} failed:\n{cp.stdout}\n{cp.stderr}")
    return d


@pytest.fixture(scope="session")
def basic_run(v4, tmp_path_factory) -> dict:
    """``heaplens run suite/basic --workers 1``: alloc50 grows its worker by ~50 MiB, the others by ~0."""
    runs = tmp_path_factory.mktemp("runs")
    cp = hl("run", "suite/basic", "--workers", "1", cwd=v4, env={"HEAPLENS_RUNS_DIR": str(runs)})
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr
    (rec_path,) = runs.glob("*/run.json")
    rec = json.loads(rec_path.read_text())
    return {"dir": rec_path.parent, "path": rec_path, "record": rec, "stdout": cp.stdout}
