"""`analyse_pair` with its side reads on a second thread or one after the other (docs/diagnose.md, "Cost").

    node tests/js/verdict/plant_verdict.mjs late OUT 5 150000          # three snapshots: 4 MB, 104 MB, 517 MB
    /usr/bin/time -f "peak %M KB" .venv/bin/python bench/bench_pair_threads.py off FIRST MIDDLE LAST
    /usr/bin/time -f "peak %M KB" .venv/bin/python bench/bench_pair_threads.py on FIRST MIDDLE LAST

``on``/``off`` force ``engine.side_by_side``; ``auto`` leaves it to the memory available. Prints the seconds and
the causes' kinds (the same either way).
"""

from __future__ import annotations

import sys
import time

from heaplens.diagnose import engine, load_rules


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in ("on", "off", "auto"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, first, middle, last = argv
    if mode != "auto":
        engine.side_by_side = lambda paths: mode == "on"
    t = time.perf_counter()
    pa = engine.analyse_pair(first, last, load_rules(), previous=middle, middles=[middle])
    print(f"{mode}: {time.perf_counter() - t:.1f} s; causes {[c.kind for c in pa.causes]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
