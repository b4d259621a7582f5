"""Shared fixtures: real V8 heap snapshots written by the installed Node during the test run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
JS = HERE / "js"
NODE = shutil.which("node")


def pytest_collection_modifyitems(config, items):
    # In CI, Node is part of the contract: a missing Node must fail, not skip.
    if NODE is None and os.environ.get("CI") == "true":
        raise pytest.UsageError("node is not on PATH; heaplens tests need Node >= 20")


requires_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_node(script: Path | str, *args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    if NODE is None:
        pytest.skip("node is not installed")
    return subprocess.run(
        [NODE, str(script), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def plant(out_dir: Path, count: int, snapshots: int = 2, names: str = "plain") -> dict:
    """Run tests/js/plant.mjs; returns {"pid": int, "files": [paths]}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cp = run_node(JS / "plant.mjs", str(out_dir), str(count), str(snapshots), "--names", names)
    info = json.loads(cp.stdout.strip().splitlines()[-1])
    info["files"] = [Path(f) for f in info["files"]]
    return info


@pytest.fixture(scope="session")
def planted_pair(tmp_path_factory) -> tuple[Path, Path]:
    """Two snapshots of one process; 5,000 PlantedLeak instances kept alive between them."""
    info = plant(tmp_path_factory.mktemp("planted"), 5000)
    return info["files"][0], info["files"][1]


@pytest.fixture(scope="session")
def planted_lane(tmp_path_factory) -> dict:
    """A lane directory with Node-named snapshots: 4 of one process (2,000 PlantedLeak added before
    each of the last 3) and 2 of another (none added)."""
    d = tmp_path_factory.mktemp("lane")
    main = plant(d, 2000, snapshots=4, names="default")
    other = plant(d, 0, snapshots=2, names="default")
    return {"dir": d, "main": main, "other": other}


def heaplens(*args: str, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed CLI the way a user does (a separate process)."""
    e = dict(os.environ)
    e.setdefault("HEAPLENS_PROGRESS", "0")
    if env:
        e.update(env)
    return subprocess.run(
        [sys.executable, "-m", "heaplens", *map(str, args)],
        capture_output=True,
        text=True,
        env=e,
        check=check,
        timeout=600,
    )
