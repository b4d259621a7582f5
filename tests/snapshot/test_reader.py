"""The reader against json.load on real snapshots, and on layouts of other Node versions."""

from __future__ import annotations

import copy
import gzip
import shutil

import numpy as np
import pytest

import reference as ref
from heaplens.compare.summary import summarize
from heaplens.snapshot import NodeClasses, read_snapshot

ALL = ("type", "name", "id", "self_size", "edge_count")


@pytest.fixture(scope="module")
def planted_doc(planted_pair):
    return ref.load(planted_pair[1])


def test_every_node_and_edge_matches_json_load(planted_pair, planted_doc):
    doc = planted_doc
    meta = doc["snapshot"]["meta"]
    nf, ef = len(meta["node_fields"]), len(meta["edge_fields"])
    nodes = np.array(doc["nodes"], dtype=np.uint64).reshape(-1, nf)
    edges = np.array(doc["edges"], dtype=np.uint64).reshape(-1, ef)
    with read_snapshot(planted_pair[1], node_fields=meta["node_fields"], edges=True, locations=True) as snap:
        assert snap.node_count == len(nodes) == doc["snapshot"]["node_count"]
        for i, f in enumerate(meta["node_fields"]):
            assert np.array_equal(snap.nodes[f], nodes[:, i]), f
        assert snap.nodes["type"].dtype == np.uint8
        assert snap.nodes["name"].dtype == np.uint32
        assert np.array_equal(snap.edges.type, edges[:, 0])
        assert np.array_equal(snap.edges.name_or_index, edges[:, 1])
        assert np.array_equal(snap.edges.to_node, edges[:, 2] // nf)
        assert len(snap.strings) == len(doc["strings"])
        for i in range(0, len(doc["strings"]), 7):  # every 7th string decodes exactly
            assert snap.strings[i] == doc["strings"][i]
        locs = np.array(doc["locations"], dtype=np.uint64).reshape(-1, 4)
        assert np.array_equal(snap.locations, locs)


def test_strings_with_escapes_and_unicode(tmp_path, planted_doc):
    doc = copy.deepcopy(planted_doc)
    specials = ['quote " and backslash \\', "tab\tnewline\n", "snowman ☃ and 😀", "", "\u0001ctl"]
    base = len(doc["strings"])
    doc["strings"].extend(specials)
    p = ref.dump(doc, tmp_path / "esc.heapsnapshot")
    with read_snapshot(p) as snap:
        assert [snap.strings[base + i] for i in range(len(specials))] == specials


def test_devtools_class_name_of_every_node(planted_pair, planted_doc):
    types = planted_doc["snapshot"]["meta"]["node_types"][0]
    strings = planted_doc["strings"]
    expected = [ref.class_name(types[r["type"]], strings[r["name"]]) for r in ref.node_rows(planted_doc)]
    with read_snapshot(planted_pair[1]) as snap:
        classes = NodeClasses(snap)
        got = [classes.name(c) for c in classes.ids]
    assert got == expected
    assert got.count("PlantedLeak") == 5000
    assert "(system)" in got and "(compiled code)" in got and "Function" in got and "(string)" in got


def test_gzip_reads_the_same(planted_pair, tmp_path):
    gz = tmp_path / "a.heapsnapshot.gz"
    with open(planted_pair[0], "rb") as src, gzip.open(gz, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst)
    a, b = summarize(planted_pair[0]), summarize(gz)
    try:
        assert a.families.as_dict() == b.families.as_dict()
        assert b.file_size == planted_pair[0].stat().st_size
    finally:
        a.close()
        b.close()


# ---- layouts of other Node versions, built from a real snapshot ---------------------------------


def _drop_node_field(doc: dict, field: str) -> dict:
    doc = copy.deepcopy(doc)
    meta = doc["snapshot"]["meta"]
    fields = meta["node_fields"]
    i = fields.index(field)
    n = len(fields)
    doc["nodes"] = [v for k, v in enumerate(doc["nodes"]) if k % n != i]
    meta["node_fields"] = fields[:i] + fields[i + 1 :]
    meta["node_types"] = meta["node_types"][:i] + meta["node_types"][i + 1 :]
    # to_node is an offset in the nodes array: rescale it to the new field count
    e = doc["edges"]
    for k in range(2, len(e), 3):
        e[k] = e[k] // n * (n - 1)
    return doc


@pytest.mark.parametrize(
    "variant",
    ["node14-no-detachedness", "node24-no-trace-node-id", "no-newlines", "newlines", "extra-native-bytes",
     "reordered-types"],
)
def test_other_layouts_give_the_same_summary(tmp_path, planted_doc, variant):
    doc = planted_doc
    newlines = False
    if variant == "node14-no-detachedness":
        doc = _drop_node_field(doc, "detachedness")
    elif variant == "node24-no-trace-node-id":
        doc = _drop_node_field(doc, "trace_node_id")
        doc["snapshot"]["extra_native_bytes"] = 0
    elif variant == "newlines":
        newlines = True
    elif variant == "extra-native-bytes":
        doc = copy.deepcopy(doc)
        doc["snapshot"]["extra_native_bytes"] = 123456
    elif variant == "reordered-types":
        # a longer, differently ordered type enum (as between Node 20 and 22): remap the type column
        doc = copy.deepcopy(doc)
        old = doc["snapshot"]["meta"]["node_types"][0]
        new = list(reversed(old)) + ["future type"]
        nf = len(doc["snapshot"]["meta"]["node_fields"])
        ti = doc["snapshot"]["meta"]["node_fields"].index("type")
        for k in range(ti, len(doc["nodes"]), nf):
            doc["nodes"][k] = new.index(old[doc["nodes"][k]])
        doc["snapshot"]["meta"]["node_types"][0] = new
    p = ref.dump(doc, tmp_path / f"{variant}.heapsnapshot", newlines=newlines)
    s = summarize(p)
    try:
        assert s.families.as_dict() == ref.families(doc)
        assert s.extra_native_bytes == doc["snapshot"].get("extra_native_bytes", 0)
        assert s.node_count == doc["snapshot"]["node_count"]
    finally:
        s.close()
    with read_snapshot(p, edges=True) as snap:
        nf = len(doc["snapshot"]["meta"]["node_fields"])
        assert np.array_equal(snap.edges.to_node, np.array(doc["edges"][2::3]) // nf)


def test_values_beyond_32_bits_are_kept(tmp_path, planted_doc):
    doc = copy.deepcopy(planted_doc)
    nf = len(doc["snapshot"]["meta"]["node_fields"])
    si = doc["snapshot"]["meta"]["node_fields"].index("self_size")
    doc["nodes"][nf + si] = 5 * 2**32 + 7  # node 1 (a synthetic root child) gets a 48-bit size
    p = ref.dump(doc, tmp_path / "big.heapsnapshot")
    with read_snapshot(p, node_fields=("self_size",)) as snap:
        assert snap.nodes["self_size"].dtype == np.uint64
        assert int(snap.nodes["self_size"][1]) == 5 * 2**32 + 7
    s = summarize(p)
    try:
        assert s.families.as_dict() == ref.families(doc)
    finally:
        s.close()


def test_empty_graph(tmp_path):
    doc = {
        "snapshot": {
            "meta": {
                "node_fields": ["type", "name", "id", "self_size", "edge_count"],
                "node_types": [["hidden", "object"], "string", "number", "number", "number"],
                "edge_fields": ["type", "name_or_index", "to_node"],
                "edge_types": [["property"], "string_or_number", "node"],
            },
            "node_count": 0,
            "edge_count": 0,
        },
        "nodes": [],
        "edges": [],
        "strings": ["<dummy>"],
    }
    p = ref.dump(doc, tmp_path / "empty.heapsnapshot")
    s = summarize(p)
    try:
        assert len(s.families) == 0 and s.node_count == 0
    finally:
        s.close()


@pytest.mark.slow
def test_file_over_4_gib(tmp_path, planted_doc):
    """Offsets past 2**32: 4.1 GiB of whitespace between the nodes and the edges."""
    free = shutil.disk_usage(tmp_path).free
    if free < 6 * 2**30:
        pytest.skip(f"needs 6 GiB free in {tmp_path}, have {free / 2**30:.1f}")
    small = ref.dump(planted_doc, tmp_path / "small.heapsnapshot")
    text = small.read_bytes()
    cut = text.index(b'"edges":')
    big = tmp_path / "big.heapsnapshot"
    pad = b" " * (64 << 20)
    with open(big, "wb") as fh:
        fh.write(text[:cut])
        for _ in range((4 << 30) // len(pad) + 2):
            fh.write(pad)
        fh.write(text[cut:])
    assert big.stat().st_size > 2**32
    s = summarize(big)
    try:
        assert s.families.as_dict() == ref.families(planted_doc)
        # a string decoded from beyond 4 GiB
        assert s.families.strings[len(planted_doc["strings"]) - 1] == planted_doc["strings"][-1]
    finally:
        s.close()
    big.unlink()
