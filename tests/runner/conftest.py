"""Fixture Vitest suites for the lane runner, installed from the npm registry by the tests themselves.

``fixtures/v5`` pins the current Vitest major, ``fixtures/v4`` and ``fixtures/v3`` older ones (v3 with Vite 7). Each holds
scenario directories under ``suite/`` that a test picks with a path filter. ``npm ci`` runs once per
session when ``node_modules`` is missing (CI: a clean clone)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
NPM = shutil.which("npm")


def _install(d: Path) -> Path:
    if NPM is None or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node/npm are not on PATH; the runner tests need them")
        pytest.skip("node/npm are not installed")
    if not (d / "node_modules" / "vitest" / "package.json").is_file():
        cp = subprocess.run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=d,
                            capture_output=True, text=True, timeout=600)
        if cp.returncode != 0:
            pytest.fail(f"npm ci in {d} failed:\n{cp.stdout}\n{cp.stderr}")
    return d


@pytest.fixture(scope="session")
def v5() -> Path:
    return _install(FIXTURES / "v5")


@pytest.fixture(scope="session")
def v4() -> Path:
    return _install(FIXTURES / "v4")


@pytest.fixture(scope="session")
def v3() -> Path:
    return _install(FIXTURES / "v3")



# The fixture suites (and their node_modules) hold no pytest tests.
collect_ignore_glob = ["fixtures/*"]
