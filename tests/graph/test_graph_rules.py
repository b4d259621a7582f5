"""DevTools' edge rules on a hand-made snapshot: weak-only nodes, unreachable cliques, WeakMap
ephemerons, self edges, shortcuts, page ownership and shallow-size transfer — checked against
DevTools' own code node by node."""

from __future__ import annotations

import json

import pytest
from graph_helpers import devtools_summary

from heaplens.graph import GRAPH_NODE_FIELDS, HeapGraph
from heaplens.snapshot import read_snapshot

NODE_TYPES = ["hidden", "array", "string", "object", "code", "closure", "regexp", "number", "native",
              "synthetic", "concatenated string", "sliced string", "symbol", "bigint", "object shape"]
EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"]
EPH = "{} / part of key (K @11) -> value (V @15) pair in WeakMap (table @9)"

# name, type, id, self size, [(edge type, edge name or index, target)]
NODES = [
    ("", "synthetic", 1, 0, [("element", 1, 1), ("shortcut", "global", 2)]),
    ("(GC roots)", "synthetic", 3, 0, [("element", 1, 3)]),
    ("global", "object", 5, 100, [("property", "a", 4), ("property", "wm", 5), ("property", "k", 6)]),
    ("SysHolder", "object", 7, 8, [("property", "x", 4), ("weak", "w", 8), ("property", "sys", 15)]),
    ("A", "object", 13, 10, [("property", "me", 4), ("property", "b", 9), ("property", "s", 14)]),
    ("(EphemeronHashTable)", "array", 9, 20, [("internal", EPH.format(1), 7)]),
    ("K", "object", 11, 30, [("internal", EPH.format(2), 7), ("property", "s", 14)]),
    ("V", "object", 15, 40, []),
    ("WeakOnly", "object", 17, 50, [("property", "c", 10)]),
    ("B", "object", 19, 60, [("hidden", 0, 11)]),
    ("C", "object", 21, 70, []),
    ("", "array", 23, 80, []),
    ("Clique", "object", 25, 5, [("property", "next", 13)]),
    ("Clique", "object", 27, 6, [("property", "next", 12)]),
    ("Shared", "object", 29, 7, []),
    ("SysOnly", "object", 31, 9, [("property", "v", 16)]),
    ("SysChild", "object", 33, 11, []),
]


def write_snapshot(path):
    strings = ["<dummy>"]
    index = {}

    def sid(text):
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    nodes, edges = [], []
    for name, ntype, nid, size, out in NODES:
        nodes += [NODE_TYPES.index(ntype), sid(name), nid, size, len(out), 0, 0]
        for etype, ename, target in out:
            nm = ename if etype in ("element", "hidden") else sid(ename)
            edges += [EDGE_TYPES.index(etype), nm, target * 7]
    doc = {
        "snapshot": {
            "meta": {
                "node_fields": ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"],
                "node_types": [NODE_TYPES, "string", "number", "number", "number", "number", "number"],
                "edge_fields": ["type", "name_or_index", "to_node"],
                "edge_types": [EDGE_TYPES, "string_or_number", "node"],
                "trace_function_info_fields": [], "trace_node_fields": [], "sample_fields": [],
                "location_fields": ["object_index", "script_id", "line", "column"],
            },
            "node_count": len(NODES), "edge_count": len(edges) // 3, "trace_function_count": 0,
        },
        "nodes": nodes, "edges": edges, "trace_function_infos": [], "trace_tree": [], "samples": [],
        "locations": [], "strings": strings,
    }
    path.write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    p = tmp_path_factory.mktemp("rules") / "tiny.heapsnapshot"
    write_snapshot(p)
    snap = read_snapshot(p, node_fields=GRAPH_NODE_FIELDS, edges=True, locations=True)
    yield p, HeapGraph(snap)
    snap.close()


def by_id(g, nid):
    return int(g.ordinal_of_id(nid))


def test_rules(tiny):
    _, g = tiny
    dom_id = {int(g.ids[k]): int(g.ids[g.dom[k]]) for k in range(g.n)}
    # SysHolder -> A is dropped (non-page-owned into page-owned): A stays under global
    assert dom_id[13] == 5
    # the WeakMap value hangs off the key, not the table
    assert dom_id[15] == 11
    # Shared is reached from A and from K: global dominates it
    assert dom_id[29] == 5
    # B's hidden array is owned by B: its size moved to B
    assert g.sizes[by_id(g, 23)] == 0 and g.sizes[by_id(g, 19)] == 140
    # WeakOnly (only a weak retainer) and the clique are attached to the root
    assert dom_id[17] == 1 and dom_id[21] == 17
    assert dom_id[25] == 1 and dom_id[27] == 1
    assert g.n_weak_only == 2 and g.n_unreachable == 2
    # distances: user root global = 1; SysHolder only via (GC roots) = system distance
    d = {int(g.ids[k]): int(g.distance[k]) for k in range(g.n)}
    assert d[5] == 1 and d[13] == 2 and d[7] == 100_000_002
    assert d[17] == -5 and d[25] == -5  # unreachable over non-weak edges
    # the WeakMap value's distance is max(table, key) + 1 = 3 (first ephemeron edge skipped)
    assert d[15] == 3


def test_rules_equal_devtools_node_by_node(tiny):
    path, g = tiny
    ids = [n[2] for n in NODES]
    dt = devtools_summary(path, 100, ids)
    for nid in ids:
        k = by_id(g, nid)
        want = dt["nodes"][str(nid)]
        got = {"retained": float(g.retained[k]), "self": int(g.sizes[k]), "distance": int(g.distance[k]),
               "dominatorId": int(g.ids[g.dom[k]])}
        assert got == want, (nid, got, want)
