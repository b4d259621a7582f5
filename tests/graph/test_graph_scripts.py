"""Script URLs of functions and contexts: the closure table (every closure at once) against the obvious reference,
node by node along its edges (closure → shared → script_or_debug_info / script), on real snapshots.

Set HEAPLENS_REAL_SNAPSHOTS to a directory of real snapshots (a suite's run: date-fns's workers) to check those too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from graph_helpers import ROOT

from heaplens.graph import HeapGraph, read_for_graph
from helpers import requires_node, run_node

pytestmark = requires_node


def _old_of_context(g: HeapGraph, k: int) -> str | None:
    """A context's script as it was found before the table: its retainers one by one, the first closure (by its
    ``context`` edge) whose script has a name."""
    rfirst, redge = g.reverse
    lo, hi = int(rfirst[k]), int(rfirst[k + 1])
    for j in range(lo, min(hi, lo + 10_000)):
        e = int(redge[j])
        if g.ename[e] != g.scripts.s_context or g.etype[e] == g.t["element"]:
            continue
        src = g.source_of_edge(e)
        if g.ntype[src] == g.nt["closure"]:
            url = g.scripts.url_of_script(g.scripts.script_node_of(src))
            if url:
                return url
    return None


def check_against_reference(path) -> int:
    snap = read_for_graph(path)
    try:
        g = HeapGraph(snap, program_roots=True)
        closures, script = g.scripts._closure_table
        assert np.array_equal(closures, np.flatnonzero(g.ntype == g.nt["closure"]))
        slow = np.array([g.scripts.script_node_of(int(k)) for k in closures], dtype=np.int64)
        assert np.array_equal(script, slow)
        assert (script >= 0).sum() > 0.5 * len(closures)  # (most functions have a script: the check checks)
        assert all(g.scripts.of_closure(int(k)) == g.scripts.url_of_script(int(s)) for k, s in zip(closures, slow))
        # any node, in any order: closures from the table, the others one by one
        rng = np.random.default_rng(7)
        mixed = np.concatenate([rng.choice(g.n, 2000), closures[::-7]])
        assert np.array_equal(g.scripts.script_nodes(mixed),
                              [g.scripts.script_node_of(int(k)) for k in mixed])
        contexts = [k for k in range(g.n) if g.node_name(k) == "system / Context"]
        rfirst, _ = g.reverse
        few = [int(rfirst[k + 1] - rfirst[k]) <= 32 for k in contexts]
        assert any(few) and not all(few)  # (of_context reads a few retainers one by one, more in array passes)
        urls = [g.scripts.of_context(k) for k in contexts]
        assert urls == [_old_of_context(g, k) for k in contexts] and sum(map(bool, urls)) > 100
        # every node's at once (the context table): the same for contexts and any other node, in any order
        some = np.concatenate([np.array(contexts[::-1], dtype=np.int64), rng.choice(g.n, 500)])
        ids, table_urls = g.scripts.context_urls(some)
        assert [None if i < 0 else table_urls[i] for i in ids.tolist()] == [_old_of_context(g, int(k)) for k in some]
        assert len(set(table_urls)) == len(table_urls)
        return len(closures)
    finally:
        snap.close()


def test_closure_table_equals_the_edge_by_edge_lookup(scenario, tmp_path):
    for f in scenario["files"]:
        assert check_against_reference(f) > 1000
    # Vitest-like modules (vm scripts named by their files, their functions in block contexts)
    info = json.loads(run_node(ROOT / "tests/js/module_graph.mjs", tmp_path, 30, 2).stdout.strip().splitlines()[-1])
    assert check_against_reference(info["files"][1]) > 1000


REAL = os.environ.get("HEAPLENS_REAL_SNAPSHOTS")


@pytest.mark.skipif(not REAL, reason="HEAPLENS_REAL_SNAPSHOTS (a directory of a real suite's snapshots) is not set")
def test_closure_table_on_real_snapshots():
    files = sorted(Path(REAL).rglob("*.heapsnapshot"))
    assert files, f"no snapshots under {REAL}"
    for f in files:
        assert check_against_reference(f) > 1000


def test_location_of_is_a_nodes_last_location_row(scenario):
    """location_of (a sorted index of the located nodes) against the obvious table: a dict of every location row,
    the later row winning — for every node and a few ordinals past the last."""
    snap = read_for_graph(scenario["files"][1])
    try:
        g = HeapGraph(snap)
        locs, lf, nf = snap.locations, snap.layout.location_fields, snap.layout.node_field_count
        rows = locs[:, [lf.index("script_id"), lf.index("line"), lf.index("column")]].tolist()
        table = {k // nf: tuple(r) for k, r in zip(locs[:, lf.index("object_index")].tolist(), rows)}
        ks = list(range(g.n)) + [g.n, g.n + 7, -1]
        assert [g.location_of(k) for k in ks] == [table.get(k) for k in ks] and len(table) > 1000
    finally:
        snap.close()


def test_locations_of_is_location_of_each(scenario):
    """locations_of (a searchsorted of many nodes) against location_of of each: every node, a few past the last, -1."""
    snap = read_for_graph(scenario["files"][1])
    try:
        g = HeapGraph(snap)
        ks = np.array(list(range(g.n)) + [g.n, g.n + 7, -1], dtype=np.int64)
        has, where = g.locations_of(ks)
        want = [g.location_of(int(k)) for k in ks]
        assert [tuple(w) if h else None for h, w in zip(has.tolist(), where.tolist())] == want
        assert not where[~has].any() and 1000 < has.sum() < len(ks)
        has, where = g.locations_of(ks[:0])
        assert has.shape == (0,) and where.shape == (0, 3)
    finally:
        snap.close()
