"""A test file's vm context that died but that Node has not finalized yet is garbage, not growth.

Jest gives every test file a new vm context. When the file ends without a forced GC (the GC budget settles only
some file ends), its context can still be in the heap at the worker's last snapshot, though nothing of the
program holds it: Node deletes a context's native half (its ContextifyContext) in a weak callback that runs after
a GC, and only a later GC frees the context. In the snapshot it is reached only through references that are the
snapshot's own or the runtime's to-do lists — the C++ handle scope of the snapshot call (V8's generator makes a
handle for every global object it finds, a dead context's too), identity maps among the strong roots, Node's
cleanup queue (a hook per native object) — and through WeakMap entries whose table is part of it, keyed by a
long-lived object. heaplens took the key for the holder: on the clean scenario with `--gc-overhead 0`, "runtime
leak held by `path` (node_modules/picomatch/lib/utils.js)", +2.2 MiB — the earlier files' environments, each
reached through a dead module's WeakMap keyed by Node's `path` module (3 of 3 runs, 2026-11-29).

The reference (plain json, tests/reference.py ``program_reachable``) walks the snapshot from the root leaving
those references out and applying V8's ephemeron rule; heaplens's graph must find exactly the objects it does not
reach unreachable, and the diagnosis must count the new ones among them as garbage, not as anyone's growth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import reference as ref
from heaplens.diagnose import load_rules
from heaplens.diagnose.engine import analyse_pair
from heaplens.diagnose.naming import global_values
from heaplens.graph import HeapGraph, read_for_graph
from heaplens.graph import kernels as GK
from heaplens.snapshot.strings import find_string
from helpers import heaplens

SCENARIOS = Path(__file__).parents[2] / "examples" / "jest-scenarios"


def _run(root: Path, runs: Path) -> list[str]:
    """`heaplens run --snapshots --gc-overhead 0` on the scenario: the worker's snapshots, in order."""
    cp = heaplens("run", "--root", root, "--snapshots", "--gc-overhead", "0", "--max-old-space-mb", "512",
                  env={"HEAPLENS_RUNS_DIR": str(runs)}, cwd=root)
    assert cp.returncode == 0, cp.stderr[-3000:]
    return sorted(str(p) for p in runs.glob("*/heapsnap/*/*.heapsnapshot"))


@pytest.fixture(scope="module")
def dead(jest_scenarios, tmp_path_factory) -> dict:
    """The clean scenario's first and last snapshots, rerun (at most 3 times) until the last one holds a vm
    context no program root reaches (every run here did)."""
    for attempt in range(3):
        snaps = _run(jest_scenarios / "clean", tmp_path_factory.mktemp(f"runs{attempt}"))
        assert len(snaps) >= 2, snaps
        before, after = (ref.objects(ref.load(p)) for p in (snaps[0], snaps[-1]))
        reached = ref.program_reachable(after)
        contexts = [i for i, o in after.items() if o["name"] == "system / NativeContext" and i not in reached]
        if contexts:
            return {"files": (snaps[0], snaps[-1]), "before": before, "after": after, "reached": reached,
                    "contexts": contexts}
    pytest.fail("no dead vm context in the last snapshot of 3 runs of the clean scenario with --gc-overhead 0")


def test_unreachable_objects_are_the_reference_ones(dead):
    """The nodes heaplens's program-roots graph does not reach are exactly those the reference does not."""
    snap = read_for_graph(dead["files"][1])
    try:
        g = HeapGraph(snap, program_roots=True)
        ids = np.asarray(g.ids)
        got = set(ids[np.asarray(g.distance) == GK.NO_DISTANCE].tolist())
        assert set(ids[np.asarray(HeapGraph(snap).distance) == GK.NO_DISTANCE].tolist()) < got  # DevTools' view
    finally:
        snap.close()
    want = set(dead["after"]) - dead["reached"]
    assert set(dead["contexts"]) <= got
    assert got == want


def test_the_dead_contexts_are_garbage_not_a_cause(dead):
    """The new objects no program root reaches are the diagnosis's garbage, byte for byte; no cause holds any of
    them, and the clean suite has no finding left."""
    b, a = dead["files"]
    pa = analyse_pair(b, a, load_rules(), root=str(SCENARIOS / "clean"))
    old = ref.old_objects(dead["before"], dead["after"])
    root = next(iter(dead["after"]))
    garbage = sum(o["self_size"] for i, o in dead["after"].items()
                  if i not in dead["reached"] and i not in old and i != root)
    assert garbage > 1_000_000  # the earlier files' environments
    assert pa.other["garbage"] == garbage
    assert not [c for c in pa.causes if c.kind in ("runtime-leak", "external-memory") and c.bytes > 0.001 * 512 * 2**20]


def test_jest_circus_state_is_the_runners(dead):
    """jest-circus keeps its state on each file's global under `<symbol JEST_STATE_SYMBOL>`: the runner's, like
    every global symbol named after it in any case. Through it, dayjs's suite (Jest 29, 93 files, 2026-11-29) read
    "runtime leak held by `<symbol JEST_STATE_SYMBOL>…_scriptTransformer._cache.transformedFiles`", +5.5 MiB —
    Jest's own transform cache — with the fix "delete the global"."""
    snap = read_for_graph(dead["files"][1])
    try:
        assert find_string(snap, "<symbol JEST_STATE_SYMBOL>") >= 0  # a real Jest worker's snapshot has it
        names = set(global_values(HeapGraph(snap, program_roots=True), load_rules()).values())
    finally:
        snap.close()
    assert names and "<symbol JEST_STATE_SYMBOL>" not in names
