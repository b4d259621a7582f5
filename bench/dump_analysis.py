"""Everything ``analyse_pair`` returns, as deterministic JSON: to check that a speed-up of the diagnosis changes
nothing (dump with the old code, dump with the new, compare the bytes).

    .venv/bin/python bench/dump_analysis.py MANIFEST OUT_DIR [--only NAME,…]
    .venv/bin/python bench/dump_analysis.py MANIFEST OUT_DIR --compare REF_DIR [--beside]

MANIFEST is a JSON list of pairs: ``{"name": …, "snaps": [oldest … newest], "root": DIR or null}`` — a worker's
series, analysed as ``heaplens diagnose`` does (the first and the last, those in between, the one before the
last: ``diagnose.run._pair_args``) — or with ``"pair_only": true`` the first and the last alone. Writes
``OUT_DIR/NAME.json`` per pair: every field of the PairAnalysis and of each Cause (holder names with their
steps and anchors, holder ids, figures, notes, modules), floats as ``repr`` (exact), the timing left out.
With ``--compare`` each file is compared byte for byte with REF_DIR's; exit 1 on any difference.
Serial (``engine.side_by_side`` off), like the profile of the diagnosis in docs/performance.md; ``--beside``: with
the reads beside the later snapshot's graph (the same output either way).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from heaplens.diagnose import engine, load_rules
from heaplens.diagnose.run import _pair_args
from heaplens.errors import HeaplensError


def plain(x):
    """``x`` as JSON values, with the Python/numpy type kept where JSON would blur it (tuples, floats)."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {"@": type(x).__name__, **{f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)
                                           if f.name != "seconds"}}
    if isinstance(x, np.ndarray):
        return {"@ndarray": str(x.dtype), "v": [plain(v) for v in x.tolist()]}
    if isinstance(x, np.generic):
        return {"@np": type(x).__name__, "v": plain(x.item())}
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, float):
        return {"@float": repr(x)}
    if isinstance(x, tuple):
        return {"@tuple": [plain(v) for v in x]}
    if isinstance(x, list):
        return [plain(v) for v in x]
    if isinstance(x, dict):
        return {"@dict": [[plain(k), plain(v)] for k, v in x.items()]}  # insertion order kept
    if isinstance(x, set):
        return {"@set": sorted(plain(v) for v in x)}
    raise TypeError(f"cannot dump {type(x).__name__}")


def dump(pair: dict, rules) -> tuple[str, float]:
    snaps = pair["snaps"]
    args = {"before": snaps[0], "after": snaps[-1]} if pair.get("pair_only") else _pair_args(snaps)
    t = time.perf_counter()
    try:
        out = plain(engine.analyse_pair(rules=rules, root=pair.get("root"), pid=None, **args))
    except HeaplensError as exc:  # (what a user would be told is an outcome too)
        out = {"@error": type(exc).__name__, "message": str(exc)}
    return json.dumps(out, indent=1, ensure_ascii=True) + "\n", time.perf_counter() - t


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("out")
    ap.add_argument("--only", default="")
    ap.add_argument("--compare", metavar="REF_DIR")
    ap.add_argument("--beside", action="store_true", help="the reads beside the later graph on a second thread "
                    "(engine.side_by_side on, as investigate runs it when memory allows)")
    a = ap.parse_args(argv)
    engine.side_by_side = (lambda paths: True) if a.beside else (lambda paths: False)
    pairs = json.loads(Path(a.manifest).read_text())
    only = set(filter(None, a.only.split(",")))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rules = load_rules()
    bad = 0
    for pair in pairs:
        if only and pair["name"] not in only:
            continue
        text, secs = dump(pair, rules)
        (out / f"{pair['name']}.json").write_text(text)
        status = ""
        if a.compare:
            ref = Path(a.compare) / f"{pair['name']}.json"
            same = ref.exists() and ref.read_text() == text
            bad += not same
            status = "identical" if same else "DIFFERENT"
        print(f"{pair['name']:32s} {secs:6.2f} s {len(text):9,d} bytes {status}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
