"""Two heaplens checkouts on one prepared suite, interleaved: which `investigate` is faster, and where.

    python bench/ab_investigate.py --suite date-fns --rounds 5 A=/work/wt/main/.venv/bin/python B=.venv/bin/python

Each side is a Python with a heaplens installed (an editable install of a checkout, a worktree's venv). Its
bytecode is compiled first (compileall in that Python: an editable install under PYTHONDONTWRITEBYTECODE would
compile every module in every measured run). In each round every side runs ``heaplens investigate --format json``
in the suite (bench/suites.py's directory; its runs go to a temporary directory, removed afterwards), in the
order given in odd rounds and reversed in even ones, on a settled machine (bench_capture's ``settle``: dirty
pages written out, the CPU idle). Recorded per run:
wall seconds, Vitest's ``Duration`` line (its ``tests`` part: where heaplens's forced GCs, snapshots and V8's id
tracking land), and the exit code. Printed: one line per run, then per side the median and the spread, and the
per-round difference to the first side. The same machine at the same time is the only fair comparison on a VM
whose speed drifts by 10 % within the hour (docs/performance.md)."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import suites as S  # noqa: E402
from bench_capture import ANSI, clean_env, settle  # noqa: E402

DURATION = re.compile(r"Duration\s+([\d.]+)(m?s)\s*\(([^)]*)\)")
PART = re.compile(r"(\w+) ([\d.]+)(m?s)")


def seconds(value: str, unit: str) -> float:
    return float(value) / (1000 if unit == "ms" else 1)


def vitest_parts(text: str) -> dict:
    """Vitest's summary line as seconds: {"duration": …, "tests": …, "collect": …}; empty when absent."""
    m = DURATION.search(ANSI.sub("", text))
    if not m:
        return {}
    out = {"duration": seconds(m.group(1), m.group(2))}
    for name, value, unit in PART.findall(m.group(3)):
        out[name] = seconds(value, unit)
    return out


def compile_side(python: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = "import compileall, heaplens, os; compileall.compile_dir(os.path.dirname(heaplens.__file__), quiet=1)"
    subprocess.run([python, "-c", code], env=env, check=True)


def run_side(python: str, suite: Path, paths: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="heaplens-ab-") as runs:
        env = clean_env()
        env.update(HEAPLENS_RUNS_DIR=runs, HEAPLENS_PROGRESS="0")
        settle()
        t0 = time.monotonic()
        cp = subprocess.run([python, "-m", "heaplens", "investigate", *paths, "--format", "json"], cwd=suite,
                            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        wall = time.monotonic() - t0
    return {"wall": wall, "code": cp.returncode, **vitest_parts(cp.stderr)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="date-fns", help="a suite prepared by bench/suites.py")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("sides", nargs="+", metavar="NAME=PYTHON")
    a = ap.parse_args(argv)
    sides = []
    for s in a.sides:
        name, _, python = s.partition("=")
        if not python:
            ap.error(f"{s}: give NAME=PYTHON")
        sides.append((name, python))
    suite = S.suite_path(a.suite)
    marker = S.read_marker(suite)
    if marker is None:
        ap.error(f"{suite}: not prepared (python bench/suites.py prepare {a.suite})")
    paths = list(marker.get("paths") or [])
    for _, python in sides:
        compile_side(python)
    results: dict[str, list[dict]] = {name: [] for name, _ in sides}
    for r in range(1, a.rounds + 1):
        order = sides if r % 2 else list(reversed(sides))
        for name, python in order:
            x = run_side(python, suite, paths)
            results[name].append(x)
            print(f"[ab] round {r} {name}: {x['wall']:.2f}s exit={x['code']} vitest {x.get('duration', 0):.2f}s "
                  f"(tests {x.get('tests', 0):.2f}s, collect {x.get('collect', 0):.2f}s)", file=sys.stderr)
    base = sides[0][0]
    print(f"{'side':8} {'wall median (min–max)':26} {'vitest tests median':20} per-round wall − {base}")
    for name, _ in sides:
        walls = [x["wall"] for x in results[name]]
        tests = [x.get("tests", 0.0) for x in results[name]]
        diff = [w - b["wall"] for w, b in zip(walls, results[base])]
        print(f"{name:8} {statistics.median(walls):5.2f}s ({min(walls):.2f}–{max(walls):.2f}){'':8} "
              f"{statistics.median(tests):5.2f}s{'':14} " + " ".join(f"{d:+.2f}" for d in diff))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
