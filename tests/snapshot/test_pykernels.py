"""The numpy path (heaplens._pykernels) against the C kernels (heaplens._kernels): the same results, the
same status codes and byte offsets, the same bytes written — on real snapshots from Node and on
generated, mutated and truncated inputs. The numpy path's windows are shrunk to a few bytes for the
fuzz tests, so every window boundary and every fallback between its steps is crossed."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heaplens import _pykernels as P
from heaplens import kernels as K
from heaplens.errors import SnapshotError
from heaplens.snapshot import read_snapshot
from helpers import JS, plant, run_node

C = pytest.importorskip("heaplens._kernels", reason="the compiled kernels are not built")

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=[1 << 22, 7, 64], ids=["window-4MiB", "window-7", "window-64"])
def window(request, monkeypatch):
    monkeypatch.setattr(P, "WINDOW", request.param)
    return request.param


@pytest.fixture
def pure_reader():
    """Bind heaplens.kernels to the numpy path for one test (then back to C)."""
    K.use(True)
    yield
    K.use(False)


def test_every_reader_kernel_has_a_numpy_twin():
    """A reader kernel added to _kernels.c needs its numpy path in _pykernels.py (and its name in
    kernels.READER_FUNCTIONS); the graph kernels (g_*) and the allocator calls have none."""
    compiled = {n for n in dir(C) if not n.startswith(("_", "g_")) and callable(getattr(C, n))}
    assert compiled - {"malloc_trim", "malloc_mmap_threshold"} == set(K.READER_FUNCTIONS)
    for name in K.READER_FUNCTIONS:
        assert callable(getattr(P, name)), name
    constants = {n for n in dir(C) if n.isupper()}
    assert all(getattr(P, n) == getattr(C, n) for n in constants), constants
    # and what the reader layers call is there on both paths
    src = Path(K.__file__).parent
    used = set()
    for f in ("snapshot/reader.py", "snapshot/strings.py", "snapshot/classes.py", "compare/summary.py"):
        used |= set(re.findall(r"\bK\.([A-Za-z_][A-Za-z_0-9]*)", (src / f).read_text()))
    for pure in (True, False):
        K.use(pure)
        assert all(hasattr(K, n) for n in used), sorted(n for n in used if not hasattr(K, n))
    # the stub lists exactly what the extension has
    stub = (src / "_kernels.pyi").read_text()
    stubbed = set(re.findall(r"^def (\w+)\(", stub, re.M)) | set(re.findall(r"^([A-Z_]+): int$", stub, re.M))
    assert stubbed == {n for n in dir(C) if not n.startswith("_")}


# -- inputs --------------------------------------------------------------------------------------

SEPARATORS = [",", ",\n", "\n,", ", ", " ,", ",\t", "\r\n,"]


@st.composite
def number_arrays(draw):
    """A JSON array of unsigned integers (its text after the '['), well formed or slightly broken."""
    values = draw(st.lists(st.one_of(st.integers(0, 300), st.integers(0, 2**64 - 1), st.just(10**19 - 1)),
                           max_size=40))
    sep = draw(st.sampled_from(SEPARATORS))
    text = sep.join(str(v) for v in values) + draw(st.sampled_from(["]", " ]", "\n]", "", ",]", "]x"]))
    data = bytearray(draw(st.sampled_from(["", " ", "\n"])) + text, "ascii")
    for _ in range(draw(st.integers(0, 3))):  # mutations
        if not data:
            break
        k = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete", "digits"]))
        if op == "flip":
            data[k] = draw(st.sampled_from(b"0123456789, \n]x\"-+.e\x00\xff"))
        elif op == "insert":
            data[k:k] = draw(st.sampled_from([b",", b" ", b"00", b"]", b",,", b"\t"]))
        elif op == "delete":
            del data[k]
        else:
            data[k:k] = b"1" * draw(st.integers(15, 25))
    return bytes(data)


def _parse(mod, data, stop_hint, count, expected, nfields, slots, widths, sum_field):
    rows = expected // nfields + 2
    cols = tuple(np.full(rows, 0xA5, dtype={1: np.uint8, 4: np.uint32, 8: np.uint64}[w]) for w in widths)
    buf = np.frombuffer(data, dtype=np.uint8)
    r = mod.parse_uint_array(buf, 0, len(data), stop_hint, count, expected, nfields,
                             np.array(slots, dtype=np.int64), cols, sum_field)
    return tuple(int(x) for x in r), cols


@FUZZ
@given(data=number_arrays(), nfields=st.integers(1, 4), expected_extra=st.integers(-3, 3),
       hint=st.integers(0, 60), count0=st.sampled_from([0, 0, 5]), narrow=st.booleans(), sum_field=st.integers(-1, 3))
def test_parse_uint_array_same_as_c(window, data, nfields, expected_extra, hint, count0, narrow, sum_field):
    n = data.count(b",") + 1
    expected = max(count0 + n + expected_extra, 0)
    slots = [(f if f % 2 == 0 else -1) for f in range(nfields)]
    widths = [1 if narrow and f == 0 else (4 if f % 4 == 0 else 8) for f in range(nfields)]
    args = (data, hint, count0, expected, nfields, slots, widths, sum_field)
    rc, cc = _parse(C, *args)
    rp, cp = _parse(P, *args)
    assert rp == rc, (data, args)
    for a, b in zip(cc, cp):
        assert np.array_equal(a, b), data


@st.composite
def string_arrays(draw):
    words = draw(st.lists(st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
        st.sampled_from(["", "a\"b", "\\", "x\\\\", "<div id=1>", "é", "\u2028", "\x01", "tab\t"]),
        st.text(alphabet="ab\\\"", max_size=8)), max_size=30))
    sep = draw(st.sampled_from([",\n", ",", ", ", " , ", ",\r\n"]))
    raw = sep.join(json.dumps(w, ensure_ascii=draw(st.booleans())) for w in words)
    text = (raw + draw(st.sampled_from(["]", "\n]", "", ",]", "]]"]))).encode("utf-8")
    data = bytearray(draw(st.sampled_from([b"", b"\n", b" "])) + text)
    for _ in range(draw(st.integers(0, 3))):
        if not data:
            break
        k = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "insert", "delete"]))
        if op == "flip":
            data[k] = draw(st.sampled_from(b"\"\\,]\n\x01\x1f a\xc3\xa9"))
        elif op == "insert":
            data[k:k] = draw(st.sampled_from([b"\\", b"\"", b",", b"\n", b"\\\"", b"\x00"]))
        else:
            del data[k]
    return bytes(data)


def _scan(mod, data, hint, count, cap):
    outs = (np.full(cap, -7, np.int64), np.full(cap, 7, np.uint32), np.full(cap, 7, np.uint8),
            np.full(cap, 7, np.uint64))
    r = mod.scan_strings(np.frombuffer(data, dtype=np.uint8), 0, len(data), hint, count, *outs)
    return tuple(int(x) for x in r), outs


@FUZZ
@given(data=string_arrays(), hint=st.integers(0, 80), count0=st.sampled_from([0, 0, 2]), spare=st.integers(-2, 4))
def test_scan_strings_same_as_c(window, data, hint, count0, spare):
    cap = max(count0 + data.count(b'"') // 2 + spare, 0)
    rc, oc = _scan(C, data, hint, count0, cap)
    rp, op = _scan(P, data, hint, count0, cap)
    assert rp == rc, data
    for a, b in zip(oc, op):
        assert np.array_equal(a, b), data


@st.composite
def json_values(draw):
    v = draw(st.recursive(st.one_of(st.integers(0, 10**6), st.text(max_size=6), st.booleans(), st.none()),
                          lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                          max_leaves=20))
    data = bytearray(json.dumps(v).encode() + draw(st.sampled_from([b"", b",", b" ", b"}", b"]", b"\n,\"x\""])))
    for _ in range(draw(st.integers(0, 2))):
        if data:
            k = draw(st.integers(0, len(data) - 1))
            data[k] = draw(st.sampled_from(b"[]{}\"\\, x"))
    return bytes(data)


@FUZZ
@given(data=json_values(), lead=st.sampled_from([b"", b" "]))
def test_skip_value_same_as_c(window, data, lead):
    buf = np.frombuffer(lead + data, dtype=np.uint8)
    assert P.skip_value(buf, 0, len(buf)) == C.skip_value(buf, 0, len(buf))


@FUZZ
@given(data=st.binary(max_size=200), a=st.integers(-5, 210), b=st.integers(-5, 210),
       byte=st.sampled_from([0x2C, 0x5D, 0x22, 0x20, 0xFF]))
def test_scanning_helpers_same_as_c(window, data, a, b, byte):
    buf = np.frombuffer(data, dtype=np.uint8)
    assert P.count_byte(buf, a, b, byte) == C.count_byte(buf, a, b, byte)
    assert P.count_until_close(buf, a, b) == C.count_until_close(buf, a, b)
    assert P.skip_ws(buf, a, b) == C.skip_ws(buf, a, b)
    assert P.find_byte(buf, a, b, byte) == C.find_byte(buf, a, b, byte)
    assert P.fnv1a(data) == C.fnv1a(data)


def test_long_strings_hash_alike_on_the_numpy_path():
    """Past FNV_MAX bytes (no V8 string is that long) the numpy path hashes with BLAKE2b, the same in
    scan_strings and fnv1a, so names still match between two snapshots read by that path."""
    long = b"x" * (P.FNV_MAX + 1)
    data = b'"' + long + b'","' + long[:-1] + b'"]'
    (status, _, count), outs = _scan(P, data, 10**9, 0, 4)
    assert (status, count) == (P.OK_END, 2)
    assert int(outs[3][0]) == P.fnv1a(long) != int(C.fnv1a(long))
    assert int(outs[3][1]) == P.fnv1a(long[:-1]) == int(C.fnv1a(long[:-1]))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 40), st.integers(0, 2**40)), max_size=60),
       st.integers(0, 2))
def test_grouping_same_as_c(rows, extra_names):
    types = np.array([r[0] for r in rows], dtype=np.uint8)
    names = np.array([r[1] for r in rows], dtype=np.uint32)
    sizes = np.array([r[2] for r in rows], dtype=np.uint64)
    nstrings = (int(names.max()) + 1 if len(rows) else 0) + extra_names
    fast = K.group_pairs(types, names, sizes, nstrings)
    K.use(True)
    try:
        for pack in (P.PACK_MAX, 0):  # flags packed into the masks, and one pass per type
            P.PACK_MAX, saved = pack, P.PACK_MAX
            try:
                pure = K.group_pairs(types, names, sizes, nstrings)
            finally:
                P.PACK_MAX = saved
            for a, b in zip(fast, pure):
                assert np.array_equal(a, b)
    finally:
        K.use(False)


@FUZZ
@given(st.lists(st.integers(0, 60), max_size=50), st.integers(1, 7), st.integers(0, 12))
def test_edge_checks_same_as_c(offsets, nf, count):
    for dtype in (np.uint32, np.uint64):
        a = np.array(offsets, dtype=dtype)
        b = a.copy()
        assert P.edge_targets(a, nf, count) == C.edge_targets(b, nf, count)
        assert np.array_equal(a, b)
        types = (np.array(offsets, dtype=np.uint64) % 7).astype(np.uint8)
        named = bytes([1, 0, 1, 1, 0, 1])
        assert P.named_edges_in_range(types, a, named, count) == C.named_edges_in_range(types, a, named, count)
        assert P.first_at_least(a, count) == C.first_at_least(a, count)


# -- real snapshots --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def node_snapshots(tmp_path_factory) -> list:
    """Snapshots written by Node: planted leaks (two of them), a module graph, buffers."""
    d = tmp_path_factory.mktemp("pyk")
    files = list(plant(d / "plant", 3000)["files"])
    for script, arg in (("module_graph.mjs", "40"), ("buffers.mjs", "20")):
        out = d / script.split(".")[0]
        out.mkdir()
        info = json.loads(run_node(JS / script, str(out), arg).stdout.strip().splitlines()[-1])
        files += [p for p in info["files"]]
    return files


def _read_all(path):
    with read_snapshot(path, node_fields=("type", "name", "id", "self_size", "edge_count"), edges=True,
                       locations=True) as s:
        t = s.strings
        return ({k: v.copy() for k, v in s.nodes.items()}, (s.edges.type.copy(), s.edges.name_or_index.copy(),
                s.edges.to_node.copy()), s.locations.copy() if s.locations is not None else None,
                (t.starts.copy(), t.lengths.copy(), t.flags.copy(), t.hashes.copy()), [t[i] for i in range(len(t))])


def test_real_snapshots_read_the_same(node_snapshots, pure_reader):
    for path in node_snapshots:
        pure = _read_all(path)
        K.use(False)
        fast = _read_all(path)
        K.use(True)
        for k in fast[0]:
            assert np.array_equal(fast[0][k], pure[0][k]), (path, k)
        for a, b in zip(fast[1], pure[1]):
            assert np.array_equal(a, b), path
        assert (fast[2] is None and pure[2] is None) or np.array_equal(fast[2], pure[2])
        for a, b in zip(fast[3], pure[3]):
            assert np.array_equal(a, b), path
        assert fast[4] == pure[4]


def test_real_snapshots_summarize_the_same(node_snapshots, pure_reader):
    """Every family row and every class row, count and size, identical."""
    from heaplens.compare.delta import diff_files

    def rows(path):
        from heaplens.compare.summary import summarize
        s = summarize(path)
        try:
            return s.total_size, s.families.as_dict(), s.by_class().as_dict()
        finally:
            s.close()

    for path in node_snapshots:
        pure = rows(path)
        K.use(False)
        fast = rows(path)
        K.use(True)
        assert pure == fast, path
        assert len(fast[1]) > 100 and len(fast[2]) > 20
    before, after = node_snapshots[:2]
    for by in ("family", "class"):
        pure = diff_files(str(before), str(after), by=by, top=10**6, min_kb=0).rows
        K.use(False)
        fast = diff_files(str(before), str(after), by=by, top=10**6, min_kb=0).rows
        K.use(True)
        assert [(r.type, r.name, r.count_before, r.count_after, r.size_before, r.size_after) for r in pure] == \
               [(r.type, r.name, r.count_before, r.count_after, r.size_before, r.size_after) for r in fast]
        assert any(r.name == "PlantedLeak" and r.count_after - r.count_before == 3000 for r in fast)


def test_real_snapshots_class_ids_the_same(node_snapshots, pure_reader):
    """DevTools class ids per node (node_class_ids, remap_ids: "<div id=…>" cut to "<div>") on both paths."""
    from heaplens.snapshot.classes import NodeClasses

    def ids(path):
        with read_snapshot(path, node_fields=("type", "name")) as s:
            c = NodeClasses(s)
            return c.ids.copy(), list(c.extra)

    for path in node_snapshots:
        pure = ids(path)
        K.use(False)
        fast = ids(path)
        K.use(True)
        assert np.array_equal(pure[0], fast[0]) and pure[1] == fast[1], path


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 30)), max_size=60), st.integers(0, 3),
       st.lists(st.integers(-1, 40), min_size=8, max_size=8))
def test_class_id_kernels_same_as_c(nodes, ntypes_extra, per):
    ntype = np.array([t for t, _ in nodes], dtype=np.uint8)
    nname = np.array([n for _, n in nodes], dtype=np.uint32)
    per_type = np.array(per[: 6 + ntypes_extra % 3], dtype=np.int64)
    nstr = 28
    outs = []
    for mod in (C, P):
        out = np.full(len(nodes), 7, dtype=np.uint32)
        used = np.zeros(nstr, dtype=np.uint8)
        r = mod.node_class_ids(ntype, nname, per_type, out, used)
        remap = np.where(np.arange(nstr) % 3 == 0, np.arange(nstr) + 100, -1).astype(np.int64)
        mod.remap_ids(out, ntype, per_type, remap)
        outs.append((r, out, used))
    assert outs[0][0] == outs[1][0]
    assert np.array_equal(outs[0][1], outs[1][1]) and np.array_equal(outs[0][2], outs[1][2])


# -- malformed files: the same one-line error, the same offset -------------------------------------

def _error(path, **kw):
    try:
        with read_snapshot(path, **kw) as s:
            return ("ok", s.node_count, len(s.strings))
    except SnapshotError as exc:
        return ("error", exc.message, exc.offset)


def _variants(data: bytes, rng: random.Random) -> list[bytes]:
    out = []
    sections = [data.find(k) for k in (b'"nodes"', b'"edges"', b'"locations"', b'"strings"')]
    for frac in (0.001, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 0.999):
        out.append(data[: int(len(data) * frac)])  # truncated
    for at in sections:
        for delta in (12, 40, 200):
            k = at + delta
            for b in (b"x", b"]", b",", b"\x00", b"\"", b"\\", b" ", b"99999999999999999999"):
                out.append(data[:k] + b + data[k + 1:])
            out.append(data[:k] + data[k + 1:])
    for _ in range(30):
        d = bytearray(data)
        k = rng.randrange(len(d))
        d[k] = rng.choice(b"0123456789,]\"\\x \n\x01")
        out.append(bytes(d))
    return out


def test_malformed_files_give_the_same_error(tmp_path, pure_reader):
    info = plant(tmp_path / "s", 5, snapshots=1)
    data = info["files"][0].read_bytes()
    rng = random.Random(17)
    p = tmp_path / "bad.heapsnapshot"
    seen_errors = set()
    for v in _variants(data, rng):
        p.write_bytes(v)
        for kw in ({"node_fields": ("type", "name", "self_size")},
                   {"node_fields": ("type", "name", "id", "self_size", "edge_count"), "edges": True}):
            K.use(True)
            pure = _error(p, **kw)
            K.use(False)
            fast = _error(p, **kw)
            K.use(True)
            assert pure == fast, (v[:0], kw)
            if fast[0] == "error":
                seen_errors.add(fast[1].split(" ")[0])
    assert len(seen_errors) >= 4, seen_errors  # the variants reach several different faults
