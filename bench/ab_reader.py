"""A/B of the snapshot reader between two source trees, in CPU time (steadier than wall time on a shared VM).

    .venv/bin/python bench/ab_reader.py A_SRC B_SRC [--snapshot FILE] [--rounds 3] [--reps 5]

Each ``*_SRC`` is a ``src`` directory with a built extension in it (e.g. ``git archive main src | tar -x -C
/tmp/main`` and ``gcc``/``pip`` build of ``_kernels.c`` there). Rounds alternate A and B, each measurement in
a fresh child (``PYTHONPATH`` set to the tree), best CPU time (``time.process_time``) of ``--reps``:

  kernels   ``parse_uint_array`` on the nodes and edges text and ``scan_strings`` on the strings, in memory,
            one thread (MB/s of text)
  reader    ``summarize`` (a diff's read), ``read_snapshot(edges=True)``, and the graph ``top`` builds (ms)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

KERNELS = r"""
import sys, time, numpy as np
from heaplens import _kernels as C
data = open(sys.argv[1], "rb").read(); reps = int(sys.argv[2])
buf = np.frombuffer(data, np.uint8)
def section(key):
    a = data.index(key) + len(key); return a, data.index(b"]", a)
def parse(a, b, nf, keep):
    n = data.count(b",", a, b) + 1
    slots = np.full(nf, -1, np.int64)
    for s, f in enumerate(keep): slots[f] = s
    cols = tuple(np.empty(n // nf, np.uint32) for _ in keep)
    best = 1e9
    for _ in range(reps):
        t = time.process_time()
        st, pos, cnt, ovf, fs = C.parse_uint_array(buf, a, len(data), len(data), 0, n, nf, slots, cols, -1)
        best = min(best, time.process_time() - t)
        assert st == C.OK_END and cnt == n
    return (b - a) / best / 1e6
nodes = parse(*section(b'"nodes":['), 7, [0, 1, 2, 3, 4])
edges = parse(*section(b'"edges":['), 3, [0, 1, 2])
s0 = data.rindex(b'"strings":[') + 11
cap = (len(data) - s0) // 3 + 1
arrs = (np.empty(cap, np.int64), np.empty(cap, np.uint32), np.empty(cap, np.uint8), np.empty(cap, np.uint64))
best = 1e9
for _ in range(reps):
    t = time.process_time(); C.scan_strings(buf, s0, len(data), len(data), 0, *arrs); best = min(best, time.process_time() - t)
print(f"kernels  nodes {nodes:6.0f} MB/s  edges {edges:6.0f} MB/s  strings {(len(data) - s0) / best / 1e6:6.0f} MB/s")
"""

READER = r"""
import sys, time
from heaplens.compare.summary import summarize
from heaplens.graph import HeapGraph, read_for_graph
from heaplens.snapshot import read_snapshot
path, reps = sys.argv[1], int(sys.argv[2])
def best(fn):
    b = 1e9
    for _ in range(reps):
        t = time.process_time(); fn(); b = min(b, time.process_time() - t)
    return b * 1000
def parse():
    read_snapshot(path, edges=True).close()
def top():
    g = HeapGraph(read_for_graph(path), consume=True); g.class_summary(25); g.snap.close()
print(f"reader   summary {best(lambda: summarize(path)):5.0f} ms  read with edges {best(parse):5.0f} ms  "
      f"top graph {best(top):5.0f} ms")
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--snapshot", type=Path, default=HERE / ".cache" / "snap-160000.heapsnapshot")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    print(f"# A = {args.a}\n# B = {args.b}\n# {args.snapshot} ({args.snapshot.stat().st_size:,} bytes), "
          f"load average {os.getloadavg()[0]:.1f}")
    for r in range(args.rounds):
        for name, tree in (("A", args.a), ("B", args.b)) if r % 2 == 0 else (("B", args.b), ("A", args.a)):
            env = dict(os.environ, PYTHONPATH=str(tree), HEAPLENS_PROGRESS="0")
            for code in (KERNELS, READER):
                out = subprocess.run([sys.executable, "-c", code, str(args.snapshot), str(args.reps)], env=env,
                                     capture_output=True, text=True, check=True).stdout.strip()
                print(f"round {r + 1} {name}  {out}", flush=True)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
