"""Fixtures for the graph tests; the helpers are in graph_helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_helpers import JS, run_js  # noqa: F401


@pytest.fixture(scope="session")
def scenario(tmp_path_factory) -> dict:
    """Two snapshots of one process: snap-1 has 2,001 more SessionRecord in cache.mjs's Map
    ``sessionCache`` than snap-0 (3 baseline records), plus WeakMap entries and WeakRefs."""
    d = tmp_path_factory.mktemp("scenario")
    info = run_js("scenario.mjs", str(d), "2000")
    info["files"] = [Path(f) for f in info["files"]]
    return info


@pytest.fixture(scope="session")
def graph_cache():
    from heaplens.graph import HeapGraph, read_for_graph

    cache: dict = {}

    def get(path: Path):
        key = str(path)
        if key not in cache:
            snap = read_for_graph(path)
            cache[key] = HeapGraph(snap)
        return cache[key]

    yield get
    for g in cache.values():
        g.snap.close()
