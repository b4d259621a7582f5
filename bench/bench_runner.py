"""Overhead of `heaplens run`'s memory trace on a 200-file Vitest suite (snapshots off).

Generates the suite under bench/.cache/runner-suite/ (Vitest 5 from tests/runner/fixtures/v5's lockfile,
installed with `npm ci` on first use), then times, interleaved, ``--reps`` times each:

  plain    the lane's own command without heaplens: `npm exec vitest run --pool=forks --no-isolate FILES`
  notrace  `heaplens run --no-trace`  (lanes, psutil sampling, no setup file)
  trace    `heaplens run --trace`     (the injected setup file writes two JSONL lines per file)

and prints the medians and the overhead of trace over plain and over notrace. Usage:

  .venv/bin/python bench/bench_runner.py [--files 200] [--reps 5] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIXTURE = REPO / "tests" / "runner" / "fixtures" / "v5"
SUITE = HERE / ".cache" / "runner-suite"

TEST_FILE = """import {{ test, expect }} from 'vitest'
// file {i}: five tests with some real work each (sorting, JSON): ~50-100 ms per file, like a small unit test file
const rows = Array.from({{ length: 4000 }}, (_, k) => ({{ id: k, name: 'row-' + ((k * 7919 + {i}) % 1000) }}))
for (let t = 0; t < 5; t++) {{
  test('case ' + t, () => {{
    const sorted = [...rows].sort((a, b) => a.name.localeCompare(b.name))
    const text = JSON.stringify(sorted)
    expect(JSON.parse(text).length).toBe(4000)
  }})
}}
"""


def make_suite(n: int) -> Path:
    SUITE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        src = FIXTURE / name
        dst = SUITE / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copy(src, dst)
            shutil.rmtree(SUITE / "node_modules", ignore_errors=True)
    if not (SUITE / "node_modules" / "vitest").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SUITE, check=True)
    tests = SUITE / "tests"
    shutil.rmtree(tests, ignore_errors=True)
    for i in range(n):
        d = tests / f"group{i % 10}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:03d}.test.js").write_text(TEST_FILE.format(i=i))
    return SUITE


CPU: dict[str, list[float]] = {}


def timed(argv: list[str], env: dict, name: str | None = None) -> float:
    """Wall seconds; the CPU seconds (user+sys of the whole process tree) go to CPU[name]: on a shared 2-core
    machine CPU time is far less noisy than wall time."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cp = subprocess.run(argv, cwd=SUITE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if name:
        CPU.setdefault(name, []).append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    if cp.returncode != 0:
        sys.exit(f"failed ({cp.returncode}): {' '.join(argv[:6])} …\n{cp.stdout[-3000:]}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", metavar="FILE", help="also write the timings here")
    a = ap.parse_args()
    make_suite(a.files)
    files = sorted(str(p) for p in (SUITE / "tests").rglob("*.test.js"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEAPLENS_", "OPENCLAW_TEST_"))}
    env["HEAPLENS_RUNS_DIR"] = str(HERE / ".cache" / "runner-runs")
    npm = shutil.which("npm")
    common = ["--workers", str(a.workers), "--batch-ms", "0"]
    configs = {
        "plain": [npm, "exec", "--no", "--", "vitest", "run", "--root", str(SUITE), "--pool=forks",
                  f"--maxWorkers={a.workers}", "--no-isolate", *files],
        "notrace": [sys.executable, "-m", "heaplens", "run", "--no-trace", *common],
        "trace": [sys.executable, "-m", "heaplens", "run", "--trace", *common],
    }
    for argv in configs.values():  # warm caches (Vite's transform cache, the page cache)
        timed(argv, env)
    times: dict[str, list[float]] = {k: [] for k in configs}
    for rep in range(a.reps):
        for name, argv in configs.items():
            times[name].append(timed(argv, env, name))
        print(f"rep {rep + 1}/{a.reps}: " + "  ".join(f"{k}={v[-1]:.2f}s/cpu {CPU[k][-1]:.2f}s" for k, v in times.items()),
              flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nfiles={a.files} workers={a.workers} reps={a.reps} node={subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}")
    cpu = {k: statistics.median(v) for k, v in CPU.items()}
    load = os.getloadavg()[0]
    for k, v in med.items():
        print(f"{k:8s} wall median {v:.2f}s (min {min(times[k]):.2f}s, max {max(times[k]):.2f}s)   "
              f"cpu median {cpu[k]:.2f}s (min {min(CPU[k]):.2f}s)")
    print(f"trace vs notrace: wall {100 * (med['trace'] / med['notrace'] - 1):+.1f}%  "
          f"(min-to-min {100 * (min(times['trace']) / min(times['notrace']) - 1):+.1f}%)  "
          f"cpu {100 * (cpu['trace'] / cpu['notrace'] - 1):+.1f}%")
    print(f"trace vs plain vitest: wall {100 * (med['trace'] / med['plain'] - 1):+.1f}%  "
          f"(min-to-min {100 * (min(times['trace']) / min(times['plain']) - 1):+.1f}%)  "
          f"cpu {100 * (cpu['trace'] / cpu['plain'] - 1):+.1f}%")
    print(f"1-min load average at the end: {load:.2f}")
    if a.json:
        Path(a.json).write_text(json.dumps({"times": times, "cpu": CPU, "median": med}, indent=1))
    shutil.rmtree(HERE / ".cache" / "runner-runs", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
