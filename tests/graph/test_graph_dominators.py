"""Dominators and retained sizes: networkx on the same filtered graph, DevTools' own code."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from graph_helpers import devtools_summary

from heaplens.graph import HeapGraph
from heaplens.graph import kernels as GK
from heaplens.snapshot import read_snapshot


def test_csr_matches_edge_counts(scenario, graph_cache):
    g = graph_cache(scenario["files"][1])
    counts = np.diff(g.first.astype(np.int64))
    with read_snapshot(scenario["files"][1], node_fields=("edge_count",)) as snap:
        assert np.array_equal(counts, snap.nodes["edge_count"])
    rfirst, redge = g.reverse
    # every edge appears exactly once as a retaining edge of its target
    assert np.array_equal(np.sort(redge), np.arange(len(g.to)))
    tgt = np.repeat(np.arange(g.n), np.diff(rfirst.astype(np.int64)))
    assert np.array_equal(g.to[redge], tgt)


def _nx_idom(g: HeapGraph) -> dict:
    ess = g.essential_mask().astype(bool)
    src = GK.edge_sources(g.first)
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n))
    G.add_edges_from(zip(src[ess].tolist(), g.to[ess].tolist()))
    # DevTools' orphans (only weak retainers) behave as children of the root
    has_ret = np.zeros(g.n, bool)
    has_ret[g.to[ess]] = True
    G.add_edges_from((g.root, int(k)) for k in np.flatnonzero(~has_ret) if k != g.root)
    return nx.immediate_dominators(G, g.root)


def test_dominators_equal_networkx_on_real_snapshot(scenario, graph_cache):
    g = graph_cache(scenario["files"][1])
    assert g.n > 30_000
    idom = _nx_idom(g)
    reach = [k for k in idom if k != g.root]
    assert len(reach) == g.n - 1 - g.n_unreachable
    want = np.array([idom[k] for k in reach])
    got = g.dom[np.array(reach)]
    assert np.array_equal(got, want), f"{int((got != want).sum())} of {len(reach)} differ"
    assert g.dom[g.root] == g.root


def test_dominators_equal_networkx_on_planted(planted_pair, graph_cache):
    g = graph_cache(planted_pair[0])
    idom = _nx_idom(g)
    reach = np.array([k for k in idom if k != g.root])
    assert np.array_equal(g.dom[reach], np.array([idom[int(k)] for k in reach]))


def test_retained_sizes_add_up(scenario, graph_cache):
    g = graph_cache(scenario["files"][1])
    # the root retains everything; every node retains at least itself
    assert g.retained[g.root] == pytest.approx(float(g.sizes.sum()))
    assert (g.retained >= g.sizes).all()
    # retained(v) = size(v) + sum of retained of its dominator-tree children
    cfirst, kids = g.dominated
    child_sum = np.zeros(g.n)
    np.add.at(child_sum, g.dom[kids], g.retained[kids])
    assert np.allclose(g.retained, g.sizes + child_sum)


def _key_string(g, row) -> str:
    if row.location is None:
        return "," + row.name
    return "{},{},{},{}".format(*row.location, row.name)


def _compare_with_devtools(g, path: Path, top: int = 60):
    dt = devtools_summary(path, top)
    mine = {_key_string(g, r): r for r in g.class_summary()}
    checked = 0
    for row in dt["rows"]:
        # plain objects included: DevTools' interface names ("{a, b}") and what stays "Object"
        r = mine.get(row["key"])
        assert r is not None, f"DevTools class {row['key']!r} missing"
        assert (r.count, r.self_size, r.retained, r.distance) == (
            row["count"], row["self"], round(row["retained"]), row["distance"]), row["key"]
        checked += 1
    return checked


@pytest.mark.parametrize("which", ["scenario", "planted"])
def test_class_retained_sizes_equal_devtools(which, scenario, planted_pair, graph_cache):
    path = scenario["files"][1] if which == "scenario" else planted_pair[1]
    g = graph_cache(path)
    assert _compare_with_devtools(g, path) >= 30


def test_class_retained_sizes_equal_devtools_bigger(tmp_path, graph_cache):
    """A ~25 MB snapshot with 20,000 records from bench/gen_snapshot.mjs."""
    import subprocess

    from graph_helpers import NODE, ROOT

    if NODE is None:
        pytest.skip("node is not installed")
    out = tmp_path / "g20k.heapsnapshot"
    subprocess.run([NODE, str(ROOT / "bench" / "gen_snapshot.mjs"), "20000", str(out)], check=True,
                   capture_output=True, timeout=300)
    g = graph_cache(out)
    assert g.n > 300_000
    assert _compare_with_devtools(g, out) >= 30
