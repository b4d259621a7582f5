"""Bad input: one line on stderr naming the file and what is wrong, exit code 2, never a traceback."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference as ref
from heaplens.errors import SnapshotError
from heaplens.snapshot import read_snapshot
from helpers import heaplens, plant


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict:
    """A real snapshot (a fresh Node heap) and its parsed JSON."""
    info = plant(tmp_path_factory.mktemp("small"), 10, snapshots=2)
    data = info["files"][0].read_bytes()
    return {"path": info["files"][0], "other": info["files"][1], "bytes": data, "doc": json.loads(data)}


def check_error(cp, *needles: str, path: Path | None = None):
    assert cp.returncode == 2, (cp.returncode, cp.stdout[-500:], cp.stderr[-2000:])
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1, cp.stderr
    assert "Traceback" not in cp.stderr
    assert lines[0].startswith("heaplens: error: ")
    if path is not None:
        assert str(path) in lines[0]
    for n in needles:
        assert n in lines[0], lines[0]
    assert cp.stdout == ""
    return lines[0]


def test_missing_path(small, tmp_path):
    missing = tmp_path / "nope.heapsnapshot"
    check_error(heaplens("diff", small["path"], missing), "no such file", path=missing)


def test_directory_given_as_a_file(small, tmp_path):
    check_error(heaplens("diff", small["path"], tmp_path), "is a directory", path=tmp_path)


def test_lane_dir_without_snapshots(tmp_path):
    check_error(heaplens("diff", "--lane-dir", tmp_path), "no Heap.*.heapsnapshot files", path=tmp_path)
    check_error(heaplens("diff", "--lane-dir", tmp_path / "absent"), "no such directory")


def test_lane_dir_parent_names_the_lanes(planted_lane, tmp_path):
    lane = tmp_path / "unit-fast"
    lane.mkdir()
    for f in planted_lane["main"]["files"][:2]:
        (lane / f.name).symlink_to(f)
    line = check_error(heaplens("diff", "--lane-dir", tmp_path), "unit-fast (2)")
    assert "pass one of them" in line


def test_pid_with_one_snapshot(tmp_path, small):
    (tmp_path / "Heap.20261127.101010.4242.0.001.heapsnapshot").write_bytes(small["bytes"])
    check_error(heaplens("diff", "--lane-dir", tmp_path), "PID 4242 has only one snapshot")
    check_error(heaplens("diff", "--lane-dir", tmp_path, "--pid", "77"), "no snapshots of PID 77", "4242 (1)")


def test_empty_file(small, tmp_path):
    p = tmp_path / "empty.heapsnapshot"
    p.write_bytes(b"")
    check_error(heaplens("diff", p, small["path"]), "empty file", path=p)


def test_not_json(small, tmp_path):
    p = tmp_path / "x.heapsnapshot"
    p.write_bytes(b"\x00\x01 this is not json")
    check_error(heaplens("diff", small["path"], p), "not JSON", "at byte 0", path=p)


def test_json_but_not_a_snapshot(small, tmp_path):
    p = tmp_path / "x.heapsnapshot"
    p.write_text('{"name": "package.json", "version": "1.0.0"}')
    check_error(heaplens("diff", small["path"], p), "not a V8 heap snapshot", path=p)


@pytest.mark.parametrize("field", ["node_fields", "node_types", "edge_fields", "edge_types"])
def test_meta_missing_fields(small, tmp_path, field):
    doc = copy.deepcopy(small["doc"])
    del doc["snapshot"]["meta"][field]
    p = ref.dump(doc, tmp_path / "m.heapsnapshot")
    check_error(heaplens("diff", small["path"], p), f"snapshot.meta.{field}", path=p)


def test_meta_missing_self_size_column(small, tmp_path):
    doc = copy.deepcopy(small["doc"])
    doc["snapshot"]["meta"]["node_fields"][3] = "shallow"
    p = ref.dump(doc, tmp_path / "m.heapsnapshot")
    check_error(heaplens("diff", small["path"], p), "lacks 'self_size'", path=p)


def test_missing_node_count(small, tmp_path):
    doc = copy.deepcopy(small["doc"])
    del doc["snapshot"]["node_count"]
    p = ref.dump(doc, tmp_path / "m.heapsnapshot")
    check_error(heaplens("diff", small["path"], p), "snapshot.node_count", path=p)


def test_nodes_shorter_than_node_count(small, tmp_path):
    doc = copy.deepcopy(small["doc"])
    doc["snapshot"]["node_count"] += 1
    p = ref.dump(doc, tmp_path / "n.heapsnapshot")
    line = check_error(heaplens("diff", small["path"], p), "nodes has", "header announces", path=p)
    assert re.search(r"at byte [\d,]+", line)


def test_nodes_longer_than_node_count(small, tmp_path):
    doc = copy.deepcopy(small["doc"])
    doc["snapshot"]["node_count"] -= 1
    p = ref.dump(doc, tmp_path / "n.heapsnapshot")
    check_error(heaplens("diff", small["path"], p), "nodes has more values than the header announces", "at byte", path=p)


def test_edges_disagree_with_edge_count(small, tmp_path):
    doc = copy.deepcopy(small["doc"])
    doc["edges"] = doc["edges"][:-3]  # drop the last edge, keep the header
    p = ref.dump(doc, tmp_path / "e.heapsnapshot")
    # `diff` reads only nodes and strings (it jumps over the edges); the commands that read the
    # edges check their number
    check_error(heaplens("top", p), "edges has", "header announces", path=p)
    with pytest.raises(SnapshotError, match="edges has 2?[0-9,]+ values but the header announces"):
        read_snapshot(p, edges=True)


def test_node_edge_counts_disagree_with_edge_count(small, tmp_path):
    doc = copy.deepcopy(small["doc"])
    doc["snapshot"]["edge_count"] += 1  # the nodes' edge counts no longer add up to the header's
    p = ref.dump(doc, tmp_path / "e.heapsnapshot")
    check_error(heaplens("diff", small["path"], p), "node edge counts add up to", path=p)


def test_out_of_range_string_index(small, tmp_path):
    doc = copy.deepcopy(small["doc"])
    nf = len(doc["snapshot"]["meta"]["node_fields"])
    ni = doc["snapshot"]["meta"]["node_fields"].index("name")
    doc["nodes"][5 * nf + ni] = len(doc["strings"]) + 10
    p = ref.dump(doc, tmp_path / "s.heapsnapshot")
    check_error(heaplens("diff", small["path"], p), "node 5 names string", "only", path=p)


def test_out_of_range_edge_target_and_name(small, tmp_path):
    doc = copy.deepcopy(small["doc"])
    nf = len(doc["snapshot"]["meta"]["node_fields"])
    doc["edges"][2] = doc["snapshot"]["node_count"] * nf  # one past the last node
    p = ref.dump(doc, tmp_path / "t.heapsnapshot")
    with pytest.raises(SnapshotError, match="edge 0 points at node"):
        read_snapshot(p, edges=True)
    doc["edges"][2] = 1  # not a multiple of the field count
    p = ref.dump(doc, tmp_path / "t2.heapsnapshot")
    with pytest.raises(SnapshotError, match="not a multiple of"):
        read_snapshot(p, edges=True)


@pytest.mark.parametrize("fraction", [0.0001, 0.01, 0.2, 0.5, 0.9, 0.97, 0.999])
def test_truncated_file(small, tmp_path, fraction):
    data = small["bytes"]
    cut = max(1, int(len(data) * fraction))
    p = tmp_path / "t.heapsnapshot"
    p.write_bytes(data[:cut])
    line = check_error(heaplens("diff", small["path"], p), path=p)
    assert "truncated" in line or "not JSON" in line or "header" in line, line


def test_truncated_gzip(small, tmp_path):
    import gzip

    p = tmp_path / "t.heapsnapshot.gz"
    blob = gzip.compress(small["bytes"], compresslevel=1)
    p.write_bytes(blob[: len(blob) // 2])
    check_error(heaplens("diff", small["path"], p), "gzip", path=p)


def test_bad_option_values(small):
    cp = heaplens("diff", small["path"], small["other"], "--top", "0")
    assert cp.returncode == 2 and "Traceback" not in cp.stderr
    cp = heaplens("diff", small["path"], small["other"], "--min-kb", "-3")
    assert cp.returncode == 2 and "Traceback" not in cp.stderr
    check_error(heaplens("diff", small["path"]), "BEFORE and AFTER")
    check_error(heaplens("diff", "--pid", "3", small["path"], small["other"]), "--lane-dir")


# ---- fuzzing: truncations and byte flips of a real snapshot -------------------------------------


def _read_all(path: Path) -> None:
    with read_snapshot(path, node_fields=("type", "name", "id", "self_size", "edge_count"), edges=True,
                       locations=True) as snap:
        # decoding names must not fail either
        for i in range(min(len(snap.strings), 50)):
            snap.strings[i]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_fuzz_truncation_anywhere(small, tmp_path, cut):
    data = small["bytes"]
    n = int(len(data) * cut)
    p = tmp_path / "fuzz-trunc.heapsnapshot"
    p.write_bytes(data[:n])
    with pytest.raises(SnapshotError):
        _read_all(p)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), flips=st.integers(min_value=1, max_value=8),
       region=st.sampled_from(["anywhere", "header", "tail"]))
def test_fuzz_byte_flips(small, tmp_path, seed, flips, region):
    data = bytearray(small["bytes"])
    rnd = random.Random(seed)
    lo, hi = 0, len(data)
    if region == "header":
        hi = data.index(b'"nodes"') + 64
    elif region == "tail":
        lo = data.index(b'"strings"') - 64
    for _ in range(flips):
        i = rnd.randrange(lo, hi)
        data[i] = rnd.choice(b'0123456789,[]{}":\\ \n\x00\xff' + bytes([rnd.randrange(256)]))
    p = tmp_path / "fuzz-flip.heapsnapshot"
    p.write_bytes(bytes(data))
    try:
        _read_all(p)  # a flip can leave a valid snapshot; that is fine
    except SnapshotError as exc:
        assert str(exc).startswith(str(p))
        assert "\n" not in str(exc)


def test_fuzzed_files_through_the_cli(small, tmp_path):
    """A handful of damaged files through the real command: exit 0 or 2, never a traceback."""
    data = small["bytes"]
    rnd = random.Random(7)
    for k in range(12):
        d = bytearray(data)
        for _ in range(3):
            d[rnd.randrange(len(d))] = rnd.randrange(256)
        if k % 3 == 0:
            d = d[: rnd.randrange(len(d))]
        p = tmp_path / f"cli-{k}.heapsnapshot"
        p.write_bytes(bytes(d))
        cp = heaplens("diff", small["path"], p)
        assert cp.returncode in (0, 2), cp.stderr
        assert "Traceback" not in cp.stderr
        if cp.returncode == 2:
            assert len(cp.stderr.strip().splitlines()) == 1
