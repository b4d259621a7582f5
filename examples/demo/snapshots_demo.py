"""`make demo-snapshots`: run a small leaking Node program, snapshot it, and let heaplens say what grew.

The snapshot commands on their own (diff, trend, diagnose --retainers); `make demo` is the whole investigation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / ".heaplens" / "demo" / "leaky-service"


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}", flush=True)


def run(*cmd: str) -> None:
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main() -> int:
    node = shutil.which("node")
    if node is None:
        print("make demo needs Node >= 20 on PATH", file=sys.stderr)
        return 2
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    rel = OUT.relative_to(ROOT)

    step("1. Run a service that caches every session in a module-level Map; snapshot it 4 times")
    run(node, str((HERE / "leaky-service.mjs").relative_to(ROOT)), str(rel), "3", "20000")

    heaplens = [sys.executable, "-m", "heaplens"]
    step("2. Compare the earliest and latest snapshot of that PID (families: V8 type + name)")
    run(*heaplens, "diff", "--lane-dir", str(rel), "--top", "12")

    step("3. The same growth by DevTools class name")
    run(*heaplens, "diff", "--lane-dir", str(rel), "--by", "class", "--top", "8")

    step("4. What grew in every interval (not just between the ends)?")
    run(*heaplens, "diff", "--lane-dir", str(rel), "--trend", "--top", "8")

    step("5. Classify the growth, and check the verdict against the retaining chains")
    run(*heaplens, "diagnose", "--lane-dir", str(rel), "--retainers")
    print(f"\nSnapshots are in {rel}/ — try `heaplens diff --lane-dir {rel} --format json`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
