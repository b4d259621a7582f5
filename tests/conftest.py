"""Shared fixtures: real V8 heap snapshots written by the installed Node during the test run.

Helper functions live in helpers.py (a conftest module cannot be imported by name reliably when
several conftest.py files exist).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import NODE, plant


def pytest_collection_modifyitems(config, items):
    # In CI, Node is part of the contract: a missing Node must fail, not skip.
    if NODE is None and os.environ.get("CI") == "true":
        raise pytest.UsageError("node is not on PATH; heaplens tests need Node >= 20")


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
