"""The tail of the diagnosis by per-graph tables and array passes against the per-node computations they replace, on
real snapshots of known shapes (tests/diagnose/conftest.py): module records' URLs (engine._string_props,
engine._registry_keys: their edges in one array pass) and importers (engine._importers_of: what the walk makes of a
node by naming.node_flags instead of each node's class label); the common user function of a timer's or listener's
new functions (engine._common_user_function: once per position and name instead of once per function)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from heaplens.diagnose import engine, load_rules
from heaplens.diagnose.naming import MODULE_RECORD, STORAGE, location, node_flags, string_value
from heaplens.graph import HeapGraph, read_for_graph
from helpers import JS, requires_node

pytestmark = requires_node


def _graph(path):
    return HeapGraph(read_for_graph(path), program_roots=True)


def reference_importers(g, k: int, rules, limit: int = 50) -> list[str]:
    """engine._importers as it was before the node table (heaplens ce314dd): each node's class label asked."""
    strings = {g.nt.get(t) for t in ("string", "concatenated string", "sliced string")}
    prop, skip = g.t["property"], {g.t["weak"], g.t["shortcut"]}
    walk = {g.t["element"], g.t["internal"], g.t["hidden"]}
    importer_ids, url_ids = engine._name_ids(g, rules.importer_properties), engine._name_ids(g, rules.url_properties)
    out: list[str] = []
    for e in range(int(g.first[k]), int(g.first[k + 1])):
        if int(g.etype[e]) != prop or int(g.ename[e]) not in importer_ids:
            continue
        coll = int(g.to[e])
        stack, seen = [coll], {coll}
        while stack and len(out) < limit:
            v = stack.pop()
            if int(g.ntype[v]) in strings:
                text = string_value(g, v)
                if text:
                    out.append(text)
                continue
            if len(seen) > 200:
                break
            lo, hi = int(g.first[v]), int(g.first[v + 1])
            for t, s, w in zip(g.etype[lo:hi].tolist(), g.ename[lo:hi].tolist(), g.to[lo:hi].tolist()):
                if w in seen or t in skip:
                    continue
                if t in walk or (t == prop and s in url_ids):
                    if int(g.ntype[w]) in strings or g.class_label(w) in ("(array)", "(system)", "system / Hashtable"):
                        seen.add(w)
                        stack.append(w)
                    elif rules.module_record(g.class_label(w)):
                        u = engine._string_prop(g, w, rules.url_properties)
                        if u:
                            out.append(u)
    return out


@pytest.mark.parametrize("name", ["mixed", "alias"])
def test_module_record_and_storage_flags_are_the_per_node_tests(shapes, name):
    """naming.node_flags' MODULE_RECORD and STORAGE bits (per class name) against each node's class label."""
    rules = load_rules()
    g = _graph(shapes[name])
    try:
        flags = node_flags(g, rules)
        labels = [g.class_label(k) for k in range(g.n)]
        record = np.array([rules.module_record(x) for x in labels])
        storage = np.array([x in ("(array)", "(system)", "system / Hashtable") for x in labels])
        assert np.array_equal((flags & MODULE_RECORD) != 0, record) and record.sum() > 20
        assert np.array_equal((flags & STORAGE) != 0, storage) and storage.sum() > 1000
    finally:
        g.snap.close()


@pytest.mark.parametrize("name", ["mixed", "alias"])
def test_importers_are_those_of_the_per_node_tests(shapes, name):
    """Every module record's importers (and, as the walk meets them, other records' URLs) against the walk that asks
    each node's class label, on a graph of its own: all records at once, and one by one."""
    rules = load_rules()
    g, ref = _graph(shapes[name]), _graph(shapes[name])  # (no memo shared)
    try:
        records = [k for k in range(g.n) if rules.module_record(ref.class_label(k))]
        want = [reference_importers(ref, k, rules) for k in records]
        assert engine._importers_of(g, np.array(records), rules) == want
        assert [engine._importers(g, k, rules) for k in records] == want
        assert len(records) > 20 and sum(bool(w) for w in want) > (10 if name == "mixed" else -1)  # (alias: none)
        got = engine._importers_of(g, np.array(records[::-1]), rules, limit=2)  # (the limit, reached inside a walk)
        assert got == [reference_importers(ref, k, rules, limit=2) for k in records[::-1]]
        assert engine._importers_of(g, np.array(records[:0]), rules) == []
    finally:
        g.snap.close()
        ref.snap.close()


@pytest.mark.parametrize("name", ["mixed", "alias"])
def test_string_props_are_each_nodes(shapes, name):
    """engine._string_props (the nodes' edges in one array pass) against engine._string_prop of each node: every node,
    for the URL properties and others (more than one name, in another order)."""
    rules = load_rules()
    g = _graph(shapes[name])
    try:
        ks = np.arange(g.n)
        for props in (rules.url_properties, ["name", "url"], ["url", "name", "id", "filename"], ["no such name"]):
            got = engine._string_props(g, ks, props)
            assert got == [engine._string_prop(g, k, props) for k in range(g.n)]
            assert props == ["no such name"] or sum(x is not None for x in got) > 20
        assert engine._string_props(g, ks[:0], rules.url_properties) == []
    finally:
        g.snap.close()


def reference_registry_key(g, k: int, rules) -> str | None:
    """engine._registry_key as it was (ce314dd): each retaining edge's source found one by one."""
    rfirst, redge = g.reverse
    internal = g.t["internal"]
    registry_table = {}
    for r in range(int(rfirst[k]), int(rfirst[k + 1])):
        e = int(redge[r])
        table = g.source_of_edge(e)
        if e == int(g.first[table]) or int(g.etype[e]) != internal:
            continue
        held = registry_table.get(table)
        if held is None:
            owners = (g.source_of_edge(int(redge[q])) for q in range(int(rfirst[table]), int(rfirst[table + 1])))
            held = registry_table[table] = any(rules.registry(g.class_label(o)) for o in owners)
        if held:
            key = string_value(g, int(g.to[e - 1]))
            if key:
                return key
    return None


@pytest.mark.parametrize("name", ["mixed", "alias"])
def test_registry_keys_are_each_nodes(shapes, name):
    """engine._registry_keys (every node's retaining edges and their tables in one pass) against the lookup of each
    node's edges one by one: every node, and the module records alone, in another order."""
    rules = load_rules()
    g = _graph(shapes[name])
    try:
        want = [reference_registry_key(g, k, rules) for k in range(g.n)]
        assert engine._registry_keys(g, np.arange(g.n), rules) == want
        records = np.flatnonzero((node_flags(g, rules) & MODULE_RECORD) != 0)[::-1]
        assert engine._registry_keys(g, records, rules) == [want[k] for k in records]
        assert [engine._registry_key(g, int(k), rules) for k in records] == [want[k] for k in records]
        assert sum(w is not None for w in want) > (20 if name == "alias" else -1)
    finally:
        g.snap.close()


def reference_common(g, fns, rules, root):
    """The most common (url, line, name) of the user's functions as engine._callback counted it before (ce314dd)."""
    seen: dict[tuple, int] = {}
    for f in fns.tolist():
        url, line = location(g, int(f), root)
        if url and not rules.tool_script(url):
            k = (url, line, g.node_name(int(f)))
            seen[k] = seen.get(k, 0) + 1
    if seen:
        return max(seen.items(), key=lambda kv: kv[1])[0]
    return None


@pytest.mark.parametrize("name", ["mixed", "emitter", "alias"])
def test_common_user_function_is_the_count_of_each(shapes, name):
    """engine._common_user_function against counting each function's location and name, one by one, on a graph of
    its own, for samples of: every function, the functions of one script, functions with repeats, and any nodes
    (some without a position); the same calls in the same order on both (location keeps what it finds)."""
    rules = load_rules()
    g, ref = _graph(shapes[name]), _graph(shapes[name])
    try:
        closures = np.flatnonzero(np.asarray(g.ntype) == g.nt["closure"])
        scripts = g.scripts.script_nodes(closures)
        rng = np.random.default_rng(7)
        common = np.bincount(scripts[scripts >= 0]).argmax()
        samples = [closures[:2000], closures[-2000:], closures[scripts == common][:2000],
                   rng.choice(closures, 2000), rng.choice(closures[scripts == common], 300),
                   rng.choice(g.n, 2000), closures[:0], closures[:1]]
        samples += [rng.choice(closures, 50) for _ in range(20)]
        has, _ = g.locations_of(np.concatenate(samples))
        assert 0 < has.sum() < len(has)  # (nodes with and without a position)
        got = [engine._common_user_function(g, s, rules, r) for s in samples for r in (None, str(JS))]
        want = [reference_common(ref, s, rules, r) for s in samples for r in (None, str(JS))]
        assert got == want
        assert sum(w is not None for w in want) > 10
    finally:
        g.snap.close()
        ref.snap.close()


REAL = os.environ.get("HEAPLENS_REAL_SNAPSHOTS")


@pytest.mark.skipif(not REAL, reason="HEAPLENS_REAL_SNAPSHOTS (a directory of a real suite's snapshots) is not set")
def test_tables_on_real_snapshots():
    """The same checks on every snapshot of a real suite's run (date-fns's workers: Vitest's module records)."""
    files = sorted(Path(REAL).rglob("*.heapsnapshot"))
    assert files, f"no snapshots under {REAL}"
    rules = load_rules()
    for f in files:
        g, ref = _graph(f), _graph(f)
        try:
            flags = node_flags(g, rules)
            labels = [ref.class_label(k) for k in range(g.n)]
            record = np.array([rules.module_record(x) for x in labels])
            assert np.array_equal((flags & MODULE_RECORD) != 0, record)
            assert np.array_equal((flags & STORAGE) != 0, [x in ("(array)", "(system)", "system / Hashtable")
                                                            for x in labels])
            records = np.flatnonzero(record)
            assert engine._importers_of(g, records, rules) == [reference_importers(ref, k, rules) for k in records]
            assert engine._registry_keys(g, records, rules) == [reference_registry_key(ref, k, rules) for k in records]
            closures = np.flatnonzero(np.asarray(g.ntype) == g.nt["closure"])
            rng = np.random.default_rng(7)
            samples = [closures[:2000], closures[-2000:], rng.choice(closures, 2000), rng.choice(g.n, 2000)]
            assert [engine._common_user_function(g, s, rules, None) for s in samples] == \
                [reference_common(ref, s, rules, None) for s in samples]
            assert engine._string_props(g, np.arange(g.n), rules.url_properties) == \
                [engine._string_prop(ref, k, rules.url_properties) for k in range(g.n)]
        finally:
            g.snap.close()
            ref.snap.close()


@pytest.mark.parametrize("name", ["mixed", "emitter"])
def test_the_later_snapshot_read_once_gives_what_its_ids_read_gives(shapes, name, monkeypatch):
    """With the reads beside the later graph, analyse_pair takes the later snapshot's identities from the read for
    its graph (Identities.of_graph_columns) instead of reading its ids first (Identities.read): the same arrays,
    and the same analysis as the serial order's, field by field."""
    from heaplens.graph.identity import Identities

    files = sorted(str(p) for p in Path(shapes[name]).parent.glob("*.heapsnapshot"))
    assert len(files) >= 2
    snap = read_for_graph(files[-1])
    try:
        got = Identities.of_graph_columns(snap).sorted()
    finally:
        snap.close()
    want = Identities.read(files[-1])
    for a, b in ((got.ids, want.ids), (got.keys, want.keys), (got.strs, want.strs)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    rules = load_rules()
    out = {}
    for beside in (False, True):
        monkeypatch.setattr(engine, "side_by_side", lambda paths, beside=beside: beside)
        pa = engine.analyse_pair(before=files[0], after=files[-1], rules=rules, root=None, pid=None,
                                 previous=files[-2] if len(files) > 2 else None, middles=files[1:-1])
        pa.seconds = 0.0
        out[beside] = repr(pa)
    assert out[True] == out[False] and "causes=[Cause(" in out[True]


@pytest.mark.parametrize("cut", [0.001, 0.5, 0.97])
def test_a_broken_later_snapshot_is_reported_alike_either_way(shapes, cut, tmp_path, monkeypatch):
    """A later snapshot cut short (in its header, its nodes, its strings): the reads beside its graph report what
    the serial order, which reads its ids first, reports — the same error, word for word."""
    files = sorted(str(p) for p in Path(shapes["mixed"]).parent.glob("*.heapsnapshot"))
    data = Path(files[-1]).read_bytes()
    broken = tmp_path / "Heap.20260101.000000.1.0.009.heapsnapshot"
    broken.write_bytes(data[:int(len(data) * cut)])
    rules = load_rules()
    out = {}
    for beside in (False, True):
        monkeypatch.setattr(engine, "side_by_side", lambda paths, beside=beside: beside)
        with pytest.raises(Exception) as exc:
            engine.analyse_pair(before=files[0], after=str(broken), rules=rules, root=None, pid=None)
        out[beside] = (type(exc.value).__name__, str(exc.value))
    assert out[True] == out[False]


@pytest.mark.parametrize("name", ["mixed", "emitter"])
def test_confidence_beside_is_the_serial_one(shapes, name, monkeypatch):
    """engine._exclusive works out two causes' confidence at a time: each cause's is what one after the other
    gives (a single core: os.cpu_count() 1); class_ids_of(nodes) is node_class_ids()[nodes]."""
    files = sorted(str(p) for p in Path(shapes[name]).parent.glob("*.heapsnapshot"))
    rules = load_rules()
    monkeypatch.setattr(engine, "side_by_side", lambda paths: False)
    out = {}
    for cores in (1, 2):
        monkeypatch.setattr(engine.os, "cpu_count", lambda cores=cores: cores)
        pa = engine.analyse_pair(before=files[0], after=files[-1], rules=rules, root=None, pid=None)
        out[cores] = [(c.key, c.exclusive) for c in pa.causes]
    assert out[1] == out[2] and sum(k[0] != "tool" and x is not None for k, x in out[2]) > 1
    g = _graph(files[-1])
    nodes = np.random.default_rng(3).integers(0, g.n, 5000)
    assert np.array_equal(g.class_ids_of(nodes), g.node_class_ids()[nodes])
