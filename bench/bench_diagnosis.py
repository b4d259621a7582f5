"""The diagnosis of one worker's snapshots, serial: ``analyse_pair`` and its ``_analyse`` (the attribution, the
holders' names, the causes) alone, median of ``--reps`` runs after one unmeasured run (the page cache).

    .venv/bin/python bench/bench_diagnosis.py FIRST MIDDLE LAST [--root SUITE] [--reps 5]

``analyse_pair(FIRST, LAST, load_rules(), root=SUITE, middles=[MIDDLE], previous=MIDDLE)`` with
``engine.side_by_side`` off (its side reads on this thread, as on one core). Another checkout's code is measured the
same way with ``PYTHONPATH=OTHER/src`` (compile both first: ``PYTHONDONTWRITEBYTECODE= .venv/bin/python -m
compileall -q src/heaplens``; this machine's environment keeps Python from writing bytecode).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from heaplens.diagnose import engine, load_rules


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("first")
    ap.add_argument("middle")
    ap.add_argument("last")
    ap.add_argument("--root")
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args(argv)
    engine.side_by_side = lambda paths: False
    inner: list[float] = []
    analyse = engine._analyse

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return analyse(*args, **kwargs)
        finally:
            inner.append(time.perf_counter() - t)

    engine._analyse = timed
    rules = load_rules()
    whole: list[float] = []
    for i in range(a.reps + 1):
        t = time.perf_counter()
        engine.analyse_pair(a.first, a.last, rules, root=a.root, middles=[a.middle], previous=a.middle)
        if i:  # (the first run is not measured)
            whole.append(time.perf_counter() - t)
    inner = inner[1:]
    print(f"{engine.__file__}")
    print("analyse_pair " + " ".join(f"{x:.3f}" for x in whole) + f"  median {statistics.median(whole):.3f} s")
    print("_analyse     " + " ".join(f"{x:.3f}" for x in inner) + f"  median {statistics.median(inner):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
