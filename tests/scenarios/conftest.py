"""The labelled scenario corpus (``examples/scenarios``): a real Vitest 4 project installed with ``npm ci``
(once, when its ``node_modules/vitest`` is missing — CI: a clean clone), whose large generated modules
are written by its ``prepare`` script (and here, when missing)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import NODE, npm_ci

CORPUS = Path(__file__).parents[2] / "examples" / "scenarios"


def pytest_configure(config):
    config.addinivalue_line("markers", "scenarios: runs heaplens on the labelled Vitest scenario corpus "
                                       "(examples/scenarios; needs node/npm, ~3 min)")


@pytest.fixture(scope="session")
def corpus() -> Path:
    npm_ci(CORPUS)
    # `npm ci` runs the generator (prepare); an older install may predate it or its version
    cp = subprocess.run([NODE, "scripts/generate-modules.mjs"], cwd=CORPUS, capture_output=True, text=True,
                        timeout=120)
    if cp.returncode != 0:
        pytest.fail(f"generate-modules.mjs failed:\n{cp.stdout}\n{cp.stderr}")
    return CORPUS


@pytest.fixture(scope="session")
def labels() -> dict:
    return json.loads((CORPUS / "labels.json").read_text())
