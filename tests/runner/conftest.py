"""Fixture Vitest suites for the lane runner, installed from the npm registry by the tests themselves.

``fixtures/v5`` pins the current Vitest major, ``fixtures/v4`` and ``fixtures/v3`` older ones (v3 with Vite 7). Each holds
scenario directories under ``suite/`` that a test picks with a path filter. ``npm ci`` runs once per
session when ``node_modules`` is missing (CI: a clean clone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import npm_ci

FIXTURES = Path(__file__).parent / "fixtures"


def _install(d: Path) -> Path:
    return npm_ci(d)


@pytest.fixture(scope="session")
def v5() -> Path:
    return _install(FIXTURES / "v5")


@pytest.fixture(scope="session")
def v4() -> Path:
    return _install(FIXTURES / "v4")


@pytest.fixture(scope="session")
def v3() -> Path:
    return _install(FIXTURES / "v3")


@pytest.fixture(scope="session")
def jest29() -> Path:
    return npm_ci(FIXTURES / "jest29", "jest")


@pytest.fixture(scope="session")
def jest30() -> Path:
    return npm_ci(FIXTURES / "jest30", "jest")


# The fixture suites (and their node_modules) hold no pytest tests.
collect_ignore_glob = ["fixtures/*"]
