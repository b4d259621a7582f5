"""The labelled Jest scenarios (examples/jest-scenarios): one Jest 29 install shared by the scenario projects,
installed with ``npm ci`` once per session when ``node_modules/jest`` is missing (CI: a clean clone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import npm_ci

SCENARIOS = Path(__file__).parents[2] / "examples" / "jest-scenarios"


@pytest.fixture(scope="session")
def jest_scenarios() -> Path:
    return npm_ci(SCENARIOS, "jest")
