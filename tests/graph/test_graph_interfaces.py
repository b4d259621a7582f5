"""DevTools' interface names of plain objects ({a, b, c}): planted shapes, DevTools' own numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from graph_helpers import devtools_summary, run_js

from heaplens.snapshot.classes import format_property_name, interface_name, js_sort_key, utf16_len

LONG = [f"property_{i:02d}abc" for i in range(12)]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("shapes")
    info = run_js("shapes.mjs", str(d))
    info["file"] = Path(info["file"])
    return info


def test_format_rules():
    assert format_property_name("alpha") == "alpha"
    assert format_property_name("a,b") == '"a,b"'
    assert format_property_name('say "hi"') == '"say \\"hi\\""'
    assert format_property_name("{x}") == '"{x}"'
    assert format_property_name("it's\n") == '"it\'s\\n"'
    assert utf16_len("a\U0001F600") == 3
    # JavaScript sorts by UTF-16 code units: an astral character sorts before U+FF5E
    assert sorted(["\uff5e", "\U0001F600"], key=js_sort_key) == ["\U0001F600", "\uff5e"]
    assert interface_name(["zeta", "a,b"]) == '{zeta, "a,b"}'


def _expected_long_name() -> str:
    """DevTools' rule, written out: stop before a property that would take the name past 120."""
    name = "{"
    for p in LONG:
        if len(name) > 1 and len(name) + len(p) > 120:
            break
        if len(name) != 1:
            name += ", "
        name += p
    return name + "}"


def test_planted_shapes_get_devtools_names(shapes, graph_cache):
    g = graph_cache(shapes["file"])
    c = shapes["counts"]
    rows = {r.name: r for r in g.class_summary()}
    long_name = _expected_long_name()
    assert long_name.count(",") == 6  # 7 of the 12 properties fit
    want = {
        # {beta, alpha, gamma} objects and the one with an extra property join the most popular
        # definition with the same properties
        "{alpha, beta, gamma}": c["abc"] + c["bac"] + 1,
        "{alpha, beta, gamma, delta}": c["abcd"],
        '{zeta, "a,b"}': c["comma"],
        long_name: c["long"],
    }
    for name, count in want.items():
        assert name in rows, f"{name} missing; have {[n for n in rows if n.startswith('{')]}"
        assert rows[name].count == count, name
    assert "{beta, alpha, gamma}" not in rows
    # the definitions in DevTools' order (most popular first), with their own counts
    defs = [(d["name"], d["count"]) for d in g.classes.interfaces]
    assert defs[:5] == [("{alpha, beta, gamma}", c["abc"]), ('{zeta, "a,b"}', c["comma"]),
                        (long_name, c["long"]), ("{alpha, beta, gamma, delta}", c["abcd"]),
                        ("{beta, alpha, gamma}", c["bac"])]
    # the object that matches no definition keeps "Object"
    lonely = g.classes._find("lonely_property_q")
    assert lonely >= 0
    e = np.flatnonzero((g.ename == lonely) & (g.etype == g.t["property"]))
    assert len(e) == 1
    assert g.class_name(g.source_of_edge(int(e[0]))) == "Object"


def test_interface_classes_equal_devtools(shapes, graph_cache):
    g = graph_cache(shapes["file"])
    dt = devtools_summary(shapes["file"], 400)
    mine = {r.name: r for r in g.class_summary() if r.location is None}
    seen = 0
    for row in dt["rows"]:
        if not (row["name"].startswith("{") or row["name"] == "Object"):
            continue
        r = mine.get(row["name"])
        assert r is not None, row["name"]
        assert (r.count, r.self_size, r.retained, r.distance) == (
            row["count"], row["self"], round(row["retained"]), row["distance"]), row["name"]
        seen += 1
    assert seen >= 6


def test_top_and_retainers_show_interface_names(shapes):
    from helpers import heaplens

    cp = heaplens("top", shapes["file"], "--format", "json", "--top", "400", "--objects", "0")
    assert cp.returncode == 0, cp.stderr
    names = {r["class"]: r["count"] for r in json.loads(cp.stdout)["classes"]}
    assert names["{alpha, beta, gamma, delta}"] == shapes["counts"]["abcd"]
    cp = heaplens("retainers", shapes["file"], "--class", '{zeta, "a,b"}', "--format", "json")
    assert cp.returncode == 0, cp.stderr


def test_definitions_of_another_snapshot_can_be_applied(shapes, tmp_path):
    """DevTools' Comparison view names the earlier snapshot's plain objects with the later one's
    definitions: applying definitions given as texts gives the same names as inferring them."""
    from heaplens.graph import HeapGraph, read_for_graph

    with read_for_graph(shapes["file"]) as snap:
        own = HeapGraph(snap, dominators=False)
        defs = own.classes.interfaces
        names = own.node_class_ids()
        want = [own.classes.name(int(c)) for c in names]
    # only the definition of {zeta, "a,b"} (and one naming a property nobody has): the other shapes
    # stay "Object"
    given = [d for d in defs if d["name"] == '{zeta, "a,b"}'] + [{"name": "{nobody}", "properties": ["nobody_q"]}]
    with read_for_graph(shapes["file"]) as snap:
        other = HeapGraph(snap, dominators=False, interfaces=given)
        got = [other.classes.name(int(c)) for c in other.node_class_ids()]
    assert got.count('{zeta, "a,b"}') == want.count('{zeta, "a,b"}') == shapes["counts"]["comma"]
    assert "{alpha, beta, gamma}" not in got and "{nobody}" not in got
    assert got.count("Object") == want.count("Object") + sum(
        want.count(d["name"]) for d in defs if d["name"] != '{zeta, "a,b"}')
    with read_for_graph(shapes["file"]) as snap:
        same = HeapGraph(snap, dominators=False, interfaces=defs)
        assert [same.classes.name(int(c)) for c in same.node_class_ids()] == want
