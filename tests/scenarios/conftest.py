"""The labelled scenario corpus (``examples/scenarios``): real Vitest 3/4/5 projects installed with ``npm ci``
(once per install, when its ``node_modules/vitest`` is missing — CI: a clean clone), whose generated modules
are written by the corpus's ``prepare`` script (and here, when missing or outdated)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from corpus_labels import CORPUS, installs
from corpus_probe import ProbeRun, run_probe

from helpers import NODE, npm_ci


def pytest_configure(config):
    config.addinivalue_line("markers", "scenarios: runs the labelled Vitest scenario corpus (examples/scenarios; "
                                       "needs node/npm; HEAPLENS_CORPUS=plants|report|strict)")


@pytest.fixture(scope="session")
def corpus() -> Path:
    for d in installs():
        npm_ci(d)
    # `npm ci` runs the generator (prepare); an older install may predate it or its version
    cp = subprocess.run([NODE, "scripts/generate-modules.mjs"], cwd=CORPUS, capture_output=True, text=True,
                        timeout=120)
    if cp.returncode != 0:
        pytest.fail(f"generate-modules.mjs failed:\n{cp.stdout}\n{cp.stderr}")
    return CORPUS


@pytest.fixture(scope="session")
def probed(corpus, tmp_path_factory):
    """scenario label → its plant-probe run (once per session)."""
    cache: dict[str, ProbeRun] = {}

    def get(label: dict) -> ProbeRun:
        if label["dir"] not in cache:
            cache[label["dir"]] = run_probe(label, tmp_path_factory.mktemp(f"probe-{label['dir']}"))
        return cache[label["dir"]]

    return get
