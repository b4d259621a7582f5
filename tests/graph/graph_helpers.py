"""Helpers for the graph tests (import from here: several conftest.py exist): real snapshots from tests/graph/js/scenario.mjs, DevTools' own numbers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent
JS = HERE / "js"
ROOT = HERE.parent.parent
NODE = shutil.which("node")


BENCH = ROOT / "bench"  # its package.json pins heap-snapshot-toolkit, DevTools' own snapshot code


def _toolkit_dir() -> Path | None:
    """Where heap-snapshot-toolkit is installed; installs bench/'s npm packages (npm ci) if needed, so
    the parity tests run wherever Node and npm are (CI included)."""
    for d in (os.environ.get("HST_DIR"), BENCH / "node_modules"):
        if d and (Path(d) / "heap-snapshot-toolkit" / "index.js").is_file():
            return Path(d)
    npm = shutil.which("npm")
    if npm is None:
        return None
    cp = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(BENCH)],
                        capture_output=True, text=True, timeout=600)
    if cp.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"npm ci in bench/ failed: {cp.stderr[-500:]}")
        return None
    d = BENCH / "node_modules"
    return d if (d / "heap-snapshot-toolkit" / "index.js").is_file() else None


def _require_toolkit() -> Path:
    """Node and DevTools' code (heap-snapshot-toolkit), or skip — fail in CI / with HEAPLENS_REQUIRE_PARITY=1."""
    if NODE is None:
        pytest.skip("node is not installed")
    d = _toolkit_dir()
    if d is None:
        if os.environ.get("HEAPLENS_REQUIRE_PARITY") == "1" or os.environ.get("CI") == "true":
            pytest.fail("heap-snapshot-toolkit not found (set HST_DIR)")
        pytest.skip("heap-snapshot-toolkit is not installed (npm ci --prefix bench; or HST_DIR=…/node_modules)")
    return d


def devtools_summary(path: Path, top: int = 60, node_ids: list[int] | None = None) -> dict:
    """Run DevTools' HeapSnapshot code (npm heap-snapshot-toolkit) on ``path``."""
    d = _require_toolkit()
    args = [NODE, "--max-old-space-size=8192", str(JS / "devtools_summary.mjs"), str(path), str(top)]
    if node_ids:
        args += ["--nodes", ",".join(map(str, node_ids))]
    cp = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True,
                        env={**os.environ, "HST_DIR": str(d)})
    return json.loads(cp.stdout.strip().splitlines()[-1])


def run_js(script: str, *args: str) -> dict:
    if NODE is None:
        pytest.skip("node is not installed")
    cp = subprocess.run([NODE, str(JS / script), *map(str, args)], capture_output=True, text=True,
                        timeout=600, check=True)
    return json.loads(cp.stdout.strip().splitlines()[-1])


def devtools_diff(before: Path, after: Path) -> dict:
    """DevTools' Comparison view (calculateSnapshotDiff) through heap-snapshot-toolkit."""
    d = _require_toolkit()
    cp = subprocess.run([NODE, str(JS / "devtools_diff.mjs"), str(before), str(after)], capture_output=True,
                        text=True, timeout=600, check=True, env={**os.environ, "HST_DIR": str(d)})
    return json.loads(cp.stdout.strip().splitlines()[-1])
