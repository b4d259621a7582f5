"""The id-based diff and the retainer aggregation on real planted snapshots."""

from __future__ import annotations

import numpy as np
import pytest
from graph_helpers import devtools_diff

from heaplens.compare.ids import add_retainers, id_diff
from heaplens.graph import paths as P


@pytest.fixture(scope="module")
def planted_ids(planted_pair):
    r = id_diff(planted_pair[0], planted_pair[1], top=50, min_kb=0, keep_graph=True)
    add_retainers(r, rows=6)
    yield r
    r.close()


def row(r, name):
    hits = [x for x in r.rows if x.name == name]
    assert hits, f"no row {name!r}"
    return hits[0]


def test_planted_leak_counts(planted_ids):
    r = planted_ids
    leak = row(r, "PlantedLeak")
    assert (leak.new_count, leak.freed_count) == (5000, 0)
    pay = row(r, "PlantedPayload")
    assert (pay.new_count, pay.freed_count) == (5000, 0)
    # each leak holds its payload, a closure and its context: retained > shallow
    assert leak.new_retained > leak.new_size + pay.new_size
    g = r.graph
    new_leaks = np.flatnonzero(g.new_mask & (g.id_class == g.id_class_names.index("PlantedLeak")))
    assert len(new_leaks) == 5000
    # no leak dominates another, so the class total is the plain sum
    assert leak.new_retained == int(g.retained[new_leaks].sum())


def test_new_and_freed_equal_devtools_comparison(planted_pair, planted_ids):
    dt = devtools_diff(planted_pair[0], planted_pair[1])
    by_name: dict = {}
    for x in dt["rows"]:
        by_name.setdefault(x["name"], []).append(x)
    checked = 0
    for x in planted_ids.rows:
        rows = by_name.get(x.name)
        if x.name.startswith("{") or x.name == "Object" or not rows or len(rows) != 1:
            continue
        d = rows[0]
        assert (x.new_count, x.new_size, x.freed_count, x.freed_size) == (
            d["addedCount"], d["addedSize"], d["removedCount"], d["removedSize"]), x.name
        checked += 1
    assert checked >= 5


def test_retainers_of_new_leaks_go_through_the_bucket(planted_ids):
    agg = row(planted_ids, "PlantedLeak").retainers
    assert agg.total == 5000
    top = agg.chains[0]
    assert top.count >= 4990  # ~all of them
    assert "plantedBucket`" in top.holder and top.holder.startswith("Array")
    assert agg.sentence(top, "new").startswith(f"{top.count:,} of 5,000 new `PlantedLeak` are retained through Array")
    assert top.example.hops[0].node_label.startswith("global @")
    assert top.example.target_label.startswith("PlantedLeak @")
    # the closure row names the script that created it (closure -> shared -> script)
    fn = row(planted_ids, "Function").retainers
    assert fn.chains[0].script is not None and fn.chains[0].script.endswith("plant.mjs")


def test_session_cache_chain_with_script_url(scenario, graph_cache):
    g = graph_cache(scenario["files"][1])
    keys = g.class_keys_named("SessionRecord")
    nodes = np.flatnonzero(np.isin(g.class_keys[0], keys) & (g.sizes > 0))
    assert len(nodes) == scenario["cacheSize"] == 2004
    agg = P.aggregate(g, nodes, "SessionRecord")
    counts = {c.holder: c.count for c in agg.chains}
    # one record is also held by a closure's context variable `keep` (shorter path), 2,003 via the Map
    assert counts == {"Map `sessionCache`": 2003, "`keep` of system / Context": 1}
    by = {c.holder: c for c in agg.chains}
    assert by["Map `sessionCache`"].script.endswith("tests/graph/js/cache.mjs")
    assert by["`keep` of system / Context"].script.endswith("tests/graph/js/scenario.mjs")


def test_k_paths_are_distinct_and_rooted(scenario, graph_cache):
    g = graph_cache(scenario["files"][1])
    keys = g.class_keys_named("SessionRecord")
    k = int(np.flatnonzero(np.isin(g.class_keys[0], keys))[10])
    paths = P.k_paths(g, k, 3)
    assert len(paths) == 3
    assert len({tuple(h.node for h in p.hops) for p in paths}) == 3
    lengths = [len(p.hops) for p in paths]
    assert lengths[1] <= lengths[2]
    for p in paths:
        assert p.hops[-1].edge_name.isdigit()  # the Map's table slot
        assert "sessionCache (context)" in p.text() or "Map @" in p.text()
        top = p.hops[0].node
        rf, re_ = g.reverse
        srcs = {g.source_of_edge(int(e)) for e in re_[rf[top]:rf[top + 1]]}
        assert g.root in srcs  # starts at a root child


def test_class_of_node_after_the_id_diff(planted_ids):
    """Other code (heaplens harness) asks g.classes.of_node() on the graph an id diff kept."""
    g = planted_ids.graph
    k = int(np.flatnonzero(g.new_mask & (g.id_class == g.id_class_names.index("PlantedLeak")))[0])
    assert g.classes.of_node(k) == g.class_name(k) == "PlantedLeak"


def test_first_node_with_id_is_the_sorted_lookup(scenario, graph_cache):
    """first_node_with_id (the WeakMap tables' nodes of program_roots, looked up in one pass) gives what a stable
    sort of all the nodes' ids and a binary search give: on a real snapshot's ids with its WeakMap tables' ids,
    other ids of it, absent ids, and its ids twice over (the first of two nodes with an id)."""
    from heaplens.graph import first_node_with_id

    g = graph_cache(scenario["files"][1])
    ids = np.asarray(g.ids).astype(np.int64)
    tables = g.eph_table[g.eph_table >= 0]
    assert len(tables) > 0
    rng = np.random.default_rng(7)
    wanted = np.concatenate([tables, rng.choice(ids, 500), ids.max() + 1 + rng.integers(0, 1000, 50),
                             np.array([0, -1, ids.min()])]).astype(np.int64)
    for col in (ids, np.concatenate([ids, ids[::-1]]), ids[::2]):
        order = np.argsort(col, kind="stable")
        pos = np.minimum(np.searchsorted(col[order], wanted), len(order) - 1)
        want = np.where(col[order[pos]] == wanted, order[pos], -1)
        got = first_node_with_id(col, wanted)
        assert got.tolist() == want.tolist()
        assert (got >= 0).sum() > 200 and (got < 0).sum() >= 50
    assert first_node_with_id(ids, np.empty(0, dtype=np.int64)).tolist() == []
